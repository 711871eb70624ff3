import { strict as assert } from 'node:assert'
import { mkdir, symlink } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { ROOTFS_BUILD_TIMEOUT_MS, runOk } from '../bed/index.js'
import { fakeChars } from '../fixtures/secrets/samples.js'
import { assertPrefiltersFindTheSame } from '../support/prefilter-check.js'
import { PlantedRoot } from '../support/planted-root.js'

const v = (seed: string, n = 20): string => fakeChars(`s34-${seed}`, n)
const hex = (seed: string, n: number): string => fakeChars(`s34-${seed}`, n, '0123456789abcdef')
const uuid = (seed: string): string => `${hex(`${seed}a`, 8)}-${hex(`${seed}b`, 4)}-4${hex(`${seed}c`, 3)}-a${hex(`${seed}d`, 3)}-${hex(`${seed}e`, 12)}`

/** Files that must be held out (`secret: true`), each with its reason where a path rule is what holds it. */
const HELD: Array<[string, 'path rule' | undefined]> = [
  ['/etc/sing-box/config.json', undefined],
  ['/opt/sing-box/client.json', undefined],
  ['/usr/local/bin/redis-flush', undefined],
  ['/etc/systemd/system/redis-sentinel-auth.service', undefined],
  ['/home/bob/dotfiles/sync/sync.env', 'path rule'],
  ['/etc/restic/password', undefined],
  ['/root/.gnupg/private-keys-v1.d/0D6C3F7A2B9E41C85F1A7E3D9B2C4A6E8F0D1B3C.key', undefined],
]

/**
 * Session 34 on the server root. What session 33 left, each failing this test before its fix: a
 * sing-box server of VLESS over TLS and Hysteria (its users' uuids, Hysteria's obfs string and
 * auth_str: no key the detector knew), a sing-box VLESS-REALITY client kept in /opt (uuid,
 * short_id); a password typed at sshd's user prompt, in the syslog the logs facts tail, seconds
 * before the account's login; Redis passwords in an application's log lines, a script's
 * here-document to redis-cli and a unit's command line; a file a unit of /etc/systemd/user names
 * under every home (`%h`), which bob keeps in his dotfiles and links in; the hunt's restic password
 * file (a passphrase of words) and a GnuPG key made without a passphrase. What is no secret stays.
 */
