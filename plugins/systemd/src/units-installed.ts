import { compareStrings, type Change } from '@twinsync/sdk'
import { systemdChangeId } from './change.js'
import type { SystemdState } from './state.js'
import { isChangeableUnitName, isTemplate } from './unit-name.js'

/** Runtime states the twin records for a unit that must not run. */
const DOWN: ReadonlySet<string> = new Set(['inactive', 'failed'])

/** A unit the twin keeps disabled or stopped that the machine has no unit file for yet. */
export interface AbsentUnit {
  unit: string
  /** The twin has it disabled. */
  disabled: boolean
  /** The twin has it stopped (and a manager runs on the target). */
  stopped: boolean
}

/**
 * The units the twin keeps disabled or stopped that the machine does not have at all (no unit
 * file: its package is not installed). The diff plans nothing for them (nothing to disable or
 * stop), but a package this plan installs may bring one, and Debian's maintainer scripts enable
 * and start a service they install (deb-systemd-helper, deb-systemd-invoke): after the apply it
 * would run against the twin, though the plan a person approved meant to leave it stopped
 * (session 23). See keptAsTheTwinSays. Pure.
 */
export function absentUnits(desired: SystemdState, actual: SystemdState): AbsentUnit[] {
  const out: AbsentUnit[] = []
  for (const unit of Object.keys(desired.units).sort(compareStrings)) {
    if (actual.units[unit] !== undefined || actual.runtime?.[unit] !== undefined || isTemplate(unit) || !isChangeableUnitName(unit)) continue
    const disabled = desired.units[unit]?.state === 'disabled'
    const stopped = actual.runtime !== undefined && DOWN.has(desired.runtime?.[unit]?.active ?? '')
    if (disabled || stopped) out.push({ unit, disabled, stopped })
  }
  return out
}

/**
 * For a plan that installs packages: a disable and a stop, after the installs (the planner's
 * "services" stage), of each unit the twin keeps disabled or stopped that the machine does not
 * have yet, done only when the unit is there by then and enabled or running (`afterInstall`: apply
 * finds nothing to do otherwise, "unchanged"). Made for the package changes: leaving them all out
 * leaves these out too. Not a policy-rc.d: that stops every maintainer script's start (an
 * upgraded service the twin wants running would not restart) and not its enable, and a file
 * written into the machine's /usr/sbin for the length of an apply is one more thing a kill leaves
 * behind.
 */
export function keptAsTheTwinSays(absent: readonly AbsentUnit[], changes: readonly Change[]): Change[] {
  const installs = changes.filter((c) => c.category === 'packages' && c.removal !== true).map((c) => c.id)
  if (installs.length === 0) return []
  const out: Change[] = []
  const add = (operation: 'disable' | 'stop', unit: string, what: string) => {
    const id = systemdChangeId(operation, unit)
    if (changes.some((c) => c.id === id)) return
    out.push({
      id,
      provider: 'systemd',
      category: 'services',
      operation,
      resource: unit,
      summary: `${operation} ${unit} if a package this plan installs ${operation === 'stop' ? 'starts' : 'enables'} it (the twin has it ${what}; the machine has no such unit yet)`,
      risk: 'medium',
      before: 'absent',
      after: what,
      madeFor: installs,
      data: { unit, afterInstall: true },
    })
  }
  for (const { unit, disabled, stopped } of absent) {
    if (disabled) add('disable', unit, 'disabled')
    if (stopped) add('stop', unit, 'inactive')
  }
  return out
}
