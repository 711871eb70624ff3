import { createHash, randomBytes } from 'node:crypto'
import { deflateSync } from 'node:zlib'
import { appendFileSync, linkSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs'
import { lstat, mkdir, readdir, rm } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import type { TwinReader } from '@twinsync/sdk'
import { TwinSyncError, compareStrings, isTwinSyncError, knownBlob, writeFileAtomic } from '@twinsync/sdk/light'
import { diskError } from './disk-error.js'
import { lockTempOfDeadRun, tempOfDeadRun } from './twin-lock.js'
import { BatchReader, copyIndex, dropStaleRefLock, EMPTY_TREE, lsFilesEntries, lsTreeEntries, parseNameStatus, readBlobs, runGitBytes, type GitStatusEntry } from './git.js'
import { moveFailedNextStep, PATH_MAX_BYTES, readTwinFile, twinPathParts, twinSymlinkError } from './twin-files.js'
import { twinPathProblem } from './twin-path-check.js'
import { writePack } from './pack-writer.js'
import { packsCommits } from './auto-pack.js'
import { identityNow, reflogFlag, updateRefInNode } from './ref-update.js'
import { settleRecordedRefLocks } from './ref-lock-record.js'
import { moving } from './move-stamp.js'
import { removeStaleGitLock } from './stale-git-lock.js'
import { removeFile, removeFolder } from './remove-file.js'
import { editedSinceIndexed, entryPresent, FILE_CLOCK_LAG_MS, INDEX_SMUDGE_TEMP, fileIsBlob, gitBlobId as blobId, indexUnchanged, readHead, readIndex, readRefId, recordIndexParse, recordRefreshedIndex, rememberClean, smudgeCtimeRacy, writeIndexCopy, type TwinIndex } from './quick-status.js'
import { cacheTreeExtension, cacheTreeOf, foldersAbove, parseCacheTree, spliceIndex, treesFromCache, type CacheTreeNode, type SplicedParse } from './cache-tree.js'
import { sameButStatData } from './index-record.js'
import { ObjectStore, treesPatched } from './tree-patch.js'
import { appendTo, appendAll } from '../append-to.js'

/**
 * A snapshot is all or nothing. The new tree is built in git's object store through a private
 * index (`.git/twinsync/snapshot.index`), the commit is made from it, and only then is the
 * working twin moved: every new file is first written complete into `.git/twinsync/stage/`
 * (where running out of space costs nothing), then HEAD moves, then the staged files are
 * renamed into place. A record of the move (`.git/twinsync/snapshot-in-progress.json`) lets
 * the next run finish it, or throw it away when HEAD never moved; until then nobody plans from
 * a half-moved working twin. A killed or failed snapshot leaves the twin as it was.
 */

const STATE = join('.git', 'twinsync')
const INDEX = join(STATE, 'snapshot.index')
const STAGE = join(STATE, 'stage')
const MARKER = join(STATE, 'snapshot-in-progress.json')
/** Temporary files of TwinSync: `.<name>.twinsync-<12 hex>` (the SDK's atomic write, the lock). */
const TEMP_NAME = /^\..+\.twinsync-(?:check-)?[0-9a-f]{12}$/
const IDENTITY = ['-c', 'user.name=TwinSync', '-c', 'user.email=twinsync@localhost', '-c', 'core.quotepath=false']

export interface TreeEntry {
  mode: string
  sha: string
}

export interface DraftDocument {
  path: string
  content: string | Uint8Array
  executable?: boolean
}

interface MoveRecord {
  parent: string | null
  commit: string
  updates: Array<{ path: string; stage: string }>
  removals: string[]
  /** TwinSync's own refs that move to `commit` with the working twin (a snapshot's `refs/twinsync/observed`). */
  refs?: string[]
  /**
   * Each path the move writes or removes, as it stood before the move's last look (lookedAt).
   * Settling a killed move leaves a path that is not as it stood: a person saved it after the
   * kill (session 32; a record without it, from an older TwinSync, finishes over any save).
   */
  looks?: Record<string, string>
  /**
   * Set when the move failed part way after HEAD moved, and is being undone (undoMove): the working
   * twin, HEAD and the index go back to `parent`. Settling a record with it finishes the undo.
   */
  undo?: { path: string; reason: string }
}

export class SnapshotDraft {
  private readonly updates = new Map<string, { mode: string; sha: string; bytes: Buffer }>()
  private readonly removals = new Set<string>()
  /** build() made the new tree in Node (see gitObjectsInNode): its trees HEAD does not already hold, written with the commit. */
  private inNode:
    | {
        trees: GitObjectBytes[]
        index: TwinIndex
        /** The new index's cache tree (cache-tree.ts), when known. */
        cache: CacheTreeNode | Buffer | undefined
        /** The changed entries, when the new index is the one read with them put in (spliceIndex). */
        splice: Array<{ path: string; entry: TreeEntry | undefined }> | undefined
      }
    | undefined
  /** HEAD's root tree, and those of its trees build() made (all, or only where a change lies). */
  private headTrees: { root: string; trees: Map<string, Buffer> } | undefined
  /** The key (quick-status's digest of the entries) of the index writeIndex wrote. */
  private indexKey: string | undefined
  /** The index writeIndex spliced (cache-tree.ts), its parse, and the index it was spliced from: recorded once it is in place (recordIndexParse). */
  private splicedIndex: { bytes: Buffer; parse: SplicedParse; from: TwinIndex; rewritten: readonly number[] | undefined } | undefined
  /**
   * Working files a person saved after the move's last look and before its rename reached them:
   * left as saved (finishMove), so the edit stays in the working twin, pending against the new
   * snapshot. Empty after a move that found none.
   */
  readonly keptEdits: string[] = []

  private constructor(
    private readonly dir: string,
    readonly head: string | undefined,
    /** The new tree as it stands: HEAD plus the working twin's own edits, before any document. */
    readonly entries: Map<string, TreeEntry>,
    /** The index as read, not yet written as the private index: only a draft that builds a tree needs it. */
    private unwritten: TwinIndex | undefined,
    /** HEAD's entries, when the draft began from a twin with nothing edited (the index is HEAD). */
    private readonly headEntries: ReadonlyMap<string, TreeEntry> | undefined,
  ) {
    this.began = headEntries === undefined ? undefined : unwritten
  }

  /** The real index as read when the draft began from a clean twin: its stat data prove the working files HEAD's (editedMeanwhile). */
  private readonly began: TwinIndex | undefined

  /**
   * Start from the working twin as git sees it: the real index copied (its stat cache makes an
   * unchanged twin cheap), plus every edit in the working tree when `edited`. With nothing
   * edited, HEAD and the index's entries are read from .git without git (quick-status.ts), and
   * the private index is written only if a tree is built.
   */
  static async begin(dir: string, options: { edited: boolean }): Promise<SnapshotDraft> {
    refuseForeignIndexLock(dir)
    // Synchronous (issue 22): an unchanged snapshot's few checks and removals, each a thread-pool round trip when awaited.
    removeSync(join(dir, INDEX))
    removeSync(join(dir, `${INDEX}.lock`))
    const quickHead = readHead(dir)
    if (!options.edited && quickHead !== undefined) {
      const index = readIndex(dir)
      if (index !== undefined) return new SnapshotDraft(dir, quickHead ?? undefined, new Map(index.entries), index, index.entries)
    }
    const head = quickHead === undefined ? await headOf(dir) : (quickHead ?? undefined)
    const realIndex = join(dir, '.git', 'index')
    const env = { GIT_INDEX_FILE: join(dir, INDEX) }
    try {
      // Clean (nothing edited, nothing staged): the real index is HEAD, with its stat cache.
      if (!(await copyIndex(realIndex, join(dir, INDEX)))) await git(dir, head === undefined ? ['read-tree', '--empty'] : ['read-tree', 'HEAD'], { env })
    } catch (error) {
      throw diskError(error, dir)
    }
    if (options.edited) await git(dir, ['add', '--all', '--force', '--', '.'], { env })
    const listing = await git(dir, ['ls-files', '--stage', '-z'], { env })
    const entries = new Map<string, TreeEntry>()
    for (const { mode, sha, path } of lsFilesEntries(listing.toString('utf8'))) entries.set(path, { mode, sha })
    return new SnapshotDraft(dir, head, entries, undefined, options.edited ? undefined : new Map(entries))
  }

  /**
   * The twin as HEAD has it ('head') or as the new tree will ('new'), read from what the draft
   * already holds: its listing, the documents written (in memory), other files by blob id
   * through one `git cat-file --batch`. No `ls-tree`, and no document sent through git and back
   * (a first snapshot's diary line reads every document). 'head' is undefined when the draft
   * began from an edited twin (its entries are not HEAD's). Close it after use.
   */
  reader(side: 'head' | 'new'): (TwinReader & { close(): void }) | undefined {
    const entries = side === 'new' ? this.entries : this.headEntries
    if (entries === undefined) return undefined
    const dir = this.dir
    const updates = side === 'new' ? this.updates : new Map<string, { bytes: Buffer }>()
    let batch: BatchReader | undefined
    // Speed (issue 22, session 9): the side's paths sorted once, each listing a range of them.
    // A one-file snapshot of the scale root listed `filesystem/` (19,600 paths) four times and
    // more for its diary line, each a pass over every entry and a sort (a share of the session-9
    // rows' 1,413 → 1,082 ms of CPU, docs/architecture.md Speed).
    let sorted: string[] | undefined
    const read = async (path: string): Promise<Uint8Array | undefined> => {
      twinPathParts(path)
      const entry = entries.get(path)
      if (entry === undefined) return undefined
      if (entry.mode === '120000') throw twinSymlinkError(path, dir)
      const written = updates.get(path)
      if (written !== undefined) return written.bytes
      // A HEAD document already read for screening (headBytes) is not read again.
      const known = this.headRead.get(entry.sha)
      if (known !== undefined) return known
      return (await this.fromWorkingTwin(path, entry)) ?? (batch ??= new BatchReader(dir)).read(entry.sha)
    }
    return {
      read,
      readText: async (path) => {
        const bytes = await read(path)
        return bytes === undefined ? undefined : Buffer.from(bytes).toString('utf8')
      },
      list: async (prefix) => under((sorted ??= [...entries.keys()].sort(compareStrings)), prefix),
      // One path asked without the sort (the diary line's narrowing, TwinReader.has).
      has: async (path) => entries.has(path),
      close: () => batch?.close(),
    }
  }

  /**
   * The draft began from HEAD with nothing edited (the index was HEAD's): its entries are HEAD's
   * until a document is written or a path removed. A provider's kept parts (kept-parts.ts) are
   * kept only then.
   */
  get beganClean(): boolean {
    return this.headEntries !== undefined
  }

  /** Whether HEAD holds a file at this twin path (a draft that began clean; false otherwise). */
  headHolds(path: string): boolean {
    return this.headEntries?.has(path) === true
  }

  /** HEAD's blobs read by headBytes, by blob id (kept for the diary line's 'head' reader). */
  private readonly headRead = new Map<string, Uint8Array>()

  /**
   * The bytes HEAD holds at a twin path (a regular file), for screening only what changed
   * (screened-documents.ts); undefined when HEAD has none there or the draft began from an
   * edited twin. Kept for reader('head'), so the diary line does not read it again. Close the
   * draft's reader with closeHeadReader() after use.
   */
  async headBytes(path: string): Promise<Uint8Array | undefined> {
    const entry = this.headEntries?.get(path)
    if (entry === undefined || entry.mode === '120000') return undefined
    const known = this.headRead.get(entry.sha)
    if (known !== undefined) return known
    const bytes = (await this.fromWorkingTwin(path, entry)) ?? (await (this.headBatch ??= new BatchReader(this.dir)).read(entry.sha))
    if (bytes !== undefined) this.headRead.set(entry.sha, bytes)
    return bytes
  }

  /**
   * A blob HEAD holds at `path`, read from the working twin when the file there is that blob
   * (hashed as git hashes it); undefined otherwise (then git is asked). The draft began from a
   * twin found clean, so until it moves the file is HEAD's, unless someone edited it meanwhile.
   *
   * Speed (issue 22): a one-file snapshot of the bench's scale root read HEAD's 8.6 MB files
   * manifest (for the windowed screening) and the changed file (for the diary line) through two
   * `git cat-file --batch` processes; from the working twin, no git process (each costs Node
   * 5–10 ms of CPU to start, git 15–20 ms to inflate the manifest).
   */
  private async fromWorkingTwin(path: string, entry: TreeEntry): Promise<Buffer | undefined> {
    if (this.headEntries === undefined || entry.mode === '120000') return undefined
    try {
      const bytes = await readTwinFile(this.dir, path)
      return bytes !== undefined && blobId(bytes) === entry.sha ? bytes : undefined
    } catch {
      return undefined // a symlink, too large, unreadable: git answers
    }
  }

  private headBatch: BatchReader | undefined

  /** Stop the `git cat-file` headBytes started, if any. */
  closeHeadReader(): void {
    this.headBatch?.close()
    this.headBatch = undefined
  }

  /** HEAD's tree (the snapshot's parent's); undefined before the first commit. */
  async headTree(): Promise<string | undefined> {
    if (this.head === undefined) return undefined
    if (this.inNode !== undefined && this.headEntries !== undefined) return (this.headTrees ??= treesOf(this.headEntries)).root
    return (await git(this.dir, ['rev-parse', '--verify', '--quiet', `${this.head}^{tree}`])).toString('utf8').trim() || undefined
  }

  /** Whether the new tree already holds exactly this document (same bytes, same mode). */
  holds(doc: DraftDocument): boolean {
    const current = this.entries.get(doc.path)
    return current !== undefined && current.mode === modeOf(doc) && current.sha === this.blobOf(doc, true).sha
  }

  /**
   * A document's blob id, worked out once for holds() and write() (the screening check and the
   * write ask for the same document: the scale root's 8.6 MB manifest was copied and hashed
   * twice). Only the id of a document holds() or write() looked up in the tree is kept: the
   * bytes are made again for a document that is written.
   */
  private readonly blobIds = new WeakMap<DraftDocument, { content: DraftDocument['content']; sha: string }>()

  private blobOf(doc: DraftDocument, keep = false): { bytes?: Buffer; sha: string } {
    const known = this.blobIds.get(doc)
    if (known !== undefined && known.content === doc.content) return { sha: known.sha }
    if (keep) {
      // Its provider's id for it (knownBlob), taken only when the tree holds exactly that id at
      // its path: then it is unchanged, and is not hashed (the files provider's 211 mirrored
      // files on the services root: 16 M instructions of SHA-1 an unchanged snapshot). Any other
      // id says nothing: the content is hashed.
      const hinted = knownBlob(doc)
      if (hinted !== undefined && hinted === this.entries.get(doc.path)?.sha) return { sha: hinted }
      // Only the id: hashed from the string (or the bytes as they are), not copied into a Buffer
      // that waits for the garbage collector (the scale root's 8.6 MB manifest, and 19,500 small ones).
      const content = doc.content
      const length = typeof content === 'string' ? Buffer.byteLength(content) : content.byteLength
      const hash = createHash('sha1').update(`blob ${length}\0`)
      const sha = (typeof content === 'string' ? hash.update(content, 'utf8') : hash.update(content)).digest('hex')
      this.blobIds.set(doc, { content, sha })
      return { sha }
    }
    const bytes = Buffer.from(doc.content)
    return { bytes, sha: blobId(bytes) }
  }

  /** Put a document into the new tree; false when the tree already holds exactly it. */
  write(doc: DraftDocument): boolean {
    checkTwinPath(doc.path)
    // The whole path longer than the system takes (PATH_MAX, 4,096 bytes with its NUL): refused before anything moves, as a long part is.
    if ((this.dir.length + doc.path.length) * 3 >= PATH_MAX_BYTES && Buffer.byteLength(join(this.dir, doc.path)) >= PATH_MAX_BYTES) {
      throw new TwinSyncError('PATH_INVALID', `Not a twin path: ${JSON.stringify(doc.path)} in the twin ${this.dir} is longer than a path may be (${PATH_MAX_BYTES - 1} bytes)`, {
        nextStep: PROVIDER_PATH_STEP,
        details: { path: doc.path },
      })
    }
    const mode = modeOf(doc)
    const current = this.entries.get(doc.path)
    // Where the tree may hold it already, its id alone first: an unchanged document (the files
    // provider's 211 mirrored files on the services root, which no screening check hashed) is
    // not copied into a Buffer only to be found the same (issue 22: 1.3 MB copied a run).
    const blob = this.blobOf(doc, current !== undefined && current.mode === mode)
    const sha = blob.sha
    if (current !== undefined && current.sha === sha && current.mode === mode) return false
    const bytes = blob.bytes ?? Buffer.from(doc.content)
    this.updates.set(doc.path, { mode, sha, bytes })
    this.removals.delete(doc.path)
    this.entries.set(doc.path, { mode, sha })
    // A file where a folder was: the folder's files go (git keeps no folder without files).
    if (this.folders().has(doc.path)) {
      const folder = `${doc.path}/`
      for (const path of [...this.entries.keys()]) if (path.startsWith(folder)) this.remove(path)
    }
    addFolders(this.folderSet, doc.path)
    // A folder where a file was.
    for (let i = doc.path.indexOf('/'); i > 0; i = doc.path.indexOf('/', i + 1)) {
      if (this.entries.has(doc.path.slice(0, i))) this.remove(doc.path.slice(0, i))
    }
    return true
  }

  /**
   * Every folder some entry of the new tree lies in (it may keep folders whose files went: it is
   * only asked whether a written path was a folder). Speed (issue 22): a first snapshot of the
   * scale root writes 19,548 documents, and going through every entry for each of them to find
   * a folder's files was quadratic.
   */
  private folderSet: Set<string> | undefined

  private folders(): Set<string> {
    if (this.folderSet === undefined) {
      const folders = new Set<string>()
      // Speed (issue 22, session 50): a path in the folder of the path before it adds nothing (that
      // folder and every one above it are in the set), so it is passed over without a slice or a
      // lookup; the tree's paths come folder by folder. The scale root's one-file snapshot makes
      // the set for its first changed document (19,626 paths: 14,711 passed over, 4,915 looked
      // at): the snapshot's writes 74.8 → 59.3 M instructions (callgrind between marks, one run each).
      let last = ''
      for (const path of this.entries.keys()) {
        if (last !== '' && path.startsWith(last) && path.indexOf('/', last.length) < 0) continue
        const at = path.lastIndexOf('/')
        last = at > 0 ? path.slice(0, at + 1) : ''
        addFolders(folders, path)
      }
      this.folderSet = folders
    }
    return this.folderSet
  }

  /** Whether the new tree as it stands holds files below `path` (a folder). Before any write, exact; after one, it may name a folder whose files went. */
  isFolder(path: string): boolean {
    return this.folders().has(path)
  }

  /** The paths of the new tree as it stands below the folder `path`, in no order. */
  under(path: string): string[] {
    const folder = `${path}/`
    const found: string[] = []
    for (const entry of this.entries.keys()) if (entry.startsWith(folder)) found.push(entry)
    return found
  }

  remove(path: string): boolean {
    checkTwinPath(path)
    if (!this.entries.has(path)) return false
    this.entries.delete(path)
    this.updates.delete(path)
    this.removals.add(path)
    return true
  }

  /** Paths of the new tree under a folder ("system/"), sorted. */
  list(prefix: string): string[] {
    return [...this.entries.keys()].filter((p) => p.startsWith(prefix)).sort()
  }

  /** Paths of the new tree under any of these folders, in no order (`list` sorts). */
  listUnsorted(prefixes: readonly string[]): string[] {
    const found: string[] = []
    // No function made, no iterator, a path: the snapshot lists HEAD's (19,626 on the scale root, twin-ownership.ts).
    for (const path of this.entries.keys()) {
      for (let i = 0; i < prefixes.length; i++) {
        if (path.startsWith(prefixes[i] as string)) {
          found.push(path)
          break
        }
      }
    }
    return found
  }

  get touched(): number {
    return this.updates.size + this.removals.size
  }

  /** Write the blobs and the tree; returns what the tree changes against HEAD. */
  async build(options: { edited: boolean }): Promise<{ tree: string; changes: GitStatusEntry[] }> {
    const env = { GIT_INDEX_FILE: join(this.dir, INDEX) }
    // Nothing written, nothing edited: the tree is HEAD's (an unchanged snapshot stays cheap).
    if (this.touched === 0 && !options.edited && this.head !== undefined) return { tree: `${this.head}^{tree}`, changes: [] }
    // From a clean twin whose index was read from .git: trees, changes and the index made in Node.
    if (!options.edited && this.unwritten !== undefined && this.headEntries !== undefined && this.head !== undefined) {
      // Only around what changed, from the index's cache tree (cache-tree.ts), when it has one.
      const fromCache = this.aroundChanges(this.unwritten, this.headEntries)
      if (fromCache !== undefined) return fromCache
      const next = treesOf(this.entries)
      const changes = changesBetween(this.headEntries, this.entries)
      // HEAD's trees: the new ones, made again only in the folders a change lies in (treesAround).
      const around = treesAround(next, this.headEntries, changes.map((c) => c.path))
      const head = (this.headTrees ??= around ?? treesOf(this.headEntries))
      // The new trees: those of the folders a change lies in (every other folder is HEAD's tree), unless HEAD has it.
      const touched = around?.touched
      const fresh = touched === undefined ? [...next.trees.keys()] : [...touched].map((f) => next.folders.get(f)).filter((sha): sha is string => sha !== undefined)
      const trees = [...new Set(fresh)].filter((sha) => !head.trees.has(sha)).map((sha) => ({ type: 'tree' as const, sha, bytes: next.trees.get(sha) as Buffer }))
      // What the new tree takes from HEAD's without writing it must be in the store, as
      // write-tree makes sure: else git's way, whose failure names the damage.
      const written = new Set([...this.updates.values()].map((u) => u.sha))
      const made = new Set(trees.map((t) => t.sha))
      const reused = [...[...next.trees.keys()].filter((sha) => !made.has(sha)), ...[...this.entries.values()].filter((e) => !written.has(e.sha)).map((e) => e.sha)]
      if (objectsStored(this.dir, reused)) {
        this.inNode = { trees, index: this.unwritten, cache: cacheTreeOf(this.entries, next.folders), splice: undefined }
        this.unwritten = undefined
        return { tree: next.root, changes }
      }
    }
    if (this.unwritten !== undefined) {
      await writeIndexCopy(join(this.dir, INDEX), this.unwritten).catch((error: unknown) => {
        throw diskError(error, this.dir)
      })
      this.unwritten = undefined
    }
    await writeBlobs(this.dir, [...this.updates.values()])
    const lines = [
      ...[...this.removals].map((p) => `0 ${'0'.repeat(40)}\t${p}\0`),
      ...[...this.updates].map(([p, u]) => `${u.mode} ${u.sha}\t${p}\0`),
    ]
    if (lines.length > 0) await git(this.dir, ['update-index', '-z', '--index-info'], { env, input: lines.join('') })
    const tree = (await git(this.dir, ['write-tree'], { env })).toString('utf8').trim()
    const base = this.head === undefined ? EMPTY_TREE : `${this.head}^{tree}`
    const changes = parseNameStatus((await git(this.dir, ['diff-tree', '-r', '--name-status', '--no-renames', '-z', base, tree])).toString('utf8'))
    return { tree, changes }
  }

  /**
   * The new tree made only in the folders a change lies in, from the cache tree of the index
   * the draft began from (HEAD's, the twin being clean), and what it changes from the paths the
   * draft wrote or removed; undefined (every tree made) when the index has no cache tree to
   * trust or an object the new trees name is not in the store. See cache-tree.ts.
   */
  private aroundChanges(read: TwinIndex, headEntries: ReadonlyMap<string, TreeEntry>): { tree: string; changes: GitStatusEntry[] } | undefined {
    if (read.treeExtension === undefined) return undefined
    const changes = changesBetween(headEntries, this.entries, [...this.updates.keys(), ...this.removals])
    // What the new trees take from HEAD must be in the store (as git's write-tree checks a tree's
    // files and folders); git's own way would trust the cache tree for a folder, so the damage is named here.
    const written = new Set([...this.updates.values()].map((u) => u.sha))
    const damaged = (missing: string): TwinSyncError =>
      new TwinSyncError('REPO_DAMAGED', `The twin repository ${this.dir} is damaged: object ${missing}, which HEAD's tree names, is missing`, {
        nextStep: `Check it with \`git -C ${this.dir} fsck\`. Restore it from the mirror (\`git clone\` it to a new --repo) or from a backup; the machine itself is untouched.`,
        details: { object: missing },
      })
    const splice = changes.map((c) => ({ path: c.path, entry: this.entries.get(c.path) }))
    // HEAD's trees of the folders a change lies in, read from the store and patched (tree-patch.ts).
    const patched = treesPatched(this.dir, { bytes: read.bytes, treeExtension: read.treeExtension, entries: headEntries }, this.entries, changes.map((c) => c.path), written)
    if (patched !== null && 'missing' in patched) throw damaged(patched.missing)
    if (patched !== null) {
      this.inNode = { trees: [...patched.trees].map(([sha, bytes]) => ({ type: 'tree' as const, sha, bytes })), index: read, cache: patched.extension, splice }
      this.headTrees = { root: patched.headRoot, trees: new Map() }
      this.unwritten = undefined
      return { tree: patched.root, changes }
    }
    // Else each touched folder's tree made from the index (cache-tree.ts): only the folders a change lies in read with their folders; the others kept as bytes.
    const touched = foldersAbove(changes.map((c) => c.path))
    const cache = parseCacheTree(read.bytes, read.treeExtension, (folder) => touched.has(folder))
    if (cache?.sha === undefined) return undefined
    const made = treesFromCache({ paths: read.paths, entries: headEntries, cache }, this.entries, changes.map((c) => c.path), treeObject)
    if (made === undefined) return undefined
    const missing = missingObject(this.dir, made.named.filter((sha) => !written.has(sha)))
    if (missing === null) return undefined
    if (missing !== undefined) throw damaged(missing)
    this.inNode = { trees: [...made.trees].map(([sha, bytes]) => ({ type: 'tree' as const, sha, bytes })), index: read, cache: made.cache, splice }
    this.headTrees = { root: cache.sha, trees: new Map() }
    this.unwritten = undefined
    return { tree: made.root, changes }
  }

  /**
   * No new commit (the tree is HEAD's), but the working twin held something else where a
   * document goes (a hand edit of a fact, a symlink): put the documents in place, the same way.
   */
  async align(editedSince?: EditedSince): Promise<void> {
    if (this.head === undefined || this.touched === 0) return this.discard()
    // The tree is HEAD's: every blob is in the store already; only the index is new.
    if (this.inNode !== undefined) await this.writeIndex(this.inNode.index)
    await this.move(this.head, undefined, [], { editedSince })
  }

  /**
   * Make the commit and move HEAD and the working twin to it; `refs` (TwinSync's own,
   * `refs/twinsync/*`) move to it as part of the move: finished by settling with the rest if a kill
   * stops it (a snapshot's observed ref: see finishMove). `editedSince`: asked just before the
   * working twin moves, with editedMeanwhile, for a person's edits saved since the draft began.
   */
  async commit(tree: string, message: string, refs: readonly string[] = [], editedSince?: EditedSince): Promise<string> {
    const parents = this.head === undefined ? [] : [this.head]
    let commit: string
    if (this.inNode !== undefined) {
      const made = commitObject(tree, parents, message)
      const objects: GitObjectBytes[] = [...[...this.updates.values()].map((u) => ({ type: 'blob' as const, sha: u.sha, bytes: u.bytes })), ...this.inNode.trees]
      if (made !== undefined) objects.push(made)
      await writeObjects(this.dir, objects)
      commit = made?.sha ?? (await git(this.dir, [...IDENTITY, 'commit-tree', '--no-gpg-sign', tree, ...parents.flatMap((p) => ['-p', p]), '-m', message])).toString('utf8').trim()
      await this.writeIndex(this.inNode.index)
    } else {
      commit = (await git(this.dir, [...IDENTITY, 'commit-tree', '--no-gpg-sign', tree, ...parents.flatMap((p) => ['-p', p]), '-m', message])).toString('utf8').trim()
    }
    await this.move(commit, this.head ?? null, refs, { clean: true, editedSince })
    // The index now in place, parsed for the next run (quick-status.ts, recordIndexParse: its figure).
    if (this.splicedIndex !== undefined) recordIndexParse(this.dir, this.splicedIndex.bytes, this.splicedIndex.parse, this.splicedIndex.from, this.splicedIndex.rewritten)
    // A save kept over the commit's file: the working twin is not the commit's, never recorded clean.
    if (this.keptEdits.length === 0) await this.rememberTree(commit)
    return commit
  }

  /**
   * The files this commit writes over or removes that a person edited in the working twin since
   * the draft began from it clean (each was HEAD's then; a removed file may be gone): their
   * edits would be lost with nothing said (session 30). A draft begun from an edited twin is
   * asked by the snapshot instead (HeldIntent.editedSince). Stat data first, as `git status`.
   * `seen`: the move's looks just taken (looksOf), which answer for the new documents' paths.
   */
  private editedMeanwhile(seen?: ReadonlyMap<string, string>): string[] {
    const head = this.headEntries
    if (head === undefined) return []
    const asked = new Set([...this.updates.keys(), ...this.removals].filter((p) => head.has(p)))
    const found = this.began !== undefined ? (editedSinceIndexed(this.dir, this.began, asked) ?? []) : [...asked].filter((p) => fileIsBlob(join(this.dir, p), head.get(p) as TreeEntry) === false)
    // Session 32: a file where a new document goes, in a twin that was clean when the draft began
    // (quick-status counts untracked and ignored files as edits): a person created it since. The
    // move's rename took it for a leftover and wrote over it. A folder there is the move's own to take.
    const created = this.began === undefined ? [] : [...this.updates.keys()].filter((p) => !head.has(p) && !['-', FOLDER_SEEN].includes(seen?.get(p) ?? lookedAt(join(this.dir, p))))
    return [...found.filter((p) => !this.removals.has(p) || entryPresent(join(this.dir, p))), ...created]
  }

  /** The private index of the new tree, written as git writes it (see writeIndexFile). */
  private async writeIndex(read: TwinIndex): Promise<void> {
    try {
      const changes = this.inNode?.splice
      const cache = this.inNode?.cache
      const spliced = changes === undefined || cache === undefined ? undefined : spliceIndex(read, changes, cache)
      if (spliced === undefined) this.indexKey = writeIndexFile(join(this.dir, INDEX), this.entries, read, 'w', cache)
      else {
        writeFileSync(join(this.dir, INDEX), spliced.bytes, { mode: 0o600 })
        this.indexKey = spliced.key
        this.splicedIndex = { bytes: spliced.bytes, parse: spliced.parse, from: read, rewritten: spliced.rewritten }
      }
    } catch (error) {
      throw diskError(error, this.dir)
    }
  }

  /**
   * Speed (issue 22): the index just swapped in is the one the commit's tree was written from.
   * When it holds exactly the draft's entries, record that this HEAD and these entries agree
   * (`rememberClean`, quick-status.ts): `plan` and `status` after a snapshot that committed
   * then need no `git status` (the files it wrote are proved by their content until the next
   * unchanged snapshot refreshes their stat data).
   */
  private async rememberTree(commit: string): Promise<void> {
    // The index the draft wrote from its entries (those of the commit's tree): its key as
    // written, not read back (the scale twin's 24,000 entries: 20–25 ms). Recorded with this
    // HEAD; quick-status trusts the record only for an index whose entries make that same key.
    if (this.indexKey !== undefined) {
      if (readHead(this.dir) === commit) await rememberClean(this.dir, commit, { key: this.indexKey })
      return
    }
    const index = readIndex(this.dir)
    if (index === undefined || readHead(this.dir) !== commit || index.entries.size !== this.entries.size) return
    for (const [path, entry] of this.entries) {
      const indexed = index.entries.get(path)
      if (indexed?.mode !== entry.mode || indexed.sha !== entry.sha) return
    }
    await rememberClean(this.dir, commit, index)
  }

  /** Stage every new file, record the move, move HEAD (unless it stays), rename the files in. */
  private async move(commit: string, from: string | null | undefined, refs: readonly string[] = [], guard: { clean?: boolean; editedSince?: EditedSince | undefined } = {}): Promise<void> {
    // The last look before anything moves (a person saving meanwhile: see editedMeanwhile). Before
    // the move's record is written: a record whose commit is HEAD (align's) is finished by the
    // next run's settling even after a discard, over the edit.
    // Each file the move writes or removes, as it stands before that look (lookedAt): a save
    // after the look is found again right before that file's rename (finishMove), and kept. They go
    // in the move's record: settling a move a kill stopped keeps a save made since the same way.
    // Not for a twin's first commit (nothing of it to keep): there every document is new, and the
    // looks would cost about 2 × 24,000 lstat calls on the scale root (0.7–1.7 s at load 11, measured
    // on this machine); a later snapshot writes a handful of files.
    const seen = this.head === undefined ? undefined : looksOf(this.dir, [...this.updates.keys(), ...this.removals])
    const edited = [...(guard.clean === true ? this.editedMeanwhile(seen) : []), ...((await guard.editedSince?.().catch(async (error: unknown) => {
      await this.discard()
      throw error
    })) ?? [])]
    if (edited.length > 0) {
      await this.discard()
      throw twinEditedMeanwhile(edited)
    }
    // Phase 1, nothing visible yet: every new file written whole beside the working twin.
    // The move's calls are synchronous (its stage, its record: writeFileAtomic's 'blocking', the index's swap):
    // the twin's own files, under the twin lock, in no provider call, whose time limit a blocked
    // call would hold up; the command waits for each before going on. fs/promises' calls here were
    // all that loaded it in a snapshot that commits (session 53).
    // The working twin's move stamp replaced before the record and after the move (move-stamp.ts):
    // a plan reading without the lock meanwhile reads again. Only a snapshot that moves something
    // gets here (an unchanged one discards its draft): no cost to it.
    await moving(this.dir, () => this.moveWithin(commit, from, refs, seen))
  }

  /** The move itself (phases 1 and 2), inside `moving`. */
  private async moveWithin(commit: string, from: string | null | undefined, refs: readonly string[], seen: ReadonlyMap<string, string> | undefined): Promise<void> {
    removeFolder(join(this.dir, STAGE))
    mkdirSync(join(this.dir, STAGE), { recursive: true, mode: 0o700 })
    const record: MoveRecord = {
      parent: this.head ?? null,
      commit,
      updates: [],
      removals: [...this.removals],
      ...(refs.length === 0 ? {} : { refs: [...refs] }),
      ...(seen === undefined ? {} : { looks: Object.fromEntries(seen) }),
    }
    try {
      let n = 0
      // Synchronous, one after the other (see writeLooseBlobs).
      for (const [path, u] of this.updates) {
        const stage = String(n++)
        writeFileSync(join(this.dir, STAGE, stage), u.bytes, { mode: u.mode === '100755' ? 0o755 : 0o644 })
        record.updates.push({ path, stage })
      }
      // Blocking: the twin's own record, written while the command holds the twin and waits for it (the SDK's AtomicWait).
      await writeFileAtomic(join(this.dir, MARKER), JSON.stringify(record), { mode: 0o600, wait: 'blocking' })
    } catch (error) {
      await this.discard()
      throw diskError(error, this.dir)
    }
    // Phase 2: HEAD moves (only if nobody moved it meanwhile), then the files are renamed in.
    if (from !== undefined) {
      // In Node as git's files backend does it (ref-update.ts); anything unusual, git's way.
      const moveHead = async () => {
        if (updateRefInNode(this.dir, 'HEAD', commit, from ?? undefined, 'twinsync: snapshot', identityNow())) return
        await git(this.dir, ['update-ref', '-m', 'twinsync: snapshot', 'HEAD', commit, ...(from === null ? [] : [from])])
      }
      await moveHead().catch(async (error: unknown) => {
        await this.discard()
        throw diskError(error, this.dir)
      })
    }
    appendAll(this.keptEdits, await finishMove(this.dir, record, join(this.dir, INDEX)))
  }

  /**
   * Throw the draft away: the working twin and HEAD were never touched. Once HEAD is at the
   * recorded move's commit, the working twin may be part way moved: then the record, the staged
   * files and the index stay, and settling (settleMove) finishes the move before anyone reads
   * the twin. (A failure after HEAD moved, a rename or the index swap, left HEAD at the new
   * snapshot over a half-moved working twin with no record of it: the next plan took the old
   * files for a person's edits, and would have undone the machine's change.)
   */
  async discard(): Promise<void> {
    if (await headMoved(this.dir)) return
    for (const name of [MARKER, STAGE, INDEX, `${INDEX}.lock`]) removeSync(join(this.dir, name))
  }
}

/**
 * Finish or throw away a snapshot a crash interrupted, and remove TwinSync's temporary files
 * from `.git/twinsync`. Call with the twin lock held. Returns what it did, for a notice.
 */
export { diskError }

/** What settling did: `kept`, the saves a finished move left as saved (finishMove). */
export interface Settled {
  finished: boolean
  discarded: boolean
  tempFiles: string[]
  kept: string[]
  /** A killed snapshot's move that could not be finished, undone instead (undoFailedMove): the twin is the snapshot before. */
  undone?: TwinSyncError
}

export async function settleSnapshot(dir: string): Promise<Settled> {
  const outcome = await settleMove(dir)
  refuseForeignIndexLock(dir)
  return outcome
}

async function settleMove(dir: string): Promise<Settled> {
  const tempFiles: string[] = []
  // Ref locks a killed run recorded as its own (ref-lock-record.ts), whichever refs they lock.
  for (const name of settleRecordedRefLocks(join(dir, '.git'))) tempFiles.push(join('.git', name))
  // git's index lock as a hard link of our private index: a swap killed half way; it is complete, finish it.
  // The checks of a twin with nothing to settle are synchronous calls (issue 22: every snapshot, `plan` and `status` make them).
  const ours = quietly(() => statSync(join(dir, INDEX)))
  const locked = quietly(() => lstatSync(join(dir, '.git', 'index.lock')))
  if (ours !== undefined && locked !== undefined && ours.ino === locked.ino) await finishSwap(dir)
  // git's index lock as a hard link of a killed run's smudged index (quick-status.ts's replaceIndex): the index is whole, the lock removed.
  else if (locked !== undefined && smudgeLockOfDeadRun(dir, locked.ino)) {
    removeFile(join(dir, '.git', 'index.lock'))
    tempFiles.push(join('.git', 'index.lock'))
  }
  // Any other index lock that no git holds any more (a killed git's, ours or a person's): removed, and said (stale-git-lock.ts).
  else if (locked !== undefined && removeStaleGitLock(dir, join(dir, '.git', 'index.lock'))) tempFiles.push(join('.git', 'index.lock'))
  const state = join(dir, STATE)
  for (const name of quietly(() => readdirSync(state)) ?? []) {
    if (!TEMP_NAME.test(name) && !/^lock\.stale-/.test(name) && name !== 'lock.breaking') continue
    // The lock's take-over token (twin-lock.ts) a run killed while taking over left: removed once its run is gone.
    if (name === 'lock.breaking' && !(await lockTempOfDeadRun(join(state, name)))) continue
    const info = await lstat(join(state, name)).catch(() => undefined)
    // Another run taking the lock right now has its temp file for a moment: leave young ones alone.
    // A young one whose run died (killed while taking the lock) is a leftover all the same.
    if (info === undefined || ((name.startsWith('.lock.') || name.startsWith('.moves.')) && Date.now() - info.mtimeMs < 60_000 && !(await lockTempOfDeadRun(join(state, name))))) continue
    removeFile(join(state, name))
    tempFiles.push(join(STATE, name))
  }
  appendAll(tempFiles, sweepCacheTemps(dir))
  // Any other ref lock (a killed `git fetch`, `git tag`, `git pack-refs`) no git holds now.
  for (const name of staleRefLocks(dir)) tempFiles.push(join('.git', name))
  // HEAD's and its branch's locks a killed run left (its own recorded ones went above; a killed
  // git's that no git holds now, stale-git-lock.ts); any other is TWIN_REF_LOCKED before anything moves.
  for (const ref of headRefs(dir)) {
    if (quietly(() => lstatSync(join(dir, '.git', `${ref}.lock`))) === undefined) continue
    const removed = await dropStaleRefLock(dir, ref)
    if (removed !== undefined) tempFiles.push(removed)
  }
  const text = quietly(() => readFileSync(join(dir, MARKER), 'utf8'))
  if (text === undefined) {
    for (const l of [INDEX, `${INDEX}.lock`, STAGE]) {
      if (quietly(() => lstatSync(join(dir, l))) === undefined) continue
      tempFiles.push(l)
      removeSync(join(dir, l))
    }
    return { finished: false, discarded: false, tempFiles, kept: [] }
  }
  let record: MoveRecord | undefined
  try {
    record = JSON.parse(text) as MoveRecord
  } catch {
    record = undefined
  }
  const head = await headOf(dir)
  // A failed move's undo a kill stopped: finished (HEAD back already: only the index is left).
  // Finishing or undoing moves the working twin: the move stamp replaced around it (move-stamp.ts).
  const undo = record?.undo
  if (record !== undefined && undo !== undefined && (head === record.commit || head === (record.parent ?? undefined))) {
    const kept = await moving(dir, () => undoMove(dir, record as MoveRecord, head === record?.commit))
    return { finished: false, discarded: true, tempFiles, kept, undone: moveFailed(dir, undo, undefined, new Error(undo.reason), true, record.parent) }
  }
  if (record !== undefined && head === record.commit) {
    const move = record
    return moving(dir, () => finishRecorded(dir, move, tempFiles))
  }
  // HEAD never moved: the working twin was never touched.
  for (const l of [MARKER, INDEX, `${INDEX}.lock`, STAGE]) removeSync(join(dir, l))
  return { finished: false, discarded: true, tempFiles, kept: [] }
}

/** A killed move whose HEAD is at its commit: finished, or undone when it fails again the same way (settleMove). */
async function finishRecorded(dir: string, record: MoveRecord, tempFiles: string[]): Promise<Settled> {
  const index = join(dir, INDEX)
  try {
    const kept = await finishMove(dir, record, quietly(() => statSync(index)) === undefined ? undefined : index)
    return { finished: true, discarded: false, tempFiles, kept }
  } catch (error) {
    // The killed move fails again the same way: undone (undoFailedMove), said, and the twin usable.
    if (isTwinSyncError(error) && error.code === 'TWIN_MOVE_FAILED' && quietly(() => lstatSync(join(dir, MARKER))) === undefined) {
      return { finished: false, discarded: true, tempFiles, kept: [], undone: error }
    }
    throw error
  }
}

/** A move is recorded (MARKER) and HEAD is at its commit: the working twin is to be finished, never thrown away. */
async function headMoved(dir: string): Promise<boolean> {
  const text = quietly(() => readFileSync(join(dir, MARKER), 'utf8'))
  if (text === undefined) return false
  let record: Partial<MoveRecord> | undefined
  try {
    record = JSON.parse(text) as Partial<MoveRecord>
  } catch {
    return false
  }
  // A move being undone is settling's to finish, wherever HEAD is (undoMove moves HEAD back before the index).
  if (record?.undo !== undefined) return true
  const head = readHead(dir)
  return typeof record?.commit === 'string' && record.commit === (head === undefined ? await headOf(dir) : head)
}

/**
 * The temp files a killed run left in the provider caches (`.git/twinsync/cache/<provider>/`) and
 * beside the cache's own records (`.git/twinsync/cache/`):
 * only those named by a run of this boot that is gone (tempOfDeadRun; FileCache names its temp
 * files so). A cache is written without the twin lock too (`plan`, `status`), so a temp file of a
 * live run, or one that does not say whose it is, stays. Synchronous (every snapshot settles):
 * one listing of the cache and one of each provider's folder, about 11 µs of CPU on a twin with
 * two cache folders (median of 11×5000 calls on the shared machine at load 8; a Debian twin's
 * dozen folders, a few tens of µs in an 80 ms snapshot).
 */
function sweepCacheTemps(dir: string): string[] {
  const removed: string[] = []
  const cache = join(dir, STATE, 'cache')
  const sweep = (folder: string, names: readonly string[]) => {
    for (const name of names) {
      if (!CACHE_TEMP_NAME.test(name) || !tempOfDeadRun(name)) continue
      const path = join(cache, folder, name)
      if (lstatSync(path, { throwIfNoEntry: false })?.isFile() !== true) continue
      removeFile(path)
      removed.push(join(STATE, 'cache', folder, name))
    }
  }
  const top = quietly(() => readdirSync(cache, { withFileTypes: true })) ?? []
  // The cache's own records (quick-status.ts writeRecord: the clean index, the folders' stamps), then each provider's folder.
  sweep('', top.filter((e) => e.isFile()).map((e) => e.name))
  for (const provider of top) if (provider.isDirectory()) sweep(provider.name, quietly(() => readdirSync(join(cache, provider.name))) ?? [])
  return removed
}
const CACHE_TEMP_NAME = /^\..+\.\d+-[0-9a-f]{8}\.twinsync-[0-9a-f]{12}$/

/**
 * `git reset --mixed` (the index back to HEAD, the working twin untouched) without ever leaving
 * git's index lock behind: done on a copy, then swapped in the way a snapshot's index is.
 *
 * As `read-tree --reset HEAD` (HEAD's entries, the stat data kept where an entry is unchanged,
 * unmerged entries dropped) and `update-index -q --refresh`, which is what `reset --mixed` does
 * to the index, without its ref updates. Session 41: `reset` also "moves" HEAD to where it is,
 * so every snapshot, pull or plan that set a pending edit aside took HEAD.lock, its branch's
 * lock and ORIG_HEAD.lock (a kill left them for settling, ORIG_HEAD.lock for ever: nothing
 * removes it) and wrote ORIG_HEAD and a "reset: moving to HEAD" line in HEAD's reflog (151
 * bytes each time: one a committing snapshot while an edit is pending).
 */
export async function resetIndex(dir: string): Promise<void> {
  refuseForeignIndexLock(dir)
  const index = join(dir, INDEX)
  removeFile(index)
  const real = join(dir, '.git', 'index')
  await copyIndex(real, index)
  try {
    await git(dir, ['read-tree', '--reset', 'HEAD'], { env: { GIT_INDEX_FILE: index } })
    await git(dir, ['update-index', '-q', '--refresh'], { env: { GIT_INDEX_FILE: index } })
    await swapIndex(dir, index)
  } finally {
    removeFile(index)
  }
}

/**
 * git found the twin clean, but the index's stat data did not prove it (entries a snapshot's
 * commit wrote carry none; see quick-status.ts): refresh it (`git update-index --refresh`) on a
 * copy of exactly the index that was read, and swap it in the way a snapshot's index is, only
 * if nobody rewrote the index meanwhile. Entries are unchanged; only their stat data. Under the
 * twin lock. False when it was left as it was. Its calls on the index are synchronous, as the
 * move's (SnapshotDraft.move): the twin's own files, in no provider call; fs/promises' calls here
 * were all that loaded it in the snapshot after one that committed (session 53).
 */
export async function refreshIndex(dir: string, read: TwinIndex): Promise<boolean> {
  if (quietly(() => lstatSync(join(dir, '.git', 'index.lock'))) !== undefined) return false
  const index = join(dir, INDEX)
  removeFile(index)
  try {
    // Every entry git keeps is checked against its file from now on (racy ones by content), so
    // the refreshed index may say it was written now, even when git found nothing to rewrite.
    const started = new Date()
    await writeIndexCopy(index, read)
    await git(dir, ['update-index', '-q', '--refresh'], { env: { GIT_INDEX_FILE: index } })
    // Entries recorded in the second of the refresh (or the one a file's clock may lag it by) are
    // smudged: git's second-grained stat check could not see an edit made in it (smudgeCtimeRacy).
    const refreshed = readFileSync(index)
    // git rewrites only stat data: then the read index's entries lie where they lay, not parsed again.
    const like = sameButStatData(read.bytes, read.statAt, refreshed)
    if (smudgeCtimeRacy(refreshed, BigInt(started.getTime() - FILE_CLOCK_LAG_MS) * 1_000_000n, BigInt(started.getTime()) * 1_000_000n, like ? read.statAt : undefined) > 0) writeFileSync(index, refreshed, { mode: 0o600 })
    utimesSync(index, started, started)
    if (!indexUnchanged(dir, read)) return false
    // Optional work: never waited for (another git at work now refreshes it itself).
    await swapIndex(dir, index, false)
    // Its parse is the one read's, but for stat data (`like`): recorded for the next run (quick-status.ts).
    if (like) recordRefreshedIndex(dir, refreshed, read)
    return true
  } catch {
    return false
  } finally {
    removeFile(index)
  }
}

/**
 * git's index lock, a hard link of our private index, put in place of the index (a swap killed
 * between its two steps). When the index already is that file, rename(2) between two names of
 * one file does nothing and leaves both: the lock is removed instead.
 */
async function finishSwap(dir: string): Promise<void> {
  const lock = join(dir, '.git', 'index.lock')
  const locked = statSync(lock)
  const current = quietly(() => statSync(join(dir, '.git', 'index')))
  if (current?.ino === locked.ino && current.dev === locked.dev) unlinkSync(lock)
  else renameSync(lock, join(dir, '.git', 'index'))
}

/**
 * How long a swap waits for git's index lock while another git holds it (`waitMs`; a test
 * shortens it). Under the twin lock no other TwinSync writes git's index, and a `plan` or
 * `status` writes none of it (session 44), so the holder is a git a person runs in the twin: a
 * `git status` refreshing the index holds it for milliseconds, a `git add` for as long as it
 * hashes. A lock a kill left is removed by settling before the run begins, never waited for.
 * Before session 44 the swap failed at once: a snapshot's after its commit and its files' move,
 * saying "nothing was changed"; the next command finished it (settling).
 */
export const indexLockWait = { ms: 2_000 }

/** Put our private index `index` in place of git's: a link as git's lock (waiting for another git's: `wait`), renamed over the index. */
async function swapIndex(dir: string, index: string, wait = true): Promise<void> {
  const lock = join(dir, '.git', 'index.lock')
  const by = Date.now() + (wait ? indexLockWait.ms : 0)
  for (let pause = 5; ; pause = Math.min(pause * 2, 100)) {
    try {
      linkSync(index, lock)
      break
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      if (Date.now() >= by) throw indexLocked(dir)
      await new Promise((resolve) => setTimeout(resolve, pause))
    }
  }
  try {
    renameSync(lock, join(dir, '.git', 'index'))
  } catch (error) {
    // The index is as it was; the lock is this run's own link: gone with the swap, never left for
    // the next command to refuse (a failed rename, found failing a pull at each step, session 34).
    quietly(() => removeFile(lock))
    throw error
  }
}

/**
 * True while a snapshot's move is recorded and not finished (someone writing, or a crash), or
 * while git's index lock is a hard link of our private index: a swap (swapIndex, also the one
 * of resetIndex and refreshIndex, which record no move) between its two steps, or killed there.
 * Settling (settleMove) finishes that swap.
 */
export async function snapshotUnsettled(dir: string): Promise<boolean> {
  if (quietly(() => lstatSync(join(dir, MARKER))) !== undefined) return true
  const ours = quietly(() => statSync(join(dir, INDEX)))
  const locked = quietly(() => lstatSync(join(dir, '.git', 'index.lock')))
  return ours !== undefined && locked !== undefined && ours.ino === locked.ino
}

/** fn's value, or undefined when it throws (a missing file, as the awaited calls' `.catch(() => undefined)` had it). */
function quietly<T>(fn: () => T): T | undefined {
  try {
    return fn()
  } catch {
    return undefined
  }
}

/**
 * `rmSync(path, { recursive: true, force: true })`, but nothing when nothing is there, and a file
 * unlinked (removeFile). Speed (issue 22, session 9): Node 20's rmSync loads its rimraf module
 * before it looks (0.8–1 ms of CPU), and every snapshot, `plan` and `status` removes draft files
 * that are not there; one lstat instead, as rmSync's own first step.
 */
function removeSync(path: string): void {
  const info = lstatSync(path, { throwIfNoEntry: false })
  if (info === undefined) return
  if (info.isDirectory()) rmSync(path, { recursive: true, force: true })
  else removeFile(path)
}

/**
 * Move the working twin and the index to the record's commit: the removals, the staged files
 * renamed in, the index swapped, the record removed. Run again by settleMove on a twin a kill
 * left part way through, so each step leaves alone what an earlier run of it did.
 */
/**
 * A working file's identity as lstat sees it (inode, mode, size, times to the nanosecond; '-'
 * when there is none): a save or a rename over it changes it. One lstat.
 */
function lookedAt(path: string): string {
  try {
    const s = lstatSync(path, { bigint: true, throwIfNoEntry: false })
    // A folder where the move writes a file is the move's own to take away (its files are the
    // move's removals, and taking them moves the folder's times): never a person's save.
    if (s?.isDirectory() === true) return FOLDER_SEEN
    return s === undefined ? '-' : `${s.ino}:${s.mode}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`
  } catch {
    return '-' // under a file (ENOTDIR): none
  }
}

/** lookedAt's answer for a folder (a folder that becomes a file: session 31's chaos run, ` D dir` left pending). */
const FOLDER_SEEN = 'folder'

/**
 * lookedAt of each of these paths of the working twin, but a folder lstat finds absent answers
 * '-' for every path below it (what lstat's ENOENT gives each of them) without an lstat each;
 * any other answer for a folder (a folder, a file, a link, an error) leaves its paths to lookedAt.
 *
 * Speed (issue 22, session 44): a move looks at every file it writes, twice before session 44
 * (the move's looks, then editedMeanwhile's look for files created where new documents go, which
 * now reads these). `snapshot --init` commits onto the init commit, so its move looked at every
 * document of the machine, each in a folder that is not there yet (`filesystem/etc` among them):
 * the minbase root's 2 × 127 looks are 25 lstat calls now, its first snapshot's statx calls
 * 3,622 → 3,393, the services root's 5,397 → 4,974 (strace); the scale root's 2 × 24,000 looks
 * (0.7–1.7 s at load 11, see move) are answered the same way by `filesystem/etc`'s one lstat (not
 * measured there). A folder made after its lstat is the same race as a file saved after its look:
 * finishMove looks again before each rename.
 */
function looksOf(dir: string, paths: Iterable<string>): Map<string, string> {
  const absent = new Map<string, boolean>()
  const folderAbsent = (folder: string): boolean => {
    let known = absent.get(folder)
    if (known === undefined) {
      const slash = folder.lastIndexOf('/')
      known = (slash > 0 && folderAbsent(folder.slice(0, slash))) || lstatAbsent(join(dir, folder))
      absent.set(folder, known)
    }
    return known
  }
  const looks = new Map<string, string>()
  for (const path of paths) {
    const slash = path.lastIndexOf('/')
    looks.set(path, slash > 0 && folderAbsent(path.slice(0, slash)) ? '-' : lookedAt(join(dir, path)))
  }
  return looks
}

/** Whether lstat finds nothing at this path (ENOENT); any error else, false. */
function lstatAbsent(path: string): boolean {
  try {
    return lstatSync(path, { throwIfNoEntry: false }) === undefined
  } catch {
    return false
  }
}

/**
 * The record's `looks`: each file as it stood before the move's last look (SnapshotDraft.move).
 * Session 31: a save between that look and the renames was overwritten with nothing said; now a
 * file that is not as it stood is left as saved, and returned (its staged copy goes with the
 * stage): the edit stays in the working twin, pending against the new snapshot. Session 32: the
 * same when settling finishes a move a kill stopped after HEAD moved, for a save made after the
 * kill (a file the killed run renamed in is no longer staged, and is never looked at; a removed
 * file that is gone is done, whoever removed it). The window left is the one between that lstat
 * and the rename (microseconds).
 */
async function finishMove(dir: string, record: MoveRecord, index: string | undefined): Promise<string[]> {
  const kept: string[] = []
  const looks = record.looks === undefined ? undefined : new Map(Object.entries(record.looks))
  const removals = new Set(record.removals)
  let before: Map<string, TreeEntry> | undefined
  // Each path's look just before its rename, when savedMeanwhile took one (see the rename below).
  const lookedNow = new Map<string, string>()
  const savedMeanwhile = async (path: string) => {
    const seen = looks?.get(path)
    if (seen === undefined || seen === FOLDER_SEEN) return false
    const now = lookedAt(join(dir, path))
    lookedNow.set(path, now)
    if (now === seen || (now === '-' && removals.has(path))) return false
    // Touched and not changed (a `chmod -R` or `touch` of the twin between a kill and the rerun):
    // still the snapshot before's file, the move's to replace. Kept, the old file would have been
    // taken for a person's edit, and the plan would have undone what the machine did.
    before ??= record.parent === null ? new Map() : await treeEntries(dir, record.parent)
    if (stillEntry(join(dir, path), before.get(path))) return false
    kept.push(path)
    return true
  }
  // A removed file whose place became a folder of the new tree (`morph` → `morph/inner`): a folder
  // there now is the one an earlier run made for the new files, never the old file. Session 17's
  // chaos run: a kill after the renames, settled, removed `morph/` with the file in it, HEAD at
  // the new snapshot; `plan` then proposed to delete morph/inner from the machine.
  const newFolders = new Set<string>()
  for (const { path } of record.updates) addFolders(newFolders, path)
  // The path at work, for the error when a step fails (undoFailedMove).
  let at = ''
  try {
    // A file where a folder of the new tree goes cannot stay, saved or not (makeParentsSync takes it): never claimed kept.
    for (const path of record.removals) {
      at = path
      if (newFolders.has(path) || !(await savedMeanwhile(path))) await removeWorkingPath(dir, path, newFolders)
    }
    // Synchronous, one after the other (see writeLooseBlobs); folders known to exist are not looked at again.
    const folders = new Set<string>()
    for (const { path, stage } of record.updates) {
      at = path
      const from = join(dir, STAGE, stage)
      if (lstatSync(from, { throwIfNoEntry: false }) === undefined) continue // moved before the crash
      const target = join(dir, path)
      if (await savedMeanwhile(path)) continue
      makeParentsSync(dir, path, folders)
      // Speed (issue 22, session 44): the look savedMeanwhile just took says whether a folder is
      // there (FOLDER_SEEN), so no second lstat of the path: a first snapshot's move made three
      // for each file it renamed in (the staged file's, this look, this one), two now: the
      // minbase root's statx calls 3,393 → 3,266 (strace).
      const now = lookedNow.get(path)
      if (now === undefined ? lstatSync(target, { throwIfNoEntry: false })?.isDirectory() === true : now === FOLDER_SEEN) rmSync(target, { recursive: true, force: true })
      renameSync(from, target)
    }
  } catch (error) {
    throw await undoFailedMove(dir, record, at, error)
  }
  // The index follows: ours (its lock taken the way git takes it), or rebuilt from HEAD.
  const lock = join(dir, '.git', 'index.lock')
  const ours = index === undefined ? undefined : quietly(() => statSync(index))
  const locked = quietly(() => lstatSync(lock))
  if (ours !== undefined && locked !== undefined && locked.ino === ours.ino) {
    await finishSwap(dir) // killed between taking git's lock and renaming: ours
  } else if (ours !== undefined && quietly(() => statSync(join(dir, '.git', 'index')))?.ino === ours.ino) {
    // Swapped in before a kill: it is the index already (linked again, its rename would do nothing and leave git's lock).
  } else {
    // Another git holding git's index lock past the wait: the files and HEAD have moved, the record stays for settling.
    await (index !== undefined && ours !== undefined ? swapIndex(dir, index) : resetIndex(dir)).catch((error: unknown) => {
      throw isTwinSyncError(error) && (error.details as { lock?: unknown } | undefined)?.lock === lock ? indexLockedAfterMove(dir, record.commit) : error
    })
  }
  // The refs that move with it, before the record goes. A snapshot's observed ref left behind by a
  // kill (HEAD and the working twin at the new snapshot, `refs/twinsync/observed` at the one before)
  // made the next snapshot take what this one saw for a person's edit, set it aside as intent and
  // merge it back over what the machine did since: `plan` then proposed putting the machine back.
  for (const ref of record.refs ?? []) {
    if (!/^refs\/twinsync\/[A-Za-z0-9_-]+$/.test(ref) || readRefId(dir, ref) === record.commit) continue
    if (!updateRefInNode(dir, ref, record.commit, undefined, 'snapshot', identityNow())) await git(dir, ['update-ref', ...reflogFlag(ref), '-m', 'snapshot', ref, record.commit])
  }
  removeFile(join(dir, MARKER))
  removeFolder(join(dir, STAGE))
  removeFile(join(dir, INDEX))
  return kept
}

/**
 * A move that fails part way once HEAD moved (a rename or a folder the working twin's file system
 * refuses: a read-only or immutable folder, an I/O error) is undone: the working twin, HEAD and the
 * index go back to the snapshot before, and the failure is TWIN_MOVE_FAILED naming the path.
 * Session 32's red team: such a failure left the move recorded, every later run's settling failed
 * on it again the same way, and every snapshot, plan and apply stopped with an uncoded error: the
 * twin was stuck for good. Finishing it some other way could not be right: a file of HEAD missing
 * from the working twin is planned as a deletion on the machine, and an old file left where HEAD
 * has a new one as a change back. The record says it is being undone first (a kill during the undo
 * is finished by the next run's settling, settleMove). When even that record cannot be written
 * (the disk full), the move stays recorded as it was, for the next run to finish once the cause is gone.
 */
async function undoFailedMove(dir: string, record: MoveRecord, path: string, error: unknown): Promise<TwinSyncError> {
  const reason = (error as Error)?.message ?? String(error)
  const cause = (error as NodeJS.ErrnoException)?.code
  const undo = { path, reason }
  try {
    await writeFileAtomic(join(dir, MARKER), JSON.stringify({ ...record, undo }), { mode: 0o600, wait: 'blocking' })
  } catch {
    return moveFailed(dir, undo, cause, error, false)
  }
  try {
    await undoMove(dir, { ...record, undo }, true)
  } catch (undoError) {
    return moveFailed(dir, undo, cause, undoError, false)
  }
  return moveFailed(dir, undo, cause, error, true, record.parent)
}

/** TWIN_MOVE_FAILED: undone (the twin is the snapshot before), or left recorded for the next run to finish. */
function moveFailed(dir: string, undo: { path: string; reason: string }, cause: string | undefined, error: unknown, undone: boolean, parent?: string | null): TwinSyncError {
  const full = [cause, (error as NodeJS.ErrnoException)?.code].find((c) => c === 'ENOSPC' || c === 'EDQUOT')
  const fix = moveFailedNextStep(dir, undo.path, full ?? cause, 'run the command again')
  return new TwinSyncError(
    'TWIN_MOVE_FAILED',
    undone
      ? `The snapshot could not write ${undo.path} in the working twin (${undo.reason}): it was undone, and the twin is the snapshot before it${parent === null || parent === undefined ? '' : ` (${parent.slice(0, 12)})`}`
      : `The snapshot could not write ${undo.path} in the working twin (${undo.reason}), and could not be undone (${(error as Error)?.message ?? String(error)}): it stays recorded, and the next TwinSync run finishes or undoes it`,
    { nextStep: fix, details: { path: undo.path, repo: dir }, cause: error },
  )
}

/**
 * Put the working twin, HEAD and the index back to the record's parent (undoFailedMove; settleMove
 * after a kill during it). Each working path the move touched goes back to the parent's file unless
 * it is neither the parent's nor the new commit's: a person's save, left as it is and returned.
 * `headAtCommit`: false when HEAD already went back (a kill after that step), so only the index is left.
 */
async function undoMove(dir: string, record: MoveRecord, headAtCommit: boolean): Promise<string[]> {
  const kept: string[] = []
  if (headAtCommit) {
    const [before, after] = await Promise.all([record.parent === null ? new Map<string, TreeEntry>() : treeEntries(dir, record.parent), treeEntries(dir, record.commit)])
    const back: Array<[string, TreeEntry]> = []
    // The new files first (a file that became a folder: its new files go, then the file comes back).
    for (const path of [...record.updates.map((u) => u.path), ...record.removals]) {
      const file = join(dir, path)
      const was = before.get(path)
      if (stillEntry(file, was) || was?.mode === '160000') continue // never moved, or back already (a gitlink: never written)
      const now = lookedAt(file)
      // Nothing there, or the new tree's folder where the old file was (empty once the new files are gone).
      if (now === '-' || now === FOLDER_SEEN) {
        if (was !== undefined) back.push([path, was])
      } else if (stillEntry(file, after.get(path))) {
        await removeWorkingPath(dir, path, new Set())
        if (was !== undefined) back.push([path, was])
      } else kept.push(path)
    }
    const blobs = await readBlobs(dir, [...new Set(back.map(([, e]) => e.sha))])
    const aside = join(dir, STAGE, 'undo')
    mkdirSync(join(dir, STAGE), { recursive: true, mode: 0o700 })
    for (const [path, entry] of back) {
      const file = join(dir, path)
      const bytes = blobs.get(entry.sha)
      if (bytes === undefined) throw new TwinSyncError('REPO_DAMAGED', `The twin repository ${dir} is damaged: object ${entry.sha} (${path} in ${record.parent ?? 'the snapshot before'}) is missing`)
      if (!parentsAreFolders(dir, path)) {
        kept.push(path) // a person's file where a folder of the snapshot before was
        continue
      }
      const there = lstatSync(file, { throwIfNoEntry: false })
      if (there?.isDirectory() === true) {
        if (readdirSync(file).length > 0) {
          kept.push(path)
          continue
        }
        rmSync(file, { recursive: true, force: true })
      }
      removeFile(aside)
      if (entry.mode === '120000') symlinkSync(Buffer.from(bytes).toString('utf8'), aside)
      else writeFileSync(aside, bytes, { mode: entry.mode === '100755' ? 0o755 : 0o644 })
      renameSync(aside, file)
    }
    if (record.parent === null) await git(dir, ['update-ref', '-m', 'twinsync: snapshot undone', '-d', 'HEAD', record.commit])
    else if (!updateRefInNode(dir, 'HEAD', record.parent, record.commit, 'twinsync: snapshot undone', identityNow())) {
      await git(dir, ['update-ref', '-m', 'twinsync: snapshot undone', 'HEAD', record.parent, record.commit])
    }
  }
  // The new tree's private index goes with resetIndex, which makes its copy there.
  await resetIndex(dir)
  removeFile(join(dir, MARKER))
  removeFolder(join(dir, STAGE))
  return kept
}

/** Every folder above a twin path is a folder (or missing, made now); false when a file or a symlink is in the way. */
function parentsAreFolders(dir: string, path: string): boolean {
  const parts = path.split('/').slice(0, -1)
  for (let i = 1; i <= parts.length; i++) {
    const here = join(dir, ...parts.slice(0, i))
    const info = lstatSync(here, { throwIfNoEntry: false })
    if (info === undefined) mkdirSync(here)
    else if (!info.isDirectory()) return false
  }
  return true
}

/** A commit's files (`git ls-tree -r`): what a move replaces, asked only when a file it replaces was touched (finishMove). */
async function treeEntries(dir: string, commit: string): Promise<Map<string, TreeEntry>> {
  const out = new Map<string, TreeEntry>()
  for (const { mode, sha, path } of lsTreeEntries((await git(dir, ['ls-tree', '-r', '-z', '--full-tree', commit])).toString('utf8'))) out.set(path, { mode, sha })
  return out
}

/** The working file is exactly `entry` (its kind, its executable bit, its blob), however its stat data moved. */
function stillEntry(file: string, entry: TreeEntry | undefined): boolean {
  if (entry === undefined) return false
  const info = quietly(() => lstatSync(file, { throwIfNoEntry: false }))
  if (info === undefined) return false
  if (entry.mode === '120000' ? !info.isSymbolicLink() : !info.isFile() || (entry.mode === '100755') !== ((info.mode & 0o100) !== 0)) return false
  return fileIsBlob(file, entry) === true
}

async function removeWorkingPath(dir: string, path: string, newFolders: ReadonlySet<string>): Promise<void> {
  const target = join(dir, path)
  const info = await lstat(target).catch(() => undefined)
  if (info === undefined || (info.isDirectory() && newFolders.has(path))) return
  if (info.isDirectory()) await rm(target, { recursive: true, force: true })
  else removeFile(target)
  // Folders left empty go too, as git would leave them (up to the twin's top folders).
  for (let parent = dirname(path); parent.includes('/'); parent = dirname(parent)) {
    const entries = await readdir(join(dir, parent)).catch(() => undefined)
    if (entries === undefined || entries.length > 0) break
    await rm(join(dir, parent), { recursive: true, force: true })
  }
}

/** The folders above a twin file; a file where a folder must be (it became one) is removed. */
export async function makeParents(dir: string, path: string): Promise<void> {
  const parts = path.split('/').slice(0, -1)
  for (let i = 1; i <= parts.length; i++) {
    const here = join(dir, ...parts.slice(0, i))
    const info = await lstat(here).catch(() => undefined)
    if (info?.isDirectory() === true) continue
    if (info !== undefined) removeFile(here)
    await mkdir(here)
  }
}

/** makeParents, synchronous, remembering the folders it found or made in `known`. */
function makeParentsSync(dir: string, path: string, known: Set<string>): void {
  const parts = path.split('/').slice(0, -1)
  for (let i = 1; i <= parts.length; i++) {
    const relative = parts.slice(0, i).join('/')
    if (known.has(relative)) continue
    const here = join(dir, relative)
    const info = lstatSync(here, { throwIfNoEntry: false })
    if (info?.isDirectory() !== true) {
      if (info !== undefined) removeFile(here)
      mkdirSync(here)
    }
    known.add(relative)
  }
}

/** The paths of `sorted` (in compareStrings' order) that begin with `prefix`: a range of them, found by halving. */
function under(sorted: readonly string[], prefix: string): string[] {
  let low = 0
  let high = sorted.length
  while (low < high) {
    const middle = (low + high) >>> 1
    if ((sorted[middle] as string) < prefix) low = middle + 1
    else high = middle
  }
  const from = low
  high = sorted.length
  while (low < high) {
    const middle = (low + high) >>> 1
    if ((sorted[middle] as string).startsWith(prefix)) low = middle + 1
    else high = middle
  }
  return sorted.slice(from, low)
}

/** The twin paths a person edited since a snapshot set its pending edits aside (HeldIntent.editedSince). */
export type EditedSince = () => Promise<string[]>

/** A person saved these twin files while a snapshot ran: it stops before it moves anything (TWIN_DIRTY). */
function twinEditedMeanwhile(paths: readonly string[]): TwinSyncError {
  return new TwinSyncError('TWIN_DIRTY', `The twin was edited while the snapshot ran (${paths.slice(0, 5).join(', ')}${paths.length > 5 ? `, and ${paths.length - 5} more` : ''}): nothing was committed, and the edit is kept`, {
    nextStep: 'Run the command again once the edit is saved: its snapshot records the machine and keeps the edit pending.',
    details: { paths: [...paths] },
  })
}

/** The twin paths a TWIN_DIRTY refusal (twinEditedMeanwhile) names; undefined for any other error. */
export function editedPathsOf(error: unknown): string[] | undefined {
  if (!isTwinSyncError(error) || error.code !== 'TWIN_DIRTY') return undefined
  return (error.details as { paths?: string[] } | undefined)?.paths ?? []
}

function modeOf(doc: DraftDocument): string {
  return doc.executable === true ? '100755' : '100644'
}

/**
 * Speed (issue 22): a snapshot from a clean twin (the common case: nothing edited, the index read
 * from .git) makes its new tree, what it changes, its commit and its index in Node, as git makes
 * them, instead of `update-index --index-info`, `write-tree`, `diff-tree`, `rev-parse` and
 * `commit-tree`: five git processes fewer in every changed snapshot (each costs Node 5–10 ms of
 * CPU to spawn and git a few ms). The trees HEAD already holds are known from its entries (the
 * index is HEAD's), so only new trees are written, with the blobs and the commit: as one pack
 * from PACK_BLOBS_FROM objects, else loose. The index keeps git's stat data for every entry
 * that did not change (smudged where git would not trust it) and none for the new ones, as
 * `update-index` left them. A twin with edits (or one git's environment names another author)
 * takes git's way.
 */
type GitObjectBytes = { type: 'blob' | 'tree' | 'commit'; sha: string; bytes: Buffer }

function objectId(type: GitObjectBytes['type'], bytes: Buffer): string {
  return createHash('sha1').update(`${type} ${bytes.length}\0`).update(bytes).digest('hex')
}

/** Every tree of the tree these entries make (id → its bytes), the root tree's id, and each folder's tree id ('' the root). */
export function treesOf(entries: ReadonlyMap<string, TreeEntry>): { root: string; trees: Map<string, Buffer>; folders: Map<string, string> } {
  // Each folder's files, and its folders, by the folder's path ('' the root).
  const files = new Map<string, Map<string, TreeEntry>>([['', new Map()]])
  const subfolders = new Map<string, string[]>()
  const folderOf = (path: string): Map<string, TreeEntry> => {
    let found = files.get(path)
    if (found === undefined) {
      files.set(path, (found = new Map()))
      const at = path.lastIndexOf('/')
      const parent = at < 0 ? '' : path.slice(0, at)
      folderOf(parent)
      const list = subfolders.get(parent)
      if (list === undefined) subfolders.set(parent, [path])
      else list.push(path)
    }
    return found
  }
  for (const [path, entry] of entries) {
    const at = path.lastIndexOf('/')
    folderOf(at < 0 ? '' : path.slice(0, at)).set(path.slice(at + 1), entry)
  }
  const trees = new Map<string, Buffer>()
  const folders = new Map<string, string>()
  const make = (at: string): string => {
    const subs: Array<[string, string]> = []
    for (const sub of subfolders.get(at) ?? []) subs.push([sub.slice(sub.lastIndexOf('/') + 1), make(sub)])
    const sha = treeObject(files.get(at) as Map<string, TreeEntry>, subs, trees)
    folders.set(at, sha)
    return sha
  }
  return { root: make(''), trees, folders }
}

/** One tree object made and kept in `trees`: its files, its folders' tree ids. */
export function treeObject(files: ReadonlyMap<string, TreeEntry>, folders: ReadonlyArray<readonly [string, string]>, trees: Map<string, Buffer>): string {
  // git's order: by name's bytes, a folder's name as if it ended in '/'. For names all below
  // U+0080 (nearly always) JavaScript's string order is that order; else the names' bytes are compared.
  // Speed (issue 22, session 47): loops by index and Map.forEach, not `for (const [a, b] of …)`,
  // and a name is ASCII when its UTF-8 length (counted anyway) is its length, not a pattern run
  // on it: run once in a process, V8 runs this as bytecode, where taking each pair apart went
  // through the iterator protocol. The scale twin's /etc/scale (4,859 folders) made again for
  // one changed file: the draft's new trees (treesFromCache, cache-tree.ts, which loops the same
  // way) 106.3 → 90.8 M instructions of the main thread (callgrind between marks; the draft's
  // build and commit alone on a copy of the scale twin, medians of 3 interleaved pairs, V8's
  // collections left out).
  const items: Array<{ key: string; mode: string; name: string; sha: string }> = []
  let ascii = true
  let length = 0
  for (let i = 0; i < folders.length; i++) {
    const folder = folders[i] as readonly [string, string]
    const name = folder[0]
    const bytes = Buffer.byteLength(name)
    if (bytes !== name.length) ascii = false
    items.push({ key: `${name}/`, mode: '40000', name, sha: folder[1] })
    length += 27 + bytes
  }
  files.forEach((e, name) => {
    const bytes = Buffer.byteLength(name)
    if (bytes !== name.length) ascii = false
    items.push({ key: name, mode: e.mode, name, sha: e.sha })
    length += e.mode.length + 22 + bytes
  })
  if (ascii) items.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
  else items.sort((a, b) => Buffer.compare(Buffer.from(a.key), Buffer.from(b.key)))
  const bytes = Buffer.allocUnsafe(length)
  let at = 0
  for (let i = 0; i < items.length; i++) {
    const item = items[i] as (typeof items)[number]
    at += bytes.write(`${item.mode} ${item.name}\0`, at, 'utf8')
    at += bytes.write(item.sha, at, 'hex')
  }
  const sha = objectId('tree', bytes)
  trees.set(sha, bytes)
  return sha
}

/**
 * The trees of `entries`, which differ from those `known` was made of (treesOf) only at
 * `changed` paths: only the folders a changed path lies in are made again ('touched'), every
 * other folder is the tree `known` has for it. `trees` holds the touched folders' trees alone.
 *
 * Speed (issue 22): a snapshot's draft made HEAD's trees (to tell which of the new tree's are
 * new) and the new ones, each from every entry: on the bench's scale root (24,000 entries, 5,000
 * folders) 2 × 30–40 ms of CPU for one changed file. HEAD's are now made from the new ones
 * around the changed paths (a few folders); `core/test/snapshot-objects.test.ts` checks both
 * ways agree on random changes. Undefined when `known` lacks a folder it should have (then
 * treesOf makes them all).
 */
export function treesAround(
  known: { folders: ReadonlyMap<string, string> },
  entries: ReadonlyMap<string, TreeEntry>,
  changed: Iterable<string>,
): { root: string; trees: Map<string, Buffer>; touched: Set<string> } | undefined {
  const touched = new Set<string>([''])
  for (const path of changed) {
    for (let at = path.lastIndexOf('/'); at > 0 && !touched.has(path.slice(0, at)); at = path.lastIndexOf('/', at - 1)) touched.add(path.slice(0, at))
  }
  // Each touched folder's files, and its folders: touched ones made again, the others as `known` has them.
  const files = new Map<string, Map<string, TreeEntry>>()
  const folders = new Map<string, Set<string>>()
  for (const folder of touched) {
    files.set(folder, new Map())
    folders.set(folder, new Set())
  }
  /** The untouched folder (below a touched one) each folder lies in, or '' when it is touched itself. */
  const outerOf = new Map<string, string>()
  const outer = (folder: string): string => {
    let found = outerOf.get(folder)
    if (found !== undefined) return found
    if (touched.has(folder)) found = ''
    else {
      const at = folder.lastIndexOf('/')
      const parent = at < 0 ? '' : folder.slice(0, at)
      found = outer(parent) || folder
    }
    outerOf.set(folder, found)
    return found
  }
  for (const [path, entry] of entries) {
    const at = path.lastIndexOf('/')
    const folder = at < 0 ? '' : path.slice(0, at)
    const within = outer(folder)
    if (within === '') (files.get(folder) as Map<string, TreeEntry>).set(path.slice(at + 1), entry)
    else {
      const slash = within.lastIndexOf('/')
      ;(folders.get(slash < 0 ? '' : within.slice(0, slash)) as Set<string>).add(within)
    }
  }
  const kids = new Map<string, string[]>()
  for (const folder of touched) {
    if (folder === '') continue
    const slash = folder.lastIndexOf('/')
    const parent = slash < 0 ? '' : folder.slice(0, slash)
    appendTo(kids, parent, folder)
  }
  // A touched folder with nothing left in it (every entry below it removed) is no tree at all.
  const holding = new Map<string, boolean>()
  const holds = (folder: string): boolean => {
    let found = holding.get(folder)
    if (found === undefined) {
      found = (files.get(folder)?.size ?? 0) > 0 || (folders.get(folder)?.size ?? 0) > 0 || (kids.get(folder) ?? []).some(holds)
      holding.set(folder, found)
    }
    return found
  }
  const trees = new Map<string, Buffer>()
  const make = (folder: string): string | undefined => {
    const subs: Array<[string, string]> = []
    for (const sub of folders.get(folder) ?? []) {
      const sha = known.folders.get(sub)
      if (sha === undefined) return undefined
      subs.push([sub.slice(sub.lastIndexOf('/') + 1), sha])
    }
    for (const sub of kids.get(folder) ?? []) {
      if (!holds(sub)) continue
      const sha = make(sub)
      if (sha === undefined) return undefined
      subs.push([sub.slice(sub.lastIndexOf('/') + 1), sha])
    }
    return treeObject(files.get(folder) ?? new Map(), subs, trees)
  }
  const root = make('')
  return root === undefined ? undefined : { root, trees, touched }
}

/**
 * Whether every object named is in the twin's object store: loose, or in a pack (its `.idx`,
 * version 2). False when one is missing or the store is one this does not read (alternates).
 */
export function objectsStored(dir: string, shas: readonly string[]): boolean {
  return missingObject(dir, shas) === undefined
}

/** The first object named that the store lacks; undefined when it holds them all, null when this cannot tell (alternates, an index it does not read). */
export function missingObject(dir: string, shas: readonly string[]): string | undefined | null {
  const store = ObjectStore.open(dir)
  if (store === null) return null
  // Speed (issue 22, session 9): the largest pack asked first (most ids are there), each halving
  // step on the id's first four bytes read as a number (ObjectStore.has): a one-file snapshot of
  // the scale root checks the 4,859 folders of /etc/scale beside the changed one: 27–29 → 9–11 ms
  // of CPU (a fresh process, the check alone, three runs each). Session 47: the ids turned into
  // bytes at once (one native call for all, not two `parseInt`s, a pattern test and a hex string
  // of the pack's id an id), the whole id compared as five numbers: that check 56.4 → 36.7 M
  // instructions of the main thread (measured as treeObject's figure says).
  for (const sha of shas) if (sha.length !== 40) return null
  const text = shas.join('')
  if (!/^[0-9a-f]*$/.test(text)) return null
  const raw = Buffer.from(text, 'hex')
  const ids = new DataView(raw.buffer, raw.byteOffset, raw.byteLength)
  for (let i = 0; i < shas.length; i++) if (!store.has(ids, i * 20)) return shas[i] as string
  return undefined
}

/**
 * What `git diff-tree -r --name-status --no-renames` says between two trees' entries, in its
 * order; `only`: just these paths (the ones a draft wrote or removed), not every entry.
 */
export function changesBetween(before: ReadonlyMap<string, TreeEntry>, after: ReadonlyMap<string, TreeEntry>, only?: Iterable<string>): GitStatusEntry[] {
  const changes: GitStatusEntry[] = []
  const compare = (path: string): void => {
    const was = before.get(path)
    const now = after.get(path)
    if (now === undefined) {
      if (was !== undefined) changes.push({ path, change: 'D' })
    } else if (was === undefined) changes.push({ path, change: 'A' })
    else if (was.sha !== now.sha || was.mode !== now.mode) changes.push({ path, change: 'M' })
  }
  if (only !== undefined) for (const path of new Set(only)) compare(path)
  else {
    for (const path of after.keys()) compare(path)
    for (const path of before.keys()) if (!after.has(path)) compare(path)
  }
  return changes.sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)))
}

