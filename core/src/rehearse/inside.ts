import { fileURLToPath } from 'node:url'
import type { Config as OclifConfig } from '@oclif/core'
import type { Change, Diagnostic, HostPort, Logger, Plan } from '@twinsync/sdk'
import { LocalHost, TwinSyncError, checksReading, filePathOf, findChecker, isConfigChecker, type ConfigCheck } from '@twinsync/sdk'
import { listeningSockets } from '@twinsync/plugin-systemd'
import { Applier } from '../apply/applier.js'
import { ConfigGuard } from '../apply/config-guard.js'
import type { LoadedConfig } from '../config/config-file.js'
import { container as rootContainer } from '../di.js'
import { isCommand } from '../plan/commands-domain.js'
import { builtinProviders } from '../providers/builtin-providers.js'
import { ProviderContexts } from '../providers/provider-contexts.js'
import { ProviderRegistry } from '../providers/provider-registry.js'
import { Tokens, registerValue } from '../tokens.js'
import type { InsideResult, RehearsedChange, RehearsedCheck, RehearsedUnit } from './rehearsal-report.js'

/** What the host hands the process inside the container (as JSON on its standard input). */
export interface InsideRequest {
  plan: Plan
  config: LoadedConfig
  /** How long the container may take to finish booting (default 60 s). */
  bootTimeoutMs?: number
  /**
   * oclif's data folder of the TwinSync outside (where `twinsync plugins install` put the
   * plugins), bound in read-only at the same path: the plugins load inside as they do outside.
   */
  dataDir?: string
}

/** Operations after which a unit must not run. */
const STOPPING = new Set(['stop', 'mask'])
/** Operations after which a unit must run (or have run to success). */
const RUNNING = new Set(['start', 'restart', 'reload', 'enable', 'unmask'])
const JOURNAL_LINES = 15
const NEVER = new AbortController().signal

interface UnitPlan {
  unit: string
  changes: string[]
  operations: Set<string>
}

/**
 * The rehearsal itself, run by the TwinSync code inside the throwaway container against its own
 * root "/": the same Applier (with its ConfigGuard and the providers' own apply and verify) that
 * `twinsync apply` runs on the machine, then the rehearsal's checks: each changed unit is
 * (re)started and must come up listening where it listened before, each checker of a changed
 * configuration must pass, and no unit may fail that did not fail before the plan ran.
 */
