import { compareStrings, errorDiagnostic, infoDiagnostic, type Change, type Diagnostic, type DiffResult, type Risk } from '@twinsync/sdk'
import { DAEMON_RELOAD_ID, systemdChangeId, UP, type SystemdOperation } from './change.js'
import { isAdminUnitFile } from './config-drift.js'
import { reloadListing } from './manager-reload.js'
import type { RuntimeEntry, SystemdState } from './state.js'
import { isChangeableUnitName } from './unit-name.js'
import { PERSISTENT_CONFIG } from './unit-paths.js'

const DOWN = new Set(['inactive', 'failed', 'deactivating'])
const ENABLED = new Set(['enabled', 'enabled-runtime'])

/**
 * The changes that turn the live units (`actual`) into the twin's (`desired`). Pure.
 * Enablement (enable, disable, mask, unmask) is planned on any target; runtime verbs only when
 * a manager was running at collect time (`actual.runtime`), otherwise a diagnostic says so.
 */
export function diffSystemdState(
  desired: SystemdState,
  actual: SystemdState,
  /** The units whose administrator unit file the desired twin holds (provider.ts's adminUnitFilesOf), against the machine; unknown (or between two twin states): none. */
  twinFiles?: { has(unit: string): boolean },
): DiffResult {
  const changes: Change[] = []
  const diagnostics: Diagnostic[] = []
  const live = actual.runtime !== undefined
  const add = (operation: SystemdOperation, unit: string, summary: string, risk: Risk, extra: Partial<Change> = {}): Change => {
    const change: Change = { id: systemdChangeId(operation, unit), provider: 'systemd', category: 'services', operation, resource: unit, summary, risk, ...extra, data: { unit } }
    changes.push(change)
    return change
  }

  // Administrator unit files that differ: the files provider writes them, the manager must reload.
  // (Units whose files the plan deletes are stopped, disabled and reloaded by units-leaving.ts,
  // from the plan's own deletes: the files provider knows what it deletes and what it keeps.)
  // Not a unit whose file the twin holds: its content is the files provider's to compare, and a
  // write of it brings the daemon-reload and the restart (unit-file-writes.ts). The hash beside it
  // in units.json is the last snapshot's, older than a person's edit of the file: a plan of a
  // twin edited and applied (an interrupted apply's rerun, `plan --from` its edit commit) saw the
  // new file live, no write, and still planned a daemon-reload and a restart (session 29).
  const changedFiles = Object.keys(desired.units)
    .filter((unit) => desired.units[unit]?.hash !== undefined && desired.units[unit]?.hash !== actual.units[unit]?.hash && twinFiles?.has(unit) !== true)
    .sort(compareStrings)
  /** The plan's one daemon-reload, made or found, with these files listed too. */
  const reloadFor = (existing: Change | undefined, files: readonly string[]): Change => {
    const { change, made } = reloadListing(existing, files)
    if (made) changes.push(change)
    return change
  }
  let reload: Change | undefined
  if (changedFiles.length > 0 && live) reload = reloadFor(undefined, changedFiles.map((u) => `${PERSISTENT_CONFIG}/${u}`))
  const afterReload = reload === undefined ? {} : { requires: [DAEMON_RELOAD_ID] }

  for (const unit of Object.keys(desired.units).sort(compareStrings)) {
    const want = desired.units[unit]?.state
    const have = actual.units[unit]?.state
    if (want === have || want === undefined) continue
    if (!isChangeableUnitName(unit)) {
      diagnostics.push(errorDiagnostic('NAME_INVALID', `The twin lists an invalid unit name: ${JSON.stringify(unit)}`, { path: unit, provider: 'systemd' }))
      continue
    }
    if (want === 'masked') {
      // A mask until reboot (in /run) becomes a mask for good (in /etc); the one in /run is gone at the next boot.
      const summary = have === 'masked-runtime' ? `mask ${unit} for good (it is masked only until reboot now)` : `mask ${unit}`
      add('mask', unit, summary, 'medium', { before: have ?? 'absent', after: 'masked' })
      continue
    }
    if (want === 'masked-runtime') {
      // A mask until reboot lives in /run/systemd/system: it means something only to a running
      // manager (a booted root mounts a fresh /run over the root's own).
      if (!live) {
        diagnostics.push(infoDiagnostic('SYSTEMD_RUNTIME_MASK_OFFLINE', `The twin has ${unit} masked until reboot; a mask until reboot needs a running system, so nothing is planned for it on this target`, {
          detail: `Apply the twin on the running machine (root "/") to mask ${unit} until reboot, or mask it for good in the twin ("masked" in system/services/units.json).`,
          path: unit,
          provider: 'systemd',
        }))
        continue
      }
      // `systemctl mask --runtime`, then (from a mask for good) `systemctl unmask` of the one in /etc.
      const summary = have === 'masked' ? `mask ${unit} only until reboot (it is masked for good now)` : `mask ${unit} until reboot`
      const change = add('mask', unit, summary, 'medium', { before: have ?? 'absent', after: 'masked-runtime' })
      change.data = { unit, runtime: true }
      continue
    }
    const requires = reload === undefined ? {} : { requires: [reload.id] }
    if (have === 'masked' || have === 'masked-runtime') {
      // One change: every mask goes (in /etc and in /run: `systemctl unmask` alone leaves the one
      // in /run) and the unit ends as the twin says. The enable links a unit had before it was
      // masked are still there, so an unmask alone can leave it enabled (or not).
      const after = want === 'enabled' || want === 'disabled' ? want : undefined
      const what = have === 'masked-runtime' ? `unmask ${unit} (masked until reboot)` : `unmask ${unit}`
      const summary = after === 'enabled' ? `${what} and enable it` : after === 'disabled' ? `${what}, leaving it disabled` : what
      const change = add('unmask', unit, have === 'masked' && after === 'enabled' ? `unmask and enable ${unit}` : summary, 'medium', { before: have, after: after ?? want, ...(after === 'enabled' ? requires : {}) })
      change.data = { unit, ...(after === undefined ? {} : { after }) }
      continue
    }
    if (want === 'enabled' && (have === undefined || have === 'disabled')) {
      add('enable', unit, `enable ${unit}`, 'medium', { before: have ?? 'absent', after: 'enabled', ...requires })
    } else if (want === 'disabled' && have === 'enabled') {
      // `removal`: with the stops, before anything of the plan starts (see below). A removal is
      // rated "high", as the SDK's change schema and conformance kit say of anything that takes
      // something away (a stop already was); a high rating asks for no typed "yes" (high-risk.ts).
      add('disable', unit, `disable ${unit}`, 'high', { before: 'enabled', after: 'disabled', removal: true })
    }
  }

  if (desired.runtime !== undefined && !live) {
    diagnostics.push(infoDiagnostic('SYSTEMD_RUNTIME_OFFLINE', 'Runtime changes (start, stop, restart) need a running system; only enablement is planned for this target', {
      detail: 'Apply the twin on the running machine (root "/") to start or stop services.',
      provider: 'systemd',
    }))
  }
  if (desired.runtime !== undefined && actual.runtime !== undefined) {
    const wantRuntime: Record<string, RuntimeEntry> = desired.runtime
    for (const unit of Object.keys(wantRuntime).sort(compareStrings)) {
      const want = wantRuntime[unit]?.active ?? ''
      const have = actual.runtime[unit]?.active ?? 'inactive'
      if (!isChangeableUnitName(unit)) continue
      // A unit systemd-run made (its file in /run/systemd/transient): gone once it stops, and
      // nothing can start it again ("Unit squat.service not found"). Since session 22 a snapshot
      // does not record one as running; a twin made before may, and planned its start for ever.
      if (desired.units[unit]?.state === 'transient' || actual.units[unit]?.state === 'transient') {
        if (want === 'active' && DOWN.has(have)) {
          diagnostics.push(infoDiagnostic('SYSTEMD_TRANSIENT_NOT_STARTED', `The twin records ${unit} as running, a unit made at run time (systemd-run) with no unit file to start it from: no start is planned`, {
            detail: `Nothing to do: the next snapshot no longer records ${unit} as running. To run it again, run the command that made it (systemd-run), or give it a unit file in /etc/systemd/system.`,
            path: unit,
            provider: 'systemd',
          }))
        }
        continue
      }
      if (want === 'active' && DOWN.has(have)) {
        const requires = startRequires(changes, unit, reload)
        add('start', unit, `start ${unit}`, 'medium', { before: have, after: 'active', ...(requires === undefined ? {} : { requires }) })
      }
      // `removal`: stops (and disables) run first, in the planner's stage before package installs,
      // files and starts (ordering-rules.ts): a service the twin wants stopped gives up its port
      // before one it wants running (or a package's maintainer script) starts, on the same port.
      // Not a unit the twin keeps enabled: a package upgrade's maintainer script restarts an
      // enabled unit even when stopped (deb-systemd-invoke), so its stop runs after the installs,
      // in the services stage (still before any start of the same wave, SYSTEMD_OPERATIONS).
      else if (want === 'inactive' && UP.has(have)) {
        const keptEnabled = ENABLED.has(desired.units[unit]?.state ?? '')
        add('stop', unit, `stop ${unit}`, 'high', { before: have, after: 'inactive', ...(keptEnabled ? {} : { removal: true }) })
      }
    }
    // A running service whose unit file changed runs the old definition: propose a restart the user can decline.
    for (const unit of changedFiles) {
      if (unit.endsWith('.service') && UP.has(actual.runtime[unit]?.active ?? '') && !changes.some((c) => c.resource === unit && (c.operation === 'stop' || c.operation === 'start'))) {
        add('restart', unit, `restart ${unit} to load its changed unit file`, 'medium', { ...afterReload })
      }
    }
    // A running service whose configuration changed after it started (or last reloaded) runs the
    // older one: read from the machine, so a reload that was lost (a failed apply, a change by
    // hand) is planned until it is done, whatever the twin says.
    for (const unit of Object.keys(actual.runtime).sort(compareStrings)) {
      const entry = actual.runtime[unit]
      const stale = entry?.staleConfig ?? []
      if (entry === undefined || stale.length === 0 || !UP.has(entry.active) || !isChangeableUnitName(unit)) continue
      if (changes.some((c) => c.resource === unit && (c.operation === 'stop' || c.operation === 'start' || c.operation === 'restart'))) continue
      // Its own unit file or drop-in changed since it started: a reload of the service reads none
      // of it; the manager reloads (it may not have: NeedDaemonReload), then the service restarts.
      const unitFiles = stale.filter(isAdminUnitFile)
      const operation = entry.canReload === true && unitFiles.length === 0 ? 'reload' : 'restart'
      // A folder is named only when no file in it is (a drop-in deleted by hand leaves only that trace).
      const named = unitFiles.filter((f) => !f.endsWith('/'))
      if (unitFiles.length > 0) reload = reloadFor(reload, named.length > 0 ? named : unitFiles)
      const change = add(operation, unit, `${unit} runs an older configuration than ${stale[0]}${stale.length > 1 ? ` (and ${stale.length - 1} more)` : ''}: ${operation} it`, 'medium', {
        before: 'active, with an older configuration',
        after: operation === 'reload' ? 'active, reloaded' : 'active, restarted',
        ...(unitFiles.length > 0 ? { requires: [DAEMON_RELOAD_ID] } : {}),
      })
      change.data = { unit, staleConfig: stale }
    }
  }
  return { changes, diagnostics }
}

function startRequires(changes: readonly Change[], unit: string, reload: Change | undefined): string[] | undefined {
  const ids = changes.filter((c) => c.resource === unit && (c.operation === 'enable' || c.operation === 'unmask')).map((c) => c.id)
  if (reload !== undefined) ids.push(reload.id)
  return ids.length > 0 ? ids : undefined
}
