import { Args, Flags } from '@oclif/core'
import { TwinSyncCommand } from '../../base-command.js'

export default class GithubCreate extends TwinSyncCommand<typeof GithubCreate> {
  static override summary = 'Create a private GitHub repository for the twin and link it'
  static override description = 'The name defaults to twin-<hostname>. The repository is always created private.'
  static override examples = ['<%= config.bin %> github create', '<%= config.bin %> github create web1-twin --org acme']
  static override args = { name: Args.string({ description: 'Repository name (default twin-<hostname>)' }) }
  static override flags = {
    org: Flags.string({ description: 'Create it in this organisation instead of your account' }),
    'token-stdin': Flags.boolean({ description: 'Read the token from standard input and keep it in the credentials file', default: false }),
    'api-url': Flags.string({ description: 'GitHub API base URL, for GitHub Enterprise' }),
  }

  async run(): Promise<void> {
    const { args, flags } = await this.parse(GithubCreate)
    const { RemoteService } = await import('../../remote/remote-service.js')
    const { tokenFromFlags } = await import('../../cli/remote.js')
    const { renderRemoteStatus } = await import('../../cli/render.js')
    const token = await tokenFromFlags(flags)
    const container = await this.container()
    const { machineIdentity } = await import('../../twin/machine-identity.js')
    const { Tokens } = await import('../../tokens.js')
    const identity = await machineIdentity(container.resolve(Tokens.Host))
    const status = await container.resolve(RemoteService).createGitHub(args.name, {
      hostname: identity.hostname,
      ...(token === undefined ? {} : { token }),
      ...(flags.org === undefined ? {} : { org: flags.org }),
      ...(flags['api-url'] === undefined ? {} : { apiUrl: flags['api-url'] }),
    })
    const { runLines } = await import('../../plan/run-target.js')
    const line = runLines(container)
    this.emit(status, (s) => `Created and linked.\n${renderRemoteStatus(s, line)}\nNext: ${line(['push', '--retry'])}`)
  }
}
