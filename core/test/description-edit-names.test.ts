import { strict as assert } from 'node:assert'
import type { Provider } from '@twinsync/sdk'
import { editsOf } from '../src/intent/description-edits.js'

/**
 * The keys of a described document come from the twin, which may come from a hostile mirror: a
 * unit named with a terminal escape (`\e]0;…\a` retitles the terminal, `\e[2J` clears it), a
 * right-to-left override or a C1 control must never reach `status`, `plan` or the TUI raw.
 */
describe('description edits name the twin\'s keys visibly', () => {
  const provider = { name: 'systemd', category: 'services' } as unknown as Provider
  const parts = [{ path: 'system/services/units.json', keys: ['units', '*', 'preset'], appliedFrom: 'presets come from the vendor' }]
  const doc = (units: Record<string, unknown>) => Buffer.from(JSON.stringify({ units }))
  const hostile = ['\u001b]0;owned\u0007x.service', 'a\u202etxt.service', 'c\u009b2Jd.service', 'e\u001b[2Jf.service']

  it('spells out controls, C1 controls and bidi overrides in the id, the summary and the next step', () => {
    const observed = doc(Object.fromEntries(hostile.map((u) => [u, { preset: 'disabled' }])))
    const intended = doc(Object.fromEntries(hostile.map((u) => [u, { preset: 'enabled\u001b[31m' }])))
    const edits = editsOf('system/services/units.json', provider, parts as never, observed, intended)
    assert.equal(edits.length, hostile.length)
    for (const e of edits) {
      for (const text of [e.id, e.summary, e.nextStep]) assert.doesNotMatch(text, /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/u, JSON.stringify(text))
    }
    assert.ok(edits.some((e) => e.id.includes('\\e]0;owned')), edits.map((e) => e.id).join(' '))
  })

  it('leaves ordinary names as they are (the id a person types to discard)', () => {
    const edits = editsOf('system/services/units.json', provider, parts as never, doc({ 'ssh.service': { preset: 'disabled' } }), doc({ 'ssh.service': { preset: 'enabled' } }))
    assert.deepEqual(edits.map((e) => [e.id, e.summary]), [['systemd:describe:system/services/units.json#units/ssh.service/preset', 'set units.ssh.service.preset in system/services/units.json to "enabled"']])
  })
})
