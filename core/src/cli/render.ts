// The command line's text for each result: what a person reads when --json is not given. The
// workflows in ../services/ return data; the commands print it with these.
import type { GcReport } from '../history/gc.js'
import type { Decision } from '../intent/reconcile-service.js'
import type { PullOutcome, PushOutcome, RemoteStatus } from '../remote/remote-service.js'
import { describePushFinding, type PushSecretFinding } from '../remote/secret-scan.js'
import { inSync, notCompared, notComparedPhrase, ON_MACHINE, type DriftStatus } from '../services/drift-status.js'
import type { ProviderList } from '../services/list-providers.js'
import type { StartupList } from '../services/list-startup.js'
import type { ForgetResult } from '../services/run-forget.js'
import type { ScheduleStatus } from '../services/schedule.js'
import { renderDiagnostics } from './render-diagnostics.js'
import { MIRROR_BRANCH } from '../remote/remote-settings.js'
import { quoteArg, type LineFor } from '../plan/command-text.js'
import { shownDiagnostic, terminalText } from '../terminal-text.js'
import { UNPLANNED, countsPhrase, pendingPhrase } from '../vocabulary.js'
import { TWIN_EMPTY } from '../plan/plan-summary.js'
import { COMMANDS } from '../plan/commands-domain.js'
import { appendAll } from '../append-to.js'
import { uncheckedRunLines } from '../plan/unchecked-runs.js'

/** "1 file, 2 packages": the items, per domain. */
function tally(items: ReadonlyArray<{ category: string; resource: string }>): string {
  const byDomain: Record<string, Array<{ operation: string; resource: string }>> = {}
  for (const i of items) (byDomain[i.category] ??= []).push({ operation: '', resource: i.resource })
  return countsPhrase(byDomain)
}

