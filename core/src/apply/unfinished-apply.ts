import type { Diagnostic } from '@twinsync/sdk'
import { warningDiagnostic } from '@twinsync/sdk/light'
import { pendingNotice, type PendingCheck } from './pending-checks.js'
import { interruptedNotice, type ApplyInProgress } from './resume.js'

/**
 * What `plan`, `apply` (which shows its plan first) and `status` say about an apply that did not
 * finish: that it was interrupted (its record), and the configuration it wrote that no checker or
 * reload has judged yet on this root (PendingChecks: the next apply settles it before anything
 * else). One function, so the three name the same things in the same words.
 */
export function unfinishedApplyNotices(record: ApplyInProgress | undefined, pending: readonly PendingCheck[], root: string): Diagnostic[] {
  const out: Diagnostic[] = []
  if (record !== undefined) out.push(warningDiagnostic('APPLY_INTERRUPTED', interruptedNotice(record)))
  const unjudged = pendingNotice(pending, root)
  if (unjudged !== undefined) out.push(warningDiagnostic('CONFIG_UNJUDGED', unjudged))
  return out
}