const IDENTITY_ENV = ['GIT_AUTHOR_NAME', 'GIT_AUTHOR_EMAIL', 'GIT_AUTHOR_DATE', 'GIT_COMMITTER_NAME', 'GIT_COMMITTER_EMAIL', 'GIT_COMMITTER_DATE']

/**
 * The commit `git commit-tree -m` makes with TwinSync's identity (IDENTITY) now, in local time;
 * undefined when git's environment names an author, a committer or a date (then git makes it).
 */
function commitObject(tree: string, parents: readonly string[], message: string, who = identityNow()): GitObjectBytes | undefined {
  if (IDENTITY_ENV.some((name) => process.env[name] !== undefined)) return undefined
  const text = [`tree ${tree}`, ...parents.map((p) => `parent ${p}`), `author ${who}`, `committer ${who}`, '', message.endsWith('\n') ? message : `${message}\n`].join('\n')
  const bytes = Buffer.from(text)
  return { type: 'commit', sha: objectId('commit', bytes), bytes }
}


/**
 * The twin's first commit ("TwinSync init") of these files, all already written in the working
 * twin, made the way a snapshot's is (gitObjectsInNode) right after `git init`: its objects as
 * one pack (so the first snapshot leaves nothing loose to pack), the index, then the branch
 * HEAD names and both reflogs (the lines git's `commit` writes). Undefined (nothing
 * written) when HEAD is not the unborn branch `git init` leaves, or git's environment names
 * an author: then git commits. Instead of `git add` and `git commit`.
 */
