import { strict as assert } from 'node:assert'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { stripVTControlCharacters } from 'node:util'
import { SECRET_RULES_VERSION } from '@twinsync/sdk'
import { bootContainer, chrootOk, makeTempDir, removeTree, ROOTFS_BUILD_TIMEOUT_MS, runOk, type Container } from '../bed/index.js'
import { fakeChars, sessionFourteenPlaces } from '../fixtures/secrets/samples.js'
import { assertPrefiltersFindTheSame } from '../support/prefilter-check.js'
import { everything, leakedFrom, PlantedRoot, type PlantedValue } from '../support/planted-root.js'

const v = (seed: string, n = 20): string => fakeChars(`srv-${seed}`, n)

/**
 * The realistic server root (nginx, postgresql, postfix, ssh, sudo, cron) with secrets planted
 * where administrators really keep them, in the formats the tools really write (keys from openssl
 * and ssh-keygen, hashes from chpasswd, postmap's database). After a snapshot, no value may be in
 * any object, ref or the config of the twin, nor in anything the commands printed.
 */
describe('secrets on the server root: nothing planted where administrators keep secrets reaches the twin', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  let root: PlantedRoot
  let keys: string

  before(async () => {
    root = await PlantedRoot.create({
      include: ['/etc', '/usr/local/bin', '/usr/local/etc', '~/.config', '~/.pgpass', '~/.bashrc', '~/.profile', '~/.my.cnf', '~/.netrc', '~/.git-credentials', '~/.aws', '~/.docker', '~/.kube', '~/.msmtprc', '~/.smbcredentials', '~/users-backup.txt'],
    })
    const { rootfs, secret, plant, plantedTexts } = root
    keys = await makeTempDir('keys')
    /** A line from the middle of a PEM body: the first lines of keys of one kind share their prefix. */
    const pemLine = (pem: string) => {
      const body = pem.split('\n').filter((l) => l !== '' && !l.startsWith('-----'))
      return body[Math.floor(body.length / 2)] as string
    }
    const idOf = async (name: string, file: 'passwd' | 'group') => {
      const line = (await readFile(join(rootfs.dir, 'etc', file), 'utf8')).split('\n').find((l) => l.startsWith(`${name}:`))
      return Number(line?.split(':')[2])
    }
    const postgres = [await idOf('postgres', 'passwd'), await idOf('postgres', 'group')] as [number, number]
    const sslCert = await idOf('ssl-cert', 'group')

    // TLS and SSH keys as the tools write them.
    await runOk(['openssl', 'genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', join(keys, 'rsa.pem')])
    await runOk(['openssl', 'genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', join(keys, 'ec8.pem')])
    await runOk(['openssl', 'ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', join(keys, 'ec.pem')])
    await runOk(['openssl', 'pkey', '-in', join(keys, 'rsa.pem'), '-traditional', '-out', join(keys, 'rsa-trad.pem')])
    await runOk(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'deploy', '-f', join(keys, 'id_ed25519')])
    const rsa8 = await readFile(join(keys, 'rsa.pem'), 'utf8')
    const rsaTrad = await readFile(join(keys, 'rsa-trad.pem'), 'utf8')
    const ec = await readFile(join(keys, 'ec.pem'), 'utf8')
    const ec8 = await readFile(join(keys, 'ec8.pem'), 'utf8')
    const ossh = await readFile(join(keys, 'id_ed25519'), 'utf8')
    await plant('/etc/ssl/private/site.key', rsa8, 0o640, [0, sslCert])
    secret('PKCS8 RSA key in /etc/ssl/private', pemLine(rsa8))
    await plant('/etc/nginx/ssl/api.key', rsaTrad, 0o644)
    secret('PKCS1 RSA key beside nginx (0644)', pemLine(rsaTrad))
    await plant('/etc/nginx/ssl/ec.key', ec, 0o644)
    secret('SEC1 EC key beside nginx (0644)', pemLine(ec))
    await plant('/etc/postgresql/17/main/server.key', ec8, 0o600, postgres)
    secret('PKCS8 EC key of postgresql', pemLine(ec8))
    await plant('/etc/ssh/deploy_ed25519', ossh, 0o600)
    secret('OpenSSH key in /etc/ssh', pemLine(ossh))
    for (const kind of ['rsa', 'ecdsa', 'ed25519']) {
      secret(`SSH host ${kind} key`, pemLine(await readFile(join(rootfs.dir, `etc/ssh/ssh_host_${kind}_key`), 'utf8')))
    }

    // Password hashes as chpasswd writes them (shadow and its backup), gshadow with a group password.
    await chrootOk(rootfs.dir, 'chpasswd', [], { input: `root:${v('rootpw', 16)}\n` })
    await chrootOk(rootfs.dir, 'chpasswd', [], { input: `postgres:${v('pgpw', 16)}\n` })
    const shadow = await readFile(join(rootfs.dir, 'etc/shadow'), 'utf8')
    for (const user of ['root', 'postgres']) secret(`/etc/shadow hash of ${user}`, shadow.split('\n').find((l) => l.startsWith(`${user}:`))!.split(':')[1]!)
    await chrootOk(rootfs.dir, 'chgpasswd', [], { input: `adm:${v('admpw', 16)}\n` })
    const gshadow = await readFile(join(rootfs.dir, 'etc/gshadow'), 'utf8')
    secret('/etc/gshadow hash', gshadow.split('\n').find((l) => l.startsWith('adm:'))!.split(':')[1]!)

    // postfix: an SMTP relay's credentials and postmap's database of them.
    const sasl = secret('postfix sasl_passwd', v('sasl'))
    await plant('/etc/postfix/sasl_passwd', `[smtp.example.org]:587 relay@example.org:${sasl}\n`, 0o600)
    await chrootOk(rootfs.dir, 'postmap', ['/etc/postfix/sasl_passwd'])

    // postgresql: a replica's connection string, a user's .pgpass.
    const repl = secret('primary_conninfo password', v('repl'))
    await plant('/etc/postgresql/17/main/conf.d/replica.conf', `primary_conninfo = 'host=10.0.0.5 port=5432 user=replicator password=${repl} application_name=r1'\n`, 0o644, postgres)
    const pgpass = secret('~/.pgpass', v('pgpass'))
    await plant('/root/.pgpass', `localhost:5432:*:app:${pgpass}\n`, 0o600)

    // nginx: htpasswd files in each scheme nginx reads, and a header with credentials for an upstream.
    const apr1 = (await runOk(['openssl', 'passwd', '-apr1', v('htpw')])).stdout.trim()
    await plant('/etc/nginx/.htpasswd', `admin:${apr1}\n`, 0o640, [0, await idOf('www-data', 'group')])
    secret('htpasswd apr1 hash', apr1)
    const plainPw = secret('htpasswd {PLAIN} password', v('htplain'))
    await plant('/etc/nginx/auth/users', `ops:{PLAIN}${plainPw}\n`, 0o640, [0, await idOf('www-data', 'group')])
    const basic = secret('nginx proxy_set_header Authorization Basic', Buffer.from(`upstream:${v('basic', 16)}`).toString('base64'))
    await plant(
      '/etc/nginx/sites-available/api',
      `server {\n    listen 8081;\n    location / {\n        proxy_pass http://127.0.0.1:9000;\n        proxy_set_header Authorization "Basic ${basic}";\n    }\n}\n`,
    )
    const apiKey = secret('nginx proxy_set_header X-Api-Key', v('xapikey', 32))
    await plant(
      '/etc/nginx/sites-available/metrics',
      `server {\n    listen 8082;\n    location / {\n        proxy_pass https://metrics.example.org;\n        proxy_set_header X-Api-Key ${apiKey};\n    }\n}\n`,
    )

    // Wi-Fi and PPP.
    const nm = secret('NetworkManager psk', v('nmpsk'))
    await plant('/etc/NetworkManager/system-connections/office.nmconnection', `[connection]\nid=office\ntype=wifi\n\n[wifi-security]\nkey-mgmt=wpa-psk\npsk=${nm}\n`, 0o600)
    const wpa = secret('wpa_supplicant psk', v('wpa'))
    await plant('/etc/wpa_supplicant/wpa_supplicant.conf', `ctrl_interface=DIR=/run/wpa_supplicant GROUP=netdev\nnetwork={\n\tssid="office"\n\tpsk="${wpa}"\n}\n`, 0o600)
    const netplan = secret('netplan wifi password', v('netplan'))
    await plant('/etc/netplan/60-wifi.yaml', `network:\n  version: 2\n  wifis:\n    wlan0:\n      dhcp4: true\n      access-points:\n        "office":\n          password: "${netplan}"\n`, 0o600)
    const chap = secret('chap-secrets', v('chap'))
    await plant('/etc/ppp/chap-secrets', `# client\tserver\tsecret\t\t\tIP addresses\n"dsl"\t*\t"${chap}"\t*\n`, 0o600)

    // Mounts.
    const cifs = secret('fstab cifs password=', v('cifs'))
    await plant('/etc/fstab', `UUID=0a1b2c3d / ext4 errors=remount-ro 0 1\n//nas/backup /mnt/backup cifs username=backup,password=${cifs},uid=0,iocharset=utf8 0 0\n`)
    const cifsFile = secret('cifs credentials file', v('cifsfile'))
    await plant('/etc/cifs-credentials', `username=backup\npassword=${cifsFile}\ndomain=WORKGROUP\n`, 0o600)

    // apt, rclone, gh, container registries, .env files.
    const apt = secret('apt auth.conf.d password', v('apt'))
    await plant('/etc/apt/auth.conf.d/private.conf', `machine repo.example.org/debian\nlogin ci\npassword ${apt}\n`, 0o600)
    const rcloneS3 = secret('rclone secret_access_key', fakeChars('srv-rclone', 40, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'))
    const rcloneRefresh = secret('rclone OAuth refresh token', `1//0${v('rclrefresh', 40)}`)
    const rcloneAccess = secret('rclone OAuth access token', `ya29.${v('rclaccess', 60)}`)
    const rclonePass = secret('rclone obscured pass', v('rclpass', 30))
    await plant(
      '/root/.config/rclone/rclone.conf',
      `[s3]\ntype = s3\nprovider = AWS\naccess_key_id = AKIA${fakeChars('srv-rclid', 16, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567')}\nsecret_access_key = ${rcloneS3}\n\n` +
        `[drive]\ntype = drive\nscope = drive\ntoken = {"access_token":"${rcloneAccess}","token_type":"Bearer","refresh_token":"${rcloneRefresh}","expiry":"2026-12-01T07:00:00Z"}\n\n` +
        `[box]\ntype = sftp\nhost = backup.example.org\nuser = backup\npass = ${rclonePass}\n`,
      0o600,
    )
    const gh = secret('gh hosts.yml token', `gh${'o'}_${v('gh', 36)}`)
    await plant('/root/.config/gh/hosts.yml', `github.com:\n    user: ops\n    oauth_token: ${gh}\n    git_protocol: https\n`, 0o600)
    const registry = secret('containers auth.json', Buffer.from(`ops:${v('registry', 16)}`).toString('base64'))
    await plant('/root/.config/containers/auth.json', JSON.stringify({ auths: { 'registry.example.org': { auth: registry } } }, null, '\t') + '\n', 0o600)
    const dbPw = secret('.env DB_PASSWORD', v('envdb'))
    await plant('/usr/local/etc/app/.env', `APP_ENV=production\nDB_HOST=127.0.0.1\nDB_PASSWORD=${dbPw}\n`, 0o640)
    const railsKey = secret('.env SECRET_KEY_BASE', fakeChars('srv-rails', 128, '0123456789abcdef'))
    await plant('/usr/local/etc/rails/.env', `RAILS_ENV=production\nSECRET_KEY_BASE=${railsKey}\n`, 0o640)
    const laravelKey = secret('.env APP_KEY', `base64:${Buffer.from(v('laravel', 32)).toString('base64')}`)
    await plant('/usr/local/etc/laravel/.env', `APP_NAME=shop\nAPP_KEY=${laravelKey}\nAPP_DEBUG=false\n`, 0o640)

    // systemd: Environment= in a unit and in a drop-in, an EnvironmentFile.
    const unitPw = secret('unit Environment=DB_PASSWORD=', v('unitpw'))
    await plant('/etc/systemd/system/api.service', `[Unit]\nDescription=API\n\n[Service]\nEnvironment=DB_PASSWORD=${unitPw}\nExecStart=/usr/local/bin/api\n\n[Install]\nWantedBy=multi-user.target\n`)
    const quotedTok = secret('unit Environment="API_TOKEN=…"', v('unittok', 32))
    await plant('/etc/systemd/system/worker.service', `[Unit]\nDescription=Worker\n\n[Service]\nEnvironment="MODE=prod" "API_TOKEN=${quotedTok}"\nExecStart=/usr/local/bin/worker\n\n[Install]\nWantedBy=multi-user.target\n`)
    const dropIn = secret('drop-in Environment=PGPASSWORD=', v('dropin'))
    await plant('/etc/systemd/system/postgresql.service.d/override.conf', `[Service]\nEnvironment=PGPASSWORD=${dropIn}\n`)
    const envFile = secret('EnvironmentFile value', v('envfile'))
    await plant('/etc/systemd/system/report.service', `[Unit]\nDescription=Report\n\n[Service]\nEnvironmentFile=/etc/default/report\nExecStart=/usr/local/bin/report\n\n[Install]\nWantedBy=multi-user.target\n`)
    await plant('/etc/default/report', `SMTP_PASSWORD=${envFile}\n`, 0o600)
    for (const unit of ['api.service', 'worker.service', 'report.service']) await runOk(['systemctl', `--root=${rootfs.dir}`, 'enable', unit])

    // cron: system files and root's crontab.
    const pgdump = secret('cron PGPASSWORD= pg_dump', v('pgdump'))
    await plant('/etc/cron.d/pgdump', `SHELL=/bin/sh\n0 2 * * * postgres PGPASSWORD=${pgdump} pg_dump -h 127.0.0.1 app > /var/backups/app.sql\n`)
    const curl = secret('cron curl -u user:pass', v('curlu'))
    await plant('/etc/cron.d/heartbeat', `*/5 * * * * root curl -fsS -u monitor:${curl} https://status.example.org/ping >/dev/null\n`)
    const mysqlPwd = secret('crontab MYSQL_PWD=', v('mysqlpwd'))
    const reboot = secret('crontab @reboot --password=', v('reboot'))
    await chrootOk(rootfs.dir, 'crontab', ['-u', 'root', '-'], {
      input: `MAILTO=""\n30 3 * * * MYSQL_PWD=${mysqlPwd} mysqldump -u backup shop > /var/backups/shop.sql\n@reboot /usr/local/bin/tunnel --password=${reboot}\n`,
    })
    const rcLocal = secret('rc.local sshpass -p', v('sshpass'))
    const openconnect = secret('rc.local echo … | openconnect --passwd-on-stdin', v('openconnect', 14))
    await plant('/etc/rc.local', `#!/bin/sh -e\nsshpass -p '${rcLocal}' ssh -fN -R 2222:localhost:22 tunnel@bastion.example.org\necho "${openconnect}" | openconnect --user=ops --passwd-on-stdin vpn.example.org &\nexit 0\n`, 0o755)
    const xdg = secret('XDG autostart Exec= --password', v('xdg'))
    await plant('/etc/xdg/autostart/sync.desktop', `[Desktop Entry]\nType=Application\nName=Sync\nExec=/usr/local/bin/sync-client --password=${xdg}\n`)


    // Session 17: a password piped into a login, chat tokens in scripts, files that are one token whoever may read them.
    const dockerStdin = secret('cron echo … | docker login --password-stdin', v('dockerstdin'))
    await plant('/etc/cron.d/registry', `0 * * * * root echo '${dockerStdin}' | docker login -u ops --password-stdin registry.example.org >/dev/null\n`)
    const telegram = secret('Telegram bot token in a script', `${fakeChars('srv-tgid', 9, '0123456789')}:A${'A'}${fakeChars('srv-tg', 33, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-')}`)
    const discord = secret('Discord webhook in a script', fakeChars('srv-discord', 68, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-'))
    await plant('/usr/local/bin/notify', `#!/bin/sh\ncurl -s "https://api.telegram.org/bot${telegram}/sendMessage?chat_id=1&text=$1"\ncurl -s -d "{\\"content\\":\\"$1\\"}" https://discord.com/api/webhooks/${fakeChars('srv-hookid', 18, '0123456789')}/${discord}\n`, 0o755)
    // `openssl rand -base64 24`'s shape; lower case, upper case and digits all in it (the Q, the 7, the x).
    const apiToken = secret('world-readable token file', `Q7${fakeChars('srv-apitoken', 30, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/')}x`)
    await plant('/etc/myapp/api.token', `${apiToken}\n`, 0o644)
    const restic = secret('world-readable restic password file', `Tr0ub4dor&${v('restic', 4)}`)
    await plant('/etc/restic/password.txt', `${restic}\n`, 0o644)
    await plant('/etc/restic/env', 'RESTIC_REPOSITORY=/srv/backup\nRESTIC_PASSWORD_FILE=/etc/restic/password.txt\n', 0o644)
    const nginxPass = secret("nginx ssl_password_file's passphrase (0644)", v('nginxpass', 16))
    await plant('/etc/nginx/ssl/passphrases', `${nginxPass}\n`, 0o644)
    await plant('/etc/nginx/conf.d/tls.conf', 'server {\n    listen 8443 ssl;\n    ssl_certificate_key /etc/nginx/ssl/api.key;\n    ssl_password_file /etc/nginx/ssl/passphrases;\n}\n')

    // Other services' own credential files, as their packages and guides lay them out.
    const msmtp = secret('msmtprc password', v('msmtp'))
    await plant('/etc/msmtprc', `defaults\nauth on\ntls on\naccount relay\nhost smtp.example.org\nport 587\nuser relay@example.org\npassword ${msmtp}\naccount default : relay\n`, 0o640, [0, await idOf('mail', 'group')])
    await plant('/etc/openvpn/server/ta.key', `#\n# 2048 bit OpenVPN static key\n#\n-----BEGIN OpenVPN Static key V1-----\n${Array.from({ length: 16 }, (_, i) => fakeChars(`srv-ovpn${i}`, 32, '0123456789abcdef')).join('\n')}\n-----END OpenVPN Static key V1-----\n`, 0o600)
    secret('OpenVPN static key (ta.key)', fakeChars('srv-ovpn3', 32, '0123456789abcdef'))
    // Session 15: the files an OpenVPN config names, world-readable, under names that say nothing:
    // held out by following the config (plugins/files/src/secrets.ts openvpnCredentialFiles).
    const ovpnPass = secret('OpenVPN auth-user-pass file (0644)', v('ovpnpass', 10))
    const ovpnV2 = secret('OpenVPN tls-crypt-v2 client key (0644)', fakeChars('srv-ovpnv2', 64, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'))
    await plant('/etc/openvpn/client/office.conf', 'client\ndev tun\nremote vpn.example.org 1194\nauth-user-pass /etc/openvpn/creds.txt\ntls-crypt-v2 office-v2.key\n', 0o644)
    await plant('/etc/openvpn/creds.txt', `vpnuser\n${ovpnPass}\n`, 0o644)
    await plant('/etc/openvpn/client/office-v2.key', `-----BEGIN OpenVPN tls-crypt-v2 client key-----\n${ovpnV2}\n${fakeChars('srv-ovpnv2b', 64)}\n-----END OpenVPN tls-crypt-v2 client key-----\n`, 0o644)
    const ldap = secret('/etc/ldap.secret', v('ldapsecret'))
    await plant('/etc/ldap.secret', `${ldap}\n`, 0o600)
    const bindpw = secret('nslcd.conf bindpw', v('bindpw'))
    await plant('/etc/nslcd.conf', `uid nslcd\ngid nslcd\nuri ldap://ldap.example.org/\nbase dc=example,dc=org\nbinddn cn=nslcd,dc=example,dc=org\nbindpw ${bindpw}\n`, 0o640)
    const sssd = secret('sssd ldap_default_authtok', v('sssd'))
    await plant('/etc/sssd/sssd.conf', `[sssd]\ndomains = example\n\n[domain/example]\nid_provider = ldap\nldap_default_bind_dn = cn=sssd,dc=example,dc=org\nldap_default_authtok_type = password\nldap_default_authtok = ${sssd}\n`, 0o600)
    const tsig = secret('bind TSIG key secret', Buffer.from(v('tsig', 32)).toString('base64'))
    await plant('/etc/bind/named.conf.local', `key "transfer" {\n\talgorithm hmac-sha256;\n\tsecret "${tsig}";\n};\n`, 0o644)
    const vrrp = secret('keepalived auth_pass', v('vrrp', 8))
    await plant('/etc/keepalived/keepalived.conf', `vrrp_instance VI_1 {\n    state MASTER\n    interface eth0\n    virtual_router_id 51\n    authentication {\n        auth_type PASS\n        auth_pass ${vrrp}\n    }\n}\n`, 0o644)
    const ipsec = secret('ipsec.secrets PSK', v('ipsec'))
    await plant('/etc/ipsec.secrets', `# This file holds shared secrets or RSA private keys for authentication.\n%any 203.0.113.9 : PSK "${ipsec}"\n`, 0o600)
    const rsyncd = secret('rsyncd.secrets', v('rsyncd'))
    await plant('/etc/rsyncd.secrets', `backup:${rsyncd}\n`, 0o600)
    const davfs = secret('davfs2 secrets', v('davfs'))
    await plant('/etc/davfs2/secrets', `# davfs2 secrets file\n/mnt/dav\tdavuser\t${davfs}\n`, 0o600)
    const exim = secret('exim4 passwd.client', v('exim'))
    await plant('/etc/exim4/passwd.client', `# password file used when the local exim is authenticating to a remote host as a client.\n*.example.org:relay:${exim}\n`, 0o640)
    const haproxy = secret('haproxy insecure-password', v('haproxy'))
    await plant('/etc/haproxy/haproxy.cfg', `userlist admins\n    user admin insecure-password ${haproxy}\n\nlisten stats\n    bind :8404\n    stats enable\n`, 0o644)
    const fastcgi = secret('nginx fastcgi_param DB_PASSWORD', v('fastcgi'))
    await plant('/etc/nginx/snippets/app-env.conf', `fastcgi_param APP_ENV production;\nfastcgi_param DB_PASSWORD ${fastcgi};\n`, 0o644)
    const snmp = secret('snmpd rocommunity', v('snmp', 16))
    await plant('/etc/snmp/snmpd.conf', `agentAddress udp:161\nrocommunity ${snmp} 10.0.0.0/8\nsysLocation rack 4\n`, 0o600)

    // Session 14: secrets where administrators keep them (plugins/files/test/secret-places.test.ts
    // checks each over the detector and the files provider): users' dotfiles, units, cron, syslog.
    const placed = new Map<string, { text: string; mode: number }>()
    for (const p of sessionFourteenPlaces()) {
      secret(`session 14: ${p.kind}`, p.value)
      const was = placed.get(p.path) ?? { text: plantedTexts.find(([path]) => path === p.path)?.[1]?.toString() ?? '', mode: p.mode ?? 0o644 }
      placed.set(p.path, { text: was.text + p.text, mode: was.mode })
    }
    for (const [path, { text, mode }] of placed) await plant(path, Buffer.from(text, 'latin1'), mode)
    for (const unit of ['exporter.service', 'queue.service']) await runOk(['systemctl', `--root=${rootfs.dir}`, 'enable', unit])

    await root.snapshotInit()
  })
  after(async () => {
    await root?.cleanup()
    if (keys !== undefined) await removeTree(keys)
  })

  it('keeps every planted secret out of every object, ref and the config of the twin, and out of the output', async () => {
    const { cli, planted } = root
    assert.equal(planted.length, 67 + sessionFourteenPlaces().length, `${planted.length} planted`)
    // Each planted file was looked at (listed in the manifest as a secret), and the logs provider read the planted syslog.
    const manifest = (await runOk(['git', '-C', cli.twinDir, 'grep', '-h', '-A3', '"path": "/root/.my.cnf"', 'HEAD', '--', 'system/files/'])).stdout
    assert.match(manifest, /"secret": true/)
    const syslog = (await runOk(['git', '-C', cli.twinDir, 'show', 'HEAD:system/logs/syslog.txt'])).stdout
    assert.match(syslog, /mysql -u app -p<redacted> -h db\n.*user=app password=<redacted>\n/)
    await root.assertNoneLeaked()
  })

  it('finds in every planted file what it finds with every rule run on every whole text (the hand rules\' prefilters skip nothing they keep)', async () => {
    const { cli, rootfs, twinsync, leaked, outputs, planted, plantedTexts } = root
    const findings = await assertPrefiltersFindTheSame(plantedTexts)
    assert.ok(findings > plantedTexts.length, `${findings} findings in ${plantedTexts.length} planted files`)
  })

  it('prints none of them in what a person reads: startup (read live), status, plan', async () => {
    const { cli, rootfs, twinsync, leaked, outputs, planted, plantedTexts } = root
    const startup = await twinsync(['startup'])
    assert.equal(startup.code, 0, startup.stderr)
    assert.match(startup.stdout, /PGPASSWORD=<redacted> pg_dump -h 127\.0\.0\.1 app/)
    assert.match(startup.stdout, /curl -fsS -u monitor:<redacted> https:\/\/status\.example\.org\/ping/)
    assert.match(startup.stdout, /\/usr\/local\/bin\/sync-client --password=<redacted>/)
    assert.match(startup.stdout, /offsite-backup --user backup --password=<redacted> \/srv/)
    assert.equal((await twinsync(['startup', '--json'])).code, 0)
    assert.equal((await twinsync(['status'])).code, 0)
    const plan = await twinsync(['plan'])
    assert.equal(plan.code, 0)
    // The twin's redacted crontab, rc.local and autostart entry are the machine's as the snapshot saw them: no change, no warning.
    assert.match(plan.stdout, /^No changes/)
    assert.doesNotMatch(plan.stdout + plan.stderr, /SECRET_REDACTED_NOT_PLANNED|not planned, the twin holds a redacted secret/)
    assert.deepEqual(leaked(outputs.join('\n')), [])
  })

  it('keeps a redacted value redacted when its file changes elsewhere, in the twin, its messages, show and diff', async () => {
    const { cli, rootfs, twinsync, leaked, outputs, planted, plantedTexts } = root
    const mysqlPwd = planted.find((p) => p.kind === 'crontab MYSQL_PWD=')!.value
    const reboot = planted.find((p) => p.kind === 'crontab @reboot --password=')!.value
    await chrootOk(rootfs.dir, 'crontab', ['-u', 'root', '-'], {
      input: `MAILTO=""\n30 4 * * * MYSQL_PWD=${mysqlPwd} mysqldump -u backup shop > /var/backups/shop.sql\n@reboot /usr/local/bin/tunnel --password=${reboot}\n`,
    })
    const pgdump = join(rootfs.dir, 'etc/cron.d/pgdump')
    await writeFile(pgdump, (await readFile(pgdump, 'utf8')).replace('0 2 * * *', '0 1 * * *'))
    assert.equal((await twinsync(['snapshot'])).code, 0)
    const crontab = (await runOk(['git', '-C', cli.twinDir, 'show', 'HEAD:filesystem/var/spool/cron/crontabs/root'])).stdout
    assert.match(crontab, /^30 4 \* \* \* MYSQL_PWD=<redacted> mysqldump/m)
    for (const args of [['show', 'HEAD'], ['diff', 'HEAD~1', 'HEAD', '--diff'], ['diff', 'HEAD~1', 'HEAD', '--json'], ['history']]) {
      assert.equal((await twinsync(args)).code, 0, args.join(' '))
    }
    assert.match(outputs.join('\n'), /\+30 4 \* \* \* MYSQL_PWD=<redacted> mysqldump/)
    assert.deepEqual(leaked(await everything(join(cli.twinDir, '.git'))), [])
    assert.deepEqual(leaked(outputs.join('\n')), [])
  })

  it('never writes the marker over the machine\'s secret: a person\'s edit of a redacted crontab is left out and said so, and stays pending', async () => {
    const { cli, rootfs, twinsync, leaked, outputs, planted, plantedTexts } = root
    const tab = join(cli.twinDir, 'filesystem/var/spool/cron/crontabs/root')
    await writeFile(tab, (await readFile(tab, 'utf8')) + '15 1 * * * /usr/local/bin/rotate\n')
    const applied = await twinsync(['apply', '--yes', '--accept-high-risk'])
    assert.equal(applied.code, 0, applied.stdout + applied.stderr)
    assert.match(applied.stdout + applied.stderr, /change the crontab of root: .*not planned, the twin holds a redacted secret there; change it on the machine itself/)
    assert.doesNotMatch(applied.stdout + applied.stderr, /rc\.local|sync\.desktop/, 'only the edited crontab is reported')
    const live = await readFile(join(rootfs.dir, 'var/spool/cron/crontabs/root'), 'utf8')
    assert.ok(!live.includes('<redacted>'), live)
    assert.ok(live.includes(planted.find((p) => p.kind === 'crontab MYSQL_PWD=')!.value), 'the machine keeps its secret')
    const status = await twinsync(['status'])
    assert.match(status.stdout, /cron:replace:\/var\/spool\/cron\/crontabs\/root .*1 job\(s\) added/, 'the edit stays pending, not lost')
    assert.deepEqual(leaked(outputs.join('\n')), [])
  })

  it('session 16: refuses to push credential files committed into the twin by hand (one the twin\'s OpenVPN config names, one at a secret path, one the manifest records as secret), and names them in a mirror that got them before the rule', async () => {
    const { cli, rootfs, twinsync, leaked, outputs, planted, plantedTexts } = root
    const mirror = join(cli.dir, 'mirror.git')
    const git = async (...args: string[]) => (await runOk(['git', ...args])).stdout.trim()
    await git('init', '-q', '--bare', '--initial-branch=main', mirror)
    assert.equal((await twinsync(['remote', 'set', mirror])).code, 0)
    const first = await twinsync(['push', '--retry'])
    assert.equal(first.code, 0, first.stdout + first.stderr)
    // By hand: an OpenVPN config (this machine's office.conf is held out: it has an inline key) and the credential file it names,
    // a file at a built-in secret path, and one where the manifest records the machine's file as a secret (home.conf: a key).
    // Fixed values in forms no content rule finds (two bare lines; one bare word).
    const value = 'Tr0ub4dor-and-3-horses'
    const byHand: Array<[string, string]> = [
      ['filesystem/etc/openvpn/client/by-hand.conf', 'client\nremote vpn.example.org 1194\nauth-user-pass /etc/openvpn/home-creds.txt\n'],
      ['filesystem/etc/openvpn/home-creds.txt', `vpnuser\n${value}\n`],
      ['filesystem/etc/ldap.secret', `${value}\n`],
      ['filesystem/etc/openvpn/client/home.conf', `client\nauth-user-pass /etc/openvpn/home-creds.txt\n# ${value}\n`],
    ]
    for (const [path, text] of byHand) {
      await mkdir(dirname(join(cli.twinDir, path)), { recursive: true })
      await writeFile(join(cli.twinDir, path), text)
    }
    const paths = byHand.map(([path]) => path)
    await git('-C', cli.twinDir, 'add', '--', ...paths)
    await git('-C', cli.twinDir, '-c', 'user.name=t', '-c', 'user.email=t@x', 'commit', '-q', '-m', 'by hand', '--', ...paths)
    const before = await git('-C', mirror, 'rev-parse', 'main')
    const refused = await twinsync(['push', '--retry'])
    const said = stripVTControlCharacters(refused.stdout + refused.stderr)
    assert.equal(refused.code, 1, said)
    assert.match(
      said,
      /\[SECRET_IN_PUSH\].*filesystem\/etc\/ldap\.secret \(files: secret path\), filesystem\/etc\/openvpn\/client\/home\.conf \(files: a secret in the files manifest \(private-key\)\), filesystem\/etc\/openvpn\/home-creds\.txt \(files: OpenVPN credential file\)/,
    )
    assert.doesNotMatch(said, /by-hand\.conf/)
    assert.match(said, /twinsync forget PATH/)
    assert.ok(!said.includes(value))
    assert.equal(await git('-C', mirror, 'rev-parse', 'main'), before, 'nothing pushed')

    // As a TwinSync whose push had no path rules sent them: git straight to the mirror, and the audit it kept (content only, nothing found).
    await git('-C', cli.twinDir, 'push', '-q', 'mirror', 'HEAD:refs/heads/main')
    const head = await git('-C', mirror, 'rev-parse', 'main')
    await writeFile(join(cli.twinDir, '.git/twinsync/mirror-audit.json'), JSON.stringify({ url: mirror, rules: SECRET_RULES_VERSION, head, findings: [] }))
    const audited = await twinsync(['push', '--retry'])
    const warned = stripVTControlCharacters(audited.stdout + audited.stderr)
    assert.equal(audited.code, 0, warned)
    assert.match(warned, /\[SECRET_IN_MIRROR\].*3 secret\(s\).*filesystem\/etc\/ldap\.secret \(files: secret path\), filesystem\/etc\/openvpn\/client\/home\.conf \(files: a secret in the files manifest \(private-key\)\), filesystem\/etc\/openvpn\/home-creds\.txt \(files: OpenVPN credential file\)/)
    assert.match(stripVTControlCharacters((await twinsync(['remote', 'show'])).stdout), /SECRET_IN_MIRROR.*filesystem\/etc\/openvpn\/home-creds\.txt/)
    // The next step works: forget, then a forced push replaces the mirror's history (the test before left a person's edit: dropped).
    await git('-C', cli.twinDir, 'checkout', '--', '.')
    const forgot = await twinsync(['forget', ...paths.slice(1)])
    assert.equal(forgot.code, 0, forgot.stdout + forgot.stderr)
    const forced = await twinsync(['push', '--retry', '--force'])
    assert.equal(forced.code, 0, forced.stdout + forced.stderr)
    assert.doesNotMatch(stripVTControlCharacters(forced.stdout + forced.stderr + (await twinsync(['remote', 'show'])).stdout), /SECRET_IN_MIRROR/)
    assert.equal(await git('-C', mirror, 'ls-tree', '-r', '--name-only', 'main', '--', ...paths), paths[0])
    assert.ok(!outputs.join('\n').includes(value))
  })

  it('session 17: refuses to push a file of one token committed by hand where the manifest lists nothing; names a mirrored file that a path added to files.secrets.paths makes secret', async () => {
    const { cli, rootfs, twinsync, leaked, outputs, planted, plantedTexts } = root
    const mirror = join(cli.dir, 'mirror.git')
    const git = async (...args: string[]) => (await runOk(['git', ...args])).stdout.trim()
    const token = fakeChars('srv-byhand-token', 32)
    const path = 'filesystem/etc/myapp/deploy.token'
    await mkdir(dirname(join(cli.twinDir, path)), { recursive: true })
    await writeFile(join(cli.twinDir, path), `${token}\n`)
    await git('-C', cli.twinDir, 'add', '--', path)
    await git('-C', cli.twinDir, '-c', 'user.name=t', '-c', 'user.email=t@x', 'commit', '-q', '-m', 'a token by hand', '--', path)
    const before = await git('-C', mirror, 'rev-parse', 'main')
    const refused = await twinsync(['push', '--retry'])
    const said = stripVTControlCharacters(refused.stdout + refused.stderr)
    assert.equal(refused.code, 1, said)
    assert.match(said, /\[SECRET_IN_PUSH\].*filesystem\/etc\/myapp\/deploy\.token \(files: a token, the whole file\)/)
    assert.equal(await git('-C', mirror, 'rev-parse', 'main'), before, 'nothing pushed')
    assert.ok(!said.includes(token))
    assert.equal((await twinsync(['forget', path])).code, 0)
    const pushed = await twinsync(['push', '--retry'])
    assert.equal(pushed.code, 0, pushed.stdout + pushed.stderr)

    // A file nothing says is secret reaches the mirror; then the administrator lists its path.
    const notes = 'filesystem/etc/myapp/handover.txt'
    await mkdir(dirname(join(cli.twinDir, notes)), { recursive: true })
    await writeFile(join(cli.twinDir, notes), 'vpn: ops / see the safe\n')
    await git('-C', cli.twinDir, 'add', '--', notes)
    await git('-C', cli.twinDir, '-c', 'user.name=t', '-c', 'user.email=t@x', 'commit', '-q', '-m', 'notes by hand', '--', notes)
    const clean = await twinsync(['push', '--retry'])
    assert.equal(clean.code, 0, clean.stdout + clean.stderr)
    assert.doesNotMatch(stripVTControlCharacters(clean.stdout + clean.stderr), /SECRET_IN_MIRROR/)
    await writeFile(cli.configFile, (await readFile(cli.configFile, 'utf8')) + '  secrets:\n    paths: [/etc/myapp/handover.txt]\n')
    const audited = await twinsync(['push', '--retry'])
    const warned = stripVTControlCharacters(audited.stdout + audited.stderr)
    assert.equal(audited.code, 0, warned)
    assert.match(warned, /\[SECRET_IN_MIRROR\].*filesystem\/etc\/myapp\/handover\.txt \(files: secret path\)/)
  })


})

/**
 * The booted server: what only a running machine has. Secrets on the command lines of running
 * processes (as systemd runs them) and on the journal's lines, including a private key a service
 * printed whose BEGIN line has just scrolled out of the kept tail. None may reach the twin.
 */
describe('secrets on the booted server root: processes and the journal', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  let ct: Container | undefined
  const planted: PlantedValue[] = []
  const secret = (kind: string, value: string) => {
    planted.push({ kind, value })
    return value
  }
  const leaked = (text: string) => leakedFrom(planted, text)
  after(async () => {
    await ct?.close()
  })

  it('keeps command lines and journal lines readable with every value redacted', async () => {
    ct = await bootContainer({ image: 'server' })
    // Every process in top.json (not only the 15 busiest), and a journal tail that ends inside a key.
    await ct.writeFile('/etc/twinsync/config.yaml', 'limits:\n  topProcesses: 1000\n  logLines: 60\n')
    const processes: Array<[string, string[]]> = [
      ['/usr/local/bin/myapp', ['--listen', '8080', `--db-password=${secret('--db-password=', v('p-db'))}`]],
      ['redis-server', ['*:6379', '--requirepass', secret('redis-server --requirepass', v('p-redis'))]],
      ['mysqldump', ['-u', 'backup', `-p${secret('mysqldump -p', v('p-mysql'))}`, '--all-databases']],
      ['curl', ['-sS', '-u', `monitor:${secret('curl -u user:pass', v('p-curl'))}`, 'https://status.example.org/ping']],
      ['sshpass', ['-p', secret('sshpass -p', v('p-sshpass')), 'ssh', '-N', 'tunnel@bastion.example.org']],
      ['/usr/local/bin/worker', ['--broker', `amqp://worker:${secret('URL user:pass@', v('p-amqp'))}@mq.internal:5672//`]],
      ['java', [`-Djavax.net.ssl.keyStorePassword=${secret('java -D…Password=', v('p-java'))}`, '-jar', '/opt/app.jar']],
      ['/usr/local/bin/agent', ['--api-key', secret('--api-key VALUE', v('p-apikey', 32))]],
      ['/usr/local/bin/exporter', ['--web.listen-address=:9104', `--password=${secret('--password=', v('p-password'))}`]],
      ['pg_basebackup', ['-d', `host=10.0.0.5 user=replicator password=${secret('libpq conninfo password=', v('p-conninfo'))}`, '-D', '/var/lib/postgresql/replica']],
      ['openssl', ['pkcs12', '-export', '-in', '/etc/ssl/site.pem', '-passout', `pass:${secret('openssl -passout pass:', v('p-openssl'))}`]],
      // Session 11: tools whose password flag no name says is one.
      ['redis-cli', ['-h', '127.0.0.1', '-a', secret('redis-cli -a', v('p-rediscli')), '--no-auth-warning', 'MONITOR']],
      ['mongodump', ['-u', 'backup', '-p', secret('mongodump -p', v('p-mongo')), '--out', '/var/backups/mongo']],
    ]
    for (const [i, [name, args]] of processes.entries()) {
      // The process shows `name args…` as its command line, as the real program would.
      await ct.runOk(['systemd-run', '--quiet', `--unit=planted${i}`, '/bin/bash', '-c', 'exec -a "$0" perl -e "sleep 9999" -- "$@"', name, ...args])
    }
    const lines = [
      `login to db failed: user=app password=${secret('journal password=', v('j-pw'))}`,
      `using AWS key AK${'IA'}${secret('journal AWS key id', fakeChars('srv-j-aws', 16, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'))}`,
      `aws_secret_access_key=${secret('journal AWS secret key', fakeChars('srv-j-awssecret', 40, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'))}`,
      `cloning with ${secret('journal GitHub token', `gh${'p'}_${v('j-gh', 36)}`)}`,
      `session ey${'J'}hbGciOiJIUzI1NiJ9.ey${'J'}zdWIiOiJhZG1pbiJ9.${secret('journal JWT signature', v('j-jwt', 43))}`,
      `GET /api/items?access_token=${secret('journal access_token in a URL', v('j-query', 32))} HTTP/1.1`,
      `{"level":"info","msg":"login","user":"app","password":"${secret('journal JSON password', v('j-json'))}"}`,
      `upstream request Authorization: Basic ${secret('journal Basic auth', Buffer.from(`api:${v('j-basic', 16)}`).toString('base64'))}`,
      // Session 11: headers as JSON logs write them, and a session cookie.
      `{"level":"debug","headers":{"authorization":"Basic ${secret('journal JSON authorization Basic', Buffer.from(`api:${v('j-jsonbasic', 16)}`).toString('base64'))}"}}`,
      `{"Authorization":"Bearer ${secret('journal JSON short bearer', v('j-short', 16))}"}`,
      `request headers: Cookie: sessionid=${secret('journal session cookie', v('j-cookie', 32))}; lang=en`,
      // Session 22: a bare bearer token of 16 characters (before, only 20 or more were found).
      `upstream replied 401 to Bearer ${secret('journal bare short bearer', v('j-bearer16', 16))}`,
    ]
    for (const line of lines) await ct.runOk(['logger', '-t', 'myapp', '--', line])
    // A service prints a key (4096-bit: 50 lines); then 30 more lines, so the kept 60 end inside it.
    const keys = await makeTempDir('keys')
    try {
      await runOk(['openssl', 'genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:4096', '-out', join(keys, 'k.pem')])
      const pem = await readFile(join(keys, 'k.pem'), 'utf8')
      const body = pem.split('\n').filter((l) => l !== '' && !l.startsWith('-----'))
      for (const at of [10, 30, 45]) secret(`journal private key line ${at}`, body[at] as string)
      await ct.runOk(['systemd-cat', '-t', 'keydump', 'cat'], { input: pem })
    } finally {
      await removeTree(keys)
    }
    for (let i = 0; i < 30; i++) await ct.runOk(['logger', '-t', 'filler', '--', `filler line ${i}`])

    const r = await ct.twinsync(['snapshot', '--init', '--json'])
    assert.equal(r.code, 0, r.stdout + r.stderr)
    const twin = join(ct.upperDir, 'var/lib/twinsync/twin')
    const top = await readFile(join(twin, 'system/processes/top.json'), 'utf8')
    assert.match(top, /mysqldump -e sleep 9999 -- -u backup -p<redacted> --all-databases/, 'the command line is kept, its value redacted')
    const journal = await readFile(join(twin, 'system/logs/journal.txt'), 'utf8')
    assert.match(journal, /filler line 29/)
    assert.deepEqual(leaked(await everything(join(twin, '.git'))), [])
    assert.deepEqual(leaked(r.stdout + r.stderr), [])
  })
})
