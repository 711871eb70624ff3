import { strict as assert } from 'node:assert'
import { mkdir, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { MemoryTwin } from '@twinsync/sdk'
import { checkConformance, createTestContext } from '@twinsync/sdk/conformance'
import { SystemdProvider, type SystemdState } from '@twinsync/plugin-systemd'
import { bootContainer, freshRootfs, REPO_IN_CONTAINER, ROOTFS_BUILD_TIMEOUT_MS, runOk, type Container, type Rootfs } from '../bed/index.js'

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

/** What the systemd-apply.mjs fixture prints. */
interface LiveReport {
  documents: string[]
  runtimeUnits: number
  changes: Array<{ id: string; requires: string[] }>
  diagnostics: Array<{ code: string }>
  order: string[]
  results: Array<{ id: string; status: string; message?: string; outputTail?: string }>
  remaining: string[]
  remainingDiagnostics: Array<{ code: string }>
}

const DEMO_V1 = '[Unit]\nDescription=TwinSync test service\n[Service]\nExecStart=/bin/sleep infinity\n[Install]\nWantedBy=multi-user.target\n'
// Writes its version where the test can read it, so a restart onto the new definition shows. In
// ExecStartPre, which the start job waits for: a simple service's ExecStart may not have run yet
// when `systemctl restart` returns.
const DEMO_V2 = "[Unit]\nDescription=TwinSync test service, second version\n[Service]\nExecStartPre=/bin/sh -c 'echo 2 > /run/demo.version'\nExecStart=/bin/sleep infinity\n[Install]\nWantedBy=multi-user.target\n"
const FRESH = '[Unit]\nDescription=TwinSync test service added by the plan\n[Service]\nExecStart=/bin/sleep infinity\n[Install]\nWantedBy=multi-user.target\n'

describe('systemd provider in a booted container (live, root "/")', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  let container: Container | undefined

  before(async () => {
    container = await bootContainer()
  })
  after(async () => {
    await container?.close()
  })

  async function applyInside(spec: object): Promise<LiveReport> {
    const out = await (container as Container).run(['node', `${REPO_IN_CONTAINER}/test/integration/fixtures/systemd-apply.mjs`, JSON.stringify(spec)])
    assert.equal(out.code, 0, `systemd-apply.mjs failed:\n${out.stderr}`)
    return JSON.parse(out.stdout) as LiveReport
  }
  const unitState = async (unit: string) => {
    const c = container as Container
    return `${(await c.run(['systemctl', 'is-enabled', unit])).stdout.trim()} ${(await c.run(['systemctl', 'is-active', unit])).stdout.trim()}`
  }

  it('enables and starts a stopped service, stops and disables a running one; systemctl agrees and a second diff is empty', async () => {
    const c = container as Container
    await c.writeFile('/etc/systemd/system/demo.service', DEMO_V1)
    assert.equal(await unitState('demo.service'), 'disabled inactive')
    assert.equal(await unitState('cron.service'), 'enabled active')

    const report = await applyInside({ units: { 'demo.service': 'enabled', 'cron.service': 'disabled' }, runtime: { 'demo.service': 'active', 'cron.service': 'inactive' } })
    // A running manager: the runtime state is collected and written.
    assert.ok(report.documents.includes('system/services/runtime.json'), report.documents.join(', '))
    assert.ok(report.runtimeUnits > 20, `only ${report.runtimeUnits} units in runtime.json`)
    assert.deepEqual(report.diagnostics, [])
    assert.deepEqual(report.changes, [
      { id: 'systemd:disable:cron.service', requires: [] },
      { id: 'systemd:enable:demo.service', requires: [] },
      { id: 'systemd:stop:cron.service', requires: [] },
      { id: 'systemd:start:demo.service', requires: ['systemd:enable:demo.service'] },
    ])
    assert.deepEqual(report.results.map((r) => [r.id, r.status, r.outputTail]), report.changes.map((ch) => [ch.id, 'applied', undefined]))
    assert.equal(await unitState('demo.service'), 'enabled active')
    assert.equal(await unitState('cron.service'), 'disabled inactive')
    assert.deepEqual(report.remaining, [])
    assert.deepEqual(report.remainingDiagnostics, [])
  })

  it('a changed unit file brings daemon-reload before enable and start, and a restart of the running service', async () => {
    const c = container as Container
    const pidBefore = (await c.runOk(['systemctl', 'show', '-p', 'MainPID', '--value', 'demo.service'])).stdout.trim()
    assert.notEqual(pidBefore, '0', 'demo.service runs after the previous test')

    const report = await applyInside({
      units: { 'fresh.service': 'enabled' },
      runtime: { 'fresh.service': 'active' },
      files: { '/etc/systemd/system/demo.service': DEMO_V2, '/etc/systemd/system/fresh.service': FRESH },
    })
    const reload = 'systemd:daemon-reload:manager'
    assert.deepEqual(report.changes, [
      { id: reload, requires: [] },
      { id: 'systemd:enable:fresh.service', requires: [reload] },
      { id: 'systemd:start:fresh.service', requires: ['systemd:enable:fresh.service', reload] },
      { id: 'systemd:restart:demo.service', requires: [reload] },
    ])
    // Carried out in that order: the reload first.
    assert.deepEqual(report.order, report.changes.map((ch) => ch.id))
    assert.deepEqual(report.results.map((r) => [r.id, r.status, r.outputTail]), report.changes.map((ch) => [ch.id, 'applied', undefined]))

    assert.equal(await unitState('fresh.service'), 'enabled active')
    assert.equal(await unitState('demo.service'), 'enabled active')
    assert.equal((await c.runOk(['systemctl', 'show', '-p', 'NeedDaemonReload', '--value', 'demo.service'])).stdout.trim(), 'no')
    const pidAfter = (await c.runOk(['systemctl', 'show', '-p', 'MainPID', '--value', 'demo.service'])).stdout.trim()
    assert.notEqual(pidAfter, pidBefore, 'demo.service was restarted')
    assert.equal((await c.readFile('/run/demo.version')).trim(), '2', 'the restarted service runs the new unit file')
    assert.deepEqual(report.remaining, [])
    assert.deepEqual(report.remainingDiagnostics, [])
  })
})
