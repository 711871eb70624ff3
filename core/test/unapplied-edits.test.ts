import { strict as assert } from 'node:assert'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Change, UnappliedPlace } from '@twinsync/sdk'
import { DESCRIPTION_EDIT_NOT_APPLIED, editsOf, keepEdits, dropEdits } from '../src/intent/description-edits.js'
import { IntentService } from '../src/intent/intent-service.js'
import { ReconcileService } from '../src/intent/reconcile-service.js'
import { Planner } from '../src/plan/planner.js'
import { SnapshotService } from '../src/snapshot/snapshot-service.js'
import { notesProvider, type NotesState } from './support/notes-provider.js'
import { unitRig, type UnitRig } from './support/unit-container.js'

/**
 * An edit whose meaning depends on its value (an apt version without a pin, a unit state no verb
 * makes, a unit taken out of units.json): the provider's plan turns it into nothing, so "nothing
 * planned" used to let the next snapshot write the machine's value over it, silently. A provider
 * names such places (Provider.unapplied) and the one description-edit rule keeps them: in the
 * twin through snapshots, pending with DESCRIPTION_EDIT_NOT_APPLIED, until discarded or matched.
 */
describe('IntentService: a value its provider\'s plan leaves out (Provider.unapplied) is never dropped', function () {
  this.timeout(30_000)
  let rig: UnitRig

  /** `notes` writes /etc/notes from "text", but never empties it: an empty text is planned as nothing. */
  const unappliedCalls: Array<{ desired: NotesState; actual: NotesState; changes: readonly Change[] }> = []
  const notes = notesProvider('notes', {
    diff({ desired, actual }) {
      if (desired.text === actual.text || desired.text === '') return { changes: [], diagnostics: [] }
      const change: Change = { id: 'notes:replace:/etc/notes', provider: 'notes', category: 'startup', operation: 'replace', resource: '/etc/notes', summary: 'Replace /etc/notes', risk: 'low', data: { action: 'write', path: '/etc/notes', text: desired.text } }
      return { changes: [change], diagnostics: [] }
    },
    unapplied({ desired, actual, changes }) {
      unappliedCalls.push({ desired, actual, changes })
      const places: UnappliedPlace[] = []
      if (desired.text !== actual.text && changes.length === 0) places.push({ path: 'system/notes.json', at: ['text'], nextStep: 'An empty text is never written: delete /etc/notes on the machine' })
      // Nonsense a plugin may return: another provider's document, a malformed place. Ignored.
      places.push({ path: 'system/other.json', at: [], nextStep: 'not mine' })
      places.push({ path: 'system/notes.json', at: [42 as unknown as string], nextStep: 'bad step' })
      return places
    },
  })
  const other = notesProvider('other')

  const twinText = (path: string) => readFile(join(rig.twinDir, path), 'utf8')
  const setText = (text: string) => writeFile(join(rig.twinDir, 'system/notes.json'), `${JSON.stringify({ text })}\n`)
  const snapshot = () => rig.container.resolve(SnapshotService).snapshot()
  const pending = () => rig.container.resolve(IntentService).pending()
  const ID = 'notes:describe:system/notes.json#text'

  beforeEach(async () => {
    unappliedCalls.length = 0
    rig = await unitRig([notes, other])
    await writeFile(join(rig.root, 'etc/notes'), 'one\n')
    await writeFile(join(rig.root, 'etc/other'), 'x\n')
    await rig.twin().init({ formatVersion: 1, machineId: null, hostname: 'unit' })
    await snapshot()
  })
  afterEach(() => rig?.cleanup())

  it('the edit the plan leaves out: pending with the code and the provider\'s next step, kept through snapshots (before: the snapshot wrote the machine\'s over it)', async () => {
    await setText('')
    rig.git('commit', '-qam', 'a person empties the notes')
    const before = await pending()
    assert.deepEqual(before.items.map((i) => [i.id, i.code, i.operation]), [[ID, DESCRIPTION_EDIT_NOT_APPLIED, 'describe']])
    assert.match(before.items[0]?.nextStep ?? '', /never written: delete \/etc\/notes.*twinsync discard 'notes:describe:system\/notes.json#text'/)
    assert.match(before.items[0]?.reason ?? '', /^never applied: notes plans nothing for this value/)
    assert.ok(unappliedCalls.some((c) => c.desired.text === '' && c.actual.text === 'one\n' && c.changes.length === 0), 'asked with the twin, the last snapshot and the plan between them')

    await snapshot()
    assert.deepEqual(JSON.parse(await twinText('system/notes.json')), { text: '' }, 'the next snapshot did not write the machine\'s text over the edit')
    await writeFile(join(rig.root, 'etc/other'), 'moved\n')
    await snapshot()
    assert.deepEqual((await pending()).items.map((i) => i.id), [ID], 'nor a snapshot of a machine that moved')
    assert.deepEqual(JSON.parse(rig.git('show', 'refs/twinsync/intended:system/notes.json')), { text: '' }, 'recorded in refs/twinsync/intended')
  })

  it('plan says it as a left-out ask (warning, code, the change id the TUI discards by)', async () => {
    await setText('')
    const plan = await rig.container.resolve(Planner).plan()
    assert.deepEqual(plan.changes, [])
    const said = plan.diagnostics.filter((d) => d.code === DESCRIPTION_EDIT_NOT_APPLIED)
    assert.deepEqual(said.map((d) => [d.severity, d.change]), [['warning', ID]])
    assert.match(said[0]?.summary ?? '', /^Set text in system\/notes.json to "": left out, notes does not apply this value/)
    assert.match(said[0]?.detail ?? '', /twinsync discard/)
  })

  it('discard takes it back to the machine\'s value; nothing is pending', async () => {
    await setText('')
    await snapshot()
    const decision = await rig.container.resolve(ReconcileService).discard([ID])
    assert.deepEqual(decision.items.map((i) => i.id), [ID])
    assert.equal(JSON.parse(await twinText('system/notes.json')).text, 'one\n')
    assert.deepEqual((await pending()).items, [])
  })

  it('the machine comes to match it: nothing pending, the twin clean', async () => {
    await setText('')
    await snapshot()
    await writeFile(join(rig.root, 'etc/notes'), '')
    await snapshot()
    assert.deepEqual((await pending()).items, [])
    assert.equal(rig.git('status', '--porcelain'), '')
    assert.equal(rig.git('for-each-ref', 'refs/twinsync/intended'), '')
  })

  it('a value the plan does apply is an ordinary pending change, not held as unapplied', async () => {
    await setText('two\n')
    assert.deepEqual((await pending()).items.map((i) => i.id), ['notes:replace:/etc/notes'])
  })
})

