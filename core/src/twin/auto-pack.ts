import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { readdir, rm, stat } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { ownEnv } from '@twinsync/sdk/light'
import { runGit, runGitBytes } from './git.js'
import { writeRecord } from './quick-status.js'

/**
 * Keep the twin's object store packed as snapshots go by, the way `git gc --auto` would if the
 * snapshot's plumbing (commit-tree, update-ref) ever ran it, and with only the safe half of it.
 *
 * After each snapshot's commit (and each volatile-only snapshot set aside, whose objects were
 * written all the same), the loose objects and the packs are counted in Node (readdir of
 * objects/xx and objects/pack, no git process; a few ms). A commit's objects are one small pack
 * of their own since session 31 (writeObjects in atomic-snapshot.ts; loose before, and still
 * for a git without cruft packs). When there are loose ones (LOOSE_LIMIT more than the last
 * pack could not take), or ROLL_UP_EVERY packs more than the last pack left, or fewer holding
 * 1/ROLL_UP_SHARE of its bytes, git runs:
 *   - `git repack -d --geometric=2`: the loose objects into a new pack, rolled up with the
 *     smallest packs until each pack holds at least twice the objects of the next smaller one
 *     (deltas searched among all the rolled-up objects). No walk of the history (git's
 *     --stdin-packs mode): its cost grows with the small packs it rolls up, not with the
 *     history, and there are at most about log2(objects) packs;
 *   - at the roll-up that makes WHOLE_EVERY commits' small packs rolled up since the last whole
 *     pack (about every 100 commits; the first allowed after it when the apt hook's was the one), or once PACK_LIMIT
 *     packs exist (loose objects packed), and never from the apt hook (`full: false`), `git
 *     repack --cruft -d -f --cruft-expiration=<PRUNE_EXPIRE>` instead: every reachable object into one
 *     pack (deltas across all snapshots, every one searched again: SEARCH_AGAIN; so it costs a
 *     walk of the history and a delta search of every object), the unreachable ones (a discarded
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
 *   - session 32 (session 31's small packs, with the cadence of this session): a commit's
 *     objects a small pack of their own (writeObjects), rolled up every ROLL_UP_EVERY (8) or
 *     once they hold 1/ROLL_UP_SHARE (16) of the bytes the last pack left, a whole pack every
 *     WHOLE_EVERY (48) commits. Growth, 200 hourly snapshots (not 1,000, for time), against
 *     main (loose objects, a geometric repack after each commit), both builds side by side at
 *     load 12–14: 980 → 924 KB at 200, the largest along the way 1,044 → 972 KB, 0.94× on
 *     average snapshot by snapshot (0.72–1.15×: each build's size swings ±10% with its own
 *     roll-ups); repacks 198 geometric + 1 whole → 117 + 4, 650 → 326 ms of wall a snapshot
 *     amortised. At ROLL_UP_EVERY alone (session 31) the twin was 1,008 → 1,056 KB at 200 (no
 *     whole pack ran); with a whole pack every 6 roll-ups, 1,032 KB, and up to 35% larger just
 *     before a roll-up: a small pack holds whole copies (the services root's hourly commit
 *     22 KB, 28 KB on disk with its index), hence ROLL_UP_SHARE. The minbase root's one-file
 *     snapshot on a new twin, 16 interleaved pairs against main (load 13; CPU user + sys with
 *     children): medians 0.720 → 0.695 s, paired mean −32 ms (sd 68 ms); there a small pack
 *     (10 KB) is over 1/16 of the twin (124 KB), so 15 of the 16 rolled up, and the gain is the
 *     loose objects not written; a grown twin rolls up every 2–8 commits (the services twin:
 *     every 2 at 0.5–1 MB).
 *   - session 33, the cadence swept (ROLL_UP_EVERY, ROLL_UP_SHARE, WHOLE_EVERY): a grown twin's
 *     400 hourly snapshots (the growth churn in the booted services container, recorded once)
 *     replayed into a new repository, each commit's new objects written as its small pack
 *     (writePack) and this module run after each, with each setting; objects/ measured with du
 *     after every snapshot (the first snapshot 284 KB), git's CPU (the children's user + sys)
 *     summed; one replay each, load 9–13 (CPU within about ±10%):
 *       setting   mean KB  largest  at 400  roll-ups + whole  git CPU a snapshot
 *       8/16/48     715     1,128    1,052     196 + 8            29 ms   (kept)
 *       4/16/48     716     1,132    1,056     196 + 8            29 ms
 *       16/16/48    714     1,128    1,052     196 + 8            29 ms
 *       8/8/48      727     1,192    1,096     110 + 8            19 ms
 *       8/32/48     710     1,120    1,072     335 + 8            44 ms
 *       8/none/48   760     1,212    1,024      42 + 8            14 ms
 *       8/16/24     705     1,124    1,076     188 + 16           33 ms
 *       8/16/96     719     1,124    1,076     197 + 4            32 ms
 *       16/32/96    718     1,112    1,100     333 + 4            43 ms
 *     On this twin the share rule sets the pace (a 22–28 KB small pack against 0.5–1.1 MB: a
 *     roll-up every second commit), so ROLL_UP_EVERY from 4 to 16 changes nothing; a coarser
 *     share or none is cheaper but larger (8: −34% of git's CPU, +2% on average and +6% at
 *     the largest; none: −53%, +6%, +7%), a finer one or a more frequent whole pack a little
 *     smaller but dearer (1/32: −0.7%, +51%; every 24: −1.4%, +12%). None is better on both:
 *     the setting stays. `twinsync gc` and forget's gc restart the count toward the next whole
 *     pack (gcWhole; before, the next whole pack came up to WHOLE_EVERY commits early).
 *   - session 46, the whole pack searching every delta again (SEARCH_AGAIN) and WHOLE_EVERY 48
 *     → 96: figures at SEARCH_AGAIN.
 *
 * Crash safety is git's: a pack is written under a temp name and renamed into place with its
 * index, and `-d` deletes loose objects and old packs only once a new pack holds them. No
 * unreachable object younger than PRUNE_EXPIRE is dropped (the cruft pack keeps it; `-A`
 * loosens it), so a git process left running by a killed TwinSync can never lose an object a
 * later run refers to. A kill leaves only temp packs (objects/pack/.tmp-*, tmp_*) and a commit's
 * small pack without its index (pack-writer.ts renames the pack first; git never reads it, and
 * `git fsck` is clean with it), removed here once they are an hour old; it is not counted for
 * the roll-up. The module's record (what the last pack left, the roll-ups since the last whole
 * pack) is replaced whole after the pack, so a kill leaves the one before: the next roll-up
 * comes a pack or two late, or a whole pack runs once more; nothing is lost. No ref or
 * packed-refs file is touched (unlike `git gc`, whose pack-refs a kill could leave locked); a
 * whole pack drops reflog lines older than REFLOG_DAYS first (expireReflogs: a kill there leaves
 * git's locks, which settling removes once no git holds them). The caller holds the twin lock, so two TwinSync
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
 * among them), as it rolled each commit's loose objects up before. Sooner when they hold
 * 1/ROLL_UP_SHARE of the bytes the last pack left (below). Figures: the module's comment.
 */
