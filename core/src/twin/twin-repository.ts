import { refuseUnfinishedForget } from '../history/forget-record.js'
import { twinsyncLine } from '../plan/command-text.js'
import { RunTarget } from '../plan/run-target.js'
import { chmodSync, mkdirSync, readdirSync, statSync, type Stats } from 'node:fs'
import { join } from 'node:path'
import type { TwinDocument, TwinReader } from '@twinsync/sdk'
import { TWIN_LAYOUT, TwinSyncError, compareStrings, isTwinSyncError, stableStringify } from '@twinsync/sdk/light'
import { inject, injectable } from '../di.js'
import { Tokens } from '../tokens.js'
import { SnapshotDraft, commitFirstFiles, refreshIndex, settleSnapshot, snapshotUnsettled, type Settled } from './atomic-snapshot.js'
import { indexUnchanged, noteBlind, quickClean, readHead, readIndex, rememberClean, smudgeIndexedPaths, type QuickClean, type TwinIndex } from './quick-status.js'
import type { GitClient, GitClientFactory } from './git.js'
import { isTwinFile, listIndexed, listTwinFiles, readTwinFile, refuseNotRegular, removeTwinFile, twinFileMode, twinFileSizeSync, writeTwinFile, type CheckedFolders } from './twin-files.js'
import { TwinLock } from './twin-lock.js'
import { moveStamp, moveUnderWay, movesLeft } from './move-stamp.js'
import { GitTreeReader } from './git-tree-reader.js'
import { refuseLinkedState } from './twin-state.js'
import { pullMoveUnsettled, settlePullMove } from './pull-move.js'
import { dropDeadFetchRefs } from './fetch-refs.js'
import { actAsTwinOwner } from './twin-owner.js'
import { initInNode } from './init-in-node.js'
import { ensureNeutralAttributes } from './git-attributes.js'
import { TWIN_FORMAT_VERSION, parseTwinInfo, twinInfoFile, type TwinInfo } from './twin-info.js'
import type { TwinLocation } from './twin-location.js'

export { TWIN_FORMAT_VERSION, type TwinInfo } from './twin-info.js'

const FOLDER_NOTES: Record<string, string> = {
  'plans/README.md':
    '# plans\n\nDesired changes written by people or tools, as YAML files. `twinsync plan` reads them\ntogether with the rest of the twin; see the plan format in the TwinSync documentation.\n',
  'scripts/README.md':
    '# scripts\n\nScripts a plan may run, and only after you approve the plan. A plan can only name\nscripts from this folder.\n',
}

/**
 * One look at the working twin: HEAD and the paths that differ from it (`dirtyPaths`), taken
 * together, for a caller that judges more than once from the same look (a plan's basis and its
 * description diagnostics).
 */
export interface WorkingTwinCheck {
  head: string | undefined
  dirty: readonly string[]
}

/** A person saved a twin file after a snapshot's last look and before its move reached the file, or after a kill stopped the move: kept as saved (finishMove). */
export const TWIN_EDIT_KEPT = 'TWIN_EDIT_KEPT'

/** The warning for a save that settling a killed snapshot's move kept (the snapshot's warning, the plan's diagnostic). */
export function keptOverMove(path: string): string {
  return `${path}: saved in the twin after a snapshot was stopped part way; the snapshot is finished and your save is kept, pending against it`
}

/** The quick check's last verdict per twin in this process (dirtyPaths), for refreshStatData: the services hold their own TwinRepository. */
const lastQuick = new Map<string, QuickClean>()

/** Where providers keep caches: inside .git, so never committed, and gone with the twin. */
/** The twin's first commit's subject (a counts trailer may follow in its body). */
export const INIT_MESSAGE = 'TwinSync init'

export function twinCacheDir(twinDir: string): string {
  return join(twinDir, '.git', 'twinsync', 'cache')
}

/**
 * The twin: a Git repository with the spec's layout. Knows nothing of providers; it stores
 * documents, tells what changed, and commits.
 */
@injectable()
export class TwinRepository implements TwinReader {
  readonly dir: string
  private readonly git: GitClient

  constructor(
    @inject(Tokens.TwinLocation) location: TwinLocation,
    @inject(Tokens.GitFactory) gitFactory: GitClientFactory,
    /** What the run acts on, for the `twinsync init` its refusals suggest (none: a twin place looked at alone, twin-place.ts). */
    @inject(RunTarget) private readonly target?: RunTarget,
  ) {
    this.dir = location.dir
    this.git = gitFactory(this.dir)
  }

