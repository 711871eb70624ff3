import { statfsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Diagnostic, TwinReader } from '@twinsync/sdk'
import { TwinSyncError, stableStringify } from '@twinsync/sdk/light'
import { BatchReader, EMPTY_TREE, lsTreeEntries, readBlobs, runGit, runGitBytes, tryGit } from '../twin/git.js'
import { commitTree } from '../intent/intent-git.js'
import { COMMANDS_LEDGER, readCommandsLedger } from '../plan/plan-instructions.js'
import { MAX_TWIN_FILE_BYTES, NAME_MAX_BYTES } from '../twin/twin-files.js'
import { TREE_PATH_MAX_BYTES } from '../twin/twin-path-check.js'
import { putBack } from '../twin/pull-move.js'
import { GitTreeReader } from '../twin/git-tree-reader.js'
import { quoteArg } from '../plan/command-text.js'
import { signedHere } from '../plan/run-record-seal.js'
import { journalSignedHere } from '../apply/journal.js'
import { MIRROR_BRANCH, REMOTE_NAME } from './remote-settings.js'

export interface UnsafeEntry {
  path: string
  mode: string
  reason: string
}

const CONTROL = /[\0-\x1f\x7f]/

/**
 * The longest symlink target a pull takes, in bytes: Linux's (PATH_MAX less its NUL), so no
 * machine's snapshot holds a longer one. Session 46: a symlink's blob had no size check (L2 of
 * session 45's review): a mirror's 700 MB "target", in the last tree or a commit before it, was
 * pulled, and `show` and `history` read it whole.
 */
export const SYMLINK_TARGET_MAX_BYTES = 4095


/** The lines a refusal of what the mirror holds names, with this run's --root, --repo and --config (RunTarget). */
export interface MirrorSteps {
  /** `twinsync pull` */
  pull: string
  /** `twinsync push --retry --force`: this twin's history over the mirror's */
  forcePush: string
}

/**
 * The most files a pulled commit's tree may hold. A tree whose subtrees repeat one another (a
 * thousand entries a level, each the same subtree) is a few hundred bytes on the mirror and
 * holds 10^6 files at two levels, 10^9 at three: before session 17 a pull listed all of them
 * into memory (`git ls-tree -r -l` of 10^6 loose entries: 21 s here, and git's own diff of such
 * a commit in history another 8 s), then checked out a million empty files. Counted here
 * by reading each distinct tree object once (countFiles), so the count costs what the mirror
 * sent, not what it unfolds to. Half a million is far above a twin of /etc and home folders (the
 * test bed's services root: a few thousand).
 */
export const MAX_INCOMING_FILES = 500_000

/**
 * The largest commit object a pull takes (its headers and message), in bytes. TwinSync's own
 * messages are a few lines (a snapshot's diary line, its kept records); a person's commit on the
 * mirror is text to read. Session 45: a mirror commit with a 600 MB message (8 MB on the wire)
 * pulled in 68 s and 1.2 GB, and after it every command read HEAD's message (status 7 s and 0.6 GB,
 * plan 1.2 GB) and `history` failed for good with GIT_FAILED ("Cannot create a string longer than
 * 0x1fffffe8 characters", next step "fix what git reports").
 */
export const MAX_INCOMING_COMMIT_BYTES = 1024 * 1024

/**
 * The largest tree object (one folder's entries) a pull reads, in bytes: as large as a twin file
 * may be (MAX_TWIN_FILE_BYTES). A folder of the largest size holds 230,000 entries with names of
 * 255 bytes, a million and more with short ones: past what a twin of /etc and home folders holds
 * in one folder. Session 46: a tree's size is asked of git (`cat-file --batch-check`, its header)
 * before it is read; before, a tree object of any size was read whole into memory before its
 * entries were counted.
 */
export const MAX_INCOMING_TREE_BYTES = MAX_TWIN_FILE_BYTES

/**
 * TWIN_UNSAFE when a commit the pull brings (`commit` and those between it and `from`) is larger
 * than MAX_INCOMING_COMMIT_BYTES (its headers' size, asked of git, never read), or has a tree of
 * more than MAX_INCOMING_FILES files, a folder over MAX_INCOMING_TREE_BYTES, or folders nested
 * deeper than a path can be: before anything lists them.
 */
async function refuseTreeBombs(dir: string, commit: string, from: string | null, steps: MirrorSteps): Promise<void> {
  const commits = (await runGit(dir, ['log', '-z', '--format=%H %T', commit, ...(from === null ? [] : ['--not', from])])).split('\0').filter((l) => l !== '')
  if (commits.length === 0) return
  for (const [id, size] of await objectSizes(dir, commits.map((l) => l.trim().split(' ')[0] as string))) {
    if (!(size > MAX_INCOMING_COMMIT_BYTES)) continue
    throw new TwinSyncError('TWIN_UNSAFE', `Not pulled: ${id === commit ? "the mirror's commit" : 'a commit on the mirror'} ${id.slice(0, 12)} is ${size.toLocaleString('en')} bytes (its message), more than the ${MAX_INCOMING_COMMIT_BYTES.toLocaleString('en')} TwinSync takes from a mirror`, {
      nextStep: `Nothing here was changed. Put this twin's history back on the mirror (\`${steps.forcePush}\`), or rewrite the mirror's history without that commit, then \`${steps.pull}\` again.`,
      details: { commit: id, size, limit: MAX_INCOMING_COMMIT_BYTES },
    })
  }
  const roots = commits.map((line) => line.trim().split(' ') as [string, string])
  const folders = await readFolders(dir, roots, commit, steps)
  const counted = new Map<string, number>()
  for (const [id, tree] of roots) {
    const files = countFiles(tree, folders, counted)
    if (files > MAX_INCOMING_FILES) throw tooManyFiles(id, commit, files, steps)
  }
}

