import { TwinSyncCommand } from '../../base-command.js'

export default class RemoteShow extends TwinSyncCommand<typeof RemoteShow> {
  static override summary = 'Show the mirror and how many snapshots are not yet pushed'

  async run(): Promise<void> {
    const { RemoteService } = await import('../../remote/remote-service.js')
    const { renderRemoteStatus } = await import('../../cli/render.js')
    const container = await this.container()
    const { runLines } = await import('../../plan/run-target.js')
    this.emit(await container.resolve(RemoteService).status(), (s) => renderRemoteStatus(s, runLines(container)))
  }
}
