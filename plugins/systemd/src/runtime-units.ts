import type { HostPort } from '@twinsync/sdk'
import type { RuntimeEntry } from './state.js'
import type { UnitFileState } from './unit-file-index.js'
import { isTemplate } from './unit-name.js'

/** Unit files a person enables, disables or masks, and starts and stops by name. */
const ADMINISTERED: ReadonlySet<string> = new Set<UnitFileState>(['enabled', 'enabled-runtime', 'disabled', 'masked', 'masked-runtime', 'linked', 'linked-runtime'])
const RUNTIME_TYPES = /\.(service|socket|timer)$/

/** Is a systemd manager running on the target (so runtime verbs and states make sense)? */
export async function managerRuns(host: HostPort): Promise<boolean> {
  return host.live && (await host.stat('/run/systemd/system'))?.type === 'directory'
}

/** Parse `systemctl list-units --all --plain --no-legend`: UNIT LOAD ACTIVE SUB DESCRIPTION. */
export function parseListUnits(output: string): Record<string, RuntimeEntry> {
  const units: Record<string, RuntimeEntry> = {}
  for (const line of output.split('\n')) {
    const fields = line.trim().split(/\s+/)
    if (fields[0] === '●' || fields[0] === '*') fields.shift()
    const [unit, load, active, sub] = fields
    if (unit === undefined || sub === undefined || load === 'not-found') continue
    units[unit] = { active: active as string, sub }
  }
  return units
}

/** Where systemd keeps the units made at run time (`systemd-run`, a D-Bus StartTransientUnit). */
const TRANSIENT_UNITS = '/run/systemd/transient'

/**
 * The loaded services, sockets and timers and their states, without transient ones: a unit that
 * `systemd-run` made has no unit file and is gone once it stops, so no plan can start it again
 * (session 22: a snapshot taken while `systemd-run --unit=squat …` ran planned "start
 * squat.service" ever after, which systemd refuses: the unit could not be found).
 */
export async function collectRuntime(host: HostPort): Promise<Record<string, RuntimeEntry>> {
  const [result, transient] = await Promise.all([
    host.query('systemctl', ['list-units', '--all', '--plain', '--no-legend', '--no-pager', '--type=service,socket,timer'], { timeoutMs: 60_000 }),
    host.readdir(TRANSIENT_UNITS).catch(() => []),
  ])
  if (result.exitCode !== 0) throw new Error(`systemctl list-units exited ${result.exitCode}: ${result.stderr.trim()}`)
  const units = parseListUnits(result.stdout)
  for (const entry of transient) delete units[entry.name]
  return units
}

/**
 * systemd lists only the units it has loaded, and it unloads a stopped unit nothing refers to
 * (a disabled memcached after `systemctl stop`). Such a unit is inactive all the same: without
 * this, a snapshot would say nothing about it, and going back to that snapshot would leave the
 * service running. Added for units a person administers (enabled, disabled, masked, linked);
 * templates, aliases and static units (started by something else) are left to what systemd says.
 */
export function withUnloadedUnits(runtime: Record<string, RuntimeEntry>, files: ReadonlyArray<{ name: string; state: string }>): Record<string, RuntimeEntry> {
  const out = { ...runtime }
  for (const unit of files) {
    if (out[unit.name] !== undefined || !RUNTIME_TYPES.test(unit.name) || isTemplate(unit.name) || !ADMINISTERED.has(unit.state)) continue
    out[unit.name] = { active: 'inactive', sub: 'dead' }
  }
  return out
}
