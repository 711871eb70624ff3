import { strict as assert } from 'node:assert'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { LocalHost, RecordingHost, TwinSyncError, isTwinSyncError } from '@twinsync/sdk'
import { ApplyService } from '../src/apply/apply-service.js'
import { renderStatus } from '../src/cli/render.js'
import { ReconcileService } from '../src/intent/reconcile-service.js'
import { Planner } from '../src/plan/planner.js'
import { excludeChanges } from '../src/plan/exclude-changes.js'
import { StatusWorkflow, inSync, statusExitCode } from '../src/services/drift-status.js'
import { SnapshotService } from '../src/snapshot/snapshot-service.js'
import { Tokens, registerValue } from '../src/tokens.js'
import { createTuiServices } from '../src/tui/services.js'
import { notesProvider } from './support/notes-provider.js'
import { unitRig, type UnitRig } from './support/unit-container.js'

const ONCE = 'commands:plans/once.yaml#1'
const FAILS = 'commands:plans/once.yaml#2'
const EVERY = 'commands:plans/once.yaml#3'

/**
 * Session 45: a run-once command of plans/ that has not run was invisible to `status` ("In sync",
 * --exit-code 0, the panel's count 0) though `plan` and `apply` would run it. It is pending now, by
 * the planner's own rule (judgeCommands in planned-commands.ts), until it ran or leaves plans/.
 */
