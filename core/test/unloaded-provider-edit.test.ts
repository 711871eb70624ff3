import { strict as assert } from 'node:assert'
import { readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { SnapshotService } from '../src/snapshot/snapshot-service.js'
import { StatusWorkflow } from '../src/services/drift-status.js'
import { notesProvider } from './support/notes-provider.js'
import { unitRig, type UnitRig } from './support/unit-container.js'

/**
 * Session 45 (the lead, from helper docrule's finding): a person's edit of a document whose
 * provider is not loaded (a plugin uninstalled, failing to load, disabled) was committed by the
 * next snapshot as the machine's observed state: once the plugin was back the ask read as drift,
 * and the snapshot after wrote the machine's value over it, with nothing said. The edit is held
 * now (IntentService.holds, unloadedOwner in provider-manifest.ts).
 */
describe("an edit of a document whose provider is not loaded", function () {
  this.timeout(60_000)
  let rig: UnitRig
  const asked = '{"text":"asked\\n"}\n'
  const machine = '{"text":"as it is\\n"}\n'

  beforeEach(async () => {
    rig = await unitRig([notesProvider('notes'), notesProvider('other')])
    await writeFile(join(rig.root, 'etc/notes'), 'as it is\n')
    await rig.twin().init({ formatVersion: 1, machineId: null, hostname: 'unit' })
    await rig.container.resolve(SnapshotService).snapshot()
  })
  afterEach(() => rig?.cleanup())

  /** The same root and twin, a run where only the `other` provider loads (its plugin's `notes` gone). */
  const without = () => unitRig([notesProvider('other')], { at: { root: rig.root, twinDir: rig.twinDir } })

  it('stays pending through a snapshot that cannot load its provider: the commit keeps the last snapshot\'s document, the working twin the edit; asked again once the provider is back', async () => {
    await writeFile(join(rig.twinDir, 'system/notes.json'), asked)
    assert.deepEqual((await rig.container.resolve(StatusWorkflow).status(undefined)).pending.items.map((i) => i.id), ['notes:replace:/etc/notes'])
    const other = await without()
    const missing = await other.container.resolve(StatusWorkflow).status(undefined)
    assert.deepEqual(missing.missing.map((d) => [d.code, d.path]), [['PROVIDER_MISSING', 'system/notes.json']])
    await other.container.resolve(SnapshotService).snapshot()
    assert.equal(`${rig.git('show', 'HEAD:system/notes.json')}\n`, machine, 'the commit holds what the machine was last seen to have')
    assert.equal(`${rig.git('show', 'refs/twinsync/observed:system/notes.json')}\n`, machine)
    assert.equal(await readFile(join(rig.twinDir, 'system/notes.json'), 'utf8'), asked, 'the edit is in the working twin')
    const back = await rig.container.resolve(StatusWorkflow).status(undefined)
    assert.deepEqual(back.pending.items.map((i) => i.id), ['notes:replace:/etc/notes'], 'still asked')
    assert.equal(back.drift, false, 'not read as drift')
    // A second snapshot with the provider back keeps it too (it is intent, held as any edit).
    await rig.container.resolve(SnapshotService).snapshot()
    assert.equal(await readFile(join(rig.twinDir, 'system/notes.json'), 'utf8'), asked)
  })

  it("a removed document of a provider not loaded is committed (the way out PROVIDER_MISSING names), and nothing is missing after", async () => {
    await rm(join(rig.twinDir, 'system/notes.json'))
    const other = await without()
    await other.container.resolve(SnapshotService).snapshot()
    assert.doesNotMatch(rig.git('ls-tree', '--name-only', 'HEAD', 'system/'), /notes\.json/)
    assert.deepEqual((await other.container.resolve(StatusWorkflow).status(undefined)).missing, [])
  })
})
