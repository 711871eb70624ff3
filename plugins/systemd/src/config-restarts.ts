import type { Change, FollowUpRequest, HostPort } from '@twinsync/sdk'
import { checksFor, compareStrings } from '@twinsync/sdk'
import { requireOnce, systemdChangeId, UP } from './change.js'
import type { SystemdState } from './state.js'

const DPKG_INFO = '/var/lib/dpkg/info'
const PACKAGED_SERVICE = /^\/(?:usr\/)?lib\/systemd\/system\/([^/]+\.service)$/
/** What makes a service read its configuration again: content, a new or removed file or link. */
const CONTENT_ACTIONS = new Set(['write', 'symlink', 'delete'])

/**
 * A running service reads its configuration when it starts or reloads: when the plan rewrites
 * such a file (under /etc), propose reloading the service (restarting it when it cannot reload,
 * `CanReload`), each as its own change after the write, which a person can leave out. The
 * services are those shipped by the packages that own the file (dpkg's file lists) and those the
 * configuration checks name for its path (nginx.service for /etc/nginx/sites-available/site).
 */
export async function restartsForConfigChanges({ changes, actual, ctx, configChecks = [] }: FollowUpRequest<SystemdState>): Promise<Change[]> {
  if (actual.runtime === undefined) return []
  const writes = changes.filter((c) => {
    const data = c.data as { action?: unknown; path?: unknown } | undefined
    return c.provider !== 'systemd' && typeof data?.action === 'string' && CONTENT_ACTIONS.has(data.action) && typeof data.path === 'string' && data.path.startsWith('/etc/')
  })
  if (writes.length === 0) return []
  const wanted = new Set(writes.map((c) => (c.data as { path: string }).path))
  const owners = await packagesOwning(ctx.host, wanted)
  for (const path of wanted) {
    const named = checksFor(configChecks, path).flatMap((c) => c.units ?? [])
    if (named.length > 0) owners.set(path, [...new Set([...(owners.get(path) ?? []), ...named])].sort(compareStrings))
  }
  const restarts = new Map<string, Change>()
  const canReload = new Map<string, boolean>()
  for (const write of writes) {
    const path = (write.data as { path: string }).path
    for (const unit of owners.get(path) ?? []) {
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
