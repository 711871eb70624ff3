import { strict as assert } from 'node:assert'
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { chrootOk, makeTempDir, removeTree, ROOTFS_BUILD_TIMEOUT_MS, runOk, startGitRemote, type GitRemote } from '../bed/index.js'
import { fakeChars } from '../fixtures/secrets/samples.js'
import { everything, PlantedRoot } from '../support/planted-root.js'

const v = (seed: string, n = 20): string => fakeChars(`s19p-${seed}`, n)
const hex = (seed: string, n: number): string => fakeChars(`s19p-${seed}`, n, '0123456789abcdef')
const uuid = (seed: string) => `${hex(`${seed}a`, 8)}-${hex(`${seed}b`, 4)}-4${hex(`${seed}c`, 3)}-a${hex(`${seed}d`, 3)}-${hex(`${seed}e`, 12)}`

/**
 * Session 19: every provider's own text on the server root, after a clean first snapshot (so the
 * second one's diary line names what changed): a user's crontab (cron), a vendor unit's
 * `Environment=` and `ExecStartPost=` (systemd: its unit-file hash and startup entries), an XDG
 * autostart `Exec=` line and rc.local (autostart), the apt sources' `user:password@` URLs and
 * auth.conf.d (apt), the syslog (logs); then a saved plan (`plan --out`) and an apply's journal
 * after a person's edit of the twin, and a push to a mirror. The shapes are the ones session 19
 * taught the detector (ping URLs, k3s tokens, `mysqladmin … password`, debconf answers, Jetty's
 * OBF) beside older ones. None may be in any object, ref or config of the twin or the mirror, in
 * the saved plan, nor in anything printed.
 */
