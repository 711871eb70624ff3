import { createHash } from 'node:crypto'
import { closeSync, constants, fstatSync, linkSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import type { BigStatData } from '@twinsync/sdk'
import { lstatBigData, lstatData, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG } from '@twinsync/sdk/light'
import { attributesNeutral } from './git-attributes.js'
import { indexIdentity, notePlainIndex } from './index-flags.js'
import { COARSE_SLACK, FINE_SLACK, indexNotePath, indexNoteText, indexRecordPath, parseRecord, patchedRecord, readIndexNote, recordable, recordedParse, settledSince, type RecordedParse } from './index-record.js'
import { lockTempName } from './twin-lock.js'

/**
 * Speed (issue 22): an unchanged machine's snapshot, `plan` and `status` learn what the twin's
 * git would tell them — HEAD, TwinSync's refs, the index's entries, and whether the working twin
 * is HEAD with nothing edited, staged or added — from `.git` itself, without a git process.
 * On the services root an unchanged snapshot ran five git processes (`rev-parse` ×3, `status`,
 * `ls-files`) and copied the index, `plan` two and `status` seven; now none, and nothing is
 * written. Measured side by side (medians of 9, load average 6.5–8, CPU with children):
 * snapshot 400 → 380 ms CPU (wall 780 → 670 ms), plan 400 → 390 ms (780 → 600 ms), status
 * 430 → 410 ms (630 → 410 ms); each git process costs Node 5–10 ms of CPU just to spawn it
 * (docs/architecture.md, "Speed").
 *
 * Only a certain answer is given; any doubt is `undefined`, and the caller asks git as before:
 *
 * - HEAD and refs: git's files backend only (a loose ref or a line of `packed-refs`); a
 *   reftable, a symbolic ref that is not HEAD, anything that is not a plain id: ask git.
 * - The index: versions 2–4, SHA-1, its checksum checked; a split or sparse index, an entry
 *   in conflict, assume-unchanged, skip-worktree or intent-to-add: ask git.
 * - Clean: decided as `git status` decides it, and more strictly.
 *   1. The index equals HEAD's tree: git said so (`status` found the twin clean) for this HEAD
 *      and an index with exactly these entries (paths, modes, blob ids), recorded under the
 *      twin lock in `.git/twinsync/cache/clean-index.json` by `rememberClean`. A commit, a
 *      reset, a `git add` of anyone else changes HEAD or the entries: ask git.
 *   2. Every file matches its index entry's stat data (git's own: ctime, mtime to the
 *      nanosecond, inode, uid, gid, size, file type and executable bit), and none changed
 *      shortly before the index was written or after (git's "racy" entries, where equal stat
 *      data does not prove equal content): 100 ms with nanosecond file times, where equal
 *      times need a change within one clock tick (git with USE_NSEC allows no slack at all);
 *      two seconds with whole-second times (git: the same second). A file whose stat data
 *      proves nothing this way (none recorded yet, racy, or a time or size that differs) is
 *      hashed instead, as git hashes it, and must be its entry's blob (`contentMatches`).
 *   3. Nothing is in the working twin that the index does not hold: the whole tree is walked;
 *      any other file (even one git ignores), a symlink or file where a folder should be, a
 *      nested `.git`: ask git. Empty folders are allowed (git shows none).
 *   A person's edit changes ctime (which nobody can set back), so it is never taken for clean.
 *
 * After git found the twin clean while these stat checks failed (the entries a snapshot's
 * commit wrote have no stat data yet), the snapshot refreshes the index's stat data
 * (`refreshIndex` in atomic-snapshot.ts) so the next run needs no git.
 *
 * Size cut-off: the check costs Node about 8 µs of CPU per index entry (an lstat and a share of
 * a readdir each, through fs's synchronous calls), `git status` about 4 µs plus its process
 * (3 ms, 5–10 ms more through simple-git): break-even near 2,500 entries. Above
 * `quickCleanLimit.entries` (2,500) git is asked; only HEAD and the index are read (the index
 * a snapshot reads anyway), and whether the index needs a refresh is judged from it alone
 * (entries without stat data, or racy by their recorded mtime). Measured on the bench's scale
 * root's twin (19,563 entries, 4,900 folders; fresh process, CPU medians of 7, load 2.4): the
 * check 231 ms before the cut-off (the same full check with no per-entry objects or `join`:
 * 197 ms), 40 ms with it (reading the index), then `git status` 77 ms; on the services root's
 * twin (227 entries) the check 6 ms, unchanged, against git's 4 ms and a process. `isExactly`
 * (the planner's `status`) checks at any size: its alternative reads the commit through git.
 *
 * Above the cut-off the folders' stamps are still checked (`onlyIndexedFiles`, session 25): while
 * they say no file is there that the index does not hold, git is asked about the indexed files
 * alone (`git status --untracked-files=no`: no walk of the folders, and no ignore rule read, so a
 * `.gitignore` the twin brings hides nothing; `onlyIndexed`). Git's own untracked cache would
 * answer only `--untracked-files=normal` without `--ignored` (git 2.39), where a `.gitignore`
 * planted in a new folder hides itself and its neighbours; the stamps take no ignore rule at all.
 * Scale twin (19,626 files, 4,900 folders), unchanged: git's CPU 150–160 → 80–90 ms a status at
 * load 4, 240 → 120 ms at load 12 (medians of 15, interleaved); the stamps' check in-process
 * 13 → 37 ms of CPU for the whole quick look (4,900 lstats and the 470 KB record; medians of 9);
 * system calls of an unchanged snapshot 80,399 → 61,246 (`getdents64` 9,847 → 36, `openat`
 * 5,159 → 241); 10 interleaved snapshots against main at load 14: CPU (user + sys with
 * children) 1.93 → 1.83 s, paired median −115 ms. After a commit only the folders it wrote in
 * are listed again: 39 ms where the whole walk costs 126 ms (medians of 9, load 14).
 */

const ID = /^[0-9a-f]{40}$/
const REF_NAME = /^refs\/[A-Za-z0-9._/-]+$/
const ONE_SECOND = 1_000_000_000n
const U32 = 0x1_0000_0000n
/** How far a file's times (the kernel's coarse clock, a tick behind: 4 ms at HZ=250, 10 ms at HZ=100) may lag `new Date()`. */
export const FILE_CLOCK_LAG_MS = 20
/** The empty blob's id: an entry of it has size 0 unsmudged. */
const EMPTY_BLOB = 'e69de29bb2d1d6434b8b29ae775ad8c2e48c5391'
/** Where git's state lives elsewhere than `<twin>/.git` or the twin's tree, git is asked. */
const RELOCATING_ENV = ['GIT_DIR', 'GIT_WORK_TREE', 'GIT_INDEX_FILE', 'GIT_COMMON_DIR', 'GIT_OBJECT_DIRECTORY']
/** Settings of the twin's `.git/config` that change what git reads or compares. */
const RELOCATING_CONFIG = /^\s*(?:worktree|bare\s*=\s*(?:true|yes|on|1)|sparsecheckout|splitindex|\[include)/im

/** The record of `rememberClean`, beside the providers' caches. */
const CLEAN_RECORD = join('.git', 'twinsync', 'cache', 'clean-index.json')

export interface IndexEntry {
  mode: string
  sha: string
}

/** The index as read from `.git/index`, entries in git's order. */
export interface TwinIndex {
  /** The file's bytes as read: a snapshot's private index starts from exactly these. */
  bytes: Buffer
  entries: ReadonlyMap<string, IndexEntry>
  /**
   * A digest of the entries (paths, modes, blob ids), not of their stat data: equal keys mean
   * equal entries. parseIndex's is the SHA-1 of `keyText`; a large index a snapshot spliced and
   * recorded has a key chained from the index it was spliced from (cache-tree.ts's splicedKey),
   * so the same entries may have two keys (a mismatch only asks git).
   */
  key: string
  /** The index file's own identity, to see that nobody rewrote it meanwhile. */
  identity: string
  /** @internal the entries' paths in git's order, where each entry's stat data starts in `bytes`, and the index file's mtime (ns). */
  paths: readonly string[]
  statAt: Uint32Array
  mtimeNs: bigint
  /** @internal where the entries end in `bytes`, and where git's cache tree (the `TREE` extension's data) lies, if it has one: see cache-tree.ts. */
  entriesEnd: number
  treeExtension: readonly [number, number] | undefined
  /** @internal the text `key` digests, and where each entry's part of it starts (one more: its end): a snapshot's new index is keyed from its pieces (cache-tree.ts). */
  keyText: string
  keyAt: Uint32Array
}

/**
 * `clean: false` means "ask git", never "dirty"; `staleStatData`: some file's stat data did not
 * match its entry (a refresh of the index helps, if the twin is clean: found so by its files'
 * content, or by git). `onlyIndexed` (above the cut-off): the working twin certainly holds no
 * file the index does not (the folders' stamps, `onlyIndexedFiles`), so git need only compare
 * the indexed files (`git status --untracked-files=no`); false or absent: git walks for them too.
 * `differs` (below the cut-off): indexed files proved by content to differ from their entries
 * whose stat data git's second-grained check takes for unchanged (gitTrustsStat): git may call
 * them clean (TwinRepository.dirtyPaths then smudges them, smudgeIndexedPaths).
 */
export type QuickClean = { clean: boolean; head?: string; index?: TwinIndex; staleStatData: boolean; onlyIndexed?: boolean; differs?: readonly string[] } & ({ clean: true; head: string; index: TwinIndex } | { clean: false })

/** The commit HEAD names; `null` before the first commit; undefined when only git can say. */
export function readHead(dir: string): string | null | undefined {
  const git = gitDir(dir)
  if (git === undefined) return undefined
  const head = readText(join(git, 'HEAD'))
  if (typeof head !== 'string') return undefined
  if (ID.test(head.trimEnd()) && head.endsWith('\n')) return head.trimEnd()
  const symbolic = /^ref: (\S+)\n$/.exec(head)?.[1]
  if (symbolic === undefined || !REF_NAME.test(symbolic) || symbolic.split('/').includes('..')) return undefined
  return readRefFile(git, symbolic)
}

/** A ref (`refs/…`) as git's files backend keeps it: its id, `null` when absent, undefined when only git can say. */
export function readRefId(dir: string, ref: string): string | null | undefined {
  const git = gitDir(dir)
  if (git === undefined || !REF_NAME.test(ref) || ref.split('/').includes('..')) return undefined
  return readRefFile(git, ref)
}

/**
 * True when the twin certainly has no tag (no snapshot has a label): `refs/tags` is absent or
 * an empty folder and no line of `packed-refs` names a tag, as git's files backend keeps them.
 * false means "ask git" (`git for-each-ref refs/tags`), never "there are tags". `history` and
 * `show` ask for the labels every run; a twin nobody labelled (the usual one) spares a git
 * process (session 19: `history` 2 → 1 git process; with the other rows of docs/architecture.md's
 * Speed table for it, `history --limit 1000` of the bench's twin −63 ms of task-clock).
 */
export function tagsAbsent(dir: string): boolean {
  const git = gitDir(dir)
  if (git === undefined) return false
  try {
    if (readdirSync(join(git, 'refs', 'tags')).length > 0) return false
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return false
  }
  const packed = readText(join(git, 'packed-refs'))
  if (packed === null) return false
  return packed === undefined || !packed.includes(' refs/tags/')
}

function readRefFile(git: string, ref: string): string | null | undefined {
  const loose = readText(join(git, ref))
  if (loose === null) return undefined // a folder, or unreadable
  if (loose !== undefined) return ID.test(loose.trimEnd()) && loose.endsWith('\n') && loose.length === 41 ? loose.trimEnd() : undefined
  const packed = readText(join(git, 'packed-refs'))
  if (packed === null) return undefined
  if (packed === undefined) return null
  for (const line of packed.split('\n')) {
    if (line.endsWith(` ${ref}`)) {
      const id = line.slice(0, -ref.length - 1)
      return ID.test(id) ? id : undefined
    }
  }
  return null
}

/** The index, parsed; undefined when it is absent or anything in it needs git to understand. */
export function readIndex(dir: string): TwinIndex | undefined {
  const git = gitDir(dir)
  if (git === undefined) return undefined
  const path = join(git, 'index')
  let bytes: Buffer
  let info: BigStatData | undefined
  let after: BigStatData | undefined
  try {
    info = lstatBigData(path)
    if (info === undefined || !isKind(info, S_IFREG)) return undefined
    bytes = readFileSync(path)
    // A large index's file looked at again: the same before and after the read, it held these bytes.
    after = recordable(bytes) ? lstatBigData(path) : undefined
  } catch {
    return undefined
  }
  const identity = indexIdentity(info)
  // The same file as the last one read (a snapshot reads it in hold, then in its draft): parsed once.
  if (lastIndex?.identity === identity && lastIndex.bytes.equals(bytes)) return lastIndex
  // Checked whole by an earlier run and not changed since: not hashed again (index-record.ts's IndexNote).
  const steady = after !== undefined && indexIdentity(after) === identity
  const note = steady ? readIndexNote(git) : undefined
  const trailer = steady ? bytes.toString('hex', bytes.length - 20) : ''
  const noted = note !== undefined && note.index === identity && note.trailer === trailer
  if (!(noted ? headerIsGits(bytes) : checksumMatches(bytes))) return undefined
  // A large index parsed by an earlier run: taken from its record, kept under this checksum (index-record.ts).
  const recorded = recordedParse(git, bytes, noted ? note.record : undefined)
  let namesKey = recorded?.namesKey
  let record = recorded?.record
  const parsed = recorded ?? parseIndex(bytes)
  if (parsed === undefined) return undefined
  if (recorded === undefined && recordable(bytes)) {
    namesKey = digestNames(parsed.paths)
    record = parseRecord(bytes, { ...parsed, namesKey })
    writeRecord(indexRecordPath(git), record)
  }
  // Both checked whole now (or noted before): noted for the next run, when their files may be (settledSince).
  if (steady && settledSince(info)) {
    const next = { index: identity, trailer, record: recorded?.settled === true ? recorded.identity : undefined }
    if (note?.index !== next.index || note.trailer !== next.trailer || note.record !== next.record) writeRecord(indexNotePath(git), indexNoteText(next))
  }
  // Parsed: no entry is flagged assume-unchanged or skip-worktree (parseIndex refuses them), so git may look through it (index-flags.ts).
  notePlainIndex(path, identity)
  const index: TwinIndex = { entries: parsed.entries, paths: parsed.paths, statAt: parsed.statAt, entriesEnd: parsed.entriesEnd, treeExtension: parsed.treeExtension, keyText: parsed.keyText, keyAt: parsed.keyAt, key: parsed.key, bytes, identity, mtimeNs: info.mtimeNs }
  if (namesKey !== undefined) namesKeys.set(index, namesKey)
  if (record !== undefined) records.set(index, record)
  lastIndex = index
  return index
}

/** The record (index-record.ts) an index was read from or recorded with: a snapshot's spliced index's is made from it (recordIndexParse). */
const records = new WeakMap<TwinIndex, Buffer>()

let lastIndex: TwinIndex | undefined

/** Forget the index this process read last (a test: the next readIndex reads as a new process would). */
export function forgetIndexRead(): void {
  lastIndex = undefined
}

/**
 * Record the parse of an index TwinSync wrote itself from `from` (the index it read, spliced:
 * cache-tree.ts's spliceIndex), as readIndex records one it parsed (index-record.ts), so the next
 * run takes it from the record. Keyed by the bytes' own checksum like any record: if another index
 * is in place when it is next read (the move undone, git rewrote it), it is simply not used.
 *
 * Speed (issue 22, session 34): a one-file snapshot of the bench's scale twin (19,626 entries)
 * swaps in a new index, and the next run's first look parsed it again, digested its paths and
 * recorded it. The splice already knows every entry: the next run's `readIndex` 126–200 → 54–71 ms
 * of CPU (fresh process, 7 interleaved pairs, load 10), for 26–57 ms (median 31) of recording in
 * the snapshot: the record's making and writing, moved from the next run, not the parse.
 */
export function recordIndexParse(dir: string, bytes: Buffer, parsed: Omit<RecordedParse, 'entries' | 'namesKey'>, from: TwinIndex, rewritten?: readonly number[]): void {
  const git = gitDir(dir)
  if (git === undefined || !recordable(bytes)) return
  // The same paths as `from` (files changed, none added or removed): its names' digest holds.
  const samePaths = parsed.paths === from.paths || (parsed.paths.length === from.paths.length && parsed.paths.every((path, i) => path === from.paths[i]))
  const whole = { ...parsed, namesKey: samePaths ? namesKey(from) : digestNames(parsed.paths) }
  // Spliced in place (the same entries' offsets): made from `from`'s record (index-record.ts's patchedRecord: its figure).
  const old = records.get(from)
  const patched = rewritten !== undefined && old !== undefined && parsed.statAt === from.statAt && parsed.keyAt === from.keyAt ? patchedRecord(old, bytes, whole, rewritten) : undefined
  const record = patched ?? parseRecord(bytes, whole)
  writeRecord(indexRecordPath(git), record)
  // Both as written, for the note the run leaves once they are settled (noteWrittenIndex).
  written = { git, bytes, record }
}

/** The index this process put in place itself (recordIndexParse) and the record of its parse, as written: noted by noteWrittenIndex. */
let written: { git: string; bytes: Buffer; record: Buffer } | undefined

/**
 * Note (index-record.ts's IndexNote) the index this run put in place itself, a snapshot's spliced
 * index (recordIndexParse), and the record of its parse, as readIndex notes an index it checked
 * whole: the next run then neither hashes the index nor checks the record. Their bytes need no
 * hash: TwinSync made them (cache-tree.ts's spliceIndex computes the index's checksum, the record
 * its CRC-32) and still holds them. The note's rule holds as at readIndex: each file read back
 * and compared with the bytes written, its identity the same before and after (another write
 * meanwhile, a torn or another file, a symlink: nothing is noted), and its ctime FINE_SLACK before
 * that look (settledSince: a write in the same clock tick as TwinSync's last could keep the
 * identity; a write after the look moves it). Else nothing is noted, and the next run checks both
 * whole as before. Called once the run's work is done, under the twin lock (snapshot-service.ts):
 * the later, the likelier the files are settled. Returns whether it noted them. The note names
 * only the files: the index's racy entries are judged from its mtime and their stat data at every
 * read as before (statDataDoubts, statDataMissing).
 *
 * Speed (issue 22, session 53): the scale twin's unchanged snapshot after a one-file one hashed
 * the spliced index (2.5 MB, SHA-1) and checked its record (1.9 MB, CRC-32). readIndex alone on
 * that index (19,626 entries; a fresh process of the built code, callgrind, 2 runs each): 433.9 /
 * 443.6 M not noted, 395.2 / 391.8 M noted; the look here 1.8 M. Made in a real run only when the
 * snapshot's tail after its commit outlasts FINE_SLACK (6 of 11 one-file snapshots at load 18–22):
 * docs/architecture.md's Speed table (session 53).
 */
export function noteWrittenIndex(dir: string): boolean {
  const was = written
  written = undefined
  if (was === undefined || was.git !== join(dir, '.git')) return false
  const index = settledAs(join(was.git, 'index'), was.bytes)
  const record = index === undefined ? undefined : settledAs(indexRecordPath(was.git), was.record)
  if (index === undefined || record === undefined) return false
  writeRecord(indexNotePath(was.git), indexNoteText({ index, trailer: was.bytes.toString('hex', was.bytes.length - 20), record }))
  return true
}

/** The identity of the plain file at `path` when it holds exactly `bytes`, read between two looks that saw it the same, and is settled (settledSince); else undefined. */
function settledAs(path: string, bytes: Buffer): string | undefined {
  try {
    const before = lstatBigData(path)
    if (before === undefined || !isKind(before, S_IFREG) || before.size !== BigInt(bytes.length) || !settledSince(before)) return undefined
    if (!readFileSync(path).equals(bytes)) return undefined
    const after = lstatBigData(path)
    const identity = indexIdentity(before)
    return after !== undefined && indexIdentity(after) === identity ? identity : undefined
  } catch {
    return undefined
  }
}

/**
 * Record the parse of an index git refreshed from `from` (`git update-index --refresh`,
 * atomic-snapshot.ts's refreshIndex: only entries' stat data rewritten) as `from`'s own parse.
 * The caller found its bytes `from`'s but for that stat data (index-record.ts's sameButStatData:
 * compared once, there; session 52: it was compared again here, about 100 M instructions on the
 * scale twin); else it records nothing, and the next run parses it as before. Keyed by the new
 * bytes' checksum like any record, whose bytes readIndex checks at every read.
 *
 * Speed (issue 22, session 43): an unchanged snapshot after one that committed refreshes the
 * index (the files the commit wrote carry no stat data), and git's rewrite has another
 * checksum than the one recorded; the next snapshot, the scale twin's one file changed as a
 * cron run would find it, parsed its 19,626 entries again (`parseIndex`: 33–38 ms of the main
 * thread in perf profiles at load 7, and their paths' digest and the record written). Figure in
 * docs/architecture.md (Speed, session 43).
 */
export function recordRefreshedIndex(dir: string, bytes: Buffer, from: TwinIndex): boolean {
  const git = gitDir(dir)
  if (git === undefined || !recordable(bytes)) return false
  const { paths, statAt, entriesEnd, treeExtension, keyText, keyAt, key } = from
  writeRecord(indexRecordPath(git), parseRecord(bytes, { paths, statAt, entriesEnd, treeExtension, keyText, keyAt, key, namesKey: namesKey(from) }))
  return true
}

/** Whether the index file is still the one `index` was read from (nobody rewrote it). */
export function indexUnchanged(dir: string, index: TwinIndex): boolean {
  const info = lstatBigData(join(dir, '.git', 'index'))
  return info !== undefined && indexIdentity(info) === index.identity
}

/**
 * Above this many index entries `git status` is the cheaper check, so the quick one is not made
 * (see the module's comment); `anySize` makes it anyway. A test lowers it.
 */
export const quickCleanLimit = { entries: 2_500 }

/**
 * Whether the working twin is HEAD with nothing edited, staged or added (see the module's
 * comment); `clean: false` means "ask git", never "dirty". A twin of more than
 * `quickCleanLimit.entries` files is left to git unless `anySize` (a caller to whom git's
 * answer costs more than the check: `isExactly`).
 */
export function quickClean(dir: string, options: { anySize?: boolean } = {}): QuickClean {
  const head = readHead(dir)
  const index = head === undefined || head === null ? undefined : readIndex(dir)
  if (head === undefined || head === null || index === undefined) return { clean: false, staleStatData: false }
  if (options.anySize !== true && index.paths.length > quickCleanLimit.entries) return { clean: false, head, index, staleStatData: statDataMissing(index), onlyIndexed: onlyIndexedFiles(dir, index) }
  const record = readCleanRecord(dir)
  const agreed = record?.head === head && record.key === index.key
  const blind: number[] = []
  const doubtful = statDataDoubts(dir, index, blind)
  const staleStatData = doubtful === undefined || doubtful.length > 0
  if (agreed && doubtful !== undefined && onlyIndexedFiles(dir, index) && contentMatches(dir, index, doubtful)) return { clean: true, head, index, staleStatData }
  // Rare: a file whose times moved within the second git recorded (see gitTrustsStat); hashed.
  const differs = blind.length === 0 ? [] : differingContent(dir, index, blind)
  return differs.length === 0 ? { clean: false, head, index, staleStatData } : { clean: false, head, index, staleStatData, differs }
}

/** Of the entries at `at` (by position), the paths whose file is certainly not its entry's blob (by content). */
function differingContent(dir: string, index: TwinIndex, at: readonly number[]): string[] {
  if (convertsSome(dir, index)) return []
  const prefix = dir.endsWith('/') ? dir : `${dir}/`
  const differs: string[] = []
  for (const i of at) {
    const path = index.paths[i] as string
    const entry = index.entries.get(path)
    if (entry !== undefined && fileIsBlob(prefix + path, entry) === false) differs.push(path)
  }
  return differs
}

/**
 * git found the twin clean, between two looks at HEAD and the index that saw the same: record
 * that this HEAD and these index entries agree. Under the twin lock only. Written only when it
 * changes.
 */
export async function rememberClean(dir: string, head: string, index: Pick<TwinIndex, 'key'>): Promise<void> {
  const record = readCleanRecord(dir)
  if (record?.head === head && record.key === index.key) return
  // The folder may not exist yet (a twin just created: its init commit is recorded).
  writeRecord(join(dir, CLEAN_RECORD), JSON.stringify({ head, key: index.key }) + '\n')
}

/** Forget the record (a test, or a twin whose index is rebuilt). */
export async function forgetClean(dir: string): Promise<void> {
  await rm(join(dir, CLEAN_RECORD), { force: true })
}

/**
 * Write a private index from these bytes (the snapshot's draft starts from the index as read).
 * Dated two seconds before the index it copies: git trusts an entry's stat data only for files
 * older than the index that holds it ("racy git"), and smudges racy entries when it writes one;
 * a copy dated now would vouch for a file changed in the same second as its entry was recorded.
 */
export async function writeIndexCopy(path: string, index: TwinIndex): Promise<void> {
  // Synchronous, as this module's records: the twin's own index copy, under the twin lock, in no
  // provider call (refreshIndex in atomic-snapshot.ts; session 53).
  writeFileSync(path, index.bytes, { mode: 0o600 })
  const before = new Date(Number(index.mtimeNs / 1_000_000n) - 2_000)
  utimesSync(path, before, before)
  // Parsed, so plain (index-flags.ts): git.ts need not read and scan the copy before git refreshes it.
  const written = lstatBigData(path)
  if (written !== undefined) notePlainIndex(path, indexIdentity(written))
}

// ── internals ──

function gitDir(dir: string): string | undefined {
  if (RELOCATING_ENV.some((name) => process.env[name] !== undefined && process.env[name] !== '')) return undefined
  const git = join(dir, '.git')
  const info = lstatData(git)
  if (info === undefined || (info.mode & S_IFMT) !== S_IFDIR) return undefined
  if (lstatData(join(git, 'reftable')) !== undefined) return undefined
  const config = readText(join(git, 'config'))
  if (typeof config !== 'string' || RELOCATING_CONFIG.test(config) || /objectformat/i.test(config)) return undefined
  return git
}

/** A file's text; undefined when absent, null when it cannot be read as a file. */
function readText(path: string): string | undefined | null {
  try {
    return readFileSync(path, 'utf8')
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? undefined : null
  }
}

/** Whether a stat's mode is of this file type (S_IFMT bits). */
function isKind(st: BigStatData, type: number): boolean {
  return (Number(st.mode) & S_IFMT) === type
}

function readCleanRecord(dir: string): { head: string; key: string } | undefined {
  const text = readText(join(dir, CLEAN_RECORD))
  if (typeof text !== 'string') return undefined
  try {
    const value = JSON.parse(text) as { head?: unknown; key?: unknown }
    return typeof value.head === 'string' && typeof value.key === 'string' ? { head: value.head, key: value.key } : undefined
  } catch {
    return undefined
  }
}

/** The index's header is git's: DIRC, version 2–4, room for a trailer. */
function headerIsGits(bytes: Buffer): boolean {
  if (bytes.length < 12 + 20 || bytes.toString('latin1', 0, 4) !== 'DIRC') return false
  const version = bytes.readUInt32BE(4)
  return version >= 2 && version <= 4
}

const KNOWN_EXTENSIONS = new Set(['TREE', 'REUC', 'UNTR', 'FSMN', 'EOIE', 'IEOT'])

/** The index's header is git's (DIRC, version 2–4) and its trailer the SHA-1 of the rest (or zeros: index.skipHash). */
function checksumMatches(bytes: Buffer): boolean {
  const HASH = 20
  if (!headerIsGits(bytes)) return false
  const trailer = bytes.subarray(bytes.length - HASH)
  // index.skipHash writes zeros instead of the checksum; then the structure alone is checked.
  return trailer.equals(Buffer.alloc(HASH)) || createHash('sha1').update(bytes.subarray(0, bytes.length - HASH)).digest().equals(trailer)
}

/**
 * Smudge, in an index's bytes, every entry whose recorded ctime lies in or after the second of
 * `fromNs` and whose mtime lies before the second of `indexNs` (the index's own time) — its size
 * set to 0, as git smudges its racy entries, the checksum made again: the entries git's stat
 * check cannot vouch for. Returns how many; the bytes are changed in place.
 *
 * git as Debian builds it (without USE_NSEC) compares ctime and mtime to the second and takes an
 * entry for racy by its mtime alone. A file whose ctime moved without its mtime (a rename into
 * place: a snapshot's move; a chmod) in the second its entry was recorded, then edited in that
 * same second with its size and mtime kept, passed `git status` as unchanged. Seen in session 42's
 * CI (twin-edits-seen.test.ts, about 1 run in 8 under load): a same-size, same-mtime edit of a
 * provider's document 23 ms after the refresh, the file's ctime moved 0.81 s earlier by the move's
 * rename; the quick check (nanoseconds) doubted it, git called the twin clean, the intent was not
 * set aside, and the snapshot refused at its move, as did every later one. A smudged entry's
 * size differs from its file's: git compares its content until a later refresh records it again
 * (then out of the danger second); statDataDoubts hashes it as any doubtful entry.
 *
 * Speed (issue 22, session 52): it hashed the whole index (SHA-1) before looking at an entry, and
 * walked the entries by looking for each path's NUL (a native call an entry). It runs after every
 * git that writes an index (smudgeWrittenIndex), and in a refresh (atomic-snapshot.ts's
 * refreshIndex) twice, where it almost never finds an entry to smudge. Now the entries are walked
 * by the lengths their flags give (entryOffsets) and the index is hashed only when it is to be
 * rewritten (the checksum made again must vouch for bytes git wrote whole). The scale twin's
 * refreshed index (19,626 entries), nothing to smudge, in a fresh process of the built code less
 * the same process without the call (callgrind): 123.2 → 29.9 M instructions; the whole unchanged
 * snapshot after a one-file one: docs/architecture.md's Speed table (session 52).
 */
export function smudgeCtimeRacy(bytes: Buffer, fromNs: bigint, indexNs: bigint, statAt?: Uint32Array): number {
  if (!headerIsGits(bytes)) return 0
  // Where the entries' stat data lie: given when the bytes are an index read before but for stat data (index-record.ts's sameButStatData), else walked.
  const offsets = statAt ?? entryOffsets(bytes)
  if (offsets === undefined) return 0
  const fromS = Number(fromNs / ONE_SECOND)
  const indexS = Number(indexNs / ONE_SECOND)
  const ats: number[] = []
  // An mtime in the index's second or later: racy for git already, which compares its content. A size of 0 is smudged already.
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length)
  for (let i = 0; i < offsets.length; i++) {
    const at = offsets[i] as number
    if (view.getUint32(at) >= fromS && view.getUint32(at + 8) < indexS && view.getUint32(at + 36) !== 0) ats.push(at)
  }
  // Hashed only when it is rewritten (the checksum made again must vouch for bytes that were git's whole): see the figure above.
  if (ats.length === 0 || !checksumMatches(bytes)) return 0
  return smudgeSizes(bytes, ats)
}

/**
 * Where each entry's stat data starts in an index's bytes (git's layout, versions 2–4), walked
 * without reading paths: smudgeWrittenIndex runs after every git that writes an index. A path's
 * length is read from its entry's flags as git's own reader does (read-cache.c's
 * create_from_disk: the low 12 bits, or a NUL looked for past 0xFFF), its NUL checked; version 4's
 * prefix-compressed paths are looked through for their NUL. Undefined when the entries cannot
 * be walked.
 */
function entryOffsets(bytes: Buffer): Uint32Array | undefined {
  const version = bytes.readUInt32BE(4)
  const count = bytes.readUInt32BE(8)
  const end = bytes.length - 20
  // An entry takes at least 62 bytes and its NUL: a count the bytes cannot hold is refused before the array is made.
  if (count > (end - 12) / 63) return undefined
  const offsets = new Uint32Array(count)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length)
  let at = 12
  for (let i = 0; i < count; i++) {
    if (at + 62 > end) return undefined
    offsets[i] = at
    const flags = view.getUint16(at + 60)
    let next = at + 62 + ((flags & 0x4000) !== 0 ? 2 : 0)
    if (version === 4) {
      while (((bytes[next++] ?? 0) & 0x80) !== 0) {}
      const nul = bytes.indexOf(0, next)
      if (nul < 0 || nul >= end) return undefined
      at = nul + 1
    } else {
      const length = flags & 0x0fff
      // 0xFFF: the path's own length (git's strlen from the name's start, read-cache.c's create_from_disk), whatever it is.
      const nul = length < 0x0fff ? next + length : bytes.indexOf(0, next)
      if (nul < 0 || nul >= end || bytes[nul] !== 0) return undefined
      // Entries of versions 2 and 3 are padded with 1–8 NULs to a multiple of 8 bytes.
      at = at + ((nul - at + 8) & ~7)
    }
  }
  return offsets
}

