import { compareStrings, infoDiagnostic, isWithin, NO_LONGER_TRACKED, PathPatterns, SECRET_CHANGED, textDiff, UNHELD_DIFFERS, warningDiagnostic, type UnheldOperation, type Change, type Diagnostic, type DiffResult, type Risk, appendAll } from '@twinsync/sdk'
import { namesById } from './accounts.js'
import { attributesWanted, type AttributesWanted } from './attributes-diff.js'
import type { FilesChangeData } from './change-data.js'
import { fingerprintOf } from './fingerprint.js'
import { formatMode, parseMode, specialBits } from './mode.js'
import type { FileEntry, FilesState } from './state.js'

/** Files whose mistakes lock people out or open the machine: their changes are high risk. */
const SECURITY_CRITICAL = new PathPatterns([
  '/etc/sudoers',
  '/etc/sudoers.d/*',
  '/etc/ssh/sshd_config',
  '/etc/ssh/sshd_config.d/*',
  '/etc/pam.d/*',
  '/etc/passwd',
  '/etc/group',
  '/etc/fstab',
  '/etc/crypttab',
  '/etc/security/**',
])

type Operation = 'create' | 'replace' | 'delete' | 'chmod' | 'chown' | 'attributes' | 'symlink-retarget' | 'mkdir'

/**
 * Pure: the changes that turn the live `actual` into the twin's `desired`. What the twin never
 * saw (secrets, binary and oversized files) is never overwritten or deleted: such paths get a
 * diagnostic instead of a change. Owner and group names in the twin are resolved with the
 * target's own account tables; the recorded id is used when the name is unknown there.
 */
