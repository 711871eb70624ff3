import { strict as assert } from 'node:assert'
import { chmodSync, lchownSync, mkdirSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs'
import { createTestContext } from '@twinsync/sdk/conformance'
import { MemoryTwin, stableStringify, type ProviderContext, type TwinDocument, type TwinReader } from '@twinsync/sdk'
import { FilesProvider } from '../src/index.js'
import { partOf } from '../src/manifest.js'
import { debianLikeRoot, type TargetRoot } from './target-root.js'

const provider = new FilesProvider()
const MANIFEST = 'system/files/manifest.json'
const text = (d: TwinDocument) => (typeof d.content === 'string' ? d.content : Buffer.from(d.content).toString('utf8'))

/** The twin paths whose bytes differ. */
function changedPaths(a: readonly TwinDocument[], b: readonly TwinDocument[]): string[] {
  const older = new Map(a.map((d) => [d.path, text(d)]))
  const newer = new Map(b.map((d) => [d.path, text(d)]))
  return [...new Set([...older.keys(), ...newer.keys()])].filter((p) => older.get(p) !== newer.get(p))
}

/** A side of a comparison that notes every prefix it is asked to list; with TwinReader.has (a snapshot's draft, a commit's tree) or without it. */
function noting(twin: MemoryTwin, withHas: boolean, listed: string[]): TwinReader {
  return {
    read: (path) => twin.read(path),
    readText: (path) => twin.readText(path),
    sizeOf: (path) => twin.sizeOf(path),
    list: (prefix) => {
      listed.push(prefix)
      return twin.list(prefix)
    },
    ...(withHas ? { has: (path: string) => twin.has(path) } : {}),
  }
}

/**
 * Session 48: the narrowing of a split manifest (a snapshot's diary line) asks each side about the
 * paths it narrows to, one by one (TwinReader.has), instead of listing filesystem/ and the parts:
 * the same changes as the whole comparison, on every kind of change, with a reader that can say
 * and with one that only lists.
 */
describe('files provider: the narrowing asks about the paths it narrows to, never lists them', function () {
  this.timeout(120_000)
  let root: TargetRoot
  let ctx: ProviderContext
  let first: TwinDocument[]
  // The module the provider imports (dynamically: a static import here is another instance under tsx).
  const split = async (entries: number | undefined) => (await import('../src/manifest.js')).setSplitFromForTests(entries)
  before(() => split(64))
  after(() => split(undefined))
  beforeEach(async () => {
    root = debianLikeRoot()
    for (let i = 0; i < 200; i++) root.file(`/etc/many/d${Math.floor(i / 20)}/f${i}.conf`, `value = ${i}\n`)
    root.file('/etc/many/d3/sub/deep/inner.conf', 'inner\n')
    ctx = createTestContext(root.dir)
    first = (await provider.collect({ ctx })).documents
    assert.ok(first.some((d) => d.path.startsWith('system/files/manifest/')), 'the manifest is in parts')
  })
  afterEach(() => root.remove())

  /** What happened between two twins, as a snapshot's diary line asks it. */
  async function changesBetween(older: TwinReader, newer: TwinReader) {
    const [before, after] = await Promise.all([provider.load({ ctx, twin: older }), provider.load({ ctx, twin: newer })])
    assert.ok(before.state && after.state)
    const diff = provider.diff({ desired: after.state, actual: before.state, ctx })
    return { changes: diff.changes, diagnostics: [...before.diagnostics, ...after.diagnostics, ...diff.diagnostics] }
  }

  /** A file of another folder whose entry lies in another part than `path`'s. */
  const elsewhere = (path: string) => {
    for (let i = 0; ; i++) {
      const folder = `/etc/many/d${i % 10}x${i}`
      if (partOf(`${folder}/f.conf`) !== partOf(path)) return `${folder}/f.conf`
    }
  }

  /** What the machine did, or what a person did to the twin (`twin`: the documents after it). */
  /** `gone`: a folder goes, so the older side's other parts are searched for entries below it (listed, as before). */
  const cases: Array<[string, { machine?: (r: TargetRoot) => void; twin?: (docs: TwinDocument[]) => TwinDocument[]; whole?: true; gone?: true }]> = [
    ['a file changed', { machine: (r) => writeFileSync(r.path('/etc/many/d5/f105.conf'), 'value = changed\n') }],
    ['a file added', { machine: (r) => r.file('/etc/many/d5/f105b.conf', 'new\n') }],
    ['a file removed', { machine: (r) => unlinkSync(r.path('/etc/many/d7/f147.conf')) }],
    ['a folder of files added', { machine: (r) => r.file('/etc/many/d5/new/a.conf', 'a\n').file('/etc/many/d5/new/b.conf', 'b\n') }],
    ['a folder with files below removed', { machine: (r) => rmSync(r.path('/etc/many/d3'), { recursive: true }), gone: true }],
    ['an empty folder made', { machine: (r) => mkdirSync(r.path('/etc/many/d6/empty')) }],
    ['a mode changed', { machine: (r) => chmodSync(r.path('/etc/many/d2/f50.conf'), 0o600) }],
    ['an owner changed', { machine: (r) => lchownSync(r.path('/etc/many/d2/f51.conf'), 1, 1) }],
    ['a folder\'s mode changed', { machine: (r) => chmodSync(r.path('/etc/many/d4'), 0o700) }],
    ['a file moved to a folder of another part', { machine: (r) => (r.dirAt(elsewhere('/etc/many/d1/f30.conf').replace('/f.conf', '')), renameSync(r.path('/etc/many/d1/f30.conf'), r.path(elsewhere('/etc/many/d1/f30.conf')))) }],
    ['a folder became a file', { machine: (r) => (rmSync(r.path('/etc/many/d3/sub'), { recursive: true }), writeFileSync(r.path('/etc/many/d3/sub'), 'now a file\n')), gone: true }],
    ['a file became a symlink', { machine: (r) => (unlinkSync(r.path('/etc/many/d4/f80.conf')), symlinkSync('/etc/hosts', r.path('/etc/many/d4/f80.conf'))) }],
    ['a mirrored file edited in the twin, its entry as it was', { twin: (docs) => docs.map((d) => (d.path === 'filesystem/etc/many/d8/f160.conf' ? { ...d, content: 'edited\n' } : d)) }],
    ['a mirrored file\'s document taken out of the twin', { twin: (docs) => docs.filter((d) => d.path !== 'filesystem/etc/many/d8/f161.conf') }],
    ['a secret file\'s document put in the twin (listed, never mirrored)', { twin: (docs) => [...docs, { path: 'filesystem/etc/ssl/private/site.key', content: 'a key\n' }] }],
    [
      'an entry made a folder while its document stays (read as a new file): compared whole',
      {
        twin: (docs) =>
          docs.map((d) => {
            if (!d.path.startsWith('system/files/manifest/')) return d
            const part = JSON.parse(text(d)) as { entries: Array<Record<string, unknown>> }
            const entries = part.entries.map((e) => (e.path === '/etc/many/d4/f81.conf' ? { path: e.path, type: 'directory', mode: '0755', owner: 'root', uid: 0, group: 'root', gid: 0 } : e))
            return { ...d, content: stableStringify({ entries }) }
          }),
        whole: true,
      },
    ],
  ]
  for (const [name, { machine, twin, whole, gone }] of cases) {
    it(`gives exactly the whole comparison's changes: ${name}`, async () => {
      machine?.(root)
      const collected = machine === undefined ? first : (await provider.collect({ ctx })).documents
      const next = twin === undefined ? collected : twin(collected)
      const changed = changedPaths(first, next)
      assert.ok(changed.length > 0 && !changed.includes(MANIFEST))
      const expected = await changesBetween(new MemoryTwin(first), new MemoryTwin(next))
      assert.ok(whole === true || expected.changes.length > 0, 'something changed')
      for (const withHas of [true, false]) {
        const listed: string[] = []
        const older = noting(new MemoryTwin(first), withHas, listed)
        const newer = noting(new MemoryTwin(next), withHas, listed)
        const narrowed = await provider.narrow({ older, newer, changed, ctx })
        if (whole === true) {
          assert.equal(narrowed, undefined, 'compared whole')
          continue
        }
        assert.ok(narrowed !== undefined, `narrowed (has: ${withHas})`)
        assert.deepEqual(await changesBetween(narrowed.older, narrowed.newer), expected, `has: ${withHas}`)
        // Asked path by path: nothing listed, not even the parts (a listing of the scale root's draft sorts 19,626 paths).
        if (withHas) assert.deepEqual(listed, gone === true ? ['system/files/manifest/'] : [], 'nothing listed')
        else assert.ok(listed.every((prefix) => prefix === 'filesystem/' || prefix === 'system/files/manifest/'), listed.join())
      }
    })
  }

  it('compares whole a manifest in parts that has none on either side, as one too small to narrow', async () => {
    const bare = first.filter((d) => !d.path.startsWith('system/files/manifest/')).map((d) => (d.path === MANIFEST ? { ...d, content: stableStringify({ entries: [], leftovers: [], version: 2 }) } : d))
    const edited = bare.map((d) => (d.path === 'filesystem/etc/many/d8/f160.conf' ? { ...d, content: 'edited\n' } : d))
    // Another file of the provider's added by hand: no part read, nothing to tell that there are none.
    const added = [...bare, { path: 'system/files/notes.txt', content: 'a note\n' }]
    for (const [next, changed] of [[edited, ['filesystem/etc/many/d8/f160.conf']], [added, ['system/files/notes.txt']]] as const) {
      for (const withHas of [true, false]) {
        const listed: string[] = []
        assert.equal(await provider.narrow({ older: noting(new MemoryTwin(bare), withHas, listed), newer: noting(new MemoryTwin(next), withHas, listed), changed, ctx }), undefined)
      }
    }
  })
})
