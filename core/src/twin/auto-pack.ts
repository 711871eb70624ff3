import { statSync } from 'node:fs'
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { ownEnv } from '@twinsync/sdk/light'
import { runGitBytes } from './git.js'

/**
 * Keep the twin's object store packed as snapshots go by, the way `git gc --auto` would if the
 * snapshot's plumbing (commit-tree, update-ref) ever ran it, and with only the safe half of it.
 *
 * After each snapshot's commit (and each volatile-only snapshot set aside, whose objects were
 * written all the same), the loose objects and the packs are counted in Node (readdir of
 * objects/xx and objects/pack, no git process; a few ms). A commit's objects are one small pack
 * of their own since session 31 (writeObjects in atomic-snapshot.ts; loose before, and still
 * for a git without cruft packs). When there are loose ones (LOOSE_LIMIT more than the last
 * pack could not take), or ROLL_UP_EVERY packs more than the last pack left, git runs:
 *   - `git repack -d --geometric=2`: the loose objects into a new pack, rolled up with the
 *     smallest packs until each pack holds at least twice the objects of the next smaller one
 *     (deltas searched among all the rolled-up objects). No walk of the history (git's
 *     --stdin-packs mode): its cost grows with the small packs it rolls up, not with the
 *     history, and there are at most about log2(objects) packs;
 *   - once PACK_LIMIT packs exist (and not from the apt hook, `full: false`), `git repack
 *     --cruft -d --cruft-expiration=<PRUNE_EXPIRE>` instead: every reachable object into one
 *     pack (deltas across all snapshots; existing deltas reused, so it costs a walk of the
 *     history and a copy, not a new delta search), the unreachable ones (a discarded
 *     volatile-only snapshot's objects, which the geometric kind packs too) into a cruft pack
 *     that remembers their age, and those older than PRUNE_EXPIRE dropped (`git prune` for
 *     expired ones still loose, as `git gc` does).
 * Both write delta chains up to DEPTH deep (git's default is 50).
 * Git older than 2.37 (Ubuntu 22.04) has no cruft packs, and a geometric pack there would keep
 * unreachable objects young for ever (`-A` loosens them with the age of the pack they were in):
 * there the module packs as it did in session 4 (LEGACY below).
 *
 * Figures (issue 22; booted services root, `snapshot --if-changed` after each hour's churn: a
 * setting, a rotating drop-in, 20 journal lines, the processes moving on):
 *   - no packing (before session 4): 81 MB after 1,000 snapshots, 2.2 MB after the first;
 *   - session 4 (LEGACY): 4.3 MB after 1,000. Loose objects cost a 4 KB block each and mostly a
 *     4 KB objects/xx directory too, so the up to 200 left between packs were up to 1.5 MB;
 *     measured every 50 snapshots, this looked like steps of 1.4 MB every 300–350 snapshots (the
 *     sampling beating with the 13-snapshot pack cycle). An incremental pack held whole copies
 *     of every document that changed (no deltas against older packs: the files manifest alone
 *     is 17 KB packed), and its `repack -d` walked the whole history to find the reachable
 *     loose objects, so it cost about what a whole pack did;
 *   - this module (session 5, with top.json and usage.json made steadier): 2.96 MB after 1,000
 *     snapshots, 6.3× the first snapshot as it leaves it packed (468 KB), at most 3.0 MB along
 *     the way; packing 72 ms a snapshot amortised (wall, load average 7; a geometric pack 54 ms
 *     median, a whole one 208 ms), git 14.9 ms of CPU a snapshot against 4.8 (the same 1,000
 *     snapshots replayed). What the rest is: docs/architecture.md (Speed).
 *   - session 31, a commit's objects as a small pack of its own, rolled up every ROLL_UP_EVERY
 *     (8): the minbase root's one-file snapshot, 16 interleaved pairs against the same build
 *     with loose objects and a repack after each (load 11–13; CPU user + sys with children):
 *     medians 0.63 → 0.58 s, paired mean −55 ms (sums 10.01 → 9.12 s, the roll-ups included),
 *     wall paired mean −280 ms. Growth (services container, 200 hourly snapshots instead of
 *     1,000 for want of time, both builds side by side at load 12–17): 1,008 → 1,056 KB at 200
 *     (+4.8%; no whole pack ran, against one before), repack 631 → 99 ms a snapshot amortised,
 *     snapshot median 7.2 → 6.2 s of wall. Not landed: a chaos snapshot-kill trial failed (see
 *     notes/s31/speed.md).
 *
 * Crash safety is git's: a pack is written under a temp name and renamed into place with its
 * index, and `-d` deletes loose objects and old packs only once a new pack holds them. No
 * unreachable object younger than PRUNE_EXPIRE is dropped (the cruft pack keeps it; `-A`
 * loosens it), so a git process left running by a killed TwinSync can never lose an object a
 * later run refers to. A kill leaves only temp packs (objects/pack/.tmp-*, tmp_*), removed here
 * once they are an hour old. No ref, reflog or packed-refs file is touched (unlike `git gc`,
 * whose pack-refs a kill could leave locked). The caller holds the twin lock, so two TwinSync
 * runs never pack at once; readers without the lock (history, status) read through git, which
 * tolerates a repack underway.
 */

