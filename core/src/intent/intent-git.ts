import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { copyIndex, dropStaleRefLock, lsTreeEntries, parseNameStatus, revParseCommit, runGit, runGitBytes, type GitStatusEntry } from '../twin/git.js'
import { readRefId } from '../twin/quick-status.js'
import { deleteRefInNode, identityNow, reflogFlag, updateRefInNode } from '../twin/ref-update.js'
import { isObjectId, remembered } from '../twin/object-memo.js'

/** The last snapshot: the machine as TwinSync last saw it. */
export const OBSERVED_REF = 'refs/twinsync/observed'
/** The twin as a person wants it, when that differs from the observed state (its parent). */
export const INTENDED_REF = 'refs/twinsync/intended'
/**
 * Each intent `discard` dropped, whole (the intent before the discard: the working twin as the
 * person left it, with its reasons), its reflog one line a discard, until `twinsync gc` deletes
 * it (gc.ts). Before session 41 the discard's message said the intent before was in
 * refs/twinsync/intended's reflog, which a discard of the last pending item deleted with the ref:
 * the record was gone, and git pruned the commit a day later.
 */
export const DISCARDED_REF = 'refs/twinsync/discarded'

export function git(dir: string, args: string[], env?: Record<string, string>): Promise<string> {
  return runGit(dir, args, env === undefined ? {} : { env })
}

/**
 * A ref's commit, undefined when absent. TwinSync's own refs (refs/twinsync/*, written only by
 * TwinSync and only with commit ids) are read from .git without a git process when git's files
 * backend holds them (quick-status.ts): one `git rev-parse` fewer in every snapshot, status and plan.
 */
export async function readRef(dir: string, ref: string): Promise<string | undefined> {
  if (ref.startsWith('refs/twinsync/')) {
    const quick = readRefId(dir, ref)
    if (quick !== undefined) return quick ?? undefined
  }
  return revParseCommit(dir, ref)
}

export async function setRef(dir: string, ref: string, commit: string, reason: string): Promise<void> {
  await dropOwnRefLock(dir, ref)
  // TwinSync's own refs in Node as git's files backend writes them (ref-update.ts); anything unusual, git's way.
  if (updateRefInNode(dir, ref, commit, undefined, reason, identityNow())) return
  await git(dir, ['update-ref', ...reflogFlag(ref), '-m', reason, ref, commit])
}

export async function deleteRef(dir: string, ref: string): Promise<void> {
  await dropOwnRefLock(dir, ref)
  if ((await readRef(dir, ref)) === undefined) return
  // In Node where it is a plain loose ref, so its lock is recorded (ref-lock-record.ts); anything else, git's way.
  if (!deleteRefInNode(dir, ref)) await git(dir, ['update-ref', '-d', ref])
}

/**
 * TwinSync's own refs (refs/twinsync/*) are written by TwinSync under the twin lock, which this
 * process holds here: a `<ref>.lock` beside one is what a killed run left (kill -9 of the process
 * group, found by the chaos run), removed when that run recorded it as its own; any other (a
 * person's `git gc` packing refs) is refused with TWIN_REF_LOCKED (dropStaleRefLock).
 */
async function dropOwnRefLock(dir: string, ref: string): Promise<void> {
  if (ref.startsWith('refs/twinsync/')) await dropStaleRefLock(dir, ref)
}

/** A commit's tree (remembered for a full id: object-memo.ts). */
export async function treeOf(dir: string, commit: string): Promise<string> {
  return remembered(dir, 'tree', [commit], async () => (await git(dir, ['rev-parse', `${commit}^{tree}`])).trim())
}

/** A commit's tree, parents and message as git keeps them. */
export interface CommitParts {
  tree: string
  parents: string[]
  message: string
}

/**
 * A commit's tree, parents and message in one `git cat-file commit` (remembered for a full id:
 * object-memo.ts; `rememberCommit` tells it of a commit just made, so none is asked for it).
 */
export async function commitParts(dir: string, commit: string): Promise<CommitParts> {
  return remembered(dir, 'commit', [commit], async () => {
    const raw = await git(dir, ['cat-file', 'commit', commit])
    const end = raw.indexOf('\n\n')
    const headers = (end < 0 ? raw : raw.slice(0, end)).split('\n')
    const value = (name: string) => headers.filter((h) => h.startsWith(`${name} `)).map((h) => h.slice(name.length + 1))
    return { tree: value('tree')[0] ?? '', parents: value('parent'), message: end < 0 ? '' : raw.slice(end + 2) }
  })
}

/** A commit this process just made: its parts and its tree known without asking git (commitParts, treeOf). */
export function rememberCommit(dir: string, commit: string, parts: CommitParts): void {
  void remembered(dir, 'commit', [commit], async () => parts)
  void remembered(dir, 'tree', [commit], async () => parts.tree)
}

/**
 * The working twin as a tree object, untracked files included, without touching the real
 * index: a copy of it (so unchanged files are not hashed again) takes `git add --all`.
 */
