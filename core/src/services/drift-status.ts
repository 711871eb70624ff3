import type { DependencyContainer } from '../di.js'
import { summarizePlan, type CategorySummary } from '../plan/plan-summary.js'
import { Planner } from '../plan/planner.js'
import { RemoteService, type RemoteStatus } from '../remote/remote-service.js'
import { TwinRepository } from '../twin/twin-repository.js'
import { renderRemoteStatus } from './remote-commands.js'

export interface DriftStatus {
  repo: string
  head: string | null
  drift: boolean
  domains: CategorySummary[]
  changes: Array<{ id: string; category: string; summary: string }>
  remote: RemoteStatus
  /** An apply was interrupted: what it was doing and the ways on (the plan heads for its state). */
  interrupted: string | null
}

/** What differs between the twin and the machine. Instructions in plans/ are not drift. */
export async function driftStatus(container: DependencyContainer, only: string[] | undefined): Promise<DriftStatus> {
  const twin = container.resolve(TwinRepository)
  const domains = only ?? ['files', 'packages', 'services', 'startup']
  const plan = await container.resolve(Planner).plan({ only: domains.filter((d) => d !== 'commands') })
  return {
    repo: twin.dir,
    head: (await twin.head()) ?? null,
    drift: plan.changes.length > 0,
    domains: summarizePlan(plan),
    changes: plan.changes.map((c) => ({ id: c.id, category: c.category, summary: c.summary })),
    remote: await container.resolve(RemoteService).status(),
    interrupted: plan.diagnostics.find((d) => d.code === 'APPLY_INTERRUPTED')?.summary ?? null,
  }
}

export function renderStatus(s: DriftStatus): string {
  const mirror = (s.remote.configured ? `\n${renderRemoteStatus(s.remote)}` : '') + (s.interrupted === null ? '' : `\n${s.interrupted}`)
  if (!s.drift) return `In sync: the machine matches the twin at ${s.repo} (${s.head?.slice(0, 12) ?? 'no snapshot'}).${mirror}`
  const lines = [`Drift: the machine differs from the twin at ${s.repo} (${s.head?.slice(0, 12)})`]
  for (const d of s.domains) lines.push(`  ${d.category.padEnd(9)} ${d.count} difference${d.count === 1 ? '' : 's'}`)
  lines.push('', ...s.changes.slice(0, 30).map((c) => `  ${c.category.padEnd(9)} ${c.summary}`))
  if (s.changes.length > 30) lines.push(`  … and ${s.changes.length - 30} more (twinsync plan shows them all)`)
  return lines.join('\n') + mirror
}
