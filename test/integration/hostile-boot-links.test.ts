// Session 13: the boot links a service's enablement writes (update-rc.d's S/K links in /etc/rc?.d,
// systemd's .wants links), when a folder they go in is a symlink. Before: `systemctl --root enable
// nginx.service` on a Debian 13 root whose /etc/rc2.d led to /etc/sudoers.d ran
// systemd-sysv-install → update-rc.d in the root, which made /etc/sudoers.d/S01nginx (a link to
// the init script): sudo no longer parsed its configuration. Real services root, real tools.
import assert from 'node:assert/strict'
import { execFileSync, spawnSync } from 'node:child_process'
import { lchown, lstat, readdir, rename, symlink, writeFile, chmod, rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { Config as OclifConfig } from '@oclif/core'
import { LocalHost, RecordingHost, silentLogger, type ApplyResult, type Change } from '@twinsync/sdk'
import { createTestContext } from '@twinsync/sdk/conformance'
import { AptProvider } from '@twinsync/plugin-apt'
import { SystemdProvider } from '@twinsync/plugin-systemd'
import { ApplyService } from '../../core/src/apply/apply-service.js'
import { createContainer } from '../../core/src/container.js'
import type { DependencyContainer } from '../../core/src/di.js'
import { PlanWorkflow } from '../../core/src/services/make-plan.js'
import { SnapshotWorkflow } from '../../core/src/services/take-snapshot.js'
import { chrootOk, freshRootfs, ROOTFS_BUILD_TIMEOUT_MS, type Rootfs } from '../bed/index.js'

const noPlugins = { runHook: async () => ({ successes: [], failures: [] }) } as unknown as OclifConfig

/** A symlink at `at` owned by a user (uid 1000): not one only root can have placed, so never gone through. */
async function userLink(target: string, at: string): Promise<void> {
  await symlink(target, at)
  await lchown(at, 1000, 1000)
}

describe('hostile twin: boot links (update-rc.d, systemctl enable, dpkg) never written through a symlinked folder (real services root)', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  let rootfs: Rootfs | undefined
  let root: string
  let twin: string
  let container: () => Promise<DependencyContainer>

  const sudoers = async () => (await readdir(join(root, 'etc/sudoers.d'))).sort()
  const rcLinks = async () => (await Promise.all(['rc0.d', 'rc1.d', 'rc3.d', 'rc4.d', 'rc5.d', 'rc6.d', 'rc2.d.saved'].map(async (d) => (await readdir(join(root, 'etc', d))).filter((n) => n.includes('nginx')).map((n) => `${d}/${n}`)))).flat()

  before(async () => {
    rootfs = await freshRootfs('server')
    root = rootfs.dir
    twin = join(root, '..', 'twin')
    await writeFile(join(root, 'usr/sbin/policy-rc.d'), '#!/bin/sh\nexit 101\n')
    await chmod(join(root, 'usr/sbin/policy-rc.d'), 0o755)
    // nginx switched off for boot, its SysV links gone (update-rc.d remove): enabling it makes them anew.
    execFileSync('systemctl', [`--root=${root}`, 'disable', '--quiet', 'nginx.service'], { stdio: 'ignore' })
    await chrootOk(root, 'update-rc.d', ['-f', 'nginx', 'remove'])
    // The machine's /etc/rc2.d leads to /etc/sudoers.d, a link a user owns (session 15: a link only
    // root can have placed is followed; one the port makes in the same run is refused the same way).
    await rename(join(root, 'etc/rc2.d'), join(root, 'etc/rc2.d.saved'))
    await userLink('/etc/sudoers.d', join(root, 'etc/rc2.d'))
    const configPath = join(root, '..', 'config.yaml')
    await writeFile(configPath, 'providers:\n  disabled: [processes, logs, hardware, network]\n')
    container = () => createContainer({ root, repo: twin, configPath, oclif: noPlugins, logger: silentLogger })
    await (await container()).resolve(SnapshotWorkflow).take({ init: true, ifChanged: false })
  })

  after(async () => {
    await rootfs?.cleanup()
  })

  const enableNginx: Change = { id: 'systemd:enable:nginx.service', provider: 'systemd', category: 'services', operation: 'enable', resource: 'nginx.service', summary: 'enable nginx.service', risk: 'medium', data: { unit: 'nginx.service' } }

  it('systemctl enable of a unit with an init script, asked by the twin: the plan leaves it out (PATH_THROUGH_SYMLINK, naming /etc/rc2.d); a plan holding it is refused whole (PLAN_OUTSIDE_SCOPE, exit 2); nothing lands where the link leads, sudo still parses its configuration', async () => {
    const units = join(twin, 'system/services/units.json')
    const doc = JSON.parse(execFileSync('cat', [units]).toString()) as { units: Record<string, { state: string }> }
    assert.equal(doc.units['nginx.service']?.state, 'disabled')
    ;(doc.units['nginx.service'] as { state: string }).state = 'enabled'
    await writeFile(units, `${JSON.stringify(doc, null, 2)}\n`)
    const plan = await (await container()).resolve(PlanWorkflow).plan({})
    assert.deepEqual(plan.changes.map((c) => c.id), [])
    const said = plan.diagnostics.filter((d) => d.code === 'PATH_THROUGH_SYMLINK' && d.change === 'systemd:enable:nginx.service')
    assert.equal(said.length, 1, JSON.stringify(plan.diagnostics))
    assert.match(said[0]?.summary ?? '', /^enable nginx\.service: left out, it writes boot links in \/etc\/rc2\.d, a symbolic link \(to \/etc\/sudoers\.d\)/)
    const before = [await sudoers(), await rcLinks()]
    const error = await (await container()).resolve(ApplyService).apply({ plan: { ...plan, changes: [enableNginx] }, fromFile: false, signal: new AbortController().signal }).then(() => undefined, (e: unknown) => e as { code?: string; exitCode?: number })
    assert.equal(error?.code, 'PLAN_OUTSIDE_SCOPE', JSON.stringify(error))
    assert.equal(error?.exitCode, 2)
    assert.deepEqual([await sudoers(), await rcLinks()], before, 'update-rc.d wrote boot links')
    assert.deepEqual(await sudoers(), ['README'])
    await chrootOk(root, 'visudo', ['-c'])
    assert.equal(spawnSync('systemctl', [`--root=${root}`, 'is-enabled', 'nginx.service'], { encoding: 'utf8' }).stdout.trim(), 'disabled', 'systemctl ran')
  })

  it('the systemd provider on its own (past the plan), real and dry run: both refuse the enable the same way, and the dry run records no systemctl', async () => {
    const provider = new SystemdProvider()
    for (const host of [new LocalHost(root), new RecordingHost(new LocalHost(root))]) {
      const result = (await provider.apply({ changes: [enableNginx], ctx: createTestContext(root, { providers: [provider], host }) })) as ApplyResult
      assert.equal(result.results[0]?.status, 'failed', JSON.stringify(result))
      assert.equal(result.results[0]?.diagnostics?.[0]?.code, 'PATH_THROUGH_SYMLINK', JSON.stringify(result))
      if (host instanceof RecordingHost) assert.deepEqual(host.commands(), [])
    }
    assert.deepEqual(await sudoers(), ['README'])
  })

  it("apt-get (whose maintainer scripts run update-rc.d and deb-systemd-helper) is refused before it runs: the package is not removed, nothing written through the link", async () => {
    const provider = new AptProvider()
    const remove: Change = { id: 'apt:remove:unattended-upgrades', provider: 'apt', category: 'packages', operation: 'remove', resource: 'unattended-upgrades', summary: 'remove unattended-upgrades', risk: 'medium', data: { package: 'unattended-upgrades' } }
    const dry = new RecordingHost(new LocalHost(root))
    const rehearsed = await provider.apply({ changes: [remove], ctx: createTestContext(root, { providers: [provider], host: dry }) }).then((r) => r, (e: unknown) => e as { code?: string })
    assert.equal((rehearsed as { code?: string }).code, 'PATH_THROUGH_SYMLINK', JSON.stringify(rehearsed))
    assert.deepEqual(dry.commands(), [])
    const applied = await provider.apply({ changes: [remove], ctx: createTestContext(root, { providers: [provider] }) }).then((r) => r, (e: unknown) => e as { code?: string })
    assert.equal((applied as { code?: string }).code, 'PATH_THROUGH_SYMLINK', JSON.stringify(applied))
    assert.ok((await lstat(join(root, 'usr/bin/unattended-upgrade'))).isFile(), 'apt-get ran: the package is gone')
    assert.deepEqual(await sudoers(), ['README'])
    // With /etc/rc2.d a real folder again, the same step runs.
    await rm(join(root, 'etc/rc2.d'))
    await rename(join(root, 'etc/rc2.d.saved'), join(root, 'etc/rc2.d'))
    try {
      const ran = (await provider.apply({ changes: [remove], ctx: createTestContext(root, { providers: [provider] }) })) as ApplyResult
      assert.equal(ran.results[0]?.status, 'applied', JSON.stringify(ran))
    } finally {
      await rename(join(root, 'etc/rc2.d'), join(root, 'etc/rc2.d.saved'))
      await userLink('/etc/sudoers.d', join(root, 'etc/rc2.d'))
    }
  })
})
