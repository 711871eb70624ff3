import { AsyncLocalStorage } from 'node:async_hooks'
import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { closeSync, linkSync, mkdirSync, openSync, readFileSync, readlinkSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { basename, dirname, join } from 'node:path'
import { TwinSyncError, processStartTime, quoteArg } from '@twinsync/sdk/light'
import { bootJournal, type JournalEntry } from './boot-journal.js'
import { diskError } from './disk-error.js'
import { sha256 } from '../sha256.js'

/** Who holds the lock: enough to tell a live holder from a dead one whose pid was reused. */
export interface LockHolder {
  pid: number
  /** Field 22 of /proc/PID/stat: the process's start time in clock ticks since boot. */
  startTime: string | null
  bootId: string | null
  host: string
  /** This machine as a hash of /etc/machine-id (lockMachine): a renamed machine is still this one. Null in older locks. */
  machine?: string | null
  /** The pid namespace the holder's pid is in (pidNamespace): a container on this kernel shares its boot id, not its pids. Null in older locks. */
  pidNs?: string | null
  purpose: string
  since: string
}

/** Lock paths held by the caller of `hold`, for the code it runs: taking one of them again nests. */
const holding = new AsyncLocalStorage<ReadonlySet<string>>()

/** A lock file that cannot be read whole is left alone this long (it may be an old TwinSync's O_EXCL lock being written). */
const UNREADABLE_GRACE_MS = 10_000

/**
 * How long a reader waits for the run holding the twin (holdForReading), in ms: a test sets a
 * shorter one. Session 53 (CI of session 52): `plan` right after `schedule enable --every 3s`
 * met the timer's first snapshot holding the twin (its person's edits set aside, its files being
 * moved) and failed with LOCK_HELD; a plan in a loop beside snapshots in a loop on the small CLI
 * root failed 1 time in 17, for runs that end in a second. 15 s: a scheduled snapshot of an
 * unchanged machine ends in about a second; one that commits on a large or loaded machine (the
 * scale root: 5,000 packages, 20,000 files under /etc) in a few. A holder past that is a long
 * run (an apply takes minutes), and a reader silent longer looks hung: LOCK_HELD as before,
 * saying how long it waited.
 */
export const readerWait: { ms: number; said?: ((holder: LockHolder) => void) | undefined } = { ms: 15_000 }

/**
 * How long a reader waits before it says so (readerWait.said: the CLI's one line on stderr; the
 * panel sets none), in ms. Session 54: a plan waiting for a snapshot said nothing for up to 15 s,
 * twice (a plan that read while one moved the twin waits again, TwinRepository.readSteadily).
 */
const SAY_WAITING_MS = 1_000

/**
 * One snapshot or apply at a time per twin. The lock file is written complete in one step (a
 * temp file, then link(), which fails when the lock exists), so nobody ever sees a lock without
 * its holder. It names pid, process start time and boot: a lock whose process is gone, or whose
 * pid now belongs to another process, is stale and taken over; a live holder gets LOCK_HELD.
 * Code run by `hold` may take it again (apply plans, then applies, under one lock); nothing
 * else in the same process can.
 */
export class TwinLock {
  private held = false

  constructor(private readonly path: string) {}

  /** Take the lock, run `fn` (which may take this lock again without waiting), release it. `wait`: holdForReading's. */
  async hold<T>(purpose: string, fn: () => Promise<T>, wait?: { signal?: AbortSignal | undefined }): Promise<T> {
    await this.acquire(purpose, wait)
    try {
      return await holding.run(new Set([...(holding.getStore() ?? []), this.path]), fn)
    } finally {
      await this.release()
    }
  }

  /**
   * Take the lock, run `fn`, release it; `fn` does not take this lock again (nothing in the
   * process can while it runs: another `acquire` or `hold` gets LOCK_HELD). Inside a `hold` of
   * the same lock it nests as any acquire does.
   *
   * Speed: no AsyncLocalStorage. On Node 20 the first `run` of one turns on async hooks for
   * the rest of the process, and every promise made after that pays for them: an unchanged
   * snapshot of the services root (a promise per provider step, per unit, per file read) took
   * 343 ms of CPU with `hold`, 313 ms with this (medians of 11 interleaved runs, load 0.8–1.2);
   * with the commands and the SDK as CommonJS from the code cache, 343 → 296 ms (medians of 15,
   * load 7.4).
   */
  async holdAlone<T>(purpose: string, fn: () => Promise<T>): Promise<T> {
    await this.acquire(purpose)
    try {
      return await fn()
    } finally {
      await this.release()
    }
  }

  /**
   * `hold` for a reader (`plan`, `status`, the panel's views) that takes the lock only to settle
   * or put back what a run in progress holds (a snapshot's move, the edits it set aside): a live
   * holder, or a lock being written, is waited for (polled every few ms, growing to 100 ms) up to
   * readerWait, then LOCK_HELD saying how long it waited. `signal` (the panel's Esc, its closing)
   * ends the wait: ABORTED. A stale lock is taken over at once, as by `hold`. The commands that
   * change the twin (snapshot, apply, adopt, discard, gc, forget, pull, label) never wait: they
   * take it with `hold`, `holdAlone` or `acquire`, and a live holder is LOCK_HELD at once.
   */
  async holdForReading<T>(purpose: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    return this.hold(purpose, fn, { signal })
  }

  /** Take the lock; `wait` (holdForReading only): wait for a live holder, bounded by readerWait. */
  async acquire(purpose: string, wait?: { signal?: AbortSignal | undefined }): Promise<void> {
    if (holding.getStore()?.has(this.path) === true) return
    // Speed (issue 22): synchronous calls, the same steps in the same order; awaited one by one
    // through libuv's thread pool they were seven round trips on every snapshot's path. With the
    // other small checks made so (the twin's place, settling, the draft, opening the twin, the
    // records), an unchanged snapshot of the services root makes 22 such round trips instead of
    // 97 (all left are oclif's); each costs a thread hand-off twice, most on a loaded machine.
    const me: LockHolder = { ...runIdentity(), purpose, since: new Date().toISOString() }
    mkdirSync(dirname(this.path), { recursive: true })
    const temp = lockTempName(this.path)
    // Not fsynced: the lock speaks for a process of this boot only. Other processes read it from
    // the page cache, whole; after a crash it may be empty or gone, and an unreadable lock older
    // than UNREADABLE_GRACE_MS is stale (one that survives names another boot: stale too).
    // Speed (issue 22): the fsync forced a journal commit in every snapshot, `apply` and
    // `remote` run, an unchanged one included (about 1 ms of this disk's wall, more on a busy
    // or rotating one).
    try {
      const fd = openSync(temp, 'wx', 0o600)
      try {
        writeFileSync(fd, JSON.stringify(me) + '\n')
      } finally {
        closeSync(fd)
      }
    } catch (error) {
      unlinkQuietly(temp)
      throw diskError(error, dirname(dirname(dirname(this.path))))
    }
    try {
      // The reader's bound on the monotonic clock (session 55, review L2 of s54): a wall clock
      // stepped back meanwhile (NTP's first sync at boot) made it wait the size of the step, and
      // one stepped forward gave up at once. The lock's `since` and the unreadable grace are wall-clock.
      // Read only by a reader (`wait`): Node sets up `performance` on its first use, and a writer's
      // take (every snapshot's) never waits (the minbase unchanged snapshot: 398.8 -> 401.7 M
      // instructions with it read at every take, bench:compare, 3 like pairs).
      const began = wait === undefined ? 0 : performance.now()
      let pause = 5
      let said = false
      for (let attempt = 0; attempt < 3; ) {
        try {
          linkSync(temp, this.path)
          this.held = true
          return
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
        }
        const found = await this.inspect()
        if (found.state === 'live' || found.state === 'young-unreadable') {
          // A reader waits for the run (holdForReading); a held lock is no failed attempt.
          const left = wait === undefined ? 0 : began + readerWait.ms - performance.now()
          if (left > 0) {
            // Said once, after a second: who it waits for (readerWait.said), never on stdout.
            if (!said && found.state === 'live' && performance.now() - began >= SAY_WAITING_MS) {
              said = true
              readerWait.said?.(found.holder)
            }
            await pauseFor(Math.min(pause, left), wait?.signal)
            pause = Math.min(pause * 2, 100)
            continue
          }
          const refused =
            found.state === 'live'
              ? lockHeld(this.path, found.holder)
              : new TwinSyncError('LOCK_HELD', `The twin lock ${this.path} is being written by another TwinSync run`, {
                  nextStep: 'Wait a few seconds, then run the command again.',
                  details: { lock: this.path },
                })
          throw wait === undefined ? refused : afterWaiting(refused, Math.round(performance.now() - began))
        }
        if (found.state === 'stale' && this.takeOverStale(found, temp)) {
          this.held = true
          return
        }
        attempt++
      }
      throw new TwinSyncError('LOCK_HELD', `Could not take the twin lock ${this.path}: other runs keep taking it`, {
        nextStep: 'Wait for the other TwinSync runs to finish, then run the command again.',
        details: { lock: this.path },
      })
    } finally {
      unlinkQuietly(temp)
    }
  }

  async release(): Promise<void> {
    if (!this.held) return
    this.held = false
    unlinkQuietly(this.path)
  }

  /**
   * A reader's wait for a run moving the working twin (`mover`: move-stamp.ts's moveUnderWay),
   * as holdForReading waits for the lock, but on the move alone: polled every few ms, growing to
   * 100 ms, up to readerWait (then LOCK_HELD naming the run and how long it waited), said once
   * after a second (readerWait.said), ended by `signal` (ABORTED). A holder that moves nothing
   * (an apply at its prompt, a `gc`, another host's lock) is never waited for here.
   */
  async waitWhileMoving(mover: () => Promise<LockHolder | 'unreadable' | undefined>, signal?: AbortSignal): Promise<void> {
    const began = performance.now()
    let pause = 5
    let said = false
    for (let found = await mover(); found !== undefined; found = await mover()) {
      const waited = performance.now() - began
      if (waited >= readerWait.ms) throw afterWaiting(found === 'unreadable' ? unreadableMover(this.path) : lockHeld(this.path, found), Math.round(waited))
      if (!said && found !== 'unreadable' && waited >= SAY_WAITING_MS) {
        said = true
        readerWait.said?.(found)
      }
      await pauseFor(Math.min(pause, readerWait.ms - waited), signal)
      pause = Math.min(pause * 2, 100)
    }
  }

  /** Whether code running now in this process holds this lock (inside `hold` of it): nothing else can take it meanwhile. */
  heldHere(): boolean {
    return holding.getStore()?.has(this.path) === true
  }

  /**
   * Who holds the lock now, synchronously: its live holder; `unreadable` when a lock is there
   * this user cannot read (another user's, 0600); undefined otherwise (none, or a stale one).
   * For a reader's look (move-stamp.ts's moveUnderWay).
   */
  holderNow(): LockHolder | 'unreadable' | undefined {
    let now: ReturnType<typeof readLockNow>
    try {
      now = readLockNow(this.path)
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'EACCES' ? 'unreadable' : undefined
    }
    const holder = now === undefined ? undefined : parseLock(now.text)
    return holder !== undefined && isHolderAlive(holder) ? holder : undefined
  }

  /** Who holds the lock now, if anyone alive does (for `status` and error messages). */
  async holder(): Promise<LockHolder | undefined> {
    const found = await this.inspect().catch(() => undefined)
    return found?.state === 'live' ? found.holder : undefined
  }

  /**
   * Speed (issue 22, session 40): synchronous calls (readLockNow), no error made for a lock that
   * is not there. Every snapshot asks for the machine lock's holder before and after its collect
   * (machine-lock.ts's watchForApplies), and fs/promises' stat and readFile loaded Node's
   * fs/promises (with its readline, watchers and dir modules) and made an ENOENT error twice. An
   * unchanged snapshot of the services root (callgrind, node only): 457.1 -> 452.7 M instructions.
   */
  private async inspect(): Promise<
    | { state: 'live'; holder: LockHolder; ino: number }
    | { state: 'stale' | 'young-unreadable'; ino: number; text: string }
    | { state: 'gone'; ino: -1 }
  > {
    const now = readLockNow(this.path)
    if (now === undefined) return { state: 'gone', ino: -1 }
    const holder = parseLock(now.text)
    if (holder === undefined) {
      return { state: Date.now() - now.mtimeMs < UNREADABLE_GRACE_MS ? 'young-unreadable' : 'stale', ino: now.ino, text: now.text }
    }
    return isHolderAlive(holder) ? { state: 'live', holder, ino: now.ino } : { state: 'stale', ino: now.ino, text: now.text }
  }

  /**
   * Take over the stale lock `found` with our own record `temp`, atomically: rename() puts ours
   * in its place, so the lock's name is never missing while a run takes it over, and nobody can
   * link a fresh lock in between. Takers-over of one lock go one at a time, through a token
   * (`lock.breaking`, linked from our record: it names us, as the lock does): under it, the lock
   * is read again and replaced only if it is still the same stale record. False: it changed
   * (taken or released meanwhile), look again. LOCK_HELD: another run is taking it over now.
   *
   * Before session 37 a stale lock was renamed aside and put back if another run had replaced it
   * in the meantime; between the two, the name was free and a third run linked its lock there,
   * then the put-back failed and the aside copy, the second run's live lock, was removed: two
   * runs held the lock (6 takers over a stale lock in one process: 11 trials of 300 had two
   * winners; seen first in a suite run as three groups, core/test/twin-repository.test.ts).
   */
  private takeOverStale(found: { ino: number; text: string }, temp: string): boolean {
    const token = `${this.path}.breaking`
    this.takeToken(token, temp)
    try {
      const now = readLockNow(this.path)
      if (now === undefined || now.ino !== found.ino || now.text !== found.text) return false
      renameSync(temp, this.path)
      return true
    } finally {
      unlinkQuietly(token)
    }
  }

  /**
   * Link our record to the take-over token; a token whose run is gone (killed while taking
   * over) is removed first. Its record is complete (a link of a record written whole), so one
   * that cannot be read is another program's file: left alone for UNREADABLE_GRACE_MS, as a lock is.
   */
  private takeToken(token: string, temp: string): void {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        linkSync(temp, token)
        return
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      }
      const seen = readLockNow(token)
      if (seen === undefined) continue
      const holder = parseLock(seen.text)
      const gone = holder === undefined ? Date.now() - seen.mtimeMs >= UNREADABLE_GRACE_MS : !isHolderAlive(holder)
      if (!gone) {
        throw new TwinSyncError('LOCK_HELD', `Another TwinSync run is taking over the stale twin lock ${this.path}`, {
          nextStep: 'Wait a few seconds, then run the command again.',
          details: { lock: this.path },
        })
      }
      // Removed only if it is still the token judged gone (a run killed inside these few calls
      // and two others at once could still meet here; the lock itself is read again under it).
      const again = readLockNow(token)
      if (again !== undefined && again.ino === seen.ino && again.text === seen.text) unlinkQuietly(token)
    }
    throw new TwinSyncError('LOCK_HELD', `Could not take the twin lock ${this.path}: other runs keep taking it`, {
      nextStep: 'Wait for the other TwinSync runs to finish, then run the command again.',
      details: { lock: this.path },
    })
  }
}

