import { strict as assert } from 'node:assert'
import { createHash } from 'node:crypto'
import { appendFile, mkdir, rename, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { stableStringify } from '@twinsync/sdk'
import { makeTempDir, removeTree, ROOTFS_BUILD_TIMEOUT_MS, runOk } from '../bed/index.js'
import { fakeChars } from '../fixtures/secrets/samples.js'
import { everything, PlantedRoot } from '../support/planted-root.js'

const v = (seed: string, n = 20): string => fakeChars(`s46-${seed}`, n)
const hex = (seed: string, n: number): string => fakeChars(`s46-${seed}`, n, '0123456789abcdef')
const b64 = (text: string): string => Buffer.from(text).toString('base64')

/**
 * The forms a value can take in a commit besides itself: its base64 (at each of the three byte
 * alignments inside a longer encoded text, the characters that depend on it alone) and its URL
 * encoding.
 */
function encodings(value: string): string[] {
  const out = [encodeURIComponent(value)]
  for (const pad of ['', 'a', 'ab']) {
    const enc = b64(pad + value)
    // The characters that stand for the value's bytes alone: from the first whole group after the pad to the last whole one.
    const from = pad.length === 0 ? 0 : 4
    const to = Math.floor((pad.length + value.length) / 3) * 4
    if (to - from >= 12) out.push(enc.slice(from, to))
  }
  return out
}

/**
 * Session 46 on the server root, through the CLI: places session 45 did not try. A file's
 * `user.*` extended attribute (the files manifest records each as getfattr's `0s` base64),
 * a run-once command of plans/ with a password in its argument list that then runs (its record
 * in system/journal/commands.json, the apply journal), a unit's description, the hostname, apt's
 * extended_states, an autostart entry's `Exec=env …`, the text logs (sudo's COMMAND= line with
 * `curl -u`, a failed login that logged the password, a Bearer header, a postgres URL), and the
 * credential files of msmtp, fetchmail, smbclient, .netrc, .pgpass, ~/.aws, WireGuard, Redis,
 * ldap.secret, /etc/ssl/private. Then a push to a bare mirror: every object, ref and the config
 * of the twin and the mirror, `git log -p --all` of both, searched for each value and its
 * base64 and URL-encoded forms.
 */
describe('secrets on the server root, session 46: extended attributes, run-once commands, unit descriptions, logs, a pushed mirror', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  let root: PlantedRoot
  let scratch: string
  let mirror: string
  const RUN_ONCE = v('runonce', 16)
  const EVERY_TIME = v('everytime', 16)
  const commandValues = [RUN_ONCE, EVERY_TIME]
  /** Every planted value, in any form (itself, base64, URL-encoded), that `text` holds: their kinds. */
  const inAnyForm = (text: string): string[] => root.planted.filter((p) => [p.value, ...encodings(p.value)].some((e) => text.includes(e))).map((p) => p.kind)

  before(async () => {
    root = await PlantedRoot.create({ include: ['/etc', '/srv', '/home', '/root', '/var/spool/cron'] })
    const { secret: s, plant, rootfs } = root
    scratch = await makeTempDir('s46-secrets')
    await appendFile(join(rootfs.dir, 'etc/passwd'), 'ops:x:1001:1001:Ops:/home/ops:/bin/bash\n')
    await appendFile(join(rootfs.dir, 'etc/group'), 'ops:x:1001:\n')
    const O: [number, number] = [1001, 1001]
    // Extended attributes on files that hold no secret themselves (mirrored): a download's origin
    // URL with a token in its query (curl --xattr, wget's xdg attributes), a database URL, a
    // GitHub token, a password in a note.
    await plant('/srv/app/release.tar.gz.txt', 'release 1.2.3\n')
    await plant('/srv/app/app.conf', 'listen = 8080\n')
    await plant('/etc/app/notes.txt', 'see the attributes\n')
    const setfattr = (name: string, value: string, path: string) => runOk(['setfattr', '-n', name, '-v', value, join(rootfs.dir, path)])
    await setfattr('user.xdg.origin.url', `https://gitlab.example.net/api/v4/projects/7/packages/generic/app/1.2.3/app.tar.gz?private_token=glpat-${s('xattr origin URL glpat', v('xglpat', 20))}`, '/srv/app/release.tar.gz.txt')
    await setfattr('user.db', `postgres://app:${s('xattr postgres URL password', v('xpg', 16))}@db.example.net/app`, '/srv/app/app.conf')
    await setfattr('user.token', `ghp_${s('xattr user.token GitHub token', v('xghp', 36))}`, '/etc/app/notes.txt')
    await setfattr('user.comment', `rotated; password=${s('xattr comment password=', v('xcomment', 16))}`, '/etc/app/notes.txt')
    // A unit's description, and its unit file otherwise plain.
    await plant('/etc/systemd/system/s46-dav.service', `[Unit]\nDescription=Sync to https://ops:${s('unit Description URL password', v('udesc', 16))}@dav.example.net/backup\n\n[Service]\nExecStart=/usr/bin/true\n\n[Install]\nWantedBy=multi-user.target\n`)
    await mkdir(join(rootfs.dir, 'etc/systemd/system/multi-user.target.wants'), { recursive: true })
    await runOk(['ln', '-sf', '/etc/systemd/system/s46-dav.service', join(rootfs.dir, 'etc/systemd/system/multi-user.target.wants/s46-dav.service')])
    await plant('/etc/systemd/system/s46-cred.service', `[Unit]\nDescription=Cred\n\n[Service]\nLoadCredential=db:/etc/app/db.pass\nSetCredential=api:${s('unit SetCredential=', v('setcred', 32))}\nExecStart=/usr/bin/true\n`)
    // The hostname: a Slack bot token is a valid host name label.
    await plant('/etc/hostname', `${s('hostname Slack token', `xoxb-1234567890-1234567890123-${v('host', 24)}`)}\n`)
    // apt's extended_states: a package name shaped like a token (none installed by that name).
    await appendFile(join(rootfs.dir, 'var/lib/apt/extended_states'), `\nPackage: glpat-${s('apt extended_states package name', v('aptext', 20).toLowerCase())}\nArchitecture: amd64\nAuto-Installed: 1\n`)
    // autostart
    await plant('/etc/xdg/autostart/s46-agent.desktop', `[Desktop Entry]\nType=Application\nName=Agent\nExec=env API_KEY=${s('autostart Exec=env API_KEY', v('xdgenv', 32))} /usr/bin/agent\n`)
    await plant('/home/ops/.config/autostart/s46-sync.desktop', `[Desktop Entry]\nType=Application\nName=Sync\nExec=sh -c "export GITHUB_TOKEN=ghp_${s('user autostart export GITHUB_TOKEN', v('xdgghp', 36))}; /usr/bin/sync-agent"\n`, 0o644, O)
    // logs: the syslog as rsyslog writes it.
    await plant(
      '/var/log/syslog',
      `2026-12-06T10:00:00.000000+00:00 srv sudo[812]:      ops : TTY=pts/0 ; PWD=/home/ops ; USER=root ; COMMAND=/usr/bin/curl -u admin:${s('syslog sudo COMMAND curl -u', v('lcurl', 16))} https://api.example.net/x\n` +
        `2026-12-06T10:00:01.000000+00:00 srv app[77]: login failed for user=admin password=${s('syslog failed login password=', v('llogin', 16))} from 10.0.0.9\n` +
        `2026-12-06T10:00:02.000000+00:00 srv app[77]: GET /api/v1/x headers={Authorization: Bearer ${s('syslog Bearer header', v('lbearer', 32))}}\n` +
        `2026-12-06T10:00:03.000000+00:00 srv app[77]: could not connect to postgres://app:${s('syslog postgres URL', v('lpg', 16))}@db:5432/app: connection refused\n` +
        `2026-12-06T10:00:04.000000+00:00 srv sudo[813]: ops : TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/usr/bin/htpasswd -b /etc/nginx/.htpasswd admin ${s('syslog sudo htpasswd -b', v('lhtp', 16))}\n` +
        `2026-12-06T10:00:05.000000+00:00 srv sshd[9]: Accepted publickey for root from 10.0.0.1 port 2222 ssh2\n`,
      0o640,
    )
    // credential files
    await plant('/root/.msmtprc', `account default\nhost smtp.example.net\nuser ops\npassword ${s('msmtprc password', v('msmtp', 16))}\n`, 0o600)
    await plant('/root/.fetchmailrc', `poll mail.example.net proto imap user "ops" password "${s('fetchmailrc password', v('fetch', 16))}"\n`, 0o600)
    await plant('/etc/samba/backup.cred', `username=backup\npassword=${s('smb credentials file', v('smb', 16))}\ndomain=WORK\n`, 0o600)
    await plant('/root/.netrc', `machine ftp.example.net login backup password ${s('.netrc', v('netrc', 16))}\n`, 0o600)
    await plant('/root/.pgpass', `db.example.net:5432:app:app:${s('.pgpass', v('pgpass', 16))}\n`, 0o600)
    await plant('/root/.aws/credentials', `[default]\naws_access_key_id = AKIA${fakeChars('s46-akid', 16, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567')}\naws_secret_access_key = ${s('~/.aws/credentials secret', fakeChars('s46-awssec', 40))}\n`, 0o600)
    await plant('/etc/wireguard/wg0.conf', `[Interface]\nAddress = 10.9.0.1/24\nPrivateKey = ${s('WireGuard PrivateKey', `${fakeChars('s46-wg', 43)}=`)}\nListenPort = 51820\n`, 0o600)
    await plant('/etc/redis/redis.conf', `bind 127.0.0.1\nport 6379\nrequirepass ${s('redis requirepass', v('redis', 24))}\n`, 0o640)
    await plant('/etc/ldap.secret', `${s('ldap.secret', v('ldapsec', 16))}\n`, 0o600)
    await plant('/etc/ssl/private/s46.key', `-----BEGIN PRIVATE KEY-----\n${s('/etc/ssl/private key body', fakeChars('s46-pem', 64))}\n${fakeChars('s46-pem2', 64)}\n-----END PRIVATE KEY-----\n`, 0o600)
    await plant('/etc/NetworkManager/system-connections/Lab.nmconnection', `[connection]\nid=Lab\ntype=wifi\n\n[wifi-security]\nkey-mgmt=wpa-psk\npsk=${s('NetworkManager psk=', v('nmpsk', 16))}\n`, 0o600)
    await plant('/home/ops/.config/gh/hosts.yml', `github.com:\n    oauth_token: github_pat_${s('gh hosts.yml github_pat_', `${v('ghpat1', 22)}_${v('ghpat2', 59)}`)}\n    user: ops\n`, 0o600, O)
    await plant('/home/ops/.git-credentials', `https://ops:${s('git credential store', v('gitcred', 20))}@git.example.net\n`, 0o600, O)
    await plant('/home/ops/.docker/config.json', `{\n  "auths": {\n    "ghcr.io": {\n      "auth": "${s('docker config.json auth', b64(`ops:${v('dock', 20)}`))}"\n    }\n  }\n}\n`, 0o600, O)
    await plant('/etc/s46/jwt.conf', `signing_token = ${s('JWT', `eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ${v('jwt', 12)}In0.${v('jwtsig', 43)}`)}\n`, 0o640)
    await plant('/etc/s46/slack.env', `SLACK_WEBHOOK=https://hooks.slack.com/services/T${v('slt', 8).toUpperCase()}/B${v('slb', 8).toUpperCase()}/${s('Slack webhook', v('slw', 24))}\nSLACK_APP=xoxp-1234567890-1234567890123-1234567890123-${s('Slack xoxp', hex('xoxp', 32))}\n`, 0o640)
    await plant('/etc/s46/mysql.url', `DATABASE_URL=mysql://app:${s('mysql:// URL', v('myurl', 16))}@db/app\n`, 0o640)
    await root.snapshotInit()

    // A run-once command a person writes into the twin's plans/, with a password in its
    // arguments, approved and run: its record, the apply journal, the snapshot after. The
    // person's own plans/ file holds them (the push scan refuses it, below): kept apart from
    // `planted`, which no commit may hold anywhere.
    await mkdir(join(root.cli.twinDir, 'plans'), { recursive: true })
    await writeFile(
      join(root.cli.twinDir, 'plans/db.yaml'),
      `description: set the database passwords\nactions:\n  - run: [env, "PGPASSWORD=${RUN_ONCE}", "true"]\n  - run: [sh, -c, "echo 'ops:${EVERY_TIME}' | chpasswd || true"]\n    once: false\n`,
    )
    const applied = await root.twinsync(['apply', '--yes', '--accept-high-risk'])
    assert.equal(applied.code, 0, applied.stdout + applied.stderr)

    // A push to a bare mirror of this machine.
    mirror = join(scratch, 'mirror.git')
    await runOk(['git', 'init', '--bare', '-b', 'main', mirror])
    const set = await root.twinsync(['remote', 'set', mirror])
    assert.equal(set.code, 0, set.stdout + set.stderr)
  })
  after(async () => {
    await root?.cleanup()
    if (scratch !== undefined) await removeTree(scratch)
  })

  it('records the attributes, the run-once command and the logs (the places are reached)', async () => {
    const manifest = await root.committed('system/files/manifest.json')
    for (const name of ['user.xdg.origin.url', 'user.db', 'user.token', 'user.comment']) assert.match(manifest, new RegExp(`"${name.replace(/\./g, '\\.')}": "<redacted>"`), name)
    const ledger = await root.committed('system/journal/commands.json')
    assert.match(ledger, /PGPASSWORD=<redacted>/)
    // What tells this machine a password-only change from the text that ran: beside the twin, never committed.
    assert.equal((await stat(join(root.cli.twinDir, '.git/twinsync/ran-here.json'))).mode & 0o777, 0o600)
    assert.match(await root.committed('system/logs/syslog.txt'), /Accepted publickey for root/)
    assert.equal(JSON.parse(await root.committed('twin.json')).hostname, '<redacted>')
  })

  // Session 47's review (F5): a twin without this machine's own record (restored from its mirror)
  // took a password-only change as run, and nothing said so.
  it('without this machine\'s own record, plan and status say the run-once command\'s secret cannot be checked here, redacted, with the next step', async () => {
    const local = join(root.cli.twinDir, '.git/twinsync/ran-here.json')
    const kept = `${local}.test-aside`
    await rename(local, kept)
    try {
      for (const args of [['plan'], ['status']]) {
        const said = await root.twinsync(args)
        assert.equal(said.code, 0, said.stdout + said.stderr)
        assert.match(said.stdout, /^note: run env PGPASSWORD=<redacted> true \(commands:plans\/db\.yaml#1\): not planned, system\/journal\/commands\.json records it as run; .* \[COMMAND_RAN_UNCHECKED\]\n {2}Next step: If it changed and the command should run again, edit the action in plans\/db\.yaml/m, args.join(' '))
        assert.ok(!said.stdout.includes(RUN_ONCE), args.join(' '))
      }
    } finally {
      await rename(kept, local)
    }
  })

  it('keeps every planted value, and its base64 and URL-encoded forms, out of every object, ref and the config of the twin, git log -p --all, and the output', async () => {
    const twin = await root.twinEverything()
    const log = (await runOk(['git', '-C', root.cli.twinDir, 'log', '-p', '--all', '--format=%H%n%B'])).stdout
    assert.deepEqual(inAnyForm(twin), [], 'in the twin')
    assert.deepEqual(inAnyForm(log), [], 'in git log -p --all')
    assert.deepEqual(inAnyForm(root.outputs.join('\n')), [], 'in what was printed')
  })

  it('writes no redacted attribute back: the apply left the machine\'s values, and a plan has nothing to do there', async () => {
    const attrs = (await runOk(['getfattr', '-d', '-m', '^user\\.', '--absolute-names', join(root.rootfs.dir, 'etc/app/notes.txt'), join(root.rootfs.dir, 'srv/app/app.conf'), join(root.rootfs.dir, 'srv/app/release.tar.gz.txt')])).stdout
    assert.ok(!attrs.includes('redacted'), attrs)
    assert.equal((attrs.match(/^user\./gm) ?? []).length, 4, attrs)
    const plan = await root.twinsync(['plan', '--json'])
    assert.equal(plan.code, 0, plan.stdout + plan.stderr)
    const parsed = JSON.parse(plan.stdout) as { changes: Array<{ provider: string; summary: string }>; diagnostics: Array<{ code: string; summary: string }> }
    assert.deepEqual(parsed.changes.filter((c) => c.provider === 'files').map((c) => c.summary), [])
    assert.deepEqual(parsed.diagnostics.filter((d) => d.code === 'SECRET_REDACTED_NOT_PLANNED').map((d) => d.summary), [])
  })

  it('records the run-once and every-time commands without their passwords; the person\'s plans/ file holds them, and the push scan refuses it', async () => {
    const journals = (await runOk(['git', '-C', root.cli.twinDir, 'ls-tree', '-r', '--name-only', 'HEAD', 'system/journal/'])).stdout.trim().split('\n')
    assert.equal(journals.length, 2, journals.join(', '))
    for (const path of journals) {
      const text = await root.committed(path)
      assert.deepEqual(commandValues.filter((c) => text.includes(c)), [], path)
    }
    assert.match(await root.committed(journals.find((j) => j.includes('apply-')) as string), /chpasswd/)
    const pushed = await root.twinsync(['push'])
    assert.match(pushed.stdout + pushed.stderr, /SECRET_IN_PUSH\] Not pushed: secrets in plans\/db\.yaml:3 \(credential-assignment\), plans\/db\.yaml:4 \([a-z-]+\)\n/)
  })

  it('pushes, once the person forgot the plans/ file\'s secrets, a mirror that holds none of the values in any form', async () => {
    const forgot = await root.twinsync(['forget', '--rule', 'any'])
    assert.equal(forgot.code, 0, forgot.stdout + forgot.stderr)
    const pushed = await root.twinsync(['push'])
    assert.equal(pushed.code, 0, pushed.stdout + pushed.stderr)
    assert.doesNotMatch(pushed.stdout + pushed.stderr, /SECRET_IN_PUSH/)
    const mirrorText = await everything(mirror)
    assert.match(mirrorText, /PGPASSWORD=<redacted>/)
    const log = (await runOk(['git', '--git-dir', mirror, 'log', '-p', '--all', '--format=%H%n%B'])).stdout
    // Session 47 (session 46's review, S1): the record's key was the sha256 of the file and the
    // action, password and all, checkable offline against a weak one.
    const fullTextKey = createHash('sha256').update(stableStringify({ file: 'plans/db.yaml', action: { run: ['env', `PGPASSWORD=${RUN_ONCE}`, 'true'] } })).digest('hex')
    for (const [where, text] of [['the mirror', mirrorText], ['the mirror\'s git log -p --all', log]] as const) {
      assert.deepEqual(inAnyForm(text), [], `in ${where}`)
      assert.deepEqual(commandValues.filter((c) => [c, ...encodings(c)].some((e) => text.includes(e))), [], `a command's password in ${where}`)
      assert.ok(!text.includes(fullTextKey.slice(0, 12)), `the run-once command's full text's sha256 in ${where}`)
    }
  })
})
