import { strict as assert } from 'node:assert'
import { lastApplyFor, reasonFor, stampOutcome, stampReason } from '../src/intent/reason-asked.js'

describe('a pending item\'s reason holds while the twin asks the same', () => {
  const asked = { operation: 'create', after: 'file 0644 root:root 45 bytes sha256:a6a50d919947' }
  const fixed = { operation: 'create', after: 'file 0644 root:root 46 bytes sha256:4c819cc9313a' }
  const failed = 'failed in the apply of 2026-12-03T12:58:48Z: visudo rejects the new content of /etc/sudoers.d/deploy'

  it('is said as recorded for the same ask, and as a change since for another', () => {
    const stored = stampReason(failed, asked)
    assert.equal(reasonFor(stored, asked), failed)
    assert.equal(reasonFor(stored, fixed), 'changed in the twin since it failed in the apply of 2026-12-03T12:58:48Z; not applied yet')
    assert.equal(reasonFor(stampReason('skipped in the apply of T', asked), fixed), 'changed in the twin since it was skipped in the apply of T; not applied yet')
    assert.equal(reasonFor(stampReason('left out of the apply of T', asked), fixed), 'changed in the twin since it was left out of the apply of T; not applied yet')
  })

  it('a reason recorded without a stamp (an older twin, a pull) is said as it is; none is none', () => {
    assert.equal(reasonFor('pulled from the mirror (a..b)', fixed), 'pulled from the mirror (a..b)')
    assert.equal(reasonFor(undefined, fixed), undefined)
    assert.equal(stampReason('x', undefined), 'x')
  })
})

describe("a pending item's last apply (status --json's lastApply), session 44", () => {
  const asked = { operation: 'set', after: 'state 5' }
  const fixed = { operation: 'set', after: 'state 6' }
  const at = '2026-12-06T08:22:20Z'
  const journal = 'system/journal/apply-2026-12-06T082220Z.json'

  it('a failed step: its code, message, half done and journal while the twin asks the same; the reason says it in words', () => {
    const stored = stampOutcome({ at, outcome: 'failed', code: 'PROVIDER_FAILED', message: 'no answer; may be half done', halfDone: true, journal }, asked)
    assert.equal(reasonFor(stored, asked), `failed in the apply of ${at}: no answer; may be half done`)
    assert.deepEqual(lastApplyFor(stored, asked), { at, outcome: 'failed', code: 'PROVIDER_FAILED', message: 'no answer; may be half done', halfDone: true, journal })
    // Asked otherwise since: the old outcome is not this ask's.
    assert.equal(reasonFor(stored, fixed), `changed in the twin since it failed in the apply of ${at}; not applied yet`)
    assert.equal(lastApplyFor(stored, fixed), undefined)
  })

  it('left out (--only, as settle fills it for any item: no ask recorded), and a message holding a NUL', () => {
    const only = stampOutcome({ at, outcome: 'left out', only: 'files', journal }, undefined)
    assert.equal(reasonFor(only, fixed), `left out of the apply of ${at} (--only files)`)
    assert.deepEqual(lastApplyFor(only, fixed), { at, outcome: 'left out', only: 'files', journal })
    const nul = stampOutcome({ at, outcome: 'skipped', message: 'a\u0000b' }, asked)
    assert.equal(reasonFor(nul, asked), `skipped in the apply of ${at}: ab`)
    assert.deepEqual(lastApplyFor(nul, asked), { at, outcome: 'skipped', message: 'ab' })
  })

  it('none for a reason recorded without one (an older twin, a pull, promotion) or not readable', () => {
    assert.equal(lastApplyFor(stampReason(`failed in the apply of ${at}: x`, asked), asked), undefined)
    assert.equal(lastApplyFor('pulled from the mirror (a..b)', asked), undefined)
    assert.equal(lastApplyFor(undefined, asked), undefined)
    assert.equal(lastApplyFor(`x\u0000\u0000{not json`, asked), undefined)
    assert.equal(lastApplyFor(`x\u0000\u0000{"at":"${at}","outcome":"exploded"}`, asked), undefined)
  })
})
