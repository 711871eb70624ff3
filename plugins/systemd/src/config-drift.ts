import { cachedBySignature, compareStrings, configReadBy, pathPatternToRegExp, type HostReader, type ProviderCache } from '@twinsync/sdk'
import type { RuntimeEntry } from './state.js'
import { ADMIN_DROP_IN_DIRS, SYSTEM_UNIT_DROP_IN, SYSTEM_UNIT_FILE } from './unit-paths.js'

const DPKG_INFO = '/var/lib/dpkg/info'
/** Enough to show; the change names the newest first. */
const MAX_REPORTED = 10
/** A configuration tree bigger than this is only partly compared (the walk stops). */
const MAX_FILES_PER_SERVICE = 2000

/** What a running service was started or last reloaded with, as `systemctl show` tells it. */
export interface ServiceStart {
  unit: string
  /** Wall-clock milliseconds: when the service last began to start, or to reload (the later). */
  loadedAt: number
  canReload: boolean
  environmentFiles: string[]
  fragmentPath?: string
  /** Its drop-ins (DropInPaths). */
  dropInPaths?: string[]
  /** SubState ("running", "exited", …), when asked for (serviceStarts with `withSubState`). */
  sub?: string
}

/**
 * A running service reads its configuration when it starts or reloads. A file it reads that
 * was modified after that is not in effect: the service runs an older configuration, whatever
 * the twin or anyone remembers, until it is reloaded or restarted. Derived from the machine
 * alone: `systemctl show` start and reload times against the files' modification times.
 *
 * Adds `staleConfig` (files newest first, then folders) and `canReload` to the runtime entries of running services.
 * Which files a service reads: its EnvironmentFiles; for `systemd-NAME.service`,
 * /etc/systemd/NAME.conf and NAME.conf.d; otherwise the /etc files and directories of the
 * package that ships the unit whose first component is named after the unit or the package
 * (nginx-common's /etc/nginx, postfix's /etc/postfix, not its /etc/init.d or /etc/logrotate.d),
 * unless the SDK's table of Debian services (DEBIAN_CONFIG_CHECKS, the same one apply checks and
 * reloads by) lists the unit: then the files it names.
 */
export async function addConfigDrift(host: HostReader, runtime: Record<string, RuntimeEntry>, cache?: ProviderCache): Promise<void> {
  const running = Object.keys(runtime)
    .filter((unit) => unit.endsWith('.service') && runtime[unit]?.active === 'active' && runtime[unit]?.sub === 'running')
    .sort(compareStrings)
  if (running.length === 0) return
  const starts = await serviceStarts(host, running)
  const packages = await unitPackages(host, cache)
  for (const start of starts) {
    const entry = runtime[start.unit]
    if (entry === undefined) continue
    const stale = await staleConfigOf(host, start, packages)
    if (stale.length === 0) continue
    entry.staleConfig = stale
    entry.canReload = start.canReload
  }
}

/**
 * The files (then folders) a started service reads that were modified after it started or last
 * reloaded, newest first: the configuration it does not run yet. Empty when it runs its files.
 */
export async function staleConfigOf(host: HostReader, start: ServiceStart, packages: UnitPackages): Promise<string[]> {
  const stale: Array<{ path: string; mtime: number }> = []
  for (const path of await configFilesOf(host, start, packages)) {
    const mtime = await modifiedAt(host, path)
    if (mtime !== undefined && mtime > start.loadedAt) stale.push({ path, mtime })
  }
  // Files first, newest first; a folder (changed by adding, removing or renaming a file in it) names the cause only when no file does.
  const isDir = (p: string) => (p.endsWith('/') ? 1 : 0)
  stale.sort((a, b) => isDir(a.path) - isDir(b.path) || b.mtime - a.mtime || compareStrings(a.path, b.path))
  return stale.slice(0, MAX_REPORTED).map((s) => s.path)
}

/** One `systemctl show` for every running service (and, `withSubState`, each one's SubState too). */
export async function serviceStarts(host: HostReader, units: readonly string[], withSubState = false): Promise<ServiceStart[]> {
  const props = ['Id', 'InactiveExitTimestamp', 'ExecMainStartTimestamp', 'ExecReload', 'StateChangeTimestamp', 'CanReload', 'EnvironmentFiles', 'FragmentPath', 'DropInPaths', ...(withSubState ? ['SubState'] : [])]
  const result = await host.query('systemctl', ['show', '--timestamp=us+utc', ...props.flatMap((p) => ['-p', p]), '--', ...units], { timeoutMs: 60_000 })
  if (result.exitCode !== 0) throw new Error(`systemctl show exited ${result.exitCode}: ${result.stderr.trim()}`)
  return parseServiceShow(result.stdout)
}

