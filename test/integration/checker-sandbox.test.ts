import { strict as assert } from 'node:assert'
import { readFileSync, readdirSync } from 'node:fs'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:net'
import { join } from 'node:path'
import { CHANGED_FILE, CHANGED_UNIT, DEBIAN_CONFIG_CHECKS, LocalHost, parseMountInfo, sandboxArgv } from '@twinsync/sdk'
import { freshRootfs, makeTempDir, removeTree, requireTools, ROOTFS_BUILD_TIMEOUT_MS, run, runOk, type Rootfs } from '../bed/index.js'
import { cliSandbox, json, useCliRoot, type CliSandbox } from '../support/cli.js'
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
    const r = await twinsync('apply', '--yes', '--accept-high-risk', '--json')
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

  it('leaves every mount of the machine read-only in the sandbox, / too: only its own overlay, tmpfs and /dev are writable', async () => {
    // A checker that leaves its chroot (it keeps sys_chroot) must find nothing it can write. Read
    // from the sandbox's PID 1 (its shell, outside the chroot) while a checker runs: for each
    // mount point the mount on top. Session 12 found / left writable by a faster read-only pass.
    const running = new LocalHost(rootfs.dir).exec('sleep', ['7.25'], { inTarget: true, sandbox: true, timeoutMs: 30_000 })
    let shell: number | undefined
    let checker: number | undefined
    for (let i = 0; i < 100 && shell === undefined; i++) {
      await new Promise((r) => setTimeout(r, 100))
      for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
        const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')
        if (cmdline !== 'sleep\x007.25\x00') continue
        const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
        shell = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
        checker = Number(pid)
      }
    }
    assert.ok(shell !== undefined && checker !== undefined, 'the sandboxed checker was seen running')
    const top = new Map<string, string>()
    for (const line of (await readFile(`/proc/${shell}/mountinfo`, 'utf8')).trim().split('\n')) {
      const fields = line.split(' ')
      top.set(fields[4] as string, fields[5] as string)
    }
    // Read: the checker need not sleep out its 7.25 s (the sandbox is still taken down after it).
    process.kill(checker, 'SIGKILL')
    await running.then(() => undefined, () => undefined)
    const writable = [...top].filter(([path, options]) => !options.split(',').includes('ro') && !/^\/tmp\/twinsync-check-[^/]+(\/|$)/.test(path))
    assert.ok(top.has('/'), [...top.keys()].join(' '))
    assert.deepEqual(writable, [], 'mounts of the machine writable in the sandbox')
  })

  it('a mount the machine had when the list was read and lost before the sandbox was made fails nothing: its folder is part of a mount made read-only', async () => {
    // Session 37: another test's root unmounted between the two, and every check failed with
    // "cannot make …/root read-only" (exit 120) until the list was read again.
    const gone = await makeTempDir('gone-mount')
    const scratch = await makeTempDir('sandbox-scratch')
    try {
      await runOk(['mount', '-t', 'tmpfs', '-o', 'size=1m', 'twinsync-test-gone', gone])
      const listed = parseMountInfo(readFileSync('/proc/self/mountinfo', 'utf8'))
      assert.ok(listed.some((m) => m.path === gone), 'the tmpfs is in the list')
      await runOk(['umount', gone])
      const result = await run(sandboxArgv(rootfs.dir, scratch, listed, 'echo', ['ran']))
      assert.equal(result.code, 0, result.stderr)
      assert.equal(result.stdout.trim(), 'ran')
    } finally {
      await run(['umount', gone])
      await removeTree(gone)
      await removeTree(scratch)
    }
  })

  it('a mount the machine made after the list was read is read-only in the sandbox too: the list is read inside the namespace', async () => {
    // Session 38: the mounts to make read-only were listed from TwinSync's own mountinfo before the
    // namespace was made, and a mount made in between (a container, an automount, a person) stayed
    // writable in the sandbox. Read from the sandbox's PID 1 (its shell, outside the chroot), as
    // the checker that leaves its chroot would see it.
    const late = await makeTempDir('late-mount')
    const scratch = await makeTempDir('sandbox-scratch')
    let mounts = ''
    try {
      const listed = parseMountInfo(readFileSync('/proc/self/mountinfo', 'utf8'))
      await runOk(['mount', '-t', 'tmpfs', '-o', 'size=1m', 'twinsync-test-late', late])
      const running = run(sandboxArgv(rootfs.dir, scratch, listed, 'sleep', ['6.75']))
      let shell: number | undefined
      for (let i = 0; i < 100 && shell === undefined; i++) {
        await new Promise((r) => setTimeout(r, 50))
        for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
          if ((await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')) !== 'sleep\x006.75\x00') continue
          const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
          shell = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
          mounts = await readFile(`/proc/${shell}/mountinfo`, 'utf8')
          process.kill(Number(pid), 'SIGKILL')
        }
      }
      await running
      const line = mounts.split('\n').find((l) => l.split(' ')[4] === late)
      assert.ok(line !== undefined, `the late tmpfs is in the sandbox's mounts:\n${mounts}`)
      assert.ok((line.split(' ')[5] ?? '').split(',').includes('ro'), `the late tmpfs is read-only in the sandbox: ${line}`)
    } finally {
      await run(['umount', late])
      await removeTree(late)
      await removeTree(scratch)
    }
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
    // nginx, sshd, sudo, postfix, systemd units, apt, postgresql, fstab, passwd, pam, nsswitch, group, cron: what the server root has.
    assert.deepEqual(compared.map((c) => c.split('=')[0]), ['nginx', 'sshd', 'sudo', 'postfix', 'systemd units', 'apt', 'postgresql', 'fstab', 'passwd', 'pam', 'nsswitch', 'group', 'cron'], compared.join(' '))
  })
})