/**
 * A lock file's inode, time and text now; undefined when it is not there. Synchronous, and no
 * error made for a lock that is not there (the usual case of `holder()`): see `inspect`.
 */
function readLockNow(path: string): { ino: number; mtimeMs: number; text: string } | undefined {
  try {
    const info = statSync(path, { throwIfNoEntry: false })
    if (info === undefined) return undefined
    return { ino: info.ino, mtimeMs: info.mtimeMs, text: readFileSync(path, 'utf8') }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
}

/**
 * Whether a lock's temp file (written whole, then linked to the lock) belongs to a run that is
 * gone: it names its holder, so one whose process died (a kill while taking the lock) is a
 * leftover at any age. Unreadable or live: not known to be gone.
 */
export async function lockTempOfDeadRun(path: string): Promise<boolean> {
  const text = await readFile(path, 'utf8').catch(() => undefined)
  const holder = text === undefined ? undefined : parseLock(text)
  if (holder !== undefined) return !isHolderAlive(holder)
  // Empty or half written (killed between creating it and writing it): its name says whose it is.
  return tempOfDeadRun(basename(path))
}

/**
 * Whether a temp file named by its run (`….<pid>-<boot 8 hex>.twinsync-<12 hex>`, lockTempName)
 * belongs to a run of this boot that is gone. Another boot's (maybe another machine's, sharing
 * the twin), a live pid's, or one named otherwise: not known to be gone.
 */
export function tempOfDeadRun(name: string): boolean {
  const named = /\.(\d+)-([0-9a-f]{8})\.twinsync-[0-9a-f]{12}$/.exec(name)
  if (named === null || named[2] !== bootTag()) return false
  try {
    process.kill(Number(named[1]), 0)
    return false
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH'
  }
}

/**
 * The lock's temp file, named `.lock.<pid>-<first 8 hex of the boot id>.twinsync-<12 hex>`, so that one left empty by a
 * run killed between creating and writing it is known as a dead run's at once (chaos: a
 * snapshot killed there left one that reruns kept for the 60 s given to a run still writing
 * it). Without a boot id, nothing: such a file waits out the 60 s.
 */
/** The first 8 hex digits of this boot's id, as lock temp files are named; undefined without one. */
function bootTag(): string | undefined {
  const tag = bootId()?.replace(/-/g, '').slice(0, 8)
  return tag !== undefined && /^[0-9a-f]{8}$/.test(tag) ? tag : undefined
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path)
  } catch {
    // gone already, or not ours to remove: as before
  }
}

