import { cacheBytes, isWithin, type HostPort, type ProviderCache } from '@twinsync/sdk'
import type { Origin } from './state.js'

/** A file dpkg installed: which package, and the md5 it shipped with (undefined when unknown). */
export interface PackagedFile {
  package: string
  md5: string | undefined
  /** Set when dpkg-divert moved the package's file here from another path. */
  divertedFrom?: string
}

/** Every path dpkg knows under the include roots, with the md5 it shipped. */
export type PackageIndex = Map<string, PackagedFile[]>

const DPKG = '/var/lib/dpkg'
const CACHE_KEY = 'dpkg-index'

/**
 * Read dpkg's own database files directly (status `Conffiles:`, info/*.conffiles,
 * info/*.md5sums, diversions): one pass over plain text, much faster than running dpkg, and it
 * works on a target root the host's dpkg knows nothing about. Kept in the cache until the
 * database changes (status and info/ both move when a package is installed or removed).
 */
export async function readPackageIndex(
  host: HostPort,
  cache: ProviderCache,
  wanted: (path: string) => boolean,
  knownStamp?: string,
): Promise<PackageIndex> {
  const stamp = knownStamp ?? (await packageDatabaseStamp(host))
  if (stamp === NO_DATABASE) return new Map()
  const info = await host.stat(`${DPKG}/info`)
  const cached = await cache.read(CACHE_KEY)
  if (cached !== undefined) {
    const parsed = JSON.parse(cached) as { stamp: string; files: Array<[string, PackagedFile[]]> }
    if (parsed.stamp === stamp) return new Map(parsed.files.filter(([path]) => wanted(path)))
  }

  // Only what can end up under /etc is indexed (see INDEXED): its diversions are read first.
  const diversions = parseDiversions((await host.readTextIfExists(`${DPKG}/diversions`)) ?? '')
  const indexed = indexedPaths(diversions)
  const index: PackageIndex = new Map()
  const add = (path: string, file: PackagedFile): void => {
    const list = index.get(path) ?? []
    if (!list.some((f) => f.package === file.package)) list.push(file)
    else if (file.md5 !== undefined) for (const f of list) if (f.package === file.package) f.md5 = file.md5
    index.set(path, list)
  }
  for (const [path, file] of parseStatusConffiles((await host.readTextIfExists(`${DPKG}/status`)) ?? '')) if (indexed(path)) add(path, file)
  if (info?.type === 'directory') {
    for (const entry of await host.readdir(`${DPKG}/info`)) {
      const match = /^(.+)\.(md5sums|conffiles)$/.exec(entry.name)
      if (match === null || entry.type !== 'file') continue
      const pkg = (match[1] as string).replace(/:[^:]+$/, '')
      const text = (await host.readTextIfExists(`${DPKG}/info/${entry.name}`)) ?? ''
      if (match[2] === 'md5sums') {
        for (const [path, md5] of parseMd5sums(text, indexed.mentions)) if (indexed(path)) add(path, { package: pkg, md5 })
      } else {
        for (const line of text.split('\n')) {
          const path = line.trim()
          if (path.startsWith('/') && indexed(path) && !index.get(path)?.some((f) => f.package === pkg)) add(path, { package: pkg, md5: undefined })
        }
      }
    }
  }
  applyDiversions(index, diversions)
  // The index is cached whole (it does not depend on the include set); callers filter.
  await cache.write(CACHE_KEY, JSON.stringify({ stamp, files: [...index] }))
  for (const path of [...index.keys()]) if (!wanted(path)) index.delete(path)
  return index
}

/** What a file's origin is worked out from: the packages that ship a path (undefined: none, or not wanted). */
export interface PackageLookup {
  get(path: string): PackagedFile[] | undefined
}

/**
 * The package index as readPackageIndex gives it, for looking paths up one by one: from the
 * cache, only the entries looked up are parsed.
 *
 * Speed (issue 22, session 9): a snapshot that read a file (a change under /etc) parsed the
 * whole cached index to learn the origin of that one file: on the bench's scale root 2.3 MB of
 * JSON and 20,000 entries made into a Map, most of it garbage at once: 23–37 → 1–2 ms of CPU
 * and V8's heap 26 → 16 MB (a fresh process, the index read and one path looked up, three runs
 * each). Now the entry is found in the cache's bytes
 * (`["<path>",[` begins it and nothing else: a `"` inside a JSON string is escaped) and only it
 * is parsed. Anything unexpected in the cache (another stamp, an entry that does not parse)
 * and the index is read as before.
 */
