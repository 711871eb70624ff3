import { lstatSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs'
import { resolve } from 'node:path'

/**
 * A git lock in the twin (`.git/index.lock`, `.git/HEAD.lock`, `.git/refs/….lock`) that no
 * process holds any more: git's own advice ("remove the file if no git process is running"),
 * checked instead of asked. Session 13: the CI's chaos run killed an apply's process group and
 * the rerun found `.git/index.lock` it could not prove was its own, so every later command
 * refused the twin until a person removed it; a kill -9, an OOM kill or a power cut does that
 * to any git process, TwinSync's or a person's.
 *
 * A lock is stale here only when all of these hold, checked under the twin lock (so no other
 * TwinSync is at work):
 *  - it was made before this process started (never a lock of this run's own, half way through
 *    a swap);
 *  - no git process on the machine is at work in the twin: none has its working directory, an
 *    open file, its command line or GIT_DIR / GIT_WORK_TREE / GIT_INDEX_FILE inside it;
 *  - every git process could be looked at: one whose /proc entries this user may not read
 *    (another user's, without root), or a /proc that hides other users' processes (hidepid),
 *    could be the holder, and the lock is kept.
 * A git that starts after the check finds the lock and stops (git never waits for a lock), so
 * removing it then takes nothing from anyone. What the lock held is an unfinished write of the
 * index or of one ref: git writes the whole new file into the lock and renames it over the old
 * one, so the old file is whole and removing the lock loses only a write that never happened.
 *
 * Cost: nothing unless a lock is there; then one read of /proc/PID/comm per process (about
 * 2 ms for 160 processes on the 2-core test machine, 12 ms median under a load of 10), and the
 * /proc entries of git processes.
 */
export function isStaleGitLock(twinDir: string, lock: string): boolean {
  const info = lstatSync(lock, { throwIfNoEntry: false })
  if (info === undefined || !info.isFile()) return false
  if (info.ctimeMs >= processStartedMs()) return false
  return gitAtWorkIn(twinDir) === 'none'
}

/** Remove `lock` when it is stale (isStaleGitLock). True when this removed it. */
export function removeStaleGitLock(twinDir: string, lock: string): boolean {
  if (!isStaleGitLock(twinDir, lock)) return false
  rmSync(lock, { force: true })
  return true
}

/**
 * Whether a git process works in the twin: 'none', 'some', or 'unknown' when a git process's
 * /proc entries cannot be read (another user's, without root).
 */
export function gitAtWorkIn(twinDir: string): 'none' | 'some' | 'unknown' {
  const twin = resolve(twinDir)
  const inside = (path: string) => path === twin || path.startsWith(`${twin}/`)
  let pids: string[]
  try {
    pids = readdirSync('/proc').filter((n) => /^\d+$/.test(n))
  } catch {
    return 'unknown'
  }
  // /proc mounted with hidepid hides other users' processes from a user who is not root: a git
  // of root's in this user's twin would not be seen at all.
  if (process.getuid?.() !== 0 && hidesProcesses()) return 'unknown'
  let verdict: 'none' | 'unknown' = 'none'
  for (const pid of pids) {
    if (Number(pid) === process.pid) continue
    const comm = read(`/proc/${pid}/comm`)
    if (comm === undefined || !/^git(?:-|$)/.test(comm.trim())) continue
    try {
      if (inside(readlinkSync(`/proc/${pid}/cwd`))) return 'some'
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')
      if (argv.some((a) => a.includes(twin))) return 'some'
      const env = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')
      if (env.some((e) => /^GIT_(?:DIR|WORK_TREE|INDEX_FILE|COMMON_DIR)=/.test(e) && e.includes(twin))) return 'some'
      for (const fd of readdirSync(`/proc/${pid}/fd`)) {
        const target = quietly(() => readlinkSync(`/proc/${pid}/fd/${fd}`))
        if (target !== undefined && inside(target)) return 'some'
      }
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (code === 'ENOENT' || code === 'ESRCH') continue // gone meanwhile
      verdict = 'unknown'
    }
  }
  return verdict
}

/** Whether /proc is mounted with `hidepid=1|2|noaccess|invisible` (other users' processes unseen). */
function hidesProcesses(): boolean {
  const mounts = read('/proc/self/mountinfo')
  if (mounts === undefined) return true
  return mounts.split('\n').some((line) => {
    const fields = line.split(' ')
    return fields[4] === '/proc' && /(?:^|,)hidepid=(?:1|2|noaccess|invisible)(?:,|$)/.test(line.slice(line.indexOf(' - ') + 3))
  })
}

/** When this process started, in ms since the epoch. */
function processStartedMs(): number {
  return Date.now() - process.uptime() * 1000
}

function read(path: string): string | undefined {
  return quietly(() => readFileSync(path, 'utf8'))
}

function quietly<T>(fn: () => T): T | undefined {
  try {
    return fn()
  } catch {
    return undefined
  }
}
