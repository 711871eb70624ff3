// Session 25: two twins of one machine (root's and an admin's, or two --repo) applied at once. The
// twin lock is per twin: each run checked a file just before writing it and took the other run's
// write for its own result; on the services root 15 of 200 requests were reported applied, then
// overwritten, and recorded as the machine's (nothing pending, "Drift: none"). One apply at a time
// per machine now (core/src/apply/machine-lock.ts). In-process, through the services the CLI and
// the TUI call, real git, a hand-made root.
import assert from 'node:assert/strict'
import { execFileSync, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { cp, mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createContainer } from '../../core/src/container.js'
import { ApplyService } from '../../core/src/apply/apply-service.js'
import { holdMachine, machineLockPath } from '../../core/src/apply/machine-lock.js'
import { PlanWorkflow } from '../../core/src/services/make-plan.js'
import { SnapshotWorkflow } from '../../core/src/services/take-snapshot.js'
import { createTuiServices } from '../../core/src/tui/services.js'
import { ReconcileService } from '../../core/src/intent/reconcile-service.js'
import { silentLogger } from '@twinsync/sdk'
import { errorCode, git, noPlugins, smallTwin, type SmallTwin } from '../support/in-process-twin.js'

describe('two twins of one machine apply one at a time (the machine lock)', function () {
  this.timeout(120_000)
  let rig: SmallTwin
  let twinB: string

  before(async () => {
    rig = await smallTwin('twinsync-two-twins-')
    twinB = join(rig.dir, 'twin-b')
    await cp(rig.twin, twinB, { recursive: true })
  })
  after(async () => {
    if (rig?.dir !== undefined) await rm(rig.dir, { recursive: true, force: true })
  })

  const containerOf = (repo: string) => createContainer({ root: rig.root, repo, configPath: rig.configPath, oclif: noPlugins, logger: silentLogger })
  async function apply(repo: string): Promise<string> {
    const plan = await (await containerOf(repo)).resolve(PlanWorkflow).plan({})
    return errorCode((await containerOf(repo)).resolve(ApplyService).apply({ plan, fromFile: false, acceptHighRisk: true, signal: new AbortController().signal }))
  }

  it("while one twin's apply runs, another twin's apply to the same machine is refused (LOCK_HELD), nothing written, its edit still pending", async () => {
    await writeFile(join(rig.twin, 'filesystem/etc/motd'), 'from A\n')
    await writeFile(join(twinB, 'filesystem/etc/motd'), 'from B\n')
    const before = await readFile(join(rig.root, 'etc/motd'), 'utf8')
    const held = await holdMachine(rig.root, rig.twin, () => apply(twinB))
    assert.equal(held, 'LOCK_HELD')
    assert.equal(await readFile(join(rig.root, 'etc/motd'), 'utf8'), before)
    // Both at once: one applies, the other is refused; what it asked for is still asked.
    const both = await Promise.all([apply(rig.twin), apply(twinB)])
    assert.deepEqual([...both].sort(), ['LOCK_HELD', 'no error'], both.join(', '))
    const [winner, loser] = both[0] === 'no error' ? [rig.twin, twinB] : [twinB, rig.twin]
    const wanted = (repo: string) => (repo === rig.twin ? 'from A\n' : 'from B\n')
    assert.equal(await readFile(join(rig.root, 'etc/motd'), 'utf8'), wanted(winner))
    const pending = await (await containerOf(loser)).resolve(PlanWorkflow).plan({})
    assert.deepEqual(pending.changes.map((c) => c.resource), ['/etc/motd'])
    assert.equal(await readFile(join(loser, 'filesystem/etc/motd'), 'utf8'), wanted(loser))
    // Once the first is done, the other applies.
    assert.equal(await apply(loser), 'no error')
    assert.equal(await readFile(join(rig.root, 'etc/motd'), 'utf8'), wanted(loser))
    // A real apply says it began, naming its twin (the record a snapshot's second look reads).
    if (process.getuid?.() === 0) assert.equal(JSON.parse(await readFile(machineLockPath(rig.root).replace(/\.lock$/, '.began'), 'utf8')).purpose, `apply of the twin ${loser}`)
  })

  // Session 26 (red team): the lock was named by the root's real path, so the same machine seen
  // through a bind mount (`mount --bind / /mnt/host`, a second --root) took another lock, and both
  // applies ran at once. Named by the root folder's device and inode now: a link or a bind mount of
  // it is the same machine; another folder is another.
  it('the same root through a bind mount or a link is one machine: its apply is refused while the other holds the lock', async function () {
    if (process.getuid?.() !== 0) this.skip()
    const alias = join(rig.dir, 'bound-root')
    const link = join(rig.dir, 'linked-root')
    const other = join(rig.dir, 'other-root')
    await Promise.all([mkdir(alias), mkdir(other), symlink(rig.root, link)])
    execFileSync('mount', ['--bind', rig.root, alias])
    try {
      const lockDir = join(rig.dir, 'locks')
      assert.equal(machineLockPath(alias, lockDir), machineLockPath(rig.root, lockDir))
      assert.equal(machineLockPath(link, lockDir), machineLockPath(rig.root, lockDir))
      assert.notEqual(machineLockPath(other, lockDir), machineLockPath(rig.root, lockDir))
      const inner = await holdMachine(rig.root, rig.twin, () => errorCode(holdMachine(alias, twinB, async () => 'applied', lockDir)), lockDir)
      assert.equal(inner, 'LOCK_HELD')
    } finally {
      execFileSync('umount', [alias])
    }
  })

  // Session 27 (red team): twin B's snapshot while twin A's apply ran recorded a moment of that
  // apply: here A's check has just written a file it is about to put back (its rejected /etc/motd),
  // and B's twin committed it as the machine's; B's next plan then asked to write it again. A's
  // apply is another process holding the machine lock, as a real apply does (the lock is the
  // apply's own, so a snapshot in the applying process itself is never refused).
  it("twin B's snapshot or adoption while twin A's apply runs is refused (LOCK_HELD), a scheduled one skipped as busy; nothing of the moment is recorded", async function () {
    if (process.getuid?.() !== 0) this.skip()
    const lock = machineLockPath(rig.root)
    const code = `import('${join(process.cwd(), 'core/src/apply/machine-lock.ts')}').then((m) => m.holdMachine(${JSON.stringify(rig.root)}, ${JSON.stringify(rig.twin)}, () => new Promise((r) => setTimeout(r, 60000))))`
    const holder = spawn(process.execPath, ['--import', 'tsx', '-e', code], { stdio: 'ignore' })
    const headB = git(twinB, ['rev-parse', 'HEAD'])
    const before = await readFile(join(rig.root, 'etc/motd'), 'utf8')
    try {
      for (let i = 0; !existsSync(lock); i++) {
        assert.ok(i < 300, 'the other process holds the machine lock')
        await new Promise((r) => setTimeout(r, 100))
      }
      // The moment: A's rejected file is live until its check puts the previous one back.
      await writeFile(join(rig.root, 'etc/motd'), 'rejected by its check\n')
      const snapshotB = (ifChanged: boolean) => containerOf(twinB).then((c) => c.resolve(SnapshotWorkflow).take({ init: false, ifChanged }))
      assert.equal(await errorCode(snapshotB(false)), 'LOCK_HELD')
      const scheduled = await snapshotB(true)
      assert.equal(scheduled.skipped, 'busy')
      assert.equal(scheduled.busy?.pid, holder.pid)
      assert.equal(await errorCode(containerOf(twinB).then((c) => c.resolve(ReconcileService).decide('adopt', ['files']))), 'LOCK_HELD')
      assert.equal(git(twinB, ['rev-parse', 'HEAD']), headB, 'nothing committed in B')
      assert.notEqual(await readFile(join(twinB, 'filesystem/etc/motd'), 'utf8'), 'rejected by its check\n')
    } finally {
      holder.kill('SIGKILL')
      await new Promise((r) => holder.once('exit', r))
      await writeFile(join(rig.root, 'etc/motd'), before)
    }
    // A dead holder's lock is stale: B snapshots again.
    assert.equal(await errorCode(containerOf(twinB).then((c) => c.resolve(SnapshotWorkflow).take({ init: false, ifChanged: false }))), 'no error')
  })

  // Session 28: the refusal above was a look before the collect. An apply that begins (and here
  // ends) while B's snapshot collects is seen once the collect is over: refused, nothing committed,
  // a scheduled one skipped as busy naming that apply. Fails with the look after the collect taken
  // out of SnapshotService ('no error', B commits the moment).
  it("an apply of twin A that begins while twin B's snapshot collects: B's snapshot is refused after the collect, a scheduled one skipped as busy", async function () {
    if (process.getuid?.() !== 0) this.skip()
    const code = `import('${join(process.cwd(), 'core/src/apply/machine-lock.ts')}').then((m) => m.holdMachine(${JSON.stringify(rig.root)}, ${JSON.stringify(rig.twin)}, async (began) => { began(); require('fs').writeFileSync(${JSON.stringify(join(rig.root, 'etc/motd'))}, 'the apply of A\\n') }))`
    const headB = git(twinB, ['rev-parse', 'HEAD'])
    const before = await readFile(join(rig.root, 'etc/motd'), 'utf8')
    let applies = 0
    // The apply of A runs (another process, start to end) just as B's collect ends.
    const logger = { ...silentLogger, debug: (m: string) => {
      if (!m.startsWith('snapshot: collected')) return
      applies++
      execFileSync(process.execPath, ['--import', 'tsx', '-e', code], { stdio: 'ignore' })
    } }
    const snapshotB = (ifChanged: boolean) =>
      createContainer({ root: rig.root, repo: twinB, configPath: rig.configPath, oclif: noPlugins, logger }).then((c) => c.resolve(SnapshotWorkflow).take({ init: false, ifChanged }))
    try {
      await writeFile(join(rig.root, 'etc/motd'), 'changed before B collects\n')
      assert.equal(await errorCode(snapshotB(false)), 'LOCK_HELD')
      const scheduled = await snapshotB(true)
      assert.equal(scheduled.skipped, 'busy')
      assert.match(scheduled.busy?.purpose ?? '', /^apply of the twin /)
      assert.equal(applies, 2, 'an apply ran during each collect')
      assert.equal(git(twinB, ['rev-parse', 'HEAD']), headB, 'nothing committed in B')
    } finally {
      await writeFile(join(rig.root, 'etc/motd'), before)
    }
    // No apply meanwhile: B snapshots.
    assert.equal(await errorCode(containerOf(twinB).then((c) => c.resolve(SnapshotWorkflow).take({ init: false, ifChanged: false }))), 'no error')
  })

  // Session 29: an adoption (`twinsync adopt`, the schedule's adoptOwn) looked only before its
  // collect: an apply of twin A that began (and here ends) while B's adoption read the machine was
  // adopted into B. It takes the snapshot's second look now (watchForApplies): refused once the
  // collect is over, nothing written or committed in B. Fails with the look after the collect taken
  // out of ReconcileService.drift ('no error', B commits an adoption).
  it("an apply of twin A that begins while twin B's adoption collects: B's adoption (and the schedule's adoptOwn) is refused, nothing committed", async function () {
    if (process.getuid?.() !== 0) this.skip()
    const code = `import('${join(process.cwd(), 'core/src/apply/machine-lock.ts')}').then((m) => m.holdMachine(${JSON.stringify(rig.root)}, ${JSON.stringify(rig.twin)}, async (began) => { began(); require('fs').writeFileSync(${JSON.stringify(join(rig.root, 'etc/motd'))}, 'the apply of A\\n') }))`
    const headB = git(twinB, ['rev-parse', 'HEAD'])
    const motdB = await readFile(join(twinB, 'filesystem/etc/motd'), 'utf8')
    const before = await readFile(join(rig.root, 'etc/motd'), 'utf8')
    let applies = 0
    // The apply of A runs (another process, start to end) just as B's adoption has read the machine.
    const logger = { ...silentLogger, debug: (m: string) => {
      if (m !== 'adopt: collected') return
      applies++
      execFileSync(process.execPath, ['--import', 'tsx', '-e', code], { stdio: 'ignore' })
    } }
    const reconcileB = () => createContainer({ root: rig.root, repo: twinB, configPath: rig.configPath, oclif: noPlugins, logger }).then((c) => c.resolve(ReconcileService))
    try {
      await writeFile(join(rig.root, 'etc/motd'), 'changed before B adopts\n')
      assert.equal(await errorCode(reconcileB().then((r) => r.decide('adopt', ['files']))), 'LOCK_HELD')
      assert.equal(await errorCode(reconcileB().then((r) => r.adoptOwn((c) => c.resource === '/etc/motd', 'test'))), 'LOCK_HELD')
      assert.equal(applies, 2, 'an apply ran during each collect')
      assert.equal(git(twinB, ['rev-parse', 'HEAD']), headB, 'nothing committed in B')
      assert.equal(await readFile(join(twinB, 'filesystem/etc/motd'), 'utf8'), motdB, 'nothing written in B')
      assert.equal(git(twinB, ['status', '--porcelain']), '', 'nothing pending in B')
    } finally {
      await writeFile(join(rig.root, 'etc/motd'), before)
    }
  })

  // Session 27 (red team): two fronts of one twin at once (the TUI's apply and the CLI's go
  // through the same ApplyService): one applies, the other is refused before anything is written,
  // and what it asked for is done by the first. Held (the machine lock, then the twin lock).
  // Fails with both locks taken out of ApplyService.apply (both run: 'no error' twice).
  it('the TUI and the CLI applying one twin at once: one applies, the other is LOCK_HELD', async () => {
    await writeFile(join(rig.twin, 'filesystem/etc/motd'), 'from both fronts\n')
    const plan = await (await containerOf(rig.twin)).resolve(PlanWorkflow).plan({})
    const tui = await createTuiServices(() => containerOf(rig.twin), { configPath: rig.configPath })
    const both = await Promise.all([
      errorCode(tui.apply({ plan, leftOut: [], acceptHighRisk: plan.changes.map((c) => c.id), signal: new AbortController().signal })),
      apply(rig.twin),
    ])
    assert.deepEqual([...both].sort(), ['LOCK_HELD', 'no error'], both.join(', '))
    assert.equal(await readFile(join(rig.root, 'etc/motd'), 'utf8'), 'from both fronts\n')
    assert.deepEqual((await (await containerOf(rig.twin)).resolve(PlanWorkflow).plan({})).changes, [])
  })

  // Session 29: an apply refused before it changes anything rewrote the machine lock's `.began`
  // record all the same (written as the lock was taken), so a snapshot collecting meanwhile was
  // refused at its second look ("another TwinSync run applied to this machine while this snapshot
  // read it"), a scheduled one skipped as busy ("… records it when it ends", which it never did):
  // a revert of a twin refused because that twin's own snapshot holds it, and the TUI's apply of
  // another twin refused as PLAN_STALE. The record is written once the apply holds the twin too
  // and its plan is not stale, before its first change. Each fails with `began()` called as the
  // machine lock is taken (holdMachine before session 29): LOCK_HELD, skipped 'busy'.
  const refusedApplies = [
    {
      name: "a revert of a twin that starts while that twin's own snapshot collects",
      snapshotOf: () => rig.twin,
      refusal: 'LOCK_HELD',
      steps: () => [
        `const revert = await (await c()).resolve(HistoryService).resolve(${JSON.stringify(rig.initial)})`,
        // A revert's plan reads a commit (no working twin: TwinRepository.readSteadily notes nothing) and never waits; the apply is refused at once, LOCK_HELD, by the snapshot this test keeps holding.
        `process.stdout.write(await errorCode((async () => { const plan = await (await c()).resolve(PlanWorkflow).plan({ revert }); return (await c()).resolve(ApplyService).apply({ plan, fromFile: false, acceptHighRisk: true, revertTo: revert.commit, signal: new AbortController().signal }) })()))`,
      ],
    },
    {
      name: "the TUI's apply of twin A with a stale plan while twin B's snapshot collects",
      snapshotOf: () => twinB,
      refusal: 'PLAN_STALE',
      steps: () => [
        `await writeFile(${JSON.stringify(join(rig.twin, 'filesystem/etc/motd'))}, 'reviewed in the TUI\\n')`,
        `const plan = await (await c()).resolve(PlanWorkflow).plan({})`,
        `await writeFile(${JSON.stringify(join(rig.twin, 'filesystem/etc/motd'))}, 'edited since\\n')`,
        `process.stdout.write(await errorCode((await c()).resolve(ApplyService).apply({ plan, fromFile: true, acceptHighRisk: true, signal: new AbortController().signal })))`,
      ],
    },
  ]
  for (const t of refusedApplies) {
    it(`${t.name}: the apply is refused (${t.refusal}), changes nothing; the snapshot is not refused for it and commits`, async function () {
      if (process.getuid?.() !== 0) this.skip()
      const src = (p: string) => JSON.stringify(join(process.cwd(), p))
      const script = join(rig.dir, 'refused-apply.mts')
      await writeFile(script, [
        `import { writeFile } from 'node:fs/promises'`,
        `import { createContainer } from ${src('core/src/container.ts')}`,
        `import { HistoryService } from ${src('core/src/history/history-service.ts')}`,
        `import { PlanWorkflow } from ${src('core/src/services/make-plan.ts')}`,
        `import { ApplyService } from ${src('core/src/apply/apply-service.ts')}`,
        `import { errorCode, noPlugins } from ${src('test/support/in-process-twin.ts')}`,
        `const logger = { debug() {}, info() {}, warn() {} }`,
        `const c = () => createContainer({ root: ${JSON.stringify(rig.root)}, repo: ${JSON.stringify(rig.twin)}, configPath: ${JSON.stringify(rig.configPath)}, oclif: noPlugins, logger })`,
        ...t.steps(),
      ].join('\n'))
      const refused: string[] = []
      // The apply runs (another process, start to end) just as the snapshot's collect ends.
      const logger = { ...silentLogger, debug: (m: string) => {
        if (m.startsWith('snapshot: collected')) refused.push(execFileSync(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'inherit'] }).toString())
      } }
      const repo = t.snapshotOf()
      const snapshot = (ifChanged: boolean) => createContainer({ root: rig.root, repo, configPath: rig.configPath, oclif: noPlugins, logger }).then((c) => c.resolve(SnapshotWorkflow).take({ init: false, ifChanged }))
      const before = await readFile(join(rig.root, 'etc/motd'), 'utf8')
      try {
        await writeFile(join(rig.root, 'etc/motd'), `${t.refusal}: changed before the snapshot\n`)
        const scheduled = await snapshot(true)
        assert.equal(scheduled.skipped, undefined, `skipped: ${scheduled.skipped} ${JSON.stringify(scheduled.busy)}`)
        assert.notEqual(scheduled.commit, undefined)
        await writeFile(join(rig.root, 'etc/motd'), `${t.refusal}: changed again\n`)
        assert.equal(await errorCode(snapshot(false)), 'no error')
        assert.deepEqual(refused, [t.refusal, t.refusal], 'each apply was refused')
        assert.equal(await readFile(join(repo, 'filesystem/etc/motd'), 'utf8'), `${t.refusal}: changed again\n`)
      } finally {
        await writeFile(join(rig.root, 'etc/motd'), before)
      }
    })
  }
})