export async function commitFirstFiles(
  dir: string,
  files: ReadonlyArray<{ path: string; bytes: Buffer }>,
  message: string,
  /** The message once the commit's tree is known (the init commit's counts trailer), instead of `message`. */
  messageFor?: (tree: string) => Promise<string>,
): Promise<string | undefined> {
  const branch = /^ref: (refs\/heads\/[A-Za-z0-9._-]+)\n$/.exec(readFileSync(join(dir, '.git', 'HEAD'), 'utf8'))?.[1]
  if (branch === undefined || readHead(dir) !== null) return undefined
  const entries = new Map<string, TreeEntry>()
  const objects: GitObjectBytes[] = []
  for (const { path, bytes } of files) {
    const sha = objectId('blob', bytes)
    entries.set(path, { mode: '100644', sha })
    objects.push({ type: 'blob', sha, bytes })
  }
  const { root, trees, folders } = treesOf(entries)
  const who = identityNow()
  if (IDENTITY_ENV.some((name) => process.env[name] !== undefined)) return undefined
  const commit = commitObject(root, [], messageFor === undefined ? message : await messageFor(root), who)
  if (commit === undefined) return undefined
  for (const [sha, bytes] of trees) objects.push({ type: 'tree', sha, bytes })
  objects.push(commit)
  try {
    writePack(dir, objects)
    // Each file written whole aside (a TwinSync temp name in .git/twinsync, which the next run's
    // settling removes if a kill leaves it; a stale `.lock` of git's would fail later runs), then
    // renamed into place; the branch last.
    mkdirSync(join(dir, STATE), { recursive: true })
    const aside = (name: string) => join(dir, STATE, `.${name}.twinsync-${randomBytes(6).toString('hex')}`)
    const index = aside('index')
    writeIndexFile(index, entries, undefined, 'wx', cacheTreeOf(entries, folders))
    renameSync(index, join(dir, '.git', 'index'))
    const ref = join(dir, '.git', branch)
    mkdirSync(dirname(ref), { recursive: true })
    const refAside = aside('ref')
    writeFileSync(refAside, `${commit.sha}\n`, { flag: 'wx', mode: 0o644 })
    renameSync(refAside, ref)
    const line = `${'0'.repeat(40)} ${commit.sha} ${who}\tcommit (initial): ${message.split('\n')[0]}\n`
    for (const log of [join(dir, '.git', 'logs', branch), join(dir, '.git', 'logs', 'HEAD')]) {
      mkdirSync(dirname(log), { recursive: true })
      appendFileSync(log, line, { mode: 0o644 })
    }
  } catch (error) {
    throw diskError(error, dir)
  }
  return commit.sha
}

