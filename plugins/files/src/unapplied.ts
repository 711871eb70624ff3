import { isDeepStrictEqual } from 'node:util'
import { appendAll, mirrorPath, type Change, type UnappliedPlace } from '@twinsync/sdk'
import { isUnseen, resolveId } from './diff.js'
import { partOf, partPath } from './manifest.js'
import { MANIFEST_PATH, type FileEntry, type FilesState } from './state.js'

/**
 * The manifest fields that only describe a path (FilesProvider.describes): no apply sets them,
 * and where the real thing lives. The diff never reads size, origin, package, divertedFrom,
 * secretReason or empty; sha256 only to see that a file whose content is not in the twin
 * changed, which it leaves alone (FILES_LEFT_ALONE): no apply sets a hash either.
 */
export const DESCRIBED_FIELDS: ReadonlyArray<readonly [string, string]> = [
  ['size', 'A file\'s "size" follows from its content: edit the file itself under filesystem/'],
  ['sha256', 'A file\'s "sha256" follows from its content: edit the file itself under filesystem/ (a binary or secret file\'s content is not in the twin and cannot be set from it)'],
  ['origin', '"origin" is what dpkg\'s database says of the file (a package\'s, changed or not, or local); edit the file itself under filesystem/'],
  ['package', '"package" is the package dpkg says ships the file; install or remove packages in system/packages/apt.json'],
  ['divertedFrom', '"divertedFrom" is what dpkg-divert says; divert the file on the machine with dpkg-divert'],
  ['secretReason', '"secretReason" says why the file is kept out of the twin; change the secret rules in the configuration (files.secrets)'],
  ['empty', '"empty" says whether the folder has entries; add or remove files under it instead'],
]

/**
 * Where the twin asks for an owner or group that the plan does not apply: an id edited beside a
 * name the target's accounts know (the name wins, diff.ts resolveId), or a name edited to one
 * that names the same id or none (the id is used). Only for a path both sides list with the same
 * type (an added or removed entry, a type change, is its own change). Pure. Each place is named
 * in manifest.json and in the path's part: TwinSync judges it where the intended twin holds the
 * entry (the manifest whole or in parts), against the entry wherever the last snapshot held it.
 */
export function unappliedFilesPlaces(desired: FilesState, actual: FilesState, changes: readonly Change[] = []): UnappliedPlace[] {
  const live = new Map(actual.entries.map((e) => [e.path, e]))
  const places: UnappliedPlace[] = [...unplannedEntryPlaces(desired, live, changes)]
  for (const d of desired.entries) {
    const a = live.get(d.path)
    if (a === undefined || a.type !== d.type) continue
    for (const [name, id, table, what] of [
      ['owner', 'uid', actual.accounts.users, 'user'],
      ['group', 'gid', actual.accounts.groups, 'group'],
    ] as const) {
      if (resolveId(d[name], d[id], table) !== resolveId(a[name], a[id], table)) continue // a chown is planned
      const named = d[name] !== undefined && Object.hasOwn(table, d[name])
      const fields: Array<[string, string]> = []
      if (d[id] !== a[id] && named) {
        fields.push([id, `"${id}" is not applied while "${name}" names a ${what} of the target ("${d[name]}" is ${table[d[name] as string]}): the name wins. Change "${name}" to set the file's ${what}, or remove "${name}" to set it by "${id}"`])
      }
      if (d[name] !== undefined && d[name] !== a[name]) {
        fields.push([
          name,
          named
            ? `"${d[name]}" is the same ${what} (${table[d[name] as string]}) as "${a[name] ?? a[id]}" on the target, so nothing changes and the next snapshot records the first name of that id`
            : `"${d[name]}" is no ${what} of the target, so "${id}" (${d[id]}) is applied and the name is not; add the ${what} on the machine first (in the twin: a line of filesystem/etc/${what === 'user' ? 'passwd' : 'group'})`,
        ])
      }
      for (const [field, nextStep] of fields) {
        for (const path of [MANIFEST_PATH, partPath(partOf(d.path))]) places.push({ path, at: ['entries', { field: 'path', value: d.path }, field], nextStep })
      }
    }
  }
  return places
}

