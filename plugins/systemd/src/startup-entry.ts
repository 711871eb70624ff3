import type { StartupEntry } from '@twinsync/sdk'
import type { SystemdState } from './service-state.js'

/**
 * What systemd starts: the units the boot targets pull in (targets themselves are only
 * groupings and are left out) and the enabled timers, which run on their schedule.
 */
export function startupEntries(state: SystemdState): StartupEntry[] {
  const boot = state.startup.wantedAtBoot
    .filter((unit) => !unit.endsWith('.target'))
    .map((unit): StartupEntry => ({ source: 'systemd', trigger: 'boot', name: unit, enabled: true }))
  const timers = state.startup.enabledTimers.map((unit): StartupEntry => ({ source: 'systemd', trigger: 'schedule', name: unit, enabled: true }))
  return [...boot, ...timers]
}
