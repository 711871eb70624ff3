import { closeSync, constants, fchmodSync, fstatSync, lstatSync, mkdirSync, openSync, readdirSync, readSync, renameSync, rmdirSync, unlinkSync, writeFileSync, type Stats } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { lstat, rm, symlink, unlink } from 'node:fs/promises'
import { dirname, join } from 'node:path'
// Only the SDK's errors: the git module imports this file and stays light at start-up.
import { TwinSyncError } from '@twinsync/sdk/errors'
import { diskError } from './disk-error.js'
import { quoteArg } from '../plan/command-text.js'

/**
 * Every file access inside the twin repository. The twin can arrive from a mirror someone else
 * pushes to, so a path in it is data, never a route: no component of a twin path is ever
 * followed as a symlink. Reads refuse a symlink with TWIN_SYMLINK (naming it); writes replace a
 * symlink in the way (the link itself, never what it points at) the way they replace a folder
 * that became a file; listings report symlinks as entries and never descend into them.
 *
 * Checked component by component with lstat, and the last step opened with O_NOFOLLOW. The
 * threat is the repository's content (what a pull brings), not a process racing us on the disk.
 */

/** NAME_MAX of Linux file systems: a longer name cannot be made in the working twin, nor on the machine. */
export const NAME_MAX_BYTES = 255
/** PATH_MAX: the longest path the system takes, with its NUL (a longer one fails with ENAMETOOLONG). */
export const PATH_MAX_BYTES = 4096

/** Larger twin documents are refused rather than read into memory. */
export const MAX_TWIN_FILE_BYTES = 64 * 1024 * 1024

const NOFOLLOW = constants.O_NOFOLLOW
// O_NONBLOCK: a FIFO planted in the twin must not hang the open (it is then refused by the
// fstat, never read). O_NOCTTY: a terminal device there never becomes a run's controlling terminal.
const READ_FLAGS = constants.O_RDONLY | NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY

/** The components of a twin-relative path, or PATH_INVALID for anything that is not one. */
export function twinPathParts(path: string): string[] {
  const parts = path.split('/')
  if (
    path === '' ||
    path.startsWith('/') ||
    path.includes('\0') ||
    parts.some((p) => p === '' || p === '.' || p === '..' || p.toLowerCase() === '.git')
  ) {
    throw new TwinSyncError('PATH_INVALID', `Not a twin path: ${JSON.stringify(path)}`, { details: { path } })
  }
  return parts
}

/** `git -C DIR rm -- PATH`, quoted so that it can be pasted as it is. */
function gitRm(dir: string, path: string): string {
  return `git -C ${quoteArg(dir)} rm -r -- ${quoteArg(path)}`
}

export function twinSymlinkError(path: string, dir: string): TwinSyncError {
  return new TwinSyncError('TWIN_SYMLINK', `${path} in the twin is a symlink; TwinSync never follows a symlink inside the twin`, {
    nextStep: `Replace it with a regular file or remove it (\`${gitRm(dir, path)}\`); a symlink on the machine is recorded in system/files/manifest.json, not as a link.`,
    details: { path },
  })
}