/**
 * An index (version 2) holding exactly `entries`, in git's order. An entry that is in `read`
 * (the index the draft began from) with the same mode and blob keeps its stat data, unless git
 * would not have trusted it there (its file changed in the last 2 s before that index was
 * written: "racy"); others carry none, as `update-index --index-info` leaves them (git, and the
 * quick check, compare their files by content).
 */
/**
 * Returns the entries' key as quick-status's readIndex makes it (paths, modes, blob ids in the index's order).
 * Speed (issue 22, session 7): the entries written into one buffer, paths sorted as strings when
 * all are ASCII (git's byte order then), the racy test on numbers: the scale twin's 19,563
 * entries with their stat data kept 39 → 26 ms of CPU (in-process, medians of 15, load 9); the
 * bytes the same as before (checked on the scale twin, with and without non-ASCII paths).
 */
export function writeIndexFile(path: string, entries: ReadonlyMap<string, TreeEntry>, read: TwinIndex | undefined, flag = 'w', cache?: CacheTreeNode | Buffer): string {
  const statOf = new Map<string, number>()
  read?.paths.forEach((p, i) => statOf.set(p, read.statAt[i] as number))
  // A recorded stat is kept only from a file changed two seconds or more before the index it was read from was written.
  const racyFrom = read === undefined ? 0 : Number(read.mtimeNs / 1_000_000_000n - 2n)
  const texts = [...entries.keys()]
  const ascii = texts.every((p) => /^[\x01-\x7f]*$/.test(p))
  if (ascii) texts.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
  else {
    const sorted = texts.map((p) => Buffer.from(p)).sort(Buffer.compare)
    sorted.forEach((b, i) => (texts[i] = b.toString('utf8')))
  }
  // git's cache tree (cache-tree.ts) after the entries, when known: the next snapshot makes only the trees a change lies in.
  const extension = cache === undefined ? undefined : Buffer.isBuffer(cache) ? cache : cacheTreeExtension(cache)
  let length = 12 + 20 + (extension?.length ?? 0)
  for (const text of texts) length += (62 + (ascii ? text.length : Buffer.byteLength(text)) + 8) & ~7
  const bytes = Buffer.alloc(length)
  bytes.write('DIRC', 0, 'latin1')
  bytes.writeUInt32BE(2, 4)
  bytes.writeUInt32BE(texts.length, 8)
  const key = createHash('sha1')
  let keyText = ''
  let at = 12
  for (const text of texts) {
    const entry = entries.get(text) as TreeEntry
    const size = ascii ? text.length : Buffer.byteLength(text)
    const was = read?.entries.get(text)
    const from = statOf.get(text)
    if (read !== undefined && was !== undefined && from !== undefined && was.mode === entry.mode && was.sha === entry.sha && read.bytes.readUInt32BE(from + 8) < racyFrom) {
      read.bytes.copy(bytes, at, from, from + 40)
    }
    bytes.writeUInt32BE(Number.parseInt(entry.mode, 8), at + 24)
    bytes.write(entry.sha, at + 40, 'hex')
    bytes.writeUInt16BE(Math.min(size, 0xfff), at + 60)
    bytes.write(text, at + 62, ascii ? 'latin1' : 'utf8')
    at += (62 + size + 8) & ~7
    keyText += `${entry.mode} ${entry.sha}\t${text}\0`
    if (keyText.length > 65536) {
      key.update(keyText)
      keyText = ''
    }
  }
  if (extension !== undefined) at += extension.copy(bytes, at)
  createHash('sha1').update(bytes.subarray(0, at)).digest().copy(bytes, at)
  writeFileSync(path, bytes, { mode: 0o600, flag })
  return key.update(keyText).digest('hex')
}

