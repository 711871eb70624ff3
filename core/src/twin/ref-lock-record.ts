import { closeSync, fstatSync, linkSync, lstatSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { holderOf, isRunAlive, lockTempName, runIdentity, type LockHolder } from './twin-lock.js'
import { removeFile } from './remove-file.js'

/**
 * Which of git's ref locks (`<ref>.lock`) in a twin are provably TwinSync's own leftovers. A lock
 * file says nothing of who made it, and a git a person runs in the twin (a commit, a `git gc`
 * packing refs) or a second TwinSync's git takes the same locks: removing one of those would let
 * two writers at a ref. So the refs TwinSync moves in Node (ref-update.ts) record the locks they
 * take, with each lock's inode and the run that took them (as the twin lock names its holder: pid,
 * start time, boot, host, machine, pid namespace, and when), in `.git/twinsync/ref-locks.json`
 * until they are released, and a record is judged by the twin lock's rule (isRunAlive). Settling
 * removes a lock only when this record names it with its inode and that run is gone; any other
 * lock is reported (TWIN_REF_LOCKED, git.ts), never removed. One record: refs move only under the
 * twin lock, one run at a time.
 */
const RECORD = join('twinsync', 'ref-locks.json')

/** The run (the twin lock's holder but its purpose; `since`: when the record was written) and its locks. */
interface LockRecord extends Omit<LockHolder, 'purpose'> {
  locks: Array<{ name: string; ino: number }>
}

/**
 * Before the locks take their names: the locks about to be taken (names relative to `.git`), with
 * the inodes of the files that will become them (takeRefLock). Written whole or not at all (a
 * temporary file renamed over the record), so a kill at any point leaves either no lock of this
 * run's or one its record names (session 11: the chaos test's kills found a HEAD.lock taken before
 * its record was written, and one with the record cut short, reported as someone else's).
 */
export function recordRefLocks(gitDir: string, locks: ReadonlyArray<{ name: string; ino: number }>): void {
  // The record of a killed run is the only proof its locks are TwinSync's: settle them before it
  // is replaced (session 13: an apply killed holding observed.lock, rerun; the rerun's snapshot
  // moved HEAD first, its record replaced the killed run's, and observed.lock stayed unprovable).
  settleRecordedRefLocks(gitDir)
  const text = JSON.stringify({ ...runIdentity(), since: new Date().toISOString(), locks: [...locks] } satisfies LockRecord)
  // Named as TwinSync's temp files are (lockTempName): one a kill leaves is removed by the next settling.
  const temp = lockTempName(join(gitDir, RECORD))
  try {
    try {
      writeFileSync(temp, text, { mode: 0o600 })
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
      mkdirSync(join(gitDir, 'twinsync'), { recursive: true })
      writeFileSync(temp, text, { mode: 0o600 })
    }
    renameSync(temp, join(gitDir, RECORD))
  } catch (error) {
    removeFile(temp)
    throw error
  }
}

/**
 * A file of this run's in `.git/twinsync`, not yet a lock: its inode goes into the record first,
 * and only then does it take the lock's name (takeRefLock). Removed by takeRefLock either way.
 */
export function prepareRefLock(gitDir: string): { file: string; ino: number } {
  mkdirSync(join(gitDir, 'twinsync'), { recursive: true })
  // A TwinSync temp name (lockTempName): one a kill leaves before it becomes a lock is removed by the next settling (settleSnapshot).
  const file = lockTempName(join(gitDir, 'twinsync', 'ref-lock'))
  const fd = openSync(file, 'wx', 0o644)
  try {
    return { file, ino: fstatSync(fd).ino }
  } finally {
    closeSync(fd)
  }
}

/**
 * The prepared file takes the lock's name as git takes a lock: never over one that is there
 * (link(2) fails with EEXIST: another writer, or a kill's leftover, which throws to the caller).
 * The prepared name is removed whatever happens; once the link is made the lock is taken, even
 * if that removal fails (the caller's release removes the prepared name again): a lock taken
 * and not known as taken would outlive the record that proves it this run's.
 */
export function takeRefLock(prepared: { file: string }, lock: string): void {
  try {
    linkSync(prepared.file, lock)
  } catch (error) {
    removeFile(prepared.file)
    throw error
  }
  try {
    removeFile(prepared.file)
  } catch {}
}

/** After the locks are released (renamed over their refs, or removed). */
export function clearRefLocks(gitDir: string): void {
  removeFile(join(gitDir, RECORD))
}

/**
 * Remove every lock the record names (with its inode) when the run that took them is gone, and
 * the record with them. Call with the twin lock held (settling, and before a new record). A
 * record of a live run (another TwinSync between taking its locks and releasing them) is left
 * as it is. Returns the removed locks' names (relative to `.git`).
 */
export function settleRecordedRefLocks(gitDir: string): string[] {
  const record = readRecord(gitDir)
  if (record === undefined) return []
  if (isRunAlive(record)) return [] // this run's own, or another's at work
  const removed: string[] = []
  for (const lock of record.locks) {
    if (typeof lock?.name !== 'string' || !isLockName(lock.name)) continue
    const path = join(gitDir, lock.name)
    const info = lstatSync(path, { throwIfNoEntry: false })
    if (info === undefined || !info.isFile() || info.ino !== lock.ino) continue
    removeFile(path)
    removed.push(lock.name)
  }
  clearRefLocks(gitDir)
  return removed
}

/** A ref lock's name as the record holds it: HEAD.lock or refs/…/<name>.lock, nothing that climbs out of `.git`. */
function isLockName(name: string): boolean {
  return /^(?:HEAD|refs\/[^\0]+)\.lock$/.test(name) && !name.split('/').some((p) => p === '' || p === '.' || p === '..')
}

/** The record, its run read as a lock's holder is (holderOf); a field an older record lacks is judged as before (isRunAlive). */
function readRecord(gitDir: string): LockRecord | undefined {
  let record: Partial<LockRecord>
  try {
    record = JSON.parse(readFileSync(join(gitDir, RECORD), 'utf8')) as Partial<LockRecord>
  } catch {
    return undefined
  }
  const run = holderOf(record)
  if (run === undefined || !Array.isArray(record.locks)) return undefined
  return { pid: run.pid, startTime: run.startTime, bootId: run.bootId, host: run.host, machine: run.machine, pidNs: run.pidNs, since: run.since, locks: record.locks }
}

/** True only when the record names this lock (`name` relative to `.git`, its inode) and the run that took it is gone. */
export function isOwnStaleLock(gitDir: string, name: string, ino: number): boolean {
  const record = readRecord(gitDir)
  if (record === undefined || !record.locks.some((l) => l?.name === name && l.ino === ino)) return false
  return !isRunAlive(record)
}