export async function workingTree(dir: string): Promise<string> {
  const tmp = await mkdtemp(join(tmpdir(), 'twinsync-index-'))
  const index = join(tmp, 'index')
  try {
    const real = join(dir, '.git', 'index')
    await copyIndex(real, index)
    const env = { GIT_INDEX_FILE: index }
    await git(dir, ['add', '--all', '--force', '--', '.'], env)
    return (await git(dir, ['write-tree'], env)).trim()
  } finally {
    await rm(tmp, { recursive: true, force: true })
  }
}

/**
 * `tree` with some paths' contents replaced (undefined: removed), as a new tree object, in a
 * private index: neither the working twin nor git's index is touched. Writes the blobs and trees
 * into the twin's objects (a few small loose objects; fails on a full disk). An entry may name a
 * blob the twin holds already (`blob`) instead of its content.
 */
export async function treeWith(dir: string, tree: string, entries: ReadonlyArray<{ path: string; mode: string; content: Uint8Array | undefined; blob?: string }>): Promise<string> {
  const tmp = await mkdtemp(join(tmpdir(), 'twinsync-index-'))
  const env = { GIT_INDEX_FILE: join(tmp, 'index') }
  try {
    await runGit(dir, ['read-tree', tree], { env })
    // Every content as a blob in one `git hash-object` (its contents from files beside the temp index), not one git each.
    const written = entries.filter((e) => e.content !== undefined && e.blob === undefined)
    for (const [n, e] of written.entries()) await writeFile(join(tmp, `blob-${n}`), e.content as Uint8Array)
    const ids = written.length === 0 ? [] : (await runGitBytes(dir, ['hash-object', '-w', '--no-filters', '--stdin-paths'], { input: written.map((_, n) => `${join(tmp, `blob-${n}`)}\n`).join('') })).toString('utf8').trim().split('\n')
    if (ids.length !== written.length) throw new Error(`git hash-object gave ${ids.length} ids for ${written.length} files`)
    const blobs = new Map(written.map((e, n) => [e, ids[n] as string]))
    const lines = entries.map((e) => (e.blob !== undefined ? `${e.mode} ${e.blob}\t${e.path}\0` : e.content === undefined ? `0 ${'0'.repeat(40)}\t${e.path}\0` : `${e.mode} ${blobs.get(e) as string}\t${e.path}\0`))
    if (lines.length > 0) await runGitBytes(dir, ['update-index', '-z', '--index-info'], { input: lines.join(''), env })
    return (await runGit(dir, ['write-tree'], { env })).trim()
  } finally {
    await rm(tmp, { recursive: true, force: true })
  }
}

/** Paths that differ between two trees (or commits). */
export async function changedBetween(dir: string, older: string, newer: string): Promise<GitStatusEntry[]> {
  // A tree against itself (a checkpoint's diary when HEAD is the last snapshot's tree): nothing, without git.
  if (older === newer && isObjectId(older)) return []
  // Remembered for full ids (object-memo.ts); a copy each, so no caller changes another's.
  const entries = await remembered(dir, 'diff-tree', [older, newer], async () => parseNameStatus(await git(dir, ['diff-tree', '-r', '--no-renames', '--name-status', '-z', older, newer])))
  return entries.map((e) => ({ ...e }))
}

/**
 * A commit of `tree` with these parents and message (`git commit-tree`), its dates and names from
 * `env` when given (a rewrite keeps the original's: gc, forget). Every commit TwinSync writes
 * again from a message it did not make short (a pulled commit's, the intent's reasons) is made here.
 */
export async function commitTree(dir: string, tree: string, parents: readonly string[], message: string, env?: Record<string, string>): Promise<string> {
  // A long message (reasons naming many deep paths: a pulled tree of 300 nested folders) from a
  // file: one argument of more than 128 KiB is E2BIG (session 11: the pull failed half done;
  // session 39: gc and forget rewrote such a commit with -m and failed the same way).
  if (Buffer.byteLength(message) < 64 * 1024) return (await git(dir, ['commit-tree', tree, ...parents.flatMap((p) => ['-p', p]), '-m', message], env)).trim()
  const folder = await mkdtemp(join(tmpdir(), 'twinsync-message-'))
  try {
    // As `-m` ends it: with a newline (git takes the file's bytes as they are).
    await writeFile(join(folder, 'message'), message.endsWith('\n') ? message : `${message}\n`)
    return (await git(dir, ['commit-tree', tree, ...parents.flatMap((p) => ['-p', p]), '-F', join(folder, 'message')], env)).trim()
  } finally {
    await rm(folder, { recursive: true, force: true })
  }
}

/**
 * The mode and blob ("100644"/"100755"…) of each file of a tree at one of `paths` or under one
 * of them (a folder: every file in it, as `git ls-tree -r` matches a path); missing paths are
 * left out. Paths as git lists them (no `./`, `..` or doubled slash; a trailing slash: only a folder).
 *
 * A few paths go to `ls-tree` as arguments; more, and the whole tree is listed once and matched
 * here (ENTRIES_BY_ARGUMENT). Every path an argument, a pull of 131,000 new files outside the
 * include set made the next snapshot fail with git's "spawn E2BIG" (session 38), and git matches
 * each entry against every path given: 1,000 paths took 1.85 s in a tree of 131,000 files,
 * 20,000 paths 34 s, the whole tree listed 0.1 s (session 39).
 */