/**
 * A commit's new objects (its blobs, trees and the commit) into the store as one pack, however
 * few (auto-pack.ts rolls such small packs up every ROLL_UP_EVERY of them, instead of packing
 * loose objects after every commit; its comment gives the figure). Written, fsynced and renamed
 * into place with its index before any ref names the commit (the caller moves refs after), so a
 * kill leaves at worst a temp pack or a pack without its index, which git does not read.
 * Loose, as before, for a git without cruft packs (packsCommits: its repack cannot roll packs up
 * without a walk of the whole history).
 */
async function writeObjects(dir: string, objects: readonly GitObjectBytes[]): Promise<void> {
  if (objects.length === 0) return
  if (objects.length < PACK_BLOBS_FROM && !(await packsCommits(dir))) return writeLooseBlobs(dir, objects)
  try {
    writePack(dir, objects)
  } catch (error) {
    throw diskError(error, dir)
  }
}

/**
 * Speed: the blobs of a snapshot that writes many (a first snapshot, an upgrade) go into the
 * object store as one pack (pack-writer.ts, as `git index-pack --stdin` writes it), fewer as loose objects. On the shared
 * test machine's disk a loose object cost 1–2 ms of wall time (its folder, a temp file, a link,
 * an unlink): the services root's first snapshot spent 215–625 ms writing 224 of them, and
 * then `git repack` packed them (auto-pack.ts; 380–670 ms, most of it fsync). With
 * one pack: 80–130 ms to stage the tree, and the first snapshot's CPU 1,730 → 1,160 ms
 * (1,430 → 1,070 ms beside auto-pack's pack of every commit) with the other changes of its row
 * in docs/architecture.md (Speed). The pack holds no deltas; auto-pack's
 * whole repack (every few packs) finds them. It is written under a temp name and renamed
 * into place with its index, so a kill leaves only a temp pack (auto-pack removes old ones).
 * The pack is streamed to its file (packOf), not made whole first: on the scale root (20,000
 * files under /etc) the whole pack in memory, and again as the child's input, took the first
 * snapshot's peak memory from 276 to 532 MB; streamed it is 272 MB (548 MB the whole pack,
 * medians of 6 interleaved), CPU no worse (user 4.2 → 4.0 s; services root user + sys 1.13 → 1.09 s).
 */
