import type { TwinReader } from '@twinsync/sdk'
import { TwinSyncError, compareStrings, isTwinSyncError } from '@twinsync/sdk/light'
import { BatchReader, lsTreeEntries, revParseCommit, runGit } from './git.js'
import { twinPathParts, twinSymlinkError } from './twin-files.js'
import { historyLine, quoteArg } from '../plan/command-text.js'
import { remembered } from './object-memo.js'

/**
 * `GitTreeReader`'s `observed` for a commit read as a whole that is not the last snapshot (a
 * revert's target, `plan --from`): each document's bit judged against the bit it had before the
 * commit that last changed it (asMadeExecutableOf). Session 44.
 */
export const AS_MADE = Symbol('the commit as it was made')

/**
 * The twin as it was at one commit: reads blobs through a single `git cat-file --batch`
 * process instead of one `git show` per file, since a twin has thousands of files.
 */
export class GitTreeReader implements TwinReader {
  /** Every path of the commit's tree with its git mode (100644, 100755, 120000 for a symlink) and object id. */
  private files: Promise<Map<string, { mode: string; id: string }>> | undefined
  /** Every blob's size in bytes, listed on the first sizeOf. */
  private sizes: Promise<Map<string, number>> | undefined
  private batch: BatchReader | undefined
  /** The observed commit's tree, its modes only (no blob is read through it, so nothing to close). */
  private observedTree: GitTreeReader | undefined
  /** AS_MADE: each path's bit before its last change, as asked (asMadeExecutableOf). */
  private readonly before = new Map<string, Promise<boolean | undefined>>()

  constructor(
    private readonly dir: string,
    readonly commit: string,
    /** One `git cat-file --batch` shared by several readers (history's, or a LazyBatch's); its owner closes it. */
    private readonly shared?: BatchReader | LazyBatch,
    /**
     * The last snapshot's commit (or tree), for a reader of what the twin asks for (a pulled
     * commit, the intent, a saved plan's tree): what a document's executable bit is judged
     * against (observedExecutableOf). Without it the tree is judged against itself: a snapshot's
     * own tree, history's, the last snapshot read as the machine was (its manifest's modes stand).
     * AS_MADE: another commit read as a whole (asMadeExecutableOf).
     */
    private readonly observed?: string | typeof AS_MADE,
  ) {}

  /**
   * A blob's content; a symlink (mode 120000) is refused like one in the working tree, never read as text.
   * Asked of git by the blob's id from the tree's listing. Speed (session 39): asked as
   * `<commit>:<path>`, git walked the trees to the file on every read and searched each folder's
   * entries one by one, so a folder's reads grew with its size squared: 20,000 files in one
   * folder took git 22.6 s of CPU, 140,000 in folders of 1,000 12.4 s, by id 0.16 s.
   */
  async read(path: string): Promise<Uint8Array | undefined> {
    twinPathParts(path)
    const entry = (await this.allFiles()).get(path)
    if (entry === undefined || entry.mode === '160000') return undefined
    if (entry.mode === '120000') throw twinSymlinkError(path, this.dir)
    const batch = this.shared instanceof LazyBatch ? this.shared.get() : (this.shared ?? (this.batch ??= new BatchReader(this.dir)))
    return batch.read(entry.id)
  }

  async readText(path: string): Promise<string | undefined> {
    const bytes = await this.read(path)
    return bytes === undefined ? undefined : Buffer.from(bytes).toString('utf8')
  }

  /**
   * A blob's size from the tree (`git ls-tree -l`, the object's header: never its content); a
   * symlink is refused as `read` refuses it. The sizes are listed once, on the first call only:
   * most readers never ask (history's), and `-l` looks up every blob of the tree.
   */
  async sizeOf(path: string): Promise<number | undefined> {
    twinPathParts(path)
    const entry = (await this.allFiles()).get(path)
    if (entry === undefined || entry.mode === '160000') return undefined
    if (entry.mode === '120000') throw twinSymlinkError(path, this.dir)
    this.sizes ??= remembered(this.dir, 'sizes', [this.commit], () => runGit(this.dir, ['ls-tree', '-r', '-l', '-z', '--full-tree', this.commit]).then((out) => {
      const sizes = new Map<string, number>()
      for (const { size, path } of lsTreeEntries(out)) {
        const bytes = Number(size)
        if (size !== undefined && Number.isSafeInteger(bytes)) sizes.set(path, bytes)
      }
      return sizes
    }))
    return (await this.sizes).get(path)
  }

  /** Whether the tree's entry is an executable file (git mode 100755); undefined for none or another kind. */
  async executableOf(path: string): Promise<boolean | undefined> {
    const entry = (await this.allFiles()).get(path)
    return entry === undefined || (entry.mode !== '100755' && entry.mode !== '100644') ? undefined : entry.mode === '100755'
  }

