import type { Change } from '@twinsync/sdk'

/**
 * The codes of a change left out because a name it acts on holds a secret (a file, a unit, an
 * entry named with a token). The diagnostic names the folder and the rule, never the name; the
 * change's id, resource and summary spell it, so wherever such a change is shown (plan --json and
 * a saved plan's `change`, status's item, text and --json, the TUI's) it stands as hiddenChangeId makes it.
 */
export const SECRET_NAME_CODES: ReadonlySet<string> = new Set(['SECRET_IN_NAME_NOT_PLANNED', 'FILES_NAME_SECRET_NOT_PLANNED'])

/** What stands for such a change's id: its provider and operation, and its place among them (`files:create:<a name holding a secret, 1>`). */
export function hiddenChangeId(change: Pick<Change, 'provider' | 'operation'>, n: number): string {
  return `${change.provider}:${change.operation}:<a name holding a secret, ${n}>`
}

/** Whether an id is one hiddenChangeId made (a person may copy it from status; no pending item has it). */
export function isHiddenChangeId(id: string): boolean {
  return /:<a name holding a secret, \d+>$/.test(id)
}
