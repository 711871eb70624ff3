import { strict as assert } from 'node:assert'
import { chmodSync, mkdirSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs'
import { createTestContext } from '@twinsync/sdk/conformance'
import { MemoryTwin, stableStringify, type ProviderContext, type TwinDocument, type TwinReader } from '@twinsync/sdk'
import { FilesProvider, type Manifest } from '../src/index.js'
import { partOf, partPath } from '../src/manifest.js'
import { NARROW_FROM } from '../src/narrow.js'
import type { ManifestEntry } from '../src/state.js'
import { debianLikeRoot, type TargetRoot } from './target-root.js'

const provider = new FilesProvider()

/** What happened between two twins, as a snapshot's diary line asks it: diff(desired: newer, actual: older). */
async function changesBetween(ctx: ProviderContext, older: TwinReader, newer: TwinReader) {
  const [before, after] = await Promise.all([provider.load({ ctx, twin: older }), provider.load({ ctx, twin: newer })])
  assert.ok(before.state && after.state)
  const diff = provider.diff({ desired: after.state, actual: before.state, ctx })
  return { changes: diff.changes, diagnostics: [...before.diagnostics, ...after.diagnostics, ...diff.diagnostics] }
}

/** The twin paths whose bytes differ. */
function changedPaths(a: readonly TwinDocument[], b: readonly TwinDocument[]): string[] {
  const text = (d: TwinDocument) => (typeof d.content === 'string' ? d.content : Buffer.from(d.content).toString('utf8'))
  const older = new Map(a.map((d) => [d.path, text(d)]))
  const newer = new Map(b.map((d) => [d.path, text(d)]))
  return [...new Set([...older.keys(), ...newer.keys()])].filter((p) => older.get(p) !== newer.get(p))
}

describe('files provider: narrowing a comparison to the manifest entries that differ', () => {
  let root: TargetRoot
  let ctx: ProviderContext
  let base: TwinDocument[]
  beforeEach(async () => {
    root = debianLikeRoot()
    // Enough files for a manifest above NARROW_FROM, in folders of 100.
    for (let i = 0; i < 1200; i++) root.file(`/etc/many/d${Math.floor(i / 100)}/f${i}.conf`, `value = ${i}\n`)
    root.file('/etc/many/d3/sub/inner.conf', 'inner\n')
    // Entries that sort between a folder and the entries below it ('-' and '.' before '/').
    for (const n of ['sub-1', 'sub-2', 'sub.3', 'sub.4']) root.file(`/etc/many/d3/${n}.conf`, `${n}\n`)
    ctx = createTestContext(root.dir)
    base = (await provider.collect({ ctx })).documents
    const manifest = base.find((d) => d.path === 'system/files/manifest.json')
    assert.ok(manifest !== undefined && manifest.content.length >= NARROW_FROM)
  })
  afterEach(() => root.remove())

  const cases: Array<[string, (r: TargetRoot) => void]> = [
    ['a file changed', (r) => writeFileSync(r.path('/etc/many/d5/f512.conf'), 'value = changed\n')],
    ['a file added', (r) => r.file('/etc/many/d5/f512b.conf', 'new\n')],
    ['a folder of files added', (r) => r.file('/etc/many/d5/new/a.conf', 'a\n').file('/etc/many/d5/new/b.conf', 'b\n')],
    ['a file removed', (r) => unlinkSync(r.path('/etc/many/d7/f777.conf'))],
    ['a folder with files below removed', (r) => rmSync(r.path('/etc/many/d3'), { recursive: true })],
    ['a mode changed', (r) => chmodSync(r.path('/etc/many/d2/f250.conf'), 0o600)],
    ['a folder became a file', (r) => (rmSync(r.path('/etc/many/d3/sub'), { recursive: true }), writeFileSync(r.path('/etc/many/d3/sub'), 'now a file\n'))],
    ['a file became a symlink', (r) => (unlinkSync(r.path('/etc/many/d4/f400.conf')), symlinkSync('/etc/hosts', r.path('/etc/many/d4/f400.conf')))],
    ['a symlink retargeted', (r) => (unlinkSync(r.path('/etc/localtime')), symlinkSync('/usr/share/zoneinfo/Europe/Paris', r.path('/etc/localtime')))],
    ['a file renamed', (r) => renameSync(r.path('/etc/many/d1/f150.conf'), r.path('/etc/many/d9/f150.conf'))],
    ['changes at both ends', (r) => (writeFileSync(r.path('/etc/adduser.conf'), 'DSHELL=/bin/zsh\n'), writeFileSync(r.path('/root/.profile'), 'x\n'))],
    ['a secret file changed', (r) => writeFileSync(r.path('/etc/ssl/private/site.key'), 'another key\n')],
    ['nothing but a new folder', (r) => mkdirSync(r.path('/etc/many/d6/empty'))],
  ]
  for (const [name, change] of cases) {
    it(`gives exactly the whole comparison's changes: ${name}`, async () => {
      change(root)
      const next = (await provider.collect({ ctx })).documents
      const older = new MemoryTwin(base)
      const newer = new MemoryTwin(next)
      const changed = changedPaths(base, next)
      assert.ok(changed.length > 0)
      const whole = await changesBetween(ctx, older, newer)
      assert.ok(whole.changes.length + whole.diagnostics.length > 0, 'something changed')
      const narrowed = await provider.narrow({ older, newer, changed, ctx })
      if (narrowed === undefined) {
        assert.ok(['changes at both ends', 'a file renamed'].includes(name), 'only changes far apart are compared whole')
        return
      }
      assert.ok(((await narrowed.older.readText('system/files/manifest.json')) ?? '').length < 40_000, 'a few entries')
      assert.deepEqual(await changesBetween(ctx, narrowed.older, narrowed.newer), whole)
    })
  }

  it('does not narrow when a folder goes but an entry below it stays; a machine file changed without its entry is narrowed to its entry', async () => {
    const manifest = JSON.parse(String(base.find((d) => d.path === 'system/files/manifest.json')?.content)) as Manifest
    const edited = (m: Manifest) => base.map((d) => (d.path === 'system/files/manifest.json' ? { ...d, content: `${JSON.stringify(m, null, 2)}\n` } : d))
    const gone = { ...manifest, entries: manifest.entries.filter((e) => e.path !== '/etc/many/d3/sub') }
    const older = new MemoryTwin(base)
    const withoutFolder = new MemoryTwin(edited(gone))
    assert.equal(await provider.narrow({ older, newer: withoutFolder, changed: ['system/files/manifest.json'], ctx }), undefined)
    const doc = new MemoryTwin(base)
    doc.set('filesystem/etc/many/d2/f200.conf', 'edited without its entry\n')
    // A machine file changed without its entry (the manifest the same): narrowed to its entry (session 22).
    assert.equal(await narrowedOrWhole(older, doc, ['filesystem/etc/many/d2/f200.conf']), 'narrowed')
    // Not the provider's layout: compared whole.
    const compact = new MemoryTwin(base)
    compact.set('system/files/manifest.json', JSON.stringify(manifest))
    assert.equal(await provider.narrow({ older, newer: compact, changed: ['system/files/manifest.json'], ctx }), undefined)
  })

  /**
   * The comparison the intent service makes (itemsBetween: the last snapshot against the twin a
   * person edited), whole and narrowed: the same states' changes, or the same failure.
   */
  async function whole(older: TwinReader, newer: TwinReader) {
    const [before, after] = await Promise.all([provider.load({ ctx, twin: older }), provider.load({ ctx, twin: newer })])
    const diagnostics = [...before.diagnostics, ...after.diagnostics]
    if (before.state === undefined || after.state === undefined) return { failed: true, diagnostics }
    const diff = provider.diff({ desired: after.state, actual: before.state, ctx })
    return { failed: false, changes: diff.changes, diagnostics: [...diagnostics, ...diff.diagnostics] }
  }
  /** 'narrowed' when narrowing gave exactly the whole comparison, 'whole' when it declined. */
  async function narrowedOrWhole(older: TwinReader, newer: TwinReader, changed: string[]): Promise<'narrowed' | 'whole'> {
    const expected = await whole(older, newer)
    const narrowed = await provider.narrow({ older, newer, changed, ctx })
    if (narrowed === undefined) return 'whole'
    assert.deepEqual(await whole(narrowed.older, narrowed.newer), expected)
    return 'narrowed'
  }
  const MANIFEST = 'system/files/manifest.json'
  const manifestOf = () => JSON.parse(String(base.find((d) => d.path === MANIFEST)?.content)) as Manifest
  /** The snapshot's documents with the manifest as a person writes it back (JSON.stringify, two spaces) and documents set or removed. */
  const editedTwin = (manifest: Manifest, documents: Record<string, string | undefined> = {}) => {
    const twin = new MemoryTwin(base.filter((d) => !(d.path in documents) || documents[d.path] !== undefined))
    twin.set(MANIFEST, `${JSON.stringify(manifest, null, 2)}\n`)
    for (const [path, text] of Object.entries(documents)) if (text !== undefined) twin.set(path, text)
    return twin
  }
  const withEntry = (m: Manifest, path: string, change: (e: ManifestEntry) => ManifestEntry | undefined): Manifest => ({
    ...m,
    entries: m.entries.flatMap((e) => (e.path === path ? [change(e)].filter((x): x is ManifestEntry => x !== undefined) : [e])),
  })
  const entryOf = (m: Manifest, path: string) => m.entries.find((e) => e.path === path) as ManifestEntry

  describe('an edited twin against its snapshot (what the intent service compares)', () => {
    it('a mode edited, an entry and its document removed: narrowed, the same changes', async () => {
      const m = manifestOf()
      const older = new MemoryTwin(base)
      assert.equal(await narrowedOrWhole(older, editedTwin(withEntry(m, '/etc/many/d4/f404.conf', (e) => ({ ...e, mode: '0600' }))), [MANIFEST]), 'narrowed')
      const removed = editedTwin(withEntry(m, '/etc/many/d4/f404.conf', () => undefined), { 'filesystem/etc/many/d4/f404.conf': undefined })
      assert.equal(await narrowedOrWhole(older, removed, [MANIFEST, 'filesystem/etc/many/d4/f404.conf']), 'narrowed')
    })

    it('a mirrored file edited, the manifest as it was: narrowed to its entry; a document no entry lists: compared whole', async () => {
      const m = manifestOf()
      const older = new MemoryTwin(base)
      const edited = editedTwin(m, { 'filesystem/etc/many/d4/f404.conf': 'edited\n', 'filesystem/etc/many/d9/f999.conf': 'edited too\n' })
      assert.equal(await narrowedOrWhole(older, edited, ['filesystem/etc/many/d4/f404.conf', 'filesystem/etc/many/d9/f999.conf']), 'narrowed')
      const narrowed = await provider.narrow({ older, newer: edited, changed: ['filesystem/etc/many/d4/f404.conf', 'filesystem/etc/many/d9/f999.conf'], ctx })
      assert.deepEqual(await narrowed?.newer.list('filesystem/'), ['filesystem/etc/many/d4/f404.conf', 'filesystem/etc/many/d9/f999.conf'])
      const unlisted = editedTwin(m, { 'filesystem/etc/many/d4/new.conf': 'new\n' })
      assert.equal(await narrowedOrWhole(older, unlisted, ['filesystem/etc/many/d4/new.conf']), 'whole')
    })

    it('a path listed again far from its entry: compared whole (a duplicate, or one asking another mode)', async () => {
      const m = manifestOf()
      const older = new MemoryTwin(base)
      const copy = entryOf(m, '/etc/many/d4/f404.conf')
      // Put among another folder's entries: the narrowed part holds it alone, the whole manifest twice.
      const at = m.entries.findIndex((e) => e.path === '/etc/many/d9/f950.conf')
      for (const again of [{ ...copy }, { ...copy, mode: '0600' }]) {
        assert.equal(await narrowedOrWhole(older, editedTwin({ ...m, entries: [...m.entries.slice(0, at), again, ...m.entries.slice(at)] }), [MANIFEST]), 'whole')
      }
    })

    it('an entry taken out or made a folder while its document stays: compared whole (the document read as a new file)', async () => {
      const m = manifestOf()
      const older = new MemoryTwin(base)
      assert.equal(await narrowedOrWhole(older, editedTwin(withEntry(m, '/etc/many/d4/f404.conf', () => undefined)), [MANIFEST]), 'whole')
      assert.equal(await narrowedOrWhole(older, editedTwin(withEntry(m, '/etc/many/d4/f404.conf', (e) => ({ path: e.path, type: 'directory', mode: '0755', owner: 'root', uid: 0, group: 'root', gid: 0 }))), [MANIFEST]), 'whole')
    })

    describe('a manifest in parts', () => {
      /** The snapshot's documents with the manifest split (manifest.ts's layout), `edit` applied to its entries first. */
      const splitTwin = (edit: (entries: ManifestEntry[]) => ManifestEntry[] = (e) => e, documents: Record<string, string | undefined> = {}) => {
        const m = manifestOf()
        const twin = new MemoryTwin(base.filter((d) => d.path !== MANIFEST && (!(d.path in documents) || documents[d.path] !== undefined)))
        twin.set(MANIFEST, stableStringify({ ...m, entries: [], version: 2 }))
        const parts = new Map<string, ManifestEntry[]>()
        for (const e of edit(m.entries)) parts.set(partPath(partOf(e.path)), [...(parts.get(partPath(partOf(e.path))) ?? []), e])
        for (const [part, list] of parts) twin.set(part, stableStringify({ entries: list }))
        for (const [path, text] of Object.entries(documents)) if (text !== undefined) twin.set(path, text)
        return twin
      }
      const changedBetween = async (a: MemoryTwin, b: MemoryTwin) => {
        const paths = [...new Set([...(await a.list('')), ...(await b.list(''))])]
        const text = async (t: MemoryTwin, p: string) => (await t.readText(p)) ?? null
        return (await Promise.all(paths.map(async (p) => ((await text(a, p)) === (await text(b, p)) ? undefined : p)))).filter((p): p is string => p !== undefined)
      }
      const edit = (path: string, change: (e: ManifestEntry) => ManifestEntry | undefined) => (entries: ManifestEntry[]) =>
        entries.flatMap((e) => (e.path === path ? [change(e)].filter((x): x is ManifestEntry => x !== undefined) : [e]))

      it('narrows within a part: only the entry that differs is loaded, its document alone read', async () => {
        const older = splitTwin()
        const newer = splitTwin(edit('/etc/many/d4/f404.conf', (e) => ({ ...e, mode: '0600' })))
        const changed = await changedBetween(older, newer)
        assert.deepEqual(changed, [partPath(partOf('/etc/many/d4/f404.conf'))])
        assert.equal(await narrowedOrWhole(older, newer, changed), 'narrowed')
        const narrowed = await provider.narrow({ older, newer, changed, ctx })
        assert.deepEqual((await narrowed?.newer.list('filesystem/')) ?? [], ['filesystem/etc/many/d4/f404.conf'])
        const part = JSON.parse((await narrowed?.newer.readText(changed[0] as string)) ?? '{}') as { entries: ManifestEntry[] }
        assert.deepEqual(part.entries.map((e) => e.path), ['/etc/many/d4/f404.conf'])
      })

      it('a document edited, an entry with its document removed, one added: narrowed, the same changes', async () => {
        const older = splitTwin()
        const doc = splitTwin((e) => e, { 'filesystem/etc/many/d4/f404.conf': 'edited\n' })
        assert.equal(await narrowedOrWhole(older, doc, await changedBetween(older, doc)), 'narrowed')
        const removed = splitTwin(edit('/etc/many/d4/f404.conf', () => undefined), { 'filesystem/etc/many/d4/f404.conf': undefined })
        assert.equal(await narrowedOrWhole(older, removed, await changedBetween(older, removed)), 'narrowed')
        const added = splitTwin((entries) => [...entries, { path: '/etc/many/d4/new.conf', type: 'file', mode: '0640', uid: 0, gid: 0, content: 'mirrored' }], { 'filesystem/etc/many/d4/new.conf': 'new\n' })
        assert.equal(await narrowedOrWhole(older, added, await changedBetween(older, added)), 'narrowed')
      })

      it('an entry taken out or made a folder while its document stays: compared whole', async () => {
        const older = splitTwin()
        const out = splitTwin(edit('/etc/many/d4/f404.conf', () => undefined))
        assert.equal(await narrowedOrWhole(older, out, await changedBetween(older, out)), 'whole')
        const folder = splitTwin(edit('/etc/many/d4/f404.conf', (e) => ({ path: e.path, type: 'directory', mode: '0755', owner: 'root', uid: 0, group: 'root', gid: 0 })))
        assert.equal(await narrowedOrWhole(older, folder, await changedBetween(older, folder)), 'whole')
      })

      it('a folder taken out whose entries below stay in its own part: compared whole', async () => {
        // A folder whose entries below it fall in the part of its own entry (the folder above's), found by name.
        let name = ''
        for (let k = 0; name === ''; k++) if (partOf(`/etc/many/d5/s${k}/x`) === partOf('/etc/many/d5/x')) name = `/etc/many/d5/s${k}`
        root.file(`${name}/inner.conf`, 'inner\n')
        base = (await provider.collect({ ctx })).documents
        const older = splitTwin()
        const gone = splitTwin(edit(name, () => undefined))
        const changed = await changedBetween(older, gone)
        assert.deepEqual(changed, [partPath(partOf(name))])
        assert.equal(await narrowedOrWhole(older, gone, changed), 'whole')
      })

      it('a part that is not valid, or lists a path of another part: narrowed to the part as it is, the same failure', async () => {
        const older = splitTwin()
        const invalid = splitTwin(edit('/etc/many/d4/f404.conf', (e) => ({ ...e, uid: -1 })))
        assert.equal(await narrowedOrWhole(older, invalid, await changedBetween(older, invalid)), 'narrowed')
        assert.equal((await whole(older, invalid)).failed, true)
      })
    })
  })
})
