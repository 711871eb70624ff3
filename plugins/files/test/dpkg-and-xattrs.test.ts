import { strict as assert } from 'node:assert'
import { execFileSync } from 'node:child_process'
import { createTestContext } from '@twinsync/sdk/conformance'
import { LocalHost, MemoryCache, RecordingHost } from '@twinsync/sdk'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isWithin } from '@twinsync/sdk'
import { applyDiversions, originOf, parseDiversions, parseMd5sums, parseStatusConffiles, readPackageIndex, type PackageIndex } from '../src/package-origin.js'
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
  it('indexes only what ends up under /etc, the same entries as indexing everything (md5sums, conffiles, diversions, chains of them)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'twinsync-dpkg-'))
    try {
      const md5 = (n: number) => n.toString(16).padStart(32, '0')
      const files: Record<string, string> = {
        status: ['Package: a', 'Status: install ok installed', 'Conffiles:', ` /etc/a.conf ${md5(1)}`, ` /opt/a.conf ${md5(2)}`, ''].join('\n'),
        'info/a.md5sums': [`${md5(3)}  etc/a.conf`, `${md5(4)}  usr/bin/a`, `${md5(5)} */etc/star`, `${md5(6)}  usr/share/etcetera`, `${md5(7)}  etc/crlf\r`, `${md5(8)}  etc`, 'junk etc/x'].join('\n'),
        'info/b:amd64.md5sums': [`${md5(9)}  usr/lib/b/one`, `${md5(10)}  usr/lib/b/two`, `${md5(11)}  usr/lib/b/three`, `${md5(12)}  etc/b.conf`].join('\n') + '\n',
        'info/b:amd64.conffiles': '/etc/b.conf\n/etc/b.d/x\n /opt/b\n',
        'info/c.md5sums': `${md5(13)}  etc/moved-out\n${md5(14)}  usr/lib/c/plain\n`,
        // usr/lib/b/one diverted into /etc; two through a chain (two -> three is not: three -> /etc); /etc/moved-out out of /etc.
        diversions: ['/usr/lib/b/one', '/etc/one', ':', '/usr/lib/b/two', '/usr/lib/b/three', 'c', '/usr/lib/b/three', '/etc/three', 'c', '/etc/moved-out', '/usr/lib/out', ':'].join('\n') + '\n',
      }
      mkdirSync(join(dir, 'var/lib/dpkg/info'), { recursive: true })
      for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, 'var/lib/dpkg', name), text)
      const wanted = (p: string) => isWithin(p, '/etc')
      const cache = new MemoryCache()
      const index = await readPackageIndex(new LocalHost(dir), cache, wanted)
      // The whole index, as it was made before: every path, then diversions, then filtered.
      const whole: PackageIndex = new Map()
      const add = (path: string, file: { package: string; md5: string | undefined }) => {
        const list = whole.get(path) ?? []
        if (!list.some((f) => f.package === file.package)) list.push(file)
        else if (file.md5 !== undefined) for (const f of list) if (f.package === file.package) f.md5 = file.md5
        whole.set(path, list)
      }
      for (const [path, file] of parseStatusConffiles(files.status as string)) add(path, file)
      for (const [name, pkg] of [['info/a.md5sums', 'a'], ['info/b:amd64.md5sums', 'b']] as const) for (const [path, sum] of parseMd5sums(files[name] as string)) add(path, { package: pkg, md5: sum })
      for (const line of (files['info/b:amd64.conffiles'] as string).split('\n')) if (line.trim().startsWith('/') && !whole.get(line.trim())?.some((f) => f.package === 'b')) add(line.trim(), { package: 'b', md5: undefined })
      for (const [path, sum] of parseMd5sums(files['info/c.md5sums'] as string)) add(path, { package: 'c', md5: sum })
      applyDiversions(whole, parseDiversions(files.diversions as string))
      const expected = [...whole].filter(([path]) => wanted(path)).sort(([a], [b]) => a.localeCompare(b))
      assert.deepEqual([...index].sort(([a], [b]) => a.localeCompare(b)), expected)
      assert.ok(index.has('/etc/one') && index.has('/etc/three') && !index.has('/etc/moved-out') && !index.has('/etc/crlf'), 'diverted in and out, a CR line left out as before')
      // The cache holds nothing from outside /etc but what a diversion moved out, and answers the same.
      const cached = JSON.parse((await cache.read('dpkg-index')) as string) as { files: Array<[string, unknown]> }
      assert.deepEqual(cached.files.map(([p]) => p).filter((p) => !isWithin(p, '/etc')), ['/usr/lib/out'])
      const json = (v: unknown) => JSON.parse(JSON.stringify(v)) as unknown
      assert.deepEqual(json([...(await readPackageIndex(new LocalHost(dir), cache, wanted))].sort(([a], [b]) => a.localeCompare(b))), json(expected))
      assert.deepEqual(parseMd5sums(files['info/a.md5sums'] as string, 'etc'), parseMd5sums(files['info/a.md5sums'] as string).filter(([p]) => p.includes('etc')))
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
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
        const at = args[args.length - 1] ?? ''
        // getcap is asked about the file getfattr found a security.capability on (session 49), not walked.
        if (command === 'getcap') return { stdout: at.endsWith('/usr/local/bin/tool') && !args.includes('-r') ? `${at} cap_net_bind_service=ep\n` : '' }
        if (!at.endsWith('/usr/local/bin')) return { stdout: '' }
        return { stdout: `# file: ${at}/tool\nsecurity.capability=0sAQAAAg==\nuser.origin="built here"\n\n` }
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
    assert.deepEqual(host.queries.filter(([command]) => command === 'getcap').map(([, args]) => args.map((a) => a.slice(a.indexOf('/usr/')))), [['/usr/local/bin/tool'], ['/usr/local/bin/tool']], 'getcap about the holder alone')
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
    assert.equal(tools(), 1, 'a walk: getfattr alone, as no file holds a capability (session 49; getcap walked too before)')
    assert.deepEqual((await collect())?.xattrs, { 'user.note': b64('one') }, 'the same answer, from the cache')
    assert.equal(tools(), 1, 'no tool ran for an unchanged tree')

    execFileSync('setfattr', ['-n', 'user.note', '-v', 'two', root.path('etc/motd')])
    await settle()
    assert.deepEqual((await collect())?.xattrs, { 'user.note': b64('two') }, 'setfattr moved the ctime')
    assert.equal(tools(), 2, 'getfattr about the moved path; no getcap, as it holds no capability')

    root.file('etc/new.conf', 'x\n')
    await settle()
    await collect()
    assert.equal(tools(), 3, 'a new file')
    await collect()
    assert.equal(tools(), 3)
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
    assert.equal(walks, 1, 'the first run walks the roots (getfattr; getcap about what holds a capability, here nothing)')

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
    assert.deepEqual(asked.map(([command]) => command), ['getfattr', 'getcap'], 'getfattr first, then getcap')
    const expected: Record<string, string[]> = {
      getfattr: ['/etc', '/etc/added.conf', '/etc/motd', '/etc/motd-link'],
      // Speed (session 30): getcap only about the moved paths getfattr found a security.capability on.
      getcap: ['/etc/added.conf'],
    }
    for (const [command, args] of asked) {
      assert.ok(!args.includes('-r') && !args.includes('-R'), `${command} is not walked into the roots`)
      const paths = args.filter((a) => a.startsWith('/')).map((a) => a.slice(root.dir.length)).sort()
      assert.deepEqual(paths, expected[command], `${command} asked about the moved paths (and their folder)`)
    }
    const walking = new RecordingHost(new LocalHost(root.dir))
    const full = await collectWith(new MemoryCache(), walking)
    assert.deepEqual(attributesOf(incremental), attributesOf(full), 'the same answer as a walk of everything')
    // Session 49: a walk runs getfattr over the roots, then getcap about the files it found a capability on alone.
    const walked = walking.queries.filter(([command]) => command === 'getcap' || command === 'getfattr')
    assert.deepEqual(walked.map(([command, args]) => [command, args.includes('-r') || args.includes('-R')]), [['getfattr', true], ['getcap', false]])
    assert.deepEqual(walked[1]?.[1].map((a) => a.slice(root.dir.length)), ['/etc/added.conf'])
    // What getcap -r says of the roots, as the walk asked it before.
    const byWalk = execFileSync('getcap', ['-r', root.path('etc')], { encoding: 'utf8' }).trim().split('\n').filter(Boolean)
    assert.deepEqual(byWalk.map((line) => line.slice(root.dir.length)), ['/etc/added.conf cap_net_raw=ep'])
    assert.equal(full.entries.find((e) => e.path === '/etc/added.conf')?.capabilities, 'cap_net_raw=ep')
    const added = incremental.entries.find((e) => e.path === '/etc/added.conf')
    assert.equal(added?.capabilities, 'cap_net_raw=ep')
    assert.deepEqual(added?.xattrs, { 'user.kind': b64('added') })
    assert.deepEqual(incremental.entries.find((e) => e.path === '/etc/motd')?.xattrs, { 'user.note': b64('two') })
    assert.equal(incremental.entries.find((e) => e.path === '/etc/gone.conf'), undefined)

    // A damaged stamps record: the tools walk everything again, with the same answer.
    await cache.write('attribute-stamps-v2-0', '{"signature": 1')
    execFileSync('setfattr', ['-n', 'user.note', '-v', 'three', root.path('etc/motd')])
    await settle()
    const walksBefore = host.queries.filter(([, args]) => args.includes('-r') || args.includes('-R')).length
    const again = await collectWith(cache)
    assert.equal(host.queries.filter(([, args]) => args.includes('-r') || args.includes('-R')).length, walksBefore + 1)
    assert.deepEqual(again.entries.find((e) => e.path === '/etc/motd')?.xattrs, { 'user.note': b64('three') })
  })

  it('records a symlink\'s own attributes (getfattr -h), so a change of its target\'s alone moves only the target\'s entry', async () => {
    // Real setfattr on the root's file system: user.* cannot be set on a symlink, trusted.* can (as root).
    const host = new RecordingHost(new LocalHost(root.dir))
    const cache = new MemoryCache()
    const collect = async (c = cache) => {
      const { state } = await new FilesProvider().collect({ ctx: createTestContext(root.dir, { host, cache: c }) })
      return Object.fromEntries(['/etc/motd', '/etc/motd-link'].map((p) => [p, state.entries.find((e) => e.path === p)?.xattrs]))
    }
    const settle = () => new Promise((r) => setTimeout(r, 250)) // past the racily-clean window
    execFileSync('setfattr', ['-n', 'user.note', '-v', 'one', root.path('etc/motd')])
    root.link('etc/motd-link', 'motd')
    execFileSync('setfattr', ['-h', '-n', 'trusted.own', '-v', 'link', root.path('etc/motd-link')])
    await settle()
    // Before, the link's entry showed its target's user.note and not its own trusted.own.
    assert.deepEqual(await collect(), { '/etc/motd': { 'user.note': b64('one') }, '/etc/motd-link': { 'trusted.own': b64('link') } })
    // Only the target's attribute changes: the link's stamp does not move, and its entry is still right.
    execFileSync('setfattr', ['-n', 'user.note', '-v', 'two', root.path('etc/motd')])
    await settle()
    const after = await collect()
    assert.deepEqual(after, { '/etc/motd': { 'user.note': b64('two') }, '/etc/motd-link': { 'trusted.own': b64('link') } })
    assert.deepEqual(after, await collect(new MemoryCache()), 'as a walk of everything answers')
    // The link's own attribute changes: its own ctime moved.
    execFileSync('setfattr', ['-h', '-n', 'trusted.own', '-v', 'changed', root.path('etc/motd-link')])
    await settle()
    assert.deepEqual((await collect())['/etc/motd-link'], { 'trusted.own': b64('changed') })
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
    assert.equal(tools(), 2, 'getfattr again (getcap only for a path with a capability)')
  })
})