export function diffFiles(
  desired: FilesState,
  actual: FilesState,
  /** Why a path is out of the provider's scope now (e.g. "ignored"), or undefined: such a path is no longer tracked, not deleted. */
  untracked?: (path: string) => string | undefined,
  /**
   * Whether a changed text gets its unified diff (`patches: false`: the caller shows none).
   * Speed (issue 22, session 9): a snapshot's diary line loaded jsdiff (compiled from source,
   * every run) and made a patch nobody read: the scale root's one-file snapshot described its
   * change in 44–49 → 37–43 ms of CPU (the diary line alone, five runs each).
   */
  options: { patches?: boolean } = {},
): DiffResult {
  const live = new Map(actual.entries.map((e) => [e.path, e]))
  const below = new Descendants(actual.entries)
  const descendants = (_state: FilesState, path: string) => below.of(path)
  const want = new Map(desired.entries.map((e) => [e.path, e]))
  const changes: Change[] = []
  const diagnostics: Diagnostic[] = []
  /**
   * A path the plan leaves as it is. `differs`: the operation it would need, for a path known to
   * differ (UNHELD_DIFFERS: status counts it as drift, history says it); without it, a path not
   * known to differ, or one whose difference SECRET_CHANGED already says.
   */
  const leaveAlone = (path: string, summary: string, differs?: UnheldOperation, detail?: string): void => {
    diagnostics.push(infoDiagnostic(differs === undefined ? 'FILES_LEFT_ALONE' : UNHELD_DIFFERS[differs], summary, { path, provider: 'files', ...(detail === undefined ? {} : { detail }) }))
  }
  /**
   * Live folders left whole: nothing below them is deleted, nor said again path by path. A folder
   * the twin lacks (or wants as a file) that holds a file the twin never saw goes as a whole or not
   * at all: session 34's red team found a gained folder with a binary and a text file half
   * deleted (the text file planned away, the folder left with the binary, said per file).
   */
  const keptWhole: string[] = []
  const add = (op: Operation, entry: FileEntry, liveEntry: FileEntry | undefined, data: FilesChangeData, extra: Partial<Change> = {}, attrs?: AttributesWanted): void => {
    changes.push({
      id: `files:${op}:${entry.path}`,
      provider: 'files',
      category: 'files',
      operation: op,
      resource: entry.path,
      summary: summaryOf(op, entry, liveEntry, attrs),
      risk: riskOf(op, entry.path, liveEntry, data, attrs),
      liveFingerprint: fingerprintOf(liveEntry),
      data,
      ...(liveEntry === undefined ? {} : { before: describe(liveEntry) }),
      ...(op === 'delete' ? {} : { after: describeWanted(entry, data) }),
      ...extra,
    })
  }

  const names = new AccountNames(actual.accounts)
  for (const twinEntry of [...desired.entries].sort((x, y) => compareStrings(x.path, y.path))) {
    const a = live.get(twinEntry.path)
    const uid = resolveId(twinEntry.owner, twinEntry.uid, actual.accounts.users)
    const gid = resolveId(twinEntry.group, twinEntry.gid, actual.accounts.groups)
    // What the change says is what apply does: the owner and group by the ids it will set.
    const d = names.asApplied(twinEntry, uid, gid)
    const mode = parseMode(d.mode)
    const replaceType = a !== undefined && a.type !== d.type
    if (d.type === 'file' && d.notText !== undefined) {
      // The twin's document is not UTF-8 text, or a symlink (load.ts): asked for, whatever the
      // machine has (a folder with files the twin never saw too: it never runs), and planned
      // without content, as `not-text`, for the provider's scope to leave out, named (scope.ts's
      // notText): pending until discarded, never applied, its mode or owner with it.
      add(a === undefined ? 'create' : 'replace', d, a, {
        action: 'not-text',
        path: d.path,
        size: d.notText,
        ...(d.symlinkDocument === true ? { symlink: true } : {}),
        mode,
        uid,
        gid,
        ...(replaceType ? { replaceType: true } : {}),
      })
      continue
    }
    if (replaceType) {
      const hidden = [a, ...descendants(actual, a.path)].find(isUnseen)
      if (hidden !== undefined) {
        leaveAlone(d.path, `${d.path} is a ${a.type} on the machine and a ${d.type} in the twin; not replaced, because ${hidden.path} was not copied into the twin`, 'replace')
        if (hidden !== a) keptWhole.push(a.path)
        continue
      }
    }
    if (d.type === 'file' && d.oversized !== undefined) {
      // The twin's document is bigger than maxFileSize and was not read (load.ts). The change it
      // asks for is planned without content, as `too-large`, for the provider's scope to leave
      // out, named (scope.ts): shown pending in plan, status and the TUI, never applied. A live
      // file as big and as large (both unread) cannot be compared: left alone, said so.
      if (a?.type === 'file' && isUnseen(a) && a.size === d.oversized) {
        leaveAlone(d.path, `${d.path} is bigger than maxFileSize on the machine and in the twin; neither is read, so they are not compared`)
        continue
      }
      add(a === undefined ? 'create' : 'replace', d, a, { action: 'too-large', path: d.path, size: d.oversized, mode, uid, gid, ...(replaceType ? { replaceType: true } : {}) })
      continue
    }
    if (d.type === 'file' && d.unmirroredDocument !== undefined) {
      // The twin holds a document for a file its manifest lists as not mirrored (load.ts): asked
      // for, whatever the machine has, and planned without content, as `not-mirrored`, for the
      // provider's scope to leave out, named (scope.ts): pending in plan, status and the TUI until
      // discarded, never applied. What the twin never saw is never overwritten from it; a secret
      // the person committed goes into no change, patch or output.
      const content = d.secret === true ? 'secret' : d.content
      add(a === undefined ? 'create' : 'replace', d, a, {
        action: 'not-mirrored',
        path: d.path,
        size: d.unmirroredDocument,
        ...(content === undefined ? {} : { content }),
        mode,
        uid,
        gid,
        ...(replaceType ? { replaceType: true } : {}),
      })
      continue
    }
    if (a === undefined || replaceType) {
      const op: Operation = replaceType ? 'replace' : d.type === 'directory' ? 'mkdir' : 'create'
      const extra = replaceType ? { replaceType: true } : {}
      const attrs = attributesWanted(d, undefined)
      if (attrs.refused.length > 0) {
        appendAll(diagnostics, attrs.refused)
        continue
      }
      if (d.type === 'directory') add(op, d, a, { action: 'mkdir', path: d.path, mode, uid, gid, ...extra, ...attrs.data }, {}, attrs)
      else if (d.type === 'symlink' && d.target !== undefined) add(op, d, a, { action: 'symlink', path: d.path, target: d.target, uid, gid, ...extra })
      else if (d.type === 'file' && d.text !== undefined)
        add(op, d, a, { action: 'write', path: d.path, text: d.text, sha256: d.sha256 ?? '', mode, uid, gid, ...extra, ...attrs.data }, {}, attrs)
      else leaveAlone(d.path, `${d.path} is in the twin without its content (${d.content ?? 'not copied'}); it cannot be created from the twin`, a === undefined ? 'create' : 'replace')
      continue
    }

    // Extended attributes and capabilities belong to the path's one change (see attributes-diff).
    const attrs = attributesWanted(d, a)
    if (attrs.refused.length > 0) {
      appendAll(diagnostics, attrs.refused)
      continue
    }
    if (d.type === 'file' && a.type === 'file') {
      const secretChanged = d.secret === true && a.secret === true && d.secretHash !== undefined && a.secretHash !== undefined && d.secretHash !== a.secretHash
      const secretSide = (d.secret === true) !== (a.secret === true)
      if (secretChanged) {
        diagnostics.push(infoDiagnostic(SECRET_CHANGED, `${d.path}: the secret changed (its keyed hash differs); the twin holds no content to compare or put back`, { path: d.path, provider: 'files' }))
      } else if (secretSide) {
        // A mirrored file that gained a secret (or a secret file that lost its last one): its
        // content changed, and one side holds none to compare or put back. No change is planned
        // (below), but it moved: status counts it as drift, history as a changed secret.
        diagnostics.push(infoDiagnostic(SECRET_CHANGED, `${d.path}: changed, and ${a.secret === true ? 'the second' : 'the first'} of the two holds a secret; the twin holds no content of it to compare or put back`, { path: d.path, provider: 'files' }))
      }
      // Without the text or a hash on both sides (a file over 64 MiB is not hashed: collect.ts,
      // MAX_HASHED_SIZE), a size that differs is a content that differs, known for sure and free
      // (a secret on one side has SECRET_CHANGED above instead).
      const sizeDiffers = !secretChanged && !secretSide && d.size !== undefined && a.size !== undefined && d.size !== a.size
      const contentDiffers = d.text !== undefined ? a.text !== d.text : d.sha256 !== undefined && a.sha256 !== undefined ? d.sha256 !== a.sha256 : sizeDiffers
      if (contentDiffers && (isUnseen(a) || d.text === undefined)) {
        // A secret on one side: SECRET_CHANGED (above) says this difference already.
        leaveAlone(d.path, `${d.path} differs from the twin, but its content is not in the twin (${isUnseen(a) ? (a.content ?? 'unread') : (d.content ?? 'not copied')}); left as it is`, secretChanged || secretSide ? undefined : 'replace')
      } else if (contentDiffers && d.text !== undefined) {
        const patch = options.patches === false ? undefined : textDiff(d.path, a.text ?? '', d.text)
        add('replace', d, a, { action: 'write', path: d.path, text: d.text, sha256: d.sha256 ?? '', mode, uid, gid, ...attrs.data }, patch === undefined ? {} : { diff: patch }, attrs)
        continue
      }
    }
    if (d.type === 'symlink' && a.type === 'symlink' && d.target !== undefined && d.target !== a.target) {
      add('symlink-retarget', d, a, { action: 'symlink', path: d.path, target: d.target, uid, gid })
      continue
    }
    // Everything about one path is one change: mode and owner together are applied in one step
    // with one staleness check, never as two changes where the first trips the second's check.
    const modeDiffers = mode !== parseMode(a.mode) && d.type !== 'symlink'
    const ownerDiffers = uid !== a.uid || gid !== a.gid
    if ((modeDiffers && ownerDiffers) || attrs.differs) add('attributes', d, a, { action: 'attributes', path: d.path, mode, uid, gid, ...attrs.data }, {}, attrs)
    else if (modeDiffers) add('chmod', d, a, { action: 'chmod', path: d.path, mode })
    else if (ownerDiffers) add('chown', d, a, { action: 'chown', path: d.path, uid, gid })
  }

  // Deletes: the topmost path that goes, with everything below it, as one change.
  const deleted = new Set<string>()
  const kept = new Set(keptWhole)
  for (const a of [...actual.entries].sort((x, y) => compareStrings(x.path, y.path))) {
    if (want.has(a.path) || withinAny(a.path, deleted) || withinAny(a.path, kept)) continue
    const why = untracked?.(a.path)
    if (why !== undefined) {
      // Gone from the twin because it is out of scope now (a live collect never lists it): nothing to delete.
      deleted.add(a.path)
      diagnostics.push(infoDiagnostic(NO_LONGER_TRACKED, `${a.path} is no longer tracked (${why}); it is not deleted from the machine`, { path: a.path, provider: 'files' }))
      continue
    }
    const below = descendants(actual, a.path)
    const hidden = [a, ...below].find(isUnseen)
    const wantedBelow = below.some((e) => want.has(e.path))
    if (hidden !== undefined) {
      if (hidden === a) leaveAlone(a.path, `${a.path} is not in the twin, but the twin never saw its content (${a.content ?? 'unread'}); not deleted`, 'delete')
      else if (!wantedBelow) {
        keptWhole.push(a.path)
        kept.add(a.path)
        const others = below.length - 1
        leaveAlone(
          a.path,
          `${a.path} is not in the twin, but the twin never saw the content of ${hidden.path} in it (${hidden.content ?? 'unread'}); the folder is not deleted, nor anything in it`,
          'delete',
          `a folder holding ${hidden.path}, whose content the twin never saw${others > 0 ? `, and ${others} other entr${others === 1 ? 'y' : 'ies'}` : ''}: kept whole, nothing in it deleted`,
        )
      }
      continue
    }
    if (wantedBelow) continue
    deleted.add(a.path)
    // The plan names everything it deletes: apply removes these and nothing else (apply.ts).
    const named = below.map((e) => ({ path: e.path, liveFingerprint: fingerprintOf(e) })).sort((x, y) => compareStrings(x.path, y.path))
    add('delete', a, a, { action: 'delete', path: a.path, ...(named.length > 0 ? { below: named } : {}) }, below.length > 0 ? { summary: `Delete ${a.path} and the ${below.length} entries below it` } : {})
  }

  const planned = actual.unread === undefined || actual.unread.length === 0 ? changes : leaveUnreadAlone(changes, actual.unread, diagnostics)
  linkParents(planned)
  linkReplacedFolders(planned)
  return { changes: planned, diagnostics }
}