/** What lstat found at a path that is neither a regular file, a symlink nor a folder, in words. */
function otherKind(s: { isFIFO(): boolean; isSocket(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean }): string {
  return s.isFIFO() ? 'a FIFO (named pipe)' : s.isSocket() ? 'a socket' : s.isCharacterDevice() ? 'a character device' : s.isBlockDevice() ? 'a block device' : 'a special file'
}

/**
 * TWIN_NOT_REGULAR: a FIFO, socket or device node at a twin path (put there by hand: git cannot
 * carry one). It is no document, and it is not a deleted one either: read as absent, `plan` would
 * plan deleting the machine's file while `status` and `snapshot` failed in `git add`. The one
 * refusal for every way TwinSync reads the working twin: its own reads (readTwinFileSync and the
 * others here: an open that cannot hang and an fstat of what it opened, openRegular; never a read),
 * the working twin's look (TwinRepository.dirtyPaths: git lists such a file at a tracked path as
 * modified) and git's `add` (gitError).
 */
export function twinNotRegularError(path: string, dir: string, what = 'not a regular file'): TwinSyncError {
  return new TwinSyncError('TWIN_NOT_REGULAR', `${path} in the twin is ${what}, not a regular file; a twin document is a regular file, and TwinSync neither reads it nor takes it for a deleted document`, {
    nextStep: `Remove it (\`rm ${quoteArg(join(dir, path))}\`), then run the command again; \`git -C ${quoteArg(dir)} checkout -- ${quoteArg(path)}\` then puts back the document the twin's last commit holds.`,
    details: { path },
  })
}

/** TWIN_NOT_REGULAR when the twin path (whose folders are real ones) holds a FIFO, socket or device; a symlink, folder or file is not refused here. */
export function refuseNotRegular(dir: string, path: string): void {
  const s = lstatTwinPath(dir, path)
  if (s !== undefined && !s.isFile() && !s.isDirectory() && !s.isSymbolicLink()) throw twinNotRegularError(path, dir, otherKind(s))
}

/**
 * lstat of a twin path: undefined when nothing is there, a folder on the way included (ENOTDIR: a
 * file where a folder was checked a moment before, or in a `checked` set of an earlier look: the
 * open this lstat came before said undefined there too; chaos's SIGKILL trials met it as an
 * internal error, a folder the interrupted apply made a file in the working twin).
 */
function lstatTwinPath(dir: string, path: string): Stats | undefined {
  try {
    return lstatSync(join(dir, path), { throwIfNoEntry: false })
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined
    throw error
  }
}

type Kind = 'file' | 'directory' | 'symlink' | 'other' | 'missing'

/*
 * Speed (issue 22): the checks and reads below are synchronous calls. `plan` and `status` read
 * every twin document the providers load (on the services root about 230 files, each an lstat
 * per folder above it, then open, fstat, read, close), and every call through fs/promises was a
 * round trip through libuv's thread pool awaited in turn. Listing and reading the services
 * root's twin (225 documents, 1.3 MB; fresh process, medians of 7, load 8): 43 → 14 ms of CPU,
 * 53 → 24 ms wall.
 */
function kindOf(abs: string): Kind {
  try {
    const s = lstatSync(abs, { throwIfNoEntry: false })
    if (s === undefined) return 'missing'
    return s.isSymbolicLink() ? 'symlink' : s.isDirectory() ? 'directory' : s.isFile() ? 'file' : 'other'
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR') return 'missing'
    throw error
  }
}

/**
 * Folders of one twin already found to be real directories (never symlinks) by one reader that
 * only reads (TwinRepository.reader: a plan's or status's pass over the twin, during which
 * nothing of TwinSync writes it). Speed (issue 22): each document's read had an lstat for every
 * folder above it, about 800 for the services twin's 225 documents, though they share a few
 * dozen folders. Kept by that reader alone, never for a write: a later reader checks again.
 */
export type CheckedFolders = Set<string>

/**
 * Walk the folders above a twin path without following anything. Returns 'ok' when every one
 * is a real directory, 'missing' when one is absent or not a folder; throws on a symlink.
 */
function checkAncestors(dir: string, parts: string[], checked?: CheckedFolders): 'ok' | 'missing' {
  let rel = ''
  for (let i = 0; i < parts.length - 1; i++) {
    rel = i === 0 ? (parts[0] as string) : `${rel}/${parts[i] as string}`
    if (checked?.has(rel) === true) continue
    const kind = kindOf(join(dir, rel))
    if (kind === 'symlink') throw twinSymlinkError(rel, dir)
    if (kind !== 'directory') return 'missing'
    checked?.add(rel)
  }
  return 'ok'
}

/**
 * What is at a twin path (its folders checked first: checkAncestors), from lstat, for a caller
 * that opens nothing (a size, "is a file there"): undefined when nothing or a folder is there;
 * TWIN_SYMLINK for a link; TWIN_NOT_REGULAR for a FIFO, socket or device.
 */
function regularFile(dir: string, path: string): Stats | undefined {
  const s = lstatTwinPath(dir, path)
  if (s === undefined || s.isDirectory()) return undefined
  if (s.isSymbolicLink()) throw twinSymlinkError(path, dir)
  if (!s.isFile()) throw twinNotRegularError(path, dir, otherKind(s))
  return s
}

/**
 * The twin file at a path (its folders checked first) opened to read, and what the descriptor
 * is: undefined when nothing or a folder is there; TWIN_SYMLINK for a link at its own name
 * (O_NOFOLLOW); TWIN_NOT_REGULAR for a FIFO, socket or device, found by fstat of the descriptor
 * itself, so nothing can be swapped in between the look and the read (session 36: session 35's
 * lstat before the open left that window, a FIFO put there in it was read as an empty document).
 * The open cannot hang (O_NONBLOCK) nor take a terminal (O_NOCTTY); what is not a regular file is
 * closed unread. A socket cannot be opened at all (ENXIO): lstat names it. Speed: open, fstat,
 * read, close, the four calls of session 35's lstat, open, read, close (the Speed table's row).
 */
function openRegular(dir: string, path: string): { fd: number; size: number } | undefined {
  let fd: number
  try {
    fd = openSync(join(dir, path), READ_FLAGS)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ELOOP' || code === 'EMLINK') throw twinSymlinkError(path, dir)
    // A file where a folder of the path was checked a moment before: no document (chaos's SIGKILL trials).
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined
    // A socket, or a device whose driver is not there: named by lstat, never read.
    if (code === 'ENXIO' || code === 'ENODEV') {
      refuseNotRegular(dir, path)
      return undefined
    }
    throw error
  }
  let s: Stats
  try {
    s = fstatSync(fd)
  } catch (error) {
    closeSync(fd)
    throw error
  }
  if (s.isFile()) return { fd, size: s.size }
  closeSync(fd)
  if (s.isDirectory()) return undefined
  throw twinNotRegularError(path, dir, otherKind(s))
}

/** The file's bytes, undefined when the twin has nothing (or a folder) there; TWIN_SYMLINK for a link, TWIN_NOT_REGULAR for a FIFO, socket or device. */
export async function readTwinFile(dir: string, path: string, checked?: CheckedFolders): Promise<Buffer | undefined> {
  return readTwinFileSync(dir, path, checked)
}

/** readTwinFile, synchronously. */
export function readTwinFileSync(dir: string, path: string, checked?: CheckedFolders): Buffer | undefined {
  const parts = twinPathParts(path)
  // A folder is in `checked` only once every folder above it is (checkAncestors and listTwinFiles
  // go from the top): a document whose own folder is there needs no walk up (session 8: the scale
  // twin's 19,500 documents, each a string built and looked up for every folder above it).
  const slash = path.lastIndexOf('/')
  if (!(slash > 0 && checked?.has(path.slice(0, slash)) === true) && checkAncestors(dir, parts, checked) === 'missing') return undefined
  const opened = openRegular(dir, path)
  if (opened === undefined) return undefined
  const { fd, size } = opened
  try {
    if (size > MAX_TWIN_FILE_BYTES) {
      throw new TwinSyncError('TWIN_FILE_TOO_LARGE', `${path} in the twin is ${size} bytes; twin documents are at most ${MAX_TWIN_FILE_BYTES}`, {
        nextStep: `Remove it from the twin (\`${gitRm(dir, path)}\`).`,
        details: { path, size },
      })
    }
    return readSize(fd, size)
  } finally {
    closeSync(fd)
  }
}

/**
 * The size of the regular file at a twin path, from lstat alone (never opened, never read), or
 * undefined when the twin has no regular file there; TWIN_SYMLINK for a symlink, TWIN_NOT_REGULAR
 * for a FIFO, socket or device, as a read would say. For a caller that must not read an oversized document into memory (TwinReader.sizeOf).
 */
export function twinFileSizeSync(dir: string, path: string, checked?: CheckedFolders): number | undefined {
  const parts = twinPathParts(path)
  if (checkAncestors(dir, parts, checked) === 'missing') return undefined
  return regularFile(dir, path)?.size
}

/**
 * Whether the twin holds exactly `expected` as a regular file at this path (undefined: it holds
 * no regular file there), read a chunk at a time and never whole: a size that differs answers
 * without a read, so a document over MAX_TWIN_FILE_BYTES is compared, not refused. For a
 * compare-and-swap (IntentService.putUnlessSaved): session 33, a person's save over the limit
 * was taken for a file that cannot be read ("not kept pending") instead of for a save.
 * TWIN_SYMLINK for a symlink on the way, TWIN_NOT_REGULAR for a FIFO, socket or device, as a read says.
 */
export function twinFileEquals(dir: string, path: string, expected: Uint8Array | undefined): boolean {
  const parts = twinPathParts(path)
  if (checkAncestors(dir, parts) === 'missing') return expected === undefined
  const opened = openRegular(dir, path)
  if (opened === undefined) return expected === undefined
  const { fd, size } = opened
  try {
    if (expected === undefined || size !== expected.byteLength) return false
    const want = Buffer.from(expected.buffer, expected.byteOffset, expected.byteLength)
    const chunk = Buffer.allocUnsafe(Math.max(1, Math.min(size, COMPARE_CHUNK_BYTES)))
    let at = 0
    while (at < size) {
      const got = readSync(fd, chunk, 0, Math.min(chunk.length, size - at), null)
      if (got === 0 || !chunk.subarray(0, got).equals(want.subarray(at, at + got))) return false
      at += got
    }
    // Grown since the fstat: not the bytes expected.
    return readSync(fd, chunk, 0, 1, null) === 0
  } finally {
    closeSync(fd)
  }
}

/** twinFileEquals's read size: a chunk of a large document at a time, not the document. */
const COMPARE_CHUNK_BYTES = 1024 * 1024

/**
 * The `size` bytes the fstat gave (openRegular), read into a buffer of that size: not a second
 * fstat, as readFileSync(fd) makes (session 8: a `plan` or `status` of the services root reads about 225
 * documents; its `statx` calls 2,646 → 2,424, all its system calls 6,530 → 6,139 with the rows of
 * collected-texts.ts and MadeDocuments). A file that shrank meanwhile gives what it has; one that
 * grew, the size it had (the threat is the twin's content, not a writer racing us).
 */
function readSize(fd: number, size: number): Buffer {
  // Not from Buffer's shared pool: a buffer of its own, as readFileSync gives.
  const bytes = Buffer.allocUnsafeSlow(size)
  let at = 0
  while (at < size) {
    const got = readSync(fd, bytes, at, size - at, null)
    if (got === 0) return bytes.subarray(0, at)
    at += got
  }
  return bytes
}

function ignoreMissing(error: NodeJS.ErrnoException): void {
  if (error.code !== 'ENOENT') throw error
}

/** The mode bits of a regular file at the path (no-follow), or undefined. */
export async function twinFileMode(dir: string, path: string): Promise<number | undefined> {
  const parts = twinPathParts(path)
  if (checkAncestors(dir, parts) === 'missing') return undefined
  const s = await lstat(join(dir, path)).catch(() => undefined)
  return s?.isFile() === true ? s.mode & 0o777 : undefined
}

/** Make every folder above a twin path a real directory, removing (never following) whatever is in the way. */
async function makeFolders(dir: string, parts: string[]): Promise<void> {
  for (let i = 1; i < parts.length; i++) {
    const abs = join(dir, ...parts.slice(0, i))
    const kind = kindOf(abs)
    if (kind === 'directory') continue
    if (kind !== 'missing') {
      try {
        unlinkSync(abs)
      } catch (error) {
        ignoreMissing(error as NodeJS.ErrnoException)
      }
    }
    // Writes run in parallel: another one may have made the folder meanwhile.
    try {
      mkdirSync(abs, { mode: 0o755 })
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || kindOf(abs) !== 'directory') throw error
    }
  }
}