describe('a run-once command not run yet is pending in status', function () {
  this.timeout(60_000)
  let rig: UnitRig

  beforeEach(async () => {
    rig = await unitRig([notesProvider('notes')])
    // The target's `false` fails, as a real one would; everything else succeeds (recorded, not run).
    registerValue(rig.container, Tokens.Host, new RecordingHost(new LocalHost(rig.root), { exec: (command) => (command === 'false' ? { exitCode: 1 } : undefined) }))
    await writeFile(join(rig.root, 'etc/notes'), 'as it is\n')
    await rig.twin().init({ formatVersion: 1, machineId: null, hostname: 'unit' })
    await rig.container.resolve(SnapshotService).snapshot()
    await mkdir(join(rig.twinDir, 'plans'), { recursive: true })
    await writeFile(join(rig.twinDir, 'plans/once.yaml'), 'actions:\n  - run: [touch, /root/mark]\n  - run: ["false"]\n  - run: ["true"]\n    once: false\n')
  })
  afterEach(() => rig?.cleanup())

  const status = (only?: string[]) => rig.container.resolve(StatusWorkflow).status(only)
  const plan = () => rig.container.resolve(Planner).plan()
  const apply = async (acceptHighRisk = true) => rig.container.resolve(ApplyService).apply({ plan: await plan(), fromFile: false, signal: new AbortController().signal, acceptHighRisk })
  const line = (args: readonly string[]) => ['twinsync', ...args].join(' ')
  const pendingIds = async () => (await status()).pending.items.map((i) => i.id)

  it('lists each one a plan would run (never an every-time one), with its reason and next step; status is not in sync (exit 1 with --exit-code)', async () => {
    const s = await status()
    assert.deepEqual(s.pending.items.map((i) => i.id), [ONCE, FAILS], JSON.stringify(s.pending))
    // The planner's own judgement: the run-once commands of its plan, no more, no fewer.
    const planned = (await plan()).changes.filter((c) => c.provider === 'commands' && (c.data as { once: boolean }).once).map((c) => c.id)
    assert.deepEqual(planned, [ONCE, FAILS])
    assert.equal(s.pending.count, 2)
    assert.deepEqual(s.pending.domains, [{ category: 'commands', count: 2 }])
    assert.equal(s.drift, false)
    const once = s.pending.items[0]
    assert.equal(once?.reason, 'a run-once command of plans/once.yaml, not run here yet: system/journal/commands.json has no record of it')
    assert.match(once?.nextStep ?? '', /^`twinsync apply --root \S+ --repo \S+` runs it once \(system\/journal\/commands\.json then records it\); to drop it, take the action out of plans\/once\.yaml \(or remove the file\) in the twin$/)
    assert.equal(inSync(s), false)
    assert.equal(statusExitCode(s, true), 1)
    assert.equal(statusExitCode(s, false), 0)
    const text = renderStatus(s, line)
    assert.doesNotMatch(text, /In sync/)
    assert.match(text, /Pending: the twin asks for what the machine does not have yet \(2 commands\)\. `twinsync apply` does it; `twinsync discard ITEM` drops one \(a command of plans\/: take it out of its file\)\./)
    assert.match(text, /commands:plans\/once\.yaml#1 {2}the twin asks to run touch \/root\/mark \(a run-once command of plans\/once\.yaml, not run here yet: system\/journal\/commands\.json has no record of it\)\n {6}Next step: `twinsync apply --root \S+ --repo \S+` runs it once/)
    // The panel's status line counts them (the same service).
    const panel = await createTuiServices(async () => rig.container, { configPath: join(rig.dir, 'config.yaml') })
    assert.deepEqual(await panel.drift(new AbortController().signal), { drift: false, changes: 0, pending: 2, missing: 0, setAside: false, failed: 0, halfDone: 0 })
    // --only of another domain leaves them out, as it leaves out every other domain's items.
    assert.equal((await status(['startup'])).pending.count, 0)
    assert.equal((await status(['commands'])).pending.count, 2)
  })

  it('stays pending through a snapshot and a declined apply; a failed one with what the last apply did; gone once it ran or left plans/', async () => {
    await rig.container.resolve(SnapshotService).snapshot()
    assert.match(rig.git('ls-files', 'plans'), /plans\/once\.yaml/, 'the snapshot committed plans/')
    assert.deepEqual(await pendingIds(), [ONCE, FAILS])
    // Declined: changes that run code as root not accepted (`--accept-high-risk` not given, or "no" at the prompt).
    await assert.rejects(apply(false), (e: unknown) => isTwinSyncError(e))
    assert.deepEqual(await pendingIds(), [ONCE, FAILS])

    const report = await apply()
    assert.deepEqual(report.journal.steps.map((s) => [s.id, s.status]), [[ONCE, 'applied'], [FAILS, 'failed'], [EVERY, 'applied']])
    const after = await status()
    assert.deepEqual(after.pending.items.map((i) => i.id), [FAILS], 'the one that ran is recorded, the every-time one never pending')
    const failed = after.pending.items[0]
    const at = report.journal.startedAt.replace(/\.\d{3}Z$/, 'Z')
    assert.equal(failed?.reason, `failed in the apply of ${at}: false exited 1`)
    assert.deepEqual(failed?.lastApply, { at, outcome: 'failed', message: 'false exited 1', journal: report.journalPath })
    assert.match(renderStatus(after, line), /commands:plans\/once\.yaml#2 {2}the twin asks to run false \(failed in the apply of .*: false exited 1\)/)
    // The panel's status line: `pending: 1 (1 failed)`.
    const panel = await createTuiServices(async () => rig.container, { configPath: join(rig.dir, 'config.yaml') })
    assert.deepEqual(await panel.drift(new AbortController().signal), { drift: false, changes: 0, pending: 1, missing: 0, setAside: false, failed: 1, halfDone: 0 })
    // The twin's record lost its entry (a hand edit, a history taken over): the plan runs it again
    // with COMMAND_RAN_BEFORE, and status says the same of it (the planner's words and next step).
    const record = join(rig.twinDir, 'system/journal/commands.json')
    const kept = await readFile(record, 'utf8')
    await writeFile(record, '{}\n')
    const again = await status()
    assert.deepEqual(again.pending.items.map((i) => [i.id, i.code]), [[ONCE, 'COMMAND_RAN_BEFORE'], [FAILS, undefined]])
    assert.match(again.pending.items[0]?.reason ?? '', /^it ran on this machine at 2026-\S+ \(the last snapshot's system\/journal\/commands\.json\), but the twin's record no longer has it: applying runs it again$/)
    assert.match(again.pending.items[0]?.nextStep ?? '', /git checkout refs\/twinsync\/observed -- system\/journal\/commands\.json/)
    assert.ok((await plan()).diagnostics.some((d) => d.code === 'COMMAND_RAN_BEFORE' && d.summary.startsWith(`run touch /root/mark (${ONCE}): it ran on this machine`)))
    await writeFile(record, kept)
    // Asked otherwise since (another argument list under the same id): the old failure is not this ask's.
    await writeFile(join(rig.twinDir, 'plans/once.yaml'), 'actions:\n  - run: [touch, /root/mark]\n  - run: ["false", again]\n')
    assert.equal((await status()).pending.items[0]?.lastApply, undefined)
    assert.match((await status()).pending.items[0]?.reason ?? '', /^a run-once command of plans\/once\.yaml, not run here yet/)

    // `discard` takes no command (it puts back providers' files): said so, with the way that drops it.
    await assert.rejects(rig.container.resolve(ReconcileService).discard([FAILS]), (e: unknown) => isTwinSyncError(e) && e.code === 'ITEM_UNKNOWN' && /"commands:plans\/once\.yaml#2" is a command of plans\/once\.yaml: discard puts back edits of the providers' files, not commands/.test(e.message) && /^Take the action out of plans\/once\.yaml \(or remove the file\) in the twin/.test(e.nextStep ?? ''))
    await assert.rejects(rig.container.resolve(ReconcileService).discard(['commands']), (e: unknown) => isTwinSyncError(e) && e.code === 'ITEM_UNKNOWN' && /is the commands of plans\//.test(e.message))
    await rm(join(rig.twinDir, 'plans/once.yaml'))
    const none = await status()
    assert.deepEqual(none.pending.items, [])
    assert.equal(inSync(none), true)
  })

  // Session 46: a command left out in the control panel's apply kept the default reason ("not run
  // here yet"); a provider's item left out says "left out of the apply of T". The journal now
  // records the commands left out (ApplyJournal.leftOut), as it records a failed step.
  it('one left out of an apply (the control panel\'s choice) says "left out of the apply of T", with lastApply; asked otherwise since, the default again', async () => {
    const full = await plan()
    const leftOut = full.changes.filter((c) => c.id === ONCE)
    const report = await rig.container.resolve(ApplyService).apply({ plan: excludeChanges(full, [ONCE]).plan, leftOut, fromFile: false, signal: new AbortController().signal, acceptHighRisk: true })
    assert.deepEqual(report.journal.leftOut, [{ id: ONCE, provider: 'commands', summary: leftOut[0]?.summary }])
    const at = report.journal.startedAt.replace(/\.\d{3}Z$/, 'Z')
    const s = await status()
    assert.deepEqual(s.pending.items.map((i) => i.id), [ONCE, FAILS])
    assert.equal(s.pending.items[0]?.reason, `left out of the apply of ${at}`)
    assert.deepEqual(s.pending.items[0]?.lastApply, { at, outcome: 'left out', journal: report.journalPath })
    assert.equal(s.pending.items[1]?.reason, `failed in the apply of ${at}: false exited 1`)
    // Asked otherwise since (another argument list under the same id): not what that apply left out.
    await writeFile(join(rig.twinDir, 'plans/once.yaml'), 'actions:\n  - run: [touch, /root/other]\n  - run: ["false"]\n')
    assert.match((await status()).pending.items[0]?.reason ?? '', /^a run-once command of plans\/once\.yaml, not run here yet/)
  })

  // Session 45 (the lead): a plans/ file `plan` refuses left status "In sync" (exit 0), its ask lost
  // from sight; it is a part not compared now, with the plan's own code and next step.
  it('a plans/ file the planner refuses is a part not compared (exit 1), with the plan\'s code; the other parts still compared', async () => {
    await writeFile(join(rig.twinDir, 'plans/once.yaml'), 'actions:\n  - run: 42\n')
    await assert.rejects(plan(), (e: unknown) => isTwinSyncError(e) && e.code === 'PLAN_INVALID')
    const s = await status()
    assert.deepEqual(s.unread.map((d) => [d.code, d.provider]), [['PLAN_INVALID', 'commands']], JSON.stringify(s.unread))
    assert.match(s.unread[0]?.summary ?? '', /^commands of plans\/: .*plans\/once\.yaml/)
    assert.equal(inSync(s), false)
    assert.equal(statusExitCode(s, false), 1)
    const text = renderStatus(s, line)
    assert.match(text, /^NOT in sync: 1 part of the twin not compared\.\nNot compared: commands of plans\/: /)
    assert.deepEqual(s.pending.items, [])
    // --only of another domain does not read plans/.
    assert.deepEqual((await status(['startup'])).unread, [])
  })

  // Session 45's review (L4): every coded error of reading the commands but ABORTED became "Not
  // compared: commands of plans/: …", git's failure and a lock held among them, blaming plans/.
  it("git's failure or a lock held while the commands are read is said as what it is (its own code and next step), not as a fault of plans/", async () => {
    const planner = rig.container.resolve(Planner)
    rig.container.register(Planner, { useValue: planner })
    const failures = [
      new TwinSyncError('GIT_FAILED', 'git cat-file failed: fatal: unable to read tree 0123', { nextStep: 'Check the twin with `git fsck`.' }),
      new TwinSyncError('LOCK_HELD', 'Another TwinSync apply (pid 4242) is using the twin', { nextStep: 'Wait for it to finish, then run the command again.' }),
    ]
    for (const failure of failures) {
      planner.commands = async () => {
        throw failure
      }
      await assert.rejects(status(), (e: unknown) => e === failure, failure.code)
    }
    // The plans/ family is still a part not compared, and only that family blames plans/.
    planner.commands = async () => {
      throw new TwinSyncError('SCRIPT_INVALID', 'plans/once.yaml: script x is not in the twin\'s scripts/ folder')
    }
    assert.deepEqual((await status()).unread.map((d) => [d.code, d.provider]), [['SCRIPT_INVALID', 'commands']])
  })
})
