import { readFile } from 'node:fs/promises'
import type { Plan } from '@twinsync/sdk'
import { Plan as PlanSchema, STATE_CATEGORIES, TwinSyncError, writeFileAtomic } from '@twinsync/sdk'
import { Value } from 'typebox/value'
import type { CollectProgress } from '../collect/collector.js'
import type { DependencyContainer } from '../di.js'
import type { SnapshotRecord } from '../history/snapshot-log.js'
import { checkPlanSeal, sealPlan } from '../plan/plan-seal.js'
import { Planner, type PlanOptions } from '../plan/planner.js'
import { Tokens, resolveToken } from '../tokens.js'
import { twinsyncLine, type CommandTarget } from '../plan/command-text.js'

/** The twin's directory, for the plan seal's key. */
export function twinDirOf(container: DependencyContainer): string {
  return resolveToken(container, Tokens.TwinLocation).dir
}

/** The target and the twin, for next steps that name them (`twinsyncLine`). */
export function commandTargetOf(container: DependencyContainer): CommandTarget & { repo: string } {
  return { root: resolveToken(container, Tokens.Host).root, repo: twinDirOf(container) }
}

export function makePlan(container: DependencyContainer, options: PlanOptions): Promise<Plan> {
  return container.resolve(Planner).plan(options)
}

/** What a revert to `commit` plans, from either front end: every state domain from that snapshot, not the instructions in plans/. */
export function revertPlan(commit: string): { from: string; only: string[] } {
  return { from: commit, only: [...STATE_CATEGORIES] }
}

export interface PlanToApplyOptions {
  /** A saved plan (its seal checked). */
  planFile?: string
  /** Revert to this snapshot: plan every state domain from it, without the instructions. */
  revertTo?: string
  from?: string
  only?: string[]
  onProgress?: CollectProgress
}

/** The plan `apply`, `revert` and `pull` carry out, and the snapshot a revert goes back to. */
export async function planToApply(container: DependencyContainer, options: PlanToApplyOptions): Promise<{ plan: Plan; revert: SnapshotRecord | undefined }> {
  // Loaded only for a revert: `twinsync plan` does not need the history.
  const revert = options.revertTo === undefined ? undefined : await container.resolve((await import('../history/history-service.js')).HistoryService).resolve(options.revertTo)
  const progress = options.onProgress === undefined ? {} : { onProgress: options.onProgress }
  const plan = options.planFile !== undefined
    ? await readPlanFile(options.planFile, commandTargetOf(container))
    : revert !== undefined
      ? await makePlan(container, { ...revertPlan(revert.commit), ...progress })
      : await makePlan(container, { ...progress, ...(options.from === undefined ? {} : { from: options.from }), ...(options.only === undefined ? {} : { only: options.only }) })
  return { plan, revert }
}

/** Save a plan, sealed with the twin's key (see plan-seal.ts). */
export async function writePlanFile(path: string, plan: Plan, twinDir: string): Promise<void> {
  const seal = await sealPlan(twinDir, plan)
  await writeFileAtomic(path, JSON.stringify({ ...plan, seal }, null, 2) + '\n', { mode: 0o600 })
}

/** A saved plan: its seal checked (any edit is PLAN_TAMPERED), then the schema. */
export async function readPlanFile(path: string, target: CommandTarget & { repo: string }): Promise<Plan> {
  const remake = `Write it again with \`${twinsyncLine(['plan', '--out', path], target)}\`, review it, then \`${twinsyncLine(['apply', path], target)}\`.`
  let value: unknown
  try {
    value = JSON.parse(await readFile(path, 'utf8'))
  } catch (error) {
    throw new TwinSyncError('PLAN_INVALID', `Cannot read the plan ${path}: ${(error as Error).message}`, {
      nextStep: remake,
      details: { path },
    })
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TwinSyncError('PLAN_INVALID', `${path} is not a TwinSync plan: not a JSON object`, {
      nextStep: remake,
      details: { path },
    })
  }
  value = await checkPlanSeal(target.repo, path, value as Record<string, unknown>, remake)
  if (!Value.Check(PlanSchema, value)) {
    const first = [...Value.Errors(PlanSchema, value)][0]
    throw new TwinSyncError('PLAN_INVALID', `${path} is not a TwinSync plan: ${first?.instancePath || '/'} ${first?.message ?? ''}`.trim(), {
      nextStep: remake,
      details: { path },
    })
  }
  return value
}
