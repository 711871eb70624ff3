import { strict as assert } from 'node:assert'
import { readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ReconcileService } from '../src/intent/reconcile-service.js'
import { StatusWorkflow } from '../src/services/drift-status.js'
import { SnapshotWorkflow } from '../src/services/take-snapshot.js'
import { smallTwin, type SmallTwin } from '../../test/support/in-process-twin.js'
import { writeTwinFile } from '../../test/support/twin-edit.js'
import { asGoneRun, Killed, killAt } from './support/kill-points.js'

/**
 * An adopt killed (kill -9, in process: kill-points.ts) after it set the working twin's edits
 * aside and before it said they were back. Session 33's red team: status then said "a snapshot
 * could not put them back", though no snapshot ran; an admin looks for a failed snapshot.
 */
describe('an adopt killed with the edits set aside', function () {
  this.timeout(300_000)
  let rig: SmallTwin

  before(async () => {
    rig = await smallTwin('twinsync-adopt-kill-')
  })
  after(async () => {
    await rm(rig.dir, { recursive: true, force: true })
  })

  it('status names the adopt as the run that set them aside; the next snapshot puts them back', async () => {
    await writeTwinFile(rig.twin, 'filesystem/etc/motd', 'Hello from the twin\n')
    await writeFile(join(rig.root, 'etc/hostname'), 'moved\n')
    // Killed as it removes the marker that says the edits are set aside: everything else done.
    const point = killAt((call) => call.startsWith('rm(') && call.endsWith('/intent-held)'))
    let killed: unknown
    try {
      await (await rig.container()).resolve(ReconcileService).adopt(['files:replace:/etc/hostname'])
    } catch (error) {
      killed = error
    } finally {
      await new Promise((resolve) => setImmediate(resolve))
      point.restore()
    }
    assert.equal(point.hit, true, `not killed at the marker's removal: ${String(killed)}\n${point.calls.join('\n')}`)
    assert.ok(killed instanceof Killed || (killed as { cause?: unknown }).cause instanceof Killed, String(killed))
    asGoneRun(rig.twin)

    const status = await (await rig.container()).resolve(StatusWorkflow).status(undefined)
    assert.match(status.pending.setAside ?? '', /not in the working twin: an adopt set them aside and did not put them back \(it was killed, or the twin's disk was full\)/)
    assert.doesNotMatch(status.pending.setAside ?? '', /snapshot could not/)
    assert.deepEqual(status.pending.items.map((i) => i.resource), ['/etc/motd'], 'the edit is pending, not lost')

    await (await rig.container()).resolve(SnapshotWorkflow).take({ init: false, ifChanged: false })
    assert.equal(await readFile(join(rig.twin, 'filesystem/etc/motd'), 'utf8'), 'Hello from the twin\n', 'back in the working twin')
    assert.equal((await (await rig.container()).resolve(StatusWorkflow).status(undefined)).pending.setAside, null)
  })
})
