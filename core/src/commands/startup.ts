import { TwinSyncCommand } from '../base-command.js'

export default class Startup extends TwinSyncCommand<typeof Startup> {
  static override summary = 'List everything that runs at boot, at login or on a schedule'
  static override description =
    'One table from every provider that knows about startup: systemd units pulled in at boot and enabled timers, cron jobs (@reboot and scheduled), rc.local and XDG autostart entries.'
  static override examples = ['<%= config.bin %> startup', '<%= config.bin %> startup --json', '<%= config.bin %> startup --root /mnt/image']

  async run(): Promise<void> {
    const { StartupWorkflow } = await import('../services/list-startup.js')
    const { renderStartup } = await import('../cli/render.js')
    this.emit(await (await this.container()).resolve(StartupWorkflow).list(), renderStartup)
  }
}
