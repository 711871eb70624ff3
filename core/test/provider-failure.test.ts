import { strict as assert } from 'node:assert'
import { providerFailure } from '../src/providers/provider-call.js'

/**
 * A provider's collect that the machine refuses a read (EACCES on a folder it lists: autostart's
 * /etc/xdg/autostart, cron's /etc/cron.d) fails whole, and its part of the twin keeps the last
 * snapshot. The diagnostic says the machine refused, with the errno and the path, not that the
 * provider is at fault; a provider's own bug is still said to be one.
 */
describe('providerFailure: a read the machine refused is not a fault of the provider', () => {
  it('an errno error from a system call while collecting names the code and the path, and the next step is about the machine', () => {
    const error = Object.assign(new Error("EACCES: permission denied, scandir '/etc/xdg/autostart'"), { code: 'EACCES', syscall: 'scandir', path: '/etc/xdg/autostart', errno: -13 })
    const d = providerFailure('autostart', 'collect', error, 'Its part of the twin keeps the state of the last snapshot.')
    assert.equal(d.code, 'PROVIDER_FAILED')
    assert.equal(d.severity, 'error')
    assert.match(d.detail ?? '', /^Its part of the twin keeps the state of the last snapshot\. The machine did not let it read \/etc\/xdg\/autostart \(EACCES\)/)
    assert.match(d.detail ?? '', /ls -ld/)
    assert.doesNotMatch(d.detail ?? '', /report it to its authors/)
  })

  it('a TypeError, or an errno error outside detect and collect, is still the provider\'s fault', () => {
    assert.match(providerFailure('faulty', 'collect', new TypeError('x is undefined')).detail ?? '', /A fault in the faulty provider/)
    const error = Object.assign(new Error('EACCES'), { code: 'EACCES', syscall: 'open' })
    assert.match(providerFailure('faulty', 'load', error).detail ?? '', /A fault in the faulty provider/)
  })
})
