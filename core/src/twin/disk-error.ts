import { statfsSync } from 'node:fs'
import { dirname } from 'node:path'
import { TwinSyncError, isTwinSyncError } from '@twinsync/sdk/errors'

/**
 * The one mapping of a full disk to DISK_FULL (session 36). It had three homes that disagreed:
 * this module's (it said "nothing was written and the twin is as it was", though a run that
 * fills the disk part way has written part), the CLI's catch-all for a raw ENOSPC (the panel
 * called the same error "a bug in TwinSync"), and ReconcileService's look at the file system
 * after a git failure (adopt and discard only; a snapshot's, an apply's or a pull's git that
 * failed the same way was GIT_FAILED). Now:
 *
 *   diskError      a write of TwinSync's in the twin (`dir`) that failed for room: DISK_FULL;
 *   gitError       (git.ts) git's failure to write while the file system it wrote on is full
 *                  (git's "couldn't write '…/main.lock'" names no errno): DISK_FULL, through
 *                  gitFailedForRoom below, for every git the twin runs;
 *   userErrorOf    what both front ends (the CLI's catch, the panel's ErrorBox) show: a coded
 *                  error as it is, a raw ENOSPC or EDQUOT that no layer named as DISK_FULL.
 *
 * None of them says "nothing was written": where that is so, the caller that knows says it.
 */

const FULL_ERRNOS = new Set(['ENOSPC', 'EDQUOT'])
/** What a full disk says in text (git's and the C library's words, with or without an errno). */
const FULL_WORDS = /No space left on device|Disk quota exceeded|Out of diskspace/i
/**
 * git's words for a write it could not make, which name no errno ("couldn't write
 * '…/refs/heads/main.lock'", "unable to write new index file", "unable to write loose object
 * file"): a full disk when the file system is full, something else otherwise.
 */
const GIT_WRITE_FAILED = /couldn't write|could not write|unable to write|unable to create|could not create|cannot create|failed to write|short write|write error|unable to append|cannot store|fsync/i

/** A raw ENOSPC or EDQUOT, or text that says so. */
export function isDiskFullCause(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code
  return (typeof code === 'string' && FULL_ERRNOS.has(code)) || FULL_WORDS.test(String((error as Error | undefined)?.message ?? ''))
}

/**
 * The file system holding `dir` has no room left for this process: less than 64 KiB of blocks it
 * may use (root may use the blocks ext4 keeps for it: `bfree`; a user, `bavail`), or no inode
 * where the file system counts them (btrfs and others report none at all: `files` 0, never
 * "full"). False when that cannot be told. A threshold, not 0: a write of several blocks fails
 * with a few still free.
 */
export function noRoomLeft(dir: string): boolean {
  try {
    const s = statfsSync(dir)
    const usable = process.geteuid?.() === 0 ? s.bfree : s.bavail
    return usable * s.bsize < 64 * 1024 || (s.files > 0 && s.ffree === 0)
  } catch {
    return false
  }
}

/** git (its whole message) could not write, while the file system under `dir` is full. */
export function gitFailedForRoom(message: string, dir: string): boolean {
  return GIT_WRITE_FAILED.test(message) && noRoomLeft(dir)
}

/** The failure a person reads: its first line, without Node's stack. */
function firstLine(error: unknown): string {
  return String((error as Error | undefined)?.message ?? error).split('\n')[0] ?? ''
}

/** DISK_FULL for the twin at `dir`, caused by `cause`; what was done is left to the caller to say. */
export function diskFullError(dir: string, cause: unknown, details: Record<string, unknown> = {}): TwinSyncError {
  return new TwinSyncError('DISK_FULL', `The disk holding the twin (${dir}) is full: ${firstLine(cause)}`, {
    nextStep: `Free some space (\`df -h ${dir}\`), then run the command again; status, with the same --root, --repo and --config, shows where the twin stands.`,
    details: { repo: dir, ...details },
    cause,
  })
}

/** ENOSPC and EDQUOT (or their words) become DISK_FULL; anything else is passed on. */
export function diskError(error: unknown, dir: string): unknown {
  return isDiskFullCause(error) ? diskFullError(dir, error) : error
}

/**
 * Is this failure the disk being full? A DISK_FULL, a raw ENOSPC or EDQUOT, or (given the twin's
 * `dir`) a GIT_FAILED whose git could not write while that file system is full.
 */
export function isDiskFull(error: unknown, dir?: string): boolean {
  if (isTwinSyncError(error)) {
    if (error.code === 'DISK_FULL') return true
    if (error.code !== 'GIT_FAILED' || dir === undefined) return false
    const said = (error.details as { git?: unknown } | undefined)?.git
    return gitFailedForRoom(`${error.message}\n${typeof said === 'string' ? said : ''}`, dir)
  }
  return isDiskFullCause(error)
}

/**
 * What a front end shows a person for a failure: a coded error as it is; a raw ENOSPC or EDQUOT
 * (a write no layer named) as DISK_FULL with the folder it failed in; undefined for anything
 * else, which is TwinSync's bug. The CLI's catch and the panel's ErrorBox both ask this.
 */
export function userErrorOf(error: unknown): TwinSyncError | undefined {
  if (isTwinSyncError(error)) return error
  if (!isDiskFullCause(error)) return undefined
  const path = (error as NodeJS.ErrnoException).path
  const where = typeof path === 'string' && path !== '' ? ` ${dirname(path)}` : ''
  return new TwinSyncError('DISK_FULL', `A disk TwinSync writes to is full: ${firstLine(error)}`, {
    nextStep: `Free some space (\`df -h${where}\`), then try again; status, with the same --root, --repo and --config, shows where the twin stands.`,
    ...(where === '' ? {} : { details: { path } }),
    cause: error,
  })
}
