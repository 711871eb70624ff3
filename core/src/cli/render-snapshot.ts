import { snapshotOutcome, type TakeSnapshotResult } from '../services/take-snapshot.js'
import { renderDiagnostics } from './render-diagnostics.js'
import { snapshotDomainLines } from '../snapshot/snapshot-summary.js'
import { renderPush } from './render.js'
import { appendAll } from '../append-to.js'
import { visibleName, type LineFor } from '../plan/command-text.js'

/** What `twinsync snapshot` (and `push` without a mirror run) prints. */
export function renderSnapshot(r: TakeSnapshotResult, line: LineFor): string {
  const lines: string[] = []
  if (r.initialized) lines.push(`Created the twin at ${r.repo}.`)
  // The headline and the providers not collected: the words the TUI says too (snapshotOutcome).
  const { headline, notCollected, notLoaded } = snapshotOutcome(r, line)
  lines.push(headline)
  if (notCollected !== undefined) lines.push(`  ${notCollected}`)
  if (notLoaded !== undefined) lines.push(`  ${notLoaded}`)
  appendAll(lines, snapshotDomainLines(r.summary, r.changes).map((l) => `  ${l}`))
  const notDetected = r.providers.filter((p) => p.status === 'not-detected').map((p) => p.name)
  if (notDetected.length > 0) lines.push(`  not present on this machine: ${notDetected.join(', ')}`)
  if (r.pending.length > 0) {
    // Twin paths are the twin's (untrusted): a name with a line break or a control is spelled out, never printed raw.
    lines.push(`Pending intent kept on top of it (${r.pending.length} twin file${r.pending.length === 1 ? '' : 's'}: ${r.pending.slice(0, 3).map(visibleName).join(', ')}${r.pending.length > 3 ? ', …' : ''}); \`${line(['status'])}\` lists the items.`)
  }
  appendAll(lines, renderDiagnostics(r.diagnostics))
  lines.push(...renderPush(r.push, line))
  return lines.join('\n')
}