/** TWIN_UNSAFE: the commit `id` holds more than MAX_INCOMING_FILES files (`files`), or folders nested too deep (Infinity). */
function tooManyFiles(id: string, commit: string, files: number, steps: MirrorSteps, what: 'files' | 'folders' = 'files'): TwinSyncError {
  const where = id === commit ? "the mirror's twin" : 'a commit on the mirror'
  return new TwinSyncError('TWIN_UNSAFE', `Not pulled: ${where} at ${id.slice(0, 12)} holds ${files === Infinity ? 'folders nested deeper than a path can be' : `more than ${MAX_INCOMING_FILES.toLocaleString('en')} ${what}`}, more than TwinSync takes from a mirror`, {
    nextStep: `Nothing here was changed. Put this twin's history back on the mirror (\`${steps.forcePush}\`), or remove those ${what} from the mirror's history, then \`${steps.pull}\` again.`,
    details: { commit: id, limit: MAX_INCOMING_FILES },
  })
}

/** The sizes of objects, by id, from their headers (`git cat-file --batch-check`): nothing is read. */
async function objectSizes(dir: string, ids: readonly string[]): Promise<Map<string, number>> {
  const sizes = new Map<string, number>()
  if (ids.length === 0) return sizes
  const out = await runGitBytes(dir, ['cat-file', '--batch-check=%(objectname) %(objectsize)'], { input: `${ids.join('\n')}\n` })
  for (const line of out.toString('utf8').split('\n')) {
    const [id = '', size = ''] = line.split(' ')
    if (id !== '') sizes.set(id, Number(size))
  }
  return sizes
}

/** One folder of a pulled tree: how many entries are not folders, and its subfolders' trees. */
interface Folder {
  files: number
  subtrees: string[]
}

/**
 * Every distinct tree under the commits' root trees (`roots`: commit and tree ids), read once, a
 * level at a time: each level's trees are asked their sizes first (one `git cat-file
 * --batch-check`; a tree over MAX_INCOMING_TREE_BYTES is refused unread), then read and checked
 * entry by entry (brokenEntry). The walk stops below the deepest level a path can reach: the trees
 * it did not read count as too deep (countFiles).
 *
 * It stops at the file limit too (session 47, M4 of session 46's review): each tree is counted
 * for the commit it was first reached from, and a commit whose trees so read hold more than
 * MAX_INCOMING_FILES files is refused then, before the rest is read. The distinct trees under
 * one commit hold no more files than it does, so no commit under the limit is refused for it.
 * Before, every tree of every pulled commit was read first (a root of 230,000 distinct folders,
 * each up to 64 MiB: all of it, under the twin lock), and only then counted; the walk of session
 * 17 stopped at the limit, and this one does again.
 */
async function readFolders(dir: string, roots: ReadonlyArray<readonly [string, string]>, commit: string, steps: MirrorSteps): Promise<Map<string, Folder>> {
  const folders = new Map<string, Folder>()
  // Each tree queued: the commit it was first reached from; and, by commit, the files and folder entries of the trees read for it.
  const reachedFrom = new Map<string, string>()
  const read = new Map<string, { files: number; folders: number }>()
  for (const [id, tree] of roots) if (!reachedFrom.has(tree)) reachedFrom.set(tree, id)
  const reader = new BatchReader(dir)
  try {
    let level = [...reachedFrom.keys()]
    for (let depth = 0; level.length > 0 && depth <= TREE_PATH_MAX_BYTES / 2; depth++) {
      const sizes = await objectSizes(dir, level)
      for (const tree of level) {
        const size = sizes.get(tree) ?? Number.NaN
        if (!(size > MAX_INCOMING_TREE_BYTES)) continue
        throw new TwinSyncError('TWIN_UNSAFE', `Not pulled: the mirror's tree ${tree.slice(0, 12)} (one folder's entries) is ${size.toLocaleString('en')} bytes, more than the ${MAX_INCOMING_TREE_BYTES.toLocaleString('en')} TwinSync takes from a mirror`, {
          nextStep: `Nothing here was changed. Put this twin's history back on the mirror (\`${steps.forcePush}\`), or remove that folder from the mirror's history, then \`${steps.pull}\` again.`,
          details: { tree, size, limit: MAX_INCOMING_TREE_BYTES },
        })
      }
      const next: string[] = []
      for (const tree of level) {
        const folder = await readFolder(reader, tree, steps)
        folders.set(tree, folder)
        const from = reachedFrom.get(tree) as string
        const counts = read.get(from) ?? { files: 0, folders: 0 }
        read.set(from, counts)
        counts.files += folder.files
        if (counts.files > MAX_INCOMING_FILES) throw tooManyFiles(from, commit, counts.files, steps)
        // Folder entries count too, under the same limit: a fan-out of folders holding no files
        // was read whole, level by level, under the twin lock (session 47's review, F10).
        counts.folders += folder.subtrees.length
        if (counts.folders > MAX_INCOMING_FILES) throw tooManyFiles(from, commit, counts.folders, steps, 'folders')
        for (const sub of folder.subtrees) {
          if (reachedFrom.has(sub)) continue
          reachedFrom.set(sub, from)
          next.push(sub)
        }
      }
      level = next
    }
  } finally {
    reader.close()
  }
  return folders
}

