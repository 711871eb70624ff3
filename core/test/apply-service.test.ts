import { strict as assert } from 'node:assert'
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { readFile, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Plan } from '@twinsync/sdk'
import { isTwinSyncError, stableStringify, warningDiagnostic } from '@twinsync/sdk'
import { ApplyService, type ApplyOptions } from '../src/apply/apply-service.js'
import { excludeChanges } from '../src/plan/exclude-changes.js'
import { Planner } from '../src/plan/planner.js'
import { PlanWorkflow } from '../src/services/make-plan.js'
import { CliApply } from '../src/cli/apply.js'
import { RemoteService } from '../src/remote/remote-service.js'
import { SnapshotService } from '../src/snapshot/snapshot-service.js'
import { notesProvider, type NotesProvider } from './support/notes-provider.js'
import { unitRig, type UnitRig } from './support/unit-container.js'
import { asGoneRun, killAt } from './support/kill-points.js'
import { machineLockPath, MACHINE_LOCK_DIR } from '../src/apply/machine-lock.js'
import { COMMAND_RAN_UNCHECKED } from '../src/plan/unchecked-runs.js'
import { LOCAL_RUNS_KEPT_ASIDE, keyScreen } from '../src/plan/run-once-keys.js'
import sinon from 'sinon'
import { StatusWorkflow } from '../src/services/drift-status.js'
import { renderPlan } from '../src/cli/render-plan.js'
import { renderStatus } from '../src/cli/render.js'

const failWith = (code: string, message?: RegExp) => (e: unknown) => isTwinSyncError(e) && e.code === code && (message === undefined || message.test(e.message))

