import { strict as assert } from 'node:assert'
import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createTestContext } from '@twinsync/sdk/conformance'
import { isKeptUnread, MemoryCache, MemoryTwin, type HostPort, type ProviderCache, type ProviderContext, type TwinDocument } from '@twinsync/sdk'
import { FilesProvider, type FilesState, type Manifest } from '../src/index.js'
import { debianLikeRoot, type TargetRoot } from './target-root.js'

/** The host port, with one call failing at one path as a real file system would (EACCES, EIO, ELOOP). */
function failing(host: HostPort, call: 'lstat' | 'readdir' | 'readFile', path: string, code: string): HostPort {
  return new Proxy(host, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver) as unknown
      if (name !== call || typeof value !== 'function') return typeof value === 'function' ? value.bind(target) : value
      return async (p: string, ...rest: unknown[]) => {
        if (p === path) throw Object.assign(new Error(`${code}: ${call} '${p}'`), { code })
        return (value as (...args: unknown[]) => unknown).apply(target, [p, ...rest])
      }
    },
  })
}

function manifestOf(documents: readonly TwinDocument[]): Manifest {
  const doc = documents.find((d) => d.path === 'system/files/manifest.json')
  assert.ok(doc, 'collect writes system/files/manifest.json')
  return JSON.parse(String(doc.content)) as Manifest
}

const under = (documents: readonly TwinDocument[], prefix: string) =>
  documents
    .filter((d) => d.path.startsWith(`filesystem${prefix}/`))
    .map((d) => `${d.path}=${String(d.content)}`)
    .sort()
const entriesUnder = (documents: readonly TwinDocument[], prefix: string) => manifestOf(documents).entries.filter((e) => e.path === prefix || e.path.startsWith(`${prefix}/`))

/**
 * A path under the include set that cannot be read (EACCES, EIO, ELOOP…) is unknown, not gone: the
 * snapshot keeps the last snapshot's record of it (its manifest entries and mirrored texts), says
 * FILES_UNREADABLE_KEPT, and a plan changes nothing under it. Before, the walk left it (and
 * everything below it) out, and the snapshot committed it all as removed.
 */