/** Set to 0 the recorded size of the entries whose stat data starts at `ats`, the checksum made again; how many were not 0 already. */
function smudgeSizes(bytes: Buffer, ats: Iterable<number>): number {
  let smudged = 0
  for (const at of ats) {
    if (bytes.readUInt32BE(at + 36) === 0) continue
    bytes.writeUInt32BE(0, at + 36)
    smudged++
  }
  if (smudged > 0) createHash('sha1').update(bytes.subarray(0, bytes.length - 20)).digest().copy(bytes, bytes.length - 20)
  return smudged
}

/**
 * After a git that wrote the index file at `path` (`add`, `checkout-index`, `read-tree -u`,
 * `update-index --refresh`, `merge`, `reset`: git.ts's seeEveryEdit, for every such git TwinSync
 * runs), started at `startedMs` (Date.now()): its entries recorded since then that git's stat check cannot vouch
 * for are smudged (smudgeCtimeRacy, against the index file's own time). The file keeps its time
 * (git judges racy entries by it). A private index is replaced whole (a temp file renamed over
 * it); git's own (`gitsOwn`) through git's lock, as git writes it, and only while nobody rewrote it meanwhile. How many
 * entries were smudged (0 when none needed it, or the index could not be rewritten).
 */
export function smudgeWrittenIndex(path: string, startedMs: number, gitsOwn: boolean): number {
  try {
    const before = lstatBigData(path)
    if (before === undefined || !isKind(before, S_IFREG)) return 0
    const bytes = readFileSync(path)
    const smudged = smudgeCtimeRacy(bytes, BigInt(startedMs - FILE_CLOCK_LAG_MS) * 1_000_000n, before.mtimeNs)
    if (smudged === 0) return 0
    if (gitsOwn) return replaceIndex(path, bytes, before) ? smudged : 0
    // Written whole beside it and renamed over it (a kill leaves the old index, and a temp file named by the run).
    const temp = lockTempName(path)
    try {
      writeFileSync(temp, bytes, { mode: Number(before.mode) & 0o777, flag: 'wx' })
      utimesSync(temp, msFloor(before.mtimeNs), msFloor(before.mtimeNs))
      renameSync(temp, path)
    } catch {
      rmSync(temp, { force: true })
      return 0
    }
    return smudged
  } catch {
    return 0
  }
}

