import { TwinSyncError } from '@twinsync/sdk'
import { runGit } from '../twin/git.js'
import { MAX_TWIN_FILE_BYTES } from '../twin/twin-files.js'

export interface UnsafeEntry {
  path: string
  mode: string
  reason: string
}

const CONTROL = /[\0-\x1f\x7f]/

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
  if (parts.some((p) => p === '' || p === '.' || p === '..' || p.toLowerCase() === '.git')) return 'a name git or TwinSync reserves'
  if (mode === '160000' || type === 'commit') return 'a submodule (gitlink)'
  if (path === '.gitmodules') return 'a submodule definition'
  if (mode === '120000') return parts[0] === 'filesystem' && parts.length > 1 ? undefined : 'a symlink outside filesystem/'
  if (mode !== '100644' && mode !== '100755') return `an entry of mode ${mode}`
  if (Number(size) > MAX_TWIN_FILE_BYTES) return `larger than ${MAX_TWIN_FILE_BYTES} bytes`
  return undefined
}

export async function refuseUnsafeTree(dir: string, commit: string): Promise<void> {
  const unsafe = await findUnsafeEntries(dir, commit)
  if (unsafe.length === 0) return
  const shown = unsafe.slice(0, 5).map((u) => `${u.path} (${u.reason})`).join(', ')
  throw new TwinSyncError('TWIN_UNSAFE', `Not pulled: the mirror's twin at ${commit.slice(0, 12)} has ${unsafe.length} entr${unsafe.length === 1 ? 'y' : 'ies'} TwinSync refuses: ${shown}${unsafe.length > 5 ? ', …' : ''}`, {
    nextStep: 'Nothing here was changed. Remove those entries from the mirror (a commit there that deletes them), then `twinsync pull` again.',
    details: { commit, entries: unsafe },
  })
}