describe('editsOf with the places a provider\'s plan leaves out', () => {
  const provider = notesProvider('units')
  const doc = (v: unknown) => Buffer.from(JSON.stringify(v))
  const observed = doc({ units: { 'a.service': { state: 'enabled' }, 'b.service': { state: 'static' } } })

  it('a place the intended document leaves out asks for its removal; keep and drop move exactly that place', () => {
    const intended = doc({ units: { 'a.service': { state: 'static' } } })
    const places: UnappliedPlace[] = [
      { path: 'u.json', at: ['units', 'a.service', 'state'], nextStep: 'no verb makes static' },
      { path: 'u.json', at: ['units', 'b.service'], nextStep: 'taking it out changes nothing' },
      { path: 'u.json', at: ['units', 'c.service'], nextStep: 'absent on both sides: no edit' },
    ]
    const edits = editsOf('u.json', provider, [], observed, intended, places)
    assert.deepEqual(edits.map((e) => [e.id, e.summary]), [
      ['units:describe:u.json#units/a.service/state', 'set units.a.service.state in u.json to "static"'],
      ['units:describe:u.json#units/b.service', 'remove units.b.service from u.json'],
    ])
    assert.ok(edits.every((e) => e.unapplied === true))
    // A snapshot of a machine that moved keeps both edits on the machine's document.
    const moved = doc({ units: { 'a.service': { state: 'enabled' }, 'b.service': { state: 'static' }, 'd.service': { state: 'disabled' } } })
    assert.deepEqual(JSON.parse(String(keepEdits(moved, intended, edits))), { units: { 'a.service': { state: 'static' }, 'd.service': { state: 'disabled' } } })
    // Discarding the removal alone puts the unit back, the state edit stays.
    assert.deepEqual(JSON.parse(String(dropEdits(observed, intended, edits.slice(1)))), { units: { 'a.service': { state: 'static' }, 'b.service': { state: 'static' } } })
  })

  it('a place inside an element the machine\'s document lacks is kept with the person\'s element whole, never a half entry', () => {
    const intended = doc({ units: { 'a.service': { state: 'enabled' }, 'b.service': { state: 'static' }, 'n.service': { preset: 'enabled', state: 'static' } } })
    const edits = editsOf('u.json', provider, [], observed, intended, [{ path: 'u.json', at: ['units', 'n.service', 'state'], nextStep: 'no unit file' }])
    assert.equal(edits.length, 1)
    assert.deepEqual(JSON.parse(String(keepEdits(observed, intended, edits))).units['n.service'], { preset: 'enabled', state: 'static' })
  })
})