export async function packageLookup(host: HostPort, cache: ProviderCache, wanted: (path: string) => boolean, knownStamp?: string): Promise<PackageLookup> {
  const stamp = knownStamp ?? (await packageDatabaseStamp(host))
  if (stamp === NO_DATABASE) return new Map()
  const bytes = await cacheBytes(cache).read(CACHE_KEY).catch(() => undefined)
  const cached = bytes === undefined ? undefined : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (cached !== undefined && cachedStamp(cached) === stamp) {
    const found = new Map<string, PackagedFile[] | undefined>()
    let whole: PackageIndex | undefined
    return {
      get(path) {
        if (whole !== undefined) return whole.get(path)
        if (!wanted(path)) return undefined
        if (found.has(path)) return found.get(path)
        const entry = cachedEntry(cached, path)
        if (entry === null) {
          // Not as it should be: the whole cache parsed, as readPackageIndex does.
          whole = new Map((JSON.parse(cached.toString('utf8')) as { files: Array<[string, PackagedFile[]]> }).files.filter(([p]) => wanted(p)))
          return whole.get(path)
        }
        found.set(path, entry)
        return entry
      },
    }
  }
  return readPackageIndex(host, cache, wanted, stamp)
}

/** The stamp a cached index (`{"stamp":"…","files":[…]}`) was made for; undefined when it does not begin so. */
function cachedStamp(bytes: Buffer): string | undefined {
  const head = '{"stamp":'
  const end = bytes.indexOf(',"files":[')
  if (end < 0 || bytes.toString('latin1', 0, head.length) !== head || bytes.toString('latin1', bytes.length - 2) !== ']}') return undefined
  try {
    const stamp = JSON.parse(bytes.toString('utf8', head.length, end)) as unknown
    return typeof stamp === 'string' ? stamp : undefined
  } catch {
    return undefined
  }
}

/** A path's packages in a cached index; undefined when it has none, null when its entry is not as written (JSON.stringify's). */
function cachedEntry(bytes: Buffer, path: string): PackagedFile[] | undefined | null {
  const key = Buffer.from(`[${JSON.stringify(path)},[`)
  const at = bytes.indexOf(key)
  if (at < 0) return undefined
  // The entry's list ends where its brackets close, strings (their escapes) passed over.
  let depth = 0
  let inString = false
  for (let i = at + key.length - 1; i < bytes.length; i++) {
    const c = bytes[i]
    if (inString) {
      if (c === 0x5c) i++
      else if (c === 0x22) inString = false
    } else if (c === 0x22) inString = true
    else if (c === 0x5b || c === 0x7b) depth++
    else if (c === 0x5d || c === 0x7d) {
      if (--depth > 0) continue
      try {
        const list = JSON.parse(bytes.toString('utf8', at + key.length - 1, i + 1)) as unknown
        return Array.isArray(list) && list.every((f) => typeof (f as PackagedFile | null)?.package === 'string') ? (list as PackagedFile[]) : null
      } catch {
        return null
      }
    }
  }
  return null
}

/** The stamp of a target without dpkg's status file (no package owns anything). */
const NO_DATABASE = 'none'

/**
 * What dpkg's database looks like from its stat data (status, info/, diversions): the same
 * stamp means the same index. A package installed or removed moves status and info/.
 */
export async function packageDatabaseStamp(host: HostPort): Promise<string> {
  const status = await host.stat(`${DPKG}/status`)
  if (status === undefined) return NO_DATABASE
  const info = await host.stat(`${DPKG}/info`)
  const diversionsStat = await host.stat(`${DPKG}/diversions`)
  return JSON.stringify([status.size, status.mtimeMs, status.ino, info?.mtimeMs, info?.ctimeMs, diversionsStat?.mtimeMs])
}

/** `Conffiles:` of every package in dpkg's status file: " /etc/x <md5> [obsolete]". */
export function parseStatusConffiles(status: string): Array<[string, PackagedFile]> {
  const out: Array<[string, PackagedFile]> = []
  for (const stanza of status.split(/\n\s*\n/)) {
    const pkg = /^Package: (\S+)/m.exec(stanza)?.[1]
    const state = /^Status: .* (\S+)$/m.exec(stanza)?.[1]
    if (pkg === undefined || state === 'not-installed') continue
    const block = /^Conffiles:\n((?: .*\n?)*)/m.exec(stanza)?.[1] ?? ''
    for (const line of block.split('\n')) {
      const [path, md5] = line.trim().split(/\s+/)
      if (path === undefined || !path.startsWith('/')) continue
      out.push([path, { package: pkg, md5: md5 !== undefined && /^[0-9a-f]{32}$/.test(md5) ? md5 : undefined }])
    }
  }
  return out
}

