import { strict as assert } from 'node:assert'
import { chmodSync, mkdirSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs'
import { createTestContext } from '@twinsync/sdk/conformance'
import { MemoryTwin, type ProviderContext, type TwinDocument, type TwinReader } from '@twinsync/sdk'
import { FilesProvider, type Manifest } from '../src/index.js'
import { NARROW_FROM } from '../src/narrow.js'
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

  it('does not narrow when a folder goes but an entry below it stays, or a machine file changed without its entry', async () => {
    const manifest = JSON.parse(String(base.find((d) => d.path === 'system/files/manifest.json')?.content)) as Manifest
    const edited = (m: Manifest) => base.map((d) => (d.path === 'system/files/manifest.json' ? { ...d, content: `${JSON.stringify(m, null, 2)}\n` } : d))
    const gone = { ...manifest, entries: manifest.entries.filter((e) => e.path !== '/etc/many/d3/sub') }
    const older = new MemoryTwin(base)
    const withoutFolder = new MemoryTwin(edited(gone))
    assert.equal(await provider.narrow({ older, newer: withoutFolder, changed: ['system/files/manifest.json'], ctx }), undefined)
    const doc = new MemoryTwin(base)
    doc.set('filesystem/etc/many/d2/f200.conf', 'edited without its entry\n')
    assert.equal(await provider.narrow({ older, newer: doc, changed: ['filesystem/etc/many/d2/f200.conf'], ctx }), undefined)
    // Not the provider's layout: compared whole.
    const compact = new MemoryTwin(base)
    compact.set('system/files/manifest.json', JSON.stringify(manifest))
    assert.equal(await provider.narrow({ older, newer: compact, changed: ['system/files/manifest.json'], ctx }), undefined)
  })
})
