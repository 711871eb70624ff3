import { compareStrings, isRacy, type DirEntry, type HostPort } from '@twinsync/sdk'
import { emptyInstallSection, hasInstallRules, parseInstallSection, type InstallSection } from './install-section.js'
import { parsePresetFile, presetOf, type PresetAction, type PresetRule } from './preset.js'
import { instanceOf, isInstance, isTemplate, isUnitName, templateOf, withInstance } from './unit-name.js'
import {
  basenameOf,
  dirnameOf,
  GENERATOR_DIRS,
  isInside,
  isRuntimePath,
  PERSISTENT_CONFIG,
  PRESET_DIRS,
  RUNTIME_CONFIG,
  resolveLinkTarget,
  TRANSIENT_DIR,
  UNIT_SEARCH_PATH,
} from './unit-paths.js'

export type UnitFileState =
  | 'enabled'
  | 'enabled-runtime'
  | 'linked'
  | 'linked-runtime'
  | 'alias'
  | 'masked'
  | 'masked-runtime'
  | 'static'
  | 'disabled'
  | 'indirect'
  | 'generated'
  | 'transient'
  | 'bad'

export interface UnitFile {
  name: string
  /** Where the unit was found first in the search path (a file or a symlink). */
  path: string
  state: UnitFileState
  /** Vendor preset, for the states `systemctl list-unit-files` shows one for. */
  preset?: PresetAction
  /** The [Install] section of the unit the name leads to (after aliases). */
  install?: InstallSection
}

/** A unit file found under a name: loaded, or a symlink still to follow. */
interface Found {
  name: string
  path: string
  mode: 'regular' | 'masked' | 'alias' | 'linked'
  target?: string
  install?: InstallSection
}

class UnitNotFound extends Error {}

export interface DirScan {
  path: string
  /**
   * The links of its .wants/.requires/.upholds directories by the unit each names: its own
   * name, and for an instance also its template's. Speed (issue 22): find_symlinks looks a
   * unit up here instead of going through every link for every unit (the scale root: 1,000
   * units × 500 links in multi-user.target.wants, twice each).
   */
  linksByUnit: Map<string, Set<string>>
  ownLinks: Array<{ name: string; destination: string }>
  /**
   * Positions in ownLinks of the links named after a unit or leading to it, in order: only
   * those can match it. Speed: a unit is checked against its few links instead of every alias
   * link of the directory, twice a unit (the services root: 21 in /usr/lib/systemd/system and
   * again in /lib/systemd/system; a root with many aliases or masks, more).
   */
  ownLinksOf: Map<string, number[]>
}

/**
 * The unit search path read once: the names in each directory and its links. Speed (issue 22):
 * a unit's lookup asks 13 directories for its name, twice for its links and, for what boot
 * reaches, 26 times more; asked here without a promise (an await) each. With the per-unit link
 * index below (DirScan.ownLinksOf), and a directory with no link for the unit passed over:
 * systemd's first collect in a process, services root (257 unit files), 40–53 → 21–27 ms of
 * CPU (4 runs each, interleaved, load about 8).
 */
export interface SearchPathView {
  /** Is `name` in the listing of `dir`, a directory of UNIT_SEARCH_PATH? */
  has(dir: string, name: string): boolean
  /** The link scans of UNIT_SEARCH_PATH, in its order. */
  scans: readonly DirScan[]
}

// No preset for these: `systemctl list-unit-files` prints "-", so the twin leaves it out.
const NO_PRESET: ReadonlySet<UnitFileState> = new Set(['alias', 'static', 'generated', 'transient'])

/**
 * The unit files of a target and their enablement state, read from the unit directories the
 * way systemd's src/shared/install.c does (unit_file_get_list and unit_file_lookup_state), so
 * the answer equals `systemctl --root=ROOT list-unit-files` without paying for the tool.
 * Directory listings, link targets and file contents are read once per instance.
 */
