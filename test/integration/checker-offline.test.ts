import { strict as assert } from 'node:assert'
import { mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { freshRootfs, requireTools, ROOTFS_BUILD_TIMEOUT_MS, type Rootfs } from '../bed/index.js'
import { cliSandbox, json, type CliSandbox } from '../support/cli.js'
import { writeTwinFile } from '../support/twin-edit.js'

interface Step {
  id: string
  status: string
  message?: string
  diagnostics?: Array<{ code: string; detail?: string }>
}

const SITE = 'etc/nginx/sites-enabled/app'
const NAME = 'app.twinsync-test.invalid'

/**
 * A checker runs in a sandbox with no network (checker-sandbox.ts), and nginx -t resolves the
 * names of its upstreams while it checks: a site that proxies to a name only DNS knows is refused
 * there. The refusal says why and what to do (CONFIG_CHECK_OFFLINE), and what it says works: with
 * the name in the twin's /etc/hosts, the same site is checked and goes live. Real nginx, server root.
 */
describe('a sandboxed checker that cannot resolve a name says so, with the way out (server root, real nginx)', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  let rootfs: Rootfs
  let cli: CliSandbox
  const twinsync = (...args: string[]) => cli.twinsync([...args, '--root', rootfs.dir, '--repo', cli.twinDir])
  const site = `server {\n  listen 8089;\n  location / { proxy_pass http://${NAME}:8080; }\n}\n`

  before(async () => {
    requireTools('unshare', 'setpriv')
    rootfs = await freshRootfs('server')
    await mkdir(join(rootfs.dir, 'run/sshd'), { recursive: true })
    cli = await cliSandbox()
    const first = await twinsync('snapshot', '--init')
    assert.equal(first.code, 0, first.stderr)
  })
  after(async () => {
    await cli?.cleanup()
    await rootfs?.cleanup()
  })

  it('refuses a site whose upstream name does not resolve in the sandbox with CONFIG_CHECK_OFFLINE, and takes it once the name is in /etc/hosts', async () => {
    await writeTwinFile(cli.twinDir, `filesystem/${SITE}`, site)
    const refused = await twinsync('apply', '--yes', '--accept-high-risk', '--json')
    assert.equal(refused.code, 1, refused.stdout + refused.stderr)
    const step = json<{ journal: { steps: Step[] } }>(refused).journal.steps.find((s) => s.id === `files:create:/${SITE}`)
    assert.equal(step?.status, 'failed', JSON.stringify(step))
    assert.match(step?.message ?? '', /`nginx -t` rejects the new nginx configuration/)
    const offline = step?.diagnostics?.find((d) => d.code === 'CONFIG_CHECK_OFFLINE')
    assert.ok(offline, JSON.stringify(step?.diagnostics))
    assert.match(offline.detail ?? '', /\/etc\/hosts/)
    assert.equal(await readFile(join(rootfs.dir, SITE)).then(() => true, () => false), false, 'the site is not live')

    // The way out the refusal names: the name in /etc/hosts, in the twin with the change (apply
    // makes the machine's /etc/hosts the twin's). The twin still asks for the site.
    const hosts = await readFile(join(cli.twinDir, 'filesystem/etc/hosts'), 'utf8')
    await writeTwinFile(cli.twinDir, 'filesystem/etc/hosts', `${hosts}127.0.0.9 ${NAME}\n`)
    const taken = await twinsync('apply', '--yes', '--accept-high-risk', '--json')
    const again = json<{ journal: { steps: Step[] } }>(taken).journal.steps.find((s) => s.id === `files:create:/${SITE}`)
    assert.equal(again?.status, "applied", JSON.stringify(json<{ journal: { steps: Step[] } }>(taken).journal.steps) + taken.stderr)
    assert.equal(await readFile(join(rootfs.dir, SITE), 'utf8'), site)
    assert.match(await readFile(join(rootfs.dir, 'etc/hosts'), 'utf8'), new RegExp(`127\\.0\\.0\\.9 ${NAME.replace(/\./g, '\\.')}`))
  })
})