/**
 * Write a regular file. Anything in the way that is not a directory (a symlink, a file where a
 * folder is needed) is removed first, never followed: the writer owns the path.
 */
export async function writeTwinFile(dir: string, path: string, bytes: Uint8Array, mode: number): Promise<void> {
  await makeFolders(dir, twinPathParts(path))
  const target = join(dir, path)
  const kind = kindOf(target)
  if (kind === 'directory') await rm(target, { recursive: true })
  else if (kind === 'symlink' || kind === 'other') await unlink(target).catch(ignoreMissing)
  // Whole or not at all: written aside (inside .git, so never a twin file), then renamed over
  // the path, which replaces a link in the way rather than following it. Synchronous calls: a twin
  // file, written by the core (init, adopt, a document put back) in no provider call, whose time
  // limit a blocked call would hold up; fs/promises loaded for them alone in init (session 53).
  const temp = join(dir, '.git', 'twinsync', `.document.twinsync-${randomBytes(6).toString('hex')}`)
  mkdirSync(dirname(temp), { recursive: true })
  try {
    const fd = openSync(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | NOFOLLOW, mode)
    try {
      writeFileSync(fd, bytes)
      fchmodSync(fd, mode)
    } finally {
      closeSync(fd)
    }
    renameSync(temp, target)
  } catch (error) {
    try {
      unlinkSync(temp)
    } catch {}
    throw diskError(error, dir)
  }
}

