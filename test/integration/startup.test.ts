import { strict as assert } from 'node:assert'
import { chmod, mkdir, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { StartupEntry } from '@twinsync/sdk'
import { chrootOk, freshRootfs, ROOTFS_BUILD_TIMEOUT_MS, type Rootfs } from '../bed/index.js'
import { cliSandbox, json, type CliSandbox } from '../support/cli.js'

/** `twinsync startup`: one table from systemd, cron, rc.local and autostart. */
describe('twinsync startup on a Debian root', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  let rootfs: Rootfs
  let cli: CliSandbox

  before(async () => {
    rootfs = await freshRootfs()
    cli = await cliSandbox()
    await chrootOk(rootfs.dir, 'useradd', ['-m', 'ann'])
    await chrootOk(rootfs.dir, 'crontab', ['-u', 'ann', '-'], { input: '@reboot /home/ann/bin/sync.sh\n' })
    await writeFile(join(rootfs.dir, 'etc/rc.local'), '#!/bin/sh\nexit 0\n')
    await chmod(join(rootfs.dir, 'etc/rc.local'), 0o755)
    await mkdir(join(rootfs.dir, 'etc/xdg/autostart'), { recursive: true })
    // An administrator's override of what cron runs, and a unit of their own whose command line holds a password.
    await mkdir(join(rootfs.dir, 'etc/systemd/system/cron.service.d'), { recursive: true })
    await writeFile(join(rootfs.dir, 'etc/systemd/system/cron.service.d/override.conf'), '[Service]\nExecStart=\nExecStart=/usr/sbin/cron -f -L 15\n')
    await writeFile(join(rootfs.dir, 'etc/systemd/system/dump.service'), '[Service]\nExecStart=/usr/bin/mysqldump --password=Tr0ub4dor-3-horse --all-databases\n[Install]\nWantedBy=multi-user.target\n')
    await mkdir(join(rootfs.dir, 'etc/systemd/system/multi-user.target.wants'), { recursive: true })
    await symlink('/etc/systemd/system/dump.service', join(rootfs.dir, 'etc/systemd/system/multi-user.target.wants/dump.service'))
    await writeFile(join(rootfs.dir, 'etc/xdg/autostart/notes.desktop'), '[Desktop Entry]\nType=Application\nName=Notes\nExec=notes --tray\nX-GNOME-Autostart-enabled=false\n')
  })
  after(async () => {
    await cli?.cleanup()
    await rootfs?.cleanup()
  })

  it('lists boot units, timers, cron jobs, rc.local and autostart entries in one table', async () => {
    const r = await cli.twinsync(['startup', '--json', '--root', rootfs.dir, '--repo', cli.twinDir])
    assert.equal(r.code, 0, r.stderr)
    const { entries } = json<{ entries: StartupEntry[] }>(r)
    const find = (pred: (e: StartupEntry) => boolean) => entries.find(pred)
    assert.deepEqual(find((e) => e.source === 'cron' && e.user === 'ann'), {
      source: 'cron',
      trigger: 'boot',
      user: 'ann',
      name: '/var/spool/cron/crontabs/ann:1',
      command: '/home/ann/bin/sync.sh',
      enabled: true,
      schedule: '@reboot',
    })
    assert.equal(find((e) => e.source === 'rc.local')?.enabled, true)
    const notes = find((e) => e.source === 'autostart')
    assert.deepEqual(notes && { trigger: notes.trigger, command: notes.command, enabled: notes.enabled }, { trigger: 'login', command: 'notes --tray', enabled: false })
    // What a unit runs, from the root's unit files: the service's ExecStart= as its drop-in sets it,
    // a timer's service's, a password on a command line redacted as the snapshot redacts it.
    assert.equal(find((e) => e.source === 'systemd' && e.name === 'cron.service' && e.trigger === 'boot')?.command, '/usr/sbin/cron -f -L 15')
    const dump = find((e) => e.source === 'systemd' && e.name === 'dump.service')
    assert.match(dump?.command ?? '', /^\/usr\/bin\/mysqldump --password=\S*redacted\S* --all-databases$/)
    assert.ok(!JSON.stringify(entries).includes('Tr0ub4dor'))
    assert.equal(find((e) => e.source === 'systemd' && e.name === 'apt-daily.timer' && e.trigger === 'schedule')?.command, '/usr/lib/apt/apt.systemd.daily update')
    const triggers = entries.map((e) => e.trigger)
    assert.deepEqual(triggers, [...triggers].sort((a, b) => ['boot', 'login', 'schedule'].indexOf(a) - ['boot', 'login', 'schedule'].indexOf(b)), 'boot first, then login, then schedule')

    const text = await cli.twinsync(['startup', '--root', rootfs.dir, '--repo', cli.twinDir])
    assert.match(text.stdout, /^WHEN\s+SOURCE\s+USER\s+ENABLED\s+NAME\s+COMMAND/)
    assert.match(text.stdout, /boot\s+cron\s+ann\s+yes\s+\/var\/spool\/cron\/crontabs\/ann:1\s+\/home\/ann\/bin\/sync\.sh/)
    assert.match(text.stdout, /boot\s+systemd\s+-?\s*yes\s+cron\.service\s+\/usr\/sbin\/cron -f -L 15/)
    assert.ok(!text.stdout.includes('Tr0ub4dor'))
  })
})
