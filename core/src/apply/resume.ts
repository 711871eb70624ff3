import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { open, rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { Change, HostPort, Plan } from '@twinsync/sdk'
import { TwinSyncError, writeFileAtomic } from '@twinsync/sdk/light'
import { diskError } from '../twin/disk-error.js'
import { isCommand } from '../plan/commands-domain.js'
import { twinsyncLine, type CommandTarget } from '../plan/command-text.js'

/**
 * What an apply under way intends, written (atomically) before it changes anything and kept
 * until it has run to its end. After a crash or a kill it tells the next run that an apply was
 * interrupted, which state it was heading for, and which steps were done: `plan` and `status`
 * plan toward that state, `apply` continues toward it, `revert` goes back deliberately. Without
 * it, the checkpoint (the machine as it was) would look like the desired state and the next
 * apply would undo the half-finished one.
 *
 * Two files (version 2, session 39): this one (`APPLY_RECORD`), written whole and atomically
 * before the checkpoint and again with it, and the progress since then appended to
 * `APPLY_PROGRESS`, one line a step's start or end (ApplyRecorder). Version 1 rewrote this file
 * whole after every step: quadratic in the steps (7–10 s of CPU in an apply of 30,000 creates).
 */
export interface ApplyInProgress {
  /** 2: `started` and `done` here are those up to this file's write, the rest in the progress log `log` names; 1 (before session 39): all of them here. */
  version: 1 | 2
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
  /**
   * Version 2: the progress log's generation (random), its first line: a log that does not begin
   * with it is one this write replaced (a kill between the two files' writes), and counts for nothing.
   */
  log?: string
}

export const APPLY_RECORD = join('.git', 'twinsync', 'apply-in-progress.json')
/** The steps' starts and ends after APPLY_RECORD's last write, a JSON array a line (progressLine). */
export const APPLY_PROGRESS = join('.git', 'twinsync', 'apply-in-progress.log')

type ProgressLine = ['log', string] | ['started', string] | ['done', string, string]

/** One line of the progress log: `["log","<generation>"]`, `["started","<id>"]` or `["done","<id>","<status>"]`. */
export function progressLine(line: ProgressLine): string {
  return JSON.stringify(line) + '\n'
}

/**
 * The record with the progress its log holds: the lines after the first, which must name the
 * record's generation, up to the first that is cut short (no line end: a write a kill or a full
 * disk interrupted) or not a progress line. A log of another generation, or none, adds nothing.
 */
export function withProgress(record: ApplyInProgress, logText: string | undefined): ApplyInProgress {
  if (record.version !== 2 || logText === undefined) return record
  const lines = logText.split('\n')
  lines.pop() // after the last line end: empty, or a line cut short
  if (lines[0] !== JSON.stringify(['log', record.log])) return record
  for (const text of lines.slice(1)) {
    let line: unknown
    try {
      line = JSON.parse(text)
    } catch {
      break
    }
    if (!Array.isArray(line) || !line.every((x): x is string => typeof x === 'string')) break
    const [what, id, status] = line as string[]
    if (what === 'started' && id !== undefined && line.length === 2) record.started.push(id)
    else if (what === 'done' && id !== undefined && status !== undefined && line.length === 3) record.done[id] = status
    else break
  }
  return record
}

function readOptional(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
}

export async function readApplyRecord(twinDir: string, target: CommandTarget): Promise<ApplyInProgress | undefined> {
  const text = readOptional(join(twinDir, APPLY_RECORD))
  if (text === undefined) return undefined
  try {
    const value = JSON.parse(text) as ApplyInProgress
    const shaped = typeof value.intended === 'string' && Array.isArray(value.changes) && Array.isArray(value.providers)
    if (value.version === 1 && shaped) return value
    if (value.version === 2 && shaped && typeof value.log === 'string' && Array.isArray(value.started) && typeof value.done === 'object' && value.done !== null) {
      return withProgress(value, readOptional(join(twinDir, APPLY_PROGRESS)))
    }
  } catch {
    // fall through: not something this version wrote
  }
  throw new TwinSyncError('REPO_INVALID', `The record of an interrupted apply (${join(twinDir, APPLY_RECORD)}) cannot be read`, {
    nextStep: `Look at it, then remove it (\`rm ${join(twinDir, APPLY_RECORD)}\`) and run \`${twinsyncLine(['plan'], target)}\` to see where the machine stands.`,
    details: { path: join(twinDir, APPLY_RECORD) },
  })
}

/** The record first (without it the log counts for nothing), then its progress log. */
export async function clearApplyRecord(twinDir: string): Promise<void> {
  await rm(join(twinDir, APPLY_RECORD), { force: true })
  await rm(join(twinDir, APPLY_PROGRESS), { force: true })
}

/**
 * Keeps the record on disk as steps start and end. `save` writes the record whole (atomically,
 * synced) and begins a new progress log; each start and end after it is one line appended to
 * that log. Appends are one at a time, each synced (fdatasync) as each whole write of version 1
 * was; while one is under way, later lines wait for the next. So a step costs one line, not the
 * whole record (version 1: a 30,000-change record of some 4.5 MB stringified and written again
 * after every few steps).
 */
export class ApplyRecorder {
  private writing: Promise<void> = Promise.resolve()
  private scheduled = false
  /** Progress lines not on disk yet (an append that failed leaves its lines here for the next). */
  private lines: string[] = []
  /** How long the log is up to its last line written and synced: the next append writes there (over what a failed one may have left). */
  private logSize = 0

  constructor(
    private readonly twinDir: string,
    readonly record: ApplyInProgress,
  ) {}

  /** The record whole, then a new progress log; the first write must be on disk before anything is changed. */
  async save(): Promise<void> {
    const done = this.writing.then(() => this.writeRecord())
    this.writing = done.catch(() => undefined)
    await done
  }

  private async writeRecord(): Promise<void> {
    const generation = randomBytes(8).toString('hex')
    const first = progressLine(['log', generation])
    this.record.version = 2
    this.record.log = generation
    // The lines waiting so far are in the record: they go when it is written.
    const covered = this.lines.length
    try {
      await writeFileAtomic(join(this.twinDir, APPLY_RECORD), JSON.stringify(this.record, null, 1) + '\n', { mode: 0o600 })
      await writeFileAtomic(join(this.twinDir, APPLY_PROGRESS), first, { mode: 0o600 })
    } catch (error) {
      throw diskError(error, this.twinDir)
    }
    this.lines.splice(0, covered)
    this.logSize = Buffer.byteLength(first)
  }

  started(id: string): void {
    this.record.started.push(id)
    this.lines.push(progressLine(['started', id]))
    this.schedule()
  }

  finished(id: string, status: string): void {
    this.record.done[id] = status
    this.lines.push(progressLine(['done', id, status]))
    this.schedule()
  }

  setCheckpoint(commit: string | null): Promise<void> {
    this.record.checkpoint ??= commit
    return this.save()
  }

  /** Wait for pending writes and write what is left (before the apply's own snapshot); a failure here is the apply's. */
  async flush(): Promise<void> {
    const done = this.writing.then(() => this.append())
    this.writing = done.catch(() => undefined)
    try {
      await done
    } catch (error) {
      throw diskError(error, this.twinDir)
    }
  }

  private schedule(): void {
    if (this.scheduled) return
    this.scheduled = true
    this.writing = this.writing.then(async () => {
      this.scheduled = false
      // Progress is a help for the report, not what resuming depends on: a failed write is not fatal.
      await this.append().catch(() => undefined)
    })
  }

  /**
   * The lines waiting, written at the end of the last synced line and synced. The log is opened
   * for each append (a batch of lines): nothing stays open, and an open for writing is a step of
   * the in-process kill (core/test/support/kill-points.ts), after which nothing more is written.
   */
  private async append(): Promise<void> {
    const count = this.lines.length
    if (count === 0) return
    const bytes = Buffer.from(this.lines.join(''))
    const log = await open(join(this.twinDir, APPLY_PROGRESS), 'r+')
    try {
      for (let at = 0; at < bytes.length; ) {
        const { bytesWritten } = await log.write(bytes, at, bytes.length - at, this.logSize + at)
        if (bytesWritten === 0) throw new Error(`nothing written to ${APPLY_PROGRESS}`)
        at += bytesWritten
      }
      await log.datasync()
    } finally {
      await log.close()
    }
    this.logSize += bytes.length
    this.lines.splice(0, count)
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
 * place), or settles configuration an earlier apply left unjudged or not put back
 * (CONFIG_UNJUDGED, PendingChecks.finish): applying it does that, takes the snapshot after the
 * apply and removes the record. Both front ends offer it instead of "no changes" (session 45: a
 * rejected file that could not be put back is live, so the plan is empty, and "no changes" never
 * reached the apply that puts it back).
 */
export function finishesInterruptedApply(plan: Pick<Plan, 'changes' | 'diagnostics'>): boolean {
  return plan.changes.length === 0 && plan.diagnostics.some((d) => d.code === 'APPLY_INTERRUPTED' || d.code === 'CONFIG_UNJUDGED')
}

/** One line for plan, status and apply: what was interrupted and the two ways on. */
export function interruptedNotice(record: ApplyInProgress, target: CommandTarget): string {
  const total = record.changes.length
  const done = Object.keys(record.done).length
  const back = record.checkpoint === null ? '' : `, or \`${twinsyncLine(['revert', record.checkpoint.slice(0, 12)], target)}\` to go back to the machine as it was`
  return `An ${record.kind === 'revert' ? 'revert' : 'apply'} started ${record.startedAt} was interrupted (${done} of ${total} steps finished). Planning toward the state it was applying (${record.intended.slice(0, 12)}): run \`${twinsyncLine(['apply'], target)}\` to finish it${back}.`
}

/**
 * A run while an apply is interrupted must continue it (the plan heads for the same state) or
 * go back deliberately (a revert); any other plan would mix two intentions.
 */
export function refuseUnlessContinuing(record: ApplyInProgress, options: { plan: Plan; revertTo?: string }, target: CommandTarget): void {
  if (options.revertTo !== undefined || options.plan.basis.twinCommit === record.intended) return
  throw new TwinSyncError('APPLY_INTERRUPTED', interruptedNotice(record, target).replace('Planning toward', 'This plan is not toward'), {
    nextStep: `Run \`${twinsyncLine(['apply'], target)}\` (without a plan file or --from) to finish the interrupted apply${record.checkpoint === null ? '' : `, or \`${twinsyncLine(['revert', record.checkpoint.slice(0, 12)], target)}\` to go back`}.`,
    details: { intended: record.intended, checkpoint: record.checkpoint },
  })
}

/**
 * `forget` and `gc --squash-volatile-older-than` write history again and prune the commits they
 * replace, and an interrupted apply's record names two of them by id (the state it heads for, the
 * checkpoint), in a file no rewrite moves. Session 44 (attack): an apply killed half way, then
 * `forget /etc/app.conf` (or gc's fold): every later `plan`, `status` and `apply` failed with
 * GIT_FAILED "fatal: not a tree object" (the commit the record names pruned), the apply could
 * neither be finished nor reverted (its checkpoint gone too), and only removing the record by hand
 * went on. Refused while the record is there (APPLY_INTERRUPTED, exit 2, nothing changed): finish
 * the apply or revert to its checkpoint first, which takes one command and clears the record.
 */
export async function refuseRewriteWhileInterrupted(twinDir: string, target: CommandTarget, command: readonly string[]): Promise<void> {
  const record = await readApplyRecord(twinDir, target)
  if (record === undefined) return
  const kind = record.kind === 'revert' ? 'A revert' : 'An apply'
  throw new TwinSyncError('APPLY_INTERRUPTED', `${kind} started ${record.startedAt} was interrupted, and ${command[0]} rewrites the history its record names (${record.intended.slice(0, 12)}${record.checkpoint === null ? '' : `, checkpoint ${record.checkpoint.slice(0, 12)}`}); nothing was changed`, {
    nextStep: `Finish it with \`${twinsyncLine(['apply'], target)}\`${record.checkpoint === null ? '' : ` or go back with \`${twinsyncLine(['revert', record.checkpoint.slice(0, 12)], target)}\``}, then run \`${twinsyncLine(command, target)}\` again.`,
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