export const ROLL_UP_EVERY = 8
/**
 * Small packs are rolled up once their bytes reach 1/ROLL_UP_SHARE of the packs the last pack
 * left, so they never make the twin more than a few % larger than packing each commit did: a
 * small pack holds whole copies of what changed, no deltas (the services root's hourly
 * commit: a 22 KB pack, 28 KB on disk with its index, against about 2 KB as deltas). On a
 * young small twin that is every commit or two; from about 2 MB of packs, every ROLL_UP_EVERY.
 * At ROLL_UP_EVERY alone the services twin was 18–35% larger than main's just before a roll-up.
 */
export const ROLL_UP_SHARE = 16
/**
 * Commits' small packs rolled up since the last whole pack at which the next roll-up is a whole
 * pack instead: about every 100 commits. 48 from session 32 to 45, about every 50 as PACK_LIMIT
 * made it when each commit's loose objects were packed (PACK_LIMIT counts the geometric
 * progression's packs, which grow more slowly once a pack rolls several commits up: no whole
 * pack in 200 snapshots at ROLL_UP_EVERY, and the twin 4.8% larger); 96 since the whole pack
 * searches every delta again (session 46, SEARCH_AGAIN: half as many of a dearer pack, about as
 * small). Counted in the module's record (State.sinceWhole), which is replaced whole (a temp file
 * renamed over it): a kill leaves the count of the last pack or of the one before, never a torn
 * record.
 */
