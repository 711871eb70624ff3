// Session 20, the twin is untrusted input: what a pulled twin can get run as root, through a real
// pull of a bare mirror onto a real Debian root with every provider (files, cron, systemd,
// autostart). Session 19 rated apt hooks, sudo, authorized keys, ld.so.preload and PAM high; the
// other ways to root (a systemd unit and its enabling, a cron file, root's crontab, profile.d, a
// udev RUN rule, a modprobe install command, sshd_config, nsswitch, binfmt, tmpfiles, polkit,
// autostart, rc.local…) were low or medium with no reason. Each is high now, with its reason; an
// ordinary file of the same folders (a udev rule naming a card, a modprobe option) is not.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { lstat, mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Config as OclifConfig } from '@oclif/core'
import { silentLogger } from '@twinsync/sdk'
import { ApplyService } from '../../core/src/apply/apply-service.js'
import { createContainer } from '../../core/src/container.js'
import type { DependencyContainer } from '../../core/src/di.js'
import { RemoteService } from '../../core/src/remote/remote-service.js'
import { PlanWorkflow } from '../../core/src/services/make-plan.js'
import { SnapshotWorkflow } from '../../core/src/services/take-snapshot.js'
import { chrootOk, freshRootfs, ROOTFS_BUILD_TIMEOUT_MS, type Rootfs } from '../bed/index.js'
import { pushToMirror } from '../support/mirror-commit.js'

const noPlugins = { runHook: async () => ({ successes: [], failures: [] }) } as unknown as OclifConfig
const GIT_ENV = { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.org', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.org' }
function git(dir: string, args: string[]): string {
  return execFileSync('git', ['-C', dir, ...args], { env: GIT_ENV, stdio: ['pipe', 'pipe', 'pipe'] }).toString('utf8')
}

const JOB_UNIT = '[Unit]\nDescription=job\n[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n'

