import type { StartupEntry } from '@twinsync/sdk'
import type { CronState } from './state.js'

export type { StartupEntry }

/** The cron jobs of a collected state as startup rows: @reboot jobs run at boot, the rest on a schedule. */
export function startupEntries(state: CronState): StartupEntry[] {
  return state.jobs.map((job) => ({
    source: 'cron',
    trigger: job.reboot ? 'boot' : 'schedule',
    user: job.user,
    name: `${job.source}:${job.line}`,
    command: job.command,
    enabled: true,
    schedule: job.schedule,
  }))
}
