import { sha256 } from '../sha256.js'
import type { Change } from '@twinsync/sdk'
import { stableStringify } from '@twinsync/sdk/light'

/**
 * What the live resource looked like when the change was planned. Providers give a precise
 * `liveFingerprint`; otherwise the change itself stands in for it (its `before` describes the
 * live state), so a plan is stale as soon as a fresh plan would say something else.
 */
export function changeFingerprint(change: Change): string {
  if (change.liveFingerprint !== undefined) return change.liveFingerprint
  const basis = stableStringify({ operation: change.operation, resource: change.resource, before: change.before ?? null, data: change.data ?? null })
  return sha256(basis)
}
