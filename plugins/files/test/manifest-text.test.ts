import { strict as assert } from 'node:assert'
import { stableStringify } from '@twinsync/sdk'
import { MANIFEST_KEYS, manifestBytes, toManifest } from '../src/manifest.js'
import { ManifestEntry, type FileEntry, type FilesState } from '../src/state.js'

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

  it('is stableStringify of the manifest for batches without xattrs (written as they are, through the key list) and with them, strings that need escaping included', () => {
    const next = random(9)
    const odd = ['/etc/"quoted"', '/etc/back\\slash', '/etc/tab\there', '/etc/new\nline', '/etc/\u0001ctl', '/etc/naïve ☃', '/etc/lone\ud800surrogate', '/etc/\u2028sep']
    for (let round = 0; round < 20; round++) {
      const entries = Array.from({ length: 1 + Math.floor(next() * 300) }, (_, i) => {
        const entry = entryOf(next, i)
        delete entry.xattrs
        if (next() < 0.2) entry.path = `${pickOf(next, odd)}${i}`
        if (next() < 0.2) entry.target = pickOf(next, odd)
        // A few with xattrs: their batch goes through sortedEntry; the others' batches do not.
        if (round % 2 === 1 && next() < 0.005) entry.xattrs = { 'user.b': 'AA==', 'user.a': pickOf(next, odd) }
        return entry
      })
      const state: FilesState = { entries, leftovers: [], accounts: { users: {}, groups: {} } }
      assert.equal(manifestBytes(state).toString('utf8'), stableStringify(toManifest(state)), `round ${round}`)
    }
  })

  it('writes every key of an entry but xattrs through the key list, in sorted order', () => {
    const keys = Object.keys(ManifestEntry().properties).filter((key) => key !== 'xattrs')
    assert.deepEqual(MANIFEST_KEYS, [...keys, 'entries'].sort())
  })
})

function pickOf<T>(next: () => number, values: readonly T[]): T {
  return values[Math.floor(next() * values.length)] as T
}
