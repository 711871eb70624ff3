// Session 33 (from session 32's red team): a snapshot's move that fails the same way on every try
// once HEAD moved. The twin's folder made immutable (`chattr +i`, as an administrator protecting a
// folder might, or a file system the kernel refuses to write) refuses the rename of the machine's
// new file: the snapshot failed with an uncoded EPERM and left its move recorded; every later
// snapshot, plan and apply failed settling it the same way, and the twin was stuck until someone
// edited `.git/twinsync` by hand. Now the move is undone (TWIN_MOVE_FAILED, exit 2): the twin is
// the snapshot before, whole, and usable; the next snapshot after the cause is gone records the
// machine. In-process, real git, a real immutable folder, a hand-made root.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { silentLogger } from '@twinsync/sdk'
import { createContainer } from '../../core/src/container.js'
import { PlanWorkflow } from '../../core/src/services/make-plan.js'
import { SnapshotWorkflow } from '../../core/src/services/take-snapshot.js'
import { git, noPlugins, SMALL_ETC, smallTwin, snapshotKilledAtFirstRename, type SmallTwin } from '../support/in-process-twin.js'

describe('a snapshot whose move the twin refuses on every try', function () {
  this.timeout(120_000)
  let rig: SmallTwin | undefined
  let frozen: string | undefined
  const chattr = (flag: '+i' | '-i', folder: string) => execFileSync('chattr', [flag, folder])
  afterEach(async () => {
    if (frozen !== undefined) chattr('-i', frozen)
    frozen = undefined
    if (rig !== undefined) await rm(rig.dir, { recursive: true, force: true })
    rig = undefined
  })

  const setUp = async () => {
    rig = await smallTwin('twinsync-move-fails-', { files: { ...SMALL_ETC, 'etc/zz/conf': 'old\n' } })
    // The machine changes two files; the twin's folder of one of them refuses any new entry.
    await writeFile(join(rig.root, 'etc/motd'), 'machine changed\n')
    await writeFile(join(rig.root, 'etc/zz/conf'), 'machine new\n')
    return rig
  }
  const freeze = (twin: string) => {
    frozen = join(twin, 'filesystem/etc/zz')
    chattr('+i', frozen)
  }
  const take = async (r: SmallTwin) => (await r.container()).resolve(SnapshotWorkflow).take({ init: false, ifChanged: false })
  /** The twin is exactly the snapshot `head`: HEAD, the observed ref, the working twin and its index, nothing of a move left. */
  const isSnapshot = (twin: string, head: string) => {
    assert.equal(git(twin, ['rev-parse', 'HEAD']).trim(), head, 'HEAD')
    assert.equal(git(twin, ['rev-parse', 'refs/twinsync/observed']).trim(), head, 'the observed ref')
    assert.equal(git(twin, ['status', '--porcelain', '--untracked-files=all']), '', 'the working twin and index are HEAD')
    assert.equal(existsSync(join(twin, '.git/twinsync/snapshot-in-progress.json')), false, 'no move recorded')
  }

  it('the snapshot is undone, coded, naming the path; the twin stays usable; once the folder takes files the next snapshot records the machine', async () => {
    const r = await setUp()
    freeze(r.twin)
    const error = await take(r).then(
      () => undefined,
      (e: unknown) => e as { code?: string; message: string; nextStep?: string },
    )
    assert.equal(error?.code, 'TWIN_MOVE_FAILED', String(error?.message))
    assert.match(error.message, /^The snapshot could not write filesystem\/etc\/zz\/conf in the working twin \(EPERM: operation not permitted.*\): it was undone, and the twin is the snapshot before it \([0-9a-f]{12}\)$/)
    assert.match(error.nextStep ?? '', /lsattr -d .*filesystem\/etc\/zz/)
    isSnapshot(r.twin, r.initial)
    assert.equal(await readFile(join(r.twin, 'filesystem/etc/motd'), 'utf8'), 'Welcome\n', 'the working twin is the snapshot before')
    // Not stuck: a plan reads the twin (the machine's changes are drift from it, as after any failed snapshot).
    const plan = await (await r.container()).resolve(PlanWorkflow).plan({})
    assert.deepEqual(plan.changes.map((c) => c.resource).sort(), ['/etc/motd', '/etc/zz/conf'])
    assert.ok(!plan.diagnostics.some((d) => d.severity === 'error'), JSON.stringify(plan.diagnostics))
    // Again, the same: undone again, never a half-moved twin.
    assert.equal(await take(r).then(() => 'taken', (e: { code?: string }) => e.code), 'TWIN_MOVE_FAILED')
    isSnapshot(r.twin, r.initial)
    chattr('-i', frozen as string)
    frozen = undefined
    const taken = await take(r)
    assert.ok(taken.commit !== undefined, 'the next snapshot commits')
    isSnapshot(r.twin, taken.commit)
    assert.equal(git(r.twin, ['show', 'HEAD:filesystem/etc/zz/conf']), 'machine new\n')
    assert.equal(git(r.twin, ['show', 'HEAD:filesystem/etc/motd']), 'machine changed\n')
  })

  for (const next of ['plan', 'snapshot'] as const) {
    it(`killed after HEAD moved, then the folder refuses: the next ${next} undoes the move and says so`, async () => {
      const r = await setUp()
      await snapshotKilledAtFirstRename(r)
      assert.notEqual(git(r.twin, ['rev-parse', 'HEAD']).trim(), r.initial, 'HEAD moved before the kill')
      freeze(r.twin)
      const warnings: string[] = []
      const container = await createContainer({ root: r.root, repo: r.twin, configPath: r.configPath, oclif: noPlugins, logger: { ...silentLogger, warn: (m: string) => void warnings.push(m) } })
      if (next === 'plan') {
        const plan = await container.resolve(PlanWorkflow).plan({})
        warnings.push(...plan.diagnostics.filter((d) => d.code === 'TWIN_MOVE_FAILED' && d.severity === 'warning').map((d) => d.summary))
        isSnapshot(r.twin, r.initial)
        assert.deepEqual(plan.changes.map((c) => c.resource).sort(), ['/etc/motd', '/etc/zz/conf'])
      } else {
        // Settling undoes the killed move; the snapshot's own move then fails the same way and is undone too.
        const code = await container.resolve(SnapshotWorkflow).take({ init: false, ifChanged: false }).then(() => 'taken', (e: { code?: string }) => e.code)
        assert.equal(code, 'TWIN_MOVE_FAILED')
        isSnapshot(r.twin, r.initial)
      }
      assert.ok(warnings.some((w) => /^The snapshot could not write filesystem\/etc\/zz\/conf in the working twin \(EPERM.*\): it was undone, and the twin is the snapshot before it \([0-9a-f]{12}\)\. Remove the cause/.test(w)), warnings.join('\n'))
      chattr('-i', frozen as string)
      frozen = undefined
      const taken = await take(r)
      assert.ok(taken.commit !== undefined)
      isSnapshot(r.twin, taken.commit)
      assert.equal(git(r.twin, ['show', 'HEAD:filesystem/etc/zz/conf']), 'machine new\n')
    })
  }
})
