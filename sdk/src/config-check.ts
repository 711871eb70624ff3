import type { Change } from './change.js'
import type { HostPort } from './host.js'
import { pathPatternToRegExp } from './glob.js'
import type { Provider } from './provider.js'

/**
 * Where a service's own checker, and every program a checker's script calls, is looked for and
 * run from: the distribution's folders only. /usr/local/bin is the files provider's to write
 * (files.include), so a twin could plant a `visudo` there that passes anything; first on the
 * ordinary PATH, it then stood in for sudo's own checker (session 16: a world-writable sudoers
 * file went live "checked"). A checker found only under /usr/local is as one not installed.
 */
export const CHECKER_PATH = '/usr/sbin:/usr/bin:/sbin:/bin'

/** The checker program in the target, from CHECKER_PATH: its path, or undefined when it is not installed there. */
export async function findChecker(host: Pick<HostPort, 'stat'>, program: string): Promise<string | undefined> {
  if (program.includes('/') || program === '' || program === '.' || program === '..') return undefined
  for (const dir of CHECKER_PATH.split(':')) {
    const st = await host.stat(`${dir}/${program}`)
    if (st?.type === 'file' && (st.mode & 0o111) !== 0) return `${dir}/${program}`
  }
  return undefined
}

/** The environment a checker runs with: its own (ConfigCheck.env), and CHECKER_PATH, which it cannot change. */
export function checkerEnv(check: Pick<ConfigCheck, 'env'> = {}): Record<string, string> {
  return { ...check.env, PATH: CHECKER_PATH }
}

/** In a checker's argument list, replaced by each changed file of the group (one run per file). */
export const CHANGED_FILE = '{file}'
/**
 * In a checker's argument list, replaced by the systemd unit each changed file is part of (one
 * run per file): a unit file's own path, and for a drop-in (`/etc/systemd/system/x.service.d/y.conf`)
 * the name of its unit (`x.service`), which `systemd-analyze verify` loads with its drop-ins: a
 * drop-in alone is not a unit it can verify.
 */
export const CHANGED_UNIT = '{unit}'

/** Does the checker run once per changed file (its arguments name the file or its unit)? */
export function runsPerFile(argv: readonly string[]): boolean {
  return argv.includes(CHANGED_FILE) || argv.includes(CHANGED_UNIT)
}

/** What CHANGED_UNIT becomes for a path: the unit file itself, or the unit a drop-in belongs to. */
export function unitOfPath(path: string): string {
  const folder = path.split('/').at(-2) ?? ''
  return /\.[a-z]+\.d$/.test(folder) ? folder.slice(0, -2) : path
}

/**
 * How one service's configuration is checked before it goes live. Apply groups the files a plan
 * writes by the service that reads them: it writes a group's files, runs the check inside the
 * target, and only when the check passes may the service be reloaded; when it fails the previous
 * files are put back and the service is left alone.
 */
export interface ConfigCheck {
  /** Short name of the service ("nginx"); checks of the same name form one group. */
  readonly service: string
  /** Machine path patterns (PathClaims syntax: `*` one component, `**` any depth) it reads. */
  readonly paths: readonly string[]
  /**
   * The checker's argument list, run inside the target: `['nginx', '-t']`. An argument equal to
   * CHANGED_FILE makes it run once per changed file with that path (`visudo -c -f {file}`).
   * Without it the service has no checker: its files are grouped (for reload and rollback) only.
   */
  readonly argv?: readonly string[]
  /**
   * What a person reads as the command when argv is long (a fixed `sh -c` script): shown in
   * messages instead of argv, with CHANGED_FILE replaced by the file.
   */
  readonly shown?: string
  /**
   * Output that rejects the configuration even when the checker exits 0: `systemd-analyze
   * verify` only logs a bad line of a drop-in (`FILE:LINE: ...`), and systemd then ignores it.
   */
  readonly rejectsOutput?: RegExp
  /** Environment the checker needs besides PATH and the C.UTF-8 locale. */
  readonly env?: Readonly<Record<string, string>>
  /**
   * A per-file checker (CHANGED_FILE) also runs for a file the plan removes, given the path that
   * is gone: it judges what is left of the configuration the file was part of (the postgresql
   * check: the cluster, with a pg_hba.conf or an included file gone). Without it a removed file
   * is judged only by a checker of the whole configuration, or as a drop-in's unit
   * (CHANGED_UNIT); a checker that needs the file to exist must leave it unset.
   */
  readonly checksRemoval?: boolean
  /** The checker's time limit in milliseconds (default 60 s); past it the change is rejected. */
  readonly timeoutMs?: number
  /**
   * A check of one file's new content before it is written, for files that lock people out when
   * broken even for a moment (sudoers, sshd_config): `argv` with CHANGED_FILE is run on a temp
   * file beside the real one, at plan time and again just before the write. `paths` narrows it
   * (an sshd drop-in is no complete configuration to check alone); by default all of `paths`.
   */
  readonly newContent?: { readonly argv: readonly string[]; readonly paths?: readonly string[] }
  /** systemd units that read these files, reloaded (or restarted) after a change when they run. */
  readonly units?: readonly string[]
  /**
   * Files of the configuration the service reads only compiled (postfix's lookup tables: it reads
   * `virtual.db` or `virtual.lmdb`, never `virtual`): apply builds each one the group wrote after
   * the write and before the checker, and puts the compiled file back with the text when the
   * check (or the build) fails or the reload does not bring the service back.
   */
  readonly compiled?: CompiledFiles
}

