import { strict as assert } from 'node:assert'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { checksReading, LocalHost, type Change, type ConfigCheck } from '@twinsync/sdk'
import { createTestContext } from '@twinsync/sdk/conformance'
import { SystemdProvider, type SystemdState } from '@twinsync/plugin-systemd'
import { ConfigGuard } from '../src/apply/config-guard.js'
import { unitsOf } from '../src/rehearse/inside.js'

/**
 * One rule of which services read what a file change touches (the SDK's checksReading), asked by
 * each place that acts on it: apply checks the change in the group of each such service
 * (ConfigGuard.groupsOf: each one's checker judges it), the rehearsal proves their units
 * (unitsOf), and the systemd provider reloads them (its followUps). Session 46's review (Y1, Y2):
 * apply and the rehearsal took the first service only while every one was reloaded, so a plugin's
 * `myapp` reading /etc/nginx/conf.d/myapp.conf beside nginx's `/etc/nginx/**` was reloaded after
 * `nginx -t` alone judged the file, and its unit was never proven; and a plugin's checker for a
 * file under mariadb's `/etc/mysql/**` (a check with no checker, first in the table) never ran.
 */
describe('which services read a change: checked, rehearsed and reloaded by one rule', () => {
  const NGINX: ConfigCheck = { service: 'nginx', paths: ['/etc/nginx/**'], argv: ['nginx', '-t'], units: ['nginx.service'] }
  const MYAPP: ConfigCheck = { service: 'myapp', paths: ['/etc/myapp/**', '/etc/nginx/conf.d/myapp.conf'], argv: ['myapp', 'check'], units: ['myapp.service'] }
  const MARIADB: ConfigCheck = { service: 'mariadb', paths: ['/etc/mysql/**'], units: ['mariadb.service'] }
  const MYDB: ConfigCheck = { service: 'mydb', paths: ['/etc/mysql/conf.d/mydb.cnf'], argv: ['mydb', '--check'], units: ['mydb.service'] }
  const SSHD: ConfigCheck = { service: 'sshd', paths: ['/etc/ssh/sshd_config', '/etc/ssh/sshd_config.d/**'], argv: ['sshd', '-t'], units: ['ssh.service'] }
  const checks = [NGINX, MARIADB, SSHD, MYAPP, MYDB]

  const file = (action: string, path: string, extra: Record<string, unknown> = {}): Change => ({ id: `files:${action}:${path}`, provider: 'files', category: 'files', operation: action, resource: path, summary: path, risk: 'medium', data: { action, path, ...extra } })
  const changes = [
    file('write', '/etc/nginx/conf.d/myapp.conf', { text: 'x' }),
    file('write', '/etc/nginx/nginx.conf', { text: 'x' }),
    file('write', '/etc/mysql/conf.d/mydb.cnf', { text: 'x' }),
    file('delete', '/etc/myapp', { below: [{ path: '/etc/myapp/a.conf', liveFingerprint: 'f' }] }),
    file('delete', '/etc/ssh/sshd_config.d', { below: [{ path: '/etc/ssh/sshd_config.d/10-port.conf', liveFingerprint: 'f' }] }),
    file('write', '/etc/motd', { text: 'x' }),
  ]
  /** What the rule says for each change: the services, and their units. */
  const rule = new Map(changes.map((c) => [c.id, checksReading(checks, c)]))

  let root: string
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'twinsync-config-reading-'))
  })
  after(() => rm(root, { recursive: true, force: true }))

  it('the rule itself: two services read myapp.conf and mydb.cnf, one each of the others, none /etc/motd', () => {
    assert.deepEqual([...rule].map(([id, found]) => [id, found.map((k) => k.service)]), [
      ['files:write:/etc/nginx/conf.d/myapp.conf', ['nginx', 'myapp']],
      ['files:write:/etc/nginx/nginx.conf', ['nginx']],
      ['files:write:/etc/mysql/conf.d/mydb.cnf', ['mariadb', 'mydb']],
      ['files:delete:/etc/myapp', ['myapp']],
      ['files:delete:/etc/ssh/sshd_config.d', ['sshd']],
      ['files:write:/etc/motd', []],
    ])
  })

  it("apply puts each change in the group of every service that reads it, so each one's checker judges it", () => {
    const guard = new ConfigGuard(new LocalHost(root), checks, changes)
    const groups = guard.groupsOf(changes)
    for (const c of changes) {
      assert.deepEqual(groups.filter((g) => g.changes.includes(c)).map((g) => g.check.service), (rule.get(c.id) ?? []).map((k) => k.service), c.id)
    }
    // What reaches a checker: the groups that have one (CheckedGroups leaves the others out).
    const checkedBy = (path: string) => groups.filter((g) => g.check.argv !== undefined && g.changes.some((c) => c.resource === path)).map((g) => g.check.argv?.join(' '))
    assert.deepEqual(checkedBy('/etc/nginx/conf.d/myapp.conf'), ['nginx -t', 'myapp check'])
    assert.deepEqual(checkedBy('/etc/mysql/conf.d/mydb.cnf'), ['mydb --check'], 'behind a check with no checker, the plugin\'s own still runs')
  })

  it('the rehearsal proves, and the systemd provider reloads, the units of every service that reads it', async () => {
    const rehearsed = unitsOf(changes, checks)
    const units = (c: Change) => [...new Set((rule.get(c.id) ?? []).flatMap((k) => k.units ?? []))].sort()
    for (const c of changes) assert.deepEqual(rehearsed.filter((u) => u.changes.includes(c.id)).map((u) => u.unit).sort(), units(c), `rehearsed for ${c.id}`)

    const running = Object.fromEntries(['nginx.service', 'myapp.service', 'mariadb.service', 'mydb.service', 'ssh.service'].map((u) => [u, { active: 'active', sub: 'running' }]))
    const actual: SystemdState = { units: {}, startup: { wantedAtBoot: [], enabledTimers: [] }, runtime: running }
    const follow = await new SystemdProvider().followUps({ changes, actual, ctx: createTestContext(root), configChecks: checks })
    for (const c of changes) assert.deepEqual(follow.filter((f) => (f.requires ?? []).includes(c.id)).map((f) => f.resource).sort(), units(c), `reloaded for ${c.id}`)
  })
})
