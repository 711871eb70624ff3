import { readFile, stat } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import type { HostPort, Plan } from '@twinsync/sdk'
import { Plan as PlanSchema, STATE_CATEGORIES, TwinSyncError, writeFileAtomic } from '@twinsync/sdk'
import { Value } from 'typebox/value'
import type { CollectProgress } from '../collect/collector.js'
import { inject, injectable } from '../di.js'
import type { SnapshotRecord } from '../history/snapshot-log.js'
import { checkPlanSeal, sealPlan } from '../plan/plan-seal.js'
import { MAX_JSON_DEPTH, jsonTooDeep } from '../plan/json-depth.js'
import { Planner, type PlanOptions } from '../plan/planner.js'
import { Tokens } from '../tokens.js'
import type { TwinLocation } from '../twin/twin-location.js'
import { pathWord, twinsyncLine, type CommandTarget } from '../plan/command-text.js'
import { RunTarget } from '../plan/run-target.js'
import { resolveSnapshot } from '../twin/git-tree-reader.js'
import { rootNeedsNow, thisRunner } from '../plan/root-needs.js'
import { invokingUserOwns } from '../twin/twin-owner.js'
import { markTrustChanges, readTrustContext } from '../plan/trust-risk.js'

/** What a revert to `commit` plans, from either front end: every state domain from that snapshot, not the instructions in plans/. */
export function revertPlan(commit: string): { from: string; only: string[] } {
  return { from: commit, only: [...STATE_CATEGORIES] }
}

export interface PlanToApplyOptions {
  /** A saved plan (its seal checked). */
  planFile?: string
  /** Revert to this snapshot (HistoryService.resolve): plan every state domain from it, without the instructions. */
  revert?: SnapshotRecord
  from?: string
  only?: string[]
  onProgress?: CollectProgress
}

/** Plans made, saved and read back, sealed with the twin's key. */
@injectable()
export class PlanWorkflow {
  constructor(
    @inject(Planner) private readonly planner: Planner,
    @inject(Tokens.TwinLocation) private readonly location: TwinLocation,
    @inject(Tokens.Host) private readonly host: HostPort,
    @inject(RunTarget) private readonly target: RunTarget,
  ) {}

  async plan(options: PlanOptions): Promise<Plan> {
    return this.planner.plan(await this.named(options))
  }

  /** `--from` names a snapshot of this twin's (resolveSnapshot), never any commit the object store holds. */
  private async named<T extends { from?: string }>(options: T): Promise<T> {
    return options.from === undefined ? options : { ...options, from: await resolveSnapshot(this.location.dir, options.from) }
  }

  /** Save a plan for `twinsync apply FILE`, sealed. */
  save(path: string, plan: Plan): Promise<void> {
    return writePlanFile(path, plan, this.location.dir)
  }

  /** The plan `apply`, `revert`, `pull` and `rehearse` carry out: a saved one, a revert's, or a fresh one. */
  toApply(options: PlanToApplyOptions): Promise<Plan> {
    const progress = options.onProgress === undefined ? {} : { onProgress: options.onProgress }
    if (options.planFile !== undefined) {
      const target = this.target.get()
      // Its NEEDS_ROOT notes are its maker's: made again for this run (root-needs.ts). So is its
      // trust rating (who may become root, read from the machine, changes after a save): rated
      // again now, so the plan shown and the question asked of it count what ApplyService refuses
      // unaccepted (high-risk.ts; session 41: bob given sudo since the save, the question a plain
      // y/N, the apply refused his .bashrc). A rating is only ever added (markTrustChanges).
      return readPlanFile(options.planFile, target)
        .then((saved) => rootNeedsNow(saved, this.host, thisRunner(), target))
        .then(async (saved) => {
          const changes = [...saved.changes]
          markTrustChanges(changes, await readTrustContext(this.host, this.location.dir, changes))
          return { ...saved, changes }
        })
    }
    if (options.revert !== undefined) return this.planner.plan({ ...revertPlan(options.revert.commit), ...progress })
    // An edited working twin's tree recorded (recordTree): the apply refuses a twin edited since (ApplyOptions.ofWorkingTwin).
    return this.named(options).then((named) => this.planner.plan({ ...progress, recordTree: true, ...(named.from === undefined ? {} : { from: named.from }), ...(options.only === undefined ? {} : { only: options.only }) }))
  }
}

/** Save a plan, sealed with the twin's key (see plan-seal.ts). */
export async function writePlanFile(path: string, plan: Plan, twinDir: string): Promise<void> {
  const seal = await sealPlan(twinDir, plan)
  try {
    // Root through sudo writing into the user's own folder: the file is theirs (twin-owner.ts).
    const owner = invokingUserOwns(dirname(resolve(path)))
    await writeFileAtomic(path, JSON.stringify({ ...plan, seal }, null, 2) + '\n', { mode: 0o600, ...(owner === undefined ? {} : { uid: owner.uid, gid: owner.gid }) })
  } catch (error) {
    // The person's path, not a TwinSync fault: a missing folder, a folder there, no room, no rights.
    const code = (error as NodeJS.ErrnoException).code
    if (typeof code !== 'string') throw error
    const why =
      code === 'ENOENT' ? `its folder ${dirname(path)} does not exist`
      : code === 'EISDIR' || code === 'ENOTDIR' ? (code === 'EISDIR' ? `${path} is a folder` : `a part of ${dirname(path)} is not a folder`)
      : code === 'ENOSPC' || code === 'EDQUOT' ? 'the disk is full'
      : code === 'EACCES' || code === 'EPERM' || code === 'EROFS' ? `${dirname(path)} cannot be written here (${code})`
      : (error as Error).message
    throw new TwinSyncError('PLAN_NOT_WRITTEN', `The plan was not written to ${path}: ${why}`, {
      nextStep: 'Give `--out` a file path in a folder that exists and can be written (for example `--out /root/plan.json`); nothing was changed.',
      details: { path, errno: code },
    })
  }
}

/** A saved plan: its seal checked (any edit is PLAN_TAMPERED), then the schema. */
export async function readPlanFile(path: string, target: CommandTarget & { repo: string }): Promise<Plan> {
  const remake = `Write it again with \`${twinsyncLine(['plan', '--out', pathWord(path)], target)}\`, review it, then \`${twinsyncLine(['apply', pathWord(path)], target)}\`.`
  let value: unknown
  try {
    // A saved plan is a file: a FIFO waited for a writer for ever and /dev/zero was read to about
    // 512 MB before failing (attack, session 41). Its target's kind, not its link's (a link to a plan is one).
    const kind = await stat(path)
    if (!kind.isFile()) throw new Error(`it is ${kind.isDirectory() ? 'a folder' : kind.isFIFO() ? 'a FIFO' : kind.isSocket() ? 'a socket' : kind.isCharacterDevice() || kind.isBlockDevice() ? 'a device' : 'not a regular file'}, not a saved plan`)
    const text = await readFile(path, 'utf8')
    if (jsonTooDeep(text)) throw new Error(`it nests arrays or objects more than ${MAX_JSON_DEPTH} deep, which no plan does`)
    value = JSON.parse(text)
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
