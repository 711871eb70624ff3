import { Flags } from '@oclif/core'
import { TwinSyncCommand } from '../base-command.js'
import { writeOut } from '../own-stdout.js'
import { terminalLines } from '../terminal-text.js'

export default class Pull extends TwinSyncCommand<typeof Pull> {
  static override summary = 'Bring the mirror\'s snapshots here, then plan and apply them with review'
  static override description =
    'Fetches the mirror and fast-forwards the twin; diverged histories are never merged silently: it explains and lists the choices. ' +
    'With --take-mirror, diverged histories are resolved by taking the mirror\'s: this twin\'s own snapshots stay under a ref it names, edits made here stay pending on top, and what ran here stays recorded. ' +
    'Then it plans and applies like `twinsync apply` (asks first, unless --yes). --no-apply only updates the twin.'
  static override examples = ['<%= config.bin %> pull', '<%= config.bin %> pull --no-apply', '<%= config.bin %> pull --yes', '<%= config.bin %> pull --take-mirror --no-apply']
  static override flags = {
    'no-apply': Flags.boolean({ description: 'Only update the twin', default: false }),
    'take-mirror': Flags.boolean({
      description: "When the twin and its mirror have diverged, take the mirror's history: this twin's own snapshots are kept under refs/twinsync/diverged/<time>, edits stay pending on top, what ran here stays recorded",
      default: false,
    }),
    yes: Flags.boolean({ char: 'y', description: 'Apply without asking', default: false }),
    'accept-high-risk': Flags.boolean({ description: 'With --yes: also apply the changes that run code as root or open a login (the plan names each, with its reason); on a terminal, instead of typing "yes"', default: false }),
  }

  async run(): Promise<void> {
    const container = await this.container()
    const { RemoteService } = await import('../remote/remote-service.js')
    const { renderPull } = await import('../cli/render.js')
    const { runLines } = await import('../plan/run-target.js')
    const pulled = await container.resolve(RemoteService).pull({ takeMirror: this.flags['take-mirror'] })
    if (!this.flags.json) process.stdout.write(`${terminalLines(renderPull(pulled, runLines(container)).join('\n'))}\n`)
    if (this.flags['no-apply']) {
      if (this.flags.json) writeOut(JSON.stringify({ pull: pulled }, null, 2) + '\n')
      return
    }
    const { CliApply } = await import('../cli/apply.js')
    const outcome = await container.resolve(CliApply).run({ planFile: undefined, yes: this.flags.yes, acceptHighRisk: this.flags['accept-high-risk'], json: this.flags.json, again: ['pull'] })
    if (this.flags.json) writeOut(JSON.stringify({ pull: pulled, ...(outcome.json as object) }, null, 2) + '\n')
    process.exitCode = outcome.exitCode
  }
}
