import { strict as assert } from 'node:assert'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { isTwinSyncError } from '@twinsync/sdk'
import { ReconcileService } from '../src/intent/reconcile-service.js'
import { SnapshotService } from '../src/snapshot/snapshot-service.js'
import { notesProvider } from './support/notes-provider.js'
import { unitRig, type UnitRig } from './support/unit-container.js'

/**
 * Session 46: `adopt` of an item, a provider or a domain whose provider is not present on this
 * machine (its detect() says so) said ITEM_UNKNOWN ("No drift item …"), as if the name were
 * wrong. It is PROVIDER_NOT_DETECTED now, the plan's code for such a provider, with its reason and
 * `twinsync providers` as the next step; in ReconcileService, so the panel's adopt says it too.
 */
describe('adopt of a provider that is not present on the target', function () {
  this.timeout(30_000)
  let rig: UnitRig
  let present = true
  const notes = notesProvider('notes', { detect: async () => (present ? { detected: true, diagnostics: [] } : { detected: false, reason: 'no /etc/notes here', diagnostics: [] }) })
  const other = notesProvider('other')

  beforeEach(async () => {
    present = true
    rig = await unitRig([notes, other])
    await writeFile(join(rig.root, 'etc/notes'), 'one\n')
    await writeFile(join(rig.root, 'etc/other'), 'x\n')
    await rig.twin().init({ formatVersion: 1, machineId: null, hostname: 'unit' })
    await rig.container.resolve(SnapshotService).snapshot()
  })
  afterEach(() => rig?.cleanup())

  const adopt = (...selectors: string[]) => rig.container.resolve(ReconcileService).adopt(selectors)

  it('an item or the provider: PROVIDER_NOT_DETECTED naming it and why, `twinsync providers` as the next step; nothing written', async () => {
    const head = rig.git('rev-parse', 'HEAD')
    present = false
    for (const selector of ['notes:replace:/etc/notes', 'notes']) {
      await assert.rejects(adopt(selector), (e: unknown) => {
        assert.ok(isTwinSyncError(e), String(e))
        assert.equal(e.code, 'PROVIDER_NOT_DETECTED', `${selector}: ${e.message}`)
        assert.equal(e.message, 'Nothing was adopted: the notes provider (no /etc/notes here) is not present on the target, so there is nothing of the machine to record for it')
        assert.match(e.nextStep ?? '', /^The twin is as it was\. `twinsync providers --root \S+ --repo \S+` lists each provider and whether it is present on the target\.$/)
        assert.equal(e.exitCode, 2)
        return true
      })
    }
    assert.equal(rig.git('rev-parse', 'HEAD'), head, 'nothing committed')
    // A domain another present provider serves too is adopted as before: there, only what drifted.
    await writeFile(join(rig.root, 'etc/other'), 'y\n')
    const decision = await adopt('startup')
    assert.deepEqual(decision.items.map((i) => i.id), ['other:replace:/etc/other'])
    // An item of no provider is still ITEM_UNKNOWN.
    await assert.rejects(adopt('nope:replace:/x'), (e: unknown) => isTwinSyncError(e) && e.code === 'ITEM_UNKNOWN')
  })
})
