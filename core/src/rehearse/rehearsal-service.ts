import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs'
import { access, constants } from 'node:fs/promises'
import { dirname, join, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Config as OclifConfig } from '@oclif/core'
import type { HostPort, Plan } from '@twinsync/sdk'
import { TwinSyncError } from '@twinsync/sdk/light'
import { planRefusal } from '../apply/plan-refusal.js'
import { isCommand } from '../plan/commands-domain.js'
import { PlanScope } from '../plan/plan-scope.js'
import { builtinProviders } from '../providers/builtin-providers.js'
import type { LoadedConfig } from '../config/config-file.js'
import { inject, injectable } from '../di.js'
import { Tokens } from '../tokens.js'
import { failedUnits } from './inside.js'
import type { InsideRequest } from './inside.js'
import { RehearsalContainer, sweepRehearsals, type BindMount } from './rehearsal-container.js'
import type { LineFor } from '../plan/command-text.js'
import { RunTarget } from '../plan/run-target.js'
import { rehearsalSummary, type InsideResult, type RehearsalReport, type RehearsedChange } from './rehearsal-report.js'

export interface RehearseOptions {
  plan: Plan
  /** 'none' (the default): the container has only a loopback interface. */
  network?: 'none' | 'host'
  signal?: AbortSignal
  /** Called as the rehearsal moves on: 'boot', 'apply', 'teardown'. */
  onStage?: (stage: 'boot' | 'apply' | 'teardown') => void
}

const BOOT_TIMEOUT_MS = 60_000
/** Where the node binary appears inside the container. */
const NODE_IN_CONTAINER = '/run/twinsync-rehearsal/node'
/** Local disk file systems: one below the root gets an overlay of its own in the container. */
const LOCAL_FS = new Set(['ext2', 'ext3', 'ext4', 'xfs', 'btrfs', 'f2fs', 'jfs', 'reiserfs', 'zfs', 'bcachefs', 'vfat', 'exfat', 'ntfs3'])
/** File systems that are the container's own (fresh in every container), not the machine's data. */
const VIRTUAL_FS = new Set(['proc', 'sysfs', 'devtmpfs', 'devpts', 'tmpfs', 'cgroup', 'cgroup2', 'mqueue', 'hugetlbfs', 'debugfs', 'tracefs', 'securityfs', 'pstore', 'bpf', 'configfs', 'fusectl', 'binfmt_misc', 'autofs', 'efivarfs', 'ramfs', 'rpc_pipefs', 'nsfs', 'overlay'])

/**
 * Apply a plan to a throwaway copy of the machine before the machine: a systemd-nspawn
 * container booted over an overlay of the target root (the root read-only below, a tmpfs on
 * top, no network by default), with the same Applier as `twinsync apply` running inside it (see
 * inside.ts), then checks, then nothing left. The CLI (`twinsync rehearse`, `apply --rehearse`)
 * and the TUI call this one service; `rehearsalRefusal` is the one rule for applying after it.
 */
@injectable()
export class RehearsalService {
  constructor(
    @inject(Tokens.Host) private readonly host: HostPort,
    @inject(Tokens.Config) private readonly config: LoadedConfig,
    @inject(Tokens.OclifConfig) private readonly oclif: OclifConfig,
    @inject(PlanScope) private readonly scope: PlanScope,
    @inject(RunTarget) private readonly target: RunTarget,
  ) {}

  /** Can a rehearsal run here at all? Front ends ask before they make a plan (the same checks run again in rehearse). */
  async preflight(): Promise<void> {
    await preflight(this.host, (args) => this.target.line(args))
  }

