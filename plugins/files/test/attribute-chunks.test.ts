import { strict as assert } from 'node:assert'
import { execFileSync } from 'node:child_process'
import { createTestContext } from '@twinsync/sdk/conformance'
import { LocalHost, MemoryCache, RecordingHost } from '@twinsync/sdk'
import { FilesProvider } from '../src/index.js'
import { debianLikeRoot, type TargetRoot } from './target-root.js'

/** attribute-cache.ts: with the same paths as last time, only the chunks of stamps whose digest moved are compared (real getcap/getfattr). */
describe('files provider: attribute stamps compared a chunk at a time', () => {
  const b64 = (text: string) => `0s${Buffer.from(text).toString('base64')}` // as getfattr -e base64 prints it
  const settle = () => new Promise((r) => setTimeout(r, 250)) // past the racily-clean window
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
})
