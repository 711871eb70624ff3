import { access, lstat, mkdir, readdir, readFile, realpath, rm } from 'node:fs/promises'
import { readFileSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { execa } from 'execa'
import { TwinSyncError } from '@twinsync/sdk/errors'
import { ownEnv, passwdUsers, writeFileAtomic } from '@twinsync/sdk/light'
import { needsBashQuoting, quoteArg } from '../plan/command-text.js'
import { defaultConfigPath } from '../config/config-file.js'

/** The files `twinsync schedule` writes, relative to the target root. Nothing else is touched. */
export const SCHEDULE_SERVICE = 'etc/systemd/system/twinsync-snapshot.service'
export const SCHEDULE_TIMER = 'etc/systemd/system/twinsync-snapshot.timer'
export const SCHEDULE_CRON = 'etc/cron.d/twinsync'
export const SCHEDULE_APT_HOOK = 'etc/apt/apt.conf.d/80twinsync-snapshot'
/** How long the apt hook may take before apt goes on without the snapshot. */
export const APT_HOOK_TIMEOUT_S = 120
const TIMER_UNIT = 'twinsync-snapshot.timer'
const MARKER = '# Written by `twinsync schedule enable`; `twinsync schedule disable` removes it.'

export interface ScheduleTarget {
  /** Root directory of the target machine ('/' for this one). */
  root: string
  /** The --repo and --config the user gave, passed on to the scheduled snapshot. */
  repo?: string | undefined
  config?: string | undefined
  /** Absolute node binary and twinsync entry the units run (default: the ones running now). */
  node?: string
  entry?: string
}

export interface ScheduleStatus {
  kind: 'systemd' | 'cron' | 'none'
  files: string[]
  every?: string
  command?: string
  /** The apt hook file, when `enable --apt` installed it. */
  apt?: string
  /** Only on a running systemd: whether the timer is active and when it fires next. */
  active?: boolean
  next?: string
}

export interface ScheduleResult extends ScheduleStatus {
  action: 'enabled' | 'disabled'
  /** For disable: the files that were removed. */
  removed?: string[]
  /** The twin's adopt commit that records what enable or disable changed (see isScheduleItem); null when the twin already recorded it. */
  recorded?: string | null
  /** Why it could not be recorded (the twin is locked, …): then the next apply would undo it. */
  notRecorded?: string
}

/**
 * A drift item that is the schedule's own: its files, its timer and service. `schedule enable`
 * and `disable` change the machine outside an apply; these are adopted into the twin right after
 * (ReconcileService.adoptOwn), or the next apply, making the machine match the twin, would delete
 * the timer it just wrote (session 22, on a booted services root).
 */
export function isScheduleItem(change: { provider: string; resource: string; operation?: string; data?: unknown }): boolean {
  const own = [SCHEDULE_SERVICE, SCHEDULE_TIMER, SCHEDULE_CRON, SCHEDULE_APT_HOOK].map((f) => `/${f}`)
  if (change.provider === 'files') return own.includes(change.resource)
  if (change.provider !== 'systemd') return false
  if (change.resource === TIMER_UNIT || change.resource === 'twinsync-snapshot.service') return true
  // The manager's reload for unit files that changed, when those are the schedule's alone: it is
  // recorded with them (the same twin document), so it is taken with them.
  const files = (change.data as { unitFiles?: unknown } | undefined)?.unitFiles
  return change.operation === 'daemon-reload' && Array.isArray(files) && files.length > 0 && files.every((f) => own.includes(f as string))
}

/** `--every` as seconds: 30s, 15m, 15min, 1h, 1d (a bare number is minutes). */
export function parseEvery(every: string): number {
  const m = /^(\d+)\s*(s|sec|m|min|h|d)?$/.exec(every.trim())
  const n = m === null ? 0 : Number(m[1])
  if (m === null || n <= 0) {
    throw new TwinSyncError('USAGE', `--every ${JSON.stringify(every)} is not an interval`, {
      nextStep: 'Give a number with a unit, e.g. `twinsync schedule enable --every 1h` (s, min, h, d).',
      details: { every },
    })
  }
  const unit = m[2] ?? 'min'
  return n * (unit.startsWith('s') ? 1 : unit.startsWith('m') ? 60 : unit === 'h' ? 3600 : 86400)
}

/** The command line the schedule runs, with absolute paths so no PATH is needed. */
export function snapshotCommand(target: ScheduleTarget): string[] {
  const argv = [target.node ?? process.execPath, target.entry ?? process.argv[1] ?? 'twinsync', 'snapshot', '--if-changed']
  if (target.repo !== undefined) argv.push('--repo', target.repo)
  if (target.config !== undefined) argv.push('--config', target.config)
  return argv
}

/**
 * One word of a schedule line for a POSIX shell (cron's /bin/sh, apt's hook): the shared quoting
 * (`quoteArg`). None of those lines can hold what only bash's $'…' carries (a control or invisible
 * character, a lone surrogate: `needsBashQuoting`), so a path with one is refused.
 */
function quote(arg: string): string {
  refuseInvisible(arg)
  return quoteArg(arg)
}

function refuseInvisible(arg: string): void {
  if (needsBashQuoting(arg)) {
    throw new TwinSyncError('USAGE', `Cannot put ${JSON.stringify(arg)} into a schedule line (it holds a control or invisible character)`, {
      nextStep: 'Use --repo/--config paths without newlines, control characters or invisible (format) characters.',
    })
  }
}

/**
 * One word of the cron line: cron turns every `%` of the command into a newline (the rest goes to
 * the command's input) unless a backslash is before it, and takes that backslash away before
 * /bin/sh reads the line (crontab(5)); `/srv/twin%1` would have run `--repo '/srv/twin`. A path
 * holding a backslash followed by `%` cannot be written (cron keeps `\\` as two backslashes and
 * still cuts at the `%` after them), so it is refused.
 */
export function cronWord(arg: string): string {
  if (arg.includes('\\%')) {
    throw new TwinSyncError('USAGE', `Cannot put ${JSON.stringify(arg)} into a cron line (cron cannot be given a backslash before a %)`, {
      nextStep: 'Use --repo/--config paths without a backslash followed by %.',
    })
  }
  return quote(arg).replace(/%/g, '\\%')
}

/**
 * One word of systemd's ExecStart=, which is no shell: systemd reads `%` as a specifier (`%b` is
 * the boot ID), `$` as an environment variable, and backslash escapes inside quotes as well as
 * outside (systemd.service(5), systemd.syntax(7)); a shell's `'\''` only happened to read the
 * same. A plain word is written bare; any other in double quotes with `\\`, `\"`, `$$` and `%%`.
 * Controls and invisible characters are refused, as for the other lines.
 */
export function execStartWord(arg: string): string {
  refuseInvisible(arg)
  if (/^[A-Za-z0-9_./:=@+,-]+$/.test(arg)) return arg
  return `"${arg.replace(/[\\"]/g, '\\$&').replace(/\$/g, '$$$$').replace(/%/g, '%%')}"`
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  )
}

