import { strict as assert } from 'node:assert'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { stripVTControlCharacters } from 'node:util'
import { isTwinSyncError } from '@twinsync/sdk'
import { FORGET_RECORD } from '../../src/history/forget-record.js'
import { SnapshotService } from '../../src/snapshot/snapshot-service.js'
import { createTuiServices, type TuiServices } from '../../src/tui/services.js'
import { notesProvider } from '../support/notes-provider.js'
import { unitRig, type UnitRig } from '../support/unit-container.js'
import { openPanel } from './harness.js'

// One rule in one place (session 17): an interrupted `forget` (its record in .git/twinsync) makes
// every command refuse the twin until forget runs again (TwinRepository.open). The panel's real
// services over the same container: each refuses the same way, and the panel shows the next step.
describe('an unfinished forget: the TUI refuses the twin as every command does (FORGET_UNFINISHED)', function () {
  this.timeout(30_000)
  let rig: UnitRig
  let services: TuiServices
  const signal = new AbortController().signal

  before(async () => {
    rig = await unitRig([notesProvider('notes')])
    await rig.twin().init({ formatVersion: 1, machineId: null, hostname: 'unit' })
    await rig.container.resolve(SnapshotService).snapshot()
    writeFileSync(join(rig.twinDir, FORGET_RECORD), JSON.stringify({ version: 1, head: null, removed: ['system/notes.json'], redacted: [], rewritten: 0, commits: 1 }))
    services = await createTuiServices(async () => rig.container, { configPath: join(rig.dir, 'config.yaml') })
  })
  after(() => rig.cleanup())

  const code = async (work: () => Promise<unknown>) => {
    try {
      await work()
    } catch (error) {
      return isTwinSyncError(error) ? error.code : String(error)
    }
    return 'not refused'
  }

  it('snapshot, plan, apply, history, show, adopt and the status line\'s reads all refuse with FORGET_UNFINISHED', async () => {
    const refused = {
      snapshot: await code(() => services.snapshot({ signal, onProgress: () => undefined })),
      plan: await code(() => services.plan({ signal })),
      apply: await code(() => services.apply({ plan: { formatVersion: 1, basis: { twinCommit: null, fingerprints: {} }, changes: [], edges: [], diagnostics: [] } as never, leftOut: [], signal })),
      history: await code(() => services.history(5)),
      show: await code(() => services.show('HEAD')),
      adopt: await code(() => services.decide('adopt', ['notes'])),
      lastSnapshot: await code(() => services.lastSnapshot()),
      drift: await code(() => services.drift(signal)),
    }
    for (const [what, got] of Object.entries(refused)) assert.equal(got, 'FORGET_UNFINISHED', what)
    const check = await services.checkTwin()
    assert.equal(check.ok, false)
    assert.equal(check.problem?.code, 'FORGET_UNFINISHED')
    assert.match(check.problem?.nextStep ?? '', /twinsync forget/)
  })

  it('the History screen shows the code and its next step in the error box', async () => {
    const panel = openPanel(services, [{ name: 'menu' }, { name: 'history' }])
    try {
      const frame = stripVTControlCharacters(await panel.waitFor('FORGET_UNFINISHED', 10_000))
      assert.match(frame.replace(/\s+/g, ' '), /Next step: Run `twinsync forget [^`]*` again/)
    } finally {
      panel.unmount()
    }
  })
})
