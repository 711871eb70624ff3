import { lstatSync, readFileSync } from 'node:fs'
import { mkdir, rm } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { writeFileAtomic } from '@twinsync/sdk/light'
import { runGit, tryGit } from './git.js'
import { removeTwinFile } from './twin-files.js'

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
 * nothing to undo. An unreadable record is dropped: what it could say, HEAD says.
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
  if (move !== undefined && head === move.from) {
    const split = (out: string) => out.split('\0').filter((p) => p.length > 0)
    const moved = split(await runGit(dir, ['diff-tree', '-r', '-z', '--name-only', '--no-renames', move.from, move.to]))
    const inHead = new Set(split(await runGit(dir, ['ls-tree', '-r', '-z', '--name-only', '--full-tree', move.from])))
    for (const path of moved.filter((p) => !inHead.has(p))) await removeTwinFile(dir, path)
    const back = moved.filter((p) => inHead.has(p))
    for (let i = 0; i < back.length; i += 500) await runGit(dir, ['checkout', move.from, '--', ...back.slice(i, i + 500)])
  }
  await clearPullMove(dir)
}
