import { Args, Flags } from '@oclif/core'
import { TwinSyncCommand } from '../base-command.js'
import { writeOut } from '../own-stdout.js'

export default class Rehearse extends TwinSyncCommand<typeof Rehearse> {
  static override summary = 'Apply the plan to a throwaway copy of the machine first, and report'
  static override description =
    'Boots a systemd-nspawn container over an overlay of the machine\'s root (the root read-only below, a temporary layer on top, no network), applies the plan inside it with the same applier as `twinsync apply`, restarts the units it touches, runs the checkers of the configurations it changes, compares failed units, and throws the container away. Nothing on the machine changes. Exit 0 when the rehearsal passed, 1 when it failed.'
  static override examples = ['<%= config.bin %> rehearse', '<%= config.bin %> rehearse /tmp/plan.json --json', '<%= config.bin %> rehearse --only files,services']
  static override args = {
    planfile: Args.string({ description: 'A plan written by `twinsync plan --out FILE`' }),
  }
  static override flags = {
    from: Flags.string({ description: 'Snapshot to take the desired state from, when planning now' }),
    only: Flags.string({ description: 'Comma-separated domains or providers, when planning now' }),
    network: Flags.boolean({ description: "Give the container the machine's network (default: none, only a loopback interface)", default: false }),
  }

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Rehearse)
    // --from/--only with a plan file: the USAGE refusal `apply` gives too (plan-choice.ts).
    const { planChoice } = await import('../cli/plan-choice.js')
    const choice = planChoice('rehearse', args.planfile, flags, { root: this.flags.root, repo: this.flags.repo, config: this.flags.config })
    const { CliRehearsal } = await import('../cli/rehearse.js')
    const outcome = await (await this.container()).resolve(CliRehearsal).run({
      planFile: args.planfile,
      json: this.flags.json,
      network: flags.network ? 'host' : 'none',
      ...choice,
    })
    if (this.flags.json) writeOut(JSON.stringify(outcome.json, null, 2) + '\n')
    process.exitCode = outcome.exitCode
  }
}
