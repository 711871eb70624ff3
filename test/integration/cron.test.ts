import { strict as assert } from 'node:assert'
import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import { MemoryTwin, type ProviderContext } from '@twinsync/sdk'
import { checkConformance, createTestContext } from '@twinsync/sdk/conformance'
import { CronProvider, providers, startupEntries } from '@twinsync/plugin-cron'
import { bootContainer, chroot, chrootOk, freshRootfs, REPO_IN_CONTAINER, ROOTFS_BUILD_TIMEOUT_MS, type Container, type Rootfs } from '../bed/index.js'

const REBOOT_JOB = '@reboot cat /proc/sys/kernel/random/boot_id > /home/ann/rebooted\n'

describe('cron provider on a real Debian root file system', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  const provider = new CronProvider()
  let rootfs: Rootfs | undefined
  let root: string
  let ctx: ProviderContext

  before(async () => {
    rootfs = await freshRootfs()
    root = rootfs.dir
    await chrootOk(root, 'useradd', ['-m', 'ann'])
    ctx = createTestContext(root, { providers })
  })

  after(async () => {
    await rootfs?.cleanup()
  })

  /** Collect, put `crontabs` into the twin (null removes one), load it back, diff: what a plan holds. */
  async function plan(crontabs: Record<string, string | null>) {
    const actual = await provider.collect({ ctx })
    const twin = new MemoryTwin(actual.documents.filter((d) => !d.path.startsWith('filesystem/')))
    for (const c of actual.state.crontabs) if (!(c.user in crontabs)) twin.set(`filesystem${c.path}`, c.content)
    for (const [user, content] of Object.entries(crontabs)) if (content !== null) twin.set(`filesystem/var/spool/cron/crontabs/${user}`, content)
    const desired = await provider.load({ ctx, twin })
    assert.ok(desired.state !== undefined)
    return { actual, desired: desired.state, ...provider.diff({ desired: desired.state, actual: actual.state, ctx }) }
  }

  it('conforms to the SDK contract', async () => {
    assert.deepEqual(await checkConformance(provider, ctx), [])
  })

  it("parses Debian's own /etc/crontab and /etc/cron.d", async () => {
    const { state, diagnostics } = await provider.collect({ ctx })
    assert.deepEqual(diagnostics, [])
    assert.deepEqual(state.crontabs, [])
    assert.deepEqual(
      state.jobs.filter((j) => j.source === '/etc/crontab').map((j) => [j.user, j.schedule]),
      [['root', '17 * * * *'], ['root', '25 6 * * *'], ['root', '47 6 * * 7'], ['root', '52 6 1 * *']],
    )
    assert.ok(state.jobs.some((j) => j.source === '/etc/cron.d/e2scrub_all'))
  })

  it('adds an @reboot job through crontab -u, visible to crontab -l, and the next diff is empty', async () => {
    const { changes, diagnostics, desired } = await plan({ ann: REBOOT_JOB })
    assert.deepEqual(diagnostics, [])
    assert.deepEqual(changes.map((c) => c.id), ['cron:create:/var/spool/cron/crontabs/ann'])
    const applied = await provider.apply({ changes, ctx })
    assert.deepEqual(applied.results.map((r) => [r.status, r.message]), [['applied', undefined]])

    const listed = await chroot(root, 'crontab', ['-l', '-u', 'ann'])
    assert.equal(listed.code, 0, listed.stderr)
    assert.equal(listed.stdout, REBOOT_JOB)
    // cron's own owner, group and mode, because crontab wrote it.
    const st = await stat(join(root, 'var/spool/cron/crontabs/ann'))
    const crontabGid = (await chrootOk(root, 'getent', ['group', 'crontab'])).stdout.split(':')[2]
    const annUid = (await chrootOk(root, 'id', ['-u', 'ann'])).stdout.trim()
    assert.deepEqual([st.mode & 0o7777, String(st.uid), String(st.gid)], [0o600, annUid, crontabGid])

    const again = await provider.collect({ ctx })
    assert.deepEqual(again.documents.find((d) => d.path === 'filesystem/var/spool/cron/crontabs/ann')?.content, REBOOT_JOB)
    assert.deepEqual(provider.diff({ desired, actual: again.state, ctx }), { changes: [], diagnostics: [] })
    assert.deepEqual(startupEntries(again.state).filter((e) => e.trigger === 'boot').map((e) => [e.user, e.command]), [['ann', 'cat /proc/sys/kernel/random/boot_id > /home/ann/rebooted']])
    // Applying the same plan again changes nothing.
    assert.deepEqual((await provider.apply({ changes, ctx })).results.map((r) => r.status), ['unchanged'])
  })

  it('refuses an invalid schedule before writing anything', async () => {
    const before = await provider.collect({ ctx })
    const { changes, diagnostics } = await plan({ ann: REBOOT_JOB + '*/5 * * * * fine\n', root: '0 24 * * * never\n' })
    assert.deepEqual(diagnostics.map((d) => [d.severity, d.code, d.path]), [['error', 'CRON_SCHEDULE_INVALID', '/var/spool/cron/crontabs/root']])
    const applied = await provider.apply({ changes, ctx })
    assert.deepEqual(applied.results.map((r) => r.status), ['skipped', 'failed'])
    assert.equal((await chroot(root, 'crontab', ['-l', '-u', 'root'])).code, 1)
    assert.deepEqual((await provider.collect({ ctx })).documents, before.documents)
  })

  it("refuses a user the target's /etc/passwd does not have", async () => {
    const { changes } = await plan({ zed: '@daily true\n' })
    const applied = await provider.apply({ changes, ctx })
    assert.deepEqual(applied.results.map((r) => [r.status, r.diagnostics?.[0]?.code]), [['failed', 'USER_UNKNOWN']])
  })

  it('removes a crontab with crontab -r', async () => {
    await chrootOk(root, 'useradd', ['-m', 'bob'])
    await chrootOk(root, 'crontab', ['-u', 'bob', '-'], { input: '@hourly date\n' })
    const { changes } = await plan({ bob: null })
    assert.deepEqual(changes.map((c) => c.id), ['cron:delete:/var/spool/cron/crontabs/bob'])
    assert.deepEqual((await provider.apply({ changes, ctx })).results.map((r) => r.status), ['applied'])
    const listed = await chroot(root, 'crontab', ['-l', '-u', 'bob'])
    assert.equal(listed.code, 1)
    assert.match(listed.stderr, /no crontab for bob/)
  })
})