/**
 * A folder the twin replaces by a file or a symlink goes only once the deletes below it ran
 * (apply removes it with rmdir: what the plan does not name keeps it, and says so).
 */
function linkReplacedFolders(changes: Change[]): void {
  for (const c of changes) {
    const data = c.data as FilesChangeData
    if (!('replaceType' in data) || data.replaceType !== true || (data.action !== 'write' && data.action !== 'symlink')) continue
    const below = changes.filter((d) => (d.data as FilesChangeData).action === 'delete' && d.resource !== c.resource && isWithin(d.resource, c.resource)).map((d) => d.id)
    if (below.length > 0) c.requires = [...new Set([...(c.requires ?? []), ...below])]
  }
}

/**
 * A path the live collect could not read (FilesState.unread: EACCES, EIO…) is unknown, not
 * changed: no change at it or below it is planned, nor a delete or type replacement of a folder
 * above it (which would remove what is there unseen). Each change left out is named, as a
 * provider's outOfScope names one (FILES_UNREADABLE_NOT_PLANNED with its `change`: both front
 * ends count it in the plan's head line); the collect's FILES_UNREADABLE_KEPT says why.
 */
function leaveUnreadAlone(changes: readonly Change[], unread: readonly string[], diagnostics: Diagnostic[]): Change[] {
  const planned: Change[] = []
  for (const change of changes) {
    const data = change.data as FilesChangeData
    const removes = data.action === 'delete' || ('replaceType' in data && data.replaceType === true)
    const at = unread.find((u) => isWithin(data.path, u) || (removes && isWithin(u, data.path)))
    if (at === undefined) {
      planned.push(change)
      continue
    }
    diagnostics.push(
      warningDiagnostic('FILES_UNREADABLE_NOT_PLANNED', `${change.summary}: not planned, ${at} could not be read on the machine, so what is there is unknown`, {
        path: at,
        provider: 'files',
        change: change.id,
        detail: `Make ${at} readable (its permissions, the file system: \`ls -ld ${at}\`, \`dmesg\`), then plan again; the twin keeps asking for it meanwhile.`,
      }),
    )
  }
  return planned
}

