import { strict as assert } from 'node:assert'
import { appendFileSync, cpSync, mkdtempSync, rmSync, utimesSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { MemoryCache, stableStringify, type HostPort } from '@twinsync/sdk'
import { checkConformance, createTestContext } from '@twinsync/sdk/conformance'
import { AptProvider } from '../src/provider.js'
import { parseDpkgStatus } from '../src/dpkg-status.js'
import { parseAutoInstalled } from '../src/extended-states.js'

const FIXTURE_ROOT = fileURLToPath(new URL('./fixtures/root', import.meta.url))

describe('apt collect', () => {
  it('parses the four fields of each dpkg status stanza and ignores continuation lines', () => {
    const records = parseDpkgStatus('Package: a\nStatus: hold ok installed\nArchitecture: all\nVersion: 1:2.0-1\nDescription: x\n Package: b\n\nPackage: c\nStatus: deinstall ok config-files\n')
    assert.deepEqual(records, [
      { name: 'a', architecture: 'all', version: '1:2.0-1', want: 'hold', status: 'installed' },
      { name: 'c', architecture: '', version: '', want: 'deinstall', status: 'config-files' },
    ])
  })

  it('reads Auto-Installed marks, native architecture for entries without one', () => {
    const auto = parseAutoInstalled('Package: a\nArchitecture: i386\nAuto-Installed: 1\n\nPackage: b\nAuto-Installed: 1\n\nPackage: c\nAuto-Installed: 0\n', 'amd64')
    assert.deepEqual([...auto].sort(), ['a:i386', 'b:amd64'])
  })

  it('collects installed packages with version, architecture, marks and holds, sorted', async () => {
    const result = await new AptProvider().collect({ ctx: createTestContext(FIXTURE_ROOT) })
    assert.deepEqual(result.state, {
      nativeArchitecture: 'amd64',
      packages: {
        adduser: { version: '3.134', architecture: 'all', manual: false, hold: false },
        dpkg: { version: '1.21.22', architecture: 'amd64', manual: true, hold: false },
        halfway: { version: '0.9-2', architecture: 'amd64', manual: true, hold: false, status: 'unpacked' },
        hello: { version: '2.10-3', architecture: 'amd64', manual: true, hold: true },
        libc6: { version: '2.36-9+deb12u10', architecture: 'amd64', manual: false, hold: false },
        'libc6:i386': { version: '2.36-9+deb12u10', architecture: 'i386', manual: false, hold: false },
      },
    })
    assert.deepEqual(result.documents.map((d) => d.path), ['system/packages/apt.json'])
    assert.equal(result.documents[0]?.content, stableStringify(result.state))
    assert.deepEqual(result.diagnostics.map((d) => d.code), ['APT_PACKAGE_UNFINISHED'])
  })

  it('holds out a package whose name holds a secret (a local package named like a Mailgun key; not a real one), said by the rule only', async () => {
    const root = mkdtempSync(join(tmpdir(), 'twinsync-apt-names-'))
    const name = 'key-0123456789abcdef0123456789abcdef'
    try {
      cpSync(FIXTURE_ROOT, root, { recursive: true })
      appendFileSync(join(root, 'var/lib/dpkg/status'), `\nPackage: ${name}\nStatus: install ok installed\nArchitecture: all\nVersion: 1.0\n`)
      const collected = await new AptProvider().collect({ ctx: createTestContext(root, { cache: new MemoryCache() }) })
      assert.ok(!JSON.stringify(collected).includes(name), JSON.stringify(collected.diagnostics))
      assert.deepEqual(
        collected.diagnostics.filter((d) => d.code === 'APT_NAME_SECRET').map((d) => d.summary),
        ['An installed package has a name that holds a secret (provider-token); the twin leaves it out'],
      )
      assert.ok(Object.keys(collected.state?.packages ?? {}).length > 0, 'the other packages are kept')
    } finally {
      rmSync(root, { recursive: true, force: true })
    }
  })

  it('conforms to the provider contract on the fixture root', async () => {
    assert.deepEqual(await checkConformance(new AptProvider(), createTestContext(FIXTURE_ROOT)), [])
  })

  it('is not detected where there is no dpkg database', async () => {
    const result = await new AptProvider().detect({ ctx: createTestContext(fileURLToPath(new URL('./fixtures', import.meta.url))) })
    assert.equal(result.detected, false)
  })

  it('parses dpkg\'s status again only when it or extended_states moved, and sees the change', async () => {
    const root = mkdtempSync(join(tmpdir(), 'twinsync-apt-cache-'))
    try {
      cpSync(FIXTURE_ROOT, root, { recursive: true })
      const past = new Date(Date.now() - 3600_000)
      for (const f of ['var/lib/dpkg/status', 'var/lib/apt/extended_states']) utimesSync(join(root, f), past, past)
      // Files changed in the last moments are read every time (racily clean); their ctime is now.
      await new Promise((resolve) => setTimeout(resolve, 150))
      const reads: string[] = []
      const base = createTestContext(root, { cache: new MemoryCache() })
      const ctx = { ...base, host: readingHost(base.host, reads) }
      const provider = new AptProvider()
      const first = await provider.collect({ ctx })
      assert.ok(reads.includes('/var/lib/dpkg/status'))
      reads.splice(0)
      const second = await provider.collect({ ctx })
      assert.equal(reads.length, 0, `nothing moved: nothing read (${reads.join(', ')})`)
      assert.deepEqual(second.state, first.state)
      assert.deepEqual(second.documents, first.documents)
      assert.deepEqual(second.diagnostics, first.diagnostics)
      appendFileSync(join(root, 'var/lib/dpkg/status'), '\nPackage: newcomer\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.0\n')
      const third = await provider.collect({ ctx })
      assert.ok(reads.includes('/var/lib/dpkg/status'))
      assert.equal(third.state.packages.newcomer?.version, '1.0')
      assert.equal(third.documents[0]?.content, stableStringify(third.state))
    } finally {
      rmSync(root, { recursive: true, force: true })
    }
  })
})

/** `host`, with the paths it is asked to read (readFile, readTextIfExists) pushed onto `reads`. */
function readingHost(host: HostPort, reads: string[]): HostPort {
  return new Proxy(host, {
    get(target, key, receiver) {
      const value: unknown = Reflect.get(target, key, receiver)
      if (key === 'readTextIfExists' || key === 'readFile') return (path: string) => (reads.push(path), (value as HostPort['readFile']).call(target, path))
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value
    },
  })
}

/** kept-collect.ts: a snapshot's collect handed back its token keeps apt.json instead of making it. */
describe('apt collect handed back its token (kept-collect.ts)', () => {
  let root: string
  let reads: string[]
  let ctx: ReturnType<typeof createTestContext>
  beforeEach(async () => {
    root = mkdtempSync(join(tmpdir(), 'twinsync-apt-kept-'))
    cpSync(FIXTURE_ROOT, root, { recursive: true })
    const past = new Date(Date.now() - 3600_000)
    for (const f of ['var/lib/dpkg/status', 'var/lib/apt/extended_states']) utimesSync(join(root, f), past, past)
    // Files changed in the last moments are racy (no token); their ctime is now.
    await new Promise((resolve) => setTimeout(resolve, 150))
    reads = []
    const base = createTestContext(root, { cache: new MemoryCache() })
    ctx = { ...base, host: readingHost(base.host, reads) }
  })
  afterEach(() => rmSync(root, { recursive: true, force: true }))

  it('nothing moved: apt.json kept, nothing read, the same diagnostics, a state whose packages throw; a collect without since makes it all', async () => {
    const provider = new AptProvider()
    const first = await provider.collect({ ctx })
    assert.match(first.token ?? '', /^apt-1-[0-9a-f]{32}$/)
    reads.splice(0)
    const kept = await provider.collect({ ctx, since: first.token as string })
    assert.deepEqual(kept.kept, ['system/packages/apt.json'])
    assert.deepEqual(kept.documents, [])
    assert.equal(kept.token, first.token)
    assert.deepEqual(kept.diagnostics, first.diagnostics)
    assert.ok(kept.diagnostics.length > 0, 'the fixture has a package not fully installed: its diagnostic is said kept too')
    assert.deepEqual(reads, [])
    assert.throws(() => kept.state.packages, /kept apt\.json/)
    const again = await provider.collect({ ctx })
    assert.deepEqual(again.state, first.state)
    assert.deepEqual(again.documents, first.documents)
  })

  it('a package installed since the token: apt.json made again, with it (never kept on the old token)', async () => {
    const provider = new AptProvider()
    const first = await provider.collect({ ctx })
    appendFileSync(join(root, 'var/lib/dpkg/status'), '\nPackage: newcomer\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.0\n')
    const later = await provider.collect({ ctx, since: first.token as string })
    assert.equal(later.kept, undefined)
    assert.equal(later.state.packages.newcomer?.version, '1.0')
    assert.equal(later.documents[0]?.content, stableStringify(later.state))
    // Just written: racy, so no token either (a change in the same tick would have the same stat data).
    assert.equal(later.token, undefined)
  })

  it('an extended_states mark changed with the same size and times set back, a plan collected since: made again (ctime moved)', async () => {
    const provider = new AptProvider()
    const first = await provider.collect({ ctx })
    const path = join(root, 'var/lib/apt/extended_states')
    const { readFileSync, writeFileSync, statSync } = await import('node:fs')
    const before = statSync(path)
    writeFileSync(path, readFileSync(path, 'utf8').replace('Auto-Installed: 1', 'Auto-Installed: 0'))
    assert.equal(statSync(path).size, before.size)
    utimesSync(path, before.atime, before.mtime)
    await new Promise((resolve) => setTimeout(resolve, 150))
    // A `plan` meanwhile collects (without since) and records its diagnostics under the new token.
    const planned = await provider.collect({ ctx })
    const later = await provider.collect({ ctx, since: first.token as string })
    assert.equal(later.token, planned.token)
    assert.equal(later.kept, undefined)
    assert.notEqual(later.documents[0]?.content, first.documents[0]?.content)
    assert.notEqual(later.token, first.token)
  })

  it("the diagnostics on record are another token's: apt.json made again", async () => {
    const provider = new AptProvider()
    const first = await provider.collect({ ctx })
    await ctx.cache.write('apt-kept-notes-v1', JSON.stringify({ token: 'apt-1-other', diagnostics: [] }))
    const later = await provider.collect({ ctx, since: first.token as string })
    assert.equal(later.kept, undefined)
    assert.deepEqual(later.documents, first.documents)
    assert.deepEqual(later.diagnostics, first.diagnostics)
  })
})
