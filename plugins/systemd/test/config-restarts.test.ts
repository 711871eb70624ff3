import { strict as assert } from 'node:assert'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Change } from '@twinsync/sdk'
import { createTestContext } from '@twinsync/sdk/conformance'
import { restartsForConfigChanges } from '../src/config-restarts.js'
import type { SystemdState } from '../src/service-state.js'

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
