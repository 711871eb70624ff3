import { TwinSyncError, type ApplyResult, type Change, type ChangeResult, type ExecResult, type ProviderContext } from '@twinsync/sdk'
import { collectDnfState } from './collect.js'
import { DNF_OPERATIONS, packageFingerprint, type DnfOperation } from './diff.js'
import type { DnfConfig, DnfState } from './state.js'
import { checkPackageName } from './names.js'

interface Step {
  change: Change
  operation: DnfOperation
  name: string
}

/**
 * Carry out approved dnf changes. Every change is checked first (a hostile name stops the whole
 * apply before any program runs); the live state is read again, so a change already in place is
 * `unchanged` and a package that moved since the plan fails instead of being overwritten. Then
 * one dnf transaction per verb, and a fresh collect decides each change's result.
 */
export async function applyDnfChanges(changes: readonly Change[], ctx: ProviderContext, onResult?: (r: ChangeResult) => void): Promise<ApplyResult> {
  const steps = changes.map(toStep)
  const config = ctx.config as DnfConfig
  const results = new Map<string, ChangeResult>()
  const report = (r: ChangeResult): void => {
    results.set(r.id, r)
    onResult?.(r)
  }
  const before = (await collectDnfState(ctx.host)).state
  const pending: Step[] = []
  for (const step of steps) {
    if (isDone(step, before)) report({ id: step.change.id, status: 'unchanged', message: `${step.name} is already as planned` })
    else if (step.change.liveFingerprint !== undefined && packageFingerprint(before.packages[step.name]) !== step.change.liveFingerprint) {
      report({ id: step.change.id, status: 'failed', message: `${step.name} changed on the machine since the plan was made; plan again` })
    } else pending.push(step)
  }
  const outputs = new Map<DnfOperation, ExecResult>()
  for (const operation of DNF_OPERATIONS) {
    const names = pending.filter((s) => s.operation === operation).map((s) => s.name)
    if (names.length === 0) continue
    outputs.set(operation, await dnf(ctx, config, [...verb(operation), ...names]))
  }
  if (pending.length > 0) {
    const after = (await collectDnfState(ctx.host)).state
    for (const step of pending) {
      const out = outputs.get(step.operation)
      if (isDone(step, after)) report({ id: step.change.id, status: 'applied', message: step.change.summary })
      else {
        report({
          id: step.change.id,
          status: 'failed',
          message: `dnf ${verb(step.operation).join(' ')} ${step.name} exited with ${out?.timedOut ? 'a timeout' : out?.exitCode}`,
          outputTail: (out?.stderr.trim() || out?.stdout.trim() || '').split('\n').slice(-20).join('\n'),
        })
      }
    }
  }
  return { results: changes.map((c) => results.get(c.id) ?? { id: c.id, status: 'skipped', message: 'not reached' }), diagnostics: [] }
}

function toStep(change: Change): Step {
  if (change.provider !== 'dnf' || !(DNF_OPERATIONS as readonly string[]).includes(change.operation)) {
    throw new TwinSyncError('PROVIDER_FAILED', `The dnf provider cannot apply ${change.provider}:${change.operation} (${change.id})`, { details: { id: change.id } })
  }
  const data = (change.data ?? {}) as { package?: unknown }
  return { change, operation: change.operation as DnfOperation, name: checkPackageName(data.package ?? change.resource) }
}

function isDone(step: Step, live: DnfState): boolean {
  const have = live.packages[step.name]
  switch (step.operation) {
    case 'install':
      return have !== undefined
    case 'erase':
      return have === undefined
    case 'mark-install':
      return have?.userInstalled === true
    case 'mark-remove':
      return have !== undefined && !have.userInstalled
  }
}

function verb(operation: DnfOperation): string[] {
  return { install: ['install'], erase: ['erase'], 'mark-install': ['mark', 'install'], 'mark-remove': ['mark', 'remove'] }[operation]
}

/** dnf against the target: `--installroot` maps every path (repos, cache, rpm database) under it. */
async function dnf(ctx: ProviderContext, config: DnfConfig, args: string[]): Promise<ExecResult> {
  const options = ['-y', '-q', `--installroot=${ctx.host.root}`, ...(config.releasever === undefined ? [] : [`--releasever=${config.releasever}`])]
  return ctx.host.exec('dnf', [...options, ...args], { timeoutMs: config.timeoutMs ?? 30 * 60_000, signal: ctx.signal })
}
