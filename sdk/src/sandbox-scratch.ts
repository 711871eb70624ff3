import { lstatSync, mkdtempSync, readdirSync, rmdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { processStartTime } from './process-start.js'

/**
 * The checker sandbox's scratch folders: an empty folder on the host that the sandbox mounts its
 * tmpfs on, in its own mount namespace (checker-sandbox.ts). The run removes it after; a run that
 * is killed (kill -9 of TwinSync) cannot, and the folder stays, empty. Its name carries the
 * process that made it (id and start time, so a later process with the same id is told apart):
 * a later run removes those whose process is gone, and nothing else.
 */
const PREFIX = 'twinsync-check-'
const NAME = /^twinsync-check-(\d+)\.(\d+)-[A-Za-z0-9]{6}$/


/** A new scratch folder of this process in `dir` (the system's temp folder by default). */
export function makeScratch(dir: string = tmpdir()): string {
  return mkdtempSync(join(dir, `${PREFIX}${process.pid}.${processStartTime(process.pid) ?? '0'}-`))
}

/**
 * Remove the scratch folders in `dir` that a process now gone left: only names this module gives,
 * only folders (never a symlink) owned by this user, only when empty (rmdir: a folder still
 * mounted on or holding anything stays). Returns the paths removed.
 */
export function sweepScratch(dir: string = tmpdir()): string[] {
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch {
    return []
  }
  const removed: string[] = []
  for (const name of names) {
    const m = NAME.exec(name)
    if (m === null) continue
    const pid = Number(m[1])
    // A process with this id that started when the name says is the owner, still running.
    if (processStartTime(pid) === m[2]) continue
    const path = join(dir, name)
    try {
      const st = lstatSync(path)
      if (!st.isDirectory() || st.uid !== process.getuid?.()) continue
      rmdirSync(path)
      removed.push(path)
    } catch {
      // not empty, in use, or gone meanwhile: left alone
    }
  }
  return removed
}
