import type { Diagnostic, Plan } from '@twinsync/sdk'
import { ERROR_CODES, TwinSyncError } from '@twinsync/sdk/errors'
import type { LineFor } from '../plan/command-text.js'

/**
 * The rule both front ends follow: a plan with an error (a twin providers cannot read
 * correctly, an invalid name, content its domain refuses) is fixed first, not half applied.
 * `line`: the run's `twinsync ARGS` (RunTarget.line). `ApplyService.apply` enforces it; the CLI and the TUI ask it first only to say so early.
 */
export function planRefusal(plan: Plan, line: LineFor): TwinSyncError | undefined {
  // A step named twice (a forged or hand-edited plan: the planner never makes one) would run twice,
  // or the second of two different payloads would undo the one reviewed first (session 11).
  const seen = new Set<string>()
  const twice = [...new Set(plan.changes.map((c) => c.id).filter((id) => seen.has(id) || (seen.add(id), false)))]
  if (twice.length > 0) {
    return new TwinSyncError('PLAN_INVALID', `Nothing was applied: the plan names ${twice.length === 1 ? 'a step' : `${twice.length} steps`} more than once: ${twice.slice(0, 5).join(', ')}${twice.length > 5 ? ', …' : ''}`, {
      nextStep: `Make a new plan (\`${line(['plan'])}\`) and review it again; a plan TwinSync makes names each step once.`,
      details: { duplicates: twice },
    })
  }
  const errors = plan.diagnostics.filter((d) => d.severity === 'error')
  if (errors.length === 0) return undefined
  const first = errors[0] as (typeof errors)[number]
  // The first error's code when the SDK registers it (TWIN_INVALID, NAME_INVALID, PROVIDER_FAILED…, which `describe`
  // lists); a provider's own (FILES_MANIFEST_INVALID) is PLAN_INVALID. Registering a code changes what apply names.
  const code = first.code in ERROR_CODES ? first.code : 'PLAN_INVALID'
  return new TwinSyncError(code, `Nothing was applied: the plan has ${errors.length} error(s): ${errors.map((e) => `${e.provider ? `${e.provider}: ` : ''}${e.summary}`).join('; ')}`, {
    // Another machine's twin is not fixed in the twin: its own next step (init --claim) says what to do.
    nextStep: ownStep(errors) ?? 'Fix the twin (or the provider problem) and plan again.',
    details: { errors },
  })
}

/** The next step the errors give, when they are all of one code that says its own. */
function ownStep(errors: readonly Diagnostic[]): string | undefined {
  const first = errors[0]
  if (first?.detail === undefined || !OWN_STEP.has(first.code) || errors.some((e) => e.code !== first.code)) return undefined
  return first.code === 'TWIN_OTHER_MACHINE' && errors.length > 1 ? undefined : first.detail
}

const OWN_STEP = new Set(['TWIN_OTHER_MACHINE'])