  /**
   * The entry's executable bit in the last snapshot (the `observed` commit given; this tree's own
   * without one): one `git ls-tree` of that commit on the first call (remembered), none while no
   * document's bit disagrees with its manifest mode (the files provider asks only then).
   */
  async observedExecutableOf(path: string): Promise<boolean | undefined> {
    if (this.observed === AS_MADE) return this.asMadeExecutableOf(path)
    if (this.observed === undefined || this.observed === this.commit) return this.executableOf(path)
    this.observedTree ??= new GitTreeReader(this.dir, this.observed)
    return this.observedTree.executableOf(path)
  }

  /**
   * A commit read as a whole (AS_MADE): what it meant the machine to be. Its manifest's modes stand,
   * but for a document whose executable bit was last changed by a commit that left its content as
   * it was (a `chmod -x` or `+x` in the twin, committed by a person, a mirror, or an apply's "edit
   * before apply"): that commit asked for the bit, and the bit it had before is what it is judged
   * against (the files provider's `twinMode` then takes the document's bit). A bit written with new
   * content (every snapshot's, which agrees with its manifest; an adopt before session 43, which
   * wrote an adopted script 100644 beside its manifest's 0755), or a document added with its bit,
   * is the commit's own: its manifest's mode stands, so a revert to such an adopt never makes a
   * script not executable. Before session 44 every commit read as a whole was judged against
   * itself: a revert to a commit that had a twin's `chmod -x` or `+x` never made it.
   * Asked only for a document whose bit disagrees with its manifest mode (rare): one `git log` of
   * the path along the first parents, remembered. Also history's rule for the newer side of a
   * comparison whose bit differs from the older side's (history-service.ts's bitsJudgedAgainst).
   */
  asMadeExecutableOf(path: string): Promise<boolean | undefined> {
    let found = this.before.get(path)
    if (found === undefined) {
      found = (async () => {
        const own = await this.executableOf(path)
        if (own === undefined) return undefined
        const out = await runGit(this.dir, ['log', '--first-parent', '--no-renames', '--no-abbrev', '--raw', '--format=', this.commit, '--', `:(literal)${path}`])
        for (const line of out.split('\n')) {
          // ":100755 100644 <old blob> <new blob> M\tpath", the newest change first.
          const raw = /^:(\d{6}) (\d{6}) ([0-9a-f]+) ([0-9a-f]+) ([A-Z])/.exec(line)
          if (raw === null) continue
          const [, oldMode, newMode, oldBlob, newBlob, status] = raw as unknown as [string, string, string, string, string, string]
          if (status === 'A' || (oldMode !== '100644' && oldMode !== '100755')) return own
          if (oldMode === newMode) continue
          return oldBlob === newBlob ? oldMode === '100755' : own
        }
        return own
      })()
      this.before.set(path, found)
    }
    return found
  }

  async list(prefix: string): Promise<string[]> {
    return [...(await this.allFiles()).keys()].filter((p) => p.startsWith(prefix)).sort(compareStrings)
  }

  async has(path: string): Promise<boolean> {
    return (await this.allFiles()).has(path)
  }

  close(): void {
    this.batch?.close()
  }

  private allFiles(): Promise<Map<string, { mode: string; id: string }>> {
    this.files ??= remembered(this.dir, 'files', [this.commit], () => runGit(this.dir, ['ls-tree', '-r', '-z', '--full-tree', this.commit]).then((out) => {
      const files = new Map<string, { mode: string; id: string }>()
      for (const { mode, sha, path } of lsTreeEntries(out)) files.set(path, { mode, id: sha })
      return files
    }))
    return this.files
  }
}

/**
 * A commit read as a whole (`plan --from`, a revert's target, an interrupted revert's): the last
 * snapshot (`lastSnapshot`) is the machine as TwinSync recorded it, judged against itself (its
 * manifest's modes stand, session 43; `status` reads it so); any other commit as it was made
 * (AS_MADE). The one place that decides it for every such reader.
 */
export function wholeCommitReader(dir: string, commit: string, lastSnapshot: string | undefined): GitTreeReader {
  return new GitTreeReader(dir, commit, undefined, commit === lastSnapshot ? undefined : AS_MADE)
}

/** One `git cat-file --batch` for several readers, started on the first read only (none when nothing is read). */
export class LazyBatch {
  private batch: BatchReader | undefined
  constructor(private readonly dir: string) {}
  get(): BatchReader {
    return (this.batch ??= new BatchReader(this.dir))
  }
  close(): void {
    this.batch?.close()
  }
}

