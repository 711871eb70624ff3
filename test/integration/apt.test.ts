import { strict as assert } from 'node:assert'
import { MemoryTwin, stableStringify } from '@twinsync/sdk'
import { checkConformance, createTestContext } from '@twinsync/sdk/conformance'
import { AptProvider, type AptState } from '@twinsync/plugin-apt'
import { chrootOk, freshRootfs, ROOTFS_BUILD_TIMEOUT_MS, runOk, type Rootfs } from '../bed/index.js'

describe('apt provider on a real Debian root file system', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  let rootfs: Rootfs
  const provider = new AptProvider()
  before(async () => {
    rootfs = await freshRootfs()
  })
  after(async () => {
    await rootfs?.cleanup()
  })

  it('reads exactly what dpkg-query and apt-mark say', async () => {
    const root = rootfs.dir
    // Some automatic marks and a hold, so every column is exercised.
    await chrootOk(root, 'apt-mark', ['auto', 'libc6', 'adduser'])
    await chrootOk(root, 'apt-mark', ['hold', 'cron'])
    const started = performance.now()
    const { state } = await provider.collect({ ctx: createTestContext(root) })
    const elapsed = performance.now() - started

    const query = await runOk(['dpkg-query', `--admindir=${root}/var/lib/dpkg`, '-W', '-f=${Package}\\t${Architecture}\\t${Version}\\t${db:Status-Abbrev}\\n'])
    const fromDpkg = query.stdout.trim().split('\n').map((l) => l.split('\t')).filter(([, , , abbrev]) => !/^.[nc]/.test(abbrev ?? ''))
    assert.deepEqual(
      Object.entries(state.packages).map(([name, p]) => [name.split(':')[0], p.architecture, p.version]).sort(),
      fromDpkg.map(([name, arch, version]) => [name, arch, version]).sort(),
    )
    const aptMark = (verb: string) => runOk(['apt-mark', '-o', `Dir=${root}`, '-o', `Dir::State::status=${root}/var/lib/dpkg/status`, verb]).then((r) => r.stdout.trim().split('\n').filter(Boolean).sort())
    assert.deepEqual(Object.keys(state.packages).filter((k) => state.packages[k]?.manual).sort(), await aptMark('showmanual'))
    assert.deepEqual(Object.keys(state.packages).filter((k) => !state.packages[k]?.manual).sort(), await aptMark('showauto'))
    assert.deepEqual(Object.keys(state.packages).filter((k) => state.packages[k]?.hold).sort(), await aptMark('showhold'))
    assert.deepEqual(await aptMark('showauto'), ['adduser', 'libc6'])
    process.stdout.write(`      apt collect: ${Object.keys(state.packages).length} packages in ${elapsed.toFixed(1)} ms\n`)
    await chrootOk(root, 'apt-mark', ['unhold', 'cron'])
    await chrootOk(root, 'apt-mark', ['manual', 'libc6', 'adduser'])
  })

  it('conforms to the provider contract', async () => {
    assert.deepEqual(await checkConformance(provider, createTestContext(rootfs.dir)), [])
  })

  it('refuses "hello; rm -rf /" before anything runs', async () => {
    const ctx = createTestContext(rootfs.dir)
    const before = stableStringify((await provider.collect({ ctx })).state)
    const change = { id: 'apt:install:x', provider: 'apt', category: 'packages' as const, operation: 'install', resource: 'hello; rm -rf /', summary: 'x', risk: 'low' as const, data: { package: 'hello; rm -rf /' } }
    await assert.rejects(provider.apply({ changes: [change], ctx }), { code: 'NAME_INVALID' })
    assert.equal(stableStringify((await provider.collect({ ctx })).state), before)
  })

  it('applies a twin that adds hello and removes another package, and a second diff is empty', async () => {
    const root = rootfs.dir
    await chrootOk(root, 'apt-get', ['update', '-q'], { timeoutMs: 120_000 })
    const ctx = createTestContext(root)
    const first = await provider.collect({ ctx })
    assert.ok(first.state.packages['nano'] === undefined && first.state.packages['hello'] === undefined)
    // A manually installed package the twin will not have: installed here for the test.
    await chrootOk(root, 'apt-get', ['install', '-y', '-q', '--no-install-recommends', 'less'], { timeoutMs: 120_000 })
    const desired: AptState = structuredClone(first.state)
    desired.packages['hello'] = { version: '0', architecture: 'amd64', manual: true, hold: true }
    const actual = (await provider.collect({ ctx })).state
    const loaded = await provider.load({ ctx, twin: new MemoryTwin([{ path: 'system/packages/apt.json', content: stableStringify(desired) }]) })
    const { changes } = provider.diff({ desired: loaded.state as AptState, actual, ctx })
    assert.deepEqual(changes.map((c) => c.id), ['apt:install:hello', 'apt:hold:hello', 'apt:remove:less'])

    const { results } = await provider.apply({ changes, ctx })
    assert.deepEqual(results.map((r) => [r.id, r.status, r.outputTail]).filter(([, s]) => s !== 'applied'), [])
    const after = (await provider.collect({ ctx })).state
    assert.equal(after.packages['less'], undefined)
    assert.deepEqual({ ...after.packages['hello'], version: '-' }, { version: '-', architecture: 'amd64', manual: true, hold: true })
    await runOk(['chroot', root, 'hello', '--version'])
    // The twin's "0" was not pinned: the archive's version is what a re-collected twin records.
    desired.packages['hello'] = after.packages['hello'] as AptState['packages'][string]
    assert.deepEqual(provider.diff({ desired, actual: after, ctx }).changes, [])
    // Applying the same changes again changes nothing.
    assert.deepEqual((await provider.apply({ changes, ctx })).results.map((r) => r.status), ['unchanged', 'unchanged', 'unchanged'])
  })
})