  async rehearse(options: RehearseOptions): Promise<RehearsalReport> {
    const started = Date.now()
    const refused = planRefusal(options.plan, (args) => this.target.line(args))
    if (refused !== undefined) throw refused
    if (options.plan.basis.root !== this.host.root) {
      throw new TwinSyncError('PLAN_INVALID', `The plan was made for root ${options.plan.basis.root}, not ${this.host.root}`, {
        nextStep: `Run with --root ${options.plan.basis.root}, or make a new plan.`,
      })
    }
    // The refusal apply would give (the same rule): a forged plan never passes a rehearsal first.
    await this.scope.refuseOutsideScope(options.plan, 'rehearsed')
    await preflight(this.host, (args) => this.target.line(args))
    const entry = insideEntry()
    const plugins = await pluginsOf(options.plan, this.oclif)
    await sweepRehearsals()
    const network = options.network ?? 'none'
    const below = fileSystemsBelow(this.host.root)
    const machineFailedUnits = this.host.live ? await failedUnits(this.host) : undefined
    if (options.signal?.aborted) throw cancelled()

    options.onStage?.('boot')
    const container = await RehearsalContainer.start({
      root: this.host.root,
      network,
      binds: [
        // A single file mounted below the root cannot carry an overlay: it is bound in read-only at its place.
        ...below.files.map((m) => ({ host: join(this.host.root, m.path), container: m.path, readOnly: true })),
        { host: realpathSync(process.execPath), container: NODE_IN_CONTAINER, readOnly: true },
        ...entry.binds,
        ...plugins.binds,
      ],
      // TwinSync starts inside while the container boots, and waits there for the boot to finish.
      untilRunning: false,
      submounts: below.overlaid.map((m) => m.path),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    })
    let inside: InsideResult
    let teardownMs = 0
    let leftovers: string[] = []
    try {
      options.onStage?.('apply')
      const request: InsideRequest = { plan: options.plan, config: this.config, bootTimeoutMs: BOOT_TIMEOUT_MS, ...(plugins.dataDir === undefined ? {} : { dataDir: plugins.dataDir }) }
      const ran = await container.exec([NODE_IN_CONTAINER, entry.script], {
        input: JSON.stringify(request),
        timeoutMs: 60 * 60_000,
        ...(options.signal === undefined ? {} : { signal: options.signal }),
      })
      if (options.signal?.aborted) throw cancelled()
      inside = parseInside(ran.stdout, ran.stderr, ran.exitCode, container.console())
      if (network === 'none') inside = { ...inside, changes: withNetworkHints(inside.changes) }
    } finally {
      options.onStage?.('teardown')
      const t = Date.now()
      leftovers = await container.close()
      teardownMs = Date.now() - t
    }
    const containerOnlyFailures = machineFailedUnits === undefined ? undefined : inside.failedUnits.before.filter((u) => !machineFailedUnits.includes(u))
    inside = { ...inside, ...againstTheMachine(inside, machineFailedUnits) }
    const passed =
      inside.changes.every((c) => c.verdict === 'passed') &&
      inside.units.every((u) => u.passed) &&
      inside.checks.every((c) => c.ok) &&
      inside.failedUnits.new.length === 0
    return {
      ...inside,
      passed,
      root: this.host.root,
      machine: container.name,
      network,
      ...(machineFailedUnits === undefined ? {} : { machineFailedUnits }),
      ...(containerOnlyFailures === undefined ? {} : { containerOnlyFailures }),
      limits: limitsOf(this.host.root, network, inside, containerOnlyFailures, below),
      timings: { ...inside.timings, bootMs: inside.bootedAt - started, teardownMs, totalMs: Date.now() - started },
      cleanedUp: leftovers.length === 0,
      ...(leftovers.length === 0 ? {} : { leftovers }),
    }
  }
}

const OFFLINE = /Temporary failure resolving|Could not resolve|Failed to fetch|Unable to fetch some archives|Network is unreachable|Could not connect/

/**
 * A package that failed because the container has no network says so, with the two ways out:
 * the package into the machine's cache, or a rehearsal with the machine's network.
 */
export function withNetworkHints(changes: readonly RehearsedChange[]): RehearsedChange[] {
  return changes.map((c) => {
    if (c.provider !== 'apt' || c.status !== 'failed' || !OFFLINE.test(`${c.message ?? ''}\n${c.outputTail ?? ''}`)) return c
    const pkg = c.id.split(':').slice(2).join(':') || 'PKG'
    return {
      ...c,
      evidence: [
        ...c.evidence,
        `the rehearsal has no network, so apt could only install from the machine's package cache: put ${pkg} there (\`apt-get install --download-only ${pkg}\`) or rehearse with --network`,
      ],
    }
  })
}

/**
 * The one rule for applying after a rehearsal: only when it passed. Both front ends ask it;
 * a failed rehearsal refuses with its summary (exit 1, like a failed apply).
 */
export function rehearsalRefusal(report: RehearsalReport, line: LineFor): TwinSyncError | undefined {
  if (report.passed) return undefined
  return new TwinSyncError('REHEARSAL_FAILED', `Nothing was applied: ${rehearsalSummary(report)}`, {
    nextStep: `Fix what the rehearsal report shows in the twin, then run \`${line(['apply', '--rehearse'])}\` again.`,
    exitCode: 1,
  })
}

