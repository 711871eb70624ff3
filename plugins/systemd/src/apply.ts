import { enablementFolders, errorDiagnostic, isTwinSyncError, TwinSyncError, type ApplyResult, type Change, type ChangeResult, type ExecOptions, type ProviderContext } from '@twinsync/sdk'
import { serviceStarts, staleConfigOf, unitPackages } from './config-drift.js'
import { managerRuns } from './runtime-units.js'
import { isSystemdOperation, RUNTIME_OPERATIONS, SYSTEMD_OPERATIONS, type SystemdChangeData, type SystemdOperation } from './change.js'
import { UnitFileIndex } from './unit-file-index.js'
import { isActive, listeningSockets, verifyBack } from './verify.js'
import { checkUnitName } from './unit-name.js'

interface SystemdStep {
  change: Change
  operation: SystemdOperation
  unit: string
  /** unmask: the state the unit ends in. */
  after?: 'enabled' | 'disabled'
  /** mask: until reboot only (`--runtime`, in /run/systemd/system). */
  runtime?: boolean
  /** stop, disable: of a unit a package of the plan may bring (units-installed.ts); nothing to do when it did not start or enable it. */
  afterInstall?: boolean
}

const TIMEOUT = { timeoutMs: 5 * 60_000 }

/**
 * How systemctl runs for an operation: one that switches a unit on or off for boot (enable,
 * disable, mask, unmask) names the folders it and update-rc.d write links in (writesIn), so
 * the host port refuses it, before it runs, when one of them is a symlinked folder.
 */
async function execOptions(ctx: ProviderContext, operation: SystemdOperation): Promise<ExecOptions> {
  return RUNTIME_OPERATIONS.has(operation) ? TIMEOUT : { ...TIMEOUT, writesIn: await enablementFolders(ctx.host) }
}

/** The systemctl arguments of one step; offline targets get `--root`, as systemctl needs no manager for enablement. */
export function systemctlArgs(operation: SystemdOperation, unit: string, root: string, options: { runtime?: boolean } = {}): string[] {
  const rootArgs = root === '/' ? [] : [`--root=${root}`]
  return operation === 'daemon-reload' ? [...rootArgs, 'daemon-reload'] : [...rootArgs, operation, ...(options.runtime === true ? ['--runtime'] : []), '--', unit]
}

/**
 * Carry out approved systemd changes in the order daemon-reload, unmask, mask, disable, enable,
 * stop, start, reload, restart. Every unit name is checked before the first command runs; a
 * runtime verb on a target without a running manager fails with a message instead of reaching
 * systemctl. A reload or restart is verified: the unit is active again within a timeout and
 * listens everywhere it listened before, or the change fails (and `owed` keeps what it should
 * listen on for the next reload of the unit, the one after a rollback).
 */
