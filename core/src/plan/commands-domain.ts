import type { Change } from '@twinsync/sdk'

/**
 * The commands domain, built in: the instructions in the twin's plans/*.yaml, read into changes
 * by plan-instructions.ts and run by apply/command-runner.ts. It is not a provider from the
 * registry: it has no machine state to collect, owns no twin file and is never drift, and what
 * it runs is recorded in its own ledger. This module is the one place that names it; the rest
 * of the code asks `isCommand`.
 */
export const COMMANDS = 'commands' as const

/** A change that runs a command or a script from plans/, rather than setting a domain's state. */
export function isCommand(change: Pick<Change, 'provider'>): boolean {
  return change.provider === COMMANDS
}
