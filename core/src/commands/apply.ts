import { Args, Flags } from '@oclif/core'
import { TwinSyncCommand } from '../base-command.js'
import { writeOut } from '../own-stdout.js'

export default class Apply extends TwinSyncCommand<typeof Apply> {
  static override summary = 'Make the machine match the twin, after you approve the plan'
  static override description =
    'Plans (or reads a plan saved with `twinsync plan --out`), shows it and asks "Apply these changes? [y/N]". Before changing anything it takes a checkpoint snapshot; afterwards it commits a snapshot with the journal of every step. A saved plan is refused when the machine changed since it was made.'
  static override examples = ['<%= config.bin %> apply', '<%= config.bin %> apply /tmp/plan.json --yes', '<%= config.bin %> apply --only packages', '<%= config.bin %> apply --rehearse']
  static override args = {
    planfile: Args.string({ description: 'A plan written by `twinsync plan --out FILE`' }),
  }
  static override flags = {
    yes: Flags.boolean({ char: 'y', description: 'Apply without asking (required when not on a terminal)', default: false }),
    'accept-high-risk': Flags.boolean({ description: 'With --yes: also apply the changes that run code as root or open a login (the plan names each, with its reason); on a terminal, instead of typing "yes"', default: false }),
    from: Flags.string({ description: 'Snapshot to take the desired state from, when planning now' }),
    only: Flags.string({ description: 'Comma-separated domains or providers, when planning now' }),
    rehearse: Flags.boolean({ description: 'Rehearse the plan on a throwaway copy of the machine first (see `twinsync rehearse`); apply only when the rehearsal passed', default: false }),
    network: Flags.boolean({ description: "With --rehearse: give the rehearsal container the machine's network", default: false, dependsOn: ['rehearse'] }),
  }

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Apply)
    // --from/--only with a plan file: the USAGE refusal `rehearse` gives too (plan-choice.ts).
    const { planChoice } = await import('../cli/plan-choice.js')
    const choice = planChoice('apply', args.planfile, flags, { root: this.flags.root, repo: this.flags.repo, config: this.flags.config })
    const { CliApply } = await import('../cli/apply.js')
    const outcome = await (await this.container()).resolve(CliApply).run({
      planFile: args.planfile,
      yes: flags.yes,
      acceptHighRisk: flags['accept-high-risk'],
      json: this.flags.json,
      rehearse: flags.rehearse,
      ...(flags.network ? { network: 'host' as const } : {}),
      ...choice,
    })
    if (this.flags.json) writeOut(JSON.stringify(outcome.json, null, 2) + '\n')
    process.exitCode = outcome.exitCode
  }
}
