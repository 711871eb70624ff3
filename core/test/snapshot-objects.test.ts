import { strict as assert } from 'node:assert'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Provider } from '@twinsync/sdk'
import { SnapshotService } from '../src/snapshot/snapshot-service.js'
import { PACK_BLOBS_FROM } from '../src/twin/atomic-snapshot.js'
import { unitRig, type UnitRig } from './support/unit-container.js'

/** A provider with `count()` documents, system/many/NNN.json, each naming the machine's /etc/many. */
function manyProvider(count: () => number): Provider {
  return {
    name: 'many',
    version: '1.0.0',
    category: 'facts',
    description: 'many small documents',
    twinPaths: ['system/many/'],
    detect: async () => ({ detected: true, diagnostics: [] }),
    async collect({ ctx }) {
      const text = (await ctx.host.readTextIfExists('/etc/many')) ?? ''
      const documents = Array.from({ length: count() }, (_, i) => ({ path: `system/many/${String(i).padStart(3, '0')}.json`, content: `${JSON.stringify({ i, text })}\n` }))
      return { state: {}, documents, diagnostics: [] }
    },
  }
}

/** How a snapshot's new blobs reach git's object store (atomic-snapshot.ts, writeBlobs). */
describe('snapshot objects: many as one pack, a few loose', function () {
  this.timeout(60_000)
  let rig: UnitRig
  let count = PACK_BLOBS_FROM + 20
  afterEach(() => rig?.cleanup())

  it('writes a first snapshot of many documents as one pack, a later one of a few as loose objects; git reads both, fsck finds nothing', async () => {
    rig = await unitRig([manyProvider(() => count)])
    await writeFile(join(rig.root, 'etc/many'), 'one\n')
    await rig.twin().init({ formatVersion: 1, machineId: null, hostname: 'unit' })
    const objects = () => Object.fromEntries(rig.git('count-objects', '-v').split('\n').map((l) => l.split(': ')))
    const first = await rig.container.resolve(SnapshotService).snapshot()
    assert.notEqual(first.commit, undefined)
    assert.equal(objects().packs, '1')
    assert.ok(Number(objects()['in-pack']) >= count, 'every blob in the pack')
    assert.equal(JSON.parse(rig.git('show', 'HEAD:system/many/007.json')).text, 'one\n')
    count = 3
    await writeFile(join(rig.root, 'etc/many'), 'two\n')
    const loose = Number(objects().count)
    const second = await rig.container.resolve(SnapshotService).snapshot()
    assert.notEqual(second.commit, undefined)
    assert.equal(objects().packs, '1', 'no new pack for three documents')
    assert.ok(Number(objects().count) >= loose + 3, 'three loose blobs (and their trees)')
    assert.equal(JSON.parse(rig.git('show', 'HEAD:system/many/002.json')).text, 'two\n')
    assert.equal(rig.git('ls-tree', '-r', '--name-only', 'HEAD', 'system/many/').split('\n').length, 3)
    assert.equal(rig.git('fsck', '--strict', '--no-progress'), '')
  })
})
