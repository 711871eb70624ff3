import { Flags } from '@oclif/core'
import { TwinSyncCommand } from '../base-command.js'

export default class Gc extends TwinSyncCommand<typeof Gc> {
  static override summary = 'Report and reduce the size of the twin repository'
  static override description =
    'Packs and prunes the repository. With --squash-volatile-older-than DAYS, old snapshots whose only changes were volatile facts (processes, logs, usage) are folded into the next snapshot; labelled snapshots, checkpoints, applies and reverts are kept. That rewrites history: a mirror needs a forced push afterwards.'
  static override examples = ['<%= config.bin %> gc', '<%= config.bin %> gc --squash-volatile-older-than 30']
  static override flags = {
    'squash-volatile-older-than': Flags.integer({ description: 'Fold volatile-only snapshots older than this many days', min: 0 }),
  }

  async run(): Promise<void> {
    const { GcWorkflow } = await import('../services/run-gc.js')
    const { renderGc } = await import('../cli/render.js')
    const days = this.flags['squash-volatile-older-than']
    this.emit(await (await this.container()).resolve(GcWorkflow).gc(days), renderGc)
  }
}