/** Loose objects more than the last pack left before a pack runs: any (a changed hourly snapshot writes 10–15). */
export const LOOSE_LIMIT = 1
/**
 * Packs more than the last pack left before a pack runs. Speed (issue 22, session 31): a
 * snapshot's commit writes its objects as one small pack of its own (writeObjects in
 * atomic-snapshot.ts, with pack-writer.ts), not loose, so most changed snapshots run no git
 * here at all; every ROLL_UP_EVERY such packs the geometric repack rolls them up (with deltas
 * among them), as it rolled each commit's loose objects up before. Figures: the module's comment.
 */
export const ROLL_UP_EVERY = 8
/**
 * Packs (cruft packs not counted) at which the next pack is a whole one: about every 50 hourly
 * snapshots, so its walk of the history stays a small part of a snapshot as the history grows.
 * The 1,000 snapshots replayed (their objects written loose as a snapshot writes them, this
 * module run after each; one run each, shared 2-core machine): at 8, 20 whole packs, 2.5 MB of
 * objects at the end, git 14.9 ms CPU a snapshot; at 4 (a whole pack every third snapshot),
 * 2.3 MB and 23 ms; session 4's setting 3.7 MB (up to 3.8 MB) and 4.8 ms.
 */
export const PACK_LIMIT = 8
/**
 * Longest delta chain written. Hourly versions of one document (the files manifest, the journal
 * tail) delta best against the one before: at git's 50 a new whole copy every 50 versions (the
 * manifest: 17 KB each time, against about 150 bytes a delta). Reading the oldest of 250
 * applies 250 deltas of a few hundred bytes to a 170 KB document, a few ms.
 */
export const DEPTH = 250
/** Unreachable objects younger than this are kept (a concurrent writer's are young). */
const PRUNE_EXPIRE = '1.day.ago'
/** Git without cruft packs: session 4's setting (a `repack -d` at 200 loose objects, every fourth pack `-A -d` and a prune). */
export const LEGACY = { looseLimit: 200, packLimit: 4, minVersion: [2, 37] as const }
const TEMP_PACK_AGE_MS = 3_600_000
const STATE = join('.git', 'twinsync', 'cache', 'auto-pack.json')

export interface AutoPackOutcome {
  /** What ran: the loose objects into a pack, or the whole store into one pack. */
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
  /** Packs (cruft packs not counted) the last pack left; undefined: not known yet (then today's count). */
  leftPacks?: number
}

