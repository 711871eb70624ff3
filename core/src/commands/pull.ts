import { Flags } from '@oclif/core'
import { TwinSyncCommand } from '../base-command.js'
import { terminalLines } from '../terminal-text.js'

export default class Pull extends TwinSyncCommand<typeof Pull> {
  static override summary = 'Bring the mirror\'s snapshots here, then plan and apply them with review'
  static override description =
    'Fetches the mirror and fast-forwards the twin; diverged histories are never merged silently: it explains and lists the choices. Then it plans and applies like `twinsync apply` (asks first, unless --yes). --no-apply only updates the twin.'
  static override examples = ['<%= config.bin %> pull', '<%= config.bin %> pull --no-apply', '<%= config.bin %> pull --yes']
  static override flags = {
    'no-apply': Flags.boolean({ description: 'Only update the twin', default: false }),
    yes: Flags.boolean({ char: 'y', description: 'Apply without asking', default: false }),
  }

  async run(): Promise<void> {
    const container = await this.container()
    const { RemoteService } = await import('../remote/remote-service.js')
    const pulled = await container.resolve(RemoteService).pull()
    const say = (line: string) => (this.flags.json ? undefined : process.stdout.write(`${terminalLines(line)}\n`))
    if (pulled.status === 'fast-forwarded') say(`Pulled ${pulled.pulled} snapshot(s): ${pulled.from?.slice(0, 12) ?? '(empty)'} → ${pulled.to?.slice(0, 12)}.`)
    else if (pulled.status === 'ahead') say(`Nothing to pull; ${pulled.ahead} local snapshot(s) are not on the mirror yet (twinsync push --retry).`)
    else say('The twin is up to date with its mirror.')
    if (this.flags['no-apply']) {
      if (this.flags.json) process.stdout.write(JSON.stringify({ pull: pulled }, null, 2) + '\n')
      return
    }
    const { CliApply } = await import('../cli/apply.js')
    const outcome = await container.resolve(CliApply).run({ planFile: undefined, yes: this.flags.yes, json: this.flags.json, again: ['pull'] })
    if (this.flags.json) process.stdout.write(JSON.stringify({ pull: pulled, ...(outcome.json as object) }, null, 2) + '\n')
    process.exitCode = outcome.exitCode
  }
}
