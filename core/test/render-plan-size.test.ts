// A plan as the CLI prints it, at the size a pulled twin can bring (session 39): a pull of a
// mirror with 131,000 new files printed "Pulled" and then ended in "internal error: Maximum call
// stack size exceeded" (one argument per pending change spread into `push`).
import { strict as assert } from 'node:assert'
import type { Diagnostic } from '@twinsync/sdk'
import { SHOWN_PER_KIND, renderPlan } from '../src/cli/render-plan.js'
import { twinsyncLine } from '../src/plan/command-text.js'
/** Lines as a run on this machine's default twin and configuration says them (no flags). */
const LINE = (args: readonly string[]) => twinsyncLine(args, { root: '/' })


describe('renderPlan of a big pulled twin', () => {
  it('200,000 changes still pending: the first ones, then how many more and where they are; no stack overflow', () => {
    const diagnostics: Diagnostic[] = Array.from({ length: 200_000 }, (_, i) => ({
      code: 'PENDING_INTENT',
      severity: 'info',
      summary: `Create /etc/gen/f${i}: still pending, pulled from the mirror`,
    }))
    const plan = { formatVersion: 1, createdAt: '', basis: { twinCommit: null, root: '/', fingerprints: {} }, changes: [], edges: [], diagnostics } as never
    const lines = renderPlan(plan, LINE).split('\n')
    const head = lines.indexOf('Still pending from before:')
    assert.ok(head > 0)
    assert.equal(lines[head + 1], '  Create /etc/gen/f0: still pending, pulled from the mirror')
    assert.equal(lines[head + SHOWN_PER_KIND], `  Create /etc/gen/f${SHOWN_PER_KIND - 1}: still pending, pulled from the mirror`)
    assert.equal(lines[head + SHOWN_PER_KIND + 1], `  … and ${(200_000 - SHOWN_PER_KIND).toLocaleString('en-US')} more: \`twinsync status\` lists every one`)
    assert.ok(lines.length < 2 * SHOWN_PER_KIND, `${lines.length} lines`)
  })

  it('131,000 files left out with the same code (a pulled twin): the first of them with their next steps, then one line with the count (before: 2 lines each, 55 MB)', () => {
    const leftOut: Diagnostic[] = Array.from({ length: 131_000 }, (_, i) => ({
      code: 'FILES_OUTSIDE_SCOPE',
      severity: 'warning',
      provider: 'files',
      summary: `Create /opt/x/f${i}: left out, outside files.include`,
      detail: 'Add the folder to files.include, or discard it',
    }))
    const other: Diagnostic = { code: 'PLAN_NOTE', severity: 'error', provider: 'apt', summary: 'apt.json could not be read', detail: 'Fix it' }
    const plan = { formatVersion: 1, createdAt: '', basis: { twinCommit: null, root: '/', fingerprints: {} }, changes: [], edges: [], diagnostics: [...leftOut, other] } as never
    const text = renderPlan(plan, LINE)
    const lines = text.split('\n')
    assert.ok(text.includes('Create /opt/x/f0: left out'), text.slice(0, 500))
    assert.ok(text.includes(`Create /opt/x/f${SHOWN_PER_KIND - 1}: left out`))
    assert.ok(!text.includes(`Create /opt/x/f${SHOWN_PER_KIND}: left out`))
    assert.ok(text.includes('error: apt: apt.json could not be read [PLAN_NOTE]'), 'a note of another code is still shown')
    assert.ok(lines.includes(`… and ${(131_000 - SHOWN_PER_KIND).toLocaleString('en-US')} more like these [FILES_OUTSIDE_SCOPE]: \`twinsync plan --json\` lists every one`))
    assert.ok(lines.length < 3 * SHOWN_PER_KIND + 10, `${lines.length} lines`)
  })
})
