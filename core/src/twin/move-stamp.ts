import { closeSync, constants, existsSync, futimesSync, lstatSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { FORGET_RECORD } from '../history/forget-record.js'
import { diskError } from './disk-error.js'
import { parseLock, runIdentity, lockTempName, type LockHolder, type TwinLock } from './twin-lock.js'

/**
 * The working twin's move stamp (`.git/twinsync/moves`), for a reader without the twin lock
 * (TwinRepository.readSteadily: `plan`, the panel's, `rehearse`'s): every step that moves the
 * working twin's files, HEAD under them or the edits set aside goes through `moving`, which
 * replaces the stamp by a new file (a new inode: a temp file renamed over it, one call, as the
 * lock is written) before the step begins and again after it ends. The first names the run
 * (a lock's record: pid, start time, boot, host): a move under way; the second is empty.
 *
 * A reader notes the stamp (inode and change time) when it begins to read and compares at its
 * end: a step that began or ended meanwhile replaced it; one under way all along left the
 * first kind there, naming a run that holds the twin lock (moveUnderWay). Steps nest (an apply's
 * checkpoint snapshot inside its run, a restore's merges): only the outermost replaces the
 * stamp, so an inner step's end never says "nothing under way" while an outer one still moves.
 *
 * Session 55 (session 54's review, M1–M3): the generation before this was the lock's own (its
 * release left `lock.last`), so it moved whenever the lock changed hands, not when the twin moved:
 * an apply that held the lock before the plan looked made its checkpoint unseen (2 changes -> 0),
 * a `gc` or another host's idle lock made `plan` wait 15 s and fail LOCK_HELD, and two readers
 * re-planned each other. Nothing here is waited for that moves nothing.
 *
 * Kill -9 safe: a run killed before its first replace moved nothing; one killed after it leaves
 * the first kind naming a run that is gone (not under way: what it left is a held marker, a move
 * or pull record, which the reader's settling finishes, movesLeft). A stamp never makes a reader
 * miss a move: the one before a move is on disk before its first write. Not fsynced (the lock is
 * not either): it speaks for runs of this boot. Never committed or pushed (`.git/twinsync`); a
 * folder or link put at its name is refused with the twin's other state (refuseLinkedState), and
 * the rename replaces a link, never writes through it.
 */
const STAMP = join('.git', 'twinsync', 'moves')

/** The intent a snapshot, pull or adopt set aside and has not put back (IntentService.hold writes it, restore removes it). */
export const HELD_MARKER = join('.git', 'twinsync', 'intent-held')

/** How deep in `moving` this process is, per twin: only the outermost step replaces the stamp. */
const depth = new Map<string, number>()

/**
 * Run `fn`, a step that moves the working twin of `dir` (call with the twin lock held): the stamp
 * is replaced before it (naming this run) and after it (empty), unless an outer step of this
 * process is under way. A first replace that fails fails the step before it moves anything; the
 * last one is quiet (a stamp left naming this run reads as a move under way while the run holds
 * the lock: a reader waits for it, then reads again; none is missed).
 */
export async function moving<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  const key = resolve(dir)
  const outer = depth.get(key) ?? 0
  if (outer === 0) stamp(dir, JSON.stringify({ ...runIdentity(), purpose: 'move', since: new Date().toISOString() }) + '\n')
  depth.set(key, outer + 1)
  try {
    return await fn()
  } finally {
    if (outer === 0) depth.delete(key)
    else depth.set(key, outer)
    if (outer === 0) {
      try {
        stamp(dir, '')
      } catch {
        // said above: read as under way while this run holds the lock
      }
    }
  }
}

/**
 * The stamp now: its inode, modification and change times and size (`-`: none; `?`: not
 * readable). Synchronous, one lstat. The modification time is the writer's own, strictly
 * increasing (`stamp`): ext4 gives a freed inode to the next file at once, and a kernel before
 * 6.13 (Debian 12's and 13's) keeps a change time a jiffy coarse, so a short move between two
 * looks could leave inode, change time and size as they were (the lead, session 55).
 */
export function moveStamp(dir: string): string {
  try {
    const info = lstatSync(join(dir, STAMP), { bigint: true, throwIfNoEntry: false })
    return info === undefined ? '-' : `${info.ino}.${info.mtimeNs}.${info.ctimeNs}.${info.size}`
  } catch {
    return '?'
  }
}

