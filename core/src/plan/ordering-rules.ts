import type { Change, PlanEdge } from '@twinsync/sdk'
import { isCommand } from './commands-domain.js'
import { machinePathOfChange } from './machine-path.js'

/**
 * How the planner orders the changes of different providers. Two kinds of rule, both read from
 * what the changes declare, never from operation names:
 *
 * 1. Declared needs (exact). A change lists the machine paths it needs in place first
 *    (`needs`: an apt install needs /etc/apt/sources.list.d/ and the keyrings, a dnf install
 *    /etc/yum.repos.d/). Every change of the plan to such a path runs before it.
 * 2. Stages (coarse). Services are stopped and disabled first (`removal: true` on a services
 *    change): before anything of the plan starts a service (a start, a package's maintainer
 *    script), so one the twin wants stopped gives up its port before one it wants running takes
 *    it; and before the files go (`systemctl disable` reads the unit file the files provider is
 *    about to delete). Files that other changes need (repository files, keys) next;
 *    packages are installed before the files they ship or configure; files
 *    (unit files, config) before the services that read them; services are stopped and disabled
 *    before packages are removed (`removal: true`); commands from plans/*.yaml run first or last
 *    as they ask. Changes of one stage depend on every change of the next non-empty stage before.
 *
 * Declarations win: a stage edge that would close a cycle with declared edges (`requires`,
 * `needs`) is left out, so a package that requires its repository file, or a file that needs a
 * package, orders the way its provider said. Cycles of declared edges alone are real and refused.
 *
 * A declared edge holds its change back when the one before did not succeed. So does a stage
 * edge, but for those from the files to the services (`ORDER_ONLY`): the services stage follows
 * the files with its own `requires` on the files each change needs (a reload or restart on the
 * configuration or unit file it reads, a start or enable on its unit file), so a file its checker
 * refuses holds back those and no others. Before (session 27's red team, a booted server), one
 * sudoers file `visudo` refused skipped a good nginx file's reload, a daemon-reload and a
 * restart: the approved files were on disk and never live. A file that was itself held back
 * (skipped: a package it came with failed) still holds the services back.
 */
export const STAGES = [
  { name: 'commands run first', test: (c: Change) => isCommand(c) && phase(c) === 'before' },
  { name: 'services stopped and disabled', test: (c: Change) => c.category === 'services' && c.removal === true },
  { name: 'files other changes need', test: (c: Change, needed: NeededPaths) => needed(c) },
  { name: 'package installs', test: (c: Change) => c.category === 'packages' && c.removal !== true },
  { name: 'files and startup entries', test: (c: Change) => c.category === 'files' || c.category === 'startup' },
  { name: 'services', test: (c: Change) => c.category === 'services' },
  { name: 'package removals', test: (c: Change) => c.category === 'packages' && c.removal === true },
  { name: 'commands run last', test: (c: Change) => isCommand(c) && phase(c) !== 'before' },
] as const

/** Stage pairs whose edges only order (`PlanEdge.orderOnly`): by the stages' names, first → next. */
const ORDER_ONLY = new Set(['files and startup entries → services'])

/** Is this change's path one that a change of the plan `needs`? */
type NeededPaths = (c: Change) => boolean

function phase(c: Change): string | undefined {
  return (c.data as { phase?: string } | undefined)?.phase
}

export function stageOf(change: Change, needed: NeededPaths = () => false): number {
  const index = STAGES.findIndex((s) => s.test(change, needed))
  // A category no stage names (a plugin's own) goes with the package installs.
  return index < 0 ? STAGES.findIndex((s) => s.name === 'package installs') : index
}


/** Does `path` fall under a `needs` entry: the file itself, or inside a folder ending in "/"? */
export function pathMatchesNeed(path: string, need: string): boolean {
  if (!need.endsWith('/')) return path === need
  return path.startsWith(need) || path === need.slice(0, -1)
}

/** Edges from each change that writes a needed path to the change that needs it. */
export function needEdges(changes: readonly Change[]): PlanEdge[] {
  const writers = changes.flatMap((c) => {
    const path = machinePathOfChange(c)
    return path === undefined ? [] : [{ change: c, path }]
  })
  const edges: PlanEdge[] = []
  for (const c of changes) {
    for (const need of c.needs ?? []) {
      for (const w of writers) {
        if (w.change.id !== c.id && pathMatchesNeed(w.path, need)) edges.push({ from: w.change.id, to: c.id, reason: `${c.id} needs ${need} in place first` })
      }
    }
  }
  return edges
}

/** Edges from every change of a stage to every change of the next non-empty stage. */
export function crossProviderEdges(changes: readonly Change[]): PlanEdge[] {
  const needs = changes.flatMap((c) => c.needs ?? [])
  const needed: NeededPaths = (c) => {
    if (c.category !== 'files' || needs.length === 0) return false
    const path = machinePathOfChange(c)
    return path !== undefined && needs.some((n) => pathMatchesNeed(path, n))
  }
  const byStage = STAGES.map(() => [] as Change[])
  for (const c of changes) byStage[stageOf(c, needed)]?.push(c)
  const present = byStage.map((list, i) => ({ list, i })).filter((s) => s.list.length > 0)
  const edges: PlanEdge[] = []
  for (let k = 0; k + 1 < present.length; k++) {
    const from = present[k] as { list: Change[]; i: number }
    const to = present[k + 1] as { list: Change[]; i: number }
    const reason = `${STAGES[from.i]?.name} before ${STAGES[to.i]?.name}`
    const orderOnly = ORDER_ONLY.has(`${STAGES[from.i]?.name} → ${STAGES[to.i]?.name}`) ? { orderOnly: true as const } : {}
    for (const a of from.list) for (const b of to.list) if (a.provider !== b.provider) edges.push({ from: a.id, to: b.id, reason, ...orderOnly })
  }
  return edges
}
