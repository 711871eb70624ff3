import { strict as assert } from 'node:assert'
import type { Change } from '@twinsync/sdk'
import { diffSystemdState } from '../src/diff.js'
import { unitsWhoseFilesGo } from '../src/units-leaving.js'
import { absentUnits, keptAsTheTwinSays } from '../src/units-installed.js'
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

  it('masks until reboot (masked-runtime): unmask takes every mask away, masks for good or until reboot as the twin says', () => {
    const twin = { 'a.service': { state: 'enabled' }, 'b.service': { state: 'disabled' }, 'c.service': { state: 'masked' }, 'd.service': { state: 'masked-runtime' }, 'e.service': { state: 'masked-runtime' }, 'f.service': { state: 'static' } }
    const machine = { 'a.service': { state: 'masked-runtime' }, 'b.service': { state: 'masked-runtime' }, 'c.service': { state: 'masked-runtime' }, 'd.service': { state: 'enabled' }, 'e.service': { state: 'masked' }, 'f.service': { state: 'masked-runtime' } }
    const live = diffSystemdState(state(twin, {}), state(machine, {}))
    assert.deepEqual(live.changes.map((c) => [c.id, c.summary, c.before, c.after, c.data]), [
      ['systemd:unmask:a.service', 'unmask a.service (masked until reboot) and enable it', 'masked-runtime', 'enabled', { unit: 'a.service', after: 'enabled' }],
      ['systemd:unmask:b.service', 'unmask b.service (masked until reboot), leaving it disabled', 'masked-runtime', 'disabled', { unit: 'b.service', after: 'disabled' }],
      ['systemd:mask:c.service', 'mask c.service for good (it is masked only until reboot now)', 'masked-runtime', 'masked', { unit: 'c.service' }],
      ['systemd:mask:d.service', 'mask d.service until reboot', 'enabled', 'masked-runtime', { unit: 'd.service', runtime: true }],
      ['systemd:mask:e.service', 'mask e.service only until reboot (it is masked for good now)', 'masked', 'masked-runtime', { unit: 'e.service', runtime: true }],
      ['systemd:unmask:f.service', 'unmask f.service (masked until reboot)', 'masked-runtime', 'static', { unit: 'f.service' }],
    ])
    assert.deepEqual(live.diagnostics, [])
    // Offline, a mask until reboot is not planned (a booted root gets a fresh /run): one note per unit says so.
    const offline = diffSystemdState(state(twin), state(machine))
    assert.deepEqual(offline.changes.map((c) => c.id), ['systemd:unmask:a.service', 'systemd:unmask:b.service', 'systemd:mask:c.service', 'systemd:unmask:f.service'])
    assert.deepEqual(offline.diagnostics.map((d) => [d.code, d.severity, d.path]), [['SYSTEMD_RUNTIME_MASK_OFFLINE', 'info', 'd.service'], ['SYSTEMD_RUNTIME_MASK_OFFLINE', 'info', 'e.service']])
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

  it('a unit file the twin holds is the files provider\'s to compare: its hash in units.json (older than an edit of the file) plans no daemon-reload nor restart', () => {
    const twin = state({ 'web.service': { state: 'enabled', hash: 'sha256:before-the-edit' } }, { 'web.service': { active: 'active', sub: 'running' } })
    const machine = state({ 'web.service': { state: 'enabled', hash: 'sha256:edited-and-applied' } }, { 'web.service': { active: 'active', sub: 'running' } })
    assert.deepEqual(diffSystemdState(twin, machine, new Set(['web.service'])).changes, [])
    // A unit file the twin does not hold: the hash is all it has (as before).
    assert.deepEqual(diffSystemdState(twin, machine, new Set(['other.service'])).changes.map((c) => c.id), ['systemd:daemon-reload:manager', 'systemd:restart:web.service'])
  })

  it('an old twin that recorded a unit systemd-run made as running: no start (systemd cannot start it), said once', () => {
    const twin = state({ 'squat.service': { state: 'transient' }, 'cron.service': { state: 'enabled' } }, { 'squat.service': { active: 'active', sub: 'running' }, 'cron.service': { active: 'active', sub: 'running' } })
    const machine = state({ 'cron.service': { state: 'enabled' } }, { 'cron.service': { active: 'inactive', sub: 'dead' } })
    const { changes, diagnostics } = diffSystemdState(twin, machine)
    assert.deepEqual(changes.map((c) => c.id), ['systemd:start:cron.service'])
    assert.deepEqual(diagnostics.map((d) => [d.code, d.severity, d.path]), [['SYSTEMD_TRANSIENT_NOT_STARTED', 'info', 'squat.service']])
  })

  it('a unit the twin keeps disabled and stopped that the machine has not got: stopped and disabled after a plan\'s package installs, if they bring it', () => {
    const twin = state(
      { 'demo.service': { state: 'disabled' }, 'up.service': { state: 'enabled' }, 'gone@.service': { state: 'disabled' }, 'here.service': { state: 'disabled' }, 'off.service': { state: 'masked' } },
      { 'demo.service': { active: 'inactive', sub: 'dead' }, 'up.service': { active: 'active', sub: 'running' }, 'here.service': { active: 'inactive', sub: 'dead' }, 'off.service': { active: 'inactive', sub: 'dead' } },
    )
    const machine = state({ 'here.service': { state: 'disabled' } }, { 'here.service': { active: 'inactive', sub: 'dead' } })
    const absent = absentUnits(twin, machine)
    assert.deepEqual(absent, [
      { unit: 'demo.service', disabled: true, stopped: true },
      { unit: 'off.service', disabled: false, stopped: true },
    ])
    // The diff itself plans nothing for them: there is nothing to stop or disable before the install.
    assert.deepEqual(diffSystemdState(twin, machine).changes.map((c) => c.id), ['systemd:mask:off.service', 'systemd:enable:up.service', 'systemd:start:up.service'])
    const install: Change = { id: 'apt:install:demo', provider: 'apt', category: 'packages', operation: 'install', resource: 'demo', summary: 'install demo', risk: 'medium' }
    const kept = keptAsTheTwinSays(absent, [install])
    assert.deepEqual(kept.map((c) => [c.id, c.risk, c.removal, c.madeFor, c.data]), [
      ['systemd:disable:demo.service', 'medium', undefined, ['apt:install:demo'], { unit: 'demo.service', afterInstall: true }],
      ['systemd:stop:demo.service', 'medium', undefined, ['apt:install:demo'], { unit: 'demo.service', afterInstall: true }],
      ['systemd:stop:off.service', 'medium', undefined, ['apt:install:demo'], { unit: 'off.service', afterInstall: true }],
    ])
    assert.match(kept[1]?.summary ?? '', /^stop demo\.service if a package this plan installs starts it/)
    // No package installed, nothing to keep; a package removal installs nothing; offline, no stop.
    assert.deepEqual(keptAsTheTwinSays(absent, []), [])
    assert.deepEqual(keptAsTheTwinSays(absent, [{ ...install, id: 'apt:remove:x', operation: 'remove', removal: true, risk: 'high' }]), [])
    assert.deepEqual(absentUnits(state(twin.units, twin.runtime), state(machine.units)).map((a) => [a.unit, a.stopped]), [['demo.service', false]])
  })

  it('refuses invalid unit names from the twin as error diagnostics', () => {
    const { changes, diagnostics } = diffSystemdState(state({ 'x; reboot.service': { state: 'enabled' } }), state({}))
    assert.deepEqual(changes, [])
    assert.deepEqual(diagnostics.map((d) => d.code), ['NAME_INVALID'])
  })

  // Session 21: from the plan's deletes (units-leaving.ts), not from what the twin lists: a unit
  // whose units.json entry stays while its file goes is stopped and disabled too; one whose file
  // the files provider keeps (ignored, secret) is left as it is; an existing disable is marked.
  it('stops and disables an administrator unit whose file the plan deletes, before its file goes, and reloads after', () => {
    const machine = state(
      { 'gone.timer': { state: 'enabled', hash: 'sha256:t' }, 'gone.service': { state: 'static', hash: 'sha256:s' }, 'kept.service': { state: 'enabled', hash: 'sha256:k' }, 'listed.service': { state: 'enabled', hash: 'sha256:l' }, 'old.service': { state: 'enabled', hash: 'sha256:o' } },
      { 'gone.timer': { active: 'active', sub: 'waiting' }, 'gone.service': { active: 'inactive', sub: 'dead' }, 'kept.service': { active: 'active', sub: 'running' }, 'listed.service': { active: 'active', sub: 'running' }, 'old.service': { active: 'inactive', sub: 'dead' } },
    )
    const del = (path: string, below?: string[]): Change => ({ id: `files:delete:${path}`, provider: 'files', category: 'files', operation: 'delete', resource: path, summary: `Delete ${path}`, risk: 'high', data: { action: 'delete', path, ...(below === undefined ? {} : { below: below.map((p) => ({ path: p, liveFingerprint: 'x' })) }) } })
    const disableOld: Change = { id: 'systemd:disable:old.service', provider: 'systemd', category: 'services', operation: 'disable', resource: 'old.service', summary: 'disable old.service', risk: 'medium', data: { unit: 'old.service' } }
    const changes = [del('/etc/systemd/system/gone.timer'), del('/etc/systemd/system/gone.service'), del('/etc/systemd/system/listed.service'), del('/etc/systemd/system/old.service'), disableOld]
    const added = unitsWhoseFilesGo({ changes, actual: machine })
    assert.deepEqual(added.map((c) => [c.id, c.summary, c.risk, c.removal, c.before, c.after]), [
      ['systemd:stop:gone.timer', 'stop gone.timer: this plan deletes its unit file /etc/systemd/system/gone.timer', 'high', true, 'active', 'inactive'],
      ['systemd:disable:gone.timer', 'disable gone.timer: this plan deletes its unit file /etc/systemd/system/gone.timer', 'high', true, 'enabled', 'disabled'],
      ['systemd:stop:listed.service', 'stop listed.service: this plan deletes its unit file /etc/systemd/system/listed.service', 'high', true, 'active', 'inactive'],
      ['systemd:disable:listed.service', 'disable listed.service: this plan deletes its unit file /etc/systemd/system/listed.service', 'high', true, 'enabled', 'disabled'],
      ['systemd:daemon-reload:manager', 'reload systemd after unit file changes (gone.service, gone.timer, listed.service, old.service)', 'low', undefined, undefined, undefined],
    ])
    assert.equal(disableOld.removal, true, 'the disable the twin asked for runs before the file goes')
    // A folder's delete names the unit files below it; offline: no stop, no reload, the disable still.
    const offline = unitsWhoseFilesGo({ changes: [del('/etc/systemd/system', ['/etc/systemd/system/kept.service', '/etc/systemd/system/multi-user.target.wants/kept.service'])], actual: state(machine.units) })
    assert.deepEqual(offline.map((c) => c.id), ['systemd:disable:kept.service'])
    // The diff itself no longer guesses from the twin's listing: nothing for units it does not list.
    assert.deepEqual(diffSystemdState(state({}, {}), machine).changes, [])
  })
})
