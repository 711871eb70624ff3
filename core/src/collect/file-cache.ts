import { closeSync, constants, fchmodSync, fstatSync, ftruncateSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, unlinkSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { crc32 } from 'node:zlib'
import type { CacheReadOptions, CacheWriteOptions, ProviderCache } from '@twinsync/sdk'
import { writeFileAtomic } from '@twinsync/sdk/light'
import { removeFile } from '../twin/remove-file.js'
import { lockTempName } from '../twin/twin-lock.js'

/**
 * A provider's cache as files in one folder; a key is a file name.
 *
 * Speed (issue 22, session 9): a cache file is written whole beside its name and renamed in, but
 * not fsynced (nor its folder): a cache only ever saves work, and what it must never do is pass a
 * torn file off as a cache. Each file ends with a trailer (CHECK: a magic number, the CRC-32 of
 * what comes before it, and its length), checked on every read; a file cut short, filled with
 * zeros or otherwise not what was written (a power loss before the kernel wrote it out) is no
 * cache, and the provider does its slow work as with none. An older file without a trailer is
 * no cache either (written again by the next run). A power loss can also leave the file the
 * rename replaced: an earlier, whole cache, whose entries are keyed on stat data as ever. The
 * CRC-32 costs about 1.3 ms a 8.6 MB file (the scale root's files stat cache), read or written.
 * A first snapshot writes 11 provider caches: 22 fsyncs (file and folder) of about 0.5 ms each
 * on this disk, one after the other; figures in docs/architecture.md (Speed).
 */
export class FileCache implements ProviderCache {
  /** Every read is checked against its trailer (see the top). */
  readonly checked = true

  constructor(private readonly dir: string) {}

  async read(key: string, options?: CacheReadOptions): Promise<string | undefined> {
    // One read and one decode: fs/promises decodes a large value (the files provider's 4 MB
    // stat cache) chunk by chunk into a string of pieces, twice the memory and garbage.
    const path = join(this.dir, safeKey(key))
    const checked = readChecked(path)
    if (checked !== undefined || options?.earlier !== true) return checked?.toString('utf8')
    // A value written before the trailer existed (a twin made before session 9): its bytes as
    // they are; the caller accepts it only in a form that proves it whole (see CacheReadOptions).
    try {
      return readFileSync(path, 'utf8')
    } catch {
      return undefined
    }
  }

  async write(key: string, value: string, options?: CacheWriteOptions): Promise<void> {
    const bytes = Buffer.from(value, 'utf8')
    if (options?.durable !== true) return bestEffort(() => this.writeChecked(key, bytes))
    // A value that is state, not a cache (written once: the files provider's secret hash key), file
    // and folder synced. Written inside a provider's call, whose time limit and Ctrl-C must still
    // fire while it waits: on libuv's pool (the SDK's AtomicWait, 'pool').
    mkdirSync(this.dir, { recursive: true, mode: 0o700 })
    await writeFileAtomic(join(this.dir, safeKey(key)), Buffer.concat([bytes, trailerOf(bytes)]), { mode: 0o600, wait: 'pool' })
  }

  /**
   * One read into one buffer of its own, outside V8's heap: freed as soon as the caller drops it
   * (or hands it over whole, as the files stat cache does).
   */
  async readBytes(key: string): Promise<Uint8Array | undefined> {
    return readChecked(join(this.dir, safeKey(key)))
  }

  async writeBytes(key: string, value: Uint8Array): Promise<void> {
    bestEffort(() => this.writeChecked(key, value))
  }

  /**
   * With removeFile (unlink), not `rm(path, { force: true })`, which loads Node's rimraf: the files
   * provider removes its stamps delta whenever a racy path makes it write the stamps whole
   * (attribute-cache.ts), so an unchanged snapshot run within a second or two of a change loaded
   * rimraf, by the clock (light-path.test.ts failed in CI on a loaded machine, session 40).
   */
  async remove(key: string): Promise<void> {
    try {
      removeFile(join(this.dir, safeKey(key)))
    } catch {
      // A folder there, or a cache folder it may not write: the entry is refused by its reader as before.
    }
  }

  /**
   * The keys of the files in its folder, from one readdir (none when the folder is not there yet):
   * each name decoded as safeKey made it, never a temporary file (its name begins with a dot,
   * which safeKey never makes: lockTempName), nor a name safeKey cannot have made. A key that
   * began with a dot lists as its name (`_` first): no provider's does.
   */
  async keys(): Promise<string[]> {
    let names: string[]
    try {
      names = readdirSync(this.dir)
    } catch {
      return []
    }
    const keys: string[] = []
    for (const name of names) {
      if (name.startsWith('.')) continue
      try {
        keys.push(decodeURIComponent(name))
      } catch {
        // not a name safeKey makes
      }
    }
    return keys
  }

  /** `bytes` and their trailer under a temporary name, renamed to the key's (see the top); a large one over the file it replaces. */
  private writeChecked(key: string, bytes: Uint8Array): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 })
    const name = safeKey(key)
    if (bytes.byteLength >= IN_PLACE_FROM && writeInPlace(join(this.dir, name), bytes)) return
    // Named by this run (pid, boot): one a kill left is known as a dead run's and removed by settling (atomic-snapshot.ts).
    const temp = lockTempName(join(this.dir, name))
    const fd = openSync(temp, 'wx', 0o600)
    try {
      writeAll(fd, bytes)
      writeAll(fd, trailerOf(bytes))
      fchmodSync(fd, 0o600)
    } catch (error) {
      closeSync(fd)
      unlinkSync(temp)
      throw error
    }
    closeSync(fd)
    try {
      renameSync(temp, join(this.dir, name))
    } catch (error) {
      unlinkSync(temp)
      throw error
    }
  }
}

