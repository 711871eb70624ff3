import { Args, Flags } from '@oclif/core'
import { TwinSyncCommand } from '../base-command.js'

export default class Forget extends TwinSyncCommand<typeof Forget> {
  static override summary = 'Remove a path, or every finding of a secret rule, from the whole twin history'
  static override description =
    'Rewrites every snapshot without the given paths (a machine path like /etc/app.conf means its mirrored copy; a twin path like system/logs/journal.txt is taken as is; folders too). With --rule, every finding of that detector rule is forgotten: a mirrored file holding one is removed, other documents keep their lines with the value redacted. Labels move along. History is rewritten: a linked mirror needs a forced push afterwards (`twinsync push --retry --force`).'
  static override strict = false
  static override examples = [
    '<%= config.bin %> forget /etc/postfix/sasl_passwd',
    '<%= config.bin %> forget /etc/myapp/my.cnf system/logs/journal.txt',
    '<%= config.bin %> forget --rule credential-assignment',
  ]
  static override args = {
    path: Args.string({ description: 'Machine or twin paths to remove from every snapshot', required: false }),
  }
  static override flags = {
    rule: Flags.string({ description: 'A secret detector rule whose findings to forget ("any" for all); repeatable', multiple: true }),
  }

  async run(): Promise<void> {
    const { argv } = await this.parse(Forget)
    const { ForgetWorkflow } = await import('../services/run-forget.js')
    const { renderForget } = await import('../cli/render.js')
    const result = await (await this.container()).resolve(ForgetWorkflow).forget({ paths: argv as string[], rules: this.flags.rule ?? [] })
    this.emit(result, renderForget)
  }
}
