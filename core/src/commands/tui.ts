import type { Logger } from '@twinsync/sdk'
import { TwinSyncError } from '@twinsync/sdk/errors'
import { TwinSyncCommand } from '../base-command.js'

export default class Tui extends TwinSyncCommand<typeof Tui> {
  static override summary = 'Open the full-screen control panel'
  static override description =
    'The menu-driven control panel, also what `twinsync` with no arguments opens on a terminal: Init / GitHub linking, Push snapshot, Pull & apply changes, History & Time Machine, Settings. Arrow keys, Enter, Esc or q to go back.'
  static override examples = ['<%= config.bin %>', '<%= config.bin %> tui --repo /srv/twin']

  async run(): Promise<void> {
    if (process.stdin.isTTY !== true || process.stdout.isTTY !== true) {
      throw new TwinSyncError('USAGE', 'The control panel needs a terminal', {
        nextStep: 'Run it in a terminal, or use the subcommands (`twinsync --help`).',
      })
    }
    // ink and React load only here, so no other command pays for them.
    const { runTuiCommand } = await import('../tui/tui-command.js')
    await runTuiCommand({ root: this.flags.root, repo: this.flags.repo, configPath: this.flags.config, oclif: this.config, logger: this.logger() })
  }

  /** Nothing may write to the terminal under the panel: messages would tear the screen. */
  protected override logger(): Logger {
    return { debug: () => undefined, info: () => undefined, warn: () => undefined }
  }
}
