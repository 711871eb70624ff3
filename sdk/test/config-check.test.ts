import { strict as assert } from 'node:assert'
import { checksReading, touchedPaths, type Change, type ConfigCheck } from '../src/index.js'

/**
 * The SDK's one rule of which services read what a file change touches (checksReading): what it
 * answers. That each user asks it and does what it answers (apply checks the change by each of
 * these services, the rehearsal proves their units, the systemd provider reloads them) is
 * core/test/config-reading.test.ts's, which fails on the code that checked by the first only.
 */
describe('which services read what a file change touches (checksReading)', () => {
  const change = (data: unknown, provider = 'files'): Change => ({ id: 'c', provider, category: 'files', operation: 'delete', resource: '/x', summary: 'x', risk: 'low', data }) as Change
  const sshd: ConfigCheck = { service: 'sshd', paths: ['/etc/ssh/sshd_config', '/etc/ssh/sshd_config.d/**'], units: ['ssh.service'] }
  const etc: ConfigCheck = { service: 'everything', paths: ['/etc/**'], units: ['all.service'] }
  const below = (...paths: unknown[]) => paths.map((path) => ({ path, liveFingerprint: 'f' }))

  it('a folder deleted whole: its own path first, then what is below it; every service that reads one of them, each once', () => {
    const folder = change({ action: 'delete', path: '/etc/ssh/sshd_config.d', below: below('/etc/ssh/sshd_config.d/a.conf', '/etc/ssh/sshd_config.d/b.conf') })
    assert.deepEqual(touchedPaths(folder), ['/etc/ssh/sshd_config.d', '/etc/ssh/sshd_config.d/a.conf', '/etc/ssh/sshd_config.d/b.conf'])
    assert.deepEqual(checksReading([sshd, etc], folder).map((c) => c.service), ['everything', 'sshd'], 'both read it: both check it, both are reloaded')
    assert.deepEqual(checksReading([sshd], folder).map((c) => c.service), ['sshd'], 'the folder itself is no match of sshd_config.d/**; a file below it is')
  })

  it('trusts no entry outside the folder, and no change that is not a file change', () => {
    const outside = change({ action: 'delete', path: '/etc/other', below: below('/etc/ssh/sshd_config', '/etc/otherwise/x', '/etc/other/y', 7) })
    assert.deepEqual(touchedPaths(outside), ['/etc/other', '/etc/other/y'])
    assert.deepEqual(checksReading([sshd], outside), [])
    assert.deepEqual(touchedPaths(change({ action: 'write', path: '/etc/ssh/sshd_config', below: below('/etc/ssh/sshd_config/x') })), ['/etc/ssh/sshd_config'], 'below counts only for a delete')
    assert.deepEqual(touchedPaths(change({ action: 'restart', path: '/etc/ssh/sshd_config' })), [])
    assert.deepEqual(touchedPaths(change({ action: 'write', path: 'etc/ssh/sshd_config' })), [])
    assert.deepEqual(checksReading([sshd], change(undefined)), [])
  })
})
