import { strict as assert } from 'node:assert'
import { stableStringify } from '@twinsync/sdk'
import { manifestBytes, parseManifest, toManifest } from '../src/manifest.js'
import type { FileEntry, FilesState } from '../src/state.js'

const accounts = { users: { root: 0 }, groups: { root: 0 } }

function entries(n: number): FileEntry[] {
  return Array.from({ length: n }, (_, i): FileEntry => {
    if (i % 7 === 3) return { gid: 0, mode: '0755', path: `/etc/d${i}`, type: 'directory', uid: 0, ...(i % 2 === 0 ? { empty: true } : {}) }
    if (i % 7 === 5) return { gid: 0, mode: '0777', path: `/etc/l${i}`, target: `../ziel-ü-${i}`, type: 'symlink', uid: 0 }
    const entry: FileEntry = { content: 'mirrored', gid: 0, mode: '0644', owner: 'root', path: `/etc/f${i}-naïve ☃.conf`, sha256: 'a'.repeat(64), size: i, text: `text ${i}\n`, type: 'file', uid: 0 }
    // Keys a nested record holds out of order, as getfattr may give them: sorted as stableStringify sorts them.
    if (i % 5 === 0) entry.xattrs = { 'user.z': '0sAA==', 'user.a': 'x"y\\z\n' }
    if (i % 11 === 0) entry.capabilities = 'cap_net_raw=ep'
    return entry
  })
}

describe('files provider: the manifest', () => {
  it('is, byte for byte, stableStringify of the manifest, however many entries (batches of 128)', () => {
    for (const n of [0, 1, 2, 127, 128, 129, 256, 300]) {
      for (const leftovers of [[], ['/etc/a.conf.dpkg-dist', '/etc/b.ucf-old']]) {
        const state: FilesState = { entries: entries(n), leftovers, accounts }
        const bytes = manifestBytes(state)
        assert.equal(bytes.toString('utf8'), stableStringify(toManifest(state)), `${n} entries, ${leftovers.length} leftovers`)
      }
    }
  })

  it('grows its buffer for entries longer than it made room for', () => {
    const long = entries(40).map((e, i) => ({ ...e, path: `/etc/${'deep/'.repeat(200)}${i}` }))
    const state: FilesState = { entries: long, leftovers: [`/etc/${'x'.repeat(5000)}.dpkg-old`], accounts }
    assert.equal(manifestBytes(state).toString('utf8'), stableStringify(toManifest(state)))
  })

  it('trusts only the bytes it made last: another text of the same length is checked against the schema', () => {
    const state: FilesState = { entries: entries(20), leftovers: [], accounts }
    const text = manifestBytes(state).toString('utf8')
    assert.ok('manifest' in parseManifest(text))
    const edited = text.replace('"mode": "0644"', '"mode": "06x4"')
    assert.equal(edited.length, text.length)
    assert.notEqual(edited, text)
    assert.match((parseManifest(edited) as { problem: string }).problem, /mode/)
    // Made again (another state): the first text is no longer what this process made last, and is checked (and valid).
    manifestBytes({ entries: entries(3), leftovers: [], accounts })
    assert.ok('manifest' in parseManifest(text))
  })
})
