import { createInterface } from 'node:readline/promises'
import type { Change, ChangeResult, Diagnostic } from '@twinsync/sdk'
import { TwinSyncError } from '@twinsync/sdk/light'
import { pathWord, twinsyncLine } from '../plan/command-text.js'
import { RunTarget } from '../plan/run-target.js'
import { ApplyService } from '../apply/apply-service.js'
import { HIGH_RISK_ANSWER, highRiskChanges, highRiskLines, refuseUnacceptedHighRisk } from '../apply/high-risk.js'
import { finishesInterruptedApply } from '../apply/resume.js'
import { journalDiagnostics } from '../apply/journal.js'
import { TwinRepository } from '../twin/twin-repository.js'
import { inject, injectable } from '../di.js'
import type { SnapshotRecord } from '../history/snapshot-log.js'
import { renderPlan } from './render-plan.js'
import { PlanWorkflow } from '../services/make-plan.js'
import { cliProgress } from './progress.js'
import { renderDiagnostics, stepNoteLines } from './render-diagnostics.js'
import { renderPush } from './render.js'
import { formatUserError } from '../base-command.js'
import type { RehearsalReport } from '../rehearse/rehearsal-report.js'
import { rehearsalRefusal } from '../rehearse/rehearsal-service.js'
import { renderRehearsal } from './render-rehearsal.js'
import { CliRehearsal } from './rehearse.js'
import { terminalLines, terminalText } from '../terminal-text.js'

export interface RunApplyOptions {
  planFile: string | undefined
  yes: boolean
  /** Also apply the changes that run code as root or open a login (high-risk.ts) without typing "yes": with --yes, what a script passes. */
  acceptHighRisk?: boolean
  json: boolean
  from?: string
  only?: string[]
  /** Revert to this snapshot (`HistoryService.resolve`): plan every state domain from it, without the instructions. */
  revert?: SnapshotRecord
  /** Rehearse the plan in a throwaway container first; apply only when the rehearsal passed. */
  rehearse?: boolean
  /** The command to run again with --yes, when approval is needed and there is no terminal (default: this apply's). */
  again?: string[]
  /** The rehearsal container's network: none (default) or the machine's. */
  network?: 'none' | 'host'
}

const diagnosticKey = (d: Diagnostic) => `${d.change ?? ''}\0${d.code}\0${d.summary}`

const MARK: Record<ChangeResult['status'], string> = { applied: 'applied  ', unchanged: 'unchanged', failed: 'FAILED   ', skipped: 'skipped  ' }

/**
 * The apply flow of the command line: plan, show, ask, apply with live results, all under the
 * twin lock, taken first: a second run is refused with LOCK_HELD before it plans anything.
 * Resolved from the command's container with its dependencies (apply, revert, pull).
 */
@injectable()
export class CliApply {
  constructor(
    @inject(TwinRepository) private readonly twin: TwinRepository,
    @inject(PlanWorkflow) private readonly plans: PlanWorkflow,
    @inject(ApplyService) private readonly service: ApplyService,
    @inject(CliRehearsal) private readonly rehearsal: CliRehearsal,
    @inject(RunTarget) private readonly target: RunTarget,
  ) {}

  async run(options: RunApplyOptions): Promise<{ exitCode: number; json: unknown }> {
    // A rehearsal that cannot run here is refused before anything else (the twin, the plan).
    if (options.rehearse === true) await this.rehearsal.preflight()
    await this.twin.open()
    return this.twin.lock().hold('apply', () => this.runLocked(options))
  }

