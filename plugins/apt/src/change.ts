/** The verbs of the apt provider, in the order apply carries them out. */
export const APT_OPERATIONS = ['unhold', 'install', 'remove', 'mark-manual', 'mark-auto', 'hold'] as const
export type AptOperation = (typeof APT_OPERATIONS)[number]

export function isAptOperation(value: string): value is AptOperation {
  return (APT_OPERATIONS as readonly string[]).includes(value)
}

/** `Change.data` of an apt change: all apply needs, without the twin. */
export interface AptChangeData {
  /** The twin's package key: a name, ":arch" for a foreign architecture. */
  package: string
  /** Set for an install of an exact version (the twin entry has `pinVersion`). */
  version?: string
}

export function aptChangeId(operation: AptOperation, pkg: string): string {
  return `apt:${operation}:${pkg}`
}
