// The stat cache's index of records (stat-cache.ts, RecordIndex, session 47): a cursor through the
// files' records in the cache's order instead of every path decoded into a Map. Checked against
// that Map, made here from the bytes alone, for every order a collect can ask in, with a log over
// the cache (records replaced, paths gone, paths new), an older log that does not say its new
// paths, names that are not ASCII, and a path there twice.
import { strict as assert } from 'node:assert'
import { mkdtempSync, rmSync, unlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createTestContext } from '@twinsync/sdk/conformance'
import { FilesProvider } from '../src/index.js'
import { LOG_FROM, recordIndexOf, type RecordIndex } from '../src/stat-cache.js'
import { FileCache } from '../../../core/src/collect/file-cache.js'
import { debianLikeRoot, type TargetRoot } from './target-root.js'

const settle = () => new Promise((resolve) => setTimeout(resolve, 150))

/** The records of a cache's or log's bytes in order: path and offset; and its JSON header. */
function records(bytes: Buffer): { header: Record<string, unknown>; records: Array<{ path: string; at: number }> } {
  let p = bytes.indexOf(10) + 1
  const headerLength = bytes.readUInt32LE(p)
  const header = JSON.parse(bytes.toString('utf8', p + 4, p + 4 + headerLength)) as Record<string, unknown>
  p += 4 + headerLength
  const out: Array<{ path: string; at: number }> = []
  for (let i = 0; i < (header.count as number); i++) {
    out.push({ path: bytes.toString('utf8', p + 8, p + 8 + bytes.readUInt32LE(p + 4)), at: p })
    p += 4 + bytes.readUInt32LE(p)
  }
  return { header, records: out }
}

/** The plain index: every path decoded into a Map (none at all for a path twice), the log's paths gone taken out and its records set over. */
function plain(cache: Buffer, log?: Buffer): Map<string, number> {
  const map = new Map<string, number>()
  const base = records(cache).records
  for (const { path, at } of base) map.set(path, at)
  if (map.size !== base.length) return new Map()
  if (log !== undefined) {
    const { header, records: logged } = records(log)
    for (const path of header.removed as string[]) map.delete(path)
    for (const { path, at } of logged) map.set(path, cache.length + at)
  }
  return map
}

/** A shuffle that is the same every run. */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items]
  let state = seed
  for (let i = out.length - 1; i > 0; i--) {
    state = (state * 1103515245 + 12345) % 2 ** 31
    const j = state % (i + 1)
    ;[out[i], out[j]] = [out[j] as T, out[i] as T]
  }
  return out
}