  /** `twinsync init` for a twin at `dir`, with the run's --root and --config. */
  private initLine(dir: string): string {
    return twinsyncLine(['init'], this.target?.get(dir) ?? { root: '/', repo: dir })
  }

  /** A `twinsync ARGS` line for this twin, with the run's --root and --config (alone: --repo only). */
  line(args: readonly string[]): string {
    return twinsyncLine(args, this.target?.get(this.dir) ?? { root: '/', repo: this.dir })
  }

  /** Create the twin. Idempotent on an existing twin; refuses anything else in the way. */
  async init(
    info: TwinInfo,
    /** The init commit's message for its tree and files (its counts trailer, count-record.ts); "TwinSync init" by default. */
    messageFor?: (tree: string, paths: string[]) => Promise<string>,
  ): Promise<{ created: boolean; commit: string | undefined }> {
    const existing = statQuietly(this.dir)
    if (existing !== undefined && !existing.isDirectory()) throw this.notDirectory()
    if (existing !== undefined) {
      // Root in another user's folder: refused unless that user asked through sudo, and then what is written is theirs (twin-owner.ts).
      actAsTwinOwner(this.dir)
      if (await this.isTwin()) return { created: false, commit: await this.git.head() }
      if (await isTwinFile(this.dir, 'twin.json')) refuseLinkedState(this.dir)
      if (readdirSync(this.dir).length > 0) {
        throw new TwinSyncError('REPO_NOT_TWIN', `${this.dir} exists, is not empty and is not a TwinSync twin`, {
          nextStep: 'Choose another place with --repo, or empty that directory first.',
          details: { repo: this.dir },
        })
      }
    }
    // Synchronous, as the rest of init's folders and files (writeTwinFile): the twin's own, made by
    // the core while the command waits for them, in no provider call (whose time limit a blocked
    // call would hold up); fs/promises' calls were all that loaded it in init (session 53).
    mkdirSync(this.dir, { recursive: true, mode: 0o700 })
    chmodSync(this.dir, 0o700)
    // Made in Node when that is exactly what `git init` would make (init-in-node.ts), else by git.
    if (!initInNode(this.dir)) await this.git.init()
    ensureNeutralAttributes(this.dir)
    for (const folder of TWIN_LAYOUT) mkdirSync(join(this.dir, folder), { recursive: true })
    const files = [...Object.entries(FOLDER_NOTES).map(([path, text]) => ({ path, bytes: Buffer.from(text) })), { path: 'twin.json', bytes: Buffer.from(stableStringify(twinInfoFile(info))) }]
    for (const { path, bytes } of files) await writeTwinFile(this.dir, path, bytes, 0o644)
    // The init commit made as a snapshot's is, without `git add` and `git commit` (atomic-snapshot.ts).
    const paths = files.map((f) => f.path)
    let commit = await commitFirstFiles(this.dir, files, INIT_MESSAGE, messageFor === undefined ? undefined : (tree) => messageFor(tree, paths))
    if (commit === undefined) {
      await this.git.addAll()
      commit = await this.git.commit(INIT_MESSAGE)
    }
    // Everything added and committed: the index is HEAD's tree. Recorded as `git status` finding
    // the twin clean would be, so the first snapshot's check of it asks no git (quick-status.ts).
    const index = readIndex(this.dir)
    if (commit !== undefined && readHead(this.dir) === commit && index !== undefined) await rememberClean(this.dir, commit, index)
    return { created: true, commit }
  }

