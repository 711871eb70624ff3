import { strict as assert } from 'node:assert'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LocalHost, RecordingHost, type Change } from '@twinsync/sdk'
import { createTestContext } from '@twinsync/sdk/conformance'
import { restartsForConfigChanges } from '../src/config-restarts.js'
import type { SystemdState } from '../src/state.js'

describe('restarts proposed for changed package configuration', () => {
  let root: string
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'twinsync-restarts-'))
    await mkdir(join(root, 'var/lib/dpkg/info'), { recursive: true })
    await writeFile(join(root, 'var/lib/dpkg/info/cron.list'), '/.\n/etc\n/etc/default/cron\n/etc/crontab\n/lib/systemd/system/cron.service\n/usr/sbin/cron\n')
    await writeFile(join(root, 'var/lib/dpkg/info/nginx-common.list'), '/etc/nginx/nginx.conf\n/lib/systemd/system/nginx.service\n')
  })
  afterEach(() => rm(root, { recursive: true, force: true }))

  const write = (path: string): Change => ({ id: `files:replace:${path}`, provider: 'files', category: 'files', operation: 'replace', resource: path, summary: `Replace ${path}`, risk: 'medium', data: { action: 'write', path, text: 'x' } })
  const state = (runtime: SystemdState['runtime']): SystemdState => ({ units: {}, startup: { wantedAtBoot: [], enabledTimers: [] }, ...(runtime === undefined ? {} : { runtime }) })

  it('restarts the running services of the package that owns a rewritten /etc file, after the write', async () => {
    const changes = [write('/etc/default/cron'), write('/etc/crontab'), write('/etc/nginx/nginx.conf'), write('/etc/motd')]
    const restarts = await restartsForConfigChanges({
      changes,
      actual: state({ 'cron.service': { active: 'active', sub: 'running' }, 'nginx.service': { active: 'inactive', sub: 'dead' } }),
      ctx: createTestContext(root),
    })
    assert.deepEqual(restarts.map((c) => [c.id, c.requires]), [['systemd:restart:cron.service', ['files:replace:/etc/default/cron', 'files:replace:/etc/crontab']]])
    assert.match(restarts[0]?.summary ?? '', /restart cron\.service to read its changed configuration/)
  })

  it('a start of a stopped service requires the writes of its configuration (a refused one holds it back); other starts are left alone', async () => {
    const start = (unit: string): Change => ({ id: `systemd:start:${unit}`, provider: 'systemd', category: 'services', operation: 'start', resource: unit, summary: `start ${unit}`, risk: 'medium', requires: ['systemd:enable:x'] })
    const changes = [write('/etc/nginx/nginx.conf'), write('/etc/motd'), start('nginx.service'), start('cron.service')]
    const restarts = await restartsForConfigChanges({ changes, actual: state({ 'nginx.service': { active: 'inactive', sub: 'dead' } }), ctx: createTestContext(root) })
    assert.deepEqual(restarts, [], 'not running: nothing to reload or restart')
    assert.deepEqual(changes.slice(2).map((c) => [c.id, c.requires]), [
      ['systemd:start:nginx.service', ['systemd:enable:x', 'files:replace:/etc/nginx/nginx.conf']],
      ['systemd:start:cron.service', ['systemd:enable:x']],
    ])
  })

  it('reloads a running unit that can reload, also for a file only the configuration checks tie to it', async () => {
    // The same files, but a port that says it runs the target (so CanReload is asked), with systemctl's answers.
    const host = new RecordingHost(new LocalHost(root), { live: true, query: (_command, args) => ({ stdout: args[args.length - 1] === 'nginx.service' ? 'yes\n' : 'no\n' }) })
    const ctx = createTestContext(root, { host })
    const site: Change = { ...write('/etc/nginx/sites-enabled/site'), id: 'files:create:/etc/nginx/sites-enabled/site', data: { action: 'symlink', path: '/etc/nginx/sites-enabled/site', target: '../sites-available/site' } }
    const follow = await restartsForConfigChanges({
      changes: [site, write('/etc/default/cron')],
      actual: state({ 'cron.service': { active: 'active', sub: 'running' }, 'nginx.service': { active: 'active', sub: 'running' } }),
      ctx,
      configChecks: [{ service: 'nginx', paths: ['/etc/nginx/**'], argv: ['nginx', '-t'], units: ['nginx.service'] }],
    })
    assert.deepEqual(follow.map((c) => [c.id, c.operation, c.requires]), [
      ['systemd:reload:nginx.service', 'reload', ['files:create:/etc/nginx/sites-enabled/site']],
      ['systemd:restart:cron.service', 'restart', ['files:replace:/etc/default/cron']],
    ])
    assert.deepEqual(host.queries[0], ['systemctl', ['show', '--property=CanReload', '--value', '--', 'nginx.service']])
    assert.deepEqual(host.actions, [], 'planning follow-ups changes nothing')
  })

  it('a folder deleted whole: the service that reads a file below it, though no package lists the folder and its pattern does not match the folder; an entry named outside the folder counts for nothing', async () => {
    const remove = (path: string, below: string[]): Change => ({ ...write(path), id: `files:delete:${path}`, operation: 'delete', data: { action: 'delete', path, below: below.map((p) => ({ path: p, liveFingerprint: 'f' })) } })
    const sshd = { service: 'sshd', paths: ['/etc/ssh/sshd_config', '/etc/ssh/sshd_config.d/**'], argv: ['sshd', '-t'], units: ['ssh.service'] }
    const restarts = await restartsForConfigChanges({
      changes: [remove('/etc/ssh/sshd_config.d', ['/etc/ssh/sshd_config.d/10-port.conf']), remove('/etc/other', ['/etc/ssh/sshd_config', '/etc/other/x'])],
      actual: state({ 'ssh.service': { active: 'active', sub: 'running' } }),
      ctx: createTestContext(root),
      configChecks: [sshd],
    })
    assert.deepEqual(restarts.map((c) => [c.id, c.requires]), [['systemd:restart:ssh.service', ['files:delete:/etc/ssh/sshd_config.d']]])
    assert.match(restarts[0]?.summary ?? '', /\(\/etc\/ssh\/sshd_config\.d\)$/)
  })

  it('a file outside /etc that a check names (nginx includes it): its service is reloaded too', async () => {
    const nginx = { service: 'nginx', paths: ['/etc/nginx/**', '/usr/local/etc/nginx/headers.conf'], argv: ['nginx', '-t'], units: ['nginx.service'] }
    const restarts = await restartsForConfigChanges({
      changes: [write('/usr/local/etc/nginx/headers.conf'), write('/usr/local/bin/tool')],
      actual: state({ 'nginx.service': { active: 'active', sub: 'running' } }),
      ctx: createTestContext(root),
      configChecks: [nginx],
    })
    assert.deepEqual(restarts.map((c) => [c.id, c.requires]), [['systemd:restart:nginx.service', ['files:replace:/usr/local/etc/nginx/headers.conf']]])
  })

  it('proposes nothing offline, or when the restart is already planned', async () => {
    assert.deepEqual(await restartsForConfigChanges({ changes: [write('/etc/default/cron')], actual: state(undefined), ctx: createTestContext(root) }), [])
    const planned: Change = { id: 'systemd:restart:cron.service', provider: 'systemd', category: 'services', operation: 'restart', resource: 'cron.service', summary: '', risk: 'medium' }
    const again = await restartsForConfigChanges({ changes: [write('/etc/default/cron'), planned], actual: state({ 'cron.service': { active: 'active', sub: 'running' } }), ctx: createTestContext(root) })
    assert.deepEqual(again, [])
    const reload: Change = { ...planned, id: 'systemd:reload:cron.service', operation: 'reload' }
    const reloaded = await restartsForConfigChanges({ changes: [write('/etc/default/cron'), reload], actual: state({ 'cron.service': { active: 'active', sub: 'running' } }), ctx: createTestContext(root) })
    assert.deepEqual(reloaded, [], 'a service already reloaded for an older configuration is not restarted as well')
  })
})
