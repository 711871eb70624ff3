import { compareStrings, type Change, type Diagnostic, type DiffResult, type Risk, appendAll } from '@twinsync/sdk'
import type { CrontabChangeData, CrontabOperation } from './change.js'
import { normalizeCrontab } from './crontab-header.js'
import { parseCrontab } from './crontab-parser.js'
import { crontabPath, type CronState, type UserCrontab } from './state.js'
import { crontabDiagnostics } from './validation.js'
import { crontabFingerprint } from './fingerprint.js'
import { textDiff } from '@twinsync/sdk'

/**
 * Pure: the changes that turn the actual user crontabs into the desired ones. System files
 * (/etc/crontab, /etc/cron.d) belong to the files provider and are never changed here.
 */
export function diffCron(desired: CronState, actual: CronState, provider: string): DiffResult {
  const want = new Map(desired.crontabs.map((c) => [c.user, c]))
  const have = new Map(actual.crontabs.map((c) => [c.user, c]))
  const users = [...new Set([...want.keys(), ...have.keys()])].sort(compareStrings)
  const changes: Change[] = []
  const diagnostics: Diagnostic[] = []
  for (const user of users) {
    const d = want.get(user)
    const a = have.get(user)
    const after = d === undefined ? null : normalizeCrontab(d.content)
    const before = a === undefined ? undefined : normalizeCrontab(a.content)
    if (after === before || (after === null && before === undefined)) continue
    appendAll(diagnostics, crontabDiagnostics(user, after, provider))
    changes.push(crontabChange(provider, user, before, after, a))
  }
  return { changes, diagnostics }
}

function crontabChange(provider: string, user: string, before: string | undefined, after: string | null, actual: UserCrontab | undefined): Change {
  const path = crontabPath(user)
  const operation: CrontabOperation = after === null ? 'delete' : before === undefined ? 'create' : 'replace'
  const data: CrontabChangeData = { user, path, content: after }
  const diff = textDiff(path, before ?? '', after ?? '')
  return {
    id: `${provider}:${operation}:${path}`,
    provider,
    category: 'startup',
    operation,
    resource: path,
    summary: summaryOf(operation, user, before, after),
    before: before === undefined ? 'absent' : describe(before, user),
    after: after === null ? 'absent' : describe(after, user),
    ...(diff === undefined ? {} : { diff }),
    risk: riskOf(user),
    liveFingerprint: crontabFingerprint(actual === undefined ? undefined : normalizeCrontab(actual.content)),
    data,
  }
}

function summaryOf(operation: CrontabOperation, user: string, before: string | undefined, after: string | null): string {
  if (operation === 'delete') return `remove the crontab of ${user}`
  if (operation === 'create') return `install a crontab for ${user} (${describe(after ?? '', user)})`
  const old = new Set(jobLines(before ?? '', user))
  const now = new Set(jobLines(after ?? '', user))
  const added = [...now].filter((l) => !old.has(l)).length
  const removed = [...old].filter((l) => !now.has(l)).length
  return `change the crontab of ${user}: ${added} job(s) added, ${removed} removed`
}

function jobLines(content: string, user: string): string[] {
  return parseCrontab(content, { path: crontabPath(user), format: 'user', user }).jobs.map((j) => `${j.schedule} ${j.command}`)
}

function describe(content: string, user: string): string {
  const jobs = parseCrontab(content, { path: crontabPath(user), format: 'user', user }).jobs
  const reboot = jobs.filter((j) => j.reboot).length
  return `${jobs.length} job(s)${reboot > 0 ? `, ${reboot} at boot` : ''}`
}

// Root's crontab runs anything as root; a user's runs as that user.
function riskOf(user: string): Risk {
  return user === 'root' ? 'high' : 'medium'
}
