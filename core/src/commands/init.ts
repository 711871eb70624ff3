import { TwinSyncCommand } from '../base-command.js'

export default class Init extends TwinSyncCommand<typeof Init> {
  static override summary = 'Create the twin repository'
  static override description =
    'Creates the twin (a Git repository, mode 0700) with the layout filesystem/, system/, plans/, scripts/ and twin.json. Running it again on an existing twin changes nothing.'
  static override examples = ['<%= config.bin %> init', '<%= config.bin %> init --repo /srv/twins/web1 --root /mnt/web1']

  async run(): Promise<void> {
    const { InitWorkflow } = await import('../services/init-twin.js')
    const result = await (await this.container()).resolve(InitWorkflow).init()
    this.emit(result, (r) =>
      r.created ? `Created the twin at ${r.repo} (commit ${r.commit?.slice(0, 12)}).\nNext: twinsync snapshot` : `The twin at ${r.repo} already exists; nothing changed.`,
    )
  }
}