export const WHOLE_EVERY = 96
/**
 * Size (issue 22, session 46): the whole pack searches every delta again (`git repack -f`, git's
 * window of 10) instead of reusing the ones the packs hold. A roll-up holds no earlier version of
 * a document it rolls up (that is in an older pack), so its first version of each is stored whole
 * or as a delta against some other document of the roll-up: on the scale root a part of the files
 * manifest (`04.json`, 145 KB of JSON) against another part (18 KB), once a roll-up; a whole pack
 * reusing deltas kept those for ever (a whole copy it searches again, a cross one it reuses), half
 * of that twin's growth (session 45). Measured: a grown twin's 400 hourly snapshots replayed into a
 * new repository (each commit's new objects written as its small pack, writePack, this module run
 * after each), objects/ in KB after every snapshot, git's CPU (the children's user + sys) summed;
 * one replay each, load 13–19:
 *   root        setting                       first  mean   largest  at 400  git CPU a snapshot
 *   scale       as before (reused, every 48)   4,620  5,627   6,636   6,384   8.9 ms
 *   scale       -f, every 48                   4,620  4,870   5,404   5,076  30.9 ms
 *   scale       -f every second whole pack     4,620  4,955   5,432   5,252  19.4 ms
 *   scale       -f, every 96 (kept)            4,620  4,963   5,496   5,252  19.0 ms
 *   scale       -f --window=4, every 48        4,620  5,265   5,844   5,464  20.5 ms
 *   scale       -f --window=2, every 48        4,620  5,260   5,800   5,512  16.8 ms
 *   scale       --window=50 (reused), every 48 at 200: 5,540 against 5,500, 10.7 against 8.7 ms
 *   scale       roll-ups without deltas        at 200: 5,688 (largest 6,828), 7.5 ms
 *   services    as before                        272    700   1,108   1,032   7.0 ms
 *   services    -f, every 48                     272    699   1,096   1,028  14.0 ms
 *   services    -f every second whole pack       272    684   1,076   1,076  10.7 ms
 *   services    -f, every 96 (kept)              272    701   1,104   1,028  10.2 ms
 * On the scale root the growth above the first snapshot at 400 is 1,764 → 632 KB (−64%; −74% with
 * -f every 48, for twice the extra CPU); as the twin's .git less caches (the index 2,484 KB and
 * the reflogs beside the objects, about 2.7 MB) about 1.26× → 1.11× the first at 400; at the
 * slope of the 400 (4.4 → 1.6 KB a snapshot) about 1.26× at 1,000 (extrapolated, not run; session
 * 45 measured 1.63× there as it was).
 * The services root has no such sibling documents (its manifest is one document, whose roll-up
 * copies were whole and searched again): no smaller, +3.2 ms of git's CPU a snapshot. A smaller
 * window searches less and finds worse (the parts' versions are not next to each other in git's
 * order). The dearer pack runs half as often: a whole pack -f on the scale twin at 400 took
 * 8.0 s of wall (median, load 13–19) against 2.4 s reused; at 1,000 (session 45) `repack -a -d
 * -f` on a copy of the twin took 3.0 s of git's CPU, 9.3 s of wall at load 13, its reusing whole
 * packs a median 1.3 s of wall. Its cost grows with the history, as the walk of a reusing whole
 * pack does. (git's CPU here is the replay's own children as /proc counts them; session 33's
 * 29 ms was not measured the same way.) Crash safety is the same pack's: -f changes which deltas
 * are written, not how the pack is put in place.
 */
