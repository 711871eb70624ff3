import { enablementFolders, TwinSyncError, type ApplyResult, type Change, type ChangeResult, type ExecResult, type HostPort, type ProviderContext } from '@twinsync/sdk'
import { heldLockIn, lockHeldError } from './dpkg-lock.js'
import { collectAptState } from './collect.js'
import { isAptOperation, type AptOperation } from './change.js'
import { refresh, refreshesFor, refreshFailure, type Refresh } from './lists.js'
import { checkPackageName, checkPackageVersion } from './name.js'
import type { AptState } from './state.js'

/** A change of this provider, checked: the operation is known, the name and version are safe. */
interface AptStep {
  change: Change
  operation: AptOperation
  pkg: string
  version: string | undefined
}

const APT_ENV = { DEBIAN_FRONTEND: 'noninteractive' }
/** apt-get runs maintainer scripts and downloads: minutes, not seconds. */
const TRANSACTION_TIMEOUT_MS = 60 * 60_000
const TOOL_TIMEOUT_MS = 5 * 60_000

/** The apt-get arguments of the one transaction that installs and removes everything at once. */
export function transactionArgs(installs: readonly string[], removals: readonly string[], allowDowngrades: boolean): string[] {
  return [
    'install',
    '-y',
    '-q',
    '--no-install-recommends',
    // Keep a locally changed configuration file; take the package's where it was not changed.
    '-o', 'Dpkg::Options::=--force-confdef',
    '-o', 'Dpkg::Options::=--force-confold',
    ...(allowDowngrades ? ['--allow-downgrades'] : []),
    ...installs,
    ...removals.map((pkg) => `${pkg}-`),
  ]
}

/**
 * Carry out approved apt changes: release holds, then ONE apt-get transaction for every install
 * and removal (so apt resolves them together and never leaves half a plan), then marks and holds.
 * Every name is checked before the first command runs. Against a root other than "/", every
 * command runs inside it (chroot): the host's packages are never touched.
 */
export async function applyAptChanges(
  changes: readonly Change[],
  ctx: ProviderContext,
  onResult?: (r: ChangeResult) => void,
  changedNeeds: Readonly<Record<string, readonly string[]>> = {},
): Promise<ApplyResult> {
  const steps = changes.map(toStep)
  const results = new Map<string, ChangeResult>()
  const report = (result: ChangeResult): void => {
    results.set(result.id, result)
    onResult?.(result)
  }
  const live = (await collectAptState(ctx.host)).state
  const runnable = (operation: AptOperation): AptStep[] => {
    const out: AptStep[] = []
    for (const step of steps.filter((s) => s.operation === operation)) {
      const blocker = (step.change.requires ?? []).find((id) => results.get(id)?.status === 'failed' || results.get(id)?.status === 'skipped')
      if (blocker !== undefined) report({ id: step.change.id, status: 'skipped', message: `skipped: ${blocker} did not succeed` })
      else if (isSatisfied(step, live)) report({ id: step.change.id, status: 'unchanged', message: `${step.pkg} is already as planned` })
      else out.push(step)
    }
    return out
  }

  await runBatch(ctx.host, runnable('unhold'), (pkgs) => ['unhold', ...pkgs], 'apt-mark', report)

  const removals = runnable('remove')
  // A repository (or key) this apply just added is read into apt's lists before anything is installed from it.
  const wanted = runnable('install')
  const failedRefreshOf = await refreshFor(ctx.host, wanted, changedNeeds)
  const installs: AptStep[] = []
  for (const step of wanted) {
    const failed = failedRefreshOf(step)
    if (failed === undefined) installs.push(step)
    else report({ id: step.change.id, status: 'failed', ...refreshFailure(failed, step.change.id) })
  }
  const available: AptStep[] = []
  for (const step of installs) {
    const missing = step.version === undefined ? undefined : await archiveLacks(ctx.host, step.pkg, step.version)
    if (missing === undefined) available.push(step)
    else report({ id: step.change.id, status: 'failed', message: missing })
  }
  if (available.length + removals.length > 0) {
    const args = transactionArgs(
      available.map((s) => (s.version === undefined ? s.pkg : `${s.pkg}=${s.version}`)),
      removals.map((s) => s.pkg),
      available.some((s) => s.version !== undefined),
    )
    const result = await aptExec(ctx.host, 'apt-get', args, TRANSACTION_TIMEOUT_MS)
    for (const step of [...available, ...removals]) report(resultOf(step, result, transactionHint(result)))
  }

  await runBatch(ctx.host, runnable('mark-manual'), (pkgs) => ['manual', ...pkgs], 'apt-mark', report)
  await runBatch(ctx.host, runnable('mark-auto'), (pkgs) => ['auto', ...pkgs], 'apt-mark', report)
  await runBatch(ctx.host, runnable('hold'), (pkgs) => ['hold', ...pkgs], 'apt-mark', report)

  return { results: changes.map((c) => results.get(c.id) ?? { id: c.id, status: 'skipped', message: 'not reached' }), diagnostics: [] }
}

