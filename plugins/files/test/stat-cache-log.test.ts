// The files stat cache's log (stat-cache.ts, StatCache.save): what changed since the cache was
// written whole, written beside it instead of the whole cache again. Checked against a collect
// with no cache at all, after every kind of change, and after a torn or foreign log.
import { strict as assert } from 'node:assert'
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createTestContext } from '@twinsync/sdk/conformance'
import { MemoryCache, type HostPort, type ProviderCache, type ProviderContext, type TwinDocument } from '@twinsync/sdk'
import { FilesProvider } from '../src/index.js'
import { LOG_FROM } from '../src/stat-cache.js'
import { FileCache } from '../../../core/src/collect/file-cache.js'
import { debianLikeRoot, type TargetRoot } from './target-root.js'

/** Enough files that the cache is over LOG_FROM: a change is logged, not written whole. */
const BULK = 400

const settle = () => new Promise((resolve) => setTimeout(resolve, 150))
const text = (docs: readonly TwinDocument[]) => docs.map((d) => [d.path, String(d.content), d.executable === true])

/** A context over `root` with `cache`, each readFile counted and each cache write named. */
function counted(root: string, cache: ProviderCache): { ctx: ProviderContext; reads: string[]; writes: string[] } {
  const reads: string[] = []
  const writes: string[] = []
  const base = createTestContext(root, { cache })
  const host = new Proxy(base.host, {
    get(target, key, receiver) {
      const value: unknown = Reflect.get(target, key, receiver)
      if (typeof value !== 'function') return value
      if (key === 'readFile' || key === 'readTextIfExists') return (path: string) => (reads.push(path), (value as HostPort['readFile']).call(target, path))
      return (value as (...args: unknown[]) => unknown).bind(target)
    },
  })
  const store: ProviderCache = new Proxy(cache, {
    get(target, key, receiver) {
      const value: unknown = Reflect.get(target, key, receiver)
      if (typeof value !== 'function') return value
      if (key === 'write' || key === 'writeBytes') return (k: string, v: unknown) => (writes.push(k), (value as (k: string, v: unknown) => unknown).call(target, k, v))
      return (value as (...args: unknown[]) => unknown).bind(target)
    },
  })
  return { ctx: { ...base, host, cache: store }, reads, writes }
}