describe('secrets in every provider\'s text on the server root, session 19: cron, units, autostart, apt, the syslog, diary lines, a saved plan, the apply journal', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  let root: PlantedRoot
  let remote: GitRemote
  let scratch: string
  const TOKEN = `tok_${hex('remote', 24)}`
  // The helper's, under the names the tests below use.
  let twinsync: PlantedRoot['twinsync']
  let leaked: PlantedRoot['leaked']
  let outputs: string[]
  let cli: PlantedRoot['cli']
  let rootfs: PlantedRoot['rootfs']

  before(async () => {
    root = await PlantedRoot.create({ include: ['/etc', '/usr/local/bin'] })
    ;({ twinsync, leaked, outputs, cli, rootfs } = root)
    const { secret, plant } = root
    scratch = await makeTempDir('s19-providers')
    remote = await startGitRemote({ token: TOKEN })
    const first = await twinsync(['snapshot', '--init', '--json'])
    assert.equal(first.code, 0, first.stdout + first.stderr)
    const url = await remote.createBareRepo('twin')
    const set = await twinsync(['remote', 'set', url, '--token-stdin'], { input: `${TOKEN}\n` })
    assert.equal(set.code, 0, set.stdout + set.stderr)

    // cron: root's crontab, as `crontab -` writes it (the cron provider's, not the files provider's).
    const hc = secret('crontab healthchecks.io ping URL', uuid('hc'))
    const k3s = secret('crontab k3s join token as an argument', `K10${hex('k3sca', 64)}::server:${hex('k3s', 32)}`)
    const mysqladmin = secret('crontab mysqladmin … password', v('mysqladmin', 16))
    await chrootOk(rootfs.dir, 'crontab', ['-u', 'root', '-'], {
      input: `MAILTO=""\n15 2 * * * /usr/local/bin/backup && curl -fsS -m 10 https://hc-ping.com/${hc} >/dev/null\n@reboot /usr/local/bin/join-cluster https://10.0.0.1:6443 ${k3s}\n0 5 * * 0 mysqladmin -u root password '${mysqladmin}'\n`,
    })

    // systemd: a vendor unit (outside the files provider's include set) with a token in its
    // environment and a ping on its ExecStartPost=, enabled.
    const envToken = secret('vendor unit Environment= k3s token', `K10${hex('k3sca2', 64)}::node:${hex('k3s2', 32)}`)
    const snitch = secret("vendor unit ExecStartPost= Dead Man's Snitch URL", hex('snitch', 10))
    await plant(
      '/usr/lib/systemd/system/s19-agent.service',
      `[Unit]\nDescription=Agent\n\n[Service]\nEnvironment=CLUSTER_JOIN=${envToken} LOG=info\nExecStart=/usr/local/bin/agent\nExecStartPost=/usr/bin/curl -fsS https://nosnch.in/${snitch}\n\n[Install]\nWantedBy=multi-user.target\n`,
    )
    await mkdir(join(rootfs.dir, 'etc/systemd/system/multi-user.target.wants'), { recursive: true })
    await symlink('/usr/lib/systemd/system/s19-agent.service', join(rootfs.dir, 'etc/systemd/system/multi-user.target.wants/s19-agent.service'))

    // autostart: an XDG entry's Exec= and rc.local.
    const kuma = secret('XDG autostart Exec= Uptime Kuma push URL', `7${v('kuma', 9)}`)
    await plant('/etc/xdg/autostart/s19-status.desktop', `[Desktop Entry]\nType=Application\nName=Status\nExec=sh -c "curl -fsS https://status.example.org/api/push/${kuma}?status=up"\n`)
    const debconf = secret('rc.local debconf-set-selections password', v('debconf', 16))
    await plant('/etc/rc.local', `#!/bin/sh -e\necho "mariadb-server mysql-server/root_password password ${debconf}" | debconf-set-selections\nexit 0\n`, 0o755)

    // apt: a private repository's credentials in a sources line, a deb822 file and auth.conf.d.
    const aptUrl = secret('apt sources.list user:password@', v('aptlist', 16))
    await plant('/etc/apt/sources.list.d/private.list', `deb [trusted=yes] https://ci:${aptUrl}@apt.example.org/debian trixie main\n`)
    const aptDeb822 = secret('apt deb822 URIs user:password@', v('aptsources', 16))
    await plant('/etc/apt/sources.list.d/vendor.sources', `Types: deb\nURIs: https://deploy:${aptDeb822}@vendor.example.org/apt\nSuites: stable\nComponents: main\nTrusted: yes\n`)
    const aptAuth = secret('apt auth.conf.d password', v('aptauth', 16))
    await plant('/etc/apt/auth.conf.d/vendor.conf', `machine vendor.example.org\nlogin deploy\npassword ${aptAuth}\n`, 0o600)

    // logs: the syslog as rsyslog writes it.
    const logPing = secret('syslog healthchecks.io ping URL', uuid('logping'))
    const logK3s = secret('syslog k3s token', `K10${hex('k3sca3', 64)}::server:${hex('k3s3', 32)}`)
    const logObf = secret("syslog Jetty's OBF password", fakeChars('s19p-obf', 36, '0123456789abcdefghijklmnopqrstuvwxyz'))
    await plant(
      '/var/log/syslog',
      `2026-12-02T10:00:00.000000+00:00 srv CRON[811]: (root) CMD (/usr/local/bin/backup && curl -fsS -m 10 https://hc-ping.com/${logPing} >/dev/null)\n` +
        `2026-12-02T10:00:01.000000+00:00 srv k3s[412]: level=info msg="joining with token ${logK3s}"\n` +
        `2026-12-02T10:00:02.000000+00:00 srv jetty[77]: keystore password OBF:${logObf} rejected\n`,
      0o640,
    )

    const second = await twinsync(['snapshot', '--json'])
    assert.equal(second.code, 0, second.stdout + second.stderr)
  })
  after(async () => {
    await remote?.close()
    await root?.cleanup()
    if (scratch !== undefined) await removeTree(scratch)
  })

  it('keeps every value out of the twin, its diary lines and the printed output, the providers\' lines readable', async () => {
    assert.equal(root.planted.length, 13)
    assert.deepEqual(leaked(await everything(join(cli.twinDir, '.git'))), [])
    assert.deepEqual(leaked((await runOk(['git', '-C', cli.twinDir, 'log', '--format=%B'])).stdout), [])
    assert.deepEqual(leaked(outputs.join('\n')), [])
    const crontab = (await runOk(['git', '-C', cli.twinDir, 'show', 'HEAD:filesystem/var/spool/cron/crontabs/root'])).stdout
    assert.match(crontab, /curl -fsS -m 10 https:\/\/hc-ping\.com\/<redacted> >\/dev\/null\n/)
    assert.match(crontab, /@reboot \/usr\/local\/bin\/join-cluster https:\/\/10\.0\.0\.1:6443 <redacted>\n/)
    const syslog = (await runOk(['git', '-C', cli.twinDir, 'show', 'HEAD:system/logs/syslog.txt'])).stdout
    assert.match(syslog, /keystore password OBF:<redacted> rejected\n/)
  })

  it('writes none into a saved plan, nor into the apply journal, after a person\'s edit of the twin', async () => {
    // A new job in the redacted crontab (left out: the twin holds a redacted secret there), and a file of no secret.
    const tab = join(cli.twinDir, 'filesystem/var/spool/cron/crontabs/root')
    await writeFile(tab, (await readFile(tab, 'utf8')) + '45 1 * * * /usr/local/bin/rotate\n')
    await writeFile(join(cli.twinDir, 'filesystem/etc/motd'), 'Session 19 was here.\n')
    const planFile = join(scratch, 'plan.json')
    const plan = await twinsync(['plan', '--out', planFile])
    assert.equal(plan.code, 0, plan.stdout + plan.stderr)
    const saved = await readFile(planFile, 'utf8')
    assert.match(saved, /motd/)
    assert.deepEqual(leaked(saved), [])
    const applied = await twinsync(['apply', planFile, '--yes', '--accept-high-risk'])
    assert.equal(applied.code, 0, applied.stdout + applied.stderr)
    assert.equal(await readFile(join(rootfs.dir, 'etc/motd'), 'utf8'), 'Session 19 was here.\n')
    const journals = (await runOk(['git', '-C', cli.twinDir, 'ls-tree', '-r', '--name-only', 'HEAD', 'system/journal/'])).stdout.trim().split('\n')
    assert.ok(journals.some((j) => j.startsWith('system/journal/apply-')), journals.join(', '))
    assert.deepEqual(leaked(await everything(join(cli.twinDir, '.git'))), [])
    assert.deepEqual(leaked(outputs.join('\n')), [])
  })

  it('pushes a mirror that holds none of them', async () => {
    const pushed = await twinsync(['push', '--retry'])
    // What the mirror answered, for a failure seen once on CI (session 20: REMOTE_AUTH, not seen here).
    const answers = remote.requests.map((r) => `${r.method} ${r.url} ${r.status} ${r.user ?? '(no user)'}`).join('\n')
    assert.equal(pushed.code, 0, `${pushed.stdout}${pushed.stderr}\nthe mirror's answers:\n${answers}`)
    assert.deepEqual(leaked(await everything(remote.repoPath('twin'), remote.gitEnv(null))), [])
    assert.deepEqual(leaked(outputs.join('\n')), [])
  })
})
