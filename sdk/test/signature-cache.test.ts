import { strict as assert } from 'node:assert'
import { cachedByFileStat, cachedByFileStats, cachedBySignature, COARSE_RACY_MS, isRacy, MemoryCache, RACY_MS } from '../src/index.js'

describe('cachedBySignature: a value kept while what it depends on stays the same', () => {
  it('computes once, keeps the answer while the signature is the same, computes again when it moves', async () => {
    const cache = new MemoryCache()
    let runs = 0
    const compute = async () => ({ run: ++runs, entries: [['a', 1]] })
    assert.deepEqual(await cachedBySignature(cache, 'k', 'sig-1', compute), { run: 1, entries: [['a', 1]] })
    assert.deepEqual(await cachedBySignature(cache, 'k', 'sig-1', compute), { run: 1, entries: [['a', 1]] })
    assert.deepEqual(await cachedBySignature(cache, 'k', 'sig-2', compute), { run: 2, entries: [['a', 1]] })
    assert.equal(runs, 2)
  })

  it('keeps null (a log that is not there) as an answer of its own', async () => {
    const cache = new MemoryCache()
    let runs = 0
    for (let i = 0; i < 2; i++) assert.equal(await cachedBySignature(cache, 'k', 's', async () => (runs++, null)), null)
    assert.equal(runs, 1)
  })

  it('never keeps an answer read from files changed too recently to trust their times', async () => {
    const cache = new MemoryCache()
    let runs = 0
    await cachedBySignature(cache, 'k', 's', async () => ++runs, { racy: true })
    await cachedBySignature(cache, 'k', 's', async () => ++runs, { racy: true })
    assert.equal(runs, 2)
    assert.equal(await cache.read('k'), undefined)
    const now = Date.now()
    assert.equal(isRacy({ mtimeMs: now - RACY_MS - 1, ctimeMs: now - RACY_MS - 1 }, now), false)
    assert.equal(isRacy({ mtimeMs: now - RACY_MS - 1, ctimeMs: now }, now), true)
    // A file system that keeps whole seconds (ext4 with 128-byte inodes): an edit later in the
    // same second (or FAT's two) leaves the times as they were; a ctime on a whole second is not trusted for 2 s.
    const second = Math.floor(now / 1000) * 1000 - 1000
    assert.equal(isRacy({ mtimeMs: second - 5000, ctimeMs: second }, second + 999), true)
    assert.equal(isRacy({ mtimeMs: second - 5000, ctimeMs: second }, second + COARSE_RACY_MS), false)
    assert.equal(isRacy({ mtimeMs: second - 5000, ctimeMs: second + 0.5 }, second + 999), false, 'a file system that keeps less than a second')
  })

  it('a damaged cache or an entry in an older format only costs time', async () => {
    const cache = new MemoryCache()
    for (const stored of ['{not json', 'null', JSON.stringify({ signature: 'whatever', text: 'old format' })]) {
      await cache.write('k', stored)
      assert.equal(await cachedBySignature(cache, 'k', 's', async () => 'fresh'), 'fresh')
      await cache.write('k', stored)
    }
  })

  it('cachedByFileStat and cachedByFileStats: kept while each file keeps its stat data (and the list its paths), never from a racy one', async () => {
    const old = Date.now() - 60_000
    const stat = (ino: number, mtimeMs = old) => ({ size: 10, mtimeMs, ctimeMs: mtimeMs, ino, dev: 1 })
    const cache = new MemoryCache()
    let runs = 0
    const compute = async () => ++runs
    const now = Date.now()
    assert.equal(await cachedByFileStat(cache, 'one', stat(1), now, compute), 1)
    assert.equal(await cachedByFileStat(cache, 'one', stat(1), now, compute), 1)
    assert.equal(await cachedByFileStat(cache, 'one', stat(2), now, compute), 2, 'another inode')
    const files = [{ path: '/etc/a', stat: stat(1) }, { path: '/etc/b', stat: stat(2) }]
    assert.equal(await cachedByFileStats(cache, 'many', files, now, compute), 3)
    assert.equal(await cachedByFileStats(cache, 'many', files, now, compute), 3)
    assert.equal(await cachedByFileStats(cache, 'many', [files[0]!, { path: '/etc/b', stat: stat(3) }], now, compute), 4, 'one file moved')
    assert.equal(await cachedByFileStats(cache, 'many', [files[0]!, { path: '/etc/c', stat: stat(3) }], now, compute), 5, 'another path')
    assert.equal(await cachedByFileStats(cache, 'many', [files[0]!, { path: '/etc/c', stat: stat(3) }], now, compute), 5)
    const racy = [files[0]!, { path: '/etc/c', stat: stat(3, now) }]
    assert.equal(await cachedByFileStats(cache, 'many', racy, now, compute), 6)
    assert.equal(await cachedByFileStats(cache, 'many', racy, now, compute), 7, 'a racy file: never kept')
  })
})