/**
 * Smudge the entries of `paths` in the twin's index (`index`, as read: only while the file is
 * still that one), through git's lock: files quickClean proved by content to differ from their
 * entries while git's second-grained stat check takes them for unchanged (`differs`). Every git
 * after it (a status, a snapshot's or an intent's `git add` on a copy) reads those files again.
 * False when the index could not be rewritten (locked, rewritten meanwhile). Under the twin lock
 * only (TwinRepository.dirtyPaths): git's lock held by a `plan` or `status` made a snapshot
 * starting then fail (session 44; noteBlind is theirs).
 */
export function smudgeIndexedPaths(dir: string, index: TwinIndex, paths: readonly string[]): boolean {
  const wanted = new Set(paths)
  const at = index.paths.flatMap((p, i) => (wanted.has(p) ? [index.statAt[i] as number] : []))
  const bytes = Buffer.from(index.bytes)
  if (smudgeSizes(bytes, at) === 0) return true
  const path = join(dir, '.git', 'index')
  const before = lstatBigData(path)
  return before !== undefined && indexIdentity(before) === index.identity && replaceIndex(path, bytes, before)
}

/**
 * Put `bytes` in place of git's index at `path` (`.git/index`) through its lock, as git writes
 * it: written whole into a file named by this run in `.git/twinsync` (INDEX_SMUDGE_TEMP), which
 * takes the lock's name by a hard link (never over a lock that is there: another git at work),
 * then is renamed over the index, with the index's times. A kill between the link and the rename
 * leaves `index.lock` a link of this run's file: settling removes it once the run is gone
 * (smudgeLockOfDeadRun in atomic-snapshot.ts), as a killed snapshot's swap is finished. False
 * when locked or rewritten meanwhile.
 */
