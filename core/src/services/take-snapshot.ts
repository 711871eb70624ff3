import type { CollectProgress } from '../collect/collector.js'
import { cliProgress } from './cli-progress.js'
import type { DependencyContainer } from '../di.js'
import { SnapshotService, type SnapshotResult } from '../snapshot/snapshot-service.js'
import { RemoteService, type PushOutcome } from '../remote/remote-service.js'
import { TwinRepository } from '../twin/twin-repository.js'
import { renderPush } from './remote-commands.js'
import { renderDiagnostics } from './render-diagnostics.js'
import { initTwin } from './init-twin.js'
import { isTwinSyncError } from '@twinsync/sdk/errors'
import { snapshotDomainLines } from '../snapshot/snapshot-summary.js'

export interface TakeSnapshotOptions {
  init: boolean
  ifChanged: boolean
  label?: string
  /** The commit subject instead of the diary line (the apt hook names the operation). */
  subject?: string
  /** Said after the stamp in the message body ("before apt"). */
  note?: string
  /** Print one line per provider to stderr as it finishes. */
  progress?: boolean
  onProgress?: CollectProgress
  signal?: AbortSignal
}

export type TakeSnapshotResult = Omit<SnapshotResult, 'skipped'> & {
  /** Why there is no commit; 'busy': `--if-changed` found another TwinSync run holding the twin and left it to that one. */
  skipped: SnapshotResult['skipped'] | 'busy'
  /** Who held the twin when the snapshot was skipped as busy. */
  busy?: { purpose: string; pid: number; since: string }
  repo: string
  initialized: boolean
  push?: PushOutcome
}

/**
 * A snapshot as both front ends take it (`twinsync snapshot`, the TUI's "Push snapshot"):
 * create the twin when asked, snapshot, then push to the mirror after a new commit, and also
 * when earlier snapshots are still pending there.
 */
export async function takeSnapshot(container: DependencyContainer, options: TakeSnapshotOptions): Promise<TakeSnapshotResult> {
  const initialized = options.init ? (await initTwin(container)).created : false
  const service = container.resolve(SnapshotService)
  const twin = container.resolve(TwinRepository)
  const result = await service.snapshot({
    ifChanged: options.ifChanged,
    ...(options.label === undefined ? {} : { label: options.label }),
    ...(options.subject === undefined ? {} : { subject: options.subject }),
    ...(options.note === undefined ? {} : { note: options.note }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    ...(options.onProgress !== undefined
      ? { onProgress: options.onProgress }
      : options.progress === true
        ? { onProgress: cliProgress(false) }
        : {}),
  }).catch(async (error: unknown) => {
    // A scheduled snapshot (--if-changed) that finds another snapshot or apply holding the twin
    // leaves the work to it: that run records the machine. A person's `snapshot` is told LOCK_HELD.
    if (!options.ifChanged || !isTwinSyncError(error) || error.code !== 'LOCK_HELD') throw error
    const holder = (error.details as { holder?: { purpose?: string; pid?: number; since?: string } } | undefined)?.holder
    const busy = { purpose: holder?.purpose ?? 'run', pid: holder?.pid ?? 0, since: holder?.since ?? '' }
    return { commit: undefined, message: undefined, skipped: 'busy' as const, busy, head: await twin.head(), summary: {}, providers: [], diagnostics: [], pending: [] }
  })
  if (result.skipped === 'busy') return { ...result, repo: twin.dir, initialized }
  const remote = container.resolve(RemoteService)
  const push = result.commit !== undefined || (await remote.status()).pending > 0 ? await remote.push() : undefined
  return { ...result, repo: twin.dir, initialized, ...(push === undefined || push.status === 'not-configured' ? {} : { push }) }
}

/** Providers that failed to collect: the snapshot is incomplete, and the command exits 1. */
export function failedProviders(r: Pick<SnapshotResult, 'providers'>): string[] {
  return r.providers.filter((p) => p.status === 'failed').map((p) => p.name)
}

export function renderSnapshot(r: TakeSnapshotResult): string {
  const lines: string[] = []
  if (r.initialized) lines.push(`Created the twin at ${r.repo}.`)
  if (r.commit !== undefined) {
    lines.push(`Snapshot ${r.commit.slice(0, 12)}  ${r.message}`)
  } else if (r.skipped === 'busy') {
    lines.push(`Skipped: another TwinSync ${r.busy?.purpose ?? 'run'} (pid ${r.busy?.pid ?? '?'}) is using the twin and records the machine; no snapshot made.`)
  } else if (r.skipped === 'volatile-only') {
    lines.push(`Only volatile facts (processes, logs, usage) changed; no snapshot made (last: ${r.head?.slice(0, 12)}).`)
  } else if (failedProviders(r).length > 0) {
    lines.push(`No snapshot made: what was collected is unchanged since ${r.head?.slice(0, 12)}, but ${failedProviders(r).join(', ')} failed to collect.`)
  } else {
    lines.push(`Nothing changed since the last snapshot (${r.head?.slice(0, 12)}); no snapshot made.`)
  }
  if (failedProviders(r).length > 0) {
    lines.push(`  ${failedProviders(r).join(', ')}: NOT collected; the twin keeps their state from the last snapshot (see the errors below).`)
  }
  lines.push(...snapshotDomainLines(r.summary, r.changes).map((l) => `  ${l}`))
  const notDetected = r.providers.filter((p) => p.status === 'not-detected').map((p) => p.name)
  if (notDetected.length > 0) lines.push(`  not present on this machine: ${notDetected.join(', ')}`)
  if (r.pending.length > 0) {
    lines.push(`Pending intent kept on top of it (${r.pending.length} twin file${r.pending.length === 1 ? '' : 's'}: ${r.pending.slice(0, 3).join(', ')}${r.pending.length > 3 ? ', …' : ''}); \`twinsync status\` lists the items.`)
  }
  lines.push(...renderDiagnostics(r.diagnostics))
  lines.push(...renderPush(r.push))
  return lines.join('\n')
}