export const PACK_BLOBS_FROM = 100

async function writeBlobs(dir: string, blobs: ReadonlyArray<{ sha: string; bytes: Buffer }>): Promise<void> {
  if (blobs.length < PACK_BLOBS_FROM) return writeLooseBlobs(dir, blobs)
  try {
    writePack(dir, blobs)
  } catch (error) {
    throw diskError(error, dir)
  }
}

/**
 * Loose objects, each written whole under a temp name in .git/twinsync and linked into place.
 * With synchronous calls, one after the other, as are a snapshot's staged files and their
 * renames into the working twin (move, finishMove): nothing else runs meanwhile, and each
 * asynchronous call was a round trip through libuv's thread pool.
 */
function writeLooseBlobs(dir: string, blobs: Iterable<{ sha: string; bytes: Buffer; type?: GitObjectBytes['type'] }>): void {
  const folders = new Set<string>()
  for (const { sha, bytes, type = 'blob' } of blobs) {
    const folder = join(dir, '.git', 'objects', sha.slice(0, 2))
    const path = join(folder, sha.slice(2))
    if (lstatSync(path, { throwIfNoEntry: false }) !== undefined) continue
    const temp = join(dir, STATE, `.object.twinsync-${randomBytes(6).toString('hex')}`)
    try {
      if (!folders.has(folder)) mkdirSync(folder, { recursive: true })
      folders.add(folder)
      // zlib level 1, git's own for loose objects (core.looseCompression): the scale root's 8.6 MB manifest 40 → 15 ms.
      writeFileSync(temp, deflateSync(Buffer.concat([Buffer.from(`${type} ${bytes.length}\0`), bytes]), { level: 1 }), { mode: 0o444 })
      try {
        linkSync(temp, path)
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      }
    } catch (error) {
      throw diskError(error, dir)
    } finally {
      removeFile(temp)
    }
  }
}

