import { strict as assert } from 'node:assert'
import { ROOTFS_BUILD_TIMEOUT_MS } from '../bed/index.js'
import { fakeChars } from '../fixtures/secrets/samples.js'
import { assertPrefiltersFindTheSame } from '../support/prefilter-check.js'
import { PlantedRoot } from '../support/planted-root.js'

const v = (seed: string, n = 20): string => fakeChars(`s35-${seed}`, n)
const hex = (seed: string, n: number): string => fakeChars(`s35-${seed}`, n, '0123456789abcdef')
const uuid = (seed: string): string => `${hex(`${seed}a`, 8)}-${hex(`${seed}b`, 4)}-4${hex(`${seed}c`, 3)}-a${hex(`${seed}d`, 3)}-${hex(`${seed}e`, 12)}`
const words = (seed: string): string => `${v(`${seed}1`, 6)} ${v(`${seed}2`, 7)} ${v(`${seed}3`, 5)} ${v(`${seed}4`, 8)}`.toLowerCase()

/** Files that must be held out (`secret: true`), each with its reason where a path rule is what holds it. */
const HELD: Array<[string, 'path rule' | undefined]> = [
  ['/etc/restic/b2-repo', 'path rule'],
  ['/etc/restic/nas.env', 'path rule'],
  ['/srv/backup/nas-key', 'path rule'],
  ['/etc/borg/repo-key', 'path rule'],
  ['/etc/offsite/gpg', 'path rule'],
  ['/opt/mihomo/config.yaml', undefined],
  ['/usr/local/bin/cache-warm', undefined],
]

/**
 * Session 35 on the server root. What session 34 left, each failing this test before its fix:
 * password files a backup unit, the environment file it names, a crontab and an administrator's
 * script point at under names that say nothing (restic's `RESTIC_PASSWORD_FILE=` and
 * `RESTIC_PASSWORD_COMMAND="cat …"`, borg's `BORG_PASSCOMMAND`, gpg's `--passphrase-file`), each a
 * line of words; a mihomo client kept in /opt (uuids, a Hysteria auth-str, its subscription URL);
 * Redis' AUTH written for nc in a script and logged by an application that does not say Redis;
 * pam_unix's (`audit`) failure line naming a password typed as the user name. What is no secret stays.
 */
