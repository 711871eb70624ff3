import { strict as assert } from 'node:assert'
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { cacheBytes } from '@twinsync/sdk'
import { FileCache } from '../src/collect/file-cache.js'

describe('provider cache on disk (FileCache)', () => {
  let dir: string
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'twinsync-file-cache-'))
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  it('keeps bytes as they are, private to the user, and forgets a key', async () => {
    const cache = new FileCache(join(dir, 'files'))
    const bytes = Uint8Array.from({ length: 600 }, (_, i) => (i * 7) % 256)
    assert.equal(await cache.readBytes('stat-cache'), undefined)
    await cacheBytes(cache).write('stat-cache', bytes)
    assert.deepEqual(Uint8Array.from((await cacheBytes(cache).read('stat-cache')) as Uint8Array), bytes)
    assert.equal(statSync(join(dir, 'files', 'stat-cache')).mode & 0o777, 0o600)
    assert.equal(statSync(join(dir, 'files')).mode & 0o777, 0o700)
    await cache.write('text', 'naïve')
    assert.deepEqual(Buffer.from((await cache.readBytes('text')) as Uint8Array).toString('utf8'), 'naïve')
    await cache.remove('stat-cache')
    await cache.remove('never-there')
    assert.deepEqual(readdirSync(join(dir, 'files')), ['text'])
  })
})