/**
 * Put back a symlink that a twin commit records (mode 120000), as git's checkout would: as a
 * link, which every reader then refuses; never anything written through it.
 */
export async function writeTwinSymlink(dir: string, path: string, target: string): Promise<void> {
  await makeFolders(dir, twinPathParts(path))
  const abs = join(dir, path)
  const kind = kindOf(abs)
  if (kind === 'directory') await rm(abs, { recursive: true })
  else if (kind !== 'missing') await unlink(abs).catch(ignoreMissing)
  await symlink(target, abs)
}

/**
 * The next step when the working twin refuses a file of a move (TWIN_MOVE_FAILED: a snapshot's,
 * atomic-snapshot.ts; a pull's, pull-move.ts), by the cause's errno: the folder's attributes for
 * EPERM/EACCES, the disk for ENOSPC/EDQUOT. `then`: what to run once the cause is gone.
 */
export function moveFailedNextStep(dir: string, path: string, cause: string | undefined, then: string): string {
  if (cause === 'ENOSPC' || cause === 'EDQUOT') return `Free some space (\`df -h ${dir}\`), then ${then}.`
  const why = cause === 'EPERM' || cause === 'EACCES' ? ` (an immutable or read-only folder? \`lsattr -d ${join(dir, dirname(path))}\`)` : cause === 'EROFS' ? " (the twin's file system is read-only)" : ''
  return `Remove the cause${why}, then ${then}.`
}

