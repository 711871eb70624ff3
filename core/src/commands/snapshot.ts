import { Flags } from '@oclif/core'
import { TwinSyncCommand } from '../base-command.js'

export default class Snapshot extends TwinSyncCommand<typeof Snapshot> {
  static override summary = 'Collect the machine into the twin and commit a snapshot'
  static override description =
    'Runs every detected provider, writes what it found into the twin and commits it; the subject says what changed per provider ("files: motd changed · apt: hello installed"), the body "TwinSync snapshot <time>". A snapshot that finds nothing changed makes no commit. When a mirror is linked, the new snapshot (and any still pending) is pushed; a failed push is a warning.'
  static override examples = ['<%= config.bin %> snapshot', '<%= config.bin %> snapshot --if-changed   # for cron/timers', '<%= config.bin %> snapshot --init --json']
  static override flags = {
    'if-changed': Flags.boolean({ description: 'Make no commit when only volatile facts (processes, logs, usage) changed', default: false }),
    init: Flags.boolean({ description: 'Create the twin first if it does not exist', default: false }),
    label: Flags.string({ description: 'A label for this snapshot, kept in its commit message' }),
  }

  async run(): Promise<void> {
    const { SnapshotWorkflow, failedProviders, notLoadedPlugins } = await import('../services/take-snapshot.js')
    const { renderSnapshot } = await import('../cli/render-snapshot.js')
    const { cliProgress } = await import('../cli/progress.js')
    const onProgress = cliProgress(this.flags.json)
    const container = await this.container()
    const result = await container.resolve(SnapshotWorkflow).take({
      init: this.flags.init,
      ifChanged: this.flags['if-changed'],
      ...(this.flags.label === undefined ? {} : { label: this.flags.label }),
      ...(onProgress === undefined ? {} : { onProgress }),
    })
    const { runLines } = await import('../plan/run-target.js')
    this.emit(result, (r) => renderSnapshot(r, runLines(container)))
    // A provider that failed to collect, a plugin that failed to load: the twin is not the machine
    // there; never a quiet exit 0 (a scheduled snapshot's unit fails; `providers`, `plan` and `status` exit 1 too).
    if (failedProviders(result).length > 0 || notLoadedPlugins(result).length > 0) process.exitCode = 1
  }
}