describe('files provider: stat cache log', () => {
  let root: TargetRoot
  let dir: string
  beforeEach(() => {
    root = debianLikeRoot()
    for (let i = 0; i < BULK; i++) root.file(`/etc/bulk/setting-${i}.conf`, `# setting ${i}\n${'value = something long enough to fill the cache\n'.repeat(4)}`)
    root.link('/etc/bulk/current', 'setting-1.conf')
    dir = mkdtempSync(join(tmpdir(), 'twinsync-stat-log-'))
  })
  afterEach(() => {
    root.remove()
    rmSync(dir, { recursive: true, force: true })
  })

  /** What a collect with no stat cache at all makes of the root now (the same key for secrets' hashes as `store`'s). */
  async function fromNothing(store: ProviderCache): Promise<{ documents: TwinDocument[]; state: unknown }> {
    const cache = new MemoryCache()
    const key = await store.read('secret-hash-key')
    assert.ok(key !== undefined)
    await cache.write('secret-hash-key', key)
    const { documents, state } = await new FilesProvider().collect({ ctx: createTestContext(root.dir, { cache }) })
    return { documents, state }
  }

  it('writes what changed as a log beside the cache, and every kind of change reads the same as with no cache', async () => {
    const provider = new FilesProvider()
    const store = new FileCache(dir)
    const { ctx, reads, writes } = counted(root.dir, store)
    await settle()
    await provider.collect({ ctx })
    await provider.collect({ ctx }) // the mirrored files' blob ids, kept once (stat-cache.test.ts)
    assert.ok(statSync(join(dir, 'stat-cache')).size > LOG_FROM, 'the cache is large enough to be logged')
    const changes: Array<[string, () => void]> = [
      ['a file changed', () => root.file('/etc/bulk/setting-3.conf', 'changed\n')],
      ['a file added', () => root.file('/etc/bulk/new.conf', 'new\n')],
      ['a file removed', () => unlinkSync(root.path('/etc/bulk/setting-4.conf'))],
      ['a mode changed', () => chmodSync(root.path('/etc/bulk/setting-5.conf'), 0o600)],
      ['an owner changed', () => root.file('/etc/bulk/setting-6.conf', readFileSync(root.path('/etc/bulk/setting-6.conf')), { uid: 1, gid: 1 })],
      ['a symlink retargeted', () => (unlinkSync(root.path('/etc/bulk/current')), symlinkSync('setting-2.conf', root.path('/etc/bulk/current')))],
      ['the removed file back', () => root.file('/etc/bulk/setting-4.conf', 'back\n')],
      ['a folder removed', () => (unlinkSync(root.path('/etc/bulk/new.conf')), root.file('/etc/other/a.conf', 'a\n'))],
    ]
    for (const [what, change] of changes) {
      change()
      await settle()
      writes.splice(0)
      const moved = await provider.collect({ ctx })
      const expected = await fromNothing(ctx.cache)
      assert.deepEqual(text(moved.documents), text(expected.documents), what)
      assert.deepEqual(moved.state, expected.state, what)
      assert.deepEqual(writes.filter((k) => k.startsWith('stat-cache')), ['stat-cache-log'], `${what}: only the log is written`)
      // The next collect takes the cache and its log: nothing read again, the same documents.
      reads.splice(0)
      writes.splice(0)
      const again = await provider.collect({ ctx })
      assert.deepEqual(text(again.documents), text(expected.documents), `${what}, again`)
      assert.deepEqual(again.state, expected.state, `${what}, again`)
      assert.deepEqual(reads.sort(), ['/etc/group', '/etc/passwd'], `${what}: nothing read again`)
      assert.deepEqual(writes.filter((k) => k.startsWith('stat-cache')), [], `${what}: nothing written again`)
    }
    assert.ok(statSync(join(dir, 'stat-cache-log')).size < statSync(join(dir, 'stat-cache')).size / 16)
  })

  it('trusts no torn log: the cache alone is taken, a file changed since is read again, and the documents are right', async () => {
    const provider = new FilesProvider()
    const store = new FileCache(dir)
    const { ctx, reads } = counted(root.dir, store)
    await settle()
    await provider.collect({ ctx })
    await provider.collect({ ctx })
    root.file('/etc/bulk/setting-7.conf', 'first change\n')
    await settle()
    await provider.collect({ ctx })
    const log = readFileSync(join(dir, 'stat-cache-log'))
    const at = log.indexOf('first change')
    assert.ok(at > 0, 'the changed file is in the log')
    // A power loss: the log cut short, a byte of it not what was written, zeros in its place.
    const torn: Array<[string, Buffer]> = [
      ['cut short', log.subarray(0, log.length - 20)],
      ['a byte changed', Buffer.from(log).fill('X', at, at + 1)],
      ['zeros', Buffer.alloc(log.length)],
    ]
    for (const [what, bytes] of torn) {
      // The file changed again with the same size, so the log's record would be wrong if taken.
      root.file('/etc/bulk/setting-7.conf', what === 'zeros' ? 'third change\n' : 'other change\n')
      await settle()
      writeFileSync(join(dir, 'stat-cache-log'), bytes)
      reads.splice(0)
      const again = await provider.collect({ ctx })
      const expected = await fromNothing(ctx.cache)
      assert.deepEqual(text(again.documents), text(expected.documents), what)
      assert.deepEqual(again.state, expected.state, what)
      assert.ok(reads.includes('/etc/bulk/setting-7.conf'), `${what}: the changed file is read`)
      assert.ok(!reads.includes('/etc/bulk/setting-8.conf'), `${what}: an unchanged file is not`)
    }
  })

  it('takes no log of another writing of the cache, and folds a log grown large into the cache', async () => {
    const provider = new FilesProvider()
    const memory = new MemoryCache()
    const { ctx, reads, writes } = counted(root.dir, memory)
    await settle()
    await provider.collect({ ctx })
    await provider.collect({ ctx })
    root.file('/etc/bulk/setting-9.conf', 'logged\n')
    await settle()
    await provider.collect({ ctx })
    const log = (await memory.readBytes('stat-cache-log')) as Uint8Array
    // Many files changed: the log would be more than a sixteenth of the cache, which is written whole.
    for (let i = 10; i < 200; i++) root.file(`/etc/bulk/setting-${i}.conf`, `# many ${i}\n`)
    await settle()
    writes.splice(0)
    await provider.collect({ ctx })
    assert.ok(writes.includes('stat-cache'), 'written whole')
    assert.equal(await memory.readBytes('stat-cache-log'), undefined, 'the old log is removed')
    // The old log put back beside the new cache (as a crash between the two writes could leave it): another cache's, not taken.
    root.file('/etc/bulk/setting-9.conf', 'logged again\n')
    await settle()
    await memory.writeBytes('stat-cache-log', log)
    reads.splice(0)
    const again = await provider.collect({ ctx })
    const expected = await fromNothing(ctx.cache)
    assert.deepEqual(text(again.documents), text(expected.documents))
    assert.deepEqual(again.state, expected.state)
    assert.deepEqual(reads.filter((p) => p.startsWith('/etc/bulk/')), ['/etc/bulk/setting-9.conf'])
  })
})
