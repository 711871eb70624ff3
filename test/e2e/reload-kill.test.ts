import { strict as assert } from 'node:assert'
import { bootContainer, ROOTFS_BUILD_TIMEOUT_MS, TWINSYNC_IN_CONTAINER, type Container } from '../bed/index.js'

const TWIN = '/var/lib/twinsync/twin'
const SITE = '/etc/nginx/sites-available/site'
const RECORD = `${TWIN}/.git/twinsync/config-checks-pending.json`
/** While this FIFO exists, nginx's reload waits on it: the test holds a reload open, then lets it go. */
const HOLD = '/run/twinsync-test-hold-reload'
const DROP_IN = '/etc/systemd/system/nginx.service.d/hold.conf'

interface Finished {
  service: string
  restored: string[]
  diagnostic: { code: string; summary: string }
}

/**
 * kill -9 anywhere in the window after a checked configuration is written: while the reload runs,
 * while the reload is verified (the service came back, but no longer listens where it did), and
 * while a failed reload is rolled back. The change is valid nginx (`nginx -t` passes) that moves
 * the site from port 8080 to 8081, so the reload succeeds and the verdict is "failed": a file
 * that is broken in practice. After each kill the record of the window is on disk, and the next
 * apply reloads again with the new file live, judged against where nginx listened before the
 * killed reload (session 29), finds 8080 lost, puts the previous file back and reloads nginx,
 * which serves on 8080 again.
 */
