import { Args } from '@oclif/core'
import { TwinSyncCommand } from '../base-command.js'
import { terminalLines, terminalText } from '../terminal-text.js'

export default class AptHook extends TwinSyncCommand<typeof AptHook> {
  static override hidden = true
  static override summary = 'Run by the apt hook that `twinsync schedule enable --apt` installs; always exits 0'
  static override args = {
    phase: Args.string({ description: 'pre or post', required: true, options: ['pre', 'post'] }),
  }

  async run(): Promise<void> {
    const { args } = await this.parse(AptHook)
    try {
      const { AptHookWorkflow } = await import('../services/apt-hook.js')
      const said = await (await this.container()).resolve(AptHookWorkflow).run(this.flags.root, args.phase as 'pre' | 'post')
      if (said !== undefined) process.stderr.write(`${terminalLines(said)}\n`)
    } catch (error) {
      process.stderr.write(`twinsync: no snapshot around this package operation: ${terminalText((error as Error).message.split('\n')[0] ?? '')}\n`)
    }
    process.exitCode = 0
  }
}
