import { strict as assert } from 'node:assert'
import { chmod, chown, lchown, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isTwinSyncError } from '@twinsync/sdk'
import { refuseChangeableByOthers } from '../src/services/schedule.js'

/**
 * Session 44 (attack): the schedule's units, cron line and apt hook run node and twinsync as root,
 * unattended; `enable` with a node from a user's nvm or a twinsync linked from a user's checkout
 * made that user root at the next tick. enableSchedule refuses (SCHEDULE_UNSAFE) before writing
 * anything for this machine's own root; what it asks of each program is tested here (a test that
 * enabled a schedule on `/` would write this host's /etc).
 */
describe('schedule enable: the programs root will run', () => {
  let dir: string
  before(async function () {
    if (process.geteuid?.() !== 0) throw new Error('this test needs root (chown to another uid)')
    dir = await mkdtemp(join(tmpdir(), 'twinsync-schedule-programs-'))
    for (const [path, mode, uid] of [
      ['root-only', 0o755, 0],
      ['bob', 0o755, 1000],
      ['shared', 0o775, 0],
      ['open', 0o1777, 0],
    ] as const) {
      await mkdir(join(dir, path))
      await chmod(join(dir, path), mode)
      await chown(join(dir, path), uid, uid === 0 ? 1000 : uid)
    }
    for (const [path, mode, uid] of [
      ['root-only/node', 0o755, 0],
      ['root-only/run.js', 0o644, 0],
      ['root-only/bobs.js', 0o644, 1000],
      ['root-only/everyones.js', 0o666, 0],
      ['bob/run.js', 0o644, 0],
      ['shared/run.js', 0o644, 0],
      ['open/run.js', 0o644, 0],
    ] as const) {
      await writeFile(join(dir, path), '')
      await chmod(join(dir, path), mode)
      await chown(join(dir, path), uid, 0)
    }
    await symlink(join(dir, 'bob', 'run.js'), join(dir, 'root-only', 'linked.js'))
    // bob's link in a sticky folder to root's own file: bob may remove it and make it again.
    await symlink(join(dir, 'root-only', 'run.js'), join(dir, 'open', 'bobs-link.js'))
    await lchown(join(dir, 'open', 'bobs-link.js'), 1000, 1000)
  })
  after(() => rm(dir, { recursive: true, force: true }))

  const unsafe = (...paths: string[]) => (e: unknown) =>
    isTwinSyncError(e) && e.code === 'SCHEDULE_UNSAFE' && paths.every((p) => (e.details?.changeable as Array<{ path: string }>).some((c) => c.path === join(dir, p)))

  it('refuses a program or a folder on its way that a user other than root owns or can write, as named or as its link resolves', async () => {
    const node = join(dir, 'root-only', 'node')
    await refuseChangeableByOthers([node, join(dir, 'root-only', 'run.js')])
    // A folder with the sticky bit (as /tmp) keeps root's entries root's.
    await refuseChangeableByOthers([node, join(dir, 'open', 'run.js')])
    await assert.rejects(refuseChangeableByOthers([node, join(dir, 'bob', 'run.js')]), unsafe('bob'))
    await assert.rejects(refuseChangeableByOthers([join(dir, 'bob', 'run.js'), join(dir, 'root-only', 'run.js')]), unsafe('bob'))
    await assert.rejects(refuseChangeableByOthers([node, join(dir, 'root-only', 'bobs.js')]), unsafe('root-only/bobs.js'))
    await assert.rejects(refuseChangeableByOthers([node, join(dir, 'root-only', 'everyones.js')]), unsafe('root-only/everyones.js'))
    await assert.rejects(refuseChangeableByOthers([node, join(dir, 'shared', 'run.js')]), unsafe('shared'))
    await assert.rejects(refuseChangeableByOthers([node, join(dir, 'root-only', 'linked.js')]), unsafe('bob'))
    await assert.rejects(refuseChangeableByOthers([node, join(dir, 'open', 'bobs-link.js')]), unsafe('open/bobs-link.js'))
    // Not root's schedule (this run is not root): nothing to refuse.
    await refuseChangeableByOthers([node, join(dir, 'bob', 'run.js')], 1000)
  })
})