export function lockTempName(lock: string): string {
  const boot = bootTag()
  const owner = boot === undefined ? '' : `${process.pid}-${boot}.`
  return join(dirname(lock), `.${basename(lock)}.${owner}twinsync-${randomBytes(6).toString('hex')}`)
}

/** Wait `ms`, or until `signal` aborts: ABORTED (the panel's cancel of a reader waiting for the twin lock). */
function pauseFor(ms: number, signal: AbortSignal | undefined): Promise<void> {
  const cancelled = () => new TwinSyncError('ABORTED', 'Cancelled while waiting for another TwinSync run to finish with the twin; nothing was changed')
  if (signal?.aborted === true) return Promise.reject(cancelled())
  return new Promise((resolve, reject) => {
    const stop = () => {
      clearTimeout(timer)
      reject(cancelled())
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', stop)
      resolve()
    }, ms)
    signal?.addEventListener('abort', stop, { once: true })
  })
}

/** What a reader waiting for `holder` says once (readerWait.said): the run, its pid, how long at most. */
export function waitingLine(holder: LockHolder): string {
  return `Waiting for another TwinSync ${holder.purpose} (pid ${holder.pid}${judgedHere(holder) ? '' : ` on ${holder.host}`}, since ${holder.since}) to finish with the twin, up to ${Math.round(readerWait.ms / 1000)} s`
}