/**
 * Blocks of KEY=VALUE lines, one per unit, separated by empty lines.
 *
 * When the last reload began is ExecReload's start_time, but systemd forgets it at every
 * `systemctl daemon-reload` (start_time=[n/a] afterwards; seen on Debian 13's systemd 257, and an
 * apt upgrade or an apply that changes a unit file runs one): then every service reloaded before
 * it would count as running an older configuration, and each apply would plan its reload again,
 * forever (session 22, on a booted services root). StateChangeTimestamp survives a daemon-reload;
 * for a running service it is when the last start or reload ended. It stands in for the
 * reload's begin only when systemd no longer says that begin (a file changed during that very
 * reload is then taken as read: the reload's own run, a few milliseconds).
 */
export function parseServiceShow(output: string): ServiceStart[] {
  const out: ServiceStart[] = []
  for (const block of output.split(/\n\s*\n/)) {
    let unit: string | undefined
    let loadedAt = Number.NEGATIVE_INFINITY
    let reloadKnown = false
    let stateChange: number | undefined
    let canReload = false
    let fragmentPath: string | undefined
    let dropInPaths: string[] = []
    let sub: string | undefined
    const environmentFiles: string[] = []
    for (const line of block.split('\n')) {
      const eq = line.indexOf('=')
      if (eq < 0) continue
      const key = line.slice(0, eq)
      const value = line.slice(eq + 1)
      if (key === 'Id') unit = value
      else if (key === 'InactiveExitTimestamp' || key === 'ExecMainStartTimestamp') loadedAt = Math.max(loadedAt, parseTimestamp(value) ?? loadedAt)
      else if (key === 'ExecReload') {
        // { path=… ; argv[]=… ; start_time=[Mon 2026-11-30 05:07:37.712688 UTC] ; … }: when the last reload began.
        for (const m of value.matchAll(/start_time=\[([^\]]*)\]/g)) {
          const began = parseTimestamp(m[1] ?? '')
          if (began === undefined) continue
          reloadKnown = true
          loadedAt = Math.max(loadedAt, began)
        }
      } else if (key === 'StateChangeTimestamp') stateChange = parseTimestamp(value)
      else if (key === 'CanReload') canReload = value === 'yes'
      else if (key === 'FragmentPath' && value !== '') fragmentPath = value
      else if (key === 'DropInPaths') dropInPaths = value.split(' ').filter((p) => p.startsWith('/'))
      else if (key === 'SubState') sub = value
      else if (key === 'EnvironmentFiles') {
        const path = value.replace(/ \(ignore_errors=(yes|no)\)$/, '')
        if (path.startsWith('/')) environmentFiles.push(path)
      }
    }
    if (unit === undefined || loadedAt === Number.NEGATIVE_INFINITY) continue
    if (!reloadKnown && stateChange !== undefined) loadedAt = Math.max(loadedAt, stateChange)
    out.push({ unit, loadedAt, canReload, environmentFiles, ...(fragmentPath === undefined ? {} : { fragmentPath }), ...(dropInPaths.length === 0 ? {} : { dropInPaths }), ...(sub === undefined ? {} : { sub }) })
  }
  return out
}