describe('files provider: stat cache index in the walk order', () => {
  let root: TargetRoot
  let dir: string
  beforeEach(() => {
    root = debianLikeRoot()
    for (let i = 0; i < 300; i++) root.file(`/etc/bulk/setting-${i}.conf`, `# setting ${i}\n${'value = something long enough to fill the cache\n'.repeat(4)}`)
    for (const name of ['café.conf', 'naïve', 'zürich.conf', '日本.conf']) root.file(`/etc/bulk/${name}`, `${name}\n`)
    root.link('/etc/bulk/current', 'setting-1.conf')
    dir = mkdtempSync(join(tmpdir(), 'twinsync-stat-order-'))
  })
  afterEach(() => {
    root.remove()
    rmSync(dir, { recursive: true, force: true })
  })

  /** The cache's and log's bytes after collects of the root, `change` made before the last. */
  async function cacheAfter(change?: () => void): Promise<{ cache: Buffer; log: Buffer | undefined; rules: string }> {
    const store = new FileCache(dir)
    const ctx = createTestContext(root.dir, { cache: store })
    const provider = new FilesProvider()
    await settle()
    await provider.collect({ ctx })
    await provider.collect({ ctx })
    if (change !== undefined) {
      change()
      await settle()
      await provider.collect({ ctx })
    }
    const cache = Buffer.from((await store.readBytes('stat-cache')) as Uint8Array)
    const log = await store.readBytes('stat-cache-log')
    return { cache, log: log === undefined ? undefined : Buffer.from(log), rules: records(cache).header.rules as string }
  }

  /** Every order a collect asks in gives the plain index's answers, its size and its records. */
  function sameAsPlain(cache: Buffer, rules: string, log: Buffer | undefined, extra: string[] = []): void {
    const expected = plain(cache, log)
    const inOrder = records(cache).records.map((r) => r.path)
    const asked = [...new Set([...inOrder, ...(log === undefined ? [] : records(log).records.map((r) => r.path)), ...extra, '/etc/none', '/etc/bulk/zzz'])]
    const orders: Array<[string, string[]]> = [
      ['the cache order', inOrder],
      ['the walk order', [...asked].sort()],
      ['backwards', [...asked].reverse()],
      ['shuffled', shuffled(asked, 7)],
      ['each asked twice', asked.flatMap((p) => [p, p])],
      ['every other, then the rest', [...asked.filter((_, i) => i % 2 === 0), ...asked.filter((_, i) => i % 2 === 1)]],
    ]
    for (const [what, order] of orders) {
      const index = recordIndexOf(cache, rules, log) as RecordIndex
      for (const path of order) assert.equal(index.get(path), expected.get(path), `${what}: ${path}`)
      assert.equal(index.size(), expected.size, `${what}: size`)
      assert.deepEqual(index.all(), expected, `${what}: every record`)
    }
    // The size and the records gone and kept, asked first (a save before any file was asked for).
    const fresh = recordIndexOf(cache, rules, log) as RecordIndex
    assert.equal(fresh.size(), expected.size)
    for (const path of asked) assert.equal(fresh.inBase(path), plain(cache).has(path), `in the cache itself: ${path}`)
  }

  it('gives the answers of every path decoded, in any order, and in the walk order decodes no path but the one at its cursor', async () => {
    const { cache, log, rules } = await cacheAfter()
    assert.equal(log, undefined)
    assert.ok(cache.length > LOG_FROM, 'large enough to be logged')
    sameAsPlain(cache, rules, undefined)
    // Asked in the cache's order (the walk's: save wrote it so), no file's path is decoded all at once.
    const index = recordIndexOf(cache, rules) as RecordIndex
    for (const { path, at } of records(cache).records) assert.equal(index.get(path), at)
    assert.equal(index.decodedAll, false)
    assert.equal(index.needsOrder(), false)
  })

  it('with a log over the cache: a record replaced, a path gone, a path new, a name not ASCII changed', async () => {
    const { cache, log, rules } = await cacheAfter(() => {
      root.file('/etc/bulk/setting-3.conf', 'changed\n')
      root.file('/etc/bulk/café.conf', 'changed too\n')
      root.file('/etc/bulk/new.conf', 'new\n')
      unlinkSync(root.path('/etc/bulk/setting-4.conf'))
    })
    assert.ok(log !== undefined, 'a log was written')
    const { header } = records(log)
    assert.deepEqual(header.removed, ['/etc/bulk/setting-4.conf'])
    assert.deepEqual(header.added, ['/etc/bulk/new.conf'], "the log's path the cache holds no record of")
    sameAsPlain(cache, rules, log, ['/etc/bulk/setting-4.conf'])
    // The walk's order past the records the log replaced and named gone: no path decoded all at once.
    const index = recordIndexOf(cache, rules, log) as RecordIndex
    const expected = plain(cache, log)
    for (const { path } of records(cache).records) assert.equal(index.get(path), expected.get(path), path)
    assert.equal(index.decodedAll, false)
    // A log written before session 47 does not say its new paths: the same answers, every path decoded.
    const older = Buffer.from(log)
    const length = older.readUInt32LE(older.indexOf(10) + 1)
    const at = older.indexOf(10) + 5
    const without = JSON.stringify({ base: header.base, count: header.count, removed: header.removed })
    const rewritten = Buffer.concat([older.subarray(0, at - 4), Buffer.alloc(4), Buffer.from(without), older.subarray(at + length)])
    rewritten.writeUInt32LE(Buffer.byteLength(without), at - 4)
    sameAsPlain(cache, rules, rewritten, ['/etc/bulk/setting-4.conf'])
  })

  it('a file asked out of the cache order: every path decoded, the cache then to be written in the walk order; a file with no record is not that', async () => {
    const { cache, rules } = await cacheAfter()
    const paths = records(cache).records.map((r) => r.path)
    const last = paths[paths.length - 1] as string
    const none = recordIndexOf(cache, rules) as RecordIndex
    assert.equal(none.get('/etc/bulk/new.conf'), undefined)
    assert.equal(none.decodedAll, true)
    assert.equal(none.needsOrder(), false, 'a new file: nothing out of order')
    const late = recordIndexOf(cache, rules) as RecordIndex
    assert.equal(late.get(last), plain(cache).get(last))
    assert.equal(late.needsOrder(), true, 'a record far from the cursor')
    // A few records on (files gone since) are passed without decoding them all.
    const ahead = recordIndexOf(cache, rules) as RecordIndex
    const files = records(cache).records.filter((r) => ahead.folderOrLink(r.path) === undefined)
    assert.equal(ahead.get((files[0] as { path: string }).path), (files[0] as { at: number }).at)
    assert.equal(ahead.get((files[3] as { path: string }).path), (files[3] as { at: number }).at)
    assert.equal(ahead.decodedAll, false)
  })

  it('a path there twice: no record once every path is decoded, as a cache refused', async () => {
    const { cache, rules } = await cacheAfter()
    const all = records(cache).records
    const index = recordIndexOf(cache, rules) as RecordIndex
    const files = all.filter((r) => index.folderOrLink(r.path) === undefined)
    // The last file's record given the path of the file before it (as long): a path twice.
    const [before, last] = files.filter((r) => r.path.startsWith('/etc/bulk/setting-1')).slice(-2) as [{ path: string; at: number }, { path: string; at: number }]
    assert.equal(before.path.length, last.path.length)
    const doubled = Buffer.from(cache)
    doubled.write(before.path, last.at + 8, 'utf8')
    assert.equal(plain(doubled).size, 0)
    const refused = recordIndexOf(doubled, rules) as RecordIndex
    // Its records counted (a save's check: as many paths as records?) until every path is decoded.
    assert.equal(refused.size(), all.length)
    assert.equal(refused.all(), undefined)
    assert.equal(refused.size(), 0)
    for (const { path } of all) assert.equal(refused.get(path), undefined, path)
    // Asked out of order first: no record from the first file on.
    const outOfOrder = recordIndexOf(doubled, rules) as RecordIndex
    assert.equal(outOfOrder.get(before.path), undefined)
    assert.equal(outOfOrder.get((files[0] as { path: string }).path), undefined)
  })
})
