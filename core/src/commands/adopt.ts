import { Args } from '@oclif/core'
import { TwinSyncCommand } from '../base-command.js'

export default class Adopt extends TwinSyncCommand<typeof Adopt> {
  static override summary = 'Accept live changes: take the machine\'s current value of drift items into the twin'
  static override description = 'An item is a change id from `twinsync status` (apt:install:curl), or a domain (files, packages, services, startup) or provider for all of its drift. The twin records the machine\'s value as observed, in a commit "TwinSync adopt …"; pending intent stays as it was.'
  static override examples = ['<%= config.bin %> adopt apt:remove:curl', '<%= config.bin %> adopt packages']
  static override strict = false
  static override args = {
    item: Args.string({ description: 'Change ids, domains or providers', required: true }),
  }

  async run(): Promise<void> {
    const { argv } = await this.parse(Adopt)
    const { ReconcileService } = await import('../intent/reconcile-service.js')
    const { renderDecision } = await import('../cli/render.js')
    const container = await this.container()
    const decision = await container.resolve(ReconcileService).decide('adopt', argv as string[])
    const { runLines } = await import('../plan/run-target.js')
    this.emit(decision, (d) => renderDecision(d, runLines(container)))
  }
}
