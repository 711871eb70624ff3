import { strict as assert } from 'node:assert'
import { chmodSync, mkdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs'
import { createTestContext } from '@twinsync/sdk/conformance'
import { MemoryTwin, stableStringify, type ProviderContext, type TwinDocument, type TwinReader } from '@twinsync/sdk'
import { FilesProvider, type Manifest, type ManifestEntry } from '../src/index.js'
import { PARTS, partOf, partPath, SPLIT_FROM } from '../src/manifest.js'
import { debianLikeRoot, type TargetRoot } from './target-root.js'

const provider = new FilesProvider()
const MANIFEST = 'system/files/manifest.json'
const text = (d: TwinDocument | undefined) => (d === undefined ? undefined : typeof d.content === 'string' ? d.content : Buffer.from(d.content).toString('utf8'))

/** The twin paths whose bytes differ. */
function changedPaths(a: readonly TwinDocument[], b: readonly TwinDocument[]): string[] {
  const older = new Map(a.map((d) => [d.path, text(d)]))
  const newer = new Map(b.map((d) => [d.path, text(d)]))
  return [...new Set([...older.keys(), ...newer.keys()])].filter((p) => older.get(p) !== newer.get(p))
}

/** The same documents with the manifest as one document of version 1 (every entry), as below the threshold. */
function asWhole(docs: readonly TwinDocument[]): TwinDocument[] {
  const main = JSON.parse(text(docs.find((d) => d.path === MANIFEST)) as string) as Manifest
  const entries = docs.filter((d) => d.path.startsWith('system/files/manifest/')).flatMap((d) => (JSON.parse(text(d) as string) as { entries: ManifestEntry[] }).entries)
  const whole: Manifest = { version: 1, entries: entries.sort((a, b) => (a.path < b.path ? -1 : 1)), leftovers: main.leftovers }
  return [...docs.filter((d) => !d.path.startsWith('system/files/manifest')), { path: MANIFEST, content: stableStringify(whole) }]
}

describe('files provider: a manifest split into parts above SPLIT_FROM entries', function () {
  this.timeout(120_000)
  let root: TargetRoot
  let ctx: ProviderContext
  let base: TwinDocument[]
  before(async () => {
    root = debianLikeRoot()
    for (let i = 0; i < SPLIT_FROM + 100; i++) root.file(`/etc/many/d${Math.floor(i / 100)}/f${i}.conf`, `value = ${i}\n`)
    ctx = createTestContext(root.dir)
    base = (await provider.collect({ ctx })).documents
  })
  after(() => root.remove())

  it('writes manifest.json of version 2 with no entries, and each entry in the part of its folder, in path order', async () => {
    const main = JSON.parse(text(base.find((d) => d.path === MANIFEST)) as string) as Manifest
    assert.deepEqual({ version: main.version, entries: main.entries }, { version: 2, entries: [] })
    assert.deepEqual(main.leftovers, ['/etc/motd.dpkg-dist'])
    const parts = base.filter((d) => d.path.startsWith('system/files/manifest/'))
    assert.ok(parts.length > PARTS / 2 && parts.length <= PARTS, `${parts.length} parts`)
    let count = 0
    for (const part of parts) {
      assert.match(part.path, /^system\/files\/manifest\/\d{2}\.json$/)
      const body = text(part) as string
      const { entries } = JSON.parse(body) as { entries: ManifestEntry[] }
      assert.equal(body, stableStringify({ entries }), 'written as stableStringify writes it')
      for (const e of entries) assert.equal(partPath(partOf(e.path)), part.path, e.path)
      assert.deepEqual(entries.map((e) => e.path), entries.map((e) => e.path).sort())
      count += entries.length
    }
    assert.ok(count >= SPLIT_FROM)
    const again = (await provider.collect({ ctx })).documents
    assert.deepEqual(changedPaths(base, again), [], 'the same machine gives the same documents')
  })

  it('places an entry by FNV-1a of its folder\'s UTF-8 bytes modulo 64, whatever came before it', () => {
    const fnv = (text: string) => [...Buffer.from(text, 'utf8')].reduce((h, byte) => Math.imul(h ^ byte, 0x01000193) >>> 0, 0x811c9dc5)
    const paths = ['/etc', '/etc/hosts', '/etc/ssh/sshd_config', '/etc/ssh/ssh_config', '/etc/caf\u00e9/menu.conf', '/etc/caf\u00e9', '/root/.bashrc', '/etc/ssh/moduli']
    for (const path of [...paths, ...[...paths].reverse()]) {
      const folder = path.lastIndexOf('/') <= 0 ? '/' : path.slice(0, path.lastIndexOf('/'))
      assert.equal(partOf(path), fnv(folder) % PARTS, path)
    }
    assert.equal(partPath(partOf('/etc/hosts')), `system/files/manifest/${String(fnv('/etc') % PARTS).padStart(2, '0')}.json`)
    // Pinned: a part's number never changes for a path (twins already written depend on it).
    assert.deepEqual(['/etc/hosts', '/etc/ssh/sshd_config', '/root/.bashrc'].map((p) => partOf(p)), [4, 37, 10])
  })

  it('loads the same state from either form, so plan and status say the same', async () => {
    const split = await provider.load({ ctx, twin: new MemoryTwin(base) })
    const whole = await provider.load({ ctx, twin: new MemoryTwin(asWhole(base)) })
    assert.deepEqual(split.diagnostics, [])
    assert.deepEqual(split.state, whole.state)
    const actual = (await provider.collect({ ctx })).state
    assert.ok(split.state)
    assert.deepEqual(provider.diff({ desired: split.state, actual, ctx }).changes, [])
  })

  it('lets an entry in manifest.json win over its part, and a part win over a manifest.json of version 1', async () => {
    const main = JSON.parse(text(base.find((d) => d.path === MANIFEST)) as string) as Manifest
    const entry = (JSON.parse(text(base.find((d) => d.path === partPath(partOf('/etc/many/d3/f300.conf')))) as string) as { entries: ManifestEntry[] }).entries.find(
      (e) => e.path === '/etc/many/d3/f300.conf',
    ) as ManifestEntry
    const twin = new MemoryTwin(base)
    twin.set(MANIFEST, stableStringify({ ...main, entries: [{ ...entry, mode: '0600' }] }))
    const actual = (await provider.collect({ ctx })).state
    const up = await provider.load({ ctx, twin })
    assert.ok(up.state)
    assert.deepEqual(provider.diff({ desired: up.state, actual, ctx }).changes.map((c) => c.id), ['files:chmod:/etc/many/d3/f300.conf'])
    // Down: a whole manifest, and the edited part kept beside it.
    const whole = new MemoryTwin(asWhole(base))
    const part = partPath(partOf(entry.path))
    whole.set(part, stableStringify({ entries: [{ ...entry, mode: '0640' }] }))
    const down = await provider.load({ ctx, twin: whole })
    assert.ok(down.state)
    const changes = provider.diff({ desired: down.state, actual, ctx }).changes
    assert.deepEqual(changes.map((c) => c.id), ['files:chmod:/etc/many/d3/f300.conf'])
    assert.match(JSON.stringify(changes[0]), /0640/)
  })

  const refusals: Array<[string, string, (twin: MemoryTwin, parts: TwinDocument[]) => MemoryTwin | void]> = [
    [
      'a path in the wrong part',
      'FILES_MANIFEST_PART_MISPLACED',
      (twin, parts) => {
        const [a, b] = parts as [TwinDocument, TwinDocument]
        const from = JSON.parse(text(a) as string) as { entries: ManifestEntry[] }
        const to = JSON.parse(text(b) as string) as { entries: ManifestEntry[] }
        const moved = from.entries.pop() as ManifestEntry
        twin.set(a.path, stableStringify(from))
        twin.set(b.path, stableStringify({ entries: [...to.entries, moved].sort((x, y) => (x.path < y.path ? -1 : 1)) }))
      },
    ],
    [
      'a path in two parts',
      'FILES_MANIFEST_PART_MISPLACED',
      (twin, parts) => {
        const [a, b] = parts as [TwinDocument, TwinDocument]
        const copied = (JSON.parse(text(a) as string) as { entries: ManifestEntry[] }).entries[0] as ManifestEntry
        const to = JSON.parse(text(b) as string) as { entries: ManifestEntry[] }
        twin.set(b.path, stableStringify({ entries: [copied, ...to.entries] }))
      },
    ],
    [
      'a path twice in one part',
      'FILES_MANIFEST_DUPLICATE',
      (twin, parts) => {
        const a = parts[0] as TwinDocument
        const { entries } = JSON.parse(text(a) as string) as { entries: ManifestEntry[] }
        // Asking something else of it (the same entry twice is read as one: load.test.ts).
        twin.set(a.path, stableStringify({ entries: [{ ...entries[0], mode: entries[0]?.mode === '0600' ? '0640' : '0600' }, ...entries] }))
      },
    ],
    ['a part that is not JSON', 'FILES_MANIFEST_INVALID', (twin, parts) => twin.set((parts[0] as TwinDocument).path, '{ "entries": [')],
    [
      'a part that fails the schema',
      'FILES_MANIFEST_INVALID',
      (twin, parts) => {
        const a = parts[0] as TwinDocument
        const { entries } = JSON.parse(text(a) as string) as { entries: ManifestEntry[] }
        twin.set(a.path, stableStringify({ entries: [{ ...entries[0], mode: 'rwxrwxrwx' }, ...entries.slice(1)] }))
      },
    ],
    ['a part with another key', 'FILES_MANIFEST_INVALID', (twin) => twin.set(partPath(0), stableStringify({ entries: [], version: 2 }))],
    // A forged entry in the part of its (odd) folder: before, planned as "create /etc/../root/x".
    ...['/etc/../root/x', '/etc/./x', '/etc//x', '/etc/x/', '/etc/..'].map((path): (typeof refusals)[number] => [
      `an entry at ${path} in its folder's part`,
      'FILES_MANIFEST_INVALID',
      (twin) => twin.set(partPath(partOf(path)), stableStringify({ entries: [{ gid: 0, mode: '0755', path, type: 'directory', uid: 0 }] })),
    ]),
    // Session 23: a lone surrogate (JSON's "\ud800") is no name a file system holds: Node writes
    // U+FFFD in its place, so "/etc/a\ud800" and "/etc/a\udc00" were two changes shown alike that
    // made one folder /etc/a\ufffd, reported failed ("nothing was changed") after making it.
    ...['/etc/a\ud800', '/etc/\udc00/x'].map((path): (typeof refusals)[number] => [
      `an entry at ${JSON.stringify(path)} (a lone surrogate, no name a file system holds)`,
      'FILES_MANIFEST_INVALID',
      (twin) => twin.set(partPath(partOf(path)), stableStringify({ entries: [{ gid: 0, mode: '0755', path, type: 'directory', uid: 0 }] })),
    ]),
    [
      'a symlink entry whose target holds a lone surrogate',
      'FILES_MANIFEST_INVALID',
      (twin) => twin.set(partPath(partOf('/etc/link')), stableStringify({ entries: [{ gid: 0, mode: '0777', path: '/etc/link', target: '/etc/a\ud800', type: 'symlink', uid: 0 }] })),
    ],
    ['a part named like ../x', 'FILES_MANIFEST_PART_UNKNOWN', (twin) => twin.set('system/files/manifest/..00.json', '{"entries": []}')],
    ['a part numbered past the last', 'FILES_MANIFEST_PART_UNKNOWN', (twin) => twin.set(`system/files/manifest/${PARTS}.json`, '{"entries": []}')],
    ['an unknown file beside the parts', 'FILES_MANIFEST_PART_UNKNOWN', (twin) => twin.set('system/files/manifest/README', 'notes\n')],
    ['a folder beside the parts', 'FILES_MANIFEST_PART_UNKNOWN', (twin) => twin.set('system/files/manifest/old/00.json', '{"entries": []}')],
    ['parts without manifest.json', 'FILES_MANIFEST_INVALID', () => new MemoryTwin(base.filter((d) => d.path !== MANIFEST))],
  ]
  for (const [name, code, edit] of refusals) {
    it(`refuses ${name}: ${code}, no state, so nothing is planned`, async () => {
      const edited = new MemoryTwin(base)
      const twin =
        edit(
          edited,
          base.filter((d) => d.path.startsWith('system/files/manifest/')),
        ) ?? edited
      const loaded = await provider.load({ ctx, twin })
      assert.equal(loaded.state, undefined)
      assert.deepEqual(
        loaded.diagnostics.map((d) => [d.severity, d.code]),
        [['error', code]],
      )
    })
  }

  describe('the diary line: both sides narrowed to the parts that changed', () => {
    /** What happened between two twins, as a snapshot's diary line asks it. */
    async function changesBetween(older: TwinReader, newer: TwinReader) {
      const [before, after] = await Promise.all([provider.load({ ctx, twin: older }), provider.load({ ctx, twin: newer })])
      assert.ok(before.state && after.state)
      const diff = provider.diff({ desired: after.state, actual: before.state, ctx })
      return { changes: diff.changes, diagnostics: [...before.diagnostics, ...after.diagnostics, ...diff.diagnostics] }
    }
    let scratch: TargetRoot
    let sctx: ProviderContext
    let first: TwinDocument[]
    beforeEach(async () => {
      scratch = debianLikeRoot()
      for (let i = 0; i < SPLIT_FROM + 100; i++) scratch.file(`/etc/many/d${Math.floor(i / 100)}/f${i}.conf`, `value = ${i}\n`)
      scratch.file('/etc/many/d3/sub/deep/inner.conf', 'inner\n')
      sctx = createTestContext(scratch.dir)
      first = (await provider.collect({ ctx: sctx })).documents
    })
    afterEach(() => scratch.remove())

    const cases: Array<[string, (r: TargetRoot) => void]> = [
      ['a file changed', (r) => writeFileSync(r.path('/etc/many/d5/f512.conf'), 'value = changed\n')],
      ['a file added', (r) => r.file('/etc/many/d5/f512b.conf', 'new\n')],
      ['a file removed', (r) => unlinkSync(r.path('/etc/many/d7/f777.conf'))],
      ['a mode changed', (r) => chmodSync(r.path('/etc/many/d2/f250.conf'), 0o600)],
      ['a folder with files below removed', (r) => rmSync(r.path('/etc/many/d3'), { recursive: true })],
      ['a folder made', (r) => mkdirSync(r.path('/etc/many/d6/empty'))],
    ]
    for (const [name, change] of cases) {
      it(`gives exactly the whole comparison's changes: ${name}`, async () => {
        change(scratch)
        const next = (await provider.collect({ ctx: sctx })).documents
        const changed = changedPaths(first, next)
        const older = new MemoryTwin(first)
        const newer = new MemoryTwin(next)
        const whole = await changesBetween(older, newer)
        assert.ok(whole.changes.length > 0)
        const narrowed = await provider.narrow({ older, newer, changed, ctx: sctx })
        assert.ok(narrowed !== undefined, 'narrowed')
        const parts = changed.filter((p) => p.startsWith('system/files/manifest/'))
        assert.deepEqual(await narrowed.newer.list('system/files/manifest/'), (await newer.list('system/files/manifest/')).filter((p) => parts.includes(p)))
        assert.ok(parts.length <= 4, `${parts.length} parts changed`)
        assert.deepEqual(await changesBetween(narrowed.older, narrowed.newer), whole)
      })
    }

    it('compares whole when a folder goes but an entry below it stays in another part, or manifest.json changed', async () => {
      const gone = '/etc/many/d3/sub'
      const part = partPath(partOf(gone))
      const below = partPath(partOf(`${gone}/deep`))
      assert.notEqual(part, below, 'the folder and the one below it are in different parts (FNV of their folders)')
      const edited = new MemoryTwin(first)
      const doc = JSON.parse(text(first.find((d) => d.path === part)) as string) as { entries: ManifestEntry[] }
      edited.set(part, stableStringify({ entries: doc.entries.filter((e) => e.path !== gone) }))
      assert.equal(await provider.narrow({ older: new MemoryTwin(first), newer: edited, changed: [part], ctx: sctx }), undefined)
      const main = new MemoryTwin(first)
      main.set(MANIFEST, stableStringify({ entries: [], leftovers: [], version: 2 }))
      assert.equal(await provider.narrow({ older: new MemoryTwin(first), newer: main, changed: [MANIFEST], ctx: sctx }), undefined)
    })
  })
})
