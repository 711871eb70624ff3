import { renderDiagnostics } from './render-diagnostics.js'
import { terminalLines, terminalText } from '../terminal-text.js'
import type { Comparison, HistoryEntry } from '../history/history-service.js'
import type { SnapshotRecord } from '../history/snapshot-log.js'
import { domainCountPhrase } from '../vocabulary.js'
import { DOMAINS } from '../snapshot/snapshot-summary.js'
import { appendAll } from '../append-to.js'


export function snapshotTitle(r: SnapshotRecord): string {
  const labels = r.labels.length > 0 ? `  (${r.labels.join(', ')})` : ''
  return `${r.commit.slice(0, 12)}  ${r.date}  ${terminalText(r.message)}${terminalText(labels)}`
}

export function renderHistory(entries: HistoryEntry[]): string {
  if (entries.length === 0) return 'No snapshots.'
  const lines: string[] = []
  for (const e of entries) {
    const marker = e.kind === 'checkpoint' ? '◆' : e.kind === 'apply' || e.kind === 'revert' ? '▶' : '•'
    lines.push(`${marker} ${snapshotTitle(e)}`, `    ${e.counted}`)
  }
  return lines.join('\n')
}

export function renderComparison(c: Comparison): string {
  const lines = [
    c.from === null ? `Snapshot ${snapshotTitle(c.to)} (the first)` : `From ${snapshotTitle(c.from)}`,
    ...(c.from === null ? [] : [`  to ${snapshotTitle(c.to)}`]),
  ]
  let any = false
  for (const domain of DOMAINS) {
    const changes = c.domains[domain]
    if (changes === undefined || changes.length === 0) continue
    any = true
    lines.push('', `${domain}: ${domainCountPhrase(domain, changes)}`)
    for (const ch of changes) {
      lines.push(`  ${terminalText(ch.summary)}`)
      if (ch.diff !== undefined) appendAll(lines, ch.diff.replace(/\n$/, '').split('\n').map((l) => `      ${terminalLines(l)}`))
    }
  }
  if (!any) lines.push('', 'No changes.')
  // A provider that failed or was refused (it tried to change the machine) says so beside what it changed.
  const problems = renderDiagnostics(c.diagnostics)
  if (problems.length > 0) lines.push('', ...problems)
  return lines.join('\n')
}