/** LOCK_HELD for a reader that waited `ms` for the holder (holdForReading): said, in words and in its details. */
function afterWaiting(error: TwinSyncError, ms: number): TwinSyncError {
  return new TwinSyncError(error.code, `${error.message}; waited ${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s for it to finish`, {
    ...(error.nextStep === undefined ? {} : { nextStep: error.nextStep }),
    details: { ...error.details, waitedMs: ms },
  })
}

/**
 * LOCK_HELD for a move under way by a run whose lock or move stamp this user cannot read (another
 * user's: root's 0600 files beside a person's panel): no pid to name (the review of session 55, R9:
 * it was said as "pid 0").
 */
function unreadableMover(path: string): TwinSyncError {
  return new TwinSyncError('LOCK_HELD', `Another user's TwinSync run is moving this twin (its lock ${path} cannot be read by this user)`, {
    nextStep: `Wait for it to finish, then run the command again; \`ls -l ${quoteArg(path)}\` names the lock's owner.`,
    details: { lock: path },
  })
}

export function lockHeld(path: string, holder: LockHolder): TwinSyncError {
  // A holder whose process cannot be looked up from here (judgedHere) is never guessed dead: said as such, with the way out when it is gone.
  const later = isThisBoot(holder) || !namesThisMachine(holder) ? undefined : laterThanThisBoot(holder)
  if (later !== undefined) {
    // Session 49: not decidable from here; what is known is said, with both ways out.
    const last = later.last
    const journal =
      last === undefined
        ? "this machine's journal has no entry of that boot"
        : `this machine's journal has that boot, its last entry at ${new Date(last.ms).toISOString()}, ${Date.parse(holder.since) > last.ms ? 'before the lock was taken' : "neither that boot's journal stopping nor before this boot's first entry (a journal folder clones share holds running boots)"}`
    return new TwinSyncError('LOCK_HELD', `Another TwinSync ${holder.purpose} (pid ${holder.pid} there, since ${holder.since}) is using this twin from a machine with this machine's id or host name, of another boot: a clone of this one, or this machine's own run before a restart if its clock was behind when this boot began (the lock was taken after ${new Date(later.booted).toISOString()}, this boot's start by the clock now; ${journal})`, {
      nextStep: `If a clone of this machine is running it, wait for it to finish there, then run the command again; if no run is left there, or no clone uses this twin (this machine's clock was behind: no battery-backed clock, after a power cut), remove the lock: \`rm ${quoteArg(path)}\`. Clones that share a twin need machine ids of their own (machine-id(5)).`,
      details: { lock: path, holder },
    })
  }
  if (!isThisBoot(holder) && holder.host === hostname() && !namesThisMachine(holder)) {
    return new TwinSyncError('LOCK_HELD', `Another TwinSync ${holder.purpose} on another machine named ${holder.host}, as this one is (its machine id is not this machine's; pid ${holder.pid} there, since ${holder.since}), is using this twin`, {
      nextStep: `Wait for it to finish on that machine, then run the command again; if no run is left there (that machine is gone, or this machine's /etc/machine-id was made anew after its run was killed), remove the lock: \`rm ${quoteArg(path)}\`.`,
      details: { lock: path, holder },
    })
  }
  if (!judgedHere(holder)) {
    return new TwinSyncError('LOCK_HELD', `Another TwinSync ${holder.purpose} on host ${holder.host} (pid ${holder.pid} there, since ${holder.since}) is using this twin`, {
      nextStep: `Wait for it to finish on ${holder.host}, then run the command again; if no run is left there (that machine is gone, or is this one renamed before its run was killed), remove the lock: \`rm ${quoteArg(path)}\`.`,
      details: { lock: path, holder },
    })
  }
  return new TwinSyncError('LOCK_HELD', `Another TwinSync ${holder.purpose} (pid ${holder.pid}, since ${holder.since}) is using this twin`, {
    nextStep: `Wait for process ${holder.pid} to finish (\`ps -p ${holder.pid}\`), then run the command again.`,
    details: { lock: path, holder },
  })
}

