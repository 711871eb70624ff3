import { compareStrings, type Change, type FollowUpRequest } from '@twinsync/sdk'
import { DAEMON_RELOAD_ID, requireOnce, systemdChangeId, UP } from './change.js'
import { fileChangeOf } from './file-changes.js'
import { reloadListing } from './manager-reload.js'
import { SYSTEM_UNIT_DROP_IN, SYSTEM_UNIT_FILE } from './unit-paths.js'
import type { SystemdState } from './state.js'
import { isChangeableUnitName, isTemplate, templateOf } from './unit-name.js'

/**
 * The manager reads unit files and their drop-ins only at `daemon-reload`, and a running service
 * keeps the settings it was started with until it restarts: a drop-in the plan writes or deletes
 * (`systemctl edit`'s override.conf, a LimitNOFILE=, an ExecStart= of the administrator's) is not
 * in effect after the apply unless the manager reloads (systemd says NeedDaemonReload=yes and
 * keeps the old settings; seen in session 25 on a booted Debian 13: nginx kept 1,024 open files
 * after a drop-in raised it). So, on a running system: the daemon-reload (one for the plan, listing
 * the files), and a restart of each running service whose own unit file or drop-in the plan
 * changes (each its own change after the reload and the file, which a person can leave out; a
 * template's drop-in restarts its running instances; a type's or prefix's drop-in, which reaches
 * many units, only reloads). The same for a whole unit file in any folder of the unit path
 * (session 27: one in system.control was not reloaded; /etc/systemd/system's reload is also the
 * diff's, by its hash in units.json, and this one lists it beside). A deleted unit file is
 * units-leaving.ts's (it stops the unit), unless another folder keeps a file of the unit
 * (`keptUnits`): then the manager loads that one, so it reloads and the service restarts.
 */
export function reloadsForUnitFileWrites({ changes, actual }: Pick<FollowUpRequest<SystemdState>, 'changes' | 'actual'>, keptUnits: ReadonlySet<string> = new Set()): Change[] {
  // Offline (no running manager): no reload nor restart, but the enable of a unit still reads its file.
  const live = actual.runtime !== undefined
  const touched = new Map<string, { path: string; change: Change }[]>()
  /** The units (or templates) whose files the plan writes, with what of them reads which. */
  const read: Array<{ name: string; readers: ReadonlySet<string> }> = []
  const files: string[] = []
  const writers: string[] = []
  for (const change of changes) {
    const file = fileChangeOf(change)
    if (file === undefined) continue
    let mine = false
    for (const path of file.paths) {
      const dropIn = SYSTEM_UNIT_DROP_IN.exec(path)?.[1]
      const named = SYSTEM_UNIT_FILE.exec(path)?.[1]
      const unitFile = named !== undefined && (file.action !== 'delete' || keptUnits.has(named)) ? named : undefined
      if (dropIn === undefined && unitFile === undefined) continue
      files.push(path)
      mine = true
      const readers = unitFile === undefined ? DROP_IN_READERS : UNIT_FILE_READERS
      holdBackOn(changes, change.id, (dropIn ?? unitFile) as string, readers)
      read.push({ name: (dropIn ?? unitFile) as string, readers })
      for (const unit of runningUnitsOf((dropIn ?? unitFile) as string, actual)) {
        touched.set(unit, [...(touched.get(unit) ?? []), { path, change }])
      }
    }
    if (mine) writers.push(change.id)
  }
  if (!live) return []
  const out: Change[] = []
  if (files.length > 0) {
    const { change, made } = reloadListing(changes.find((c) => c.id === DAEMON_RELOAD_ID), files, writers)
    if (made) out.push(change)
    // And after the manager read them: in the same wave the provider runs the daemon-reload first,
    // but a write of another unit's file may come a wave later (session 29: the diff's hash route,
    // which ordered these, no longer covers a unit whose file the twin holds).
    for (const { name, readers } of read) holdBackOn(changes, DAEMON_RELOAD_ID, name, readers)
  }
  const reloads = files.length > 0 || changes.some((c) => c.id === DAEMON_RELOAD_ID)
  for (const [unit, causes] of [...touched].sort(([a], [b]) => compareStrings(a, b))) {
    const paths = [...new Set(causes.map((c) => c.path))].sort(compareStrings)
    const ids = [...new Set(causes.map((c) => c.change.id))].sort(compareStrings)
    out.push({
      id: systemdChangeId('restart', unit),
      provider: 'systemd',
      category: 'services',
      operation: 'restart',
      resource: unit,
      summary: `restart ${unit} to run its changed unit file (${paths.join(', ')})`,
      before: 'active',
      after: 'active (restarted)',
      risk: 'medium',
      // After the reload, and only once its files are in place: a refused or failed write holds it back.
      requires: [...(reloads ? [DAEMON_RELOAD_ID] : []), ...ids],
      madeFor: ids,
      data: { unit },
    })
  }
  return out
}

/** What of a unit reads its unit file (its [Install] section too: enable), and what reads a drop-in. */
const UNIT_FILE_READERS = new Set(['unmask', 'enable', 'start'])
const DROP_IN_READERS = new Set(['start'])

/**
 * The plan's changes of the unit a file named `name` defines (a template's: of its instances) that
 * read it, made to require the change that writes it: a file refused by `systemd-analyze verify`
 * (put back) or not written holds back the enable or start of the unit, which would run the old
 * definition or find none (the stage edges from the files to the services only order:
 * ordering-rules.ts). The restarts and reloads below require their files already.
 */
function holdBackOn(changes: readonly Change[], writer: string, name: string, readers: ReadonlySet<string>): void {
  for (const c of changes) {
    if (c.provider !== 'systemd' || !readers.has(c.operation) || c.id === writer) continue
    if (c.resource !== name && !(isTemplate(name) && templateOf(c.resource) === name)) continue
    requireOnce(c, writer)
  }
}

/** The running services a unit file or drop-in folder named `name` configures: the service itself, a template's instances. */
function runningUnitsOf(name: string, actual: SystemdState): string[] {
  const runtime = actual.runtime ?? {}
  const running = (unit: string) => unit.endsWith('.service') && UP.has(runtime[unit]?.active ?? '')
  if (!name.endsWith('.service')) return []
  if (isTemplate(name)) return Object.keys(runtime).filter((unit) => templateOf(unit) === name && running(unit)).sort(compareStrings)
  return isChangeableUnitName(name) && running(name) ? [name] : []
}

/**
 * One restart of a unit, whoever asked for it (a changed configuration file, a changed unit file):
 * the second's needs added to the first, a restart already in the plan taking them all. A reload
 * of the same unit stays beside a restart (systemd applies the changes in the order reload, then
 * restart: the restart reads the unit file too).
 */
export function oneRestartEach(proposed: readonly Change[], planned: readonly Change[]): Change[] {
  const out: Change[] = []
  const byId = new Map<string, Change>(planned.map((c) => [c.id, c]))
  for (const change of proposed) {
    const same = byId.get(change.id)
    if (same === undefined) {
      byId.set(change.id, change)
      out.push(change)
      continue
    }
    same.requires = [...new Set([...(same.requires ?? []), ...(change.requires ?? [])])]
    if (same.madeFor !== undefined) same.madeFor = change.madeFor === undefined ? undefined : [...new Set([...same.madeFor, ...change.madeFor])]
    if (same.madeFor === undefined) delete same.madeFor
  }
  return out
}
