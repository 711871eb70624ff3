import { strict as assert } from 'node:assert'
import { checkReading, checksReading, touchedPaths, type Change, type ConfigCheck } from '../src/index.js'

describe('which service reads what a file change touches (checksReading: the check and the reload)', () => {
  const change = (data: unknown, provider = 'files'): Change => ({ id: 'c', provider, category: 'files', operation: 'delete', resource: '/x', summary: 'x', risk: 'low', data }) as Change
  const sshd: ConfigCheck = { service: 'sshd', paths: ['/etc/ssh/sshd_config', '/etc/ssh/sshd_config.d/**'], units: ['ssh.service'] }
  const etc: ConfigCheck = { service: 'everything', paths: ['/etc/**'], units: ['all.service'] }
  const below = (...paths: unknown[]) => paths.map((path) => ({ path, liveFingerprint: 'f' }))

  it('a folder deleted whole: its own path first, then what is below it; each check once', () => {
    const folder = change({ action: 'delete', path: '/etc/ssh/sshd_config.d', below: below('/etc/ssh/sshd_config.d/a.conf', '/etc/ssh/sshd_config.d/b.conf') })
    assert.deepEqual(touchedPaths(folder), ['/etc/ssh/sshd_config.d', '/etc/ssh/sshd_config.d/a.conf', '/etc/ssh/sshd_config.d/b.conf'])
    assert.deepEqual(checksReading([sshd, etc], folder).map((c) => c.service), ['everything', 'sshd'])
    assert.equal(checkReading([sshd, etc], folder)?.service, 'everything')
    assert.equal(checkReading([sshd], folder)?.service, 'sshd', 'the folder itself is no match of sshd_config.d/**; a file below it is')
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