/** A tree's entries: checked (brokenEntry), its files counted and its subfolders listed. */
async function readFolder(reader: BatchReader, tree: string, steps: MirrorSteps): Promise<Folder> {
  const object = await reader.readObject(tree)
  if (object === undefined || object.type !== 'tree') throw new TwinSyncError('TWIN_UNSAFE', `Not pulled: the mirror's tree ${tree.slice(0, 12)} could not be read as a tree`, { nextStep: `Nothing here was changed. Put this twin's history back on the mirror (\`${steps.forcePush}\`), then \`${steps.pull}\` again.`, details: { tree } })
  // Entries: "<mode> <name>\0" and the id's bytes (as long as the tree's own id).
  const bytes = Buffer.from(object.bytes)
  const idBytes = tree.length / 2
  const folder: Folder = { files: 0, subtrees: [] }
  let previous: { name: Buffer; folder: boolean } | undefined
  const names = new Set<string>()
  for (let at = 0; at < bytes.length; ) {
    const nul = bytes.indexOf(0, at)
    if (nul < 0) break
    const space = bytes.indexOf(0x20, at)
    // A folder by its mode as git reads it (octal, so a zero-padded "040000" is one too).
    const mode = Number.parseInt(bytes.toString('latin1', at, space), 8)
    const isFolder = (mode & 0o170000) === 0o040000
    const name = bytes.subarray(space + 1, nul)
    const broken = brokenEntry(name, isFolder, previous, names)
    if (broken !== undefined) {
      throw new TwinSyncError('TWIN_UNSAFE', `Not pulled: the mirror's tree ${tree.slice(0, 12)} is malformed (${broken}: ${JSON.stringify(name.toString('utf8'))}), as \`git fsck\` says too; TwinSync takes no such tree`, {
        nextStep: `Nothing here was changed. Put this twin's history back on the mirror (\`${steps.forcePush}\`), or rewrite the mirror's history without that tree, then \`${steps.pull}\` again.`,
        details: { tree, reason: broken },
      })
    }
    previous = { name, folder: isFolder }
    const id = bytes.toString('hex', nul + 1, nul + 1 + idBytes)
    at = nul + 1 + idBytes
    if (isFolder) folder.subtrees.push(id)
    else folder.files++
  }
  return folder
}

/**
 * Files (every entry but a folder) under a tree, each distinct tree counted once: past the
 * limit, limit + 1; a tree the walk did not read (nested deeper than a path can be): Infinity.
 */
function countFiles(tree: string, folders: ReadonlyMap<string, Folder>, counted: Map<string, number>): number {
  const known = counted.get(tree)
  if (known !== undefined) return known
  const folder = folders.get(tree)
  if (folder === undefined) return Infinity
  let files = folder.files
  for (const sub of folder.subtrees) {
    if (files > MAX_INCOMING_FILES) break
    files += countFiles(sub, folders, counted)
  }
  const result = files > MAX_INCOMING_FILES && files !== Infinity ? MAX_INCOMING_FILES + 1 : files
  counted.set(tree, result)
  return result
}

/**
 * What makes a tree entry one git itself never writes (its fsck: emptyName, fullPathname,
 * duplicateEntries, treeNotSorted), or undefined. `git mktree` refuses them, but a tree object
 * is bytes anyone can push (`hash-object --literally`), and a fetch does not check it. Before
 * session 23 a tree holding a name twice, or not in git's order, failed the pull as GIT_FAILED
 * with "fix what git reports" in a twin that was fine, and an entry named "zz/evil" was checked
 * out as a folder and a file that no tree of the mirror names.
 */
function brokenEntry(name: Buffer, folder: boolean, previous: { name: Buffer; folder: boolean } | undefined, names: Set<string>): string | undefined {
  if (name.length === 0) return 'an empty name'
  if (name.includes(0x2f)) return 'a name holding "/"'
  const key = name.toString('latin1')
  if (names.has(key)) return 'a name the tree holds twice'
  names.add(key)
  if (previous !== undefined && gitTreeOrder(previous.name, previous.folder, name, folder) >= 0) return "entries out of git's order"
  return undefined
}

/** git's order of a tree's entries (base_name_compare): by bytes, a folder's name as if it ended in "/". */
function gitTreeOrder(a: Buffer, aFolder: boolean, b: Buffer, bFolder: boolean): number {
  const common = Math.min(a.length, b.length)
  const head = Buffer.compare(a.subarray(0, common), b.subarray(0, common))
  if (head !== 0) return head
  const end = (name: Buffer, isFolder: boolean) => (name.length > common ? (name[common] as number) : isFolder ? 0x2f : 0)
  return end(a, aFolder) - end(b, bFolder)
}

/**
 * What a pull would check out, looked at before the working twin moves: the tree of the fetched
 * commit. A symlink outside filesystem/ (a document or script that would lead elsewhere), a
 * submodule, a name git or a shell could misread, or an oversized file makes the whole tree
 * refused; nothing of it reaches the working twin. Not refused: an entry `from` (the twin's HEAD)
 * holds exactly (path, mode and content), which the mirror does not bring; the twin has it already.
 * Session 42: a snapshot mirrors a machine file whose name holds a control character (any user
 * can make ~/.config/$'a\nb', and ~/.config is mirrored by default); once pushed, every later
 * pull was refused whole for that unchanged entry (TWIN_UNSAFE, "remove it from the mirror").
 * What the mirror adds or changes is still refused (here, and findUnsafeInHistory for the
 * commits before).
 */
