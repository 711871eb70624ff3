import { strict as assert } from 'node:assert'
import { isTwinSyncError } from '@twinsync/sdk'
import { change } from './support/change.js'
import { buildPlanGraph, findCycle, waves } from '../src/plan/plan-graph.js'


describe('plan graph', () => {
  it('orders packages, then files, then services, then removals, then commands', () => {
    const changes = [
      change('commands:plans/a.yaml#1', 'commands', 'run', { data: { phase: 'after' } }),
      change('systemd:enable:nginx.service', 'services', 'enable'),
      change('files:replace:/etc/nginx/nginx.conf', 'files', 'replace'),
      change('apt:install:nginx', 'packages', 'install'),
      change('apt:remove:apache2', 'packages', 'remove'),
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