  /** Refuse to work on anything that is not an initialised twin. */
  /** `finishingForget`: the one caller that may open a twin an interrupted forget left (ForgetWorkflow, which finishes it). */
  async open(options: { finishingForget?: boolean } = {}): Promise<TwinInfo> {
    // Synchronous checks (issue 22): every command opens the twin, some twice.
    const existing = statQuietly(this.dir)
    if (existing === undefined) {
      throw new TwinSyncError('REPO_NOT_INITIALIZED', `There is no twin at ${this.dir}`, {
        nextStep: `Create it with \`${this.initLine(this.dir)}\` (or point --repo at the twin).`,
        details: { repo: this.dir },
      })
    }
    if (!existing.isDirectory()) throw this.notDirectory()
    // Root in another user's twin: refused unless that user asked through sudo, and then what is written is theirs (twin-owner.ts).
    actAsTwinOwner(this.dir)
    if (!(await this.isTwin())) {
      // twin.json beside a `.git` that is a gitfile (or a link to no folder): said as what it is (twin-state.ts).
      if (await isTwinFile(this.dir, 'twin.json')) refuseLinkedState(this.dir)
      throw new TwinSyncError('REPO_NOT_TWIN', `${this.dir} is not a TwinSync twin (no twin.json and .git)`, {
        nextStep: `Point --repo at a twin, or create one in a new directory: \`${this.initLine(`${this.dir.replace(/\/+$/, '')}-twin`)}\`.`,
        details: { repo: this.dir },
      })
    }
    // TwinSync's own places in .git, before any record is read or the lock taken: no link followed (twin-state.ts).
    refuseLinkedState(this.dir)
    // A forget killed half way: its files may still be in the working twin (see forget.ts).
    if (options.finishingForget !== true) refuseUnfinishedForget(this.dir, this.line(['forget']))
    const info = parseTwinInfo(this.dir, await readTwinFile(this.dir, 'twin.json'))
    // Before git touches the working twin: no .gitattributes in it is obeyed (git-attributes.ts).
    // Where .git cannot be written, git cannot change the working twin either: the command goes on.
    try {
      ensureNeutralAttributes(this.dir)
    } catch {}
    if (info.formatVersion !== TWIN_FORMAT_VERSION) {
      throw new TwinSyncError('REPO_INVALID', `${this.dir} has twin format ${info.formatVersion}; this TwinSync reads ${TWIN_FORMAT_VERSION}`, {
        nextStep: 'Use the TwinSync version that created this twin, or upgrade TwinSync.',
      })
    }
    return info
  }

  /** The twin lock. */
  lock(): TwinLock {
    return new TwinLock(join(this.dir, '.git', 'twinsync', 'lock'))
  }

  /** A new snapshot, built in git's object store (see atomic-snapshot.ts). Hold the lock. */
  draft(options: { edited: boolean }): Promise<SnapshotDraft> {
    return SnapshotDraft.begin(this.dir, options)
  }

  /**
   * Commit the working twin's edits as they are (the desired state, before an apply), the same
   * all-or-nothing way as a snapshot: git's own index is never left locked by a kill. `check`
   * sees the tree built (and how many paths it changes from HEAD) before the commit.
   */
  async commitEdits(message: string, check?: (tree: string, changed: number) => void): Promise<string | undefined> {
    const draft = await this.draft({ edited: true })
    try {
      const { tree, changes } = await draft.build({ edited: true })
      // The tree about to be committed, to the caller first (ApplyService.refuseMovedTwin): one it throws on is not committed.
      check?.(tree, changes.length)
      if (changes.length === 0) {
        await draft.discard()
        return undefined
      }
      return await draft.commit(tree, message)
    } catch (error) {
      await draft.discard().catch(() => undefined)
      throw error
    }
  }

  /**
   * Finish or throw away a snapshot a crash interrupted, and clear temp files. Hold the lock.
   * `warn` hears of git locks removed as stale (a killed git's, stale-git-lock.ts): a person
   * who finds one gone should know TwinSync removed it, and why.
   */
  async settle(warn?: (message: string) => void): ReturnType<typeof settleSnapshot> {
    const settled = await settleSnapshot(this.dir)
    // A pull killed inside git's checkout: its files go back as HEAD has them (pull-move.ts).
    if (pullMoveUnsettled(this.dir)) await settlePullMove(this.dir)
    // A pull killed between its fetch and its check: its ref on the mirror's unjudged commit goes (fetch-refs.ts).
    await dropDeadFetchRefs(this.dir)
    const locks = settled.tempFiles.filter((f) => f.startsWith('.git/') && f.endsWith('.lock'))
    if (locks.length > 0) warn?.(`removed git's lock${locks.length === 1 ? '' : 's'} ${locks.join(', ')} in the twin, left by a killed run: no git process holds ${locks.length === 1 ? 'it' : 'them'}`)
    // A killed snapshot's move, finished now, left a twin file saved since the kill as saved (finishMove).
    for (const path of settled.kept) warn?.(keptOverMove(path))
    // A killed snapshot's move that fails again the same way: undone, the twin the snapshot before (undoFailedMove).
    if (settled.undone !== undefined) warn?.(`${settled.undone.message}. ${settled.undone.nextStep ?? ''}`.trim())
    return settled
  }