export async function applySystemdChanges(
  changes: readonly Change[],
  ctx: ProviderContext,
  onResult?: (r: ChangeResult) => void,
  owed: Map<string, ReadonlySet<string>> = new Map(),
  again: RunAgain = {},
): Promise<ApplyResult> {
  const { restoring = false, verdictBases, onVerdictBasis } = again
  const steps = changes.map(toStep)
  const results = new Map<string, ChangeResult>()
  const report = (result: ChangeResult): void => {
    results.set(result.id, result)
    onResult?.(result)
  }
  const running = await managerRuns(ctx.host)
  const index = new UnitFileIndex(ctx.host)
  for (const operation of SYSTEMD_OPERATIONS) {
    for (const step of steps.filter((s) => s.operation === operation)) {
      const id = step.change.id
      const blocker = (step.change.requires ?? []).find((r) => results.get(r)?.status === 'failed' || results.get(r)?.status === 'skipped')
      if (blocker !== undefined) {
        report({ id, status: 'skipped', message: `skipped: ${blocker} did not succeed` })
        continue
      }
      if (RUNTIME_OPERATIONS.has(operation) && !running) {
        report({ id, status: 'failed', message: `${operation} ${step.unit} needs a running system: ${ctx.host.root} has no running systemd manager` })
        continue
      }
      if (await isSatisfied(step, index)) {
        report({ id, status: 'unchanged', message: step.afterInstall === true ? `${step.unit} is not enabled: no package of this apply enabled it` : `${step.unit} is already ${operation}d` })
        continue
      }
      if (step.afterInstall === true && operation === 'stop' && !(await isActive(ctx.host, step.unit))) {
        report({ id, status: 'unchanged', message: `${step.unit} is not running: no package of this apply started it` })
        continue
      }
      const stale = operation === 'start' ? await runsOlderConfiguration(ctx, step.unit) : undefined
      const reloading = operation === 'reload' || operation === 'restart'
      // Run again after a kill (restoring, or verdictBases): the killed run may have written a
      // unit file and died before the manager read it (inside its daemon-reload).
      if (reloading && (restoring || verdictBases !== undefined)) {
        const failure = await reloadManagerIfStale(ctx, step.unit)
        if (failure !== undefined) {
          report({ id, ...failure })
          continue
        }
      }
      // What the killed run measured before this reload began (PendingChecks): judged against it.
      const basis = verdictBases === undefined || restoring ? undefined : basisOf(verdictBases[id])
      // Verified only when the unit runs now: a oneshot's restart ends inactive, as it should.
      const verified = stale !== undefined || (reloading && (basis?.active ?? (await isActive(ctx.host, step.unit))))
      // A reload or restart for an older configuration (the diff's staleConfig) of a service that
      // no longer runs (stopped since the plan: by this apply, as a unit whose file goes, or by
      // hand): nothing runs that configuration now, and a restart would start it again.
      if ((operation === 'reload' || operation === 'restart') && !verified && (step.change.data as SystemdChangeData | undefined)?.staleConfig !== undefined) {
        report({ id, status: 'unchanged', message: `${step.unit} is not running now: nothing runs its older configuration, so it is not ${operation}ed` })
        continue
      }
      // Planned because it ran an older configuration, and reloaded or restarted since (an
      // interrupted apply's reload run again before this plan's steps, PendingChecks; or by hand):
      // it runs its files now, and doing it again would only repeat it (seen in session 29's kill
      // sweep: nginx reloaded twice on a rerun). Read again from the machine, as the plan did.
      if (reloading && verified && !restoring && verdictBases === undefined && (step.change.data as SystemdChangeData | undefined)?.staleConfig !== undefined && (await runsItsFiles(ctx, step.unit))) {
        report({ id, status: 'unchanged', message: `${step.unit} runs its current configuration now (${operation}ed since the plan): not ${operation}ed again` })
        continue
      }
      // A unit whose last reload lost some of its sockets still owes them: the reload that
      // follows a rollback must bring back what it listened on before the change. A restart
      // for a start (below) is checked to be active only: its new configuration may listen elsewhere.
      const listening =
        basis !== undefined ? new Set(basis.listening) : verified && !restoring && stale === undefined ? (owed.get(step.unit) ?? (await listeningSockets(ctx.host, step.unit))) : new Set<string>()
      // On disk before the reload runs: a kill before its verdict is judged against this (see ApplyRequest.onVerdictBasis).
      // Not written (a full disk): not run, so the host puts the files back as for a failed reload.
      if (reloading && basis === undefined && !restoring && stale === undefined && onVerdictBasis !== undefined) {
        const unwritten = await onVerdictBasis(id, { active: verified, listening: [...listening].sort() } satisfies VerdictBasis).then(
          () => undefined,
          (error: unknown) => (error instanceof Error ? error.message : String(error)),
        )
        if (unwritten !== undefined) {
          report({ id, status: 'failed', message: `what the ${operation} of ${step.unit} is judged against could not be written down before it (${unwritten}): not ${operation}ed` })
          continue
        }
      }
      const planned = stale !== undefined ? { commands: [systemctlArgs('restart', step.unit, ctx.host.root)] } : await commandsOf(step, ctx)
      if ('failed' in planned) {
        report({ id, status: 'failed', message: planned.failed })
        continue
      }
      const failure = await runInTurn(ctx, step.unit, planned.commands, await execOptions(ctx, operation))
      if (failure !== undefined) {
        report({ id, ...failure })
        continue
      }
      if (step.after !== undefined) {
        const unsettled = await settleUnmasked(ctx, step, planned.masks)
        if (unsettled !== undefined) {
          report({ id, ...unsettled })
          continue
        }
      }
      const problem = verified ? await verifyBack(ctx.host, step.unit, listening, operation) : undefined
      if (verified && problem !== undefined) owed.set(step.unit, listening)
      else owed.delete(step.unit)
      const listens = listening.size === 0 ? '' : `; listens on ${[...listening].sort().join(', ')} as before`
      const restarted = stale === undefined ? '' : `; it was running already, with an older configuration than ${stale.join(', ')}: restarted`
      report(problem === undefined ? { id, status: 'applied', message: `${step.change.summary}${verified ? `: active${listens}${restarted}` : ''}` } : { id, status: 'failed', message: problem })
    }
  }
  return { results: changes.map((c) => results.get(c.id) ?? { id: c.id, status: 'skipped', message: 'not reached' }), diagnostics: [] }
}

