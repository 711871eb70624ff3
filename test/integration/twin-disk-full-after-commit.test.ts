// Session 30 (helper redteam): the twin's disk filled right after a snapshot's commit, while the
// pending edits were put back. The commit stood, but the error said "nothing was written", and an
// apply's said "its result could not be committed" and kept the record of an interrupted apply
// (status listed the applied change as not done). Now the snapshot names its commit, the apply
// says it is recorded, and the next snapshot with room puts the edits back. The twin on a 16 MiB
// tmpfs, filled from the snapshot's own "committed" debug line. In-process, real git.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { statfsSync } from 'node:fs'
import { join } from 'node:path'
import { silentLogger } from '@twinsync/sdk'
import { ApplyService } from '../../core/src/apply/apply-service.js'
import { readApplyRecord } from '../../core/src/apply/resume.js'
import { createContainer } from '../../core/src/container.js'
import { PlanWorkflow } from '../../core/src/services/make-plan.js'
import { SnapshotWorkflow } from '../../core/src/services/take-snapshot.js'
import { IntentService } from '../../core/src/intent/intent-service.js'
import { StatusWorkflow } from '../../core/src/services/drift-status.js'
import { renderStatus } from '../../core/src/cli/render.js'
import { git, noPlugins, smallTwin, type SmallTwin } from '../support/in-process-twin.js'
import { twinsyncLine } from '../../core/src/plan/command-text.js'
/** Lines as a run on this machine's default twin and configuration says them (no flags). */
const LINE = (args: readonly string[]) => twinsyncLine(args, { root: '/' })


