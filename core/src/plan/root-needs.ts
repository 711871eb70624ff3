import { dirname } from 'node:path'
import type { Change, Diagnostic, HostReader, Plan } from '@twinsync/sdk'
import { infoDiagnostic } from '@twinsync/sdk/light'
import { twinsyncLine, type CommandTarget } from './command-text.js'
import { machinePathOfChange } from './machine-path.js'

/** A plan's note on a change a run that is not root's cannot apply (one per change, `change` its id). */
export const NEEDS_ROOT = 'NEEDS_ROOT'

/** Whose run this is: its uid and groups (process.getuid, process.getgroups). */
export interface Runner {
  uid: number
  gids: readonly number[]
}

export function thisRunner(): Runner {
  return { uid: process.getuid?.() ?? 0, gids: process.getgroups?.() ?? [] }
}

/**
 * The changes of a plan made by a user who is not root that their apply would fail on, each
 * said once (NEEDS_ROOT, info, `change` its id) with the next step `sudo twinsync apply`: a
 * package or a service (dpkg and systemctl change root's machine), or a path whose folder the
 * user may not write (a file is written beside itself and renamed into place) or that is
 * another user's (its owner and mode are set as the twin says). Before session 20 such a plan
 * looked appliable and every such step failed on apply with EACCES. Computed where the plan is
 * made (Planner), so `twinsync plan`, `apply` and the TUI say the same; nothing for root.
 */
export async function rootNeeds(host: HostReader, changes: readonly Change[], runner: Runner, target: CommandTarget): Promise<Diagnostic[]> {
  if (runner.uid === 0) return []
  const next = `Apply as root: \`sudo ${twinsyncLine(['apply'], target)}\`.`
  const out: Diagnostic[] = []
  const folders = new Map<string, Promise<boolean>>()
  const writable = (folder: string): Promise<boolean> => {
    let known = folders.get(folder)
    if (known === undefined) {
      known = folderWritable(host, folder, runner)
      folders.set(folder, known)
    }
    return known
  }
  for (const change of changes) {
    const why = await whyRoot(host, change, runner, writable)
    if (why !== undefined) out.push(infoDiagnostic(NEEDS_ROOT, `${change.summary}: needs root, ${why}`, { provider: change.provider, change: change.id, detail: next, ...(machinePathOfChange(change) === undefined ? {} : { path: machinePathOfChange(change) as string }) }))
  }
  return out
}

/**
 * A plan made by another run (a saved file, `twinsync apply FILE`) with its NEEDS_ROOT notes made
 * again for this run: a user's plan applied through `sudo` kept "needs root" beside every step
 * root was about to apply (session 20's notes were computed when the plan was made, for whoever
 * made it). The saved notes are the maker's, never this run's; the seal was checked on the file
 * as written, and the changes themselves are untouched. Root gets none, as a fresh plan would.
 */
export async function rootNeedsNow<P extends Pick<Plan, 'changes' | 'diagnostics'>>(plan: P, host: HostReader, runner: Runner, target: CommandTarget): Promise<P> {
  const others = plan.diagnostics.filter((d) => d.code !== NEEDS_ROOT)
  return { ...plan, diagnostics: [...others, ...(await rootNeeds(host, plan.changes, runner, target))] }
}

async function whyRoot(host: HostReader, change: Change, runner: Runner, writable: (folder: string) => Promise<boolean>): Promise<string | undefined> {
  if (change.category === 'packages') return 'packages are installed and removed by root (dpkg)'
  if (change.category === 'services') return 'services are enabled, started and stopped by root (systemctl)'
  const path = machinePathOfChange(change)
  if (path === undefined) return undefined
  const st = await host.lstat(path).catch(() => undefined)
  if (st !== undefined && st.uid !== runner.uid) return `${path} is ${st.uid === 0 ? "root's" : `uid ${st.uid}'s`}`
  if (!(await writable(dirname(path)))) return `its folder ${dirname(path)} is not this user's to write`
  return undefined
}

/** May the runner create a file in `folder` (write and search), or in the nearest folder that exists above it? */
async function folderWritable(host: HostReader, folder: string, runner: Runner): Promise<boolean> {
  for (let at = folder; ; at = dirname(at)) {
    const st = await host.stat(at).catch(() => undefined)
    if (st !== undefined) {
      if (st.type !== 'directory') return false
      const bits = st.uid === runner.uid ? (st.mode >> 6) & 7 : runner.gids.includes(st.gid) ? (st.mode >> 3) & 7 : st.mode & 7
      return (bits & 3) === 3
    }
    if (at === '/') return false
  }
}

/** The plan's NEEDS_ROOT notes by change id (both front ends show each beside its change). */
export function rootNotes(plan: Pick<Plan, 'diagnostics'>): Map<string, Diagnostic> {
  return new Map(plan.diagnostics.flatMap((d) => (d.code === NEEDS_ROOT && d.change !== undefined ? [[d.change, d] as const] : [])))
}

/** The plan's head note when changes need root, with the next step; undefined when none does. */
export function needsRootLine(plan: Pick<Plan, 'changes' | 'diagnostics'>): string | undefined {
  const notes = rootNotes(plan)
  const count = plan.changes.filter((c) => notes.has(c.id)).length
  if (count === 0) return undefined
  const next = [...notes.values()][0]?.detail ?? ''
  return `${count} of ${plan.changes.length} change${plan.changes.length === 1 ? '' : 's'} need${count === 1 ? 's' : ''} root: this run is not root's, so applying ${count === 1 ? 'it' : 'them'} here would fail. ${next}`
}

/** Why `change` needs root, from its note (the note's summary without the change's own that leads it). */
export function rootReason(change: Pick<Change, 'summary'>, note: Pick<Diagnostic, 'summary'> | undefined): string | undefined {
  if (note === undefined) return undefined
  const lead = `${change.summary}: needs root, `
  return note.summary.startsWith(lead) ? note.summary.slice(lead.length) : note.summary
}