describe('cron provider in a booted container', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  let container: Container | undefined

  after(async () => {
    await container?.close()
  })

  it('applies an @reboot job with root "/", and after a reboot the job has run', async () => {
    container = await bootContainer()
    await container.runOk(['useradd', '-m', 'ann'])
    const out = await container.runOk(['node', `${REPO_IN_CONTAINER}/test/integration/fixtures/cron-apply.mjs`, JSON.stringify({ ann: REBOOT_JOB })])
    const report = JSON.parse(out.stdout) as { changes: string[]; results: Array<{ status: string }>; remaining: string[] }
    assert.deepEqual(report.changes, ['cron:create:/var/spool/cron/crontabs/ann'])
    assert.deepEqual(report.results.map((r) => r.status), ['applied'])
    assert.deepEqual(report.remaining, [])
    assert.equal((await container.runOk(['crontab', '-l', '-u', 'ann'])).stdout, REBOOT_JOB)
    assert.notEqual((await container.run(['test', '-e', '/home/ann/rebooted'])).code, 0)

    await container.reboot()
    const bootId = (await container.readFile('/proc/sys/kernel/random/boot_id')).trim()
    // cron runs @reboot jobs after it has started, which can be after boot has finished: wait on a
    // deadline (not a count of tries, which runs out sooner the faster the machine).
    let marker = ''
    const deadline = Date.now() + 60_000
    while (marker === '' && Date.now() < deadline) {
      const read = await container.run(['cat', '/home/ann/rebooted'])
      if (read.code === 0) marker = read.stdout.trim()
      else await new Promise((resolve) => setTimeout(resolve, 100))
    }
    assert.equal(marker, bootId, 'the @reboot job wrote the boot id of the boot after the apply')
  })
})