/** Can a rehearsal run here? Each refusal names what is missing and how to get it. */
export async function preflight(host: Pick<HostPort, 'root' | 'stat'>, line: LineFor, facts: PreflightFacts = realFacts()): Promise<void> {
  if (facts.uid !== 0) {
    throw new TwinSyncError('REHEARSAL_UNAVAILABLE', 'A rehearsal boots a container over the machine\'s root, which only root can do', {
      nextStep: `Run it as root: \`sudo ${line(['rehearse'])}\`.`,
      details: { missing: 'root' },
    })
  }
  if (!(await facts.has('systemd-nspawn'))) {
    throw new TwinSyncError('REHEARSAL_UNAVAILABLE', 'systemd-nspawn is not installed; a rehearsal boots its throwaway copy of the machine with it', {
      nextStep: 'Install the Debian package systemd-container: `apt-get install systemd-container`.',
      details: { missing: 'systemd-nspawn', package: 'systemd-container' },
    })
  }
  for (const tool of ['setpriv', 'unshare', 'nsenter', 'mount']) {
    if (!(await facts.has(tool))) {
      throw new TwinSyncError('REHEARSAL_UNAVAILABLE', `${tool} is not installed; a rehearsal needs it to set up and enter its container`, {
        nextStep: 'Install the Debian packages util-linux and mount: `apt-get install util-linux mount`.',
        details: { missing: tool, package: tool === 'mount' ? 'mount' : 'util-linux' },
      })
    }
  }
  if (!facts.filesystems().split('\n').some((l) => l.trim().split(/\s+/).pop() === 'overlay')) {
    throw new TwinSyncError('REHEARSAL_UNAVAILABLE', 'This kernel has no overlay file system; a rehearsal writes to an overlay, never to the machine', {
      nextStep: 'Load the module (`modprobe overlay`, from the Debian package kmod) or boot a kernel with CONFIG_OVERLAY_FS.',
      details: { missing: 'overlay' },
    })
  }
  const outside = facts
    .cgroup()
    .split('\n')
    .find((l) => /^\d+:[^:]*:\/\.\.(\/|$)/.test(l))
  if (outside !== undefined) {
    throw new TwinSyncError('REHEARSAL_UNAVAILABLE', `TwinSync runs outside the control groups this system's systemd can see (/proc/self/cgroup: ${outside}), as a process entered from outside with nsenter does; systemd-nspawn cannot place its container there`, {
      nextStep: `Run it from a login shell or a service of this system, or as a transient unit: \`systemd-run --pipe --wait ${line(['rehearse'])}\`.`,
      details: { missing: 'cgroup', cgroup: outside },
    })
  }
  const systemd = (await host.stat('/usr/lib/systemd/systemd')) ?? (await host.stat('/lib/systemd/systemd'))
  if (systemd?.type !== 'file') {
    throw new TwinSyncError('REHEARSAL_UNAVAILABLE', `${host.root} does not boot with systemd (no /usr/lib/systemd/systemd), so there is nothing to boot a copy of`, {
      nextStep: 'Rehearsals need a systemd machine: install the Debian packages systemd and systemd-sysv on it.',
      details: { missing: 'systemd', package: 'systemd' },
    })
  }
}

export interface PreflightFacts {
  uid: number
  has(tool: string): Promise<boolean>
  /** /proc/filesystems */
  filesystems(): string
  /** /proc/self/cgroup */
  cgroup(): string
}

function realFacts(): PreflightFacts {
  return {
    uid: process.getuid?.() ?? 0,
    has: async (tool) => {
      for (const dir of ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']) {
        if (await access(join(dir, tool), constants.X_OK).then(() => true, () => false)) return true
      }
      return false
    },
    filesystems: () => readIfThere('/proc/filesystems'),
    cgroup: () => readIfThere('/proc/self/cgroup'),
  }
}

function readIfThere(path: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return ''
  }
}

/**
 * The rehearsal's failed units against the machine's own (a running target only): a unit the
 * plan does not touch that has failed on the machine too is the machine's, not the plan's doing.
 */