/**
 * Configuration that breaks each service of the table, the way a person gets it wrong: a path
 * and its new content (`+` appends to the file as the root has it). Each checker must refuse it,
 * in the words `said` matches, inside the sandbox exactly as outside.
 */
const BREAKS: Record<string, { path: string; text: string; said: RegExp }> = {
  nginx: { path: '/etc/nginx/conf.d/broken.conf', text: 'server { listen 8099; not_a_directive on; }\n', said: /unknown directive "not_a_directive"/ },
  apache2: { path: '/etc/apache2/conf-enabled/broken.conf', text: 'NotADirective on\n', said: /Invalid command 'NotADirective'/ },
  sshd: { path: '/etc/ssh/sshd_config.d/broken.conf', text: 'PasswordAuthentication perhaps\n', said: /unsupported option "perhaps"/ },
  sudo: { path: '/etc/sudoers.d/broken', text: 'garbage ALL=(\n', said: /sudoers\.d\/broken:\d+:\d+: syntax error/ },
  postfix: { path: '/etc/postfix/master.cf', text: '+broken line\n', said: /master\.cf: line \d+: bad field count/ },
  haproxy: { path: '/etc/haproxy/haproxy.cfg', text: '+frontend web\n    bind :8098\n    not_a_keyword yes\n', said: /unknown keyword 'not_a_keyword'/ },
  nftables: { path: '/etc/nftables.conf', text: '+table inet broken {\n  chain input { type filter hook input priority 0; tcp dport 22 acept; }\n}\n', said: /nftables\.conf:\d+:\d+-\d+: Error: syntax error/ },
  'systemd units': { path: '/etc/systemd/system/broken.service', text: '[Service]\nExecStart=relative/run\n', said: /Neither a valid executable name nor an absolute path/ },
  bind: { path: '/etc/bind/named.conf.local', text: '+zone "example.test" { type master; file "/etc/bind/db.example.test"; };\n', said: /loading from master file \/etc\/bind\/db\.example\.test failed: file not found/ },
  unbound: { path: '/etc/unbound/unbound.conf.d/broken.conf', text: 'server:\n    not-an-option: yes\n', said: /unknown keyword 'not-an-option'/ },
  dovecot: { path: '/etc/dovecot/conf.d/99-broken.conf', text: 'not_a_setting = yes\n', said: /Unknown setting: not_a_setting/ },
  rsyslog: { path: '/etc/rsyslog.d/broken.conf', text: '*.* action(type="omnotamodule")\n', said: /module name 'omnotamodule' is unknown/ },
  fail2ban: { path: '/etc/fail2ban/jail.d/broken.conf', text: '[sshd]\nenabled = true\nfilter = no-such-filter\n', said: /Found no accessible config files for 'filter\.d\/no-such-filter'/ },
  samba: { path: '/etc/samba/smb.conf', text: '+[broken]\n   path = /srv\n   read only = perhaps\n', said: /value is not boolean/ },
  squid: { path: '/etc/squid/conf.d/broken.conf', text: 'not_a_directive on\n', said: /unrecognized: 'not_a_directive'/ },
  keepalived: { path: '/etc/keepalived/keepalived.conf', text: 'vrrp_instance VI_1 {\n  state MASTER\n  interface lo\n  virtual_router_id 999\n  priority 100\n}\n', said: /VRID '999' not valid/ },
  chrony: { path: '/etc/chrony/conf.d/broken.conf', text: 'not_a_directive 1\n', said: /Invalid directive at line 1 in file \/etc\/chrony\/conf\.d\/broken\.conf/ },
  dnsmasq: { path: '/etc/dnsmasq.d/broken.conf', text: 'not-an-option=1\n', said: /bad option at line 1 of \/etc\/dnsmasq\.d\/broken\.conf/ },
  prosody: { path: '/etc/prosody/conf.d/broken.cfg.lua', text: 'VirtualHost "x.test"\n  this is not lua\n', said: /broken\.cfg\.lua:\d+: syntax error/ },
  apt: { path: '/etc/apt/apt.conf.d/99broken', text: 'APT::Get::Assume-Yes "true"\n', said: /Syntax error \/etc\/apt\/apt\.conf\.d\/99broken/ },
  postgresql: { path: '/etc/postgresql/17/main/postgresql.conf', text: '+shared_buffers = lots\n', said: /invalid value for parameter "shared_buffers": "lots"/ },
  fstab: { path: '/etc/fstab', text: '+UUID=0b1e-cafe /srv/data ext4 defaults 0 2\n', said: /unreachable on boot required source: UUID=0b1e-cafe/ },
  passwd: { path: '/etc/passwd', text: '+broken:x:abc:1000::/home/broken:/bin/sh\n', said: /invalid password file entry/ },
  group: { path: '/etc/group', text: '+broken:x:notanumber:\n', said: /invalid group file entry/ },
  nsswitch: { path: '/etc/nsswitch.conf', text: 'passwd: filez\ngroup: files\nshadow: files\nhosts: files dns\n', said: /getent passwd root: no root in the passwd database/ },
  pam: { path: '/etc/pam.d/common-auth', text: '+auth required pam_unixx.so\n', said: /common-auth:\d+: module not found: pam_unixx\.so/ },
  logrotate: { path: '/etc/logrotate.d/broken', text: '/var/log/broken.log {\n  not_a_directive\n}\n', said: /error: broken:\d+ keyword 'not' not properly separated/ },
  cron: { path: '/etc/cron.d/broken', text: '0 3 * * * root /bin/true', said: /\/etc\/cron\.d\/broken: cron ignores this whole file: Missing newline before EOF/ },
}

