import { strict as assert } from 'node:assert'
import { MemoryCache, type ProviderCache } from '@twinsync/sdk'
import { createTestContext } from '@twinsync/sdk/conformance'
import { FilesProvider } from '../src/index.js'
import { debianLikeRoot, type TargetRoot } from './target-root.js'

/**
 * Session 52 (issue 22; session 51's review L2): the keys the files provider's cache held in
 * earlier versions (the stat cache's JSON files, the attributes' records of session 50, the
 * named-credential lists of one key a folder) are removed once, when the record that replaced
 * each is first written, and only those the cache holds (the SDK's retireKeys: one listing of its
 * keys). Session 51 removed each without looking: a first snapshot of the minbase root made 41
 * unlinks of files that were not there (each an ENOENT thrown and caught), and the lists of a
 * folder gone from the machine before the upgrade stayed for ever (no key of it was made).
 */
describe('files provider: the former cache keys', function () {
  // Two or three collects of a small root with the real getcap and getfattr.
  this.timeout(120_000)
  const settle = () => new Promise((resolve) => setTimeout(resolve, 250)) // past the racily-clean window
  let root: TargetRoot
  beforeEach(() => {
    root = debianLikeRoot()
      .file('/etc/systemd/system/app.service', '[Service]\nEnvironmentFile=/etc/app/app.env\n')
      .file('/etc/pam.d/login', 'auth required pam_unix.so\n')
      .file('/etc/cron.d/job', '0 * * * * root /bin/true\n')
  })
  afterEach(() => root.remove())

  /** `cache` as the provider's port, recording each key it is asked to remove (and whether it held it) and each listing of its keys. */
  const watched = (cache: MemoryCache) => {
    const removed: Array<{ key: string; held: boolean }> = []
    let listings = 0
    const port: ProviderCache = {
      read: (key) => cache.read(key),
      write: (key, value) => cache.write(key, value),
      readBytes: (key) => cache.readBytes(key),
      writeBytes: (key, value) => cache.writeBytes(key, value),
      remove: async (key) => {
        removed.push({ key, held: (await cache.readBytes(key)) !== undefined })
        await cache.remove(key)
      },
      keys: () => (listings++, cache.keys()),
    }
    return { port, removed, listings: () => listings }
  }
  const collect = async (cache: ProviderCache) => new FilesProvider().collect({ ctx: createTestContext(root.dir, { cache }) })

  it('a first collect removes no key its cache does not hold (fails on 6f8d572f: 3 a named-credential folder looked into, 3 of the attributes, 2 of the stat cache)', async () => {
    await settle()
    const cache = new MemoryCache()
    const first = watched(cache)
    await collect(first.port)
    assert.ok((await cache.read('named-credential-folders-v4')) !== undefined && (await cache.read('attributes-v5')) !== undefined && (await cache.readBytes('stat-cache')) !== undefined, 'the records written')
    assert.deepEqual(first.removed.filter((r) => !r.held).map((r) => r.key), [], 'no removal of a key that is not there')
    // An unchanged collect: every record there, nothing listed nor removed.
    await settle()
    const again = watched(cache)
    await collect(again.port)
    assert.deepEqual(again.removed, [])
    assert.equal(again.listings(), 0, 'the cache not listed once its records are there')
  })

  it("a cache of an earlier version loses every former key it holds, a folder's the machine no longer has too (fails on 6f8d572f for that folder's; the rest is a guard); once", async () => {
    await settle()
    const cache = new MemoryCache()
    const lists = (folder: string) => ['named-credential-folder:', 'named-credential-folder-v2:', 'named-credential-folder-v3:'].map((old) => `${old}${folder}`)
    const former = [
      'stat-index',
      'text-blobs',
      'attributes-v4',
      'attribute-stamps-v1',
      'attribute-stamps-delta-v1',
      ...lists('/etc/systemd/system'),
      ...lists('/etc/pam.d'),
      // A folder removed from the machine before the upgrade: no run looks into it again.
      ...lists('/etc/gone.d'),
    ]
    for (const key of former) await cache.write(key, '["x"]')
    await cache.write('another-provider-key', 'kept')
    const first = watched(cache)
    await collect(first.port)
    const left: string[] = []
    for (const key of former) if ((await cache.readBytes(key)) !== undefined) left.push(key)
    assert.deepEqual(left, [], 'every former key removed')
    assert.deepEqual(first.removed.filter((r) => !r.held).map((r) => r.key), [], 'only keys that were there')
    assert.equal(await cache.read('another-provider-key'), 'kept')
    // Once: a former key there again (as if written by an older build since) is left to the next first write.
    await cache.write('attributes-v4', '["x"]')
    await settle()
    const again = watched(cache)
    await collect(again.port)
    assert.deepEqual(again.removed, [])
    assert.equal(await cache.read('attributes-v4'), '["x"]')
  })
})
