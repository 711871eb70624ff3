import { strict as assert } from 'node:assert'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import sinon from 'sinon'
import { MemoryTwin, type TwinReader } from '@twinsync/sdk'
import { changedFilesOnly } from '../src/history/semantic-diff.js'
import { builtinProviders } from '../src/providers/builtin-providers.js'
import { SnapshotService } from '../src/snapshot/snapshot-service.js'
import { Tokens, registerValue } from '../src/tokens.js'
import { SnapshotDraft } from '../src/twin/atomic-snapshot.js'
import { unitRig, type UnitRig } from './support/unit-container.js'
import { pastThisSecond } from './support/past-this-second.js'

/**
 * Session 48 (issue 22): a snapshot's diary line asks the draft's two sides about the few paths
 * that changed (TwinReader.has) and lists neither: a listing sorts every path of the twin (the
 * scale root's 19,626), so the line's cost grew with the twin, not with what changed.
 */
describe('the diary line asks about the paths that changed, never lists the twin', function () {
  this.timeout(60_000)

  it('changedFilesOnly asks the reader whether an unchanged document is there, and passes `has` on', async () => {
    const twin = new MemoryTwin([
      { path: 'filesystem/etc/a', content: 'a\n' },
      { path: 'filesystem/etc/b', content: 'b\n' },
    ])
    const listed: string[] = []
    const reader = { read: (p: string) => twin.read(p), readText: (p: string) => twin.readText(p), has: (p: string) => twin.has(p), list: (prefix: string) => (listed.push(prefix), twin.list(prefix)) }
    const side = changedFilesOnly(reader, [{ path: 'filesystem/etc/a', change: 'M' }])
    assert.equal(await side.readText('filesystem/etc/a'), 'a\n', 'a changed document is read')
    assert.equal(await side.readText('filesystem/etc/b'), '', 'an unchanged one reads as empty')
    assert.equal(await side.readText('filesystem/etc/c'), undefined, 'one that is not there is not')
    assert.equal(await side.has?.('filesystem/etc/b'), true)
    assert.deepEqual(listed, [])
    // A reader that cannot say: the same answers from one listing.
    const { has: _has, ...listing } = reader
    const other = changedFilesOnly(listing, [{ path: 'filesystem/etc/a', change: 'M' }])
    assert.deepEqual([await other.readText('filesystem/etc/b'), await other.readText('filesystem/etc/c'), other.has], ['', undefined, undefined])
    assert.deepEqual(listed, ['filesystem/'])
  })

  describe('a one-file snapshot of a twin whose files manifest is in parts', () => {
    let rig: UnitRig
    const filesPlugin = () => import('@twinsync/plugin-files')
    before(async () => {
      ;(await filesPlugin()).setSplitFromForTests(8)
      rig = await unitRig([])
      const others = (await builtinProviders()).map((b) => b.provider.name).filter((name) => name !== 'files')
      registerValue(rig.container, Tokens.Config, { path: undefined, values: { providers: { disabled: others } } })
      for (let d = 0; d < 8; d++) {
        for (const f of ['x', 'y']) {
          await mkdir(join(rig.root, `etc/p${d}`), { recursive: true })
          await writeFile(join(rig.root, `etc/p${d}/${f}`), `${d}${f}\n`)
        }
      }
      await rig.twin().init({ formatVersion: 1, machineId: null, hostname: 'unit' })
    })
    after(async () => {
      sinon.restore()
      ;(await filesPlugin()).setSplitFromForTests(undefined)
      await rig?.cleanup()
    })

    it('words the line from the draft\'s two sides without listing either', async () => {
      const snapshot = () => rig.container.resolve(SnapshotService).snapshot()
      await snapshot()
      assert.notEqual(rig.git('ls-tree', '--name-only', 'HEAD', 'system/files/manifest/'), '', 'the manifest is split')
      await pastThisSecond()
      await writeFile(join(rig.root, 'etc/p3/x'), 'changed, longer\n')
      const listed: string[] = []
      const reader = SnapshotDraft.prototype.reader
      sinon.stub(SnapshotDraft.prototype, 'reader').callsFake(function (this: SnapshotDraft, side: 'head' | 'new') {
        const sideReader = reader.call(this, side)
        if (sideReader === undefined) return undefined
        const list = sideReader.list.bind(sideReader)
        return Object.assign(sideReader, { list: (prefix: string) => (listed.push(`${side} ${prefix}`), list(prefix)) }) as TwinReader & { close(): void }
      })
      const result = await snapshot()
      assert.notEqual(result.commit, undefined)
      assert.equal(rig.git('log', '-1', '--format=%s'), 'files: x changed')
      assert.deepEqual(listed, [])
    })
  })
})
