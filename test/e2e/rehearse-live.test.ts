import { strict as assert } from 'node:assert'
import { join } from 'node:path'
import { bootContainer, repoRoot, ROOTFS_BUILD_TIMEOUT_MS, runOk, TWINSYNC_IN_CONTAINER, type Container, type RunResult } from '../bed/index.js'

const TWIN = '/var/lib/twinsync/twin'
const SITE = '/etc/nginx/sites-available/site'
const PLUGIN = join(repoRoot, 'test', 'fixtures', 'plugins', 'twinsync-plugin-greeting')

interface RehearsalJson {
  passed: boolean
  root: string
  changes: Array<{ id: string; verdict: string; status: string; message?: string; outputTail?: string; evidence: string[] }>
  failedUnits: { before: string[]; after: string[]; new: string[]; onMachine?: string[] }
  machineFailedUnits?: string[]
  containerOnlyFailures?: string[]
  cleanedUp: boolean
  timings: { bootMs: number; applyMs: number; checksMs: number; teardownMs: number; totalMs: number }
}
interface ErrorJson {
  error: { code: string; message: string; nextStep?: string; details?: Record<string, unknown> }
}

/**
 * A rehearsal of the running machine itself: no --root, so TwinSync rehearses "/" and compares
 * with the machine's own systemd. Never on the host's "/": here the machine is a booted server
 * container (Debian 13 with nginx, postgresql, postfix, ssh), and the rehearsal's container is
 * a systemd-nspawn inside it. The machine has a failed unit of its own and a third-party plugin
 * linked the way an author links one. One booted machine serves every test of this file.
 */