  /**
   * The twin lock for a command that changes the twin, its HEAD or its history (adopt, discard,
   * gc, forget): taken, then what a killed run left is settled (`settle`), as snapshot and apply
   * do, before anything moves. A snapshot's unfinished move is finished only while HEAD is still
   * its commit: gc folding old snapshots rewrote HEAD first, settling then took the move for one
   * whose HEAD never moved and left the half-moved working twin, and `plan` proposed undoing on
   * the machine what the killed snapshot had recorded. Release the lock after use.
   */
  async lockForWriting(purpose: string, warn?: (message: string) => void): Promise<TwinLock> {
    const lock = this.lock()
    await lock.acquire(purpose)
    try {
      await this.settle(warn)
    } catch (error) {
      await lock.release()
      throw error
    }
    return lock
  }

  /**
   * Before reading the working twin without the lock: a snapshot's unfinished move is settled
   * first (under the lock), so a half-moved working twin is never read as the desired state.
   * Returns the twin files saved since the kill that the finished move kept (keptOverMove), and
   * the move undone instead when it could not be finished (TWIN_MOVE_FAILED). A move of a
   * snapshot still running is waited for (TwinLock.holdForReading, bounded; `signal` ends the
   * wait: ABORTED), then found settled.
   */
  async settleForReading(signal?: AbortSignal): Promise<Pick<Settled, 'kept' | 'undone'>> {
    if (!(await snapshotUnsettled(this.dir)) && !pullMoveUnsettled(this.dir)) return { kept: [] }
    return this.lock().holdForReading('recovery', () => this.settle(), signal)
  }

  /**
   * Read the working twin without its lock (`plan`, the panel's, `rehearse`'s), and read
   * again when a run moved it meanwhile. `read` calls `looked(true)` once it has settled the twin
   * for reading (settleForReading, IntentService.putBackHeldForReading) and goes on to read the
   * working twin; `looked(false)` (or no call) when it reads none (a commit).
   *
   * Session 54 (session 53's review): a snapshot that began after the reader's look set the
   * person's edits aside or moved the twin's files while the providers read, and the plan left
   * the edits out, silently (a loop of plans beside 15 committing snapshots with a pending edit: 3
   * plans of 26 without it on ebf06447). Session 55 (session 54's review, M1–M3): the read counts
   * when, from `looked` to its end, the working twin's move stamp (move-stamp.ts) is the same,
   * no move is under way, and none left anything to settle (the edits set aside, a move record).
   * Every step that moves the working twin replaces the stamp before and after (snapshot, its
   * checkpoint in an apply, commitEdits, promote, pull, adopt, discard, forget, settling); a run
   * that only holds the lock (an apply at its prompt, a `gc` that folds nothing, another host's lock) changes nothing
   * and is never waited for. Moved: the reader waits while the move is under way (bounded by
   * readerWait, LOCK_HELD past it; `signal` ends it) and reads again; the third read holds the lock
   * when it is free (readLast: a writer that keeps moving the twin cannot keep a reader going). A
   * move under way at the look counts as a move (readOnce). Inside a `hold` of the lock
   * (an apply's own plan) nothing else moves the twin: read once. What each read's settling did
   * (kept saves, an undone move) is the caller's to carry across reads (Planner.plan).
   */
  async readSteadily<T>(read: (looked: (reads: boolean) => void) => Promise<T>, signal?: AbortSignal): Promise<T> {
    const lock = this.lock()
    if (lock.heldHere()) return read(() => undefined)
    for (let reads = 1; ; reads++) {
      if (reads === 3) return this.readLast(lock, read)
      const { result, moved } = await this.readOnce(lock, read)
      if (!moved) return result
      // The run moving it is waited for (a move under way); the next read settles what it left.
      await lock.waitWhileMoving(async () => moveUnderWay(this.dir, lock), signal)
    }
  }

