import { TwinSyncCommand } from '../base-command.js'

export default class ConfigCommand extends TwinSyncCommand<typeof ConfigCommand> {
  static override summary = 'Print the effective configuration'
  static override description =
    'Reads /etc/twinsync/config.yaml (root) or ~/.config/twinsync/config.yaml, validates it, and prints every setting with its default filled in.'
  static override examples = ['<%= config.bin %> config', '<%= config.bin %> config --json']

  async run(): Promise<void> {
    const { ConfigWorkflow } = await import('../services/effective-config.js')
    const config = await (await this.container()).resolve(ConfigWorkflow).effective()
    const { stringify } = await import('yaml')
    this.emit(config, (c) => stringify(c))
  }
}