/** The lock's content; also reads the "PID PURPOSE" lock of earlier TwinSync versions. */
export function parseLock(text: string): LockHolder | undefined {
  if (!text.endsWith('\n')) return undefined
  try {
    return holderOf(JSON.parse(text) as Partial<LockHolder>)
  } catch {
    const match = /^(\d+) (\S+)\n$/.exec(text)
    if (match === null) return undefined
    return { pid: Number(match[1]), startTime: null, bootId: null, host: '', purpose: match[2] as string, since: 'an unknown time' }
  }
}

/**
 * A holder as a lock or a record of git's ref locks (ref-lock-record.ts) names it, read field by
 * field; undefined without a pid. A field it lacks (a record or lock of an older TwinSync) is the
 * "unknown" the rules below judge as before it was written.
 */
export function holderOf(value: Partial<LockHolder> | null): LockHolder | undefined {
  if (value === null || typeof value !== 'object' || !Number.isInteger(value.pid) || (value.pid as number) <= 0) return undefined
  return {
    pid: value.pid as number,
    startTime: typeof value.startTime === 'string' ? value.startTime : null,
    bootId: typeof value.bootId === 'string' ? value.bootId : null,
    host: typeof value.host === 'string' ? value.host : '',
    machine: typeof value.machine === 'string' ? value.machine : null,
    pidNs: typeof value.pidNs === 'string' ? value.pidNs : null,
    purpose: typeof value.purpose === 'string' ? value.purpose : 'run',
    since: typeof value.since === 'string' ? value.since : 'an unknown time',
  }
}

