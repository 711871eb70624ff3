import { randomBytes } from 'node:crypto'
import { basename, dirname, join } from 'node:path'

/**
 * How an atomic write's calls wait (the order of its steps is the same in all three):
 * - 'promises' (the default): fs/promises, as the host port writes a machine's files: a provider
 *   call's time limit and Ctrl-C fire while a write hangs on a stalled mount (session 52's review, M1);
 * - 'pool': fs's callback calls, on libuv's pool as fs/promises' are, without loading Node's
 *   fs/promises (its readline interface, watchers and dir modules: eight modules, 4.0 M
 *   instructions to load alone, session 52): the twin's state written inside a provider call (the
 *   files provider's secret-hash key), whose time limit and Ctrl-C must still fire;
 * - 'blocking': synchronous calls: the twin's own state, written while the command holds the twin
 *   and waits for it outside any provider call (the move's record). Speed (issue 22, session 53):
 *   `snapshot --init` of the minbase root −20.7 M instructions on the main thread with 'pool' and
 *   'blocking' where fs/promises was (docs/architecture.md, Speed).
 */
export type AtomicWait = 'promises' | 'pool' | 'blocking'

export interface AtomicWriteOptions {
  /** Permission bits including setuid/setgid/sticky; default 0o644. */
  mode?: number
  uid?: number
  gid?: number
  /**
   * The rest of the final metadata (extended attributes, capabilities), given to the temp file
   * after its owner and mode and before it is synced and renamed; `temp` is its host path.
   */
  finish?: (temp: string, fd: number) => Promise<void>
  /** The modification time the file ends with (set after `finish`, before the sync); default: now. */
  mtimeMs?: number
  /**
   * Called with the temp file's descriptor right after it is made (before a byte is written),
   * and with `placed: true` right after the rename: throws when the file is not where it was
   * meant to be (a folder on the way swapped for a symlink meanwhile; LocalHost checks
   * /proc/self/fd). Thrown after the open: the temp file goes; after the rename: nothing more.
   */
  verify?: (fd: number, at: string, placed: boolean) => void
  /** How the calls wait (AtomicWait); default 'promises'. */
  wait?: AtomicWait
}

/**
 * Write a file so that a reader sees either the old content or the new, never half of it:
 * temp file in the same directory, chown/chmod (and `finish`: extended attributes,
 * capabilities), fsync, rename over the target, fsync the directory. All metadata is set on the
 * temp file before the rename so the target never exists with the wrong ones, even for a moment.
 * The one algorithm for every atomic write of TwinSync's (session 54: the twin's state files had
 * a copy of it, core/src/twin/state-file.ts); `wait` chooses only how its calls wait.
 */
export async function writeFileAtomic(
  hostPath: string,
  data: string | Uint8Array,
  options: AtomicWriteOptions = {},
): Promise<void> {
  const calls = CALLS[options.wait ?? 'promises']
  const dir = dirname(hostPath)
  const temp = join(dir, tempName(basename(hostPath)))
  const file = await calls.open(temp, 'wx', 0o600)
  let renamed = false
  try {
    options.verify?.(file.fd, temp, false)
    await file.writeFile(data)
    if (options.uid !== undefined || options.gid !== undefined) {
      await file.chown(options.uid ?? -1, options.gid ?? -1)
    }
    // chmod after chown: chown clears setuid/setgid bits.
    await file.chmod(options.mode ?? 0o644)
    await options.finish?.(temp, file.fd)
    if (options.mtimeMs !== undefined) await file.utimes(new Date(), new Date(options.mtimeMs))
    // Synced last: content and every piece of metadata reach the disk before the rename.
    await file.sync()
    await calls.rename(temp, hostPath)
    renamed = true
    try {
      options.verify?.(file.fd, hostPath, true)
    } finally {
      await file.close()
    }
  } catch (error) {
    if (!renamed) {
      await file.close().catch(() => undefined)
      await calls.unlink(temp).catch(() => undefined)
    }
    throw error
  }
  const folder = await calls.open(dir, 'r')
  try {
    await folder.sync()
  } finally {
    await folder.close()
  }
}

/** An open file of the write, its calls named as fs/promises' FileHandle names them. */
interface OpenFile {
  readonly fd: number
  writeFile(data: string | Uint8Array): Promise<void>
  chown(uid: number, gid: number): Promise<void>
  chmod(mode: number): Promise<void>
  utimes(atime: Date, mtime: Date): Promise<void>
  sync(): Promise<void>
  close(): Promise<void>
}

/**
 * The calls of one form. Each looks its function up on `fs` (the module object) when made, never
 * through a name bound at this module's top: what patches fs, as the kill-points do
 * (core/test/support/kill-points.ts), sees every call in every form, bundled or not.
 */
