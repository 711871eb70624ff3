import { readFileSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { isTwinSyncError, stableStringify, writeFileAtomic } from '@twinsync/sdk/light'
import { revParseCommit, runGit, tryGit } from '../twin/git.js'
import { MIRROR_BRANCH, REMOTE_NAME } from './remote-settings.js'

/**
 * The mirror's branch as this twin last took it (pull), pushed it or fetched it after the
 * checks passed: `status`'s "not yet pushed", the push's secret scan and its audit read it.
 */
export const MIRROR_REF = `refs/remotes/${REMOTE_NAME}/${MIRROR_BRANCH}`

/**
 * Where a pull fetches the mirror's branch first (one ref a run, by its process id), before the
 * checks of incoming-tree.ts say whether the tracking ref (MIRROR_REF) may move there. Not
 * under `refs/twinsync/` (what is reached from there is this twin's own history: `show`,
 * `revert`), nor `refs/remotes/` (a reflog there would keep a refused commit reachable). The
 * fetch names it alone (`--refmap=`): git's remote.mirror.fetch would otherwise move MIRROR_REF
 * as well ("opportunistic" update).
 *
 * Session 46: before, a pull fetched straight into MIRROR_REF, and a refused commit stayed
 * there (by design since session 18, so a person could look at it): every later command that
 * compares the twin with the mirror read it. A commit with a 300 MB message: each `status` read it
 * (`rev-list HEAD ^mirror/main`: 0.3 GB of git's memory), and each snapshot's push looked at it
 * for secrets (the audit of what the mirror holds) until it failed after 22 s and 1.9 GB
 * ("Maximum call stack size exceeded", an internal error). Now the refused commit is never on a
 * ref: its objects are unreachable, and the next whole pack puts them in a cruft pack and drops
 * them a day later (auto-pack.ts).
 */
export const FETCH_REFS = 'refs/twinsync-fetch/'

/** What the last pull refused the mirror's branch for (RemoteStatus.refused; `status`, `remote show`). */
export interface MirrorRefusal {
  /** The mirror URL it was fetched from: another mirror linked since hides it. */
  url: string
  /** The mirror's commit the pull fetched and refused. */
  commit: string
  code: string
  message: string
  nextStep?: string
  /** When (ISO time). */
  at: string
}

function refusalPath(twinDir: string): string {
  return join(twinDir, '.git', 'twinsync', 'mirror-refused.json')
}

/** The last pull's refusal of this mirror (`url`), or undefined (none, another mirror's, unreadable). */
export function readMirrorRefusal(twinDir: string, url: string): MirrorRefusal | undefined {
  let saved: Partial<MirrorRefusal> | null
  try {
    saved = JSON.parse(readFileSync(refusalPath(twinDir), 'utf8')) as Partial<MirrorRefusal> | null
  } catch {
    return undefined
  }
  if (saved === null || typeof saved !== 'object' || saved.url !== url) return undefined
  const { commit, code, message, nextStep, at } = saved
  if (typeof commit !== 'string' || !/^[0-9a-f]{40,64}$/.test(commit) || typeof code !== 'string' || typeof message !== 'string' || typeof at !== 'string') return undefined
  return { url, commit, code, message, ...(typeof nextStep === 'string' ? { nextStep } : {}), at }
}

/**
 * Keep what the pull refused, for `status` to say without reading the refused commit again. A
 * write the disk refuses leaves only `status` without that line: the pull's own refusal stands.
 */
export async function keepMirrorRefusal(twinDir: string, url: string, commit: string, error: unknown): Promise<void> {
  if (!isTwinSyncError(error)) return
  const record: MirrorRefusal = { url, commit, code: error.code, message: error.message, ...(error.nextStep === undefined ? {} : { nextStep: error.nextStep }), at: new Date().toISOString() }
  await writeFileAtomic(refusalPath(twinDir), stableStringify(record), { mode: 0o600 }).catch(() => undefined)
}

/** The mirror's branch was taken or replaced (a pull that passed, a push): no refusal stands. */
export async function clearMirrorRefusal(twinDir: string): Promise<void> {
  await rm(refusalPath(twinDir), { force: true }).catch(() => undefined)
}

/**
 * After a refusal: a tracking ref a TwinSync before session 46 left on the refused commit goes
 * back to what this twin and that commit share (their merge base; none: removed), and its reflog
 * lines no longer reached from there go, so nothing keeps the refused objects. Once per twin
 * that had one: the pull that refuses it again.
 */
export async function untrackRefused(dir: string, refused: string): Promise<void> {
  if ((await revParseCommit(dir, MIRROR_REF)) !== refused) return
  const base = (await tryGit(dir, ['merge-base', 'HEAD', refused])).output.trim()
  if (/^[0-9a-f]{40,64}$/.test(base)) await runGit(dir, ['update-ref', '-m', 'pull: the mirror\'s commit was refused', MIRROR_REF, base, refused])
  else await runGit(dir, ['update-ref', '-d', MIRROR_REF, refused])
  await tryGit(dir, ['reflog', 'expire', '--expire-unreachable=now', MIRROR_REF])
}

let fetches = 0

/** A fetch ref of this pull's own (FETCH_REFS): the process id, then a count (two pulls of one process, the TUI's, each have theirs). */
export function fetchRef(): string {
  return `${FETCH_REFS}${process.pid}-${++fetches}`
}

/**
 * This pull's fetch ref (`own`) and those of runs that are gone (killed between their fetch and
 * their check): removed, so no fetched commit stays reachable. A ref of a live run (a pull
 * fetching beside this one) is left to it.
 */
export async function dropFetchRefs(dir: string, own: string): Promise<void> {
  const refs = (await runGit(dir, ['for-each-ref', '--format=%(refname)', FETCH_REFS])).split('\n').filter(Boolean)
  for (const ref of refs) {
    const pid = Number(/^(\d+)-\d+$/.exec(ref.slice(FETCH_REFS.length))?.[1])
    if (ref !== own && Number.isInteger(pid) && pid > 0 && alive(pid)) continue
    await tryGit(dir, ['update-ref', '-d', ref])
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}
