import type { Change, Diagnostic } from '@twinsync/sdk'
import { warningDiagnostic } from '@twinsync/sdk/light'
import type { PendingItem } from '../intent/intent-service.js'
import { writesRedaction } from '../snapshot/secret-guard.js'
import type { CommandChangeData } from './plan-instructions.js'
import { COMMANDS } from './commands-domain.js'

/**
 * The one rule for a command or script of plans/ holding the redaction marker (`forget --rule`
 * redacts plans/ and scripts/ in place): never planned, it would run the marker (session 44,
 * attack: the run-once `sh -c 'echo password=<redacted> > /root/x.conf'` that had run was planned
 * again, as a new command). The planner leaves it out with a warning; `status` lists it as pending
 * with the same code, its reason and next step (before: "In sync", the twin's ask seen only in `plan`).
 */
export const SECRET_REDACTED_NOT_PLANNED = 'SECRET_REDACTED_NOT_PLANNED'

/** A run-once or every-time command whose arguments or script text hold the redaction marker. */
export function runsRedaction(change: Change): boolean {
  const data = change.data as CommandChangeData
  return writesRedaction(data.argv) || (data.script !== undefined && writesRedaction(data.script.text))
}

/** What holds the marker: "script" or "command line". */
function what(c: Change): string {
  return (c.data as CommandChangeData).kind === 'script' ? 'script' : 'command line'
}

/** Why it is held back, in the words plan and status share. */
function heldReason(c: Change): string {
  return `held back: its ${what(c)} in the twin holds a redacted secret (forget --rule redacts plans/ and scripts/ in place), and running it would run the marker`
}

/** The next step: the real value back, or the action out of its file. */
function heldNextStep(c: Change): string {
  const data = c.data as CommandChangeData
  const where = data.script === undefined ? data.source : `${data.script.path} (run by ${data.source})`
  return `put the real value back where ${where} says <redacted> (or write the action again without the secret in it), or take the action out of ${data.source} to drop it`
}

/**
 * The plan's warning for a command it leaves out: a left-out change (isLeftOut, its `change`), so
 * `plan`, `apply` and `pull` (CLI and TUI) head it "No changes planned: 1 change the twin asks for
 * is left out", with its code and next step, never "the machine matches".
 */
export function heldBackWarning(c: Change): Diagnostic {
  return warningDiagnostic(SECRET_REDACTED_NOT_PLANNED, `${c.summary}: not planned, ${heldReason(c)}`, { provider: COMMANDS, path: (c.data as CommandChangeData).source, change: c.id, detail: heldNextStep(c) })
}

/** A command held back, as `status`'s pending item: its reason and next step (planned-commands.ts lists them). */
export function heldBackItem(c: Change): PendingItem {
  return {
    id: c.id,
    provider: COMMANDS,
    category: c.category,
    operation: c.operation,
    resource: c.resource,
    summary: c.summary,
    reason: heldReason(c),
    code: SECRET_REDACTED_NOT_PLANNED,
    nextStep: heldNextStep(c),
  }
}