/** Secrets, binary and oversized files: the twin has no content for them to put back. */
export function isUnseen(entry: FileEntry): boolean {
  return entry.secret === true || (entry.type === 'file' && (entry.content !== 'mirrored' || entry.text === undefined))
}

/**
 * The entries below a path, in the state's order (as a filter of every entry gives them), found
 * through the entries sorted by path once: those below `path` begin with `path/`, one run of the
 * sorted paths, whose ends a binary search finds. Session 39: a filter of every entry for each
 * folder deleted, and a look at every path deleted so far for each entry (below), made the
 * deletes n²: `plan` of 27,000 folders taken out of the twin ran over 2 minutes of CPU (a CPU
 * profile: 12 of 15 s in `descendants`), and session 38 measured 20,000 of them at 43 s.
 */
class Descendants {
  private sorted: Array<{ path: string; at: number }> | undefined

  constructor(private readonly entries: readonly FileEntry[]) {}

  of(path: string): FileEntry[] {
    if (path === '/') return this.entries.filter((e) => e.path !== path)
    this.sorted ??= this.entries.map((e, at) => ({ path: e.path, at })).sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : x.at - y.at))
    const sorted = this.sorted
    const first = (key: string) => {
      let [lo, hi] = [0, sorted.length]
      while (lo < hi) {
        const mid = (lo + hi) >>> 1
        if ((sorted[mid] as { path: string }).path < key) lo = mid + 1
        else hi = mid
      }
      return lo
    }
    // Every path that begins with `path/`: from the first at or after `path/` to the first at or after `path0` ('0' follows '/').
    return sorted
      .slice(first(`${path}/`), first(`${path}0`))
      .map((e) => e.at)
      .sort((a, b) => a - b)
      .map((at) => this.entries[at] as FileEntry)
  }
}