/** Pack when the heuristic says so; undefined when nothing ran. Hold the twin lock. */
export async function autoPack(dir: string, options: { full: boolean; legacy?: boolean }): Promise<AutoPackOutcome | undefined> {
  const looseBefore = await countLoose(dir)
  const state = await readState(dir)
  const packsBefore = await countPacks(dir)
  const leftPacks = state.leftPacks ?? packsBefore
  // Small packs of commits (writeObjects) to roll up: only a git with cruft packs writes them.
  const rollUp = packsBefore >= leftPacks + ROLL_UP_EVERY
  // Nothing loose to pack either way (a snapshot whose objects went into one pack): no `git version` asked.
  const legacy = looseBefore < state.leftLoose + Math.min(LOOSE_LIMIT, LEGACY.looseLimit) && !rollUp ? (options.legacy ?? false) : (options.legacy ?? !(await hasCruftPacks(dir)))
  if (looseBefore < state.leftLoose + (legacy ? LEGACY.looseLimit : LOOSE_LIMIT) && !(rollUp && !legacy)) {
    // Fewer loose objects or packs than the baseline: someone packed or pruned; follow them down.
    if (looseBefore < state.leftLoose || packsBefore < leftPacks || state.leftPacks === undefined) {
      await writeState(dir, { leftLoose: Math.min(looseBefore, state.leftLoose), leftPacks: Math.min(packsBefore, leftPacks) })
    }
    return undefined
  }
  const started = performance.now()
  await removeOldTempPacks(dir)
  // Whole when the packs the last pack left, and the one this makes, reach the limit (the commits' small packs are what this rolls up).
  const packs = legacy ? packsBefore : Math.min(packsBefore, leftPacks)
  const full = options.full && packs + 1 >= (legacy ? LEGACY.packLimit : PACK_LIMIT)
  // -n: no update-server-info (info/refs, for serving over dumb HTTP; nobody serves a twin so).
  const depth = `--depth=${DEPTH}`
  if (legacy && full) {
    await runGitBytes(dir, ['repack', '-A', '-d', '-q', '-n', depth])
    await runGitBytes(dir, ['prune', `--expire=${PRUNE_EXPIRE}`])
  } else if (legacy) {
    await runGitBytes(dir, ['repack', '-d', '-q', '-n', depth])
  } else if (full) {
    await runGitBytes(dir, ['repack', '--cruft', `--cruft-expiration=${PRUNE_EXPIRE}`, '-d', '-q', '-n', depth])
    // What the cruft pack left loose is unreachable and already expired (or written meanwhile,
    // and young): git prune, as git gc runs it after a cruft pack. Its walk of the history
    // is only paid then (loose objects are packed after every commit).
    if ((await countLoose(dir)) > 0) await runGitBytes(dir, ['prune', `--expire=${PRUNE_EXPIRE}`])
  } else {
    await runGitBytes(dir, ['repack', '--geometric=2', '-d', '-q', '-n', depth])
  }
  const looseAfter = await countLoose(dir)
  const packsAfter = await countPacks(dir)
  await writeState(dir, { leftLoose: looseAfter, leftPacks: packsAfter })
  return { kind: full ? 'full' : 'incremental', looseBefore, looseAfter, packsAfter, ms: Math.round(performance.now() - started) }
}

let cruft: Promise<boolean> | undefined
/**
 * Whether this git has cruft packs (2.37 and later); asked once a process, and kept in the
 * twin's cache with the stat data of the `git` a spawn runs (speed, issue 22: a changed
 * snapshot's `git version` process, 5–10 ms of Node's CPU to spawn it); another binary there
 * (an upgrade replaces the file), or none found, and git is asked again.
 */
