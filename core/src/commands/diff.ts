import { Args, Flags } from '@oclif/core'
import { TwinSyncCommand } from '../base-command.js'

export default class Diff extends TwinSyncCommand<typeof Diff> {
  static override summary = 'What changed between two snapshots, per domain'
  static override examples = ['<%= config.bin %> diff before-upgrade HEAD', '<%= config.bin %> diff HEAD~5 HEAD --json']
  static override args = {
    from: Args.string({ description: 'The older snapshot', required: true }),
    to: Args.string({ description: 'The newer snapshot', required: true }),
  }
  static override flags = { diff: Flags.boolean({ description: 'Include the diffs of changed files', default: false }) }

  async run(): Promise<void> {
    const { args } = await this.parse(Diff)
    const { HistoryService } = await import('../history/history-service.js')
    const { renderComparison } = await import('../cli/render-history.js')
    const comparison = await (await this.container()).resolve(HistoryService).compare(args.from, args.to, { diffs: this.flags.diff })
    this.emit(comparison, renderComparison)
  }
}