/** The ApplyRequest fields of a reload or restart run again after an interrupted apply (PendingChecks). */
export interface RunAgain {
  /** ApplyRequest.restoring: the files were put back; a reload is verified to leave the unit active, not where it listened. */
  restoring?: boolean
  /** ApplyRequest.verdictBases: run again with the files live, judged against what was measured before the killed reload. */
  verdictBases?: Readonly<Record<string, unknown>>
  /** ApplyRequest.onVerdictBasis. */
  onVerdictBasis?: (id: string, basis: unknown) => Promise<void>
}

/** What a reload's verdict is judged against: was the unit active before it, where did it listen. */
interface VerdictBasis {
  active: boolean
  listening: string[]
}

/** A basis as the host gives it back (from a record on disk): used only when it has the shape written. */
function basisOf(value: unknown): VerdictBasis | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  const { active, listening } = value as Partial<VerdictBasis>
  if (typeof active !== 'boolean' || !Array.isArray(listening) || !listening.every((s) => typeof s === 'string')) return undefined
  return { active, listening }
}

/**
 * Before a reload or restart run again after a kill: a unit whose file changed since the manager
 * last read it (the killed run wrote it, or put it back, and died before or inside its
 * daemon-reload) is read again first, so the service runs the file on disk. A failure, or undefined.
 */
async function reloadManagerIfStale(ctx: ProviderContext, unit: string): Promise<Omit<ChangeResult, 'id'> | undefined> {
  const shown = await ctx.host.query('systemctl', ['show', '--property=NeedDaemonReload', '--value', '--', unit], { timeoutMs: 30_000 })
  if (shown.stdout.trim() !== 'yes') return undefined
  return runInTurn(ctx, unit, [systemctlArgs('daemon-reload', unit, ctx.host.root)], TIMEOUT)
}

/**
 * Does a running service run its configuration files now (none modified since it last started or
 * reloaded: config-drift.ts's rule)? False when it cannot be told: the planned step runs.
 */
async function runsItsFiles(ctx: ProviderContext, unit: string): Promise<boolean> {
  return (await staleConfigNow(ctx, unit).catch(() => undefined))?.length === 0
}

/**
 * A start of a service the plan saw stopped, found running: something started it since the plan,
 * such as the package an earlier step of this apply installed (its maintainer script starts it
 * with the package's default configuration, before this apply's files step writes the twin's:
 * lighttpd brought back by a revert, session 21, went on listening on the default port). A start
 * would leave it running that; when it runs an older configuration than its files (the planner's
 * own drift rule, config-drift.ts), the start is a restart. Undefined otherwise: a plain start.
 */
async function runsOlderConfiguration(ctx: ProviderContext, unit: string): Promise<string[] | undefined> {
  const stale = await staleConfigNow(ctx, unit)
  return stale !== undefined && stale.length > 0 ? stale : undefined
}

/**
 * The files a running service reads that were modified since it last started or reloaded
 * (config-drift.ts's rule): [] when it runs its files; undefined when it is not a running service
 * or `systemctl show` cannot be read. One `systemctl show` tells both whether it runs and what it
 * started with.
 */
async function staleConfigNow(ctx: ProviderContext, unit: string): Promise<string[] | undefined> {
  if (!unit.endsWith('.service')) return undefined
  const [start] = await serviceStarts(ctx.host, [unit], true).catch(() => [])
  if (start === undefined || start.unit !== unit || start.sub !== 'running') return undefined
  return staleConfigOf(ctx.host, start, await unitPackages(ctx.host))
}

