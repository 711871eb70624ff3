import type { HostPort } from '@twinsync/sdk'
import { inject, injectable } from '../di.js'
import { Tokens } from '../tokens.js'
import { machineIdentity } from '../twin/machine-identity.js'
import { TwinRepository } from '../twin/twin-repository.js'
import { TwinPlaceWorkflow } from './twin-place.js'

export interface InitResult {
  repo: string
  created: boolean
  commit: string | undefined
}

/** `twinsync init` and the TUI's first screen: create the twin, named after the target. */
@injectable()
export class InitWorkflow {
  constructor(
    @inject(TwinRepository) private readonly twin: TwinRepository,
    @inject(Tokens.Host) private readonly host: HostPort,
    @inject(TwinPlaceWorkflow) private readonly place: TwinPlaceWorkflow,
  ) {}

  /** Only where a twin may live (TwinPlaceWorkflow): refused before anything is created. */
  async init(): Promise<InitResult> {
    await this.place.check()
    const { created, commit } = await this.twin.init(await machineIdentity(this.host))
    return { repo: this.twin.dir, created, commit }
  }
}
