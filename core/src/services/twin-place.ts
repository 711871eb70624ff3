import { join } from 'node:path'
import type { HostPort } from '@twinsync/sdk'
import type { LoadedConfig } from '../config/config-file.js'
import { inject, injectable } from '../di.js'
import { RunTarget } from '../plan/run-target.js'
import { Tokens } from '../tokens.js'
import type { GitClientFactory } from '../twin/git.js'
import type { TwinLocation } from '../twin/twin-location.js'
import { checkTwinPlace, placeOf, type MirroredPath, type TwinPlace } from '../twin/twin-place.js'

export type { TwinPlace } from '../twin/twin-place.js'

/**
 * Where the twin may live (checkTwinPlace's rule) against this run's configuration and target:
 * `init` and `snapshot` check the place they use (`--repo`, `repo:` or the default), the TUI's
 * Settings checks a new place before it is written as `repo:`.
 */
@injectable()
export class TwinPlaceWorkflow {
  constructor(
    @inject(Tokens.Config) private readonly config: LoadedConfig,
    @inject(Tokens.Host) private readonly host: HostPort,
    @inject(Tokens.TwinLocation) private readonly location: TwinLocation,
    @inject(Tokens.GitFactory) private readonly gitFactory: GitClientFactory,
    @inject(RunTarget) private readonly target: RunTarget,
  ) {}

  /** The place given, or this run's: `repo:` as written in the file (a relative one is refused), else --repo or the default. */
  async check(place?: string): Promise<TwinPlace> {
    return checkTwinPlace(place ?? this.runPlace(), await this.mirrored(), this.gitFactory, this.target)
  }

  /**
   * This run's place against the rule alone (placeOf): for a caller that opens the twin there
   * itself next, whose open refuses what check's would (a snapshot without `--init`: its
   * SnapshotService.snapshot opens the run's twin before anything else).
   *
   * Speed (issue 22, session 54): the twin was opened twice a snapshot, by check's TwinRepository
   * and the run's. The minbase root's unchanged snapshot (callgrind, node only, `bench:compare`
   * against ebf06447, 3 pairs, the same output bytes; the like pairs): 402.1 -> 398.8 M (10
   * scavenges each), 379.5 -> 375.7 M (2 each): -3.6 M (-0.9%).
   */
  async checkRule(): Promise<void> {
    placeOf(this.runPlace(), await this.mirrored(), this.target)
  }

  /** `repo:` as written in the file (a relative one is refused), else --repo or the default. */
  private runPlace(): string {
    const configured = this.location.source === 'config' && typeof this.config.values.repo === 'string' ? this.config.values.repo : undefined
    return configured ?? this.location.dir
  }

  /** Where the files provider mirrors, on this host (under the target root); nothing when it is disabled. */
  async mirrored(): Promise<MirroredPath[]> {
    const values = this.config.values
    if (values.providers?.disabled?.includes('files') === true) return []
    const files = (values.files ?? {}) as { include?: unknown; users?: unknown }
    const { DEFAULT_INCLUDE, mirroredPaths } = await import('@twinsync/plugin-files')
    const include = Array.isArray(files.include) ? files.include.filter((p): p is string => typeof p === 'string') : DEFAULT_INCLUDE
    const users = Array.isArray(files.users) ? files.users.filter((u): u is string => typeof u === 'string') : 'default'
    const paths = await mirroredPaths(this.host, include, users)
    return paths.map((m) => ({ include: m.include, path: join(this.host.root, m.path) }))
  }
}
