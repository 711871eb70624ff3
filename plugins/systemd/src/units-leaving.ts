import { compareStrings, errorDiagnostic, type Change, type Diagnostic, type FollowUpRequest } from '@twinsync/sdk'
import { DAEMON_RELOAD_ID, requireOnce, systemdChangeId, UP, type SystemdChangeData } from './change.js'
import type { SystemdState } from './state.js'
import { fileChangeOf } from './file-changes.js'
import { isChangeableUnitName } from './unit-name.js'
import { reloadListing } from './manager-reload.js'
import { SYSTEM_UNIT_FILE, UNIT_SEARCH_PATH } from './unit-paths.js'
import type { HostReader } from '@twinsync/sdk'


/**
 * Units whose administrator unit file the plan deletes (another provider's `delete`, the files
 * provider's, a folder's `below` included) are stopped and disabled first (`removal`: the
 * planner's stage "services stopped and disabled" runs them before the files), and the manager reloads
 * after: otherwise it keeps running a unit whose file is gone and an enable link dangles
 * ("not-found", a failed timer). The one rule for every way a unit file goes: the twin no longer
 * lists the unit nor keeps its file (a revert, a pulled twin), or keeps the unit in units.json but
 * lost the file (a person's or a mirror's edit, session 21). Read from the plan's deletes, so a
 * file the files provider keeps (ignored, a secret it never copied, a content it never saw) keeps
 * its unit as it is. An existing stop or disable of the unit is marked `removal`; an existing
 * daemon-reload lists the files too.
 */
export function unitsWhoseFilesGo({ changes, actual }: Pick<FollowUpRequest<SystemdState>, 'changes' | 'actual'>, keptUnits: ReadonlySet<string> = new Set()): Change[] {
  const going = unitFilesGoing(changes, actual, keptUnits)
  if (going.size === 0) return []
  const out: Change[] = []
  const live = actual.runtime !== undefined
  const existing = (id: string) => changes.find((c) => c.id === id) ?? out.find((c) => c.id === id)
  const ensure = (operation: 'stop' | 'disable', unit: string, before: string, after: string, path: string) => {
    const deletion = going.get(unit)?.change as Change
    const id = systemdChangeId(operation, unit)
    // The delete needs the unit stopped and disabled first: leaving out (or a failure of) the
    // stop or the disable holds the delete back too, so no running unit loses its file.
    requireOnce(deletion, id)
    const found = existing(id)
    if (found !== undefined) {
      found.removal = true
      return
    }
    out.push({
      id: systemdChangeId(operation, unit),
      provider: 'systemd',
      category: 'services',
      operation,
      resource: unit,
      summary: `${operation} ${unit}: this plan deletes its unit file ${path}`,
      risk: 'high',
      before,
      after,
      removal: true,
      // Only there for the delete: leaving the delete out leaves this out too (excludeChanges).
      madeFor: [deletion.id],
      data: { unit },
    })
  }
  for (const [unit, { path }] of [...going].sort(([a], [b]) => compareStrings(a, b))) {
    const active = actual.runtime?.[unit]?.active ?? 'inactive'
    if (live && UP.has(active)) ensure('stop', unit, active, 'inactive', path)
    const state = actual.units[unit]?.state
    if (state === 'enabled' || state === 'enabled-runtime') ensure('disable', unit, state, 'disabled', path)
  }
  if (!live) return out
  // The manager forgets the units once their files are gone.
  const files = [...going.values()].map((g) => g.path).sort(compareStrings)
  const { change, made } = reloadListing(existing(DAEMON_RELOAD_ID), files, [...going.values()].map((g) => g.change.id))
  if (made) out.push(change)
  return out
}

