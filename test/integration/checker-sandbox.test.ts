import { strict as assert } from 'node:assert'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:net'
import { join } from 'node:path'
import { CHANGED_FILE, CHANGED_UNIT, DEBIAN_CONFIG_CHECKS, LocalHost } from '@twinsync/sdk'
import { freshRootfs, makeTempDir, removeTree, requireTools, ROOTFS_BUILD_TIMEOUT_MS, runOk, type Rootfs } from '../bed/index.js'
import { cliSandbox, json, type CliSandbox } from '../support/cli.js'
import { writeTwinFile } from '../support/twin-edit.js'

interface Step {
  id: string
  status: string
  message?: string
  outputTail?: string
  diagnostics?: Array<{ code: string }>
}

const MODULE = '/usr/lib/twinsync-test/evil.so'
const ESCAPE = '/etc/twinsync-checker-ran-here'

/**
 * A checker judges a configuration the twin brings, and runs what it names while it does: nginx
 * -t dlopen()s a `load_module` before it can refuse it. So a rejected configuration has run once,
 * as root. In the sandbox, what it ran can neither leave a file nor reach the network. The module
 * here is a real shared object built with gcc: its constructor writes a file into the target and
 * connects to a TCP server of this test on the loopback, then nginx -t rejects it (no ngx_modules).
 */
describe('checkers run in a sandbox: a rejected configuration\'s code leaves nothing and reaches nothing (server root)', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  let rootfs: Rootfs
  let cli: CliSandbox
  let server: Server
  let port = 0
  let connections = 0
  const twinsync = (...args: string[]) => cli.twinsync([...args, '--root', rootfs.dir, '--repo', cli.twinDir])
  const exists = (path: string) => readFile(join(rootfs.dir, path)).then(() => true, () => false)

  before(async () => {
    requireTools('gcc', 'unshare', 'setpriv')
    rootfs = await freshRootfs('server')
    await mkdir(join(rootfs.dir, 'run/sshd'), { recursive: true })
    server = createServer((socket) => {
      connections++
      socket.destroy()
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    port = (server.address() as { port: number }).port
    const build = await makeTempDir('evil-so')
    try {
      await writeFile(
        join(build, 'evil.c'),
        `#include <fcntl.h>
#include <unistd.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
__attribute__((constructor)) static void ran(void) {
  int fd = open("${ESCAPE}", O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd >= 0) { write(fd, "ran\\n", 4); close(fd); }
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(${port}) };
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  if (s >= 0) { connect(s, (struct sockaddr *)&a, sizeof a); close(s); }
}
`,
      )
      await mkdir(join(rootfs.dir, MODULE, '..'), { recursive: true })
      await runOk(['gcc', '-shared', '-fPIC', '-o', join(rootfs.dir, MODULE), join(build, 'evil.c')])
    } finally {
      await removeTree(build)
    }
    cli = await cliSandbox()
    const first = await twinsync('snapshot', '--init')
    assert.equal(first.code, 0, first.stderr)
  })
  after(async () => {
    server?.close()
    await cli?.cleanup()
    await rootfs?.cleanup()
  })

  it('the module really runs when loaded outside the sandbox (the vector is live): a file appears and the server is reached', async () => {
    const plain = await new LocalHost(rootfs.dir).exec('sh', ['-c', `printf 'load_module ${MODULE};\\n' > /tmp/t.conf; cat /etc/nginx/nginx.conf >> /tmp/t.conf; nginx -t -c /tmp/t.conf; rm -f /tmp/t.conf`], { inTarget: true, timeoutMs: 30_000 })
    assert.match(plain.stderr, /ngx_modules/, plain.stderr)
    assert.equal(await exists(ESCAPE), true, 'the constructor wrote its file')
    await new Promise((r) => setTimeout(r, 200))
    assert.equal(connections, 1, 'the constructor reached the server')
    await runOk(['rm', '-f', join(rootfs.dir, ESCAPE)])
    connections = 0
  })

  it('refuses nginx.conf with a load_module of it through `nginx -t`, and the module wrote nothing that lasts and reached no one', async () => {
    const conf = await readFile(join(rootfs.dir, 'etc/nginx/nginx.conf'), 'utf8')
    await writeTwinFile(cli.twinDir, 'filesystem/etc/nginx/nginx.conf', `load_module ${MODULE};\n${conf}`)
    const r = await twinsync('apply', '--yes', '--json')
    assert.equal(r.code, 1, r.stdout + r.stderr)
    const step = json<{ journal: { steps: Step[] } }>(r).journal.steps.find((s) => s.id === 'files:replace:/etc/nginx/nginx.conf')
    assert.equal(step?.status, 'failed')
    assert.match(step?.message ?? '', /`nginx -t` rejects the new nginx configuration; the previous files are back/)
    assert.match(step?.outputTail ?? '', /dlsym\(\) "\/usr\/lib\/twinsync-test\/evil\.so", "ngx_modules" failed/, 'the module was loaded, in the sandbox')
    assert.equal(step?.diagnostics?.some((d) => d.code === 'CONFIG_CHECK_UNSANDBOXED') ?? false, false)
    assert.equal(await exists(ESCAPE), false, 'nothing the module wrote is on the machine')
    await new Promise((r) => setTimeout(r, 200))
    assert.equal(connections, 0, 'the module reached no one: the sandbox has no network')
    assert.equal(await readFile(join(rootfs.dir, 'etc/nginx/nginx.conf'), 'utf8'), conf)
    await writeTwinFile(cli.twinDir, 'filesystem/etc/nginx/nginx.conf', conf)
  })

  it('gives every checker of the table that the server root has the same verdict and words inside the sandbox as outside', async () => {
    const host = new LocalHost(rootfs.dir)
    const sample: Record<string, string> = {
      sudo: '/etc/sudoers',
      'systemd units': '/etc/systemd/system/multi-user.target.wants/cron.service',
      postgresql: '/etc/postgresql/17/main/postgresql.conf',
    }
    const compared: string[] = []
    for (const check of DEBIAN_CONFIG_CHECKS) {
      const argv = check.argv
      if (argv === undefined || (await host.which(argv[0] as string, { inTarget: true })) === undefined) continue
      const file = sample[check.service] ?? check.paths[0] ?? ''
      const args = argv.slice(1).map((a) => (a === CHANGED_FILE || a === CHANGED_UNIT ? file : a))
      const options = { inTarget: true, timeoutMs: 60_000, ...(check.env === undefined ? {} : { env: { ...check.env } }) }
      // Inside first: a checker may change the target outside (postfix check copies /etc files
      // into its chroot and says so), and the second run outside would then say less.
      const inside = await host.exec(argv[0] as string, args, { ...options, sandbox: true })
      const outside = await host.exec(argv[0] as string, args, options)
      assert.equal(inside.unsandboxed, undefined, `${check.service}: ${inside.unsandboxed}`)
      const words = (r: { stdout: string; stderr: string }) => `${r.stderr}${r.stdout}`.replace(/\d+/g, '#')
      assert.deepEqual([inside.exitCode, words(inside)], [outside.exitCode, words(outside)], `${check.service}: ${argv.join(' ')}`)
      compared.push(`${check.service}=${outside.exitCode}`)
    }
    // nginx, sshd, sudo, postfix, systemd units, apt, postgresql, fstab: what the server root has.
    assert.deepEqual(compared.map((c) => c.split('=')[0]), ['nginx', 'sshd', 'sudo', 'postfix', 'systemd units', 'apt', 'postgresql', 'fstab'], compared.join(' '))
  })
})