  /**
   * readSteadily's third read: under the lock when it is free (a writer that keeps moving the twin
   * is refused meanwhile); never waiting for a holder that moves nothing (an apply at its prompt, a
   * `gc`, another host's lock: the review of session 55, R2), whose twin is read once more as the
   * others were, and a move seen then too ends the plan, LOCK_HELD, rather than going on.
   */
  private async readLast<T>(lock: TwinLock, read: (looked: (reads: boolean) => void) => Promise<T>): Promise<T> {
    let began = false
    try {
      return await lock.hold('plan', () => {
        began = true
        return read(() => undefined)
      })
    } catch (error) {
      if (began || !isTwinSyncError(error) || error.code !== 'LOCK_HELD') throw error
    }
    const { result, moved } = await this.readOnce(lock, read)
    if (!moved) return result
    throw new TwinSyncError('LOCK_HELD', `The twin ${this.dir} kept moving while this plan read it (three reads), and another TwinSync run holds it`, {
      nextStep: 'Run the command again once the other TwinSync runs have finished with the twin.',
      details: { repo: this.dir },
    })
  }

  /**
   * One read without the lock, and whether the working twin moved meanwhile: its stamp noted at
   * `looked`, and a move under way then counts as one (its run may end it, or be killed, before
   * the read ends, the stamp then as it was and nothing left to settle: the review of session 55, R1).
   */
  private async readOnce<T>(lock: TwinLock, read: (looked: (reads: boolean) => void) => Promise<T>): Promise<{ result: T; moved: boolean }> {
    let seen: string | undefined
    let movingAtLook = false
    const result = await read((working) => {
      seen = working ? moveStamp(this.dir) : undefined
      movingAtLook = working && moveUnderWay(this.dir, lock) !== undefined
    })
    return { result, moved: seen !== undefined && (movingAtLook || (await this.movedSince(lock, seen))) }
  }

  /** Whether the working twin moved since the stamp `seen` (moveStamp), is moving, or a move left something to settle: see readSteadily. */
  private async movedSince(lock: TwinLock, seen: string): Promise<boolean> {
    if (moveStamp(this.dir) !== seen) return true
    if (await movesLeft(this.dir, snapshotUnsettled, pullMoveUnsettled)) return true
    return moveUnderWay(this.dir, lock) !== undefined
  }

  /** Where providers keep caches (see twinCacheDir). */
  cacheDir(): string {
    return twinCacheDir(this.dir)
  }

  /** A regular file's content; undefined when absent; TWIN_SYMLINK when it (or a folder above it) is a symlink. */
  async read(path: string): Promise<Uint8Array | undefined> {
    return readTwinFile(this.dir, path)
  }

  async readText(path: string): Promise<string | undefined> {
    const bytes = await this.read(path)
    return bytes === undefined ? undefined : Buffer.from(bytes).toString('utf8')
  }

  /** A regular file's size, from lstat (never read); undefined when absent; TWIN_SYMLINK for a symlink. */
  async sizeOf(path: string): Promise<number | undefined> {
    return twinFileSizeSync(this.dir, path)
  }

  /** Whether the working twin's regular file has an x bit (lstat); undefined when there is none. */
  async executableOf(path: string): Promise<boolean | undefined> {
    const mode = await twinFileMode(this.dir, path)
    return mode === undefined ? undefined : (mode & 0o111) !== 0
  }

  /** Every file under a folder of the working tree ("system/" or "filesystem/etc/"), sorted; symlinks are listed, never entered. */
  async list(prefix: string): Promise<string[]> {
    return listTwinFiles(this.dir, prefix)
  }

