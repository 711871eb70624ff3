import { strict as assert } from 'node:assert'
import { execFileSync } from 'node:child_process'
import { createTestContext } from '@twinsync/sdk/conformance'
import { LocalHost, MemoryCache, RecordingHost } from '@twinsync/sdk'
import { applyDiversions, originOf, parseDiversions, parseMd5sums, parseStatusConffiles, type PackageIndex } from '../src/package-origin.js'
import { parseGetcap, parseGetfattr, readExtendedAttributes } from '../src/extended-attributes.js'
import { FilesProvider } from '../src/index.js'
import { debianLikeRoot, type TargetRoot } from './target-root.js'

describe('files provider: dpkg data', () => {
  it('reads Conffiles from the status file, skipping packages that are not installed', () => {
    const status = [
      'Package: a', 'Status: install ok installed', 'Conffiles:', ' /etc/a.conf 0123456789abcdef0123456789abcdef', ' /etc/old.conf newconffile obsolete', 'Description: x', '',
      'Package: gone', 'Status: purge ok not-installed', 'Conffiles:', ' /etc/gone 0123456789abcdef0123456789abcdef', '',
    ].join('\n')
    assert.deepEqual(parseStatusConffiles(status), [
      ['/etc/a.conf', { package: 'a', md5: '0123456789abcdef0123456789abcdef' }],
      ['/etc/old.conf', { package: 'a', md5: undefined }],
    ])
    assert.deepEqual(parseMd5sums('0123456789abcdef0123456789abcdef  etc/x y\n'), [['/etc/x y', '0123456789abcdef0123456789abcdef']])
  })

  it('follows dpkg-divert: the package file moved aside keeps its package, the diverting package owns the name', () => {
    const index: PackageIndex = new Map([['/etc/issue', [{ package: 'base-files', md5: 'aa' }, { package: 'branding', md5: 'bb' }]]])
    applyDiversions(index, parseDiversions('/etc/issue\n/etc/issue.distrib\nbranding\n'))
    assert.deepEqual(index.get('/etc/issue'), [{ package: 'branding', md5: 'bb' }])
    assert.deepEqual(index.get('/etc/issue.distrib'), [{ package: 'base-files', md5: 'aa', divertedFrom: '/etc/issue' }])
    assert.deepEqual(originOf(index.get('/etc/issue.distrib'), 'aa'), { origin: 'package-unmodified', package: 'base-files', divertedFrom: '/etc/issue' })
    assert.deepEqual(originOf(undefined, 'aa'), { origin: 'local' })
  })
})

describe('files provider: capabilities and extended attributes', () => {
  let root: TargetRoot
  before(() => {
    root = debianLikeRoot()
  })
  after(() => {
    root.remove()
  })

  it('parses getcap and getfattr output', () => {
    assert.deepEqual(parseGetcap('/r/usr/bin/ping cap_net_raw=ep\n/r/old = cap_net_admin+ep\n'), [
      ['/r/usr/bin/ping', 'cap_net_raw=ep'],
      ['/r/old', 'cap_net_admin+ep'],
    ])
    assert.deepEqual(parseGetfattr('# file: /r/etc/a\\040b\nuser.note="hi"\nsystem.posix_acl_access=0sAgAAAA==\n\n'), [
      ['/r/etc/a b', { 'user.note': 'hi', 'system.posix_acl_access': '0sAgAAAA==' }],
    ])
  })

  it('records what getcap and getfattr report in the manifest, by target path', async () => {
    // getcap and getfattr only read: queries, answered here as the tools would.
    const host = new RecordingHost(new LocalHost(root.dir), {
      which: (tool) => (tool === 'getcap' || tool === 'getfattr' ? `/usr/sbin/${tool}` : undefined),
      query: (command, args) => {
        const dir = args[args.length - 1] ?? ''
        if (!dir.endsWith('/usr/local/bin')) return { stdout: '' }
        return { stdout: command === 'getcap' ? `${dir}/tool cap_net_bind_service=ep\n` : `# file: ${dir}/tool\nsecurity.capability=0sAQAAAg==\nuser.origin="built here"\n\n` }
      },
    })
    const ctx = createTestContext(root.dir, { host })
    const attributes = await readExtendedAttributes(ctx.host, ['/usr/local/bin'])
    assert.deepEqual(attributes.diagnostics, [])
    const { state } = await new FilesProvider().collect({ ctx })
    const tool = state.entries.find((e) => e.path === '/usr/local/bin/tool')
    assert.equal(tool?.capabilities, 'cap_net_bind_service=ep')
    assert.deepEqual(tool?.xattrs, { 'user.origin': 'built here' })
    assert.deepEqual(host.queries.map(([command]) => command).sort(), ['getcap', 'getcap', 'getfattr', 'getfattr'])
    assert.deepEqual(host.actions, [], 'collecting changes nothing')
  })

  it('says which tool is missing instead of failing', async () => {
    const host = new RecordingHost(new LocalHost(root.dir), { which: () => undefined })
    const attributes = await readExtendedAttributes(host, ['/etc'])
    assert.deepEqual(attributes.diagnostics.map((d) => [d.code, d.severity]), [['FILES_XATTR_TOOLS_MISSING', 'info']])
    assert.match(attributes.diagnostics[0]?.summary ?? '', /getcap .* getfattr/)
  })
})