/** ApplyService over a child container: the target is a RecordingHost, so an apply is recorded, not made. */
describe('ApplyService', function () {
  this.timeout(30_000)
  let rig: UnitRig
  let notes: NotesProvider
  let other: NotesProvider

  async function setUp(otherOverrides: Parameters<typeof notesProvider>[1] = {}) {
    notes = notesProvider('notes')
    other = notesProvider('other', otherOverrides)
    rig = await unitRig([notes, other])
    await writeFile(join(rig.root, 'etc/notes'), 'as it is\n')
    await writeFile(join(rig.root, 'etc/other'), 'as it is\n')
    await rig.twin().init({ formatVersion: 1, machineId: null, hostname: 'unit' })
    await rig.container.resolve(SnapshotService).snapshot()
    await desire('notes', 'wanted\n')
    await desire('other', 'wanted too\n')
  }
  afterEach(() => rig?.cleanup())

  const desire = (name: string, text: string) => writeFile(join(rig.twinDir, `system/${name}.json`), `${JSON.stringify({ text })}\n`)
  const plan = () => rig.container.resolve(Planner).plan()
  // Changes that run code as root (plans/ commands among them) accepted, as `--accept-high-risk` does:
  // these tests are about what runs and when; the acceptance has its own (high-risk.test.ts).
  const apply = (p: Plan, more: Partial<ApplyOptions> = {}) => rig.container.resolve(ApplyService).apply({ plan: p, fromFile: false, signal: new AbortController().signal, acceptHighRisk: true, ...more })
  const commits = () => Number(rig.git('rev-list', '--count', 'HEAD'))
  const written = () => rig.host.actions.flatMap((a) => (a.kind === 'write' ? [[a.path, a.content]] : []))
  const lockFile = () => join(rig.twinDir, '.git', 'twinsync', 'lock')
  const exists = (path: string) => execFileSync('sh', ['-c', `test -e "$1" && echo yes || echo no`, 'sh', path], { encoding: 'utf8' }).trim() === 'yes'

  it('applies the plan, with a checkpoint before and the journal committed after', async () => {
    await setUp()
    const before = commits()
    const report = await apply(await plan())
    assert.equal(report.exitCode, 0)
    assert.deepEqual(written().sort(), [['/etc/notes', 'wanted\n'], ['/etc/other', 'wanted too\n']])
    assert.deepEqual(report.journal.counts, { applied: 2, unchanged: 0, failed: 0, skipped: 0 })
    assert.equal(commits(), before + 3, 'the edits, the checkpoint and the snapshot after')
    assert.match(rig.git('log', '-1', '--format=%s', report.checkpoint ?? ''), /^TwinSync checkpoint before apply/)
    assert.equal(report.commit, rig.git('rev-parse', 'HEAD'))
    assert.deepEqual(JSON.parse(rig.git('show', `HEAD:${report.journalPath}`)).counts, report.journal.counts)
    assert.deepEqual(report.keptPending, [])
    assert.equal(exists(lockFile()), false, 'the lock is given back')
  })

  it('a full disk when the result is committed: says the changes were made and the record kept (not "nothing was written"); a rerun with room finishes without doing them again', async () => {
    // Session 17, seen with the real CLI on a small tmpfs: "applied Replace /etc/motd", then
    // DISK_FULL "nothing was written and the twin is as it was".
    let full = false
    await setUp({
      async collect({ ctx }) {
        if (full && other.applied.length > 0) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' })
        const text = (await ctx.host.readTextIfExists('/etc/other')) ?? ''
        return { state: { text }, documents: [{ path: 'system/other.json', content: `${JSON.stringify({ text })}\n` }], diagnostics: [] }
      },
    })
    full = true
    const error = await apply(await plan()).then(() => undefined, (e: unknown) => e)
    assert.ok(isTwinSyncError(error) && error.code === 'DISK_FULL', String(error))
    assert.match(error.message, /^The apply ran \(2 applied, 0 unchanged, 0 failed, 0 skipped\), but the disk holding the twin .* is full/)
    assert.doesNotMatch(error.message, /nothing was written/)
    assert.match(error.nextStep ?? '', /run `twinsync apply [^`]*` to finish it/)
    full = false
    const writes = written().length
    const report = await apply(await plan())
    assert.equal(report.exitCode, 0)
    assert.equal(written().length, writes, 'nothing done twice')
  })

  describe('a plan with an error is refused whoever calls', () => {
    it('content its domain refuses: nothing applied, nothing committed', async () => {
      await setUp()
      await desire('notes', 'BAD notes\n')
      const p = await plan()
      assert.equal(p.changes.length, 2, 'the other change alone would be fine')
      const before = commits()
      await assert.rejects(apply(p), failWith('CONTENT_INVALID', /^Nothing was applied/))
      assert.deepEqual(rig.host.actions, [])
      assert.deepEqual([notes.applied, other.applied], [[], []])
      assert.equal(commits(), before, 'no checkpoint, no snapshot')
      assert.equal(exists(lockFile()), false)
    })

    it('a provider\'s failure in the plan: refused, naming the plugin', async () => {
      await setUp({ load: async () => Promise.reject(new TypeError("Cannot read properties of undefined (reading 'text')")) })
      const p = await plan()
      await assert.rejects(apply(p), failWith('PROVIDER_FAILED', /Nothing was applied.*other:.*load\(\)/))
      assert.deepEqual(rig.host.actions, [])
    })
  })

  describe('a change outside its provider\'s scope (outOfScope): never planned, and a plan holding one is refused', () => {
    // "other" manages no text with OUTSIDE in it: its stand-in for a path outside the files include set.
    const scoped = {
      outOfScope: async ({ changes }: { changes: readonly import('@twinsync/sdk').Change[] }) =>
        changes
          .filter((c) => (c.data as { text: string }).text.includes('OUTSIDE'))
          .map((c) => warningDiagnostic('OTHER_OUTSIDE_SCOPE', `${c.summary}: left out, outside`, { change: c.id, detail: 'Widen the scope.' })),
    }

    it('the planner leaves it out and shows why, naming the change; the rest is planned', async () => {
      await setUp(scoped)
      await desire('other', 'OUTSIDE\n')
      const p = await plan()
      assert.deepEqual(p.changes.map((c) => c.id), ['notes:replace:/etc/notes'])
      const said = p.diagnostics.filter((d) => d.code === 'OTHER_OUTSIDE_SCOPE')
      assert.deepEqual(said.map((d) => [d.severity, d.provider, d.change]), [['warning', 'other', 'other:replace:/etc/other']])
    })

    it('apply refuses a forged plan with such a change (PLAN_OUTSIDE_SCOPE, exit 2): nothing applied, nothing committed, lock free', async () => {
      await setUp(scoped)
      const p = await plan()
      const forged: Plan = { ...p, changes: p.changes.map((c) => (c.provider === 'other' ? { ...c, data: { ...(c.data as object), text: 'OUTSIDE\n' } } : c)) }
      const before = commits()
      await assert.rejects(apply(forged), (e: unknown) => failWith('PLAN_OUTSIDE_SCOPE', /^Nothing was applied.*other:replace:\/etc\/other|Replace \/etc\/other: left out/)(e) && isTwinSyncError(e) && e.exitCode === 2)
      assert.deepEqual(rig.host.actions, [])
      assert.deepEqual([notes.applied, other.applied], [[], []])
      assert.equal(commits(), before, 'no checkpoint, no snapshot')
      assert.equal(exists(lockFile()), false)
    })

    it('a provider whose outOfScope() throws: nothing of it is planned, an error names it, and apply refuses', async () => {
      await setUp({ outOfScope: async () => Promise.reject(new TypeError('scope is broken')) })
      const p = await plan()
      assert.deepEqual(p.changes.map((c) => c.provider), ['notes'])
      assert.match(p.diagnostics.find((d) => d.severity === 'error')?.summary ?? '', /other provider failed in outOfScope\(\)/)
      await assert.rejects(apply(p), failWith('PROVIDER_FAILED'))
      assert.deepEqual(rig.host.actions, [])
    })
  })

  it('one at a time: while another run holds the twin lock, LOCK_HELD and nothing applied or committed', async () => {
    await setUp()
    const p = await plan()
    const before = commits()
    const other = await rig.holdLock()
    try {
      await assert.rejects(apply(p), failWith('LOCK_HELD'))
    } finally {
      await other.release()
    }
    assert.deepEqual(rig.host.actions, [])
    assert.equal(commits(), before)
  })

  it('a change left out stays pending in the twin, with its reason; the applied one does not', async () => {
    await setUp()
    const full = await plan()
    const leftOut = full.changes.filter((c) => c.provider === 'other')
    const report = await apply(excludeChanges(full, leftOut.map((c) => c.id)).plan, { leftOut })
    assert.deepEqual(written(), [['/etc/notes', 'wanted\n']])
    assert.deepEqual(report.keptPending, ['system/other.json'])
    assert.equal(JSON.parse(rig.git('show', 'HEAD:system/other.json')).text, 'as it is\n', 'the snapshot after records the machine')
    assert.equal(JSON.parse(await readFile(join(rig.twinDir, 'system/other.json'), 'utf8')).text, 'wanted too\n', 'the working twin keeps the intent')
    const next = await plan()
    assert.deepEqual(next.changes.map((c) => c.provider), ['other'])
    assert.match(next.diagnostics.find((d) => d.code === 'PENDING_INTENT')?.summary ?? '', /still pending, left out of the apply of /)
  })

  it('a provider whose apply() throws: its changes fail, named as the plugin\'s and the call; the other applies; pending kept; exit 1', async () => {
    await setUp({ apply: async () => Promise.reject(new TypeError('x is not a function')) })
    const report = await apply(await plan())
    assert.equal(report.exitCode, 1)
    const step = report.journal.steps.find((s) => s.provider === 'other')
    assert.equal(step?.status, 'failed')
    assert.match(step?.message ?? '', /other.*apply\(\)/)
    assert.doesNotMatch(step?.message ?? '', /bug in TwinSync/i)
    assert.deepEqual(written(), [['/etc/notes', 'wanted\n']])
    assert.deepEqual(report.keptPending, ['system/other.json'])
  })

  it('refuses a saved plan the twin has moved away from (PLAN_STALE), and one made for another root', async () => {
    await setUp()
    const p = await plan()
    await desire('notes', 'wanted otherwise since the plan\n')
    await assert.rejects(apply(p, { fromFile: true }), failWith('PLAN_STALE', /notes:replace:\/etc\/notes/))
    await assert.rejects(apply({ ...p, basis: { ...p.basis, root: '/elsewhere' } }), failWith('PLAN_INVALID', /\/elsewhere/))
    assert.deepEqual(rig.host.actions, [])
  })

  it("a saved plan whose diff is another rendering of the same change (jsdiff's whole-file fallback under load) is not stale", async () => {
    await setUp()
    const p = await plan()
    const rendered = { ...p, changes: p.changes.map((c) => ({ ...c, diff: `--- a${c.resource}\n+++ b${c.resource}\n@@ -1 +1 @@\n-whole\n+file\n` })) }
    const report = await apply(rendered, { fromFile: true })
    assert.equal(report.exitCode, 0)
    assert.deepEqual(written(), [['/etc/notes', 'wanted\n'], ['/etc/other', 'wanted too\n']])
  })

  // Session 41 (attack's "Not fixed"): `apply --yes` and `apply --rehearse --yes` (minutes while
  // the container boots) passed fromFile false, so a twin file of a planned change edited between
  // the plan and the apply was committed as the edit before the apply, the planned content written
  // and the change counted done: the later edit was gone. Now PLAN_STALE, nothing written or committed.
  describe('a plan of the working twin applied at once (ofWorkingTwin): the twin edited between the plan and the apply', () => {
    const toApply = () => rig.container.resolve(PlanWorkflow).toApply({})
    const ofTwin = (p: Plan) => apply(p, { ofWorkingTwin: true })
    const twinText = async (name: string) => JSON.parse(await readFile(join(rig.twinDir, `system/${name}.json`), 'utf8')).text as string

    it('through the CLI (apply --yes): PLAN_STALE, nothing written or committed, the later edit kept; applied when run again', async () => {
      await setUp()
      const cli = rig.container.resolve(CliApply)
      // The hook between the plan and the apply: the plan is made, then the twin file edited again.
      const plans = (cli as unknown as { plans: PlanWorkflow }).plans
      const planned = plans.toApply.bind(plans)
      plans.toApply = async (o) => {
        const p = await planned(o)
        await desire('notes', 'wanted, edited again\n')
        return p
      }
      const before = commits()
      const run = () => cli.run({ planFile: undefined, yes: true, acceptHighRisk: true, json: true })
      await assert.rejects(run(), failWith('PLAN_STALE'))
      assert.deepEqual(rig.host.actions, [], 'nothing written')
      assert.equal(commits(), before, 'nothing committed')
      assert.equal(await twinText('notes'), 'wanted, edited again\n', 'the later edit is in the working twin')
      plans.toApply = planned
      const outcome = await run()
      assert.equal(outcome.exitCode, 0)
      assert.deepEqual(written().sort(), [['/etc/notes', 'wanted, edited again\n'], ['/etc/other', 'wanted too\n']])
    })

    it('a clean twin when planned (a drift repair), edited before the apply: PLAN_STALE', async () => {
      await setUp()
      rig.git('checkout', '--', '.')
      await writeFile(join(rig.root, 'etc/notes'), 'drifted\n')
      const p = await toApply()
      assert.deepEqual(p.changes.map((c) => c.provider), ['notes'])
      await desire('notes', 'wanted after all\n')
      const before = commits()
      await assert.rejects(ofTwin(p), failWith('PLAN_STALE'))
      assert.deepEqual(rig.host.actions, [])
      assert.equal(commits(), before)
      assert.equal(await twinText('notes'), 'wanted after all\n')
    })

    it('an edited twin when planned, the edit taken back before the apply: PLAN_STALE (the plan asks what the twin no longer does)', async () => {
      await setUp()
      const p = await toApply()
      assert.ok(p.basis.twinTree !== undefined, 'the edited twin is recorded')
      rig.git('checkout', '--', '.')
      await assert.rejects(ofTwin(p), failWith('PLAN_STALE'))
      assert.deepEqual(rig.host.actions, [])
    })

    it('nothing edited meanwhile: applied (the recorded tree is the one committed)', async () => {
      await setUp()
      const before = commits()
      const report = await ofTwin(await toApply())
      assert.equal(report.exitCode, 0)
      assert.deepEqual(written().sort(), [['/etc/notes', 'wanted\n'], ['/etc/other', 'wanted too\n']])
      assert.equal(commits(), before + 3)
    })
  })

  // Session 17: a run-once command was judged by the ledger of the plan's basis commit (it ran
  // again each time a saved plan was applied) and, missing from the fresh plan, was taken as run
  // whatever the reason (a twin that no longer asks for it: "already in place", never run).
  describe('a run-once command in a saved plan', () => {
    const execs = () => rig.host.actions.filter((a) => a.kind === 'exec' && a.command === 'touch')
    const once = () => writeFile(join(rig.twinDir, 'plans/once.yaml'), 'actions:\n  - run: [touch, /root/mark]\n')
    // The rig's twin with one change: a committed plans/once.yaml running `touch` once.
    const committedRunOnce = async () => {
      await setUp()
      await rm(join(rig.twinDir, 'system/notes.json'))
      rig.git('checkout', '--', '.')
      execFileSync('mkdir', ['-p', join(rig.twinDir, 'plans')])
      await once()
      rig.git('add', '-A')
      rig.git('commit', '-qm', 'a run-once command')
    }

    it('runs once when the saved plan of a snapshot is applied again: the second time it is in place', async () => {
      await committedRunOnce()
      const p = await plan()
      assert.notEqual(p.basis.twinCommit, null)
      assert.deepEqual(p.changes.map((c) => c.id), ['commands:plans/once.yaml#1'])
      assert.equal((await apply(p, { fromFile: true })).journal.counts.applied, 1)
      const again = await apply(p, { fromFile: true })
      assert.deepEqual(again.journal.counts, { applied: 0, unchanged: 1, failed: 0, skipped: 0 })
      assert.match(again.journal.steps[0]?.message ?? '', /^ran before \(system\/journal\/commands\.json\)/)
      assert.equal(execs().length, 1, 'ran once')
    })

    // Session 18: a record that lost the entry (a hand edit, a history taken over with `git reset
    // --hard` as REMOTE_DIVERGED's next step says) had the command planned as a new one, unsaid.
    it('one the twin\'s record no longer has but the last snapshot\'s does is planned with COMMAND_RAN_BEFORE, saying when it ran', async () => {
      await committedRunOnce()
      assert.equal((await apply(await plan())).journal.counts.applied, 1)
      const after = await plan()
      assert.deepEqual([after.changes.map((c) => c.id), after.diagnostics.filter((d) => d.code === 'COMMAND_RAN_BEFORE')], [[], []])
      await writeFile(join(rig.twinDir, 'system/journal/commands.json'), '{}\n')
      const again = await plan()
      assert.deepEqual(again.changes.map((c) => c.id), ['commands:plans/once.yaml#1'])
      const said = again.diagnostics.filter((d) => d.code === 'COMMAND_RAN_BEFORE')
      assert.equal(said.length, 1, JSON.stringify(again.diagnostics))
      assert.equal(said[0]?.severity, 'warning')
      assert.match(said[0]?.summary ?? '', /\(commands:plans\/once\.yaml#1\): it ran on this machine at 2026-.* \(the last snapshot's system\/journal\/commands\.json\), but the twin's record no longer has it: applying runs it again/)
      assert.match(said[0]?.detail ?? '', /git checkout refs\/twinsync\/observed -- system\/journal\/commands\.json/)
    })

    // Session 41 (attack): the finishing apply reported the command "done before the
    // interruption; not run again" but wrote the record of what ran only for the steps it ran
    // itself: the next plan ran the run-once command a second time.
    it('one that ran in an apply killed before its snapshot: the apply that finishes it records it; it never runs again', async () => {
      await committedRunOnce()
      // kill -9 once the command ran and its end is in the progress log: at the next write (the snapshot after the steps).
      const point = killAt((call) => execs().length > 0 && !call.includes('apply-in-progress'))
      let killed: unknown
      try {
        await apply(await plan())
      } catch (error) {
        killed = error
      } finally {
        await new Promise((resolve) => setImmediate(resolve))
        point.restore()
      }
      assert.equal(point.hit, true, String(killed))
      asGoneRun(rig.twinDir)
      await rm(machineLockPath(rig.root, MACHINE_LOCK_DIR), { force: true })
      assert.equal(execs().length, 1, 'it ran')
      const report = await apply(await plan())
      assert.deepEqual(report.journal.steps.map((s) => [s.id, s.message]), [['commands:plans/once.yaml#1', 'done before the interruption; not run again']])
      assert.equal(execs().length, 1, 'not run again')
      const ledger = JSON.parse(await readFile(join(rig.twinDir, 'system/journal/commands.json'), 'utf8')) as Record<string, { summary?: string }>
      assert.deepEqual(Object.values(ledger).map((e) => e.summary), ['run touch /root/mark'], 'recorded as run')
      assert.deepEqual((await plan()).changes.map((c) => c.id), [], 'the next plan does not run it again')
      await apply(await plan())
      assert.equal(execs().length, 1, 'ran once')
    })

    it('a saved plan of an edited twin that no longer asks for it (and never ran it): PLAN_STALE, nothing run', async () => {
      await setUp()
      execFileSync('mkdir', ['-p', join(rig.twinDir, 'plans')])
      await once()
      const p = await rig.container.resolve(Planner).plan({ recordTree: true })
      assert.equal(p.basis.twinCommit, null)
      assert.ok(p.changes.some((c) => c.id === 'commands:plans/once.yaml#1'))
      await rm(join(rig.twinDir, 'plans/once.yaml'))
      const before = commits()
      await assert.rejects(apply(p, { fromFile: true }), failWith('PLAN_STALE', /commands:plans\/once\.yaml#1/))
      assert.deepEqual(rig.host.actions, [])
      assert.equal(commits(), before)
    })
  })

  // Session 47 (session 46's review, S1): the record's key was the plain sha256 of the file and
  // the action, password and all, checkable offline from the mirror against a weak password.
  describe('a run-once command with a password in it', () => {
    const file = 'plans/db.yaml'
    const fullKey = (password: string) => createHash('sha256').update(stableStringify({ file, action: { run: ['env', `PGPASSWORD=${password}`, 'true'] } })).digest('hex')
    const ask = (password: string) => writeFile(join(rig.twinDir, file), `actions:\n  - run: [env, "PGPASSWORD=${password}", "true"]\n`)
    const runs = () => rig.host.actions.filter((a) => a.kind === 'exec' && a.command === 'env').map((a) => (a as { args: string[] }).args[0])
    const ledger = () => JSON.parse(rig.git('show', 'HEAD:system/journal/commands.json')) as Record<string, { summary?: string; sig?: string; appliedAt?: string }>
    const committedAsk = async (password: string) => {
      await setUp()
      rig.git('checkout', '--', '.')
      execFileSync('mkdir', ['-p', join(rig.twinDir, 'plans')])
      await ask(password)
      rig.git('add', file)
      rig.git('commit', '-qm', 'a run-once command with a password')
    }
    const planned = async () => (await plan()).changes.map((c) => c.id)

    it('the committed record holds no sha256 of its text; a password-only change runs it again; without this machine\'s own record (a twin restored from its mirror) nothing that ran runs again', async () => {
      await committedAsk('weak')
      assert.equal((await apply(await plan())).journal.counts.applied, 1)
      const recorded = ledger()
      const history = rig.git('log', '-p', '--all')
      for (const leak of [fullKey('weak'), fullKey('weak').slice(0, 12)]) assert.ok(!history.includes(leak), `the twin's history holds the full text's sha256 (${leak})`)
      assert.equal(Object.keys(recorded).length, 1)
      assert.match(Object.values(recorded)[0]?.summary ?? '', /^run env PGPASSWORD=<redacted> true$/)
      assert.deepEqual(await planned(), [], 'ran: not planned again')
      const local = join(rig.twinDir, '.git/twinsync/ran-here.json')
      assert.equal((await stat(local)).mode & 0o777, 0o600)
      assert.ok(!rig.git('ls-files').includes('ran-here'))

      await ask('changed')
      assert.deepEqual(await planned(), ['commands:plans/db.yaml#1'], 'only the password changed: this machine\'s record knows it is another text')
      await apply(await plan())
      assert.deepEqual(runs(), ['PGPASSWORD=weak', 'PGPASSWORD=changed'])
      assert.deepEqual(Object.keys(ledger()), Object.keys(recorded), 'the same committed key')
      assert.deepEqual(await planned(), [])
      await ask('weak')
      assert.deepEqual(await planned(), [], 'a text that ran here before')

      await rm(local)
      await ask('changed')
      assert.deepEqual(await planned(), [], 'no record of its own: the committed record says it ran')
      assert.equal(runs().length, 2)
    })

    it('an entry recorded before session 47 (the full text\'s sha256) counts as run; the next apply puts it under the redacted key and this machine\'s record, once', async () => {
      await committedAsk('weak')
      const old = { source: file, summary: 'run env PGPASSWORD=<redacted> true', appliedAt: '2026-12-01T10:00:00Z' }
      execFileSync('mkdir', ['-p', join(rig.twinDir, 'system/journal')])
      await writeFile(join(rig.twinDir, 'system/journal/commands.json'), `${JSON.stringify({ [fullKey('weak')]: old })}\n`)
      rig.git('add', 'system/journal/commands.json')
      rig.git('commit', '-qm', 'a record of before session 47')
      assert.deepEqual(await planned(), [], 'the old key counts as run')
      await desire('notes', 'wanted\n')
      const report = await apply(await plan())
      assert.deepEqual(report.journal.steps.map((s) => s.id), ['notes:replace:/etc/notes'])
      const migrated = ledger()
      assert.equal(Object.keys(migrated).length, 1)
      assert.ok(!Object.keys(migrated).includes(fullKey('weak')), 'the old key is replaced')
      assert.equal(Object.values(migrated)[0]?.appliedAt, old.appliedAt)
      assert.match(Object.values(migrated)[0]?.sig ?? '', /^[0-9a-f]{32}$/)
      assert.deepEqual(await planned(), [], 'still run')
      await ask('changed')
      assert.deepEqual(await planned(), ['commands:plans/db.yaml#1'], 'this machine\'s record now holds the text that ran')
      assert.deepEqual(runs(), [])
    })

    // Session 47's review (F5): with only the committed record's word (a twin restored from its
    // mirror), a change of the password alone was taken as run and nothing said so.
    it('only the committed record says it ran (no record of this machine\'s own): plan and status say so of it, redacted, with the next step, holding nothing back; gone once it runs here; none for a command without a secret', async () => {
      await committedAsk('weak')
      await writeFile(join(rig.twinDir, 'plans/plain.yaml'), 'actions:\n  - run: [touch, /root/plain]\n')
      rig.git('add', 'plans/plain.yaml')
      rig.git('commit', '-qm', 'a run-once command without a secret')
      await apply(await plan())
      const unchecked = async () => (await plan()).diagnostics.filter((d) => d.code === COMMAND_RAN_UNCHECKED)
      assert.deepEqual(await unchecked(), [], 'this machine\'s record holds the text that ran: nothing to say')
      await rm(join(rig.twinDir, '.git/twinsync/ran-here.json'))
      await ask('Xq7rotated')
      await desire('notes', 'wanted\n')
      const made = await plan()
      assert.deepEqual(made.changes.map((c) => c.id), ['notes:replace:/etc/notes'], 'not planned, and the other change is')
      const notes = made.diagnostics.filter((d) => d.code === COMMAND_RAN_UNCHECKED)
      assert.equal(notes.length, 1, 'one note, none for plans/plain.yaml')
      assert.equal(notes[0]?.severity, 'info')
      assert.equal(notes[0]?.path, file)
      assert.match(notes[0]?.summary ?? '', /^run env PGPASSWORD=<redacted> true \(commands:plans\/db\.yaml#1\): not planned, system\/journal\/commands\.json records it as run; it holds a secret, and this machine has no record of its own of the text that ran .* so it cannot tell whether the secret changed since$/)
      assert.match(notes[0]?.detail ?? '', /edit the action in plans\/db\.yaml \(a new `description:` will do\) or take its entry out of system\/journal\/commands\.json in the twin/)
      const text = renderPlan(made, (args) => ['twinsync', ...args].join(' '))
      assert.match(text, /^note: run env PGPASSWORD=<redacted> true \(commands:plans\/db\.yaml#1\): not planned, .* \[COMMAND_RAN_UNCHECKED\]\n {2}Next step: If it changed and the command should run again, edit the action in plans\/db\.yaml/m)
      const status = await rig.container.resolve(StatusWorkflow).status(undefined)
      assert.deepEqual(status.notes, notes, 'status says what the plan says (the same service)')
      assert.ok(!status.pending.items.some((i) => i.provider === 'commands'), 'not pending: nothing of it runs')
      assert.match(renderStatus(status, (args) => ['twinsync', ...args].join(' ')), /\nnote: run env PGPASSWORD=<redacted> true \(commands:plans\/db\.yaml#1\)/)
      for (const said of [JSON.stringify(made), JSON.stringify(status), text]) assert.ok(!said.includes('Xq7rotated'), 'the password is not shown')

      // Run again on purpose, as the next step says: the note goes with it.
      await writeFile(join(rig.twinDir, file), `actions:\n  - run: [env, "PGPASSWORD=Xq7rotated", "true"]\n    description: the new password\n`)
      assert.deepEqual((await plan()).changes.map((c) => c.id), ['notes:replace:/etc/notes', 'commands:plans/db.yaml#1'])
      await apply(await plan())
      assert.deepEqual(runs(), ['PGPASSWORD=weak', 'PGPASSWORD=Xq7rotated'])
      assert.deepEqual(await unchecked(), [])
      assert.deepEqual((await rig.container.resolve(StatusWorkflow).status(undefined)).notes, [])
    })

    it('a record of this machine\'s own that cannot be read is kept aside (0600), not replaced, and the apply says so once', async () => {
      await committedAsk('weak')
      await apply(await plan())
      const local = join(rig.twinDir, '.git/twinsync/ran-here.json')
      await writeFile(local, 'not { json')
      await writeFile(join(rig.twinDir, 'plans/other.yaml'), 'actions:\n  - run: [env, "PGPASSWORD=other", "true"]\n')
      const report = await apply(await plan())
      assert.deepEqual(runs(), ['PGPASSWORD=weak', 'PGPASSWORD=other'])
      const aside = (await readdir(join(rig.twinDir, '.git/twinsync'))).filter((n) => n.startsWith('ran-here.json.unreadable-'))
      assert.equal(aside.length, 1, 'kept aside beside it')
      const kept = join(rig.twinDir, '.git/twinsync', aside[0] as string)
      assert.equal(await readFile(kept, 'utf8'), 'not { json')
      assert.equal((await stat(kept)).mode & 0o777, 0o600)
      assert.match((JSON.parse(await readFile(local, 'utf8')) as { key: string }).key, /^[0-9a-f]{64}$/, 'a new record in its place')
      const said = report.journal.diagnostics.filter((d) => d.code === LOCAL_RUNS_KEPT_ASIDE)
      assert.equal(said.length, 1)
      assert.equal(said[0]?.severity, 'warning')
      assert.match(said[0]?.summary ?? '', /\(\.git\/twinsync\/ran-here\.json\) was not JSON and is kept aside as .*ran-here\.json\.unreadable-/)
      await writeFile(join(rig.twinDir, 'plans/third.yaml'), 'actions:\n  - run: [env, "PGPASSWORD=third", "true"]\n')
      assert.deepEqual((await apply(await plan())).journal.diagnostics.filter((d) => d.code === LOCAL_RUNS_KEPT_ASIDE), [], 'said once')
      assert.equal((await readdir(join(rig.twinDir, '.git/twinsync'))).filter((n) => n.startsWith('ran-here.json.unreadable-')).length, 1)
    })
  })

  // Session 47's review (F8): each apply put every run-once action that ever ran through the
  // detector (looking for an entry of before session 47 to move), with or without a secret.
  describe('the secret detector and recorded run-once commands without a secret', () => {
    const many = Array.from({ length: 5 }, (_, i) => `  - run: [touch, /root/mark${i}]\n`).join('')
    const asked = async (made: Plan) => {
      const spy = sinon.spy(keyScreen, 'redact')
      try {
        await apply(made)
        return spy.callCount
      } finally {
        spy.restore()
      }
    }
    beforeEach(async () => {
      await setUp()
      rig.git('checkout', '--', '.')
      execFileSync('mkdir', ['-p', join(rig.twinDir, 'plans')])
      await writeFile(join(rig.twinDir, 'plans/many.yaml'), `actions:\n${many}`)
      rig.git('add', 'plans/many.yaml')
      rig.git('commit', '-qm', 'five run-once commands without a secret')
      await apply(await plan())
      assert.equal(rig.host.actions.filter((a) => a.kind === 'exec' && a.command === 'touch').length, 5)
    })

    it('an apply of a twin whose 5 recorded commands hold none asks it nothing of them', async () => {
      await desire('notes', 'wanted again\n')
      assert.equal(await asked(await plan()), 0)
      await desire('notes', 'and again\n')
      assert.equal(await asked(await plan()), 0)
    })

    it('under other detector rules (a version in the cache that is not this one) it asks once for each, then not again', async () => {
      const cache = join(rig.twin().cacheDir(), 'run-once-clean.json')
      const kept = JSON.parse(await readFile(cache, 'utf8')) as { rules: number; clean: string[] }
      assert.equal(kept.clean.length, 5)
      assert.ok(Object.keys(JSON.parse(rig.git('show', 'HEAD:system/journal/commands.json')) as object).every((k) => kept.clean.includes(k)), 'the record\'s own keys, no other')
      await writeFile(cache, JSON.stringify({ ...kept, rules: kept.rules - 1 }))
      await desire('notes', 'wanted again\n')
      assert.equal(await asked(await plan()), 5)
      await desire('notes', 'and again\n')
      assert.equal(await asked(await plan()), 0)
    })
  })

  describe('with a mirror', () => {
    let bare: string
    beforeEach(async () => {
      await setUp()
      bare = join(rig.dir, 'mirror.git')
      execFileSync('git', ['init', '-q', '--bare', '--initial-branch=main', bare])
      await rig.container.resolve(RemoteService).setGitRemote(bare, undefined)
    })

    it('pushes the checkpoint and the result after the apply', async () => {
      const report = await apply(await plan())
      assert.equal(report.push.status, 'pushed')
      assert.equal(execFileSync('git', ['--git-dir', bare, 'rev-parse', 'main'], { encoding: 'utf8' }).trim(), report.commit)
    })

    it('a push that fails is reported (a coded mirror error), and the apply still stands', async () => {
      await rm(bare, { recursive: true })
      const report = await apply(await plan())
      assert.equal(report.exitCode, 0)
      assert.equal(report.push.status, 'failed')
      assert.equal(report.push.error?.code, 'REMOTE_UNREACHABLE')
      assert.equal(report.commit, rig.git('rev-parse', 'HEAD'))
      assert.equal(written().length, 2)
    })
  })
})
