/**
 * The domains, once for the whole code base: a change's category, in the order the plan,
 * status and history list them. No imports, so a command module can name them without loading
 * the SDK's schemas (`@twinsync/sdk/domains`).
 */
export const CATEGORIES = ['files', 'packages', 'services', 'startup', 'commands', 'facts'] as const

export type Category = (typeof CATEGORIES)[number]

/**
 * The domains whose state the twin records and a plan changes on the machine: what drift is
 * measured over and what a revert plans. Not the instructions in plans/ (`commands`, run on
 * request, never observed) and not the read-only `facts`.
 */
export const STATE_CATEGORIES = ['files', 'packages', 'services', 'startup'] as const satisfies readonly Category[]

/** The domains a snapshot records: the state domains and the facts (what `history --domain` takes). */
export const SNAPSHOT_CATEGORIES = [...STATE_CATEGORIES, 'facts'] as const satisfies readonly Category[]