export class UnitFileIndex {
  private readonly dirs = new Map<string, Promise<DirEntry[]>>()
  private readonly links = new Map<string, Promise<string | undefined>>()
  private readonly texts = new Map<string, Promise<string | undefined>>()
  private readonly scans = new Map<string, Promise<DirScan>>()
  private readonly used = new Map<string, { signature: string; install: InstallSection }>()
  private readonly names = new Map<string, Promise<Set<string>>>()
  private presetRules: Promise<PresetRule[]> | undefined
  /** Before anything is read: a file changed after this (less RACY_MS) is not trusted by its stat next time. */
  private readonly startedAt = Date.now()
  private view: Promise<SearchPathView> | undefined

  /**
   * @param parsed [Install] sections from an earlier run, by path, with the stat signature of
   *   the file they were read from: an unchanged file is not read again.
   */
  constructor(
    private readonly host: HostPort,
    private readonly parsed: Map<string, { signature: string; install: InstallSection }> = new Map(),
  ) {}

  /** The [Install] sections read or reused by this run, to hand to the next one. */
  parsedSections(): Map<string, { signature: string; install: InstallSection }> {
    return this.used
  }

  /** Every unit file with its state and preset, sorted by name. */
  async list(): Promise<UnitFile[]> {
    await this.searchPath()
    const first = new Map<string, string>()
    for (const dir of UNIT_SEARCH_PATH) {
      for (const entry of await this.entries(dir)) {
        if ((entry.type === 'file' || entry.type === 'symlink') && isUnitName(entry.name) && !first.has(entry.name)) {
          first.set(entry.name, `${dir}/${entry.name}`)
        }
      }
    }
    const rules = await this.presets()
    const names = [...first.keys()].sort(compareStrings)
    return Promise.all(
      names.map(async (name) => {
        const { state, install } = await this.lookup(name)
        const unit: UnitFile = { name, path: first.get(name) as string, state }
        if (install !== undefined) unit.install = install
        if (!NO_PRESET.has(state)) unit.preset = presetOf(name, rules)
        return unit
      }),
    )
  }

  /** The search path's listings and links, read once (see SearchPathView). */
  searchPath(): Promise<SearchPathView> {
    this.view ??= (async () => {
      const names = new Map<string, Set<string>>()
      const scans: DirScan[] = []
      for (const dir of UNIT_SEARCH_PATH) {
        names.set(dir, new Set((await this.entries(dir)).map((e) => e.name)))
        scans.push(await this.scan(dir))
      }
      return { has: (dir, name) => names.get(dir)?.has(name) === true, scans }
    })()
    return this.view
  }

  /** unit_file_lookup_state for one name. */
  async lookup(name: string): Promise<{ state: UnitFileState; install?: InstallSection }> {
    const view = await this.searchPath()
    let info: Found
    try {
      info = await this.traverse(name, view)
    } catch (error) {
      if (error instanceof UnitNotFound) return { state: 'bad' }
      throw error
    }
    if (info.mode === 'masked') return { state: isRuntimePath(info.path) ? 'masked-runtime' : 'masked' }
    const install = info.install ?? emptyInstallSection()
    if (name !== basenameOf(info.path) && !isInstance(info.name)) return { state: 'alias', install }
    const parent = dirnameOf(info.path)
    if (GENERATOR_DIRS.includes(parent)) return { state: 'generated', install }
    if (parent === TRANSIENT_DIR) return { state: 'transient', install }
    const enabled = findSymlinksInScope(view.scans, info, install, true)
    if (enabled !== undefined) return { state: enabled, install }
    if (findSymlinksInScope(view.scans, info, install, false) !== undefined) return { state: 'indirect', install }
    if (hasInstallRules(install)) return { state: 'disabled', install }
    return { state: install.also.length > 0 ? 'indirect' : 'static', install }
  }

  /**
   * The masks `systemctl unmask` can take away: one for good in /etc/systemd/system (plain
   * unmask) and one until reboot in /run/systemd/system (`unmask --runtime`; systemd 252's plain
   * unmask leaves it). A mask elsewhere (a vendor's link to /dev/null) is neither.
   */
  async masks(name: string): Promise<{ persistent: boolean; runtime: boolean }> {
    const isMask = async (dir: string) => (await this.has(dir, name)) && (await this.loadOrReadlink(name, `${dir}/${name}`).catch(() => undefined))?.mode === 'masked'
    return { persistent: await isMask(PERSISTENT_CONFIG), runtime: await isMask(RUNTIME_CONFIG) }
  }

