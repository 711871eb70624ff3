import { randomBytes } from 'node:crypto'
import { open, rename, unlink, chown, chmod } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'

export interface AtomicWriteOptions {
  /** Permission bits including setuid/setgid/sticky; default 0o644. */
  mode?: number
  uid?: number
  gid?: number
}

/**
 * Write a file so that a reader sees either the old content or the new, never half of it:
 * temp file in the same directory, fsync, chown/chmod, rename over the target, fsync the
 * directory. Owner and mode are set on the temp file before the rename so the target never
 * exists with the wrong ones, even for a moment.
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
    await handle.sync()
  } catch (error) {
    await handle.close()
    await unlink(temp).catch(() => undefined)
    throw error
  }
  await handle.close()
  try {
    if (options.uid !== undefined || options.gid !== undefined) {
      await chown(temp, options.uid ?? -1, options.gid ?? -1)
    }
    // chmod after chown: chown clears setuid/setgid bits.
    await chmod(temp, options.mode ?? 0o644)
    await rename(temp, hostPath)
  } catch (error) {
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
