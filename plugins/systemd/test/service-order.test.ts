import { strict as assert } from 'node:assert'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PLAN_FORMAT_VERSION, type Change, type Plan } from '@twinsync/sdk'
import { createTestContext } from '@twinsync/sdk/conformance'
import { excludeChanges } from '../../../core/src/plan/exclude-changes.js'
import { buildPlanGraph, waves } from '../../../core/src/plan/plan-graph.js'
import { diffSystemdState } from '../src/diff.js'
import { SystemdProvider } from '../src/provider.js'
import type { SystemdState } from '../src/state.js'

/**
 * Session 22: on a booted Debian 13 root, an apply that stopped lighttpd and started nginx (both
 * on port 80) restarted lighttpd for its changed configuration after the stop, and nginx's start
 * failed. What the twin wants stopped is stopped and disabled first; a unit the plan stops is
 * never reloaded or restarted.
 */
describe('systemd: stops before starts, no restart of a unit the plan stops', () => {
  let root: string
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'twinsync-order-'))
    await mkdir(join(root, 'var/lib/dpkg/info'), { recursive: true })
    await writeFile(join(root, 'var/lib/dpkg/info/lighttpd.list'), '/etc/lighttpd/lighttpd.conf\n/lib/systemd/system/lighttpd.service\n')
    await writeFile(join(root, 'var/lib/dpkg/info/nginx-common.list'), '/etc/nginx/nginx.conf\n/lib/systemd/system/nginx.service\n')
  })
  after(() => rm(root, { recursive: true, force: true }))

  const state = (units: SystemdState['units'], runtime: SystemdState['runtime']): SystemdState => ({ units, runtime, startup: { wantedAtBoot: [], enabledTimers: [] } })
  const write = (path: string): Change => ({ id: `files:replace:${path}`, provider: 'files', category: 'files', operation: 'replace', resource: path, summary: `replace ${path}`, risk: 'medium', data: { action: 'write', path, text: 'x' } })

  it('stops and disables lighttpd before the package install, the files and the start of nginx; no restart of lighttpd for its changed file', async () => {
    const desired = state({ 'lighttpd.service': { state: 'disabled' }, 'nginx.service': { state: 'enabled' } }, { 'lighttpd.service': { active: 'inactive', sub: 'dead' }, 'nginx.service': { active: 'active', sub: 'running' } })
    const actual = state({ 'lighttpd.service': { state: 'enabled' }, 'nginx.service': { state: 'disabled' } }, { 'lighttpd.service': { active: 'active', sub: 'running' }, 'nginx.service': { active: 'inactive', sub: 'dead' } })
    const install: Change = { id: 'apt:install:php-cgi', provider: 'apt', category: 'packages', operation: 'install', resource: 'php-cgi', summary: 'install php-cgi', risk: 'medium' }
    const changes: Change[] = [install, write('/etc/lighttpd/lighttpd.conf'), write('/etc/nginx/nginx.conf'), ...diffSystemdState(desired, actual).changes]
    changes.push(...(await new SystemdProvider().followUps({ changes, actual, ctx: createTestContext(root) })))
    assert.deepEqual(changes.filter((c) => c.provider === 'systemd').map((c) => c.id).sort(), [
      'systemd:disable:lighttpd.service',
      'systemd:enable:nginx.service',
      'systemd:start:nginx.service',
      'systemd:stop:lighttpd.service',
    ])
    const graph = buildPlanGraph(changes)
    const order = waves(graph.changes, graph.edges).map((w) => w.map((c) => c.id).sort())
    assert.deepEqual(order, [
      ['systemd:disable:lighttpd.service', 'systemd:stop:lighttpd.service'],
      ['apt:install:php-cgi'],
      ['files:replace:/etc/lighttpd/lighttpd.conf', 'files:replace:/etc/nginx/nginx.conf'],
      ['systemd:enable:nginx.service'],
      ['systemd:start:nginx.service'],
    ])
  })

  it('a unit the twin keeps enabled but stopped is stopped after the package installs (an upgrade\'s maintainer script restarts an enabled unit), still before the starts', async () => {
    const desired = state({ 'db.service': { state: 'enabled' }, 'web.service': { state: 'enabled' } }, { 'db.service': { active: 'inactive', sub: 'dead' }, 'web.service': { active: 'active', sub: 'running' } })
    const actual = state({ 'db.service': { state: 'enabled' }, 'web.service': { state: 'enabled' } }, { 'db.service': { active: 'active', sub: 'running' }, 'web.service': { active: 'inactive', sub: 'dead' } })
    const upgrade: Change = { id: 'apt:install:db', provider: 'apt', category: 'packages', operation: 'install', resource: 'db', summary: 'install db 2.0 (live 1.0)', risk: 'medium' }
    const changes: Change[] = [upgrade, ...diffSystemdState(desired, actual).changes]
    const stop = changes.find((c) => c.id === 'systemd:stop:db.service')
    assert.equal(stop?.removal, undefined)
    const graph = buildPlanGraph(changes)
    assert.deepEqual(waves(graph.changes, graph.edges).map((w) => w.map((c) => c.id)), [['apt:install:db'], ['systemd:stop:db.service', 'systemd:start:web.service']])
    // In one wave the provider stops before it starts.
    const { SYSTEMD_OPERATIONS } = await import('../src/change.js')
    assert.ok(SYSTEMD_OPERATIONS.indexOf('stop') < SYSTEMD_OPERATIONS.indexOf('start'))
  })

  it('a plan that deletes a unit\'s file and enables or starts the unit is an error with a next step; one that only loses the file is not', async () => {
    const del = (path: string): Change => ({ id: `files:delete:${path}`, provider: 'files', category: 'files', operation: 'delete', resource: path, summary: `delete ${path}`, risk: 'high', removal: true, data: { action: 'delete', path } })
    const desired = state({ 'web.service': { state: 'enabled' }, 'kept.service': { state: 'enabled' } }, { 'web.service': { active: 'active', sub: 'running' }, 'kept.service': { active: 'active', sub: 'running' } })
    const actual = state({ 'web.service': { state: 'disabled', hash: 'sha256:w' }, 'kept.service': { state: 'enabled', hash: 'sha256:k' } }, { 'web.service': { active: 'inactive', sub: 'dead' }, 'kept.service': { active: 'active', sub: 'running' } })
    const changes: Change[] = [del('/etc/systemd/system/web.service'), del('/etc/systemd/system/kept.service'), ...diffSystemdState(desired, actual).changes]
    const provider = new SystemdProvider()
    changes.push(...(await provider.followUps({ changes, actual, ctx: createTestContext(root) })))
    const said = await provider.reviewPlan({ changes, actual, ctx: createTestContext(root) })
    assert.deepEqual(said.map((d) => [d.code, d.severity, d.path, d.change]), [
      ['SYSTEMD_UNIT_FILE_CONTRADICTION', 'error', 'web.service', 'systemd:enable:web.service'],
      ['SYSTEMD_UNIT_FILE_CONTRADICTION', 'error', 'web.service', 'systemd:start:web.service'],
    ])
    assert.match(said[0]?.summary ?? '', /deletes web\.service's unit file \/etc\/systemd\/system\/web\.service and enables web\.service/)
    assert.match(said[0]?.detail ?? '', /Keep the unit file in the twin \(filesystem\/etc\/systemd\/system\/web\.service\), or set web\.service "disabled"/)
  })

  it('leaving out the delete of a unit\'s file leaves out the stop and disable made for it; leaving out the stop keeps the file', async () => {
    const path = '/etc/systemd/system/web.service'
    const deletion: Change = { id: `files:delete:${path}`, provider: 'files', category: 'files', operation: 'delete', resource: path, summary: `delete ${path}`, risk: 'high', removal: true, data: { action: 'delete', path } }
    const actual = state({ 'web.service': { state: 'enabled', hash: 'sha256:w' } }, { 'web.service': { active: 'active', sub: 'running' } })
    const changes: Change[] = [deletion, write('/etc/motd')]
    changes.push(...(await new SystemdProvider().followUps({ changes, actual, ctx: createTestContext(root) })))
    assert.deepEqual(changes.map((c) => [c.id, c.madeFor]), [
      [deletion.id, undefined],
      ['files:replace:/etc/motd', undefined],
      ['systemd:stop:web.service', [deletion.id]],
      ['systemd:disable:web.service', [deletion.id]],
      ['systemd:daemon-reload:manager', [deletion.id]],
    ])
    assert.deepEqual(deletion.requires, ['systemd:stop:web.service', 'systemd:disable:web.service'])
    const graph = buildPlanGraph(changes)
    const plan: Plan = { formatVersion: PLAN_FORMAT_VERSION, createdAt: '2026-12-03T07:00:00.000Z', basis: { twinCommit: null, root: '/', fingerprints: {} }, changes: graph.changes, edges: graph.edges, diagnostics: [] }
    assert.deepEqual(excludeChanges(plan, [deletion.id]).plan.changes.map((c) => c.id), ['files:replace:/etc/motd'])
    assert.deepEqual(excludeChanges(plan, ['systemd:stop:web.service']).alsoExcluded, [deletion.id, 'systemd:disable:web.service', 'systemd:daemon-reload:manager'])
  })
})
