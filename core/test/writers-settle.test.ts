import { strict as assert } from 'node:assert'
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { PlanWorkflow } from '../src/services/make-plan.js'
import { GcWorkflow } from '../src/services/run-gc.js'
import { ForgetWorkflow } from '../src/services/run-forget.js'
import { RemoteService } from '../src/remote/remote-service.js'
import { SnapshotWorkflow } from '../src/services/take-snapshot.js'
import { asGoneRun, killAt } from './support/kill-points.js'
import { notesProvider } from './support/notes-provider.js'
import { serviceRig, type ServiceRig } from './support/service-rig.js'

const git = (dir: string, ...args: string[]) => execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8' }).trim()

/**
 * A snapshot killed after HEAD moved, while its files were being renamed into the working twin,
 * leaves a record of the move that the next run finishes (atomic-snapshot.ts) — as long as HEAD
 * is still that move's commit. A writer that moves HEAD first (gc folding old snapshots rewrites
 * every commit after them) made the record stale: settling then threw it away as "HEAD never
 * moved" and left the half-moved working twin, which `plan` read as a person's edits on top of
 * the new snapshot, proposing to undo on the machine what the snapshot had recorded.
 */
describe('a twin writer first finishes the move of a snapshot killed half way', function () {
  this.timeout(60_000)
  let rig: ServiceRig
  beforeEach(async () => {
    rig = await serviceRig([notesProvider(), notesProvider('memo')])
    await mkdir(join(rig.root, 'etc'))
    await writeFile(join(rig.root, 'etc/notes'), 'one\n')
    await (await rig.container()).resolve(SnapshotWorkflow).take({ init: true, ifChanged: false })
  })
  afterEach(() => rig.cleanup())

  /** The machine changes; its snapshot is killed once HEAD moved, before the new notes are renamed in. */
  async function killedSnapshot(): Promise<void> {
    await writeFile(join(rig.root, 'etc/notes'), 'two\n')
    const snapshots = (await rig.container()).resolve(SnapshotWorkflow)
    const point = killAt((call) => call.startsWith('renameSync(') && call.includes('/.git/twinsync/stage/'))
    try {
      await snapshots.take({ init: false, ifChanged: false }).catch(() => undefined)
    } finally {
      await new Promise((resolve) => setImmediate(resolve))
      point.restore()
    }
    assert.ok(point.hit)
    asGoneRun(rig.twinDir)
    assert.ok(existsSync(join(rig.twinDir, '.git/twinsync/snapshot-in-progress.json')), 'the move is recorded, unfinished')
  }

  /** An old snapshot that only moved a volatile fact, for gc to fold away: a snapshot's commit, the machine's record (a commit made past refs/twinsync/observed would be a person's edit, kept pending). */
  async function oldVolatileSnapshot(): Promise<void> {
    await mkdir(join(rig.twinDir, 'system/processes'), { recursive: true })
    await writeFile(join(rig.twinDir, 'system/processes/top.json'), '{}\n')
    const old = new Date(Date.now() - 3 * 86_400_000).toISOString()
    git(rig.twinDir, 'add', '-A')
    execFileSync('git', ['-C', rig.twinDir, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'TwinSync snapshot volatile'], { env: { ...process.env, GIT_AUTHOR_DATE: old, GIT_COMMITTER_DATE: old } })
    git(rig.twinDir, 'update-ref', 'refs/twinsync/observed', 'HEAD')
  }

  it('gc folding old volatile-only snapshots: the move is finished first, and the plan after it is empty', async () => {
    await oldVolatileSnapshot()
    await killedSnapshot()
    const report = await (await rig.container()).resolve(GcWorkflow).gc(1)
    assert.equal(report.squashed, 1)
    const plan = await (await rig.container()).resolve(PlanWorkflow).plan({})
    assert.deepEqual(plan.changes.map((c) => c.summary), [], 'the plan would undo the machine\'s change the snapshot recorded')
    assert.equal(git(rig.twinDir, 'status', '--porcelain'), '')
    assert.equal(JSON.parse(git(rig.twinDir, 'show', 'HEAD:system/notes.json')).text, 'two\n')
  })

  it("gc folding after a snapshot killed with a person's edit set aside: the edit is put back first and stays pending (before: its record named commits gc pruned, and every plan failed)", async () => {
    await oldVolatileSnapshot()
    // The person's ask: /etc/memo should say "asked".
    await writeFile(join(rig.twinDir, 'system/memo.json'), `${JSON.stringify({ text: 'asked\n' })}\n`)
    await killedSnapshot()
    assert.ok(existsSync(join(rig.twinDir, '.git/twinsync/intent-held')), 'the snapshot set the edit aside before the kill')
    const report = await (await rig.container()).resolve(GcWorkflow).gc(1)
    assert.equal(report.squashed, 1)
    const plan = await (await rig.container()).resolve(PlanWorkflow).plan({})
    assert.deepEqual(plan.changes.map((c) => c.summary), ['Replace /etc/memo'])
    assert.equal(git(rig.twinDir, 'status', '--porcelain'), 'M system/memo.json')
    assert.equal(JSON.parse(git(rig.twinDir, 'show', 'HEAD:system/notes.json')).text, 'two\n')
  })

  it("forget after a snapshot killed with a person's edit set aside: the edit is put back first and stays pending through the rewrite", async () => {
    await mkdir(join(rig.twinDir, 'system/logs'), { recursive: true })
    await writeFile(join(rig.twinDir, 'system/logs/journal.txt'), 'password=hunter2\n')
    git(rig.twinDir, 'add', '-A')
    execFileSync('git', ['-C', rig.twinDir, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'TwinSync snapshot logs'])
    git(rig.twinDir, 'update-ref', 'refs/twinsync/observed', 'HEAD')
    await writeFile(join(rig.twinDir, 'system/memo.json'), `${JSON.stringify({ text: 'asked\n' })}\n`)
    await killedSnapshot()
    assert.ok(existsSync(join(rig.twinDir, '.git/twinsync/intent-held')), 'the snapshot set the edit aside before the kill')
    const report = await (await rig.container()).resolve(ForgetWorkflow).forget({ paths: ['system/logs/journal.txt'], rules: [] })
    assert.deepEqual(report.removed, ['system/logs/journal.txt'])
    const plan = await (await rig.container()).resolve(PlanWorkflow).plan({})
    assert.deepEqual(plan.changes.map((c) => c.summary), ['Replace /etc/memo'])
    assert.equal(git(rig.twinDir, 'status', '--porcelain'), 'M system/memo.json')
  })

  it('pull: the move is finished first; its old files are never set aside as edits and merged back as intent', async () => {
    const env = { ...process.env }
    process.env.TWINSYNC_CREDENTIALS = join(rig.dir, 'credentials')
    delete process.env.GITHUB_TOKEN
    delete process.env.GH_TOKEN
    try {
      const bare = join(rig.dir, 'mirror.git')
      execFileSync('git', ['init', '-q', '--bare', '--initial-branch=main', bare])
      const remote = async () => (await rig.container()).resolve(RemoteService)
      await (await remote()).setGitRemote(bare, undefined)
      await killedSnapshot()
      // The killed snapshot's commit is mirrored (push reads no working twin); another clone adds a commit on it.
      await (await remote()).push()
      const clone = join(rig.dir, 'clone')
      execFileSync('git', ['clone', '-q', bare, clone])
      await mkdir(join(clone, 'plans'), { recursive: true })
      await writeFile(join(clone, 'plans/elsewhere.md'), 'a note from another clone\n')
      git(clone, 'add', '-A')
      git(clone, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'elsewhere')
      git(clone, 'push', '-q', 'origin', 'main')
      const pulled = await (await remote()).pull()
      assert.equal(pulled.status, 'fast-forwarded')
      const plan = await (await rig.container()).resolve(PlanWorkflow).plan({})
      assert.deepEqual(plan.changes.map((c) => c.summary), [], 'the plan would undo the machine\'s change the snapshot recorded')
      assert.equal(JSON.parse(await import('node:fs/promises').then((fs) => fs.readFile(join(rig.twinDir, 'system/notes.json'), 'utf8'))).text, 'two\n')
    } finally {
      process.env = env
    }
  })

  it('the next snapshot after the machine changed again: the killed snapshot was an observation, never taken for a person\'s edit', async () => {
    await killedSnapshot()
    await writeFile(join(rig.root, 'etc/notes'), 'three\n')
    await (await rig.container()).resolve(SnapshotWorkflow).take({ init: false, ifChanged: false })
    const plan = await (await rig.container()).resolve(PlanWorkflow).plan({})
    assert.deepEqual(plan.changes.map((c) => c.summary), [], 'the plan would put back what the killed snapshot saw')
    assert.equal(JSON.parse(git(rig.twinDir, 'show', 'HEAD:system/notes.json')).text, 'three\n')
    assert.equal(git(rig.twinDir, 'status', '--porcelain'), '')
  })
})
