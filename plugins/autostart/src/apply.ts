import { errorDiagnostic, isTwinSyncError, TwinSyncError, type ApplyResult, type Change, type ChangeResult, type ProviderContext, type TwinsyncLine } from '@twinsync/sdk'
import { autostartChangeData, fileFingerprint, type AutostartChangeData, type LiveFile } from './change.js'
import { isAutostartPath, locationOf } from './location.js'
import { formatMode, parseMode } from './state.js'
import { TargetAccounts } from './target-accounts.js'

/**
 * Carry out approved autostart changes: atomic writes with the recorded owner and mode, chmod
 * and chown when only those differ, removal. Only claimed paths are ever touched, whatever a
 * (hand-edited) plan says.
 */
export async function applyAutostart(
  changes: readonly Change[],
  ctx: ProviderContext,
  provider: string,
  onResult?: (result: ChangeResult) => void,
): Promise<ApplyResult> {
  const accounts = await TargetAccounts.read(ctx.host)
  const results: ChangeResult[] = []
  for (const change of changes) {
    let result: ChangeResult
    try {
      result = await applyOne(change, ctx, provider, accounts)
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error)
      // The port's own refusal (PATH_THROUGH_SYMLINK) keeps its code and next step.
      const code = isTwinSyncError(error) ? error.code : 'APPLY_FAILED'
      const detail = isTwinSyncError(error) ? error.nextStep : undefined
      result = { id: change.id, status: 'failed', message, diagnostics: [errorDiagnostic(code, message, { path: change.resource, provider, ...(detail === undefined ? {} : { detail }) })] }
    }
    results.push(result)
    onResult?.(result)
  }
  return { results, diagnostics: results.flatMap((r) => r.diagnostics ?? []) }
}

/** What apply refuses of a change before anything runs: not this provider's, or a path it never writes (a "..", another folder). Thrown; also the provider's outOfScope. */
export function checkAutostartChange(change: Change, provider: string, line: TwinsyncLine): AutostartChangeData {
  const data = autostartChangeData(change)
  if (data === undefined || change.provider !== provider || !isAutostartPath(data.path)) {
    throw new TwinSyncError('CHANGE_INVALID', `${JSON.stringify(change.id)} is not an autostart change this provider can apply`, { nextStep: `Make a new plan (\`${line(['plan'])}\`); a plan is only what the planner made of the twin.` })
  }
  return data
}

async function applyOne(change: Change, ctx: ProviderContext, provider: string, accounts: TargetAccounts): Promise<ChangeResult> {
  const data = autostartChangeData(change)
  if (data === undefined || change.provider !== provider || !isAutostartPath(data.path)) {
    return refuse(change, 'CHANGE_INVALID', `${change.id} is not an autostart change this provider can apply`, provider)
  }
  const uid = accounts.uidOf(data.owner)
  const gid = accounts.gidOf(data.group)
  if (data.content !== null && (uid === undefined || gid === undefined)) {
    return refuse(change, 'USER_UNKNOWN', `the target has no ${uid === undefined ? `user ${data.owner}` : `group ${data.group}`} to own ${data.path}`, provider)
  }

  const live = await readLive(ctx, data.path, accounts)
  const wanted: LiveFile | undefined = data.content === null ? undefined : { content: data.content, mode: data.mode, owner: data.owner, group: data.group }
  // Applying the same plan twice changes nothing the second time.
  if (fileFingerprint(live) === fileFingerprint(wanted)) return { id: change.id, status: 'unchanged' }
  if (change.liveFingerprint !== undefined && fileFingerprint(live) !== change.liveFingerprint) {
    return refuse(change, 'PLAN_STALE', `${data.path} changed since the plan was made; make a new plan`, provider)
  }

  if (wanted === undefined) {
    await ctx.host.remove(data.path)
  } else if (live !== undefined && live.content === wanted.content) {
    if (live.owner !== wanted.owner || live.group !== wanted.group) await ctx.host.chown(data.path, uid as number, gid as number)
    // After chown, which clears setuid/setgid bits.
    await ctx.host.chmod(data.path, parseMode(wanted.mode))
  } else {
    await ensureParents(ctx, data, accounts)
    await ctx.host.writeFileAtomic(data.path, wanted.content, { mode: parseMode(wanted.mode), uid: uid as number, gid: gid as number })
  }
  return { id: change.id, status: 'applied' }
}

async function readLive(ctx: ProviderContext, path: string, accounts: TargetAccounts): Promise<LiveFile | undefined> {
  const stat = await ctx.host.lstat(path)
  if (stat === undefined) return undefined
  if (stat.type !== 'file') {
    // Not something collect mirrors; the plan cannot have seen it, so it is never overwritten.
    throw new Error(`${path} is a ${stat.type} on the target, not a regular file; it is left alone`)
  }
  const content = (await ctx.host.readTextIfExists(path)) ?? ''
  return { content, mode: formatMode(stat.mode), owner: accounts.userName(stat.uid), group: accounts.groupName(stat.gid) }
}

// ~/.config/autostart may not exist yet: create the missing folders, owned by the home's user.
async function ensureParents(ctx: ProviderContext, data: AutostartChangeData, accounts: TargetAccounts): Promise<void> {
  const dir = data.path.slice(0, data.path.lastIndexOf('/'))
  const location = locationOf(data.path, accounts)
  const user = location.user === undefined ? undefined : accounts.user(location.user)
  const base = location.home ?? '/etc'
  const missing: string[] = []
  for (let current = dir; current.length > base.length && current.startsWith(base + '/'); current = current.slice(0, current.lastIndexOf('/'))) {
    if ((await ctx.host.lstat(current)) === undefined) missing.unshift(current)
  }
  if (location.home !== undefined && (await ctx.host.stat(location.home))?.type !== 'directory') {
    throw new Error(`the home folder ${location.home} does not exist on the target`)
  }
  for (const folder of missing) {
    await ctx.host.mkdir(folder, { mode: 0o755, ...(user === undefined ? { uid: 0, gid: 0 } : { uid: user.uid, gid: user.gid }) })
  }
}

function refuse(change: Change, code: string, message: string, provider: string): ChangeResult {
  return { id: change.id, status: 'failed', message, diagnostics: [errorDiagnostic(code, message, { path: change.resource, provider })] }
}
