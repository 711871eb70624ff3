import { compareStrings, type Change } from '@twinsync/sdk'
import { DAEMON_RELOAD_ID, type SystemdChangeData } from './change.js'
import { PERSISTENT_CONFIG } from './unit-paths.js'

/**
 * The plan's one daemon-reload, listing `files` (administrator's unit files and drop-ins) beside
 * those it lists already: `existing` when the plan has it (returned as it is, changed in place),
 * else a new one (`made`). `madeFor`: the changes it is only there for (leaving them all out
 * leaves it out); one that stands on its own (the diff's, for the twin's unit files) stays so.
 */
export function reloadListing(existing: Change | undefined, files: readonly string[], madeFor?: readonly string[]): { change: Change; made: boolean } {
  const listed = ((existing?.data ?? {}) as SystemdChangeData).unitFiles ?? []
  const all = [...new Set([...listed, ...files])].sort(compareStrings)
  // /etc/systemd/system's files by their names there, others' whole (a cut at its length made
  // /etc/systemd/system.control/x.service "control/x.service").
  const summary = `reload systemd after unit file changes (${all.map((f) => (f.startsWith(PERSISTENT_CONFIG + '/') ? f.slice(PERSISTENT_CONFIG.length + 1) : f)).join(', ')})`
  const reasons = madeFor === undefined ? undefined : [...new Set([...(existing?.madeFor ?? []), ...madeFor])].sort(compareStrings)
  if (existing !== undefined) {
    existing.data = { ...(existing.data as SystemdChangeData), unit: 'manager', unitFiles: all }
    existing.summary = summary
    if (existing.madeFor !== undefined) {
      if (reasons === undefined) delete existing.madeFor
      else existing.madeFor = reasons
    }
    return { change: existing, made: false }
  }
  const change: Change = { id: DAEMON_RELOAD_ID, provider: 'systemd', category: 'services', operation: 'daemon-reload', resource: 'manager', summary, risk: 'low', data: { unit: 'manager', unitFiles: all } }
  if (reasons !== undefined) change.madeFor = reasons
  return { change, made: true }
}