  /**
   * The working twin for one pass that only reads it (a plan, a status): read and list as above,
   * each folder found to be a real directory checked once for the pass (CheckedFolders in
   * twin-files.ts). Use a new one for each pass; never across a write. `observed`: the last
   * snapshot's commit, when the pass reads the working twin as what it asks for (a plan): a
   * document's executable bit is judged against that commit's (observedExecutableOf); `judgedBy`:
   * a reader of the commit the working twin was found to be exactly, whose judgement it takes.
   */
  reader(options: { justChecked?: boolean; observed?: string | undefined; judgedBy?: Pick<TwinReader, 'observedExecutableOf'> } = {}): TwinReader {
    const checked: CheckedFolders = new Set()
    const read = (path: string) => readTwinFile(this.dir, path, checked)
    const index = options.justChecked === true ? this.justCheckedIndex() : undefined
    const observed = options.observed
    // Its modes only, listed on the first ask (a document whose bit disagrees with its manifest mode): no blob is read through it.
    let observedTree: GitTreeReader | undefined
    return {
      read,
      readText: async (path) => {
        const bytes = await read(path)
        return bytes === undefined ? undefined : bytes.toString('utf8')
      },
      list: async (prefix) => (index === undefined ? listTwinFiles(this.dir, prefix, checked) : listIndexed(index.entries, this.dir, prefix)),
      sizeOf: async (path) => twinFileSizeSync(this.dir, path, checked),
      // A working twin found to be exactly its index: the index entry's mode, no lstat (a plan reads every document).
      executableOf: async (path) => {
        const mode = index?.entries.get(path)?.mode
        return mode === '100755' ? true : mode === '100644' ? false : this.executableOf(path)
      },
      ...(index === undefined ? {} : { blobOf: (path: string) => indexedBlob(index, path) }),
      ...(observed === undefined ? {} : { observedExecutableOf: (path: string) => (observedTree ??= new GitTreeReader(this.dir, observed)).executableOf(path) }),
      // The working twin found exactly a commit read as a whole: its bits judged as that commit's reader judges them (wholeCommitReader).
      ...(options.judgedBy?.observedExecutableOf === undefined ? {} : { observedExecutableOf: (path: string) => (options.judgedBy?.observedExecutableOf?.(path) as Promise<boolean | undefined>) }),
    }
  }

  /**
   * The index the twin's check (dirtyPaths, isExactly) last found the working twin to be exactly,
   * while the index file is still the one it read; for a caller that made that check a moment ago
   * (`reader({ justChecked })`: its listings come from the index's paths, listIndexed).
   */
  private justCheckedIndex(): TwinIndex | undefined {
    const last = lastQuick.get(this.dir)
    return last?.clean === true && indexUnchanged(this.dir, last.index) ? last.index : undefined
  }

  /** Write a document unless the twin already holds exactly these bytes. Never writes through a symlink. */
  async write(doc: TwinDocument): Promise<boolean> {
    const bytes = typeof doc.content === 'string' ? Buffer.from(doc.content) : Buffer.from(doc.content)
    const mode = doc.executable === true ? 0o755 : 0o644
    const current = await this.read(doc.path).catch((error: unknown) => {
      // A symlink where the document goes is replaced (the link, not what it points at).
      if ((error as TwinSyncError).code === 'TWIN_SYMLINK') return undefined
      throw error
    })
    if (current !== undefined && Buffer.from(current).equals(bytes) && (await twinFileMode(this.dir, doc.path)) === mode) return false
    await writeTwinFile(this.dir, doc.path, bytes, mode)
    return true
  }

  async remove(path: string): Promise<void> {
    await removeTwinFile(this.dir, path)
  }

  async stageAll() {
    await this.git.addAll()
    return this.git.stagedChanges()
  }

  commit(message: string): Promise<string> {
    return this.git.commit(message)
  }

  /**
   * The working twin is exactly `commit`, HEAD, with nothing edited, added or half moved, as
   * .git proves without git (quick-status.ts): reading its files is reading that snapshot.
   * False means "not known", never "different".
   */
  async isExactly(commit: string, checkedJustNow = false): Promise<boolean> {
    if (await snapshotUnsettled(this.dir)) return false
    // The caller's own check found the working twin exactly this commit a moment ago
    // (PlanOptions.fromIsWorkingTwin), and HEAD is still it: not checked a second time.
    if (checkedJustNow && readHead(this.dir) === commit) return true
    // Any size: without it the planner reads the commit through `git cat-file`, dearer than the check.
    const quick = quickClean(this.dir, { anySize: true })
    lastQuick.set(this.dir, quick)
    return quick.clean && quick.head === commit
  }

  /** HEAD's commit: read from .git when it can be (quick-status.ts), else from git. */
  async head(): Promise<string | undefined> {
    const quick = readHead(this.dir)
    return quick === undefined ? this.git.head() : (quick ?? undefined)
  }