/** Whether `path` is within one of `prefixes` (isWithin of any): itself, a folder above it, or '/'. */
function withinAny(path: string, prefixes: ReadonlySet<string>): boolean {
  if (prefixes.size === 0) return false
  if (prefixes.has(path) || prefixes.has('/')) return true
  for (let at = path.indexOf('/'); at >= 0; at = path.indexOf('/', at + 1)) if (prefixes.has(path.slice(0, at))) return true
  return false
}

export function resolveId(name: string | undefined, id: number, table: Record<string, number>): number {
  return name !== undefined && Object.hasOwn(table, name) ? (table[name] as number) : id
}

/**
 * The owner and group a change shows are the ones apply sets (session 45). A twin entry's name
 * the target does not have falls back to the entry's recorded id (resolveId), and that id is
 * named as the target names it (the number where no account has it), never by the twin's word:
 * before, a pulled manifest's `owner: "r00t", uid: 1000` was planned and applied as "create
 * /etc/app/app.conf … r00t:root" and the file went to uid 1000 (ann), and `"root\u00a0"` read as
 * root. A twin name the target has is kept as written (two names of one id stay as the twin says).
 */
class AccountNames {
  private readonly users: ReadonlyMap<number, string>
  private readonly groups: ReadonlyMap<number, string>

