import { Flags } from '@oclif/core'
import { TwinSyncCommand } from '../base-command.js'

export default class Status extends TwinSyncCommand<typeof Status> {
  static override summary = 'Report where the machine differs from the twin, per domain'
  static override description = 'A read-only drift report: what a plan would change, counted per domain. With --exit-code it exits 1 when there is drift.'
  static override examples = ['<%= config.bin %> status', '<%= config.bin %> status --exit-code --json']
  static override flags = {
    'exit-code': Flags.boolean({ description: 'Exit 1 when the machine differs from the twin', default: false }),
    only: Flags.string({ description: 'Comma-separated domains or providers' }),
  }

  async run(): Promise<void> {
    const { driftStatus, renderStatus } = await import('../services/drift-status.js')
    const status = await driftStatus(await this.container(), this.flags.only?.split(',').map((s) => s.trim()).filter(Boolean))
    this.emit(status, renderStatus)
    if (this.flags['exit-code'] && status.drift) process.exitCode = 1
  }
}