/** systemd is the init system of the target (installed there); otherwise cron is used. */
async function hasSystemd(root: string): Promise<boolean> {
  return (await exists(join(root, 'run/systemd/system'))) || (await exists(join(root, 'usr/lib/systemd/systemd'))) || (await exists(join(root, 'lib/systemd/systemd')))
}

/** Talk to the running systemd only for this machine's own root when it is booted with systemd. */
async function liveSystemd(root: string): Promise<boolean> {
  return root === '/' && (await exists('/run/systemd/system'))
}

/**
 * How systemctl runs: the distribution's (SAFE_PATH first), not a /usr/local/sbin/systemctl a
 * twin could have had made, with the environment of TwinSync's own programs (ownEnv).
 */
function ownProgram() {
  return { reject: false, extendEnv: false, env: ownEnv() } as const
}

async function systemctl(root: string, args: string[]): Promise<void> {
  const live = await liveSystemd(root)
  if (!live && args[0] === 'daemon-reload') return
  const r = await execa('systemctl', live ? args : ['--root', root, ...args.filter((a) => a !== '--now')], ownProgram())
  if (r.exitCode !== 0) {
    throw new TwinSyncError('COMMAND_FAILED', `systemctl ${args.join(' ')} failed: ${(r.stderr || r.stdout).split('\n')[0]}`, {
      nextStep: 'Check `systemctl status twinsync-snapshot.timer`; this is systemd reporting, not TwinSync.',
      details: { args, stderr: r.stderr },
    })
  }
}

