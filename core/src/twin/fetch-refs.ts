import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { runGit, tryGit } from './git.js'
import { processAlive } from './twin-lock.js'

/**
 * Where a pull fetches the mirror's branch first (one ref a run, by its process id), before the
 * checks of incoming-tree.ts say whether the tracking ref (mirror-refusal.ts, MIRROR_REF) may
 * move there. Not under `refs/twinsync/` (what is reached from there is this twin's own history:
 * `show`, `revert`), nor `refs/remotes/` (a reflog there would keep a refused commit reachable).
 * The fetch names it alone (`--refmap=`): git's remote.mirror.fetch would otherwise move
 * MIRROR_REF as well ("opportunistic" update).
 *
 * Session 46: before, a pull fetched straight into MIRROR_REF, and a refused commit stayed
 * there (by design since session 18, so a person could look at it): every later command that
 * compares the twin with the mirror read it. A commit with a 300 MB message: each `status` read it
 * (`rev-list HEAD ^mirror/main`: 0.3 GB of git's memory), and each snapshot's push looked at it
 * for secrets (the audit of what the mirror holds) until it failed after 22 s and 1.9 GB
 * ("Maximum call stack size exceeded", an internal error). Now the refused commit is never on a
 * ref: its objects are unreachable, and the next whole pack puts them in a cruft pack and drops
 * them a day later (auto-pack.ts).
 *
 * Session 47 (M1 of session 46's review): a pull killed between its fetch and its check left its
 * ref on a commit nothing had judged, until the next pull; meanwhile every command that walks all
 * refs reached it (`git log --all`, the whole pack's reachability: a refused commit's objects
 * went into the main pack, not the cruft pack). Now any command that takes the twin lock drops
 * such refs first (dropDeadFetchRefs, from TwinRepository.settle).
 */
export const FETCH_REFS = 'refs/twinsync-fetch/'

let fetches = 0

/** A fetch ref of this pull's own (FETCH_REFS): the process id, then a count (two pulls of one process, the TUI's, each have theirs). */
export function fetchRef(): string {
  return `${FETCH_REFS}${process.pid}-${++fetches}`
}

/**
 * This pull's fetch ref (`own`) and those of runs that are gone (killed between their fetch and
 * their check): removed, so no fetched commit stays reachable. A ref of a live run (a pull
 * fetching beside this one, which fetches before it takes the twin lock) is left to it.
 */
export async function dropFetchRefs(dir: string, own?: string): Promise<void> {
  const refs = (await runGit(dir, ['for-each-ref', '--format=%(refname)', FETCH_REFS])).split('\n').filter(Boolean)
  for (const ref of refs) {
    const pid = Number(/^(\d+)-\d+$/.exec(ref.slice(FETCH_REFS.length))?.[1])
    if (ref !== own && Number.isInteger(pid) && pid > 0 && processAlive(pid)) continue
    await tryGit(dir, ['update-ref', '-d', ref])
  }
}

/**
 * What a killed pull left (dropFetchRefs), for every command that takes the twin lock
 * (TwinRepository.settle). Speed: the usual twin has no fetch ref, and then this is one
 * `readdir` of `.git/refs/twinsync-fetch` (git leaves the folder empty after a pull's own ref
 * goes), no git; a ref a person's `git pack-refs` packed is left to the next pull's own
 * dropFetchRefs, which asks git.
 */
export async function dropDeadFetchRefs(dir: string): Promise<void> {
  let loose: string[]
  try {
    loose = readdirSync(join(dir, '.git', FETCH_REFS))
  } catch {
    return
  }
  if (loose.length > 0) await dropFetchRefs(dir)
}