/** Resolve a reference (a hash, HEAD~2, a tag) to a full commit id, as git does: for TwinSync's own use (the observed commit, a sealed plan's basis). */
export async function resolveCommit(dir: string, ref: string): Promise<string> {
  if (ref.startsWith('-') || /[\0\n]/.test(ref)) throw unknownRef(dir, ref)
  // A missing git or a damaged repository is said as such, not as an unknown snapshot; a name of a
  // tree or a file (`HEAD^{tree}`, `HEAD:twin.json`), which git refuses as "expected commit type",
  // is the person's, not git's failure (session 44: GIT_FAILED before).
  const commit = await revParseCommit(dir, ref).catch((error: unknown) => {
    if (isTwinSyncError(error) && error.code === 'GIT_FAILED' && /expected commit type/.test(String((error.details as { git?: string } | undefined)?.git))) return undefined
    throw error
  })
  if (commit === undefined) throw unknownRef(dir, ref)
  if (ABBREVIATED_ID.test(ref)) await refuseShadowed(dir, ref, commit)
  return commit
}

/** What could be the start of a commit id (4 digits is the shortest git takes; a whole id git reads as the id itself). */
const ABBREVIATED_ID = /^[0-9a-fA-F]{4,63}$/

/**
 * git reads a ref before an abbreviated commit id: a label (a tag) named as the start of a
 * snapshot's id, made before session 44 refused such names (checkLabelFree) or by hand with git,
 * made `show`, `revert`, `diff` and `plan --from` of that id name the labelled snapshot instead
 * (`label HEAD 0cca514e1676`, then `revert 0cca514e1676`: the id `history` prints for another
 * snapshot). A name that is both is refused (SNAPSHOT_AMBIGUOUS), naming both and how to say
 * each. Two git runs more, only for a hex name a ref of that name resolved.
 */
async function refuseShadowed(dir: string, ref: string, resolved: string): Promise<void> {
  const refName = (await runGit(dir, ['rev-parse', '--symbolic-full-name', ref])).trim()
  if (refName === '') return
  const objects = (await runGit(dir, ['rev-parse', `--disambiguate=${ref.toLowerCase()}`])).split('\n').map((l) => l.trim()).filter((l) => l !== '' && l !== resolved)
  const commits: string[] = []
  // A tree or a blob of that start is no snapshot (git: "expected commit type").
  for (const id of objects) if ((await revParseCommit(dir, id).catch((error: unknown) => (isTwinSyncError(error) && error.code === 'GIT_FAILED' ? undefined : Promise.reject(error)))) === id) commits.push(id)
  if (commits.length === 0) return
  const ids = commits.map((c) => c.slice(0, 12)).join(', ')
  throw new TwinSyncError('SNAPSHOT_AMBIGUOUS', `"${ref}" names two snapshots: ${refName} (a ${refName.startsWith('refs/tags/') ? 'label' : 'ref'}) is ${resolved.slice(0, 12)}, and the id of ${commits.length === 1 ? 'snapshot' : 'snapshots'} ${ids} starts with it; nothing was done`, {
    nextStep: `Name the snapshot by its whole id (${commits.length === 1 ? commits[0] : 'from `history`'}) or the label as ${refName}; to end the clash, remove the label (\`git -C ${quoteArg(dir)} tag -d ${refName.replace(/^refs\/tags\//, '')}\`) and label that snapshot again under a name that is not hex digits.`,
    details: { ref, refName, resolved, commits },
  })
}

/**
 * A snapshot a person names (revert, show, diff, label, `--from`) as a full commit id: one of this
 * twin's own, reached from its branch, a label or TwinSync's refs (`refs/twinsync/`). The object
 * store holds more: the commit a refused pull fetched (the mirror's tracking ref stays on it, and
 * its id is in the refusal), commits a rewrite (`forget`, `gc`) left behind. Before session 18
 * `revert mirror/main`, `plan --from` and `show` took such a commit as a snapshot, although the pull
 * had refused its tree (a name TwinSync refuses, a tree of a million files, a forged run record)
 * and said nothing of it reached the twin. SNAPSHOT_UNKNOWN, naming why. One `git rev-list` more
 * than resolveCommit (packed, as git rev-parse: about 60 ms wall, 7 ms of CPU on the loaded test
 * machine), only where a person named the snapshot: never on status's or a snapshot's way.
 */
export async function resolveSnapshot(dir: string, ref: string): Promise<string> {
  const commit = await resolveCommit(dir, ref)
  // Nothing listed: every commit from it is reached from the twin's own refs (HEAD itself included).
  const outside = await runGit(dir, ['rev-list', '-n', '1', commit, '--not', 'HEAD', '--branches', '--tags', '--glob=refs/twinsync/*'])
  if (outside.trim() !== '') throw unknownRef(dir, ref, commit)
  return commit
}

function unknownRef(dir: string, ref: string, outside?: string): TwinSyncError {
  const why = outside === undefined ? '' : `: ${outside.slice(0, 12)} is not in this twin's history (a commit a pull fetched and refused, or one a rewrite left behind)`
  return new TwinSyncError('SNAPSHOT_UNKNOWN', `No snapshot ${JSON.stringify(ref)} in the twin${why}`, {
    nextStep: `Run \`${historyLine(dir)}\` to see the snapshots.`,
    details: { ref, ...(outside === undefined ? {} : { commit: outside }) },
  })
}
