import { compareStrings, type HostReader } from '@twinsync/sdk'

/**
 * rpm's macro files, in the order rpm reads them (a later definition wins): its defaults,
 * packages' additions, the distribution's, then the administrator's.
 */
const MACRO_FILES = ['/usr/lib/rpm/macros', '/usr/lib/rpm/macros.d/', '/usr/lib/rpm/redhat/macros', '/etc/rpm/', '/etc/rpm/macros'] as const

/**
 * Where rpm databases are kept when the macros do not say it plainly: /usr/lib/sysimage/rpm
 * (Fedora 36 on, openSUSE), /var/lib/rpm (RHEL, older Fedora), /root/.rpmdb (Debian's rpm
 * package: root's ~/.rpmdb, which its macros compute with a shell command).
 */
const USUAL_PLACES = ['/usr/lib/sysimage/rpm', '/var/lib/rpm', '/root/.rpmdb'] as const

/** The files of an rpm database: sqlite (rpm 4.16 on), Berkeley DB, ndb. */
const DATABASE_FILES = ['rpmdb.sqlite', 'Packages', 'Packages.db'] as const

export interface RpmDatabase {
  /** Where the database is, as a target path; undefined when there is none. */
  path: string | undefined
  /** Why: what the target's macros say, or which usual place holds it. */
  reason: string
}

/**
 * The target's rpm database, found by reading the target only: its own macro files' `%_dbpath`
 * (with the plain macros it names, such as %{_var}), else the usual places. No program runs,
 * so with --root nothing of the host's rpm configuration leaks in (the host's `rpm --eval`
 * answers for the host, not for the root), and detecting costs a few file reads.
 */
export async function findRpmDatabase(host: HostReader): Promise<RpmDatabase> {
  const configured = await configuredDbPath(host)
  if (configured !== undefined) {
    return (await holdsDatabase(host, configured))
      ? { path: configured, reason: `rpm database at ${configured} (its %_dbpath)` }
      : { path: undefined, reason: `no rpm database at ${configured}, where the target's rpm macros put it` }
  }
  for (const place of USUAL_PLACES) {
    if (await holdsDatabase(host, place)) return { path: place, reason: `rpm database at ${place}` }
  }
  return { path: undefined, reason: `no rpm database in the target (looked in ${USUAL_PLACES.join(', ')})` }
}

async function holdsDatabase(host: HostReader, dir: string): Promise<boolean> {
  if ((await host.stat(dir).catch(() => undefined))?.type !== 'directory') return false
  for (const file of DATABASE_FILES) if ((await host.stat(`${dir}/${file}`).catch(() => undefined))?.type === 'file') return true
  return false
}

/** `%_dbpath` as the target's macro files define it, when it expands to a plain absolute path. */
async function configuredDbPath(host: HostReader): Promise<string | undefined> {
  const macros = new Map<string, string>()
  for (const file of await macroFiles(host)) {
    for (const [name, body] of parseMacros((await host.readTextIfExists(file).catch(() => undefined)) ?? '')) macros.set(name, body)
  }
  const body = macros.get('_dbpath')
  if (body === undefined) return undefined
  const path = expand(body, macros, 0)
  // A shell expansion (%(…)), a conditional or an unknown macro: not something to work out by reading.
  return path !== undefined && path.startsWith('/') && !path.includes('%') ? path.replace(/\/+$/, '') || '/' : undefined
}

async function macroFiles(host: HostReader): Promise<string[]> {
  const out: string[] = []
  for (const entry of MACRO_FILES) {
    if (!entry.endsWith('/')) {
      out.push(entry)
      continue
    }
    const names = (await host.readdir(entry.slice(0, -1)).catch(() => [])).map((e) => e.name).filter((n) => n.startsWith('macros.')).sort(compareStrings)
    out.push(...names.map((n) => `${entry}${n}`))
  }
  return out
}

/** One-line macro definitions without arguments: `%name body`. */
export function parseMacros(text: string): Array<[string, string]> {
  const out: Array<[string, string]> = []
  for (const line of text.split('\n')) {
    const m = /^%([A-Za-z_][A-Za-z0-9_]*)[ \t]+(.*?)\s*$/.exec(line)
    if (m !== null && !(m[2] as string).endsWith('\\')) out.push([m[1] as string, m[2] as string])
  }
  return out
}

function expand(body: string, macros: ReadonlyMap<string, string>, depth: number): string | undefined {
  if (depth > 16) return undefined
  let unresolved = false
  const expanded = body.replace(/%\{([A-Za-z_][A-Za-z0-9_]*)\}|%([A-Za-z_][A-Za-z0-9_]*)/g, (whole, braced: string | undefined, bare: string | undefined) => {
    const value = macros.get((braced ?? bare) as string)
    const inner = value === undefined ? undefined : expand(value, macros, depth + 1)
    if (inner === undefined) unresolved = true
    return inner ?? whole
  })
  return unresolved ? undefined : expanded
}