function describeEvery(seconds: number): string {
  if (seconds % 86400 === 0) return `${seconds / 86400}d`
  if (seconds % 3600 === 0) return `${seconds / 3600}h`
  if (seconds % 60 === 0) return `${seconds / 60}min`
  return `${seconds}s`
}

/** Cron runs at most once a minute: every N minutes, hours or days. */
function cronSchedule(seconds: number): string {
  const minutes = Math.max(1, Math.round(seconds / 60))
  if (minutes < 60) return `*/${minutes} * * * *`
  const hours = Math.round(minutes / 60)
  if (hours < 24) return `0 */${hours} * * *`
  return `0 0 */${Math.round(hours / 24)} * *`
}

/**
 * What the apt hook's run must not take from apt's environment: apt passes on its caller's, and
 * under `sudo -E apt …` that is a person's own. TWINSYNC_CONFIG or the data folder's variables
 * (TWINSYNC_DATA_DIR, XDG_DATA_HOME, HOME) chose another configuration, twin and plugin folder
 * than the one `schedule enable` checked (refuseChangeableByOthers): the person's plugins ran as
 * root, and the snapshot went into the person's twin. NODE_OPTIONS and NODE_PATH load code into
 * node before TwinSync starts. The timer's unit and cron's line have none of them (session 47).
 */
const APT_HOOK_UNSET = [
  'TWINSYNC_CONFIG', 'TWINSYNC_DATA_DIR', 'TWINSYNC_CONFIG_DIR', 'TWINSYNC_CACHE_DIR', 'TWINSYNC_CREDENTIALS',
  'XDG_DATA_HOME', 'XDG_CONFIG_HOME', 'XDG_CACHE_HOME', 'NODE_OPTIONS', 'NODE_PATH',
  // How root's push after the snapshot reaches the mirror: commands it runs and what it trusts
  // (gitEnv keeps these from the caller). Root's own belong in the twin's .git/config, as for the
  // timer (session 47's review, F9).
  'GIT_SSH', 'GIT_SSH_COMMAND', 'GIT_PROXY_COMMAND', 'GIT_ASKPASS', 'SSH_ASKPASS', 'GIT_SSL_CAINFO', 'GIT_SSL_CAPATH',
  'GIT_SSL_NO_VERIFY', 'SSL_CERT_FILE', 'SSL_CERT_DIR', 'NODE_EXTRA_CA_CERTS', 'NODE_TLS_REJECT_UNAUTHORIZED',
]

/**
 * root's home on the target as its passwd says (the hook runs as root there), else /root: the
 * first uid-0 user getpwuid(0) can return (a `+`/`-` line never is one: passwdUsers).
 */
function rootHome(root: string): string {
  let passwd = ''
  try {
    passwd = readFileSync(join(root, 'etc/passwd'), 'utf8')
  } catch {
    // no passwd: Debian's default
  }
  return passwdUsers(passwd).find((u) => u.uid === 0 && u.home.startsWith('/'))?.home ?? '/root'
}

/**
 * The apt hook: one shell line per phase that never fails apt. apt.conf strings cannot hold a
 * double quote, so the line uses single quotes only. node runs with root's HOME and without
 * APT_HOOK_UNSET.
 */
export function aptHook(target: ScheduleTarget): string {
  const [node, ...rest] = snapshotCommand(target)
  const args = rest.map(quote)
  const entry = args[0] ?? ''
  const extra = args.slice(3).join(' ')
  const home = rootHome(target.root)
  const env = `env ${APT_HOOK_UNSET.map((v) => `-u ${v}`).join(' ')} HOME=${quote(home)}`
  const line = (phase: 'pre' | 'post') =>
    `if [ -x ${quote(node ?? '')} ]; then timeout ${APT_HOOK_TIMEOUT_S} ${env} ${quote(node ?? '')} ${entry} apt-hook ${phase}${extra === '' ? '' : ` ${extra}`} || echo 'twinsync: no snapshot around this package operation (timed out or failed)' >&2; else echo 'twinsync: node not found at ${node ?? ''}; no snapshot around this package operation' >&2; fi; true`
  for (const a of [node ?? '', ...rest, home]) {
    if (a.includes('"') || a.includes("'")) {
      throw new TwinSyncError('USAGE', `Cannot put ${JSON.stringify(a)} into an apt hook (quotes are not allowed there)`, { nextStep: 'Use --repo/--config paths without quote characters.' })
    }
  }
  return `${MARKER.replace('#', '//')}\nDPkg::Pre-Invoke { "${line('pre')}"; };\nDPkg::Post-Invoke { "${line('post')}"; };\n`
}