/** A file each checker that takes one is run on (CHANGED_FILE, CHANGED_UNIT) when the configuration is good. */
const SAMPLES: Record<string, string> = {
  sudo: '/etc/sudoers',
  'systemd units': '/etc/systemd/system/multi-user.target.wants/cron.service',
  postgresql: '/etc/postgresql/17/main/postgresql.conf',
}

/** A network interface of this machine other than the loopback (keepalived must find it in the sandbox too). */
function machineInterface(): string {
  const name = readdirSync('/sys/class/net').find((n) => n !== 'lo')
  assert.ok(name !== undefined, 'this machine has no network interface but the loopback: the keepalived check needs one')
  return name
}

/**
 * Every checker of the table on a root that has its service (the `checkers` root: the server root
 * plus apache2, haproxy, nftables, bind9, unbound, dovecot, rsyslog, fail2ban, samba, squid,
 * keepalived, logrotate, chrony, dnsmasq and prosody), on the packages' own configuration and on
 * a broken one: the same verdict and words inside the sandbox as outside (chrooted, the way it
 * ran before the sandbox). Found this way and fixed in checker-sandbox.ts: nft -c refused every
 * ruleset (net_admin dropped), rsyslogd -N1 ran as PID 1 and took its container defaults, and
 * keepalived refused a vrrp_instance on the machine's own interface (the sandbox had only lo).
 */