/** Remove a file (a symlink is removed as a link). Beyond a symlinked folder there is nothing to remove. */
export async function removeTwinFile(dir: string, path: string): Promise<void> {
  const parts = twinPathParts(path)
  try {
    if (checkAncestors(dir, parts) === 'missing') return
  } catch (error) {
    if ((error as TwinSyncError).code === 'TWIN_SYMLINK') return
    throw error
  }
  // A folder there now (a type change): there is no such document to remove. unlink, not rm: rm
  // answers a file it may not remove (EPERM, an immutable folder) with ENOTDIR from a scandir it
  // tries next, which names neither the file nor the cause (session 34).
  const abs = join(dir, path)
  const removed = await unlink(abs).then(
    () => true,
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return true // gone already: its empty folders go still, as before
      if (error.code === 'EISDIR' || (error.code === 'EPERM' && kindOf(abs) === 'directory')) return false
      throw error
    },
  )
  // The folders it leaves empty go too, as git removes them (a discarded filesystem/root/.ssh/x
  // leaves no filesystem/root/.ssh), up to the twin's top folders; rmdir removes only an empty one.
  if (!removed) return
  for (let at = parts.length - 1; at > 1; at--) {
    try {
      rmdirSync(join(dir, ...parts.slice(0, at)))
    } catch {
      break
    }
  }
}