/**
 * `twin`: the twin this run opened, which the scheduled snapshot (with the same --repo and
 * --config) writes into as root.
 */
export async function enableSchedule(target: ScheduleTarget, every: string, options: { apt?: boolean; twin?: string; dataDir?: string } = {}): Promise<ScheduleResult> {
  const seconds = parseEvery(every)
  const argv = snapshotCommand(target)
  const root = target.root
  if (root === '/') {
    // What root's timer reads besides its programs: the configuration (given, or root's default) and the twin's git settings.
    const twin = target.repo ?? options.twin
    await refuseChangeableByOthers(argv.slice(0, 2), process.geteuid?.(), {
      config: target.config ?? defaultConfigPath(0),
      ...(twin === undefined ? {} : { twin }),
      ...(options.dataDir === undefined ? {} : { plugins: { dataDir: options.dataDir, folders: await pluginFolders(options.dataDir) } }),
      again: (programs) => [...programs, 'schedule', 'enable', '--every', every, ...(options.apt === true ? ['--apt'] : []), ...argv.slice(4)],
    })
  }
  await removeKilledTemps(root)
  if (options.apt === true) await write(join(root, SCHEDULE_APT_HOOK), aptHook(target))
  if (await hasSystemd(root)) {
    const short = seconds < 60 ? '\nAccuracySec=1s' : ''
    await write(
      join(root, SCHEDULE_SERVICE),
      `${MARKER}\n[Unit]\nDescription=TwinSync snapshot of this machine (when something changed)\nDocumentation=man:twinsync(1)\n\n[Service]\nType=oneshot\nNice=10\nIOSchedulingClass=idle\nTimeoutStartSec=30min\nExecStart=${argv.map(execStartWord).join(' ')}\n`,
    )
    await write(
      join(root, SCHEDULE_TIMER),
      `${MARKER}\n[Unit]\nDescription=TwinSync snapshot every ${describeEvery(seconds)}\n\n[Timer]\nOnActiveSec=${seconds}s\nOnBootSec=${seconds}s\nOnUnitActiveSec=${seconds}s${short}\n\n[Install]\nWantedBy=timers.target\n`,
    )
    await rm(join(root, SCHEDULE_CRON), { force: true })
    await systemctl(root, ['daemon-reload'])
    await systemctl(root, ['enable', '--now', TIMER_UNIT])
  } else {
    await write(join(root, SCHEDULE_CRON), `${MARKER}\nSHELL=/bin/sh\n${cronSchedule(seconds)} root ${argv.map(cronWord).join(' ')} >/dev/null 2>&1\n`)
  }
  return { action: 'enabled', ...(await scheduleStatus(target)) }
}

/**
 * What the timer, the cron line and the apt hook run, they run as root, unattended, for as long as
 * the schedule stays: node and the twinsync entry by the paths in use at `enable`. Session 44
 * (attack): `sudo env PATH=$PATH twinsync schedule enable --apt` with node from a user's nvm
 * (`/home/bob/.nvm/…/bin/node`) or twinsync `npm link`ed from a user's checkout wrote units that
 * ran files bob could rewrite: whoever became bob (any program he runs) became root at the next
 * tick or apt run. Session 45: so did a `--config` file bob could write (its plugins, its scope:
 * what root's snapshot runs and reads) and a twin whose `.git` he could (its settings). Session 46
 * (the review's L5): the plugins root's run loads (`reads.plugins`: pluginFolders). Refused
 * (SCHEDULE_UNSAFE, exit 2, nothing written) when any of them, as named or as its links resolve,
 * or a folder on the way to it is owned by a user other than root, or writable by others than
 * root (a folder with the sticky bit, as /tmp, keeps root's entries root's). Only for this
 * machine's own schedule (`--root /`) and when this run is root's, which is what can write it;
 * the files under the package's folder are not walked.
 *
 * `reads.again`: the `schedule enable` line with the given programs, for the next step that runs
 * them by the paths their links lead to, when those are root's alone (Debian's `/usr/local` is
 * `root:staff`, group-writable: twinsync `npm link`ed there as the README sets it up is refused
 * as named, and is root's by its link's target).
 */