/** Drift in observed words from the machine's side, pending as what the twin asks (vocabulary.ts). */
export function renderStatus(s: DriftStatus, line: LineFor): string {
  const mirror = (s.remote.configured ? `\n${renderRemoteStatus(s.remote, line)}` : '') + (s.interrupted === null ? '' : `\n\n${s.interrupted}`) + branchLines(s, line)
  const at = `the twin at ${s.repo} (last snapshot ${s.observed?.slice(0, 12) ?? 'none'})`
  const missing = [
    ...s.missing.map(shownDiagnostic).flatMap((d) => [`Missing provider: ${d.summary}`, ...(d.detail === undefined ? [] : [`  ${d.detail}`])]),
    ...s.unread.map(shownDiagnostic).flatMap((d) => [`Not compared: ${d.summary}`, ...(d.detail === undefined ? [] : [`  ${d.detail}`])]),
  ]
  // Never "In sync" then (inSync, the verdict the TUI's status line gives too). A twin with nothing
  // of the machine (no snapshot yet) has no "otherwise" to say: only the mirror's lines follow.
  if (missing.length > 0) {
    const empty = s.unread.some((d) => d.code === TWIN_EMPTY)
    const otherwise = empty ? [] : ['', renderStatus({ ...s, missing: [], unread: [] }, line).replace(/^In sync: /, 'Otherwise: ')]
    return [`NOT in sync: ${notComparedPhrase(notCompared(s))}.`, ...missing, ...otherwise].join('\n') + (empty ? mirror : '')
  }
  // A run-once command whose secret this machine cannot check holds nothing back: said under either verdict.
  const unchecked = uncheckedRunLines(s.notes)
  const notes = unchecked.length === 0 ? '' : `\n\n${unchecked.join('\n')}`
  if (inSync(s)) return `In sync: the machine matches ${at}; nothing pending.${notes}${mirror}`
  const lines = [`Twin: ${at}`, '']
  if (!s.drift) lines.push('Drift: none; the machine is as the last snapshot saw it.')
  else {
    const alone = s.changes.filter((c) => c.planned === UNPLANNED)
    // An interrupted apply's drift is its own work: `apply` heads for its state (resume.ts), so
    // "applying now would undo it" was the opposite of what it does (session 30, helper redteam).
    const undo =
      s.interrupted !== null
        ? `\`${line(['apply'])}\` heads for the interrupted apply's state (below), not the last snapshot's: what that apply made stays`
        : alone.length === 0
          ? 'Applying now would undo it'
          : alone.length === s.changes.length
            ? 'No plan changes it back'
            : 'Applying now would undo all but what is marked'
    lines.push(`Drift: the machine moved since the last snapshot (${tally(s.changes)}). ${undo}; \`${line(['adopt', 'ITEM'])}\` keeps it.`)
    // Drift a plan leaves alone (a dependency, an unpinned upgrade) is kept with its domain.
    lines.push(...s.changes.slice(0, 30).map((c) => `    ${terminalText(c.id)}  ${terminalText(c.summary)}${c.planned === UNPLANNED ? ` (no plan changes it back; \`${line(['adopt', c.category])}\` or a snapshot records it)` : ''}`))
    if (s.changes.length > 30) lines.push(`    … and ${s.changes.length - 30} more (\`${line(['plan'])}\` shows them all)`)
  }
  lines.push('')
  if (s.pending.count === 0) lines.push('Pending: none; the twin asks for nothing the machine lacks.')
  else {
    // A command of plans/ is no edit `discard` puts back: its own next step says how to drop it.
    const commands = s.pending.items.some((i) => i.provider === COMMANDS) ? ' (a command of plans/: take it out of its file)' : ''
    lines.push(`Pending: the twin asks for what the machine does not have yet (${tally(s.pending.items)}). \`${line(['apply'])}\` does it; \`${line(['discard', 'ITEM'])}\` drops one${commands}.`)
    // Done outside TwinSync, or by the interrupted apply (its record says so): each reason says which.
    const had = s.pending.items.filter((i) => i.onMachine === true && i.reason === ON_MACHINE).length
    if (had > 0) lines.push(`  ${had === s.pending.items.length ? (had === 1 ? 'The machine already has it' : 'The machine already has all of them') : `The machine already has ${had} of them`} (done outside TwinSync): \`${line(['snapshot'])}\` records ${had === 1 ? 'it' : 'them'} and ${had === 1 ? 'it is' : 'they are'} no longer pending.`)
    const made = s.pending.items.filter((i) => i.onMachine === true && i.reason !== ON_MACHINE).length
    if (made > 0) lines.push(`  ${made === s.pending.items.length ? (made === 1 ? 'The machine already has it' : 'The machine already has all of them') : `The machine already has ${made} of them`}, as the interrupted apply planned: \`${line(['apply'])}\` finishes that apply, and its snapshot records ${made === 1 ? 'it' : 'them'}.`)
    // An item its provider never applies here (outside its scope) says so with its code and next step, as the plan does;
    // one the last apply failed, with that step's code (its reason has the apply's time and words).
    lines.push(
      ...s.pending.items.slice(0, 30).flatMap((i) => {
        const code = i.code ?? i.lastApply?.code
        const next = i.nextStep ?? (i.lastApply?.halfDone === true ? `it may be half done on the machine: check it there before you apply again${i.lastApply.journal === undefined ? '' : ` (that apply's journal: ${i.lastApply.journal})`}` : undefined)
        return [`    ${terminalText(i.id)}  ${terminalText(pendingPhrase(i))} (${terminalText(i.reason)})${code === undefined ? '' : ` [${terminalText(code)}]`}`, ...(next === undefined ? [] : [`      Next step: ${terminalText(next)}`])]
      }),
    )
    if (s.pending.items.length > 30) lines.push(`    … and ${s.pending.items.length - 30} more (--json lists them all)`)
  }
  if (s.pending.setAside !== null) lines.push(`  ${s.pending.setAside}`)
  return lines.join('\n') + notes + mirror
}

/** What a person committed on a branch TwinSync does not read, and a twin on a branch `push` does not send. */
function branchLines(s: Pick<DriftStatus, 'repo' | 'branches'>, line: LineFor): string {
  const { current, unread } = s.branches
  const lines = unread.map(
    (b) =>
      `Not read: branch ${b.branch} has ${b.commits} commit${b.commits === 1 ? '' : 's'} that ${current ?? 'HEAD'} does not; TwinSync reads only the branch checked out. \`git -C ${quoteArg(s.repo)} merge ${b.branch}\` asks for ${b.commits === 1 ? 'it' : 'them'}, or delete the branch.`,
  )
  if (current !== MIRROR_BRANCH) lines.unshift(`The twin is on ${current === null ? 'a detached HEAD' : `branch ${current}`}, not ${MIRROR_BRANCH}: snapshots are committed there, and \`${line(['push'])}\` sends ${MIRROR_BRANCH}.`)
  return lines.length === 0 ? '' : `\n\n${lines.join('\n')}`
}

export function renderProviders({ providers, diagnostics }: ProviderList, options: { codes?: boolean } = {}): string {
  const rows = providers.map((p) => [
    p.name,
    p.version,
    p.category,
    p.disabled ? 'disabled' : p.detected ? 'yes' : 'no',
    p.applicable ? 'collect, apply' : 'collect',
    p.source,
  ])
  const lines = [table(['PROVIDER', 'VERSION', 'CATEGORY', 'DETECTED', 'CAN', 'FROM'], rows)]
  // --codes: each provider's own codes under its name and plugin (TwinSync's own: `twinsync describe`).
  for (const p of options.codes === true ? providers : []) {
    const codes = Object.entries(p.codes)
    if (codes.length === 0) continue
    lines.push('', `Codes of the ${terminalText(p.name)} provider (${terminalText(p.source)}):`)
    appendAll(lines, codes.map(([code, description]) => `  ${terminalText(code)}  ${terminalText(description)}`))
  }
  appendAll(lines, renderDiagnostics(diagnostics))
  return lines.join('\n')
}

export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ')
  return [line(header), ...rows.map(line)].join('\n')
}

export function renderStartup({ entries, diagnostics }: StartupList): string {
  if (entries.length === 0) return ['Nothing starts at boot or login.', ...renderDiagnostics(diagnostics)].join('\n')
  const rows = entries.map((e) => [
    e.trigger === 'schedule' ? (e.schedule ?? 'timer') : e.trigger,
    e.source,
    e.user ?? '-',
    e.enabled ? 'yes' : e.state === undefined ? 'no' : `no (${e.state})`,
    terminalText(e.name),
    terminalText(e.command ?? ''),
  ])
  return [table(['WHEN', 'SOURCE', 'USER', 'ENABLED', 'NAME', 'COMMAND'], rows), ...renderDiagnostics(diagnostics)].join('\n')
}

export function renderDecision(d: Decision, line: LineFor): string {
  const verb = d.decision === 'adopt' ? 'Adopted the machine\'s value of' : 'Discarded the pending intent of'
  const lines = [`${verb} ${d.items.length} item${d.items.length === 1 ? '' : 's'} (commit ${d.commit.slice(0, 12)}):`]
  appendAll(lines, d.items.map((i) => `  ${terminalText(i.id)}  ${terminalText(i.summary)}`))
  lines.push(d.intended === null ? 'Nothing is pending any more.' : `Other items are still pending: \`${line(['status'])}\` lists them.`)
  appendAll(lines, renderDiagnostics(d.diagnostics))
  return lines.join('\n')
}

export function renderForget(r: ForgetResult): string {
  const lines: string[] = []
  for (const p of r.removed) lines.push(`Forgot ${terminalText(p)}`)
  for (const p of r.redacted) lines.push(`Redacted the findings in ${terminalText(p)}`)
  lines.push(`${r.rewritten} of ${r.commits} snapshots rewritten in ${r.repo}`)
  lines.push('')
  lines.push(
    r.mirror === null
      ? 'warning: history was rewritten (commit ids changed).'
      : `warning: history was rewritten (commit ids changed); the mirror ${r.mirror} still has the old history and needs a forced push.`,
  )
  for (const step of r.nextSteps) lines.push(`Next step: ${step}`)
  return lines.join('\n')
}

export function renderGc(r: GcReport & { repo: string }): string {
  const mib = (n: number) => `${(n / 1048576).toFixed(2)} MiB`
  return [
    `${r.repo}: ${mib(r.sizeBefore)} → ${mib(r.sizeAfter)}`,
    `${r.commitsBefore} snapshots → ${r.commitsAfter}${r.squashed > 0 ? ` (${r.squashed} volatile-only folded)` : ''}`,
  ].join('\n')
}

export function renderSchedule(r: ScheduleStatus & { action?: string; removed?: string[]; recorded?: string | null; notRecorded?: string }, line: LineFor): string {
  const lines: string[] = []
  // What enable or disable changed on the machine is adopted into the twin, or the next apply would undo it.
  const recorded =
    r.recorded !== undefined
      ? [`  twin:     recorded (${r.recorded === null ? 'already, by a snapshot' : `adopt ${r.recorded.slice(0, 12)}`}), so an apply keeps it`]
      : r.notRecorded !== undefined
        ? [`  twin:     not recorded (${r.notRecorded}); run \`${line(['snapshot'])}\`, or the next apply undoes this`]
        : []
  if (r.action === 'disabled') {
    lines.push(r.removed === undefined || r.removed.length === 0 ? 'No schedule was installed; nothing removed.' : `Schedule removed: ${r.removed.join(', ')}`)
    return [...lines, ...recorded].join('\n')
  }
  if (r.kind === 'none') return `No scheduled snapshot is installed. \`${line(['schedule', 'enable'])}\` installs one.`
  const how = r.kind === 'systemd' ? `systemd timer twinsync-snapshot.timer${r.active === false ? ' (not active)' : ''}` : 'cron entry'
  lines.push(`${r.action === 'enabled' ? 'Scheduled' : 'Scheduled snapshot'}: ${how}, ${r.kind === 'cron' ? `cron schedule "${r.every}"` : `every ${r.every}`}`)
  if (r.next !== undefined) lines.push(`  next run: ${r.next}`)
  if (r.command !== undefined) lines.push(`  runs:     ${r.command}`)
  lines.push(`  files:    ${r.files.join(', ')}`)
  if (r.apt !== undefined) lines.push(`  apt hook: ${r.apt} (a snapshot before a package operation if the machine drifted, and after it)`)
  return [...lines, ...recorded].join('\n')
}

export function renderRemoteStatus(s: RemoteStatus, line: LineFor): string {
  if (!s.configured) return `No mirror linked. Link one with \`${line(['github', 'link', 'OWNER/REPO'])}\`, \`${line(['github', 'create'])}\` or \`${line(['remote', 'set', 'URL'])}\`.`
  const what = s.kind === 'github' ? `GitHub ${s.repository}` : 'git remote'
  const lines = [`Mirror: ${what} (${s.url})`, s.pending === 0 ? 'Every snapshot is mirrored.' : `${s.pending} snapshot(s) not yet pushed.`]
  return [...lines, ...renderMirrorRefusal(s.refused), ...renderMirrorSecrets(s.url, s.mirrorSecrets, line)].join('\n')
}

/** What the last pull refused of the mirror (RemoteStatus.refused), as that pull said it: until a pull takes the mirror's branch or a push replaces it. */
function renderMirrorRefusal(refused: RemoteStatus['refused']): string[] {
  if (refused === undefined) return []
  return [
    `The mirror holds ${refused.commit.slice(0, 12)}, which the last pull (${refused.at.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}) refused: [${refused.code}] ${refused.message}`,
    ...(refused.nextStep === undefined ? [] : [`  Next step: ${refused.nextStep}`]),
  ]
}

/**
 * What today's secret rules found in what the mirror already holds (`SECRET_IN_MIRROR`): where
 * and which rule, never the value, and what to do; none when there is nothing.
 */
export function renderMirrorSecrets(url: string | null, findings: readonly PushSecretFinding[] | undefined, line: LineFor): string[] {
  if (findings === undefined || findings.length === 0) return []
  const shown = findings.slice(0, 10).map(describePushFinding).join(', ')
  const more = findings.length > 10 ? ` and ${findings.length - 10} more` : ''
  return [
    terminalText(`warning: [SECRET_IN_MIRROR] the mirror ${url ?? ''} already holds ${findings.length} secret(s) that today's secret rules find, pushed before them or brought by a pull: ${shown}${more}`),
    `  They have left this machine: change each one. Then take them out of the history with \`${line(['forget', 'PATH'])}\` (or \`${line(['forget', '--rule', 'RULE'])}\`) and replace the mirror's with \`${line(['push', '--retry', '--force'])}\`; \`${line(['remote', 'show'])}\` lists them until then.`,
  ]
}

/**
 * What a pull did, for the CLI and the TUI alike: what arrived, and after `--take-mirror` where
 * this twin's own snapshots are kept, what of this machine's record was put back on top, and the
 * edits still pending on top of what arrived.
 */
export function renderPull(p: PullOutcome, line: LineFor): string[] {
  const short = (c: string | null) => c?.slice(0, 12) ?? '(empty)'
  const edits = p.edits === undefined || p.edits.length === 0 ? [] : [`The working twin's edits stay pending on top of it (${p.edits.length} path(s): ${p.edits.slice(0, 5).map(terminalText).join(', ')}${p.edits.length > 5 ? ', …' : ''}); \`${line(['status'])}\` lists them.`]
  if (p.status === 'fast-forwarded') return [`Pulled ${p.pulled} snapshot(s): ${short(p.from)} → ${short(p.to)}.`, ...edits]
  if (p.status === 'ahead') return [`Nothing to pull; ${p.ahead} local snapshot(s) are not on the mirror yet (\`${line(['push', '--retry'])}\`).`]
  if (p.status === 'up-to-date') return ['The twin is up to date with its mirror.']
  const kept = p.kept ?? { commands: [], journals: [] }
  const record = [
    ...(kept.commands.length === 0 ? [] : [`${kept.commands.length} run-once command(s) in system/journal/commands.json`]),
    ...(kept.journals.length === 0 ? [] : [`${kept.journals.length} apply journal(s)`]),
  ]
  return [
    `Took the mirror's history: ${p.pulled} snapshot(s) from the mirror, now at ${short(p.to)}.`,
    `This twin's own history (${p.ahead} snapshot(s) the mirror lacks, up to ${short(p.from)}) is kept at ${p.keptAt ?? ''}: \`git log ${p.keptAt ?? ''}\` in the twin; \`${line(['show', 'COMMIT'])}\` and \`${line(['revert', 'COMMIT'])}\` take its commits. The last snapshot stays this machine's state: what arrived is pending until applied.`,
    ...(record.length === 0 ? [] : [`What ran on this machine was put back on top (${record.join(', ')}): the commit ${short(p.to)} says so and goes to the mirror with the next push.`]),
    ...edits,
  ]
}

/** One line for a push after a snapshot or an apply; a failure is a warning, not an error. */
export function renderPush(p: PushOutcome | undefined, line: LineFor): string[] {
  if (p === undefined || p.status === 'not-configured') return []
  const warn = (w: { code: string; message: string; nextStep: string } | undefined) => (w === undefined ? [] : [`warning: [${w.code}] ${terminalText(w.message)}`, `  ${terminalText(w.nextStep)}`])
  const audit = [...renderMirrorSecrets(p.url, p.mirrorSecrets, line), ...warn(p.mirrorHead), ...warn(p.auditNotKept)]
  if (p.status === 'pushed') return [`Pushed ${p.pushed} snapshot(s) to ${p.url}.`, ...audit]
  if (p.status === 'up-to-date') return [`The mirror ${p.url} is up to date.`, ...audit]
  return [`warning: not pushed to ${p.url}: [${p.error?.code}] ${terminalText(p.error?.message ?? '')}`, `  The snapshot is safe in the local twin. ${terminalText(p.error?.nextStep ?? `Run \`${line(['push', '--retry'])}\` later.`)}`, ...audit]
}