const SEARCH_AGAIN = ['-f'] as const
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
/**
 * Size (issue 22): packs written without git's reverse index (`pack-<id>.rev`, 4 bytes an object
 * and at least a 4 KB block a pack; git 2.41 and later write one by default). It is a cache: git
 * builds it in memory when a command needs it (a repack's reuse of deltas; a few ms for the
 * 15,000 objects of 1,000 hourly snapshots), and nothing TwinSync runs asks for it otherwise. The
 * growth bench's 1,000 hourly snapshots: 64 KB of .rev files on disk (the whole pack's 56 KB),
 * 2.4% of the 2,720 KB twin (session 40; docs/architecture.md). An older pack keeps its own
 * until a pack replaces it.
 */
const NO_REVERSE_INDEX = ['-c', 'pack.writeReverseIndex=false'] as const
/**
 * Size (issue 22, session 41): a reflog line older than this many days is dropped at each whole
 * pack (expireReflogs), from HEAD's, the branches' and the mirror's tracking ref's reflogs; never
 * from TwinSync's own refs' (`refs/twinsync/*`: `refs/twinsync/discarded`'s holds each intent
 * `discard` dropped, until a `twinsync gc`). Every commit adds a line to HEAD's and its
 * branch's reflog, and a push one to `refs/remotes/mirror/main`'s; nothing expired them (a twin
 * never runs git's own gc, whose `gc.reflogExpire` is 90 days and `gc.reflogExpireUnreachable`
 * 30), so an hourly twin's reflogs grew by about 0.3 KB an hour (0.43 KB with a mirror), for
 * ever: 2.6 MB (3.8 MB) a year. Now they hold at most this many days of lines and the ~96 commits
 * between two whole packs (48 before session 46: 0.23 MB, 0.33 MB): about 0.24 MB (0.36 MB) hourly. 30 days is git's own window for a
 * line naming a commit nothing reaches any more (a person's `git reset` in the twin), the only
 * line that keeps something the history does not; a line naming a commit of the history says
 * when the ref moved there, which a snapshot's commit says itself.
 */
export const REFLOG_DAYS = 30
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
  /** Packs (cruft packs not counted) the last pack left, and their bytes; undefined: not known yet (then today's). */
  leftPacks?: number
  leftBytes?: number
  /** Commits' small packs rolled up since the last whole pack (see WHOLE_EVERY). */
  sinceWhole: number
}

