import type { Change, Diagnostic, PlanEdge } from '@twinsync/sdk'
import { TwinSyncError, compareStrings, warningDiagnostic } from '@twinsync/sdk/light'
import { crossProviderEdges, needEdges } from './ordering-rules.js'
import { appendTo } from '../append-to.js'

export interface PlanGraph {
  changes: Change[]
  edges: PlanEdge[]
  diagnostics: Diagnostic[]
}

/**
 * Merge the changes of every provider into one graph: what the changes declare (`requires`,
 * `needs`), then the coarse cross-provider stages wherever they do not contradict a declaration
 * (see ordering-rules.ts). Refuses duplicate ids and cycles of declared edges, naming the
 * changes involved.
 */
export function buildPlanGraph(changes: readonly Change[]): PlanGraph {
  const ids = new Set<string>()
  for (const c of changes) {
    if (ids.has(c.id)) throw new TwinSyncError('PLAN_INVALID', `Two changes have the id ${c.id}`, { details: { id: c.id } })
    ids.add(c.id)
  }
  const diagnostics: Diagnostic[] = []
  const edges: PlanEdge[] = []
  const seen = new Set<string>()
  const stageEdges = new Set<PlanEdge>()
  const add = (e: PlanEdge, stage = false) => {
    const key = `${e.from}\0${e.to}`
    if (seen.has(key) || e.from === e.to) return
    seen.add(key)
    edges.push(e)
    if (stage) stageEdges.add(e)
  }
  for (const c of changes) {
    for (const r of c.requires ?? []) {
      if (ids.has(r)) add({ from: r, to: c.id, reason: `${c.provider} requires it` })
      else diagnostics.push(warningDiagnostic('PLAN_INVALID', `${c.id} requires ${r}, which is not in the plan`, { provider: c.provider }))
    }
  }
  for (const e of needEdges(changes)) add(e)
  const declared = reachability(edges)
  for (const e of crossProviderEdges(changes)) if (!declared(e.to, e.from)) add(e, true)
  // A stage edge can still close a longer cycle together with declared edges: drop it too.
  for (;;) {
    const cycle = findCycle(changes.map((c) => c.id), edges)
    if (cycle === undefined) break
    const stageEdge = edgesOfCycle(cycle, edges).find((e) => stageEdges.has(e))
    if (stageEdge === undefined) {
      throw new TwinSyncError('PLAN_CYCLE', `The plan's order has a cycle: ${cycle.join(' → ')}`, {
        nextStep: 'Remove one of these changes (or the instruction in plans/ that adds it) and plan again.',
        details: { cycle },
      })
    }
    edges.splice(edges.indexOf(stageEdge), 1)
    stageEdges.delete(stageEdge)
  }
  return { changes: [...changes], edges, diagnostics }
}

/** `reaches(a, b)`: is there a path from a to b over `edges` (as they are now)? Memoised per start. */
function reachability(edges: readonly PlanEdge[]): (from: string, to: string) => boolean {
  const next = successors(edges)
  const memo = new Map<string, Set<string>>()
  return (from, to) => {
    if (!next.has(from)) return false
    let reached = memo.get(from)
    if (reached === undefined) {
      reached = new Set()
      const stack = [from]
      while (stack.length > 0) {
        for (const n of next.get(stack.pop() as string) ?? []) {
          if (!reached.has(n)) {
            reached.add(n)
            stack.push(n)
          }
        }
      }
      memo.set(from, reached)
    }
    return reached.has(to)
  }
}

/** Each change's successors over `edges` (appended in place: see appendTo). */
function successors(edges: readonly PlanEdge[]): Map<string, string[]> {
  const next = new Map<string, string[]>()
  for (const e of edges) appendTo(next, e.from, e.to)
  return next
}

function edgesOfCycle(cycle: readonly string[], edges: readonly PlanEdge[]): PlanEdge[] {
  const out: PlanEdge[] = []
  for (let i = 0; i + 1 < cycle.length; i++) {
    const e = edges.find((x) => x.from === cycle[i] && x.to === cycle[i + 1])
    if (e !== undefined) out.push(e)
  }
  return out
}

/**
 * The changes in waves: each wave holds changes whose predecessors are all in earlier waves,
 * so a wave's changes may run at the same time. Within a wave, changes keep plan order.
 */
export function waves(changes: readonly Change[], edges: readonly PlanEdge[]): Change[][] {
  const indegree = new Map(changes.map((c) => [c.id, 0]))
  const next = new Map<string, string[]>()
  for (const e of edges) {
    if (!indegree.has(e.from) || !indegree.has(e.to)) continue
    indegree.set(e.to, (indegree.get(e.to) ?? 0) + 1)
    appendTo(next, e.from, e.to)
  }
  const byId = new Map(changes.map((c) => [c.id, c]))
  const order = new Map(changes.map((c, i) => [c.id, i]))
  const out: Change[][] = []
  let ready = changes.filter((c) => indegree.get(c.id) === 0).map((c) => c.id)
  while (ready.length > 0) {
    out.push(ready.map((id) => byId.get(id) as Change))
    const following: string[] = []
    for (const id of ready) {
      for (const to of next.get(id) ?? []) {
        const left = (indegree.get(to) ?? 0) - 1
        indegree.set(to, left)
        if (left === 0) following.push(to)
      }
    }
    ready = following.sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0))
  }
  return out
}

/** A cycle as a list of ids (first repeated at the end), or undefined. */
export function findCycle(ids: readonly string[], edges: readonly PlanEdge[]): string[] | undefined {
  const next = successors(edges)
  const state = new Map<string, 'open' | 'done'>()
  const stack: string[] = []
  const visit = (id: string): string[] | undefined => {
    state.set(id, 'open')
    stack.push(id)
    for (const to of next.get(id) ?? []) {
      if (state.get(to) === 'open') return [...stack.slice(stack.indexOf(to)), to]
      if (state.get(to) === undefined) {
        const found = visit(to)
        if (found !== undefined) return found
      }
    }
    stack.pop()
    state.set(id, 'done')
    return undefined
  }
  for (const id of [...ids].sort(compareStrings)) {
    if (state.get(id) === undefined) {
      const found = visit(id)
      if (found !== undefined) return found
    }
  }
  return undefined
}
