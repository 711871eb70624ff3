import { Args } from '@oclif/core'
import { TwinSyncCommand } from '../base-command.js'

export default class Discard extends TwinSyncCommand<typeof Discard> {
  static override summary = 'Drop pending intent: the twin stops asking for these items'
  static override description = 'An item is a change id from `twinsync status` (apt:install:hello), or a domain (files, packages, services, startup) or provider for all of its pending intent. The twin goes back to the value last observed for them, and a commit "TwinSync discard …" records the decision; the intent before stays in the reflog of refs/twinsync/intended.'
  static override examples = ['<%= config.bin %> discard apt:install:hello', '<%= config.bin %> discard files']
  static override strict = false
  static override args = {
    item: Args.string({ description: 'Change ids, domains or providers', required: true }),
  }

  async run(): Promise<void> {
    const { argv } = await this.parse(Discard)
    const { ReconcileService } = await import('../intent/reconcile-service.js')
    const { renderDecision } = await import('../cli/render.js')
    const container = await this.container()
    const decision = await container.resolve(ReconcileService).decide('discard', argv as string[])
    const { runLines } = await import('../plan/run-target.js')
    this.emit(decision, (d) => renderDecision(d, runLines(container)))
  }
}
