import { strict as assert } from 'node:assert'
import { PACK_BLOBS_FROM } from '../src/twin/atomic-snapshot.js'
import { unitRig, type UnitRig } from './support/unit-container.js'

/** How a snapshot's new blobs reach git's object store (atomic-snapshot.ts, writeBlobs), before auto-pack.ts packs anything. */
describe('snapshot objects: many as one pack, a few loose', function () {
  this.timeout(60_000)
  let rig: UnitRig
  after(() => rig?.cleanup())

  it('writes a draft of many documents as one pack, one of a few as loose objects; git reads both, fsck finds nothing', async () => {
    rig = await unitRig([])
    await rig.twin().init({ formatVersion: 1, machineId: null, hostname: 'unit' })
    const objects = () => Object.fromEntries(rig.git('count-objects', '-v').split('\n').map((l) => l.split(': '))) as Record<string, string>
    const commit = async (count: number, text: string) => {
      const draft = await rig.twin().draft({ edited: false })
      for (let i = 0; i < count; i++) draft.write({ path: `system/many/${String(i).padStart(3, '0')}.json`, content: `${JSON.stringify({ i, text })}\n` })
      const { tree, changes } = await draft.build({ edited: false })
      assert.equal(changes.length, count)
      return draft.commit(tree, text)
    }
    const loose = Number(objects().count)
    const many = PACK_BLOBS_FROM + 20
    await commit(many, 'one')
    assert.equal(objects().packs, '1')
    assert.equal(objects()['in-pack'], String(many), 'every blob in the pack')
    assert.ok(Number(objects().count) < loose + 10, 'only the trees and the commit loose')
    assert.equal(JSON.parse(rig.git('show', 'HEAD:system/many/007.json')).text, 'one')
    const before = Number(objects().count)
    await commit(3, 'two')
    assert.equal(objects().packs, '1', 'no new pack for three documents')
    assert.ok(Number(objects().count) >= before + 3, 'three loose blobs (and their trees)')
    assert.equal(JSON.parse(rig.git('show', 'HEAD:system/many/002.json')).text, 'two')
    assert.equal(rig.git('fsck', '--strict', '--no-progress'), '')
    assert.equal(rig.git('status', '--porcelain'), '')
  })
})