describe("secrets on the server root, session 34: sing-box, a password typed as sshd's user name, Redis AUTH in logs and commands, a unit's %h path through links", function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  let root: PlantedRoot

  before(async () => {
    root = await PlantedRoot.create({ include: ['/etc', '/usr/local/bin', '/opt/sing-box', '/root/.gnupg', '~/.config', '~/dotfiles'] })
    const { secret, plant, rootfs } = root
    await runOk(['useradd', '--root', rootfs.dir, '--create-home', '--uid', '1000', '--user-group', '--shell', '/bin/bash', 'bob'])
    const bob: [number, number] = [1000, 1000]

    // sing-box serving VLESS over TLS (its certificate's key a file) and Hysteria: nothing in it ends in `password` or `key`.
    const u1 = secret('sing-box VLESS user uuid', uuid('vless'))
    const obfs = secret('sing-box Hysteria obfs', v('obfs', 16))
    const authStr = secret('sing-box Hysteria auth_str', v('auth-str', 18))
    const server = {
      log: { level: 'warn' },
      inbounds: [
        { type: 'vless', tag: 'vless-in', listen: '::', listen_port: 443, users: [{ name: 'bob', uuid: u1, flow: '' }], tls: { enabled: true, server_name: 'vpn.example.org', certificate_path: '/etc/sing-box/fullchain.pem', key_path: '/etc/sing-box/privkey.pem' } },
        { type: 'hysteria', tag: 'hy-in', listen: '::', listen_port: 8443, up_mbps: 100, down_mbps: 100, obfs, users: [{ name: 'carol', auth_str: authStr }], tls: { enabled: true, key_path: '/etc/sing-box/privkey.pem', certificate_path: '/etc/sing-box/fullchain.pem' } },
      ],
      outbounds: [{ type: 'direct', tag: 'direct' }],
    }
    await plant('/etc/sing-box/config.json', JSON.stringify(server, null, 2) + '\n', 0o644)
    // A VLESS-REALITY client kept in /opt: the uuid and the short id are its credentials, the public key is none.
    const u2 = secret('sing-box client uuid (/opt)', uuid('client'))
    const sid = secret('sing-box client REALITY short_id', hex('sid', 16))
    const client = { outbounds: [{ type: 'vless', tag: 'proxy', server: 'vpn.example.org', server_port: 443, uuid: u2, flow: 'xtls-rprx-vision', tls: { enabled: true, server_name: 'www.example.com', utls: { enabled: true, fingerprint: 'chrome' }, reality: { enabled: true, public_key: fakeChars('s34-pub', 43, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'), short_id: sid } } }, { type: 'direct', tag: 'direct' }] }
    await plant('/opt/sing-box/client.json', JSON.stringify(client, null, 2) + '\n', 0o644)

    // The syslog the logs facts tail: alice typed her password at PuTTY's `login as:`, then logged
    // in; scanners tried admin; an application logs its Redis commands; ioredis' debug output.
    const typed = secret("password typed as sshd's user name", `${v('typed', 10)}!7`)
    const redisPw = secret('Redis AUTH in an application log', v('redis-log', 22))
    const redisUser = secret('Redis AUTH user password in ioredis debug', v('redis-io', 22))
    const syslog = [
      `Dec  5 01:02:03 web sshd[812]: Invalid user ${typed} from 203.0.113.9 port 52114`,
      'Dec  5 01:02:05 web sshd[812]: pam_unix(sshd:auth): check pass; user unknown',
      'Dec  5 01:02:05 web sshd[812]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=203.0.113.9',
      `Dec  5 01:02:07 web sshd[812]: Failed password for invalid user ${typed} from 203.0.113.9 port 52114 ssh2`,
      `Dec  5 01:02:07 web sshd[812]: Connection closed by invalid user ${typed} 203.0.113.9 port 52114 [preauth]`,
      'Dec  5 01:02:12 web sshd[815]: Accepted password for alice from 203.0.113.9 port 52120 ssh2',
      'Dec  5 01:03:00 web sshd[901]: Invalid user admin from 198.51.100.4 port 40022',
      `Dec  5 01:04:00 web shop[1201]: redis: > AUTH ${redisPw}`,
      `Dec  5 01:04:01 web node[1300]: ioredis:redis write command[10.0.0.5:6379]: 0 -> auth([ 'shop', '${redisUser}' ])`,
      'Dec  5 01:05:00 web CRON[1400]: (root) CMD (/usr/local/bin/redis-flush)',
      '',
    ].join('\n')
    await plant('/var/log/syslog', syslog, 0o640, [0, 4])

    // A script that hands redis-cli its commands in a here-document; a unit that sets Sentinel's password.
    const flush = secret('Redis AUTH in a here-document to redis-cli', v('redis-flush', 20))
    await plant('/usr/local/bin/redis-flush', `#!/bin/sh\nset -e\nredis-cli -h 10.0.0.5 <<EOF\nAUTH ${flush}\nFLUSHDB ASYNC\nEOF\n`, 0o755)
    const sentinel = secret('Redis SENTINEL SET auth-pass on a unit command line', v('sentinel', 20))
    await plant('/etc/systemd/system/redis-sentinel-auth.service', `[Unit]\nDescription=Tell Sentinel the master's password\nAfter=redis-sentinel.service\n\n[Service]\nType=oneshot\nExecStart=/usr/bin/redis-cli -p 26379 SENTINEL SET mymaster auth-pass ${sentinel}\n\n[Install]\nWantedBy=multi-user.target\n`, 0o644)

    // A unit every user's manager reads names a file under each home (`%h`); bob keeps his in ~/dotfiles (GNU stow).
    await plant('/etc/systemd/user/sync.service', '[Unit]\nDescription=File sync\n\n[Service]\nEnvironmentFile=%h/.config/sync/sync.env\nExecStart=/usr/bin/sync-agent\n\n[Install]\nWantedBy=default.target\n', 0o644)
    const syncValue = secret('a %h EnvironmentFile= of /etc/systemd/user, linked from dotfiles', v('sync', 24))
    await plant('/home/bob/dotfiles/sync/sync.env', `SYNC_REMOTE=https://sync.example.org\nSYNC_UPSTREAM=${syncValue}\n`, 0o644, bob)
    await plant('/home/bob/dotfiles/sync/settings.ini', '[ui]\ntheme = dark\n', 0o644, bob)
    const at = join(rootfs.dir, '/home/bob/.config/sync/sync.env')
    await mkdir(dirname(at), { recursive: true })
    await symlink('../../dotfiles/sync/sync.env', at)
    await runOk(['chown', '-R', '-h', '1000:1000', join(rootfs.dir, '/home/bob/.config')])

    // The hunt: restic's password file holding a passphrase of words; the apt repository's signing key, made without a passphrase.
    const phrase = secret("restic's password file, a passphrase of words", `${v('w1', 6)} ${v('w2', 7)} ${v('w3', 5)} ${v('w4', 8)}`.toLowerCase())
    await plant('/etc/restic/password', `${phrase}\n`, 0o600)
    await plant('/etc/systemd/system/restic-backup.service', '[Service]\nType=oneshot\nEnvironment=RESTIC_REPOSITORY=sftp:backup@nas:/srv/restic\nEnvironment=RESTIC_PASSWORD_FILE=/etc/restic/password\nExecStart=/usr/bin/restic backup /etc /srv\n', 0o644)
    const d = secret('GnuPG unprotected private key (d)', hex('gpg-d', 64).toUpperCase())
    await plant('/root/.gnupg/private-keys-v1.d/0D6C3F7A2B9E41C85F1A7E3D9B2C4A6E8F0D1B3C.key', `Created: 20261205T010203\nKey: (private-key (ecc (curve Ed25519)(flags eddsa)(q\n #40${hex('gpg-q', 64).toUpperCase()}#)(d\n #${d}#)))\n`, 0o600, [0, 0])

    await root.snapshotInit()
  })
  after(async () => {
    await root?.cleanup()
  })

  it('keeps every planted value out of every object, ref and the config of the twin, and out of the output', async () => {
    const { planted } = root
    assert.equal(planted.length, 13)
    const entryOf = await root.assertHeldOut(HELD)
    for (const path of ['/etc/systemd/user/sync.service', '/home/bob/dotfiles/sync/settings.ini', '/etc/systemd/system/restic-backup.service']) assert.equal(entryOf(path)?.content, 'mirrored', path)
    assert.equal(entryOf('/home/bob/.config/sync/sync.env')?.type, 'symlink')
    // The log tail keeps what happened: the attempt, from where, the login after it, a scanner's try.
    const syslog = await root.committed('system/logs/syslog.txt')
    assert.match(syslog, /Invalid user <redacted> from 203\.0\.113\.9 port 52114/)
    assert.match(syslog, /Accepted password for alice from 203\.0\.113\.9/)
    assert.match(syslog, /Invalid user <redacted> from 198\.51\.100\.4/)
    assert.match(syslog, /redis: > AUTH <redacted>/)
    await root.assertNoneLeaked()
  })

  it('finds in every planted file what it finds with every rule run on every whole text', async () => {
    const findings = await assertPrefiltersFindTheSame(root.plantedTexts)
    assert.ok(findings > 0)
  })
})
