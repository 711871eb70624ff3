import { createHash } from 'node:crypto'
import { stableStringify } from './stable-json.js'

/**
 * A short, stable hash of a resource's live state, for `Change.liveFingerprint`: the same value
 * (keys in any order) always gives the same fingerprint. Compute it in `diff` from the actual
 * state, and again in `apply` from what the machine holds right then; when they differ, the
 * resource moved since the plan was made and the change must fail instead of overwriting it.
 * `undefined` (the resource does not exist) has a fingerprint of its own.
 */
export function fingerprint(value: unknown): string {
  const basis = value === undefined ? '\0absent' : stableStringify(value)
  return createHash('sha256').update(basis).digest('hex')
}
