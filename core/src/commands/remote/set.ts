import { Args, Flags } from '@oclif/core'
import { TwinSyncCommand } from '../../base-command.js'

export default class RemoteSet extends TwinSyncCommand<typeof RemoteSet> {
  static override summary = 'Mirror the twin to any git remote (HTTPS, SSH, or a path such as an NFS mount)'
  static override description = 'For an HTTPS remote the token, when there is one, is sent the same way as for GitHub; it never goes into the URL.'
  static override examples = ['<%= config.bin %> remote set https://git.example.org/ops/web1-twin.git --token-stdin', '<%= config.bin %> remote set /mnt/nfs/twins/web1.git']
  static override args = { url: Args.string({ description: 'Remote URL or path', required: true }) }
  static override flags = { 'token-stdin': Flags.boolean({ description: 'Read a token from standard input and keep it in the credentials file', default: false }) }

  async run(): Promise<void> {
    const { args, flags } = await this.parse(RemoteSet)
    const { RemoteService } = await import('../../remote/remote-service.js')
    const { tokenFromFlags } = await import('../../cli/remote.js')
    const { renderRemoteStatus } = await import('../../cli/render.js')
    const container = await this.container()
    const status = await container.resolve(RemoteService).setGitRemote(args.url, await tokenFromFlags(flags))
    const { runLines } = await import('../../plan/run-target.js')
    this.emit(status, (s) => `Mirror set.\n${renderRemoteStatus(s, runLines(container))}`)
  }
}
