import { strict as assert } from 'node:assert'
import { bootContainer, ROOTFS_BUILD_TIMEOUT_MS, REPO_IN_CONTAINER, type Container } from '../bed/index.js'

const LOCK = '/var/lib/twinsync/twin/.git/twinsync/lock'

/**
 * Session 49 (review F3, s48): the twin lock of a run a restart killed. A booted container's boot
 * time (btime of /proc/stat) is its host's, older than any lock its earlier boot took, while its
 * boot id is new at each boot (systemd-nspawn): the clock says "taken after this boot began", as
 * on a machine with no battery-backed clock after a power cut, and the lock was "a clone's" on
 * every run. The container's own journal places that boot without the clock.
 */
describe('the twin lock of a run a restart killed, in a booted Debian container', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  let ct: Container | undefined

  after(async () => {
    await ct?.close()
  })

  /** A run of the code under test that takes the twin lock and holds it until the restart kills it (a service, as a scheduled run is). */
  const holdLockThroughRestart = async (c: Container) => {
    const code = `import { TwinLock } from '${REPO_IN_CONTAINER}/core/dist/twin/twin-lock.js'; await new TwinLock('${LOCK}').acquire('apply'); setInterval(() => {}, 1 << 30)`
    await c.runOk(['systemd-run', '--unit=twin-lock-holder', '--quiet', 'node', '--input-type=module', '-e', code])
    const deadline = Date.now() + 60_000
    while ((await c.run(['test', '-s', LOCK])).code !== 0) {
      assert.ok(Date.now() < deadline, 'the holder took the lock')
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    const holder = JSON.parse(await c.readFile(LOCK)) as { bootId: string; since: string }
    await c.reboot()
    const boot = (await c.readFile('/proc/sys/kernel/random/boot_id')).trim()
    const btime = Number(/^btime (\d+)$/m.exec(await c.readFile('/proc/stat'))?.[1])
    assert.notEqual(boot, holder.bootId, 'another boot')
    assert.ok(Date.parse(holder.since) >= btime * 1000, `the lock (${holder.since}) is later than this boot's start by the clock (btime ${btime})`)
    return holder
  }

  it("takes the lock over after the restart: the container's journal has the lock's boot with entries after the lock", async () => {
    ct = await bootContainer()
    assert.equal((await ct.twinsync(['snapshot', '--init'])).code, 0)
    assert.equal((await ct.run(['test', '-d', '/var/log/journal'])).code, 0, 'a persistent journal (Debian keeps one)')
    const holder = await holdLockThroughRestart(ct)
    assert.equal((await ct.run(['journalctl', `_BOOT_ID=${holder.bootId.replace(/-/g, '')}`, '-q', '-n', '1'])).code, 0)
    const r = await ct.twinsync(['snapshot'])
    assert.equal(r.code, 0, r.stderr + r.stdout)
    assert.equal((await ct.run(['test', '-e', LOCK])).code, 1, 'released after the snapshot')
  })

  it('without a persistent journal: LOCK_HELD says what is known and the rm, the lock left as it was', async () => {
    assert.ok(ct, 'booted by the previous test')
    await ct.writeFile('/etc/systemd/journald.conf.d/volatile.conf', '[Journal]\nStorage=volatile\n')
    await ct.runOk(['systemctl', 'restart', 'systemd-journald'])
    await ct.runOk(['rm', '-rf', '/var/log/journal'])
    const holder = await holdLockThroughRestart(ct)
    const before = await ct.readFile(LOCK)
    const r = await ct.twinsync(['snapshot'])
    assert.equal(r.code, 2, r.stderr + r.stdout)
    assert.match(r.stderr, /LOCK_HELD/)
    assert.match(r.stderr, /a clone of this one, or this machine's own run before a restart/)
    assert.match(r.stderr, /this machine's journal has no entry of that boot/)
    assert.match(r.stderr.replace(/\s+/g, ' '), new RegExp(`remove the lock: \`rm ${LOCK}\``))
    assert.equal(await ct.readFile(LOCK), before, 'the lock is left as it was')
    assert.ok(before.includes(holder.bootId))
  })
})
