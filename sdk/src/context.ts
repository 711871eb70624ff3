import type { HostPort } from './host.js'
import type { PathClaims } from './path-claims.js'
import type { TwinsyncLine } from './command-line.js'

export interface Limits {
  /** Files larger than this are recorded in the manifest but not copied (bytes). */
  maxFileSize: number
  /** Last lines of each log kept in system/logs/. */
  logLines: number
  /** Upper bound on the bytes of each log file kept. */
  logBytes: number
  /** Processes kept in system/processes/, by CPU and by memory each. */
  topProcesses: number
}

export const DEFAULT_LIMITS: Limits = {
  maxFileSize: 1024 * 1024,
  logLines: 200,
  logBytes: 64 * 1024,
  topProcesses: 15,
}

export interface Logger {
  debug(message: string): void
  info(message: string): void
  warn(message: string): void
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {} }

/** What every provider call receives. */
export interface ProviderContext {
  /** Root-aware file system and command runner: the only way a provider touches the machine. */
  host: HostPort
  claims: PathClaims
  limits: Limits
  logger: Logger
  signal: AbortSignal
  /** The provider's own section of the configuration file, already validated by its schema. */
  config: unknown
  /** Data a provider keeps between runs, outside the committed twin (e.g. a stat cache). */
  cache: ProviderCache
  /**
   * A `twinsync ARGS` line for a next step, with this run's --root, --repo and --config, each
   * argument quoted for a shell: pasted, it acts on the same machine, twin and configuration as
   * the run that printed it. Optional (SDK 0.1 contexts have none; a test's need not): read it
   * through twinsyncLines(ctx), which falls back to the arguments quoted, without the flags.
   */
  twinsync?: TwinsyncLine
}

/**
 * A small key-value store per provider, kept beside the twin repository but never committed.
 * Losing it only costs speed: providers must give the same result without it.
 */
export interface ProviderCache {
  /**
   * `options.earlier`: also a value as an older store wrote it (the core's cache files had no
   * check before session 9), for a value that proves itself whole (a key of a known form).
   */
  read(key: string, options?: CacheReadOptions): Promise<string | undefined>
  /**
   * `options.durable`: a value that is state rather than a cache (losing it costs more than the
   * work it saves, e.g. the files provider's secret-hash key): on disk before write() returns.
   * The core's store drops a write that is not durable and fails (EIO, a full disk) instead of
   * throwing it: a cache only saves work, and its failure is never the provider's.
   */
  write(key: string, value: string, options?: CacheWriteOptions): Promise<void>
  /**
   * A value as bytes, not decoded into a string (a large binary cache: its memory is freed as
   * soon as it is dropped). Optional: use cacheBytes(), which falls back to read/write.
   */
  readBytes?(key: string): Promise<Uint8Array | undefined>
  writeBytes?(key: string, value: Uint8Array): Promise<void>
  /** Forget a key (nothing when it is absent). Optional: a cache without it keeps the value. */
  remove?(key: string): Promise<void>
  /**
   * The keys it holds, in one listing (none when it holds nothing yet). Optional: what
   * retireKeys needs to remove only the keys that are there.
   */
  keys?(): Promise<string[]>
  /**
   * True when a value read back is exactly the value written, or nothing: the store checks
   * every file it reads (the core's does, with a CRC-32 of each), so a provider need not check
   * its cache's bytes again. Absent: a provider checks what it cannot afford to trust.
   */
  readonly checked?: boolean
}

export interface CacheReadOptions {
  /** Also a value an older store wrote, without its check (the caller checks the value itself). */
  earlier?: boolean
}

export interface CacheWriteOptions {
  /** Written and synced to disk before write() returns (see ProviderCache.write). */
  durable?: boolean
}

/** A cache that forgets everything: for tests, dry runs and read-only twins. */
export class MemoryCache implements ProviderCache {
  private readonly values = new Map<string, string | Uint8Array>()
  async read(key: string): Promise<string | undefined> {
    const value = this.values.get(key)
    return typeof value === 'string' ? value : value === undefined ? undefined : Buffer.from(value).toString('utf8')
  }
  async write(key: string, value: string): Promise<void> {
    this.values.set(key, value)
  }
  async readBytes(key: string): Promise<Uint8Array | undefined> {
    const value = this.values.get(key)
    return typeof value === 'string' ? Buffer.from(value, 'utf8') : value === undefined ? undefined : Uint8Array.from(value)
  }
  async writeBytes(key: string, value: Uint8Array): Promise<void> {
    this.values.set(key, Uint8Array.from(value))
  }
  async remove(key: string): Promise<void> {
    this.values.delete(key)
  }
  async keys(): Promise<string[]> {
    return [...this.values.keys()]
  }
}

/**
 * Remove the keys an earlier version of a provider wrote and this one never reads nor writes
 * (`former`: true for such a key), only those the cache holds: one listing (`keys`), then a
 * removal of each that is there. A provider calls it once, when it first writes the record that
 * replaced them (none was there to read); a new twin's cache holds none of them, and nothing is
 * removed. Each former key found goes, whatever it names (a folder since gone from the machine:
 * its key cannot be made from what the run looked at). A cache that cannot list its keys or
 * remove one keeps them (they are never read: they cost only their room).
 *
 * Speed (issue 22, session 52): a first snapshot of the minbase root removed 41 former keys one
 * by one without looking (the files provider's: 3 a named-credential folder it looked into, 12
 * folders; the attributes' 3; the stat cache's 2), each a failed unlink whose ENOENT was thrown
 * and caught; now 3 listings of a folder of 3 to 9 files. In a fresh process (callgrind, node
 * only, 3 runs each, less the same process without either): 41 removals +4.2 / +4.0 / +3.8 M
 * instructions, the 3 listings +0.5 / +0.7 / +0.4 M (whole runs: docs/architecture.md, Speed).
 */
export async function retireKeys(cache: ProviderCache, former: (key: string) => boolean): Promise<void> {
  if (cache.keys === undefined || cache.remove === undefined) return
  const held = await cache.keys().catch(() => [])
  for (const key of held) if (former(key)) await cache.remove(key).catch(() => undefined)
}

/**
 * Bytes through any ProviderCache: its readBytes/writeBytes when it has them, else one byte a
 * character (latin1) through read/write, which gives back exactly the bytes stored.
 */
export function cacheBytes(cache: ProviderCache): { read(key: string): Promise<Uint8Array | undefined>; write(key: string, value: Uint8Array): Promise<void> } {
  return {
    read: async (key) => {
      if (cache.readBytes !== undefined) return cache.readBytes(key)
      const text = await cache.read(key)
      return text === undefined ? undefined : Buffer.from(text, 'latin1')
    },
    write: async (key, value) => {
      if (cache.writeBytes !== undefined) return cache.writeBytes(key, value)
      return cache.write(key, Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('latin1'))
    },
  }
}
