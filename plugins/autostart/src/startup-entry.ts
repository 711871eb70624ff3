import type { StartupEntry } from '@twinsync/sdk'
import type { AutostartState } from './state.js'

export type { StartupEntry }

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