function replaceIndex(path: string, bytes: Buffer, before: BigStatData): boolean {
  const lock = `${path}.lock`
  const temp = lockTempName(join(dirname(path), 'twinsync', INDEX_SMUDGE_TEMP))
  try {
    mkdirSync(dirname(temp), { recursive: true })
    writeFileSync(temp, bytes, { mode: Number(before.mode) & 0o777, flag: 'wx' })
    utimesSync(temp, msFloor(before.mtimeNs), msFloor(before.mtimeNs))
    try {
      linkSync(temp, lock)
    } catch {
      return false
    }
    try {
      const now = lstatBigData(path)
      if (now === undefined || indexIdentity(now) !== indexIdentity(before)) throw new Error('the index was rewritten meanwhile')
      renameSync(lock, path)
      return true
    } catch {
      rmSync(lock, { force: true })
      return false
    }
  } catch {
    return false
  } finally {
    try {
      rmSync(temp, { force: true })
    } catch {}
  }
}

/**
 * The entries this process's last look at the twin `dir` found git blind to (quickClean's
 * `differs` that git's answer left out: TwinRepository.dirtyPaths), so that every copy of git's
 * index this process makes has them smudged (`smudgeNotedBlind`, from git.ts's copyIndex: an
 * intent's working tree, a snapshot's draft, a reset on a copy) and the `git add` on it reads
 * their files. Each look replaces its twin's note (none: the note goes).
 *
 * Session 44: a `plan` or `status` smudged git's own index instead (smudgeIndexedPaths), through
 * `index.lock`, without the twin lock; a snapshot starting at that moment refused the twin
 * (GIT_FAILED, "git's index lock … exists", with `rm` of the lock as its next step), and one at
 * its swap failed after its commit. A run that only reads now writes nothing of git's.
 */