export async function findUnsafeEntries(dir: string, commit: string, from: string | null = null, machineNames = false): Promise<UnsafeEntry[]> {
  const out = await runGit(dir, ['ls-tree', '-r', '-l', '-z', '--full-tree', commit])
  const unsafe: Array<{ entry: UnsafeEntry; key: string }> = []
  for (const { mode, type, sha, size = '-', path } of lsTreeEntries(out)) {
    const reason = entryProblem(path, mode, type, size, machineNames)
    if (reason !== undefined) unsafe.push({ entry: { path: JSON.stringify(path).slice(1, -1), mode, reason }, key: `${mode} ${sha}\t${path}` })
  }
  if (unsafe.length === 0 || from === null) return unsafe.map((u) => u.entry)
  const held = new Set<string>()
  for (const { mode, sha, path } of lsTreeEntries(await runGit(dir, ['ls-tree', '-r', '-z', '--full-tree', from]))) held.add(`${mode} ${sha}\t${path}`)
  return unsafe.filter((u) => !held.has(u.key)).map((u) => u.entry)
}

/**
 * `machineNames`: a control character is taken in a name under filesystem/, where a name is a
 * machine file's (the files provider mirrors `~/.config/$'a\nb'` as it is), as judged by
 * recordsNoMachine; outside filesystem/ no provider makes one (a snapshot refuses such a document).
 */
function entryProblem(path: string, mode: string, type: string, size: string, machineNames = false): string | undefined {
  const parts = path.split('/')
  if (CONTROL.test(path) && !(machineNames && parts[0] === 'filesystem' && parts.length > 1)) return 'control character in the name'
  // git's output is read as UTF-8: bytes that are not become U+FFFD, and two such names one
  // machine path no name in the tree has (session 11: /etc/b\xfe and /etc/b\xff were both
  // planned, and written, as /etc/b\uFFFD).
  if (path.includes('\uFFFD')) return 'a name that is not valid UTF-8'
  if (parts.some((p) => p === '' || p === '.' || p === '..' || p.toLowerCase() === '.git')) return 'a name git or TwinSync reserves'
  // Session 13: a 300-byte name failed the pull as an internal error (ENAMETOOLONG), exit 1.
  if (parts.some((p) => Buffer.byteLength(p) > NAME_MAX_BYTES)) return `a name longer than ${NAME_MAX_BYTES} bytes (the file system's limit)`
  if (Buffer.byteLength(path) > TREE_PATH_MAX_BYTES) return `a path longer than ${TREE_PATH_MAX_BYTES} bytes`
  if (mode === '160000' || type === 'commit') return 'a submodule (gitlink)'
  if (path === '.gitmodules') return 'a submodule definition'
  if (mode === '120000') {
    if (parts[0] !== 'filesystem' || parts.length === 1) return 'a symlink outside filesystem/'
    return Number(size) > SYMLINK_TARGET_MAX_BYTES ? `a symlink whose target is longer than ${SYMLINK_TARGET_MAX_BYTES} bytes` : undefined
  }
  if (mode !== '100644' && mode !== '100755') return `an entry of mode ${mode}`
  if (Number(size) > MAX_TWIN_FILE_BYTES) return `larger than ${MAX_TWIN_FILE_BYTES} bytes`
  return undefined
}

/** The enabled providers' answers to Provider.overLimit for one twin: the documents over a provider's cap. */
export type OverLimitAsker = (twin: TwinReader) => Promise<Diagnostic[]>

/**
 * TWIN_UNSAFE when a document of the commit a pull takes lists more than its provider takes
 * (Provider.overLimit: the files manifest's MAX_MANIFEST_ENTRIES, apt's MAX_APT_PACKAGES,
 * systemd's MAX_SYSTEMD_UNITS, each with its figures where it is defined): the rule is each
 * provider's, asked of the commit's tree before anything moves. Before session 37 such a twin was
 * pulled and every plan and status then took minutes and gigabytes; before session 38 only the
 * files manifest was asked here (core called the files plugin by name), and a pulled apt.json or
 * units.json over its cap was taken in, then refused by every plan.
 */
export async function refuseOverLimit(dir: string, commit: string, ask: OverLimitAsker, steps: MirrorSteps): Promise<void> {
  const reader = new GitTreeReader(dir, commit)
  let found: Diagnostic[]
  try {
    found = (await ask(reader)).filter((d) => d.severity === 'error')
  } finally {
    reader.close()
  }
  const first = found[0]
  if (first === undefined) return
  const more = found.length > 1 ? ` (and ${found.length - 1} more: ${found.slice(1, 4).map((d) => d.path ?? d.provider ?? d.code).join(', ')})` : ''
  throw new TwinSyncError('TWIN_UNSAFE', `Not pulled: the mirror's twin at ${commit.slice(0, 12)}: ${first.summary}${more}`, {
    nextStep: `Nothing here was changed. Take those entries out on the mirror (a commit there), or put this twin's history back on the mirror (\`${steps.forcePush}\`), then \`${steps.pull}\` again.`,
    details: { commit, documents: found.map((d) => ({ provider: d.provider, path: d.path, code: d.code })) },
  })
}

