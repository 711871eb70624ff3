import { stableStringify } from '@twinsync/sdk'
import { sha256 } from './content.js'

/** The facts of a live entry that a plan's change depends on. */
export interface LiveFacts {
  type: string
  mode: string
  uid: number
  gid: number
  size?: number
  sha256?: string
  target?: string
}

export const ABSENT = 'absent'

/**
 * The live fingerprint of a change: a hash of the entry's content hash and metadata when the plan
 * was made. A secret has no content hash in the state, so only its size and metadata count.
 */
export function fingerprintOf(facts: LiveFacts | undefined): string {
  if (facts === undefined) return ABSENT
  const { type, mode, uid, gid, size, sha256: hash, target } = facts
  return 'sha256:' + sha256(stableStringify({ type, mode, uid, gid, size, sha256: hash, target }))
}
