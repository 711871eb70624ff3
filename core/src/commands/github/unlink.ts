import { Flags } from '@oclif/core'
import { TwinSyncCommand } from '../../base-command.js'

export default class GithubUnlink extends TwinSyncCommand<typeof GithubUnlink> {
  static override summary = 'Stop mirroring the twin (the local twin and the remote repository are kept)'
  static override aliases = ['remote:unset']
  static override flags = { 'forget-token': Flags.boolean({ description: 'Also delete the saved token', default: false }) }

  async run(): Promise<void> {
    const { RemoteService } = await import('../../remote/remote-service.js')
    await (await this.container()).resolve(RemoteService).unlink({ forgetToken: this.flags['forget-token'] })
    this.emit({ unlinked: true }, () => 'Unlinked; snapshots stay local only.')
  }
}
