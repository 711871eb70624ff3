import { strict as assert } from 'node:assert'
import { diffSystemdState } from '../src/diff.js'
import type { SystemdState } from '../src/state.js'
import { unappliedSystemdPlaces } from '../src/unapplied.js'

/**
 * The places of an edit of units.json or runtime.json that the plan turns into nothing (a state
 * no systemctl verb makes, a unit taken out): named so the edit stays pending instead of being
 * written over by the next snapshot. What the plan does apply is never named.
 */
describe('systemd: the edits its plan leaves out', () => {
  const state = (units: Record<string, string>, runtime?: Record<string, string>): SystemdState => ({
    units: Object.fromEntries(Object.entries(units).map(([u, s]) => [u, { state: s }])),
    ...(runtime === undefined ? {} : { runtime: Object.fromEntries(Object.entries(runtime).map(([u, a]) => [u, { active: a, sub: a === 'active' ? 'running' : 'dead' }])) }),
    startup: { wantedAtBoot: [], enabledTimers: [] },
  })
  const places = (desired: SystemdState, actual: SystemdState) =>
    unappliedSystemdPlaces(desired, actual, diffSystemdState(desired, actual).changes).map((p) => `${p.path}#${p.at.join('/')}`)

  it('a state no verb makes (static, alias, indirect, generated, transient) is named; enabled, disabled and masked are planned', () => {
    const actual = state({ 'a.service': 'disabled', 'b.service': 'enabled', 'c.service': 'static', 'd.service': 'enabled', 'e.service': 'enabled', 'f.service': 'enabled', 'g.service': 'disabled' })
    const desired = state({ 'a.service': 'static', 'b.service': 'alias', 'c.service': 'enabled', 'd.service': 'indirect', 'e.service': 'generated', 'f.service': 'transient', 'g.service': 'enabled' })
    assert.deepEqual(places(desired, actual), [
      'system/services/units.json#units/a.service/state',
      'system/services/units.json#units/b.service/state',
      'system/services/units.json#units/c.service/state',
      'system/services/units.json#units/d.service/state',
      'system/services/units.json#units/e.service/state',
      'system/services/units.json#units/f.service/state',
    ])
    assert.deepEqual(places(state({ 'a.service': 'enabled', 'b.service': 'masked', 'c.service': 'disabled' }), state({ 'a.service': 'disabled', 'b.service': 'enabled', 'c.service': 'masked' })), [])
  })

  it('a unit taken out of units.json, or added without a unit file on the machine, is named with what to do instead', () => {
    const found = unappliedSystemdPlaces(state({ 'new.service': 'disabled' }), state({ 'ssh.service': 'enabled' }), [])
    assert.deepEqual(found.map((p) => p.at), [['units', 'new.service', 'state'], ['units', 'ssh.service']])
    assert.match(found[1]?.nextStep ?? '', /changes nothing on the machine: .*"disabled" or "masked"/)
    assert.match(found[0]?.nextStep ?? '', /no unit file on the machine/)
  })

  it('a unit taken out whose file is in system.control or system.attached: told that file, and none when its file goes too (session 28)', () => {
    const actual = state({ 'ctl.service': 'enabled', 'att.service': 'disabled', 'sys.service': 'enabled' })
    actual.units['sys.service'] = { state: 'enabled', hash: 'sha256:1' }
    const observed = new Map([
      ['ctl.service', 'filesystem/etc/systemd/system.control/ctl.service'],
      ['att.service', 'filesystem/etc/systemd/system.attached/att.service'],
      ['sys.service', 'filesystem/etc/systemd/system/sys.service'],
    ])
    // Taken out of units.json, their files kept: each told its own file, never /etc/systemd/system's.
    const kept = unappliedSystemdPlaces(state({}), actual, [], { intended: observed, observed })
    assert.deepEqual(kept.map((p) => p.at), [['units', 'att.service'], ['units', 'ctl.service'], ['units', 'sys.service']])
    assert.match(kept[0]?.nextStep ?? '', /delete its unit file \(filesystem\/etc\/systemd\/system\.attached\/att\.service\)/)
    assert.match(kept[1]?.nextStep ?? '', /delete its unit file \(filesystem\/etc\/systemd\/system\.control\/ctl\.service\)/)
    assert.match(kept[2]?.nextStep ?? '', /delete its unit file \(filesystem\/etc\/systemd\/system\/sys\.service\)/)
    // Their files taken out of the twin too: the files provider deletes them, nothing is left out (system.control's has no hash in units.json).
    assert.deepEqual(unappliedSystemdPlaces(state({}), actual, [], { intended: new Map(), observed }), [])
    // A state edit of a system.control unit no verb makes: told to edit that file.
    const edited = unappliedSystemdPlaces(state({ 'ctl.service': 'static', 'att.service': 'disabled', 'sys.service': 'enabled' }), actual, [], { intended: observed, observed })
    assert.match(edited.find((p) => p.at[1] === 'ctl.service')?.nextStep ?? '', /edit its unit file \(filesystem\/etc\/systemd\/system\.control\/ctl\.service\)/)
  })

  it('runtime: a state no start or stop makes, a unit taken out, and runtime.json on a target without a running manager', () => {
    const actual = state({}, { 'a.service': 'active', 'b.service': 'inactive', 'c.service': 'active' })
    assert.deepEqual(places(state({}, { 'a.service': 'failed', 'b.service': 'active' }), actual), [
      'system/services/runtime.json#units/a.service/sub',
      'system/services/runtime.json#units/a.service/active',
      'system/services/runtime.json#units/c.service',
    ])
    assert.deepEqual(places(state({}, { 'a.service': 'active' }), state({})), ['system/services/runtime.json#'])
  })

  it('runtime "sub": one that follows the planned stop or start is no edit to keep; any other is named (it is what the system reports)', () => {
    const actual = state({}, { 'a.service': 'active', 'b.service': 'inactive', 'c.service': 'active' })
    // A person stops a and starts b, writing "sub" as systemd will report it: nothing left out.
    assert.deepEqual(places(state({}, { 'a.service': 'inactive', 'b.service': 'active', 'c.service': 'active' }), actual), [])
    const runtime = (units: Record<string, [string, string]>): SystemdState => ({ ...state({}), runtime: Object.fromEntries(Object.entries(units).map(([u, [active, sub]]) => [u, { active, sub }])) })
    // A stop that asks for "exited", a start that asks for "failed", and a "sub" edit with no start or stop: named.
    assert.deepEqual(
      places(runtime({ 'a.service': ['inactive', 'exited'], 'b.service': ['active', 'failed'], 'c.service': ['active', 'exited'] }), runtime({ 'a.service': ['active', 'running'], 'b.service': ['inactive', 'dead'], 'c.service': ['active', 'running'] })),
      ['system/services/runtime.json#units/a.service/sub', 'system/services/runtime.json#units/b.service/sub', 'system/services/runtime.json#units/c.service/sub'],
    )
    // A start of a oneshot written as "exited", a timer as "waiting": they follow the start.
    assert.deepEqual(places(runtime({ 'o.service': ['active', 'exited'], 't.timer': ['active', 'waiting'] }), runtime({ 'o.service': ['inactive', 'dead'], 't.timer': ['inactive', 'dead'] })), [])
  })
})
