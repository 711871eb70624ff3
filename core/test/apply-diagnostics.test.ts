import { strict as assert } from 'node:assert'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { ChangeResult, Diagnostic } from '@twinsync/sdk'
import { warningDiagnostic } from '@twinsync/sdk'
import type { ApplyJournal } from '../src/apply/journal.js'
import { CliApply } from '../src/cli/apply.js'
import { SnapshotWorkflow } from '../src/services/take-snapshot.js'
import { createTuiServices } from '../src/tui/services.js'
import { notesProvider } from './support/notes-provider.js'
import { serviceRig, type ServiceRig } from './support/service-rig.js'

const CHANGE = 'notes:replace:/etc/notes'

/** A provider that says something about its change while applying, and about the apply as a whole. */
function talkativeNotes() {
  const notes = notesProvider('notes')
  const apply = notes.apply.bind(notes)
  notes.apply = async (request) => {
    const done = await apply({ ...request, onResult: () => undefined })
    const results: ChangeResult[] = done.results.map((r) => ({ ...r, diagnostics: [warningDiagnostic('NOTES_SLOW', 'the notes disk is slow')] }))
    for (const r of results) request.onResult?.(r)
    const diagnostics: Diagnostic[] = [
      warningDiagnostic('NOTES_BACKUP', 'kept a backup as /etc/notes~', { change: CHANGE }),
      warningDiagnostic('NOTES_INDEX', 'the notes index will be rebuilt at the next boot'),
    ]
    return { results, diagnostics }
  }
  return notes
}

/** Diagnostics of an apply are kept: in the journal, in --json, in the text and in the TUI's report. */
describe('apply diagnostics are kept', function () {
  this.timeout(60_000)
  let rig: ServiceRig
  beforeEach(async () => {
    rig = await serviceRig([talkativeNotes()])
    await mkdir(join(rig.root, 'etc'))
    await writeFile(join(rig.root, 'etc/notes'), 'as it is\n')
    await (await rig.container()).resolve(SnapshotWorkflow).take({ init: true, ifChanged: false })
    await writeFile(join(rig.twinDir, 'system/notes.json'), `${JSON.stringify({ text: 'wanted\n' })}\n`)
  })
  afterEach(() => rig.cleanup())

  const check = (journal: ApplyJournal) => {
    const step = journal.steps.find((s) => s.id === CHANGE)
    assert.deepEqual(
      step?.diagnostics?.map((d) => [d.code, d.provider, d.change]),
      [
        ['NOTES_SLOW', 'notes', CHANGE],
        ['NOTES_BACKUP', 'notes', CHANGE],
      ],
    )
    assert.deepEqual(journal.diagnostics.map((d) => [d.code, d.provider, d.change]), [['NOTES_INDEX', 'notes', undefined]])
  }

  it('`twinsync apply --json`: in the output and in the journal committed to the twin', async () => {
    const r = await (await rig.container()).resolve(CliApply).run({ planFile: undefined, yes: true, json: true })
    const out = r.json as { journal: ApplyJournal; journalPath: string }
    check(out.journal)
    const committed = JSON.parse(await readFile(join(rig.twinDir, out.journalPath), 'utf8')) as ApplyJournal
    check(committed)
  })

  it('`twinsync apply`: beneath the change, and the later ones with the change they name', async () => {
    const lines: string[] = []
    const write = process.stdout.write.bind(process.stdout)
    process.stdout.write = ((chunk: string) => (lines.push(String(chunk)), true)) as typeof process.stdout.write
    try {
      await (await rig.container()).resolve(CliApply).run({ planFile: undefined, yes: true, json: false })
    } finally {
      process.stdout.write = write
    }
    const text = lines.join('')
    assert.match(text, /applied +Replace \/etc\/notes\n {15}warning: notes: the notes disk is slow \[NOTES_SLOW\]\n/)
    assert.match(text, /^warning: notes: kept a backup as \/etc\/notes~ \[Replace \/etc\/notes\]$/m)
    assert.match(text, /^warning: notes: the notes index will be rebuilt at the next boot$/m)
  })

  it('the TUI service: in the report, and live with each result', async () => {
    const tui = await createTuiServices(rig.container, { configPath: rig.configPath })
    const live: ChangeResult[] = []
    const report = await tui.apply({ plan: await tui.plan({ signal: new AbortController().signal }), leftOut: [], signal: new AbortController().signal, onResult: (_c, r) => live.push(r) })
    check(report.journal)
    assert.deepEqual(live[0]?.diagnostics?.map((d) => [d.code, d.change]), [['NOTES_SLOW', CHANGE]])
  })
})
