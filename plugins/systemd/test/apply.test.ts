import { strict as assert } from 'node:assert'
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Change, ProviderContext } from '@twinsync/sdk'
import { LocalHost, RecordingHost } from '@twinsync/sdk'
import { createTestContext } from '@twinsync/sdk/conformance'
import { SystemdProvider } from '../src/provider.js'
import { systemdChangeId, type SystemdOperation } from '../src/change.js'
import { checkUnitName, isChangeableUnitName } from '../src/unit-name.js'

function change(operation: SystemdOperation, unit: string, extra: Partial<Change> = {}): Change {
  return { id: systemdChangeId(operation, unit), provider: 'systemd', category: 'services', operation, resource: unit, summary: `${operation} ${unit}`, risk: 'medium', data: { unit }, ...extra }
}

describe('systemd apply (offline root, a dry run of systemctl)', () => {
  let root: string
  let ctx: ProviderContext
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'ts-systemd-unit-'))
    ctx = createTestContext(root)
  })
  afterEach(() => {
    rmSync(root, { recursive: true, force: true })
  })

  /** systemctl's changes are recorded, not made; reading goes to the empty root. */
  const dryRun = () => {
    const host = new RecordingHost(new LocalHost(root))
    ctx = createTestContext(root, { host })
    return host
  }

  it('runs systemctl --root for enablement in order, and refuses runtime verbs without a manager', async () => {
    const host = dryRun()
    const changes = [change('enable', 'web.service', { requires: ['systemd:unmask:web.service'] }), change('unmask', 'web.service'), change('disable', 'cron.service'), change('mask', 'x.timer'), change('start', 'web.service')]
    const { results } = await new SystemdProvider().apply({ changes, ctx })
    assert.deepEqual(host.commands(), [
      ['systemctl', [`--root=${root}`, 'mask', '--', 'x.timer']],
      ['systemctl', [`--root=${root}`, 'disable', '--', 'cron.service']],
      ['systemctl', [`--root=${root}`, 'enable', '--', 'web.service']],
    ])
    // The unit is not masked in the empty root: unmask has nothing to do.
    assert.deepEqual(results.map((r) => r.status), ['applied', 'unchanged', 'applied', 'applied', 'failed'])
    assert.match(results[4]?.message ?? '', /needs a running system/)
  })

  it('an unmask that ends enabled takes every mask away (in /etc, and in /run with --runtime), then enables, as one change; an unknown final state is refused before anything runs', async () => {
    mkdirSync(join(root, 'etc/systemd/system'), { recursive: true })
    mkdirSync(join(root, 'run/systemd/system'), { recursive: true })
    symlinkSync('/dev/null', join(root, 'etc/systemd/system/web.service'))
    symlinkSync('/dev/null', join(root, 'run/systemd/system/web.service'))
    const host = dryRun()
    const unmask = change('unmask', 'web.service', { summary: 'unmask and enable web.service', data: { unit: 'web.service', after: 'enabled' } })
    const { results } = await new SystemdProvider().apply({ changes: [unmask], ctx })
    assert.deepEqual(host.commands(), [
      ['systemctl', [`--root=${root}`, 'unmask', '--', 'web.service']],
      ['systemctl', [`--root=${root}`, 'unmask', '--runtime', '--', 'web.service']],
      ['systemctl', [`--root=${root}`, 'enable', '--', 'web.service']],
    ])
    assert.deepEqual(results.map((r) => [r.status, r.message]), [['applied', 'unmask and enable web.service']])
    const forged = dryRun()
    await assert.rejects(new SystemdProvider().apply({ changes: [{ ...unmask, data: { unit: 'web.service', after: 'static; reboot' } }], ctx }), { code: 'PLAN_INVALID' })
    await assert.rejects(new SystemdProvider().apply({ changes: [change('mask', 'web.service', { data: { unit: 'web.service', runtime: 'yes' } })], ctx }), { code: 'PLAN_INVALID' })
    assert.deepEqual(forged.actions, [])
  })

  it('a disable after the installs (afterInstall) runs only when the unit came enabled: no unit file, or one left disabled, is unchanged; a forged flag is refused', async () => {
    const after = (unit: string) => change('disable', unit, { data: { unit, afterInstall: true } })
    mkdirSync(join(root, 'etc/systemd/system/multi-user.target.wants'), { recursive: true })
    mkdirSync(join(root, 'lib/systemd/system'), { recursive: true })
    writeFileSync(join(root, 'lib/systemd/system/came.service'), '[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n')
    symlinkSync('/lib/systemd/system/came.service', join(root, 'etc/systemd/system/multi-user.target.wants/came.service'))
    writeFileSync(join(root, 'lib/systemd/system/off.service'), '[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n')
    const host = dryRun()
    const { results } = await new SystemdProvider().apply({ changes: [after('came.service'), after('never.service'), after('off.service')], ctx })
    assert.deepEqual(host.commands(), [['systemctl', [`--root=${root}`, 'disable', '--', 'came.service']]])
    assert.deepEqual(results.map((r) => r.status), ['applied', 'unchanged', 'unchanged'])
    assert.match(results[1]?.message ?? '', /no package of this apply enabled it/)
    await assert.rejects(new SystemdProvider().apply({ changes: [change('start', 'x.service', { data: { unit: 'x.service', afterInstall: true } })], ctx }), { code: 'PLAN_INVALID' })
  })

  it('a mask until reboot over a mask for good runs mask --runtime first, then unmask of the one in /etc', async () => {
    mkdirSync(join(root, 'etc/systemd/system'), { recursive: true })
    symlinkSync('/dev/null', join(root, 'etc/systemd/system/web.service'))
    const host = dryRun()
    const { results } = await new SystemdProvider().apply({ changes: [change('mask', 'web.service', { data: { unit: 'web.service', runtime: true } }), change('mask', 'db.service', { data: { unit: 'db.service', runtime: true } })], ctx })
    assert.deepEqual(host.commands(), [
      ['systemctl', [`--root=${root}`, 'mask', '--runtime', '--', 'web.service']],
      ['systemctl', [`--root=${root}`, 'unmask', '--', 'web.service']],
      ['systemctl', [`--root=${root}`, 'mask', '--runtime', '--', 'db.service']],
    ])
    assert.deepEqual(results.map((r) => r.status), ['applied', 'applied'])
  })

  it('an unmask of a unit masked where systemctl cannot unmask it (a vendor mask) fails before anything runs', async () => {
    mkdirSync(join(root, 'lib/systemd/system'), { recursive: true })
    symlinkSync('/dev/null', join(root, 'lib/systemd/system/web.service'))
    const host = dryRun()
    const { results } = await new SystemdProvider().apply({ changes: [change('unmask', 'web.service', { data: { unit: 'web.service', after: 'enabled' } })], ctx })
    assert.deepEqual(host.commands(), [])
    assert.equal(results[0]?.status, 'failed')
    assert.match(results[0]?.message ?? '', /masked outside \/etc\/systemd\/system and \/run\/systemd\/system/)
  })

  it('refuses an invalid unit name before anything runs', async () => {
    const host = dryRun()
    await assert.rejects(new SystemdProvider().apply({ changes: [change('enable', 'cron.service'), change('enable', 'x; rm -rf /.service')], ctx }), { code: 'NAME_INVALID' })
    assert.deepEqual(host.actions, [])
  })

  it('a start of a service found running with an older configuration is a restart, read with one systemctl show', async () => {
    mkdirSync(join(root, 'run/systemd/system'), { recursive: true })
    mkdirSync(join(root, 'etc/web'), { recursive: true })
    writeFileSync(join(root, 'etc/web/web.env'), 'PORT=80\n') // modified now: after the start below
    const block = ['Id=web.service', 'SubState=running', 'InactiveExitTimestamp=Wed 2020-01-01 00:00:00.000000 UTC', 'ExecMainStartTimestamp=Wed 2020-01-01 00:00:00.000000 UTC', 'ExecReload=', 'CanReload=no', 'EnvironmentFiles=/etc/web/web.env (ignore_errors=no)', 'FragmentPath=/etc/systemd/system/web.service'].join('\n')
    const host = new RecordingHost(new LocalHost(root), {
      live: true,
      query: (_command, args) => ({ stdout: args[0] === 'is-active' ? 'active\n' : args.includes('--value') ? 'running\n' : `${block}\n` }),
    })
    ctx = createTestContext(root, { host })
    const { results } = await new SystemdProvider().apply({ changes: [change('start', 'web.service')], ctx })
    assert.equal(results[0]?.status, 'applied', results[0]?.message)
    assert.match(results[0]?.message ?? '', /it was running already, with an older configuration than \/etc\/web\/web\.env: restarted/)
    assert.deepEqual(host.commands(), [['systemctl', [`--root=${root}`, 'restart', '--', 'web.service']]])
    assert.equal(host.queries.filter(([command, args]) => command === 'systemctl' && args[0] === 'show' && !args.includes('--property=ControlGroup')).length, 1, JSON.stringify(host.queries))
  })

  it('a reload or restart for an older configuration of a service that no longer runs (stopped since the plan) does not run', async () => {
    mkdirSync(join(root, 'run/systemd/system'), { recursive: true })
    const host = new RecordingHost(new LocalHost(root), { live: true, query: (_command, args) => ({ stdout: args[0] === 'is-active' ? 'inactive\n' : '' }) })
    ctx = createTestContext(root, { host })
    const stale = { data: { unit: 'web.service', staleConfig: ['/etc/web/web.conf'] } }
    const { results } = await new SystemdProvider().apply({ changes: [change('restart', 'web.service', stale), change('reload', 'db.service', { data: { unit: 'db.service', staleConfig: ['/etc/db.conf'] } })], ctx })
    assert.deepEqual(results.map((r) => [r.status, r.message]), [
      ['unchanged', 'web.service is not running now: nothing runs its older configuration, so it is not restarted'],
      ['unchanged', 'db.service is not running now: nothing runs its older configuration, so it is not reloaded'],
    ])
    assert.deepEqual(host.commands(), [])
  })

  describe('a reload window run again after a kill (PendingChecks, session 29)', () => {
    /** A booted-looking root where `systemctl is-active` answers `state` and `show NeedDaemonReload` answers `stale`. */
    const live = (state: string, stale = 'no') => {
      mkdirSync(join(root, 'run/systemd/system'), { recursive: true })
      const host = new RecordingHost(new LocalHost(root), {
        live: true,
        query: (_command, args) => ({ stdout: args[0] === 'is-active' ? `${state}\n` : args.includes('--property=NeedDaemonReload') ? `${stale}\n` : '' }),
      })
      ctx = createTestContext(root, { host })
      return host
    }

    it('writes down what a reload is judged against before it runs, and only in an apply (not when run again)', async () => {
      const host = live('active')
      const bases: Array<[string, unknown, number]> = []
      const onVerdictBasis = async (id: string, basis: unknown) => {
        bases.push([id, basis, host.commands().length])
      }
      const { results } = await new SystemdProvider().apply({ changes: [change('reload', 'nginx.service')], ctx, onVerdictBasis })
      assert.equal(results[0]?.status, 'applied', results[0]?.message)
      assert.deepEqual(bases, [['systemd:reload:nginx.service', { active: true, listening: [] }, 0]], 'given before systemctl reload ran')
      assert.deepEqual(host.commands(), [['systemctl', [`--root=${root}`, 'reload', '--', 'nginx.service']]])
      assert.equal(host.queries.some(([, args]) => args.includes('--property=NeedDaemonReload')), false, 'an apply relies on its plan\'s daemon-reload')
      bases.length = 0
      await new SystemdProvider().apply({ changes: [change('reload', 'nginx.service')], ctx, onVerdictBasis, verdictBases: {} })
      await new SystemdProvider().apply({ changes: [change('reload', 'nginx.service')], ctx, onVerdictBasis, restoring: true })
      assert.deepEqual(bases, [['systemd:reload:nginx.service', { active: true, listening: [] }, 1]], 'run again without a basis: measured now and written down again; restoring: not')
    })

    it('does not reload when what it is judged against cannot be written down (a full disk): the step fails, nothing runs', async () => {
      const host = live('active')
      const full = Object.assign(new Error("ENOSPC: no space left on device, write '/var/lib/twinsync/twin/.git/twinsync/config-checks-pending.json.tmp'"), { code: 'ENOSPC' })
      const { results } = await new SystemdProvider().apply({ changes: [change('reload', 'nginx.service'), change('enable', 'cron.service')], ctx, onVerdictBasis: () => Promise.reject(full) })
      assert.deepEqual(
        results.map((r) => [r.id, r.status, r.message]),
        [
          ['systemd:reload:nginx.service', 'failed', "what the reload of nginx.service is judged against could not be written down before it (ENOSPC: no space left on device, write '/var/lib/twinsync/twin/.git/twinsync/config-checks-pending.json.tmp'): not reloaded"],
          ['systemd:enable:cron.service', 'applied', 'enable cron.service'],
        ],
      )
      assert.deepEqual(host.commands().map(([, args]) => args.slice(1).join(' ')), ['enable -- cron.service'])
    })

    it('judges a restart run again against the basis: a unit that was active before the killed restart must be active again', async () => {
      live('failed')
      const id = 'systemd:restart:kill-demo.service'
      const judged = await new SystemdProvider().apply({ changes: [change('restart', 'kill-demo.service')], ctx, verdictBases: { [id]: { active: true, listening: [] } } })
      assert.deepEqual(judged.results.map((r) => [r.status, r.message]), [['failed', 'kill-demo.service is failed after the restart, not active']])
      // Measured now instead (the killed restart left it failed): nothing to judge, it passes.
      const afresh = await new SystemdProvider().apply({ changes: [change('restart', 'kill-demo.service')], ctx, verdictBases: {} })
      assert.equal(afresh.results[0]?.status, 'applied')
      // A basis not of the shape written is not used: measured now.
      const forged = await new SystemdProvider().apply({ changes: [change('restart', 'kill-demo.service')], ctx, verdictBases: { [id]: { active: 'yes', listening: [1] } } })
      assert.equal(forged.results[0]?.status, 'applied')
    })

    it('has the manager read the unit file first when it still holds another (the killed run died before or inside its daemon-reload)', async () => {
      const host = live('active', 'yes')
      await new SystemdProvider().apply({ changes: [change('restart', 'kill-demo.service')], ctx, verdictBases: {} })
      await new SystemdProvider().apply({ changes: [change('restart', 'kill-demo.service')], ctx, restoring: true })
      assert.deepEqual(host.commands().map(([, args]) => args.slice(1).join(' ')), ['daemon-reload', 'restart -- kill-demo.service', 'daemon-reload', 'restart -- kill-demo.service'])
      const fresh = live('active', 'no')
      await new SystemdProvider().apply({ changes: [change('restart', 'kill-demo.service')], ctx, verdictBases: {} })
      assert.deepEqual(fresh.commands().map(([, args]) => args.slice(1).join(' ')), ['restart -- kill-demo.service'])
    })
  })

  it('a reload planned for an older configuration of a service reloaded since the plan does not run again; one still running an older configuration does', async () => {
    mkdirSync(join(root, 'run/systemd/system'), { recursive: true })
    mkdirSync(join(root, 'etc/web'), { recursive: true })
    writeFileSync(join(root, 'etc/web/web.env'), 'PORT=80\n') // modified now
    let reloadedAt = 'Wed 2020-01-01 00:00:00.000000 UTC'
    const block = () => ['Id=web.service', 'SubState=running', 'InactiveExitTimestamp=Wed 2020-01-01 00:00:00.000000 UTC', 'ExecMainStartTimestamp=Wed 2020-01-01 00:00:00.000000 UTC', `ExecReload={ path=/bin/kill ; argv[]=/bin/kill -HUP $MAINPID ; start_time=[${reloadedAt}] ; stop_time=[${reloadedAt}] ; pid=1 ; code=exited ; status=0 }`, `StateChangeTimestamp=${reloadedAt}`, 'CanReload=yes', 'EnvironmentFiles=/etc/web/web.env (ignore_errors=no)', 'FragmentPath=/lib/systemd/system/web.service'].join('\n')
    const host = new RecordingHost(new LocalHost(root), {
      live: true,
      query: (_command, args) => ({ stdout: args[0] === 'is-active' ? 'active\n' : args[0] === 'show' && !args.includes('--property=ControlGroup') ? `${block()}\n` : '' }),
    })
    ctx = createTestContext(root, { host })
    const planned = change('reload', 'web.service', { data: { unit: 'web.service', staleConfig: ['/etc/web/web.env'] } })
    const stale = await new SystemdProvider().apply({ changes: [planned], ctx })
    assert.equal(stale.results[0]?.status, 'applied', stale.results[0]?.message)
    assert.deepEqual(host.commands(), [['systemctl', [`--root=${root}`, 'reload', '--', 'web.service']]])
    // Reloaded after the file changed (as a rerun's settling of a reload window does, before its plan's steps).
    reloadedAt = new Date(Date.now() + 60_000).toUTCString().replace('GMT', 'UTC').replace(/^(\w+), (\d+) (\w+) (\d+) ([\d:]+) UTC$/, (_m, d, day, mon, y, t) => `${d} ${y}-${String(['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'].indexOf(mon) + 1).padStart(2, '0')}-${String(day).padStart(2, '0')} ${t}.000000 UTC`)
    const current = await new SystemdProvider().apply({ changes: [planned], ctx })
    assert.deepEqual(current.results.map((r) => [r.status, r.message]), [['unchanged', 'web.service runs its current configuration now (reloaded since the plan): not reloaded again']])
    assert.equal(host.commands().length, 1, 'not reloaded again')
  })

  it('a start that fails says what the unit logged since (the reason systemctl only points at)', async () => {
    mkdirSync(join(root, 'run/systemd/system'), { recursive: true })
    const logged = '-- No entries --\nnginx: [emerg] bind() to 0.0.0.0:80 failed (98: Address already in use)\nnginx.service: Failed with result \'exit-code\'.\n'
    const host = new RecordingHost(new LocalHost(root), {
      live: true,
      exec: (command) => (command === 'systemctl' ? { exitCode: 1, stderr: 'Job for nginx.service failed because the control process exited with error code.\nSee "systemctl status nginx.service" and "journalctl -xeu nginx.service" for details.\n' } : undefined),
      query: (command, args) => ({ stdout: command === 'journalctl' ? logged : args[0] === 'is-active' ? 'inactive\n' : '' }),
    })
    ctx = createTestContext(root, { host })
    const { results } = await new SystemdProvider().apply({ changes: [change('start', 'nginx.service')], ctx })
    assert.equal(results[0]?.status, 'failed')
    assert.match(results[0]?.outputTail ?? '', /journalctl -xeu nginx\.service" for details\.\nnginx\.service logged:\n {2}nginx: \[emerg\] bind\(\) to 0\.0\.0\.0:80 failed \(98: Address already in use\)\n {2}nginx\.service: Failed with result 'exit-code'\.$/)
    const asked = host.queries.find(([command]) => command === 'journalctl')?.[1] ?? assert.fail('journalctl was asked')
    assert.deepEqual(asked.filter((a) => !a.startsWith('--since=@')), ['--no-pager', '-o', 'cat', '-n', '12', '-u', 'nginx.service'])
  })

  it('validates unit names', () => {
    for (const ok of ['cron.service', 'getty@tty1.service', 'dev-disk-by\\x2duuid.swap', 'a:b_c.timer']) assert.ok(isChangeableUnitName(ok), ok)
    for (const bad of ['cron', 'cron.service; reboot', '-x.service', '../x.service', 'a b.service', 'x.device', '']) assert.equal(isChangeableUnitName(bad), false, bad)
    assert.throws(() => checkUnitName('$(id).service'), { code: 'NAME_INVALID' })
  })
})
