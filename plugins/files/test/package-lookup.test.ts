import { strict as assert } from 'node:assert'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isWithin, LocalHost, MemoryCache } from '@twinsync/sdk'
import { packageDatabaseStamp, packageLookup, readPackageIndex } from '../src/package-origin.js'

/** packageLookup (package-origin.ts): a path's packages from the cached index, only its entry parsed. */
describe('files provider: package lookup from the cached index', () => {
  it('answers every path as readPackageIndex does (odd names, diversions, paths not wanted or unknown), and falls back on a damaged entry', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'twinsync-lookup-'))
    try {
      const md5 = (n: number) => n.toString(16).padStart(32, '0')
      const odd = ['/etc/q"uote', '/etc/b]r[a{c}e', '/etc/back\\slash', '/etc/ä', '/etc/x",[', '/etc/a b']
      const files: Record<string, string> = {
        status: ['Package: a', 'Status: install ok installed', 'Conffiles:', ` /etc/a.conf ${md5(1)}`, ''].join('\n'),
        'info/a.md5sums': [`${md5(3)}  etc/a.conf`, ...odd.map((p, i) => `${md5(20 + i)}  ${p.slice(1)}`)].join('\n') + '\n',
        'info/b.md5sums': `${md5(9)}  etc/a.conf\n${md5(10)}  usr/lib/b/one\n`,
        diversions: ['/usr/lib/b/one', '/etc/one', ':'].join('\n') + '\n',
      }
      mkdirSync(join(dir, 'var/lib/dpkg/info'), { recursive: true })
      for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, 'var/lib/dpkg', name), text)
      const host = new LocalHost(dir)
      const wanted = (p: string) => isWithin(p, '/etc') && p !== '/etc/a b'
      const cache = new MemoryCache()
      const index = await readPackageIndex(host, cache, wanted)
      const asked = ['/etc/a.conf', '/etc/one', '/etc/none', '/etc/a b', '/usr/lib/b/one', ...odd]
      for (const path of asked) assert.deepEqual((await packageLookup(host, cache, wanted)).get(path), index.get(path), path)
      assert.ok(index.get('/etc/x",[') !== undefined && index.get('/etc/a.conf')?.length === 2)
      // The answer from the cache, not from dpkg's files: the same once they are gone (the stamp given).
      const stamp = await packageDatabaseStamp(host)
      rmSync(join(dir, 'var/lib/dpkg/info'), { recursive: true })
      const lookup = await packageLookup(host, cache, wanted, stamp)
      for (const path of asked) assert.deepEqual(lookup.get(path), index.get(path), `${path} from the cache`)
      // An entry not as JSON.stringify wrote it: the whole cache parsed instead, the same answers.
      const text = (await cache.read('dpkg-index')) as string
      await cache.write('dpkg-index', text.replace(`["/etc/a.conf",[{`, `["/etc/a.conf",[ {"package":1},{`))
      const damaged = await packageLookup(host, cache, wanted, stamp)
      assert.deepEqual(damaged.get('/etc/a.conf'), [{ package: 1 }, ...(index.get('/etc/a.conf') ?? [])], 'the whole cache, parsed')
      assert.deepEqual(damaged.get('/etc/one'), index.get('/etc/one'))
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