/** Pack when the heuristic says so; undefined when nothing ran. Hold the twin lock. */
export async function autoPack(dir: string, options: { full: boolean; legacy?: boolean }): Promise<AutoPackOutcome | undefined> {
  const looseBefore = await countLoose(dir)
  const state = await readState(dir)
  const { count: packsBefore, bytes: bytesBefore } = await packStats(dir)
  const leftPacks = state.leftPacks ?? packsBefore
  const leftBytes = state.leftBytes ?? bytesBefore
  // Small packs of commits (writeObjects) to roll up: only a git with cruft packs writes them.
  const small = Math.max(0, packsBefore - leftPacks)
  const rollUp = small >= ROLL_UP_EVERY || (small > 0 && (bytesBefore - leftBytes) * ROLL_UP_SHARE >= leftBytes)
  // Nothing loose to pack either way (a snapshot whose objects went into one pack): no `git version` asked.
  const legacy = looseBefore < state.leftLoose + Math.min(LOOSE_LIMIT, LEGACY.looseLimit) && !rollUp ? (options.legacy ?? false) : (options.legacy ?? !(await hasCruftPacks(dir)))
  if (looseBefore < state.leftLoose + (legacy ? LEGACY.looseLimit : LOOSE_LIMIT) && !(rollUp && !legacy)) {
    // Fewer loose objects or packs than the baseline: someone packed or pruned; follow them down.
    if (looseBefore < state.leftLoose || packsBefore < leftPacks || state.leftPacks === undefined || state.leftBytes === undefined) {
      const down = packsBefore < leftPacks || state.leftPacks === undefined
      await writeState(dir, { leftLoose: Math.min(looseBefore, state.leftLoose), leftPacks: down ? packsBefore : leftPacks, leftBytes: down || state.leftBytes === undefined ? bytesBefore : leftBytes, sinceWhole: state.sinceWhole })
    }
    return undefined
  }
  const started = performance.now()
  await removeOldTempPacks(dir)
  // Whole once WHOLE_EVERY commits' small packs were rolled up since the last whole pack, with
  // these (the first roll-up allowed then: the apt hook's are never whole), or when the packs
  // the last pack left, and the one this makes, reach the limit (loose objects packed, as
  // before session 31).
  const sinceWhole = state.sinceWhole + (legacy ? 0 : small)
  const packs = legacy ? packsBefore : Math.min(packsBefore, leftPacks)
  const full = options.full && (legacy ? packs + 1 >= LEGACY.packLimit : packs + 1 >= PACK_LIMIT || sinceWhole >= WHOLE_EVERY)
  // -n: no update-server-info (info/refs, for serving over dumb HTTP; nobody serves a twin so).
  const depth = `--depth=${DEPTH}`
  await removingOwnTemps(dir, async () => {
    if (legacy && full) {
      await expireReflogs(dir)
      await runGitBytes(dir, [...NO_REVERSE_INDEX, 'repack', '-A', '-d', '-q', '-n', depth])
      await runGitBytes(dir, ['prune', `--expire=${PRUNE_EXPIRE}`])
    } else if (legacy) {
      await runGitBytes(dir, [...NO_REVERSE_INDEX, 'repack', '-d', '-q', '-n', depth])
    } else if (full) {
      await expireReflogs(dir)
      await runGitBytes(dir, [...NO_REVERSE_INDEX, 'repack', '--cruft', `--cruft-expiration=${PRUNE_EXPIRE}`, '-d', ...SEARCH_AGAIN, '-q', '-n', depth])
      // What the cruft pack left loose is unreachable and already expired (or written meanwhile,
      // and young): git prune, as git gc runs it after a cruft pack. Its walk of the history
      // is only paid then (loose objects are packed after every commit).
      if ((await countLoose(dir)) > 0) await runGitBytes(dir, ['prune', `--expire=${PRUNE_EXPIRE}`])
    } else {
      await runGitBytes(dir, [...NO_REVERSE_INDEX, 'repack', '--geometric=2', '-d', '-q', '-n', depth])
    }
  })
  const looseAfter = await countLoose(dir)
  const { count: packsAfter, bytes: bytesAfter } = await packStats(dir)
  await writeState(dir, { leftLoose: looseAfter, leftPacks: packsAfter, leftBytes: bytesAfter, sinceWhole: full ? 0 : sinceWhole })
  return { kind: full ? 'full' : 'incremental', looseBefore, looseAfter, packsAfter, ms: Math.round(performance.now() - started) }
}

/**
 * `git gc` (twinsync gc, and forget once it rewrote the history: everything reachable into one
 * pack, the unreachable pruned), then this module's record as after a whole pack of its own:
 * what gc left is the baseline, and the roll-ups toward the next whole pack (State.sinceWhole)
 * count from 0. Before (session 32) the record was left as it was: the packs followed down at
 * the next snapshot, but the count went on, so a whole pack came up to WHOLE_EVERY commits
 * early, right after gc had made one. The caller holds the twin lock. A kill between the two
 * leaves the old record (that one extra whole pack, nothing else).
 */