export async function entriesOf(dir: string, tree: string, paths: readonly string[]): Promise<Map<string, { mode: string; blob: string }>> {
  const out = new Map<string, { mode: string; blob: string }>()
  if (paths.length === 0) return out
  if (paths.length <= ENTRIES_BY_ARGUMENT.paths && paths.reduce((n, p) => n + Buffer.byteLength(p) + 1, 0) <= ENTRIES_BY_ARGUMENT.bytes) {
    const text = await git(dir, ['ls-tree', '-r', '-z', tree, '--', ...paths])
    for (const { mode, type, sha, path } of lsTreeEntries(text)) if (type === 'blob') out.set(path, { mode, blob: sha })
    return out
  }
  const asked = new Set(paths)
  const text = await git(dir, ['ls-tree', '-r', '-z', '--full-tree', tree])
  for (const { mode, type, sha, path } of lsTreeEntries(text)) if (type === 'blob' && pathAsked(asked, path)) out.set(path, { mode, blob: sha })
  return out
}

/**
 * Speed (session 39): where entriesOf stops naming paths to `ls-tree`. Its cost grows with the
 * paths named times the entries git walks; at 100 paths it was the whole listing's (0.13 s
 * against 0.1 s in a tree of 131,000 files), and a twin's usual asks (a snapshot's few pending
 * edits) name a handful. 64 KiB of arguments is far below the kernel's limits (128 KiB for one, 2 MiB in all).
 */
const ENTRIES_BY_ARGUMENT = { paths: 64, bytes: 64 * 1024 }

/** Whether `path` (a file's) is one of `asked` or lies under one of them, as `git ls-tree` matches a path. */
function pathAsked(asked: ReadonlySet<string>, path: string): boolean {
  if (asked.has(path)) return true
  for (let slash = path.indexOf('/'); slash >= 0; slash = path.indexOf('/', slash + 1)) {
    if (asked.has(path.slice(0, slash)) || asked.has(path.slice(0, slash + 1))) return true
  }
  return false
}

/** The twin's branches as TwinSync reads them: it reads the branch checked out, and only that. */
export interface TwinBranches {
  /** The branch checked out (HEAD), null when HEAD is detached. */
  current: string | null
  /** Other local branches with commits the checked-out one does not have: a person's commits TwinSync does not read. */
  unread: Array<{ branch: string; commits: number }>
}

/**
 * Which branch the twin is on and which others hold commits it lacks. One `git for-each-ref`
 * when the twin has one branch (the usual case); one `git rev-list --count` per other branch.
 */
export async function twinBranches(dir: string): Promise<TwinBranches> {
  // HEAD names its branch even before the first commit (unborn); a detached HEAD names none.
  // Read synchronously: `status` asks on every run, and an awaited read started libuv's thread pool (pending-checks.ts's `read`, issue 22).
  const current = /^ref: refs\/heads\/(.+)\n?$/.exec(readFileSync(join(dir, '.git', 'HEAD'), 'utf8'))?.[1] ?? null
  if (current !== null && onlyBranch(dir, current)) return { current, unread: [] }
  const others = (await git(dir, ['for-each-ref', '--format=%(refname)', 'refs/heads/'])).split('\n').filter((r) => r !== '' && r !== `refs/heads/${current}`)
  const unread: TwinBranches['unread'] = []
  for (const ref of others) {
    // HEAD unborn (no commit yet): all of the branch is unread.
    const commits = Number((await git(dir, ['rev-list', '--count', `HEAD..${ref}`, '--']).catch(() => git(dir, ['rev-list', '--count', ref, '--']))).trim())
    if (commits > 0) unread.push({ branch: ref.slice('refs/heads/'.length), commits })
  }
  return { current, unread }
}

/**
 * Whether `.git` shows no local branch but `current`, read without git: the loose refs under
 * `refs/heads` and the `refs/heads/` lines of `packed-refs` (the files git itself keeps them in).
 * Speed: `status` asks on every run, and a twin has one branch; a git process is 3–5 ms of it.
 * Anything else (another branch, a reftable store, a file that cannot be read): false, and git
 * is asked.
 */
function onlyBranch(dir: string, current: string): boolean {
  const git = join(dir, '.git')
  try {
    if (existsSync(join(git, 'reftable'))) return false
    const loose = readdirSync(join(git, 'refs', 'heads'), { recursive: true, withFileTypes: true })
      .filter((e) => !e.isDirectory())
      .map((e) => relative(join(git, 'refs', 'heads'), join(e.parentPath ?? e.path, e.name)))
    if (loose.some((name) => name !== current)) return false
    let packed = ''
    try {
      packed = readFileSync(join(git, 'packed-refs'), 'utf8')
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return false
    }
    for (const line of packed.split('\n')) {
      const ref = /^[0-9a-f]{40,64} refs\/heads\/(.+)$/.exec(line)?.[1]
      if (ref !== undefined && ref !== current) return false
    }
    return true
  } catch {
    return false
  }
}