export async function rehearseInside(request: InsideRequest, host: HostPort = new LocalHost('/'), logger: Logger = stderrLogger()): Promise<InsideResult> {
  const c = rootContainer.createChildContainer()
  registerValue(c, Tokens.Config, request.config)
  registerValue(c, Tokens.OclifConfig, await oclifFor(request.plan, request.dataDir))
  registerValue(c, Tokens.Host, host)
  registerValue(c, Tokens.Logger, logger)
  // No twin in here: the providers' caches go to the container's own /run, thrown away with it.
  registerValue(c, Tokens.TwinLocation, { dir: '/run/twinsync-rehearsal/twin', source: 'flag' })
  c.registerSingleton(ProviderRegistry)
  const registry = c.resolve(ProviderRegistry)
  // Loading the providers overlaps with the container's boot; the baseline waits for the boot.
  const checks = (await registry.select()).map((r) => r.provider).filter(isConfigChecker).flatMap((p) => p.configChecks)
  await providersUsable(request.plan, registry, c.resolve(ProviderContexts))
  const bootState = await bootFinished(host, Date.now() + (request.bootTimeoutMs ?? 60_000))
  const bootedAt = Date.now()
  const { plan } = request

  const units = unitsOf(plan.changes, checks)
  for (const unit of await startedAgain(host, units.map((u) => u.unit))) logger.info(`rehearsal: ${unit} could not be spawned at the container's boot (result 'resources'); started once more before the baseline`)
  const before = new Map<string, { state: string; listening: Set<string> }>()
  for (const u of units) {
    const state = await activeState(host, u.unit)
    before.set(u.unit, { state, listening: state === 'active' ? await listeningSockets(host, u.unit) : new Set() })
  }
  const failedBefore = await failedUnits(host)

  const applyStarted = Date.now()
  const executed = await c.resolve(Applier).execute(plan, { signal: NEVER })
  const applyMs = Date.now() - applyStarted

  const checksStarted = Date.now()
  const guard = new ConfigGuard(host, checks, plan.changes)
  const checkRuns: RehearsedCheck[] = []
  for (const group of guard.groupsOf(plan.changes.filter((ch) => filePathOf(ch) !== undefined))) {
    const argv = group.check.argv
    if (argv === undefined) continue
    const changes = group.changes.map((ch) => ch.id)
    if ((await findChecker(host, argv[0] as string)) === undefined) {
      checkRuns.push({ service: group.check.service, command: argv.join(' '), ok: true, output: `${argv[0]} is not installed in the container: not checked`, changes })
      continue
    }
    const run = await guard.check(group, group.changes)
    checkRuns.push({ service: group.check.service, command: run.command, ok: run.ok, output: run.output, changes })
  }

  // Each unit on its own: proven side by side, as a boot would start them.
  const rehearsedUnits: RehearsedUnit[] = await Promise.all(units.map((u) => proveUnit(host, u, before.get(u.unit) ?? { state: 'unknown', listening: new Set() })))
  const failedAfter = await failedUnits(host)
  const expectedDown = new Set(rehearsedUnits.filter((u) => u.expected === 'inactive').map((u) => u.unit))
  const newlyFailed = failedAfter.filter((u) => !failedBefore.includes(u) && !expectedDown.has(u))
  for (const unit of newlyFailed) {
    const mine = rehearsedUnits.find((u) => u.unit === unit)
    if (mine !== undefined && mine.journal === undefined) mine.journal = await journalOf(host, unit)
  }
  const newlyFailedJournals = new Map<string, string[]>()
  for (const unit of newlyFailed) if (!rehearsedUnits.some((u) => u.unit === unit)) newlyFailedJournals.set(unit, await journalOf(host, unit))
  const checksMs = Date.now() - checksStarted

  const stepOf = new Map(executed.steps.map((s) => [s.id, s]))
  const changes: RehearsedChange[] = plan.changes.map((change) => {
    const step = stepOf.get(change.id)
    const evidence: string[] = []
    let ok = step !== undefined && (step.status === 'applied' || step.status === 'unchanged')
    if (step === undefined) evidence.push('the applier reported nothing for this change')
    else evidence.push(`${step.status}${step.message ? `: ${step.message}` : ''}`)
    for (const run of checkRuns.filter((r) => r.changes.includes(change.id))) {
      evidence.push(`\`${run.command}\` ${run.ok ? 'passes' : 'fails'}${run.output && !run.ok ? `: ${run.output}` : ''}`)
      if (!run.ok) ok = false
    }
    for (const unit of rehearsedUnits.filter((u) => u.changes.includes(change.id))) {
      evidence.push(unit.passed ? unitProof(unit) : `${unit.unit}: ${unit.problem ?? 'not as expected'}`)
      if (!unit.passed) {
        ok = false
        for (const line of unit.journal ?? []) evidence.push(`  journal: ${line}`)
      }
    }
    return {
      id: change.id,
      provider: change.provider,
      summary: change.summary,
      verdict: ok ? 'passed' : 'failed',
      status: step?.status ?? 'skipped',
      ...(step?.message === undefined ? {} : { message: step.message }),
      ...(step?.outputTail === undefined ? {} : { outputTail: step.outputTail }),
      ...(step?.diagnostics === undefined ? {} : { diagnostics: step.diagnostics }),
      evidence,
    }
  })
  const diagnostics: Diagnostic[] = [...executed.diagnostics]
  for (const [unit, journal] of newlyFailedJournals) {
    diagnostics.push({
      severity: 'error',
      code: 'REHEARSAL_UNIT_FAILED',
      summary: `${unit} failed in the rehearsal and had not failed before the plan ran`,
      detail: journal.join('\n'),
    })
  }
  return {
    changes,
    units: rehearsedUnits,
    checks: checkRuns,
    failedUnits: { before: failedBefore, after: failedAfter, new: newlyFailed },
    diagnostics,
    timings: { applyMs, checksMs },
    bootedAt,
    bootState,
  }
}