/** One compiled file of a service's configuration: built from `source` into `built` by `argv`. */
export interface CompiledFile {
  readonly source: string
  readonly built: string
  /** Run inside the target (from CHECKER_PATH), never sandboxed: it writes `built`. */
  readonly argv: readonly string[]
}

/** How a service's compiled files are found (see ConfigCheck.compiled). */
export interface CompiledFiles {
  /** Run inside the target, sandboxed, on the configuration as it is on disk: prints what `parse` reads. */
  readonly listArgv: readonly string[]
  /** The compiled files the configuration names, from listArgv's output. */
  readonly parse: (output: string) => CompiledFile[]
}

/**
 * An optional capability: a provider that knows how services check their own configuration.
 * The files provider brings a table for what a Debian server commonly runs; a plugin adds its
 * own service by implementing this.
 */
export interface ConfigChecker {
  readonly configChecks: readonly ConfigCheck[]
}

export function isConfigChecker(provider: Provider): provider is Provider & ConfigChecker {
  return Array.isArray((provider as Partial<ConfigChecker>).configChecks)
}

/** The first check with a new-content checker for `path` (see ConfigCheck.newContent). */
export function newContentCheckFor(checks: readonly ConfigCheck[], path: string): ConfigCheck | undefined {
  return checks.find((c) => c.newContent !== undefined && matcherOf(c.newContent.paths ?? c.paths).test(path))
}

/** The checks whose paths match `path`, in the order given. */
export function checksFor(checks: readonly ConfigCheck[], path: string): ConfigCheck[] {
  return checks.filter((c) => matcherOf(c.paths).test(path))
}

/** File changes of any provider: `data` is `{ action, path }` with one of these actions. */
const FILE_ACTIONS: ReadonlySet<string> = new Set(['write', 'symlink', 'delete', 'chmod', 'chown', 'attributes', 'mkdir'])

/** The machine path a file change of any provider touches (its `data.path`, absolute), or undefined. */
export function filePathOf(change: Change): string | undefined {
  const data = change.data as { action?: unknown; path?: unknown } | undefined
  return typeof data?.action === 'string' && FILE_ACTIONS.has(data.action) && typeof data.path === 'string' && data.path.startsWith('/') ? data.path : undefined
}

/**
 * Every machine path a file change touches: its own, and for a folder deleted whole each entry
 * below it that the delete names (`data.below`, the files provider's), only those below the
 * folder: another provider's data is checked, never trusted. Empty for a change that is no file
 * change.
 */
export function touchedPaths(change: Change): string[] {
  const path = filePathOf(change)
  if (path === undefined) return []
  const data = change.data as { action: string; below?: unknown }
  if (data.action !== 'delete' || !Array.isArray(data.below)) return [path]
  return [path, ...data.below.map((e: { path?: unknown } | null) => e?.path).filter((p): p is string => typeof p === 'string' && p.startsWith(`${path}/`))]
}

/**
 * The checks of the services that read what a file change touches: those matching its own path
 * first, then those matching a path below it (a folder deleted whole), each once, in the order
 * given. The one rule of "which service reads this": apply checks the change by every one of them
 * that has a checker (core's ConfigGuard: the change is in each one's group, and a rejection by
 * any puts it back), the systemd provider reloads the units of all of them after it, and a
 * rehearsal proves those units. A folder deleted whole is read by the service that reads anything
 * below it (`/etc/ssh/sshd_config.d` by sshd, whose pattern `/etc/ssh/sshd_config.d/**` the
 * folder itself does not match). Session 45 made the check follow a folder's delete; session 46:
 * the reload matched the folder's own path alone, so such a delete was checked and went live,
 * and the service ran on with the files it had read until something restarted it. Session 47:
 * apply checked a change by the first of them only (checkReading), while every one was reloaded:
 * a plugin's service reading a file under /etc/nginx reloaded after `nginx -t` alone judged it.
 */
export function checksReading(checks: readonly ConfigCheck[], change: Change): ConfigCheck[] {
  const out: ConfigCheck[] = []
  for (const path of touchedPaths(change)) {
    for (const check of checksFor(checks, path)) if (!out.includes(check)) out.push(check)
  }
  return out
}

/**
 * A check's patterns as one RegExp (their alternation, the same language), made once per `paths`
 * array. Session 27: the "systemd units" check names every folder of the unit path (234 patterns,
 * was 36); one test per pattern made checksFor over the whole table cost 38–40 ms CPU for 5,000
 * changed paths (10.6–11.2 ms with the 36); one alternation per check: 4.6–4.7 ms (4.1 ms with
 * the 36). Medians of 15 interleaved runs in one process, load 7–8, 2 cores (process.cpuUsage;
 * perf's instruction counter is not available on this machine).
 */
const compiled = new WeakMap<readonly string[], RegExp>()
function matcherOf(paths: readonly string[]): RegExp {
  let regex = compiled.get(paths)
  if (regex === undefined) {
    regex = paths.length === 0 ? /(?!)/ : new RegExp(`^(?:${paths.map((p) => pathPatternToRegExp(p).source.slice(1, -1)).join('|')})$`)
    compiled.set(paths, regex)
  }
  return regex
}