/**
 * The entries the commits between `from` (the twin's HEAD; none: all) and `commit` add or change
 * that TwinSync refuses by name, mode or size: history, show and revert read those commits too,
 * not only the last tree. Session 45: sizes too (one `git cat-file --batch-check` of the blobs
 * those commits bring, their headers only). Before, only the last tree's were asked: a mirror
 * commit holding a 700 MB system/packages/apt.json (700 KB deflated) and one taking it out again
 * pulled, and `show` of the first took 2.9 GB and then blamed the apt provider ("Cannot create a
 * string longer than 0x1fffffe8 characters … a fault in the apt provider, not in TwinSync").
 */
export async function findUnsafeInHistory(dir: string, commit: string, from: string | null, machineNames = false): Promise<UnsafeEntry[]> {
  const out = await runGit(dir, ['log', '-z', '--raw', '--no-renames', '--no-abbrev', '--diff-merges=first-parent', '--format=', commit, ...(from === null ? [] : ['--not', from])])
  const tokens = out.split('\0')
  const unsafe = new Map<string, UnsafeEntry>()
  /** The blobs the commits bring, by id: a path of each (sizes are asked once, below). */
  const blobs = new Map<string, { path: string; mode: string }>()
  // ":old-mode new-mode old-sha new-sha status", then the path.
  for (let i = 0; i + 1 < tokens.length; i++) {
    const meta = (tokens[i] ?? '').replace(/^\n+/, '')
    if (!meta.startsWith(':')) continue
    const [, mode = '', , sha = '', status = ''] = meta.slice(1).split(' ')
    const path = tokens[++i] ?? ''
    if (status === 'D') continue
    const reason = entryProblem(path, mode, mode === '160000' ? 'commit' : 'blob', '-', machineNames)
    if (reason !== undefined) unsafe.set(path, { path: JSON.stringify(path).slice(1, -1), mode, reason })
    // Every blob the tree can hold is sized: a file, an executable, and a symlink (its target), which `show` and `history` read too.
    else if (!blobs.has(sha)) blobs.set(sha, { path, mode })
  }
  if (blobs.size > 0) {
    const sizes = await runGitBytes(dir, ['cat-file', '--batch-check=%(objectname) %(objectsize)'], { input: `${[...blobs.keys()].join('\n')}\n` })
    for (const line of sizes.toString('utf8').split('\n')) {
      const [sha = '', size = ''] = line.split(' ')
      const blob = blobs.get(sha)
      const reason = blob === undefined ? undefined : entryProblem(blob.path, blob.mode, 'blob', size, machineNames)
      if (blob !== undefined && reason !== undefined && !unsafe.has(blob.path)) unsafe.set(blob.path, { path: JSON.stringify(blob.path).slice(1, -1), mode: blob.mode, reason })
    }
  }
  return [...unsafe.values()]
}

/**
 * Whether the twin's `from` (its HEAD; null: none) records nothing of a machine: no snapshot of
 * its own (a fresh twin's init commit holds twin.json and two notes). Session 43: a fresh twin
 * pulling its machine's mirror (a twin lost, a machine reinstalled) was refused whole for the
 * mirror's snapshot's own entries named with a control character (TWIN_UNSAFE, "remove those
 * entries from the mirror": the machine's record of those files lost), as HEAD held none of them
 * (the session-42 rule takes an entry HEAD holds exactly). With no record of its own, the twin
 * cannot tell the machine's names from the mirror's additions, and every entry is the mirror's:
 * a control character is then taken in a name under filesystem/ (a name any machine file can
 * have, spelled out wherever TwinSync shows it, and written to the machine only through a plan a
 * person approves, as a name the manifest lists already is). Everything else is refused as
 * before: such a name outside filesystem/, `.git`, `..`, a symlink outside filesystem/, a
 * submodule, a name not UTF-8, an oversized file. A twin with a snapshot of its own keeps the
 * session-42 rule: the mirror's additions and changes of such names are refused.
 */
export async function recordsNoMachine(dir: string, from: string | null): Promise<boolean> {
  if (from === null) return true
  const listed = await runGit(dir, ['ls-tree', '-z', '--name-only', from, '--', 'filesystem', 'system'])
  return listed === ''
}

export async function refuseUnsafeTree(dir: string, commit: string, from: string | null, steps: MirrorSteps): Promise<void> {
  await refuseTreeBombs(dir, commit, from, steps)
  const machineNames = await recordsNoMachine(dir, from)
  const unsafe = await findUnsafeEntries(dir, commit, from, machineNames)
  const shown = (list: UnsafeEntry[]) => `${list.slice(0, 5).map((u) => `${u.path} (${u.reason})`).join(', ')}${list.length > 5 ? ', …' : ''}`
  const entries = (n: number) => `${n} entr${n === 1 ? 'y' : 'ies'}`
  if (unsafe.length > 0) {
    throw new TwinSyncError('TWIN_UNSAFE', `Not pulled: the mirror's twin at ${commit.slice(0, 12)} has ${entries(unsafe.length)} TwinSync refuses: ${shown(unsafe)}`, {
      nextStep: `Nothing here was changed. Remove those entries from the mirror (a commit there that deletes them), then \`${steps.pull}\` again.`,
      details: { commit, entries: unsafe },
    })
  }
  const earlier = await findUnsafeInHistory(dir, commit, from, machineNames)
  if (earlier.length > 0) {
    throw new TwinSyncError('TWIN_UNSAFE', `Not pulled: commits on the mirror up to ${commit.slice(0, 12)} hold ${entries(earlier.length)} TwinSync refuses (history and show would read them): ${shown(earlier)}`, {
      nextStep: `Nothing here was changed. Put this twin's history back on the mirror over those commits (\`git -C ${quoteArg(dir)} push --force ${REMOTE_NAME} HEAD:${MIRROR_BRANCH}\`), or rewrite the mirror's history without them, then \`${steps.pull}\` again.`,
      details: { commit, entries: earlier },
    })
  }
}

