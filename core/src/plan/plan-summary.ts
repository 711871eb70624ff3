import type { Category, Diagnostic, Plan } from '@twinsync/sdk'
import { CATEGORIES, compareStrings, isKeptUnread, SECRET_CHANGED, unheldOperation, type UnheldOperation } from '@twinsync/sdk/light'
import { shownDiagnostic } from '../terminal-text.js'
import type { LineFor } from './command-text.js'

export interface CategorySummary {
  category: Category
  count: number
  highRisk: number
  operations: Record<string, number>
}

/** Counts by category, in the spec's order: files, packages, services, startup, commands. */
export function summarizePlan(plan: Pick<Plan, 'changes'>): CategorySummary[] {
  return CATEGORIES.map((category) => {
    const changes = plan.changes.filter((c) => c.category === category)
    const operations: Record<string, number> = {}
    for (const c of changes) operations[c.operation] = (operations[c.operation] ?? 0) + 1
    return { category, count: changes.length, highRisk: changes.filter((c) => c.risk === 'high').length, operations }
  }).filter((s) => s.count > 0)
}

/**
 * A warning that names a change of the twin the plan leaves out (a provider's outOfScope: a
 * path outside what it manages). Both front ends say so in the plan's head line and show its
 * code and next step, so a forged twin's asks are never read as "no changes".
 */
export function isLeftOut(d: Diagnostic): boolean {
  return d.severity === 'warning' && d.change !== undefined
}

/**
 * A plan's note as both front ends show it. One that leaves a change out, or an error that
 * stops a domain being planned (a twin document that cannot be read), also shows its code and
 * what to do: an error is never a dead end.
 */
export function noteLines(diagnostic: Diagnostic): string[] {
  const d = shownDiagnostic(diagnostic)
  const coded = isLeftOut(d) || d.severity === 'error'
  const head = `${d.severity}: ${d.provider ? `${d.provider}: ` : ''}${d.summary}${coded ? ` [${d.code}]` : ''}`
  if (!coded || d.detail === undefined) return [head]
  return [head, isLeftOut(d) ? `  Next step: ${d.detail}` : `  ${d.detail}`]
}

/** A plan from a twin with no state for any provider it compared (never snapshotted): nothing was compared (Planner). */
export const TWIN_EMPTY = 'TWIN_EMPTY'

/**
 * The head line of a plan with no changes, in both front ends: nothing can be planned while an
 * error stands (a twin part no provider reads, a provider that failed), else the machine
 * matches, or what the twin asks is left out, or a path could not be read. Never "matches" over
 * an error or an unread path.
 */
export function noChangesLine(plan: Pick<Plan, 'basis' | 'diagnostics'>, basis: string): string {
  if (plan.diagnostics.some((d) => d.severity === 'error')) return 'No changes can be planned until the errors below are fixed.'
  // A twin holding nothing of the machine (never snapshotted): nothing matches, nothing was compared.
  if (plan.diagnostics.some((d) => d.code === TWIN_EMPTY)) return `Nothing to plan: ${basis} holds nothing of the machine (${plan.basis.root}) yet; nothing was compared (below).`
  const leftOut = plan.diagnostics.filter(isLeftOut).length
  if (leftOut > 0) return `No changes planned: ${leftOut} change${leftOut === 1 ? '' : 's'} the twin asks for ${leftOut === 1 ? 'is' : 'are'} left out (below); otherwise the machine (${plan.basis.root}) matches ${basis}.`
  // A path the machine did not let a provider read (FILES_UNREADABLE_KEPT) was not compared: never "matches" over it.
  const unread = plan.diagnostics.filter(isKeptUnread).length
  if (unread > 0) return `No changes planned: ${unread} path${unread === 1 ? '' : 's'} of the machine could not be read (below); elsewhere the machine (${plan.basis.root}) matches ${basis}.`
  const secrets = secretsDiffering(plan).length
  const unheld = unheldDiffering(plan).length
  if (secrets + unheld > 0) {
    const which = [...(secrets === 0 ? [] : [secrets === 1 ? 'a secret' : `${secrets} secrets`]), ...(unheld === 0 ? [] : [`${unheld === 1 ? 'a file' : `${unheld} files`} whose content the twin does not hold`])]
    return `No changes planned: the machine (${plan.basis.root}) matches ${basis}, but for ${which.join(' and ')} no plan can put back (below).`
  }
  return `No changes: the machine (${plan.basis.root}) matches ${basis}.`
}