export function noteBlind(dir: string, paths: readonly string[]): void {
  const index = resolve(dir, '.git', 'index')
  if (paths.length === 0) blindNoted.delete(index)
  else blindNoted.set(index, new Set(paths))
}

const blindNoted = new Map<string, ReadonlySet<string>>()

/** Whether the index file `index` has entries noted blind (noteBlind): a copy of it is then read, smudged and written again. */
export function hasNotedBlind(index: string): boolean {
  return blindNoted.has(resolve(index))
}

/**
 * In `bytes`, a copy of the index file `index` (git's own), smudge the entries noteBlind noted
 * for it (size 0, the checksum made again). True when any was smudged. An index only git
 * understands is left as it is (the look found nothing blind in one).
 */
export function smudgeNotedBlind(index: string, bytes: Buffer): boolean {
  const paths = blindNoted.get(resolve(index))
  if (paths === undefined || !checksumMatches(bytes)) return false
  const parsed = parseIndex(bytes)
  if (parsed === undefined) return false
  const ats: number[] = []
  parsed.paths.forEach((path, i) => {
    if (paths.has(path)) ats.push(parsed.statAt[i] as number)
  })
  return smudgeSizes(bytes, ats) > 0
}

/** The name (in `.git/twinsync`, made a run's by lockTempName) of the file replaceIndex writes and links as git's index lock. */
export const INDEX_SMUDGE_TEMP = 'index-smudge'

/** A file time (ns) as seconds for utimes, rounded down to the millisecond: never later than it was. */
function msFloor(ns: bigint): number {
  return Number(ns / 1_000_000n) / 1000
}

