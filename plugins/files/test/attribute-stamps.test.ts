import { strict as assert } from 'node:assert'
import { execFileSync } from 'node:child_process'
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createTestContext } from '@twinsync/sdk/conformance'
import { LocalHost, MemoryCache, RecordingHost, type FileStat } from '@twinsync/sdk'
import { FilesProvider } from '../src/index.js'
import { partOf } from '../src/manifest.js'
import { debianLikeRoot, type TargetRoot } from './target-root.js'

/**
 * attribute-cache.ts (session 51): the extended attributes' stamps kept by group (the walk's parts
 * when it is digested by part, else one), against the real getcap, getfattr, setfattr and setcap:
 * the answer is always what a walk of everything gives; only the groups whose walk moved make
 * their lines, and the tools are asked about the paths whose stamp moved alone.
 */
describe('files provider: attribute stamps kept by part', function () {
  // Each test collects 1,300-1,600 paths several times with the real tools (see the one-group test below: about 16 s of CPU for a dozen).
  this.timeout(180_000)
  const b64 = (text: string) => `0s${Buffer.from(text).toString('base64')}` // as getfattr -e base64 prints it
  const settle = () => new Promise((r) => setTimeout(r, 250)) // past the racily-clean window
  let root: TargetRoot
  let host: RecordingHost
  let cache: MemoryCache
  const collectWith = async (c: MemoryCache, h: RecordingHost) => (await new FilesProvider().collect({ ctx: createTestContext(root.dir, { host: h, cache: c }) })).state
  const collect = () => collectWith(cache, host)
  const walk = () => collectWith(new MemoryCache(), new RecordingHost(new LocalHost(root.dir)))
  type State = Awaited<ReturnType<typeof collect>>
  // As the provider loads them (its collect is a dynamic import: the module instances its counter and threshold live in).
  const linesMade = async () => (await import('../src/attribute-cache.js')).attributeStampLinesMade()
  const splitFrom = async (entries: number | undefined) => (await import('../src/manifest.js')).setSplitFromForTests(entries)
  const attributesOf = (state: State) => state.entries.filter((e) => e.capabilities !== undefined || e.xattrs !== undefined).map((e) => [e.path, e.capabilities, e.xattrs])
  const xattrsOf = (state: State, path: string) => state.entries.find((e) => e.path === path)?.xattrs
  const asked = (from: number) => host.queries.slice(from).filter(([command]) => command === 'getcap' || command === 'getfattr')
  const askedPaths = (from: number) => [...new Set(asked(from).flatMap(([, args]) => args.filter((a) => a.startsWith('/')).map((a) => a.slice(root.dir.length))))].sort()
  const walkedRoots = (from: number) => asked(from).some(([, args]) => args.includes('-r') || args.includes('-R'))
  const note = (path: string, value: string) => execFileSync('setfattr', ['-n', 'user.note', '-v', value, root.path(path)])
  /** Folders under /etc/many, FOLDERS of them with FILES files each. */
  const FOLDERS = 60
  const FILES = 22
  const file = (d: number, f: number) => `/etc/many/d${d}/f${f}.conf`
  /** Two folders (the first file of each) whose paths lie in other parts, and another for a third. */
  let folders: number[]
  beforeEach(() => {
    root = debianLikeRoot()
    for (let d = 0; d < FOLDERS; d++) {
      mkdirSync(root.path(`etc/many/d${d}`), { recursive: true })
      for (let f = 0; f < FILES; f++) writeFileSync(root.path(file(d, f)), `folder ${d} file ${f}\n`)
    }
    folders = []
    for (let d = 0; d < FOLDERS && folders.length < 3; d++) if (!folders.some((o) => partOf(file(o, 0)) === partOf(file(d, 0)))) folders.push(d)
    host = new RecordingHost(new LocalHost(root.dir))
    cache = new MemoryCache()
  })
  afterEach(() => root.remove())

  describe('a walk digested by part (a split manifest)', () => {
    // About 1,400 walked paths: split from 500 entries, so the walk is digested by part.
    before(() => splitFrom(500))
    after(() => splitFrom(undefined))

    it('a file changed, attributes set in its part and in another: only those parts\' lines made, the tools asked about the moved paths alone, the answer a walk\'s', async () => {
      const [a = 0, b = 0, c = 0] = folders
      note(file(a, 1), 'one')
      note(file(b, 1), 'one')
      note(file(c, 1), 'kept')
      await settle()
      const first = await collect()
      const total = first.entries.length
      assert.ok(total > 1300, `${total} paths walked`)
      // The changed part: a file's content and another's attribute; an untouched part: an attribute alone.
      writeFileSync(root.path(file(a, 2)), 'changed\n')
      note(file(a, 1), 'two')
      note(file(b, 1), 'two')
      await settle()
      let from = host.queries.length
      let lines = await linesMade()
      const changed = await collect()
      const made = (await linesMade()) - lines
      assert.deepEqual(askedPaths(from), [file(a, 1), file(a, 2), file(b, 1)].sort())
      assert.ok(!walkedRoots(from), 'no walk of the roots')
      const inParts = first.entries.filter((e) => partOf(e.path) === partOf(file(a, 0)) || partOf(e.path) === partOf(file(b, 0))).length
      assert.ok(made > 0 && made <= inParts + 2, `the two parts' lines alone: ${made} made, ${inParts} paths in them, ${total} walked`)
      assert.equal(xattrsOf(changed, file(a, 1))?.['user.note'], b64('two'), 'the changed part')
      assert.equal(xattrsOf(changed, file(b, 1))?.['user.note'], b64('two'), 'another part')
      assert.equal(xattrsOf(changed, file(c, 1))?.['user.note'], b64('kept'), 'an untouched part\'s kept answer')
      assert.deepEqual(attributesOf(changed), attributesOf(await walk()), 'the same answer as a walk of everything')

      from = host.queries.length
      lines = await linesMade()
      await collect()
      assert.deepEqual(asked(from), [], 'nothing moved: no tool runs')
      assert.equal((await linesMade()) - lines, 0, 'nor any line made')

      // A file's content alone, in a third part (its ctime moved with it): asked about it alone.
      writeFileSync(root.path(file(c, 3)), 'changed too\n')
      await settle()
      from = host.queries.length
      assert.deepEqual(attributesOf(await collect()), attributesOf(await walk()))
      assert.deepEqual(askedPaths(from), [file(c, 3)])
    })

    it('a file added with attributes and a capability, one removed, one renamed: their parts\' stamps moved, the answer a walk\'s', async () => {
      const [a = 0, b = 0, c = 0] = folders
      note(file(a, 1), 'removed soon')
      note(file(b, 1), 'renamed soon')
      await settle()
      await collect()
      rmSync(root.path(file(a, 1)))
      renameSync(root.path(file(b, 1)), root.path(`/etc/many/d${c}/renamed.conf`))
      writeFileSync(root.path(`/etc/many/d${c}/added.conf`), 'added\n')
      note(`/etc/many/d${c}/added.conf`, 'added')
      execFileSync('setcap', ['cap_net_raw=ep', root.path(`/etc/many/d${c}/added.conf`)])
      await settle()
      const from = host.queries.length
      const state = await collect()
      assert.ok(!walkedRoots(from), 'no walk of the roots')
      assert.deepEqual(attributesOf(state), attributesOf(await walk()), 'the same answer as a walk of everything')
      assert.equal(xattrsOf(state, file(a, 1)), undefined, 'the removed file is gone')
      assert.equal(state.entries.find((e) => e.path === file(b, 1)), undefined, 'the renamed file\'s old name is gone')
      assert.equal(xattrsOf(state, `/etc/many/d${c}/renamed.conf`)?.['user.note'], b64('renamed soon'), 'its attributes under its new name')
      const added = state.entries.find((e) => e.path === `/etc/many/d${c}/added.conf`)
      assert.equal(added?.capabilities, 'cap_net_raw=ep')
      assert.equal(added?.xattrs?.['user.note'], b64('added'))
    })

    it('a racy path: its part\'s stamps never trusted while it is racy, asked again at every look (cachedAttributes, the read\'s start set)', async () => {
      const { cachedAttributes } = await import('../src/attribute-cache.js')
      const { walkDigests } = await import('../src/documents-token.js')
      const [a = 0, b = 0] = folders
      const paths = [a, b].flatMap((d) => [`/etc/many/d${d}`, ...Array.from({ length: FILES }, (_, f) => file(d, f))])
      const walked = async () => Promise.all(paths.map(async (path) => ({ path, stat: (await host.lstat(path)) as FileStat, part: partOf(path) })))
      const look = async (startedAt: number) => {
        const items = await walked()
        const from = host.queries.length
        const read = await cachedAttributes({ host, cache }, ['/etc/many'], items, startedAt, walkDigests(items, startedAt, true))
        return { note: read.xattrs.get(file(a, 1))?.['user.note'], asked: askedPaths(from) }
      }
      await settle()
      assert.deepEqual(await look(Date.now()), { note: undefined, asked: ['/etc/many'] }, 'a first look walks the roots')
      note(file(a, 1), 'fresh')
      const changed = ((await host.lstat(file(a, 1))) as FileStat).ctimeMs
      // Read within RACY_MS of the change: racy, twice.
      assert.deepEqual(await look(changed + 50), { note: b64('fresh'), asked: [file(a, 1)] })
      assert.deepEqual(await look(changed + 60), { note: b64('fresh'), asked: [file(a, 1)] }, 'asked again: its stamp was not trusted')
      // Settled: asked once more (the stamp kept was "-"), then trusted.
      assert.deepEqual(await look(changed + 5000), { note: b64('fresh'), asked: [file(a, 1)] })
      assert.deepEqual(await look(changed + 6000), { note: b64('fresh'), asked: [] }, 'settled, then trusted')
    })

    it('a part\'s stamps record lost, or not the one the answer names: the roots walked, the answer a walk\'s', async () => {
      const [a = 0, b = 0] = folders
      const key = (d: number) => `attribute-stamps-v2-${partOf(file(d, 0))}`
      note(file(a, 1), 'one')
      note(file(b, 1), 'one')
      await settle()
      await collect()
      const record = (await cache.read(key(a))) as string
      assert.match(record, /^[0-9a-f]{64}\n/, 'a record tagged with its lines\' digest')
      // Another record with this walk's lines (a stamp of the moved file as it is now): taken, it would hide the change.
      note(file(a, 1), 'two')
      await settle()
      const stat = (await new LocalHost(root.dir).lstat(file(a, 1))) as { dev: number; ino: number; ctimeMs: number }
      const lines = record.slice(65).split('\n').map((line) => (line.endsWith(`\t${file(a, 1)}`) ? `${stat.dev}:${stat.ino}:${stat.ctimeMs}\t${file(a, 1)}` : line))
      await cache.write(key(a), `${'0'.repeat(64)}\n${lines.join('\n')}`)
      let from = host.queries.length
      assert.equal(xattrsOf(await collect(), file(a, 1))?.['user.note'], b64('two'))
      assert.ok(walkedRoots(from), 'a foreign record: the roots walked')
      // Lost.
      note(file(b, 1), 'two')
      await settle()
      await cache.remove(key(b))
      from = host.queries.length
      const state = await collect()
      assert.ok(walkedRoots(from), 'a lost record: the roots walked')
      assert.deepEqual(attributesOf(state), attributesOf(await walk()))
    })

    it('a record of session 50\'s form (attributes-v4), even one naming this very walk: not read; the roots walked once, the former records removed', async () => {
      const [a = 0] = folders
      note(file(a, 1), 'one')
      await settle()
      await collect()
      // This walk's digest and base, as session 50's record held them, with an answer the machine does not give.
      const own = JSON.parse(((await cache.read('attributes-v5')) ?? (await cache.read('attributes-v4'))) as string) as { base: string; walk: string; value: { xattrs: Array<[string, Record<string, string>]> } }
      assert.match(own.walk, /^parts:[0-9a-f]{64}$/)
      const stale = { capabilities: [], xattrs: own.value.xattrs.map(([path, attrs]) => [path, { ...attrs, 'user.stale': b64('stale') }]), diagnostics: [] }
      await cache.remove('attributes-v5')
      await cache.write('attributes-v4', JSON.stringify({ signature: 'x', base: own.base, value: stale, walk: own.walk }))
      await cache.write('attribute-stamps-v1', 'x\nchunks  \n')
      await cache.write('attribute-stamps-delta-v1', 'x\n')
      const from = host.queries.length
      const state = await collect()
      assert.deepEqual(xattrsOf(state, file(a, 1)), { 'user.note': b64('one') }, 'the older record\'s answer not taken')
      assert.ok(walkedRoots(from), 'the roots walked')
      assert.deepEqual(attributesOf(state), attributesOf(await walk()))
      for (const former of ['attributes-v4', 'attribute-stamps-v1', 'attribute-stamps-delta-v1']) assert.equal(await cache.read(former), undefined, `${former} removed`)
      const again = host.queries.length
      await collect()
      assert.deepEqual(asked(again), [], 'then kept as ever')
    })
  })

  it('a walk that changes form, by part to one: the groups past the one are removed, never left unread (session 51\'s review)', async () => {
    const [a = 0] = folders
    note(file(a, 1), 'one')
    await settle()
    await splitFrom(500)
    try {
      await collect()
    } finally {
      await splitFrom(undefined)
    }
    const groups = async () => {
      let n = 0
      for (let p = 0; p < 64; p++) if ((await cache.read(`attribute-stamps-v2-${p}`)) !== undefined) n++
      return n
    }
    assert.ok((await groups()) > 1, 'stamps kept by part')
    const state = await collect()
    assert.deepEqual(attributesOf(state), attributesOf(await walk()))
    assert.equal(await groups(), 1, 'one group of stamps left')
    assert.match((await cache.read('attribute-stamps-v2-0')) as string, /^[0-9a-f]{64}\n/)
  })

  it('a walk in one (a whole manifest): one group of stamps, the moved paths asked alone, the answer a walk\'s', async () => {
    const [a = 0, b = 0] = folders
    note(file(a, 1), 'one')
    note(file(b, 1), 'keep')
    await settle()
    await collect()
    assert.match((await cache.read('attribute-stamps-v2-0')) as string, /^[0-9a-f]{64}\n/)
    assert.equal(await cache.read('attribute-stamps-v2-1'), undefined, 'one group')
    note(file(a, 1), 'two')
    writeFileSync(root.path(file(a, 5)), 'changed\n')
    await settle()
    let from = host.queries.length
    const changed = await collect()
    assert.deepEqual(askedPaths(from), [file(a, 1), file(a, 5)].sort())
    assert.ok(!walkedRoots(from), 'no walk of the roots')
    assert.equal(xattrsOf(changed, file(b, 1))?.['user.note'], b64('keep'))
    assert.deepEqual(attributesOf(changed), attributesOf(await walk()))
    // A path gone and one added: the same answer as a walk.
    writeFileSync(root.path(`/etc/many/d${a}/new.conf`), 'new\n')
    rmSync(root.path(file(b, 1)))
    note(file(a, 1), 'three')
    await settle()
    from = host.queries.length
    const shifted = await collect()
    assert.deepEqual(askedPaths(from), [`/etc/many/d${a}`, file(a, 1), `/etc/many/d${a}/new.conf`, `/etc/many/d${b}`].sort())
    assert.deepEqual(attributesOf(shifted), attributesOf(await walk()))
    from = host.queries.length
    await collect()
    assert.deepEqual(asked(from), [], 'nothing moved: no tool runs')
  })
})