/** The units whose unit file (in any folder of the unit path) a change of another provider deletes, not one `keptUnits` names: unit → the file, and the change. */
function unitFilesGoing(changes: readonly Change[], actual: SystemdState, keptUnits: ReadonlySet<string>): Map<string, { path: string; change: Change }> {
  const going = new Map<string, { path: string; change: Change }>()
  for (const change of changes) {
    const file = fileChangeOf(change)
    if (file?.action !== 'delete') continue
    for (const path of file.paths) {
      const unit = SYSTEM_UNIT_FILE.exec(path)?.[1]
      if (unit !== undefined && !keptUnits.has(unit) && isChangeableUnitName(unit) && actual.units[unit] !== undefined && !going.has(unit)) going.set(unit, { path, change })
    }
  }
  return going
}

/**
 * What the twin asks of a unit that contradicts the deletion of its unit file in the same plan.
 * (A reload or restart is never the twin's ask: one for a changed configuration is not proposed
 * for a unit the plan stops, as one whose file goes is.)
 */
const WANTS_UNIT = new Set(['enable', 'start'])

/**
 * A plan that deletes a unit's file and enables or starts the same unit (or unmasks it to
 * enabled) contradicts itself: the twin keeps asking for the unit while its file
 * goes, and apply would run the deletion first, then fail on the unit (session 22). An error
 * (SYSTEMD_UNIT_FILE_CONTRADICTION), so apply refuses the plan until the twin says one thing.
 */
export function unitFileContradictions({ changes, actual }: Pick<FollowUpRequest<SystemdState>, 'changes' | 'actual'>, keptUnits: ReadonlySet<string> = new Set()): Diagnostic[] {
  const going = unitFilesGoing(changes, actual, keptUnits)
  if (going.size === 0) return []
  const out: Diagnostic[] = []
  for (const change of changes) {
    if (change.provider !== 'systemd') continue
    const unit = (change.data as SystemdChangeData | undefined)?.unit ?? change.resource
    const path = going.get(unit)?.path
    if (path === undefined) continue
    const unmasksToEnabled = change.operation === 'unmask' && (change.data as SystemdChangeData | undefined)?.after === 'enabled'
    if (!WANTS_UNIT.has(change.operation) && !unmasksToEnabled) continue
    const verb = unmasksToEnabled ? 'unmasks and enables' : `${change.operation}s`
    out.push(errorDiagnostic('SYSTEMD_UNIT_FILE_CONTRADICTION', `The plan deletes ${unit}'s unit file ${path} and ${verb} ${unit} (${change.id}): the twin asks for both`, {
      path: unit,
      provider: 'systemd',
      change: change.id,
      detail: `Keep the unit file in the twin (filesystem${path}), or set ${unit} "disabled" in system/services/units.json and "inactive" in system/services/runtime.json; then plan again. Nothing is applied from this plan until then.`,
    }))
  }
  return out
}

/**
 * The units a deleted unit file does not take away: another folder of the unit path keeps a file
 * (or link) of the same name the plan does not delete, or the plan writes one. The manager loads
 * that one after the reload, so the unit is not stopped nor disabled (it was, before session 27,
 * when an administrator's copy in /etc/systemd/system of a packaged unit went); it reloads and
 * restarts (unit-file-writes.ts).
 */
export async function unitsKeepingAFile(changes: readonly Change[], host: Pick<HostReader, 'lstat'>): Promise<Set<string>> {
  const deleted = new Set<string>()
  const written = new Set<string>()
  const named = new Set<string>()
  for (const change of changes) {
    const file = fileChangeOf(change)
    if (file === undefined) continue
    for (const path of file.paths) {
      const unit = SYSTEM_UNIT_FILE.exec(path)?.[1]
      if (unit === undefined) continue
      if (file.action === 'delete') {
        deleted.add(path)
        named.add(unit)
      } else written.add(unit)
    }
  }
  const kept = new Set<string>()
  for (const unit of named) {
    if (written.has(unit)) {
      kept.add(unit)
      continue
    }
    for (const dir of UNIT_SEARCH_PATH) {
      const path = `${dir}/${unit}`
      if (deleted.has(path)) continue
      if ((await host.lstat(path).catch(() => undefined)) !== undefined) {
        kept.add(unit)
        break
      }
    }
  }
  return kept
}