/**
 * The run moving the working twin now: the stamp names it (a move begun and not ended) and it
 * holds the twin lock, alive. Undefined otherwise: no stamp, an empty one, or one naming a run
 * that is gone or no longer holds the lock (killed part way: its leftovers are movesLeft's).
 * Judged as the lock judges its holder (TwinLock.holder): another host's is never guessed gone.
 */
export function moveUnderWay(dir: string, lock: TwinLock): LockHolder | 'unreadable' | undefined {
  const mover = stampedMover(dir)
  if (mover === undefined) return undefined
  const holder = lock.holderNow()
  if (mover === 'unreadable' || holder === 'unreadable') {
    // Another user's stamp or lock (root's 0600, a `sudo twinsync adopt` beside a person's panel):
    // under way while a lock is there, as an unreadable lock is held (TwinLock).
    return existsSync(join(dir, '.git', 'twinsync', 'lock')) ? (holder === 'unreadable' || holder === undefined ? 'unreadable' : holder) : undefined
  }
  return holder !== undefined && sameRun(holder, mover) ? holder : undefined
}


/**
 * What a move left for settling, visible without the lock: the edits set aside (HELD_MARKER), a
 * snapshot's move record or index swap (snapshotUnsettled), a pull's move record, an unfinished
 * forget. A reader that finds one at its end reads again (its settling finishes it first).
 */
export async function movesLeft(dir: string, snapshotUnsettled: (dir: string) => Promise<boolean>, pullMoveUnsettled: (dir: string) => boolean): Promise<boolean> {
  return existsSync(join(dir, HELD_MARKER)) || pullMoveUnsettled(dir) || existsSync(join(dir, FORGET_RECORD)) || (await snapshotUnsettled(dir))
}

/** The run the stamp names, when it names one (a regular file, read without following a link); `unreadable`: one is named that this user cannot read. */
function stampedMover(dir: string): LockHolder | 'unreadable' | undefined {
  const path = join(dir, STAMP)
  const info = lstatSync(path, { throwIfNoEntry: false })
  if (info === undefined || !info.isFile() || info.size === 0) return undefined
  let fd: number
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW)
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EACCES' ? 'unreadable' : undefined
  }
  try {
    return parseLock(readFileSync(fd, 'utf8').slice(0, 4096))
  } catch {
    return undefined
  } finally {
    closeSync(fd)
  }
}

/** One process: the same pid of the same start, boot and host (a pid reused is another run). */
function sameRun(a: LockHolder, b: LockHolder): boolean {
  return a.pid === b.pid && a.startTime === b.startTime && a.bootId === b.bootId && a.host === b.host && (a.pidNs ?? null) === (b.pidNs ?? null)
}

/**
 * Replace the stamp by a new file holding `text`: written whole under a temp name of this run
 * (lockTempName, swept by settling when its run is gone), its modification time set past the
 * last stamp's (moveStamp: the clock now, or 1 ms past the last when the clock is behind it or
 * stepped back; writers go one at a time, under the twin lock), then renamed. The folder is made
 * when missing (a twin git made, no lock taken in it yet).
 */
function stamp(dir: string, text: string): void {
  const path = join(dir, STAMP)
  const temp = lockTempName(path)
  try {
    let fd: number
    try {
      fd = openSync(temp, 'wx', 0o600)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
      mkdirSync(dirname(path), { recursive: true })
      fd = openSync(temp, 'wx', 0o600)
    }
    try {
      if (text !== '') writeFileSync(fd, text)
      // Whole ms, the last one rounded: a time set is read back a few ns off.
      const last = lstatSync(path, { bigint: true, throwIfNoEntry: false })?.mtimeNs
      const lastMs = last === undefined ? undefined : Number((last + 500_000n) / 1_000_000n)
      const now = Date.now()
      const next = lastMs !== undefined && lastMs >= now ? lastMs + 1 : now
      futimesSync(fd, next / 1000, next / 1000)
    } finally {
      closeSync(fd)
    }
    renameSync(temp, path)
  } catch (error) {
    try {
      unlinkSync(temp)
    } catch {}
    throw diskError(error, dir)
  }
}