interface Calls {
  open(path: string, flags: string, mode?: number): Promise<OpenFile>
  rename(from: string, to: string): Promise<void>
  unlink(path: string): Promise<void>
}

/**
 * Node's fs module object itself, as require gives it: a default or namespace import would be
 * bundled as a copy of its ~100 names (esbuild's __toESM) made as the SDK loads, in every run
 * (+0.6 M instructions an unchanged snapshot, measured, session 54).
 */
const fs = process.getBuiltinModule('node:fs')

const CALLS: Record<AtomicWait, Calls> = {
  // fs.promises is read when first used: a run that writes nothing through it never loads fs/promises.
  promises: {
    open: (path, flags, mode) => fs.promises.open(path, flags, mode),
    rename: (from, to) => fs.promises.rename(from, to),
    unlink: (path) => fs.promises.unlink(path),
  },
  pool: {
    open: (path, flags, mode) => new Promise((resolve, reject) => fs.open(path, flags, mode, (error, fd) => (error ? reject(error) : resolve(pooledFile(fd))))),
    rename: (from, to) => pooled((done) => fs.rename(from, to, done)),
    unlink: (path) => pooled((done) => fs.unlink(path, done)),
  },
  // The synchronous calls are done when they return; the promise only carries the answer.
  blocking: {
    open: async (path, flags, mode) => blockingFile(fs.openSync(path, flags, mode)),
    rename: async (from, to) => fs.renameSync(from, to),
    unlink: async (path) => fs.unlinkSync(path),
  },
}

function blockingFile(fd: number): OpenFile {
  return {
    fd,
    writeFile: async (data) => fs.writeFileSync(fd, data),
    chown: async (uid, gid) => fs.fchownSync(fd, uid, gid),
    chmod: async (mode) => fs.fchmodSync(fd, mode),
    utimes: async (atime, mtime) => fs.futimesSync(fd, atime, mtime),
    sync: async () => fs.fsyncSync(fd),
    close: async () => fs.closeSync(fd),
  }
}

function pooledFile(fd: number): OpenFile {
  return {
    fd,
    writeFile: (data) => pooled((done) => fs.writeFile(fd, data, done)),
    chown: (uid, gid) => pooled((done) => fs.fchown(fd, uid, gid, done)),
    chmod: (mode) => pooled((done) => fs.fchmod(fd, mode, done)),
    utimes: (atime, mtime) => pooled((done) => fs.futimes(fd, atime, mtime, done)),
    sync: () => pooled((done) => fs.fsync(fd, done)),
    close: () => pooled((done) => fs.close(fd, done)),
  }
}

/** A callback call as a promise: settled with nothing, or with the call's error. */
function pooled(call: (done: (error: NodeJS.ErrnoException | null) => void) => void): Promise<void> {
  return new Promise((resolve, reject) => call((error) => (error ? reject(error) : resolve())))
}

/** Linux's NAME_MAX, in bytes. */
const NAME_MAX = 255
const SUFFIX_BYTES = '.twinsync-'.length + 12

/**
 * `.NAME.twinsync-RANDOM`, NAME cut (at a character, by its UTF-8 bytes) so the whole stays
 * within NAME_MAX: a file whose own name is 233 bytes or longer could not be written before
 * (session 13: ENAMETOOLONG for the temp file, the step failed).
 */
export function tempName(name: string): string {
  return `.${tempStem(name)}.twinsync-${randomBytes(6).toString('hex')}`
}

/**
 * Is `entry` (a name in a folder) a temporary file tempName makes for a file named `name`: the
 * exact pattern, NAME cut as tempName cuts it. So a sweep removes only what a write of that very
 * file left, never a person's file that merely looks like one (session 46's review, G4).
 */
export function isTempNameOf(entry: string, name: string): boolean {
  const stem = tempStem(name)
  return entry.length === stem.length + SUFFIX_BYTES + 1 && entry.startsWith(`.${stem}.twinsync-`) && /^[0-9a-f]{12}$/.test(entry.slice(-12))
}

/** NAME of tempName's `.NAME.twinsync-RANDOM`: the name, cut (at a character) to fit NAME_MAX. */
function tempStem(name: string): string {
  const room = NAME_MAX - 1 - SUFFIX_BYTES
  let kept = name
  while (Buffer.byteLength(kept) > room) kept = kept.slice(0, -1)
  // Never half a surrogate pair (slice counts UTF-16 units).
  if (/[\uD800-\uDBFF]$/.test(kept)) kept = kept.slice(0, -1)
  return kept
}