/** git's index format (Documentation/gitformat-index.txt), SHA-1 only; the caller has checked it with `checksumMatches`. */
function parseIndex(bytes: Buffer): Omit<TwinIndex, 'bytes' | 'identity' | 'mtimeNs'> | undefined {
  const HASH = 20
  const version = bytes.readUInt32BE(4)
  const body = bytes.subarray(0, bytes.length - HASH)
  const count = bytes.readUInt32BE(8)
  const entries = new Map<string, IndexEntry>()
  const paths: string[] = []
  const statAt = new Uint32Array(count)
  // The digest's text made whole and hashed once (one native call, not one an entry); the
  // numbers read through a DataView (see statDataDoubts).
  let digested = ''
  const keyAt = new Uint32Array(count + 1)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  let at = 12
  let previous = ''
  for (let i = 0; i < count; i++) {
    if (at + 62 > body.length) return undefined
    const flags = view.getUint16(at + 60)
    // assume-valid, a conflict stage: only git can tell.
    if ((flags & 0x8000) !== 0 || (flags & 0x3000) !== 0) return undefined
    let next = at + 62
    if ((flags & 0x4000) !== 0) {
      if (version < 3) return undefined
      // skip-worktree, intent-to-add (and any other extended flag): only git can tell.
      if (view.getUint16(next) !== 0) return undefined
      next += 2
    }
    let path: string
    if (version === 4) {
      let byte = bytes[next++] ?? 0
      let strip = byte & 0x7f
      while ((byte & 0x80) !== 0) {
        byte = bytes[next++] ?? 0
        strip = ((strip + 1) << 7) | (byte & 0x7f)
      }
      const end = bytes.indexOf(0, next)
      if (end < 0 || end >= body.length || strip > previous.length) return undefined
      path = previous.slice(0, previous.length - strip) + bytes.toString('utf8', next, end)
      next = end + 1
    } else {
      const end = bytes.indexOf(0, next)
      if (end < 0 || end >= body.length) return undefined
      path = bytes.toString('utf8', next, end)
      // Entries are padded with 1–8 NULs to a multiple of 8 bytes.
      next = at + ((end - at + 8) & ~7)
    }
    const mode = view.getUint32(at + 24)
    const modeText = mode === 0o100644 ? '100644' : mode === 0o100755 ? '100755' : mode === 0o120000 ? '120000' : undefined
    if (modeText === undefined) return undefined
    const sha = bytes.toString('hex', at + 40, at + 60)
    entries.set(path, { mode: modeText, sha })
    statAt[i] = at
    paths.push(path)
    keyAt[i] = digested.length
    digested += `${modeText} ${sha}\t${path}\0`
    previous = path
    at = next
  }
  if (entries.size !== count) return undefined
  const entriesEnd = at
  let treeExtension: [number, number] | undefined
  // Extensions: a required one (lower-case first letter) or one that moves entries elsewhere (link, sdir): git only.
  while (at < body.length) {
    if (at + 8 > body.length) return undefined
    const signature = bytes.toString('latin1', at, at + 4)
    if (!KNOWN_EXTENSIONS.has(signature)) return undefined
    const length = bytes.readUInt32BE(at + 4)
    if (signature === 'TREE') treeExtension = [at + 8, at + 8 + length]
    at += 8 + length
  }
  if (at !== body.length) return undefined
  keyAt[count] = digested.length
  return { entries, paths, statAt, entriesEnd, treeExtension, keyText: digested, keyAt, key: createHash('sha1').update(digested).digest('hex') }
}

/**
 * Every indexed file is as git recorded it, and none is racy (see the module's comment):
 * undefined when some file is missing or of another kind or executable bit than its entry
 * (no content can make it clean); else the entries (by position) whose stat data does not prove
 * their file — none recorded (a commit's new entries), another size or time, racy — left to
 * `contentMatches`. Either way every file is looked at, and `blind` gets those git's own check
 * would take for unchanged (gitTrustsStat).
 */
function statDataDoubts(dir: string, index: TwinIndex, blind: number[]): number[] | undefined {
  const doubtful: number[] = []
  const indexS = index.mtimeNs / ONE_SECOND
  // A file changed shortly before the index was written (or after) proves nothing by its stat:
  // within 100 ms where files have nanosecond times (git built with USE_NSEC allows none), two
  // seconds where they are whole seconds (git without USE_NSEC: the same second).
  const racyFromFine = index.mtimeNs - FINE_SLACK
  const racyFromCoarse = index.mtimeNs - COARSE_SLACK
  const { bytes, paths, statAt } = index
  // Speed (issue 22): the index's numbers read through a DataView (V8's own getters; Buffer's
  // readUInt32BE is a JavaScript function, run cold here) and a time compared as git's seconds
  // and nanoseconds made one BigInt, not split by division: the services twin's 227 entries
  // 3.2 → 1.3 ms of CPU (fresh process, the check's loop alone).
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  // Paths joined by hand: `join` normalises each of them, a third of the check's time on a big twin.
  const prefix = dir.endsWith('/') ? dir : `${dir}/`
  // A file missing or of another kind decides the answer (undefined), not the look: the files
  // after it are still looked at for `blind` (session 44: a deletion ended the look, and an edit
  // git could not see beside it was left to git, which missed it).
  let certain = true
  for (let i = 0; i < paths.length; i++) {
    let st: BigStatData | undefined
    try {
      st = lstatBigData(prefix + paths[i])
    } catch {
      st = undefined
    }
    if (st === undefined) {
      certain = false
      continue
    }
    const verdict = statVerdict(view, statAt[i] ?? 0, st, racyFromFine, racyFromCoarse)
    if (verdict === 'other') {
      certain = false
      continue
    }
    if (verdict === 'doubt') {
      doubtful.push(i)
      if (gitTrustsStat(view, statAt[i] ?? 0, st, indexS)) blind.push(i)
    }
  }
  return certain ? doubtful : undefined
}

/**
 * Whether git as Debian builds it (without USE_NSEC: times to the second) takes a file for its
 * entry without reading it: ctime and mtime to the second, inode, owner and size as recorded,
 * and its mtime before the index's second (git's racy rule). Asked of an entry whose stat data
 * does not prove its file here (nanoseconds): a file whose times moved within the second git
 * recorded (a rename into place or a chmod, then an edit keeping size and mtime) — an edit git
 * cannot see (smudgeCtimeRacy), unless its content is compared (`differs`).
 */
function gitTrustsStat(view: DataView, at: number, st: BigStatData, indexS: bigint): boolean {
  const mtimeS = st.mtimeNs / ONE_SECOND
  return (
    st.ctimeNs / ONE_SECOND === BigInt(view.getUint32(at)) &&
    mtimeS === BigInt(view.getUint32(at + 8)) &&
    mtimeS < indexS &&
    Number(st.ino % U32) === view.getUint32(at + 20) &&
    Number(st.uid % U32) === view.getUint32(at + 28) &&
    Number(st.gid % U32) === view.getUint32(at + 32) &&
    Number(st.size % U32) === view.getUint32(at + 36)
  )
}

/**
 * What an index entry's stat data (at `at` in the index: git's layout, ctime s, ns, mtime s, ns,
 * dev, ino, mode, uid, gid, size) says of its file: 'other' when it is another kind or executable
 * bit (no content makes it the entry), 'doubt' when racy or of another size, time, inode or owner
 * (its content decides), 'same' when proved unchanged.
 */
function statVerdict(view: DataView, at: number, st: BigStatData, racyFromFine: bigint, racyFromCoarse: bigint): 'other' | 'doubt' | 'same' {
  const recordedMode = view.getUint32(at + 24)
  const { ctimeNs, mtimeNs } = st
  const kind = isKind(st, S_IFLNK) ? 0o120000 : isKind(st, S_IFREG) ? 0o100000 : -1
  if (kind !== (recordedMode & 0o170000)) return 'other'
  if (kind === 0o100000 && ((st.mode & 0o100n) !== 0n) !== ((recordedMode & 0o100) !== 0)) return 'other'
  const racyFrom = mtimeNs % ONE_SECOND === 0n && ctimeNs % ONE_SECOND === 0n ? racyFromCoarse : racyFromFine
  if (mtimeNs >= racyFrom || ctimeNs >= racyFrom) return 'doubt'
  // git keeps 32 bits of seconds: a time beyond them (2106) is never equal here, and its file is hashed.
  if (
    ctimeNs !== BigInt(view.getUint32(at)) * ONE_SECOND + BigInt(view.getUint32(at + 4)) ||
    mtimeNs !== BigInt(view.getUint32(at + 8)) * ONE_SECOND + BigInt(view.getUint32(at + 12)) ||
    Number(st.ino % U32) !== view.getUint32(at + 20) ||
    Number(st.uid % U32) !== view.getUint32(at + 28) ||
    Number(st.gid % U32) !== view.getUint32(at + 32) ||
    Number(st.size % U32) !== view.getUint32(at + 36)
  ) {
    return 'doubt'
  }
  return 'same'
}

