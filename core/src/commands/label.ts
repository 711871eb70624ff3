import { Args } from '@oclif/core'
import { TwinSyncCommand } from '../base-command.js'

export default class Label extends TwinSyncCommand<typeof Label> {
  static override summary = 'Give a snapshot a name'
  static override examples = ['<%= config.bin %> label HEAD before-upgrade']
  static override args = {
    snapshot: Args.string({ description: 'Commit or HEAD~N', required: true }),
    name: Args.string({ description: 'The label: letters, digits, ".", "_", "-"', required: true }),
  }

  async run(): Promise<void> {
    const { args } = await this.parse(Label)
    const { HistoryService } = await import('../history/history-service.js')
    const { snapshotTitle } = await import('../cli/render-history.js')
    const record = await (await this.container()).resolve(HistoryService).label(args.snapshot, args.name)
    this.emit(record, (r) => `Labelled ${snapshotTitle(r)}`)
  }
}
