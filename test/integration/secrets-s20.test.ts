import { strict as assert } from 'node:assert'
import { makeTempDir, removeTree, ROOTFS_BUILD_TIMEOUT_MS, chrootOk, runOk } from '../bed/index.js'
import { fakeChars } from '../fixtures/secrets/samples.js'
import { assertPrefiltersFindTheSame } from '../support/prefilter-check.js'
import { PlantedRoot } from '../support/planted-root.js'

const v = (seed: string, n = 20): string => fakeChars(`s20-${seed}`, n)
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
/** A WireGuard key as `wg genkey` prints it: 32 bytes in base64. */
const wgKey = (seed: string): string => `${fakeChars(`s20-${seed}`, 42, B64)}${'AEIMQUYcgkosw048'[seed.length % 16]}=`

/**
 * Session 20: the shapes session 19 left known to be missed (chpasswd's here-documents, `wg set …
 * private-key <(echo …)`, systemd's SetCredentialEncrypted=), and an attacker's walk through a
 * real Debian 13 server's twin: the places administrators really put credentials, in the formats
 * the tools read, each in the provider that carries it (files, cron, systemd, autostart, logs).
 * Command lines go in crontabs and rc.local, one a line: the cron and autostart providers redact
 * value by value, so each line is a test of its own (the files provider keeps a file out whole at
 * its first finding). None may be in any object, ref or config of the twin, nor in anything printed.
 */
