import type { AutostartState } from './autostart-state.js'

/**
 * One row of the common startup table (`twinsync startup`): something that runs at boot, at
 * login or on a schedule. The same shape comes from the cron, autostart and systemd providers.
 */
export interface StartupEntry {
  source: 'cron' | 'rc.local' | 'autostart' | 'systemd'
  /** boot: once when the machine starts; login: when a user's desktop session starts; schedule: repeatedly. */
  trigger: 'boot' | 'login' | 'schedule'
  /** The user it runs as; absent for entries that start for every user (/etc/xdg/autostart). */
  user?: string
  /** What a person looks it up by: the file it is defined in. */
  name: string
  command: string
  enabled: boolean
  /** Desktops it is limited to (OnlyShowIn) or kept from (NotShowIn), when the entry says so. */
  onlyShowIn?: string[]
  notShowIn?: string[]
}

/** rc.local (boot, as root, enabled when it would run) and every autostart entry (login). */
export function startupEntries(state: AutostartState): StartupEntry[] {
  const rows: StartupEntry[] = []
  if (state.rcLocal.exists) {
    rows.push({ source: 'rc.local', trigger: 'boot', user: 'root', name: state.rcLocal.path, command: state.rcLocal.path, enabled: state.rcLocal.wouldRun })
  }
  for (const entry of state.entries) {
    rows.push({
      source: 'autostart',
      trigger: 'login',
      ...(entry.user === undefined ? {} : { user: entry.user }),
      name: entry.path,
      command: entry.exec,
      enabled: entry.enabled,
      ...(entry.onlyShowIn.length > 0 ? { onlyShowIn: entry.onlyShowIn } : {}),
      ...(entry.notShowIn.length > 0 ? { notShowIn: entry.notShowIn } : {}),
    })
  }
  return rows
}