  /** install_info_traverse: follow aliases and linked files to the unit file that is loaded. */
  private async traverse(name: string, view: SearchPathView): Promise<Found> {
    let info = await this.search(name, view)
    for (let hops = 0; info.mode === 'alias' || info.mode === 'linked'; hops++) {
      if (hops > 64 || info.target === undefined) throw new UnitNotFound(name)
      let next = basenameOf(info.target)
      if (info.mode === 'linked' || next === info.name) {
        info = await this.loadOrReadlink(info.name, info.target)
        continue
      }
      // An alias to another name: look that name up afresh, keeping the instance of an instance.
      if (isInstance(info.name) && isTemplate(next)) next = withInstance(next, instanceOf(info.name) ?? '')
      if (next === info.name) {
        info = await this.loadOrReadlink(info.name, info.target)
        continue
      }
      info = await this.search(next, view)
    }
    return info
  }

  /** unit_file_search: the first file of that name (or of its template) in the search path, plus drop-ins. */
  private async search(name: string, view: SearchPathView): Promise<Found> {
    const candidates = [name]
    const template = isInstance(name) ? templateOf(name) : undefined
    if (template !== undefined) candidates.push(template)
    for (const candidate of candidates) {
      for (const dir of UNIT_SEARCH_PATH) {
        if (!view.has(dir, candidate)) continue
        const found = await this.loadOrReadlink(name, `${dir}/${candidate}`)
        if (found.mode === 'regular') await this.addDropIns(found, template, view)
        return found
      }
    }
    throw new UnitNotFound(name)
  }

  /** unit_file_load_or_readlink: a regular file is loaded, an empty one or a link to /dev/null is a mask. */
  private async loadOrReadlink(name: string, path: string): Promise<Found> {
    const st = await this.host.lstat(path)
    if (st === undefined) throw new UnitNotFound(name)
    if (st.type === 'symlink') {
      const raw = await this.readlink(path)
      if (raw === undefined) throw new UnitNotFound(name)
      const target = resolveLinkTarget(dirnameOf(path), raw)
      if (target === '/dev/null' || (await this.isNullOrEmpty(target))) return { name, path, mode: 'masked' }
      const inSearchPath = UNIT_SEARCH_PATH.some((dir) => isInside(target, dir))
      return { name, path, mode: inSearchPath ? 'alias' : 'linked', target }
    }
    if (st.type !== 'file') throw new UnitNotFound(name)
    if (st.size === 0) return { name, path, mode: 'masked' }
    const signature = `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`
    // A file changed too recently to trust its times (racily clean) is parsed now and again next time.
    const racy = isRacy(st, this.startedAt)
    const known = this.parsed.get(path)
    const install = !racy && known?.signature === signature ? known.install : parseInstallSection((await this.text(path)) ?? '')
    this.used.set(path, { signature: racy ? `racy:${signature}` : signature, install })
    // A copy: drop-ins add to it, and the cached section must stay the file's own.
    return { name, path, mode: 'regular', install: copyInstallSection(install) }
  }

  private async isNullOrEmpty(path: string): Promise<boolean> {
    const st = await this.host.stat(path).catch(() => undefined)
    return st !== undefined && (st.type === 'char-device' || (st.type === 'file' && st.size === 0))
  }

  /** [Install] lines in NAME.d/*.conf (and the template's) add to the unit file's. */
  private async addDropIns(found: Found, template: string | undefined, view: SearchPathView): Promise<void> {
    for (const path of await this.dropIns(found.name, template, view)) {
      const text = await this.text(path)
      if (text !== undefined && text.length > 0) parseInstallSection(text, found.install)
    }
  }

  /** The paths of NAME.d/*.conf (and the template's), a name's first in the search path, in the order systemd reads them. */
  private async dropIns(name: string, template: string | undefined, view: SearchPathView): Promise<string[]> {
    const byName = new Map<string, string>()
    for (const unit of template === undefined ? [name] : [name, template]) {
      for (const dir of UNIT_SEARCH_PATH) {
        // Most units have no drop-in directory: ask the listing we already have, not the disk.
        if (!view.has(dir, `${unit}.d`)) continue
        for (const entry of await this.entries(`${dir}/${unit}.d`)) {
          if (entry.name.endsWith('.conf') && !byName.has(entry.name)) byName.set(entry.name, `${dir}/${unit}.d/${entry.name}`)
        }
      }
    }
    return [...byName.keys()].sort(compareStrings).map((file) => byName.get(file) as string)
  }

