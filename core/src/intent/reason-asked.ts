import { createHash } from 'node:crypto'
import type { Change } from '@twinsync/sdk'
import { stableStringify } from '@twinsync/sdk/light'

/**
 * A reason an item is still pending ("failed in the apply of …: visudo rejects …") is about what
 * the twin asked for then. Recorded with a digest of that ask (the change's operation and its
 * `after`), it is said as it was only while the twin asks the same: once the person changed what
 * they ask (fixed the sudoers rule), the old failure is history, not the new content's verdict
 * (session 24's tour: "still pending, failed: visudo rejects" was said of the fixed rule).
 * Stored in the intent commit's reasons as `reason` + NUL + digest; a reason without one (an
 * older twin, a pull's) is said as it is.
 */
const SEPARATOR = '\u0000'

function askedDigest(change: Pick<Change, 'operation' | 'after'>): string {
  return createHash('sha256')
    .update(stableStringify({ operation: change.operation, after: change.after ?? null }))
    .digest('hex')
    .slice(0, 16)
}

/** The reason for `change`, stamped with what it asked for. */
export function stampReason(reason: string, change: Pick<Change, 'operation' | 'after'> | undefined): string {
  return change === undefined ? reason : `${reason}${SEPARATOR}${askedDigest(change)}`
}

/** The reason to say for `change` now: as recorded while the twin asks the same; otherwise said as a change since. */
export function reasonFor(stored: string | undefined, change: Pick<Change, 'operation' | 'after'>): string | undefined {
  if (stored === undefined) return undefined
  const cut = stored.indexOf(SEPARATOR)
  if (cut === -1) return stored
  const text = stored.slice(0, cut)
  return stored.slice(cut + 1) === askedDigest(change) ? text : changedSince(text)
}

/** "failed in the apply of T: …" → "changed in the twin since it failed in the apply of T; not applied yet" (the old words are in that apply's journal). */
function changedSince(text: string): string {
  const step = /^(failed|skipped) in the apply of (\S+?)(?:: |$)/.exec(text)
  if (step !== null) return `changed in the twin since it ${step[1] === 'failed' ? 'failed' : 'was skipped'} in the apply of ${step[2]}; not applied yet`
  return `changed in the twin since it was ${text}; not applied yet`
}
