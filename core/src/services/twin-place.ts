import { join } from 'node:path'
import type { HostPort } from '@twinsync/sdk'
import type { LoadedConfig } from '../config/config-file.js'
import { inject, injectable } from '../di.js'
import { RunTarget } from '../plan/run-target.js'
import { Tokens } from '../tokens.js'
import type { GitClientFactory } from '../twin/git.js'
import type { TwinLocation } from '../twin/twin-location.js'
import { checkTwinPlace, type MirroredPath, type TwinPlace } from '../twin/twin-place.js'

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
    const configured = this.location.source === 'config' && typeof this.config.values.repo === 'string' ? this.config.values.repo : undefined
    return checkTwinPlace(place ?? configured ?? this.location.dir, await this.mirrored(), this.gitFactory, this.target)
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
