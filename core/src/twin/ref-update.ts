import { appendFileSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { readRefId } from './quick-status.js'
import { diskError } from './disk-error.js'
import { clearRefLocks, prepareRefLock, recordRefLocks, takeRefLock } from './ref-lock-record.js'
import { removeFile } from './remove-file.js'

/**
 * Speed (issue 22): `git update-ref -m <message> <ref> <id> [<old id>]` done by Node, as git's
 * files backend does it, for the refs a snapshot moves: HEAD (through the branch it names)
 * and TwinSync's own `refs/twinsync/*`. Every snapshot that commits ran two such processes
 * (5–10 ms of Node's CPU to spawn each, 10–30 ms of wall on the shared machine).
 *
 * The same steps and names as git, so git and TwinSync keep out of each other's way and a
 * kill leaves what a killed git leaves: each ref's `<ref>.lock` taken (created, never
 * replaced; HEAD's too when HEAD is moved through its branch), the ref read under its lock
 * (loose, else `packed-refs`) and compared with the old id, the new id written into the lock,
 * one reflog line for each ref (`<old> <new> <who> <time> <zone>\t<message>`, TwinSync's
 * identity as in its commits), then the lock renamed over the ref and HEAD's lock removed. A
 * kill between leaves a lock that settling removes (settleSnapshot, and the intent's refs
 * before they are set: only a lock this run recorded as its own, ref-lock-record.ts) and a
 * reflog line for a move that did not happen, as git's would.
 *
 * Whatever is unusual is left to git, which then says what is wrong (false, nothing changed):
 * a lock already there, the ref not at the old id, HEAD not naming a branch, a ref git's files
 * backend does not keep as a plain file, a twin whose `.git` is elsewhere or kept otherwise
 * (quick-status.ts reads it the same way), a config that says otherwise about reflogs, git's
 * environment naming a committer, a message git would rewrite.
 */
export function updateRefInNode(dir: string, ref: string, next: string, old: string | undefined, message: string, who: string): boolean {
  if (!ID.test(next) || (old !== undefined && !ID.test(old)) || !PLAIN_MESSAGE.test(message)) return false
  if (IDENTITY_ENV.some((name) => process.env[name] !== undefined)) return false
  const git = join(dir, '.git')
  let config: string
  try {
    config = readFileSync(join(git, 'config'), 'utf8')
  } catch {
    return false
  }
  if (/logallrefupdates|refstorage|\[include/i.test(config.replace(/^\s*logallrefupdates\s*=\s*true\s*$/im, ''))) return false
  // HEAD moves through the branch it names, and both get a reflog line; the observed ref none (keepsReflog).
  let target = ref
  const logs = keepsReflog(ref) ? [ref] : []
  if (ref === 'HEAD') {
    let head: string
    try {
      head = readFileSync(join(git, 'HEAD'), 'utf8')
    } catch {
      return false
    }
    const branch = /^ref: (refs\/heads\/[A-Za-z0-9._-]+(?:\/[A-Za-z0-9._-]+)*)\n$/.exec(head)?.[1]
    if (branch === undefined || branch.split('/').some((p) => p === '.' || p === '..' || p.endsWith('.lock'))) return false
    target = branch
    logs.unshift(branch)
  } else if (!/^refs\/twinsync\/[A-Za-z0-9_-]+$/.test(ref)) {
    return false
  }
  const taken: string[] = []
  const prepared: Array<{ file: string; ino: number; name: string }> = []
  const release = () => {
    for (const lock of taken) removeFile(lock)
    for (const p of prepared) removeFile(p.file)
    if (prepared.length > 0) clearRefLocks(git)
  }
  try {
    for (const name of ref === target ? [target] : [ref, target]) {
      mkdirSync(dirname(join(git, `${name}.lock`)), { recursive: true })
      prepared.push({ ...prepareRefLock(git), name })
    }
    // Which locks are this run's, recorded before they take their names, so that settling after a
    // kill removes these and no one else's (ref-lock-record.ts).
    recordRefLocks(git, prepared.map((p) => ({ name: `${p.name}.lock`, ino: p.ino })))
    for (const p of prepared) {
      const lock = join(git, `${p.name}.lock`)
      takeRefLock(p, lock)
      taken.push(lock)
    }
    const current = readRefId(dir, target)
    if (current === undefined || (old !== undefined && current !== old)) {
      release()
      return false
    }
    const lock = join(git, `${target}.lock`)
    writeFileSync(lock, `${next}\n`)
    const line = `${current ?? ZERO} ${next} ${who}\t${message}\n`
    for (const name of logs) {
      const log = join(git, 'logs', name)
      mkdirSync(dirname(log), { recursive: true })
      appendFileSync(log, line, { mode: 0o644 })
    }
    renameSync(lock, join(git, target))
    taken.splice(taken.indexOf(lock), 1)
    // The log an older TwinSync kept for it (every line is in the branch's too): only a clean-up, never a failure.
    if (!keepsReflog(ref)) tryRemove(join(git, 'logs', ref))
    release()
    return true
  } catch (error) {
    // A lock there already (another writer, or a kill's), a folder in the way: git's turn, and git's words.
    release()
    const code = (error as NodeJS.ErrnoException).code
    // EPERM, EMLINK: a file system that keeps no hard links for the lock to be taken by (git's way then).
    if (code === 'EEXIST' || code === 'ENOTDIR' || code === 'EISDIR' || code === 'ENOENT' || code === 'EPERM' || code === 'EMLINK') return false
    // A full disk (the record's write, a reflog's folder): DISK_FULL, not Node's raw ENOSPC (session 36).
    throw diskError(error, dir)
  }
}

/**
 * `git update-ref -d <ref>` done by Node for TwinSync's own loose refs (`refs/twinsync/*`), so
 * its lock is recorded like a move's (ref-lock-record.ts) and a kill leaves only a lock settling
 * can prove its own: the ref's lock taken, the ref removed with its reflog, the lock removed. A
 * ref that is also in `packed-refs` (a person's `git gc` packed it), or anything unusual: false,
 * git's way.
 */
export function deleteRefInNode(dir: string, ref: string): boolean {
  if (!/^refs\/twinsync\/[A-Za-z0-9_-]+$/.test(ref)) return false
  const git = join(dir, '.git')
  let packed = ''
  try {
    packed = readFileSync(join(git, 'packed-refs'), 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return false
  }
  if (packed.includes(` ${ref}\n`)) return false
  const lock = join(git, `${ref}.lock`)
  let prepared: { file: string; ino: number }
  try {
    prepared = prepareRefLock(git)
  } catch {
    return false
  }
  let taken = false
  try {
    recordRefLocks(git, [{ name: `${ref}.lock`, ino: prepared.ino }])
    try {
      takeRefLock(prepared, lock)
    } catch {
      return false
    }
    taken = true
    removeFile(join(git, ref))
    removeFile(join(git, 'logs', ref))
    return true
  } finally {
    removeFile(prepared.file)
    if (taken) removeFile(lock)
    clearRefLocks(git)
  }
}

/**
 * Size (issue 22): `refs/twinsync/observed` keeps no reflog. It moves with every snapshot to the
 * commit HEAD's branch moved to (or already names: a snapshot with nothing new, a person's
 * commit), so the reflogs of HEAD and the branch hold every place it was, with the time; a third
 * copy was 138 bytes a snapshot, a third of the twin's reflogs: 136 KB of the 2,720 KB twin of
 * 1,000 hourly snapshots of the growth bench's churn (session 40; docs/architecture.md). Nothing
 * reads it. `refs/twinsync/intended` keeps its reflog: `discard` names it as the record of the
 * intent before, and an intent is a person's work that is in no branch.
 */
export function keepsReflog(ref: string): boolean {
  return ref !== 'refs/twinsync/observed'
}

function tryRemove(file: string): void {
  try {
    removeFile(file)
  } catch {
    // A folder there, or a file it may not remove: left as it is (git appends to it, as before).
  }
}

/** `git update-ref`'s flag for a TwinSync ref moved git's way: a reflog made for the refs that keep one. */
export function reflogFlag(ref: string): string[] {
  return keepsReflog(ref) ? ['--create-reflog'] : []
}

const ID = /^[0-9a-f]{40}$/
const ZERO = '0'.repeat(40)
/** A message git writes into the reflog as it is: printable ASCII words, single spaces. */
const PLAIN_MESSAGE = /^[\x21-\x7e]+(?: [\x21-\x7e]+)*$/
const IDENTITY_ENV = ['GIT_COMMITTER_NAME', 'GIT_COMMITTER_EMAIL', 'GIT_COMMITTER_DATE', 'GIT_DIR', 'GIT_COMMON_DIR', 'GIT_REFLOG_ACTION']

/** TwinSync's identity as git writes it in a commit or a reflog: name, email, seconds, local zone. */
export function identityNow(): string {
  const now = new Date()
  const offset = -now.getTimezoneOffset()
  const zone = `${offset < 0 ? '-' : '+'}${String(Math.floor(Math.abs(offset) / 60)).padStart(2, '0')}${String(Math.abs(offset) % 60).padStart(2, '0')}`
  return `TwinSync <twinsync@localhost> ${Math.floor(now.getTime() / 1000)} ${zone}`
}
