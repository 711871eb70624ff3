import type { HostPort, ProviderCache } from '@twinsync/sdk'
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

  const index: PackageIndex = new Map()
  const add = (path: string, file: PackagedFile): void => {
    const list = index.get(path) ?? []
    if (!list.some((f) => f.package === file.package)) list.push(file)
    else if (file.md5 !== undefined) for (const f of list) if (f.package === file.package) f.md5 = file.md5
    index.set(path, list)
  }
  for (const [path, file] of parseStatusConffiles((await host.readTextIfExists(`${DPKG}/status`)) ?? '')) add(path, file)
  if (info?.type === 'directory') {
    for (const entry of await host.readdir(`${DPKG}/info`)) {
      const match = /^(.+)\.(md5sums|conffiles)$/.exec(entry.name)
      if (match === null || entry.type !== 'file') continue
      const pkg = (match[1] as string).replace(/:[^:]+$/, '')
      const text = (await host.readTextIfExists(`${DPKG}/info/${entry.name}`)) ?? ''
      if (match[2] === 'md5sums') {
        for (const [path, md5] of parseMd5sums(text)) add(path, { package: pkg, md5 })
      } else {
        for (const line of text.split('\n')) {
          const path = line.trim()
          if (path.startsWith('/') && !index.get(path)?.some((f) => f.package === pkg)) add(path, { package: pkg, md5: undefined })
        }
      }
    }
  }
  applyDiversions(index, parseDiversions((await host.readTextIfExists(`${DPKG}/diversions`)) ?? ''))
  // The whole index is cached (it does not depend on the include set); callers filter.
  await cache.write(CACHE_KEY, JSON.stringify({ stamp, files: [...index] }))
  for (const path of [...index.keys()]) if (!wanted(path)) index.delete(path)
  return index
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

/** info/<pkg>.md5sums: "<md5>  <path without leading slash>". */
export function parseMd5sums(text: string): Array<[string, string]> {
  const out: Array<[string, string]> = []
  for (const line of text.split('\n')) {
    const match = /^([0-9a-f]{32}) [ *](.+)$/.exec(line)
    if (match !== null) out.push(['/' + (match[2] as string).replace(/^\/+/, ''), match[1] as string])
  }
  return out
}

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
