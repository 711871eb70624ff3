import { strict as assert } from 'node:assert'
import { diffSystemdState } from '../src/diff.js'
import type { SystemdState, UnitEntry } from '../src/state.js'

const state = (units: Record<string, UnitEntry>, runtime?: SystemdState['runtime']): SystemdState => ({
  units,
  ...(runtime === undefined ? {} : { runtime }),
  startup: { wantedAtBoot: [], enabledTimers: [] },
})

describe('systemd diff', () => {
  it('is empty for equal states', () => {
    const s = state({ 'cron.service': { state: 'enabled', preset: 'enabled' } }, { 'cron.service': { active: 'active', sub: 'running' } })
    assert.deepEqual(diffSystemdState(s, structuredClone(s)), { changes: [], diagnostics: [] })
  })

  it('plans enable, disable, mask, and an unmask that ends in the twin\'s state as one change', () => {
    const { changes } = diffSystemdState(
      state({ 'a.service': { state: 'enabled' }, 'b.service': { state: 'disabled' }, 'c.service': { state: 'masked' }, 'd.service': { state: 'enabled' }, 'e.service': { state: 'static' }, 'f.service': { state: 'disabled' }, 'g.service': { state: 'masked' } }),
      state({ 'a.service': { state: 'disabled' }, 'b.service': { state: 'enabled' }, 'c.service': { state: 'enabled' }, 'd.service': { state: 'masked' }, 'e.service': { state: 'static' }, 'f.service': { state: 'masked' }, 'g.service': { state: 'disabled' } }),
    )
    assert.deepEqual(changes.map((c) => [c.id, c.summary, c.before, c.after, c.data, c.requires]), [
      ['systemd:enable:a.service', 'enable a.service', 'disabled', 'enabled', { unit: 'a.service' }, undefined],
      ['systemd:disable:b.service', 'disable b.service', 'enabled', 'disabled', { unit: 'b.service' }, undefined],
      ['systemd:mask:c.service', 'mask c.service', 'enabled', 'masked', { unit: 'c.service' }, undefined],
      ['systemd:unmask:d.service', 'unmask and enable d.service', 'masked', 'enabled', { unit: 'd.service', after: 'enabled' }, undefined],
      ['systemd:unmask:f.service', 'unmask f.service, leaving it disabled', 'masked', 'disabled', { unit: 'f.service', after: 'disabled' }, undefined],
      ['systemd:mask:g.service', 'mask g.service', 'disabled', 'masked', { unit: 'g.service' }, undefined],
    ])
    assert.ok(changes.every((c) => c.provider === 'systemd' && c.category === 'services'))
  })

  it('offline, runtime differences become a diagnostic, not changes', () => {
    const { changes, diagnostics } = diffSystemdState(state({}, { 'cron.service': { active: 'active', sub: 'running' } }), state({}))
    assert.deepEqual(changes, [])
    assert.deepEqual(diagnostics.map((d) => d.code), ['SYSTEMD_RUNTIME_OFFLINE'])
  })

  it('live, plans start and stop; a changed unit file brings daemon-reload before enable and a restart', () => {
    const { changes } = diffSystemdState(
      state({ 'web.service': { state: 'enabled', hash: 'sha256:new' }, 'x.service': { state: 'disabled' } }, { 'web.service': { active: 'active', sub: 'running' }, 'x.service': { active: 'inactive', sub: 'dead' }, 'y.service': { active: 'active', sub: 'running' } }),
      state({ 'web.service': { state: 'disabled', hash: 'sha256:old' }, 'x.service': { state: 'disabled' } }, { 'web.service': { active: 'active', sub: 'running' }, 'x.service': { active: 'active', sub: 'running' }, 'y.service': { active: 'failed', sub: 'failed' } }),
    )
    assert.deepEqual(changes.map((c) => [c.id, c.requires]), [
      ['systemd:daemon-reload:manager', undefined],
      ['systemd:enable:web.service', ['systemd:daemon-reload:manager']],
      ['systemd:stop:x.service', undefined],
      ['systemd:start:y.service', ['systemd:daemon-reload:manager']],
      ['systemd:restart:web.service', ['systemd:daemon-reload:manager']],
    ])
    assert.deepEqual(changes[0]?.data, { unit: 'manager', unitFiles: ['/etc/systemd/system/web.service'] })
  })

  it('refuses invalid unit names from the twin as error diagnostics', () => {
    const { changes, diagnostics } = diffSystemdState(state({ 'x; reboot.service': { state: 'enabled' } }), state({}))
    assert.deepEqual(changes, [])
    assert.deepEqual(diagnostics.map((d) => d.code), ['NAME_INVALID'])
  })
})
