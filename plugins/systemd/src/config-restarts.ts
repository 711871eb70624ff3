import type { Change, FollowUpRequest, HostPort } from '@twinsync/sdk'
import { checksReading, compareStrings } from '@twinsync/sdk'
import { requireOnce, systemdChangeId, UP } from './change.js'
import { fileChangeOf } from './file-changes.js'
import type { SystemdState } from './state.js'

const DPKG_INFO = '/var/lib/dpkg/info'
const PACKAGED_SERVICE = /^\/(?:usr\/)?lib\/systemd\/system\/([^/]+\.service)$/

/**
 * A running service reads its configuration when it starts or reloads: when the plan writes or
 * deletes such a file (content, a link, a whole folder), propose reloading the service
 * (restarting it when it cannot reload, `CanReload`), each as its own change after the write,
 * which a person can leave out. The services are those the configuration checks name for what
 * the change touches (the SDK's checksReading, the rule apply checks the change by: nginx.service
 * for /etc/nginx/sites-available/site, ssh.service for a delete of /etc/ssh/sshd_config.d with
 * files below it, nginx.service for a file outside /etc that nginx's configuration includes) and,
 * under /etc, those shipped by the packages that own a path it touches (dpkg's file lists).
 * Before session 46 only the change's own path was looked up, and only under /etc: a folder
 * deleted whole that no package lists, or a checked file elsewhere, was checked, went live and
 * the service ran on what it had read before.
 */
export async function restartsForConfigChanges({ changes, actual, ctx, configChecks = [] }: FollowUpRequest<SystemdState>): Promise<Change[]> {
  if (actual.runtime === undefined) return []
  const files = changes.flatMap((change) => {
    const file = fileChangeOf(change)
    return file === undefined ? [] : [{ change, paths: file.paths }]
  })
  if (files.length === 0) return []
  const owners = await packagesOwning(ctx.host, new Set(files.flatMap((f) => f.paths.filter((p) => p.startsWith('/etc/')))))
  const writes = files.flatMap(({ change, paths }) => {
    const units = new Set([...paths.flatMap((p) => owners.get(p) ?? []), ...checksReading(configChecks, change).flatMap((c) => c.units ?? [])])
    return units.size === 0 ? [] : [{ change, path: paths[0] as string, units: [...units].sort(compareStrings) }]
  })
  const restarts = new Map<string, Change>()
  const canReload = new Map<string, boolean>()
  for (const { change: write, path, units } of writes) {
    for (const unit of units) {
      if (!UP.has(actual.runtime[unit]?.active ?? '')) {
        // Not running: a start of it in the plan reads this file, so a refused or failed write
        // holds it back too (it would start on the old configuration; the stage edges from the
        // files to the services only order, ordering-rules.ts).
        const start = changes.find((c) => c.id === systemdChangeId('start', unit))
        if (start !== undefined) requireOnce(start, write.id)
        continue
      }
      if (!canReload.has(unit)) canReload.set(unit, await reloadable(ctx.host, unit))
      const operation = canReload.get(unit) === true ? 'reload' : 'restart'
      const id = systemdChangeId(operation, unit)
      // Already reloaded or restarted (it runs an older configuration already): once is enough,
      // after this file too, so a refused or failed write also holds it back and is rolled back.
      const already = changes.find((c) => c.id === systemdChangeId('reload', unit) || c.id === systemdChangeId('restart', unit))
      if (already !== undefined) {
        requireOnce(already, write.id)
        continue
      }
      const existing = restarts.get(id)
      if (existing !== undefined) {
        existing.requires = [...(existing.requires ?? []), write.id]
        continue
      }
      restarts.set(id, {
        id,
        provider: 'systemd',
        category: 'services',
        operation,
        resource: unit,
        summary: `${operation} ${unit} to read its changed configuration (${path})`,
        before: 'active',
        after: `active (${operation}ed)`,
        risk: 'medium',
        requires: [write.id],
        data: { unit },
      })
    }
  }
  return [...restarts.values()].sort((a, b) => compareStrings(a.id, b.id))
}

/** Can the running manager reload the unit (it has ExecReload)? Offline, or when unsure: no. */
async function reloadable(host: HostPort, unit: string): Promise<boolean> {
  if (!host.live) return false
  const result = await host.query('systemctl', ['show', '--property=CanReload', '--value', '--', unit], { timeoutMs: 30_000 })
  return result.exitCode === 0 && result.stdout.trim() === 'yes'
}

/** For each wanted path, the services shipped by the packages that list it. */
async function packagesOwning(host: HostPort, wanted: ReadonlySet<string>): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>()
  if (wanted.size === 0) return out
  let entries
  try {
    entries = await host.readdir(DPKG_INFO)
  } catch {
    return out
  }
  for (const entry of entries) {
    if (!entry.name.endsWith('.list')) continue
    const lines = ((await host.readTextIfExists(`${DPKG_INFO}/${entry.name}`)) ?? '').split('\n')
    const hits = lines.filter((l) => wanted.has(l))
    if (hits.length === 0) continue
    const units = lines.map((l) => PACKAGED_SERVICE.exec(l)?.[1]).filter((u): u is string => u !== undefined)
    for (const path of hits) out.set(path, [...new Set([...(out.get(path) ?? []), ...units])].sort(compareStrings))
  }
  return out
}
