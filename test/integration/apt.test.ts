import { strict as assert } from 'node:assert'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { MemoryTwin, stableStringify } from '@twinsync/sdk'
import { checkConformance, createTestContext } from '@twinsync/sdk/conformance'
import { AptProvider, type AptState } from '@twinsync/plugin-apt'
import { bootContainer, chrootOk, freshRootfs, REPO_IN_CONTAINER, ROOTFS_BUILD_TIMEOUT_MS, runOk, type Container, type Rootfs } from '../bed/index.js'
import { cliSandbox, type CliSandbox } from '../support/cli.js'

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

// apt and dpkg lock with fcntl(2), which flock(1) does not conflict with (flock(2) locks are a
// separate kind on Linux): perl-base, part of every Debian, takes the same kind of lock apt does.
const HOLD_FRONTEND_LOCK =
  'use Fcntl; open(my $f, ">>", "/var/lib/dpkg/lock-frontend") or die "open: $!"; ' +
  'fcntl($f, F_SETLK, pack("s s x4 q q i x4", F_WRLCK, SEEK_SET, 0, 0, 0)) or die "lock: $!"; ' +
  'open(my $m, ">", "/run/twinsync-lock-held") or die; close $m; sleep 600'

describe('apt provider in a booted container (live, root "/")', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  let container: Container | undefined

  after(async () => {
    await container?.close()
  })

  it('fails with LOCK_HELD naming the lock while another process holds dpkg\'s frontend lock, and installs nothing', async () => {
    container = await bootContainer()
    const c = container
    const status = async () => (await c.runOk(['dpkg-query', '-W', '-f=${Package} ${Version} ${db:Status-Abbrev}\\n'])).stdout
    const before = await status()
    assert.doesNotMatch(before, /^hello /m)
    await c.runOk(['systemd-run', '--unit=twinsync-lock-holder', '--', 'perl', '-e', HOLD_FRONTEND_LOCK])
    // systemd-run returns once perl is forked, not once it holds the lock: wait for its marker.
    const deadline = Date.now() + 60_000
    while ((await c.run(['test', '-e', '/run/twinsync-lock-held'])).code !== 0) {
      assert.ok(Date.now() < deadline, 'the lock holder took dpkg\'s frontend lock within 60 s')
      await new Promise((r) => setTimeout(r, 50))
    }
    const holder = (await c.runOk(['systemctl', 'show', '-p', 'MainPID', '--value', 'twinsync-lock-holder.service'])).stdout.trim()
    assert.notEqual(holder, '0', 'the lock holder runs')

    const out = await c.run(['node', `${REPO_IN_CONTAINER}/test/integration/fixtures/apt-apply.mjs`, JSON.stringify({ install: { hello: '2.10-3' } })])
    assert.equal(out.code, 0, out.stderr)
    const report = JSON.parse(out.stdout) as { changes: string[]; error?: { code: string; message: string; details: Record<string, unknown> } }
    assert.deepEqual(report.changes, ['apt:install:hello'])
    assert.equal(report.error?.code, 'LOCK_HELD', out.stdout)
    assert.match(report.error.message, /lock \/var\/lib\/dpkg\/lock-frontend is held by process \d+ \(perl\)/)
    assert.deepEqual(report.error.details, { lock: '/var/lib/dpkg/lock-frontend', pid: Number(holder) })
    assert.equal(await status(), before, 'nothing was installed or removed')
    await c.runOk(['systemctl', 'stop', 'twinsync-lock-holder.service'])
  })
})

describe('apt version pins through real snapshots (twinsync CLI, --root)', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  let rootfs: Rootfs | undefined
  let cli: CliSandbox | undefined
  after(async () => {
    await cli?.cleanup()
    await rootfs?.cleanup()
  })

  it('keeps system/packages/apt-pins.json across snapshots, and the plan installs the pinned version', async () => {
    rootfs = await freshRootfs()
    cli = await cliSandbox()
    const { dir: root } = rootfs
    const { twinDir } = cli
    const twinsync = async (...args: string[]) => {
      const r = await (cli as CliSandbox).twinsync([...args, '--root', root, '--repo', twinDir, '--json'])
      assert.equal(r.code, 0, r.stderr + r.stdout)
      return JSON.parse(r.stdout) as { changes?: Array<{ id: string; before?: string; after?: string }> }
    }
    await twinsync('snapshot', '--init')
    const pins = stableStringify({ pins: { cron: '3.0pl1-1' } })
    await writeFile(join(twinDir, 'system/packages/apt-pins.json'), pins)
    await twinsync('snapshot')
    // A second snapshot, with apt.json rewritten from the machine, still leaves the pins alone.
    await chrootOk(root, 'apt-mark', ['auto', 'cron'])
    await twinsync('snapshot')
    await chrootOk(root, 'apt-mark', ['manual', 'cron'])
    assert.equal(await readFile(join(twinDir, 'system/packages/apt-pins.json'), 'utf8'), pins)
    assert.equal((await runOk(['git', '-C', twinDir, 'status', '--porcelain'])).stdout, '', 'the pins file is committed')
    const plan = await twinsync('plan')
    const installed = JSON.parse(await readFile(join(twinDir, 'system/packages/apt.json'), 'utf8')) as AptState
    assert.deepEqual(
      plan.changes?.filter((c) => c.id.startsWith('apt:')).map((c) => [c.id, c.before, c.after]).sort(),
      [['apt:install:cron', installed.packages['cron']?.version, '3.0pl1-1'], ['apt:mark-auto:cron', 'manual', 'auto']],
    )
  })
})
