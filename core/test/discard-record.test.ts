import { strict as assert } from 'node:assert'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { collectGarbage } from '../src/history/gc.js'
import { ReconcileService } from '../src/intent/reconcile-service.js'
import { SnapshotService } from '../src/snapshot/snapshot-service.js'
import { notesProvider } from './support/notes-provider.js'
import { unitRig, type UnitRig } from './support/unit-container.js'

/**
 * Session 41: `discard` said the intent before stayed in refs/twinsync/intended's reflog, but a
 * discard of the last pending item deleted that ref with its reflog, so nothing named the
 * person's edit any more and git pruned its commit a day later. Each discard now moves
 * refs/twinsync/discarded to the intent before (its reflog one line a discard), names it in its
 * commit, and `twinsync gc` deletes it, as the user guide says.
 */
describe('discard keeps the intent it dropped in refs/twinsync/discarded until a gc', function () {
  this.timeout(30_000)
  let rig: UnitRig
  const edit = (name: string, text: string) => writeFile(join(rig.twinDir, `system/${name}.json`), `${JSON.stringify({ text })}\n`)
  const discard = (ids: string[]) => rig.container.resolve(ReconcileService).discard(ids)

  beforeEach(async () => {
    rig = await unitRig([notesProvider('notes'), notesProvider('other')])
    await writeFile(join(rig.root, 'etc/notes'), 'one\n')
    await writeFile(join(rig.root, 'etc/other'), 'x\n')
    await rig.twin().init({ formatVersion: 1, machineId: null, hostname: 'unit' })
    await rig.container.resolve(SnapshotService).snapshot()
  })
  afterEach(() => rig?.cleanup())

  it('the last pending item discarded: its edit is named by the discard and kept in refs/twinsync/discarded', async () => {
    await edit('notes', 'wanted\n')
    const decision = await discard(['notes:replace:/etc/notes'])
    assert.deepEqual(decision.items.map((i) => i.id), ['notes:replace:/etc/notes'])
    assert.equal(decision.intended, null, 'nothing pending after it')
    assert.equal(rig.git('for-each-ref', 'refs/twinsync/intended'), '')
    const kept = rig.git('rev-parse', 'refs/twinsync/discarded').trim()
    assert.deepEqual(JSON.parse(rig.git('show', `${kept}:system/notes.json`)), { text: 'wanted\n' }, 'the edit the discard dropped')
    assert.match(rig.git('log', '-1', '--format=%B', decision.commit), new RegExp(`the intent before is ${kept}, kept in \`git reflog refs/twinsync/discarded\``))
  })

  it('one reflog line a discard, each naming the intent it dropped; gc deletes the ref', async () => {
    await edit('notes', 'first\n')
    await edit('other', 'second\n')
    await discard(['notes:replace:/etc/notes'])
    await discard(['other:replace:/etc/other'])
    const [last, first] = rig.git('reflog', 'show', '--format=%H', 'refs/twinsync/discarded').trim().split('\n')
    assert.deepEqual(JSON.parse(rig.git('show', `${first}:system/notes.json`)), { text: 'first\n' })
    assert.deepEqual(JSON.parse(rig.git('show', `${last}:system/other.json`)), { text: 'second\n' })
    assert.deepEqual(JSON.parse(rig.git('show', `${last}:system/notes.json`)), { text: 'one\n' }, 'the second intent no longer asks for the first')
    await collectGarbage(rig.twinDir, { now: new Date() })
    assert.equal(rig.git('for-each-ref', 'refs/twinsync/discarded'), '', 'gc empties the record, as the user guide says')
  })
})
