import { TwinSyncError, isTwinSyncError } from '@twinsync/sdk/light'
import { historyLine, quoteArg, visibleText } from '../plan/command-text.js'
import { EMPTY_TREE, LOG_PASS_ENV, checkIdField, logFields, parseNameStatus, runGit, tryGit, type GitStatusEntry } from '../twin/git.js'
import { tagsAbsent } from '../twin/quick-status.js'

export type SnapshotKind = 'init' | 'snapshot' | 'edit' | 'checkpoint' | 'apply' | 'revert' | 'adopt' | 'discard' | 'other'

export interface SnapshotRecord {
  commit: string
  parent: string | null
  date: string
  message: string
  kind: SnapshotKind
  labels: string[]
}

export const LABEL_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/

/** The twin's commits read as snapshots, with their labels (git tags). */
export class SnapshotLog {
  constructor(private readonly dir: string) {}

  async list(limit: number, ref = 'HEAD'): Promise<SnapshotRecord[]> {
    const rows = await logFields(this.dir, ['%H', '%P', '%cI', '%s', '%b'], [`--max-count=${limit}`, ref])
    const labels = await this.labels()
    return rows.map(([commit = '', parents = '', date = '', message = '', body = '']) => recordOf(commit, parents, date, message, body, labels))
  }

  /**
   * The newest `limit` snapshots with their message bodies and their parents' trees (what a
   * recorded count is checked against, count-record.ts), in one `git log` pass without diffs.
   */
  async listWithBodies(limit: number, ref = 'HEAD'): Promise<Array<{ record: SnapshotRecord; body: string; tree: string; parentTree: string | undefined }>> {
    // One more than asked: the oldest one's parent tree is then in the same pass.
    const labels = await this.labels()
    const rows = (await logFields(this.dir, ['%H', '%P', '%T', '%cI', '%s', '%b'], [`--max-count=${limit + 1}`, ref])).map(
      ([commit = '', parents = '', tree = '', date = '', message = '', body = '']) => ({ record: recordOf(commit, parents, date, message, body, labels), tree, body }),
    )
    const trees = new Map(rows.map((r) => [r.record.commit, r.tree]))
    // A parent the pass did not reach (a merged side line): its tree from one more git call.
    const missing = [...new Set(rows.slice(0, limit).flatMap((r) => (r.record.parent !== null && !trees.has(r.record.parent) ? [r.record.parent] : [])))]
    if (missing.length > 0) {
      for (const [commit = '', tree = ''] of await logFields(this.dir, ['%H', '%T'], ['--no-walk=unsorted', ...missing])) trees.set(commit, tree)
    }
    return rows.slice(0, limit).map((r) => ({ record: r.record, body: r.body, tree: r.tree, parentTree: r.record.parent === null ? EMPTY_TREE : trees.get(r.record.parent) }))
  }

  /**
   * The newest `limit` snapshots (or exactly the commits named), each with the twin files it
   * changed against its first parent (everything, for the first), in one `git log` pass: what
   * `changedPaths` says of each.
   */
  async listWithChanges(limit: number, ref: string | string[] = 'HEAD'): Promise<Array<{ record: SnapshotRecord; changed: GitStatusEntry[] }>> {
    const refs = typeof ref === 'string' ? [ref] : ref
    if (refs.length === 0) return []
    const out = await runGit(this.dir, [
      'log',
      ...(typeof ref === 'string' ? [`--max-count=${limit}`] : ['--no-walk=unsorted']),
      '-z',
      '--no-renames',
      '--diff-merges=first-parent',
      '--name-status',
      '--format=%H%x00%P%x00%cI%x00%s%x00%b',
      ...refs,
    ], { env: LOG_PASS_ENV })
    const labels = await this.labels()
    // Every field and path ends with a NUL (none can hold one): a commit's five fields, then
    // its changes as status and path pairs, until the next commit's id.
    const tokens = out.split('\0')
    const listed: Array<{ record: SnapshotRecord; changed: GitStatusEntry[] }> = []
    let at = 0
    while (at + 5 <= tokens.length) {
      const [commit = '', parents = '', date = '', message = '', body = ''] = tokens.slice(at, at + 5)
      const id = commit.replace(/^\n/, '')
      if (id === '' && at + 5 >= tokens.length - 1) break
      checkIdField(this.dir, '%H', id)
      checkIdField(this.dir, '%P', parents)
      at += 5
      const changed: GitStatusEntry[] = []
      while (at + 1 < tokens.length && /^\n?[A-Z]$/.test(tokens[at] ?? '')) {
        changed.push(...parseNameStatus(`${(tokens[at] as string).replace(/^\n/, '')}\0${tokens[at + 1] as string}\0`))
        at += 2
      }
      listed.push({ record: recordOf(id, parents, date, message, body, labels), changed })
    }
    return listed
  }

  async get(commit: string): Promise<SnapshotRecord> {
    const [record] = await this.list(1, commit)
    if (record === undefined) {
      throw new TwinSyncError('SNAPSHOT_UNKNOWN', `No snapshot ${commit}`, {
        nextStep: `Run \`${historyLine(this.dir)}\` to see the snapshots.`,
        details: { ref: commit },
      })
    }
    return record
  }

  /** Twin files that differ between two commits (everything, against nothing). */
  async changedPaths(older: string | null, newer: string): Promise<GitStatusEntry[]> {
    return parseNameStatus(await runGit(this.dir, ['diff-tree', '-r', '--no-renames', '--name-status', '-z', older ?? EMPTY_TREE, newer]))
  }