describe('trust: a pulled twin that gets code run as root is high risk with its reason (real pull, real Debian root, every provider)', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  let rootfs: Rootfs | undefined
  let root: string
  let twin: string
  let mirror: string
  let container: () => Promise<DependencyContainer>
  let initial: string

  before(async () => {
    rootfs = await freshRootfs()
    root = rootfs.dir
    twin = join(root, '..', 'twin')
    mirror = join(root, '..', 'mirror.git')
    await chrootOk(root, 'useradd', ['-m', 'ann'])
    await mkdir(join(root, 'etc/xdg/autostart'), { recursive: true })
    // An administrator's unit, enabled: a mirror's edit takes its file away (below).
    await writeFile(join(root, 'etc/systemd/system/twin-job.service'), JOB_UNIT)
    execFileSync('systemctl', [`--root=${root}`, 'enable', '--quiet', 'twin-job.service'], { stdio: 'ignore' })
    const configPath = join(root, '..', 'config.yaml')
    await writeFile(configPath, 'providers:\n  disabled: [apt, processes, logs, hardware, network]\n')
    container = () => createContainer({ root, repo: twin, configPath, oclif: noPlugins, logger: silentLogger })
    await (await container()).resolve(SnapshotWorkflow).take({ init: true, ifChanged: false })
    initial = git(twin, ['rev-parse', 'HEAD']).trim()
    execFileSync('git', ['init', '--quiet', '--bare', '--initial-branch=main', mirror])
    await (await container()).resolve(RemoteService).setGitRemote(mirror, undefined)
  })

  after(async () => {
    await rootfs?.cleanup()
  })

  beforeEach(async () => {
    git(twin, ['reset', '--quiet', '--hard', initial])
    git(twin, ['clean', '--quiet', '-fdx'])
    git(twin, ['update-ref', '-d', 'refs/remotes/mirror/main'])
    await rm(mirror, { recursive: true, force: true })
    execFileSync('git', ['init', '--quiet', '--bare', '--initial-branch=main', mirror])
  })

  /** The attacker's commit on the mirror: `files` written under the clone, `edit` for the rest. */
  async function serve(files: Record<string, string>, edit: (clone: string) => Promise<void> = async () => {}): Promise<void> {
    git(twin, ['push', '--quiet', mirror, 'HEAD:refs/heads/main'])
    await pushToMirror(mirror, join(root, '..', `clone-${Date.now()}`), files, edit, 'forged: root')
  }

  const enableInTwin = async (clone: string, units: Record<string, string>) => {
    const path = join(clone, 'system/services/units.json')
    const doc = JSON.parse(await readFile(path, 'utf8')) as { units: Record<string, { state: string }> }
    for (const [unit, state] of Object.entries(units)) doc.units[unit] = { ...(doc.units[unit] ?? {}), state }
    await writeFile(path, `${JSON.stringify(doc, null, 2)}\n`)
  }

  it('systemd units, drop-ins and their enabling, a generator, cron files, root\'s crontab, profile.d, /etc/environment, rc.local, udev, modprobe, sshd_config, nsswitch, binfmt, tmpfiles, polkit, autostart: each high with its reason; ordinary ones of the same folders are not', async () => {
    const UNIT = '[Unit]\nDescription=x\n[Service]\nExecStart=/bin/sh -c "id > /tmp/pwned"\n[Install]\nWantedBy=multi-user.target\n'
    await serve(
      {
        'filesystem/etc/systemd/system/evil.service': UNIT,
        'filesystem/etc/systemd/system/cron.service.d/override.conf': '[Service]\nExecStartPre=/bin/sh -c id\n',
        // Session 26: set-property's folder, read before /etc/systemd/system (a low-risk create before).
        'filesystem/etc/systemd/system.control/cron.service.d/50-x.conf': '[Service]\nExecStartPre=/bin/sh -c id\n',
        'filesystem/etc/systemd/system-generators/evil': '#!/bin/sh\nid\n',
        'filesystem/etc/cron.d/evil': '* * * * * root id\n',
        'filesystem/etc/crontab': 'SHELL=/bin/sh\n* * * * * root id\n',
        'filesystem/var/spool/cron/crontabs/root': '* * * * * id\n',
        'filesystem/var/spool/cron/crontabs/ann': '* * * * * id\n',
        'filesystem/etc/profile.d/evil.sh': 'id\n',
        'filesystem/etc/environment': 'LD_PRELOAD=/tmp/evil.so\n',
        'filesystem/etc/rc.local': '#!/bin/sh\nid\n',
        'filesystem/etc/udev/rules.d/99-evil.rules': 'ACTION=="add", RUN+="/bin/sh -c id"\n',
        'filesystem/etc/udev/rules.d/70-net.rules': 'SUBSYSTEM=="net", ATTR{address}=="00:11:22:33:44:55", NAME="lan0"\n',
        'filesystem/etc/modprobe.d/evil.conf': 'install dummy /bin/sh -c id\n',
        'filesystem/etc/modprobe.d/options.conf': 'options snd_hda_intel power_save=1\n',
        'filesystem/etc/ssh/sshd_config.d/open.conf': 'PermitRootLogin yes\nAuthorizedKeysCommand /bin/evil\nAuthorizedKeysCommandUser root\n',
        'filesystem/etc/nsswitch.conf': 'passwd: files evil\n',
        'filesystem/etc/binfmt.d/evil.conf': ':evil:E::evil::/tmp/interp:C\n',
        'filesystem/etc/tmpfiles.d/evil.conf': 'f /etc/sudoers.d/x 0440 root root - ALL ALL=(ALL) NOPASSWD: ALL\n',
        'filesystem/etc/polkit-1/rules.d/00-evil.rules': 'polkit.addRule(function() { return polkit.Result.YES; });\n',
        'filesystem/etc/xdg/autostart/evil.desktop': '[Desktop Entry]\nType=Application\nName=Evil\nExec=/bin/sh -c id\n',
        'filesystem/etc/sysctl.d/99-core.conf': 'kernel.core_pattern=|/tmp/evil %p\n',
        'filesystem/etc/sysctl.d/10-net.conf': 'net.ipv4.ip_forward=1\n',
        'filesystem/etc/logrotate.d/evil': '/var/log/x {\n  postrotate\n    id\n  endscript\n}\n',
        'filesystem/etc/issue.net': 'hello\n',
      },
      (clone) => enableInTwin(clone, { 'evil.service': 'enabled', 'debug-shell.service': 'enabled' }),
    )
    assert.equal((await (await container()).resolve(RemoteService).pull()).status, 'fast-forwarded')
    const plan = await (await container()).resolve(PlanWorkflow).plan({})
    const rated = Object.fromEntries(
      plan.changes
        .filter((c) => c.provider !== 'systemd' || c.operation === 'enable')
        .filter((c) => c.provider !== 'files' || c.operation === 'create' || c.operation === 'replace')
        .map((c) => [`${c.provider} ${c.operation} ${c.resource}`, `${c.risk}${c.riskReason === undefined ? '' : `: ${c.riskReason}`}`]),
    )
    const unit = 'high: a systemd unit, drop-in or enabling link: the commands it names run as root'
    assert.deepEqual(rated, {
      'files create /etc/systemd/system/evil.service': unit,
      'files create /etc/systemd/system/cron.service.d/override.conf': unit,
      'files create /etc/systemd/system.control/cron.service.d/50-x.conf': unit,
      'files create /etc/systemd/system-generators/evil': 'high: a systemd generator: runs as root at every boot and daemon-reload',
      'systemd enable evil.service': 'high: a unit this plan writes (/etc/systemd/system/evil.service): the commands it names run as root',
      'systemd enable debug-shell.service': 'high: debug-shell.service: a root shell on a console with no password',
      'files create /etc/cron.d/evil': 'high: a system cron file: its jobs run as root (or whom they name) on schedule',
      'files replace /etc/crontab': 'high: a system cron file: its jobs run as root (or whom they name) on schedule',
      'cron create /var/spool/cron/crontabs/root': 'high: root\'s crontab: its jobs run as root',
      'cron create /var/spool/cron/crontabs/ann': 'medium',
      'files create /etc/profile.d/evil.sh': 'high: a login shell\'s startup: runs in every login shell, root\'s too',
      'files replace /etc/environment': 'high: the environment of every login, root\'s too (LD_PRELOAD, PATH…)',
      'autostart create /etc/rc.local': 'high: a boot script: runs as root at boot',
      'files create /etc/udev/rules.d/99-evil.rules': 'high: a udev rule that runs a command as root when a device appears',
      'files create /etc/udev/rules.d/70-net.rules': 'low',
      'files create /etc/modprobe.d/evil.conf': 'high: a modprobe install or remove command: runs as root when the module loads',
      'files create /etc/modprobe.d/options.conf': 'low',
      'files create /etc/ssh/sshd_config.d/open.conf': 'high: the SSH server\'s settings: who may log in, as whom, and how',
      'files replace /etc/nsswitch.conf': 'high: nsswitch: the libraries that look up users (loaded into root\'s programs too) and where logins come from',
      'files create /etc/binfmt.d/evil.conf': 'high: binfmt_misc: an interpreter the kernel runs for matching programs, root\'s too',
      'files create /etc/tmpfiles.d/evil.conf': 'high: systemd-tmpfiles: creates, writes, links and chmods files as root at boot',
      'files create /etc/polkit-1/rules.d/00-evil.rules': 'high: polkit rules: who may act as root without a password',
      'autostart create /etc/xdg/autostart/evil.desktop': 'high: an autostart entry: starts with every desktop login, root\'s too',
      'files create /etc/sysctl.d/99-core.conf': 'high: a kernel setting that names a program the kernel runs as root (core_pattern pipe, modprobe, hotplug)',
      'files create /etc/sysctl.d/10-net.conf': 'low',
      'files create /etc/logrotate.d/evil': 'high: a logrotate script: runs as root when logs rotate',
      'files replace /etc/issue.net': 'medium',
    })
  })

  // Session 21: the mirror's twin drops an enabled unit's file but keeps its units.json entry.
  // Before, the file was deleted and the unit stayed enabled, its enable link dangling.
  it('a unit file taken out of the twin while units.json still lists the unit: disabled before the file goes, no link left (systemctl --root)', async () => {
    const wants = join(root, 'etc/systemd/system/multi-user.target.wants/twin-job.service')
    try {
      await serve({}, async (clone) => rm(join(clone, 'filesystem/etc/systemd/system/twin-job.service')))
      assert.equal((await (await container()).resolve(RemoteService).pull()).status, 'fast-forwarded')
      const plan = await (await container()).resolve(PlanWorkflow).plan({})
      const job = plan.changes.filter((c) => c.resource.includes('twin-job')).map((c) => [c.id, c.removal === true])
      assert.deepEqual(job, [['files:delete:/etc/systemd/system/twin-job.service', false], ['systemd:disable:twin-job.service', true]].sort(), JSON.stringify(plan.changes.map((c) => c.id)))
      assert.ok(plan.edges.some((e) => e.from === 'systemd:disable:twin-job.service' && e.to === 'files:delete:/etc/systemd/system/twin-job.service'), 'disabled before the file goes')
      const report = await (await container()).resolve(ApplyService).apply({ plan, fromFile: false, acceptHighRisk: true, signal: new AbortController().signal })
      assert.equal(report.exitCode, 0, JSON.stringify(report.journal.steps))
      assert.equal(await lstat(join(root, 'etc/systemd/system/twin-job.service')).catch(() => undefined), undefined)
      assert.equal(await lstat(wants).catch(() => undefined), undefined, 'no enable link left dangling')
    } finally {
      await writeFile(join(root, 'etc/systemd/system/twin-job.service'), JOB_UNIT)
      execFileSync('systemctl', [`--root=${root}`, 'enable', '--quiet', 'twin-job.service'], { stdio: 'ignore' })
    }
  })
})
