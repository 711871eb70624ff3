import { strict as assert } from 'node:assert'
import { diffSystemdState } from '../src/service-diff.js'
import type { SystemdState, UnitEntry } from '../src/service-state.js'

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

  it('plans enable, disable, mask and unmask-then-enable', () => {
    const { changes } = diffSystemdState(
      state({ 'a.service': { state: 'enabled' }, 'b.service': { state: 'disabled' }, 'c.service': { state: 'masked' }, 'd.service': { state: 'enabled' }, 'e.service': { state: 'static' } }),
      state({ 'a.service': { state: 'disabled' }, 'b.service': { state: 'enabled' }, 'c.service': { state: 'disabled' }, 'd.service': { state: 'masked' }, 'e.service': { state: 'static' } }),
    )
    assert.deepEqual(changes.map((c) => [c.id, c.requires]), [
      ['systemd:enable:a.service', undefined],
      ['systemd:disable:b.service', undefined],
      ['systemd:mask:c.service', undefined],
      ['systemd:unmask:d.service', undefined],
      ['systemd:enable:d.service', ['systemd:unmask:d.service']],
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
