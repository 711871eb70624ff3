import type { Change, Plan } from '@twinsync/sdk'
import { appendTo } from '../append-to.js'

export interface ExcludeResult {
  /** The plan without the chosen changes and everything that depends on them. */
  plan: Plan
  /** Changes left out only because they depend (through `requires`) on a chosen one. */
  alsoExcluded: string[]
}

/** Edges a provider asked for with `requires` (plan-graph names them "<provider> requires it"). */
export function isRequiresEdge(edge: Plan['edges'][number]): boolean {
  return edge.reason.endsWith('requires it')
}

/**
 * Leave changes out of a plan. A change that requires a left-out change (directly or through
 * others) cannot run without it, so it is left out too; so is one `madeFor` changes that are all
 * left out (the stop and disable of a unit whose file the plan deletes go with the delete);
 * ordering-only edges (packages before files, …) do not make a change depend on another. Pure:
 * the plan given is not modified.
 */
export function excludeChanges(plan: Plan, ids: Iterable<string>): ExcludeResult {
  const { out, alsoExcluded } = leftOutWith(plan.changes, ids, plan.edges)
  return {
    plan: {
      ...plan,
      basis: { ...plan.basis, fingerprints: Object.fromEntries(Object.entries(plan.basis.fingerprints).filter(([id]) => !out.has(id))) },
      changes: plan.changes.filter((c) => !out.has(c.id)),
      edges: plan.edges.filter((e) => !out.has(e.from) && !out.has(e.to)),
    },
    alsoExcluded,
  }
}

/**
 * excludeChanges' rule over changes alone (and the plan's edges, when there is a plan yet): the
 * chosen ids that are among `changes`, with every change that goes with them (`out`), and those
 * others in the changes' order (`alsoExcluded`).
 */
export function leftOutWith(changes: readonly Change[], ids: Iterable<string>, edges: Plan['edges'] = []): { out: Set<string>; alsoExcluded: string[] } {
  const known = new Set(changes.map((c) => c.id))
  const chosen = new Set([...ids].filter((id) => known.has(id)))
  const dependents = new Map<string, string[]>()
  for (const e of edges) {
    if (isRequiresEdge(e)) appendTo(dependents, e.from, e.to)
  }
  // `requires` on the change itself also counts, in case a plan's edges were trimmed.
  for (const c of changes) {
    for (const r of c.requires ?? []) appendTo(dependents, r, c.id)
  }
  const out = new Set(chosen)
  const queue = [...chosen]
  const madeFor = changes.filter((c) => (c.madeFor ?? []).some((id) => known.has(id)))
  for (;;) {
    while (queue.length > 0) {
      const id = queue.shift() as string
      for (const next of dependents.get(id) ?? []) {
        if (out.has(next) || !known.has(next)) continue
        out.add(next)
        queue.push(next)
      }
    }
    // Made only for changes that are all left out now: out too (and what requires it).
    const orphans = madeFor.filter((c) => !out.has(c.id) && (c.madeFor ?? []).filter((id) => known.has(id)).every((id) => out.has(id)))
    if (orphans.length === 0) break
    for (const c of orphans) {
      out.add(c.id)
      queue.push(c.id)
    }
  }
  return { out, alsoExcluded: changes.map((c) => c.id).filter((id) => out.has(id) && !chosen.has(id)) }
}
