import { strict as assert } from 'node:assert'
import type { Change, Plan } from '@twinsync/sdk'
import { PLAN_FORMAT_VERSION } from '@twinsync/sdk'
import { excludeChanges } from '../src/plan/exclude-changes.js'
import { change } from './support/change.js'
import { buildPlanGraph } from '../src/plan/plan-graph.js'


/** A plan the way the planner builds it: the graph, and a fingerprint per change. */
function planOf(changes: Change[]): Plan {
  const graph = buildPlanGraph(changes)
  return {
    formatVersion: PLAN_FORMAT_VERSION,
    createdAt: '2026-11-23T12:00:00.000Z',
    basis: { twinCommit: null, root: '/', fingerprints: Object.fromEntries(changes.map((c) => [c.id, `fp-${c.id}`])) },
    changes: graph.changes,
    edges: graph.edges,
    diagnostics: [],
  }
}

describe('excludeChanges', () => {
  const plan = planOf([
    change('apt:install:nginx', 'packages', 'install'),
    change('files:create:/etc/app', 'files', 'create'),
    change('files:create:/etc/app/app.conf', 'files', 'create', { requires: ['files:create:/etc/app'] }),
    change('files:create:/etc/app/conf.d/x.conf', 'files', 'create', { requires: ['files:create:/etc/app/app.conf'] }),
    change('systemd:daemon-reload', 'services', 'daemon-reload'),
    change('systemd:enable:nginx.service', 'services', 'enable', { requires: ['systemd:daemon-reload'] }),
    change('files:replace:/etc/motd', 'files', 'replace'),
  ])

  it('removes the chosen change, its edges and its fingerprint', () => {
    const { plan: out, alsoExcluded } = excludeChanges(plan, ['files:replace:/etc/motd'])
    assert.deepEqual(alsoExcluded, [])
    assert.ok(!out.changes.some((c) => c.id === 'files:replace:/etc/motd'))
    assert.equal(out.changes.length, plan.changes.length - 1)
    assert.ok(!out.edges.some((e) => e.from === 'files:replace:/etc/motd' || e.to === 'files:replace:/etc/motd'))
    assert.equal(out.basis.fingerprints['files:replace:/etc/motd'], undefined)
    assert.equal(out.basis.fingerprints['apt:install:nginx'], 'fp-apt:install:nginx')
  })

  it('also leaves out every change that requires it, transitively, and says which', () => {
    const { plan: out, alsoExcluded } = excludeChanges(plan, ['files:create:/etc/app'])
    assert.deepEqual(alsoExcluded, ['files:create:/etc/app/app.conf', 'files:create:/etc/app/conf.d/x.conf'])
    assert.deepEqual(
      out.changes.map((c) => c.id),
      ['apt:install:nginx', 'systemd:daemon-reload', 'systemd:enable:nginx.service', 'files:replace:/etc/motd'],
    )
    for (const e of out.edges) {
      assert.ok(out.changes.some((c) => c.id === e.from) && out.changes.some((c) => c.id === e.to), `${e.from} → ${e.to} is dangling`)
    }
  })

  it('does not follow ordering-only edges (packages before services is not a dependency)', () => {
    assert.ok(plan.edges.some((e) => e.from === 'apt:install:nginx' && !e.reason.endsWith('requires it')), 'the plan has ordering edges')
    const { plan: out, alsoExcluded } = excludeChanges(plan, ['apt:install:nginx'])
    assert.deepEqual(alsoExcluded, [])
    assert.equal(out.changes.length, plan.changes.length - 1)
    assert.ok(out.changes.some((c) => c.id === 'systemd:enable:nginx.service'))
  })

  it('leaves the given plan alone, ignores unknown ids, and with nothing chosen returns the same changes', () => {
    const before = JSON.stringify(plan)
    excludeChanges(plan, ['files:create:/etc/app', 'no:such:change'])
    assert.equal(JSON.stringify(plan), before)
    const { plan: same, alsoExcluded } = excludeChanges(plan, ['no:such:change'])
    assert.deepEqual(same, plan)
    assert.deepEqual(alsoExcluded, [])
  })

  it('a dependent chosen by the user too is not reported as "also" left out', () => {
    const { alsoExcluded } = excludeChanges(plan, ['systemd:daemon-reload', 'systemd:enable:nginx.service'])
    assert.deepEqual(alsoExcluded, [])
  })

  it('leaves out what is made only for left-out changes (a unit\'s stop and disable for the delete of its file), not what the twin asked for itself', () => {
    const del = (unit: string) => `files:delete:/etc/systemd/system/${unit}`
    const withMade = planOf([
      change(del('a.service'), 'files', 'delete', { removal: true, requires: ['systemd:stop:a.service', 'systemd:disable:a.service'] }),
      change(del('b.service'), 'files', 'delete', { removal: true, requires: ['systemd:disable:b.service'] }),
      change('systemd:stop:a.service', 'services', 'stop', { removal: true, madeFor: [del('a.service')] }),
      change('systemd:disable:a.service', 'services', 'disable', { removal: true, madeFor: [del('a.service')] }),
      // The twin asked for this disable itself: it stays when the delete goes.
      change('systemd:disable:b.service', 'services', 'disable', { removal: true }),
      change('systemd:daemon-reload:manager', 'services', 'daemon-reload', { madeFor: [del('a.service'), del('b.service')] }),
    ])
    const one = excludeChanges(withMade, [del('a.service')])
    assert.deepEqual(one.alsoExcluded, ['systemd:stop:a.service', 'systemd:disable:a.service'])
    const both = excludeChanges(withMade, [del('a.service'), del('b.service')])
    assert.deepEqual(both.alsoExcluded, ['systemd:stop:a.service', 'systemd:disable:a.service', 'systemd:daemon-reload:manager'])
    assert.deepEqual(both.plan.changes.map((c) => c.id), ['systemd:disable:b.service'])
    // The other way: leaving out the stop keeps the file (the delete requires it), and so its disable.
    const stop = excludeChanges(withMade, ['systemd:stop:a.service'])
    assert.deepEqual(stop.alsoExcluded, [del('a.service'), 'systemd:disable:a.service'])
  })
})
