import { strict as assert } from 'node:assert'
import { isTwinSyncError } from '@twinsync/sdk'
import { change } from './support/change.js'
import { buildPlanGraph, findCycle, waves } from '../src/plan/plan-graph.js'


describe('plan graph', () => {
  it('a graph of 40,000 changes after one grows in proportion: each successor appended, not the list copied (CPU under 4 s; the copies took minutes)', function () {
    this.timeout(300_000)
    // A twin's manifest may ask for tens of thousands of subfolders of one folder: each create
    // requires the folder's. With a copy of the list per edge, reachability and findCycle were
    // quadratic: 30,000 made `plan` spend 24 s of CPU, 100,000 six minutes (session 37).
    const folder = change('files:create:/etc/gen', 'files', 'create')
    const kids = Array.from({ length: 40_000 }, (_, i) => change(`files:create:/etc/gen/d${String(i).padStart(6, '0')}`, 'files', 'create', { requires: [folder.id] }))
    const started = process.cpuUsage()
    const graph = buildPlanGraph([folder, ...kids])
    const order = waves(graph.changes, graph.edges)
    const used = process.cpuUsage(started)
    assert.equal(graph.edges.length, 40_000)
    assert.deepEqual(order.map((w) => w.length), [1, 40_000])
    assert.ok(used.user + used.system < 4_000_000, `${((used.user + used.system) / 1e6).toFixed(1)} s of CPU`)
  })

  it('orders packages, then files, then services, then removals, then commands', () => {
    const changes = [
      change('commands:plans/a.yaml#1', 'commands', 'run', { data: { phase: 'after' } }),
      change('systemd:enable:nginx.service', 'services', 'enable'),
      change('files:replace:/etc/nginx/nginx.conf', 'files', 'replace'),
      change('apt:install:nginx', 'packages', 'install'),
      change('apt:remove:apache2', 'packages', 'remove', { removal: true }),
      change('commands:plans/a.yaml#2', 'commands', 'run', { data: { phase: 'before' } }),
    ]
    const graph = buildPlanGraph(changes)
    const order = waves(graph.changes, graph.edges).map((w) => w.map((c) => c.id))
    assert.deepEqual(order, [
      ['commands:plans/a.yaml#2'],
      ['apt:install:nginx'],
      ['files:replace:/etc/nginx/nginx.conf'],
      ['systemd:enable:nginx.service'],
      ['apt:remove:apache2'],
      ['commands:plans/a.yaml#1'],
    ])
    assert.ok(graph.edges.every((e) => e.reason.length > 0))
  })

  it('marks only the stage edges from the files to the services as order-only; a declared edge over the same pair holds back', () => {
    const changes = [
      change('apt:install:nginx', 'packages', 'install'),
      change('files:replace:/etc/nginx/nginx.conf', 'files', 'replace'),
      change('files:create:/etc/sudoers.d/x', 'files', 'create'),
      change('systemd:reload:nginx.service', 'services', 'reload', { requires: ['files:replace:/etc/nginx/nginx.conf'] }),
      change('systemd:start:cron.service', 'services', 'start'),
      change('apt:remove:telnet', 'packages', 'remove', { removal: true }),
    ]
    const edges = buildPlanGraph(changes).edges.map((e) => `${e.from} > ${e.to}${e.orderOnly === true ? ' (order only)' : ''}`).sort()
    assert.deepEqual(edges, [
      'apt:install:nginx > files:create:/etc/sudoers.d/x',
      'apt:install:nginx > files:replace:/etc/nginx/nginx.conf',
      'files:create:/etc/sudoers.d/x > systemd:reload:nginx.service (order only)',
      'files:create:/etc/sudoers.d/x > systemd:start:cron.service (order only)',
      'files:replace:/etc/nginx/nginx.conf > systemd:reload:nginx.service',
      'files:replace:/etc/nginx/nginx.conf > systemd:start:cron.service (order only)',
      'systemd:reload:nginx.service > apt:remove:telnet',
      'systemd:start:cron.service > apt:remove:telnet',
    ])
  })

  it('stops and disables a unit whose file goes (a services removal) before the files, and reloads the manager after', () => {
    const graph = buildPlanGraph([
      change('files:delete:/etc/systemd/system/gone.timer', 'files', 'delete', { removal: true }),
      change('systemd:daemon-reload:manager', 'services', 'daemon-reload'),
      change('systemd:disable:gone.timer', 'services', 'disable', { removal: true }),
      change('systemd:stop:gone.timer', 'services', 'stop', { removal: true }),
      change('apt:install:hello', 'packages', 'install'),
    ])
    const order = waves(graph.changes, graph.edges).map((w) => w.map((c) => c.id).sort())
    assert.deepEqual(order, [['systemd:disable:gone.timer', 'systemd:stop:gone.timer'], ['apt:install:hello'], ['files:delete:/etc/systemd/system/gone.timer'], ['systemd:daemon-reload:manager']])
  })

  it('recognises a removal by its declaration, not by the operation name (dnf erase)', () => {
    const graph = buildPlanGraph([
      change('dnf:erase:httpd', 'packages', 'erase', { removal: true }),
      change('systemd:disable:httpd.service', 'services', 'disable'),
      change('dnf:install:remove', 'packages', 'remove'),
    ])
    const order = waves(graph.changes, graph.edges).map((w) => w.map((c) => c.id))
    assert.deepEqual(order, [['dnf:install:remove'], ['systemd:disable:httpd.service'], ['dnf:erase:httpd']])
  })

  it('orders a repository file before the package installs that need it (apt and dnf), other files after packages', () => {
    const aptSources = ['/etc/apt/sources.list', '/etc/apt/sources.list.d/', '/etc/apt/keyrings/']
    const graph = buildPlanGraph([
      change('apt:install:tool', 'packages', 'install', { needs: aptSources }),
      change('dnf:install:hello', 'packages', 'install', { needs: ['/etc/yum.repos.d/'] }),
      change('files:create:/etc/apt/sources.list.d/local.list', 'files', 'create', { resource: '/etc/apt/sources.list.d/local.list' }),
      change('files:create:/etc/apt/keyrings/local.gpg', 'files', 'create', { resource: '/etc/apt/keyrings/local.gpg' }),
      change('files:create:/etc/yum.repos.d/local.repo', 'files', 'create', { resource: '/etc/yum.repos.d/local.repo' }),
      change('files:replace:/etc/tool.conf', 'files', 'replace', { resource: '/etc/tool.conf' }),
    ])
    const order = waves(graph.changes, graph.edges).map((w) => w.map((c) => c.id))
    assert.deepEqual(order, [
      ['files:create:/etc/apt/sources.list.d/local.list', 'files:create:/etc/apt/keyrings/local.gpg', 'files:create:/etc/yum.repos.d/local.repo'],
      ['apt:install:tool', 'dnf:install:hello'],
      ['files:replace:/etc/tool.conf'],
    ])
    const reason = graph.edges.find((e) => e.from === 'files:create:/etc/yum.repos.d/local.repo' && e.to === 'dnf:install:hello')?.reason
    assert.match(reason ?? '', /needs \/etc\/yum\.repos\.d\/ in place first/)
    assert.ok(!graph.edges.some((e) => e.from === 'apt:install:tool' && e.to === 'files:create:/etc/yum.repos.d/local.repo'))
  })

  it('a requires edge against the stage order wins instead of making a cycle', () => {
    const graph = buildPlanGraph([
      change('files:create:/etc/yum.repos.d/x.repo', 'files', 'create'),
      change('dnf:install:x', 'packages', 'install', { requires: ['files:create:/etc/yum.repos.d/x.repo'] }),
      change('systemd:enable:x.service', 'services', 'enable', { requires: ['dnf:install:x'] }),
      change('cron:replace:root', 'startup', 'replace'),
    ])
    const order = waves(graph.changes, graph.edges).map((w) => w.map((c) => c.id))
    assert.deepEqual(order, [['files:create:/etc/yum.repos.d/x.repo'], ['dnf:install:x'], ['cron:replace:root'], ['systemd:enable:x.service']])
  })

  it('drops a stage edge that closes a longer cycle with declared edges', () => {
    // install → (stage) → file;  file ⇢ service (declared);  service → (stage) → removal;  removal ⇢ install (declared)
    const graph = buildPlanGraph([
      change('a:install:p', 'packages', 'install', { requires: ['b:remove:q'] }),
      change('files:replace:/etc/p', 'files', 'replace'),
      change('s:restart:p', 'services', 'restart', { requires: ['files:replace:/etc/p'] }),
      change('b:remove:q', 'packages', 'remove', { removal: true }),
    ])
    assert.equal(findCycle(graph.changes.map((c) => c.id), graph.edges), undefined)
    assert.ok(graph.edges.some((e) => e.from === 'b:remove:q' && e.to === 'a:install:p'))
  })

  it('keeps independent changes of one stage in one wave, and honours provider requires', () => {
    const graph = buildPlanGraph([
      change('files:mkdir:/etc/app', 'files', 'mkdir'),
      change('files:create:/etc/app/a.conf', 'files', 'create', { requires: ['files:mkdir:/etc/app'] }),
      change('files:replace:/etc/hosts', 'files', 'replace'),
      change('cron:replace:root', 'startup', 'replace'),
    ])
    const order = waves(graph.changes, graph.edges).map((w) => w.map((c) => c.id))
    assert.deepEqual(order, [['files:mkdir:/etc/app', 'files:replace:/etc/hosts', 'cron:replace:root'], ['files:create:/etc/app/a.conf']])
  })

  it('reports a requirement on a change that is not in the plan', () => {
    const graph = buildPlanGraph([change('a:x:1', 'files', 'x', { requires: ['gone'] })])
    assert.match(graph.diagnostics[0]?.summary ?? '', /requires gone/)
  })

  it('refuses a cycle and names the changes in it', () => {
    const a = change('files:a', 'files', 'x', { requires: ['files:b'] })
    const b = change('files:b', 'files', 'x', { requires: ['files:a'] })
    assert.throws(
      () => buildPlanGraph([a, b]),
      (e: unknown) => isTwinSyncError(e) && e.code === 'PLAN_CYCLE' && /files:a → files:b → files:a/.test(e.message),
    )
    assert.equal(findCycle(['x', 'y'], [{ from: 'x', to: 'y', reason: '' }]), undefined)
  })

  it('refuses two changes with one id', () => {
    assert.throws(() => buildPlanGraph([change('a:b', 'files', 'x'), change('a:b', 'files', 'x')]), (e: unknown) => isTwinSyncError(e) && e.code === 'PLAN_INVALID')
  })
})