describe('twinsync rehearse of a running machine (its own "/", nspawn inside a booted container)', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  let ct: Container

  /** As an administrator runs it: from a unit of the machine's systemd (not nsenter'd in from outside). */
  const inUnit = (args: string[], extra: string[] = []) =>
    ct.run(['systemd-run', '--quiet', '--wait', '--pipe', '--collect', '--setenv=HOME=/root', '--setenv=LANG=C.UTF-8', ...extra, 'node', TWINSYNC_IN_CONTAINER, ...args], { timeoutMs: 300_000 })
  const parse = <T>(r: RunResult): T => {
    try {
      return JSON.parse(r.stdout) as T
    } catch {
      assert.fail(`not JSON (exit ${r.code}):\n${r.stdout}\n${r.stderr}`)
    }
  }
  /** The machine's configuration, packages, plugin state and local programs: any write shows. */
  const fingerprint = async () =>
    (await ct.runOk(['sh', '-c', 'find /etc /var/lib/dpkg /srv /usr/local -xdev \\( -type f -o -type l \\) -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum'])).stdout.trim()
  /** What a rehearsal could leave in the machine: records, nspawn processes, mounts. */
  const leftovers = async () =>
    (
      await ct.run(['sh', '-c', 'ls -A /run/twinsync/rehearsal 2>/dev/null; ls -A /run/systemd/nspawn/propagate 2>/dev/null; pgrep -a systemd-nspawn; grep twinsync-rehearsal /proc/self/mountinfo; true'])
    ).stdout
      .split('\n')
      .filter((l) => l.trim() !== '')

  before(async () => {
    ct = await bootContainer({ image: 'server' })
    // systemd-container of the machine's own release into its package cache, fetched from the
    // mirror by the machine's apt in its file system with the host's network (the machine has none).
    await runOk(['nsenter', '--target', String(ct.pid), '--mount', 'env', '-i', 'PATH=/usr/sbin:/usr/bin:/sbin:/bin', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', 'install', '--download-only', '-y', '-q', '--no-install-recommends', 'systemd-container'], { timeoutMs: 300_000 })
    // A unit of the machine's own that has failed: not the plan's doing.
    await ct.writeFile('/etc/systemd/system/twin-broken.service', '[Unit]\nDescription=Fails on this machine\n\n[Service]\nType=oneshot\nExecStart=/bin/false\n\n[Install]\nWantedBy=multi-user.target\n')
    await ct.runOk(['systemctl', 'enable', 'twin-broken.service'])
    await ct.run(['systemctl', 'start', 'twin-broken.service'])
    assert.match((await ct.run(['systemctl', 'is-failed', 'twin-broken.service'])).stdout, /^failed/)
    // A third-party plugin, linked as its author would, and the machine's program it applies with.
    await ct.copyIn(PLUGIN, '/root/twinsync-plugin-greeting')
    await ct.runOk(['install', '-m', '0755', '/root/twinsync-plugin-greeting/greeting-set', '/usr/local/sbin/greeting-set'])
    await ct.runOk(['/usr/local/sbin/greeting-set', 'hello'])
    const link = await ct.twinsync(['plugins', 'link', '/root/twinsync-plugin-greeting'])
    assert.equal(link.code, 0, link.stderr)
    const snap = await ct.twinsync(['snapshot', '--init', '--json'], { timeoutMs: 300_000 })
    assert.equal(snap.code, 0, snap.stderr)
  })
  after(async () => {
    await ct?.close()
  })

  it('refuses without systemd-nspawn (the machine has no systemd-container yet), naming the package', async () => {
    await ct.writeFile(`${TWIN}/system/greeting.json`, '{\n  "text": "good day"\n}\n')
    const r = await inUnit(['rehearse', '--json'])
    assert.equal(r.code, 2, r.stderr)
    const e = parse<ErrorJson>(r).error
    assert.equal(e.code, 'REHEARSAL_UNAVAILABLE')
    assert.match(e.message, /systemd-nspawn is not installed/)
    assert.equal(e.nextStep, 'Install the Debian package systemd-container: `apt-get install systemd-container`.')
  })

  it('refuses a user who is not root, before it plans anything', async () => {
    const r = await inUnit(['rehearse', '--json'], ['--uid=nobody', '--setenv=HOME=/tmp'])
    assert.equal(r.code, 2, r.stderr)
    const e = parse<ErrorJson>(r).error
    assert.equal(e.code, 'REHEARSAL_UNAVAILABLE')
    assert.match(e.message, /only root can do/)
    assert.match(e.nextStep ?? '', /sudo twinsync rehearse/)
  })

  describe('with systemd-container installed', () => {
    before(async () => {
      // As an administrator installs it; apt takes it from the package cache (no network here).
      await ct.runOk(['apt-get', 'install', '-y', '-q', '--no-install-recommends', 'systemd-container'], { timeoutMs: 300_000, env: { DEBIAN_FRONTEND: 'noninteractive' } })
      // The twin records it, so the plans below do not remove it again.
      const snap = await ct.twinsync(['snapshot', '--json'], { timeoutMs: 300_000 })
      assert.equal(snap.code, 0, snap.stderr)
    })

    it('refuses plainly when entered from outside with nsenter, where nspawn cannot make its control group', async () => {
      // The test bed's own way in (nsenter) leaves TwinSync in the host's control group.
      const r = await ct.twinsync(['rehearse', '--json'])
      assert.equal(r.code, 2, r.stderr)
      const e = parse<ErrorJson>(r).error
      assert.equal(e.code, 'REHEARSAL_UNAVAILABLE')
      assert.match(e.message, /outside the control groups/)
      assert.match(e.nextStep ?? '', /systemd-run --pipe --wait twinsync rehearse/)
      assert.deepEqual(await leftovers(), [])
    })

    it("rehearses a plugin's change inside with the plugin loaded as outside; the machine's own failed unit is named and does not fail it", async () => {
      await ct.writeFile(`${TWIN}/system/greeting.json`, '{\n  "text": "good day"\n}\n')
      const before = await fingerprint()
      const r = await inUnit(['rehearse', '--json'])
      assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`)
      const report = parse<{ rehearsal: RehearsalJson }>(r).rehearsal
      assert.equal(report.root, '/')
      assert.deepEqual(
        report.changes.map((c) => [c.id, c.verdict, c.status]),
        [['greeting:set:greeting', 'passed', 'applied']],
      )
      assert.deepEqual(report.machineFailedUnits, ['twin-broken.service'])
      assert.deepEqual(report.failedUnits.onMachine, ['twin-broken.service'])
      assert.deepEqual(report.failedUnits.new, [])
      assert.equal(report.passed, true)
      process.stdout.write(`      rehearsal of / inside a container: total ${report.timings.totalMs} ms (boot ${report.timings.bootMs}, teardown ${report.timings.teardownMs})\n`)
      assert.equal(await ct.readFile('/srv/greeting/text'), 'hello\n', 'the machine still greets as before')
      assert.equal(await fingerprint(), before)
      assert.deepEqual(await leftovers(), [])
    })

    it('names the unit a plan breaks as caused by it, and a change the plugin\'s program refuses with its output: `apply --rehearse` applies nothing', async () => {
      const site = await ct.readFile(`${TWIN}/filesystem${SITE}`)
      // Port 25 is postfix's: nginx -t accepts it, nginx cannot start with it.
      await ct.writeFile(`${TWIN}/filesystem${SITE}`, site.replace('listen 8080;', 'listen 8080;\n    listen 25;'))
      await ct.writeFile(`${TWIN}/system/greeting.json`, '{\n  "text": "shout!"\n}\n')
      const before = await fingerprint()
      try {
        const r = await inUnit(['apply', '--rehearse', '--yes', '--accept-high-risk', '--json'])
        assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`)
        const out = parse<{ rehearsal: RehearsalJson; applied: boolean; error: { code: string } }>(r)
        assert.equal(out.applied, false)
        assert.equal(out.error.code, 'REHEARSAL_FAILED')
        const report = out.rehearsal
        assert.equal(report.passed, false)
        assert.deepEqual(report.failedUnits.new, ['nginx.service'], 'caused by the plan')
        assert.deepEqual(report.failedUnits.onMachine, ['twin-broken.service'], 'the machine\'s own')
        const greeting = report.changes.find((c) => c.id === 'greeting:set:greeting')
        assert.equal(greeting?.verdict, 'failed')
        assert.equal(greeting?.message, 'greeting-set exited with 1')
        assert.match(greeting?.outputTail ?? '', /greeting-set: will not shout: shout!/)
        const siteChange = report.changes.find((c) => c.id === `files:replace:${SITE}`)
        assert.equal(siteChange?.verdict, 'failed')
        assert.ok(siteChange?.evidence.some((l) => /bind\(\) to 0\.0\.0\.0:25 failed/.test(l)), siteChange?.evidence.join('\n'))
        assert.equal(await fingerprint(), before, 'nothing was applied')
        assert.equal((await ct.run(['systemctl', 'is-active', 'nginx.service'])).stdout.trim(), 'active', "the machine's nginx was not touched")
        assert.deepEqual(await leftovers(), [])
      } finally {
        await ct.writeFile(`${TWIN}/filesystem${SITE}`, site)
      }
    })
  })
})