describe('a reload killed before its verdict: the next apply judges it again against the state before it, and puts the previous files back (booted server)', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  let ct: Container
  let original = ''

  const serves = async (port: number) => (await ct.run(['curl', '-sS', '--max-time', '3', '-o', '/dev/null', '-w', '%{http_code}', `http://127.0.0.1:${port}/`])).stdout.trim() === '200'
  const until = async (what: string, ok: () => Promise<boolean>, ms = 60_000) => {
    const deadline = Date.now() + ms
    while (!(await ok())) {
      assert.ok(Date.now() < deadline, `timed out waiting until ${what}`)
      await new Promise((r) => setTimeout(r, 100))
    }
  }
  const nginxState = async () => (await ct.run(['systemctl', 'show', '--property=ActiveState', '--value', 'nginx.service'])).stdout.trim()
  /** `twinsync apply --yes --accept-high-risk` in the background, in a process group of its own: its id. */
  const startApply = async () => {
    const r = await ct.runOk(['sh', '-c', `setsid node ${TWINSYNC_IN_CONTAINER} apply --yes --accept-high-risk --json >/tmp/killed-apply.out 2>&1 & echo $!`])
    return Number(r.stdout.trim())
  }
  const kill9 = async (pid: number) => {
    await ct.runOk(['kill', '-KILL', '--', `-${pid}`])
    await until('the killed apply is gone', async () => (await ct.run(['kill', '-0', String(pid)])).code !== 0, 10_000)
  }
  const release = async () => {
    // Opening the FIFO for writing lets the waiting reload read its end and go on.
    await ct.runOk(['sh', '-c', `[ -p ${HOLD} ] && { echo go > ${HOLD}; rm -f ${HOLD}; }; true`], { timeoutMs: 20_000 })
  }
  const recordNames = async () => {
    const r = await ct.run(['cat', RECORD])
    return r.code === 0 ? (JSON.parse(r.stdout) as { pending: Array<{ service: string; reloads?: Array<{ id: string }> }> }).pending : undefined
  }
  /**
   * The next apply: it finds the record, reloads nginx again with the new site live, judged against
   * where nginx listened before the killed reload (8080, written down before it ran): it no longer
   * does, so the previous site goes back and nginx serves on 8080 again. Measured afresh instead,
   * the reload would pass (nginx serves 8081 since the kill) and the broken site would stay.
   * A rollback cut short is finished without reloading the new site again.
   */
  const LOST_8080 = /the reload ran again with them live and failed: nginx\.service no longer listens on [^;]*:8080/
  const recover = async (why: RegExp = LOST_8080) => {
    const r = await ct.twinsync(['apply', '--yes', '--accept-high-risk', '--json'], { timeoutMs: 600_000 })
    const report = JSON.parse(r.stdout) as { checksFinished?: Finished[] }
    assert.equal(r.code, 1, r.stdout.slice(-2000) + r.stderr)
    assert.deepEqual(report.checksFinished?.map((f) => [f.service, f.restored, f.diagnostic.code]), [['nginx', [SITE], 'CONFIG_RESTORED']])
    const summary = report.checksFinished?.[0]?.diagnostic.summary ?? ''
    assert.match(summary, /was killed before the reload of nginx\.service gave its verdict; /)
    assert.match(summary, why)
    assert.match(summary, /, so the previous files are back; reload ran again: nginx\.service runs again/)
    assert.equal(await ct.readFile(SITE), original, 'the previous site is back')
    await until('nginx serves on 8080 again', () => serves(8080), 20_000)
    assert.equal(await serves(8081), false)
    assert.equal(await recordNames(), undefined, 'the record is gone')
  }
  /** The twin asks for the site on 8081: valid nginx, but clients of 8080 would lose it. */
  const askForPortMove = () => ct.writeFile(`${TWIN}/filesystem${SITE}`, original.replace(/listen 8080;/, 'listen 8081;').replace(/listen \[::\]:8080;/, 'listen [::]:8081;'))

  before(async () => {
    ct = await bootContainer({ image: 'server' })
    // The reload waits while HOLD exists (a FIFO); otherwise it is nginx's own.
    await ct.writeFile(
      DROP_IN,
      `[Service]\nExecReload=\nExecReload=/bin/sh -c 'if [ -p ${HOLD} ]; then cat ${HOLD} >/dev/null; fi'\nExecReload=/usr/sbin/nginx -g 'daemon on; master_process on;' -s reload\n`,
    )
    await ct.runOk(['systemctl', 'daemon-reload'])
    await ct.runOk(['systemctl', 'restart', 'nginx.service'])
    await until('nginx serves on 8080', () => serves(8080))
    original = await ct.readFile(SITE)
    assert.match(original, /listen 8080;/)
    const snap = await ct.twinsync(['snapshot', '--init', '--json'], { timeoutMs: 300_000 })
    assert.equal(snap.code, 0, snap.stderr)
  })
  afterEach(async () => {
    await release().catch(() => undefined)
  })
  after(async () => {
    await ct?.close()
  })

  it('killed while the reload runs: the new site went live in nginx after the kill; the next apply reloads it again, judged against 8080, and puts the old one back', async () => {
    await askForPortMove()
    await ct.runOk(['mkfifo', HOLD])
    const pid = await startApply()
    await until('the reload is under way', async () => (await nginxState()) === 'reloading', 300_000)
    assert.notEqual(await ct.readFile(SITE), original, 'the checked new site is live')
    await kill9(pid)
    assert.deepEqual((await recordNames())?.map((p) => [p.service, p.reloads?.map((r) => r.id)]), [['nginx', ['systemd:reload:nginx.service']]])
    await release()
    await until('nginx serves the new site on 8081', () => serves(8081), 20_000)
    await recover()
  })

  it('killed while the reload of a good site runs (still on 8080, one header more): the next apply reloads it again with the site live, nginx is back as before, and the site stays', async () => {
    await ct.writeFile(`${TWIN}/filesystem${SITE}`, original.replace(/listen 8080;/, 'listen 8080;\n\tadd_header X-Twin killed-reload;'))
    await ct.runOk(['mkfifo', HOLD])
    const pid = await startApply()
    await until('the reload is under way', async () => (await nginxState()) === 'reloading', 300_000)
    await kill9(pid)
    const [entry] = (await recordNames()) ?? []
    assert.deepEqual(entry?.reloads?.map((r) => r.id), ['systemd:reload:nginx.service'])
    await release()
    const r = await ct.twinsync(['apply', '--yes', '--accept-high-risk', '--json'], { timeoutMs: 600_000 })
    assert.equal(r.code, 0, r.stdout.slice(-3000) + r.stderr)
    const report = JSON.parse(r.stdout) as { checksFinished?: Finished[]; journal: { steps: Array<{ id: string; status: string; message?: string }> } }
    assert.deepEqual(report.checksFinished?.map((f) => [f.service, f.restored, f.diagnostic.code]), [['nginx', [], 'CONFIG_RELOAD_FINISHED']])
    assert.match(report.checksFinished?.[0]?.diagnostic.summary ?? '', /`nginx -t` passes on them again, the reload ran again with them live and nginx\.service is back as before it: the files stay/)
    // The plan, made before the window was settled, held nothing for nginx: its reload ran once, in the settling.
    assert.deepEqual(report.journal.steps.filter((x) => x.id.includes('nginx')).map((x) => x.id), [], JSON.stringify(report.journal.steps))
    assert.match(await ct.readFile(SITE), /X-Twin killed-reload/)
    const headers = (await ct.run(['curl', '-sS', '-D', '-', '-o', '/dev/null', '--max-time', '3', 'http://127.0.0.1:8080/'])).stdout
    assert.match(headers, /^X-Twin: killed-reload/im, 'nginx serves the new site')
    assert.equal(await recordNames(), undefined, 'the record is gone')
    const next = await ct.twinsync(['plan', '--json'], { timeoutMs: 300_000 })
    assert.deepEqual((JSON.parse(next.stdout) as { changes: Array<{ id: string }> }).changes.map((c) => c.id), [], 'nothing pending')
    // Back to the site of the other cases.
    await ct.writeFile(`${TWIN}/filesystem${SITE}`, original)
    const back = await ct.twinsync(['apply', '--yes', '--accept-high-risk', '--json'], { timeoutMs: 600_000 })
    assert.equal(back.code, 0, back.stdout.slice(-2000))
  })

  it('killed while the reload is verified (nginx reloaded and no longer listens on 8080): the next apply reloads it again, judged against 8080, and puts the old site back', async () => {
    await askForPortMove()
    const pid = await startApply()
    await until('nginx serves the new site on 8081 (the verdict is being made)', () => serves(8081), 300_000)
    await kill9(pid)
    assert.deepEqual((await recordNames())?.map((p) => p.service), ['nginx'])
    // nginx's old workers close 8080 once they take the reload's QUIT, a moment after the new
    // ones serve 8081: on a loaded machine the kill can land in between (seen in session 14's CI
    // run). The site is broken in practice when they have: 8080 must stop answering, soon.
    await until('8080 no longer answers (broken in practice and live)', async () => !(await serves(8080)), 20_000)
    // status says so, and what the next apply does about it.
    const status = await ct.twinsync(['status'], { timeoutMs: 300_000 })
    assert.match(status.stdout, /Configuration it wrote is not yet judged: nginx \(\/etc\/nginx\/sites-available\/site: the reload of nginx\.service had given no verdict\)\. `twinsync apply --repo \/var\/lib\/twinsync\/twin` settles it before anything else/, status.stdout + status.stderr)
    await recover()
  })

  it('killed while a failed reload is rolled back (the reload that reads the old site again runs): the next apply finishes the rollback', async () => {
    await askForPortMove()
    const pid = await startApply()
    await until('nginx serves the new site on 8081', () => serves(8081), 300_000)
    // The verdict comes within the verification timeout (10 s): the rollback's reload then waits.
    await ct.runOk(['mkfifo', HOLD])
    await until('the rollback reloads nginx', async () => (await nginxState()) === 'reloading', 60_000)
    await kill9(pid)
    assert.deepEqual((await recordNames())?.map((p) => p.service), ['nginx'])
    await release()
    await recover(/it was putting them back after a failed reload/)
  })
})