describe('secrets on the server root, session 20: here-documents, process substitutions, systemd credentials, and where administrators keep credentials', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  let root: PlantedRoot
  let keys: string

  before(async () => {
    root = await PlantedRoot.create({ include: ['/etc', '/usr/local/bin', '/usr/local/sbin', '~/.offlineimaprc', '~/.mbsyncrc', '~/.my.cnf', '~/.git-credentials', '~/.aws', '~/.kube', '~/.docker'] })
    const { secret, plant, rootfs } = root
    keys = await makeTempDir('s20-keys')

    // The known misses. chpasswd's here-documents in a provisioning script and in rc.local; in
    // cron, a here-string (`<<<`, SHELL=/bin/bash) and cron's own `%` (what follows the first `%`
    // is the command's input).
    const heredoc = secret('script chpasswd <<EOF', v('heredoc', 16))
    const heredoc2 = secret('script chpasswd <<EOF, second line', v('heredoc2', 16))
    await plant('/usr/local/sbin/provision', `#!/bin/sh\nset -e\nchpasswd <<EOF\nops:${heredoc}\ndeploy:${heredoc2}\nEOF\n`, 0o755)
    const indented = secret("script chpasswd <<-'END' (indented)", v('indented', 16))
    await plant('/usr/local/sbin/kiosk-reset', `#!/bin/bash\nif true; then\n\tchpasswd <<-'END'\n\tkiosk:${indented}\n\tEND\nfi\n`, 0o755)
    const rcHeredoc = secret('rc.local chpasswd <<END', v('rcheredoc', 16))
    const wgPriv = secret('rc.local wg set private-key <(echo …)', wgKey('wgpriv'))
    const wgPsk = secret('rc.local wg set … preshared-key <(echo "…")', wgKey('wgpsk'))
    await plant(
      '/etc/rc.local',
      `#!/bin/bash\nchpasswd <<END\nguest:${rcHeredoc}\nEND\nip link add wg0 type wireguard\nwg set wg0 listen-port 51820 private-key <(echo ${wgPriv})\nwg set wg0 peer ${wgKey('wgpub')} preshared-key <(echo "${wgPsk}") endpoint 203.0.113.7:51820 allowed-ips 10.9.0.0/24\nip link set wg0 up\nexit 0\n`,
      0o755,
    )
    const hereString = secret('cron.d chpasswd <<< "user:password"', v('herestring', 16))
    const cronPercent = secret("cron.d chpasswd%user:password% (cron's standard input)", v('percent', 16))
    await plant('/etc/cron.d/rotate-passwords', `SHELL=/bin/bash\n0 4 1 * * root chpasswd <<< "svc:${hereString}"\n0 5 1 * * root /usr/sbin/chpasswd%backup:${cronPercent}%\n`)
    // systemd's credentials: SetCredential='s plain value, SetCredentialEncrypted='s blob as
    // `systemd-creds encrypt --pretty` prints it (continued lines), and one on a line; LoadCredential= names a path.
    const setCred = secret('unit SetCredential=name:value', v('setcred', 16))
    const encBlob = `k6iUCUh0RJCQyvL8k8q1UyAAAAABAAAADAAAABAAAAB${fakeChars('s20-enc1', 28, B64)}`
    const enc = secret('unit SetCredentialEncrypted= (--pretty, continued)', encBlob)
    const enc2 = secret('unit SetCredentialEncrypted= continuation line', fakeChars('s20-enc2', 64, B64))
    const enc3 = secret('drop-in SetCredentialEncrypted= on one line', `k6iUCUh0RJCQyvL8k8q1UyAAAAABAAAADAAAABAAAAB${fakeChars('s20-enc3', 60, B64)}==`)
    const wgUnit = secret("unit ExecStartPre=bash -c 'wg set … private-key <(echo …)'", wgKey('wgunit'))
    // Each in a file of its own: the files provider keeps a file out whole at its first finding.
    await plant(
      '/etc/systemd/system/app-db.service',
      `[Unit]\nDescription=App with credentials\n\n[Service]\nSetCredentialEncrypted=api-token: \\\n        ${enc} \\\n        ${enc2} \\\n        ${fakeChars('s20-enc2b', 40, B64)}==\nLoadCredential=tls-key:/etc/ssl/private/app.key\nLoadCredentialEncrypted=smtp:/etc/credstore.encrypted/smtp\nExecStart=/usr/local/bin/app\n\n[Install]\nWantedBy=multi-user.target\n`,
    )
    await plant('/etc/systemd/system/app-db.service.d/token.conf', `[Service]\nSetCredentialEncrypted=extra:${enc3}\n`)
    await plant('/etc/systemd/system/app-db.service.d/plain.conf', `[Service]\nSetCredential=db-password:${setCred}\n`)
    await plant(
      '/etc/systemd/system/wg-up.service',
      `[Unit]\nDescription=WireGuard by hand\n\n[Service]\nType=oneshot\nExecStartPre=/bin/bash -c 'wg set wg1 private-key <(echo ${wgUnit})'\nExecStart=/usr/sbin/ip link set wg1 up\n\n[Install]\nWantedBy=multi-user.target\n`,
    )
    for (const unit of ['app-db.service', 'wg-up.service']) await runOk(['systemctl', `--root=${rootfs.dir}`, 'enable', unit])

    // The walk: command lines in root's crontab, one kind a line (the cron provider redacts value by value).
    const mariadbDump = secret('crontab mariadb-dump -p…', v('mariadbdump', 16))
    const mariadb = secret('crontab mariadb -p"…"', v('mariadb', 16))
    const opensslPasswd = secret("crontab useradd -p \"$(openssl passwd -6 '…')\"", v('opensslpw', 16))
    const kinit = secret('crontab echo … | kinit', v('kinit', 16))
    const gpgFd = secret('crontab echo … | gpg --passphrase-fd 0', v('gpgfd', 16))
    const smbpasswd = secret("crontab printf '…\\n…\\n' | smbpasswd -s -a", v('smbpasswd', 16))
    const cryptsetup = secret('crontab echo -n … | cryptsetup open … -d -', v('cryptsetup', 16))
    const pcs = secret('crontab pcs host auth … -p', v('pcs', 16))
    const borg = secret("crontab BORG_PASSPHRASE='…' borg create", v('borg', 16))
    const restic = secret('crontab export RESTIC_PASSWORD="…"; restic', v('restic', 16))
    const crontab = [
      'SHELL=/bin/bash',
      `0 1 * * * mariadb-dump -u root -p${mariadbDump} --all-databases > /var/backups/all.sql`,
      `0 2 * * * mariadb -u root -p"${mariadb}" -e 'FLUSH LOGS'`,
      `@reboot id deploy || useradd -m -p "$(openssl passwd -6 '${opensslPasswd}')" deploy`,
      `0 3 * * * echo '${kinit}' | kinit svc-backup@EXAMPLE.ORG && /usr/local/bin/sync-ad`,
      `0 4 * * * echo ${gpgFd} | gpg --batch --yes --passphrase-fd 0 -c /var/backups/all.sql`,
      `@reboot printf '${smbpasswd}\\n${smbpasswd}\\n' | smbpasswd -s -a scanner`,
      `@reboot echo -n '${cryptsetup}' | cryptsetup open /dev/disk/by-label/data data -d -`,
      `@reboot pcs host auth node1 node2 -u hacluster -p ${pcs}`,
      `0 5 * * * BORG_PASSPHRASE='${borg}' borg create ssh://backup@nas/./srv::{now} /etc /srv`,
      `0 6 * * * export RESTIC_PASSWORD="${restic}"; restic -r sftp:backup@nas:/srv/restic backup /etc`,
      '',
    ].join('\n')
    root.plantedTexts.push(['/var/spool/cron/crontabs/root', crontab])
    await chrootOk(rootfs.dir, 'crontab', ['-u', 'root', '-'], { input: crontab })

    // Files administrators write, in the modes they write them.
    const hostapdPsk = secret('hostapd wpa_psk_file', v('hostapdpsk', 16))
    await plant('/etc/hostapd/hostapd.conf', 'interface=wlan0\nssid=office\nwpa=2\nwpa_key_mgmt=WPA-PSK\nwpa_psk_file=/etc/hostapd/hostapd.wpa_psk\n', 0o600)
    await plant('/etc/hostapd/hostapd.wpa_psk', `00:00:00:00:00:00 ${hostapdPsk}\n`, 0o600)
    const eapUser = secret('hostapd eap_user password', v('eapuser', 16))
    await plant('/etc/hostapd/hostapd.eap_user', `* PEAP\n"bob" MSCHAPV2 "${eapUser}" [2]\n`, 0o600)
    const pap = secret('ppp pap-secrets', v('pap', 16))
    await plant('/etc/ppp/pap-secrets', `# Secrets for authentication using PAP\n"dsl-user@isp" * "${pap}"\n`, 0o600)
    const nullmailer = secret('nullmailer remotes --pass=', v('nullmailer', 16))
    await plant('/etc/nullmailer/remotes', `smtp.example.org smtp --port=587 --starttls --user=relay@example.org --pass=${nullmailer}\n`, 0o600)
    const ddclient = secret('ddclient.conf password=', v('ddclient', 16))
    await plant('/etc/ddclient.conf', `daemon=300\nuse=web\nprotocol=cloudflare\nzone=example.org\nlogin=token\npassword='${ddclient}'\nhome.example.org\n`, 0o600)
    const debianCnf = secret('mysql debian.cnf password', v('debiancnf', 16))
    await plant('/etc/mysql/debian.cnf', `# Automatically generated for Debian scripts. DO NOT TOUCH!\n[client]\nhost     = localhost\nuser     = debian-sys-maint\npassword = ${debianCnf}\nsocket   = /var/run/mysqld/mysqld.sock\n`, 0o600)
    const borgEnv = secret('borg env file BORG_PASSPHRASE=', v('borgenv', 16))
    await plant('/etc/borgmatic/env', `BORG_PASSPHRASE=${borgEnv}\n`, 0o600)
    const resticEnv = secret('restic env file RESTIC_PASSWORD=', v('resticenv', 16))
    await plant('/etc/restic/backup.env', `RESTIC_REPOSITORY=sftp:backup@nas:/srv/restic\nRESTIC_PASSWORD=${resticEnv}\n`, 0o600)
    const offlineimap = secret('~/.offlineimaprc remotepass', v('offlineimap', 16))
    await plant('/root/.offlineimaprc', `[general]\naccounts = work\n\n[Repository work-remote]\ntype = IMAP\nremotehost = imap.example.org\nremoteuser = bob\nremotepass = ${offlineimap}\n`, 0o600)
    const mbsync = secret('~/.mbsyncrc Pass', v('mbsync', 16))
    await plant('/root/.mbsyncrc', `IMAPAccount work\nHost imap.example.org\nUser bob\nPass ${mbsync}\nSSLType IMAPS\n`, 0o600)
    const myCnf = secret('~/.my.cnf password', v('mycnf', 16))
    await plant('/root/.my.cnf', `[client]\nuser=root\npassword="${myCnf}"\n`, 0o600)
    const gitCred = secret('~/.git-credentials', v('gitcred', 16))
    await plant('/root/.git-credentials', `https://deploy:${gitCred}@git.example.org\n`, 0o600)
    const aws = secret('~/.aws/credentials', fakeChars('s20-aws', 40, B64))
    await plant('/root/.aws/credentials', `[default]\naws_access_key_id = AKIA${fakeChars('s20-awsid', 16, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567')}\naws_secret_access_key = ${aws}\n`, 0o600)
    const kube = secret('~/.kube/config token', `${v('kube', 40)}`)
    await plant('/root/.kube/config', `apiVersion: v1\nkind: Config\nusers:\n- name: ops\n  user:\n    token: ${kube}\n`, 0o600)
    const dockerAuth = secret('~/.docker/config.json auths', Buffer.from(`ops:${v('docker', 16)}`).toString('base64'))
    await plant('/root/.docker/config.json', `{\n\t"auths": {\n\t\t"registry.example.org": {\n\t\t\t"auth": "${dockerAuth}"\n\t\t}\n\t}\n}\n`, 0o600)

    // The syslog: an SMTP AUTH PLAIN as postfix's debug_peer_list logs it, a Bearer token.
    const authPlain = secret('syslog postfix debug AUTH PLAIN', Buffer.from(`\0relay@example.org\0${v('authplain', 16)}`).toString('base64'))
    const bearer = secret('syslog Authorization: Bearer', v('bearer', 32))
    await plant(
      '/var/log/syslog',
      `2026-12-02T10:00:00.000000+00:00 srv postfix/smtpd[811]: < mail.example.org[203.0.113.5]: AUTH PLAIN ${authPlain}\n` +
        `2026-12-02T10:00:01.000000+00:00 srv api[412]: upstream request failed: Authorization: Bearer ${bearer}\n`,
      0o640,
    )

    await root.snapshotInit()
  })
  after(async () => {
    await root?.cleanup()
    if (keys !== undefined) await removeTree(keys)
  })

  it('keeps every planted value out of every object, ref and the config of the twin, and out of the output', async () => {
    await root.assertNoneLeaked()
    assert.equal(root.planted.length, 40)
  })

  it('keeps the lines readable where a provider redacts value by value', async () => {
    const crontab = (await runOk(['git', '-C', root.cli.twinDir, 'show', 'HEAD:filesystem/var/spool/cron/crontabs/root'])).stdout
    assert.match(crontab, /^0 1 \* \* \* mariadb-dump -u root -p<redacted> --all-databases/m)
    assert.match(crontab, /^0 3 \* \* \* echo '<redacted>' \| kinit svc-backup@EXAMPLE\.ORG/m)
    const startup = await root.twinsync(['startup'])
    assert.equal(startup.code, 0, startup.stderr)
    assert.deepEqual(root.leaked(startup.stdout + startup.stderr), [])
  })

  it("finds in every planted text what it finds with every rule run on every whole text (the new rules' prefilters skip nothing they keep)", async () => {
    const findings = await assertPrefiltersFindTheSame(root.plantedTexts)
    assert.ok(findings >= root.plantedTexts.length, `${findings} findings in ${root.plantedTexts.length} planted texts`)
  })
})
