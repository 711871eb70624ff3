import { strict as assert } from 'node:assert'
import { statSync, utimesSync } from 'node:fs'
import { MemoryCache, RACY_MS, type HostPort, type ProviderCache } from '@twinsync/sdk'
import { createTestContext } from '@twinsync/sdk/conformance'
import { namedCredentialFiles } from '../src/named-credentials.js'
import { TargetRoot } from './target-root.js'

/**
 * Session 50 (issue 22): the folders the naming rules look into (a unit folder, /etc/pam.d, the
 * cron folders…) are listed again only when their stat data moved, as before, and their lists are
 * kept in one record of the provider's cache: a first snapshot of the minbase root created 13
 * cache files for them, and every snapshot read 13.
 */
describe('named-credential folder lists: one record, kept while each folder keeps its stat data', function () {
  this.timeout(30_000)
  const units = '/etc/systemd/system'
  const pause = () => new Promise((resolve) => setTimeout(resolve, 3 * RACY_MS))
  let root: TargetRoot
  beforeEach(() => {
    root = new TargetRoot()
      .file('/etc/passwd', 'root:x:0:0:root:/root:/bin/bash\n')
      .file('/etc/group', 'root:x:0:\n')
      .file('/var/lib/dpkg/status', '')
      .file('/var/lib/dpkg/diversions', '')
      .file(`${units}/one.service`, '[Service]\nEnvironmentFile=/etc/app/one.env\n')
      .file('/etc/pam.d/login', 'auth required pam_unix.so\n')
      .file('/etc/cron.d/job', '0 * * * * root /bin/true\n')
  })
  afterEach(() => root.remove())

  /** The machine's host, counting its listings by folder; the cache, counting its writes by key. */
  const rig = (cache: ProviderCache = new MemoryCache()) => {
    const host = createTestContext(root.dir).host
    const listed: string[] = []
    const written: string[] = []
    const counting = new Proxy(host, {
      get: (target, name) => (name === 'readdir' ? (path: string, ...rest: unknown[]) => (listed.push(path), (target.readdir as (...a: unknown[]) => unknown)(path, ...rest)) : Reflect.get(target, name)),
    }) as HostPort
    const writes = { read: (key: string) => cache.read(key), write: (key: string, value: string) => (written.push(key), cache.write(key, value)) } as ProviderCache
    return { host: counting, cache: writes, listed, written }
  }

  it('writes one record for every folder, and an unchanged machine lists no folder and writes nothing', async () => {
    await pause()
    const cache = new MemoryCache()
    const first = rig(cache)
    assert.deepEqual(await namedCredentialFiles(first.host, first.cache), ['/etc/app/one.env'])
    const folderKeys = first.written.filter((key) => key.startsWith('named-credential-folder'))
    assert.deepEqual(folderKeys, ['named-credential-folders-v4'], 'one record for the folders')
    assert.ok(first.listed.includes(units))
    const again = rig(cache)
    assert.deepEqual(await namedCredentialFiles(again.host, again.cache), ['/etc/app/one.env'])
    assert.deepEqual(again.listed, [], 'no folder listed again')
    assert.deepEqual(again.written, [], 'nothing written')
  })

  it('a unit added with the folder\'s mtime put back (its ctime moved), racy then settled: listed each time until its times can be trusted (a guard: passes on the old code)', async () => {
    await pause()
    const cache = new MemoryCache()
    const first = rig(cache)
    await namedCredentialFiles(first.host, first.cache)
    const before = statSync(root.path(units))
    root.file(`${units}/two.service`, '[Service]\nEnvironmentFile=/etc/app/two.env\n')
    utimesSync(root.path(units), before.atime, before.mtime)
    // At once: the folder changed too recently to trust its times; listed, not kept.
    const racy = rig(cache)
    assert.deepEqual(await namedCredentialFiles(racy.host, racy.cache), ['/etc/app/one.env', '/etc/app/two.env'])
    assert.ok(racy.listed.includes(units))
    await pause()
    const settled = rig(cache)
    assert.deepEqual(await namedCredentialFiles(settled.host, settled.cache), ['/etc/app/one.env', '/etc/app/two.env'])
    assert.ok(settled.listed.includes(units), 'a racy listing was not kept: listed again')
    const kept = rig(cache)
    assert.deepEqual(await namedCredentialFiles(kept.host, kept.cache), ['/etc/app/one.env', '/etc/app/two.env'])
    assert.deepEqual(kept.listed, [])
  })

  // Session 51: a twin made before kept one cache file a folder (v3, and v2 and v1 before it) that nobody reads since.
  it("removes the per-folder files of the versions before, once: when the record is first written", async () => {
    await pause()
    const cache = new MemoryCache()
    const old = [units, '/etc/pam.d', '/etc/cron.d'].flatMap((folder) => [`named-credential-folder-v3:${folder}`, `named-credential-folder-v2:${folder}`, `named-credential-folder:${folder}`])
    for (const key of old) await cache.write(key, '["x"]')
    const removed: string[] = []
    const removing = { read: (key: string) => cache.read(key), write: (key: string, value: string) => cache.write(key, value), remove: (key: string) => (removed.push(key), cache.remove(key)), keys: () => cache.keys() } as ProviderCache
    const host = createTestContext(root.dir).host
    assert.deepEqual(await namedCredentialFiles(host, removing), ['/etc/app/one.env'])
    for (const key of old) assert.equal(await cache.read(key), undefined, `${key} removed`)
    assert.notEqual(await cache.read('named-credential-folders-v4'), undefined, 'the record written')
    // Once: a later run that writes the record again (a unit added) removes nothing.
    root.file(`${units}/two.service`, '[Service]\nEnvironmentFile=/etc/app/two.env\n')
    await pause()
    removed.length = 0
    await cache.write(`named-credential-folder-v3:${units}`, '["x"]')
    assert.deepEqual(await namedCredentialFiles(host, removing), ['/etc/app/one.env', '/etc/app/two.env'])
    assert.deepEqual(removed, [], 'nothing removed once the record is there')
  })

  it('a damaged record costs only the listings (a guard)', async () => {
    await pause()
    const cache = new MemoryCache()
    await cache.write('named-credential-folders-v4', '{"/etc/systemd/system": {"signature": 1, "names": "x"}, ')
    const damaged = rig(cache)
    assert.deepEqual(await namedCredentialFiles(damaged.host, damaged.cache), ['/etc/app/one.env'])
    assert.ok(damaged.listed.includes(units))
    const after = rig(cache)
    assert.deepEqual(await namedCredentialFiles(after.host, after.cache), ['/etc/app/one.env'])
    assert.deepEqual(after.listed, [])
  })
})