/**
 * info/<pkg>.md5sums: "<md5>  <path without leading slash>". With `mentions`, only the lines
 * holding that text are looked at (found with indexOf instead of splitting every line): the
 * same entries as without, less those whose line does not mention it.
 */
export function parseMd5sums(text: string, mentions?: string): Array<[string, string]> {
  const out: Array<[string, string]> = []
  const parse = (line: string): void => {
    const match = MD5SUMS_LINE.exec(line)
    if (match !== null) out.push(['/' + (match[2] as string).replace(/^\/+/, ''), match[1] as string])
  }
  if (mentions === undefined) {
    for (const line of text.split('\n')) parse(line)
    return out
  }
  for (let at = text.indexOf(mentions); at >= 0; ) {
    const start = text.lastIndexOf('\n', at) + 1
    const newline = text.indexOf('\n', at)
    const end = newline < 0 ? text.length : newline
    parse(text.slice(start, end))
    at = newline < 0 ? -1 : text.indexOf(mentions, end + 1)
  }
  return out
}

const MD5SUMS_LINE = /^([0-9a-f]{32}) [ *](.+)$/

/**
 * Speed (issue 22): dpkg's origin is only ever asked of files under /etc (collect and apply
 * ask nothing else), so only paths that are there, or that a diversion moves there, are
 * indexed: the services root's md5sums list 12,654 files and none under /etc; indexing them
 * all cost a first snapshot 20-30 ms of CPU and a 1.5 MB cache file, now 18 KB.
 * `mentions`: a text every md5sums line of such a path holds ("etc", unless a diversion
 * brings another path to /etc).
 */
function indexedPaths(diversions: readonly Diversion[]): ((path: string) => boolean) & { mentions: string | undefined } {
  const into = new Set<string>()
  // A diversion's source whose files end up under /etc, also through a chain of diversions.
  for (let grew = true; grew; ) {
    grew = false
    for (const d of diversions) {
      if (!into.has(d.from) && !isWithin(d.from, INDEXED) && (isWithin(d.to, INDEXED) || into.has(d.to))) {
        into.add(d.from)
        grew = true
      }
    }
  }
  const indexed = (path: string): boolean => isWithin(path, INDEXED) || into.has(path)
  // Every md5sums line of a path under /etc holds "etc" (its path without the leading slash).
  return Object.assign(indexed, { mentions: into.size === 0 ? INDEXED.slice(1) : undefined })
}

/** Where dpkg's origin is asked: the only paths the index keeps. */
const INDEXED = '/etc'

export interface Diversion {
  from: string
  to: string
  /** The package that diverted, or ":" for a local diversion. */
  by: string
}

/** The diversions file: three lines per diversion (from, to, diverting package or ":"). */
export function parseDiversions(text: string): Diversion[] {
  const lines = text.split('\n')
  const out: Diversion[] = []
  for (let i = 0; i + 2 < lines.length; i += 3) {
    const [from, to, by] = lines.slice(i, i + 3) as [string, string, string]
    if (!from.startsWith('/') || !to.startsWith('/') || by === '') break
    out.push({ from, to, by })
  }
  return out
}

/** A diverted package file lives at `to`; only the diverting package's own copy stays at `from`. */
export function applyDiversions(index: PackageIndex, diversions: readonly Diversion[]): void {
  for (const d of diversions) {
    const files = index.get(d.from)
    if (files === undefined) continue
    const moved = files.filter((f) => f.package !== d.by)
    const kept = files.filter((f) => f.package === d.by)
    if (kept.length > 0) index.set(d.from, kept)
    else index.delete(d.from)
    if (moved.length > 0) index.set(d.to, [...(index.get(d.to) ?? []), ...moved.map((f) => ({ ...f, divertedFrom: d.from }))])
  }
}

/** The origin of a file: unmodified when its md5 matches what some package shipped. */
export function originOf(files: readonly PackagedFile[] | undefined, liveMd5: string | undefined): {
  origin: Origin
  package?: string
  divertedFrom?: string
} {
  if (files === undefined || files.length === 0) return { origin: 'local' }
  const match = files.find((f) => f.md5 !== undefined && f.md5 === liveMd5)
  const file = match ?? (files[0] as PackagedFile)
  return {
    origin: match === undefined ? 'package-modified' : 'package-unmodified',
    package: file.package,
    ...(file.divertedFrom === undefined ? {} : { divertedFrom: file.divertedFrom }),
  }
}
