import { strict as assert } from 'node:assert'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { DEBIAN_CONFIG_CHECKS, LocalHost, type Change, type ConfigCheck } from '@twinsync/sdk'
import { createTestContext } from '@twinsync/sdk/conformance'
import { SystemdProvider, type SystemdState } from '@twinsync/plugin-systemd'
import { withNamedFiles } from '../../core/src/apply/named-config.js'
import { freshRootfs, ROOTFS_BUILD_TIMEOUT_MS, type Rootfs } from '../bed/index.js'
import { cliSandbox, commitTwin, json, type CliSandbox } from '../support/cli.js'
import { editTwinJson } from '../support/twin-edit.js'
import { FILES_ONLY } from '../support/in-process-twin.js'

type Manifest = { entries: Array<{ path: string }> }
interface PlanJson {
  changes: Change[]
}

/** A plugin's service (a ConfigChecker of a third-party plugin): its files are `/etc/myd.d/*.conf`; no package lists the folder. */
const MYD: ConfigCheck = { service: 'myd', paths: ['/etc/myd.d/*.conf'], units: ['myd.service'] }
/** Folders the twin deletes whole, each with a file a running service reads below it. */
const FOLDERS = ['/etc/ssh/sshd_config.d', '/etc/nginx/snippets', '/usr/local/etc/nginx', '/etc/myd.d']

/**
 * The reload that follows a configuration change, for a folder the twin deletes whole, on the
 * server root (Debian 13 with openssh-server and nginx, their dpkg file lists and nginx's own
 * configuration), planned by the real binary offline. Offline nothing runs, so the plan has no
 * reload; the systemd provider's follow-ups are then asked as the planner asks them (the plan's
 * changes, the checks made by withNamedFiles from the real configuration), with the runtime a
 * booted server reports: ssh, nginx and a plugin's myd running. Each service that reads a file
 * below a deleted folder is reloaded (restarted: offline no CanReload) after the delete. Before
 * session 46 only the folder's own path was looked up, and only under /etc: the delete of
 * /usr/local/etc/nginx (nginx includes its files) and of /etc/myd.d (no package lists it, and
 * `/etc/myd.d/*.conf` does not match the folder) was checked by the service's checker and
 * planned no reload; sshd_config.d and snippets were found through dpkg's lists only.
 */
describe('the reload after a folder deleted whole, on the server root (real plan, offline)', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  let rootfs: Rootfs
  let cli: CliSandbox
  const twinsync = (...args: string[]) => cli.twinsync([...args, '--root', rootfs.dir, '--repo', cli.twinDir])

  before(async () => {
    rootfs = await freshRootfs('server')
    const at = (path: string) => join(rootfs.dir, path)
    // As an administrator left it: a drop-in of sshd, nginx files under /usr/local/etc that a
    // site includes, and the plugin service's own folder.
    await writeFile(at('etc/ssh/sshd_config.d/10-port.conf'), 'Port 2222\n')
    await mkdir(at('usr/local/etc/nginx'), { recursive: true })
    await writeFile(at('usr/local/etc/nginx/headers.conf'), 'add_header X-Twin one always;\n')
    await writeFile(at('etc/nginx/conf.d/local.conf'), 'server {\n  listen 8096;\n  include /usr/local/etc/nginx/*.conf;\n}\n')
    await mkdir(at('etc/myd.d'))
    await writeFile(at('etc/myd.d/main.conf'), 'threads = 4\n')
    cli = await cliSandbox()
    await writeFile(cli.configFile, `${FILES_ONLY}files:\n  include: [/etc/ssh, /etc/nginx, /etc/myd.d, /usr/local/etc]\n`)
    const first = await twinsync('snapshot', '--init')
    assert.equal(first.code, 0, first.stdout + first.stderr)
  })
  after(async () => {
    await cli?.cleanup()
    await rootfs?.cleanup()
  })

  it('plans the reload of the service that reads a file below each deleted folder, after the delete', async () => {
    const gone = (path: string) => FOLDERS.some((f) => path === f || path.startsWith(`${f}/`))
    await editTwinJson<Manifest>(cli.twinDir, 'system/files/manifest.json', (m) => {
      m.entries = m.entries.filter((e) => !gone(e.path))
    })
    for (const folder of FOLDERS) await rm(join(cli.twinDir, `filesystem${folder}`), { recursive: true, force: true })
    await commitTwin(cli.twinDir, 'delete the folders')
    const plan = await twinsync('plan', '--json')
    assert.ok(plan.code === 0 || plan.code === 1, plan.stdout + plan.stderr)
    const changes = json<PlanJson>(plan).changes
    const deletes = FOLDERS.map((f) => changes.find((c) => c.resource === f && (c.data as { action?: string }).action === 'delete'))
    assert.deepEqual(deletes.map((c) => c?.id), FOLDERS.map((f) => `files:delete:${f}`), plan.stdout)
    assert.ok(deletes.every((c) => ((c?.data as { below?: unknown[] }).below ?? []).length > 0), 'each delete names the file below it')
    assert.equal(changes.filter((c) => c.provider === 'systemd').length, 0, 'offline: nothing runs, nothing is reloaded')

    // The planner's follow-ups call (planner.ts), with the runtime of a booted server.
    const host = new LocalHost(rootfs.dir)
    const configChecks = await withNamedFiles(host, [...DEBIAN_CONFIG_CHECKS, MYD], changes)
    const running = { active: 'active', sub: 'running' }
    const actual: SystemdState = { units: {}, startup: { wantedAtBoot: [], enabledTimers: [] }, runtime: { 'ssh.service': running, 'nginx.service': running, 'myd.service': running } }
    const follow = await new SystemdProvider().followUps({ changes, actual, ctx: createTestContext(rootfs.dir), configChecks })
    assert.deepEqual(
      follow.map((c) => [c.id, [...(c.requires ?? [])].sort()]),
      [
        ['systemd:restart:myd.service', ['files:delete:/etc/myd.d']],
        ['systemd:restart:nginx.service', ['files:delete:/etc/nginx/snippets', 'files:delete:/usr/local/etc/nginx'].sort()],
        ['systemd:restart:ssh.service', ['files:delete:/etc/ssh/sshd_config.d']],
      ],
      JSON.stringify(follow, null, 2),
    )
  })
})
