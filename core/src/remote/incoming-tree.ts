import { statfsSync } from 'node:fs'
import { TwinSyncError } from '@twinsync/sdk'
import { EMPTY_TREE, runGit } from '../twin/git.js'
import { MAX_TWIN_FILE_BYTES, removeTwinFile } from '../twin/twin-files.js'
import { quoteArg } from '../plan/command-text.js'
import { MIRROR_BRANCH, REMOTE_NAME } from './remote-settings.js'

export interface UnsafeEntry {
  path: string
  mode: string
  reason: string
}

const CONTROL = /[\0-\x1f\x7f]/

/** NAME_MAX of Linux file systems: a longer name cannot be checked out, nor made on the machine. */
const NAME_MAX_BYTES = 255
/**
 * The longest path in the tree taken: PATH_MAX (4096) less room for the twin's own folder, or
 * the machine's root, in front of it (a longer one fails lstat with ENAMETOOLONG).
 */
const TREE_PATH_MAX_BYTES = 3072

/**
 * What a pull would check out, looked at before the working twin moves: the tree of the fetched
 * commit. A symlink outside filesystem/ (a document or script that would lead elsewhere), a
 * submodule, a name git or a shell could misread, or an oversized file makes the whole tree
 * refused; nothing of it reaches the working twin.
 */
export async function findUnsafeEntries(dir: string, commit: string): Promise<UnsafeEntry[]> {
  const out = await runGit(dir, ['ls-tree', '-r', '-l', '-z', '--full-tree', commit])
  const unsafe: UnsafeEntry[] = []
  for (const line of out.split('\0')) {
    const tab = line.indexOf('\t')
    if (tab < 0) continue
    const [mode = '', type = '', , size = '-'] = line.slice(0, tab).split(/ +/)
    const path = line.slice(tab + 1)
    const reason = entryProblem(path, mode, type, size)
    if (reason !== undefined) unsafe.push({ path: JSON.stringify(path).slice(1, -1), mode, reason })
  }
  return unsafe
}

function entryProblem(path: string, mode: string, type: string, size: string): string | undefined {
  const parts = path.split('/')
  if (CONTROL.test(path)) return 'control character in the name'
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
  if (mode === '120000') return parts[0] === 'filesystem' && parts.length > 1 ? undefined : 'a symlink outside filesystem/'
  if (mode !== '100644' && mode !== '100755') return `an entry of mode ${mode}`
  if (Number(size) > MAX_TWIN_FILE_BYTES) return `larger than ${MAX_TWIN_FILE_BYTES} bytes`
  return undefined
}

/**
 * The entries the commits between `from` (the twin's HEAD; none: all) and `commit` add or change
 * that TwinSync refuses by name or mode: history, show and revert read those commits too, not
 * only the last tree. Sizes are the last tree's check.
 */
export async function findUnsafeInHistory(dir: string, commit: string, from: string | null): Promise<UnsafeEntry[]> {
  const out = await runGit(dir, ['log', '-z', '--raw', '--no-renames', '--no-abbrev', '--diff-merges=first-parent', '--format=', commit, ...(from === null ? [] : ['--not', from])])
  const tokens = out.split('\0')
  const unsafe = new Map<string, UnsafeEntry>()
  // ":old-mode new-mode old-sha new-sha status", then the path.
  for (let i = 0; i + 1 < tokens.length; i++) {
    const meta = (tokens[i] ?? '').replace(/^\n+/, '')
    if (!meta.startsWith(':')) continue
    const [, mode = '', , , status = ''] = meta.slice(1).split(' ')
    const path = tokens[++i] ?? ''
    if (status === 'D') continue
    const reason = entryProblem(path, mode, mode === '160000' ? 'commit' : 'blob', '-')
    if (reason !== undefined) unsafe.set(path, { path: JSON.stringify(path).slice(1, -1), mode, reason })
  }
  return [...unsafe.values()]
}

