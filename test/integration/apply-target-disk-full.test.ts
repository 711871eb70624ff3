// Session 27 (red team): the target's disk full during apply. The twin is on another disk (it
// commits); the target folder /etc/app is a small tmpfs (64 KiB). A config the twin asks for that
// does not fit: no half-written file is live, the old file is intact, no temporary file is left,
// the step says ENOSPC, and the change stays pending; what fits is applied. Held (the files
// provider writes a temporary file and renames it: LocalHost.writeFileAtomic); a write in place
// would fail "the old file is intact".
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { cp, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ApplyService } from '../../core/src/apply/apply-service.js'
import { PlanWorkflow } from '../../core/src/services/make-plan.js'
import { smallTwin, type SmallTwin } from '../support/in-process-twin.js'

describe('apply to a target whose disk is full (a small tmpfs under the root)', function () {
  this.timeout(120_000)
  let rig: SmallTwin
  let mounted = ''

  before(async function () {
    if (process.getuid?.() !== 0) this.skip()
    rig = await smallTwin('twinsync-target-full-', {
      prepare: async (root) => {
        mounted = join(root, 'etc/app')
        await mkdir(mounted, { recursive: true })
        execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mounted])
        await writeFile(join(mounted, 'app.conf'), 'setting = old\n')
      },
    })
  })
  after(async () => {
    if (mounted !== '') execFileSync('umount', ['-l', mounted])
    if (rig?.dir !== undefined) await rm(rig.dir, { recursive: true, force: true })
  })

  it('a file that does not fit: the old one intact, no temporary file, a disk-full error, the change still pending', async () => {
    const big = 'setting = new\n' + '# padding\n'.repeat(20_000)
    await writeFile(join(rig.twin, 'filesystem/etc/app/app.conf'), big)
    await writeFile(join(rig.twin, 'filesystem/etc/motd'), 'Fits\n')
    const plan = await (await rig.container()).resolve(PlanWorkflow).plan({})
    assert.deepEqual(plan.changes.map((c) => c.id).sort(), ['files:replace:/etc/app/app.conf', 'files:replace:/etc/motd'])
    let report: Awaited<ReturnType<ApplyService['apply']>> | undefined
    let thrown: unknown
    try {
      report = await (await rig.container()).resolve(ApplyService).apply({ plan, fromFile: false, acceptHighRisk: true, signal: new AbortController().signal })
    } catch (error) {
      thrown = error
    }
    assert.equal(thrown, undefined, 'the apply itself finishes and commits (the twin is on another disk)')
    assert.equal(await readFile(join(mounted, 'app.conf'), 'utf8'), 'setting = old\n', 'the old file is intact')
    assert.deepEqual(await readdir(mounted), ['app.conf'], 'no temporary file left')
    assert.equal(await readFile(join(rig.root, 'etc/motd'), 'utf8'), 'Fits\n', 'what fits is applied')
    const step = report?.journal.steps.find((r) => r.id === 'files:replace:/etc/app/app.conf')
    assert.equal(step?.status, 'failed')
    assert.match(step?.message ?? '', /No space left on device|disk is full/i)
    // Session 28: the message names the file system that is full (before: "ENOSPC: no space left on device, write" alone).
    assert.match(step?.message ?? '', /^\/etc\/app\/app\.conf: the file system mounted at \/etc\/app is full; not applied \(ENOSPC: no space left on device/)
    const again = await (await rig.container()).resolve(PlanWorkflow).plan({})
    assert.deepEqual(again.changes.map((c) => c.id), ['files:replace:/etc/app/app.conf'], 'still pending')
    assert.equal(await readFile(join(rig.twin, 'filesystem/etc/app/app.conf'), 'utf8'), big, 'the twin still asks for it')
  })

  it('a new file in a folder below the full mount: the message names the mount and the folder (session 28)', async () => {
    // The first case's ask taken back (the twin's app.conf as the machine has it).
    execFileSync('git', ['-C', rig.twin, 'checkout', '--', 'filesystem/etc/app/app.conf'])
    await mkdir(join(rig.twin, 'filesystem/etc/app/conf.d'), { recursive: true })
    await writeFile(join(rig.twin, 'filesystem/etc/app/conf.d/extra.conf'), '# padding\n'.repeat(20_000))
    const plan = await (await rig.container()).resolve(PlanWorkflow).plan({})
    const report = await (await rig.container()).resolve(ApplyService).apply({ plan, fromFile: false, acceptHighRisk: true, signal: new AbortController().signal })
    const step = report.journal.steps.find((r) => r.id === 'files:create:/etc/app/conf.d/extra.conf')
    assert.equal(step?.status, 'failed', JSON.stringify(report.journal.steps))
    assert.match(step?.message ?? '', /^\/etc\/app\/conf\.d\/extra\.conf: the file system mounted at \/etc\/app \(it holds \/etc\/app\/conf\.d\) is full; not applied \(ENOSPC/)
  })
})

// Session 30 (red team): an offline --root apply whose root folder lies on the full file system.
// The walk up from the folder found no mount inside the root and said "the file system mounted at
// / (it holds /etc)": in a --root run that reads as the host's own /, which had room.
describe('apply to a --root target whose root folder is on a full disk (a small tmpfs)', function () {
  this.timeout(120_000)
  let rig: SmallTwin
  let mounted = ''

  before(async function () {
    if (process.getuid?.() !== 0) this.skip()
    rig = await smallTwin('twinsync-root-full-', {
      prepare: async (root) => {
        const aside = await mkdtemp(join(tmpdir(), 'twinsync-root-aside-'))
        await cp(root, aside, { recursive: true })
        execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', root])
        mounted = root
        await cp(aside, root, { recursive: true })
        await rm(aside, { recursive: true, force: true })
      },
    })
  })
  after(async () => {
    if (mounted !== '') execFileSync('umount', ['-l', mounted])
    if (rig?.dir !== undefined) await rm(rig.dir, { recursive: true, force: true })
  })

  it('the step names the target root (its place on this machine), not "/"; the old file intact, the change pending', async () => {
    await writeFile(join(rig.twin, 'filesystem/etc/motd'), '# padding\n'.repeat(20_000))
    const plan = await (await rig.container()).resolve(PlanWorkflow).plan({})
    const report = await (await rig.container()).resolve(ApplyService).apply({ plan, fromFile: false, acceptHighRisk: true, signal: new AbortController().signal })
    const step = report.journal.steps.find((r) => r.id === 'files:replace:/etc/motd')
    assert.equal(step?.status, 'failed', JSON.stringify(report.journal.steps))
    assert.equal(step?.message?.startsWith(`/etc/motd: the file system holding the target root ${rig.root} (and its /etc) is full; not applied (ENOSPC`), true, step?.message)
    assert.equal(await readFile(join(rig.root, 'etc/motd'), 'utf8'), 'Welcome\n', 'the old file is intact')
    const again = await (await rig.container()).resolve(PlanWorkflow).plan({})
    assert.deepEqual(again.changes.map((c) => c.id), ['files:replace:/etc/motd'], 'still pending')
  })
})