/** A change as apply runs it: the operation known, the unit name one systemctl takes as a unit (NAME_INVALID), or thrown. Also the provider's outOfScope. */
export function toStep(change: Change): SystemdStep {
  if (change.provider !== 'systemd' || !isSystemdOperation(change.operation)) {
    throw new TwinSyncError('PROVIDER_FAILED', `The systemd provider cannot apply ${change.provider}:${change.operation} (${change.id})`, { details: { id: change.id } })
  }
  const data = (change.data ?? {}) as { unit?: unknown }
  const unit = typeof data.unit === 'string' ? data.unit : change.resource
  const after = (data as { after?: unknown }).after
  if (after !== undefined && (change.operation !== 'unmask' || (after !== 'enabled' && after !== 'disabled'))) {
    throw new TwinSyncError('PLAN_INVALID', `The systemd change ${change.id} has an unknown final state ${JSON.stringify(after)} (was the plan edited?)`, { details: { id: change.id } })
  }
  const runtime = (data as { runtime?: unknown }).runtime
  if (runtime !== undefined && (change.operation !== 'mask' || runtime !== true)) {
    throw new TwinSyncError('PLAN_INVALID', `The systemd change ${change.id} has an unknown runtime flag ${JSON.stringify(runtime)} (was the plan edited?)`, { details: { id: change.id } })
  }
  const afterInstall = (data as { afterInstall?: unknown }).afterInstall
  if (afterInstall !== undefined && ((change.operation !== 'stop' && change.operation !== 'disable') || afterInstall !== true)) {
    throw new TwinSyncError('PLAN_INVALID', `The systemd change ${change.id} has an unknown afterInstall flag ${JSON.stringify(afterInstall)} (was the plan edited?)`, { details: { id: change.id } })
  }
  return {
    change,
    operation: change.operation,
    unit: change.operation === 'daemon-reload' ? unit : checkUnitName(unit),
    ...(after === undefined ? {} : { after }),
    ...(runtime === true ? { runtime: true } : {}),
    ...(afterInstall === true ? { afterInstall: true } : {}),
  }
}

type Masks = { persistent: boolean; runtime: boolean }

/**
 * The systemctl commands of one step, read from the unit files as they are now:
 * - unmask takes away every mask systemctl can (`unmask` for the one in /etc, `unmask --runtime`
 *   for the one in /run, which a plain unmask leaves); a unit masked somewhere else fails here,
 *   before anything runs;
 * - a mask until reboot is `mask --runtime`, then `unmask` of a mask for good in /etc (the
 *   runtime mask first, so the unit is never unmasked in between).
 */
async function commandsOf(step: SystemdStep, ctx: ProviderContext): Promise<{ commands: string[][]; masks?: Masks } | { failed: string }> {
  const root = ctx.host.root
  if (step.operation !== 'unmask' && !(step.operation === 'mask' && step.runtime === true)) {
    return { commands: [systemctlArgs(step.operation, step.unit, root)] }
  }
  const index = new UnitFileIndex(ctx.host)
  const masks = await index.masks(step.unit)
  if (step.operation === 'mask') {
    return { commands: [systemctlArgs('mask', step.unit, root, { runtime: true }), ...(masks.persistent ? [systemctlArgs('unmask', step.unit, root)] : [])], masks }
  }
  const commands = [...(masks.persistent ? [systemctlArgs('unmask', step.unit, root)] : []), ...(masks.runtime ? [systemctlArgs('unmask', step.unit, root, { runtime: true })] : [])]
  if (commands.length === 0) {
    const { state } = await index.lookup(step.unit)
    if (state === 'masked' || state === 'masked-runtime') {
      return { failed: `${step.unit} is masked outside /etc/systemd/system and /run/systemd/system (a vendor's mask), which systemctl unmask does not take away; nothing was run` }
    }
  }
  return { commands, masks }
}

/** The verbs whose failure the unit's own log explains (systemctl only says "see journalctl -xeu"). */
const STARTS: ReadonlySet<string> = new Set(['start', 'restart', 'reload', 'try-restart', 'reload-or-restart', 'try-reload-or-restart'])

/**
 * What the unit logged since the step began, its last lines: the reason a start failed
 * ("bind() to 0.0.0.0:80 failed (98: Address already in use)"), where systemctl only points at
 * journalctl (session 22, on a booted services root). Empty when there is none or no journalctl.
 * It reaches the apply's journal in the twin through the snapshot's secret screen, as any step's
 * output does.
 */
async function unitJournal(ctx: ProviderContext, unit: string, since: number): Promise<string> {
  const r = await ctx.host
    .query('journalctl', ['--no-pager', '-o', 'cat', '-n', '12', `--since=@${Math.floor(since / 1000)}`, '-u', unit], { timeoutMs: 10_000 })
    .catch(() => undefined)
  const lines = r?.exitCode === 0 ? r.stdout.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('-- ')) : []
  return lines.length === 0 ? '' : [`${unit} logged:`, ...lines.map((l) => `  ${l}`)].join('\n')
}