/**
 * Of `asked`, the paths whose file in the working twin is no longer what `index` (read when the
 * twin was found clean) holds there: edited, removed, another kind. Proved unchanged by stat data
 * as `git status` does, else by content. Paths the index does not hold are not answered (a file
 * nobody tracked). Undefined when content cannot decide (attributes that make git convert).
 * A snapshot asks it for the files it is about to write over (atomic-snapshot.ts): a person's
 * edit saved meanwhile would be lost.
 */
export function editedSinceIndexed(dir: string, index: TwinIndex, asked: ReadonlySet<string>): string[] | undefined {
  if (asked.size === 0) return []
  const racyFromFine = index.mtimeNs - FINE_SLACK
  const racyFromCoarse = index.mtimeNs - COARSE_SLACK
  const view = new DataView(index.bytes.buffer, index.bytes.byteOffset, index.bytes.byteLength)
  const prefix = dir.endsWith('/') ? dir : `${dir}/`
  const edited: string[] = []
  let converts: boolean | undefined // asked once, at the first file whose stat data proves nothing
  for (const i of positionsOf(index.paths, asked)) {
    const path = index.paths[i] as string
    let st: BigStatData | undefined
    try {
      st = lstatBigData(prefix + path)
    } catch {
      st = undefined
    }
    const verdict = st === undefined ? 'other' : statVerdict(view, index.statAt[i] ?? 0, st, racyFromFine, racyFromCoarse)
    if (verdict === 'same') continue
    if (verdict === 'other') {
      edited.push(path)
      continue
    }
    if ((converts ??= convertsSome(dir, index))) return undefined
    const entry = index.entries.get(path)
    const same = entry === undefined ? undefined : fileIsBlob(prefix + path, entry)
    if (same === undefined) return undefined
    if (!same) edited.push(path)
  }
  return edited
}

/**
 * Where the index holds the `asked` paths (by position, in the index's order); a path it does not
 * hold is left out. Speed (issue 22, session 50): a one-file snapshot asks about its few paths,
 * each found by a binary search in git's order (UTF-8 bytes), instead of a pass over every entry
 * with a set lookup each (editedSinceIndexed): the scale twin's 19,626 entries, the commit's look
 * for a person's edits (looksOf and editedMeanwhile in atomic-snapshot.ts, the changed manifest
 * part hashed among them) 17.6 → 5.0 M instructions (callgrind between marks). The index's order is
 * not taken on trust: a path not found where the search lands, when the index holds it (the
 * entries unordered: a hand-made index), and many paths asked (a search each would cost more than
 * the pass), go the old way, every position looked at.
 */
function positionsOf(paths: readonly string[], asked: ReadonlySet<string>): number[] {
  const all = (): number[] => paths.flatMap((path, i) => (asked.has(path) ? [i] : []))
  if (asked.size * 32 > paths.length) return all()
  const found: number[] = []
  for (const path of asked) {
    const at = lowerBound(paths, path)
    if (paths[at] === path) found.push(at)
    else if (paths.includes(path)) return all()
  }
  return found.sort((a, b) => a - b)
}

/** The first position at or after `from` in `paths` (git's order: by UTF-8 bytes) whose path is not before `path`. */
export function lowerBound(paths: readonly string[], path: string, from = 0): number {
  const ascii = /^[\x01-\x7f]*$/.test(path)
  const key = ascii ? undefined : Buffer.from(path)
  const before = (other: string): boolean => (ascii && /^[\x01-\x7f]*$/.test(other) ? other < path : Buffer.compare(Buffer.from(other), key ?? Buffer.from(path)) < 0)
  let low = from
  let high = paths.length
  while (low < high) {
    const middle = (low + high) >>> 1
    if (before(paths[middle] as string)) low = middle + 1
    else high = middle
  }
  return low
}

/** Whether anything is at `file` (not following a link); false also where a folder on the way is a file (ENOTDIR). */
export function entryPresent(file: string): boolean {
  try {
    return lstatSync(file, { throwIfNoEntry: false }) !== undefined
  } catch {
    return false
  }
}

/** Whether a working twin's file holds the blob of `entry` (by content); undefined when it cannot be read as git would. */
export function fileIsBlob(file: string, entry: IndexEntry): boolean | undefined {
  const bytes = blobBytes(file, entry.mode, CONTENT_CHECK_BYTES)
  return bytes === undefined ? undefined : gitBlobId(bytes) === entry.sha
}

/** At most this many bytes are hashed by `contentMatches`; more, and git is asked. */
const CONTENT_CHECK_BYTES = 64 * 1024 * 1024

/**
 * Speed (issue 22): the files whose stat data proves nothing (`statDataDoubts`) hold exactly
 * their entries' blobs — hashed as git hashes them (`blob <size>\0<bytes>`, SHA-1), what `git
 * status` itself does for such entries. After a snapshot that committed, the files it wrote
 * carry no stat data in the index until the next unchanged snapshot refreshes it; `plan` and
 * `status` asked git (`status`; for `status` also `rev-parse`, `ls-tree`, `cat-file`) at every
 * run until then, which is the state the bench measures them in. Content, never a stored claim,
 * decides: a person's edit changes the blob id whatever its stat data. A file read as a regular
 * file without following a link; a symlink by its target's text, as git hashes it. Measured on
 * the services root after a snapshot that committed (medians of 9 interleaved, load 8–9.5, CPU
 * with children): git processes of `plan` 1 → 0 and of `status` 4 → 0; CPU 380 → 350 ms and
 * 360 → 340 ms, wall 710 → 600 ms and 620 → 500 ms.
 */
function contentMatches(dir: string, index: TwinIndex, doubtful: readonly number[]): boolean {
  if (doubtful.length === 0) return true
  if (convertsSome(dir, index)) return false
  const prefix = dir.endsWith('/') ? dir : `${dir}/`
  let budget = CONTENT_CHECK_BYTES
  for (const i of doubtful) {
    const path = index.paths[i] as string
    const entry = index.entries.get(path)
    if (entry === undefined) return false
    const content = blobBytes(prefix + path, entry.mode, budget)
    if (content === undefined) return false
    budget -= content.length
    if (gitBlobId(content) !== entry.sha) return false
  }
  return true
}

/**
 * Attributes may make git compare a file through a conversion or a filter: git says then,
 * unless the twin's own attributes file (git-attributes.ts) turns every conversion off.
 */
function convertsSome(dir: string, index: TwinIndex): boolean {
  return !attributesNeutral(dir) && (index.paths.some((p) => p === '.gitattributes' || p.endsWith('/.gitattributes')) || lstatSync(join(dir, '.git', 'info', 'attributes'), { throwIfNoEntry: false }) !== undefined)
}

/**
 * The bytes git hashes for a file of the working twin: a symlink's target text, a regular file's
 * content read without following a link. Undefined when it is neither, larger than `limit`, or
 * cannot be read.
 */
function blobBytes(file: string, mode: string | undefined, limit: number): Buffer | undefined {
  try {
    if (mode === '120000') return readlinkSync(file, { encoding: 'buffer' })
    const fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK)
    try {
      const st = fstatSync(fd)
      return !st.isFile() || st.size > limit ? undefined : readFileSync(fd)
    } finally {
      closeSync(fd)
    }
  } catch {
    return undefined
  }
}

/** A blob's id as git makes it (`blob <size>\0<bytes>`, SHA-1). */
export function gitBlobId(bytes: Buffer): string {
  return createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex')
}

/**
 * Above the cut-off, from the index alone: some entry carries no stat data (zero times: what
 * `read-tree` writes, the first snapshot's index) or is racy by its recorded mtime (the rule of
 * statDataDoubts). Unrefreshed, git would read and hash its file at every status.
 */
function statDataMissing(index: TwinIndex): boolean {
  const { bytes, statAt, paths, entries } = index
  const fromFine = index.mtimeNs - FINE_SLACK
  const fromCoarse = index.mtimeNs - COARSE_SLACK
  for (let i = 0; i < statAt.length; i++) {
    const at = statAt[i] as number
    const ctimeS = bytes.readUInt32BE(at)
    const mtimeS = bytes.readUInt32BE(at + 8)
    const mtimeN = bytes.readUInt32BE(at + 12)
    if (ctimeS === 0 && mtimeS === 0) return true
    // Smudged (smudgeCtimeRacy, or git's own racy smudge): size 0 for a blob that is not empty.
    if (bytes.readUInt32BE(at + 36) === 0 && entries.get(paths[i] as string)?.sha !== EMPTY_BLOB) return true
    const mtime = BigInt(mtimeS) * ONE_SECOND + BigInt(mtimeN)
    if (mtime >= (mtimeN === 0 ? fromCoarse : fromFine)) return true
  }
  return false
}

