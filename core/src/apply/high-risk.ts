import type { Change, Plan } from '@twinsync/sdk'
import { TwinSyncError } from '@twinsync/sdk/light'
import { isCommand } from '../plan/commands-domain.js'
import { twinsyncLine, type CommandTarget } from '../plan/command-text.js'
import { markTrustChanges, type TrustContext } from '../plan/trust-risk.js'

/**
 * Session 20: what a person approves one by one, never with a bare y or `--yes`. A change the trust
 * rule names (`riskReason`: code that runs as root, or a door to a login; plan/trust-risk.ts) and a
 * command of the twin's plans/ (it runs as root, whatever it is). Both arrive in a pull from a
 * mirror anyone with the token can push to, and TwinSync cannot tell which commit a person made
 * here and which came from there, so every apply asks the same. Other high-risk changes (a delete,
 * a stop) lose data but hand nothing out: a plain y/N and `--yes` stay enough for them.
 */
export function highRiskChanges(changes: readonly Change[], context: TrustContext = {}): Array<{ change: Change; reason: string }> {
  const out: Array<{ change: Change; reason: string }> = []
  // Rated again from each change's own data, not from the `riskReason` a plan file says: a hand-edited plan cannot drop one.
  const marked = [...changes]
  markTrustChanges(marked, context)
  for (const change of marked) {
    if (change.riskReason !== undefined) out.push({ change, reason: change.riskReason })
    else if (isCommand(change)) out.push({ change, reason: "a command of the twin's plans/: runs as root" })
  }
  return out
}

/** What a person must type to approve them (a plain y is not enough). */
export const HIGH_RISK_ANSWER = 'yes'

/** The question's preamble, the same words in the CLI and the TUI: the count, then each change and its reason. */
export function highRiskLines(changes: readonly Change[]): string[] {
  const high = highRiskChanges(changes)
  if (high.length === 0) return []
  return [
    `${high.length} of these changes run${high.length === 1 ? 's' : ''} code as root or let${high.length === 1 ? 's' : ''} someone log in:`,
    ...high.map(({ change, reason }) => `  ${change.summary}: ${reason}`),
  ]
}

/**
 * ApplyService's check, before the lock or any write: every such change of the plan was accepted
 * by name (`accepted`: the ids, or true for all: `--accept-high-risk`, a typed "yes"). `context`:
 * the machine's users who may become root and where the run's twin lies (readTrustContext).
 */
export function refuseUnacceptedHighRisk(plan: Pick<Plan, 'changes'>, accepted: boolean | readonly string[] | undefined, again: string, target: CommandTarget, context: TrustContext = {}): void {
  if (accepted === true) return
  const ids = new Set(Array.isArray(accepted) ? accepted : [])
  const missing = highRiskChanges(plan.changes, context).filter(({ change }) => !ids.has(change.id))
  if (missing.length === 0) return
  throw new TwinSyncError('HIGH_RISK_NOT_ACCEPTED', `${missing.length} change${missing.length === 1 ? '' : 's'} of the plan run${missing.length === 1 ? 's' : ''} code as root or open${missing.length === 1 ? 's' : ''} a login, and ${missing.length === 1 ? 'was' : 'were'} not accepted: nothing was applied`, {
    nextStep: `Read them in the plan above (each says why). To apply them, answer "${HIGH_RISK_ANSWER}" on a terminal, or run \`${again}\`; to apply the rest only, leave them out (TUI: Space) or discard them from the twin (\`${twinsyncLine(['discard', 'ID'], target)}\`).`,
    details: { changes: missing.map(({ change, reason }) => ({ id: change.id, reason })) },
  })
}
