import type { Diagnostic } from '@twinsync/sdk'
import { warningDiagnostic } from '@twinsync/sdk/light'
import { pendingNotice, type PendingCheck } from './pending-checks.js'
import { interruptedNotice, type ApplyInProgress } from './resume.js'
import type { CommandTarget } from '../plan/command-text.js'

/**
 * What `plan`, `apply` (which shows its plan first) and `status` say about an apply that did not
 * finish: that it was interrupted (its record), and the configuration it wrote that no checker or
 * reload has judged yet on this root (PendingChecks: the next apply settles it before anything
 * else). `target`: this run's (its root, and the lines it names). One function, so the three name the same things in the same words.
 */
export function unfinishedApplyNotices(record: ApplyInProgress | undefined, pending: readonly PendingCheck[], target: CommandTarget): Diagnostic[] {
  const out: Diagnostic[] = []
  if (record !== undefined) out.push(warningDiagnostic('APPLY_INTERRUPTED', interruptedNotice(record, target)))
  const unjudged = pendingNotice(pending, target)
  if (unjudged !== undefined) out.push(warningDiagnostic('CONFIG_UNJUDGED', unjudged))
  return out
}
