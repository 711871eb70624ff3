import { strict as assert } from 'node:assert'
import { lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { cacheBytes, retireKeys } from '@twinsync/sdk'
import { FileCache } from '../src/collect/file-cache.js'
import { secretHashKey } from '../../plugins/files/src/secrets.js'

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

  // Session 52: what retireKeys (the SDK) lists to remove a provider's former keys only where they are.
  it('lists its keys from its folder as they were given, none without a folder, never a temporary file; retireKeys removes the former ones there', async () => {
    const cache = new FileCache(join(dir, 'files'))
    assert.deepEqual(await cache.keys(), [], 'no folder yet')
    await cache.write('named-credential-folder-v3:/etc/pam.d', '[]')
    await cache.write('stat-cache', 'x')
    await cache.write('attributes-v4', 'x')
    writeFileSync(join(dir, 'files', '.stat-cache.123-abc.twinsync-0123456789ab'), 'a run\'s temporary file')
    writeFileSync(join(dir, 'files', 'bad%E0%A4%A'), 'no name safeKey makes')
    assert.deepEqual((await cache.keys()).sort(), ['attributes-v4', 'named-credential-folder-v3:/etc/pam.d', 'stat-cache'])
    await retireKeys(cache, (key) => key === 'attributes-v4' || key.startsWith('named-credential-folder-v3:') || key.startsWith('.stat-cache'))
    assert.deepEqual(readdirSync(join(dir, 'files')).sort(), ['.stat-cache.123-abc.twinsync-0123456789ab', 'bad%E0%A4%A', 'stat-cache'])
  })

  it('takes a file that is not whole as no cache: cut short, zeroed, a byte changed, grown, or of the old form without a check', async () => {
    const cache = new FileCache(join(dir, 'files'))
    const bytes = Uint8Array.from({ length: 5000 }, (_, i) => (i * 13) % 251)
    await cache.writeBytes('stat-cache', bytes)
    const file = join(dir, 'files', 'stat-cache')
    const whole = readFileSync(file)
    assert.equal(whole.length, bytes.length + 12, 'the bytes and a 12-byte check')
    const read = (await cache.readBytes('stat-cache')) as Uint8Array
    assert.deepEqual(Uint8Array.from(read), bytes)
    assert.equal(read.byteOffset, 0)
    assert.equal(read.byteLength, read.buffer.byteLength, 'a buffer of its own (the files stat cache hands it over whole)')
    const torn: Array<[string, Buffer]> = [
      ['cut short', whole.subarray(0, 4096)],
      ['empty', Buffer.alloc(0)],
      ['zeroed', Buffer.alloc(whole.length)],
      ['a byte changed', Buffer.concat([whole.subarray(0, 100), Buffer.from([whole[100]! ^ 1]), whole.subarray(101)])],
      ['grown', Buffer.concat([whole, Buffer.from('x')])],
      ['the old form', Buffer.from(bytes)],
    ]
    for (const [what, content] of torn) {
      writeFileSync(file, content)
      assert.equal(await cache.readBytes('stat-cache'), undefined, what)
      assert.equal(await cache.read('stat-cache'), undefined, what)
    }
    await cache.write('text', '{"a":1}')
    truncateSync(join(dir, 'files', 'text'), 7)
    assert.equal(await cache.read('text'), undefined, 'the check cut off')
    await cache.write('text', '{"a":2}')
    assert.equal(await cache.read('text'), '{"a":2}')
    assert.deepEqual(readdirSync(join(dir, 'files')).sort(), ['stat-cache', 'text'], 'no temporary file left')
  })

  it("keeps the files provider's secret-hash key across the change of form: an older store's key file (no check) is read, proved by its form, and written again durably in the new form", async () => {
    const cache = new FileCache(join(dir, 'files'))
    const file = join(dir, 'files', 'secret-hash-key')
    const old = 'ab'.repeat(32)
    await cache.write('placeholder', 'x')
    writeFileSync(file, `${old}\n`, { mode: 0o600 })
    assert.equal(await cache.read('secret-hash-key'), undefined, 'no cache without the check, as every other value')
    assert.equal(await cache.read('secret-hash-key', { earlier: true }), `${old}\n`)
    assert.equal((await secretHashKey(cache)).toString('hex'), old, 'the key an older TwinSync made, not a new one')
    assert.equal(readFileSync(file).length, 64 + 12, 'written again with its check')
    assert.equal(await cache.read('secret-hash-key'), old)
    assert.equal((await secretHashKey(cache)).toString('hex'), old)
    // A torn key file in either form is no key: a new one is made (and kept from then on).
    writeFileSync(file, old.slice(0, 40))
    const made = (await secretHashKey(cache)).toString('hex')
    assert.match(made, /^[0-9a-f]{64}$/)
    assert.notEqual(made, old)
    assert.equal((await secretHashKey(cache)).toString('hex'), made)
  })

  it('writes a large value over the file it replaces (the same inode, cut to its length); one written half over the old is no cache; a link or a file not ours is replaced, never written through', async () => {
    const cache = new FileCache(join(dir, 'files'))
    const file = join(dir, 'files', 'stat-cache')
    const big = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * seed) % 251)
    await cache.writeBytes('stat-cache', big(3 << 20, 7))
    const inode = statSync(file).ino
    await cache.writeBytes('stat-cache', big((2 << 20) + 5, 11))
    assert.equal(statSync(file).ino, inode, 'written over')
    assert.equal(statSync(file).size, (2 << 20) + 5 + 12, 'cut to the new length and its check')
    assert.deepEqual(Uint8Array.from((await cache.readBytes('stat-cache')) as Uint8Array), big((2 << 20) + 5, 11))
    // A write stopped half way: the new bytes' first half over the old file, the old check at its end.
    const before = readFileSync(file)
    const after = big((2 << 20) + 5, 13)
    writeFileSync(file, Buffer.concat([after.subarray(0, 1 << 20), before.subarray(1 << 20)]))
    assert.equal(await cache.readBytes('stat-cache'), undefined, 'half written: no cache')
    // A symlink at the name (or a file of another mode): a new file renamed in, the link's target untouched.
    const target = join(dir, 'elsewhere')
    writeFileSync(target, 'not a cache')
    rmSync(file)
    symlinkSync(target, file)
    await cache.writeBytes('stat-cache', big(3 << 20, 3))
    assert.equal(readFileSync(target, 'utf8'), 'not a cache')
    assert.ok(!lstatSync(file).isSymbolicLink())
    assert.deepEqual(Uint8Array.from((await cache.readBytes('stat-cache')) as Uint8Array), big(3 << 20, 3))
    assert.deepEqual(readdirSync(join(dir, 'files')), ['stat-cache'], 'no temporary file left')
  })
})
