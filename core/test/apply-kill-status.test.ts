import { strict as assert } from 'node:assert'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ApplyService } from '../src/apply/apply-service.js'
import { readApplyRecord } from '../src/apply/resume.js'
import { renderStatus } from '../src/cli/render.js'
import { ON_MACHINE, StatusWorkflow, inSync } from '../src/services/drift-status.js'
import { PlanWorkflow } from '../src/services/make-plan.js'
import { smallTwin, type SmallTwin } from '../../test/support/in-process-twin.js'
import { applyKilledAtSecondStep, removeApplyRig } from './support/killed-apply.js'
import { twinsyncLine } from '../src/plan/command-text.js'
/** Lines as a run on this machine's default twin and configuration says them (no flags). */
const LINE = (args: readonly string[]) => twinsyncLine(args, { root: '/' })


/**
 * An apply killed (kill -9, in process: kill-points.ts) between its two steps, the first one on the
 * machine. Session 33's red team: status called that step "done outside TwinSync" beside the
 * interrupted-apply sentence, and the killed run's machine lock (/run/twinsync) was left naming the
 * test's live process, so the next in-process apply got LOCK_HELD until it was removed by hand.
 */
describe('an apply killed between its steps', function () {
  this.timeout(300_000)
  let rig: SmallTwin

  before(async () => {
    rig = await smallTwin('twinsync-apply-kill-')
  })
  after(() => removeApplyRig(rig))

  it('status says the step on the machine is the interrupted apply\'s, not "done outside TwinSync"; the next apply (asGoneRun, no hand cleanup) finishes it', async () => {
    const { first, second } = await applyKilledAtSecondStep(rig)

    const wanted: Record<string, string> = { '/etc/hostname': 'renamed\n', '/etc/motd': 'Hello\n' }
    assert.equal(await readFile(join(rig.root, first), 'utf8'), wanted[first], 'the first step is on the machine')
    assert.notEqual(await readFile(join(rig.root, second), 'utf8'), wanted[second], 'the second step is not')
    assert.notEqual(await readApplyRecord(rig.twin, { root: "/" }), undefined, 'the apply is interrupted')

    const status = await (await rig.container()).resolve(StatusWorkflow).status(undefined)
    assert.notEqual(status.interrupted, null)
    const byResource = new Map(status.pending.items.map((i) => [i.resource, i]))
    const done = byResource.get(first)
    assert.equal(done?.onMachine, true, JSON.stringify(status.pending.items))
    assert.notEqual(done?.reason, ON_MACHINE)
    assert.match(done?.reason ?? '', /^the machine already has it(, as the interrupted apply planned| \(done by the interrupted apply\))/)
    assert.equal(byResource.get(second)?.onMachine, undefined)
    const text = renderStatus(status, LINE)
    assert.doesNotMatch(text, /outside TwinSync/, text)
    assert.match(text, /The machine already has 1 of them, as the interrupted apply planned: `twinsync apply` finishes that apply/, text)

    // The killed run's locks name a gone process: the next apply takes them, no hand cleanup.
    const again = await (await rig.container()).resolve(PlanWorkflow).plan({})
    const report = await (await rig.container()).resolve(ApplyService).apply({ plan: again, fromFile: false, acceptHighRisk: true, signal: new AbortController().signal })
    assert.equal(report.exitCode, 0, JSON.stringify(report.journal.steps))
    for (const [path, text] of Object.entries(wanted)) assert.equal(await readFile(join(rig.root, path), 'utf8'), text)
    assert.equal(inSync(await (await rig.container()).resolve(StatusWorkflow).status(undefined)), true)
  })
})