  constructor(private readonly accounts: FilesState['accounts']) {
    this.users = namesById(accounts.users)
    this.groups = namesById(accounts.groups)
  }

  /** The entry with the ids apply sets and the target's names of them (`uid`, `gid`: resolveId's). */
  asApplied(entry: FileEntry, uid: number, gid: number): FileEntry {
    const owner = entry.owner !== undefined && Object.hasOwn(this.accounts.users, entry.owner) ? entry.owner : this.users.get(uid)
    const group = entry.group !== undefined && Object.hasOwn(this.accounts.groups, entry.group) ? entry.group : this.groups.get(gid)
    if (owner === entry.owner && group === entry.group && uid === entry.uid && gid === entry.gid) return entry
    const { owner: _owner, group: _group, ...rest } = entry
    return { ...rest, uid, gid, ...(owner === undefined ? {} : { owner }), ...(group === undefined ? {} : { group }) }
  }
}

/** A new entry waits for the change that makes its parent directory. */
function linkParents(changes: Change[]): void {
  const makesDirectory = new Map<string, string>()
  for (const c of changes) {
    const data = c.data as FilesChangeData
    if (data.action === 'mkdir') makesDirectory.set(data.path, c.id)
  }
  for (const c of changes) {
    const data = c.data as FilesChangeData
    if (data.action !== 'write' && data.action !== 'symlink' && data.action !== 'mkdir') continue
    for (let parent = parentOf(data.path); parent !== undefined; parent = parentOf(parent)) {
      const id = makesDirectory.get(parent)
      if (id !== undefined) {
        c.requires = [id]
        break
      }
    }
  }
}

/**
 * Does the change make a file run as its owner or group for whoever runs it: setuid or setgid on
 * a file that lacked it (a new one too), or such a file given another owner? As high a risk as
 * capabilities (session 16: a twin's new setuid-root file in /usr/local/bin was rated low, and
 * the plan showed no risk at all).
 */
function grantsOwnersPowers(data: FilesChangeData, liveEntry: FileEntry | undefined): boolean {
  if (data.action !== 'write' && data.action !== 'chmod' && data.action !== 'chown' && data.action !== 'attributes') return false
  if (data.action !== 'write' && liveEntry?.type !== 'file') return false
  const had = liveEntry?.type === 'file' ? specialBits(parseMode(liveEntry.mode)) & 0o6000 : 0
  const has = data.action === 'chown' ? had : specialBits(data.mode) & 0o6000
  if ((has & ~had) !== 0) return true
  return has !== 0 && data.action !== 'chmod' && liveEntry !== undefined && (data.uid !== liveEntry.uid || data.gid !== liveEntry.gid)
}

function parentOf(path: string): string | undefined {
  const at = path.lastIndexOf('/')
  return at <= 0 ? undefined : path.slice(0, at)
}

function riskOf(op: Operation, path: string, liveEntry: FileEntry | undefined, data: FilesChangeData, attrs?: AttributesWanted): Risk {
  // File capabilities grant root's powers to whoever runs the file, like setuid.
  if (op === 'delete' || ('replaceType' in data && data.replaceType === true) || attrs?.capabilitiesDiffer === true || grantsOwnersPowers(data, liveEntry)) return 'high'
  const critical = SECURITY_CRITICAL.matches(path)
  if (op === 'replace') return critical ? 'high' : 'medium'
  if ((op === 'chmod' || op === 'attributes') && (data.action === 'chmod' || data.action === 'attributes') && liveEntry !== undefined) {
    const acl = attrs?.words.some((w) => w.includes('system.posix_acl_')) === true
    return critical || acl || specialBits(data.mode) !== specialBits(parseMode(liveEntry.mode)) ? 'medium' : 'low'
  }
  if (op === 'symlink-retarget') return 'medium'
  return critical ? 'medium' : 'low'
}

