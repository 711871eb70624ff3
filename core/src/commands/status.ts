import { Flags } from '@oclif/core'
import { TwinSyncCommand } from '../base-command.js'

export default class Status extends TwinSyncCommand<typeof Status> {
  static override summary = 'Report drift (the machine moved since the last snapshot) and pending intent (the twin asks for more), per item'
  static override description = 'Read-only. Two sections: drift, what changed on the machine since the last snapshot; pending, what the twin asks for (edits, pulled changes, changes not applied yet, run-once commands of plans/ not run yet) with the reason. With --exit-code it exits 1 when there is either.'
  static override examples = ['<%= config.bin %> status', '<%= config.bin %> status --exit-code --json']
  static override flags = {
    'exit-code': Flags.boolean({ description: 'Exit 1 when there is drift or pending intent', default: false }),
    only: Flags.string({ description: 'Comma-separated domains or providers' }),
  }

  async run(): Promise<void> {
    const { StatusWorkflow, statusExitCode } = await import('../services/drift-status.js')
    const { renderStatus } = await import('../cli/render.js')
    const { cliProgress } = await import('../cli/progress.js')
    const container = await this.container()
    const status = await container.resolve(StatusWorkflow).status(this.flags.only?.split(',').map((s) => s.trim()).filter(Boolean), cliProgress(this.flags.json))
    const { runLines } = await import('../plan/run-target.js')
    this.emit(status, (s) => renderStatus(s, runLines(container)))
    // A part of the twin no provider reads is never "in sync" (the rule the TUI's status line follows too).
    process.exitCode = statusExitCode(status, this.flags['exit-code'])
  }
}
