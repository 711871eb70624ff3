import { existsSync, lstatSync, readFileSync } from 'node:fs'
import { mkdir, rm } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { writeFileAtomic } from '@twinsync/sdk/light'
import { isTwinSyncError, TwinSyncError } from '@twinsync/sdk/errors'
import { lsFilesEntries, lsTreeEntries, runGit, runGitBytes, tryGit } from './git.js'
import { moveFailedNextStep, removeTwinFile } from './twin-files.js'
import { moving } from './move-stamp.js'

/**
 * A pull's move of the working twin (its `merge --ff-only`, or `--take-mirror`'s `reset --keep`),
 * recorded while it runs: `.git/twinsync/pull-move.json`, never committed. git's checkout is not
 * all or nothing, and a run killed inside it (kill -9, power lost) left part of the mirror's files
 * in the working twin, one of them created and not yet written (session 24, found by killing
 * `twinsync pull` on the services root: an empty /etc/pam.d/common-account), with HEAD, the index
 * and the held intent where they were. The next run took those files for a person's edits: the
 * next pull kept them on top, pending, and `plan` proposed writing them to the machine. The pull
 * writes this record after its edits are set aside (IntentService.hold: they are in a ref then)
 * and removes it once git is done; `settlePullMove` (TwinRepository.settle, under the twin lock,
 * before anything reads or moves the working twin) puts a killed move's files back as HEAD has
 * them, then the held edits go back on top (IntentService.putBackHeld).
 */
const RECORD = join('.git', 'twinsync', 'pull-move.json')

interface PullMove {
  from: string
  to: string
}

export async function recordPullMove(dir: string, from: string, to: string): Promise<void> {
  const path = join(dir, RECORD)
  await mkdir(dirname(path), { recursive: true })
  await writeFileAtomic(path, JSON.stringify({ from, to } satisfies PullMove))
}

export async function clearPullMove(dir: string): Promise<void> {
  await rm(join(dir, RECORD), { force: true })
}

/** One lstat: whether a killed pull's move waits to be settled. */
export function pullMoveUnsettled(dir: string): boolean {
  return lstatSync(join(dir, RECORD), { throwIfNoEntry: false }) !== undefined
}

/**
 * Settle a killed pull's move (under the twin lock). HEAD still the move's start: git did not
 * finish (it moves HEAD last, after the files and the index), so every path the move was to
 * write or remove is put back as HEAD has it. HEAD at its end (or elsewhere): git finished;
 * nothing to undo. An unreadable record is dropped: what it could say, HEAD says. A put-back the
 * twin refuses (putBack) keeps the record: the next run tries again, and nothing reads the
 * half-moved working twin as intent meanwhile.
 */
export async function settlePullMove(dir: string): Promise<void> {
  let move: PullMove | undefined
  try {
    const parsed = JSON.parse(readFileSync(join(dir, RECORD), 'utf8')) as Partial<PullMove>
    if (typeof parsed.from === 'string' && typeof parsed.to === 'string' && /^[0-9a-f]{40,64}$/.test(parsed.from) && /^[0-9a-f]{40,64}$/.test(parsed.to)) move = { from: parsed.from, to: parsed.to }
  } catch {
    move = undefined
  }
  const head = (await tryGit(dir, ['rev-parse', '--verify', '--quiet', 'HEAD'])).output.trim()
  // Putting the files back moves the working twin (move-stamp.ts).
  await moving(dir, async () => {
    if (move !== undefined && head === move.from) {
      const moved = (await runGit(dir, ['diff-tree', '-r', '-z', '--name-only', '--no-renames', move.from, move.to])).split('\0').filter((p) => p.length > 0)
      await putBack(dir, move.from, moved, 'A pull that stopped inside git\'s checkout left the working twin half-moved')
    }
    await clearPullMove(dir)
  })
}

/**
 * Put `paths` of the working twin back as `commit` has them: a path it does not hold is removed,
 * the others checked out. For a killed pull's move (settlePullMove) and a failed one's undo
 * (undoIncoming). A path the twin refuses (an immutable or read-only folder, a full disk, an I/O
 * error: the same on every try) is TWIN_MOVE_FAILED, naming it, the cause and the next step;
 * before session 34 it was the file system's bare error (an rm's ENOTDIR, naming neither),
 * reported as TwinSync's own failure, on every later command.
 *
 * Speed (session 40): the paths go to git on its standard input and each is looked up by name:
 * the commit's entries into the index (`update-index --index-info`), then those files written
 * from it (`checkout-index --force --index --stdin`, the same checkout of an entry as `git
 * checkout <commit> -- <path>`, with the same messages). Before, `git checkout <commit> --` took
 * them 500 at a time as pathspecs, and git matches every pathspec against every index entry:
 * settling a killed pull of 131,000 files (half of them written) took 80.6 s of CPU, 64.1 s of it
 * git's own matching; now 13.3 s, git's own 0.9 s, the rest the kernel's writing of the files
 * (nice 10, load 8; core/test/pull-move-scale.test.ts). A run killed between the two leaves the
 * index as the commit has it and the files half written: the record stays, and the next run
 * puts them back again. A path the commit does not hold is removed from the working twin, then
 * from the index (in the same `update-index`), so HEAD, the index and the files agree on it.
 */
