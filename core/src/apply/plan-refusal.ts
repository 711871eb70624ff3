import type { Plan } from '@twinsync/sdk'
import { ERROR_CODES, TwinSyncError } from '@twinsync/sdk/errors'

/**
 * The rule both front ends follow: a plan with an error (a twin providers cannot read
 * correctly, an invalid name, content its domain refuses) is fixed first, not half applied.
 * `ApplyService.apply` enforces it; the CLI and the TUI ask it first only to say so early.
 */
export function planRefusal(plan: Plan): TwinSyncError | undefined {
  const errors = plan.diagnostics.filter((d) => d.severity === 'error')
  if (errors.length === 0) return undefined
  const first = errors[0] as (typeof errors)[number]
  const code = first.code in ERROR_CODES ? first.code : 'PLAN_INVALID'
  return new TwinSyncError(code, `Nothing was applied: the plan has ${errors.length} error(s): ${errors.map((e) => `${e.provider ? `${e.provider}: ` : ''}${e.summary}`).join('; ')}`, {
    nextStep: 'Fix the twin (or the provider problem) and plan again.',
    details: { errors },
  })
}
