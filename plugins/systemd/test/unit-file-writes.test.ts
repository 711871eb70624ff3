import { strict as assert } from 'node:assert'
import type { Change } from '@twinsync/sdk'
import { DAEMON_RELOAD_ID } from '../src/change.js'
import type { SystemdState, UnitEntry } from '../src/state.js'
import { oneRestartEach, reloadsForUnitFileWrites } from '../src/unit-file-writes.js'
import { unitFileContradictions, unitsKeepingAFile, unitsWhoseFilesGo } from '../src/units-leaving.js'

const state = (units: Record<string, UnitEntry>, runtime?: SystemdState['runtime']): SystemdState => ({
  units,
  ...(runtime === undefined ? {} : { runtime }),
  startup: { wantedAtBoot: [], enabledTimers: [] },
})
const file = (action: 'write' | 'delete', path: string, below?: string[]): Change => ({
  id: `files:${action === 'write' ? 'create' : 'delete'}:${path}`,
  provider: 'files',
  category: 'files',
  operation: action === 'write' ? 'create' : 'delete',
  resource: path,
  summary: `${action} ${path}`,
  risk: 'high',
  data: { action, path, ...(below === undefined ? {} : { below: below.map((p) => ({ path: p })) }) },
})
const machine = state(
  { 'nginx.service': { state: 'enabled' }, 'getty@.service': { state: 'static' }, 'mine.service': { state: 'enabled', hash: 'sha256:m' }, 'cron.service': { state: 'enabled' } },
  {
    'nginx.service': { active: 'active', sub: 'running' },
    'getty@tty1.service': { active: 'active', sub: 'running' },
    'getty@tty2.service': { active: 'inactive', sub: 'dead' },
    'mine.service': { active: 'active', sub: 'running' },
    'cron.service': { active: 'inactive', sub: 'dead' },
  },
)