/**
 * The working twin holds nothing but the index's files, the folders above them, and empty folders.
 *
 * Speed (issue 22): as git's untracked cache does, each folder the walk read is kept with its
 * stamp (inode, device, mtime and ctime to the nanosecond, taken before it was read), for this
 * index's paths (`names`: the names are all the walk compares). A name added, removed or renamed
 * in a folder moves its mtime and ctime, so while a kept folder has its stamp, it holds the names
 * it held, and it is not listed again (a file's content is statDataDoubts' to check, or git's
 * above the cut-off); a folder whose stamp moved is listed again, with what it holds that was
 * not kept (session 25: a commit's files are renamed into their folders, and only those folders
 * are listed again at the next look, not all of them). A kept folder gone must have been taken
 * out of a folder listed again (or itself gone); any other doubt walks the whole twin. Kept only
 * when no folder changed too recently to trust its times. The services twin's 69 folders: 69
 * lstat calls instead of 69 listings (open, getdents, close).
 */
function onlyIndexedFiles(dir: string, index: TwinIndex): boolean {
  const names = namesKey(index)
  const kept = readFolderRecord(dir)
  const stamps: Array<[string, string]> = []
  let ok: boolean
  const relisted = kept !== undefined && kept.names === names ? relistMoved(dir, index, kept.folders, stamps) : undefined
  if (relisted === 'same') return true
  if (relisted === undefined) {
    stamps.length = 0
    ok = walkIndexedFiles(dir, index, stamps)
  } else {
    ok = relisted === 'only-indexed'
  }
  if (ok && stamps.length > 0 && !stamps.some(([, stamp]) => stamp === RACY)) writeFolderRecord(dir, { names, folders: stamps })
  return ok
}

const namesKeys = new WeakMap<TwinIndex, string>()

/** A digest of the index's paths alone (what the folder walk compares), once per index read. */
function namesKey(index: TwinIndex): string {
  let key = namesKeys.get(index)
  if (key === undefined) {
    key = digestNames(index.paths)
    namesKeys.set(index, key)
  }
  return key
}

function digestNames(paths: readonly string[]): string {
  return createHash('sha1').update(paths.join('\0')).digest('hex')
}

/**
 * The kept folders checked by their stamps; those whose stamp moved listed again (and what they
 * hold that was not kept, walked whole). 'same': every stamp as kept; 'only-indexed' or 'other':
 * what the listings found (`stamps`: the new record); undefined: a doubt only a whole walk settles.
 */
function relistMoved(dir: string, index: TwinIndex, folders: ReadonlyArray<[string, string]>, stamps: Array<[string, string]>): 'same' | 'only-indexed' | 'other' | undefined {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`
  const now = BigInt(Date.now()) * 1_000_000n
  const moved: string[] = []
  const gone = new Set<string>()
  const known = new Set<string>()
  for (const [relative, stamp] of folders) {
    const current = folderStamp(relative === '' ? dir : prefix + relative, now)
    if (current === stamp) {
      stamps.push([relative, stamp])
      known.add(relative)
    } else if (current === undefined) {
      gone.add(relative)
    } else {
      moved.push(relative)
      known.add(relative)
    }
  }
  if (moved.length === 0 && gone.size === 0) return 'same'
  // A folder gone was taken out of its parent, whose stamp moved with it (or which is gone too).
  const movedSet = new Set(moved)
  for (const relative of gone) {
    if (relative === '') return undefined
    const slash = relative.lastIndexOf('/')
    const parent = slash < 0 ? '' : relative.slice(0, slash)
    if (!movedSet.has(parent) && !gone.has(parent)) return undefined
  }
  for (const relative of moved) {
    if (!walkFrom(dir, index, relative, stamps, now, known)) return 'other'
  }
  return 'only-indexed'
}

const FOLDER_RECORD = join('.git', 'twinsync', 'cache', 'clean-folders.json')
const RACY = 'racy'

/** A folder's stamp (inode, device, mtime and ctime in ns); RACY when changed too recently to trust; undefined when it is no folder. */
function folderStamp(path: string, now: bigint): string | undefined {
  let st: BigStatData | undefined
  try {
    st = lstatBigData(path)
  } catch {
    return undefined
  }
  if (st === undefined || !isKind(st, S_IFDIR)) return undefined
  const racyFrom = now - (st.mtimeNs % ONE_SECOND === 0n && st.ctimeNs % ONE_SECOND === 0n ? COARSE_SLACK : FINE_SLACK)
  if (st.mtimeNs >= racyFrom || st.ctimeNs >= racyFrom) return RACY
  return `${st.ino}:${st.dev}:${st.mtimeNs}:${st.ctimeNs}`
}

function readFolderRecord(dir: string): { names: string; folders: Array<[string, string]> } | undefined {
  const text = readText(join(dir, FOLDER_RECORD))
  if (typeof text !== 'string') return undefined
  try {
    const value = JSON.parse(text) as { names?: unknown; folders?: unknown }
    if (typeof value.names !== 'string' || !Array.isArray(value.folders)) return undefined
    for (const f of value.folders) if (!Array.isArray(f) || f.length !== 2 || typeof f[0] !== 'string' || typeof f[1] !== 'string' || f[0].split('/').includes('..')) return undefined
    return { names: value.names, folders: value.folders as Array<[string, string]> }
  } catch {
    return undefined
  }
}

/** Losing it only costs the walk. */
function writeFolderRecord(dir: string, record: { names: string; folders: Array<[string, string]> }): void {
  writeRecord(join(dir, FOLDER_RECORD), JSON.stringify(record) + '\n')
}

/**
 * A record of the twin's cache (`.git/twinsync/cache`: the clean record, the folders' stamps,
 * the screening rules' version), written whole beside and renamed in: a reader sees the old
 * record or the new one. Not fsynced (issue 22, session 9): losing a record only costs the work
 * it saves, and what a power loss can leave of one that never reached the disk (no file, an
 * empty one, zeros, the record it replaced) is refused by its reader (JSON that does not parse
 * or does not match) or is an earlier record, which speaks of the same immutable commits and
 * index entries it named then. A first snapshot wrote three of them with an fsync of the file and
 * of its folder each: six fsyncs, 0.3–7 ms each on this disk (strace, load 4–8).
 */
export function writeRecord(path: string, text: string | Uint8Array): void {
  // Named by its run (lockTempName): one a kill leaves is removed by the next settling (sweepCacheTemps in atomic-snapshot.ts).
  const temp = lockTempName(path)
  try {
    mkdirSync(dirname(path), { recursive: true })
    writeFileSync(temp, text, { mode: 0o600 })
    renameSync(temp, path)
  } catch {
    rmSync(temp, { force: true })
  }
}

function walkIndexedFiles(dir: string, index: TwinIndex, stamps: Array<[string, string]>): boolean {
  return walkFrom(dir, index, '', stamps, BigInt(Date.now()) * 1_000_000n, new Set())
}

/**
 * Walk `from` and what it holds: every file must be indexed (git shows no empty folder), no
 * nested `.git`. A folder in `skip` is not entered (its own stamp is checked elsewhere). Each
 * folder's stamp is taken before its listing: a name added after it moves the folder's times.
 */
function walkFrom(dir: string, index: TwinIndex, from: string, stamps: Array<[string, string]>, now: bigint, skip: ReadonlySet<string>): boolean {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`
  const walk = (relative: string): boolean => {
    const at = relative === '' ? dir : prefix + relative
    const stamp = folderStamp(at, now)
    if (stamp === undefined) return false
    stamps.push([relative, stamp])
    let names
    try {
      names = readdirSync(at, { withFileTypes: true })
    } catch {
      return false
    }
    for (const entry of names) {
      if (relative === '' && entry.name === '.git') continue
      if (entry.name === '.git') return false
      const path = relative === '' ? entry.name : `${relative}/${entry.name}`
      if (entry.isDirectory()) {
        if (!skip.has(path) && !walk(path)) return false
      } else if (!index.entries.has(path)) {
        return false
      }
    }
    return true
  }
  return walk(from)
}