export async function putBack(dir: string, commit: string, paths: readonly string[], what: string): Promise<void> {
  if (paths.length === 0) return
  const inCommit = new Map<string, string>()
  for (const { mode, sha, path } of lsTreeEntries(await runGit(dir, ['ls-tree', '-r', '-z', '--full-tree', commit]))) inCommit.set(path, `${mode} ${sha}\t${path}\0`)
  for (const path of paths) {
    if (inCommit.has(path)) continue
    await removeTwinFile(dir, path).catch((error: unknown) => {
      throw putBackFailed(dir, what, path, (error as NodeJS.ErrnoException).code, error)
    })
  }
  const back = paths.filter((p) => inCommit.has(p))
  try {
    // Only what differs is touched, as `git checkout <commit> -- <path>` did: an index entry the
    // commit already has keeps its stat data (--index-info writes an entry without any), and a file
    // that is already its index entry is not written again (hostile-write.test.ts: the index as before).
    // An entry git is told not to compare (assume-unchanged `h`, skip-worktree `S`: diff-files never
    // names it) is written whatever it holds.
    const indexed = new Map<string, string>()
    const written = new Set<string>()
    for (const { tag, mode, sha, path } of lsFilesEntries(await runGit(dir, ['ls-files', '-v', '-s', '-z']))) {
      indexed.set(path, `${mode} ${sha}\t`)
      if (tag !== 'H') written.add(path)
    }
    // A path the commit does not hold leaves the index too (mode 0 removes an entry). Session 41:
    // a pull killed after git wrote the index and before it moved HEAD left the mirror's added
    // paths in the index after the settle: staged, their files removed, and committed by a person's
    // `git commit` or read by any index-based check as the twin's.
    const gone = paths.filter((p) => !inCommit.has(p) && indexed.has(p)).map((p) => `0 ${'0'.repeat(idOf(indexed.get(p) as string).length)}\t${p}\0`)
    const entryOf = (p: string) => inCommit.get(p) as string
    const stale = back.filter((p) => indexed.get(p) !== entryOf(p).slice(0, entryOf(p).indexOf('\t') + 1))
    if (gone.length + stale.length > 0) await runGitBytes(dir, ['update-index', '-z', '--index-info'], { input: [...gone, ...stale.map(entryOf)].join('') })
    if (back.length === 0) return
    for (const p of stale) written.add(p)
    for (const p of (await runGit(dir, ['diff-files', '--name-only', '-z'])).split('\0')) if (p !== '') written.add(p)
    const write = back.filter((p) => written.has(p) || !existsSync(join(dir, p)))
    if (write.length > 0) await runGitBytes(dir, ['checkout-index', '--force', '--index', '-z', '--stdin'], { input: write.map((p) => `${p}\0`).join('') })
  } catch (error) {
    // git names the file and the cause in its own words: "unable to unlink old 'x': Operation not permitted".
    const said = String((error as { details?: { git?: string } }).details?.git ?? (error as Error)?.message ?? '')
    const path = back.find((p) => said.includes(`'${p}'`) || said.includes(` ${p}:`)) ?? back[0] ?? (paths[0] as string)
    throw putBackFailed(dir, what, path, isTwinSyncError(error) && error.code === 'DISK_FULL' ? 'ENOSPC' : errnoSaid(said), error)
  }
}

/** The object id of an index entry as `indexed` keeps it ("100644 <id>\t"). */
const idOf = (entry: string) => entry.slice(entry.indexOf(' ') + 1, -1)

const SAID: ReadonlyArray<[RegExp, string]> = [
  [/Operation not permitted/, 'EPERM'],
  [/Permission denied/, 'EACCES'],
  [/Read-only file system/, 'EROFS'],
  [/No space left on device/, 'ENOSPC'],
  [/Disk quota exceeded/, 'EDQUOT'],
]
const errnoSaid = (said: string) => SAID.find(([words]) => words.test(said))?.[1]

function putBackFailed(dir: string, what: string, path: string, cause: string | undefined, error: unknown): TwinSyncError {
  return new TwinSyncError(
    'TWIN_MOVE_FAILED',
    `${what}, and ${path} could not be put back (${cause ?? (error as Error)?.message ?? String(error)}): the twin stays as it is, recorded, and nothing of it is read as an edit until it is put back`,
    { nextStep: moveFailedNextStep(dir, path, cause, 'run any `twinsync` command again (it puts the files back first)'), details: { path, repo: dir }, cause: error },
  )
}