describe('files provider: getcap and getfattr only when something moved', () => {
  const b64 = (text: string) => `0s${Buffer.from(text).toString('base64')}` // as getfattr -e base64 prints it
  let root: TargetRoot
  beforeEach(() => {
    root = debianLikeRoot()
  })
  afterEach(() => root.remove())

  it('keeps their answer while every path keeps its inode and ctime; a changed attribute or a new file runs them again', async () => {
    const host = new RecordingHost(new LocalHost(root.dir))
    const cache = new MemoryCache()
    const collect = async () => {
      const { state } = await new FilesProvider().collect({ ctx: createTestContext(root.dir, { host, cache }) })
      return state.entries.find((e) => e.path === '/etc/motd')
    }
    const tools = () => host.queries.filter(([command]) => command === 'getcap' || command === 'getfattr').length
    const settle = () => new Promise((r) => setTimeout(r, 250)) // past the racily-clean window
    execFileSync('setfattr', ['-n', 'user.note', '-v', 'one', root.path('etc/motd')])
    await settle()

    assert.deepEqual((await collect())?.xattrs, { 'user.note': b64('one') })
    assert.equal(tools(), 2)
    assert.deepEqual((await collect())?.xattrs, { 'user.note': b64('one') }, 'the same answer, from the cache')
    assert.equal(tools(), 2, 'no tool ran for an unchanged tree')

    execFileSync('setfattr', ['-n', 'user.note', '-v', 'two', root.path('etc/motd')])
    await settle()
    assert.deepEqual((await collect())?.xattrs, { 'user.note': b64('two') }, 'setfattr moved the ctime')
    assert.equal(tools(), 4)

    root.file('etc/new.conf', 'x\n')
    await settle()
    await collect()
    assert.equal(tools(), 6, 'a new file')
    await collect()
    assert.equal(tools(), 6)
  })

  it('asks them about the moved paths alone, and answers as a walk of everything would', async () => {
    const host = new RecordingHost(new LocalHost(root.dir))
    const cache = new MemoryCache()
    const collectWith = async (c: MemoryCache, h = host) => (await new FilesProvider().collect({ ctx: createTestContext(root.dir, { host: h, cache: c }) })).state
    const attributesOf = (state: Awaited<ReturnType<typeof collectWith>>) =>
      state.entries.filter((e) => e.capabilities !== undefined || e.xattrs !== undefined).map((e) => [e.path, e.capabilities, e.xattrs])
    const settle = () => new Promise((r) => setTimeout(r, 250)) // past the racily-clean window
    execFileSync('setfattr', ['-n', 'user.note', '-v', 'one', root.path('etc/motd')])
    root.file('etc/gone.conf', 'x\n')
    execFileSync('setfattr', ['-n', 'user.gone', '-v', 'soon', root.path('etc/gone.conf')])
    await settle()
    await collectWith(cache)
    const walks = host.queries.filter(([, args]) => args.includes('-r') || args.includes('-R')).length
    assert.equal(walks, 2, 'the first run walks the roots')

    // One attribute changed, a file with attributes removed, a new file with a capability and a symlink to a file with attributes.
    execFileSync('setfattr', ['-n', 'user.note', '-v', 'two', root.path('etc/motd')])
    root.file('etc/added.conf', 'y\n')
    execFileSync('setcap', ['cap_net_raw=ep', root.path('etc/added.conf')])
    execFileSync('setfattr', ['-n', 'user.kind', '-v', 'added', root.path('etc/added.conf')])
    root.link('etc/motd-link', 'motd')
    execFileSync('rm', [root.path('etc/gone.conf')])
    await settle()
    const before = host.queries.length
    const incremental = await collectWith(cache)
    const asked = host.queries.slice(before).filter(([command]) => command === 'getcap' || command === 'getfattr')
    assert.equal(asked.length, 2)
    for (const [command, args] of asked) {
      assert.ok(!args.includes('-r') && !args.includes('-R'), `${command} is not walked into the roots`)
      const paths = args.filter((a) => a.startsWith('/')).map((a) => a.slice(root.dir.length)).sort()
      assert.deepEqual(paths, ['/etc', '/etc/added.conf', '/etc/motd', '/etc/motd-link'], `${command} asked about the moved paths (and their folder)`)
    }
    const full = await collectWith(new MemoryCache(), new RecordingHost(new LocalHost(root.dir)))
    assert.deepEqual(attributesOf(incremental), attributesOf(full), 'the same answer as a walk of everything')
    const added = incremental.entries.find((e) => e.path === '/etc/added.conf')
    assert.equal(added?.capabilities, 'cap_net_raw=ep')
    assert.deepEqual(added?.xattrs, { 'user.kind': b64('added') })
    assert.deepEqual(incremental.entries.find((e) => e.path === '/etc/motd')?.xattrs, { 'user.note': b64('two') })
    assert.equal(incremental.entries.find((e) => e.path === '/etc/gone.conf'), undefined)

    // A damaged stamps record: the tools walk everything again, with the same answer.
    await cache.write('attribute-stamps-v1', '{"signature": 1')
    execFileSync('setfattr', ['-n', 'user.note', '-v', 'three', root.path('etc/motd')])
    await settle()
    const walksBefore = host.queries.filter(([, args]) => args.includes('-r') || args.includes('-R')).length
    const again = await collectWith(cache)
    assert.equal(host.queries.filter(([, args]) => args.includes('-r') || args.includes('-R')).length, walksBefore + 2)
    assert.deepEqual(again.entries.find((e) => e.path === '/etc/motd')?.xattrs, { 'user.note': b64('three') })
  })

  it('runs them every time while a path changed too recently to trust its ctime', async () => {
    const host = new RecordingHost(new LocalHost(root.dir))
    const cache = new MemoryCache()
    const collect = () => new FilesProvider().collect({ ctx: createTestContext(root.dir, { host, cache }) })
    const tools = () => host.queries.filter(([command]) => command === 'getcap' || command === 'getfattr').length
    root.file('etc/fresh.conf', 'x\n')
    await collect()
    root.file('etc/fresh.conf', 'y\n')
    await collect()
    assert.equal(tools(), 4)
  })
})