  /**
   * The texts systemd loads for a unit, in order: the unit file the name leads to (after aliases
   * and links), then its drop-ins (NAME.d/*.conf and the template's). undefined when the name
   * leads to no unit file or to a mask. For what a unit runs (`twinsync startup`); the
   * search-path-wide drop-ins (`service.d/`, `a-.service.d/`) are not read, as for [Install].
   */
  async unitTexts(name: string): Promise<string[] | undefined> {
    const view = await this.searchPath()
    let info: Found
    try {
      info = await this.traverse(name, view)
    } catch (error) {
      if (error instanceof UnitNotFound) return undefined
      throw error
    }
    if (info.mode !== 'regular') return undefined
    const main = await this.text(info.path)
    if (main === undefined) return undefined
    const template = isInstance(info.name) ? templateOf(info.name) : undefined
    const dropIns = await Promise.all((await this.dropIns(info.name, template, view)).map((path) => this.text(path)))
    return [main, ...dropIns.filter((t): t is string => t !== undefined)]
  }

  /** The links of one search directory, read once: its .wants/.requires/.upholds links and its own symlinks. */
  private scan(dir: string): Promise<DirScan> {
    let cached = this.scans.get(dir)
    if (cached === undefined) {
      cached = (async () => {
        const entries = await this.entries(dir)
        const linksByUnit: DirScan['linksByUnit'] = new Map()
        const add = (unit: string, link: string) => {
          const links = linksByUnit.get(unit)
          if (links === undefined) linksByUnit.set(unit, new Set([link]))
          else links.add(link)
        }
        for (const entry of entries) {
          if (entry.type !== 'directory') continue
          const suffix = entry.name.slice(entry.name.lastIndexOf('.'))
          if (suffix !== '.wants' && suffix !== '.requires' && suffix !== '.upholds') continue
          for (const link of await this.entries(`${dir}/${entry.name}`)) {
            if (link.type !== 'symlink') continue
            add(link.name, link.name)
            const template = templateOf(link.name)
            if (template !== undefined) add(template, link.name)
          }
        }
        const ownLinks: DirScan['ownLinks'] = []
        for (const entry of entries) {
          if (entry.type !== 'symlink') continue
          const raw = await this.readlink(`${dir}/${entry.name}`)
          if (raw !== undefined) ownLinks.push({ name: entry.name, destination: basenameOf(resolveLinkTarget(dir, raw)) })
        }
        const ownLinksOf: DirScan['ownLinksOf'] = new Map()
        const note = (unit: string, at: number) => {
          const positions = ownLinksOf.get(unit)
          if (positions === undefined) ownLinksOf.set(unit, [at])
          else if (positions[positions.length - 1] !== at) positions.push(at)
        }
        ownLinks.forEach((link, at) => {
          note(link.name, at)
          note(link.destination, at)
        })
        return { path: dir, linksByUnit, ownLinks, ownLinksOf }
      })()
      this.scans.set(dir, cached)
    }
    return cached
  }

  private async presets(): Promise<PresetRule[]> {
    this.presetRules ??= (async () => {
      const files = new Map<string, string>()
      for (const dir of PRESET_DIRS) {
        for (const entry of await this.entries(dir)) {
          if (entry.name.endsWith('.preset') && !files.has(entry.name)) files.set(entry.name, `${dir}/${entry.name}`)
        }
      }
      const rules: PresetRule[] = []
      for (const name of [...files.keys()].sort(compareStrings)) {
        const path = files.get(name) as string
        // A preset file linked to /dev/null masks the vendor file of that name.
        if (await this.isNullOrEmpty(path)) continue
        rules.push(...parsePresetFile((await this.text(path)) ?? ''))
      }
      return rules
    })()
    return this.presetRules
  }

