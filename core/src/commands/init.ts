import { Flags } from '@oclif/core'
import { TwinSyncCommand } from '../base-command.js'

export default class Init extends TwinSyncCommand<typeof Init> {
  static override summary = 'Create the twin repository'
  static override description =
    'Creates the twin (a Git repository, mode 0700) with the layout filesystem/, system/, plans/, scripts/ and twin.json. Running it again on an existing twin changes nothing.'
  static override examples = ['<%= config.bin %> init', '<%= config.bin %> init --repo /srv/twins/web1 --root /mnt/web1', '<%= config.bin %> init --claim']
  static override flags = {
    claim: Flags.boolean({
      description: 'Take over an existing twin made of another machine (this one reinstalled or restored, or meant to become a copy): apply, snapshot and pull then take it as this machine\'s own',
      default: false,
    }),
  }

  async run(): Promise<void> {
    const { InitWorkflow } = await import('../services/init-twin.js')
    const container = await this.container()
    const workflow = container.resolve(InitWorkflow)
    const { RunTarget } = await import('../plan/run-target.js')
    const line = (args: readonly string[], repo: string) => container.resolve(RunTarget).line(args, repo)
    if (this.flags.claim) {
      this.emit(await workflow.claim(), (r) =>
        r.claimed === undefined
          ? `The twin at ${r.repo} already is this machine's; nothing changed.`
          : `The twin at ${r.repo} (made of machine id ${r.claimed.twin.slice(0, 12)}…) is now the target's (machine id ${r.claimed.machine.slice(0, 12)}…).\nNext: ${line(['plan'], r.repo)} — review what it would change here before applying.`,
      )
      return
    }
    const result = await workflow.init()
    this.emit(result, (r) =>
      r.created ? `Created the twin at ${r.repo} (commit ${r.commit?.slice(0, 12)}).\nNext: ${line(['snapshot'], r.repo)}` : `The twin at ${r.repo} already exists; nothing changed.`,
    )
  }
}
