import { Args, Flags } from '@oclif/core'
import { TwinSyncCommand } from '../base-command.js'

export default class Show extends TwinSyncCommand<typeof Show> {
  static override summary = 'What one snapshot changed: packages, services, startup entries, files'
  static override examples = ['<%= config.bin %> show HEAD', '<%= config.bin %> show before-upgrade --diff']
  static override args = { snapshot: Args.string({ description: 'Commit, label, or HEAD~N', required: true }) }
  static override flags = { diff: Flags.boolean({ description: 'Include the diffs of changed files', default: false }) }

  async run(): Promise<void> {
    const { args } = await this.parse(Show)
    const { HistoryService } = await import('../history/history-service.js')
    const { renderComparison } = await import('../cli/render-history.js')
    const comparison = await (await this.container()).resolve(HistoryService).show(args.snapshot, { diffs: this.flags.diff })
    this.emit(comparison, renderComparison)
  }
}
