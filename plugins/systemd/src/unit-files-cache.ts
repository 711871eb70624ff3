import type { DirEntry, FileStat, HostPort, ProviderCache, ReadOptions } from '@twinsync/sdk'
import { isRacy, SECRET_RULES_VERSION } from '@twinsync/sdk'

/**
 * With the secret rules' version: a unit file's hash is taken with its secrets redacted, and a
 * unit whose name holds one is held out (collect.ts, secret-names.ts). v3: the held names.
 */
const CACHE_KEY = `unit-files-v3-r${SECRET_RULES_VERSION}`

/**
 * Speed (issue 22): the unit-file part of systemd's state (every unit's enablement, preset and
 * hash; what starts at boot) worked out from the unit directories is kept with the stat data of
 * every path the work looked at: each directory listed, link read, file read and path stat'ed
 * (or found missing), as the host port reached it. The next collect stats those paths again and,
 * when every one is as it was, takes the state from the cache without listing, following or
 * reading anything. A directory's listing changes its mtime and ctime, a link is never changed
 * in place, a file's content changes its ctime (nobody can set that back): a change to anything
 * the state came from shows in one of them. Never kept when one of them changed too recently to
 * trust its times (racily clean, `isRacy`), nor when the work ran anything but those reads.
 * The running manager's part (systemctl) is asked every time, as before.
 *
 * Measured (systemd's detect and collect alone in a fresh process, CPU medians of 7 interleaved,
 * load average 5): services root 15.1 → 4.4 ms (334 paths stat'ed again instead of 30 folders
 * listed, 50 links read, every unit looked up), minbase root 12.2 → 4.0 ms; the whole unchanged
 * snapshot with session 7's other changes 238 → 205 and 204 → 159 ms of CPU.
 */
export async function cachedUnitFiles<T>(host: HostPort, cache: ProviderCache, compute: (host: HostPort) => Promise<T>): Promise<T> {
  const startedAt = Date.now()
  const kept = parseKept(await cache.read(CACHE_KEY).catch(() => undefined))
  if (kept !== undefined && kept.root === host.root && (await unchanged(host, kept.paths))) return kept.value as T
  const recorder = new RecordingHost(host)
  const value = await compute(recorder)
  const paths = recorder.done ? await recorder.observed(startedAt) : undefined
  if (paths !== undefined) await cache.write(CACHE_KEY, JSON.stringify({ root: host.root, paths, value } satisfies Kept)).catch(() => undefined)
  return value
}

/** What the last collect looked at: per path, how ('l' lstat, 's' stat) and the key of what it found. */
interface Kept {
  root: string
  paths: Array<[how: 'l' | 's', path: string, key: string]>
  value: unknown
}

function parseKept(text: string | undefined): Kept | undefined {
  if (text === undefined) return undefined
  try {
    const kept = JSON.parse(text) as Partial<Kept> | null
    if (kept === null || typeof kept !== 'object' || typeof kept.root !== 'string' || !Array.isArray(kept.paths) || !('value' in kept)) return undefined
    return kept as Kept
  } catch {
    return undefined // a damaged cache only costs time
  }
}

async function unchanged(host: HostPort, paths: Kept['paths']): Promise<boolean> {
  const lstatKeys = new Map<string, string>()
  for (const entry of paths) {
    if (!Array.isArray(entry) || entry.length !== 3) return false
    const [how, path, key] = entry
    if (typeof path !== 'string' || typeof key !== 'string' || (how !== 'l' && how !== 's')) return false
    if (how === 'l') lstatKeys.set(path, key)
  }
  for (const [how, path, key] of paths) {
    if (how === 's' && provedByLstat(key, lstatKeys.get(path))) continue
    if (keyOf(await statOf(host, how, path)) !== key) return false
  }
  return true
}

