import { compareStrings, type Change, type UnappliedPlace } from '@twinsync/sdk'
import { DAEMON_RELOAD_ID } from './change.js'
import { RUNTIME_DOCUMENT, UNITS_DOCUMENT, type SystemdState } from './state.js'

/** The verbs that set a unit's enablement; what else a state word says (static, alias, indirect, generated, transient…) follows from its unit file. */
const SET_BY = ['enable', 'disable', 'mask', 'unmask']
const RUNTIME_VERBS = ['start', 'stop', 'restart', 'reload']

/** A sub state the plan's own stop or start brings about: "dead" after a stop; after a start, any sub state of a unit that is up. */
function subFollows(sub: string, stops: boolean, starts: boolean): boolean {
  if (stops) return sub === 'dead'
  if (starts) return !['dead', 'failed', 'auto-restart'].includes(sub)
  return false
}

/**
 * The places of units.json and runtime.json where the twin (`desired`) asks for a value the plan
 * (`changes`, from diffSystemdState) does not apply, against the last snapshot (`actual`). Pure.
 * Without them such an edit settles silently: nothing is planned, and the next snapshot writes
 * the machine's value over it.
 */
export function unappliedSystemdPlaces(
  desired: SystemdState,
  actual: SystemdState,
  changes: readonly Change[],
  /**
   * The administrator's unit files each twin holds (unit → twin path, from every /etc folder of
   * the unit path: provider.ts's adminUnitFilesOf): `intended` of `desired`, `observed` of
   * `actual`. Unknown (absent): the intended twin holds every unit's file, the observed none.
   */
  twinFiles: { intended?: ReadonlyMap<string, string> | undefined; observed?: ReadonlyMap<string, string> | undefined } = {},
): UnappliedPlace[] {
  const places: UnappliedPlace[] = []
  const { intended, observed } = twinFiles
  /** Where a unit's file is in the twin (the intended twin's, else the observed one's), else where an administrator's goes. */
  const fileOf = (unit: string) => intended?.get(unit) ?? observed?.get(unit) ?? `filesystem/etc/systemd/system/${unit}`
  const did = (unit: string, verbs: readonly string[]) => changes.some((c) => c.resource === unit && verbs.includes(c.operation))
  for (const unit of Object.keys(desired.units).sort(compareStrings)) {
    const want = desired.units[unit]
    const have = actual.units[unit]
    if (want === undefined) continue
    if (want.state !== have?.state && !did(unit, SET_BY)) {
      const why =
        have === undefined
          ? `${unit} has no unit file on the machine, so no state of it can be set: add its unit file (${fileOf(unit)}) or install its package`
          : want.state === 'masked-runtime'
            ? `A mask until reboot needs a running system: apply the twin on the running machine (root "/"), or mask ${unit} for good ("masked")`
            : `"${want.state}" is not a state TwinSync sets for ${unit} (live "${have.state}"): it follows from the unit file (no [Install] section: static; Alias=: alias; Also=: indirect…); set "enabled", "disabled" or "masked", or edit its unit file (${fileOf(unit)})`
      places.push({ path: UNITS_DOCUMENT, at: ['units', unit, 'state'], nextStep: why })
    }
    // The hash of a unit file the twin holds follows the file (the next snapshot writes it): only one of a file the twin lacks is an edit to say.
    if (want.hash !== have?.hash && intended !== undefined && !intended.has(unit) && !changes.some((c) => c.id === DAEMON_RELOAD_ID)) {
      places.push({ path: UNITS_DOCUMENT, at: ['units', unit, 'hash'], nextStep: `"hash" describes ${unit}'s unit file; edit the file itself (${fileOf(unit)})` })
    }
  }
  for (const unit of Object.keys(actual.units).sort(compareStrings)) {
    // A unit that goes with its unit file: the files provider deletes the file (or says why it
    // keeps it), and the plan stops and disables the unit first (units-leaving.ts). The machine had
    // an administrator's file of it when units.json recorded its hash (/etc/systemd/system only) or
    // the observed twin held one (any /etc folder of the unit path: system.control's has no hash).
    const hadAdminFile = actual.units[unit]?.hash !== undefined || observed?.has(unit) === true
    const keepsFile = intended === undefined || intended.has(unit)
    if (desired.units[unit] !== undefined || did(unit, ['stop', 'disable']) || (hadAdminFile && !keepsFile)) continue
    places.push({
      path: UNITS_DOCUMENT,
      at: ['units', unit],
      nextStep: `Taking ${unit} out of ${UNITS_DOCUMENT} changes nothing on the machine: to keep it from starting set its "state" to "disabled" or "masked"; to remove it, delete its unit file (${fileOf(unit)}) or its package`,
    })
  }
  if (desired.runtime === undefined) return places
  if (actual.runtime === undefined) {
    places.push({ path: RUNTIME_DOCUMENT, at: [], nextStep: `${RUNTIME_DOCUMENT} is read from a running system; this one had no manager running at the last snapshot: apply the twin on the running machine (root "/")` })
    return places
  }
  for (const unit of Object.keys(desired.runtime).sort(compareStrings)) {
    // "sub" is what the running system reports: an edit of it is kept pending and said, except one
    // that only follows the "active" the plan brings about ("inactive", "dead": a stop does it).
    const wantSub = desired.runtime[unit]?.sub
    if (wantSub !== undefined && wantSub !== actual.runtime[unit]?.sub && !subFollows(wantSub, did(unit, ['stop']), did(unit, ['start', 'restart']))) {
      places.push({ path: RUNTIME_DOCUMENT, at: ['units', unit, 'sub'], nextStep: `"sub" in ${RUNTIME_DOCUMENT} is what the running system reports; only "active" ("active" or "inactive": start or stop) is applied` })
    }
    const want = desired.runtime[unit]?.active
    const have = actual.runtime[unit]?.active
    if (want === undefined || want === have || did(unit, RUNTIME_VERBS)) continue
    places.push({
      path: RUNTIME_DOCUMENT,
      at: ['units', unit, 'active'],
      nextStep: have === undefined ? `${unit} is not among the machine's running units; start or stop only a unit it has` : `"${want}" is not a state TwinSync brings ${unit} to (live "${have}"): set "active" (start) or "inactive" (stop)`,
    })
  }
  for (const unit of Object.keys(actual.runtime).sort(compareStrings)) {
    if (desired.runtime[unit] !== undefined) continue
    places.push({ path: RUNTIME_DOCUMENT, at: ['units', unit], nextStep: `Taking ${unit} out of ${RUNTIME_DOCUMENT} changes nothing on the machine: to stop it set its "active" to "inactive"` })
  }
  return places
}