/** The units a plan touches: those of its systemd changes, and those that read a file it writes. */
export function unitsOf(changes: readonly Change[], checks: readonly ConfigCheck[]): UnitPlan[] {
  const byUnit = new Map<string, UnitPlan>()
  const add = (unit: string, change: Change, operation: string) => {
    const entry = byUnit.get(unit) ?? { unit, changes: [], operations: new Set<string>() }
    if (!entry.changes.includes(change.id)) entry.changes.push(change.id)
    entry.operations.add(operation)
    byUnit.set(unit, entry)
  }
  for (const change of changes) {
    if (change.provider === 'systemd' && change.operation !== 'daemon-reload') {
      const unit = (change.data as { unit?: unknown } | undefined)?.unit
      add(typeof unit === 'string' ? unit : change.resource, change, change.operation)
      continue
    }
    // Every service that reads what the change touches (a folder deleted whole: what is below it),
    // the units the plan reloads after it (checksReading). Before session 47 the first service's only.
    for (const unit of checksReading(checks, change).flatMap((c) => c.units ?? [])) add(unit, change, 'config')
  }
  return [...byUnit.values()]
}

/**
 * Prove a changed unit: one that must run is restarted (or started) in the container, so it
 * reads everything the plan changed, and must come up active and listening everywhere it
 * listened before; one that must not run must not be active.
 */
async function proveUnit(host: HostPort, u: UnitPlan, before: { state: string; listening: Set<string> }): Promise<RehearsedUnit> {
  const ops = [...u.operations]
  const base = { unit: u.unit, changes: u.changes, before: before.state, listeningBefore: [...before.listening].sort() }
  if (ops.some((o) => STOPPING.has(o))) {
    const after = await activeState(host, u.unit)
    const passed = after !== 'active' && after !== 'activating'
    return { ...base, expected: 'inactive', after, proof: 'none', listeningAfter: [], missing: [], passed, ...(passed ? {} : { problem: `${u.unit} is ${after}, not stopped` }) }
  }
  // A changed configuration is proven on a unit that runs; enable/start/… prove themselves.
  const mustRun = ops.some((o) => RUNNING.has(o)) || (before.state === 'active' && u.operations.has('config'))
  if (!mustRun) {
    const after = await activeState(host, u.unit)
    const passed = after !== 'failed'
    return { ...base, expected: 'any', after, proof: 'none', listeningAfter: [], missing: [], passed, ...(passed ? {} : { problem: `${u.unit} is failed`, journal: await journalOf(host, u.unit) }) }
  }
  const proof = before.state === 'active' ? 'restart' : 'start'
  const ran = await host.exec('systemctl', ['restart', '--', u.unit], { timeoutMs: 120_000 })
  let problem: string | undefined
  if (ran.exitCode !== 0) problem = `systemctl restart ${u.unit} exited with ${ran.exitCode}: ${(ran.stderr.trim() || ran.stdout.trim()).split('\n')[0] ?? ''}`
  else {
    // systemctl restart returns once the unit has started: no pause for a reload's signal needed.
    problem = await cameBack(host, u.unit, before.listening, proof)
    // A oneshot that ran to success is inactive afterwards, as it should be.
    if (problem !== undefined && (await ranToSuccess(host, u.unit))) problem = undefined
  }
  const after = await activeState(host, u.unit)
  const listeningAfter = after === 'active' ? await listeningSockets(host, u.unit) : new Set<string>()
  const missing = [...before.listening].filter((s) => !listeningAfter.has(s)).sort()
  const passed = problem === undefined
  return {
    ...base,
    expected: 'active',
    after,
    proof,
    listeningAfter: [...listeningAfter].sort(),
    missing,
    passed,
    ...(passed ? {} : { problem, journal: await journalOf(host, u.unit) }),
  }
}

