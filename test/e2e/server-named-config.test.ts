import { strict as assert } from 'node:assert'
import { bootContainer, ROOTFS_BUILD_TIMEOUT_MS, type Container } from '../bed/index.js'

const TWIN = '/var/lib/twinsync/twin'
/** Named by its path in nginx's configuration (certbot's options-ssl-nginx.conf is such a file). */
const HEADERS = '/etc/twin-nginx/headers.conf'
/** Reached only through `include /etc/letsencrypt/*.conf;`. */
const SITE = '/etc/letsencrypt/site.conf'

interface Step {
  id: string
  status: string
  message?: string
}

/**
 * Files outside nginx's folders that its live configuration names, by their path or through a
 * glob include, on a booted server where nginx runs: a change is checked by `nginx -t` with the
 * rest of the configuration and nginx is reloaded (it serves the new value), a broken one is
 * refused and put back while nginx serves on. Before session 19 only the reload of a file named
 * by its path was planned (never tried on a running nginx), and a file reached through a glob
 * include went live unchecked, with no reload: nginx served the old value until a restart.
 */
describe('files a running nginx names outside its folders, by path or by a glob include: checked, then nginx reloaded (booted server)', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  let ct: Container
  const sha = async (path: string) => (await ct.runOk(['sha256sum', path])).stdout.split(' ')[0]
  const get = () => ct.run(['curl', '-sS', '-i', '--max-time', '5', 'http://127.0.0.1:8095/'])
  const master = async () => (await ct.runOk(['systemctl', 'show', '--property=MainPID', '--value', 'nginx.service'])).stdout.trim()
  const apply = async () => {
    const r = await ct.twinsync(['apply', '--yes', '--json'], { timeoutMs: 600_000 })
    const steps = new Map((JSON.parse(r.stdout) as { journal?: { steps: Step[] } }).journal?.steps.map((s) => [s.id, s]) ?? [])
    return { code: r.code, steps, out: r.stdout + r.stderr }
  }

  before(async () => {
    ct = await bootContainer({ image: 'server' })
    // The machine as an admin left it, before the twin is made: a site whose headers and
    // locations live outside /etc/nginx.
    await ct.runOk(['mkdir', '-p', '/etc/twin-nginx', '/etc/letsencrypt'])
    await ct.writeFile(HEADERS, 'add_header X-Twin one always;\n')
    await ct.writeFile(SITE, 'location / { return 200 "one\\n"; }\n')
    await ct.writeFile('/etc/nginx/conf.d/outside.conf', `server {\n  listen 8095;\n  include ${HEADERS};\n  include /etc/letsencrypt/*.conf;\n}\n`)
    await ct.runOk(['systemctl', 'reload-or-restart', 'nginx.service'])
    const deadline = Date.now() + 60_000
    while (!/\r\n\r\none$/m.test((await get()).stdout)) {
      assert.ok(Date.now() < deadline, `nginx never served the site: ${(await get()).stdout}`)
      await new Promise((r) => setTimeout(r, 250))
    }
    const snap = await ct.twinsync(['snapshot', '--init', '--json'], { timeoutMs: 300_000 })
    assert.equal(snap.code, 0, snap.stderr)
  })
  after(async () => {
    await ct?.close()
  })

  it('checks both files with nginx -t and reloads nginx: it serves the new header and the new location', async () => {
    await ct.writeFile(`${TWIN}/filesystem${HEADERS}`, 'add_header X-Twin two always;\n')
    await ct.writeFile(`${TWIN}/filesystem${SITE}`, 'location / { return 200 "two\\n"; }\n')
    const plan = await ct.twinsync(['plan', '--json'], { timeoutMs: 300_000 })
    const planned = (JSON.parse(plan.stdout) as { changes: Array<{ id: string; requires?: string[] }> }).changes
    const reload = planned.find((c) => c.id === 'systemd:reload:nginx.service')
    assert.deepEqual(reload?.requires?.filter((r) => r.startsWith('files:')).sort(), [`files:replace:${SITE}`, `files:replace:${HEADERS}`].sort(), plan.stdout)

    const { code, steps, out } = await apply()
    assert.equal(code, 0, out)
    for (const path of [HEADERS, SITE]) assert.equal(steps.get(`files:replace:${path}`)?.message, 'checked: `nginx -t` passed', `${path}: ${out}`)
    assert.equal(steps.get('systemd:reload:nginx.service')?.status, 'applied', out)
    const r = await get()
    assert.match(r.stdout, /^X-Twin: two\r?$/im, r.stdout)
    assert.match(r.stdout, /\r\n\r\ntwo\n$/, r.stdout)
  })

  it('refuses a broken file reached through the glob include: put back, nginx not reloaded and serving on', async () => {
    const before = await sha(SITE)
    const pid = await master()
    await ct.writeFile(`${TWIN}/filesystem${SITE}`, 'location / { return 200 "three\\n" }\n')
    const { code, steps, out } = await apply()
    assert.equal(code, 1, out)
    const step = steps.get(`files:replace:${SITE}`)
    assert.equal(step?.status, 'failed', out)
    assert.match(step?.message ?? '', /`nginx -t` rejects the new nginx configuration; the previous files are back; nginx\.service left alone/)
    assert.notEqual(steps.get('systemd:reload:nginx.service')?.status, 'applied', out)
    assert.equal(await sha(SITE), before)
    assert.equal(await master(), pid)
    assert.match((await get()).stdout, /\r\n\r\ntwo\n$/)
    // Put back with its time: `status` says nginx runs the configuration on disk.
    const status = await ct.twinsync(['status', '--json'])
    const drift = (JSON.parse(status.stdout) as { changes: Array<{ id: string }> }).changes.map((c) => c.id)
    assert.deepEqual(drift.filter((id) => id.includes('nginx')), [], status.stdout)
  })
})
