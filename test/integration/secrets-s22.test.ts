import { strict as assert } from 'node:assert'
import { readFile, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { chrootOk, ROOTFS_BUILD_TIMEOUT_MS, runOk } from '../bed/index.js'
import { fakeChars } from '../fixtures/secrets/samples.js'
import { assertPrefiltersFindTheSame } from '../support/prefilter-check.js'
import { PlantedRoot } from '../support/planted-root.js'

const v = (seed: string, n = 16): string => fakeChars(`s22-${seed}`, n)
const hex = (seed: string, n: number): string => fakeChars(`s22-${seed}`, n, '0123456789abcdef')

/** TwinSync's application id for machine-id(5)'s keyed hash (core/src/twin/machine-match.ts). */
const TWINSYNC_APP_ID = '0ad0d576dc854d76b5ab6b2fdfa6c74c'

/**
 * Session 22: what session 21 left, planted on the services root as an administrator would: an
 * `expect` script's multi-pattern block (`"Password:" { send "…" }`), vsftpd's virtual users
 * through a PAM service file that is a link out of /etc/pam.d and pam_pwdfile's older `pwdfile
 * PATH`, vsftpd's own list of anonymous passwords, Cyrus SASL's sasldb2 and an Elasticsearch
 * keystore (binary credential stores), the machine id; and the places the brief names (a
 * postgres .pgpass, pg_hba's md5 lines, a sudoers rule with a password in its command, a unit's
 * Environment=, cron lines with a token, a postfix password map named through
 * `$config_directory`). None may be in any object, ref or config of the twin, nor in anything
 * printed; a snapshot of the root with another machine id is refused, and no plan writes it.
 */
describe('secrets on the server root, session 22: expect blocks, vsftpd through PAM, binary credential stores, the machine id', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  let root: PlantedRoot
  const machineId = hex('machine', 32)

  before(async () => {
    root = await PlantedRoot.create({ include: ['/etc', '/usr/local/bin', '/var/lib/postgresql/.pgpass', '/var/lib/dbus'] })
    const { secret, plant, rootfs } = root

    // The machine id: confidential (machine-id(5)); /var/lib/dbus/machine-id as dbus's own copy.
    secret('/etc/machine-id', machineId)
    await plant('/etc/machine-id', `${machineId}\n`, 0o444)
    await plant('/var/lib/dbus/machine-id', `${machineId}\n`, 0o444)

    // expect: a block of patterns, the password's action on the pattern's line and on the next.
    const block = secret('expect { "Password:" { send "…\\r" } }', v('expblock'))
    const nested = secret('expect { -re "(?i)password" {\\n send -- "…" } }', v('expnested'))
    await plant(
      '/usr/local/bin/router-backup',
      `#!/usr/bin/expect -f\nset timeout 30\nspawn ssh admin@10.0.0.1\nexpect {\n  "yes/no" { send "yes\\r"; exp_continue }\n  "Password:" { send "${block}\\r" }\n}\nexpect "#"\nsend "enable\\r"\nexpect {\n  -re "(?i)password" {\n    send -- "${nested}"\n    send "\\r"\n  }\n  timeout { exit 1 }\n}\nexpect eof\n`,
      0o755,
    )

    // And in rc.local, which the autostart provider redacts value by value (a file of the files
    // provider with any finding is held out whole): an expect here-document.
    const rc = secret('rc.local expect <<EOF { "assword:" { send "…\\r" } }', v('exprc'))
    await plant('/etc/rc.local', `#!/bin/sh -e\n/usr/bin/expect <<'EOF'\nspawn /usr/bin/ssh -fN -R 2222:localhost:22 tunnel@bastion.example.org\nexpect {\n  "assword:" { send "${rc}\\r" }\n}\nexpect eof\nEOF\nexit 0\n`, 0o755)

    // vsftpd's virtual users: its PAM service is a link to a file kept with vsftpd's own, whose
    // pam_userdb reads /etc/vsftpd/accounts.db (the text it was made from beside it); a second
    // service with pam_pwdfile's older `pwdfile PATH`; and anonymous logins' passwords.
    await plant('/etc/vsftpd.conf', 'listen=YES\nanonymous_enable=YES\nsecure_email_list_enable=YES\nemail_password_file=/etc/vsftpd/anon.list\nlocal_enable=YES\nguest_enable=YES\npam_service_name=ftp-virtual\nuser_config_dir=/etc/vsftpd/users\n')
    await plant('/etc/vsftpd/pam/ftp-virtual', '#%PAM-1.0\nauth     required pam_userdb.so crypt=none db=/etc/vsftpd/accounts\naccount  required pam_userdb.so crypt=none db=/etc/vsftpd/accounts\n')
    await symlink('/etc/vsftpd/pam/ftp-virtual', join(rootfs.dir, 'etc/pam.d/ftp-virtual'))
    const account = secret('vsftpd accounts.txt through a PAM link', v('accounts'))
    await plant('/etc/vsftpd/accounts.txt', `uploader\n${account}\n`, 0o644)
    await plant('/etc/vsftpd/users/uploader', 'local_root=/srv/ftp/uploader\nwrite_enable=YES\n')
    await plant('/etc/pam.d/ftp-pwdfile', '#%PAM-1.0\nauth    required pam_pwdfile.so pwdfile /etc/vsftpd/ftpd.passwd\naccount required pam_permit.so\n')
    const des = secret("pam_pwdfile's `pwdfile PATH` file (a DES crypt hash)", `Qx${v('des', 11).replace(/[^A-Za-z0-9]/g, '.')}`)
    await plant('/etc/vsftpd/ftpd.passwd', `scanner:${des}\n`, 0o644)
    const anon = secret("vsftpd's email_password_file", `${v('anon', 12)}@example.org`)
    await plant('/etc/vsftpd/anon.list', `${anon}\n`, 0o644)

    // Binary credential stores: Cyrus SASL's Berkeley DB (`user\0realm\0userPassword` keys) and
    // an Elasticsearch keystore (Lucene's codec header, then its AES-GCM data).
    const sasl = secret('/etc/sasldb2 password', v('sasldb'))
    const bdb = Buffer.alloc(8192)
    bdb.writeUInt32LE(0x00061561, 12)
    bdb.write(`relay\0mail.example.org\0userPassword\0${sasl}\0`, 4096, 'latin1')
    await plant('/etc/sasldb2', bdb, 0o640, [0, 8])
    const keystore = secret('elasticsearch.keystore data', v('keystore', 24))
    await plant('/etc/elasticsearch/elasticsearch.keystore', Buffer.concat([Buffer.from([0x3f, 0xd7, 0x6c, 0x17]), Buffer.from('\0\0\0\x16elasticsearch.keystore\0\0\0\x04\0\0\0\0\0\0\x01\x20', 'latin1'), Buffer.from(keystore, 'latin1'), Buffer.alloc(64)]), 0o660, [0, 0])

    // The brief's places: postgres's .pgpass, pg_hba's md5 lines, sudoers, a unit, cron, postfix.
    const pgpass = secret("postgres's ~/.pgpass", v('pgpass'))
    await plant('/var/lib/postgresql/.pgpass', `10.0.0.5:5432:replication:replicator:${pgpass}\n`, 0o600, null)
    await plant('/etc/postgresql/17/main/pg_hba.conf', 'local   all   postgres   peer\nhost    all   all   10.0.0.0/8   md5\nhost    replication replicator 10.0.0.6/32 scram-sha-256\n', 0o640, null)
    const sudo = secret('sudoers command with a password', v('sudoers'))
    await plant('/etc/sudoers.d/backup', `Cmnd_Alias DUMP = /usr/bin/mysqldump -u root -p${sudo} --all-databases\nbackup ALL=(root) NOPASSWD: DUMP\n`, 0o440)
    const unit = secret('unit Environment=…PASSWORD…', v('unitpw'))
    await plant('/etc/systemd/system/ingest.service', `[Unit]\nDescription=Ingest\n\n[Service]\nEnvironment="INGEST_DB_PASSWORD=${unit}"\nExecStart=/usr/local/bin/ingest\n\n[Install]\nWantedBy=multi-user.target\n`)
    await runOk(['systemctl', `--root=${rootfs.dir}`, 'enable', 'ingest.service'])
    const cronToken = secret('cron.d curl bearer token', v('crontoken', 32))
    await plant('/etc/cron.d/report', `*/10 * * * * root curl -fsS -H "Authorization: Bearer ${cronToken}" https://api.example.org/report >/dev/null\n`)
    const crontab = secret('crontab --token=', v('crontab', 32))
    await chrootOk(rootfs.dir, 'crontab', ['-u', 'root', '-'], { input: `0 4 * * * /usr/local/bin/sync --token=${crontab}\n` })
    const relay = secret('postfix map named as ${config_directory}/…', v('relay'))
    const mainCf = await readFile(join(rootfs.dir, 'etc/postfix/main.cf'), 'utf8')
    await writeFile(join(rootfs.dir, 'etc/postfix/main.cf'), `${mainCf}\nsmtp_sasl_auth_enable = yes\nsmtp_sasl_password_maps = hash:\${config_directory}/relay_creds\n`)
    // World-readable, a bare `host user:password` line: only the map's name says what it is.
    await plant('/etc/postfix/relay_creds', `smtp.example.org relay:${relay}\n`, 0o644)
    await chrootOk(rootfs.dir, 'postmap', ['/etc/postfix/relay_creds'])

    await root.snapshotInit()
  })
  after(async () => {
    await root?.cleanup()
  })

  it('keeps every planted value out of every object, ref and the config of the twin, and out of the output', async () => {
    assert.equal(root.planted.length, 15)
    await root.assertNoneLeaked()
  })

  it('holds the binary credential stores and the machine id out as secrets (metadata kept), says so, and keeps machine-id(5)\'s keyed hash in twin.json', async () => {
    const git = async (...args: string[]) => (await runOk(['git', '-C', root.cli.twinDir, ...args])).stdout
    const manifest = JSON.parse(await git('show', 'HEAD:system/files/manifest.json')) as { entries: Array<{ path: string; secret?: boolean; secretReason?: string; mode?: string }> }
    const entry = (path: string) => manifest.entries.find((e) => e.path === path)
    for (const path of ['/etc/sasldb2', '/etc/elasticsearch/elasticsearch.keystore', '/etc/machine-id', '/var/lib/dbus/machine-id', '/etc/vsftpd/accounts.txt', '/etc/vsftpd/ftpd.passwd', '/etc/vsftpd/anon.list', '/etc/postfix/relay_creds', '/etc/postfix/relay_creds.db']) {
      assert.equal(entry(path)?.secret, true, path)
    }
    assert.notEqual(entry('/etc/vsftpd/users/uploader')?.secret, true, "a per-user config holds no credential")
    const info = JSON.parse(await git('show', 'HEAD:twin.json')) as Record<string, unknown>
    // The same id `systemd-id128 machine-id --app-specific=…` prints on that machine.
    const appSpecific = (await chrootOk(root.rootfs.dir, 'systemd-id128', ['machine-id', `--app-specific=${TWINSYNC_APP_ID}`])).stdout.trim()
    assert.equal(info.machine, appSpecific)
    assert.equal(info.machineId, undefined)
  })

  it("refuses a snapshot of the root once it has another machine id, and after `init --claim` plans nothing that writes the twin's machine id", async () => {
    await writeFile(join(root.rootfs.dir, 'etc/machine-id'), `${hex('other', 32)}\n`)
    const refused = await root.twinsync(['snapshot', '--json'])
    assert.equal(refused.code, 2, refused.stdout + refused.stderr)
    assert.match(refused.stdout + refused.stderr, /TWIN_OTHER_MACHINE/)
    const claim = await root.twinsync(['init', '--claim'])
    assert.equal(claim.code, 0, claim.stdout + claim.stderr)
    const plan = await root.twinsync(['plan', '--json'])
    assert.equal(plan.code, 0, plan.stdout + plan.stderr)
    const changes = (JSON.parse(plan.stdout) as { changes: Array<{ resource: string }> }).changes
    assert.deepEqual(changes.filter((c) => c.resource.includes('machine-id')), [])
    await root.assertNoneLeaked()
  })

  it("finds in every planted text what it finds with every rule run on every whole text (the new rules' prefilters skip nothing they keep)", async () => {
    const findings = await assertPrefiltersFindTheSame(root.plantedTexts)
    assert.ok(findings >= 4, `${findings} findings in ${root.plantedTexts.length} planted texts`)
  })
})
