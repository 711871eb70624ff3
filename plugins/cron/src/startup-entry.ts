import type { CronState } from './cron-state.js'

/**
 * One row of the common startup table (`twinsync startup`): something that runs at boot, at
 * login or on a schedule. The same shape comes from the cron, autostart and systemd providers.
 */
export interface StartupEntry {
  source: 'cron' | 'rc.local' | 'autostart' | 'systemd'
  /** boot: once when the machine starts; login: when a user's desktop session starts; schedule: repeatedly. */
  trigger: 'boot' | 'login' | 'schedule'
  /** The user it runs as; absent for entries that apply to every user (system autostart entries). */
  user?: string
  /** What a person looks it up by: the file it is defined in. */
  name: string
  command: string
  /** Cron has no per-job switch: a job in a crontab is enabled (whether cron itself runs is systemd's). */
  enabled: boolean
  /** The cron schedule ("@reboot", "0 5 * * *"). */
  schedule?: string
}

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