function unitProof(u: RehearsedUnit): string {
  if (u.proof === 'none') return `${u.unit} is ${u.after}`
  const listens = u.listeningAfter.length === 0 ? '' : `, listens on ${u.listeningAfter.join(', ')}`
  return `${u.unit} comes up after a ${u.proof}: ${u.after}${listens}`
}

/** Active within the timeout, and listening everywhere it listened before; the problem as a sentence otherwise. */
async function cameBack(host: HostPort, unit: string, before: ReadonlySet<string>, operation: string, timeoutMs = 10_000): Promise<string | undefined> {
  const deadline = Date.now() + timeoutMs
  let state = ''
  let missing: string[] = []
  for (;;) {
    state = await activeState(host, unit)
    if (state === 'active') {
      const now = before.size === 0 ? new Set<string>() : await listeningSockets(host, unit)
      missing = [...before].filter((s) => !now.has(s))
      if (missing.length === 0) return undefined
    } else if (state === 'failed' || state === 'inactive') {
      break
    }
    if (Date.now() >= deadline) break
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  if (state !== 'active') return `${unit} is ${state} after the ${operation}, not active`
  return `${unit} no longer listens on ${missing.join(', ')} after the ${operation}`
}

/** Wait until the container's systemd has finished booting: its state (running, degraded) or what it is still doing. */
async function bootFinished(host: HostPort, deadline: number): Promise<string> {
  let state = ''
  while (Date.now() < deadline) {
    state = (await host.query('systemctl', ['is-system-running'], { timeoutMs: 10_000 })).stdout.trim()
    if (state === 'running' || state === 'degraded') return state
    if (state === 'maintenance' || state === 'stopping' || state === 'offline') break
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  const jobs = (await host.query('systemctl', ['list-jobs', '--no-pager', '--no-legend'], { timeoutMs: 10_000 })).stdout.trim()
  throw new TwinSyncError('REHEARSAL_BOOT_FAILED', `The rehearsal container did not finish booting (systemctl is-system-running: ${state || 'no answer'})${jobs ? `; still waiting for: ${jobs.split('\n').slice(0, 5).join('; ')}` : ''}`, {
    nextStep: 'Boot the root by hand to see why: `systemd-nspawn -D ROOT --volatile=overlay --boot`.',
  })
}

async function activeState(host: HostPort, unit: string): Promise<string> {
  return (await host.query('systemctl', ['is-active', '--', unit], { timeoutMs: 30_000 })).stdout.trim() || 'unknown'
}

async function ranToSuccess(host: HostPort, unit: string): Promise<boolean> {
  const out = (await host.query('systemctl', ['show', '--property=Type,Result,ActiveState', '--', unit], { timeoutMs: 30_000 })).stdout
  return /^Type=oneshot$/m.test(out) && /^Result=success$/m.test(out) && /^ActiveState=inactive$/m.test(out)
}

/**
 * Every provider the plan uses must be there and work in the container before anything is
 * applied: a plugin that did not load inside, or whose tools the root does not have (a provider
 * that runs a program of the machine running TwinSync, like dnf --installroot, rehearsed on
 * another root), cannot be rehearsed, and that is a refusal, not a failure of the plan.
 */
async function providersUsable(plan: Plan, registry: ProviderRegistry, contexts: ProviderContexts): Promise<void> {
  const used = [...new Set(plan.changes.filter((c) => !isCommand(c)).map((c) => c.provider))]
  if (used.length === 0) return
  const { providers, claims, diagnostics } = await registry.load()
  for (const name of used) {
    const found = providers.find((p) => p.provider.name === name && !p.disabled)
    if (found === undefined) {
      const why = diagnostics.filter((d) => d.severity === 'error').map((d) => d.summary)
      throw new TwinSyncError('REHEARSAL_UNAVAILABLE', `The ${name} provider of the plan did not load in the rehearsal container${why.length > 0 ? `: ${why.join('; ')}` : ''}`, {
        nextStep: `Check that \`twinsync providers\` lists ${name} here; a plugin must be installed with \`twinsync plugins install\` (or linked) by the user who rehearses.`,
        details: { provider: name, diagnostics: why },
      })
    }
    let detected: { detected: boolean; reason?: string }
    try {
      detected = await found.provider.detect({ ctx: contexts.for(found.provider, claims) })
    } catch (error) {
      detected = { detected: false, reason: `its detect() failed: ${(error as Error).message}` }
    }
    if (!detected.detected) {
      throw new TwinSyncError('REHEARSAL_UNAVAILABLE', `The ${name} provider (${found.source}) does not work in the rehearsal's copy of the root: ${detected.reason ?? 'not detected'}`, {
        nextStep: `The rehearsal runs every provider on the root's own programs; install what ${name} needs in the root, or apply without --rehearse (its changes cannot be rehearsed here).`,
        details: { provider: name, source: found.source, reason: detected.reason ?? '' },
      })
    }
  }
}

/**
 * The units the plan proves that failed at the container's boot because systemd could not spawn
 * them (result 'resources': "Failed to spawn executor", a cgroup it could not attach to): the
 * container's environment at that moment, never the unit's configuration. Each is started once
 * more before the baseline is taken; the ones started again are returned. CI, session 32: nginx
 * in a rehearsal container booted while other containers booted on the same two cores failed so,
 * and the rehearsal judged the plan's nginx change failed though nothing of it had run. A unit
 * that fails for any other reason (its own exit code, a bad configuration) is left failed, and
 * is the baseline.
 */
export async function startedAgain(host: HostPort, units: readonly string[]): Promise<string[]> {
  const again: string[] = []
  for (const unit of units) {
    const shown = (await host.query('systemctl', ['show', '--property=ActiveState,Result', '--', unit], { timeoutMs: 30_000 })).stdout
    if (!/^ActiveState=failed$/m.test(shown) || !/^Result=resources$/m.test(shown)) continue
    await host.exec('systemctl', ['reset-failed', '--', unit], { timeoutMs: 30_000 })
    await host.exec('systemctl', ['start', '--', unit], { timeoutMs: 120_000 })
    again.push(unit)
  }
  return again
}

/** Failed units, by name, sorted. */
export async function failedUnits(host: HostPort): Promise<string[]> {
  const out = await host.query('systemctl', ['list-units', '--state=failed', '--plain', '--no-legend', '--no-pager', '--all'], { timeoutMs: 30_000 })
  return out.stdout.split('\n').map((l) => l.trim().split(/\s+/)[0] ?? '').filter((n) => n !== '' && n !== '●').sort()
}

async function journalOf(host: HostPort, unit: string): Promise<string[]> {
  const out = await host.query('journalctl', ['--unit', unit, '--lines', String(JOURNAL_LINES), '--no-pager', '--quiet', '--output', 'short'], { timeoutMs: 30_000 })
  return out.stdout.split('\n').filter((l) => l.trim() !== '')
}

/**
 * Plugins answer oclif's hook: loaded only when the plan needs a provider that is not built in
 * (from the plugins installed in the container's copy of the machine); otherwise an oclif that
 * knows no plugins, which saves its start-up.
 */
async function oclifFor(plan: Plan, dataDir: string | undefined): Promise<OclifConfig> {
  const builtin = new Set((await builtinProviders()).map((b) => b.provider.name))
  if (plan.changes.every((c) => isCommand(c) || builtin.has(c.provider))) {
    return { runHook: async () => ({ successes: [], failures: [] }), plugins: new Map() } as unknown as OclifConfig
  }
  // The same plugins as outside: oclif reads the installed and linked ones from its data folder.
  if (dataDir !== undefined) process.env.TWINSYNC_DATA_DIR = dataDir
  const { Config } = await import('@oclif/core')
  return Config.load({ root: fileURLToPath(new URL('../..', import.meta.url)) })
}

function stderrLogger(): Logger {
  return {
    debug: () => undefined,
    info: () => undefined,
    warn: (m) => process.stderr.write(`warning: ${m}\n`),
  }
}