/**
 * A cache only saves work: a write of it that fails (EIO, ENOSPC, EACCES on the cache folder) is
 * dropped, never the failure of the collect that made it; the value is simply not there next time
 * (the provider does its slow work). What was left half written is no cache (its trailer, above),
 * and a temporary file a failure could not remove is named by this run and settled later. A
 * durable value (state: the secret-hash key) still fails its write. Session 34 (red team): one EIO
 * writing the files provider's stat cache failed its whole collect, and `adopt` answered
 * ITEM_UNKNOWN for a drift item that exists.
 */
function bestEffort(write: () => void): void {
  try {
    write()
  } catch {
    // dropped: see above
  }
}

/**
 * A value this large is written over the file it replaces (its bytes from the start, the file cut
 * to their length) rather than beside it and renamed in. Speed (issue 22, session 9): a rename
 * over a file of several MB made ext4 free the old file's blocks and start writing the new one
 * out at once (its `auto_da_alloc`, meant for files renamed over without fsync): the scale root's
 * 8.5 MB files stat cache, written after every change, 7.4–16.4 ms of wall (2.6–3.8 ms of CPU)
 * renamed in, 1.1–3.2 ms (0.8–1.2 ms) written over (this disk, five writes each). The trailer
 * keeps it safe: a write cut short or read half done, a power loss before the kernel wrote all
 * of it out, two runs writing at once, all leave bytes whose CRC-32 is not the trailer's, and
 * the file is no cache (the provider does its slow work, as with none).
 */
const IN_PLACE_FROM = 1024 * 1024

/** Write over a regular file of ours (no link, not another's); false when there is none (then the caller writes beside it). */
function writeInPlace(path: string, bytes: Uint8Array): boolean {
  const info = lstatSync(path, { throwIfNoEntry: false })
  if (info === undefined || !info.isFile() || info.nlink !== 1 || (info.mode & 0o777) !== 0o600 || info.uid !== process.getuid?.()) return false
  let fd: number
  try {
    fd = openSync(path, constants.O_RDWR | constants.O_NOFOLLOW)
  } catch {
    return false
  }
  try {
    const opened = fstatSync(fd)
    if (opened.ino !== info.ino || opened.dev !== info.dev) return false
    // From the start: a file just opened (no O_APPEND) writes at offset 0.
    writeAll(fd, bytes)
    writeAll(fd, trailerOf(bytes))
    ftruncateSync(fd, bytes.byteLength + CHECK)
  } finally {
    closeSync(fd)
  }
  return true
}

/** A cache file's last bytes: CHECK_MAGIC, the CRC-32 of the bytes before, their length (each 32 bits, big-endian). */
const CHECK = 12
const CHECK_MAGIC = 0x54534331 // "TSC1"

function trailerOf(bytes: Uint8Array): Buffer {
  const trailer = Buffer.allocUnsafe(CHECK)
  trailer.writeUInt32BE(CHECK_MAGIC, 0)
  trailer.writeUInt32BE(crc32(bytes), 4)
  trailer.writeUInt32BE(bytes.byteLength, 8)
  return trailer
}

/** The bytes before the trailer, when the file is whole (see the top); undefined otherwise or when unreadable. */
function readChecked(path: string): Buffer | undefined {
  let fd: number | undefined
  try {
    fd = openSync(path, 'r')
    const size = fstatSync(fd).size
    if (size < CHECK || size - CHECK > 0xffffffff) return undefined
    const body = Buffer.allocUnsafeSlow(size - CHECK)
    const trailer = Buffer.allocUnsafe(CHECK)
    if (readAll(fd, body, 0) !== body.length || readAll(fd, trailer, body.length) !== CHECK) return undefined
    if (trailer.readUInt32BE(0) !== CHECK_MAGIC || trailer.readUInt32BE(8) !== body.length || trailer.readUInt32BE(4) !== crc32(body)) return undefined
    return body
  } catch {
    return undefined
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
}

function readAll(fd: number, into: Buffer, position: number): number {
  let done = 0
  while (done < into.length) {
    const n = readSync(fd, into, done, into.length - done, position + done)
    if (n === 0) break
    done += n
  }
  return done
}

function writeAll(fd: number, bytes: Uint8Array): void {
  for (let done = 0; done < bytes.byteLength; ) done += writeSync(fd, bytes, done, bytes.byteLength - done)
}

function safeKey(key: string): string {
  return encodeURIComponent(key).replace(/^\.+/, '_')
}
