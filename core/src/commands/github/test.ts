import { TwinSyncCommand } from '../../base-command.js'

export default class GithubTest extends TwinSyncCommand<typeof GithubTest> {
  static override summary = 'Check the token, the repository, that it is private, and that a push would work'

  async run(): Promise<void> {
    const { RemoteService } = await import('../../remote/remote-service.js')
    const checks = await (await this.container()).resolve(RemoteService).test()
    this.emit({ ok: checks.every((c) => c.ok), checks }, (r) => r.checks.map((c) => `${c.ok ? 'ok  ' : 'FAIL'}  ${c.check.padEnd(10)} ${c.detail}`).join('\n'))
    if (!checks.every((c) => c.ok)) process.exitCode = 1
  }
}
