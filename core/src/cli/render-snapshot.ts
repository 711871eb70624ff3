import { failedProviders, type TakeSnapshotResult } from '../services/take-snapshot.js'
import { renderDiagnostics } from './render-diagnostics.js'
import { snapshotDomainLines } from '../snapshot/snapshot-summary.js'
import { renderPush } from './render.js'

/** What `twinsync snapshot` (and `push` without a mirror run) prints. */
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