export async function gcWhole(dir: string): Promise<void> {
  await removingOwnTemps(dir, () => runGit(dir, [...NO_REVERSE_INDEX, 'gc', '--quiet', '--prune=now']))
  const { count, bytes } = await packStats(dir)
  await writeState(dir, { leftLoose: await countLoose(dir), leftPacks: count, leftBytes: bytes, sinceWhole: 0 })
}

/**
 * The reflogs of HEAD and of `refs/*` but TwinSync's own (`refs/twinsync/*`), their lines older
 * than REFLOG_DAYS dropped (`git reflog expire`, named refs only, the same window for reachable
 * and unreachable lines: no walk of the history). Before the whole pack, so a commit only an
 * expired line kept goes into its cruft pack and is pruned after PRUNE_EXPIRE, as git's gc does.
 * git rewrites each reflog whole under `<ref>.lock` and `logs/<ref>.lock` (a new file renamed
 * over the old), so a kill leaves the old reflog or the new one, and locks that settling removes
 * once no git holds them (staleRefLocks in atomic-snapshot.ts). Only a clean-up: a lock held by
 * someone else's git, or any failure, leaves the reflogs as they are until the next whole pack.
 */
export async function expireReflogs(dir: string): Promise<void> {
  const logs = join(dir, '.git', 'logs')
  const refs: string[] = []
  const walk = async (folder: string, depth: number): Promise<void> => {
    for (const e of await readdir(join(logs, folder), { withFileTypes: true }).catch(() => [])) {
      const name = `${folder}/${e.name}`
      if (e.isDirectory() && depth < 8 && name !== 'refs/twinsync') await walk(name, depth + 1)
      else if (e.isFile() && !e.name.endsWith('.lock')) refs.push(name)
    }
  }
  await walk('refs', 0)
  if ((await stat(join(logs, 'HEAD')).catch(() => undefined))?.isFile() === true) refs.unshift('HEAD')
  if (refs.length === 0) return
  const days = `${REFLOG_DAYS}.days.ago`
  await runGitBytes(dir, ['reflog', 'expire', `--expire=${days}`, `--expire-unreachable=${days}`, ...refs]).catch(() => undefined)
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
      let known: { binary?: unknown; cruft?: unknown } | undefined
      try {
        known = JSON.parse(readFileSync(file, 'utf8')) as typeof known
      } catch {}
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
      try {
        mkdirSync(dirname(file), { recursive: true })
        writeFileSync(file, JSON.stringify({ binary, cruft: answer }) + '\n', { mode: 0o600 })
      } catch {}
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
  const folders = namesIn(objects).filter((n) => /^[0-9a-f]{2}$/.test(n))
  let n = 0
  for (const folder of folders) {
    for (const name of namesIn(join(objects, folder))) if (/^[0-9a-f]{38}$/.test(name)) n++
  }
  return n
}

/**
 * The packs in the store with their index, less cruft packs (the ones with a .mtimes file:
 * unreachable objects waiting to expire), and the bytes of their .pack files.
 */
