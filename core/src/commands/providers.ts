import { TwinSyncCommand } from '../base-command.js'

export default class Providers extends TwinSyncCommand<typeof Providers> {
  static override summary = 'List the providers, their versions, and whether each is present on the target'
  static override examples = ['<%= config.bin %> providers', '<%= config.bin %> providers --json']

  async run(): Promise<void> {
    const { listProviders, renderProviders } = await import('../services/list-providers.js')
    this.emit(await listProviders(await this.container()), renderProviders)
  }
}