/** The lock names this very boot (boot ids are random, one per boot). */
function isThisBoot(holder: LockHolder): boolean {
  const here = bootId()
  return holder.bootId !== null && here !== null && holder.bootId === here
}

/**
 * Whether the holder's process can be judged from here, the one rule for isHolderAlive and
 * lockHeld's words. Of this boot: when its pids are ours (session 44's review: a Docker or LXC
 * container on this kernel reads the host's boot id, but its pids are another pid namespace's),
 * that is when its lock names our pid namespace, or (a lock without one) our host name. Of another
 * boot: when it names this machine's id (lockMachine) or this host and was taken before this boot
 * began (laterThanThisBoot); one that says neither, or was taken since, is another machine's (a
 * twin shared between machines, or a clone of this one), unless this machine's journal shows its
 * boot ended (endedHere).
 */
function judgedHere(holder: LockHolder): boolean {
  if (isThisBoot(holder)) return holder.pidNs != null ? holder.pidNs === pidNamespace() : holder.host === '' || holder.host === hostname()
  if (namesThisMachine(holder)) return laterThanThisBoot(holder) === undefined
  return endedHere(holder)
}

/**
 * Session 50 (review L2, s49): a lock or record of another boot that names another machine id or
 * host is judged (gone) when this machine's journal shows that boot ended after it was taken
 * (endedAfter). A run in a Docker or LXC container on this kernel names the container's machine
 * id, host name and pid namespace with the host's boot id: after the host restarted, its record of
 * git's ref locks was judged alive for ever (its locks reported, never removed). A boot in this
 * machine's journal is one journald wrote with this machine id; ended, nothing of it runs, whatever
 * machine or pid namespace the lock names. A forged one gains nothing: whoever writes the twin can
 * remove the lock. Cost: one `journalctl` per such boot id and process (boot-journal.ts), where
 * such a lock was LOCK_HELD with no spawn.
 */
function endedHere(holder: LockHolder): boolean {
  const taken = Date.parse(holder.since)
  return holder.bootId !== null && bootId() !== null && !Number.isNaN(taken) && endedAfter(holder.bootId, taken).ended
}

/**
 * This machine's journal's last entry of boot `boot`, and whether the journal shows that boot
 * ended (bootEnded) no earlier than `taken` (ms, by that boot's clock).
 *
 * Session 51 (session 50's review): a journald being restarted (`systemctl restart
 * systemd-journald`, a package upgrade's) has "Journal stopped" as its boot's last entry until the
 * new one writes "Journal started", and a running boot's live lock read as its boot's end in that
 * moment. When the stop would take the lock, its boot's last entry is read again a second later
 * (boot-journal.ts): the boot ended only if the stop is still its last entry. The wait is once per
 * boot and process, and never where the decision keeps the lock.
 */
