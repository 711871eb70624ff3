import type { UnappliedPlace } from '@twinsync/sdk'
import { resolveId } from './diff.js'
import { partOf, partPath } from './manifest.js'
import { MANIFEST_PATH, type FilesState } from './state.js'

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
export function unappliedFilesPlaces(desired: FilesState, actual: FilesState): UnappliedPlace[] {
  const live = new Map(actual.entries.map((e) => [e.path, e]))
  const places: UnappliedPlace[] = []
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
