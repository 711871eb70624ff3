import { strict as assert } from 'node:assert'
import { lstat, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freshRootfs, ROOTFS_BUILD_TIMEOUT_MS, type Rootfs } from '../bed/index.js'
import { cliSandbox, type CliSandbox } from '../support/cli.js'

const present = (p: string) => lstat(p).then(() => true, () => false)

/** `twinsync schedule --root`: units enabled with the real `systemctl --root`; cron without systemd. */
describe('schedule on a target root', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  let rootfs: Rootfs
  let cli: CliSandbox

  before(async () => {
    rootfs = await freshRootfs()
    cli = await cliSandbox()
  })
  after(async () => {
    await cli?.cleanup()
    await rootfs?.cleanup()
  })

  it('enables the timer with systemctl --root and disable removes every file', async () => {
    const r = await cli.twinsync(['schedule', 'enable', '--every', '30min', '--root', rootfs.dir, '--repo', '/srv/twin', '--json'])
    assert.equal(r.code, 0, r.stderr + r.stdout)
    const s = JSON.parse(r.stdout) as { kind: string; active: boolean; every: string; command: string }
    assert.equal(s.kind, 'systemd')
    assert.equal(s.active, true)
    assert.equal(s.every, '30min')
    assert.match(s.command, / snapshot --if-changed --repo \/srv\/twin( |$)/)
    const timer = await readFile(join(rootfs.dir, 'etc/systemd/system/twinsync-snapshot.timer'), 'utf8')
    assert.match(timer, /OnUnitActiveSec=1800s/)
    assert.ok(await present(join(rootfs.dir, 'etc/systemd/system/timers.target.wants/twinsync-snapshot.timer')), 'systemctl --root enabled it')

    const d = await cli.twinsync(['schedule', 'disable', '--root', rootfs.dir, '--json'])
    assert.equal(d.code, 0, d.stderr)
    assert.equal((JSON.parse(d.stdout) as { removed: string[] }).removed.length, 2)
    for (const f of ['timers.target.wants/twinsync-snapshot.timer', 'twinsync-snapshot.timer', 'twinsync-snapshot.service']) {
      assert.equal(await present(join(rootfs.dir, 'etc/systemd/system', f)), false, f)
    }
  })

  it('writes a cron entry on a machine without systemd, and removes it', async () => {
    const bare = await mkdtemp(join(tmpdir(), 'twinsync-nosystemd-'))
    try {
      const r = await cli.twinsync(['schedule', 'enable', '--every', '2h', '--root', bare])
      assert.equal(r.code, 0, r.stderr + r.stdout)
      assert.match(r.stdout, /cron entry, cron schedule "0 \*\/2 \* \* \*"/)
      const cron = await readFile(join(bare, 'etc/cron.d/twinsync'), 'utf8')
      assert.match(cron, /^0 \*\/2 \* \* \* root \/\S+ \/\S+ snapshot --if-changed/m)
      const d = await cli.twinsync(['schedule', 'disable', '--root', bare])
      assert.equal(d.code, 0, d.stderr)
      assert.match(d.stdout, /Schedule removed: \/etc\/cron\.d\/twinsync/)
      assert.equal(await present(join(bare, 'etc/cron.d/twinsync')), false)
    } finally {
      await rm(bare, { recursive: true, force: true })
    }
  })

  it("quotes a path for the shell with the shared quoting, and refuses one with a control character (nothing written)", async () => {
    const bare = await mkdtemp(join(tmpdir(), 'twinsync-nosystemd-'))
    try {
      const r = await cli.twinsync(['schedule', 'enable', '--every', '1h', '--root', bare, '--repo', "/srv/Bob's twin"])
      assert.equal(r.code, 0, r.stderr + r.stdout)
      assert.match(await readFile(join(bare, 'etc/cron.d/twinsync'), 'utf8'), / snapshot --if-changed --repo '\/srv\/Bob'\\''s twin' /)
      await cli.twinsync(['schedule', 'disable', '--root', bare])
      const bad = await cli.twinsync(['schedule', 'enable', '--every', '1h', '--root', bare, '--repo', '/srv/twin\n* * * * * root rm -rf /'])
      assert.equal(bad.code, 2, bad.stderr + bad.stdout)
      // Refused where every command resolves the twin's place, before schedule gets to quote it.
      assert.match(bad.stderr, /\[REPO_PLACE_INVALID\] .* contains a control character/)
      assert.equal(await present(join(bare, 'etc/cron.d/twinsync')), false)
    } finally {
      await rm(bare, { recursive: true, force: true })
    }
  })
})
