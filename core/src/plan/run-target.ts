import type { HostPort } from '@twinsync/sdk'
import type { LoadedConfig } from '../config/config-file.js'
import { inject, injectable } from '../di.js'
import { Tokens } from '../tokens.js'
import type { TwinLocation } from '../twin/twin-location.js'
import { twinsyncLine, type CommandTarget, type LineFor } from './command-text.js'
import type { DependencyContainer } from '../di.js'

/**
 * What this run acts on, for the next steps it suggests (twinsyncLine): the target root, the
 * twin, and the configuration file it read. The services (and so the CLI and the TUI alike) take
 * it from here, so that no next step leaves one of them out.
 */
@injectable()
export class RunTarget {
  constructor(
    @inject(Tokens.Host) private readonly host: Pick<HostPort, 'root'>,
    @inject(Tokens.Config) private readonly config: Pick<LoadedConfig, 'path'>,
    @inject(Tokens.TwinLocation) private readonly location: Pick<TwinLocation, 'dir'>,
  ) {}

  /** This run's target; `repo` another twin than the run's own (one being opened or made). */
  get(repo: string = this.location.dir): CommandTarget & { repo: string } {
    return { root: this.host.root, repo, config: this.config.path }
  }

  /** A `twinsync ARGS` line for a next step, with this run's --root, --repo and --config (twinsyncLine). */
  line(args: readonly string[], repo?: string): string {
    return twinsyncLine(args, this.get(repo))
  }
}

/** This run's `twinsync ARGS` lines, from a command's container (the CLI's renderers take it). */
export function runLines(container: DependencyContainer): LineFor {
  const target = container.resolve(RunTarget)
  return (args) => target.line(args)
}