  async entries(dir: string): Promise<DirEntry[]> {
    let cached = this.dirs.get(dir)
    if (cached === undefined) {
      // One call, not stat + readdir: a missing directory (most of the search path) or a non-directory simply lists nothing.
      cached = this.host.readdir(dir).catch(() => [])
      this.dirs.set(dir, cached)
    }
    return cached
  }

  async has(dir: string, name: string): Promise<boolean> {
    let names = this.names.get(dir)
    if (names === undefined) {
      names = this.entries(dir).then((entries) => new Set(entries.map((e) => e.name)))
      this.names.set(dir, names)
    }
    return (await names).has(name)
  }

  private readlink(path: string): Promise<string | undefined> {
    let cached = this.links.get(path)
    if (cached === undefined) {
      cached = this.host.readlink(path).catch(() => undefined)
      this.links.set(path, cached)
    }
    return cached
  }

  private text(path: string): Promise<string | undefined> {
    let cached = this.texts.get(path)
    if (cached === undefined) {
      cached = this.host.readTextIfExists(path, { follow: 'root-owned' }).catch(() => undefined)
      this.texts.set(path, cached)
    }
    return cached
  }
}

/** find_symlinks_in_scope: where, if anywhere, the unit is enabled through links. */
function findSymlinksInScope(scans: readonly DirScan[], info: Found, install: InstallSection, matchName: boolean): UnitFileState | undefined {
  let sameNameConfig = false
  let sameNameRuntime = false
  let enabledRuntime = false
  let enabledAtAll = false
  let ignoreSameName = false
  for (const scan of scans) {
    const dir = scan.path
    // Most directories have no link named after the unit or leading to it: nothing to look at.
    const { found, sameName } =
      scan.linksByUnit.has(info.name) || scan.ownLinksOf.has(info.name) ? findSymlinks(scan, info, install, matchName, ignoreSameName) : NOT_FOUND
    if (found) {
      if (dir === PERSISTENT_CONFIG) return 'enabled'
      if (isRuntimePath(dir)) enabledRuntime = true
      else enabledAtAll = true
    } else if (sameName) {
      if (dir === PERSISTENT_CONFIG) sameNameConfig = true
      else if (isRuntimePath(dir)) sameNameRuntime = true
    }
    // Links below the directory the unit file itself lives in are shadowed by it.
    if (!ignoreSameName && isInside(info.path, dir)) ignoreSameName = true
  }
  if (enabledRuntime) return 'enabled-runtime'
  if (enabledAtAll && isInstance(info.name)) return 'static'
  if (sameNameConfig) return 'linked'
  if (sameNameRuntime) return 'linked-runtime'
  return undefined
}

function copyInstallSection(s: InstallSection): InstallSection {
  return { aliases: [...s.aliases], wantedBy: [...s.wantedBy], requiredBy: [...s.requiredBy], upheldBy: [...s.upheldBy], also: [...s.also], defaultInstance: s.defaultInstance }
}

/** is_symlink_with_known_name: the link is one `systemctl enable` itself would create. */
function isKnownName(unit: string, install: InstallSection, link: string): boolean {
  if (link === unit || install.aliases.includes(link)) return true
  return install.defaultInstance !== undefined && isTemplate(unit) && withInstance(unit, install.defaultInstance) === link
}

const NOT_FOUND = { found: false, sameName: false } as const

/** find_symlinks: a link in the .wants-style directories (by link name) or in the directory itself (by target). */
function findSymlinks(scan: DirScan, info: Found, install: InstallSection, matchName: boolean, ignoreSameName: boolean): { found: boolean; sameName: boolean } {
  // In a .wants directory only the link's name counts: the unit itself or an instance of it.
  for (const link of scan.linksByUnit.get(info.name) ?? []) {
    if (!matchName || isKnownName(info.name, install, link)) return { found: true, sameName: false }
  }
  let sameName = false
  for (const at of scan.ownLinksOf.get(info.name) ?? []) {
    const { name, destination } = scan.ownLinks[at] as { name: string; destination: string }
    const foundDest = destination === info.name
    const foundPath = !ignoreSameName && name === info.name
    if (foundPath && foundDest) sameName = true
    else if ((foundPath || foundDest) && (!matchName || isKnownName(info.name, install, name))) return { found: true, sameName }
  }
  return { found: false, sameName }
}
