import { rehearsalSummary, type RehearsalReport } from '../rehearse/rehearsal-report.js'

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`

/** The rehearsal report as a person reads it: per change the verdict and its evidence, then the limits. */
export function renderRehearsal(report: RehearsalReport): string {
  const lines: string[] = []
  lines.push(`Rehearsal on a throwaway copy of ${report.root} (container ${report.machine}, ${report.network === 'none' ? 'no network' : "the machine's network"}):`)
  if (report.changes.length === 0) lines.push('  (the plan has no changes)')
  for (const change of report.changes) {
    lines.push(`  ${change.verdict === 'passed' ? 'passed' : 'FAILED'}  ${change.summary}`)
    for (const line of change.evidence) lines.push(`          ${line.split('\n').join('\n          | ')}`)
    if (change.verdict === 'failed' && change.outputTail) for (const line of change.outputTail.split('\n')) lines.push(`          | ${line}`)
  }
  const badUnits = report.units.filter((u) => !u.passed && u.changes.length === 0)
  for (const unit of badUnits) lines.push(`  FAILED  ${unit.unit}: ${unit.problem ?? 'not as expected'}`)
  if (report.failedUnits.new.length > 0) {
    lines.push(`  FAILED  units that failed only after the plan ran: ${report.failedUnits.new.join(', ')}`)
    for (const d of report.diagnostics.filter((x) => x.code === 'REHEARSAL_UNIT_FAILED')) {
      lines.push(`          ${d.summary}`)
      for (const l of (d.detail ?? '').split('\n').filter(Boolean)) lines.push(`          journal: ${l}`)
    }
  }
  const onMachine = report.failedUnits.onMachine ?? []
  if (onMachine.length > 0) lines.push(`  note    already failed on the machine, not caused by the plan: ${onMachine.join(', ')}`)
  for (const d of report.diagnostics.filter((x) => x.code !== 'REHEARSAL_UNIT_FAILED')) lines.push(`  ${d.severity}: ${d.summary}`)
  lines.push('')
  lines.push('What a rehearsal cannot prove:')
  for (const limit of report.limits) lines.push(`  - ${limit}`)
  lines.push('')
  const t = report.timings
  lines.push(`${rehearsalSummary(report)}`)
  lines.push(
    `Took ${seconds(t.totalMs)} (boot ${seconds(t.bootMs)}, apply ${seconds(t.applyMs)}, checks ${seconds(t.checksMs)}, teardown ${seconds(t.teardownMs)}); ${
      report.cleanedUp ? 'the container is gone and the machine was not touched.' : `LEFT ON THE HOST: ${(report.leftovers ?? []).join(', ')}`
    }`,
  )
  return lines.join('\n')
}