export function againstTheMachine(inside: Pick<InsideResult, 'failedUnits' | 'units' | 'diagnostics'>, machineFailedUnits: readonly string[] | undefined): Pick<InsideResult, 'failedUnits' | 'diagnostics'> {
  if (machineFailedUnits === undefined) return { failedUnits: inside.failedUnits, diagnostics: inside.diagnostics }
  const touched = new Set(inside.units.map((u) => u.unit))
  const onMachine = inside.failedUnits.after.filter((u) => machineFailedUnits.includes(u) && !touched.has(u))
  return {
    failedUnits: { ...inside.failedUnits, new: inside.failedUnits.new.filter((u) => !onMachine.includes(u)), onMachine },
    diagnostics: inside.diagnostics.filter((d) => !(d.code === 'REHEARSAL_UNIT_FAILED' && onMachine.some((u) => d.summary.startsWith(`${u} `)))),
  }
}

/**
 * What the plan's plugins need inside the container: oclif's data folder (where
 * `twinsync plugins install` put them) and every plugin's own folder (a linked one lives
 * anywhere), bound in read-only at the same paths. Nothing when the plan uses no plugin.
 */
async function pluginsOf(plan: Plan, oclif: OclifConfig): Promise<{ dataDir?: string; binds: BindMount[] }> {
  const builtin = new Set((await builtinProviders()).map((b) => b.provider.name))
  if (plan.changes.every((c) => isCommand(c) || builtin.has(c.provider))) return { binds: [] }
  const roots: string[] = []
  const add = (path: string | undefined) => {
    if (path === undefined || !existsSync(path)) return
    const real = realpathSync(path)
    if (!roots.some((r) => real === r || real.startsWith(r + sep))) roots.push(real)
  }
  add(oclif.dataDir)
  for (const plugin of oclif.plugins?.values() ?? []) if (plugin.type !== 'core') add(plugin.root)
  return { dataDir: oclif.dataDir, binds: roots.map((r) => ({ host: r, container: r, readOnly: true })) }
}

/**
 * The compiled inside-main.js and what to bind into the container so node finds it and every
 * package it imports: the installation's top folder (the one with node_modules), at the same
 * path, read-only.
 */
function insideEntry(): { script: string; binds: BindMount[] } {
  let dir = dirname(fileURLToPath(import.meta.url))
  while (!existsSync(join(dir, 'package.json')) || !readFileSync(join(dir, 'package.json'), 'utf8').includes('"@twinsync/core"')) {
    const up = dirname(dir)
    if (up === dir) throw new Error('the @twinsync/core package folder was not found')
    dir = up
  }
  const coreDir = realpathSync(dir)
  const script = join(coreDir, 'dist', 'rehearse', 'inside-main.js')
  if (!existsSync(script)) {
    throw new TwinSyncError('REHEARSAL_UNAVAILABLE', `${script} is missing: this TwinSync is not built`, { nextStep: 'Run `npm run build`, then rehearse again.' })
  }
  // The top folder: the highest ancestor of core with a node_modules that holds @twinsync/sdk.
  let top = coreDir
  for (let d = coreDir; ; d = dirname(d)) {
    if (existsSync(join(d, 'node_modules', '@twinsync', 'sdk'))) top = d
    if (dirname(d) === d) break
  }
  const roots = new Set([realpathSync(top)])
  // Linked packages (workspaces, npm link) may live elsewhere: bind their folders too.
  for (const pkg of ['sdk', 'plugin-files', 'plugin-apt', 'plugin-systemd', 'plugin-cron', 'plugin-autostart']) {
    const link = join(top, 'node_modules', '@twinsync', pkg)
    if (!existsSync(link)) continue
    const real = realpathSync(link)
    if (![...roots].some((r) => real === r || real.startsWith(r + sep))) roots.add(real)
  }
  return { script, binds: [...roots].map((r) => ({ host: r, container: r, readOnly: true })) }
}

function parseInside(stdout: string, stderr: string, exitCode: number, console: string[]): InsideResult {
  let parsed: { result?: InsideResult; error?: { code: string; message: string; nextStep?: string } }
  try {
    parsed = JSON.parse(stdout) as typeof parsed
  } catch {
    throw new TwinSyncError('REHEARSAL_UNAVAILABLE', `TwinSync could not run inside the rehearsal container (exit ${exitCode}): ${stderr.trim().split('\n').slice(-3).join(' ') || 'no output'}`, {
      nextStep: 'The node binary and TwinSync are bound into the container read-only; check they run on the target root (`chroot ROOT node --version`).',
      details: { stderr: stderr.trim().split('\n').slice(-20) },
    })
  }
  if (parsed.result !== undefined) return parsed.result
  const e = parsed.error ?? { code: 'INTERNAL', message: 'no result' }
  throw new TwinSyncError(e.code, `Inside the rehearsal container: ${e.message}`, {
    ...(e.nextStep === undefined ? {} : { nextStep: e.nextStep }),
    ...(e.code === 'REHEARSAL_BOOT_FAILED' ? { details: { console: console.slice(-20) } } : {}),
  })
}

