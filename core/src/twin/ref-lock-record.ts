import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { isRunAlive, runIdentity } from './twin-lock.js'

/**
 * Which of git's ref locks (`<ref>.lock`) in a twin are provably TwinSync's own leftovers. A lock
 * file says nothing of who made it, and a git a person runs in the twin (a commit, a `git gc`
 * packing refs) or a second TwinSync's git takes the same locks: removing one of those would let
 * two writers at a ref. So the refs TwinSync moves in Node (ref-update.ts) record the locks they
 * take, with each lock's inode and the run that took them (pid, start time, boot, as the twin
 * lock names its holder), in `.git/twinsync/ref-locks.json` until they are released. Settling
 * removes a lock only when this record names it with its inode and that run is gone; any other
 * lock is reported (TWIN_REF_LOCKED, git.ts), never removed. One record: refs move only under the
 * twin lock, one run at a time.
 */
const RECORD = join('twinsync', 'ref-locks.json')

interface LockRecord {
  pid: number
  startTime: string | null
  bootId: string | null
  locks: Array<{ name: string; ino: number }>
}

/** Before anything is written into them: the locks just taken (names relative to `.git`), with their inodes. */
export function recordRefLocks(gitDir: string, locks: ReadonlyArray<{ name: string; ino: number }>): void {
  const text = JSON.stringify({ ...runIdentity(), locks: [...locks] } satisfies LockRecord)
  try {
    writeFileSync(join(gitDir, RECORD), text, { mode: 0o600 })
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
    mkdirSync(join(gitDir, 'twinsync'), { recursive: true })
    writeFileSync(join(gitDir, RECORD), text, { mode: 0o600 })
  }
}

/** After the locks are released (renamed over their refs, or removed). */
export function clearRefLocks(gitDir: string): void {
  rmSync(join(gitDir, RECORD), { force: true })
}

/** True only when the record names this lock (`name` relative to `.git`, its inode) and the run that took it is gone. */
export function isOwnStaleLock(gitDir: string, name: string, ino: number): boolean {
  let record: Partial<LockRecord>
  try {
    record = JSON.parse(readFileSync(join(gitDir, RECORD), 'utf8')) as Partial<LockRecord>
  } catch {
    return false
  }
  if (!Number.isInteger(record.pid) || !Array.isArray(record.locks)) return false
  if (!record.locks.some((l) => l?.name === name && l.ino === ino)) return false
  return !isRunAlive({ pid: record.pid as number, startTime: typeof record.startTime === 'string' ? record.startTime : null, bootId: typeof record.bootId === 'string' ? record.bootId : null })
}