describe('the twin disk full right after a snapshot commit', function () {
  this.timeout(180_000)
  let rig: SmallTwin | undefined
  let mounted = ''
  const filler = () => join(mounted, 'filler')

  beforeEach(async function () {
    if (process.getuid?.() !== 0) this.skip()
    rig = await smallTwin('twinsync-twin-full-', {
      prepare: async (_root, dir) => {
        mounted = join(dir, 'twin')
        await mkdir(mounted, { recursive: true })
        execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', mounted])
      },
    })
  })
  afterEach(async () => {
    if (mounted !== '') execFileSync('umount', ['-l', mounted])
    mounted = ''
    if (rig !== undefined) await rm(rig.dir, { recursive: true, force: true })
  })

  /** A container whose logger fills the twin's disk when the snapshot logs its commit (and `when` says so), or another of its lines (`at`). */
  const filling = async (when: () => boolean = () => true, at = 'snapshot: committed') => {
    const r = rig as SmallTwin
    const logger = {
      ...silentLogger,
      debug: (m: string) => {
        if (!m.startsWith(at) || !when()) return
        const fs = statfsSync(mounted)
        execFileSync('fallocate', ['-l', String(fs.bavail * fs.bsize), filler()])
      },
    }
    return createContainer({ root: r.root, repo: r.twin, configPath: r.configPath, oclif: noPlugins, logger })
  }
  const failure = (p: Promise<unknown>) => p.then(() => ({ code: 'none', message: '' }), (e: unknown) => ({ code: String((e as { code?: string }).code), message: String((e as Error).message) }))
  const planned = async () => (await (await (rig as SmallTwin).container()).resolve(PlanWorkflow).plan({})).changes.map((c) => c.resource).sort()

  it('a snapshot names the commit it made; the next snapshot with room puts the pending edit back', async () => {
    const r = rig as SmallTwin
    await writeFile(join(r.twin, 'filesystem/etc/motd'), 'twin edit\n')
    await writeFile(join(r.root, 'etc/hostname'), 'machine changed\n')
    const failed = await failure((await filling()).resolve(SnapshotWorkflow).take({ init: false, ifChanged: false }))
    const head = git(r.twin, ['rev-parse', 'HEAD']).trim()
    assert.equal(failed.code, 'DISK_FULL', failed.message)
    assert.ok(failed.message.startsWith(`Snapshot ${head.slice(0, 12)} was committed, but putting your edits back failed: `), failed.message)
    assert.match(failed.message, /set aside in refs\/twinsync\/intended/)
    assert.equal(git(r.twin, ['show', 'HEAD:filesystem/etc/hostname']), 'machine changed\n', 'the commit stands')
    await rm(filler())
    await (await r.container()).resolve(SnapshotWorkflow).take({ init: false, ifChanged: false })
    assert.equal(await readFile(join(r.twin, 'filesystem/etc/motd'), 'utf8'), 'twin edit\n', 'the edit is back')
    assert.deepEqual(await planned(), ['/etc/motd'])
  })

  it('an apply says it is recorded, keeps no record of an interrupted apply, and the edit left out comes back', async () => {
    const r = rig as SmallTwin
    await writeFile(join(r.twin, 'filesystem/etc/motd'), 'applied\n')
    await writeFile(join(r.twin, 'filesystem/etc/hostname'), 'left out\n')
    const plan = await (await r.container()).resolve(PlanWorkflow).plan({})
    const motd = plan.changes.filter((c) => c.resource === '/etc/motd')
    const leftOut = plan.changes.filter((c) => c.resource !== '/etc/motd')
    assert.deepEqual([motd.length, leftOut.map((c) => c.resource)], [1, ['/etc/hostname']])
    let stepsDone = false
    const container = await filling(() => stepsDone)
    const failed = await failure(
      container.resolve(ApplyService).apply({ plan: { ...plan, changes: motd, edges: [] }, leftOut, fromFile: false, signal: new AbortController().signal, onResult: () => (stepsDone = true) }),
    )
    const head = git(r.twin, ['rev-parse', 'HEAD']).trim()
    assert.equal(failed.code, 'DISK_FULL', failed.message)
    assert.ok(failed.message.startsWith(`The apply ran (1 applied, 0 unchanged, 0 failed, 0 skipped) and is recorded in snapshot ${head.slice(0, 12)}, but the disk holding the twin`), failed.message)
    assert.equal(await readFile(join(r.root, 'etc/motd'), 'utf8'), 'applied\n')
    assert.equal(git(r.twin, ['show', 'HEAD:filesystem/etc/motd']), 'applied\n', 'the apply is recorded')
    assert.equal(await readApplyRecord(r.twin, { root: "/" }), undefined, 'no interrupted apply is left to finish')
    await rm(filler())
    await (await r.container()).resolve(SnapshotWorkflow).take({ init: false, ifChanged: false })
    assert.equal(await readFile(join(r.twin, 'filesystem/etc/hostname'), 'utf8'), 'left out\n', 'the edit left out is back')
    assert.deepEqual(await planned(), ['/etc/hostname'])
  })

  // Session 32 (helper redteam): the disk filled after an apply committed the person's edits
  // ("TwinSync edit before apply") and before its checkpoint: the disk's own words said "nothing
  // was written and the twin is as it was", though HEAD had moved by that commit.
  it('an apply whose checkpoint finds the disk full says the edits were committed and the machine not changed', async () => {
    const r = rig as SmallTwin
    await writeFile(join(r.twin, 'filesystem/etc/motd'), 'applied\n')
    const before = await readFile(join(r.root, 'etc/motd'), 'utf8')
    const plan = await (await r.container()).resolve(PlanWorkflow).plan({})
    let filled = false
    const container = await filling(() => !filled && (filled = true), 'snapshot: collected')
    const failed = await failure(container.resolve(ApplyService).apply({ plan, fromFile: false, signal: new AbortController().signal }))
    assert.ok(filled, 'the disk was filled during the checkpoint')
    const head = git(r.twin, ['rev-parse', 'HEAD']).trim()
    assert.equal(failed.code, 'DISK_FULL', failed.message)
    assert.ok(failed.message.includes(`is full: your edits of the twin were committed (${head.slice(0, 12)}, "TwinSync edit before apply"), the checkpoint before the steps could not be; nothing on the machine was changed`), failed.message)
    assert.match(git(r.twin, ['log', '-1', '--format=%s']), /^TwinSync edit before apply /)
    assert.equal(await readFile(join(r.root, 'etc/motd'), 'utf8'), before, 'the machine was not changed')
    await rm(filler())
    assert.deepEqual(await planned(), ['/etc/motd'], 'the edit is still asked')
    // Once there is room, `apply` again goes on from there.
    const again = await (await r.container()).resolve(PlanWorkflow).plan({})
    await (await r.container()).resolve(ApplyService).apply({ plan: again, fromFile: false, signal: new AbortController().signal })
    assert.equal(await readFile(join(r.root, 'etc/motd'), 'utf8'), 'applied\n', 'applied')
    assert.equal(await readApplyRecord(r.twin, { root: "/" }), undefined, 'no interrupted apply left')
    assert.deepEqual(await planned(), [])
  })

  // Session 31 (helper redteam): meanwhile `status` read the set-aside twin against the last
  // snapshot, though it was made on the snapshot before: the machine's own change (hostname)
  // showed as pending, the twin asking to undo it. Now the held edits are merged onto the last
  // snapshot for the comparison (or, the disk still full, compared with their own base), and
  // status says they are set aside and what puts them back (CLI and TUI: the one service).
  it('status meanwhile lists the held edit only, pending against the last snapshot, and says it is set aside', async () => {
    const r = rig as SmallTwin
    await writeFile(join(r.twin, 'filesystem/etc/motd'), 'twin edit\n')
    await writeFile(join(r.root, 'etc/hostname'), 'machine changed\n')
    const failed = await failure((await filling()).resolve(SnapshotWorkflow).take({ init: false, ifChanged: false }))
    assert.equal(failed.code, 'DISK_FULL', failed.message)
    const status = async () => (await r.container()).resolve(StatusWorkflow).status(undefined)
    const full = await status()
    assert.deepEqual(full.pending.items.map((i) => i.resource).sort(), ['/etc/motd'], 'the disk still full: the edit, not the machine\'s change undone')
    assert.match(full.pending.setAside ?? '', /set aside in refs\/twinsync\/intended/)
    await rm(filler())
    const roomy = await status()
    assert.deepEqual(roomy.pending.items.map((i) => i.resource).sort(), ['/etc/motd'])
    assert.equal(roomy.drift, false, 'the snapshot recorded the hostname')
    const merged = (await (await r.container()).resolve(IntentService).pending()).tree ?? ''
    assert.deepEqual([git(r.twin, ['show', `${merged}:filesystem/etc/hostname`]), git(r.twin, ['show', `${merged}:filesystem/etc/motd`])], ['machine changed\n', 'twin edit\n'], 'compared as merged onto the last snapshot')
    assert.match(renderStatus(roomy, LINE), /Your edits of the twin are set aside in refs\/twinsync\/intended.*`twinsync snapshot [^`]*` puts them back/)
    await (await r.container()).resolve(SnapshotWorkflow).take({ init: false, ifChanged: false })
    const after = await status()
    assert.deepEqual([after.pending.items.map((i) => i.resource), after.pending.setAside], [['/etc/motd'], null], 'back in the working twin')
  })
})
