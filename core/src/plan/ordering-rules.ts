import type { Change, PlanEdge } from '@twinsync/sdk'

/**
 * Cross-provider order, from the design: packages are installed before the files they ship or
 * configure; files (unit files, config) before the services that read them; services are
 * stopped and disabled before their packages are removed; commands from plans/*.yaml run
 * first or last as they ask. Changes of one stage depend on every change of the stage before,
 * which is coarser than needed but never wrong, and keeps the graph free of guesses about
 * which file belongs to which package.
 */
export const STAGES = [
  { name: 'commands run first', test: (c: Change) => c.category === 'commands' && phase(c) === 'before' },
  { name: 'package installs', test: (c: Change) => c.category === 'packages' && !isRemoval(c) },
  { name: 'files and startup entries', test: (c: Change) => c.category === 'files' || c.category === 'startup' },
  { name: 'services', test: (c: Change) => c.category === 'services' },
  { name: 'package removals', test: (c: Change) => c.category === 'packages' && isRemoval(c) },
  { name: 'commands run last', test: (c: Change) => c.category === 'commands' && phase(c) !== 'before' },
] as const

function isRemoval(c: Change): boolean {
  return c.operation === 'remove' || c.operation === 'purge'
}

function phase(c: Change): string | undefined {
  return (c.data as { phase?: string } | undefined)?.phase
}

export function stageOf(change: Change): number {
  const index = STAGES.findIndex((s) => s.test(change))
  return index < 0 ? 2 : index
}

/** Edges from every change of a stage to every change of the next non-empty stage. */
export function crossProviderEdges(changes: readonly Change[]): PlanEdge[] {
  const byStage = STAGES.map(() => [] as Change[])
  for (const c of changes) byStage[stageOf(c)]?.push(c)
  const present = byStage.map((list, i) => ({ list, i })).filter((s) => s.list.length > 0)
  const edges: PlanEdge[] = []
  for (let k = 0; k + 1 < present.length; k++) {
    const from = present[k] as { list: Change[]; i: number }
    const to = present[k + 1] as { list: Change[]; i: number }
    const reason = `${STAGES[from.i]?.name} before ${STAGES[to.i]?.name}`
    for (const a of from.list) for (const b of to.list) if (a.provider !== b.provider) edges.push({ from: a.id, to: b.id, reason })
  }
  return edges
}