  /**
   * Paths that differ from HEAD in the working twin, untracked files included. Nothing when
   * .git proves the twin clean without git (quick-status.ts); otherwise git says. `underLock`
   * (the caller holds the twin lock): when git finds the twin clean, that is recorded for this
   * HEAD and index, so that the next run need not ask git again, and an edit git is blind to is
   * smudged in git's own index. Without it nothing of git's is written (`plan`, `status`).
   */
  async dirtyPaths(options: { underLock?: boolean } = {}): Promise<string[]> {
    const quick = quickClean(this.dir)
    lastQuick.set(this.dir, quick)
    if (quick.clean) {
      noteBlind(this.dir, [])
      return []
    }
    // Above the cut-off the folders' stamps say whether any file is there that the index does not hold (quick-status.ts).
    let dirty = await this.git.dirtyPaths({ indexedOnly: quick.onlyIndexed === true })
    // Files the quick check proved by content to differ from their entries, which git (comparing
    // times to the second) took for unchanged: smudged in every copy of git's index this process
    // makes (noteBlind), so that every git after it (a snapshot's or an intent's `git add`) reads
    // them too. In git's own index (and git asked again) only under the twin lock: a `plan` or
    // `status` holding git's index lock made a snapshot starting then fail (session 44).
    const blind = quick.differs?.filter((path) => !dirty.includes(path)) ?? []
    noteBlind(this.dir, blind)
    if (blind.length > 0) {
      if (options.underLock === true && quick.index !== undefined && smudgeIndexedPaths(this.dir, quick.index, blind)) dirty = await this.git.dirtyPaths({ indexedOnly: quick.onlyIndexed === true })
      for (const path of blind) if (!dirty.includes(path)) dirty.push(path)
    }
    // A FIFO, socket or device at a twin document's path (git lists it as modified; an untracked
    // one git ignores, as the listings do): refused here, the look every command takes before it
    // reads the working twin, not read as a deleted document (twinNotRegularError). One lstat a path.
    for (const path of dirty) refuseNotRegular(this.dir, path)
    const { head, index } = quick
    if (options.underLock === true && dirty.length === 0 && head !== undefined && index !== undefined && readHead(this.dir) === head && indexUnchanged(this.dir, index)) {
      await rememberClean(this.dir, head, index)
    }
    return dirty
  }

  /**
   * After a snapshot that committed nothing, under the twin lock: when the quick check could not
   * trust the index's stat data (the files a commit wrote have none yet), `git update-index
   * --refresh` it (atomic-snapshot.ts), so that the next run needs no git.
   */
  async refreshStatData(): Promise<void> {
    const last = lastQuick.get(this.dir)
    if (last?.clean === true && !last.staleStatData) return
    // Above the cut-off the look judged the stat data from the index alone: while the index file
    // is the one it read, that verdict stands (the index, 2.5 MB on the scale twin, and the
    // folders' stamps not read again).
    if (last?.onlyIndexed !== undefined && last.index !== undefined && indexUnchanged(this.dir, last.index)) {
      if (last.staleStatData) await refreshIndex(this.dir, last.index)
      return
    }
    const quick = quickClean(this.dir)
    if (quick.staleStatData && quick.index !== undefined) await refreshIndex(this.dir, quick.index)
  }

  private async isTwin(): Promise<boolean> {
    const json = await isTwinFile(this.dir, 'twin.json')
    return json && statQuietly(join(this.dir, '.git'))?.isDirectory() === true
  }

  private notDirectory(): TwinSyncError {
    return new TwinSyncError('REPO_NOT_DIRECTORY', `${this.dir} exists and is not a directory`, {
      nextStep: 'Point --repo (or "repo" in the config file) at a directory.',
      details: { repo: this.dir },
    })
  }
}

function statQuietly(path: string): Stats | undefined {
  try {
    return statSync(path)
  } catch {
    return undefined
  }
}

/**
 * Speed (issue 22, session 16): the blob id the index the twin's check just found the working twin
 * to be exactly holds for a regular file (`reader({ justChecked })`'s `blobOf`), so a provider
 * need not open and read a document whose id is that of the text it just collected: the files
 * provider's 211 mirrored documents (1.3 MB) on the services root, about 850 system calls of every
 * `plan` and `status` on an unchanged machine (figures in plugins/files/src/collected-texts.ts).
 * The clean check vouched for every indexed file (git's stat data, racy ones hashed), for no
 * symlinked folder above one (the walk or its folder stamps) and for nothing else in the twin: the
 * file holds exactly that blob, as `read` would find. A symlink, a submodule or no entry: undefined.
 */
function indexedBlob(index: TwinIndex, path: string): string | undefined {
  const entry = index.entries.get(path)
  return entry !== undefined && (entry.mode === '100644' || entry.mode === '100755') ? entry.sha : undefined
}
