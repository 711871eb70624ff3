// A plan as `twinsync plan`, `apply` and `rehearse` print it: the counts, then every change.
import type { Change, Plan } from '@twinsync/sdk'
import { commandReview, commandReviewLines, type LineFor } from '../plan/command-text.js'
import { isCommand } from '../plan/commands-domain.js'
import { noChangesLine, noteLines, secretsNotPutBack, summarizePlan, unheldNotPutBack } from '../plan/plan-summary.js'
import { needsRootLine, rootNotes, rootReason } from '../plan/root-needs.js'
import { plannedPhrase } from '../vocabulary.js'
import { terminalLines, terminalText } from '../terminal-text.js'
import { appendAll } from '../append-to.js'
import { uncheckedRunLines } from '../plan/unchecked-runs.js'

export function renderPlanSummary(plan: Plan): string[] {
  const basis = plan.basis.twinCommit === null ? 'the working twin' : `twin ${plan.basis.twinCommit.slice(0, 12)}`
  if (plan.changes.length === 0) return [noChangesLine(plan, basis)]
  const lines = [`Plan: ${plan.changes.length} change${plan.changes.length === 1 ? '' : 's'} to make ${plan.basis.root} match ${basis}`]
  for (const s of summarizePlan(plan)) {
    const ops = Object.entries(s.operations).map(([op, n]) => `${n} ${op}`).join(', ')
    lines.push(`  ${s.category.padEnd(9)} ${String(s.count).padStart(4)}  (${ops})${s.highRisk > 0 ? `  ${s.highRisk} high risk` : ''}`)
  }
  const root = needsRootLine(plan)
  if (root !== undefined) lines.push(terminalText(root))
  return lines
}

export function renderChange(change: Change, options: { diffs: boolean; needsRoot?: string | undefined }): string[] {
  const risk = change.risk === 'low' ? '' : `  [${change.risk} risk]`
  const lines = [`  ${change.category.padEnd(9)} ${plannedPhrase(change)}${risk}${options.needsRoot === undefined ? '' : '  [needs root]'}`]
  if (options.needsRoot !== undefined) lines.push(`            needs root: ${terminalText(options.needsRoot)}`)
  if (change.riskReason !== undefined) lines.push(`            high risk: ${terminalText(change.riskReason)}`)
  if (change.before !== undefined || change.after !== undefined) {
    if (!isCommand(change)) lines.push(`            ${terminalText(change.before ?? '(none)')} → ${terminalText(change.after ?? '(none)')}`)
  }
  if (options.diffs && change.diff !== undefined) appendAll(lines, change.diff.replace(/\n$/, '').split('\n').map((l) => `      ${terminalLines(l)}`))
  // A command's exact argument list is its summary; its description and a script's full
  // content follow, also without diffs: what is approved is what runs.
  const review = commandReview(change)
  if (review !== undefined) lines.push(...commandReviewLines(review).map((l) => `            ${l}`))
  return lines
}

export function renderPlan(plan: Plan, line: LineFor, options: { diffs: boolean } = { diffs: true }): string {
  const lines = renderPlanSummary(plan)
  if (plan.changes.length > 0) {
    lines.push('', 'Changes:')
    const root = rootNotes(plan)
    for (const c of plan.changes) lines.push(...renderChange(c, { ...options, needsRoot: rootReason(c, root.get(c.id)) }))
  }
  const pending = plan.diagnostics.filter((d) => d.code === 'PENDING_INTENT')
  if (pending.length > 0) {
    lines.push('', 'Still pending from before:')
    appendAll(lines, pending.slice(0, SHOWN_PER_KIND).map((d) => `  ${terminalText(d.summary)}`))
    if (pending.length > SHOWN_PER_KIND) lines.push(`  … and ${countText(pending.length - SHOWN_PER_KIND)} more: \`${line(['status'])}\` lists every one`)
  }
  const secrets = secretsNotPutBack(plan)
  if (secrets !== undefined) lines.push('', terminalText(secrets))
  const unheld = unheldNotPutBack(plan, line)
  if (unheld !== undefined) lines.push('', terminalText(unheld))
  const unchecked = uncheckedRunLines(plan.diagnostics)
  if (unchecked.length > 0) lines.push('', ...unchecked)
  const notes = plan.diagnostics.filter((d) => d.severity !== 'info')
  if (notes.length > 0) {
    lines.push('')
    // A change left out of the plan (outside its provider's scope), or a domain an error stops, says what to do about it.
    const shown = new Map<string, number>()
    for (const d of notes) {
      const n = (shown.get(d.code) ?? 0) + 1
      shown.set(d.code, n)
      if (n <= SHOWN_PER_KIND) appendAll(lines, noteLines(d))
    }
    for (const [code, n] of shown) {
      if (n > SHOWN_PER_KIND) lines.push(`… and ${countText(n - SHOWN_PER_KIND)} more like these [${code}]: \`${line(['plan', '--json'])}\` lists every one`)
    }
  }
  return lines.join('\n')
}

/**
 * At most this many lines of changes still pending, and of notes of one code, in the text; then
 * one line says how many more and where each is listed (the plan's JSON, `plan --out` and
 * `status` keep them all). A pull of a mirror with 131,000 files outside the include set printed
 * two lines for each, 55 MB (session 40). Every change to be made is still printed whole: what is
 * approved is what is shown.
 */
export const SHOWN_PER_KIND = 100

const countText = (n: number) => n.toLocaleString('en-US')

