import { sha256 } from '../sha256.js'
import { lstatSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { isTwinSyncError, TwinSyncError } from '@twinsync/sdk/light'
import { TwinLock } from '../twin/twin-lock.js'

/** Where the machine locks live: the host's, root's alone (/run is root's 0755, emptied at boot). */
export const MACHINE_LOCK_DIR = '/run/twinsync'

/**
 * The lock of one target machine: its root folder's device and inode, hashed (the same for every
 * twin that applies to it, whoever's, whichever path names it; another root's is another lock).
 * Session 26 (red team): named by the root's real path, the same machine seen through a bind mount
 * (`mount --bind / /mnt/host`, an admin's `--root /mnt/host`) took another lock and both applies
 * ran at once. /run is emptied at boot, so a device number never outlives the mount it names. A
 * root that cannot be looked at is named by its path, as before.
 */
export function machineLockPath(root: string, dir: string = MACHINE_LOCK_DIR): string {
  let key: string
  try {
    const folder = statSync(root, { bigint: true })
    key = `dev ${folder.dev} ino ${folder.ino}`
  } catch {
    key = resolve(root)
  }
  return join(dir, `apply-${sha256(key).slice(0, 16)}.lock`)
}

/**
 * Session 25: one apply at a time per machine, whichever twin it comes from. The twin lock is per
 * twin: two twins of one machine (root's and an admin's, or two --repo) applied at once, each
 * checking a file just before writing it, and each took the other's write for its own result. On
 * the services root, two applies of 100 files each: 15 of the 200 were reported applied, then
 * overwritten by the other run, and the after-snapshot recorded the other's content in the twin,
 * nothing pending, "Drift: none" — the request lost silently. Held around ApplyService's whole
 * apply (checkpoint, steps, snapshot after; an apply of revert and pull too), before the twin
 * lock. A run that cannot make the lock folder (not root: it cannot change another user's files
 * either) applies without it, as before.
 *
 * `began`, handed to `fn`: called once the apply will change the machine (it holds the twin too,
 * its plan fits and is not stale), before its first change (again: a no-op); it rewrites the
 * `.began` record a snapshot's second look reads (watchForApplies). Session 29: written as the lock was taken, an apply then refused (its
 * twin held by that twin's own snapshot, the TUI's plan stale) changed nothing, yet the snapshot was
 * refused for "an apply meanwhile", a scheduled one skipped as busy saying the apply would record
 * the machine.
 */
export async function holdMachine<T>(root: string, twinDir: string, fn: (began: () => void) => Promise<T>, dir: string = MACHINE_LOCK_DIR): Promise<T> {
  const unheld = () => undefined
  try {
    mkdirSync(dir, { recursive: true, mode: 0o755 })
    const made = lstatSync(dir)
    // Only a real folder of this user's or root's: never follow a link another user left there.
    if (!made.isDirectory() || (made.uid !== 0 && made.uid !== process.getuid?.())) return await fn(unheld)
  } catch {
    return await fn(unheld)
  }
  const path = machineLockPath(root, dir)
  const lock = new TwinLock(path)
  try {
    await lock.acquire(applyPurpose(twinDir))
  } catch (error) {
    if (!isTwinSyncError(error) || error.code !== 'LOCK_HELD') throw error
    const holder = await lock.holder()
    throw new TwinSyncError('LOCK_HELD', `Another TwinSync run is applying to this machine (${root})${holder === undefined ? '' : `: ${holder.purpose}, pid ${holder.pid}, since ${holder.since}`}; nothing was applied`, {
      nextStep: `Wait for it to finish${holder === undefined ? '' : ` (\`ps -p ${holder.pid}\`)`}, then plan and apply again: what this twin asks for stays pending.`,
      details: { lock: path, ...(holder === undefined ? {} : { holder }) },
    })
  }
  // Said before the first change: a snapshot of another twin collecting meanwhile sees it (watchForApplies). Once.
  let said = false
  const began = () => {
    if (said) return
    said = true
    try {
      writeFileSync(beganPath(path), JSON.stringify({ purpose: applyPurpose(twinDir), pid: process.pid, since: new Date().toISOString() }) + '\n')
    } catch {
      // Best effort: the look at the lock still refuses a snapshot that starts during the apply.
    }
  }
  try {
    return await fn(began)
  } finally {
    await lock.release()
  }
}

/** Beside a machine's lock: the last apply that took it (who, when), rewritten by each. */
function beganPath(lockPath: string): string {
  return lockPath.replace(/\.lock$/, '.began')
}

/** What an apply's machine lock (and its `.began` record) says it is held for: the twin it applies. */
function applyPurpose(twinDir: string): string {
  return `apply of the twin ${twinDir}`
}

/**
 * Session 27 (red team): a snapshot or adopt of one twin while another twin's apply runs on the
 * same machine recorded a moment of that apply: a file its check was about to put back (a
 * rejected configuration) became twin B's record of the machine, and B's next plan asked to write
 * it again. Refused while another process applies to this machine (its live machine lock):
 * LOCK_HELD naming it, so a scheduled snapshot (--if-changed) is skipped as "busy" and leaves the
 * record to the next one. The apply's own checkpoints and snapshot after run in its process and
 * are not refused. A run that starts applying after this look is caught by `watchForApplies`.
 */
export async function refuseWhileAnotherApplies(root: string, what: string, dir: string = MACHINE_LOCK_DIR, twinDir?: string): Promise<void> {
  const holder = await new TwinLock(machineLockPath(root, dir)).holder().catch(() => undefined)
  if (holder === undefined || holder.pid === process.pid) return
  throw new TwinSyncError('LOCK_HELD', `Another TwinSync run is applying to this machine (${root}): ${holder.purpose}, pid ${holder.pid}, since ${holder.since}; no ${what} was made (it would record a moment of that apply, such as a file its check is about to put back)`, {
    nextStep: `Wait for it to finish (\`ps -p ${holder.pid}\`), then run the ${what} again.`,
    // `applyingTo`, `ownTwin`: a scheduled snapshot's busy line says another run applies to the
    // machine, of this twin (which records the machine when it ends: apt's hook during the apt
    // provider's own install) or of another (which records nothing here); session 28: apt's hook
    // said "is using the twin" for both.
    details: { lock: machineLockPath(root, dir), holder, applyingTo: root, ownTwin: twinDir !== undefined && holder.purpose === applyPurpose(twinDir) },
  })
}

/**
 * Session 28: `refuseWhileAnotherApplies` was a look before the collect: an apply that began while
 * a snapshot of another twin was collecting (and maybe ended before it) was still recorded. The
 * look, and what it returns looks again once the collect is over, before anything is committed:
 * refused (LOCK_HELD) when another process applies now, or when an apply began meanwhile (each one
 * rewrites the `.began` record beside the lock, holdMachine). No lock is taken: a snapshot never
 * holds back an apply, and costs two small reads in /run.
 */
export async function watchForApplies(root: string, what: string, dir: string = MACHINE_LOCK_DIR, twinDir?: string): Promise<() => Promise<void>> {
  await refuseWhileAnotherApplies(root, what, dir, twinDir)
  const path = beganPath(machineLockPath(root, dir))
  const before = readBegan(path)
  return async () => {
    await refuseWhileAnotherApplies(root, what, dir, twinDir)
    const now = readBegan(path)
    if (now === before) return
    const holder = parseBegan(now)
    throw new TwinSyncError('LOCK_HELD', `Another TwinSync run applied to this machine (${root}) while this ${what} read it${holder === undefined ? '' : `: ${holder.purpose}, pid ${holder.pid}, since ${holder.since}`}; no ${what} was made (it would record a moment of that apply)`, {
      nextStep: `Run the ${what} again: the machine is read anew.`,
      // `meanwhile`: the busy line says that apply ran during the read (it may be over).
      details: { record: path, ...(holder === undefined ? {} : { holder }), applyingTo: root, meanwhile: true, ownTwin: twinDir !== undefined && holder?.purpose === applyPurpose(twinDir) },
    })
  }
}

function readBegan(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return undefined
  }
}

function parseBegan(text: string | undefined): { purpose: string; pid: number; since: string } | undefined {
  try {
    const value = JSON.parse(text ?? '') as { purpose?: unknown; pid?: unknown; since?: unknown }
    return typeof value.purpose === 'string' && typeof value.pid === 'number' && typeof value.since === 'string' ? { purpose: value.purpose, pid: value.pid, since: value.since } : undefined
  } catch {
    return undefined
  }
}
