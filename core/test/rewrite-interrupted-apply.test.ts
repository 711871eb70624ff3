import { strict as assert } from 'node:assert'
import { execFileSync } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { isTwinSyncError } from '@twinsync/sdk'
import { ApplyService } from '../src/apply/apply-service.js'
import { readApplyRecord } from '../src/apply/resume.js'
import { PlanWorkflow } from '../src/services/make-plan.js'
import { ForgetWorkflow } from '../src/services/run-forget.js'
import { GcWorkflow } from '../src/services/run-gc.js'
import { smallTwin, type SmallTwin } from '../../test/support/in-process-twin.js'
import { applyKilledAtSecondStep, removeApplyRig } from './support/killed-apply.js'

const refs = (twin: string) => execFileSync('git', ['-C', twin, 'for-each-ref', '--format=%(refname) %(objectname)'], { encoding: 'utf8' })

/**
 * Session 44 (attack): an apply killed half way leaves a record naming two commits (the state it
 * heads for, its checkpoint); `forget` and gc's fold rewrote history and pruned them, and every
 * later plan, status and apply failed with GIT_FAILED "fatal: not a tree object", the apply
 * neither finished nor reverted. Both are refused while the apply is interrupted (resume.ts).
 */
describe('forget and gc --squash while an apply is interrupted', function () {
  this.timeout(300_000)
  let rig: SmallTwin

  before(async () => {
    rig = await smallTwin('twinsync-rewrite-interrupted-')
  })
  after(() => removeApplyRig(rig))

  it('are refused (APPLY_INTERRUPTED, history unchanged); once the apply is finished, forget goes through and the next plan reads the twin', async () => {
    await applyKilledAtSecondStep(rig)
    const record = await readApplyRecord(rig.twin, { root: '/' })
    assert.notEqual(record, undefined, 'the apply is interrupted')

    const before = refs(rig.twin)
    const interrupted = (e: unknown) => isTwinSyncError(e) && e.code === 'APPLY_INTERRUPTED' && e.nextStep?.includes('apply') === true && e.message.includes((record?.intended ?? '').slice(0, 12))
    await assert.rejects((await rig.container()).resolve(ForgetWorkflow).forget({ paths: ['/etc/os-release'], rules: [] }), interrupted)
    await assert.rejects((await rig.container()).resolve(GcWorkflow).gc(0), interrupted)
    assert.equal(refs(rig.twin), before, 'no ref moved')
    assert.deepEqual(await readApplyRecord(rig.twin, { root: '/' }), record)

    // Finished as the refusal says; then the same forget goes through, and a plan reads the twin.
    const again = await (await rig.container()).resolve(PlanWorkflow).plan({})
    const report = await (await rig.container()).resolve(ApplyService).apply({ plan: again, fromFile: false, acceptHighRisk: true, signal: new AbortController().signal })
    assert.equal(report.exitCode, 0, JSON.stringify(report.journal.steps))
    assert.equal(await readApplyRecord(rig.twin, { root: '/' }), undefined)
    const forgot = await (await rig.container()).resolve(ForgetWorkflow).forget({ paths: ['/etc/os-release'], rules: [] })
    assert.deepEqual(forgot.removed, ['filesystem/etc/os-release'])
    await (await rig.container()).resolve(PlanWorkflow).plan({})
    assert.equal(await readFile(join(rig.root, 'etc/motd'), 'utf8'), 'Hello\n')
  })
})
