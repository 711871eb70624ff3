import type { StartupEntry } from '@twinsync/sdk'
import type { SystemdState } from './state.js'

/**
 * What systemd starts: the units the boot targets pull in (targets themselves are only
 * groupings and are left out) and the enabled timers, which run on their schedule.
 */
export function startupEntries(state: SystemdState): StartupEntry[] {
  const boot = state.startup.wantedAtBoot
    .filter((unit) => !unit.endsWith('.target'))
    .map((unit): StartupEntry => {
      // A link in a .wants directory does not start a masked unit. systemd's own word says
      // which mask: "masked" (for good) or "masked-runtime" (in /run, gone at the next reboot).
      const unitState = state.units[unit]?.state
      const masked = unitState === 'masked' || unitState === 'masked-runtime'
      return { source: 'systemd', trigger: 'boot', name: unit, enabled: !masked, ...(masked ? { state: unitState } : {}) }
    })
  const timers = state.startup.enabledTimers.map((unit): StartupEntry => ({ source: 'systemd', trigger: 'schedule', name: unit, enabled: true }))
  return [...boot, ...timers]
}