function summaryOf(op: Operation, entry: FileEntry, liveEntry: FileEntry | undefined, attrs?: AttributesWanted): string {
  const extended = attrs === undefined || attrs.words.length === 0 ? '' : attrs.words.join(', ')
  const origin = liveEntry === undefined ? '' : originPhrase(liveEntry)
  switch (op) {
    case 'create':
      return `Create ${entry.type === 'symlink' ? 'symlink ' : ''}${entry.path}${extended === '' ? '' : `, with ${extended}`}`
    case 'mkdir':
      return `Create directory ${entry.path}${extended === '' ? '' : `, with ${extended}`}`
    case 'replace':
      return `Replace ${entry.path}${origin}${metadataPhrase(entry, liveEntry, attrs?.words ?? [])}`
    case 'delete':
      return `Delete ${entry.path}${origin}`
    case 'chmod':
      return `Change mode of ${entry.path} from ${liveEntry?.mode ?? '?'} to ${entry.mode}`
    case 'chown':
      return `Change owner of ${entry.path} from ${ownership(liveEntry)} to ${ownership(entry)}`
    case 'attributes': {
      if (extended === '') return `Change mode of ${entry.path} from ${liveEntry?.mode ?? '?'} to ${entry.mode} and owner from ${ownership(liveEntry)} to ${ownership(entry)}`
      const also = metadataPhrase(entry, liveEntry, [])
      return `Change extended attributes of ${entry.path}: ${extended}${also}`
    }
    case 'symlink-retarget':
      return `Point ${entry.path} at ${entry.target ?? '?'} instead of ${liveEntry?.target ?? '?'}`
  }
}

/** A content change that also changes mode or owner says so: it is all one change. */
function metadataPhrase(entry: FileEntry, liveEntry: FileEntry | undefined, extended: readonly string[]): string {
  if (liveEntry === undefined) return ''
  const parts: string[] = [...extended]
  if (parseMode(entry.mode) !== parseMode(liveEntry.mode)) parts.push(`mode ${liveEntry.mode} to ${entry.mode}`)
  if (ownership(entry) !== ownership(liveEntry)) parts.push(`owner ${ownership(liveEntry)} to ${ownership(entry)}`)
  return parts.length === 0 ? '' : `, with ${parts.join(' and ')}`
}

function originPhrase(entry: FileEntry): string {
  if (entry.origin === 'package-modified') return ` (live file is modified from the package default of ${entry.package ?? 'its package'})`
  if (entry.origin === 'package-unmodified') return ` (live file is the package default of ${entry.package ?? 'its package'})`
  return ''
}

function ownership(entry: FileEntry | undefined): string {
  if (entry === undefined) return '?'
  return `${entry.owner ?? entry.uid}:${entry.group ?? entry.gid}`
}

/** One line, like `ls -l`: "file 0644 root:root 1234 bytes sha256:abcd1234". */
function describe(entry: FileEntry): string {
  const parts: string[] = [entry.type, entry.mode, ownership(entry)]
  if (entry.type === 'symlink') parts.push(`-> ${entry.target ?? '?'}`)
  if (entry.type === 'file') {
    parts.push(`${entry.size ?? '?'} bytes`)
    if (entry.secret === true) parts.push('secret')
    else if (entry.sha256 !== undefined) parts.push(`sha256:${entry.sha256.slice(0, 12)}`)
  }
  if (entry.type !== 'symlink' && entry.capabilities !== undefined && entry.capabilities !== '') parts.push(`caps ${entry.capabilities}`)
  if (entry.type !== 'symlink' && entry.xattrs !== undefined && Object.keys(entry.xattrs).length > 0) parts.push(`xattrs ${Object.keys(entry.xattrs).sort(compareStrings).join(',')}`)
  return parts.join(' ')
}

function describeWanted(entry: FileEntry, data: FilesChangeData): string {
  const mode = 'mode' in data ? formatMode(data.mode) : entry.mode
  return describe({ ...entry, mode })
}