/**
 * `packed-refs.lock` and the `<ref>.lock` files under `.git/refs` and `.git/logs` that no git
 * holds any more (stale-git-lock.ts), removed; their names relative to `.git`. A listing of
 * `.git/refs`'s and `.git/logs`'s folders on every settle (a few readdirs; the /proc look only
 * when a lock is there). `git reflog expire` (auto-pack's expireReflogs, a person's) locks the
 * reflog too, `logs/<ref>.lock`: one a kill left made every later expiry of that reflog fail
 * (session 41), and git's appends to it go on without a lock, so nothing else would notice it.
 */
function staleRefLocks(dir: string): string[] {
  const git = join(dir, '.git')
  const locks: string[] = []
  if (quietly(() => lstatSync(join(git, 'packed-refs.lock'))) !== undefined) locks.push('packed-refs.lock')
  if (quietly(() => lstatSync(join(git, 'logs', 'HEAD.lock'))) !== undefined) locks.push('logs/HEAD.lock')
  const walk = (folder: string, depth: number): void => {
    for (const e of quietly(() => readdirSync(join(git, folder), { withFileTypes: true })) ?? []) {
      if (e.isDirectory() && depth < 8) walk(`${folder}/${e.name}`, depth + 1)
      else if (e.isFile() && e.name.endsWith('.lock')) locks.push(`${folder}/${e.name}`)
    }
  }
  walk('refs', 0)
  walk('logs/refs', 0)
  return locks.filter((name) => removeStaleGitLock(dir, join(git, name)))
}