describe('files provider: a path that cannot be read keeps the last snapshot of it', () => {
  let root: TargetRoot
  let ctx: ProviderContext
  let last: TwinDocument[]
  const provider = new FilesProvider()
  const cache = new MemoryCache()
  // Each collect without the stat cache (a file it knows unchanged is not read again), with the one secret-hash key.
  const fresh = (): ProviderCache => {
    const own = new MemoryCache()
    const shared = (key: string) => key === 'secret-hash-key'
    return { read: (key) => (shared(key) ? cache : own).read(key), write: (key, value) => (shared(key) ? cache : own).write(key, value) }
  }
  const collect = (host: HostPort, previous?: MemoryTwin) => provider.collect({ ctx: { ...ctx, host, cache: fresh() }, ...(previous === undefined ? {} : { previous }) })

  before(async () => {
    root = debianLikeRoot()
    root.file('/etc/app/conf.d/one.conf', 'one\n').file('/etc/app/conf.d/two.conf', 'two\n')
    root.file('/etc/site/site.conf', 'site\n').file('/etc/site/locked/a.conf', 'a\n')
    ctx = createTestContext(root.dir, { cache })
    last = (await provider.collect({ ctx })).documents
    assert.ok(entriesUnder(last, '/etc/app').length >= 8, 'the last snapshot records /etc/app and what is below it')
  })
  after(() => root.remove())

  it('a folder that cannot be listed (readdir EACCES): its subtree as the last snapshot has it, its own entry live, FILES_UNREADABLE_KEPT', async () => {
    const result = await collect(failing(ctx.host, 'readdir', '/etc/app', 'EACCES'), new MemoryTwin(last))
    assert.deepEqual(entriesUnder(result.documents, '/etc/app'), entriesUnder(last, '/etc/app'))
    assert.deepEqual(under(result.documents, '/etc/app'), under(last, '/etc/app'))
    assert.ok(under(last, '/etc/app').some((d) => d.startsWith('filesystem/etc/app/conf.d/one.conf=one')))
    const kept = result.diagnostics.filter(isKeptUnread)
    assert.deepEqual(kept.map((d) => [d.code, d.path, d.severity]), [['FILES_UNREADABLE_KEPT', '/etc/app', 'warning']])
    assert.match(kept[0]?.summary ?? '', /EACCES.*the twin keeps its last snapshot of it/)
    assert.deepEqual(result.state.unread, ['/etc/app'])
    // Everything else is collected as before.
    assert.deepEqual(
      manifestOf(result.documents).entries.filter((e) => !e.path.startsWith('/etc/app')),
      manifestOf(last).entries.filter((e) => !e.path.startsWith('/etc/app')),
    )
  })

  it('a path whose lstat fails (ELOOP, deep down) and a file that cannot be read (EIO): kept as they were', async () => {
    const host = failing(failing(ctx.host, 'lstat', '/etc/app/conf.d', 'ELOOP'), 'readFile', '/etc/motd', 'EIO')
    // The stat cache would answer for an unchanged /etc/motd without reading it: a first collect's.
    const result = await collect(host, new MemoryTwin(last))
    assert.deepEqual(entriesUnder(result.documents, '/etc/app/conf.d'), entriesUnder(last, '/etc/app/conf.d'))
    assert.deepEqual(entriesUnder(result.documents, '/etc/motd'), entriesUnder(last, '/etc/motd'))
    assert.equal(String(result.documents.find((d) => d.path === 'filesystem/etc/motd')?.content), String(last.find((d) => d.path === 'filesystem/etc/motd')?.content))
    assert.deepEqual(result.diagnostics.filter(isKeptUnread).map((d) => [d.path, /\((ELOOP|EIO)\)/.exec(d.summary)?.[1]]).sort(), [['/etc/app/conf.d', 'ELOOP'], ['/etc/motd', 'EIO']])
    assert.equal(result.diagnostics.some((d) => d.code === 'FILES_UNREADABLE'), false)
  })

  it('a plan plans nothing at an unreadable path: only what the twin asks there is left out, and named', async () => {
    const twin = new MemoryTwin(last)
    // A person's edit below the unreadable folder, and the twin as it was everywhere else.
    twin.set('filesystem/etc/app/conf.d/one.conf', 'edited\n')
    const desired = await provider.load({ ctx, twin })
    assert.ok(desired.state)
    // As the planner collects: with the last snapshot, so the machine's side of the folder is its record there.
    const actual = await collect(failing(ctx.host, 'readdir', '/etc/app', 'EACCES'), new MemoryTwin(last))
    const diff = provider.diff({ desired: desired.state, actual: actual.state, ctx })
    assert.deepEqual(diff.changes.filter((c) => c.resource.startsWith('/etc/app')), [], 'no create, delete or edit planned under /etc/app')
    const notes = diff.diagnostics.filter((d) => d.code === 'FILES_UNREADABLE_NOT_PLANNED')
    assert.deepEqual(notes.map((d) => [d.change, d.path, d.severity]), [['files:replace:/etc/app/conf.d/one.conf', '/etc/app', 'warning']])
    assert.match(notes[0]?.summary ?? '', /^Replace \/etc\/app\/conf\.d\/one\.conf.*: not planned, \/etc\/app could not be read/)
    // Without a last snapshot (a collect that only lists): nothing below it was read, and still nothing is planned there.
    const bare = await collect(failing(ctx.host, 'readdir', '/etc/app', 'EACCES'))
    assert.ok(bare.diagnostics.some((d) => d.code === 'FILES_UNREADABLE_KEPT' && d.path === '/etc/app' && /not compared/.test(d.summary)))
    assert.equal(entriesUnder(bare.documents, '/etc/app/conf.d').length, 0, 'nothing below it was read')
    const blind = provider.diff({ desired: desired.state, actual: bare.state, ctx })
    assert.deepEqual(blind.changes.filter((c) => c.resource.startsWith('/etc/app')), [])
    assert.ok(blind.diagnostics.some((d) => d.code === 'FILES_UNREADABLE_NOT_PLANNED' && d.change === 'files:create:/etc/app/conf.d/one.conf'))
    // A delete of a folder above it would remove what is there unseen: not planned either.
    const gone: FilesState = { ...desired.state, entries: desired.state.entries.filter((e) => !e.path.startsWith('/etc/site')) }
    const readable = provider.diff({ desired: gone, actual: (await collect(ctx.host)).state, ctx })
    assert.deepEqual(readable.changes.filter((c) => c.resource.startsWith('/etc/site')).map((c) => c.id), ['files:delete:/etc/site'], 'readable, the folder is deleted')
    const below = await collect(failing(ctx.host, 'readdir', '/etc/site/locked', 'EACCES'))
    const deletes = provider.diff({ desired: gone, actual: below.state, ctx })
    assert.deepEqual(deletes.changes.filter((c) => c.resource.startsWith('/etc/site')), [])
    assert.ok(deletes.diagnostics.some((d) => d.code === 'FILES_UNREADABLE_NOT_PLANNED' && d.path === '/etc/site/locked' && d.change === 'files:delete:/etc/site'))
  })

  it('once readable again, a real removal is recorded', async () => {
    rmSync(join(root.dir, 'etc/app/conf.d/two.conf'))
    const result = await collect(ctx.host, new MemoryTwin(last))
    assert.equal(result.diagnostics.some(isKeptUnread), false)
    assert.equal(result.state.unread, undefined)
    assert.deepEqual(
      entriesUnder(result.documents, '/etc/app/conf.d').map((e) => e.path),
      ['/etc/app/conf.d', '/etc/app/conf.d/one.conf'],
    )
  })
})

describe('files provider: a name that is not UTF-8', () => {
  it('is said (FILES_NAME_NOT_UTF8, with where it is), not left out silently; the rest is collected as usual', async () => {
    // Session 17: Node's listing decodes such a name with U+FFFD, its lstat finds nothing there,
    // and the walk took it for a file gone: not in the twin, and not a word.
    const root = debianLikeRoot()
    try {
      root.file('/etc/app/good.conf', 'good\n')
      writeFileSync(Buffer.concat([Buffer.from(join(root.dir, 'etc/app/bad')), Buffer.from([0xff]), Buffer.from('name.conf')]), 'x\n')
      const result = await new FilesProvider().collect({ ctx: createTestContext(root.dir, { cache: new MemoryCache() }) })
      const said = result.diagnostics.filter((d) => d.code === 'FILES_NAME_NOT_UTF8')
      assert.deepEqual(said.map((d) => [d.severity, d.path]), [['warning', '/etc/app/bad\uFFFDname.conf']])
      assert.match(said[0]?.summary ?? '', /A name in \/etc\/app is not UTF-8/)
      assert.match(said[0]?.detail ?? '', /ls -b \/etc\/app\//)
      assert.ok(manifestOf(result.documents).entries.some((e) => e.path === '/etc/app/good.conf'))
    } finally {
      root.remove()
    }
  })
})