/**
 * Refresh the lists for what the installs need that this apply changed (see lists.ts),
 * each refresh once. Returns, for an install, the refresh of its needs that failed.
 */
async function refreshFor(host: HostPort, installs: readonly AptStep[], changedNeeds: Readonly<Record<string, readonly string[]>>): Promise<(step: AptStep) => Refresh | undefined> {
  const changed = installs.flatMap((s) => changedNeeds[s.change.id] ?? [])
  const done: Refresh[] = []
  for (const source of await refreshesFor(host, changed)) done.push(await refresh(host, source))
  return (step) => {
    const mine = changedNeeds[step.change.id] ?? []
    return done.find((r) => !r.ok && (r.source === undefined ? mine.length > 0 : mine.includes(r.source)))
  }
}

/** A change as apply runs it: the operation known, the package name and version safe (NAME_INVALID), or thrown. Also the provider's outOfScope. */
export function toStep(change: Change): AptStep {
  if (change.provider !== 'apt' || !isAptOperation(change.operation)) {
    throw new TwinSyncError('PROVIDER_FAILED', `The apt provider cannot apply ${change.provider}:${change.operation} (${change.id})`, {
      details: { id: change.id },
    })
  }
  const data = (change.data ?? {}) as { package?: unknown; version?: unknown }
  const pkg = checkPackageName(typeof data.package === 'string' ? data.package : change.resource)
  const version = typeof data.version === 'string' ? checkPackageVersion(pkg, data.version) : undefined
  return { change, operation: change.operation, pkg, version }
}

/** Idempotence: a step whose outcome is already live is reported unchanged, not run again. */
function isSatisfied(step: AptStep, live: AptState): boolean {
  const have = live.packages[step.pkg]
  switch (step.operation) {
    case 'install':
      return have !== undefined && (step.version === undefined || have.version === step.version)
    case 'remove':
      return have === undefined
    case 'mark-manual':
      return have !== undefined && have.manual
    case 'mark-auto':
      return have !== undefined && !have.manual
    case 'hold':
      return have !== undefined && have.hold
    case 'unhold':
      return have === undefined || !have.hold
  }
}

async function runBatch(
  host: HostPort,
  steps: readonly AptStep[],
  args: (pkgs: string[]) => string[],
  command: string,
  report: (r: ChangeResult) => void,
): Promise<void> {
  if (steps.length === 0) return
  const result = await aptExec(host, command, args(steps.map((s) => s.pkg)), TOOL_TIMEOUT_MS)
  for (const step of steps) report(resultOf(step, result))
}

async function aptExec(host: HostPort, command: string, args: string[], timeoutMs: number): Promise<ExecResult> {
  // dpkg runs the packages' maintainer scripts: update-rc.d and deb-systemd-helper write boot
  // links wherever a symlinked /etc/rc?.d or .wants folder leads; the host port refuses first.
  const writesIn = command === 'apt-get' ? await enablementFolders(host) : []
  const result = await host.exec(command, args, { inTarget: true, env: APT_ENV, timeoutMs, writesIn })
  if (result.exitCode !== 0) {
    const lock = heldLockIn(result.stderr + '\n' + result.stdout)
    if (lock !== undefined) throw lockHeldError(lock, result.stderr)
  }
  return result
}

function resultOf(step: AptStep, result: ExecResult, hint = ''): ChangeResult {
  if (result.exitCode === 0) return { id: step.change.id, status: 'applied', message: step.change.summary }
  return {
    id: step.change.id,
    status: 'failed',
    message: `${result.command} ${result.args[0] ?? ''} exited with ${result.timedOut ? 'a timeout' : result.exitCode}${hint}`,
    outputTail: tail(result.stderr.trim() || result.stdout.trim()),
  }
}

function transactionHint(result: ExecResult): string {
  if (/Unable to locate package|has no installation candidate/.test(result.stderr)) {
    return ': a package is not in the package lists (run `apt-get update` on the target first)'
  }
  return ''
}

/**
 * Check the archive before the transaction, so a missing pinned version fails as one clear
 * change instead of aborting apt-get half-way. Undefined when the version is there.
 */
async function archiveLacks(host: HostPort, pkg: string, version: string): Promise<string | undefined> {
  const result = await host.query('apt-cache', ['madison', pkg], { inTarget: true, env: APT_ENV, timeoutMs: TOOL_TIMEOUT_MS })
  const versions = [...new Set(result.stdout.split('\n').map((line) => line.split('|')[1]?.trim()).filter((v): v is string => v !== undefined && v !== ''))]
  if (versions.includes(version)) return undefined
  const known = versions.length === 0 ? 'no version at all (is `apt-get update` done?)' : `only ${versions.join(', ')}`
  return `${pkg} ${version} is not in the archive: apt-cache madison lists ${known}; nothing was installed for it`
}

function tail(text: string, lines = 20): string {
  return text.split('\n').slice(-lines).join('\n')
}
