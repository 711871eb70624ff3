import { strict as assert } from 'node:assert'
import { stableStringify } from '@twinsync/sdk'
import { manifestBytes, toManifest } from '../src/manifest.js'
import type { FileEntry, FilesState } from '../src/state.js'

/** A small deterministic generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let s = seed
  return () => {
    s = (s * 1103515245 + 12345) % 2 ** 31
    return s / 2 ** 31
  }
}

/** An entry with a random choice of every optional key, set in a random order (as a provider might). */
function entryOf(next: () => number, i: number): FileEntry {
  const pick = <T>(values: T[]): T => values[Math.floor(next() * values.length)] as T
  const fields: Array<[string, unknown]> = [
    ['path', `/etc/f${i}`],
    ['type', pick(['file', 'directory', 'symlink'])],
    ['mode', pick(['0644', '0755', '0600', '4755'])],
    ['uid', pick([0, 1000])],
    ['gid', pick([0, 100])],
  ]
  const optional: Array<[string, () => unknown]> = [
    ['owner', () => pick(['root', 'alice'])],
    ['group', () => pick(['root', 'users'])],
    ['size', () => Math.floor(next() * 5000)],
    ['content', () => pick(['mirrored', 'binary', 'secret', 'too-large'])],
    ['sha256', () => 'a'.repeat(64)],
    ['target', () => '../x'],
    ['empty', () => true],
    ['secret', () => true],
    ['secretReason', () => 'path rule'],
    ['secretHash', () => `hmac-sha256:${'b'.repeat(64)}`],
    ['origin', () => pick(['package-unmodified', 'package-modified', 'local'])],
    ['package', () => 'base-files'],
    ['divertedFrom', () => '/etc/g'],
    ['capabilities', () => 'cap_net_raw=ep'],
    ['xattrs', () => Object.fromEntries(pick([['user.z', 'user.a', 'security.selinux'], ['system.posix_acl_access'], ['user.b', 'user.a']]).map((k) => [k, 'AAAA']))],
    ['text', () => 'mirrored text\n'],
  ]
  for (const [key, value] of optional) if (next() < 0.4) fields.push([key, value()])
  // Keys in a random order: the text must not depend on it.
  fields.sort(() => next() - 0.5)
  return Object.fromEntries(fields) as unknown as FileEntry
}

describe('the files manifest text', () => {
  it('is stableStringify of the manifest, character for character, whatever order the entries and their xattrs were built in', () => {
    const next = random(22)
    for (let round = 0; round < 50; round++) {
      const entries = Array.from({ length: 1 + Math.floor(next() * 40) }, (_, i) => entryOf(next, i))
      const state: FilesState = { entries, leftovers: next() < 0.5 ? [] : ['/etc/a.dpkg-old', '/etc/b.ucf-dist'], accounts: { users: { root: 0 }, groups: { root: 0 } } }
      assert.equal(manifestBytes(state).toString('utf8'), stableStringify(toManifest(state)), `round ${round}`)
    }
  })
})
