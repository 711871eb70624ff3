import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { runGitBytes } from './git.js'

/**
 * Keep the twin's object store packed as snapshots go by, the way `git gc --auto` would if the
 * snapshot's plumbing (commit-tree, update-ref) ever ran it, and with only the safe half of it.
 *
 * Figures (issue 22; services root booted, one snapshot an hour with typical churn): without
 * packing, 1,000 snapshots left 81 MB of loose objects (2.2 MB after the first one) — about
 * 20 new objects a snapshot, each a 4 KB block on disk. See docs/architecture.md (Speed) for
 * the repository's size with this module and what a pack costs a snapshot.
 *
 * The heuristic (git's own, made cheap): after a snapshot's commit, the loose objects are
 * counted in Node (readdir of objects/xx, no git process; a few ms). Only when at least
 * LOOSE_LIMIT more are loose than the last pack left behind does git run:
 *   - `git repack -d`: the reachable loose objects into one new pack (incremental; its cost
 *     grows with those objects, not with the history);
 *   - once PACK_LIMIT packs exist, `git repack -A -d` instead: everything into one pack
 *     (deltas across all snapshots; occasional, and its cost grows with the repository), then
 *     `git prune --expire=<PRUNE_EXPIRE>` drops unreachable loose objects (a discarded
 *     volatile-only snapshot's blobs) older than that.
 * Both are skipped when `full: false` asks only for the incremental kind (the apt hook, which
 * runs inside apt's time budget; the next scheduled snapshot consolidates).
 *
 * Crash safety is git's: a pack is written under a temp name and renamed into place with its
 * index, and `-d` deletes loose objects and old packs only once the new pack holds them. `-A`
 * loosens unreachable packed objects instead of dropping them, so a git process left running
 * by a killed TwinSync can never lose an object a later run refers to. A kill leaves only
 * temp packs (objects/pack/.tmp-*, tmp_*), removed here once they are an hour old. No ref,
 * reflog or packed-refs file is touched (unlike `git gc`, whose pack-refs a kill could leave
 * locked). The caller holds the twin lock, so two TwinSync runs never pack at once; readers
 * without the lock (history, status) read through git, which tolerates a repack underway.
 */

/** Loose objects more than the last pack left before a pack runs (about 10 hourly snapshots; 0.8 MB of 4 KB blocks). */
export const LOOSE_LIMIT = 200
/**
 * Packs at which the next pack is a whole one. Incremental packs hold no deltas against older
 * packs, so they add up; a whole pack of 1,000 snapshots cost about what an incremental one did
 * (median 0.85 s vs 0.73 s, shared machine under load: the reachability walk is most of both).
 */
export const PACK_LIMIT = 4
/** Unreachable loose objects younger than this are kept (a concurrent writer's are young). */
const PRUNE_EXPIRE = '1.day.ago'
const TEMP_PACK_AGE_MS = 3_600_000
const STATE = join('.git', 'twinsync', 'cache', 'auto-pack.json')

export interface AutoPackOutcome {
  /** What ran: nothing, one incremental pack, or the whole store into one pack. */
  kind: 'incremental' | 'full'
  /** Loose objects before, and left after (unreachable ones, or written meanwhile). */
  looseBefore: number
  looseAfter: number
  packsAfter: number
  ms: number
}

interface State {
  /** Loose objects the last pack left (what a pack cannot take), the baseline for the next. */
  leftLoose: number
}

/** Pack when the heuristic says so; undefined when nothing ran. Hold the twin lock. */
export async function autoPack(dir: string, options: { full: boolean }): Promise<AutoPackOutcome | undefined> {
  const looseBefore = await countLoose(dir)
  const state = await readState(dir)
  if (looseBefore < state.leftLoose + LOOSE_LIMIT) {
    // Fewer loose objects than the baseline: someone packed or pruned; follow them down.
    if (looseBefore < state.leftLoose) await writeState(dir, { leftLoose: looseBefore })
    return undefined
  }
  const started = performance.now()
  await removeOldTempPacks(dir)
  const packs = await countPacks(dir)
  const full = options.full && packs + 1 >= PACK_LIMIT
  if (full) {
    await runGitBytes(dir, ['repack', '-A', '-d', '-q'])
    await runGitBytes(dir, ['prune', `--expire=${PRUNE_EXPIRE}`])
  } else {
    await runGitBytes(dir, ['repack', '-d', '-q'])
  }
  const looseAfter = await countLoose(dir)
  await writeState(dir, { leftLoose: looseAfter })
  return { kind: full ? 'full' : 'incremental', looseBefore, looseAfter, packsAfter: await countPacks(dir), ms: Math.round(performance.now() - started) }
}

/** Loose objects in the store: entries of objects/00 … objects/ff. */
export async function countLoose(dir: string): Promise<number> {
  const objects = join(dir, '.git', 'objects')
  const folders = (await readdir(objects).catch(() => [] as string[])).filter((n) => /^[0-9a-f]{2}$/.test(n))
  let n = 0
  for (const folder of folders) {
    for (const name of await readdir(join(objects, folder)).catch(() => [] as string[])) if (/^[0-9a-f]{38}$/.test(name)) n++
  }
  return n
}

async function countPacks(dir: string): Promise<number> {
  const names = await readdir(join(dir, '.git', 'objects', 'pack')).catch(() => [] as string[])
  return names.filter((n) => /^pack-[0-9a-f]+\.pack$/.test(n)).length
}

/** What a killed repack left: git names them .tmp-* (pack-objects) or tmp_* (index-pack). */
async function removeOldTempPacks(dir: string): Promise<void> {
  const folder = join(dir, '.git', 'objects', 'pack')
  for (const name of await readdir(folder).catch(() => [] as string[])) {
    if (!name.startsWith('.tmp-') && !name.startsWith('tmp_')) continue
    const info = await stat(join(folder, name)).catch(() => undefined)
    if (info !== undefined && Date.now() - info.mtimeMs > TEMP_PACK_AGE_MS) await rm(join(folder, name), { force: true })
  }
}

async function readState(dir: string): Promise<State> {
  try {
    const value = JSON.parse(await readFile(join(dir, STATE), 'utf8')) as Partial<State>
    return { leftLoose: Number.isInteger(value.leftLoose) && (value.leftLoose as number) >= 0 ? (value.leftLoose as number) : 0 }
  } catch {
    return { leftLoose: 0 }
  }
}

/** Only a hint, written in place: lost or torn, it reads as 0 and the next snapshot packs once more. */
async function writeState(dir: string, state: State): Promise<void> {
  await mkdir(dirname(join(dir, STATE)), { recursive: true })
    .then(() => writeFile(join(dir, STATE), JSON.stringify(state) + '\n', { mode: 0o600 }))
    .catch(() => undefined)
}