export async function refuseChangeableByOthers(
  programs: readonly string[],
  uid: number | undefined = process.geteuid?.(),
  reads: { config?: string; twin?: string; plugins?: { dataDir: string; folders: readonly string[] }; again?: (programs: readonly string[]) => string[] } = {},
): Promise<void> {
  if (uid !== 0) return
  const ofPrograms: Array<{ path: string; why: string }> = []
  const reals: string[] = []
  let realsSafe = true
  for (const named of programs) {
    const real = await realpath(named).catch(() => named)
    reals.push(real)
    const ofReal = await changeableOnTheWay(real)
    if (ofReal.length > 0) realsSafe = false
    ofPrograms.push(...(await changeableOnTheWay(named)), ...ofReal)
  }
  const files = [...(reads.config === undefined ? [] : [reads.config]), ...(reads.twin === undefined ? [] : [join(reads.twin, '.git', 'config')])]
  const ofFiles: Array<{ path: string; why: string }> = []
  for (const named of files) {
    for (const start of new Set([named, await realpath(named).catch(() => named)])) ofFiles.push(...(await changeableOnTheWay(start)))
  }
  // The plugins' code the run loads (pluginFolders): each folder, as named and as its links resolve, and the folders on the way.
  const ofPlugins: Array<{ path: string; why: string }> = []
  for (const named of reads.plugins?.folders ?? []) {
    for (const start of new Set([named, await realpath(named).catch(() => named)])) ofPlugins.push(...(await changeableOnTheWay(start)))
  }
  const found = [...ofPrograms, ...ofFiles, ...ofPlugins].filter((f, i, all) => all.findIndex((g) => g.path === f.path) === i)
  if (found.length === 0) return
  const groups = await groupNames()
  const said = (f: { path: string; why: string }) => `${f.path} (${f.why.replace(/^writable by group (\d+)$/, (_, gid: string) => `writable by group ${groups.get(Number(gid)) ?? gid}`)})`
  const steps: string[] = []
  if (ofPrograms.length > 0) {
    steps.push(
      realsSafe && reads.again !== undefined && reals.some((r, i) => r !== programs[i])
        ? `Run it by the paths their links lead to, which only root can change: \`${reads.again(reals).map(quoteArg).join(' ')}\``
        : "Put node and twinsync where only root can write (Debian's nodejs; the checkout cloned and set up as root outside any user's home, as the README says), then enable the schedule with that twinsync",
    )
  }
  if (ofFiles.length > 0) {
    const what = [reads.config === undefined ? '' : `the configuration ${reads.config}`, reads.twin === undefined ? '' : `the twin ${reads.twin}`].filter((x) => x !== '').join(' and ')
    steps.push(`${steps.length === 0 ? 'Keep' : 'keep'} ${what} where only root can write, or name others with --config and --repo`)
  }
  if (ofPlugins.length > 0 && reads.plugins !== undefined) {
    steps.push(`${steps.length === 0 ? 'Keep' : 'keep'} the plugins root's run loads (${reads.plugins.dataDir}, and the folder of each plugin linked there) where only root can write, or remove such a plugin (\`twinsync plugins uninstall NAME\`, as root)`)
  }
  const shared = found.filter((f) => f.why.startsWith('writable by group '))
  if (shared.length > 0) steps.push(`or, if no one but root is to write there, take the group's write away: \`chmod g-w ${shared.map((f) => quoteArg(f.path)).join(' ')}\``)
  const loads = reads.plugins === undefined ? '' : ` and load the plugins of ${reads.plugins.dataDir}`
  throw new TwinSyncError('SCHEDULE_UNSAFE', `The schedule would have root run ${programs.join(' ')}${files.length === 0 ? '' : ` and read ${files.join(' and ')}`}${loads}, which another user can change: ${found.slice(0, 3).map(said).join(', ')}${found.length > 3 ? ` and ${found.length - 3} more` : ''}; nothing was written`, {
    nextStep: `${steps.join('; ')}.`,
    details: { programs, reads: files, ...(reads.plugins === undefined ? {} : { plugins: reads.plugins.folders }), changeable: found },
  })
}

