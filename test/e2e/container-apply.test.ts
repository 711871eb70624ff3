import { strict as assert } from 'node:assert'
import { bootContainer, ROOTFS_BUILD_TIMEOUT_MS, type Container } from '../bed/index.js'

const TWIN = '/var/lib/twinsync/twin'

interface PlanJson {
  changes: Array<{ id: string; category: string; operation: string; resource: string }>
}

/**
 * The product's promise on a booted machine: change the twin (a file, packages, services,
 * cron, autostart, rc.local, a script), review the plan, apply it with approval, and the machine
 * matches — also after a reboot — while history keeps the checkpoint and the apply.
 */
describe('plan and apply inside a booted Debian container', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  let ct: Container
  let cronPid: string
  const mainPid = async (unit: string) => (await ct.runOk(['systemctl', 'show', '--property=MainPID', '--value', unit])).stdout.trim()

  /** Edit a JSON document of the twin inside the container, with node. */
  const editJson = (path: string, code: string) =>
    ct.runOk(['node', '-e', `const fs=require('fs');const p=${JSON.stringify(`${TWIN}/${path}`)};const d=JSON.parse(fs.readFileSync(p,'utf8'));${code};fs.writeFileSync(p,JSON.stringify(d,null,2)+'\\n')`])

  before(async () => {
    ct = await bootContainer()
    // The machine before: a package to remove later, a user with a login, an autostart entry,
    // an rc.local that is not executable, and a service that is neither enabled nor running.
    await ct.runOk(['apt-get', 'update', '-q'], { timeoutMs: 300_000 })
    await ct.runOk(['apt-get', 'install', '-y', '-q', 'less'], { timeoutMs: 300_000, env: { DEBIAN_FRONTEND: 'noninteractive' } })
    await ct.runOk(['useradd', '-m', 'ann'])
    await ct.writeFile('/etc/xdg/autostart/demo.desktop', '[Desktop Entry]\nType=Application\nName=Demo\nExec=/usr/bin/true\n')
    await ct.writeFile('/etc/rc.local', '#!/bin/sh\ntouch /root/rc-local-ran\nexit 0\n', { mode: 0o644 })
    await ct.writeFile('/etc/systemd/system/twin-demo.service', '[Unit]\nDescription=TwinSync demo\n[Service]\nExecStart=/bin/sleep infinity\n[Install]\nWantedBy=multi-user.target\n')
    const snap = await ct.twinsync(['snapshot', '--init', '--json'])
    assert.equal(snap.code, 0, snap.stderr)
  })

  after(async () => {
    await ct?.close()
  })

  it('plans every domain of an edited twin and applies it with --yes', async () => {
    const arch = (await ct.runOk(['dpkg', '--print-architecture'])).stdout.trim()
    await editJson('system/packages/apt.json', `d.packages.hello={architecture:'${arch}',hold:false,manual:true,version:'any'};delete d.packages.less`)
    await editJson('system/services/units.json', `d.units['twin-demo.service'].state='enabled';d.units['e2scrub_reap.service'].state='disabled'`)
    await editJson('system/services/runtime.json', `d.units['twin-demo.service']={active:'active',sub:'running'}`)
    await editJson('system/startup/rc-local.json', `d.executable=true;d.mode='0755'`)
    await ct.writeFile(`${TWIN}/filesystem/var/spool/cron/crontabs/ann`, '@reboot date > /home/ann/rebooted\n')
    await ct.writeFile(`${TWIN}/filesystem/etc/xdg/autostart/demo.desktop`, '[Desktop Entry]\nType=Application\nName=Demo\nExec=/usr/bin/true\nHidden=true\n')
    await ct.writeFile(`${TWIN}/filesystem/etc/motd`, 'Managed by TwinSync\n')
    // cron's own configuration: a running cron.service should be proposed for a restart.
    await ct.writeFile(`${TWIN}/filesystem/etc/default/cron`, (await ct.readFile('/etc/default/cron')) + '# managed by TwinSync\n')
    cronPid = await mainPid('cron.service')
    await ct.writeFile(`${TWIN}/scripts/mark.sh`, '#!/bin/sh\nhostname > /etc/script-ran\n')
    await ct.writeFile(`${TWIN}/plans/mark.yaml`, 'actions:\n  - script: mark.sh\n    description: Record the host name\n')

    const planned = await ct.twinsync(['plan', '--json'])
    assert.equal(planned.code, 0, planned.stderr)
    const plan = JSON.parse(planned.stdout) as PlanJson
    const ids = plan.changes.map((c) => c.id)
    for (const id of [
      'apt:install:hello',
      'apt:remove:less',
      'systemd:enable:twin-demo.service',
      'systemd:start:twin-demo.service',
      'systemd:disable:e2scrub_reap.service',
      'cron:create:/var/spool/cron/crontabs/ann',
      'files:replace:/etc/motd',
      'files:replace:/etc/default/cron',
      'systemd:restart:cron.service',
      'commands:plans/mark.yaml#1',
    ]) {
      assert.ok(ids.includes(id), `${id} in ${ids.join(', ')}`)
    }
    const restart = plan.changes.find((c) => c.id === 'systemd:restart:cron.service') as PlanJson['changes'][number] & { requires?: string[] }
    assert.deepEqual(restart.requires, ['files:replace:/etc/default/cron'], 'a separate change, after the file it follows')
    assert.ok(plan.changes.some((c) => c.category === 'startup' && c.resource === '/etc/xdg/autostart/demo.desktop'))
    assert.ok(plan.changes.some((c) => c.category === 'startup' && c.resource === '/etc/rc.local'))

    const applied = await ct.twinsync(['apply', '--yes', '--accept-high-risk'], { timeoutMs: 600_000 })
    assert.equal(applied.code, 0, applied.stdout + applied.stderr)
  })

  it('leaves the machine in exactly that state', async () => {
    assert.equal((await ct.run(['dpkg-query', '-W', '-f=${Status}', 'hello'])).stdout, 'install ok installed')
    assert.notEqual((await ct.run(['dpkg-query', '-W', '-f=${Status}', 'less'])).stdout, 'install ok installed')
    assert.equal((await ct.run(['systemctl', 'is-enabled', 'twin-demo.service'])).stdout.trim(), 'enabled')
    assert.equal((await ct.run(['systemctl', 'is-active', 'twin-demo.service'])).stdout.trim(), 'active')
    assert.equal((await ct.run(['systemctl', 'is-enabled', 'e2scrub_reap.service'])).stdout.trim(), 'disabled')
    assert.match((await ct.runOk(['crontab', '-l', '-u', 'ann'])).stdout, /^@reboot date > \/home\/ann\/rebooted$/m)
    assert.match(await ct.readFile('/etc/xdg/autostart/demo.desktop'), /^Hidden=true$/m)
    assert.equal((await ct.runOk(['stat', '-c', '%a %U:%G', '/etc/rc.local'])).stdout.trim(), '755 root:root')
    assert.equal(await ct.readFile('/etc/motd'), 'Managed by TwinSync\n')
    assert.equal((await ct.readFile('/etc/script-ran')).trim(), ct.name)
    assert.match(await ct.readFile('/etc/default/cron'), /# managed by TwinSync\n$/)
    assert.notEqual(await mainPid('cron.service'), cronPid, 'cron was restarted after its configuration changed')
  })

  it('plans nothing more after a fresh snapshot, and history shows the checkpoint and the apply', async () => {
    assert.equal((await ct.twinsync(['snapshot'])).code, 0)
    const again = await ct.twinsync(['plan', '--json'])
    assert.equal(again.code, 0, again.stderr)
    assert.deepEqual((JSON.parse(again.stdout) as PlanJson).changes.map((c) => c.id), [])
    const log = (await ct.runOk(['git', '-C', TWIN, 'log', '--format=%s'])).stdout
    assert.match(log, /^TwinSync apply .*: \d+ applied, 0 unchanged, 0 failed, 0 skipped$/m)
    assert.match(log, /^TwinSync checkpoint before apply /m)
  })

  it('a drop-in the twin adds to a running service is in effect after the apply: the manager reloaded, the service restarted', async () => {
    const before = await mainPid('twin-demo.service')
    await ct.writeFile(`${TWIN}/filesystem/etc/systemd/system/twin-demo.service.d/limits.conf`, '[Service]\nLimitNOFILE=4242\n')
    const planned = await ct.twinsync(['plan', '--json'])
    assert.equal(planned.code, 0, planned.stderr)
    const plan = JSON.parse(planned.stdout) as { changes: Array<{ id: string; requires?: string[] }> }
    const restart = plan.changes.find((c) => c.id === 'systemd:restart:twin-demo.service')
    assert.ok(plan.changes.some((c) => c.id === 'systemd:daemon-reload:manager'), plan.changes.map((c) => c.id).join(', '))
    assert.deepEqual(restart?.requires, ['systemd:daemon-reload:manager', 'files:create:/etc/systemd/system/twin-demo.service.d/limits.conf'])
    const applied = await ct.twinsync(['apply', '--yes', '--accept-high-risk'], { timeoutMs: 600_000 })
    assert.equal(applied.code, 0, applied.stdout + applied.stderr)
    const shown = (await ct.runOk(['systemctl', 'show', '-p', 'NeedDaemonReload', '-p', 'LimitNOFILE', 'twin-demo.service'])).stdout
    assert.match(shown, /^NeedDaemonReload=no$/m)
    assert.match(shown, /^LimitNOFILE=4242$/m)
    const after = await mainPid('twin-demo.service')
    assert.notEqual(after, before, 'restarted')
    assert.match(await ct.readFile(`/proc/${after}/limits`), /^Max open files\s+4242\s+4242/m)
  })

  it('a drop-in edited by hand, the daemon-reload forgotten: the next plan reloads the manager and restarts the service', async () => {
    await ct.writeFile('/etc/systemd/system/twin-demo.service.d/limits.conf', '[Service]\nLimitNOFILE=4343\n')
    assert.match((await ct.runOk(['systemctl', 'show', '-p', 'NeedDaemonReload', 'twin-demo.service'])).stdout, /^NeedDaemonReload=yes$/m)
    assert.equal((await ct.twinsync(['snapshot'])).code, 0)
    const planned = await ct.twinsync(['plan', '--json'])
    assert.equal(planned.code, 0, planned.stderr)
    const plan = JSON.parse(planned.stdout) as { changes: Array<{ id: string; summary: string; requires?: string[] }> }
    assert.deepEqual(plan.changes.map((c) => [c.id, c.requires]), [
      ['systemd:daemon-reload:manager', undefined],
      ['systemd:restart:twin-demo.service', ['systemd:daemon-reload:manager']],
    ])
    assert.match(plan.changes[1]?.summary ?? '', /runs an older configuration than \/etc\/systemd\/system\/twin-demo\.service\.d\/limits\.conf( \(and 1 more\))?: restart it/)
    const applied = await ct.twinsync(['apply', '--yes', '--accept-high-risk'], { timeoutMs: 600_000 })
    assert.equal(applied.code, 0, applied.stdout + applied.stderr)
    assert.match((await ct.runOk(['systemctl', 'show', '-p', 'NeedDaemonReload', '-p', 'LimitNOFILE', 'twin-demo.service'])).stdout, /^LimitNOFILE=4343$/m)
    const again = await ct.twinsync(['plan', '--json'])
    assert.deepEqual((JSON.parse(again.stdout) as { changes: unknown[] }).changes, [], 'done: nothing planned again')
  })

  // Session 27: a whole unit file in set-property's /etc/systemd/system.control (loaded before
  // /etc/systemd/system) was written with no check and no daemon-reload, and its unit was left
  // running when it went. Now every folder of the unit path is handled as /etc/systemd/system.
  it('a whole unit file in /etc/systemd/system.control: checked, reloaded and restarted onto; a broken one put back; its delete restarts onto /etc/systemd/system\'s, or stops a unit it alone defined', async () => {
    const CONTROL = '/etc/systemd/system.control/twin-demo.service'
    /** FragmentPath, NeedDaemonReload and ActiveState, in that order. */
    const fragment = async (unit: string) => {
      const shown = (await ct.runOk(['systemctl', 'show', '-p', 'FragmentPath', '-p', 'NeedDaemonReload', '-p', 'ActiveState', unit])).stdout
      const value = (key: string) => new RegExp(`^${key}=(.*)$`, 'm').exec(shown)?.[1] ?? ''
      return `FragmentPath=${value('FragmentPath')}\nNeedDaemonReload=${value('NeedDaemonReload')}\nActiveState=${value('ActiveState')}`
    }
    const planIds = async () => {
      const planned = await ct.twinsync(['plan', '--json'])
      assert.equal(planned.code, 0, planned.stderr)
      return (JSON.parse(planned.stdout) as { changes: Array<{ id: string; requires?: string[] }> }).changes.map((c) => [c.id, c.requires])
    }
    const good = "[Unit]\nDescription=TwinSync demo, by set-property's folder\n[Service]\nExecStartPre=/bin/sh -c 'echo control > /run/demo.version'\nExecStart=/bin/sleep infinity\n[Install]\nWantedBy=multi-user.target\n"
    const before = await mainPid('twin-demo.service')
    await ct.writeFile(`${TWIN}/filesystem${CONTROL}`, good)
    const reload = 'systemd:daemon-reload:manager'
    const ids = await planIds()
    assert.ok(ids.some(([id]) => id === reload), JSON.stringify(ids))
    assert.deepEqual(ids.find(([id]) => id === 'systemd:restart:twin-demo.service'), ['systemd:restart:twin-demo.service', [reload, `files:create:${CONTROL}`]])
    let applied = await ct.twinsync(['apply', '--yes', '--accept-high-risk'], { timeoutMs: 600_000 })
    assert.equal(applied.code, 0, applied.stdout + applied.stderr)
    assert.match(await fragment('twin-demo.service'), new RegExp(`^FragmentPath=${CONTROL}\nNeedDaemonReload=no\nActiveState=active$`, 'm'))
    assert.notEqual(await mainPid('twin-demo.service'), before, 'restarted onto the new unit file')
    assert.equal((await ct.readFile('/run/demo.version')).trim(), 'control')
    assert.deepEqual(await planIds(), [], 'nothing planned again')

    // A broken one: systemd-analyze verify refuses it, the previous file is back, nothing restarted.
    const pid = await mainPid('twin-demo.service')
    await ct.writeFile(`${TWIN}/filesystem${CONTROL}`, good.replace('ExecStart=/bin/sleep infinity', 'ExecStart=sleep/infinity'))
    applied = await ct.twinsync(['apply', '--yes', '--accept-high-risk', '--json'], { timeoutMs: 600_000 })
    assert.equal(applied.code, 1, applied.stdout + applied.stderr)
    const steps = (JSON.parse(applied.stdout) as { journal?: { steps: Array<{ id: string; status: string; message?: string }> } }).journal?.steps ?? []
    const step = steps.find((r) => r.id === `files:replace:${CONTROL}`)
    assert.equal(step?.status, 'failed', applied.stdout)
    assert.match(step?.message ?? '', /`systemd-analyze verify --man=no \/etc\/systemd\/system\.control\/twin-demo\.service` rejects the new systemd units configuration/)
    assert.equal(await ct.readFile(CONTROL), good, 'the previous file is back')
    assert.equal(await mainPid('twin-demo.service'), pid, 'not restarted')

    // Its delete: the manager loads /etc/systemd/system's again and the service restarts onto it (not stopped, not disabled).
    await ct.runOk(['rm', `${TWIN}/filesystem${CONTROL}`])
    await editJson('system/files/manifest.json', `d.entries=d.entries.filter((e)=>e.path!==${JSON.stringify(CONTROL)})`)
    const gone = await planIds()
    assert.deepEqual(gone.filter(([id]) => String(id).startsWith('systemd:')), [[reload, undefined], ['systemd:restart:twin-demo.service', [reload, `files:delete:${CONTROL}`]]])
    applied = await ct.twinsync(['apply', '--yes', '--accept-high-risk'], { timeoutMs: 600_000 })
    assert.equal(applied.code, 0, applied.stdout + applied.stderr)
    assert.match(await fragment('twin-demo.service'), /^FragmentPath=\/etc\/systemd\/system\/twin-demo\.service\nNeedDaemonReload=no\nActiveState=active$/m)
    assert.equal((await ct.runOk(['systemctl', 'is-enabled', 'twin-demo.service'])).stdout.trim(), 'enabled')

    // A unit only system.control defines: its delete stops it and the manager forgets it.
    await ct.writeFile('/etc/systemd/system.control/ctl-only.service', '[Service]\nExecStart=/bin/sleep infinity\n')
    await ct.runOk(['systemctl', 'daemon-reload'])
    await ct.runOk(['systemctl', 'start', 'ctl-only.service'])
    assert.equal((await ct.twinsync(['snapshot'])).code, 0)
    await ct.runOk(['rm', `${TWIN}/filesystem/etc/systemd/system.control/ctl-only.service`])
    await editJson('system/files/manifest.json', `d.entries=d.entries.filter((e)=>e.path!=='/etc/systemd/system.control/ctl-only.service')`)
    await editJson('system/services/units.json', `delete d.units['ctl-only.service']`)
    await editJson('system/services/runtime.json', `delete d.units['ctl-only.service']`)
    const leaving = await planIds()
    assert.deepEqual(leaving.filter(([id]) => String(id).startsWith('systemd:')).map(([id]) => id).sort(), [reload, 'systemd:stop:ctl-only.service'])
    applied = await ct.twinsync(['apply', '--yes', '--accept-high-risk'], { timeoutMs: 600_000 })
    assert.equal(applied.code, 0, applied.stdout + applied.stderr)
    assert.match(await fragment('ctl-only.service'), /^FragmentPath=\nNeedDaemonReload=no\nActiveState=inactive$/)
    assert.deepEqual(await planIds(), [], 'nothing planned again')
  })

  it('runs the @reboot job and rc.local, and starts the enabled service, after a reboot', async () => {
    await ct.reboot()
    // cron starts @reboot jobs after boot has finished: wait on a deadline (not a count of tries).
    let ran = false
    const deadline = Date.now() + 60_000
    while (!ran && Date.now() < deadline) {
      ran = (await ct.run(['test', '-s', '/home/ann/rebooted'])).code === 0
      if (!ran) await new Promise((r) => setTimeout(r, 200))
    }
    assert.ok(ran, 'the @reboot job of ann ran')
    assert.equal((await ct.run(['test', '-e', '/root/rc-local-ran'])).code, 0, 'rc.local ran')
    assert.equal((await ct.run(['systemctl', 'is-active', 'twin-demo.service'])).stdout.trim(), 'active')
  })
})
