import { strict as assert } from 'node:assert'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { chrootOk, makeTempDir, removeTree, ROOTFS_BUILD_TIMEOUT_MS, runOk } from '../bed/index.js'
import { fakeChars } from '../fixtures/secrets/samples.js'
import { assertPrefiltersFindTheSame } from '../support/prefilter-check.js'
import { PlantedRoot } from '../support/planted-root.js'

const v = (seed: string, n = 16): string => fakeChars(`s21-${seed}`, n)

/**
 * Session 21: credential files another service's config names under a name of the
 * administrator's choosing (vsftpd's virtual users through PAM's pam_userdb, MongoDB's keyFile,
 * hostapd's wpa_psk_file and eap_user_file), passwords an `expect` script sends, `passwd`'s
 * here-documents and piped input, a JSON string inside a JSON string, and what a walk through
 * more places found (lighttpd's plain userfile, xl2tpd, pam_radius, proxychains, duply, a CIFS
 * `username=user%password`, ~/.curlrc, Subversion's saved passwords); each planted on the
 * services root as an administrator would, in the provider that carries it (files, cron,
 * autostart). None may be in any object, ref or config of the twin, nor in anything printed. And a
 * unit whose `SetCredential=NAME:` sets an empty credential is mirrored, not held out as a secret.
 */