/**
 * A path's stat needs no call of its own when the same path's lstat is checked too and found
 * then what its stat found: a file or folder (no link to follow), or nothing at all. While the
 * lstat still finds exactly that, the stat would (the same parent resolved the same way, the
 * same inode); if it finds anything else, the check fails anyway.
 *
 * Speed (issue 22): the services root's unit-file check made 544 stat calls, 222 of them the
 * stat of a path whose lstat it also made: 544 → 322 calls; an unchanged `cachedUnitFiles`
 * (the cache parsed and checked) 6.2–6.8 → 3.4–4.7 ms of CPU (fresh process, loaded machine).
 */
function provedByLstat(key: string, lstatKey: string | undefined): boolean {
  return key === lstatKey && (key === 'missing' || key.startsWith('file ') || key.startsWith('directory '))
}

/** The path's lstat ('l') or stat ('s'); 'error' when asking failed. */
async function statOf(host: HostPort, how: 'l' | 's', path: string): Promise<FileStat | undefined | 'error'> {
  try {
    return how === 'l' ? await host.lstat(path) : await host.stat(path)
  } catch {
    return 'error'
  }
}

/** Everything a change would move: type, size, times, inode, device, mode, owner. 'missing' or 'error' when there is nothing to stat. */
function keyOf(st: FileStat | undefined | 'error'): string {
  if (st === 'error' || st === undefined) return st ?? 'missing'
  return `${st.type} ${st.size} ${st.mtimeMs} ${st.ctimeMs} ${st.ino} ${st.dev} ${st.mode} ${st.uid} ${st.gid}`
}

/**
 * The host port as the unit-file work reads it, noting each path it reaches: listed or read (its
 * stat, following links as the read does), a link read or lstat'ed (its lstat). Anything else
 * (running a program, a write) is passed on and the answer is not kept.
 */
class RecordingHost implements HostPort {
  private readonly paths = new Map<string, 'l' | 's'>()
  /** The work's own lstat and stat answers, by `how:path` (see `seen`). */
  private readonly answers = new Map<string, FileStat | 'missing'>()
  private other = false

  constructor(private readonly host: HostPort) {}

  get root(): string {
    return this.host.root
  }

  get live(): boolean {
    return this.host.live
  }

  /** Whether only recorded reads were made. */
  get done(): boolean {
    return !this.other
  }

  /**
   * The stat keys of every path reached; undefined when one changed too recently to trust (or the
   * work went beyond reads). A path's key is the answer the work itself got from its lstat or stat
   * (a stat's from the same path's lstat when that found a file, a folder or nothing: the two
   * agree then, provedByLstat), and asked now only for a path the work listed, read or followed a
   * link at without one.
   *
   * Speed (issue 22, session 52): any stat taken after `startedAt` serves as well as one taken
   * now. The value holds what the work's reads found, so what it misses is a change after a
   * path's read, and the next collect misses it too only if the stat data stayed as the key holds
   * it. A change before the key's stat gives the key times after `startedAt`; a later one moves
   * the times, but for one in their clock tick, and then they lie within a tick of that change,
   * after `startedAt` as well: `isRacy` refuses both, and nothing is kept. (A change between the
   * work's own stat and its read is in the value, or moved the times: the next collect only
   * works it out again.) Before, every path was stat'ed again: the minbase root's first snapshot
   * (callgrind, main thread between marks, warm code caches) spent 14.2 M instructions on that,
   * 462 calls of LocalHost's lstat and stat; now 7.3 M, 85 calls (docs/architecture.md, Speed).
   */
  async observed(startedAt: number): Promise<Kept['paths'] | undefined> {
    const out: Kept['paths'] = []
    for (const [key, how] of this.paths) {
      const path = key.slice(2)
      const seen = this.seen(how, path)
      const st = seen === 'missing' ? undefined : (seen ?? (await statOf(this.host, how, path)))
      if (st !== 'error' && st !== undefined && isRacy(st, startedAt)) return undefined
      out.push([how, path, keyOf(st)])
    }
    return this.other ? undefined : out
  }

  private note(how: 'l' | 's', path: string): void {
    this.paths.set(`${how}:${path}`, how)
  }

