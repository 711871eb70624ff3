import type { Plan } from '@twinsync/sdk'
import { inject, injectable } from '../di.js'
import { renderPlan } from './render-plan.js'
import { RehearsalService } from '../rehearse/rehearsal-service.js'
import type { RehearsalReport } from '../rehearse/rehearsal-report.js'
import { renderRehearsal } from './render-rehearsal.js'
import { PlanWorkflow } from '../services/make-plan.js'
import { RunTarget } from '../plan/run-target.js'
import { cliProgress } from './progress.js'
import { terminalLines } from '../terminal-text.js'

export interface RunRehearseOptions {
  planFile: string | undefined
  json: boolean
  from?: string
  only?: string[]
  network?: 'none' | 'host'
}

/**
 * Rehearsal on the command line: the plan, the stages on stderr, the report; interruptible.
 * Resolved from the command's container with its two dependencies.
 */
@injectable()
export class CliRehearsal {
  constructor(
    @inject(PlanWorkflow) private readonly plans: PlanWorkflow,
    @inject(RehearsalService) private readonly rehearsals: RehearsalService,
    @inject(RunTarget) private readonly target: RunTarget,
  ) {}

  /** Refuse before anything is planned when a rehearsal cannot run here (not root, no nspawn, …). */
  preflight(): Promise<void> {
    return this.rehearsals.preflight()
  }

  /**
   * Rehearse `plan`, interruptible: Ctrl-C, SIGTERM or SIGHUP take the container down before
   * TwinSync exits (and if TwinSync is killed outright, the container's supervisor does it by
   * itself).
   */
  async withSignals(plan: Plan, options: { json: boolean; network?: 'none' | 'host' }): Promise<RehearsalReport> {
    const controller = new AbortController()
    const onSignal = (signal: NodeJS.Signals) => {
      if (!options.json) process.stderr.write(`\n${signal}: taking the rehearsal container down…\n`)
      controller.abort()
    }
    const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP']
    for (const s of signals) process.on(s, onSignal)
    try {
      return await this.rehearsals.rehearse({
        plan,
        signal: controller.signal,
        ...(options.network === undefined ? {} : { network: options.network }),
        onStage: (stage) => {
          if (options.json) return
          const text = { boot: 'Booting a throwaway copy of the machine…', apply: 'Applying the plan inside it…', teardown: 'Throwing the copy away…' }[stage]
          process.stderr.write(`${text}\n`)
        },
      })
    } finally {
      for (const s of signals) process.off(s, onSignal)
    }
  }

  /** `twinsync rehearse`: plan (or read a saved plan), show it, rehearse it, report. */
  async run(options: RunRehearseOptions): Promise<{ exitCode: number; json: unknown }> {
    await this.preflight()
    const onProgress = cliProgress(options.json)
    const plan = await this.plans.toApply({
      ...(options.planFile === undefined ? {} : { planFile: options.planFile }),
      ...(options.from === undefined ? {} : { from: options.from }),
      ...(options.only === undefined ? {} : { only: options.only }),
      ...(onProgress === undefined ? {} : { onProgress }),
    })
    if (!options.json) process.stdout.write(`${terminalLines(renderPlan(plan, (args) => this.target.line(args)))}\n\n`)
    if (plan.changes.length === 0) {
      if (!options.json) process.stdout.write('Nothing to rehearse: the plan has no changes.\n')
      return { exitCode: 0, json: { plan, rehearsal: null, reason: 'no changes' } }
    }
    const report = await this.withSignals(plan, options)
    if (!options.json) process.stdout.write(`${terminalLines(renderRehearsal(report))}\n`)
    return { exitCode: report.passed ? 0 : 1, json: { plan, rehearsal: report } }
  }
}