  private async runLocked(options: RunApplyOptions): Promise<{ exitCode: number; json: unknown }> {
    const onProgress = cliProgress(options.json)
    const revert = options.revert
    const plan = await this.plans.toApply({
      ...(options.planFile === undefined ? {} : { planFile: options.planFile }),
      ...(revert === undefined ? {} : { revert }),
      ...(options.from === undefined ? {} : { from: options.from }),
      ...(options.only === undefined ? {} : { only: options.only }),
      ...(onProgress === undefined ? {} : { onProgress }),
    })
    if (revert !== undefined && !options.json) process.stdout.write(`Revert to ${revert.commit.slice(0, 12)} ${terminalText(revert.message)}${revert.labels.length ? ` (${terminalText(revert.labels.join(', '))})` : ''}\n`)
    const say = (line: string) => (options.json ? undefined : process.stdout.write(`${terminalLines(line)}\n`))
    say(renderPlan(plan, (args) => this.target.line(args)))
    const service = this.service
    // Refused before asking; ApplyService.apply refuses it again whoever calls.
    service.refuseIfPlanHasErrors(plan)
    await service.refuseOutsideScope(plan)
    // An interrupted apply whose changes are all in place still ends properly: snapshot, record gone.
    const finishing = finishesInterruptedApply(plan)
    if (plan.changes.length === 0 && !finishing) return { exitCode: 0, json: { plan, applied: false, reason: 'no changes' } }

    // Changes that run code as root or open a login: accepted by name, never by --yes alone (one rule: ApplyService refuses them too).
    const again = options.again ?? ['apply', ...(options.planFile === undefined ? [] : [pathWord(options.planFile)]), ...(options.from === undefined ? [] : ['--from', options.from]), ...(options.only === undefined ? [] : ['--only', options.only.join(',')])]
    const line = (args: string[]) => twinsyncLine([...again, ...args], this.target.get())
    const high = highRiskChanges(plan.changes)
    let acceptHighRisk = options.acceptHighRisk === true
    if (options.yes && !acceptHighRisk) refuseUnacceptedHighRisk(plan, false, line(['--yes', '--accept-high-risk']), this.target.get())

    let rehearsal: RehearsalReport | undefined
    if (options.rehearse === true && plan.changes.length > 0) {
      rehearsal = await this.rehearsal.withSignals(plan, { json: options.json, ...(options.network === undefined ? {} : { network: options.network }) })
      say(`\n${renderRehearsal(rehearsal)}`)
      const refused = rehearsalRefusal(rehearsal, (args) => this.target.line(args))
      if (refused !== undefined) {
        if (!options.json) process.stderr.write(formatUserError(refused))
        return { exitCode: refused.exitCode, json: { plan, rehearsal, applied: false, reason: 'rehearsal failed', error: refused.toJSON() } }
      }
    }

    // A person's approval takes as long as it takes: the lock keeps other runs out, not the
    // person's editor or git, nor another admin on the machine (see ApplyOptions.fromFile).
    const asked = !options.yes && !finishing
    if (asked) {
      const typed = high.length > 0 && !acceptHighRisk
      if (process.stdin.isTTY !== true || options.json) {
        throw new TwinSyncError('CONFIRMATION_REQUIRED', 'Applying needs your approval, and there is no terminal to ask on', {
          nextStep: typed
            ? `Review the plan above (${high.length} change${high.length === 1 ? '' : 's'} run${high.length === 1 ? 's' : ''} code as root or open${high.length === 1 ? 's' : ''} a login), then run \`${line(['--yes', '--accept-high-risk'])}\`.`
            : `Review the plan above, then run \`${line(['--yes'])}\`.`,
        })
      }
      if (typed) say(`\n${highRiskLines(plan.changes).join('\n')}`)
      const rl = createInterface({ input: process.stdin, output: process.stdout })
      const answer = (await rl.question(typed ? `\nApply these changes, the ${high.length} above included? Type "${HIGH_RISK_ANSWER}" to apply: ` : '\nApply these changes? [y/N] ')).trim().toLowerCase()
      rl.close()
      if (typed && answer === HIGH_RISK_ANSWER) acceptHighRisk = true
      if (typed ? answer !== HIGH_RISK_ANSWER : answer !== 'y' && answer !== 'yes') {
        say('Not applied; nothing was changed.')
        return { exitCode: 0, json: { plan, applied: false, reason: 'declined' } }
      }
    }

    // Ctrl-C stops between steps (nothing is left half-written); a second one ends at once.
    const controller = new AbortController()
    const onSigint = () => {
      if (controller.signal.aborted) process.exit(130)
      controller.abort()
      process.stderr.write('\nStopping after the steps under way; press Ctrl-C again to quit at once.\n')
    }
    process.on('SIGINT', onSigint)
    try {
      say('')
      const shown = new Set<string>()
      const report = await service.apply({
        plan,
        fromFile: options.planFile !== undefined || asked,
        ofWorkingTwin: options.planFile === undefined && revert === undefined && options.from === undefined,
        acceptHighRisk,
        acceptAgain: line(['--yes', '--accept-high-risk']),
        ...(options.only === undefined ? {} : { only: options.only }),
        ...(revert === undefined ? {} : { revertTo: revert.commit }),
        signal: controller.signal,
        onResult: (change: Change, result: ChangeResult) => {
          say(`  ${MARK[result.status]}  ${terminalText(change.summary)}${result.message && result.status !== 'applied' ? `: ${terminalText(result.message)}` : ''}`)
          // A failed step's own output (a checker's complaint, a command's error) is what to fix.
          if (result.status === 'failed' && result.outputTail) for (const line of result.outputTail.split('\n')) say(`       | ${line}`)
          // What the provider said about this change, right beneath it.
          for (const d of result.diagnostics ?? []) {
            shown.add(diagnosticKey(d))
            if (d.severity !== 'info') for (const line of stepNoteLines(d)) say(`               ${line}`)
          }
        },
      })
      // Said after the results came in (about a change, or about the provider's apply as a whole).
      const later = journalDiagnostics(report.journal).filter((d) => !shown.has(diagnosticKey(d)))
      const summaryOf = new Map(plan.changes.map((ch) => [ch.id, ch.summary]))
      for (const line of renderDiagnostics(later.map((d) => (d.change === undefined ? d : { ...d, summary: `${d.summary} [${summaryOf.get(d.change) ?? d.change}]` })))) say(line)
      const c = report.journal.counts
      say(`\n${c.applied} applied, ${c.unchanged} unchanged, ${c.failed} failed, ${c.skipped} skipped.`)
      if (report.checkpoint) say(`Checkpoint before the apply: ${report.checkpoint.slice(0, 12)} (the machine as it was).`)
      if (report.commit) say(`Snapshot after the apply: ${report.commit.slice(0, 12)}, journal in ${report.journalPath}.`)
      if (report.journal.interrupted) say('The apply was interrupted; the journal says what was done.')
      if (report.continued === true) say('This finished the apply that was interrupted.')
      if ((report.tempFilesRemoved ?? []).length > 0) say(`Removed temporary files the interrupted apply left behind: ${(report.tempFilesRemoved ?? []).join(', ')}`)
      const { push, ...rest } = report
      for (const line of renderPush(push, (args) => this.target.line(args))) say(line)
      return { exitCode: report.exitCode, json: { plan, ...(rehearsal === undefined ? {} : { rehearsal }), applied: true, ...rest, ...(push.status === 'not-configured' ? {} : { push }) } }
    } finally {
      process.off('SIGINT', onSigint)
    }
  }
}
