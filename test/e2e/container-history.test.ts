import { strict as assert } from 'node:assert'
import { bootContainer, ROOTFS_BUILD_TIMEOUT_MS, type Container } from '../bed/index.js'

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
})
