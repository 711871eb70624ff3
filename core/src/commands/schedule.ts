import { Args, Flags } from '@oclif/core'
import { TwinSyncCommand } from '../base-command.js'
import type { ScheduleResult } from '../services/schedule.js'

export default class Schedule extends TwinSyncCommand<typeof Schedule> {
  static override summary = 'Take snapshots automatically: install, remove or show a systemd timer (cron without systemd)'
  static override description =
    'enable writes twinsync-snapshot.timer and .service under /etc/systemd/system (or /etc/cron.d/twinsync on a machine without systemd) that run `twinsync snapshot --if-changed` with the --repo/--config given here, using absolute paths to node and twinsync; with a mirror linked each scheduled snapshot is pushed. disable removes every file enable wrote. status says what is installed and when it runs next.'
  static override examples = ['<%= config.bin %> schedule enable --every 1h', '<%= config.bin %> schedule status', '<%= config.bin %> schedule disable', '<%= config.bin %> schedule enable --root /mnt/image']
  static override args = {
    action: Args.string({ description: 'enable, disable or status', required: true, options: ['enable', 'disable', 'status'] }),
  }
  static override flags = {
    every: Flags.string({ description: 'How often to snapshot: 30s, 15min, 1h, 1d', default: '1h' }),
    apt: Flags.boolean({ description: 'Also snapshot before (if drifted) and after every apt/dpkg run, named after the operation', default: false }),
  }

  async run(): Promise<void> {
    const { args } = await this.parse(Schedule)
    const { enableSchedule, disableSchedule, scheduleStatus } = await import('../services/schedule.js')
    const { renderSchedule } = await import('../cli/render.js')
    const { runLines } = await import('../plan/run-target.js')
    const container = await this.container()
    const { TwinRepository } = await import('../twin/twin-repository.js')
    const { realpath } = await import('node:fs/promises')
    const { resolve } = await import('node:path')
    const root = await realpath(this.flags.root)
    // For this machine, paths are made absolute; with --root they are paths as the target sees them.
    const abs = (p: string | undefined) => (p === undefined || root !== '/' ? p : resolve(p))
    const target = { root, repo: abs(this.flags.repo), config: abs(this.flags.config) }
    if (args.action === 'enable') {
      const twin = root === '/' ? container.resolve(TwinRepository) : undefined
      await twin?.open()
      // The plugins root's scheduled run loads: oclif's data folder as that run works it out (no
      // TWINSYNC_DATA_DIR or XDG_DATA_HOME in a unit's, cron's or apt's hook environment; root's home).
      const { userInfo } = await import('node:os')
      const dataDir = root === '/' ? resolve(userInfo().homedir, '.local', 'share', this.config.dirname) : undefined
      this.emit(await this.recorded(await enableSchedule(target, this.flags.every, { apt: this.flags.apt, ...(twin === undefined ? {} : { twin: twin.dir }), ...(dataDir === undefined ? {} : { dataDir }) })), (r) => renderSchedule(r, runLines(container)))
    } else if (args.action === 'disable') {
      this.emit(await this.recorded(await disableSchedule(target)), (r) => renderSchedule(r, runLines(container)))
    } else {
      this.emit(await scheduleStatus(target), (r) => renderSchedule(r, runLines(container)))
    }
  }

  /** What enable or disable changed, adopted into the twin (when there is one), so the next apply keeps it. */
  private async recorded(result: ScheduleResult): Promise<ScheduleResult> {
    // With --root the twin the schedule snapshots into is named as the target sees it (--repo), not as this command would open it.
    if (this.flags.root !== '/') return result
    const { isScheduleItem } = await import('../services/schedule.js')
    const { ReconcileService } = await import('../intent/reconcile-service.js')
    const { TwinRepository } = await import('../twin/twin-repository.js')
    const { isTwinSyncError } = await import('@twinsync/sdk')
    const container = await this.container()
    const note = `\`schedule ${result.action === 'enabled' ? 'enable' : 'disable'}\` changed these on the machine; the twin records them, so that an apply keeps them.`
    try {
      await container.resolve(TwinRepository).open()
      // The timer just started may run its first snapshot now (a short --every): wait for it, a
      // minute at most. That snapshot may record the schedule itself; then there is nothing to adopt.
      for (let tries = 0; ; tries++) {
        try {
          const decision = await container.resolve(ReconcileService).adoptOwn(isScheduleItem, note)
          return { ...result, recorded: decision?.commit ?? null }
        } catch (error) {
          if (!isTwinSyncError(error) || error.code !== 'LOCK_HELD' || tries >= 60) throw error
          await new Promise((resolve) => setTimeout(resolve, 1000))
        }
      }
    } catch (error) {
      // No twin (yet): nothing records the machine, nothing to keep in step.
      if (isTwinSyncError(error) && error.code === 'REPO_NOT_INITIALIZED') return result
      return { ...result, notRecorded: error instanceof Error ? error.message : String(error) }
    }
  }
}
