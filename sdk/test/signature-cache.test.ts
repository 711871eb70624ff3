import { strict as assert } from 'node:assert'
import { cachedBySignature, COARSE_RACY_MS, isRacy, MemoryCache, RACY_MS } from '../src/index.js'

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
})
