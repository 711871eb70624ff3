import type { CollectProgress } from '../collect/collector.js'
import type { DependencyContainer } from '../di.js'
import { SnapshotService, type SnapshotResult } from '../snapshot/snapshot-service.js'
import { RemoteService, type PushOutcome } from '../remote/remote-service.js'
import { TwinRepository } from '../twin/twin-repository.js'
import { initTwin } from './init-twin.js'

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
export async function takeSnapshot(container: DependencyContainer, options: TakeSnapshotOptions): Promise<TakeSnapshotResult> {
  const initialized = options.init ? (await initTwin(container)).created : false
  const service = container.resolve(SnapshotService)
  const result = await service.snapshot({
    ifChanged: options.ifChanged,
    ...(options.label === undefined ? {} : { label: options.label }),
    ...(options.message === undefined ? {} : { message: options.message }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
  })
  const remote = container.resolve(RemoteService)
  const push = result.commit !== undefined || (await remote.status()).pending > 0 ? await remote.push() : undefined
  return { ...result, repo: container.resolve(TwinRepository).dir, initialized, ...(push === undefined || push.status === 'not-configured' ? {} : { push }) }
}

/** Providers that failed to collect: the snapshot is incomplete, and the command exits 1. */
export function failedProviders(r: Pick<SnapshotResult, 'providers'>): string[] {
  return r.providers.filter((p) => p.status === 'failed').map((p) => p.name)
}