/**
 * The record of the run-once commands that ran (COMMANDS_LEDGER) is this machine's: apply adds a
 * command to it after the command ran here. A mirror's twin whose record has a command this
 * twin's does not says it ran here when it did not: a command a person approved in a saved plan
 * was then reported "ran before" and not run, and a fresh plan left it out, unseen (before
 * session 17). Refused (TWIN_UNSAFE), as is a record that cannot be read, unless this twin signed
 * the entry (run-record-seal.ts: a twin restored from a backup older than the mirror takes its own
 * record back). A record that drops a command that ran here (one the twins' common history and
 * this twin both hold) is refused too (session 18): before, the pull went through and the next
 * plan had the command to run again, said as a new one, nothing telling it had run. Asked before
 * the histories are compared: a diverged mirror's record is judged the same way, so the next step
 * of REMOTE_DIVERGED (take the mirror's history) never takes in a record a pull would refuse.
 */
export async function refuseForgedRunRecord(dir: string, from: string | null, to: string, key: Buffer | undefined, steps: MirrorSteps): Promise<void> {
  const recordAt = async (commit: string | null) => {
    const shown = commit === null ? { ok: false, output: '' } : await tryGit(dir, ['cat-file', 'blob', `${commit}:${COMMANDS_LEDGER}`])
    return readCommandsLedger({ readText: async () => (shown.ok ? shown.output : undefined) })
  }
  const here = await recordAt(from).catch(() => ({}) as Record<string, unknown>)
  let there: Readonly<Record<string, unknown>>
  try {
    there = await recordAt(to)
  } catch {
    there = { [`${COMMANDS_LEDGER} cannot be read (not a JSON object, or nested too deep)`]: true }
  }
  const has = (record: Readonly<Record<string, unknown>>, k: string) => Object.prototype.hasOwnProperty.call(record, k)
  const claimed = Object.keys(there).filter((k) => !has(here, k) && !signedHere(there[k], k, key))
  const nothingChanged = 'Nothing here was changed.'
  const putBack = `Put this twin's history back on the mirror (\`${steps.forcePush}\`), or take that change to ${COMMANDS_LEDGER} back on the mirror, then \`${steps.pull}\` again.`
  if (claimed.length > 0) {
    throw new TwinSyncError('TWIN_UNSAFE', `Not pulled: the mirror's twin at ${to.slice(0, 12)} changes ${COMMANDS_LEDGER}, this machine's record of the run-once commands that ran here, to say ${claimed.length} command(s) ran that this twin has no record of and did not sign`, {
      nextStep:
        `${nothingChanged} ${putBack} ` +
        `If this twin was restored from a backup older than the mirror and those commands did run on this machine (recorded by a TwinSync before session 18, which signed nothing), ` +
        `take the mirror's history as it is with \`git -C ${quoteArg(dir)} pull --ff-only ${REMOTE_NAME} ${MIRROR_BRANCH}\` (the pull's other checks passed) instead.`,
      details: { commit: to, path: COMMANDS_LEDGER, claimed: claimed.slice(0, 20) },
    })
  }
  const base = from === null ? null : (await tryGit(dir, ['merge-base', from, to])).output.trim() || null
  const common = base === from ? here : await recordAt(base).catch(() => ({}) as Record<string, unknown>)
  const dropped = Object.keys(here).filter((k) => has(common, k) && !has(there, k))
  if (dropped.length === 0) return
  const named = dropped.slice(0, 5).map((k) => {
    const summary = (here[k] as { summary?: unknown } | null)?.summary
    return typeof summary === 'string' ? JSON.stringify(summary) : k
  })
  throw new TwinSyncError('TWIN_UNSAFE', `Not pulled: the mirror's twin at ${to.slice(0, 12)} takes ${dropped.length} command(s) that ran on this machine out of ${COMMANDS_LEDGER}, this machine's record of the run-once commands that ran here: the next plan would run them again as new (${named.join(', ')}${dropped.length > 5 ? ', …' : ''})`, {
    nextStep: `${nothingChanged} ${putBack} To run a command again, change its action in plans/ (an edited action is a new one).`,
    details: { commit: to, path: COMMANDS_LEDGER, dropped: dropped.slice(0, 20) },
  })
}

/** Room kept free beyond the files a pull writes: git's new index, its lock, the intent's records. */
const PULL_SPARE_BYTES = 1 << 20

/**
 * The paths a fast-forward from `from` to `to` writes into the working twin (added or changed,
 * with their sizes) and removes.
 */
