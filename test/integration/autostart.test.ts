import { strict as assert } from 'node:assert'
import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { MemoryTwin, type ProviderContext } from '@twinsync/sdk'
import { checkConformance, createTestContext } from '@twinsync/sdk/conformance'
import { AutostartProvider, providers, startupEntries } from '@twinsync/plugin-autostart'
import { bootContainer, chrootOk, freshRootfs, REPO_IN_CONTAINER, ROOTFS_BUILD_TIMEOUT_MS, type Container, type Rootfs } from '../bed/index.js'

const HELLO = '[Desktop Entry]\nType=Application\nName=Hello\nExec=/usr/bin/hello --greeting=hi\nX-GNOME-Autostart-enabled=true\n'
const NOTES = '[Desktop Entry]\nType=Application\nName=Notes\nExec=notes --tray\n'
const RC_LOCAL = '#!/bin/sh -e\ncat /proc/sys/kernel/random/boot_id > /root/rc-local-ran\nexit 0\n'

describe('autostart provider on a real Debian root file system', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  const provider = new AutostartProvider()
  let rootfs: Rootfs | undefined
  let root: string
  let ctx: ProviderContext

  before(async () => {
    rootfs = await freshRootfs()
    root = rootfs.dir
    await chrootOk(root, 'useradd', ['-m', 'ann'])
    await chrootOk(root, 'install', ['-D', '-m', '0644', '/dev/null', '/etc/xdg/autostart/hello.desktop'])
    await chrootOk(root, 'dd', ['of=/etc/xdg/autostart/hello.desktop', 'status=none'], { input: HELLO })
    await chrootOk(root, 'install', ['-d', '-o', 'ann', '-g', 'ann', '/home/ann/.config', '/home/ann/.config/autostart'])
    await chrootOk(root, 'install', ['-m', '0600', '-o', 'ann', '-g', 'ann', '/dev/null', '/home/ann/.config/autostart/notes.desktop'])
    await chrootOk(root, 'dd', ['of=/home/ann/.config/autostart/notes.desktop', 'status=none'], { input: NOTES })
    await chrootOk(root, 'install', ['-m', '0644', '/dev/null', '/etc/rc.local'])
    await chrootOk(root, 'dd', ['of=/etc/rc.local', 'status=none'], { input: RC_LOCAL })
    ctx = createTestContext(root, { providers })
  })

  after(async () => {
    await rootfs?.cleanup()
  })

  it('conforms to the SDK contract', async () => {
    assert.deepEqual(await checkConformance(provider, ctx), [])
  })

  it("finds Debian's rc-local.service and names owners from the target's /etc/passwd", async () => {
    const { state, diagnostics } = await provider.collect({ ctx })
    assert.deepEqual(diagnostics, [])
    assert.deepEqual(
      [state.rcLocal.exists, state.rcLocal.executable, state.rcLocal.interpreter, state.rcLocal.service, state.rcLocal.wouldRun],
      [true, false, '/bin/sh -e', '/lib/systemd/system/rc-local.service', false],
    )
    assert.deepEqual(
      state.entries.map((e) => [e.path, e.scope, e.user, e.owner, e.group, e.mode, e.enabled]),
      [
        ['/etc/xdg/autostart/hello.desktop', 'system', undefined, 'root', 'root', '0644', true],
        ['/home/ann/.config/autostart/notes.desktop', 'user', 'ann', 'ann', 'ann', '0600', true],
      ],
    )
  })

  it('disables an entry and makes rc.local executable, keeping owners and modes; the next diff is empty', async () => {
    const actual = await provider.collect({ ctx })
    const twin = new MemoryTwin(actual.documents)
    // Disabled the way a person does it in the twin: Hidden=true in the .desktop file.
    twin.set('filesystem/etc/xdg/autostart/hello.desktop', HELLO + 'Hidden=true\n')
    const rcLocal = JSON.parse((await twin.readText('system/startup/rc-local.json')) ?? '') as Record<string, unknown>
    twin.set('system/startup/rc-local.json', JSON.stringify({ ...rcLocal, executable: true }))
    const desired = (await provider.load({ ctx, twin })).state
    assert.ok(desired !== undefined)

    const { changes, diagnostics } = provider.diff({ desired, actual: actual.state, ctx })
    assert.deepEqual(diagnostics, [])
    assert.deepEqual(changes.map((c) => c.id), ['autostart:disable:/etc/xdg/autostart/hello.desktop', 'autostart:chmod:/etc/rc.local'])
    const applied = await provider.apply({ changes, ctx })
    assert.deepEqual(applied.results.map((r) => [r.status, r.message]), [['applied', undefined], ['applied', undefined]])

    assert.equal(await readFile(join(root, 'etc/xdg/autostart/hello.desktop'), 'utf8'), HELLO + 'Hidden=true\n')
    const hello = await stat(join(root, 'etc/xdg/autostart/hello.desktop'))
    assert.deepEqual([hello.mode & 0o7777, hello.uid, hello.gid], [0o644, 0, 0])
    const rc = await stat(join(root, 'etc/rc.local'))
    assert.deepEqual([rc.mode & 0o7777, rc.uid, rc.gid], [0o755, 0, 0])
    const notes = await stat(join(root, 'home/ann/.config/autostart/notes.desktop'))
    const ann = (await chrootOk(root, 'id', ['-u', 'ann'])).stdout.trim()
    assert.deepEqual([notes.mode & 0o7777, String(notes.uid)], [0o600, ann])

    const after = await provider.collect({ ctx })
    assert.equal(after.state.rcLocal.wouldRun, true)
    assert.equal(after.documents.find((d) => d.path === 'filesystem/etc/rc.local')?.executable, true)
    assert.deepEqual(provider.diff({ desired, actual: after.state, ctx }), { changes: [], diagnostics: [] })
    assert.deepEqual(
      startupEntries(after.state).map((e) => [e.source, e.trigger, e.name, e.enabled]),
      [
        ['rc.local', 'boot', '/etc/rc.local', true],
        ['autostart', 'login', '/etc/xdg/autostart/hello.desktop', false],
        ['autostart', 'login', '/home/ann/.config/autostart/notes.desktop', true],
      ],
    )
    assert.deepEqual((await provider.apply({ changes, ctx })).results.map((r) => r.status), ['unchanged', 'unchanged'])
  })

  it("creates an entry in a new user's autostart folder, owned by that user", async () => {
    await chrootOk(root, 'useradd', ['-m', 'bob'])
    const actual = await provider.collect({ ctx })
    const twin = new MemoryTwin(actual.documents)
    twin.set('filesystem/home/bob/.config/autostart/notes.desktop', NOTES)
    const desired = (await provider.load({ ctx, twin })).state
    assert.ok(desired !== undefined)
    const { changes } = provider.diff({ desired, actual: actual.state, ctx })
    assert.deepEqual(changes.map((c) => c.id), ['autostart:create:/home/bob/.config/autostart/notes.desktop'])
    assert.deepEqual((await provider.apply({ changes, ctx })).results.map((r) => r.status), ['applied'])
    const owner = (await chrootOk(root, 'stat', ['-c', '%U:%G %a', '/home/bob/.config', '/home/bob/.config/autostart', '/home/bob/.config/autostart/notes.desktop'])).stdout
    assert.equal(owner, 'bob:bob 755\nbob:bob 755\nbob:bob 644\n')
  })
})

