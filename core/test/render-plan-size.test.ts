// A plan as the CLI prints it, at the size a pulled twin can bring (session 39): a pull of a
// mirror with 131,000 new files printed "Pulled" and then ended in "internal error: Maximum call
// stack size exceeded" (one argument per pending change spread into `push`).
import { strict as assert } from 'node:assert'
import type { Diagnostic } from '@twinsync/sdk'
import { renderPlan } from '../src/cli/render-plan.js'

describe('renderPlan of a big pulled twin', () => {
  it('200,000 changes still pending: one line each, no stack overflow', () => {
    const diagnostics: Diagnostic[] = Array.from({ length: 200_000 }, (_, i) => ({
      code: 'PENDING_INTENT',
      severity: 'info',
      summary: `Create /etc/gen/f${i}: still pending, pulled from the mirror`,
    }))
    const plan = { formatVersion: 1, createdAt: '', basis: { twinCommit: null, root: '/', fingerprints: {} }, changes: [], edges: [], diagnostics } as never
    const lines = renderPlan(plan).split('\n')
    const head = lines.indexOf('Still pending from before:')
    assert.ok(head > 0)
    assert.equal(lines[head + 1], '  Create /etc/gen/f0: still pending, pulled from the mirror')
    assert.equal(lines[head + 200_000], '  Create /etc/gen/f199999: still pending, pulled from the mirror')
  })
})
