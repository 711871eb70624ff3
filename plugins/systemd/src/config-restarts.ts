import type { Change, FollowUpRequest, HostPort } from '@twinsync/sdk'
import { compareStrings } from '@twinsync/sdk'
import { systemdChangeId } from './service-change.js'
import type { SystemdState } from './service-state.js'

const DPKG_INFO = '/var/lib/dpkg/info'
const PACKAGED_SERVICE = /^\/(?:usr\/)?lib\/systemd\/system\/([^/]+\.service)$/
const UP = new Set(['active', 'activating', 'reloading'])

/**
 * A running service reads its package's configuration when it starts: when the plan rewrites
 * such a file (under /etc), propose restarting the package's running services, each as its own
 * change after the write, which a person can leave out. Packages are found in dpkg's file lists.
 */
export async function restartsForConfigChanges({ changes, actual, ctx }: FollowUpRequest<SystemdState>): Promise<Change[]> {
  if (actual.runtime === undefined) return []
  const writes = changes.filter((c) => {
    const data = c.data as { action?: unknown; path?: unknown } | undefined
    return c.provider !== 'systemd' && data?.action === 'write' && typeof data.path === 'string' && data.path.startsWith('/etc/')
  })
  if (writes.length === 0) return []
  const wanted = new Set(writes.map((c) => (c.data as { path: string }).path))
  const owners = await packagesOwning(ctx.host, wanted)
  const planned = new Set(changes.map((c) => c.id))
  const restarts = new Map<string, Change>()
  for (const write of writes) {
    const path = (write.data as { path: string }).path
    for (const unit of owners.get(path) ?? []) {
      if (!UP.has(actual.runtime[unit]?.active ?? '')) continue
      const id = systemdChangeId('restart', unit)
      // Already reloaded or restarted (it runs an older configuration already): once is enough.
      if (planned.has(id) || planned.has(systemdChangeId('reload', unit))) continue
      const existing = restarts.get(id)
      if (existing !== undefined) {
        existing.requires = [...(existing.requires ?? []), write.id]
        continue
      }
      restarts.set(id, {
        id,
        provider: 'systemd',
        category: 'services',
        operation: 'restart',
        resource: unit,
        summary: `restart ${unit} to read its changed configuration (${path})`,
        before: 'active',
        after: 'active (restarted)',
        risk: 'medium',
        requires: [write.id],
        data: { unit },
      })
    }
  }
  return [...restarts.values()].sort((a, b) => compareStrings(a.id, b.id))
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