describe('autostart provider in a booted container', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  let container: Container | undefined

  after(async () => {
    await container?.close()
  })

  it('makes rc.local executable with root "/", and after a reboot systemd has run it', async () => {
    container = await bootContainer()
    await container.writeFile('/etc/rc.local', RC_LOCAL, { mode: 0o644 })
    const out = await container.runOk(['node', `${REPO_IN_CONTAINER}/test/integration/fixtures/autostart-apply.mjs`])
    const report = JSON.parse(out.stdout) as { changes: string[]; results: Array<{ status: string }>; rcLocal: { wouldRun: boolean }; remaining: string[] }
    assert.deepEqual(report.changes, ['autostart:chmod:/etc/rc.local'])
    assert.deepEqual(report.results.map((r) => r.status), ['applied'])
    assert.equal(report.rcLocal.wouldRun, true)
    assert.deepEqual(report.remaining, [])
    assert.equal((await container.runOk(['stat', '-c', '%a', '/etc/rc.local'])).stdout, '755\n')

    await container.reboot()
    const bootId = (await container.readFile('/proc/sys/kernel/random/boot_id')).trim()
    const ran = await container.run(['cat', '/root/rc-local-ran'])
    assert.equal(ran.stdout.trim(), bootId, `rc.local ran in the boot after the apply (${ran.stderr})`)
  })
})