export async function refuseUnsafeTree(dir: string, commit: string, from: string | null = null): Promise<void> {
  const unsafe = await findUnsafeEntries(dir, commit)
  const shown = (list: UnsafeEntry[]) => `${list.slice(0, 5).map((u) => `${u.path} (${u.reason})`).join(', ')}${list.length > 5 ? ', …' : ''}`
  const entries = (n: number) => `${n} entr${n === 1 ? 'y' : 'ies'}`
  if (unsafe.length > 0) {
    throw new TwinSyncError('TWIN_UNSAFE', `Not pulled: the mirror's twin at ${commit.slice(0, 12)} has ${entries(unsafe.length)} TwinSync refuses: ${shown(unsafe)}`, {
      nextStep: 'Nothing here was changed. Remove those entries from the mirror (a commit there that deletes them), then `twinsync pull` again.',
      details: { commit, entries: unsafe },
    })
  }
  const earlier = await findUnsafeInHistory(dir, commit, from)
  if (earlier.length > 0) {
    throw new TwinSyncError('TWIN_UNSAFE', `Not pulled: commits on the mirror up to ${commit.slice(0, 12)} hold ${entries(earlier.length)} TwinSync refuses (history and show would read them): ${shown(earlier)}`, {
      nextStep: `Nothing here was changed. Put this twin's history back on the mirror over those commits (\`git -C ${quoteArg(dir)} push --force ${REMOTE_NAME} HEAD:${MIRROR_BRANCH}\`), or rewrite the mirror's history without them, then \`twinsync pull\` again.`,
      details: { commit, entries: earlier },
    })
  }
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
  for (const line of (await runGit(dir, ['ls-tree', '-r', '-l', '-z', '--full-tree', to])).split('\0')) {
    const tab = line.indexOf('\t')
    if (tab < 0 || !touched.has(line.slice(tab + 1))) continue
    const size = Number(line.slice(0, tab).split(/ +/)[3])
    written.set(line.slice(tab + 1), Number.isFinite(size) ? size : 0)
  }
  return { written, removed }
}

/**
 * DISK_FULL before the working twin moves when the files a pull writes do not fit (session 11:
 * before, git's checkout ran out of room half way and left a truncated mirror file in the working
 * twin, where it looked like a person's edit, with GIT_FAILED).
 */
export function refuseNoRoom(dir: string, written: ReadonlyMap<string, number>): void {
  let needed = PULL_SPARE_BYTES
  for (const size of written.values()) needed += size
  const fs = statfsSync(dir)
  const free = Number(fs.bavail) * Number(fs.bsize)
  if (free >= needed) return
  const mib = (n: number) => `${(n / (1 << 20)).toFixed(1)} MiB`
  throw new TwinSyncError('DISK_FULL', `Not pulled: the mirror's twin needs ${mib(needed)} in ${dir}, and ${mib(free)} are free; nothing here was changed`, {
    nextStep: `Free some space (\`df -h ${quoteArg(dir)}\`), then \`twinsync pull\` again.`,
    details: { repo: dir, needed, free },
  })
}

/**
 * After a fast-forward that failed half way (git's checkout is not all or nothing): every path it
 * was to write or remove back as HEAD has it, so nothing of the mirror's commit is left in the
 * working twin to pass for a person's edit. Runs before the held intent is put back.
 */
export async function undoIncoming(dir: string, incoming: { written: ReadonlyMap<string, number>; removed: readonly string[] }): Promise<void> {
  const paths = [...incoming.written.keys(), ...incoming.removed]
  if (paths.length === 0) return
  const inHead = new Set((await runGit(dir, ['ls-tree', '-r', '-z', '--name-only', '--full-tree', 'HEAD'])).split('\0').filter(Boolean))
  const gone = paths.filter((p) => !inHead.has(p))
  for (const path of gone) await removeTwinFile(dir, path)
  const back = paths.filter((p) => inHead.has(p))
  for (let i = 0; i < back.length; i += 500) await runGit(dir, ['checkout', 'HEAD', '--', ...back.slice(i, i + 500)])
}