/** "Mon 2026-11-30 05:07:33.753974 UTC" (systemctl --timestamp=us+utc) as wall-clock milliseconds. */
export function parseTimestamp(text: string): number | undefined {
  const m = /(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(?:\.(\d{1,6}))? UTC/.exec(text)
  if (m === null) return undefined
  const seconds = Date.parse(`${m[1]}T${m[2]}Z`)
  if (Number.isNaN(seconds)) return undefined
  return seconds + Number(`0.${m[3] ?? '0'}`) * 1000
}

/** For each unit file a package ships: the package, and the first components of its /etc paths. */
export type UnitPackages = Map<string, Array<{ package: string; etcTops: string[] }>>

const PACKAGES_CACHE_KEY = 'unit-packages-v2'
const UNIT_FILE = /^(?:\/usr)?\/lib\/systemd\/system\/[^/]+\.service$/

/**
 * Which package ships which unit file, from dpkg's file lists. Reading every list costs a few
 * hundred milliseconds on a server, so the answer is cached until dpkg's info folder changes
 * (dpkg replaces a list by renaming, which changes the folder).
 */
export async function unitPackages(host: HostReader, cache?: ProviderCache): Promise<UnitPackages> {
  const folder = await host.stat(DPKG_INFO).catch(() => undefined)
  if (folder?.type !== 'directory') return new Map()
  const signature = `${folder.ino}:${folder.mtimeMs}:${folder.ctimeMs}`
  const read = async (): Promise<Array<[string, Array<{ package: string; etcTops: string[] }>]>> => {
    const units: UnitPackages = new Map()
    for (const entry of await host.readdir(DPKG_INFO).catch(() => [])) {
      if (!entry.name.endsWith('.list')) continue
      const lines = ((await host.readTextIfExists(`${DPKG_INFO}/${entry.name}`)) ?? '').split('\n')
      const unitFiles = lines.filter((l) => UNIT_FILE.test(l))
      if (unitFiles.length === 0) continue
      const name = entry.name.slice(0, -'.list'.length).replace(/:[^:]*$/, '')
      const etcTops = [...new Set(lines.map((l) => /^\/etc\/([^/]+)/.exec(l)?.[1]).filter((t): t is string => t !== undefined))].sort(compareStrings)
      for (const unitFile of unitFiles) units.set(unitFile, [...(units.get(unitFile) ?? []), { package: name, etcTops }])
    }
    return [...units.entries()].sort(([x], [y]) => compareStrings(x, y))
  }
  return new Map(cache === undefined ? await read() : await cachedBySignature(cache, PACKAGES_CACHE_KEY, signature, read))
}

/** The files (and symlinks) a service reads at start, and their folders (ending in "/"), by the rules of addConfigDrift. */
export async function configFilesOf(host: HostReader, start: ServiceStart, packages: UnitPackages): Promise<string[]> {
  const files = new Set<string>(start.environmentFiles)
  // The administrator's own unit file and drop-ins (session 25): one changed after the start means
  // the service runs older unit settings (a drop-in edited by hand, the daemon-reload or the
  // restart forgotten). A package's unit file under /usr/lib is left out: an upgrade that does
  // not restart its service (dbus, logind) does so on purpose.
  for (const path of [start.fragmentPath, ...(start.dropInPaths ?? [])]) if (path !== undefined && isAdminUnitFile(path)) files.add(path)
  const known = configReadBy(start.unit) ?? configReadBy(templateName(start.unit))
  const own = /^systemd-(.+)\.service$/.exec(start.unit)
  const roots: string[] = []
  const patterns: RegExp[] = []
  if (known !== undefined) {
    for (const pattern of known) {
      const literal = pattern.slice(0, pattern.search(/[*?]|$/))
      roots.push(literal.endsWith('/') ? literal.slice(0, -1) : literal.slice(0, literal.lastIndexOf('/')) || '/')
      patterns.push(pathPatternToRegExp(pattern))
    }
  } else if (own !== null) {
    roots.push(`/etc/systemd/${own[1]}.conf`, `/etc/systemd/${own[1]}.conf.d`)
  } else if (start.fragmentPath !== undefined) {
    for (const unitPath of usrMergeVariants(start.fragmentPath)) {
      for (const owner of packages.get(unitPath) ?? []) {
        const stems = [stemOf(templateName(start.unit).replace(/@?\.service$/, '')), stemOf(owner.package)]
        // All of a folder named after the service is its configuration (a site nobody packaged too), or a top-level file.
        for (const top of owner.etcTops) if (namedAfter(top, stems)) roots.push(`/etc/${top}`)
      }
    }
  }
  for (const root of new Set(roots)) {
    await walk(host, root, (path) => {
      if (patterns.length === 0 || patterns.some((p) => p.test(path))) files.add(path)
    })
  }
  // Its drop-in folders on disk too: the manager lists a drop-in in DropInPaths only once it has
  // reloaded, so one written by hand since (NeedDaemonReload=yes) is found here, or by its folder.
  for (const name of new Set([start.unit, templateName(start.unit)])) for (const dir of ADMIN_DROP_IN_DIRS) await walk(host, `${dir}/${name}.d`, (path) => files.add(path))
  return [...files].sort(compareStrings)
}

async function walk(host: HostReader, root: string, found: (path: string) => void): Promise<void> {
  let budget = MAX_FILES_PER_SERVICE
  const visit = async (path: string, depth: number): Promise<void> => {
    if (budget <= 0) return
    const st = await host.lstat(path).catch(() => undefined)
    if (st === undefined) return
    if (st.type === 'file' || st.type === 'symlink') {
      budget--
      found(path)
      return
    }
    if (st.type !== 'directory' || depth > 6) return
    // A directory changes when a file in it is added, removed or renamed: a deleted
    // configuration file leaves only that trace.
    found(`${path}/`)
    const entries = await host.readdir(path).catch(() => [])
    for (const entry of entries.map((e) => e.name).sort(compareStrings)) await visit(`${path}/${entry}`, depth + 1)
  }
  await visit(root, 0)
}

/** The later of a file's own modification and, for a symlink, its target's: enabling a site is a link. */
async function modifiedAt(host: HostReader, path: string): Promise<number | undefined> {
  const own = await host.lstat(path.endsWith('/') ? path.slice(0, -1) : path).catch(() => undefined)
  if (own === undefined) return undefined
  if (own.type === 'directory') return own.mtimeMs
  if (own.type !== 'symlink') return own.type === 'file' ? own.mtimeMs : undefined
  const target = await host.stat(path).catch(() => undefined)
  return Math.max(own.mtimeMs, target?.type === 'file' ? target.mtimeMs : Number.NEGATIVE_INFINITY)
}

function templateName(unit: string): string {
  return unit.replace(/@[^.]*\.service$/, '@.service')
}

/** nginx-common → nginx, openssh-server → openssh, php8.2-fpm → php8.2-fpm. */
function stemOf(name: string): string {
  return name.replace(/@$/, '').replace(/-(common|server|core|daemon|bin|base)$/, '')
}

/**
 * /etc folders that hold other programs' configuration (or unit files, which take a
 * daemon-reload, not a restart): never a service's own, whatever its name.
 */
const SHARED_TOPS: ReadonlySet<string> = new Set([
  'alternatives', 'apparmor.d', 'apt', 'cron.d', 'cron.daily', 'cron.hourly', 'cron.monthly', 'cron.weekly', 'cron.yearly', 'crontab',
  'dbus-1', 'default', 'init', 'init.d', 'kernel', 'ld.so.conf.d', 'logrotate.d', 'modprobe.d', 'network', 'pam.d', 'profile.d',
  'security', 'ssl', 'sudoers', 'sudoers.d', 'sysctl.d', 'systemd', 'sysusers.d', 'tmpfiles.d', 'udev', 'ufw', 'X11', 'xdg',
])

/** Is /etc/TOP named after one of the stems: nginx, postgresql-common for postgresql, php for php8.2-fpm? */
function namedAfter(top: string, stems: readonly string[]): boolean {
  const name = top.replace(/\.(conf|cf|cfg|d|ini)$/, '')
  if (name.length < 3 || SHARED_TOPS.has(top) || /^rc.\.d$/.test(top)) return false
  return stems.some((stem) => stem.length >= 3 && (name === stem || name.startsWith(`${stem}-`) || name.startsWith(`${stem}.`) || stem.startsWith(name)))
}

/** dpkg may list a unit under /lib or /usr/lib (merged /usr): either names the same file. */
function usrMergeVariants(path: string): Set<string> {
  const bare = path.replace(/^\/usr(?=\/lib\/)/, '')
  return new Set([bare, `/usr${bare}`])
}

/**
 * A unit file or drop-in of the administrator's (in /etc/systemd/system, system.control or
 * system.attached; a whole unit file of the last two since session 27): read by the manager at
 * daemon-reload, by a service when it starts. Not a packaged one (/lib): a package's own scripts
 * reload and restart after its upgrade.
 */
export function isAdminUnitFile(path: string): boolean {
  return (path.startsWith('/etc/systemd/system/') && !path.slice('/etc/systemd/system/'.length).includes('.wants/')) || (ADMIN_DROP_IN_DIRS.some((dir) => path.startsWith(dir + '/')) && (SYSTEM_UNIT_DROP_IN.test(path) || SYSTEM_UNIT_FILE.test(path)))
}