/** The paths of secrets that differ from the twin (SECRET_CHANGED): the twin holds a keyed hash of each, never the content. */
function secretsDiffering(plan: Pick<Plan, 'diagnostics'>): string[] {
  return [...new Set(plan.diagnostics.flatMap((d) => (d.code === SECRET_CHANGED && d.path !== undefined ? [d.path] : [])))].sort()
}

/** What the machine has that the plan cannot change (UNHELD_DIFFERS), by path: a binary or too large file, a secret that came or went. */
function unheldDiffering(plan: Pick<Plan, 'diagnostics'>): Array<{ path: string; operation: UnheldOperation; detail?: string }> {
  const byPath = new Map<string, { operation: UnheldOperation; detail?: string }>()
  for (const d of plan.diagnostics) {
    const operation = unheldOperation(d)
    if (operation !== undefined && d.path !== undefined) byPath.set(d.path, { operation, ...(d.detail === undefined ? {} : { detail: d.detail }) })
  }
  return [...byPath].sort(([a], [b]) => compareStrings(a, b)).map(([path, p]) => ({ path, ...p }))
}

/** How a path differs, as a plan that cannot change it sees it. */
const UNHELD_WORDS: Record<UnheldOperation, string> = { create: 'is gone from the machine', replace: 'differs', delete: 'is on the machine, not in the twin' }

/**
 * Under the plan, in the CLI and the TUI alike: the secrets that differ from the twin, which no
 * plan can put back (the twin holds only a keyed hash of each). A revert that takes /etc/passwd
 * back leaves /etc/shadow as it is: said before the person approves, not found by pwck after.
 */
export function secretsNotPutBack(plan: Pick<Plan, 'diagnostics'>): string | undefined {
  const paths = secretsDiffering(plan)
  if (paths.length === 0) return undefined
  const one = paths.length === 1
  const named = paths.length > 6 ? `${paths.slice(0, 6).join(', ')} and ${paths.length - 6} more` : paths.join(', ')
  return `Not put back: ${named} ${one ? 'differs' : 'differ'} from the twin, which holds only a keyed hash of ${one ? 'it' : 'each'} (a secret); this plan leaves ${one ? 'it as it is' : 'them as they are'}. Change ${one ? 'it' : 'them'} on the machine itself if needed (passwd, userdel for /etc/shadow).`
}

/**
 * Under the plan, in the CLI and the TUI alike: the files that differ where the twin holds none of
 * their content (UNHELD_DIFFERS: a binary, one too large to read, a secret that came or went),
 * which no plan can put back. Session 33: a binary changed under /etc was "No changes: the
 * machine matches" here and "In sync" in status.
 */
export function unheldNotPutBack(plan: Pick<Plan, 'diagnostics'>, line: LineFor): string | undefined {
  const paths = unheldDiffering(plan)
  if (paths.length === 0) return undefined
  const one = paths.length === 1
  // A note's detail says what stays and why (a folder kept whole for a file in it the twin never saw).
  const named = paths.slice(0, 6).map((p) => `${p.path} ${UNHELD_WORDS[p.operation]}${p.detail === undefined ? '' : ` (${p.detail})`}`).join(', ') + (paths.length > 6 ? ` and ${paths.length - 6} more` : '')
  return `Not put back: ${named}; the twin holds none of ${one ? 'its' : 'their'} content (a binary or too large a file, or a secret), so this plan leaves ${one ? 'it as it is' : 'them as they are'}. \`${line(['snapshot'])}\` records the machine's version; change ${one ? 'it' : 'them'} on the machine itself to have another.`
}
