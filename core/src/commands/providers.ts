import { Flags } from '@oclif/core'
import { TwinSyncCommand } from '../base-command.js'

export default class Providers extends TwinSyncCommand<typeof Providers> {
  static override summary = 'List the providers, their versions, and whether each is present on the target'
  static override examples = ['<%= config.bin %> providers', '<%= config.bin %> providers --codes', '<%= config.bin %> providers --json']
  static override flags = {
    codes: Flags.boolean({ description: "Also list each provider's own codes (FILES_…) with what each means (--json always has them)", default: false }),
  }

  async run(): Promise<void> {
    const { ProvidersWorkflow } = await import('../services/list-providers.js')
    const { renderProviders } = await import('../cli/render.js')
    const listing = await (await this.container()).resolve(ProvidersWorkflow).list()
    this.emit(listing, (l) => renderProviders(l, { codes: this.flags.codes }))
    // A plugin that failed to load (or a provider that failed to answer) is not silent: exit 1.
    if (listing.diagnostics.some((d) => d.severity === 'error')) process.exitCode = 1
  }
}
