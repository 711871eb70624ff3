import type { Change, Diagnostic } from '@twinsync/sdk'
import { infoDiagnostic, redactSecrets } from '@twinsync/sdk/light'
import { shownDiagnostic } from '../terminal-text.js'
import { COMMANDS } from './commands-domain.js'
import { COMMANDS_LEDGER, type CommandChangeData } from './plan-instructions.js'

/**
 * A run-once command holding a secret that only the committed record says ran (run-once-keys.ts's
 * ranHow, 'record alone'): this machine's own record of the texts that ran has nothing for its
 * key, or cannot be read (a twin restored from its mirror, `.git/twinsync/ran-here.json` lost or
 * unreadable). The committed key is its redacted text's, so a change of its secret alone is not
 * told: it is not planned. Session 47's review (F5): nothing said so; a password changed in
 * plans/ never ran. Now the plan and `status` (CLI and TUI: the planner's diagnostics, status's
 * notes) say it of each, an info note that holds nothing back. It goes once the command runs here
 * (the local record then has its key).
 */
export const COMMAND_RAN_UNCHECKED = 'COMMAND_RAN_UNCHECKED'

/** The note of each such command, its summary as the twin's screening shows it (the note is no review of what runs). */
export async function uncheckedRunNotes(changes: readonly Change[]): Promise<Diagnostic[]> {
  return Promise.all(
    changes.map(async (c) => {
      const { source } = c.data as CommandChangeData
      return infoDiagnostic(
        COMMAND_RAN_UNCHECKED,
        `${await redactSecrets(c.summary)} (${c.id}): not planned, ${COMMANDS_LEDGER} records it as run; it holds a secret, and this machine has no record of its own of the text that ran (.git/twinsync/ran-here.json: a twin restored from its mirror, or that record lost), so it cannot tell whether the secret changed since`,
        {
          provider: COMMANDS,
          path: source,
          detail: `If it changed and the command should run again, edit the action in ${source} (a new \`description:\` will do) or take its entry out of ${COMMANDS_LEDGER} in the twin, then plan; left as it is, it does not run. This note goes once it runs here.`,
        },
      )
    }),
  )
}

/** The notes as lines, under the plan and the status in both front ends (info is otherwise left to --json). */
export function uncheckedRunLines(diagnostics: readonly Diagnostic[]): string[] {
  return diagnostics
    .filter((d) => d.code === COMMAND_RAN_UNCHECKED)
    .map(shownDiagnostic)
    .flatMap((d) => [`note: ${d.summary} [${d.code}]`, ...(d.detail === undefined ? [] : [`  Next step: ${d.detail}`])])
}