/** Runs the commands one after the other; the first that fails ends the step, saying what ran before it. */
async function runInTurn(ctx: ProviderContext, unit: string, commands: readonly string[][], options: ExecOptions): Promise<Omit<ChangeResult, 'id'> | undefined> {
  const done: string[] = []
  for (const args of commands) {
    let result
    const began = Date.now()
    try {
      result = await ctx.host.exec('systemctl', args, options)
    } catch (error) {
      // The host port refused it before it ran (a symlinked folder it would write in): this step fails, the others go on.
      if (!isTwinSyncError(error) || error.code !== 'PATH_THROUGH_SYMLINK') throw error
      return {
        status: 'failed',
        message: `${error.message}${done.length === 0 ? '' : ` (after systemctl ${done.join(', systemctl ')} had run for ${unit})`}`,
        diagnostics: [errorDiagnostic('PATH_THROUGH_SYMLINK', error.message, { provider: 'systemd', ...(error.nextStep === undefined ? {} : { detail: error.nextStep }) })],
      }
    }
    const words = args.filter((a) => !a.startsWith('--root=') && a !== '--').join(' ')
    if (result.exitCode !== 0) {
      const said = (result.stderr.trim() || result.stdout.trim()).split('\n').slice(-20).join('\n')
      // Runtime verbs run only where the manager runs (managerRuns): its journal is there too.
      const why = STARTS.has(args.find((a) => !a.startsWith('--')) ?? '') && ctx.host.live ? await unitJournal(ctx, unit, began) : ''
      return {
        status: 'failed',
        message: `systemctl ${words} exited with ${result.exitCode}${done.length === 0 ? '' : ` (after systemctl ${done.join(', systemctl ')} had run for ${unit})`}`,
        outputTail: why === '' ? said : `${said}\n${why}`,
      }
    }
    done.push(words)
  }
  return undefined
}

/**
 * After the masks are gone: enable or disable the unit so it ends as the change says (the links
 * from before the mask decide where an unmask alone leaves it). If that fails the masks go back
 * as they were (for good, until reboot), so the change happened whole or not at all.
 */
async function settleUnmasked(ctx: ProviderContext, step: SystemdStep, masks: Masks = { persistent: true, runtime: false }): Promise<Omit<ChangeResult, 'id'> | undefined> {
  const { state } = await new UnitFileIndex(ctx.host).lookup(step.unit)
  const verb = step.after === 'enabled' ? (state === 'enabled' ? undefined : 'enable') : state === 'enabled' ? 'disable' : undefined
  if (verb === undefined) return undefined
  const options = await execOptions(ctx, verb)
  const result = await ctx.host.exec('systemctl', systemctlArgs(verb, step.unit, ctx.host.root), options)
  if (result.exitCode === 0) return undefined
  const remasks = [...(masks.persistent ? [false] : []), ...(masks.runtime ? [true] : [])]
  let remasked = true
  for (const runtime of remasks) {
    remasked = (await ctx.host.exec('systemctl', systemctlArgs('mask', step.unit, ctx.host.root, { runtime }), options)).exitCode === 0 && remasked
  }
  const back = remasked ? `${step.unit} is masked again, as it was` : `masking ${step.unit} again failed too: it is unmasked`
  return {
    status: 'failed',
    message: `systemctl ${verb} ${step.unit} exited with ${result.exitCode} after the unmask; ${back}`,
    outputTail: (result.stderr.trim() || result.stdout.trim()).split('\n').slice(-20).join('\n'),
  }
}

/** Idempotence for enablement: the unit files already say what the change would make them say. */
async function isSatisfied(step: SystemdStep, index: UnitFileIndex): Promise<boolean> {
  if (RUNTIME_OPERATIONS.has(step.operation)) return false
  const { state } = await index.lookup(step.unit)
  switch (step.operation) {
    case 'enable':
      return state === 'enabled'
    case 'disable':
      // No unit file at all ("bad": a unit whose file the plan deleted after disabling it, in a
      // resumed apply): nothing left to disable. A unit a package of the plan may bring: nothing
      // to do unless it came enabled.
      if (step.afterInstall === true) return state !== 'enabled' && state !== 'enabled-runtime'
      return state === 'disabled' || (step.change.removal === true && state === 'bad')
    case 'mask':
      return state === (step.runtime === true ? 'masked-runtime' : 'masked')
    case 'unmask':
      return state !== 'masked' && state !== 'masked-runtime' && (step.after === undefined || state === step.after)
    default:
      return false
  }
}
