import { strict as assert } from 'node:assert'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { bootContainer, makeTempDir, removeTree, ROOTFS_BUILD_TIMEOUT_MS, REPO_IN_CONTAINER, sharedRootfs, type Container } from '../bed/index.js'

const LOCK = '/var/lib/twinsync/twin/.git/twinsync/lock'

/** A run of the code under test in `c` that takes the twin lock and holds it (a service, as a scheduled run is); the lock's text. */
async function holdLock(c: Container): Promise<string> {
  const code = `import { TwinLock } from '${REPO_IN_CONTAINER}/core/dist/twin/twin-lock.js'; await new TwinLock('${LOCK}').acquire('apply'); setInterval(() => {}, 1 << 30)`
  await c.runOk(['systemd-run', '--unit=twin-lock-holder', '--quiet', 'node', '--input-type=module', '-e', code])
  const deadline = Date.now() + 60_000
  while ((await c.run(['test', '-s', LOCK])).code !== 0) {
    assert.ok(Date.now() < deadline, 'the holder took the lock')
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return c.readFile(LOCK)
}

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

  /** A run of the code under test that takes the twin lock and holds it until the restart kills it. */
  const holdLockThroughRestart = async (c: Container) => {
    const holder = JSON.parse(await holdLock(c)) as { bootId: string; since: string }
    await c.reboot()
    const boot = (await c.readFile('/proc/sys/kernel/random/boot_id')).trim()
    const btime = Number(/^btime (\d+)$/m.exec(await c.readFile('/proc/stat'))?.[1])
    assert.notEqual(boot, holder.bootId, 'another boot')
    assert.ok(Date.parse(holder.since) >= btime * 1000, `the lock (${holder.since}) is later than this boot's start by the clock (btime ${btime})`)
    return holder
  }

  it("takes the lock over after the restart: the container's journal has the lock's boot ending (its journal stopped) after the lock", async () => {
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

/**
 * Session 50 (review L1, s49): two containers of one image (one machine id) whose journals meet in
 * one host folder, as systemd-nspawn's `--link-journal=host` makes it (a bind of the host's
 * /var/log/journal/<machine-id> into each; here a folder of the test's, not the host's own), and
 * that share one twin. Each boot has its own boot id and the host's btime, so the other's lock is
 * "of another boot, naming this machine, taken after this boot began"; the journal folder holds
 * the other's boot, running and writing after its lock. Session 49's rule took that live lock.
 */
describe('two running containers of one image sharing a journal folder and a twin', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  const cts: Container[] = []
  const dirs: string[] = []

  after(async () => {
    for (const ct of cts) await ct.close()
    for (const dir of dirs) await removeTree(dir)
  })

  it("does not take the other's live lock (LOCK_HELD, the lock left as it was); takes it once the other has shut down", async () => {
    const machineId = (await readFile(join(await sharedRootfs('base'), 'etc/machine-id'), 'utf8')).trim()
    assert.match(machineId, /^[0-9a-f]{32}$/, 'the image has a machine id, which both containers share')
    const journal = await makeTempDir('journal')
    const twins = await makeTempDir('twins')
    dirs.push(journal, twins)
    const binds = [
      { host: journal, container: `/var/log/journal/${machineId}`, readOnly: false },
      { host: twins, container: '/var/lib/twinsync', readOnly: false },
    ]
    const first = await bootContainer({ binds })
    cts.push(first)
    assert.equal((await first.twinsync(['snapshot', '--init'])).code, 0)
    const second = await bootContainer({ binds })
    cts.push(second)
    const boots = await Promise.all(cts.map(async (c) => (await c.readFile('/proc/sys/kernel/random/boot_id')).trim()))
    assert.notEqual(boots[0], boots[1], 'a boot id of its own each')

    // The second takes the twin lock and holds it; its boot keeps writing the journal after.
    const lock = await holdLock(second)
    assert.equal(await first.readFile(LOCK), lock, 'one twin')
    const holder = JSON.parse(lock) as { bootId: string; since: string }
    assert.equal(holder.bootId, boots[1])
    await new Promise((resolve) => setTimeout(resolve, 1100))
    await second.runOk(['logger', 'the second boot, still running, after its lock'])
    const seen = await first.runOk(['journalctl', `_BOOT_ID=${holder.bootId.replace(/-/g, '')}`, '--reverse', '--lines=1', '-o', 'json'])
    const last = JSON.parse(seen.stdout) as { __REALTIME_TIMESTAMP: string }
    assert.ok(Number(last.__REALTIME_TIMESTAMP) / 1000 >= Date.parse(holder.since), "the first's journal has the second's boot, written after its lock (session 49's rule: stale)")

    const refused = await first.twinsync(['snapshot'])
    assert.equal(refused.code, 2, refused.stderr + refused.stdout)
    assert.match(refused.stderr, /LOCK_HELD/)
    assert.match(refused.stderr.replace(/\s+/g, ' '), /this machine's journal has that boot, its last entry at \S+, neither that boot's journal stopping nor before this boot's first entry/)
    assert.match(refused.stderr.replace(/\s+/g, ' '), new RegExp(`remove the lock: \`rm ${LOCK}\``))
    assert.equal(await first.readFile(LOCK), lock, 'the lock is left as it was')

    // The second shuts down: its journal's last entry is its journald stopping, and the lock is stale.
    await second.close()
    const taken = await first.twinsync(['snapshot'])
    assert.equal(taken.code, 0, taken.stderr + taken.stdout)
    assert.equal((await first.run(['test', '-e', LOCK])).code, 1, 'released after the snapshot')
  })
})
