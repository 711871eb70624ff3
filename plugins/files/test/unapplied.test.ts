import { strict as assert } from 'node:assert'
import { createTestContext } from '@twinsync/sdk/conformance'
import { FilesProvider, type FileEntry, type FilesState } from '../src/index.js'
import { sha256 } from '../src/content.js'
import { partOf, partPath } from '../src/manifest.js'
import { assertLinearTime } from '../../../test/support/linear-time.js'

/**
 * What the files provider declares its plan leaves out: the manifest's recorded fields
 * (`describes`: checked against the diff, so a field that comes to be applied cannot stay
 * declared), and an owner or group that the diff resolves to the id it already has (`unapplied`).
 */
describe('files provider: the manifest values its plan leaves out', () => {
  const ctx = createTestContext('/nonexistent-root-for-pure-diff')
  const provider = new FilesProvider()
  const accounts = { users: { root: 0, toor: 0, daemon: 1 }, groups: { root: 0, adm: 4 } }
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

  it('declares each recorded field in manifest.json and in the folder of its parts (one family), and "leftovers"', () => {
    const keys = provider.describes.map((p) => `${p.path}#${(p.keys ?? []).join('/')}`)
    for (const field of Object.keys(edited)) {
      assert.ok(keys.includes(`system/files/manifest.json#entries/*/${field}`), field)
      assert.ok(keys.includes(`system/files/manifest/#entries/*/${field}`), field)
    }
    assert.ok(keys.includes('system/files/manifest.json#leftovers'))
  })

  for (const [field, change] of Object.entries(edited)) {
    it(`an edit of "${field}" alone plans nothing (so it is declared)`, () => {
      const desired = field === 'empty' ? state(entry, { ...folder, ...change }) : state({ ...entry, ...change }, folder)
      assert.deepEqual(provider.diff({ desired, actual: state(entry, folder), ctx }).changes, [])
    })
  }

  it('an edit of "leftovers" alone plans nothing', () => {
    assert.deepEqual(provider.diff({ desired: { ...state(entry), leftovers: ['/etc/a.dpkg-dist'] }, actual: state(entry), ctx }).changes, [])
  })

  const placesOf = (desired: FilesState, actual: FilesState) => {
    const changes = provider.diff({ desired, actual, ctx }).changes
    return { changes: changes.map((c) => c.id), places: provider.unapplied({ desired, actual, changes, ctx }) }
  }
  const at = (path: string, field: string) => [`system/files/manifest.json`, partPath(partOf(path))].map((doc) => `${doc}#${path}/${field}`)
  const names = (places: ReturnType<typeof placesOf>['places']) =>
    places.map((p) => `${p.path}#${p.at.map((s) => (typeof s === 'string' ? s : s.value)).slice(1).join('/')}`).sort()

  it('a uid edited beside an owner name that resolves: no chown planned, the uid named in both documents the entry can be in', () => {
    const r = placesOf(state({ ...entry, uid: 4242 }), state(entry))
    assert.deepEqual(r.changes, [])
    assert.deepEqual(names(r.places), at('/etc/a', 'uid').sort())
    assert.match(r.places[0]?.nextStep ?? '', /"owner" names a user of the target \("root" is 0\): the name wins/)
  })

  it('a gid beside a resolving group, an owner name for the same id, a name no account has: each named; the diff plans none of them', () => {
    assert.deepEqual(names(placesOf(state({ ...entry, gid: 9 }), state(entry)).places), at('/etc/a', 'gid').sort())
    const same = placesOf(state({ ...entry, owner: 'toor' }), state(entry))
    assert.deepEqual([same.changes, names(same.places)], [[], at('/etc/a', 'owner').sort()])
    const ghost = placesOf(state({ ...entry, owner: 'ghost' }), state(entry))
    assert.deepEqual([ghost.changes, names(ghost.places)], [[], at('/etc/a', 'owner').sort()])
    assert.match(ghost.places[0]?.nextStep ?? '', /"ghost" is no user of the target/)
  })

  it('an owner or group the plan does change, an unchanged twin, an added or removed entry: nothing named', () => {
    const chown = placesOf(state({ ...entry, owner: 'daemon', uid: 1 }), state(entry))
    assert.deepEqual([chown.changes, chown.places], [['files:chown:/etc/a'], []])
    // The id alone (no name), edited: applied.
    const byId = placesOf(state({ ...entry, owner: undefined, uid: 1 } as FileEntry), state(entry))
    assert.deepEqual([byId.changes, byId.places], [['files:chown:/etc/a'], []])
    assert.deepEqual(placesOf(state(entry, folder), state(entry, folder)).places, [])
    assert.deepEqual(placesOf(state(entry, { ...folder, uid: 5 }), state(entry)).places, [])
    assert.deepEqual(placesOf(state(entry), state(entry, { ...folder, uid: 5 })).places, [])
  })

  it('an entry the diff plans nothing for (a flip to mirrored with a document, a secretHash, an entry added or taken out for a file the twin never saw): the whole entry named, and such a document', () => {
    const secret: FileEntry = { path: '/etc/s', type: 'file', mode: '0600', owner: 'root', uid: 0, group: 'root', gid: 0, size: 9, content: 'secret', secret: true, secretReason: 'path rule', secretHash: `hmac-sha256:${'a'.repeat(64)}` }
    const binary: FileEntry = { path: '/etc/b.bin', type: 'file', mode: '0644', owner: 'root', uid: 0, group: 'root', gid: 0, size: 4, content: 'binary', sha256: 'b'.repeat(64) }
    const element = (path: string) => [`system/files/manifest.json`, partPath(partOf(path))].map((doc) => `${doc}#${path}`).sort()
    const { secret: _s, secretHash: _h, secretReason: _r, ...unsecret } = secret
    const flipped = placesOf(state({ ...unsecret, content: 'mirrored', sha256: sha256(text), size: 2, text }), state(secret))
    assert.deepEqual(flipped.changes, [])
    assert.deepEqual(names(flipped.places), ['filesystem/etc/s#', ...element('/etc/s')].sort())
    const hash = placesOf(state({ ...secret, secretHash: `hmac-sha256:${'c'.repeat(64)}` }), state(secret))
    assert.deepEqual([hash.changes, names(hash.places)], [[], element('/etc/s')])
    const added = placesOf(state(entry, binary), state(entry))
    assert.deepEqual([added.changes, names(added.places)], [[], element('/etc/b.bin')])
    assert.match(added.places[0]?.nextStep ?? '', /the plan does not create \/etc\/b\.bin/)
    const removed = placesOf(state(entry), state(entry, secret))
    assert.deepEqual([removed.changes, names(removed.places)], [[], element('/etc/s')])
    assert.match(removed.places[0]?.nextStep ?? '', /the plan does not delete \/etc\/s/)
    // Planned (a text edit, a chmod of the secret): nothing named; the plan does it.
    assert.deepEqual(placesOf(state({ ...entry, text: 'b\n', sha256: sha256('b\n') }), state(entry)).places, [])
    assert.deepEqual(placesOf(state({ ...secret, mode: '0640' }), state(secret)).places, [])
  })

  it('an entry whose path has a change planned: the edited fields that change does not carry named (and such a document), the planned ones not', () => {
    const secret: FileEntry = { path: '/etc/s', type: 'file', mode: '0644', owner: 'root', uid: 0, group: 'root', gid: 0, size: 9, content: 'secret', secret: true, secretReason: 'path rule', secretHash: `hmac-sha256:${'a'.repeat(64)}` }
    const field = (path: string, name: string) => [`system/files/manifest.json`, partPath(partOf(path))].map((doc) => `${doc}#${path}/${name}`)
    const { secret: _s, secretHash: _h, secretReason: _r, ...unsecret } = secret
    // Flipped to mirrored with a document, and its mode changed: the chmod is planned, the flip is not.
    const flipped = placesOf(state({ ...unsecret, mode: '0600', content: 'mirrored', sha256: sha256(text), size: 2, text }), state(secret))
    assert.deepEqual(flipped.changes, ['files:chmod:/etc/s'])
    assert.deepEqual(names(flipped.places), ['filesystem/etc/s#', ...field('/etc/s', 'content'), ...field('/etc/s', 'secret'), ...field('/etc/s', 'secretHash')].sort())
    assert.match(flipped.places.find((p) => p.path === 'filesystem/etc/s')?.nextStep ?? '', /not applied: the plan changes only the mode of \/etc\/s, and the last snapshot did not mirror the file \(secret\)/)
    assert.match(flipped.places[0]?.nextStep ?? '', /^the plan changes only the mode of \/etc\/s, never its "content"/)
    // The same with the owner: a chown.
    const chowned = placesOf(state({ ...unsecret, owner: 'daemon', uid: 1, content: 'mirrored', text }), state(secret))
    assert.deepEqual([chowned.changes, names(chowned.places).length], [['files:chown:/etc/s'], 7])
    // A text edit of a mirrored file and a secretHash beside it: the write is planned, the hash named.
    const hashed = placesOf(state({ ...entry, text: 'b\n', sha256: sha256('b\n'), secretHash: `hmac-sha256:${'c'.repeat(64)}` }), state(entry))
    assert.deepEqual([hashed.changes, names(hashed.places)], [['files:replace:/etc/a'], field('/etc/a', 'secretHash').sort()])
    // What the planned change carries: nothing named (a text edit with its mode, a chmod of a secret, mode and owner together).
    assert.deepEqual(placesOf(state({ ...entry, mode: '0600', text: 'b\n', sha256: sha256('b\n') }), state(entry)).places, [])
    assert.deepEqual(placesOf(state({ ...secret, mode: '0640' }), state(secret)).places, [])
    assert.deepEqual(placesOf(state({ ...entry, mode: '0600', owner: 'daemon', uid: 1 }), state(entry)).places, [])
  })

  it('a file the manifest lists as a symlink or a folder while its document stays (load: listedAs): the entry named where the last snapshot had a file, not where it had the symlink', () => {
    const element = (path: string) => [`system/files/manifest.json`, partPath(partOf(path))].map((doc) => `${doc}#${path}`).sort()
    const kept = placesOf(state({ ...entry, listedAs: 'symlink' }), state(entry))
    assert.deepEqual([kept.changes, names(kept.places)], [[], element('/etc/a')])
    assert.match(kept.places[0]?.nextStep ?? '', /the document wins: the plan keeps a file there; to make it a symlink, delete filesystem\/etc\/a in the twin too/)
    // With its text edited too (a write planned): named all the same.
    assert.deepEqual(names(placesOf(state({ ...entry, listedAs: 'directory', text: 'b\n', sha256: sha256('b\n') }), state(entry)).places), element('/etc/a'))
    // A document added where the machine has the symlink: the replacement is planned, nothing named.
    const link: FileEntry = { path: '/etc/a', type: 'symlink', mode: '0777', owner: 'root', uid: 0, group: 'root', gid: 0, target: '/etc/motd' }
    const replaced = placesOf(state({ ...entry, listedAs: 'symlink' }), state(link))
    assert.deepEqual([replaced.changes, replaced.places], [['files:replace:/etc/a'], []])
  })

  it('20,000 entries taken out of the twin, each planned for deletion: nothing named, in time linear in the entries (a planned folder above a path looked up, not every planned path tried)', () => {
    const live = Array.from({ length: 20_000 }, (_, i): FileEntry => ({ ...entry, path: `/etc/app/d${i % 100}/f${i}` }))
    const actual = state(...live)
    const desired = state()
    const changes = provider.diff({ desired, actual, ctx }).changes
    assert.equal(changes.length, 20_000)
    let places: ReturnType<typeof provider.unapplied> = []
    assertLinearTime(() => (places = provider.unapplied({ desired, actual, changes, ctx })), live.map((e) => e.path).join('\n'), 'unapplied over 20,000 planned deletions')
    assert.deepEqual(places, [])
    // A folder's deletion planned covers the files below it; a file no change covers is named.
    const folderGone = provider.unapplied({ desired, actual: state(folder, { ...entry, path: '/etc/d/x' }, { ...entry, path: '/etc/dx' }), changes: changes.slice(0, 0).concat([{ ...changes[0]!, resource: '/etc/d' }]), ctx })
    assert.deepEqual(names(folderGone), [`system/files/manifest.json`, partPath(partOf('/etc/dx'))].map((doc) => `${doc}#/etc/dx`).sort())
  })
})
