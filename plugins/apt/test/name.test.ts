import { strict as assert } from 'node:assert'
import { checkPackageName, isValidPackageName, isValidPackageVersion } from '../src/name.js'

describe('apt package names', () => {
  it('accepts Debian policy names, optionally with an architecture', () => {
    for (const name of ['hello', 'g++', 'libc6', 'libstdc++6', 'python3.11', 'lib32z1-dev', 'libc6:i386', '0ad']) {
      assert.ok(isValidPackageName(name), name)
    }
  })

  it('refuses anything a shell or apt would read as more than a name', () => {
    for (const name of ['hello; rm -rf /', 'Hello', 'a', '-hello', '--purge', 'hello world', 'hel*', 'hello/bookworm', 'hello=1.0', '$(id)', 'hello:', '']) {
      assert.equal(isValidPackageName(name), false, name)
    }
    assert.throws(() => checkPackageName('hello; rm -rf /'), { code: 'NAME_INVALID' })
  })

  it('checks versions', () => {
    assert.ok(isValidPackageVersion('1:2.36-9+deb12u10'))
    assert.ok(isValidPackageVersion('2.10-3~bpo12+1'))
    assert.equal(isValidPackageVersion('1.0 && reboot'), false)
  })
})
