import { readFileSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { Change, HostPort, Plan } from '@twinsync/sdk'
import { TwinSyncError, writeFileAtomic } from '@twinsync/sdk/light'
import { diskError } from '../twin/disk-error.js'
import { isCommand } from '../plan/commands-domain.js'

/**
 * What an apply under way intends, written (atomically) before it changes anything and kept
 * until it has run to its end. After a crash or a kill it tells the next run that an apply was
 * interrupted, which state it was heading for, and which steps were done: `plan` and `status`
 * plan toward that state, `apply` continues toward it, `revert` goes back deliberately. Without
 * it, the checkpoint (the machine as it was) would look like the desired state and the next
 * apply would undo the half-finished one.
 */
export interface ApplyInProgress {
  version: 1
  pid: number
  startedAt: string
  root: string
  /** 'revert' when the apply brings the machine back to a snapshot. */
  kind: 'apply' | 'revert'
  /** The commit whose tree is the state the apply heads for. */
  intended: string
  /** The providers the plan covered: a resumed apply plans only these. */
  providers: string[]
  /** The snapshot of the machine before the first attempt: `twinsync revert` to it goes back. */
  checkpoint: string | null
  /** Every change of the plan, with the target paths it writes (for the temp-file sweep). */
  changes: Array<{ id: string; provider: string; summary: string; paths: string[] }>
  /** Steps that started; a step started and not finished was under way at the interruption. */
  started: string[]
  /** Finished steps and how they ended. */
  done: Record<string, string>
}

export const APPLY_RECORD = join('.git', 'twinsync', 'apply-in-progress.json')

export async function readApplyRecord(twinDir: string): Promise<ApplyInProgress | undefined> {
  let text: string
  try {
    text = readFileSync(join(twinDir, APPLY_RECORD), 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
  try {
    const value = JSON.parse(text) as ApplyInProgress
    if (value.version === 1 && typeof value.intended === 'string' && Array.isArray(value.changes) && Array.isArray(value.providers)) return value
  } catch {
    // fall through: not something this version wrote
  }
  throw new TwinSyncError('REPO_INVALID', `The record of an interrupted apply (${join(twinDir, APPLY_RECORD)}) cannot be read`, {
    nextStep: `Look at it, then remove it (\`rm ${join(twinDir, APPLY_RECORD)}\`) and run \`twinsync plan\` to see where the machine stands.`,
    details: { path: join(twinDir, APPLY_RECORD) },
  })
}

export async function clearApplyRecord(twinDir: string): Promise<void> {
  await rm(join(twinDir, APPLY_RECORD), { force: true })
}

/**
 * Keeps the record on disk as steps start and end. Writes are atomic and one at a time; while
 * one is under way, later updates are folded into the next write.
 */
export class ApplyRecorder {
  private writing: Promise<void> = Promise.resolve()
  private dirty = false

  constructor(
    private readonly twinDir: string,
    readonly record: ApplyInProgress,
  ) {}

  /** The first write; it must be on disk before anything is changed. */
  async save(): Promise<void> {
    try {
      await writeFileAtomic(join(this.twinDir, APPLY_RECORD), JSON.stringify(this.record, null, 1) + '\n', { mode: 0o600 })
    } catch (error) {
      throw diskError(error, this.twinDir)
    }
  }

  started(id: string): void {
    this.record.started.push(id)
    this.schedule()
  }

  finished(id: string, status: string): void {
    this.record.done[id] = status
    this.schedule()
  }

  setCheckpoint(commit: string | null): Promise<void> {
    this.record.checkpoint ??= commit
    return this.save()
  }

  /** Wait for pending writes (before the apply's own snapshot). */
  async flush(): Promise<void> {
    await this.writing
    if (this.dirty) {
      this.dirty = false
      await this.save()
    }
  }

  private schedule(): void {
    if (this.dirty) return
    this.dirty = true
    this.writing = this.writing.then(async () => {
      if (!this.dirty) return
      this.dirty = false
      // Progress is a help for the report, not what resuming depends on: a failed write is not fatal.
      await this.save().catch(() => undefined)
    })
  }
}

/** The target paths a change writes, as far as its data says (files: `path`). */
export function pathsOf(change: Change): string[] {
  const data = change.data as Record<string, unknown> | undefined
  const out: string[] = []
  for (const key of ['path', 'target']) {
    const value = data?.[key]
    if (typeof value === 'string' && value.startsWith('/') && key === 'path') out.push(value)
  }
  return out
}

/** The one name every temporary file of TwinSync carries: `.<name>.twinsync-<hex>` (or `-check-<hex>`). */
export const TEMP_FILE = /^\..+\.twinsync-(?:check-)?[0-9a-f]{12}$/

/**
 * Remove temporary files an interrupted apply may have left beside the files it was writing,
 * and in the target's /tmp (script copies). Returns the target paths removed.
 */
export async function sweepTargetTempFiles(host: HostPort, record: ApplyInProgress): Promise<string[]> {
  const dirs = new Set<string>(['/tmp'])
  for (const change of record.changes) {
    for (const path of change.paths) {
      const dir = path.slice(0, path.lastIndexOf('/')) || '/'
      dirs.add(dir)
    }
  }
  const removed: string[] = []
  for (const dir of [...dirs].sort()) {
    let entries
    try {
      entries = await host.readdir(dir)
    } catch {
      continue // gone, or not a directory any more
    }
    for (const entry of entries) {
      const isTemp = TEMP_FILE.test(entry.name) || (dir === '/tmp' && /^twinsync-script-[0-9a-f]{12}$/.test(entry.name))
      if (!isTemp) continue
      const path = `${dir === '/' ? '' : dir}/${entry.name}`
      const info = await host.lstat(path).catch(() => undefined)
      if (info === undefined || info.type !== 'file') continue
      await host.remove(path)
      removed.push(path)
    }
  }
  return removed
}

/**
 * A plan with nothing left to change that still ends an interrupted apply (every step was in
 * place): applying it takes the snapshot after the apply and removes the record. Both front
 * ends offer it instead of "no changes".
 */
export function finishesInterruptedApply(plan: Pick<Plan, 'changes' | 'diagnostics'>): boolean {
  return plan.changes.length === 0 && plan.diagnostics.some((d) => d.code === 'APPLY_INTERRUPTED')
}

/** One line for plan, status and apply: what was interrupted and the two ways on. */
export function interruptedNotice(record: ApplyInProgress): string {
  const total = record.changes.length
  const done = Object.keys(record.done).length
  const back = record.checkpoint === null ? '' : `, or \`twinsync revert ${record.checkpoint.slice(0, 12)}\` to go back to the machine as it was`
  return `An ${record.kind === 'revert' ? 'revert' : 'apply'} started ${record.startedAt} was interrupted (${done} of ${total} steps finished). Planning toward the state it was applying (${record.intended.slice(0, 12)}): run \`twinsync apply\` to finish it${back}.`
}

/**
 * A run while an apply is interrupted must continue it (the plan heads for the same state) or
 * go back deliberately (a revert); any other plan would mix two intentions.
 */
export function refuseUnlessContinuing(record: ApplyInProgress, options: { plan: Plan; revertTo?: string }): void {
  if (options.revertTo !== undefined || options.plan.basis.twinCommit === record.intended) return
  throw new TwinSyncError('APPLY_INTERRUPTED', interruptedNotice(record).replace('Planning toward', 'This plan is not toward'), {
    nextStep: `Run \`twinsync apply\` (without a plan file or --from) to finish the interrupted apply${record.checkpoint === null ? '' : `, or \`twinsync revert ${record.checkpoint.slice(0, 12)}\` to go back`}.`,
    details: { intended: record.intended, checkpoint: record.checkpoint },
  })
}

/**
 * Instructions (commands) that finished before the interruption are not run again: the record
 * of run-once commands is written only with the snapshot after the apply, which never came.
 */
export function doneBeforeInterruption(record: ApplyInProgress, plan: Plan): Change[] {
  return plan.changes.filter((c) => isCommand(c) && record.done[c.id] === 'applied')
}