/**
 * The fields of an entry the diff reads to plan (or to leave alone) a path, alike on both sides:
 * neither described (DESCRIBED_FIELDS), nor load-only, nor owner and group (the places above).
 * Speed: compared with `===` but for xattrs (an object), as every entry of an un-narrowed
 * manifest goes through here: unappliedFilesPlaces over two equal states of 20,000 entries, CPU
 * median of 21 runs, 3 rounds at a load average of 16: 10.8–12.4 ms before session 39, 15.1–16.5 ms
 * with this rule.
 */
function sameAsked(d: FileEntry, a: FileEntry): boolean {
  return (
    d.type === a.type &&
    d.mode === a.mode &&
    d.content === a.content &&
    d.secret === a.secret &&
    d.secretHash === a.secretHash &&
    d.target === a.target &&
    d.capabilities === a.capabilities &&
    (d.xattrs === a.xattrs || isDeepStrictEqual(d.xattrs, a.xattrs))
  )
}

/** The asked fields compared (sameAsked), by name: what a planned change may leave out. */
const ASKED_FIELDS = ['type', 'mode', 'content', 'secret', 'secretHash', 'target', 'capabilities', 'xattrs'] as const

/**
 * The asked fields each action of a files change sets on the machine (change-data.ts); owner and
 * group are judged above. A change left out whole (`too-large`, `not-mirrored`, `not-text`: it
 * stays pending as it is) or a delete leaves no part of the entry behind: absent here.
 */
const CARRIED: Readonly<Record<string, ReadonlySet<string>>> = {
  write: new Set(['type', 'mode', 'content', 'capabilities', 'xattrs']),
  chmod: new Set(['mode']),
  chown: new Set(),
  attributes: new Set(['mode', 'capabilities', 'xattrs']),
  symlink: new Set(['type', 'target']),
  mkdir: new Set(['type', 'mode', 'capabilities', 'xattrs']),
}

/**
 * The part of an entry's edit that the change planned at its path does not carry: each asked
 * field that differs from the last snapshot's and that the change's action does not set (a
 * chmod sets the mode, never a file's content kind, secret or keyed hash), named as a place of
 * its own, and the twin's document when the last snapshot did not mirror the file (a chmod does
 * not write it). Session 40: a file flipped to `"content": "mirrored"` with a document and its
 * mode changed in the same edit had only the chmod planned; the flip was in no item, the apply
 * undid it with the chmod's places after the step ran, and its snapshot dropped it without a
 * word. Named, the flip stays pending and never applied (and out of the apply's promotion), while
 * the chmod runs. Between two twins only, as the rest of this hook.
 */
function uncarriedPlaces(d: FileEntry, a: FileEntry, action: unknown): UnappliedPlace[] {
  const carried = typeof action === 'string' && Object.hasOwn(CARRIED, action) ? CARRIED[action] : undefined
  // Another type in place of the machine's (a file made a folder): the change replaces the whole entry.
  if (carried === undefined || d.type !== a.type) return []
  const places: UnappliedPlace[] = []
  const what = `the plan ${action === 'write' ? 'writes' : `changes only the ${action === 'chmod' ? 'mode' : action === 'chown' ? 'owner' : action === 'symlink' ? 'target' : 'attributes'} of`} ${d.path}`
  for (const field of ASKED_FIELDS) {
    if (carried.has(field) || (field === 'xattrs' ? isDeepStrictEqual(d.xattrs, a.xattrs) : d[field] === a[field])) continue
    const nextStep =
      field === 'content' || field === 'secret' || field === 'secretHash'
        ? `${what}, never its "${field}" (a file's content kind, secret or keyed hash follows from the machine's file, which the twin ${isUnseen(a) ? 'does not hold' : 'holds as mirrored text'}); change the file on the machine itself, then snapshot`
        : `${what}, never its "${field}"; change it on the machine itself, then snapshot`
    for (const path of [MANIFEST_PATH, partPath(partOf(d.path))]) places.push({ path, at: ['entries', { field: 'path', value: d.path }, field], nextStep })
  }
  if (!carried.has('content') && d.type === 'file' && d.text !== undefined && isUnseen(a)) {
    places.push({ path: mirrorPath(d.path), at: [], nextStep: `the twin's document for ${d.path} is not applied: ${what}, and the last snapshot did not mirror the file (${a.secret === true ? 'secret' : (a.content ?? 'not copied')}); change the file on the machine itself` })
  }
  return places
}

