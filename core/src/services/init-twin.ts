import type { HostPort } from '@twinsync/sdk'
import { inject, injectable } from '../di.js'
import { initCommitMessage } from '../history/count-record.js'
import { ProviderRegistry } from '../providers/provider-registry.js'
import { Tokens } from '../tokens.js'
import { machineIdentity } from '../twin/machine-identity.js'
import { claimTwin } from '../twin/machine-match.js'
import { TwinRepository } from '../twin/twin-repository.js'
import { TwinPlaceWorkflow } from './twin-place.js'

export interface InitResult {
  repo: string
  created: boolean
  commit: string | undefined
  /** `--claim`: the twin's machine id the target took over (undefined: the twin already was the target's). */
  claimed?: { twin: string; machine: string }
}

/** `twinsync init` and the TUI's first screen: create the twin, named after the target. */
@injectable()
export class InitWorkflow {
  constructor(
    @inject(TwinRepository) private readonly twin: TwinRepository,
    @inject(Tokens.Host) private readonly host: HostPort,
    @inject(TwinPlaceWorkflow) private readonly place: TwinPlaceWorkflow,
    @inject(ProviderRegistry) private readonly registry: ProviderRegistry,
  ) {}

  /**
   * Only where a twin may live (TwinPlaceWorkflow), and with a configuration every provider's
   * section of which is valid (the registry's check, CONFIG_INVALID; loaded once per run, so
   * `snapshot --init` pays nothing more): refused before anything is created. Before session 17
   * a bad `files.include` left a new, empty twin behind its CONFIG_INVALID.
   */
  async init(): Promise<InitResult> {
    const set = await this.registry.load()
    await this.place.check()
    const providers = set.providers.map((p) => p.provider)
    const messageFor = (tree: string, paths: string[]) => initCommitMessage(this.twin.dir, tree, paths, set.diagnostics.length === 0 ? { providers, claims: set.claims } : undefined)
    const { created, commit } = await this.twin.init(await machineIdentity(this.host), messageFor)
    return { repo: this.twin.dir, created, commit }
  }

  /**
   * `twinsync init --claim`: the target takes over an existing twin made of another machine (a
   * reinstalled or restored machine, or one meant to become a copy): recorded in the twin's
   * `.git/twinsync/machine.json`, never committed; apply, snapshot and pull then take it as the
   * target's own. Nothing else changes: review `twinsync plan` before applying.
   */
  async claim(): Promise<InitResult> {
    const info = await this.twin.open()
    const claimed = await claimTwin(this.twin.dir, info, this.host)
    return { repo: this.twin.dir, created: false, commit: undefined, ...(claimed === undefined ? {} : { claimed }) }
  }
}