/**
 * The places a scheduled run loads plugin code from (session 45's review, L5: only the
 * configuration and the twin's .git/config were checked): oclif's data folder `dataDir`, its
 * package.json (the plugins `twinsync plugins install` and `link` listed, which oclif loads), its
 * node_modules, and each listed plugin's own folder (an installed one's under node_modules, a
 * linked one's wherever it was linked from, a user's checkout). The files inside a plugin's folder
 * are not walked, as for the programs' package.
 */
export async function pluginFolders(dataDir: string): Promise<string[]> {
  const out = [dataDir, join(dataDir, 'package.json'), join(dataDir, 'node_modules')]
  let listed: unknown
  try {
    listed = (JSON.parse(await readFile(join(dataDir, 'package.json'), 'utf8')) as { oclif?: { plugins?: unknown } } | null)?.oclif?.plugins
  } catch {
    // No package.json (no plugin installed), or one oclif cannot read either: the folder itself is checked.
    return out
  }
  for (const plugin of Array.isArray(listed) ? (listed as unknown[]) : []) {
    const p = plugin as { type?: unknown; name?: unknown; root?: unknown } | null
    if (typeof plugin === 'string') out.push(join(dataDir, 'node_modules', plugin))
    else if (p !== null && typeof p === 'object' && p.type === 'link' && typeof p.root === 'string') out.push(p.root)
    else if (p !== null && typeof p === 'object' && typeof p.name === 'string') out.push(join(dataDir, 'node_modules', p.name))
  }
  return out
}

/** The path and each folder on its way that is not root's alone (changeableBy). */
async function changeableOnTheWay(start: string): Promise<Array<{ path: string; why: string }>> {
  const out: Array<{ path: string; why: string }> = []
  for (let path = start; ; path = dirname(path)) {
    const why = changeableBy(await lstat(path).catch(() => undefined))
    if (why !== undefined) out.push({ path, why })
    if (path === dirname(path)) break
  }
  return out
}

/** /etc/group's names by gid (a refusal says `staff`, not 50). */
async function groupNames(): Promise<Map<number, string>> {
  const names = new Map<number, string>()
  const text = await readFile('/etc/group', 'utf8').catch(() => '')
  for (const line of text.split('\n')) {
    const [name, , gid] = line.split(':')
    if (name !== undefined && gid !== undefined && /^\d+$/.test(gid)) names.set(Number(gid), name)
  }
  return names
}

/** Why an entry on the way to a program root runs is not root's alone, or undefined when it is. */
function changeableBy(st: Awaited<ReturnType<typeof lstat>> | undefined): string | undefined {
  if (st === undefined) return undefined
  // A link cannot be changed in place: replacing it takes its folder, checked on its own; but in a
  // sticky folder (/tmp) its owner may remove and make it again (session 44, review: bob's link
  // /tmp/ts.js to root's run.js passed, and root's timer would have run whatever bob put there).
  if (st.isSymbolicLink()) return st.uid !== 0 ? `a link owned by uid ${st.uid}` : undefined
  if (st.uid !== 0) return `owned by uid ${st.uid}`
  const sticky = st.isDirectory() && (Number(st.mode) & 0o1000) !== 0
  if ((Number(st.mode) & 0o002) !== 0 && !sticky) return 'writable by every user'
  if ((Number(st.mode) & 0o020) !== 0 && st.gid !== 0 && !sticky) return `writable by group ${st.gid}`
  return undefined
}

export async function disableSchedule(target: ScheduleTarget): Promise<ScheduleResult> {
  const root = target.root
  await removeKilledTemps(root)
  const removed: string[] = []
  if ((await exists(join(root, SCHEDULE_TIMER))) && (await hasSystemd(root))) {
    await systemctl(root, ['disable', '--now', TIMER_UNIT])
  }
  for (const file of [SCHEDULE_TIMER, SCHEDULE_SERVICE, SCHEDULE_CRON, SCHEDULE_APT_HOOK]) {
    if (await exists(join(root, file))) {
      await rm(join(root, file), { force: true })
      removed.push(`/${file}`)
    }
  }
  if (removed.some((f) => f.includes('systemd')) && (await liveSystemd(root))) await systemctl(root, ['daemon-reload'])
  return { action: 'disabled', removed, ...(await scheduleStatus(target)) }
}

export async function scheduleStatus(target: ScheduleTarget): Promise<ScheduleStatus> {
  const apt = (await exists(join(target.root, SCHEDULE_APT_HOOK))) ? { apt: `/${SCHEDULE_APT_HOOK}` } : {}
  return { ...(await timerStatus(target)), ...apt }
}