function endedAfter(boot: string, taken: number): { ended: boolean; last: JournalEntry | undefined } {
  const last = bootJournal.lastEntry(boot)
  if (last === undefined || taken > last.ms || !bootEnded(last)) return { ended: false, last }
  if (!last.journalStopped) return { ended: true, last }
  const again = bootJournal.lastEntry(boot, true)
  const still = again !== undefined && again.journalStopped && again.seqnumId === last.seqnumId && again.seqnum === last.seqnum
  return { ended: still, last: again ?? last }
}

/**
 * A lock of another boot that names this machine: this machine's earlier boot, or a clone of it.
 * By the machine id (lockMachine) when the lock and this machine both have one, else by the host
 * name. Session 48: the host name counted even when the ids differed, so a machine of the same
 * name (clones whose ids were made anew, as Debian's cloud images do, most still named `debian`
 * or `localhost`) took the other's live lock through a shared twin folder.
 */
function namesThisMachine(holder: LockHolder): boolean {
  const here = lockMachine()
  if (holder.machine != null && here !== null) return holder.machine === here
  return holder.host === '' || holder.host === hostname()
}

/**
 * Session 48: whether a lock of another boot was taken after this boot began (its `since`, the
 * wall-clock time it was taken, against /proc/stat's btime). This machine's earlier boot ended
 * before this one began, so such a lock is another machine's: VMs cloned from one image share
 * /etc/machine-id (and often the host name), and one took the other's live lock when they shared
 * a twin folder (NFS, a shared disk) or one restored the other's twin with its lock. Undefined
 * (not known to be later) when either time or either boot id is unknown (a lock without a
 * readable `since` or a boot id: the rule before session 48). Not told apart: a clone's lock
 * taken before this boot began and still held (a long apply there while this machine restarted).
 *
 * Session 49 (review F3, s48): btime is the clock now minus the uptime, so it follows the clock.
 * A machine with no battery-backed clock (a Raspberry Pi with fake-hwclock) boots after a power
 * cut at the time last saved, before its killed run's `since`, and got LOCK_HELD ("a clone") on
 * every run until its clock was set; so did a clock that ran ahead in the earlier boot, and a
 * container booted again on a running host (systemd-nspawn gives each boot its own boot id, and
 * btime is the host's). Evidence that does not come from the clock now: this machine's journal
 * (boot-journal.ts) has entries of the lock's boot, the last of them no earlier than the lock's
 * `since` (both by the clock of that boot), and that boot ended (bootEnded, session 50): the lock
 * was taken while this machine's journal still recorded that boot, as its own earlier boot, or, on
 * a disk copied from a running machine, that machine's before the copy was made (the hole above,
 * and no more: a clone's lock taken after the copy is later than the copy's last entry). Without
 * such entries (no persistent journal, not readable by this user, or none written after the lock,
 * lost with the power) or that end, the rule above stands: refused, never a live lock taken, with
 * what is known and the `rm` in LOCK_HELD.
 */
function laterThanThisBoot(holder: LockHolder): { booted: number; last: JournalEntry | undefined } | undefined {
  if (holder.bootId === null || bootId() === null) return undefined // not known to be another boot: judged by its process
  const taken = Date.parse(holder.since)
  const booted = bootStartMs()
  if (Number.isNaN(taken) || booted === null || taken < booted) return undefined
  const { ended, last } = endedAfter(holder.bootId, taken)
  return ended ? undefined : { booted, last }
}

/**
 * Session 50 (review L1, s49): whether this machine's journal shows the boot whose last entry is
 * `last` ended. An entry written after the lock was taken is not enough: a journal folder that
 * two containers of one image (one machine id) write at once holds the other's running boot, and
 * it took the other's live lock (and settled its live ref locks). Ended: its last entry is its
 * journald's "Journal stopped" (written at shutdown, or before a restart of journald, which writes
 * "Journal started" after it: endedAfter reads the last entry again before it takes a lock; a boot that loses its power, or whose `/var` is a mount
 * of its own so that the stop goes to /run, has none). Or, outside a container, it comes before
 * this boot's first entry in journald's count (one `__SEQNUM_ID`, a lower `__SEQNUM`): the count
 * is not one writer's (boot-journal.ts), but a journald that writes this folder beside this
 * machine's started after it (a container on this host whose journal is linked into it) counts on
 * from a file this boot's journald had written, past this boot's first entry; this covers this
 * machine's power cut, after which journald keeps the count of the file it finds unclosed. In a
 * container the sibling may have started first, and a count it keeps may lag behind ours: there,
 * only the stop.
 */
function bootEnded(last: JournalEntry): boolean {
  if (last.journalStopped) return true
  const here = bootId()
  if (here === null || bootJournal.inContainer()) return false
  const first = bootJournal.firstEntry(here)
  return first !== undefined && first.seqnumId === last.seqnumId && last.seqnum < first.seqnum
}

