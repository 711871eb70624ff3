import {
  errorDiagnostic,
  TwinSyncError,
  type ApplyResult,
  type Change,
  type ChangeResult,
  type Diagnostic,
  type ProviderContext,
} from '@twinsync/sdk'
import { crontabChangeData, type CrontabChangeData } from './change.js'
import { normalizeCrontab, stripCronHeader } from './crontab-header.js'
import { CRONTAB_DIR, crontabPath } from './state.js'
import { isValidUserName, targetUserNames } from './user.js'
import { crontabDiagnostics } from './validation.js'
import { crontabFingerprint } from './fingerprint.js'

const OUTPUT_TAIL_LINES = 20

/**
 * Install approved crontab changes with the target's own `crontab` (inside the target root), so
 * cron notices them and the files keep cron's owner, group and mode. Every change is checked
 * first; if any is invalid, nothing at all is written.
 */
export async function applyCron(
  changes: readonly Change[],
  ctx: ProviderContext,
  provider: string,
  onResult?: (result: ChangeResult) => void,
): Promise<ApplyResult> {
  const checked = await checkChanges(changes, ctx, provider)
  const refused = checked.some((c) => c.diagnostics.length > 0)
  const results: ChangeResult[] = []
  for (const { change, data, diagnostics } of checked) {
    let result: ChangeResult
    if (refused || data === undefined) {
      result =
        diagnostics.length > 0
          ? { id: change.id, status: 'failed', message: diagnostics.map((d) => d.summary).join('; '), diagnostics }
          : { id: change.id, status: 'skipped', message: 'not applied: another cron change of this plan is invalid' }
    } else {
      result = await applyOne(change, data, ctx)
    }
    results.push(result)
    onResult?.(result)
  }
  const diagnostics = checked.flatMap((c) => c.diagnostics)
  return { results, diagnostics }
}

/**
 * What apply refuses of a change before anything runs: not this provider's, a user name that is
 * not one `crontab -u` may get (a "/", a leading "-", a newline), or a path other than that user's
 * crontab. Thrown; the provider's outOfScope turns it into a refusal of the whole plan.
 */
export function checkCronChange(change: Change, provider: string): void {
  const data = crontabChangeData(change)
  if (data === undefined || change.provider !== provider) throw new TwinSyncError('CHANGE_INVALID', `${JSON.stringify(change.id)} is not a cron change this provider made`)
  if (!isValidUserName(data.user)) {
    throw new TwinSyncError('NAME_INVALID', `${JSON.stringify(data.user)} is not a valid user name for a crontab`, { nextStep: 'User names match ^[a-z_][a-z0-9_-]*[$]?$ (at most 32 characters); fix the twin or make a new plan.' })
  }
  if (data.path !== crontabPath(data.user)) throw new TwinSyncError('CHANGE_INVALID', `${JSON.stringify(change.id)}: ${JSON.stringify(data.path)} is not the crontab of ${data.user}`)
}

interface CheckedChange {
  change: Change
  data: CrontabChangeData | undefined
  diagnostics: Diagnostic[]
}

async function checkChanges(changes: readonly Change[], ctx: ProviderContext, provider: string): Promise<CheckedChange[]> {
  let users: Set<string> | undefined
  const checked: CheckedChange[] = []
  for (const change of changes) {
    const data = crontabChangeData(change)
    if (data === undefined || change.provider !== provider) {
      checked.push({ change, data: undefined, diagnostics: [errorDiagnostic('CHANGE_INVALID', `${change.id} is not a cron change this provider made`, { provider })] })
      continue
    }
    const diagnostics = crontabDiagnostics(data.user, data.content, provider)
    if (diagnostics.length === 0 && data.path !== crontabPath(data.user)) {
      diagnostics.push(errorDiagnostic('CHANGE_INVALID', `${change.id}: ${data.path} is not the crontab of ${data.user}`, { provider }))
    }
    if (diagnostics.length === 0) {
      users ??= await targetUserNames(ctx.host)
      if (!users.has(data.user)) {
        diagnostics.push(
          errorDiagnostic('USER_UNKNOWN', `there is no user ${data.user} in the target's /etc/passwd`, {
            provider,
            path: data.path,
            detail: 'Create the user first (a files or packages change), or remove the crontab from the twin.',
          }),
        )
      }
    }
    checked.push({ change, data, diagnostics })
  }
  return checked
}

async function applyOne(change: Change, data: CrontabChangeData, ctx: ProviderContext): Promise<ChangeResult> {
  const raw = await ctx.host.readTextIfExists(data.path)
  const live = raw === undefined ? undefined : normalizeCrontab(stripCronHeader(raw))
  const wanted = data.content === null ? undefined : normalizeCrontab(data.content)
  // Applying the same plan twice changes nothing the second time.
  if (live === wanted) return { id: change.id, status: 'unchanged' }
  if (change.liveFingerprint !== undefined && crontabFingerprint(live) !== change.liveFingerprint) {
    return {
      id: change.id,
      status: 'failed',
      message: `the crontab of ${data.user} changed since the plan was made; make a new plan`,
      diagnostics: [errorDiagnostic('PLAN_STALE', `${data.path} changed since the plan was made`, { path: data.path, provider: change.provider })],
    }
  }
  const args = wanted === undefined ? ['-u', data.user, '-r'] : ['-u', data.user, '-']
  const result = await ctx.host.exec('crontab', args, {
    inTarget: true,
    // crontab writes the user's file in the spool: never where a symlinked spool leads.
    writesIn: [CRONTAB_DIR],
    signal: ctx.signal,
    ...(wanted === undefined ? {} : { input: wanted }),
  })
  const outputTail = tail(result.stderr + result.stdout)
  if (result.exitCode !== 0) {
    return {
      id: change.id,
      status: 'failed',
      message: `crontab ${args.join(' ')} exited ${result.exitCode}`,
      ...(outputTail.length > 0 ? { outputTail } : {}),
      diagnostics: [errorDiagnostic('COMMAND_FAILED', `crontab ${args.join(' ')} failed`, { path: data.path, provider: change.provider, detail: outputTail })],
    }
  }
  return { id: change.id, status: 'applied', ...(outputTail.length > 0 ? { outputTail } : {}) }
}

function tail(output: string): string {
  return output.trim().split('\n').slice(-OUTPUT_TAIL_LINES).join('\n')
}
