import { strict as assert } from 'node:assert'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { spawn } from 'node:child_process'
import { ROOTFS_BUILD_TIMEOUT_MS, run, runOk } from '../bed/index.js'
import { TWINSYNC_BIN, useCliRoot } from '../support/cli.js'
import { writeTwinFile } from '../support/twin-edit.js'
import { excludeChanges } from '../../core/src/plan/exclude-changes.js'
import { tuiServices } from '../support/tui-services.js'

interface StatusJson {
  drift: boolean
  pending: { count: number; items: Array<{ id: string; reason: string }> }
}

/**
 * A repair of drift (the twin's last snapshot asks for what the machine no longer has) is as much
 * a person's ask as an edit: a step of it that fails, or that a person leaves out, stays pending
 * with its reason (session 22: the checkpoint adopted the machine's state, and the failed repair
 * was gone: "In sync … nothing pending", "No changes"). What the apply did settles; drift the apply
 * was not asked to repair (--only another domain) is adopted; a value its provider never applies
 * (a package's version) is not made pending.
 */
describe('a repair of drift that fails or is left out stays pending', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  const root = useCliRoot()
  const twinsync = (...args: string[]) => root().twinsync(...args)
  const status = () => root().statusJson<StatusJson>()
  const chroot = (...args: string[]) => runOk(['chroot', root().rootfs.dir, ...args])
  const immutable = (on: boolean) => runOk(['chattr', on ? '+i' : '-i', join(root().rootfs.dir, 'etc/motd')])
  /** gzip's version in dpkg's status file moved (as an upgrade elsewhere would move it): apt plans nothing for a version. */
  const moveVersion = async () => {
    const path = join(root().rootfs.dir, 'var/lib/dpkg/status')
    const text = await readFile(path, 'utf8')
    const moved = text.replace(/(Package: gzip\n(?:[^\n]+\n)*?Version: )([^\n]+)/, '$1$2+drift')
    assert.notEqual(moved, text)
    await writeFile(path, moved)
  }

  after(async () => {
    await immutable(false).catch(() => undefined)
  })

  it('a failed repair stays pending ("failed in the apply of …"), planned again; the applied one settles; apt drift outside --only is adopted', async () => {
    await writeFile(join(root().rootfs.dir, 'etc/motd'), 'Drifted motd\n')
    await writeFile(join(root().rootfs.dir, 'etc/issue.net'), 'Drifted issue.net\n')
    await chroot('apt-mark', 'hold', 'gzip')
    await immutable(true) // the write of /etc/motd fails (EPERM)
    assert.deepEqual(await root().planIds(), ['apt:unhold:gzip', 'files:replace:/etc/issue.net', 'files:replace:/etc/motd'])

    const r = await root().apply('--only', 'files')
    assert.equal(r.code, 1, r.out)
    assert.equal(r.steps.get('files:replace:/etc/motd')?.status, 'failed', r.out)
    assert.equal(r.steps.get('files:replace:/etc/issue.net')?.status, 'applied', r.out)
    assert.equal(await root().live('etc/issue.net'), (await readFile(join(root().twinDir, 'filesystem/etc/issue.net'), 'utf8')))

    const s = await status()
    assert.deepEqual(s.pending.items.map((i) => i.id), ['files:replace:/etc/motd'], 'the failed repair is pending; the applied one and the apt drift outside --only are not')
    assert.match(s.pending.items[0]?.reason ?? '', /^failed in the apply of \S+: /)
    const text = await twinsync('status')
    assert.doesNotMatch(text.stdout, /nothing pending/i)
    assert.deepEqual(await root().planIds(), ['files:replace:/etc/motd'], 'planned again; the hold was adopted (not asked with --only files)')
    assert.match((await twinsync('plan')).stdout, /still pending, failed in the apply of /)
    // A later snapshot keeps it too.
    assert.equal((await twinsync('snapshot')).code, 0)
    assert.deepEqual(await root().planIds(), ['files:replace:/etc/motd'])

    await immutable(false)
    const again = await root().apply()
    assert.equal(again.code, 0, again.out)
    assert.notEqual(await root().live('etc/motd'), 'Drifted motd\n')
    assert.deepEqual((await status()).pending.items, [])
    assert.deepEqual(await root().planIds(), [])
  })

  it('repairs left out in the TUI stay pending ("left out of the apply of …"), a version drift beside them is not made pending; discard drops them, the machine\'s values stay', async () => {
    await immutable(false)
    await chroot('apt-mark', 'unhold', 'gzip')
    assert.equal((await twinsync('snapshot')).code, 0)
    await writeFile(join(root().rootfs.dir, 'etc/motd'), 'Drifted again\n')
    await writeFile(join(root().rootfs.dir, 'etc/issue.net'), 'Drifted again\n')
    await chroot('apt-mark', 'hold', 'gzip')
    await moveVersion()
    const services = await tuiServices(root())
    const signal = new AbortController().signal
    const plan = await services.plan({ signal })
    assert.deepEqual(plan.changes.map((c) => c.id).sort(), ['apt:unhold:gzip', 'files:replace:/etc/issue.net', 'files:replace:/etc/motd'])
    const declined = ['apt:unhold:gzip', 'files:replace:/etc/motd']
    const chosen = excludeChanges(plan, declined)
    const report = await services.apply({ plan: chosen.plan, leftOut: plan.changes.filter((c) => declined.includes(c.id)), signal })
    assert.equal(report.exitCode, 0)
    assert.equal(await root().live('etc/motd'), 'Drifted again\n')
    assert.notEqual(await root().live('etc/issue.net'), 'Drifted again\n')

    const s = await status()
    assert.deepEqual(s.pending.items.map((i) => i.id).sort(), declined, "the declined repairs are pending; gzip's moved version is not")
    for (const item of s.pending.items) assert.match(item.reason, /^left out of the apply of /)
    assert.deepEqual(await root().planIds(), declined)

    const discard = await twinsync('discard', 'files:replace:/etc/motd')
    assert.equal(discard.code, 0, discard.stdout + discard.stderr)
    assert.deepEqual(await root().planIds(), ['apt:unhold:gzip'])
    // A pending item is not drift (`adopt` is for what the machine did): discarding it keeps the machine's value.
    const keep = await twinsync('discard', 'apt:unhold:gzip')
    assert.equal(keep.code, 0, keep.stdout + keep.stderr)
    assert.deepEqual((await status()).pending.items, [])
    assert.deepEqual(await root().planIds(), [])
    assert.equal(await root().live('etc/motd'), 'Drifted again\n')
    assert.match((await chroot('apt-mark', 'showhold')).stdout, /^gzip$/m)
  })

  it('a kill -9 during the steps loses no repair: status lists it before the rerun, which continues the apply and makes it', async () => {
    const marker = `twinsync-drift-kill-${process.pid}`
    await writeTwinFile(root().twinDir, 'plans/slow.yaml', `actions:\n  - run: [sh, -c, "sleep 3; touch /root/${marker}"]\n    phase: before\n    description: Slow first step\n`)
    await writeFile(join(root().rootfs.dir, 'etc/motd'), 'Drifted before a kill\n')
    const wanted = await readFile(join(root().twinDir, 'filesystem/etc/motd'), 'utf8')
    const { cli } = root()
    const child = spawn('node', [TWINSYNC_BIN, 'apply', '--yes', '--accept-high-risk', '--root', root().rootfs.dir, '--repo', cli.twinDir], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: cli.dir, LANG: 'C.UTF-8', TWINSYNC_DATA_DIR: cli.dataDir, TWINSYNC_CONFIG: cli.configFile },
      stdio: 'ignore',
    })
    const exited = new Promise((resolve) => child.on('close', resolve))
    const deadline = Date.now() + 120_000
    while ((await run(['pgrep', '-f', `sleep 3; touch /root/${marker}`])).code !== 0) {
      assert.ok(Date.now() < deadline, 'the slow step never started')
      await new Promise((r) => setTimeout(r, 100))
    }
    child.kill('SIGKILL')
    await exited
    assert.equal(await root().live('etc/motd'), 'Drifted before a kill\n')

    const s = await status()
    const item = s.pending.items.find((i) => i.id === 'files:replace:/etc/motd')
    assert.ok(item, `the repair is pending after the kill: ${JSON.stringify(s.pending.items)}`)
    assert.match(item.reason, /^asked in the apply of /)
    const again = await root().apply()
    assert.equal(again.code, 0, again.out)
    assert.equal(await root().live('etc/motd'), wanted)
    assert.deepEqual((await status()).pending.items, [])
    assert.deepEqual(await root().planIds(), [])
  })
})
