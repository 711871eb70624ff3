import { strict as assert } from 'node:assert'
import { createHash } from 'node:crypto'
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { bootContainer, makeTempDir, removeTree, ROOTFS_BUILD_TIMEOUT_MS, runOk, type Container } from '../bed/index.js'

interface ShowJson {
  to: { commit: string; labels: string[] }
  domains: Record<string, Array<{ operation: string; resource: string; summary: string }> | undefined>
}

/** The time machine on a booted machine: what a snapshot changed, and going back to an older one. */
describe('history and revert inside a booted Debian container', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  let ct: Container
  let s1: string

  before(async () => {
    ct = await bootContainer()
    await ct.runOk(['apt-get', 'update', '-q'], { timeoutMs: 300_000 })
    await ct.writeFile('/etc/systemd/system/twin-history.service', '[Unit]\nDescription=History demo\n[Service]\nExecStart=/bin/sleep infinity\n[Install]\nWantedBy=multi-user.target\n')
    const first = await ct.twinsync(['snapshot', '--init', '--label', 's1', '--json'])
    assert.equal(first.code, 0, first.stderr)
    s1 = (JSON.parse(first.stdout) as { commit: string }).commit
  })

  after(async () => {
    await ct?.close()
  })

  it('shows exactly what a snapshot changed: a package, a file, a service and a cron job', async () => {
    await ct.runOk(['apt-get', 'install', '-y', '-q', 'hello'], { timeoutMs: 300_000, env: { DEBIAN_FRONTEND: 'noninteractive' } })
    await ct.writeFile('/etc/motd', 'Changed between snapshots\n')
    await ct.runOk(['systemctl', 'enable', 'twin-history.service'])
    await ct.runOk(['crontab', '-u', 'root', '-'], { input: '@daily /usr/bin/true\n' })
    // A unit the first snapshot did not have, enabled and running: reverting must stop and
    // disable it before its files go (an enable link left dangling made a failed timer).
    await ct.writeFile('/etc/systemd/system/twin-added.service', '[Service]\nType=oneshot\nExecStart=/bin/true\n')
    await ct.writeFile('/etc/systemd/system/twin-added.timer', '[Timer]\nOnCalendar=hourly\n[Install]\nWantedBy=timers.target\n')
    await ct.runOk(['systemctl', 'enable', '--now', 'twin-added.timer'])
    const second = await ct.twinsync(['snapshot', '--json'])
    assert.equal(second.code, 0, second.stderr)

    const show = await ct.twinsync(['show', 'HEAD', '--json'])
    assert.equal(show.code, 0, show.stderr)
    const { domains } = JSON.parse(show.stdout) as ShowJson
    const said = (domain: string) => (domains[domain] ?? []).map((c) => `${c.operation} ${c.resource}`)
    assert.deepEqual(said('packages'), ['install hello'])
    assert.deepEqual(said('files'), ['replace /etc/motd', 'create /etc/systemd/system/twin-added.service', 'create /etc/systemd/system/twin-added.timer'])
    assert.deepEqual(said('services'), ['daemon-reload manager', 'enable twin-added.timer', 'enable twin-history.service', 'start twin-added.timer'])
    assert.deepEqual(said('startup'), ['create /var/spool/cron/crontabs/root'])
    assert.equal(domains.twin, undefined)

    const text = await ct.twinsync(['show', 'HEAD'])
    // Observed words, the machine's past tense (core/src/vocabulary.ts), with item counts.
    assert.match(text.stdout, /^packages: 1 package\n {2}hello installed$/m)
    assert.match(text.stdout, /^files: 3 files\n {2}\/etc\/motd changed\n {2}\/etc\/systemd\/system\/twin-added\.service added\n {2}\/etc\/systemd\/system\/twin-added\.timer added$/m)
    assert.match(text.stdout, /^services: 3 units\n {2}systemd unit files changed \(twin-added\.service, twin-added\.timer\)\n {2}twin-added\.timer enabled\n {2}twin-history\.service enabled\n {2}twin-added\.timer started$/m, text.stdout)
    assert.match(text.stdout, /^startup: 1 startup entry\n {2}\/var\/spool\/cron\/crontabs\/root added$/m)
  })

  it('reverts to the first snapshot with approval, and a new plan against it is empty', async () => {
    const refused = await ct.twinsync(['revert', 's1'])
    assert.equal(refused.code, 2, 'no terminal and no --yes')
    assert.match(refused.stderr, /\[CONFIRMATION_REQUIRED\]/)

    const reverted = await ct.twinsync(['revert', 's1', '--yes', '--accept-high-risk'], { timeoutMs: 600_000 })
    assert.equal(reverted.code, 0, reverted.stdout + reverted.stderr)
    assert.notEqual((await ct.run(['dpkg-query', '-W', '-f=${Status}', 'hello'])).stdout, 'install ok installed')
    assert.doesNotMatch(await ct.readFile('/etc/motd'), /Changed between snapshots/)
    assert.equal((await ct.run(['systemctl', 'is-enabled', 'twin-history.service'])).stdout.trim(), 'disabled')
    // The added timer is stopped, disabled and gone, with no enable link left behind.
    assert.equal((await ct.run(['test', '-e', '/etc/systemd/system/twin-added.timer'])).code, 1)
    assert.equal((await ct.run(['ls', '/etc/systemd/system/timers.target.wants'])).stdout.includes('twin-added'), false)
    assert.equal((await ct.run(['systemctl', 'is-active', 'twin-added.timer'])).stdout.trim(), 'inactive')
    assert.equal((await ct.run(['systemctl', 'show', '-p', 'LoadState', '--value', 'twin-added.timer'])).stdout.trim(), 'not-found')
    const crontab = await ct.run(['crontab', '-l', '-u', 'root'])
    assert.equal(crontab.code, 1, crontab.stdout)
    assert.match(crontab.stderr, /no crontab for root/)

    const plan = await ct.twinsync(['plan', '--from', 's1', '--only', 'files,packages,services,startup', '--json'])
    assert.equal(plan.code, 0, plan.stderr)
    assert.deepEqual((JSON.parse(plan.stdout) as { changes: Array<{ id: string }> }).changes.map((c) => c.id), [])
  })

  it('lists the checkpoint and the revert in history, and the label where it belongs', async () => {
    const r = await ct.twinsync(['history', '--json', '--limit', '10'])
    assert.equal(r.code, 0, r.stderr)
    const entries = JSON.parse(r.stdout) as Array<{ commit: string; kind: string; message: string; labels: string[] }>
    assert.equal(entries[0]?.kind, 'revert')
    assert.match(entries[0]?.message ?? '', new RegExp(`^TwinSync revert to ${s1.slice(0, 12)} `))
    assert.equal(entries[1]?.kind, 'checkpoint')
    assert.deepEqual(entries.find((e) => e.commit === s1)?.labels, ['s1'])
    const text = await ct.twinsync(['history'])
    assert.match(text.stdout, /^◆ .*TwinSync checkpoint before revert to/m)
    assert.match(text.stdout, /\(s1\)$/m)
  })

  it('a revert that brings back a package whose install starts its service, with its edited configuration: the service ends running the twin\'s configuration (session 21)', async () => {
    // A package as Debian's are: a conffile, a unit, and a postinst that enables and starts it
    // (with the package's default configuration, before the apply writes the twin's).
    await flatRepository(ct, '/srv/s21repo', 's21demo', {
      'etc/s21demo/demo.conf': 'listen = 80\n',
      'usr/lib/systemd/system/s21demo.service': '[Unit]\nDescription=Session 21 demo\n[Service]\nExecStart=/bin/sleep infinity\n[Install]\nWantedBy=multi-user.target\n',
      'DEBIAN/conffiles': '/etc/s21demo/demo.conf\n',
      'DEBIAN/postinst': '#!/bin/sh\nset -e\nif [ "$1" = configure ]; then\n  systemctl daemon-reload\n  systemctl enable s21demo.service\n  systemctl start s21demo.service\nfi\n',
      'DEBIAN/prerm': '#!/bin/sh\nsystemctl stop s21demo.service || true\nsystemctl disable s21demo.service || true\n',
    })
    await ct.writeFile('/etc/apt/sources.list.d/s21demo.list', 'deb [trusted=yes] file:/srv/s21repo ./\n')
    const apt = (args: string[]) => ct.runOk(['apt-get', '-q', '-y', '-o', 'Dir::Etc::sourcelist=sources.list.d/s21demo.list', '-o', 'Dir::Etc::sourceparts=-', '-o', 'APT::Get::List-Cleanup=0', ...args], { timeoutMs: 300_000, env: { DEBIAN_FRONTEND: 'noninteractive' } })
    await apt(['update'])
    await apt(['install', 's21demo'])
    await ct.writeFile('/etc/s21demo/demo.conf', 'listen = 8081\n')
    await ct.runOk(['systemctl', 'restart', 's21demo.service'])
    const edited = JSON.parse((await ct.twinsync(['snapshot', '--json'])).stdout) as { commit: string }
    await apt(['purge', 's21demo'])
    assert.equal((await ct.run(['test', '-e', '/etc/s21demo/demo.conf'])).code, 1)
    assert.equal((await ct.twinsync(['snapshot', '--json'])).code, 0)

    const reverted = await ct.twinsync(['revert', edited.commit, '--yes', '--accept-high-risk', '--json'], { timeoutMs: 600_000 })
    assert.equal(reverted.code, 0, reverted.stdout + reverted.stderr)
    const steps = (JSON.parse(reverted.stdout) as { journal: { steps: Array<{ id: string; status: string; message?: string }> } }).journal.steps
    const start = steps.find((s) => s.id === 'systemd:start:s21demo.service')
    assert.equal(start?.status, 'applied', JSON.stringify(steps))
    assert.match(start?.message ?? '', /it was running already, with an older configuration than \/etc\/s21demo\/demo\.conf(, [^:]+)?: restarted/, JSON.stringify(steps))
    assert.equal(await ct.readFile('/etc/s21demo/demo.conf'), 'listen = 8081\n')
    assert.equal((await ct.run(['systemctl', 'is-active', 's21demo.service'])).stdout.trim(), 'active')
    // Running what the twin says: no service runs an older configuration (it ran the package's default).
    const plan = await ct.twinsync(['plan', '--json'])
    const changes = (JSON.parse(plan.stdout) as { changes: Array<{ id: string; summary: string }> }).changes.filter((c) => c.id.includes('s21demo'))
    assert.deepEqual(changes, [])
  })

  it('a package the plan installs starts and enables its service, which the twin keeps disabled and stopped: the apply disables and stops it after the install (session 23)', async () => {
    await flatRepository(ct, '/srv/s23repo', 's23demo', {
      'usr/lib/systemd/system/s23demo.service': '[Unit]\nDescription=Session 23 demo\n[Service]\nExecStart=/bin/sleep infinity\n[Install]\nWantedBy=multi-user.target\n',
      'DEBIAN/postinst': '#!/bin/sh\nset -e\nif [ "$1" = configure ]; then\n  systemctl daemon-reload\n  systemctl enable s23demo.service\n  systemctl start s23demo.service\nfi\n',
      'DEBIAN/prerm': '#!/bin/sh\nsystemctl stop s23demo.service || true\nsystemctl disable s23demo.service || true\n',
    })
    await ct.writeFile('/etc/apt/sources.list.d/s23demo.list', 'deb [trusted=yes] file:/srv/s23repo ./\n')
    const apt = (args: string[]) => ct.runOk(['apt-get', '-q', '-y', '-o', 'Dir::Etc::sourcelist=sources.list.d/s23demo.list', '-o', 'Dir::Etc::sourceparts=-', '-o', 'APT::Get::List-Cleanup=0', ...args], { timeoutMs: 300_000, env: { DEBIAN_FRONTEND: 'noninteractive' } })
    const state = async () => `${(await ct.run(['systemctl', 'is-enabled', 's23demo.service'])).stdout.trim()} ${(await ct.run(['systemctl', 'is-active', 's23demo.service'])).stdout.trim()}`
    await apt(['update'])
    await apt(['install', 's23demo'])
    await ct.runOk(['systemctl', 'disable', '--now', 's23demo.service'])
    assert.equal(await state(), 'disabled inactive')
    assert.equal((await ct.twinsync(['snapshot', '--json'])).code, 0)
    await apt(['purge', 's23demo'])
    const ours = async () => ((JSON.parse((await ct.twinsync(['plan', '--json'])).stdout) as { changes: Array<{ id: string }> }).changes.map((c) => c.id).filter((id) => id.includes('s23demo')))
    // The systemd domain, diffed before the install, has no unit to stop or disable: the plan says it will, if the install brings one.
    assert.deepEqual(await ours(), ['apt:install:s23demo', 'systemd:disable:s23demo.service', 'systemd:stop:s23demo.service'])
    const applied = await ct.twinsync(['apply', '--yes', '--accept-high-risk', '--json'], { timeoutMs: 600_000 })
    assert.equal(applied.code, 0, applied.stdout + applied.stderr)
    // Before, the service ran, enabled, against the twin and the plan a person approved.
    assert.equal(await state(), 'disabled inactive')
    assert.deepEqual(await ours(), [])
  })
})

