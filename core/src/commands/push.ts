import { Flags } from '@oclif/core'
import { TwinSyncCommand } from '../base-command.js'

export default class Push extends TwinSyncCommand<typeof Push> {
  static override summary = 'Take a snapshot and push it to the mirror (--retry: only push what is pending)'
  static override description =
    'The spec\'s "Push snapshot": collect, commit locally, then push to the linked GitHub repository or git remote. A failed push is a warning (exit 0): the snapshot is safe locally and the next push sends it.'
  static override examples = ['<%= config.bin %> push', '<%= config.bin %> push --retry']
  static override flags = {
    retry: Flags.boolean({ description: 'Take no snapshot; push the snapshots the mirror does not have yet', default: false }),
    force: Flags.boolean({ description: 'With --retry: overwrite the mirror\'s history (after `twinsync gc` rewrote it)', default: false, dependsOn: ['retry'] }),
    'if-changed': Flags.boolean({ description: 'Make no commit when only volatile facts changed', default: false }),
    label: Flags.string({ description: 'A label for this snapshot' }),
  }

  async run(): Promise<void> {
    const container = await this.container()
    const { RemoteService } = await import('../remote/remote-service.js')
    const { renderPush } = await import('../cli/render.js')
    const { runLines } = await import('../plan/run-target.js')
    if (this.flags.retry) {
      // No mirror linked: refused by the service (REMOTE_NOT_CONFIGURED, as pull and test are).
      const push = await container.resolve(RemoteService).retry({ force: this.flags.force })
      this.emit({ push }, (r) => renderPush(r.push, runLines(container)).join('\n'))
      // Pushing is the whole job here: a failure is not just a warning.
      if (push.status === 'failed') process.exitCode = 1
      return
    }
    const { SnapshotWorkflow } = await import('../services/take-snapshot.js')
    const { renderSnapshot } = await import('../cli/render-snapshot.js')
    const { cliProgress } = await import('../cli/progress.js')
    const onProgress = cliProgress(this.flags.json)
    const result = await container.resolve(SnapshotWorkflow).take({
      init: false,
      ifChanged: this.flags['if-changed'],
      ...(this.flags.label === undefined ? {} : { label: this.flags.label }),
      ...(onProgress === undefined ? {} : { onProgress }),
    })
    this.emit(result, (r) => renderSnapshot(r, runLines(container)))
  }
}
