import { close, closeSync, fchmod, fchmodSync, fsync, fsyncSync, open, openSync, rename, renameSync, unlink, unlinkSync, writeFile, writeFileSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { tempName } from '@twinsync/sdk/light'

/**
 * A file of the twin's own state (the snapshot's move record, a provider's durable value in the
 * twin's cache) written whole and durably, as the SDK's writeFileAtomic writes a file: under its
 * temporary name (tempName, so settling's sweeps know it), mode set, synced, renamed over the
 * path, the folder synced. Never a machine's file: those go through the host port, whose
 * writeFileAtomic waits on fs/promises so that a provider call's time limit and Ctrl-C can fire
 * while a write hangs (session 52's review, M1).
 *
 * Speed (issue 22, session 53): without Node's fs/promises, which brings its readline interface,
 * watchers and dir modules (eight modules, 4.0 M instructions to load alone; session 52's
 * figures). `wait`:
 * - 'blocking': synchronous calls, for a write no provider call's time limit covers (the core's
 *   own steps, where the command waits for the write before going on anyway);
 * - 'pool': fs's callback calls, on libuv's pool like fs/promises', for a write made inside a
 *   provider call: the call's time limit and Ctrl-C can still fire while it waits.
 * Both forms are steps of the kill-points (core/test/support/kill-points.ts).
 */
export async function writeStateFile(path: string, data: string | Uint8Array, mode: number, wait: 'blocking' | 'pool'): Promise<void> {
  const fs = wait === 'blocking' ? BLOCKING : POOL
  const folder = dirname(path)
  const temp = join(folder, tempName(basename(path)))
  const fd = await fs.open(temp, 'wx', 0o600)
  let renamed = false
  try {
    await fs.writeFile(fd, data)
    await fs.fchmod(fd, mode)
    // Synced last: content and mode reach the disk before the rename.
    await fs.fsync(fd)
    await fs.rename(temp, path)
    renamed = true
  } finally {
    await fs.close(fd).catch(() => undefined)
    if (!renamed) await fs.unlink(temp).catch(() => undefined)
  }
  const dir = await fs.open(folder, 'r')
  try {
    await fs.fsync(dir)
  } finally {
    await fs.close(dir).catch(() => undefined)
  }
}

/** The calls writeStateFile makes, each answering a promise. */
interface Calls {
  open(path: string, flags: string, mode?: number): Promise<number>
  writeFile(fd: number, data: string | Uint8Array): Promise<void>
  fchmod(fd: number, mode: number): Promise<void>
  fsync(fd: number): Promise<void>
  rename(from: string, to: string): Promise<void>
  close(fd: number): Promise<void>
  unlink(path: string): Promise<void>
}

/** The synchronous calls: done when they return; the promise only carries the answer. */
const BLOCKING: Calls = {
  open: async (path, flags, mode) => openSync(path, flags, mode),
  writeFile: async (fd, data) => writeFileSync(fd, data),
  fchmod: async (fd, mode) => fchmodSync(fd, mode),
  fsync: async (fd) => fsyncSync(fd),
  rename: async (from, to) => renameSync(from, to),
  close: async (fd) => closeSync(fd),
  unlink: async (path) => unlinkSync(path),
}

/** The callback calls, looked up on fs when made (what patches fs, as the kill-points do, sees them). */
const POOL: Calls = {
  open: (path, flags, mode) => new Promise((resolve, reject) => open(path, flags, mode, (error, fd) => (error ? reject(error) : resolve(fd)))),
  writeFile: (fd, data) => new Promise((resolve, reject) => writeFile(fd, data, settle(resolve, reject))),
  fchmod: (fd, mode) => new Promise((resolve, reject) => fchmod(fd, mode, settle(resolve, reject))),
  fsync: (fd) => new Promise((resolve, reject) => fsync(fd, settle(resolve, reject))),
  rename: (from, to) => new Promise((resolve, reject) => rename(from, to, settle(resolve, reject))),
  close: (fd) => new Promise((resolve, reject) => close(fd, settle(resolve, reject))),
  unlink: (path) => new Promise((resolve, reject) => unlink(path, settle(resolve, reject))),
}

/** A callback that settles a promise with nothing, or with the call's error. */
function settle(resolve: () => void, reject: (error: Error) => void): (error: NodeJS.ErrnoException | null) => void {
  return (error) => (error ? reject(error) : resolve())
}
