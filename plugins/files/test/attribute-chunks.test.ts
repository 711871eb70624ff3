import { strict as assert } from 'node:assert'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createTestContext } from '@twinsync/sdk/conformance'
import { LocalHost, MemoryCache, RecordingHost, type ProviderCache } from '@twinsync/sdk'
import { FilesProvider } from '../src/index.js'
import { FileCache } from '../../../core/src/collect/file-cache.js'
import { debianLikeRoot, type TargetRoot } from './target-root.js'

/** attribute-cache.ts: with the same paths as last time, only the chunks of stamps whose digest moved are compared (real getcap/getfattr). */
describe('files provider: attribute stamps compared a chunk at a time', function () {
  // Each test collects 1,300-4,400 paths a dozen times with the real getcap and getfattr: the two
  // about 16 s of CPU (user 12 s, system 5 s, with mocha's start). Session 13's CI ran both in
  // 12 s; at a load average of 12 (the suite's two processes beside other work on 2 cores) the
  // second took more than mocha's 30 s and failed on that timeout alone (session 14). The time is
  // CPU the machine did not give, not a wait.
  this.timeout(180_000)
  const b64 = (text: string) => `0s${Buffer.from(text).toString('base64')}` // as getfattr -e base64 prints it
  const settle = () => new Promise((r) => setTimeout(r, 250)) // past the racily-clean window
  const flipBit = (bytes: Buffer, at: number) => Buffer.from(bytes).fill(bytes[at]! ^ 1, at, at + 1)
  let root: TargetRoot
  beforeEach(() => {
    root = debianLikeRoot()
    // More paths than one chunk of stamps (512) holds.
    for (let i = 0; i < 1300; i++) root.file(`etc/many/f${String(i).padStart(4, '0')}.conf`, `${i}\n`)
  })
  afterEach(() => root.remove())

  it('asks the tools about the moved path alone and answers as a walk of everything; stamps kept in the older layout or damaged still answer right', async () => {
    const host = new RecordingHost(new LocalHost(root.dir))
    const cache = new MemoryCache()
    const collect = async (c = cache, h = host) => (await new FilesProvider().collect({ ctx: createTestContext(root.dir, { host: h, cache: c }) })).state
    const attributesOf = (state: Awaited<ReturnType<typeof collect>>) => state.entries.filter((e) => e.capabilities !== undefined || e.xattrs !== undefined).map((e) => [e.path, e.capabilities, e.xattrs])
    const asked = (from: number) => host.queries.slice(from).filter(([command]) => command === 'getcap' || command === 'getfattr')
    const askedPaths = (from: number) => [...new Set(asked(from).flatMap(([, args]) => args.filter((a) => a.startsWith('/')).map((a) => a.slice(root.dir.length))))].sort()
    execFileSync('setfattr', ['-n', 'user.note', '-v', 'one', root.path('etc/many/f0100.conf')])
    execFileSync('setfattr', ['-n', 'user.note', '-v', 'keep', root.path('etc/many/f1200.conf')])
    await settle()
    await collect()
    const stamps = (await cache.read('attribute-stamps-v1')) as string
    assert.match(stamps.split('\n')[1] ?? '', /^chunks [0-9a-f]{192,} \d+(,\d+)+$/, 'each chunk of stamps digested')

    // One file's attribute changes, another file's content: the same paths as before.
    execFileSync('setfattr', ['-n', 'user.note', '-v', 'two', root.path('etc/many/f0100.conf')])
    root.file('etc/many/f0900.conf', 'nine hundred\n')
    await settle()
    let from = host.queries.length
    const changed = await collect()
    assert.deepEqual(askedPaths(from), ['/etc/many/f0100.conf', '/etc/many/f0900.conf'])
    assert.ok(asked(from).every(([, args]) => !args.includes('-r') && !args.includes('-R')), 'no walk of the roots')
    const full = await collect(new MemoryCache(), new RecordingHost(new LocalHost(root.dir)))
    assert.deepEqual(attributesOf(changed), attributesOf(full), 'the same answer as a walk of everything')
    assert.deepEqual(changed.entries.find((e) => e.path === '/etc/many/f0100.conf')?.xattrs, { 'user.note': b64('two') })
    assert.deepEqual(changed.entries.find((e) => e.path === '/etc/many/f1200.conf')?.xattrs, { 'user.note': b64('keep') }, 'a kept answer of another chunk')
    from = host.queries.length
    await collect()
    assert.deepEqual(asked(from), [], 'nothing moved: no tool runs')

    // Stamps written before chunks were recorded (the lines alone): compared line by line, the same answer.
    const now = (await cache.read('attribute-stamps-v1')) as string
    const [tag, , ...lines] = now.split('\n')
    await cache.write('attribute-stamps-v1', [tag, ...lines].join('\n'))
    execFileSync('setfattr', ['-n', 'user.note', '-v', 'three', root.path('etc/many/f0100.conf')])
    await settle()
    from = host.queries.length
    const older = await collect()
    assert.deepEqual(askedPaths(from), ['/etc/many/f0100.conf'])
    assert.deepEqual(older.entries.find((e) => e.path === '/etc/many/f0100.conf')?.xattrs, { 'user.note': b64('three') })

    // A path gone and one added (the chunks after them shift): every line compared, the same answer as a walk.
    root.file('etc/many/f0050b.conf', 'new\n')
    execFileSync('rm', [root.path('etc/many/f0060.conf')])
    execFileSync('setfattr', ['-n', 'user.note', '-v', 'four', root.path('etc/many/f1200.conf')])
    await settle()
    from = host.queries.length
    const shifted = await collect()
    assert.deepEqual(askedPaths(from), ['/etc/many', '/etc/many/f0050b.conf', '/etc/many/f1200.conf'])
    assert.deepEqual(attributesOf(shifted), attributesOf(await collect(new MemoryCache(), new RecordingHost(new LocalHost(root.dir)))))

    // A chunk's recorded length that does not add up: every line compared, nothing taken on trust.
    const record = (await cache.read('attribute-stamps-v1')) as string
    const [head, chunkLine = '', ...rest] = record.split('\n')
    await cache.write('attribute-stamps-v1', [head, chunkLine.replace(/ (\d+),/, (_, n: string) => ` ${Number(n) + 1},`), ...rest].join('\n'))
    execFileSync('setfattr', ['-n', 'user.note', '-v', 'five', root.path('etc/many/f0100.conf')])
    await settle()
    from = host.queries.length
    const damaged = await collect()
    assert.deepEqual(askedPaths(from), ['/etc/many/f0100.conf'])
    assert.deepEqual(damaged.entries.find((e) => e.path === '/etc/many/f0100.conf')?.xattrs, { 'user.note': b64('five') })
  })

  let dir: string
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'twinsync-stamps-'))
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  it('writes the chunks that moved as a delta over the whole stamps, reads the whole only for a chunk the delta lacks, and trusts no torn or foreign delta', async () => {
    // Enough paths for nine chunks of stamps: a delta may hold two of them.
    for (let i = 1300; i < 4400; i++) root.file(`etc/many/f${String(i).padStart(4, '0')}.conf`, `${i}\n`)
    const host = new RecordingHost(new LocalHost(root.dir))
    const memory = new FileCache(dir)
    const reads: string[] = []
    const cache: ProviderCache = {
      checked: true,
      read: (key) => (reads.push(key), memory.read(key)),
      write: (key, value) => memory.write(key, value),
      remove: (key) => memory.remove(key),
    }
    const collect = async () => (await new FilesProvider().collect({ ctx: createTestContext(root.dir, { host, cache }) })).state
    const walk = async () => (await new FilesProvider().collect({ ctx: createTestContext(root.dir, { host: new RecordingHost(new LocalHost(root.dir)), cache: new MemoryCache() }) })).state
    const attributesOf = (state: Awaited<ReturnType<typeof collect>>) => state.entries.filter((e) => e.capabilities !== undefined || e.xattrs !== undefined).map((e) => [e.path, e.capabilities, e.xattrs])
    const askedPaths = (from: number) => [...new Set(host.queries.slice(from).filter(([c]) => c === 'getcap' || c === 'getfattr').flatMap(([, args]) => args.filter((a) => a.startsWith('/')).map((a) => a.slice(root.dir.length))))].sort()
    const note = (file: string, value: string) => execFileSync('setfattr', ['-n', 'user.note', '-v', value, root.path(`etc/many/${file}`)])
    const check = async (what: string, asked: string[]) => {
      await settle()
      const from = host.queries.length
      reads.splice(0)
      const state = await collect()
      assert.deepEqual(askedPaths(from), asked, `${what}: the paths asked`)
      assert.deepEqual(attributesOf(state), attributesOf(await walk()), `${what}: the same answer as a walk of everything`)
    }
    note('f0100.conf', 'one')
    await settle()
    await collect()
    const whole = (await memory.read('attribute-stamps-v1')) as string
    assert.equal(whole.split('\n')[1]?.split(' ')[1]?.length, 9 * 64, 'nine chunks')

    note('f0100.conf', 'two')
    await check('a chunk moved', ['/etc/many/f0100.conf'])
    assert.equal(await memory.read('attribute-stamps-v1'), whole, 'the whole stamps are not written again')
    const delta = (await memory.read('attribute-stamps-delta-v1')) as string
    assert.match(delta, /\nbase [0-9a-f]{64}\nchunks [0-9a-f]+ [\d,]+\nreplaced 0\n/)
    assert.ok(delta.length * 4 < whole.length)

    root.file('etc/many/f3000.conf', 'changed\n')
    await check('another chunk moved', ['/etc/many/f3000.conf'])
    assert.equal(await memory.read('attribute-stamps-v1'), whole)
    assert.match((await memory.read('attribute-stamps-delta-v1')) as string, /\nreplaced 0,5\n/, 'both chunks in the delta')

    note('f0100.conf', 'three')
    await check('a chunk of the delta moved again', ['/etc/many/f0100.conf'])
    assert.ok(!reads.includes('attribute-stamps-v1'), 'the whole stamps are not read: the chunk was the delta\'s')

    // A delta torn on disk (its end lost, a byte of it changed: the store's CRC-32 refuses it), or
    // over another whole record: the tools walk the roots again, and the answer is the same.
    const bad: Array<[string, (file: string) => void]> = [
      ['cut short', (file) => writeFileSync(file, readFileSync(file).subarray(0, -30))],
      // One bit of byte 200 flipped: always a change (writing '9' there changed nothing when a hex digest had a 9 there, 1 run in 16).
      ['a byte changed', (file) => writeFileSync(file, flipBit(readFileSync(file), 200))],
      ['over another whole record', (file) => void memory.write('attribute-stamps-delta-v1', readFileSync(file).subarray(0, -12).toString('utf8').replace(/\nbase [0-9a-f]{64}/, `\nbase ${'0'.repeat(64)}`))],
    ]
    for (const [what, damage] of bad) {
      note('f0100.conf', `${what} first`)
      await check(`${what}: a delta`, ['/etc/many/f0100.conf'])
      damage(join(dir, 'attribute-stamps-delta-v1'))
      // A chunk the delta does not hold.
      note('f2000.conf', what)
      await settle()
      const from = host.queries.length
      const state = await collect()
      assert.deepEqual(attributesOf(state), attributesOf(await walk()), what)
      assert.ok(host.queries.slice(from).some(([, args]) => args.includes('-r') || args.includes('-R')), `${what}: the roots walked again`)
      assert.ok(!existsSync(join(dir, 'attribute-stamps-delta-v1')), `${what}: then written whole, the delta removed`)
    }

    // Many chunks moved: the stamps are written whole again, and the delta removed.
    for (const i of [100, 700, 1300, 1900, 2500, 3100]) note(`f${String(i).padStart(4, '0')}.conf`, 'many')
    await check('many chunks moved', ['/etc/many/f0100.conf', '/etc/many/f0700.conf', '/etc/many/f1300.conf', '/etc/many/f1900.conf', '/etc/many/f2500.conf', '/etc/many/f3100.conf'])
    assert.notEqual(await memory.read('attribute-stamps-v1'), whole)
    assert.equal(await memory.read('attribute-stamps-delta-v1'), undefined)
    const from = host.queries.length
    await collect()
    assert.deepEqual(askedPaths(from), [], 'nothing moved: no tool runs')
  })
})
