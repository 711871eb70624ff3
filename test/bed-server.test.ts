import { strict as assert } from 'node:assert'
import { bootContainer, ROOTFS_BUILD_TIMEOUT_MS, type Container } from './bed/index.js'

/** The realistic server root (build-rootfs.sh server) boots with its services up and serving. */
describe('test bed: the server root', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  let ct: Container

  before(async () => {
    ct = await bootContainer({ image: 'server' })
  })
  after(async () => {
    await ct?.close()
  })

  it('is Debian 13 with nginx, postgresql, postfix, ssh, cron and unattended-upgrades running', async () => {
    assert.match(await ct.readFile('/etc/debian_version'), /^13\./)
    for (const unit of ['nginx.service', 'postfix.service', 'postgresql@17-main.service', 'ssh.service', 'cron.service', 'unattended-upgrades.service']) {
      const active = await ct.run(['systemctl', 'is-active', unit])
      assert.equal(active.stdout.trim(), 'active', `${unit}: ${active.stdout}${active.stderr}`)
    }
    assert.equal((await ct.run(['sudo', '-n', 'true'])).code, 0)
  })

  it('serves the site on port 8080 with HTTP 200, on its own network', async () => {
    const page = await ct.runOk(['curl', '-sS', '-w', '\n%{http_code}', 'http://127.0.0.1:8080/'])
    assert.match(page.stdout, /TwinSync test site[\s\S]*\n200$/)
    const links = (await ct.runOk(['cat', '/proc/net/dev'])).stdout
    assert.doesNotMatch(links, /^\s*(eth|en|host)/m, 'only loopback: the services do not take the host ports')
  })

  it('runs twinsync: a snapshot of the server works', async () => {
    const snap = await ct.twinsync(['snapshot', '--init', '--json'], { timeoutMs: 300_000 })
    assert.equal(snap.code, 0, snap.stderr)
  })
})