export function hasCruftPacks(dir: string): Promise<boolean> {
  cruft ??= (async () => {
    const binary = gitOnPath()
    const file = join(dir, VERSION_CACHE)
    if (binary !== undefined) {
      const known = await readFile(file, 'utf8').then((t) => JSON.parse(t) as { binary?: unknown; cruft?: unknown }, () => undefined)
      if (known?.binary === binary && typeof known.cruft === 'boolean') return known.cruft
    }
    const answer = await runGitBytes(dir, ['version']).then(
      (out) => {
        const [major = 0, minor = 0] = (/(\d+)\.(\d+)/.exec(out.toString('utf8')) ?? []).slice(1).map(Number)
        return major > LEGACY.minVersion[0] || (major === LEGACY.minVersion[0] && minor >= LEGACY.minVersion[1])
      },
      () => undefined,
    )
    if (answer === undefined) return false
    if (binary !== undefined) {
      await mkdir(dirname(file), { recursive: true })
        .then(() => writeFile(file, JSON.stringify({ binary, cruft: answer }) + '\n', { mode: 0o600 }))
        .catch(() => undefined)
    }
    return answer
  })()
  return cruft
}

const VERSION_CACHE = join('.git', 'twinsync', 'cache', 'git-version.json')

/** Tests: forget this process's answer (the cache file stays). */
export function forgetCruftAnswer(): void {
  cruft = undefined
}

/** The `git` a spawn would run (the first on git.ts's PATH, ownEnv's), named by its path and stat data; undefined when unsure. */
function gitOnPath(): string | undefined {
  for (const folder of (ownEnv().PATH ?? '').split(':')) {
    if (folder === '') continue
    const path = join(folder, 'git')
    const info = statSync(path, { throwIfNoEntry: false, bigint: true })
    if (info === undefined || !info.isFile() || (info.mode & 0o111n) === 0n) continue
    return `${path}:${info.dev}:${info.ino}:${info.size}:${info.mtimeNs}:${info.ctimeNs}`
  }
  return undefined
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

/** Packs in the store with their index, less cruft packs (the ones with a .mtimes file: unreachable objects waiting to expire). */
export async function countPacks(dir: string): Promise<number> {
  const names = new Set(await readdir(join(dir, '.git', 'objects', 'pack')).catch(() => [] as string[]))
  return [...names].filter((n) => /^pack-[0-9a-f]+\.pack$/.test(n) && names.has(n.replace(/\.pack$/, '.idx')) && !names.has(n.replace(/\.pack$/, '.mtimes'))).length
}

/**
 * Whether a snapshot's commit writes its objects as a pack of their own (writeObjects in
 * atomic-snapshot.ts): with a git that has cruft packs, whose geometric repack rolls packs up
 * without a walk of the history. Without (LEGACY), they go loose as before.
 */
export function packsCommits(dir: string): Promise<boolean> {
  return hasCruftPacks(dir)
}

/**
 * What a killed repack or pack write left: git names them .tmp-* (pack-objects) or tmp_*
 * (index-pack, pack-writer.ts); and a pack whose index a kill kept from being renamed beside it
 * (pack-writer.ts renames the pack first, as git does), which git never reads.
 */
async function removeOldTempPacks(dir: string): Promise<void> {
  const folder = join(dir, '.git', 'objects', 'pack')
  const names = await readdir(folder).catch(() => [] as string[])
  const indexed = new Set(names.filter((n) => n.endsWith('.idx')).map((n) => n.slice(0, -4)))
  for (const name of names) {
    const orphan = /^pack-[0-9a-f]+\.pack$/.test(name) && !indexed.has(name.slice(0, -5))
    if (!name.startsWith('.tmp-') && !name.startsWith('tmp_') && !orphan) continue
    const info = await stat(join(folder, name)).catch(() => undefined)
    if (info !== undefined && Date.now() - info.mtimeMs > TEMP_PACK_AGE_MS) await rm(join(folder, name), { force: true })
  }
}

async function readState(dir: string): Promise<State> {
  const count = (n: unknown) => (Number.isInteger(n) && (n as number) >= 0 ? (n as number) : undefined)
  try {
    const value = JSON.parse(await readFile(join(dir, STATE), 'utf8')) as Partial<State>
    const leftPacks = count(value.leftPacks)
    return { leftLoose: count(value.leftLoose) ?? 0, ...(leftPacks === undefined ? {} : { leftPacks }) }
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
