import { stableStringify, xattrBytes, xattrValue } from '@twinsync/sdk'
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
  capabilities?: string
  xattrs?: Record<string, string>
}

export const ABSENT = 'absent'

/**
 * The live fingerprint of a change: a hash of the entry's content hash and metadata when the plan
 * was made. A secret has no content hash in the state, so only its size and metadata count.
 * Extended attributes and capabilities of files and directories count when there are any (in one
 * encoding, so getfattr's text and base64 forms of one value are the same fact).
 */
export function fingerprintOf(facts: LiveFacts | undefined): string {
  if (facts === undefined) return ABSENT
  const { type, mode, uid, gid, size, sha256: hash, target } = facts
  const attributed = type === 'file' || type === 'directory'
  const xattrs = attributed && facts.xattrs !== undefined && Object.keys(facts.xattrs).length > 0 ? normalized(facts.xattrs) : undefined
  const capabilities = attributed && facts.capabilities !== undefined && facts.capabilities !== '' ? facts.capabilities : undefined
  return 'sha256:' + sha256(stableStringify({ type, mode, uid, gid, size, sha256: hash, target, capabilities, xattrs }))
}

function normalized(xattrs: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(xattrs).map(([name, value]) => [name, xattrValue(xattrBytes(value))]))
}
