import { randomBytes } from 'node:crypto'
import { open, rename, unlink } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'

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
}

/**
 * Write a file so that a reader sees either the old content or the new, never half of it:
 * temp file in the same directory, chown/chmod (and `finish`: extended attributes,
 * capabilities), fsync, rename over the target, fsync the directory. All metadata is set on the
 * temp file before the rename so the target never exists with the wrong ones, even for a moment.
 */
export async function writeFileAtomic(
  hostPath: string,
  data: string | Uint8Array,
  options: AtomicWriteOptions = {},
): Promise<void> {
  const dir = dirname(hostPath)
  const temp = join(dir, tempName(basename(hostPath)))
  const handle = await open(temp, 'wx', 0o600)
  let renamed = false
  try {
    options.verify?.(handle.fd, temp, false)
    await handle.writeFile(data)
    if (options.uid !== undefined || options.gid !== undefined) {
      await handle.chown(options.uid ?? -1, options.gid ?? -1)
    }
    // chmod after chown: chown clears setuid/setgid bits.
    await handle.chmod(options.mode ?? 0o644)
    await options.finish?.(temp, handle.fd)
    if (options.mtimeMs !== undefined) await handle.utimes(new Date(), new Date(options.mtimeMs))
    // Synced last: content and every piece of metadata reach the disk before the rename.
    await handle.sync()
    await rename(temp, hostPath)
    renamed = true
    try {
      options.verify?.(handle.fd, hostPath, true)
    } finally {
      await handle.close()
    }
  } catch (error) {
    if (!renamed) {
      await handle.close().catch(() => undefined)
      await unlink(temp).catch(() => undefined)
    }
    throw error
  }
  await syncDirectory(dir)
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

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}
