import { Args, Flags } from '@oclif/core'
import { TwinSyncCommand } from '../base-command.js'
import { writeOut } from '../own-stdout.js'

export default class Revert extends TwinSyncCommand<typeof Revert> {
  static override summary = 'Bring the machine back to a snapshot, after you approve the plan'
  static override description =
    'Plans the changes that make the machine match the snapshot (files, packages, services, startup; instructions in plans/ are not run again), shows them, asks, and applies like `twinsync apply`, with a checkpoint first. History shows the revert.'
  static override examples = ['<%= config.bin %> revert before-upgrade', '<%= config.bin %> revert HEAD~3 --yes']
  static override args = { snapshot: Args.string({ description: 'Commit, label, or HEAD~N', required: true }) }
  static override flags = {
    yes: Flags.boolean({ char: 'y', description: 'Apply without asking (required when not on a terminal)', default: false }),
    'accept-high-risk': Flags.boolean({ description: 'With --yes: also apply the changes that run code as root or open a login (the plan names each, with its reason); on a terminal, instead of typing "yes"', default: false }),
  }

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Revert)
    const { CliApply } = await import('../cli/apply.js')
    const { HistoryService } = await import('../history/history-service.js')
    const container = await this.container()
    const revert = await container.resolve(HistoryService).resolve(args.snapshot)
    const outcome = await container.resolve(CliApply).run({
      planFile: undefined,
      yes: flags.yes,
      acceptHighRisk: flags['accept-high-risk'],
      json: this.flags.json,
      revert,
      again: ['revert', args.snapshot],
    })
    if (this.flags.json) writeOut(JSON.stringify(outcome.json, null, 2) + '\n')
    process.exitCode = outcome.exitCode
  }
}