/** HEAD, and the branch it names when it names one (read from `.git/HEAD`, no git process). */
function headRefs(dir: string): string[] {
  const head = quietly(() => readFileSync(join(dir, '.git', 'HEAD'), 'utf8'))
  const branch = head === undefined ? undefined : /^ref: (refs\/\S+)\s*$/.exec(head)?.[1]
  return branch === undefined ? ['HEAD'] : ['HEAD', branch]
}

async function headOf(dir: string): Promise<string | undefined> {
  try {
    return (await git(dir, ['rev-parse', '--verify', '--quiet', 'HEAD^{commit}'])).toString('utf8').trim() || undefined
  } catch {
    return undefined
  }
}

/** Whether the file of inode `ino` (git's index lock) is also a smudged index a run that is gone wrote in `.git/twinsync` (INDEX_SMUDGE_TEMP). */
function smudgeLockOfDeadRun(dir: string, ino: number): boolean {
  const state = join(dir, STATE)
  for (const name of quietly(() => readdirSync(state)) ?? []) {
    if (!name.startsWith(`.${INDEX_SMUDGE_TEMP}.`) || !tempOfDeadRun(name)) continue
    if (quietly(() => lstatSync(join(state, name)))?.ino === ino) return true
  }
  return false
}

/** A `.git/index.lock` that is not ours and not provably stale (stale-git-lock.ts): a git at work in the twin. Under the twin lock. */
function refuseForeignIndexLock(dir: string): void {
  const lock = join(dir, '.git', 'index.lock')
  if (quietly(() => lstatSync(lock)) !== undefined && !removeStaleGitLock(dir, lock) && quietly(() => lstatSync(lock)) !== undefined) throw indexLocked(dir)
}

function indexLocked(dir: string): TwinSyncError {
  const lock = join(dir, '.git', 'index.lock')
  return new TwinSyncError('GIT_FAILED', `git's index lock ${lock} exists: a git process is at work in the twin, or one TwinSync may not look at; nothing was changed`, {
    nextStep: `A git process is at work in the twin (\`pgrep -a git\`), or one this user may not look at: wait for it, or once none runs remove the lock: rm ${lock}`,
    details: { lock },
  })
}

/**
 * git's index lock held by another git (a person's, in the twin) after a snapshot's commit and its
 * files' move: said as it is, not "nothing was changed". The move's record stays; the next
 * snapshot's (or plan's, apply's) settling puts the index in place (settleMove), nothing lost.
 */
function indexLockedAfterMove(dir: string, commit: string): TwinSyncError {
  const lock = join(dir, '.git', 'index.lock')
  return new TwinSyncError('GIT_FAILED', `Snapshot ${commit.slice(0, 12)} is committed and the working twin moved to it, but git's index lock ${lock} stayed held by another git process, so the twin's index is not yet in place`, {
    nextStep: `Wait for the git process at work in the twin (\`pgrep -a git\`), then take the snapshot again: it puts the index in place first. Nothing is lost.`,
    details: { lock, committed: commit },
  })
}

/** Add the folders `path` lies in ("a/b/c" → "a", "a/b") to `folders`, when it is kept. */
function addFolders(folders: Set<string> | undefined, path: string): void {
  if (folders === undefined) return
  for (let i = path.lastIndexOf('/'); i > 0; i = path.lastIndexOf('/', i - 1)) {
    const folder = path.slice(0, i)
    if (folders.has(folder)) return
    folders.add(folder)
  }
}

/** The next step of a path a provider gave that cannot be a twin path (PATH_INVALID). */
const PROVIDER_PATH_STEP = "A provider produced this path; report it to the provider's authors, and run the snapshot again without that provider (--only)."

/**
 * PATH_INVALID for a path no tree of the twin holds (twin-path-check.ts, the rule and its speed).
 * The last guard: a provider's document at such a path refuses that provider's collect before
 * anything is written (document-paths.ts, session 44); before, it failed the whole snapshot here.
 * @internal exported for its test (core/test/twin-path-check.test.ts).
 */
export function checkTwinPath(path: string): void {
  const problem = twinPathProblem(path)
  if (problem === undefined) return
  throw new TwinSyncError('PATH_INVALID', `Not a twin path: ${JSON.stringify(path)}: ${problem}`, {
    nextStep: PROVIDER_PATH_STEP,
    details: { path },
  })
}

/** git in the twin (see runGitBytes); a failure is GIT_FAILED, REPO_DAMAGED or DISK_FULL. */
function git(dir: string, args: string[], options: { env?: Record<string, string>; input?: string | Buffer | Iterable<Buffer> } = {}): Promise<Buffer> {
  return runGitBytes(dir, args, options)
}

