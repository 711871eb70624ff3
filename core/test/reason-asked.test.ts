import { strict as assert } from 'node:assert'
import { reasonFor, stampReason } from '../src/intent/reason-asked.js'

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