/** The next run in `systemctl list-timers UNIT --no-legend` output: its first column when it is a time. */
export function nextRunOf(listTimers: string): string | undefined {
  return /^\s*([A-Z][a-z]{2} \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} \S+)/.exec(listTimers)?.[1]
}

async function timerStatus(target: ScheduleTarget): Promise<ScheduleStatus> {
  const root = target.root
  const timer = await readFile(join(root, SCHEDULE_TIMER), 'utf8').catch(() => undefined)
  const service = await readFile(join(root, SCHEDULE_SERVICE), 'utf8').catch(() => undefined)
  if (timer !== undefined || service !== undefined) {
    const files = [timer !== undefined ? `/${SCHEDULE_TIMER}` : undefined, service !== undefined ? `/${SCHEDULE_SERVICE}` : undefined].filter((f): f is string => f !== undefined)
    const seconds = /OnUnitActiveSec=(\d+)s/.exec(timer ?? '')?.[1]
    const command = /ExecStart=(.*)/.exec(service ?? '')?.[1]
    const status: ScheduleStatus = { kind: 'systemd', files, ...(seconds === undefined ? {} : { every: describeEvery(Number(seconds)) }), ...(command === undefined ? {} : { command }) }
    if (await liveSystemd(root)) {
      const r = await execa('systemctl', ['show', TIMER_UNIT, '-p', 'ActiveState', '-p', 'NextElapseUSecMonotonic', '-p', 'NextElapseUSecRealtime'], ownProgram())
      const props = Object.fromEntries(r.stdout.split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]))
      status.active = props.ActiveState === 'active'
      const list = await execa('systemctl', ['list-timers', TIMER_UNIT, '--no-legend', '--no-pager'], ownProgram())
      // Its first column, "Thu 2026-12-03 13:11:08 UTC" ("-" when none is due): without a terminal
      // systemctl separates the columns by one space, so the time is matched, not split out.
      const next = nextRunOf(list.stdout)
      if (status.active && next !== undefined) status.next = next
    } else {
      // The link points inside the target root; look at the link itself.
      const enabled = await lstat(join(root, 'etc/systemd/system/timers.target.wants', TIMER_UNIT)).then(() => true, () => false)
      status.active = enabled
    }
    return status
  }
  const cron = await readFile(join(root, SCHEDULE_CRON), 'utf8').catch(() => undefined)
  if (cron !== undefined) {
    const line = cron.split('\n').find((l) => /^[*\d]/.test(l))
    const fields = line?.split(/\s+/) ?? []
    return {
      kind: 'cron',
      files: [`/${SCHEDULE_CRON}`],
      every: fields.slice(0, 5).join(' '),
      command: fields.slice(6).join(' ').replace(/ >\/dev\/null 2>&1$/, ''),
    }
  }
  return { kind: 'none', files: [] }
}

/** Whole or not at all: a kill mid-write leaves the old unit, cron line or apt hook, never half of one (cron, apt and systemd ignore the dotted temp file). */
/**
 * The temp files (`.<name>.twinsync-<12 hex>`, writeFileAtomic's) of the schedule's own files that a
 * run killed between writing one and renaming it left beside it: hidden, so systemd, cron and apt
 * ignore them, but never removed. One older than a minute is a killed run's (a write takes
 * milliseconds), not one a second `schedule` is writing now.
 */
async function removeKilledTemps(root: string): Promise<void> {
  for (const file of [SCHEDULE_TIMER, SCHEDULE_SERVICE, SCHEDULE_CRON, SCHEDULE_APT_HOOK]) {
    const folder = join(root, dirname(file))
    const prefix = `.${basename(file)}.twinsync-`
    for (const name of await readdir(folder).catch(() => [] as string[])) {
      if (!name.startsWith(prefix) || !/^[0-9a-f]{12}$/.test(name.slice(prefix.length))) continue
      const info = await lstat(join(folder, name)).catch(() => undefined)
      if (info?.isFile() === true && Date.now() - info.mtimeMs > 60_000) await rm(join(folder, name), { force: true })
    }
  }
}

async function write(path: string, content: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true })
  await writeFileAtomic(path, content, { mode: 0o644 })
}