  async labels(): Promise<Map<string, string[]>> {
    // A twin with no tag at all, seen from .git (quick-status.ts): no git process.
    if (tagsAbsent(this.dir)) return new Map()
    const out = await runGit(this.dir, ['for-each-ref', '--format=%(objectname)%09%(*objectname)%09%(refname:strip=2)', 'refs/tags'])
    const map = new Map<string, string[]>()
    for (const line of out.split('\n').filter(Boolean)) {
      const [object = '', peeled = '', name = ''] = line.split('\t')
      const commit = peeled || object
      map.set(commit, [...(map.get(commit) ?? []), name].sort())
    }
    return map
  }

  /** Refuse a label git or a person would trip over, or one already in use. */
  async checkLabelFree(name: string): Promise<void> {
    if (!LABEL_PATTERN.test(name) || name.includes('..') || name.endsWith('.lock')) {
      throw new TwinSyncError('NAME_INVALID', `"${name}" is not a valid label`, {
        nextStep: 'Use letters, digits, ".", "_" and "-" (up to 64), starting with a letter or digit.',
        details: { label: name },
      })
    }
    const taken = [...(await this.labels()).values()].some((names) => names.includes(name))
    if (taken) {
      throw new TwinSyncError('LABEL_EXISTS', `The label ${name} is already used`, {
        nextStep: `Choose another name, or remove it first with \`git -C ${this.dir} tag -d ${name}\`.`,
        details: { label: name },
      })
    }
    await this.refuseShadowingLabel(name)
  }

  /**
   * A label is a git tag, and git reads a tag before a branch and before an abbreviated commit id
   * (session 44, attack): `label HEAD 0cca514e1676` made `show 0cca514e1676` and `revert
   * 0cca514e1676` (the id history prints for another snapshot) name the labelled one, a label
   * `main` made `show main` the labelled snapshot instead of the branch's tip, and a label `HEAD`
   * made git warn "refname 'HEAD' is ambiguous" on every run. Refused (NAME_INVALID): a name of 4
   * or more hex digits alone (any such name is the start of some commit's id, now or later: 4 is
   * the shortest git takes), one of git's own names for a commit (HEAD, FETCH_HEAD, ORIG_HEAD…),
   * and any name git already reads as a commit (a branch, a remote, an id's start).
   */
  private async refuseShadowingLabel(name: string): Promise<void> {
    const refuse = (why: string) => {
      throw new TwinSyncError('NAME_INVALID', `"${name}" cannot be a label: ${why}`, {
        nextStep: 'Choose another name, one git reads as nothing else (such as `before-upgrade`); nothing was labelled.',
        details: { label: name },
      })
    }
    if (/^[0-9a-fA-F]{4,}$/.test(name)) refuse('git would read it as a commit id, and it would hide the snapshot whose id starts so')
    if (/^(?:[A-Z_]*HEAD|AUTO_MERGE)$/.test(name)) refuse(`git uses ${name} as a name of its own`)
    // Before the tag exists, whatever git reads the name as is what the label would hide.
    const read = await tryGit(this.dir, ['rev-parse', '--verify', '--quiet', `${name}^{commit}`])
    if (read.ok && read.output.trim() !== '') refuse(`git already reads it as commit ${read.output.trim().slice(0, 12)} (a branch, a remote or the start of a commit id), which the label would hide`)
  }

  /** Label a snapshot: a git tag, so plain git shows it too. */
  async label(commit: string, name: string): Promise<void> {
    await this.checkLabelFree(name)
    try {
      await runGit(this.dir, ['tag', '--no-sign', name, commit])
    } catch (error) {
      if (!isTwinSyncError(error) || error.code !== 'GIT_FAILED') throw error
      throw new TwinSyncError('LABEL_EXISTS', `The label ${name} is already used: ${(error as Error).message}`, {
        nextStep: `Choose another name, or remove it first with \`git -C ${this.dir} tag -d ${name}\`.`,
        details: { label: name },
      })
    }
  }
}

/**
 * A commit as a snapshot. Its subject is shown as it is read (history, show, the TUI, --json): a
 * pulled commit's escape sequences, carriage returns or direction overrides are spelled out
 * (`\e[2K`), so they cannot erase or rewrite what the terminal shows.
 */
function recordOf(commit: string, parents: string, date: string, message: string, body: string, labels: Map<string, string[]>): SnapshotRecord {
  return { commit, parent: parents.split(' ')[0] || null, date, message: visibleText(message), kind: kindOf(message, body), labels: labels.get(commit) ?? [] }
}

/** A snapshot's stamp line in a message body (one expression for every commit `history` lists). */
const SNAPSHOT_STAMP = /^TwinSync snapshot /m

/**
 * What a commit is, from its subject; a snapshot's subject is its diary line ("files: motd
 * changed"), so its body's "TwinSync snapshot <time>" says it is one.
 */
export function kindOf(message: string, body = ''): SnapshotKind {
  if (message === 'TwinSync init') return 'init'
  if (SNAPSHOT_STAMP.test(body) && !message.startsWith('TwinSync ')) return 'snapshot'
  if (message.startsWith('TwinSync snapshot ')) return 'snapshot'
  if (message.startsWith('TwinSync edit ')) return 'edit'
  if (message.startsWith('TwinSync checkpoint ')) return 'checkpoint'
  if (message.startsWith('TwinSync revert ')) return 'revert'
  if (message.startsWith('TwinSync apply ')) return 'apply'
  if (message.startsWith('TwinSync adopt ')) return 'adopt'
  if (message.startsWith('TwinSync discard ')) return 'discard'
  return 'other'
}
