import { TwinSyncError, type ApplyResult, type Change, type ChangeResult, type ProviderContext } from '@twinsync/sdk'
import { managerRuns } from './runtime-units.js'
import { isSystemdOperation, RUNTIME_OPERATIONS, SYSTEMD_OPERATIONS, type SystemdOperation } from './change.js'
import { UnitFileIndex } from './unit-file-index.js'
import { isActive, listeningSockets, verifyBack } from './verify.js'
import { checkUnitName } from './unit-name.js'

interface SystemdStep {
  change: Change
  operation: SystemdOperation
  unit: string
  /** unmask: the state the unit ends in. */
  after?: 'enabled' | 'disabled'
}

/** The systemctl arguments of one step; offline targets get `--root`, as systemctl needs no manager for enablement. */
export function systemctlArgs(operation: SystemdOperation, unit: string, root: string): string[] {
  const rootArgs = root === '/' ? [] : [`--root=${root}`]
  return operation === 'daemon-reload' ? [...rootArgs, 'daemon-reload'] : [...rootArgs, operation, '--', unit]
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
): Promise<ApplyResult> {
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
        report({ id, status: 'unchanged', message: `${step.unit} is already ${operation}d` })
        continue
      }
      // Verified only when the unit runs now: a oneshot's restart ends inactive, as it should.
      const verified = (operation === 'reload' || operation === 'restart') && (await isActive(ctx.host, step.unit))
      // A unit whose last reload lost some of its sockets still owes them: the reload that
      // follows a rollback must bring back what it listened on before the change.
      const listening = verified ? (owed.get(step.unit) ?? (await listeningSockets(ctx.host, step.unit))) : new Set<string>()
      const result = await ctx.host.exec('systemctl', systemctlArgs(operation, step.unit, ctx.host.root), { timeoutMs: 5 * 60_000 })
      if (result.exitCode !== 0) {
        report({ id, status: 'failed', message: `systemctl ${operation} ${step.unit} exited with ${result.exitCode}`, outputTail: (result.stderr.trim() || result.stdout.trim()).split('\n').slice(-20).join('\n') })
        continue
      }
      if (step.after !== undefined) {
        const failure = await settleUnmasked(ctx, step)
        if (failure !== undefined) {
          report({ id, ...failure })
          continue
        }
      }
      const problem = verified ? await verifyBack(ctx.host, step.unit, listening, operation) : undefined
      if (verified && problem !== undefined) owed.set(step.unit, listening)
      else owed.delete(step.unit)
      const listens = listening.size === 0 ? '' : `; listens on ${[...listening].sort().join(', ')} as before`
      report(problem === undefined ? { id, status: 'applied', message: `${step.change.summary}${verified ? `: active${listens}` : ''}` } : { id, status: 'failed', message: problem })
    }
  }
  return { results: changes.map((c) => results.get(c.id) ?? { id: c.id, status: 'skipped', message: 'not reached' }), diagnostics: [] }
}

function toStep(change: Change): SystemdStep {
  if (change.provider !== 'systemd' || !isSystemdOperation(change.operation)) {
    throw new TwinSyncError('PROVIDER_FAILED', `The systemd provider cannot apply ${change.provider}:${change.operation} (${change.id})`, { details: { id: change.id } })
  }
  const data = (change.data ?? {}) as { unit?: unknown }
  const unit = typeof data.unit === 'string' ? data.unit : change.resource
  const after = (data as { after?: unknown }).after
  if (after !== undefined && (change.operation !== 'unmask' || (after !== 'enabled' && after !== 'disabled'))) {
    throw new TwinSyncError('PLAN_INVALID', `The systemd change ${change.id} has an unknown final state ${JSON.stringify(after)} (was the plan edited?)`, { details: { id: change.id } })
  }
  return { change, operation: change.operation, unit: change.operation === 'daemon-reload' ? unit : checkUnitName(unit), ...(after === undefined ? {} : { after }) }
}

/**
 * After `systemctl unmask`: enable or disable the unit so it ends as the change says (the links
 * from before the mask decide where an unmask alone leaves it). If that fails the mask goes back,
 * so the change happened whole or not at all.
 */
async function settleUnmasked(ctx: ProviderContext, step: SystemdStep): Promise<Omit<ChangeResult, 'id'> | undefined> {
  const { state } = await new UnitFileIndex(ctx.host).lookup(step.unit)
  const verb = step.after === 'enabled' ? (state === 'enabled' ? undefined : 'enable') : state === 'enabled' ? 'disable' : undefined
  if (verb === undefined) return undefined
  const result = await ctx.host.exec('systemctl', systemctlArgs(verb, step.unit, ctx.host.root), { timeoutMs: 5 * 60_000 })
  if (result.exitCode === 0) return undefined
  const remask = await ctx.host.exec('systemctl', systemctlArgs('mask', step.unit, ctx.host.root), { timeoutMs: 5 * 60_000 })
  const back = remask.exitCode === 0 ? `${step.unit} is masked again, as it was` : `masking ${step.unit} again failed too (exit ${remask.exitCode}): it is unmasked`
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
      return state === 'disabled'
    case 'mask':
      return state === 'masked'
    case 'unmask':
      return state !== 'masked' && state !== 'masked-runtime' && (step.after === undefined || state === step.after)
    default:
      return false
  }
}
