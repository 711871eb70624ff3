import { strict as assert } from 'node:assert'
import { mkdir, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { MemoryTwin } from '@twinsync/sdk'
import { checkConformance, createTestContext } from '@twinsync/sdk/conformance'
import { SystemdProvider, type SystemdState } from '@twinsync/plugin-systemd'
import { freshRootfs, ROOTFS_BUILD_TIMEOUT_MS, runOk, type Rootfs } from '../bed/index.js'

/** What `systemctl --root list-unit-files` says: name → "state preset". */
async function toolAnswer(root: string): Promise<Map<string, string>> {
  const out = await runOk(['systemctl', `--root=${root}`, 'list-unit-files', '--no-legend', '--no-pager'])
  return new Map(out.stdout.trim().split('\n').map((line) => {
    const [name, state, preset] = line.trim().split(/\s+/)
    return [name as string, `${state} ${preset}`]
  }))
}

function fastAnswer(state: SystemdState): Map<string, string> {
  return new Map(Object.entries(state.units).map(([name, u]) => [name, `${u.state} ${u.preset ?? '-'}`]))
}

describe('systemd provider on a real Debian root file system (offline)', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  let rootfs: Rootfs
  const provider = new SystemdProvider()
  before(async () => {
    rootfs = await freshRootfs()
  })
  after(async () => {
    await rootfs?.cleanup()
  })

  it('the fast path gives exactly what systemctl list-unit-files says, for every unit', async () => {
    const started = performance.now()
    const { state } = await provider.collect({ ctx: createTestContext(rootfs.dir) })
    const fast = performance.now() - started
    const toolStarted = performance.now()
    const tool = await toolAnswer(rootfs.dir)
    const slow = performance.now() - toolStarted
    assert.deepEqual(fastAnswer(state), tool)
    process.stdout.write(`      systemd collect ${fast.toFixed(1)} ms vs systemctl list-unit-files ${slow.toFixed(1)} ms (${tool.size} units)\n`)
  })

  it('still agrees after masks, aliases, instances, linked files and local presets', async () => {
    const root = rootfs.dir
    const etc = join(root, 'etc/systemd/system')
    await runOk(['systemctl', `--root=${root}`, 'mask', 'cron.service'])
    await runOk(['systemctl', `--root=${root}`, 'enable', 'serial-getty@ttyS0.service'])
    await runOk(['systemctl', `--root=${root}`, 'enable', 'systemd-networkd.service'])
    await writeFile(join(etc, 'local.service'), '[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\nAlias=local-alias.service\n')
    await writeFile(join(etc, 'plain.service'), '[Service]\nExecStart=/bin/true\n')
    await writeFile(join(etc, 'also.service'), '[Service]\nExecStart=/bin/true\n[Install]\nAlso=local.service\n')
    await mkdir(join(root, 'opt/units'), { recursive: true })
    await writeFile(join(root, 'opt/units/outside.service'), '[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n')
    await runOk(['systemctl', `--root=${root}`, 'link', '/opt/units/outside.service'])
    await symlink('/lib/systemd/system/getty@.service', join(etc, 'getty.target.wants/getty@tty2.service'))
    await mkdir(join(root, 'etc/systemd/system-preset'), { recursive: true })
    await writeFile(join(root, 'etc/systemd/system-preset/10-local.preset'), 'disable e2scrub*\nenable local.service\n')
    const { state } = await provider.collect({ ctx: createTestContext(root) })
    assert.deepEqual(fastAnswer(state), await toolAnswer(root))
    assert.equal(state.units['cron.service']?.state, 'masked')
    assert.equal(state.units['outside.service']?.state, 'linked')
    await runOk(['systemctl', `--root=${root}`, 'unmask', 'cron.service'])
  })

  it('conforms to the provider contract', async () => {
    assert.deepEqual(await checkConformance(provider, createTestContext(rootfs.dir)), [])
  })

  it('applies enable and disable offline with systemctl --root; a second diff is empty', async () => {
    const ctx = createTestContext(rootfs.dir)
    const first = await provider.collect({ ctx })
    assert.equal(first.state.units['cron.service']?.state, 'enabled')
    assert.equal(first.state.units['systemd-time-wait-sync.service']?.state, 'disabled')
    const twin = new MemoryTwin(first.documents)
    const desired = (await provider.load({ ctx, twin })).state as SystemdState
    desired.units['cron.service'] = { state: 'disabled', preset: 'enabled' }
    desired.units['systemd-time-wait-sync.service'] = { state: 'enabled', preset: 'disabled' }
    desired.runtime = { 'cron.service': { active: 'inactive', sub: 'dead' } }
    const { changes, diagnostics } = provider.diff({ desired, actual: first.state, ctx })
    assert.deepEqual(changes.map((c) => c.id), ['systemd:disable:cron.service', 'systemd:enable:systemd-time-wait-sync.service'])
    assert.deepEqual(diagnostics.map((d) => d.code), ['SYSTEMD_RUNTIME_OFFLINE'])
    const { results } = await provider.apply({ changes, ctx })
    assert.deepEqual(results.map((r) => r.status), ['applied', 'applied'])
    const after = await provider.collect({ ctx })
    assert.equal(after.state.units['cron.service']?.state, 'disabled')
    assert.equal(after.state.units['systemd-time-wait-sync.service']?.state, 'enabled')
    assert.deepEqual(fastAnswer(after.state), await toolAnswer(rootfs.dir))
    delete desired.runtime
    assert.deepEqual(provider.diff({ desired, actual: after.state, ctx }).changes, [])
  })

  it('refuses an invalid unit name before anything runs', async () => {
    const ctx = createTestContext(rootfs.dir)
    const change = { id: 'systemd:enable:x', provider: 'systemd', category: 'services' as const, operation: 'enable', resource: 'x; rm -rf /', summary: 'x', risk: 'low' as const, data: { unit: 'x; rm -rf /' } }
    await assert.rejects(provider.apply({ changes: [change], ctx }), { code: 'NAME_INVALID' })
  })
})