/** What a rehearsal cannot prove: said in every report. */
function limitsOf(root: string, network: 'none' | 'host', inside: InsideResult, containerOnly: string[] | undefined, below: FileSystemsBelow): string[] {
  const limits = [
    'Hardware is not rehearsed: the container shares the kernel of this machine, has no devices of its own, and loads no kernel modules or firmware.',
    network === 'none'
      ? 'No network: services could not reach their peers (databases, upstreams, DNS, mail relays), and apt could install only packages already in the machine\'s package cache.'
      : 'The container used the machine\'s network: what it sent reached real peers, and ports the machine\'s services hold were taken.',
    'Only the units the plan touches were restarted and checked; the rest ran as they boot.',
  ]
  const list = (ms: readonly { path: string; type: string }[]) => ms.map((m) => `${m.path} (${m.type})`).join(', ')
  if (below.overlaid.length > 0) limits.push(`Other file systems below the root were overlaid too (read, never written): ${list(below.overlaid)}.`)
  if (below.files.length > 0) limits.push(`Single files mounted below the root were bound in read-only (a write to one fails in the rehearsal): ${below.files.map((m) => m.path).join(', ')}.`)
  limits.push(
    below.outside.length === 0
      ? `No data volume is left out: the overlay covers everything of ${root} on local disks.`
      : `Data on these file systems is not in the rehearsal (the container saw their empty mount points): ${list(below.outside)}.`,
  )
  if (containerOnly !== undefined) {
    if (containerOnly.length > 0) limits.push(`Units that fail in the container but not on the machine (before the plan ran), so the rehearsal cannot judge them: ${containerOnly.join(', ')}.`)
  } else if (inside.failedUnits.before.length > 0) {
    limits.push(`Units that failed in the container before the plan ran, not judged (a root that is not running has no failed units to compare with): ${inside.failedUnits.before.join(', ')}.`)
  }
  return limits
}

export interface FileSystemsBelow {
  /** Local disk file systems below the root: each gets an overlay of its own, outermost first. */
  overlaid: Array<{ path: string; type: string }>
  /** Single files mounted below the root (a bind mount of a file): bound in read-only at their place. */
  files: Array<{ path: string; type: string }>
  /** Others (network, FUSE, a path overlay options cannot carry): not in the rehearsal. */
  outside: Array<{ path: string; type: string }>
}

/**
 * The file systems mounted below the root, as target paths ("/var"), from /proc/self/mountinfo;
 * the container's own (/proc, /sys, /dev, /run, tmpfs) left out.
 */
export function fileSystemsBelow(root: string, mountinfo = readMountinfo(), isFile = (path: string) => statSync(path, { throwIfNoEntry: false })?.isFile() === true): FileSystemsBelow {
  const prefix = root === '/' ? '/' : `${root}/`
  const out: FileSystemsBelow = { overlaid: [], files: [], outside: [] }
  const seen = new Set<string>()
  for (const line of mountinfo.split('\n')) {
    const fields = line.split(' ')
    const mountPoint = (fields[4] ?? '').replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)))
    const fsType = fields[fields.indexOf('-') + 1] ?? ''
    if (!mountPoint.startsWith(prefix) || mountPoint === root || VIRTUAL_FS.has(fsType)) continue
    const path = root === '/' ? mountPoint : mountPoint.slice(root.length)
    if (/^\/(proc|sys|dev|run)(\/|$)/.test(path) || seen.has(path)) continue
    seen.add(path)
    const fits = LOCAL_FS.has(fsType) && !/[:,\\\s]/.test(path)
    ;(!fits ? out.outside : isFile(mountPoint) ? out.files : out.overlaid).push({ path, type: fsType })
  }
  // Outermost first, so /var is in place before /var/lib/docker.
  out.overlaid.sort((a, b) => a.path.split('/').length - b.path.split('/').length)
  return out
}

function readMountinfo(): string {
  try {
    return readFileSync('/proc/self/mountinfo', 'utf8')
  } catch {
    return ''
  }
}

function cancelled(): TwinSyncError {
  return new TwinSyncError('ABORTED', 'The rehearsal was cancelled; its container is gone and nothing was applied', { exitCode: 130 })
}