export async function incomingPaths(dir: string, from: string | null, to: string): Promise<{ written: Map<string, number>; removed: string[] }> {
  const written = new Map<string, number>()
  const removed: string[] = []
  const out = await runGit(dir, ['diff-tree', '-r', '-z', '--no-renames', '--name-status', from ?? EMPTY_TREE, to])
  const parts = out.split('\0').filter((p) => p.length > 0)
  const touched = new Set<string>()
  for (let i = 0; i + 1 < parts.length; i += 2) {
    const path = parts[i + 1] as string
    if ((parts[i] as string).startsWith('D')) removed.push(path)
    else touched.add(path)
  }
  if (touched.size === 0) return { written, removed }
  for (const { size, path } of lsTreeEntries(await runGit(dir, ['ls-tree', '-r', '-l', '-z', '--full-tree', to]))) {
    if (!touched.has(path)) continue
    const bytes = Number(size)
    written.set(path, Number.isFinite(bytes) ? bytes : 0)
  }
  return { written, removed }
}

/**
 * DISK_FULL before the working twin moves when the files a pull writes do not fit (session 11:
 * before, git's checkout ran out of room half way and left a truncated mirror file in the working
 * twin, where it looked like a person's edit, with GIT_FAILED).
 */
export function refuseNoRoom(dir: string, written: ReadonlyMap<string, number>, steps: MirrorSteps): void {
  let needed = PULL_SPARE_BYTES
  for (const size of written.values()) needed += size
  const fs = statfsSync(dir)
  const free = Number(fs.bavail) * Number(fs.bsize)
  if (free >= needed) return
  const mib = (n: number) => `${(n / (1 << 20)).toFixed(1)} MiB`
  throw new TwinSyncError('DISK_FULL', `Not pulled: the mirror's twin needs ${mib(needed)} in ${dir}, and ${mib(free)} are free; nothing here was changed`, {
    nextStep: `Free some space (\`df -h ${quoteArg(dir)}\`), then \`${steps.pull}\` again.`,
    details: { repo: dir, needed, free },
  })
}

/**
 * After a fast-forward that failed half way (git's checkout is not all or nothing): every path it
 * was to write or remove back as HEAD has it, so nothing of the mirror's commit is left in the
 * working twin to pass for a person's edit. Runs before the held intent is put back. A put-back the
 * twin refuses is TWIN_MOVE_FAILED (putBack), the move left recorded for the next run to settle.
 */
export async function undoIncoming(dir: string, incoming: { written: ReadonlyMap<string, number>; removed: readonly string[] }, failure: unknown): Promise<void> {
  const said = (failure as Error)?.message ?? String(failure)
  await putBack(dir, 'HEAD', [...incoming.written.keys(), ...incoming.removed], `The pull's checkout failed (${said})`)
}

/** An apply's journal (journal.ts `journalPath`): this machine's report of what one apply did. */
export const APPLY_JOURNAL = /^system\/journal\/apply-[^/]+\.json$/

/** The apply journals of a commit's tree, by path (none: the empty map). */
async function journalsAt(dir: string, commit: string | null): Promise<Map<string, { mode: string; blob: string }>> {
  const found = new Map<string, { mode: string; blob: string }>()
  if (commit === null) return found
  const out = await runGit(dir, ['ls-tree', '-z', '--full-tree', commit, 'system/journal/'])
  for (const line of out.split('\0')) {
    const tab = line.indexOf('\t')
    const path = line.slice(tab + 1)
    const [mode = '', type = '', blob = ''] = line.slice(0, tab).split(' ')
    if (tab > 0 && type === 'blob' && APPLY_JOURNAL.test(path)) found.set(path, { mode, blob })
  }
  return found
}

/**
 * The apply journals (`system/journal/apply-*.json`) are this machine's report of what its
 * applies did, as the run-once record is its record of what ran: a mirror's twin that adds or
 * rewrites one this twin did not sign (journal.ts `journalSignedHere`), or takes out one the
 * twins' common history and this twin hold, is refused (TWIN_UNSAFE), nothing changed. Before
 * session 19 a pull took a forged journal ("2 failed", an apply that never ran) as this machine's
 * report, and `history` and `show` listed it as one more twin file. TwinSync decides nothing from a
 * journal (resume reads `.git/twinsync/apply-in-progress.json`, "ran before" the signed record),
 * so what is guarded is what a person reads as the machine's word. A journal this twin already
 * holds, unchanged, is not asked again (one written before session 19 has no signature).
 */