describe('systemd: unit files and drop-ins a plan writes', () => {
  it('reloads the manager after a drop-in, and restarts the running services it configures after the reload and the file', () => {
    const dropIn = file('write', '/etc/systemd/system/nginx.service.d/limits.conf')
    const template = file('write', '/etc/systemd/system/getty@.service.d/noclear.conf')
    const stopped = file('write', '/etc/systemd/system/cron.service.d/x.conf')
    const added = reloadsForUnitFileWrites({ changes: [dropIn, template, stopped], actual: machine })
    assert.deepEqual(added.map((c) => [c.id, c.summary, c.requires, c.madeFor]), [
      [DAEMON_RELOAD_ID, 'reload systemd after unit file changes (cron.service.d/x.conf, getty@.service.d/noclear.conf, nginx.service.d/limits.conf)', undefined, [dropIn.id, template.id, stopped.id].sort()],
      ['systemd:restart:getty@tty1.service', 'restart getty@tty1.service to run its changed unit file (/etc/systemd/system/getty@.service.d/noclear.conf)', [DAEMON_RELOAD_ID, template.id], [template.id]],
      ['systemd:restart:nginx.service', 'restart nginx.service to run its changed unit file (/etc/systemd/system/nginx.service.d/limits.conf)', [DAEMON_RELOAD_ID, dropIn.id], [dropIn.id]],
    ])
  })

  it("the enable and start of a unit require the write of its unit file, a start its drop-in's, also offline; live, the daemon-reload too; a stop does not", () => {
    const services = (operation: string, unit: string): Change => ({ id: `systemd:${operation}:${unit}`, provider: 'systemd', category: 'services', operation, resource: unit, summary: `${operation} ${unit}`, risk: 'medium' })
    for (const actual of [machine, state(machine.units)]) {
      const unitFile = file('write', '/etc/systemd/system.control/new.service')
      const dropIn = file('write', '/etc/systemd/system/cron.service.d/x.conf')
      const template = file('write', '/etc/systemd/system/worker@.service')
      const planned = [services('enable', 'new.service'), services('start', 'new.service'), services('enable', 'cron.service'), services('start', 'cron.service'), services('start', 'worker@a.service'), services('stop', 'other.service')]
      reloadsForUnitFileWrites({ changes: [unitFile, dropIn, template, ...planned], actual })
      // Live, after the manager read them too (session 29: the diff's hash route ordered them before; it no longer does for a file the twin holds).
      const reload = actual.runtime === undefined ? [] : [DAEMON_RELOAD_ID]
      assert.deepEqual(planned.map((c) => [c.id, c.requires]), [
        ['systemd:enable:new.service', [unitFile.id, ...reload]],
        ['systemd:start:new.service', [unitFile.id, ...reload]],
        ['systemd:enable:cron.service', undefined],
        ['systemd:start:cron.service', [dropIn.id, ...reload]],
        ['systemd:start:worker@a.service', [template.id, ...reload]],
        ['systemd:stop:other.service', undefined],
      ], actual.runtime === undefined ? 'offline' : 'live')
    }
  })

  // Session 26: systemd loads drop-ins from set-property's /etc/systemd/system.control (first of
  // all) and portable services' system.attached too; one written there was left for a later reload.
  it('a drop-in in /etc/systemd/system.control or system.attached reloads and restarts as one in /etc/systemd/system does', () => {
    const control = file('write', '/etc/systemd/system.control/nginx.service.d/50-x.conf')
    const attached = file('write', '/etc/systemd/system.attached/mine.service.d/y.conf')
    assert.deepEqual(reloadsForUnitFileWrites({ changes: [control, attached], actual: machine }).map((c) => [c.id, c.requires]), [
      [DAEMON_RELOAD_ID, undefined],
      ['systemd:restart:mine.service', [DAEMON_RELOAD_ID, attached.id]],
      ['systemd:restart:nginx.service', [DAEMON_RELOAD_ID, control.id]],
    ])
    assert.deepEqual(reloadsForUnitFileWrites({ changes: [file('write', '/etc/systemd/system.conf.d/x.conf')], actual: machine }), [])
  })

  it("a drop-in folder's delete reloads and restarts; a type's drop-in only reloads; offline, nothing", () => {
    const gone = file('delete', '/etc/systemd/system/nginx.service.d', ['/etc/systemd/system/nginx.service.d/limits.conf'])
    assert.deepEqual(reloadsForUnitFileWrites({ changes: [gone], actual: machine }).map((c) => c.id), [DAEMON_RELOAD_ID, 'systemd:restart:nginx.service'])
    assert.deepEqual(reloadsForUnitFileWrites({ changes: [file('write', '/etc/systemd/system/service.d/all.conf')], actual: machine }).map((c) => c.id), [DAEMON_RELOAD_ID])
    assert.deepEqual(reloadsForUnitFileWrites({ changes: [file('write', '/etc/systemd/system/nginx.service.d/limits.conf')], actual: state(machine.units) }), [])
    assert.deepEqual(reloadsForUnitFileWrites({ changes: [file('write', '/etc/nginx/nginx.conf')], actual: machine }), [])
  })

  it("a running service's own unit file rewritten: restarted after the diff's reload; one reload with every file, made for both", () => {
    const unitFile = file('write', '/etc/systemd/system/mine.service')
    const reload: Change = { id: DAEMON_RELOAD_ID, provider: 'systemd', category: 'services', operation: 'daemon-reload', resource: 'manager', summary: 'reload systemd after unit file changes (mine.service)', risk: 'low', data: { unit: 'manager', unitFiles: ['/etc/systemd/system/mine.service'] } }
    const added = reloadsForUnitFileWrites({ changes: [unitFile, reload], actual: machine })
    assert.deepEqual(added.map((c) => [c.id, c.requires]), [['systemd:restart:mine.service', [DAEMON_RELOAD_ID, unitFile.id]]])

    // With a unit file's delete (units-leaving.ts made the reload for it), the drop-in joins that reload.
    const gone = file('delete', '/etc/systemd/system/mine.service')
    const dropIn = file('write', '/etc/systemd/system/nginx.service.d/limits.conf')
    const leaving = unitsWhoseFilesGo({ changes: [gone, dropIn], actual: machine })
    const more = reloadsForUnitFileWrites({ changes: [gone, dropIn, ...leaving], actual: machine })
    const joined = leaving.find((c) => c.id === DAEMON_RELOAD_ID) as Change
    assert.deepEqual(joined.data, { unit: 'manager', unitFiles: ['/etc/systemd/system/mine.service', '/etc/systemd/system/nginx.service.d/limits.conf'] })
    assert.deepEqual(joined.madeFor, [gone.id, dropIn.id].sort())
    assert.deepEqual(more.map((c) => c.id), ['systemd:restart:nginx.service'])
  })

  // Session 27: a whole unit file in system.control or system.attached (any folder of the unit
  // path) was not reloaded after its write, and its unit was left running when it was deleted.
  it('a whole unit file in /etc/systemd/system.control or system.attached: reloaded and restarted when written, stopped, disabled and reloaded when deleted', () => {
    const control = file('write', '/etc/systemd/system.control/nginx.service')
    const attached = file('write', '/etc/systemd/system.attached/fresh.service')
    const written = reloadsForUnitFileWrites({ changes: [control, attached], actual: machine })
    assert.deepEqual(written.map((c) => [c.id, c.summary, c.requires, c.madeFor]), [
      [DAEMON_RELOAD_ID, 'reload systemd after unit file changes (/etc/systemd/system.attached/fresh.service, /etc/systemd/system.control/nginx.service)', undefined, [attached.id, control.id].sort()],
      ['systemd:restart:nginx.service', 'restart nginx.service to run its changed unit file (/etc/systemd/system.control/nginx.service)', [DAEMON_RELOAD_ID, control.id], [control.id]],
    ])
    const gone = file('delete', '/etc/systemd/system.control/nginx.service')
    const leaving = unitsWhoseFilesGo({ changes: [gone], actual: machine })
    assert.deepEqual(leaving.map((c) => [c.id, c.removal, c.madeFor]), [
      ['systemd:stop:nginx.service', true, [gone.id]],
      ['systemd:disable:nginx.service', true, [gone.id]],
      [DAEMON_RELOAD_ID, undefined, [gone.id]],
    ])
    assert.deepEqual(gone.requires, ['systemd:stop:nginx.service', 'systemd:disable:nginx.service'])
    const start: Change = { id: 'systemd:start:nginx.service', provider: 'systemd', category: 'services', operation: 'start', resource: 'nginx.service', summary: 'start', risk: 'medium', data: { unit: 'nginx.service' } }
    assert.deepEqual(unitFileContradictions({ changes: [file('delete', '/etc/systemd/system.attached/nginx.service'), start], actual: machine }).map((d) => d.code), ['SYSTEMD_UNIT_FILE_CONTRADICTION'])
  })

  it('a deleted unit file whose unit keeps a file in another folder of the unit path (or one the plan writes): reloaded and restarted, not stopped', async () => {
    const lstat = async (path: string) => (['/etc/systemd/system/nginx.service', '/lib/systemd/system/cron.service'].includes(path) ? { type: 'file' } : undefined)
    const host = { lstat } as unknown as Parameters<typeof unitsKeepingAFile>[1]
    const control = file('delete', '/etc/systemd/system.control/nginx.service')
    const adminCopy = file('delete', '/etc/systemd/system/cron.service')
    const moved = [file('delete', '/etc/systemd/system/mine.service'), file('write', '/etc/systemd/system.attached/mine.service')]
    const alone = file('delete', '/etc/systemd/system.attached/getty@.service')
    const changes = [control, adminCopy, ...moved, alone]
    const kept = await unitsKeepingAFile(changes, host)
    assert.deepEqual([...kept].sort(), ['cron.service', 'mine.service', 'nginx.service'])
    assert.deepEqual(unitsWhoseFilesGo({ changes, actual: machine }, kept).map((c) => c.id), [DAEMON_RELOAD_ID])
    assert.deepEqual(reloadsForUnitFileWrites({ changes, actual: machine }, kept).map((c) => [c.id, c.requires]), [
      [DAEMON_RELOAD_ID, undefined],
      ['systemd:restart:mine.service', [DAEMON_RELOAD_ID, 'files:create:/etc/systemd/system.attached/mine.service', 'files:delete:/etc/systemd/system/mine.service']],
      ['systemd:restart:nginx.service', [DAEMON_RELOAD_ID, control.id]],
    ])
  })

  it('one restart of a unit whoever asks: the needs joined', () => {
    const config: Change = { id: 'systemd:restart:nginx.service', provider: 'systemd', category: 'services', operation: 'restart', resource: 'nginx.service', summary: 'restart nginx.service to read its changed configuration (/etc/nginx/nginx.conf)', risk: 'medium', requires: ['files:replace:/etc/nginx/nginx.conf'], data: { unit: 'nginx.service' } }
    const [unitWrite] = reloadsForUnitFileWrites({ changes: [file('write', '/etc/systemd/system/nginx.service.d/limits.conf')], actual: machine }).slice(1)
    const out = oneRestartEach([config, unitWrite as Change], [])
    assert.deepEqual(out.map((c) => [c.id, c.requires, c.madeFor]), [['systemd:restart:nginx.service', ['files:replace:/etc/nginx/nginx.conf', DAEMON_RELOAD_ID, 'files:create:/etc/systemd/system/nginx.service.d/limits.conf'], undefined]])
  })
})