async function packStats(dir: string): Promise<{ count: number; bytes: number }> {
  const folder = join(dir, '.git', 'objects', 'pack')
  const names = new Set(namesIn(folder))
  const packs = [...names].filter((n) => /^pack-[0-9a-f]+\.pack$/.test(n) && names.has(n.replace(/\.pack$/, '.idx')) && !names.has(n.replace(/\.pack$/, '.mtimes')))
  const sizes = packs.map((n) => sizeOf(join(folder, n)))
  return { count: packs.length, bytes: sizes.reduce((a, b) => a + b, 0) }
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
 * Runs a git that writes packs (repack, gc) and, when it fails, removes the temporary files it
 * left in objects/pack (git names them .tmp-* and tmp_*): only those that were not there before
 * it ran, under the twin lock, so they are its own. Session 41: a repack after a snapshot that
 * ran out of disk left its half-written tmp_pack_* (6.7 MB of a 40 MB twin disk), the disk stayed
 * full, and removeOldTempPacks took it only an hour later: every command meanwhile was DISK_FULL
 * for want of space TwinSync itself held, and `df` pointed at nothing the person knew of.
 */
async function removingOwnTemps<T>(dir: string, pack: () => Promise<T>): Promise<T> {
  const folder = join(dir, '.git', 'objects', 'pack')
  const before = new Set(namesIn(folder).filter(isTempPackFile))
  try {
    return await pack()
  } catch (error) {
    const left = (await readdir(folder).catch(() => [] as string[])).filter((n) => isTempPackFile(n) && !before.has(n))
    for (const name of left) await rm(join(folder, name), { force: true }).catch(() => undefined)
    throw error
  }
}

/** A file git names while it writes a pack: .tmp-* (pack-objects), tmp_* (index-pack, pack-writer.ts). */
function isTempPackFile(name: string): boolean {
  return name.startsWith('.tmp-') || name.startsWith('tmp_')
}

/**
 * What a killed repack or pack write left: git names them .tmp-* (pack-objects) or tmp_*
 * (index-pack, pack-writer.ts); and a pack whose index a kill kept from being renamed beside it
 * (pack-writer.ts renames the pack first, as git does), which git never reads.
 */
async function removeOldTempPacks(dir: string): Promise<void> {
  const folder = join(dir, '.git', 'objects', 'pack')
  const names = namesIn(folder)
  const indexed = new Set(names.filter((n) => n.endsWith('.idx')).map((n) => n.slice(0, -4)))
  for (const name of names) {
    const orphan = /^pack-[0-9a-f]+\.pack$/.test(name) && !indexed.has(name.slice(0, -5))
    if (!isTempPackFile(name) && !orphan) continue
    const info = await stat(join(folder, name)).catch(() => undefined)
    if (info !== undefined && Date.now() - info.mtimeMs > TEMP_PACK_AGE_MS) await rm(join(folder, name), { force: true })
  }
}

/**
 * A folder's names; none when it cannot be read. The automatic pack's looks at the store (its
 * folders, the packs' sizes, its state and git's version record) are synchronous: the twin's own
 * store, looked at by the core after a commit, in no provider call, whose time limit a blocked
 * call would hold up; fs/promises' calls here were all that loaded it after a commit (session 53).
 */
function namesIn(folder: string): string[] {
  try {
    return readdirSync(folder)
  } catch {
    return []
  }
}

/** A file's size; 0 when it cannot be looked at. */
function sizeOf(path: string): number {
  try {
    return statSync(path).size
  } catch {
    return 0
  }
}

async function readState(dir: string): Promise<State> {
  const count = (n: unknown) => (Number.isInteger(n) && (n as number) >= 0 ? (n as number) : undefined)
  try {
    const value = JSON.parse(readFileSync(join(dir, STATE), 'utf8')) as Partial<State>
    const leftPacks = count(value.leftPacks)
    const leftBytes = count(value.leftBytes)
    return { leftLoose: count(value.leftLoose) ?? 0, ...(leftPacks === undefined ? {} : { leftPacks }), ...(leftBytes === undefined ? {} : { leftBytes }), sinceWhole: count(value.sinceWhole) ?? 0 }
  } catch {
    return { leftLoose: 0, sinceWhole: 0 }
  }
}

/**
 * Only a hint, replaced whole (writeRecord: a temp file named by its run, renamed over it; one a
 * kill leaves is removed by the next settling): a kill leaves the last record or the one
 * before. Lost or unreadable, it reads as nothing packed yet: the next snapshot packs once more,
 * and the whole pack's count (sinceWhole) starts again.
 */
async function writeState(dir: string, state: State): Promise<void> {
  writeRecord(join(dir, STATE), JSON.stringify(state) + '\n')
}
