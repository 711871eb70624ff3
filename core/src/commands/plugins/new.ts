import { Args, Flags } from '@oclif/core'
import { TwinSyncCommand } from '../../base-command.js'

export default class PluginsNew extends TwinSyncCommand<typeof PluginsNew> {
  static override summary = 'Create a provider plugin to start from: package.json, tsconfig, hook, provider, its codes, conformance test, README'
  static override examples = ['<%= config.bin %> plugins new twinsync-plugin-flatpak', '<%= config.bin %> plugins new twinsync-plugin-flatpak --dir ~/src/flatpak']
  static override args = {
    name: Args.string({ description: 'npm package name: twinsync-plugin-NAME (or @scope/twinsync-plugin-NAME)', required: true }),
  }
  static override flags = {
    dir: Flags.string({ description: 'Where to create it (default: ./<name without scope>); must not exist or be empty' }),
  }

  async run(): Promise<void> {
    const { args, flags } = await this.parse(PluginsNew)
    const { scaffoldPlugin } = await import('../../services/scaffold-plugin.js')
    const result = await scaffoldPlugin(args.name, flags.dir)
    this.emit(result, (r) => [`Created ${r.dir} (provider "${r.provider}"):`, ...r.files.map((f) => `  ${f}`), '', 'Next steps:', ...r.nextSteps.map((s) => `  ${s}`)].join('\n'))
  }
}
