import { readFile } from 'node:fs/promises'
import type { Plan } from '@twinsync/sdk'
import { Plan as PlanSchema, TwinSyncError, writeFileAtomic } from '@twinsync/sdk'
import { Value } from 'typebox/value'
import type { DependencyContainer } from '../di.js'
import { Planner, type PlanOptions } from '../plan/planner.js'

export function makePlan(container: DependencyContainer, options: PlanOptions): Promise<Plan> {
  return container.resolve(Planner).plan(options)
}

export async function writePlanFile(path: string, plan: Plan): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(plan, null, 2) + '\n', { mode: 0o600 })
}

/** A saved plan, checked against the schema: a plan file is input and may have been edited. */
export async function readPlanFile(path: string): Promise<Plan> {
  let value: unknown
  try {
    value = JSON.parse(await readFile(path, 'utf8'))
  } catch (error) {
    throw new TwinSyncError('PLAN_INVALID', `Cannot read the plan ${path}: ${(error as Error).message}`, {
      nextStep: 'Write a plan with `twinsync plan --out FILE`.',
      details: { path },
    })
  }
  if (!Value.Check(PlanSchema, value)) {
    const first = [...Value.Errors(PlanSchema, value)][0]
    throw new TwinSyncError('PLAN_INVALID', `${path} is not a TwinSync plan: ${first?.instancePath || '/'} ${first?.message ?? ''}`.trim(), {
      nextStep: 'Write a plan with `twinsync plan --out FILE`.',
      details: { path },
    })
  }
  return value
}
