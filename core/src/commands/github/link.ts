import { Args, Flags } from '@oclif/core'
import { TwinSyncCommand } from '../../base-command.js'

export default class GithubLink extends TwinSyncCommand<typeof GithubLink> {
  static override summary = 'Mirror the twin to an existing private GitHub repository'
  static override description =
    'Checks with the GitHub API that OWNER/REPO exists and is private, then makes it the mirror. The token comes from GITHUB_TOKEN, GH_TOKEN, --token-stdin (then kept in a 0600 credentials file outside the twin), or that file.'
  static override examples = ['<%= config.bin %> github link acme/web1-twin', 'printf %s "$TOKEN" | <%= config.bin %> github link acme/web1-twin --token-stdin']
  static override args = { repository: Args.string({ description: 'OWNER/REPO', required: true }) }
  static override flags = {
    'token-stdin': Flags.boolean({ description: 'Read the token from standard input and keep it in the credentials file', default: false }),
    'api-url': Flags.string({ description: 'GitHub API base URL, for GitHub Enterprise (default https://api.github.com)' }),
  }

  async run(): Promise<void> {
    const { args, flags } = await this.parse(GithubLink)
    const { RemoteService } = await import('../../remote/remote-service.js')
    const { tokenFromFlags } = await import('../../cli/remote.js')
    const { renderRemoteStatus } = await import('../../cli/render.js')
    const token = await tokenFromFlags(flags)
    const container = await this.container()
    const status = await container.resolve(RemoteService).linkGitHub(args.repository, {
      ...(token === undefined ? {} : { token }),
      ...(flags['api-url'] === undefined ? {} : { apiUrl: flags['api-url'] }),
    })
    const { runLines } = await import('../../plan/run-target.js')
    const line = runLines(container)
    this.emit(status, (s) => `Linked.\n${renderRemoteStatus(s, line)}\nNext: ${line(['github', 'test'])}`)
  }
}
