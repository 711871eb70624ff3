import { strict as assert } from 'node:assert'
import { createTestContext } from '@twinsync/sdk/conformance'
import { FilesProvider, type FileEntry, type FilesState } from '../src/index.js'
import { sha256 } from '../src/content.js'

/**
 * The manifest fields the provider declares as descriptions (`describes`: an edit of one is kept
 * and said, never applied) are exactly fields its diff never turns into a change: checked here
 * against the diff, so a field that comes to be applied cannot stay declared as a description.
 */
describe('files provider: the manifest fields it declares as descriptions', () => {
  const ctx = createTestContext('/nonexistent-root-for-pure-diff')
  const provider = new FilesProvider()
  const accounts = { users: { root: 0 }, groups: { root: 0 } }
  const text = 'a\n'
  const entry: FileEntry = { path: '/etc/a', type: 'file', mode: '0644', owner: 'root', uid: 0, group: 'root', gid: 0, size: 2, content: 'mirrored', sha256: sha256(text), text, origin: 'package-unmodified', package: 'base-files' }
  const folder: FileEntry = { path: '/etc/d', type: 'directory', mode: '0755', owner: 'root', uid: 0, group: 'root', gid: 0, empty: true }
  const state = (...entries: FileEntry[]): FilesState => ({ entries, leftovers: [], accounts })
  const edited: Record<string, Partial<FileEntry>> = {
    size: { size: 99 },
    sha256: { sha256: 'f'.repeat(64) },
    origin: { origin: 'local' },
    package: { package: 'other' },
    divertedFrom: { divertedFrom: '/etc/a.distrib' },
    secretReason: { secretReason: 'path rule' },
    empty: { empty: false },
  }

  it('declares the manifest.json and the part documents of each, and "leftovers"', () => {
    const keys = provider.describes.map((p) => `${p.path}#${(p.keys ?? []).join('/')}`)
    for (const field of Object.keys(edited)) {
      assert.ok(keys.includes(`system/files/manifest.json#entries/*/${field}`), field)
      assert.ok(keys.includes(`system/files/manifest/#entries/*/${field}`), field)
    }
    assert.ok(keys.includes('system/files/manifest.json#leftovers'))
  })

  for (const [field, change] of Object.entries(edited)) {
    it(`an edit of "${field}" alone plans nothing`, () => {
      const desired = field === 'empty' ? state(entry, { ...folder, ...change }) : state({ ...entry, ...change }, folder)
      assert.deepEqual(provider.diff({ desired, actual: state(entry, folder), ctx }).changes, [])
    })
  }

  it('an edit of "leftovers" alone plans nothing', () => {
    assert.deepEqual(provider.diff({ desired: { ...state(entry), leftovers: ['/etc/a.dpkg-dist'] }, actual: state(entry), ctx }).changes, [])
  })
})