let cachedBootStart: number | null | undefined
/** When this boot began, in ms of wall-clock time (`btime` of /proc/stat, whole seconds); null without it. Read only for a lock of another boot. */
function bootStartMs(): number | null {
  if (cachedBootStart === undefined) {
    try {
      const btime = /^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))
      cachedBootStart = btime === null ? null : Number(btime[1]) * 1000
    } catch {
      cachedBootStart = null
    }
  }
  return cachedBootStart
}

/**
 * Session 44 (attack): the host name alone said "another machine". A run killed on this machine
 * (kill -9, a power cut in an apply that wrote /etc/hostname) and the machine renamed since:
 * every later run got LOCK_HELD naming a pid that was gone, "wait for process N", for good (a
 * reboot did not help, the host check came first), although the lock named this very boot. A lock
 * of this boot (boot ids are random, one per boot) is this machine's whatever its name; one of
 * another boot is this machine's when it names this machine's id (lockMachine) and was taken before
 * this boot began (session 48, laterThanThisBoot), and any other is left alone as another machine's.
 */
function isHolderAlive(holder: LockHolder): boolean {
  if (!judgedHere(holder)) return true // another machine sharing the twin, or a container beside us: never guess
  // Of another boot judged here (this machine's earlier boot, or one this machine's journal shows ended): its process is gone.
  if (!isThisBoot(holder) && holder.bootId !== null && bootId() !== null) return false
  if (holder.startTime !== null) {
    const now = startTimeOf(holder.pid)
    return now !== null && now === holder.startTime
  }
  return processAlive(holder.pid)
}

/** Whether process `pid` exists (signal 0; EPERM: it does, another user's). No start time asked: a reused pid counts. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** When process `pid` started (the SDK's processStartTime), null without one: as lock records hold it. */
export function startTimeOf(pid: number): string | null {
  return processStartTime(pid) ?? null
}

let cachedMachine: string | null | undefined
/** This machine (the host the process runs on, not a --root target): a hash of /etc/machine-id, never the id itself (machine-id(5)); null without one. */
export function lockMachine(): string | null {
  if (cachedMachine === undefined) {
    try {
      const id = readFileSync('/etc/machine-id', 'utf8').trim()
      cachedMachine = /^[0-9a-f]{32}$/.test(id) ? sha256(`twinsync-lock\0${id}`).slice(0, 32) : null
    } catch {
      cachedMachine = null
    }
  }
  return cachedMachine
}

let cachedPidNs: string | null | undefined
/** This process's pid namespace (`pid:[4026531836]`), null without /proc: two holders see each other's pids only in the same one. */
export function pidNamespace(): string | null {
  if (cachedPidNs === undefined) {
    try {
      cachedPidNs = readlinkSync('/proc/self/ns/pid')
    } catch {
      cachedPidNs = null
    }
  }
  return cachedPidNs
}

let cachedBootId: string | null | undefined
function bootId(): string | null {
  if (cachedBootId === undefined) {
    try {
      cachedBootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()
    } catch {
      cachedBootId = null
    }
  }
  return cachedBootId
}

/** Who a run is, as a lock names its holder (all of LockHolder but its purpose and time). */
export type RunIdentity = Omit<LockHolder, 'purpose' | 'since'>

/** This process as a lock names its holder: pid, start time, boot, host, machine, pid namespace (all but the host worked out once). */
export function runIdentity(): RunIdentity {
  ownRun ??= { pid: process.pid, startTime: startTimeOf(process.pid), bootId: bootId(), machine: lockMachine(), pidNs: pidNamespace() }
  return { pid: ownRun.pid, startTime: ownRun.startTime, bootId: ownRun.bootId, host: hostname(), machine: ownRun.machine, pidNs: ownRun.pidNs }
}
let ownRun: Omit<RunIdentity, 'host'> | undefined

/**
 * Whether the run a record names may still be running: gone only when that is certain, by the
 * twin lock's one rule (isHolderAlive), `since` being when the record was written. Session 49
 * (review F3, s48): the records of git's ref locks named only pid, start time and boot, and were
 * judged with no host, machine or time, so another machine's (a clone's) live record of another
 * boot was "this machine's, dead", and a container's beside us of this boot was judged by our
 * pids. A record written before then still lacks them (holderOf: host '', no machine, no pid
 * namespace, no readable `since`) and is judged as before, by this machine's process table (one
 * of another boot: gone).
 */
export function isRunAlive(run: Omit<LockHolder, 'purpose'>): boolean {
  return isHolderAlive({ ...run, purpose: '' })
}
