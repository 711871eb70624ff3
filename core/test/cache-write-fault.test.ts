import { strict as assert } from 'node:assert'
import { readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { RACY_MS } from '@twinsync/sdk'
import { ReconcileService } from '../src/intent/reconcile-service.js'
import { StatusWorkflow } from '../src/services/drift-status.js'
import { smallTwin, type SmallTwin } from '../../test/support/in-process-twin.js'
import { killAt } from './support/kill-points.js'

/**
 * The files provider's cache is an optimisation: a write of it that fails (one EIO at the file
 * system, kill-points.ts in 'fail' mode: that one call throws, the rest go through) must not
 * fail the collect. Session 33's red team: it did, so `adopt` of a drift item that exists said
 * ITEM_UNKNOWN (the files provider had collected nothing).
 */
describe('a provider cache write that fails', function () {
  this.timeout(300_000)
  let rig: SmallTwin

  before(async () => {
    rig = await smallTwin('twinsync-cache-fault-')
  })
  after(async () => {
    await rm(rig.dir, { recursive: true, force: true })
  })

  it('fails no collect: adopt of the drift item takes it, and status after is in sync', async () => {
    // A status first, so the adopt below runs as in a whole suite, its modules loaded (alone, their
    // first load took longer than the racy window). The edit then ages past that window: a file
    // changed less than RACY_MS before a collect is racily clean, read again next time and not
    // recorded, so the stat cache has nothing to write (CI, session 38: "no stat cache write").
    await (await rig.container()).resolve(StatusWorkflow).status(undefined)
    await writeFile(join(rig.root, 'etc/hostname'), 'moved\n')
    await new Promise((resolve) => setTimeout(resolve, 2 * RACY_MS + 50))
    // The first write of the files provider's stat cache (the machine moved: it is written) fails with EIO.
    const point = killAt((call) => call.includes('/files/') && call.includes('stat-cache'), 'fail')
    let decided: unknown
    try {
      decided = await (await rig.container()).resolve(ReconcileService).adopt(['files:replace:/etc/hostname'])
    } catch (error) {
      decided = error
    } finally {
      point.restore()
    }
    assert.equal(point.hit, true, `no stat cache write was made:\n${point.calls.join('\n')}`)
    assert.equal(decided instanceof Error, false, String(decided))
    assert.equal(await readFile(join(rig.twin, 'filesystem/etc/hostname'), 'utf8'), 'moved\n', 'the twin records the machine')
    const status = await (await rig.container()).resolve(StatusWorkflow).status(undefined)
    assert.deepEqual([status.drift, status.pending.count, status.unread], [false, 0, []])
  })
})
