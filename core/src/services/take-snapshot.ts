import type { CollectProgress } from '../collect/collector.js'
import { inject, injectable } from '../di.js'
import { SnapshotService, type SnapshotResult } from '../snapshot/snapshot-service.js'
import { RemoteService, type PushOutcome } from '../remote/remote-service.js'
import { TwinRepository } from '../twin/twin-repository.js'
import { InitWorkflow } from './init-twin.js'

export interface TakeSnapshotOptions {
  init: boolean
  ifChanged: boolean
  label?: string
  /** The commit subject instead of "TwinSync snapshot <time>" (the apt hook names the operation). */
  message?: string
  onProgress?: CollectProgress
  signal?: AbortSignal
}

export type TakeSnapshotResult = SnapshotResult & { repo: string; initialized: boolean; push?: PushOutcome }

/**
 * A snapshot as both front ends take it (`twinsync snapshot`, the TUI's "Push snapshot"):
 * create the twin when asked, snapshot, then push to the mirror after a new commit, and also
 * when earlier snapshots are still pending there.
 */
@injectable()
export class SnapshotWorkflow {
  constructor(
    @inject(InitWorkflow) private readonly initializer: InitWorkflow,
    @inject(SnapshotService) private readonly snapshots: SnapshotService,
    @inject(RemoteService) private readonly remote: RemoteService,
    @inject(TwinRepository) private readonly twin: TwinRepository,
  ) {}

  async take(options: TakeSnapshotOptions): Promise<TakeSnapshotResult> {
    const initialized = options.init ? (await this.initializer.init()).created : false
    const result = await this.snapshots.snapshot({
      ifChanged: options.ifChanged,
      ...(options.label === undefined ? {} : { label: options.label }),
      ...(options.message === undefined ? {} : { message: options.message }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
    })
    const push = result.commit !== undefined || (await this.remote.status()).pending > 0 ? await this.remote.push() : undefined
    return { ...result, repo: this.twin.dir, initialized, ...(push === undefined || push.status === 'not-configured' ? {} : { push }) }
  }
}

/** Providers that failed to collect: the snapshot is incomplete, and the command exits 1. */
export function failedProviders(r: Pick<SnapshotResult, 'providers'>): string[] {
  return r.providers.filter((p) => p.status === 'failed').map((p) => p.name)
}
