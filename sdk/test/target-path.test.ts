import { strict as assert } from 'node:assert'
import { checkTargetPath, isWithin } from '../src/target-path.js'
import { isTwinSyncError } from '../src/errors.js'

const refused = (code: string) => (e: unknown) => isTwinSyncError(e) && e.code === code

describe('checkTargetPath', () => {
  it('normalises slashes', () => {
    assert.equal(checkTargetPath('//etc//ssh/'), '/etc/ssh')
    assert.equal(checkTargetPath('/'), '/')
    assert.equal(checkTargetPath('/etc/ssh/sshd_config'), '/etc/ssh/sshd_config')
    assert.equal(checkTargetPath('/etc/.hidden/..x/...'), '/etc/.hidden/..x/...')
  })

  it('refuses relative paths, dot components and NUL bytes', () => {
    assert.throws(() => checkTargetPath('etc/hosts'), refused('PATH_INVALID'))
    assert.throws(() => checkTargetPath('/etc/../root'), refused('PATH_INVALID'))
    assert.throws(() => checkTargetPath('/etc/./hosts'), refused('PATH_INVALID'))
    assert.throws(() => checkTargetPath('/etc/..'), refused('PATH_INVALID'))
    assert.throws(() => checkTargetPath('/..'), refused('PATH_INVALID'))
    assert.throws(() => checkTargetPath('/etc/.'), refused('PATH_INVALID'))
    assert.throws(() => checkTargetPath('/etc/ho\0sts'), refused('PATH_INVALID'))
    assert.throws(() => checkTargetPath(''), refused('PATH_INVALID'))
  })

  it('knows what is within a folder', () => {
    assert.equal(isWithin('/etc/ssh/sshd_config', '/etc'), true)
    assert.equal(isWithin('/etc', '/etc'), true)
    assert.equal(isWithin('/etcetera', '/etc'), false)
    assert.equal(isWithin('/anything', '/'), true)
  })
})
