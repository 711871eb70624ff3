import type { HostPort } from '@twinsync/sdk'
import type { RuntimeEntry } from './service-state.js'

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

export async function collectRuntime(host: HostPort): Promise<Record<string, RuntimeEntry>> {
  const result = await host.exec('systemctl', ['list-units', '--all', '--plain', '--no-legend', '--no-pager', '--type=service,socket,timer'], { timeoutMs: 60_000 })
  if (result.exitCode !== 0) throw new Error(`systemctl list-units exited ${result.exitCode}: ${result.stderr.trim()}`)
  return parseListUnits(result.stdout)
}
