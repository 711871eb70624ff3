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
  finish?: (temp: string) => Promise<void>
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
  const temp = join(dir, `.${basename(hostPath)}.twinsync-${randomBytes(6).toString('hex')}`)
  const handle = await open(temp, 'wx', 0o600)
  try {
    await handle.writeFile(data)
    if (options.uid !== undefined || options.gid !== undefined) {
      await handle.chown(options.uid ?? -1, options.gid ?? -1)
    }
    // chmod after chown: chown clears setuid/setgid bits.
    await handle.chmod(options.mode ?? 0o644)
    await options.finish?.(temp)
    // Synced last: content and every piece of metadata reach the disk before the rename.
    await handle.sync()
    await handle.close()
    await rename(temp, hostPath)
  } catch (error) {
    await handle.close().catch(() => undefined)
    await unlink(temp).catch(() => undefined)
    throw error
  }
  await syncDirectory(dir)
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}