  /** The first answer the work got for the path that way (`answers`), or from its lstat when that proves the stat's; undefined when there is none. */
  private seen(how: 'l' | 's', path: string): FileStat | 'missing' | undefined {
    const own = this.answers.get(`${how}:${path}`)
    if (own !== undefined || how === 'l') return own
    const lstat = this.answers.get(`l:${path}`)
    return lstat === 'missing' || (lstat !== undefined && (lstat.type === 'file' || lstat.type === 'directory')) ? lstat : undefined
  }

  /** Keeps the first answer of a stat or lstat the work made ('missing' for none). */
  private answered(how: 'l' | 's', path: string, st: FileStat | undefined): FileStat | undefined {
    const key = `${how}:${path}`
    if (!this.answers.has(key)) this.answers.set(key, st ?? 'missing')
    return st
  }

  resolve(path: string): Promise<string> {
    this.other = true
    return this.host.resolve(path)
  }

  readFile(path: string, options?: ReadOptions): Promise<Buffer> {
    this.note(options?.follow === undefined ? 'l' : 's', path)
    return this.host.readFile(path, options)
  }

  readTextIfExists(path: string, options?: ReadOptions): Promise<string | undefined> {
    this.note(options?.follow === undefined ? 'l' : 's', path)
    return this.host.readTextIfExists(path, options)
  }

  async lstat(path: string): Promise<FileStat | undefined> {
    this.note('l', path)
    return this.answered('l', path, await this.host.lstat(path))
  }

  async stat(path: string): Promise<FileStat | undefined> {
    this.note('s', path)
    return this.answered('s', path, await this.host.stat(path))
  }

  readdir(path: string): Promise<DirEntry[]> {
    this.note('s', path)
    return this.host.readdir(path)
  }

  readlink(path: string): Promise<string> {
    this.note('l', path)
    return this.host.readlink(path)
  }

  query(...args: Parameters<HostPort['query']>): ReturnType<HostPort['query']> {
    this.other = true
    return this.host.query(...args)
  }

  readAttributes(path: string): ReturnType<HostPort['readAttributes']> {
    this.other = true
    return this.host.readAttributes(path)
  }

  which(...args: Parameters<HostPort['which']>): ReturnType<HostPort['which']> {
    this.other = true
    return this.host.which(...args)
  }

  writeFileAtomic(...args: Parameters<HostPort['writeFileAtomic']>): ReturnType<HostPort['writeFileAtomic']> {
    this.other = true
    return this.host.writeFileAtomic(...args)
  }

  mkdir(...args: Parameters<HostPort['mkdir']>): ReturnType<HostPort['mkdir']> {
    this.other = true
    return this.host.mkdir(...args)
  }

  symlink(...args: Parameters<HostPort['symlink']>): ReturnType<HostPort['symlink']> {
    this.other = true
    return this.host.symlink(...args)
  }

  chmod(...args: Parameters<HostPort['chmod']>): ReturnType<HostPort['chmod']> {
    this.other = true
    return this.host.chmod(...args)
  }

  setAttributes(...args: Parameters<HostPort['setAttributes']>): ReturnType<HostPort['setAttributes']> {
    this.other = true
    return this.host.setAttributes(...args)
  }

  chown(...args: Parameters<HostPort['chown']>): ReturnType<HostPort['chown']> {
    this.other = true
    return this.host.chown(...args)
  }

  remove(...args: Parameters<HostPort['remove']>): ReturnType<HostPort['remove']> {
    this.other = true
    return this.host.remove(...args)
  }

  unlink(...args: Parameters<HostPort['unlink']>): ReturnType<HostPort['unlink']> {
    this.other = true
    return this.host.unlink(...args)
  }

  rmdir(...args: Parameters<HostPort['rmdir']>): ReturnType<HostPort['rmdir']> {
    this.other = true
    return this.host.rmdir(...args)
  }

  exec(...args: Parameters<HostPort['exec']>): ReturnType<HostPort['exec']> {
    this.other = true
    return this.host.exec(...args)
  }
}