/**
 * Every entry under a folder of the twin ("system/", "filesystem/etc/"), sorted: regular files
 * and symlinks (as entries, for the reader to refuse), never descending into a symlink.
 */
export async function listTwinFiles(dir: string, prefix: string, checked?: CheckedFolders): Promise<string[]> {
  const out: string[] = []
  const walk = (rel: string): void => {
    let entries
    try {
      entries = readdirSync(rel === '' ? dir : join(dir, rel), { withFileTypes: true })
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (code === 'ENOENT' || code === 'ENOTDIR') return
      throw error
    }
    for (const e of entries) {
      const child = rel === '' ? e.name : `${rel}/${e.name}`
      if (child === '.git') continue
      if (e.isDirectory()) {
        // The listing's own type (no link followed): a real directory, as checkAncestors would find it.
        checked?.add(child)
        walk(child)
      } else if (e.isFile() || e.isSymbolicLink()) out.push(child)
    }
  }
  if (prefix === '') {
    walk('')
    return out.sort(byCodePoint)
  }
  const folder = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix
  const parts = twinPathParts(folder)
  if (checkAncestors(dir, parts, checked) === 'missing') return []
  const kind = kindOf(join(dir, folder))
  if (prefix.endsWith('/')) {
    if (kind === 'symlink') throw twinSymlinkError(folder, dir)
    if (kind === 'directory') {
      checked?.add(folder)
      walk(folder)
    }
  } else if (kind === 'file' || kind === 'symlink') {
    out.push(folder)
  }
  return out.sort(byCodePoint)
}

/**
 * listTwinFiles answered from the paths and modes of an index the working twin was just found to
 * be exactly (nothing edited, added or missing: quick-status.ts), without reading a folder: the
 * same list, and the same refusal of a symlink above or at the folder. Speed (issue 22): a
 * `plan` or `status` lists `filesystem/` twice (files, autostart), cron's folders, `system/` and
 * `plans/`, each a walk of the twin's folders.
 */
export function listIndexed(entries: ReadonlyMap<string, { mode: string }>, dir: string, prefix: string): string[] {
  if (prefix === '') return [...entries.keys()].sort(byCodePoint)
  const folder = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix
  const parts = twinPathParts(folder)
  // The folders above it, as checkAncestors finds them: a link is refused, a file means nothing there.
  let rel = ''
  for (let i = 0; i < parts.length - 1; i++) {
    rel = i === 0 ? (parts[0] as string) : `${rel}/${parts[i] as string}`
    const entry = entries.get(rel)
    if (entry?.mode === '120000') throw twinSymlinkError(rel, dir)
    if (entry !== undefined) return []
  }
  const own = entries.get(folder)
  if (!prefix.endsWith('/')) return own === undefined ? [] : [folder]
  if (own?.mode === '120000') throw twinSymlinkError(folder, dir)
  if (own !== undefined) return []
  const under = `${folder}/`
  return [...entries.keys()].filter((p) => p.startsWith(under)).sort(byCodePoint)
}

/** Is there a regular file at the path? A symlink there (or above it) is TWIN_SYMLINK, a FIFO, socket or device TWIN_NOT_REGULAR. */
export async function isTwinFile(dir: string, path: string): Promise<boolean> {
  const parts = twinPathParts(path)
  if (checkAncestors(dir, parts) === 'missing') return false
  return regularFile(dir, path) !== undefined
}

function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