/**
 * An entry the twin asks for that the plan does nothing about: the diff plans no change for its
 * path, yet the intended entry differs from the last snapshot's in a field the diff reads (or the
 * last snapshot has no such path). The diff only says why (an info: SECRET_CHANGED, "not put back",
 * "cannot be created from the twin"), as it must when it compares the twin with the machine, where
 * the same shape is drift. Between two twins it is a person's edit (or a pull's): a file flipped to
 * `"content": "mirrored"` while the machine's holds a secret or is binary, an edited secretHash, a
 * hand-added entry for a file whose content the twin never holds. Named here, the whole entry (in
 * manifest.json and in the path's part), and its document when the twin has one for a file the
 * last snapshot did not mirror: TwinSync keeps them pending and never applied until discarded.
 * Before session 39 `status` said "nothing pending" and the next snapshot dropped them without a
 * word. This hook is asked only between two twins (the intent service), never against the machine.
 */
function unplannedEntryPlaces(desired: FilesState, live: ReadonlyMap<string, FileEntry>, changes: readonly Change[]): UnappliedPlace[] {
  const planned = new Set(changes.map((c) => c.resource))
  const actions = new Map(changes.map((c) => [c.resource, (c.data as { action?: unknown } | undefined)?.action]))
  const places: UnappliedPlace[] = []
  for (const d of desired.entries) {
    const a = live.get(d.path)
    // The manifest asks for a folder or a symlink where the last snapshot had a file, and the twin
    // still holds its document, which wins: the type edit is not applied (session 40: dropped by
    // the next snapshot without a word). Named with what to do, whatever the plan does with the file.
    if (a !== undefined && d.listedAs !== undefined && d.listedAs !== a.type) {
      const nextStep = `the twin holds a document for ${d.path} (${mirrorPath(d.path)}) beside this ${d.listedAs} entry, and the document wins: the plan keeps a file there; to make it a ${d.listedAs}, delete ${mirrorPath(d.path)} in the twin too`
      for (const path of [MANIFEST_PATH, partPath(partOf(d.path))]) places.push({ path, at: ['entries', { field: 'path', value: d.path }], nextStep })
      continue
    }
    if (planned.has(d.path)) {
      if (a !== undefined) appendAll(places, uncarriedPlaces(d, a, actions.get(d.path)))
      continue
    }
    if (a !== undefined && sameAsked(d, a)) continue
    const nextStep =
      a === undefined
        ? `the plan does not create ${d.path} from this entry (the twin holds no content for it); make the file on the machine itself, then snapshot`
        : `the plan does not apply this entry of ${d.path} (a file's content kind, secret or keyed hash follows from the machine's file, which the twin ${isUnseen(a) ? 'does not hold' : 'holds as mirrored text'}); change the file on the machine itself, then snapshot`
    for (const path of [MANIFEST_PATH, partPath(partOf(d.path))]) places.push({ path, at: ['entries', { field: 'path', value: d.path }], nextStep })
    if (d.type === 'file' && d.text !== undefined && (a === undefined || isUnseen(a))) {
      places.push({ path: mirrorPath(d.path), at: [], nextStep: `the twin's document for ${d.path} is not applied: the last snapshot did not mirror the file (${a?.secret === true ? 'secret' : (a?.content ?? 'absent')}); change the file on the machine itself` })
    }
  }
  // An entry the twin no longer lists (or lists as mirrored with no document) whose path the plan
  // does not delete: a file whose content the twin never saw is not deleted from it (the diff's
  // "not deleted"). Named where the last snapshot's document held it (description-edits.ts).
  // Planned at the path or at a folder above it (a deleted folder takes its files): the path's
  // own folders looked up, not every planned path tried against it (which was quadratic: 20,000
  // entries taken out of the twin, each planned for deletion, took 20,000 x 20,000 prefix tests).
  const wanted = new Set(desired.entries.map((e) => e.path))
  const plannedAtOrAbove = (path: string): boolean => {
    for (let p = path; ; p = p.slice(0, p.lastIndexOf('/'))) {
      if (planned.has(p)) return true
      if (p.lastIndexOf('/') <= 0) return false
    }
  }
  for (const a of live.values()) {
    if (wanted.has(a.path) || plannedAtOrAbove(a.path)) continue
    const nextStep = `the plan does not delete ${a.path} (the twin never saw its content); delete it on the machine itself, then snapshot`
    for (const path of [MANIFEST_PATH, partPath(partOf(a.path))]) places.push({ path, at: ['entries', { field: 'path', value: a.path }], nextStep })
  }
  return places
}