/** A flat apt repository (`deb [trusted=yes] file:DIR ./`) of one package built with dpkg-deb from `files` (DEBIAN/* are its control files). */
async function flatRepository(ct: Container, repo: string, pkg: string, files: Record<string, string>): Promise<void> {
  const build = await makeTempDir('deb')
  try {
    for (const [path, text] of Object.entries(files)) {
      await mkdir(dirname(join(build, path)), { recursive: true })
      await writeFile(join(build, path), text)
      if (/^DEBIAN\/(postinst|prerm|postrm|preinst)$/.test(path)) await chmod(join(build, path), 0o755)
    }
    const control = `Package: ${pkg}\nVersion: 1.0\nArchitecture: all\nMaintainer: TwinSync tests <tests@example.invalid>\nDescription: A package that starts its service\n`
    await writeFile(join(build, 'DEBIAN/control'), control)
    const deb = `${pkg}_1.0_all.deb`
    const out = await makeTempDir('deb-out')
    await runOk(['dpkg-deb', '--build', '--root-owner-group', build, join(out, deb)])
    const bytes = await readFile(join(out, deb))
    await removeTree(out)
    await ct.writeFile(`${repo}/${deb}`, bytes)
    await ct.writeFile(`${repo}/Packages`, `${control}Filename: ./${deb}\nSize: ${bytes.length}\nSHA256: ${createHash('sha256').update(bytes).digest('hex')}\n\n`)
  } finally {
    await removeTree(build)
  }
}