export async function refuseForgedJournals(dir: string, from: string | null, to: string, key: Buffer | undefined, steps: MirrorSteps): Promise<void> {
  const [here, there] = await Promise.all([journalsAt(dir, from), journalsAt(dir, to)])
  const changed = [...there].filter(([path, e]) => here.get(path)?.blob !== e.blob)
  const unsigned: string[] = []
  if (changed.length > 0) {
    const texts = await readBlobs(dir, changed.map(([, e]) => e.blob))
    for (const [path, e] of changed) {
      const bytes = texts.get(e.blob)
      if (bytes === undefined || !journalSignedHere(Buffer.from(bytes).toString('utf8'), path, key)) unsigned.push(path)
    }
  }
  const nothingChanged = 'Nothing here was changed.'
  const putBack = `Put this twin's history back on the mirror (\`${steps.forcePush}\`), or take those journals back on the mirror as this twin has them, then \`${steps.pull}\` again.`
  const named = (paths: string[]) => `${paths.slice(0, 5).join(', ')}${paths.length > 5 ? ', …' : ''}`
  if (unsigned.length > 0) {
    throw new TwinSyncError('TWIN_UNSAFE', `Not pulled: the mirror's twin at ${to.slice(0, 12)} adds or rewrites ${unsigned.length} apply journal(s), this machine's report of what its applies did, that this twin did not sign: ${named(unsigned)}`, {
      nextStep:
        `${nothingChanged} ${putBack} ` +
        `If this twin was restored from a backup older than the mirror and those applies did run on this machine (journals written by a TwinSync before session 19, which signed none), ` +
        `take the mirror's history as it is with \`git -C ${quoteArg(dir)} pull --ff-only ${REMOTE_NAME} ${MIRROR_BRANCH}\` (the pull's other checks passed) instead.`,
      details: { commit: to, journals: unsigned.slice(0, 20) },
    })
  }
  const base = from === null ? null : (await tryGit(dir, ['merge-base', from, to])).output.trim() || null
  const common = base === from ? here : await journalsAt(dir, base)
  const dropped = [...here.keys()].filter((path) => common.has(path) && !there.has(path))
  if (dropped.length === 0) return
  throw new TwinSyncError('TWIN_UNSAFE', `Not pulled: the mirror's twin at ${to.slice(0, 12)} takes out ${dropped.length} apply journal(s), this machine's report of what its applies did: ${named(dropped)}`, {
    nextStep: `${nothingChanged} ${putBack}`,
    details: { commit: to, dropped: dropped.slice(0, 20) },
  })
}

/** What ran here that a history taken from the mirror lacks: carried onto it (takeMirrorHistory). */
export interface OwnRecord {
  /** The mirror's commit, or a commit on top of it with this machine's record put back. */
  commit: string
  /** Run-once commands' entries of this twin's record the mirror's record lacks (their keys). */
  commands: string[]
  /** Apply journals this twin holds that the mirror's twin lacks or holds otherwise. */
  journals: string[]
}

/**
 * `pull --take-mirror`: what ran on this machine is this machine's to say, whichever history the
 * twin takes. The record of run-once commands of `local` (this twin's last commit) is laid over
 * the mirror's (`remote`): every entry this twin holds stays, as this twin holds it; the mirror's
 * other entries stay too (refuseForgedRunRecord judged them before). Every apply journal of
 * `local` stays as this twin holds it. When anything had to be put back, a commit on top of
 * `remote` says so (parent: `remote`); else `remote` itself.
 */
export async function carryOwnRecord(dir: string, local: string, remote: string): Promise<OwnRecord> {
  // A record neither commit holds (or not as a file) is empty; one git could not read, or that is
  // no JSON object, is no empty record: the take fails there, before anything moved. Session 36's
  // take-mirror sweep: an I/O error reading this twin's record made it {}, and HEAD became the
  // mirror's snapshot without what ran here, so the next plan would run those commands again.
  const recordAt = async (commit: string) => {
    const listed = await runGit(dir, ['ls-tree', '-z', '--full-tree', commit, '--', COMMANDS_LEDGER])
    const [mode = '', type = ''] = listed.slice(0, Math.max(0, listed.indexOf('\t'))).split(' ')
    if (type !== 'blob' || mode === '120000') return {} as Readonly<Record<string, unknown>>
    const text = await runGit(dir, ['cat-file', 'blob', `${commit}:${COMMANDS_LEDGER}`])
    return readCommandsLedger({ readText: async () => text })
  }
  const [here, there] = await Promise.all([recordAt(local), recordAt(remote)])
  const commands = Object.keys(here).filter((k) => !Object.prototype.hasOwnProperty.call(there, k) || stableStringify(here[k]) !== stableStringify(there[k]))
  const [ours, theirs] = await Promise.all([journalsAt(dir, local), journalsAt(dir, remote)])
  const journals = [...ours].filter(([path, e]) => theirs.get(path)?.blob !== e.blob).map(([path]) => path)
  if (commands.length === 0 && journals.length === 0) return { commit: remote, commands, journals }
  const lines: string[] = journals.map((path) => {
    const e = ours.get(path) as { mode: string; blob: string }
    return `${e.mode} ${e.blob}\t${path}`
  })
  if (commands.length > 0) {
    const text = stableStringify({ ...there, ...here })
    const blob = (await runGitBytes(dir, ['hash-object', '-w', '--stdin'], { input: text })).toString('utf8').trim()
    lines.push(`100644 ${blob}\t${COMMANDS_LEDGER}`)
  }
  const folder = await mkdtemp(join(tmpdir(), 'twinsync-take-'))
  try {
    const env = { GIT_INDEX_FILE: join(folder, 'index') }
    await runGitBytes(dir, ['read-tree', remote], { env })
    await runGitBytes(dir, ['update-index', '--index-info'], { env, input: `${lines.join('\n')}\n` })
    const tree = (await runGitBytes(dir, ['write-tree'], { env })).toString('utf8').trim()
    const said = [
      ...(commands.length === 0 ? [] : [`${commands.length} run-once command(s) in ${COMMANDS_LEDGER}`]),
      ...(journals.length === 0 ? [] : [`${journals.length} apply journal(s)`]),
    ]
    const message = `TwinSync kept this machine's record over the mirror's history: ${said.join(', ')}\n\nWhat ran on this machine is this machine's to say: taken from ${local.slice(0, 12)} onto the mirror's ${remote.slice(0, 12)}.\n`
    return { commit: await commitTree(dir, tree, [remote], message), commands, journals }
  } finally {
    await rm(folder, { recursive: true, force: true })
  }
}