describe('every checker of the table, good and broken, gives the same verdict and words in the sandbox as outside (checkers root)', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  let rootfs: Rootfs
  let host: LocalHost
  const timings: string[] = []

  /** The checker of `service` on `file`, inside the sandbox and outside; exit codes and words (digits aside). */
  async function both(service: string, file: string) {
    const check = DEBIAN_CONFIG_CHECKS.find((c) => c.service === service)
    const argv = check?.argv
    assert.ok(check !== undefined && argv !== undefined, service)
    const args = argv.slice(1).map((a) => (a === CHANGED_FILE || a === CHANGED_UNIT ? file : a))
    const options = { inTarget: true, timeoutMs: 60_000, ...(check.env === undefined ? {} : { env: { ...check.env } }) }
    // Inside first: a checker may change the target outside (postfix check copies /etc files
    // into its chroot and says so), and the second run outside would then say less.
    let t = performance.now()
    const inside = await host.exec(argv[0] as string, args, { ...options, sandbox: true })
    const tIn = performance.now() - t
    t = performance.now()
    const outside = await host.exec(argv[0] as string, args, options)
    timings.push(`${service}: ${Math.round(tIn)} ms in the sandbox, ${Math.round(performance.now() - t)} ms outside`)
    assert.equal(inside.unsandboxed, undefined, `${service}: ${inside.unsandboxed}`)
    // squid looks the machine's own name up in DNS and warns when it cannot (a warning only):
    // the lookup's error differs without the network (EAGAIN inside, whatever the resolver says outside).
    const words = (r: { stdout: string; stderr: string }) =>
      `${r.stderr}${r.stdout}`.replace(/(rDNS test failed: )\(\d+\) [^\n]*/g, '$1(lookup error)').replace(/\d+/g, '#')
    return { inside: { code: inside.exitCode, words: words(inside) }, outside: { code: outside.exitCode, words: words(outside) }, said: `${outside.stderr}${outside.stdout}` }
  }

  before(async () => {
    requireTools('unshare', 'setpriv')
    rootfs = await freshRootfs('checkers')
    host = new LocalHost(rootfs.dir)
    await mkdir(join(rootfs.dir, 'run/sshd'), { recursive: true })
    // The package ships only a sample: a VRRP instance on this machine's own interface.
    await writeFile(
      join(rootfs.dir, 'etc/keepalived/keepalived.conf'),
      `vrrp_instance VI_1 {\n  state MASTER\n  interface ${machineInterface()}\n  virtual_router_id 51\n  priority 100\n  virtual_ipaddress {\n    192.0.2.250/24\n  }\n}\n`,
    )
  })
  after(async () => {
    console.log(`      ${timings.join('\n      ')}`)
    await rootfs?.cleanup()
  })

  it('passes the packages\' own configuration of every service, inside as outside', async () => {
    const passed: string[] = []
    for (const check of DEBIAN_CONFIG_CHECKS) {
      if (check.argv === undefined) continue
      assert.notEqual(await host.which(check.argv[0] as string, { inTarget: true }), undefined, `${check.service}: ${check.argv[0]} is in the checkers root`)
      const r = await both(check.service, SAMPLES[check.service] ?? check.paths[0] ?? '')
      assert.deepEqual(r.inside, r.outside, `${check.service}: ${check.argv.join(' ')}`)
      // unbound-checkconf wants the DNSSEC root key, which the unbound service makes when it first starts.
      if (r.outside.code === 0 || check.service === 'unbound') passed.push(check.service)
      else assert.fail(`${check.service} fails on the packages' own configuration: ${r.said}`)
    }
    assert.deepEqual(passed, DEBIAN_CONFIG_CHECKS.filter((c) => c.argv !== undefined).map((c) => c.service))
  })

  it('refuses a broken configuration of every service, inside as outside, in the checker\'s own words', async () => {
    const refused: string[] = []
    for (const [service, broken] of Object.entries(BREAKS)) {
      const live = join(rootfs.dir, broken.path)
      const before = await readFile(live).catch(() => undefined)
      await writeFile(live, broken.text.startsWith('+') ? Buffer.concat([before ?? Buffer.alloc(0), Buffer.from(broken.text.slice(1))]) : broken.text)
      try {
        const check = DEBIAN_CONFIG_CHECKS.find((c) => c.service === service)
        const r = await both(service, check?.argv?.includes(CHANGED_UNIT) === true ? 'broken.service' : broken.path)
        assert.deepEqual(r.inside, r.outside, service)
        assert.notEqual(r.outside.code, 0, `${service} refuses it`)
        assert.match(r.said, broken.said, service)
        refused.push(service)
      } finally {
        await (before === undefined ? rm(live) : writeFile(live, before))
      }
    }
    assert.deepEqual(refused.sort(), DEBIAN_CONFIG_CHECKS.filter((c) => c.argv !== undefined).map((c) => c.service).sort(), 'every checker of the table is tried')
  })
})

/**
 * The same checkers through the real CLI (snapshot, twin edits, apply), chrooted into the
 * checkers root: a good nftables ruleset and a keepalived instance on this machine's interface go
 * live (before session 12 the sandbox refused both: nft had no net_admin, keepalived saw only
 * lo); a broken zone file is refused and the old files are back; a haproxy backend named by a
 * DNS name is refused with CONFIG_CHECK_OFFLINE and the old file is back.
 */
