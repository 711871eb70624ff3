import { strict as assert } from 'node:assert'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { DESCRIPTION_EDIT_NOT_APPLIED } from '../src/intent/description-edits.js'
import { IntentService } from '../src/intent/intent-service.js'
import { ReconcileService } from '../src/intent/reconcile-service.js'
import { Planner } from '../src/plan/planner.js'
import { SnapshotService } from '../src/snapshot/snapshot-service.js'
import { notesProvider, uptimeProvider } from './support/notes-provider.js'
import { unitRig, type UnitRig } from './support/unit-container.js'

/**
 * A document (or a part of one) that only describes the machine — cron.json beside the crontab
 * files, a unit's vendor preset, a fact — is never applied; "the provider plans nothing" is no
 * proof the machine has it. A person's edit of one stays pending, said with its code and where
 * the real thing lives, across snapshots, until discarded or until the machine comes to match it.
 */
describe('IntentService: an edit of what only describes the machine is never dropped', function () {
  this.timeout(30_000)
  let rig: UnitRig

  /**
   * `notes`: /etc/notes is applied from system/notes.json's "text"; its "lines" (a count) only
   * describes the file, and so does the whole of system/notes-summary.json (declared). `uptime`:
   * a fact provider (no apply) with system/uptime.json.
   */
  const notes = notesProvider('notes', {
    twinPaths: ['system/notes.json', 'system/notes-summary.json'],
    describes: [
      { path: 'system/notes.json', keys: ['lines'], appliedFrom: 'The line count follows from the text: edit "text"' },
      { path: 'system/notes-summary.json', appliedFrom: 'The summary describes /etc/notes: edit "text" in system/notes.json' },
    ],
    async collect({ ctx }) {
      const text = (await ctx.host.readTextIfExists('/etc/notes')) ?? ''
      const lines = text.split('\n').length - 1
      return {
        state: { text },
        documents: [
          { path: 'system/notes.json', content: `${JSON.stringify({ lines, text }, null, 2)}\n` },
          { path: 'system/notes-summary.json', content: `${JSON.stringify({ first: text.split('\n')[0] }, null, 2)}\n` },
        ],
        diagnostics: [],
      }
    },
  })
  const uptime = uptimeProvider()

  const twinFile = (path: string) => readFile(join(rig.twinDir, path), 'utf8')
  const json = async (path: string) => JSON.parse(await twinFile(path)) as Record<string, unknown>
  const edit = async (path: string, change: (d: Record<string, unknown>) => void) => {
    const d = await json(path)
    change(d)
    await writeFile(join(rig.twinDir, path), `${JSON.stringify(d, null, 2)}\n`)
  }
  const snapshot = () => rig.container.resolve(SnapshotService).snapshot()
  const pending = () => rig.container.resolve(IntentService).pending()
  const intendedRef = () => {
    try {
      return rig.git('rev-parse', '--verify', '--quiet', 'refs/twinsync/intended')
    } catch {
      return ''
    }
  }

  beforeEach(async () => {
    rig = await unitRig([notes, uptime])
    await writeFile(join(rig.root, 'etc/notes'), 'one\ntwo\n')
    await writeFile(join(rig.root, 'etc/uptime'), '3\n')
    await rig.twin().init({ formatVersion: 1, machineId: null, hostname: 'unit' })
    await snapshot()
  })
  afterEach(() => rig?.cleanup())

  it('a whole described document edited and committed with git: pending with its code and next step, kept through snapshots, the intent recorded', async () => {
    await edit('system/notes-summary.json', (d) => (d.first = 'asked for'))
    rig.git('commit', '-qam', 'a person edits the summary')
    const before = await pending()
    assert.deepEqual(
      before.items.map((i) => ({ id: i.id, code: i.code, provider: i.provider })),
      [{ id: 'notes:describe:system/notes-summary.json', code: DESCRIPTION_EDIT_NOT_APPLIED, provider: 'notes' }],
    )
    assert.match(before.items[0]?.nextStep ?? '', /edit "text" in system\/notes.json.*twinsync discard notes:describe:system\/notes-summary.json/)
    assert.match(before.items[0]?.reason ?? '', /^never applied/)

    await snapshot()
    assert.equal((await json('system/notes-summary.json')).first, 'asked for', 'the next snapshot did not write the machine\'s over the edit')
    assert.ok(intendedRef(), 'the edit is recorded in refs/twinsync/intended')
    await writeFile(join(rig.root, 'etc/uptime'), '4\n')
    await snapshot()
    assert.equal((await json('system/notes-summary.json')).first, 'asked for', 'nor a snapshot of a machine that moved')
    assert.deepEqual((await pending()).items.map((i) => i.id), ['notes:describe:system/notes-summary.json'])
  })

  it('a described part beside an applied one: the applied part settles once the machine has it, the described part stays until the machine matches it', async () => {
    await edit('system/notes.json', (d) => {
      d.text = 'one\ntwo\nthree\n'
      d.lines = 7
    })
    assert.deepEqual((await pending()).items.map((i) => i.id).sort(), ['notes:describe:system/notes.json#lines', 'notes:replace:/etc/notes'])
    // The apply made the text (written here as the machine): nothing is planned for notes any more.
    await writeFile(join(rig.root, 'etc/notes'), 'one\ntwo\nthree\n')
    await snapshot()
    assert.deepEqual(await json('system/notes.json'), { lines: 7, text: 'one\ntwo\nthree\n' }, 'the asked-for line count kept, the text the machine\'s')
    const after = await pending()
    assert.deepEqual(after.items.map((i) => [i.id, i.code]), [['notes:describe:system/notes.json#lines', DESCRIPTION_EDIT_NOT_APPLIED]])
    assert.match(after.items[0]?.summary ?? '', /set lines in system\/notes.json to 7/)
    // The machine comes to match it: nothing is pending, no intent left.
    await writeFile(join(rig.root, 'etc/notes'), 'a\nb\nc\nd\ne\nf\ng\n')
    await snapshot()
    assert.deepEqual((await pending()).items, [])
    assert.equal(intendedRef(), '')
    assert.equal(rig.git('status', '--porcelain'), '')
  })

  it('a fact (its provider applies nothing) edited: pending and kept, where before the snapshot wrote over it', async () => {
    await edit('system/uptime.json', (d) => (d.days = '100'))
    assert.deepEqual((await pending()).items.map((i) => [i.id, i.category, i.code]), [['uptime:describe:system/uptime.json', 'facts', DESCRIPTION_EDIT_NOT_APPLIED]])
    await writeFile(join(rig.root, 'etc/uptime'), '5\n')
    await snapshot()
    assert.equal(rig.git('show', 'HEAD:system/uptime.json').includes('"5"'), true, 'the snapshot commit holds the machine')
    assert.equal((await json('system/uptime.json')).days, '100', 'the working twin holds the edit')
    assert.deepEqual((await pending()).items.map((i) => i.id), ['uptime:describe:system/uptime.json'])
  })

  it('plan says it (a warning with the code and the next step), never "nothing to do" in silence', async () => {
    await edit('system/notes-summary.json', (d) => (d.first = 'asked for'))
    const plan = await rig.container.resolve(Planner).plan()
    assert.deepEqual(plan.changes, [])
    const said = plan.diagnostics.filter((d) => d.code === DESCRIPTION_EDIT_NOT_APPLIED)
    assert.equal(said.length, 1)
    assert.equal(said[0]?.severity, 'warning')
    assert.equal(said[0]?.change, 'notes:describe:system/notes-summary.json')
    assert.match(said[0]?.detail ?? '', /twinsync discard/)
  })

  it('discard by id drops only that place; discard by domain drops a fact; then nothing is pending', async () => {
    await edit('system/notes.json', (d) => {
      d.text = 'new\n'
      d.lines = 9
    })
    await edit('system/uptime.json', (d) => (d.days = '100'))
    const reconcile = rig.container.resolve(ReconcileService)
    const one = await reconcile.discard(['notes:describe:system/notes.json#lines'])
    assert.deepEqual(one.items.map((i) => i.id), ['notes:describe:system/notes.json#lines'])
    assert.deepEqual(await json('system/notes.json'), { lines: 2, text: 'new\n' }, 'the planned text stays asked for')
    assert.deepEqual((await pending()).items.map((i) => i.id).sort(), ['notes:replace:/etc/notes', 'uptime:describe:system/uptime.json'])
    await reconcile.discard(['facts', 'notes'])
    assert.deepEqual((await pending()).items, [])
    assert.equal(rig.git('status', '--porcelain'), '')
    assert.match(rig.git('log', '-2', '--format=%s'), /TwinSync discard .*uptime:describe:system\/uptime.json/)
  })
})