describe('secrets on the server root, session 35: password files units and crontabs point at, mihomo, Redis AUTH without Redis, pam_unix audit', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  let root: PlantedRoot

  before(async () => {
    root = await PlantedRoot.create({ include: ['/etc', '/usr/local/bin', '/usr/local/sbin', '/opt/mihomo', '/srv/backup'] })
    const { secret, plant } = root

    // A restic unit: its password file in Environment=, its environment file's password command, none of them named for a password.
    const b2 = secret("restic's RESTIC_PASSWORD_FILE= of a unit (a line of words)", words('b2'))
    await plant('/etc/restic/b2-repo', `${b2}\n`, 0o600)
    const nas = secret("restic's password command in a unit's EnvironmentFile= (cat FILE)", words('nas'))
    await plant('/srv/backup/nas-key', `${nas}\n`, 0o600)
    await plant('/etc/restic/nas.env', 'RESTIC_REPOSITORY=sftp:backup@nas:/srv/restic\nRESTIC_PASSWORD_COMMAND="cat /srv/backup/nas-key"\n', 0o600)
    await plant('/etc/restic/excludes', '/srv/cache\n/var/tmp\n', 0o644)
    await plant(
      '/etc/systemd/system/restic-b2.service',
      '[Unit]\nDescription=restic to B2\n\n[Service]\nType=oneshot\nEnvironment=RESTIC_REPOSITORY=b2:example-backups:/web RESTIC_PASSWORD_FILE=/etc/restic/b2-repo\nExecStart=/usr/bin/restic backup --exclude-file /etc/restic/excludes /etc /srv\n',
      0o644,
    )
    await plant('/etc/systemd/system/restic-nas.service', '[Service]\nType=oneshot\nEnvironmentFile=/etc/restic/nas.env\nExecStart=/usr/bin/restic backup /etc\n', 0o644)
    // borg from cron, gpg from a script cron runs.
    const borg = secret("borg's BORG_PASSCOMMAND in /etc/cron.d (cat FILE)", words('borg'))
    await plant('/etc/borg/repo-key', `${borg}\n`, 0o600)
    await plant('/etc/cron.d/borg', 'SHELL=/bin/sh\n0 3 * * * root BORG_PASSCOMMAND="cat /etc/borg/repo-key" borg create /srv/borg::{now} /etc\n30 3 * * * root /usr/local/sbin/offsite\n', 0o644)
    const gpg = secret("gpg's --passphrase-file in a script a crontab runs", words('gpg'))
    await plant('/etc/offsite/gpg', `${gpg}\n`, 0o600)
    await plant('/usr/local/sbin/offsite', '#!/bin/sh\nset -e\ntar -C /srv -cz borg | gpg --batch --pinentry-mode loopback --passphrase-file /etc/offsite/gpg -c -o /mnt/offsite/borg.tgz.gpg\n', 0o755)

    // A mihomo client kept in /opt: its proxies' uuids and auth, its subscription.
    const u = secret('mihomo VLESS uuid (/opt)', uuid('vless'))
    const hy = secret('mihomo Hysteria auth-str', v('hy', 16))
    const sub = secret('mihomo subscription token', hex('sub', 32))
    const mihomo = [
      'mixed-port: 7890',
      'mode: rule',
      'proxies:',
      '  - name: reality',
      '    type: vless',
      '    server: 198.51.100.7',
      '    port: 443',
      `    uuid: ${u}`,
      '    reality-opts:',
      `      public-key: ${fakeChars('s35-pub', 43, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_')}`,
      '  - name: hy',
      '    type: hysteria',
      '    server: hy.example.net',
      `    auth-str: ${hy}`,
      'proxy-providers:',
      '  airport:',
      '    type: http',
      `    url: https://sub.example.com/api/v1/client/subscribe?token=${sub}`,
      'proxy-groups:',
      '  - {name: PROXY, type: select, proxies: [reality, hy]}',
      'rules:',
      '  - MATCH,PROXY',
      '',
    ].join('\n')
    await plant('/opt/mihomo/config.yaml', mihomo, 0o644)

    // Redis' inline protocol written for nc; an application's log that does not say Redis; pam_unix with `audit`.
    const warm = secret("Redis AUTH in a script's inline protocol to nc", v('warm', 20))
    await plant('/usr/local/bin/cache-warm', `#!/bin/sh\nprintf 'AUTH ${warm}\\r\\nDBSIZE\\r\\n' | nc -q1 cache.internal 7000\n`, 0o755)
    const logged = secret("Redis AUTH default in an application's log", v('logged', 22))
    const typed = secret("a password typed as the user name, pam_unix audit's user=", `${v('typed', 10)}#4`)
    const syslog = [
      `Dec  5 02:00:00 web shop[1201]: executing command AUTH default ${logged}`,
      `Dec  5 02:01:03 web sshd[2812]: pam_unix(sshd:auth): check pass; user (${typed}) unknown`,
      `Dec  5 02:01:03 web sshd[2812]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=203.0.113.9  user=${typed}`,
      `Dec  5 02:01:05 web sshd[2812]: Failed password for invalid user ${typed} from 203.0.113.9 port 52114 ssh2`,
      'Dec  5 02:01:12 web sshd[2815]: Accepted password for alice from 203.0.113.9 port 52120 ssh2',
      'Dec  5 02:02:00 web sshd[2901]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=198.51.100.4  user=alice',
      '',
    ].join('\n')
    await plant('/var/log/syslog', syslog, 0o640, [0, 4])

    await root.snapshotInit()
  })
  after(async () => {
    await root?.cleanup()
  })

  it('keeps every planted value out of every object, ref and the config of the twin, and out of the output', async () => {
    const { planted } = root
    assert.equal(planted.length, 10)
    const entryOf = await root.assertHeldOut(HELD)
    for (const path of ['/etc/systemd/system/restic-b2.service', '/etc/systemd/system/restic-nas.service', '/etc/cron.d/borg', '/usr/local/sbin/offsite', '/etc/restic/excludes']) assert.equal(entryOf(path)?.content, 'mirrored', path)
    // The log tail keeps what happened: the attempt, from where, the login after it, alice's own failure.
    const syslog = await root.committed('system/logs/syslog.txt')
    assert.match(syslog, /authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=203\.0\.113\.9 {2}user=<redacted>/)
    assert.match(syslog, /rhost=198\.51\.100\.4 {2}user=alice/)
    assert.match(syslog, /executing command AUTH <redacted>/)
    await root.assertNoneLeaked()
  })

  it('finds in every planted file what it finds with every rule run on every whole text', async () => {
    const findings = await assertPrefiltersFindTheSame(root.plantedTexts)
    assert.ok(findings > 0)
  })
})
