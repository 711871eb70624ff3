import { strict as assert } from 'node:assert'
import { isCapabilityText } from '../src/xattr.js'

describe('isCapabilityText: a file capability text as getcap prints it', () => {
  it('takes what getcap prints and refuses what it does not', () => {
    for (const text of ['cap_net_raw=ep', 'cap_net_bind_service,cap_net_raw+ep', '=ep', 'cap_a+e cap_b-p', 'cap_sys_admin,cap_chown=eip']) assert.equal(isCapabilityText(text), true, text)
    for (const text of ['', '-ep', 'cap_net_raw', 'CAP_NET_RAW=ep', 'cap_net_raw=ep ', 'cap_net_raw=ep;rm']) assert.equal(isCapabilityText(text), false, text)
  })

  it('answers a text built to make a backtracking match try every split at once (session 36: 49 characters took 11 s, each more ×1.8)', () => {
    const began = performance.now()
    assert.equal(isCapabilityText(`${'=ee'.repeat(17)}!`), false)
    assert.ok(performance.now() - began < 1000, `${Math.round(performance.now() - began)} ms`)
  })
})
