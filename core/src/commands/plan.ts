import { Flags } from '@oclif/core'
import { TwinSyncCommand } from '../base-command.js'

export default class PlanCommand extends TwinSyncCommand<typeof PlanCommand> {
  static override summary = 'Show what it would take to make the machine match the twin'
  static override description =
    'Reads the twin (or a snapshot with --from), collects the live machine, and prints one plan: the changes of every provider and the instructions of plans/*.yaml, in order. Changes nothing.'
  static override examples = [
    '<%= config.bin %> plan',
    '<%= config.bin %> plan --only packages,services',
    '<%= config.bin %> plan --from HEAD~3 --out /tmp/revert.json',
  ]
  static override flags = {
    from: Flags.string({ description: 'Snapshot to read the desired state from (commit, HEAD~N); default the working twin' }),
    only: Flags.string({ description: 'Comma-separated domains or providers (files, packages, services, startup, commands, apt, …)' }),
    out: Flags.string({ description: 'Also write the full plan to this file (JSON), for `twinsync apply FILE`' }),
    'no-diff': Flags.boolean({ description: 'Leave file diffs out of the text output', default: false }),
  }

  async run(): Promise<void> {
    const { PlanWorkflow } = await import('../services/make-plan.js')
    const { renderPlan } = await import('../cli/render-plan.js')
    const { cliProgress } = await import('../cli/progress.js')
    const { RunTarget } = await import('../plan/run-target.js')
    const { pathWord, twinsyncLine } = await import('../plan/command-text.js')
    const container = await this.container()
    const plans = container.resolve(PlanWorkflow)
    const onProgress = cliProgress(this.flags.json)
    const plan = await plans.plan({
      ...(onProgress === undefined ? {} : { onProgress }),
      // Applied later: an edited twin is recorded as a tree (see ApplyService.refuseIfStale).
      recordTree: this.flags.out !== undefined,
      ...(this.flags.from === undefined ? {} : { from: this.flags.from }),
      ...(this.flags.only === undefined ? {} : { only: this.flags.only.split(',').map((s) => s.trim()).filter(Boolean) }),
    })
    if (this.flags.out !== undefined) await plans.save(this.flags.out, plan)
    // Finished, but the twin has problems a provider could not plan around.
    if (plan.diagnostics.some((d) => d.severity === 'error')) process.exitCode = 1
    // The line to apply it names this run's root, twin and configuration, as every next step does (twinsyncLine).
    const out = this.flags.out
    this.emit(plan, (p) => renderPlan(p, (args) => container.resolve(RunTarget).line(args), { diffs: !this.flags['no-diff'] }) + (out === undefined ? '' : `\nPlan written to ${out}; apply it with: ${twinsyncLine(['apply', pathWord(out)], container.resolve(RunTarget).get())}`))
  }
}