describe('secrets on the server root, session 21: files other configs name, expect, passwd, JSON in JSON', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  let root: PlantedRoot
  let keys: string

  before(async () => {
    root = await PlantedRoot.create({ include: ['/etc', '/usr/local/bin', '/usr/local/sbin', '~/.curlrc', '~/.subversion'] })
    const { secret, plant, rootfs } = root
    keys = await makeTempDir('s21-keys')

    // vsftpd's virtual users (its guides' way): a PAM service whose pam_userdb reads
    // /etc/vsftpd/virtual_users.db, made by `db_load -T -t hash -f virtual_users.txt …` from a text
    // of user and password lines kept beside it (the administrator's umask: readable by all).
    await plant('/etc/vsftpd.conf', 'listen=YES\nanonymous_enable=NO\nlocal_enable=YES\nguest_enable=YES\nguest_username=ftp\nvirtual_use_local_privs=YES\npam_service_name=vsftpd.virtual\nuser_sub_token=$USER\nlocal_root=/srv/ftp/$USER\n')
    await plant('/etc/pam.d/vsftpd.virtual', '#%PAM-1.0\nauth       required     pam_userdb.so db=/etc/vsftpd/virtual_users\naccount    required     pam_userdb.so db=/etc/vsftpd/virtual_users\nsession    required     pam_loginuid.so\n')
    const ftp1 = secret('vsftpd virtual_users.txt, first password', v('ftp1'))
    const ftp2 = secret('vsftpd virtual_users.txt, second password', v('ftp2'))
    await plant('/etc/vsftpd/virtual_users.txt', `scanner\n${ftp1}\nwebsite\n${ftp2}\n`, 0o644)

    // MongoDB's replica set key, as its guide makes it (`openssl rand -base64 756`), owned by mongodb.
    await runOk(['openssl', 'rand', '-base64', '-out', join(keys, 'rs0.key'), '756'])
    const keyFile = await readFile(join(keys, 'rs0.key'), 'utf8')
    secret('MongoDB keyFile (a line of it)', keyFile.split('\n')[6] as string)
    await plant('/etc/mongod.conf', 'storage:\n  dbPath: /var/lib/mongodb\nnet:\n  port: 27017\n  bindIp: 127.0.0.1\nreplication:\n  replSetName: rs0\nsecurity:\n  authorization: enabled\n  keyFile: /etc/mongodb/rs0.key\n')
    await plant('/etc/mongodb/rs0.key', keyFile, 0o400, [999, 999])

    // hostapd's station passphrases and EAP users, under names its example does not give them.
    await plant('/etc/hostapd/office.conf', 'interface=wlan1\nssid=office-guests\nwpa=2\nwpa_key_mgmt=WPA-PSK WPA-EAP\nwpa_psk_file=/etc/hostapd/stations\nieee8021x=1\neap_server=1\neap_user_file=radius-users\n', 0o600)
    const station = secret('hostapd wpa_psk_file of another name', v('station'))
    await plant('/etc/hostapd/stations', `# printers\n02:00:00:00:03:01 ${station}\n`, 0o600)
    const eap = secret('hostapd eap_user_file of another name (relative)', v('eap'))
    await plant('/etc/hostapd/radius-users', `"carol" PEAP\n"carol" MSCHAPV2 "${eap}" [2]\n`, 0o600)

    // expect scripts: `send` after a password prompt, on the next line and in the prompt's braces.
    const expectSsh = secret('expect script send "…\\r" after expect "password:"', v('expectssh'))
    await plant('/usr/local/sbin/switch-backup', `#!/usr/bin/expect -f\nset timeout 20\nspawn ssh admin@10.0.0.2 "show running-config"\nexpect "password:"\nsend "${expectSsh}\\r"\nexpect eof\n`, 0o755)
    const expectBrace = secret('expect script expect "assword" { send -- "…\\r" }', v('expectbrace'))
    await plant('/usr/local/bin/ftp-push.exp', `#!/usr/bin/expect\nspawn ftp ftp.example.org\nexpect "Name*:" { send "backup\\r" }\nexpect "Password:" { send -- "${expectBrace}\\r" }\nexpect "ftp>" { send "put /var/backups/db.sql.gz\\r" }\nexpect "ftp>" { send "bye\\r" }\n`, 0o755)

    // passwd's here-document in rc.local (the autostart provider redacts value by value: both lines).
    const passwdDoc = secret('rc.local passwd USER <<EOF (both lines)', v('passwddoc'))
    await plant('/etc/rc.local', `#!/bin/sh -e\nid kiosk >/dev/null 2>&1 || useradd -m kiosk\npasswd kiosk <<EOF\n${passwdDoc}\n${passwdDoc}\nEOF\nexit 0\n`, 0o755)

    // Root's crontab: a password piped to passwd, and a JSON body in a shell command (the cron
    // provider's JSON escapes its escaped quotes again).
    const piped = secret('crontab echo -e "p\\np" | passwd USER', v('piped'))
    const jsonBody = secret('crontab curl -d "{\\"password\\":\\"…\\"}"', v('jsonbody'))
    const crontab = [
      'SHELL=/bin/bash',
      `@reboot echo -e "${piped}\\n${piped}" | passwd kiosk`,
      `*/30 * * * * curl -fsS -H 'Content-Type: application/json' -d "{\\"user\\":\\"ops\\",\\"password\\":\\"${jsonBody}\\"}" https://api.example.org/login -o /run/api.session`,
      '',
    ].join('\n')
    root.plantedTexts.push(['/var/spool/cron/crontabs/root', crontab])
    await chrootOk(rootfs.dir, 'crontab', ['-u', 'root', '-'], { input: crontab })

    // A JSON string inside a JSON string, in a file: the task's body is escaped twice.
    const doubly = secret('JSON in JSON \\\\\\"password\\\\\\": \\\\\\"…\\\\\\"', v('doubly'))
    await plant('/etc/myapp/tasks.json', `{\n  "tasks": [\n    { "name": "login", "request": "{\\"url\\": \\"https://api.example.org\\", \\"body\\": \\"{\\\\\\"password\\\\\\": \\\\\\"${doubly}\\\\\\"}\\"}" }\n  ]\n}\n`)

    // The walk through more places administrators keep credentials (the rest were covered already).
    const lighttpd = secret("lighttpd's plain userfile, named by its config", v('lighttpd'))
    await plant('/etc/lighttpd/conf-available/05-auth.conf', 'server.modules += ( "mod_auth" )\nauth.backend = "plain"\nauth.backend.plain.userfile = "/etc/lighttpd/.passwords"\n')
    await plant('/etc/lighttpd/.passwords', `admin:${lighttpd}\n`, 0o640, [0, 33])
    const l2tp = secret('xl2tpd l2tp-secrets', v('l2tp'))
    await plant('/etc/xl2tpd/l2tp-secrets', `# Secrets for authenticating l2tp tunnels\n# us\t\tthem\t\tsecret\n*\t\t*\t\t${l2tp}\n`, 0o600)
    const radius = secret('pam_radius_auth.conf shared secret', v('radius'))
    await plant('/etc/pam_radius_auth.conf', `# server[:port]\tshared_secret\ttimeout (s)\n10.0.0.5\t${radius}\t3\n`, 0o600)
    const proxychains = secret('proxychains4.conf ProxyList password', v('proxychains'))
    await plant('/etc/proxychains4.conf', `strict_chain\nproxy_dns\n[ProxyList]\nsocks5 10.0.0.1 1080 proxyuser ${proxychains}\n`)
    const duply = secret("duply profile's GPG_PW", v('duply'))
    await plant('/etc/duply/etc/conf', `GPG_KEY='disabled'\nGPG_PW='${duply}'\nTARGET='sftp://backup@nas.example.org/srv/duply/etc'\nSOURCE='/etc'\n`, 0o600)
    const cifsUser = secret('fstab cifs username=user%password', v('cifsuser'))
    await plant('/etc/fstab', `UUID=0a1b2c3d / ext4 errors=remount-ro 0 1\n//nas/scans /srv/scans cifs username=scanner%${cifsUser},uid=0,iocharset=utf8 0 0\n`)
    const curlrc = secret('~/.curlrc user = "name:password"', v('curlrc'))
    await plant('/root/.curlrc', `silent\nshow-error\nuser = "ops:${curlrc}"\n`, 0o600)
    const svn = secret("Subversion's saved password (svn.simple)", v('svn'))
    await plant('/root/.subversion/auth/svn.simple/5f1d0f5bd4a3e1f2c7b9a8e6d5c4b3a2', `K 8\npasstype\nV 6\nsimple\nK 8\npassword\nV 16\n${svn}\nK 15\nsvn:realmstring\nV 40\n<https://svn.example.org:443> Subversion\nK 8\nusername\nV 3\nops\nEND\n`, 0o600)

    // A unit that sets an empty credential: no secret in it.
    await plant('/etc/systemd/system/cred-empty.service', '[Unit]\nDescription=Empty credential\n\n[Service]\nSetCredential=feature-flags:\nExecStart=/usr/local/bin/app\n\n[Install]\nWantedBy=multi-user.target\n')
    await runOk(['systemctl', `--root=${rootfs.dir}`, 'enable', 'cred-empty.service'])

    await root.snapshotInit()
  })
  after(async () => {
    await root?.cleanup()
    if (keys !== undefined) await removeTree(keys)
  })

  it('keeps every planted value out of every object, ref and the config of the twin, and out of the output', async () => {
    assert.equal(root.planted.length, 19)
    await root.assertNoneLeaked()
  })

  it('holds the named files out by the config that names them, keeps the redacted lines readable, and mirrors the unit of an empty credential', async () => {
    const git = async (...args: string[]) => (await runOk(['git', '-C', root.cli.twinDir, ...args])).stdout
    const manifest = JSON.parse(await git('show', 'HEAD:system/files/manifest.json')) as { entries: Array<{ path: string; secret?: boolean; secretReason?: string }> }
    const entry = (path: string) => manifest.entries.find((e) => e.path === path)
    for (const path of ['/etc/vsftpd/virtual_users.txt', '/etc/mongodb/rs0.key', '/etc/hostapd/stations', '/etc/hostapd/radius-users', '/etc/lighttpd/.passwords', '/etc/xl2tpd/l2tp-secrets', '/etc/pam_radius_auth.conf']) assert.equal(entry(path)?.secretReason, 'path rule', path)
    const rcLocal = await git('show', 'HEAD:filesystem/etc/rc.local')
    assert.match(rcLocal, /^passwd kiosk <<EOF\n<redacted>\n<redacted>\nEOF$/m)
    const crontab = await git('show', 'HEAD:filesystem/var/spool/cron/crontabs/root')
    assert.match(crontab, /^@reboot echo -e "<redacted>" \| passwd kiosk$/m)
    assert.match(crontab, /\\"password\\":\\"<redacted>\\"/)
    assert.notEqual(entry('/etc/systemd/system/cred-empty.service')?.secret, true)
    assert.match(await git('show', 'HEAD:filesystem/etc/systemd/system/cred-empty.service'), /^SetCredential=feature-flags:$/m)
  })

  it("finds in every planted text what it finds with every rule run on every whole text (the new rules' prefilters skip nothing they keep)", async () => {
    const findings = await assertPrefiltersFindTheSame(root.plantedTexts)
    assert.ok(findings >= 8, `${findings} findings in ${root.plantedTexts.length} planted texts`)
  })
})