describe('checkers of the checkers root through plan and apply (checkers root, chroot)', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  const KEEPALIVED = (iface: string, id: number) => `vrrp_instance VI_1 {\n  state MASTER\n  interface ${iface}\n  virtual_router_id ${id}\n  priority 100\n  virtual_ipaddress {\n    192.0.2.250/24\n  }\n}\n`
  const root = useCliRoot({
    image: 'checkers',
    prepare: async (dir) => {
      await mkdir(join(dir, 'run/sshd'), { recursive: true })
      await writeFile(join(dir, 'etc/keepalived/keepalived.conf'), KEEPALIVED('lo', 51))
    },
  })
  const twinsync = (...args: string[]) => root().twinsync(...args)
  const live = (path: string) => root().live(path)

  it('takes a good nftables ruleset and a keepalived instance on this machine\'s interface, each checked in the sandbox', async () => {
    const rules = `${await live('/etc/nftables.conf')}table inet web {\n  chain input {\n    type filter hook input priority 0; policy accept;\n    tcp dport { 80, 443 } accept\n  }\n}\n`
    await writeTwinFile(root().twinDir, 'filesystem/etc/nftables.conf', rules)
    await writeTwinFile(root().twinDir, 'filesystem/etc/keepalived/keepalived.conf', KEEPALIVED(machineInterface(), 52))
    const plan = await twinsync('plan')
    assert.equal(plan.code, 0, plan.stdout + plan.stderr)
    const r = await twinsync('apply', '--yes', '--accept-high-risk', '--json')
    const steps = json<{ journal: { steps: Step[] } }>(r).journal.steps
    const step = (id: string) => steps.find((s) => s.id === id)
    assert.equal(r.code, 0, r.stdout + r.stderr)
    assert.equal(step('files:replace:/etc/nftables.conf')?.message, 'checked: `nft -c -f /etc/nftables.conf` passed')
    assert.equal(step('files:replace:/etc/keepalived/keepalived.conf')?.message, 'checked: `keepalived --config-test` passed')
    assert.equal(steps.some((s) => s.diagnostics?.some((d) => d.code === 'CONFIG_CHECK_UNSANDBOXED') === true), false)
    assert.equal(await live('/etc/nftables.conf'), rules)
  })

  it('refuses a zone whose file is broken and a haproxy backend named by DNS (CONFIG_CHECK_OFFLINE); the old files are back', async () => {
    const local = await live('/etc/bind/named.conf.local')
    const haproxy = await live('/etc/haproxy/haproxy.cfg')
    await writeTwinFile(root().twinDir, 'filesystem/etc/bind/named.conf.local', `${local}zone "example.test" { type master; file "/etc/bind/db.example.test"; };\n`)
    await writeTwinFile(root().twinDir, 'filesystem/etc/bind/db.example.test', '$TTL 1h\n@ IN SOA ns.example.test. admin.example.test. ( 1 1h 15m 1w 1h )\nwww IN A 192.0.2.300\n')
    await writeTwinFile(root().twinDir, 'filesystem/etc/haproxy/haproxy.cfg', `${haproxy}\nbackend app\n    server one app.backend.invalid:8080\n`)
    const r = await twinsync('apply', '--yes', '--accept-high-risk', '--json')
    assert.equal(r.code, 1, r.stdout + r.stderr)
    const steps = json<{ journal: { steps: Step[] } }>(r).journal.steps
    const step = (id: string) => steps.find((s) => s.id === id)
    for (const id of ['files:replace:/etc/bind/named.conf.local', 'files:create:/etc/bind/db.example.test']) {
      assert.equal(step(id)?.status, 'failed', id)
      assert.match(step(id)?.message ?? '', /`named-checkconf -z` rejects the new bind configuration; the previous files are back/)
      assert.match(step(id)?.outputTail ?? '', /db\.example\.test:3: near '192\.0\.2\.300': bad dotted quad/)
    }
    const refused = step('files:replace:/etc/haproxy/haproxy.cfg')
    assert.equal(refused?.status, 'failed')
    assert.match(refused?.message ?? '', /`haproxy -c -f \/etc\/haproxy\/haproxy\.cfg` rejects the new haproxy configuration; the previous files are back/)
    assert.deepEqual(refused?.diagnostics?.map((d) => d.code), ['CONFIG_CHECK_OFFLINE'], refused?.outputTail)
    assert.match(r.stdout + r.stderr, /CONFIG_CHECK_OFFLINE/)
    assert.equal(await live('/etc/bind/named.conf.local'), local)
    await assert.rejects(live('/etc/bind/db.example.test'), { code: 'ENOENT' })
    assert.equal(await live('/etc/haproxy/haproxy.cfg'), haproxy)
  })
})
