import { Flags } from '@oclif/core'
import { SNAPSHOT_CATEGORIES } from '@twinsync/sdk/domains'
import { TwinSyncCommand } from '../base-command.js'

export default class History extends TwinSyncCommand<typeof History> {
  static override summary = 'List snapshots with what changed in each, per domain'
  static override description = 'Newest first. Marks checkpoints (◆) and applies or reverts (▶); shows labels.'
  static override examples = ['<%= config.bin %> history', '<%= config.bin %> history --domain packages --limit 5 --json']
  static override flags = {
    limit: Flags.integer({ description: 'How many snapshots', default: 20, min: 1 }),
    domain: Flags.string({ description: 'Only snapshots that changed this domain', options: [...SNAPSHOT_CATEGORIES] }),
  }

  async run(): Promise<void> {
    const { HistoryService } = await import('../history/history-service.js')
    const { renderHistory } = await import('../cli/render-history.js')
    const entries = await (await this.container()).resolve(HistoryService).history({
      limit: this.flags.limit,
      ...(this.flags.domain === undefined ? {} : { domain: this.flags.domain }),
    })
    this.emit(entries, renderHistory)
  }
}
