import { strict as assert } from 'node:assert'
import { createHash } from 'node:crypto'
import { readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { makeTempDir, removeTree, ROOTFS_BUILD_TIMEOUT_MS, runOk, startGitRemote, type GitRemote } from '../bed/index.js'
import { fakeChars } from '../fixtures/secrets/samples.js'
import { assertPrefiltersFindTheSame } from '../support/prefilter-check.js'
import { json } from '../support/cli.js'
import { PlantedRoot } from '../support/planted-root.js'

const v = (seed: string, n = 20): string => fakeChars(`s11-${seed}`, n)
const HEX = '0123456789abcdef'
const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
/** crypt(3)'s alphabet. */
const CRYPT = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'

/**
 * Session 11's attack on the server root: secrets where session 10's did not look, in the forms
 * the tools write — a pppd peers file, GRUB's password hash, slapd's rootpw, SNMPv3 users, a TLS
 * key base64-encoded in a Kubernetes Secret, password files of any name (`db.pass`, `wg genkey`'s
 * output, OpenVPN's auth file, a Zabbix PSK), token-shaped `*_KEY=` values, fetchmail, and the
 * password flags of tools in cron and a unit's ExecStart (redis-cli -a, mongodump -p, smbclient
 * -U user%pass, htpasswd -b, lftp -u, mosquitto_pub -P, ldapsearch -w, 7z -p, zip -P, docker
 * login -p, echo … | chpasswd). After a snapshot and a push, none may be in any object, ref or
 * config of the twin or of the mirror, nor in anything printed; a mirrored file that gains a
 * secret on the machine is drift in `status` and is held out by the next snapshot.
 *
 * Session 12 adds what session 11 left alone and what a second hunt found: DES htpasswd hashes in
 * files of other names, PostgreSQL's `ssl_passphrase_command = 'echo …'`, Nagios' `$USER3$=`,
 * cloud-init's `chpasswd: list: |`, Dovecot's and Syncthing's hashes, `useradd -p '$6$…'` and
 * `mysql -p"…"` in cron.
 */
describe('secrets on the server root, sessions 11 and 12: more places, the mirror, and drift into a secret', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  let root: PlantedRoot
  let remote: GitRemote
  let keys: string
  const TOKEN = `tok_${fakeChars('s11-remote-token', 24, HEX)}`

  before(async () => {
    root = await PlantedRoot.create({ include: ['/etc', '/usr/local/bin', '~/.config', '~/.fetchmailrc', '~/.aws', '~/.netrc', '~/.git-credentials', '~/.kube', '~/.docker', '~/.pgpass', '~/.npmrc', '/var/lib/rabbitmq'] })
    const { secret, plant, rootfs, twinsync } = root
    keys = await makeTempDir('keys')
    remote = await startGitRemote({ token: TOKEN })

    // Files no rule knew by path, whose content said nothing to the detector.
    const ppp = secret('pppd peers file password', v('ppp'))
    await plant('/etc/ppp/peers/dsl-provider', `noipdefault\ndefaultroute\nplugin rp-pppoe.so eth0\nuser "bob@isp.example"\npassword "${ppp}"\npersist\n`, 0o640)
    const grub = secret('GRUB password_pbkdf2 hash', fakeChars('s11-grub', 128, HEX.toUpperCase()))
    await plant('/etc/grub.d/40_custom', `#!/bin/sh\nexec tail -n +3 $0\nset superusers="root"\npassword_pbkdf2 root grub.pbkdf2.sha512.10000.${fakeChars('s11-grubsalt', 128, HEX.toUpperCase())}.${grub}\n`, 0o755)
    const rootpw = secret('slapd.conf rootpw', v('rootpw'))
    await plant('/etc/ldap/slapd.conf', `database mdb\nsuffix "dc=example,dc=org"\nrootdn "cn=admin,dc=example,dc=org"\nrootpw ${rootpw}\n`, 0o640)
    const snmpAuth = secret('snmpd createUser auth passphrase', v('snmpauth'))
    const snmpPriv = secret('snmpd createUser priv passphrase', v('snmppriv'))
    await plant('/etc/snmp/snmpd.conf.d/v3.conf', `createUser monitor SHA "${snmpAuth}" AES "${snmpPriv}"\nrouser monitor priv\n`, 0o600)
    await runOk(['openssl', 'genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', join(keys, 'ec.pem')])
    await runOk(['openssl', 'genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', join(keys, 'rsa.pem')])
    const ec64 = (await readFile(join(keys, 'ec.pem'))).toString('base64')
    secret('base64 PEM key in a Kubernetes Secret', ec64.slice(60, 120))
    await plant('/etc/k3s/manifests/tls.yaml', `apiVersion: v1\nkind: Secret\nmetadata:\n  name: site-tls\ntype: kubernetes.io/tls\ndata:\n  tls.crt: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==\n  tls.key: ${ec64}\n`, 0o644)
    const rsa64 = (await readFile(join(keys, 'rsa.pem'))).toString('base64').match(/.{1,76}/g) as string[]
    secret('base64 PEM key wrapped in a YAML block', rsa64[10] as string)
    await plant('/etc/myapp/values.yaml', `ingress:\n  enabled: true\n  tlsKey: |\n${rsa64.map((l) => `    ${l}`).join('\n')}\n`, 0o644)
    const dbPass = secret('/etc/myapp/db.pass (one token, 0640)', v('dbpass', 32))
    await plant('/etc/myapp/db.pass', `${dbPass}\n`, 0o640)
    const wgKey = secret('wg genkey output /etc/wireguard/privatekey', `${fakeChars('s11-wg', 43, BASE64)}=`)
    await plant('/etc/wireguard/privatekey', `${wgKey}\n`, 0o600)
    const ovpn = secret('OpenVPN auth-user-pass file', v('ovpn'))
    await plant('/etc/openvpn/client/auth.txt', `vpnuser\n${ovpn}\n`, 0o600)
    const zabbix = secret('Zabbix agent PSK file', fakeChars('s11-zabbix', 64, HEX))
    await plant('/etc/zabbix/zabbix_agentd.psk', `${zabbix}\n`, 0o640)
    const sessionKey = secret('SESSION_KEY= in /etc/default', v('sesskey', 40))
    const stripe = secret('STRIPE_KEY=sk_live_…', `sk_${'live'}_${v('stripe', 32)}`)
    await plant('/etc/default/shop', `SHOP_MODE=production\nSESSION_KEY=${sessionKey}\nSTRIPE_KEY=${stripe}\n`, 0o644)
    const jsonSession = secret('"session" in a JSON file of ~/.config', v('jsonsess', 32))
    await plant('/root/.config/shop-cli/state.json', `{\n  "user": "ops",\n  "session": "${jsonSession}"\n}\n`, 0o600)
    const fetchmail = secret('~/.fetchmailrc password', v('fetchmail'))
    await plant('/root/.fetchmailrc', `poll mail.example.org protocol imap user "ops" password "${fetchmail}" ssl\n`, 0o600)
    const aws = secret('~/.aws/credentials secret key', fakeChars('s11-aws', 40, BASE64))
    await plant('/root/.aws/credentials', `[default]\naws_access_key_id = AKIA${fakeChars('s11-awsid', 16, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567')}\naws_secret_access_key = ${aws}\n`, 0o600)

    // The places the brief names that rules already covered (tried: none leaked before).
    const wgConf = secret('WireGuard PrivateKey/PresharedKey', `${fakeChars('s11-wgconf', 43, BASE64)}=`)
    await plant('/etc/wireguard/wg0.conf', `[Interface]\nAddress = 10.8.0.1/24\nPrivateKey = ${wgConf}\n\n[Peer]\nPublicKey = ${fakeChars('s11-wgpub', 43, BASE64)}=\nPresharedKey = ${wgConf.slice(0, 20)}${fakeChars('s11-wgpsk', 23, BASE64)}=\n`, 0o600)
    const eap = secret('NetworkManager 802-1x password', v('nm8021x'))
    await plant('/etc/NetworkManager/system-connections/corp.nmconnection', `[connection]\nid=corp\ntype=ethernet\n\n[802-1x]\neap=peap;\nidentity=ops\npassword=${eap}\nphase2-auth=mschapv2\n`, 0o600)
    const pap = secret('pap-secrets', v('pap'))
    await plant('/etc/ppp/pap-secrets', `"bob@isp" * "${pap}"\n`, 0o600)
    const maint = secret('mysql debian.cnf password', v('debiancnf', 16))
    await plant('/etc/mysql/debian.cnf', `# Automatically generated for Debian scripts. DO NOT TOUCH!\n[client]\nhost     = localhost\nuser     = debian-sys-maint\npassword = ${maint}\nsocket   = /var/run/mysqld/mysqld.sock\n`, 0o600)
    const srcPw = secret('apt deb822 URIs user:password@', v('aptsrc'))
    await plant('/etc/apt/sources.list.d/private.sources', `Types: deb\nURIs: https://ci:${srcPw}@repo.example.org/debian\nSuites: bookworm\nComponents: main\n`, 0o644)
    const daemonJson = secret('docker daemon.json proxy password', v('dockerd'))
    await plant('/etc/docker/daemon.json', `{\n  "proxies": {\n    "http-proxy": "http://proxy:${daemonJson}@proxy.example.org:3128"\n  }\n}\n`, 0o644)
    const dockerAuth = secret('~/.docker/config.json auth', Buffer.from(`ci:${v('dockerauth')}`).toString('base64'))
    await plant('/root/.docker/config.json', `{\n\t"auths": {\n\t\t"registry.example.org": {\n\t\t\t"auth": "${dockerAuth}"\n\t\t}\n\t}\n}\n`, 0o600)
    const gh = secret('gh hosts.yml oauth_token', `gh${'o'}_${v('gh', 36)}`)
    await plant('/root/.config/gh/hosts.yml', `github.com:\n    oauth_token: ${gh}\n    user: ops\n    git_protocol: https\n`, 0o600)
    const netrc = secret('~/.netrc password', v('netrc'))
    await plant('/root/.netrc', `machine api.example.org\n  login ops\n  password ${netrc}\n`, 0o600)
    const gitCred = secret('~/.git-credentials', v('gitcred'))
    await plant('/root/.git-credentials', `https://ops:${gitCred}@git.example.org\n`, 0o600)
    const kube = secret('kubeconfig token', v('kubetok', 40))
    await plant('/root/.kube/config', `apiVersion: v1\nkind: Config\nusers:\n- name: ci\n  user:\n    token: ${kube}\n`, 0o600)
    const pgpass = secret('~/.pgpass', v('pgpass'))
    await plant('/root/.pgpass', `db.internal:5432:app:app:${pgpass}\n`, 0o600)
    await runOk(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'crlf', '-f', join(keys, 'crlf')])
    const crlfKey = (await readFile(join(keys, 'crlf'), 'utf8')).replace(/\n/g, '\r\n')
    secret('OpenSSH key with CRLF line ends', crlfKey.split('\r\n')[2] as string)
    await plant('/etc/myapp/deploy_key', crlfKey, 0o644)
    await runOk(['openssl', 'genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-aes-256-cbc', '-pass', 'pass:x', '-out', join(keys, 'enc.pem')])
    const enc = await readFile(join(keys, 'enc.pem'), 'utf8')
    secret('encrypted PKCS8 key (0644)', enc.split('\n')[5] as string)
    await plant('/etc/nginx/ssl/enc.key', enc, 0o644)
    const setCred = secret('unit SetCredential=', v('setcred'))
    await plant('/etc/systemd/system/billing.service', `[Service]\nSetCredential=dbpass:${setCred}\nLoadCredential=tls:/etc/credstore/tls.key\nExecStart=/usr/local/bin/billing\n`)

    // Tools' own password flags: in a cron file, root's crontab and a unit's ExecStart.
    const tools: Array<[string, (s: string) => string]> = [
      ['redis-cli -a', (s) => `redis-cli -h 127.0.0.1 -a ${s} --no-auth-warning BGSAVE`],
      ['mongodump -p', (s) => `mongodump -u backup -p ${s} --authenticationDatabase admin --out /var/backups/mongo`],
      ['smbclient -U user%pass', (s) => `smbclient //nas/backup -U backup%${s} -c 'put /var/backups/app.sql app.sql'`],
      ['htpasswd -b', (s) => `htpasswd -b /etc/nginx/.htpasswd monitor ${s}`],
      ['lftp -u user,pass', (s) => `lftp -u backup,${s} -e 'mirror -R /var/backups /; quit' ftp.example.org`],
      ['mosquitto_pub -P', (s) => `mosquitto_pub -h mqtt.example.org -u sensor -P ${s} -t backup/done -m ok`],
      ['ldapsearch -w', (s) => `ldapsearch -x -D cn=admin,dc=example,dc=org -w ${s} -b dc=example,dc=org > /var/backups/ldap.ldif`],
      ['7z -p', (s) => `7z a -p${s} -mhe=on /var/backups/etc.7z /etc`],
      ['zip -P', (s) => `zip -q -r -P ${s} /var/backups/www.zip /var/www`],
      ['docker login -p', (s) => `docker login -u ci -p ${s} registry.example.org`],
      ['echo user:pass | chpasswd', (s) => `echo "kiosk:${s}" | chpasswd`],
    ]
    const cronLines = tools.map(([kind, line], i) => `${i} 3 * * * root ${line(secret(`cron.d ${kind}`, v(`crond-${i}`)))}`)
    await plant('/etc/cron.d/backup', `SHELL=/bin/sh\n${cronLines.join('\n')}\n`, 0o644)
    const tabLines = tools.map(([kind, line], i) => `${i} 4 * * * ${line(secret(`crontab ${kind}`, v(`tab-${i}`)))}`)
    await runOk(['chroot', rootfs.dir, 'crontab', '-u', 'root', '-'], { input: `${tabLines.join('\n')}\n` })
    const unit = secret('unit ExecStart redis-cli -a', v('unitredis'))
    await plant('/etc/systemd/system/cache-warm.service', `[Unit]\nDescription=Warm the cache\n\n[Service]\nType=oneshot\nExecStart=/usr/bin/redis-cli -a ${unit} --no-auth-warning PING\n\n[Install]\nWantedBy=multi-user.target\n`)
    await runOk(['systemctl', `--root=${rootfs.dir}`, 'enable', 'cache-warm.service'])

    // Session 12: the shapes session 11 left alone, and what a hunt over more places found.
    const des = (seed: string) => fakeChars(`s12-${seed}`, 13, CRYPT)
    // htpasswd writes its file readable by all (0644); a file of three lines or more is no token file.
    const nginxUsers = secret('DES htpasswd hash in /etc/nginx/.users', des('nginx-users'))
    await plant('/etc/nginx/.users', `# auth_basic_user_file /etc/nginx/.users;\nmonitor:${nginxUsers}\n`, 0o644)
    const apacheUsers = secret('DES htpasswd hash in /etc/apache2/passwords', des('apache-passwords'))
    await plant('/etc/apache2/passwords', `admin:${apacheUsers}\n`, 0o644)
    const pgVersion = (await readdir(join(rootfs.dir, 'etc/postgresql')))[0] as string
    const pgConf = join(rootfs.dir, 'etc/postgresql', pgVersion, 'main/postgresql.conf')
    const pgPass = secret('postgresql.conf ssl_passphrase_command echo', v('s12-pgpass'))
    await writeFile(pgConf, `${await readFile(pgConf, 'utf8')}\nssl_passphrase_command = 'echo ${pgPass}'\nssl_passphrase_command_supports_reload = on\n`)
    const nagios = secret('Nagios resource.cfg $USER3$', v('s12-nagios'))
    await plant(
      '/etc/nagios4/resource.cfg',
      `# Sets $USER1$ to be the path to the plugins\n$USER1$=/usr/lib/nagios/plugins\n$USER2$=/usr/lib/nagios/plugins/eventhandlers\n\n# Sets $USER3$ to the password of the monitoring database\n$USER3$=${nagios}\n`,
      0o640,
    )
    // The chpasswd list alone in its file: another finding would hold the whole file out.
    const cloudList = secret('cloud-init chpasswd list: |', v('s12-chpasswd'))
    const cloudSecond = secret('cloud-init chpasswd list: | (second line)', v('s12-chpasswd2'))
    await plant('/etc/cloud/cloud.cfg.d/99-chpasswd.cfg', `#cloud-config\nssh_pwauth: true\nchpasswd:\n  list: |\n    root:${cloudList}\n    ubuntu:${cloudSecond}\n  expire: False\n`, 0o600)
    const cloudHash = secret('cloud-init users passwd: hash', fakeChars('s12-cloudhash', 86, CRYPT))
    const cloudPlain = secret('cloud-init plain_text_passwd:', v('s12-cloudplain'))
    await plant(
      '/etc/cloud/cloud.cfg.d/98-users.cfg',
      `#cloud-config\nusers:\n  - name: ops\n    passwd: $6$rounds=4096$${fakeChars('s12-cloudsalt', 16, CRYPT)}$${cloudHash}\n    lock_passwd: false\n  - name: kiosk\n    plain_text_passwd: ${cloudPlain}\n`,
      0o600,
    )
    const dovecot = secret('Dovecot passwd-file {SHA512-CRYPT} hash', fakeChars('s12-dovecot', 86, CRYPT))
    const dovecotLines = ['ops', 'mail', 'list'].map((u, i) => `${u}:{SHA512-CRYPT}$6$${fakeChars(`s12-dovesalt${i}`, 16, CRYPT)}$${i === 0 ? dovecot : fakeChars(`s12-dove${i}`, 86, CRYPT)}:${1000 + i}:${1000 + i}::/home/${u}`)
    await plant('/etc/dovecot/users', `${dovecotLines.join('\n')}\n`, 0o640)
    const syncthing = secret('Syncthing GUI password bcrypt hash', fakeChars('s12-syncthing', 53, CRYPT))
    await plant('/root/.config/syncthing/config.xml', `<configuration version="37">\n    <gui enabled="true" tls="false">\n        <address>127.0.0.1:8384</address>\n        <user>ops</user>\n        <password>$2a$10$${syncthing}</password>\n    </gui>\n</configuration>\n`, 0o600)
    // A GUI without a password (Syncthing's default): the API key alone.
    const apikey = secret('Syncthing <apikey>', v('s12-apikey', 32))
    await plant('/root/.config/syncthing-relay/config.xml', `<configuration version="37">\n    <gui enabled="true" tls="false">\n        <address>127.0.0.1:8385</address>\n        <apikey>${apikey}</apikey>\n        <theme>default</theme>\n    </gui>\n</configuration>\n`, 0o600)
    const traefik = secret('bcrypt hash in Traefik basicAuth users', fakeChars('s12-traefik', 53, CRYPT))
    await plant('/etc/traefik/dynamic/auth.yml', `http:\n  middlewares:\n    auth:\n      basicAuth:\n        users:\n          - "admin:$2y$05$${traefik}"\n`, 0o644)
    const acl = secret('Redis ACL file user >password', v('s12-acl'))
    const aclHash = secret('Redis ACL file user #sha256', fakeChars('s12-aclhash', 64, HEX))
    await plant('/etc/redis/users.acl', `user default off\nuser worker on >${acl} ~jobs:* &* +@all -@dangerous\nuser exporter on #${aclHash} +client +ping +info +config|get +cluster|info +slowlog +latency +memory\n`, 0o640)
    const sentinel = secret('Redis Sentinel auth-pass', v('s12-sentinel'))
    await plant('/etc/redis/sentinel.conf', `port 26379\ndaemonize yes\nsentinel monitor mymaster 10.0.0.5 6379 2\nsentinel auth-pass mymaster ${sentinel}\nsentinel down-after-milliseconds mymaster 5000\n`, 0o640)
    const rabbit = secret('RabbitMQ classic config default_pass', v('s12-rabbit'))
    await plant('/etc/rabbitmq/rabbitmq.config', `[\n  {rabbit, [\n    {default_user, <<"admin">>},\n    {default_pass, <<"${rabbit}">>}\n  ]}\n].\n`, 0o640)
    const cookie = secret('RabbitMQ .erlang.cookie', fakeChars('s12-cookie', 20, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'))
    await plant('/var/lib/rabbitmq/.erlang.cookie', cookie, 0o400)
    const zabbixDb = secret('Zabbix server DBPassword=', v('s12-zabbix'))
    await plant('/etc/zabbix/zabbix_server.conf', `LogFile=/var/log/zabbix/zabbix_server.log\nDBHost=localhost\nDBName=zabbix\nDBUser=zabbix\nDBPassword=${zabbixDb}\n`, 0o640)
    const pureftpd = secret('pure-ftpd MYSQLPassword', v('s12-pureftpd'))
    await plant('/etc/pure-ftpd/db/mysql.conf', `MYSQLSocket /run/mysqld/mysqld.sock\nMYSQLUser pureftpd\nMYSQLPassword ${pureftpd}\nMYSQLDatabase pureftpd\n`, 0o640)
    const ldapBind = secret('Apache AuthLDAPBindPassword', v('s12-ldapbind'))
    await plant('/etc/apache2/conf-available/ldap-auth.conf', `<Location /private>\n  AuthType Basic\n  AuthBasicProvider ldap\n  AuthLDAPURL "ldap://ldap.example.org/ou=people,dc=example,dc=org?uid"\n  AuthLDAPBindDN "cn=apache,dc=example,dc=org"\n  AuthLDAPBindPassword ${ldapBind}\n  Require valid-user\n</Location>\n`, 0o644)
    const proftpd = secret('ProFTPD SQLConnectInfo', v('s12-proftpd'))
    await plant('/etc/proftpd/sql.conf', `<IfModule mod_sql.c>\nSQLBackend mysql\nSQLConnectInfo proftpd@localhost proftpd ${proftpd}\n</IfModule>\n`, 0o640)
    const haproxy = secret('HAProxy stats auth', v('s12-haproxy'))
    await plant('/etc/haproxy/haproxy.cfg', `global\n  log /dev/log local0\n\nlisten stats\n  bind :8404\n  stats enable\n  stats uri /\n  stats auth admin:${haproxy}\n`, 0o644)
    const fpm = secret('php-fpm pool env[DB_PASS]', v('s12-fpm'))
    await plant('/etc/php/8.4/fpm/pool.d/app.conf', `[app]\nuser = app\ngroup = app\nlisten = /run/php/app.sock\nenv[DB_HOST] = db.internal\nenv[DB_PASS] = ${fpm}\n`, 0o644)
    const gitlab = secret("Omnibus GitLab gitlab_rails['db_password']", v('s12-gitlab'))
    await plant('/etc/gitlab/gitlab.rb', `external_url 'https://git.example.org'\ngitlab_rails['db_host'] = 'db.internal'\ngitlab_rails['db_password'] = "${gitlab}"\n`, 0o600)
    const pgbouncer = secret('pgbouncer userlist.txt', v('s12-pgbouncer'))
    await plant('/etc/pgbouncer/userlist.txt', `"app" "${pgbouncer}"\n"stats" "md5${fakeChars('s12-pgbmd5', 32, HEX)}"\n`, 0o640)
    const nut = secret('NUT upsmon.conf MONITOR', v('s12-nut'))
    await plant('/etc/nut/upsmon.conf', `MONITOR ups@localhost 1 upsmon ${nut} primary\nMINSUPPLIES 1\nSHUTDOWNCMD "/sbin/shutdown -h +0"\n`, 0o640)
    const jwk = secret('certbot account private_key.json (JWK)', fakeChars('s12-jwk', 342, `${BASE64.slice(0, 62)}_-`))
    await plant('/etc/letsencrypt/accounts/acme-v02.api.letsencrypt.org/directory/0a1b2c/private_key.json', `{"n": "${fakeChars('s12-jwkn', 342, `${BASE64.slice(0, 62)}_-`)}", "e": "AQAB", "d": "${jwk}", "p": "${fakeChars('s12-jwkp', 171, `${BASE64.slice(0, 62)}_-`)}", "q": "${fakeChars('s12-jwkq', 171, `${BASE64.slice(0, 62)}_-`)}", "kty": "RSA"}`, 0o400)
    const smbpasswd = secret('Samba smbpasswd NT hash', fakeChars('s12-smbnt', 32, HEX.toUpperCase()))
    await plant('/etc/samba/smbpasswd', `ops:1000:XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX:${smbpasswd}:[U          ]:LCT-66A1B2C3:\n`, 0o600)
    const tacacs = secret('TACACS+ tac_plus.conf key =', fakeChars('s12-tacacs', 14, 'abcdefghijklmnopqrstuvwxyz0123456789'))
    await plant('/etc/tacacs+/tac_plus.conf', `key = ${tacacs}\naccounting file = /var/log/tac_plus.acct\n\ngroup = admins {\n  default service = permit\n}\n`, 0o640)
    const ticketSalt = secret('Icinga 2 constants.conf TicketSalt', fakeChars('s12-ticketsalt', 32, HEX))
    await plant('/etc/icinga2/constants.conf', `const PluginDir = "/usr/lib/nagios/plugins"\nconst ZoneName = "master"\nconst TicketSalt = "${ticketSalt}"\n`, 0o644)
    const npm = secret('~/.npmrc _auth', Buffer.from(`ci:${v('s12-npm')}`).toString('base64'))
    await plant('/root/.npmrc', `registry=https://npm.example.org/\nalways-auth=true\n_auth=${npm}\n`, 0o600)
    const useradd = secret('useradd -p hash in a cron line', fakeChars('s12-useradd', 86, CRYPT))
    const mysqlQuoted = secret('mysql -p"…" in a cron line', v('s12-mysqlq'))
    await plant('/etc/cron.d/accounts', `0 5 * * * root id kiosk || useradd -m -p '$6$${fakeChars('s12-uasalt', 8, CRYPT)}$${useradd}' kiosk\n0 6 * * * root mysql -u root -p"${mysqlQuoted}" -e 'FLUSH LOGS'\n`, 0o644)
    const sqlAlter = secret("cron mysql -e \"ALTER USER … IDENTIFIED BY '…'\"", v('s12-sqlalter'))
    const sqlRole = secret("cron psql -c \"ALTER ROLE … PASSWORD '…'\"", v('s12-sqlrole'))
    const osslK = secret('cron openssl enc -k', v('s12-osslk'))
    const gpg = secret('cron gpg --batch --passphrase', v('s12-gpg'))
    const ncftp = secret('cron ncftpput -p', v('s12-ncftp'))
    await plant(
      '/etc/cron.d/rotate',
      [
        `0 1 1 * * root mysql -e "ALTER USER 'report'@'%' IDENTIFIED BY '${sqlAlter}';"`,
        `0 1 1 * * postgres psql -c "ALTER ROLE report WITH LOGIN PASSWORD '${sqlRole}'"`,
        `0 2 * * * root tar cz /etc | openssl enc -aes-256-cbc -pbkdf2 -k ${osslK} -out /var/backups/etc.enc`,
        `0 2 * * * root gpg --batch --passphrase ${gpg} --yes -c /var/backups/db.sql`,
        `0 3 * * * root ncftpput -u backup -p ${ncftp} ftp.example.org /in /var/backups/db.sql.gpg`,
        '',
      ].join('\n'),
      0o644,
    )

    // A file that holds no secret yet: it gains one on the machine after the first snapshot.
    await plant('/etc/default/worker', 'WORKER_MODE=prod\n', 0o644)

    await root.snapshotInit()
    const url = await remote.createBareRepo('twin')
    const set = await twinsync(['remote', 'set', url, '--token-stdin'], { input: `${TOKEN}\n` })
    assert.equal(set.code, 0, set.stdout + set.stderr)
    const pushed = await twinsync(['push', '--retry'])
    assert.equal(pushed.code, 0, pushed.stdout + pushed.stderr)
  })
  after(async () => {
    await remote?.close()
    await root?.cleanup()
    if (keys !== undefined) await removeTree(keys)
  })

  it('keeps every planted secret out of every object, ref and config of the twin and of the mirror, and out of the output', async () => {
    assert.equal(root.planted.length, 92, `${root.planted.length} planted`)
    await root.assertNoneLeaked(remote)
  })

  it('finds in every planted file what it finds with every rule run on every whole text (the hand rules\' prefilters skip nothing they keep)', async () => {
    const findings = await assertPrefiltersFindTheSame(root.plantedTexts)
    assert.ok(findings > root.plantedTexts.length, `${findings} findings in ${root.plantedTexts.length} planted files`)
  })

  it('holds the password files out with a warning that says how to mirror one, and keeps the tools\' lines readable', async () => {
    const { cli, rootfs, twinsync, leaked, outputs } = root
    const manifest = JSON.parse((await runOk(['git', '-C', cli.twinDir, 'show', 'HEAD:system/files/manifest.json'])).stdout) as { entries: Array<{ path: string; secret?: boolean; secretReason?: string }> }
    const reason = (path: string) => manifest.entries.find((e) => e.path === path)?.secretReason
    assert.equal(reason('/etc/myapp/db.pass'), 'token file, not world-readable')
    assert.equal(reason('/etc/openvpn/client/auth.txt'), 'token file, not world-readable')
    assert.equal(reason('/etc/zabbix/zabbix_agentd.psk'), 'token file, not world-readable')
    assert.equal(reason('/etc/wireguard/privatekey'), 'path rule')
    assert.match(outputs.join('\n'), /\/etc\/myapp\/db\.pass is held out of the twin as a secret: .*files\.secrets\.allow/)
    const crontab = (await runOk(['git', '-C', cli.twinDir, 'show', 'HEAD:filesystem/var/spool/cron/crontabs/root'])).stdout
    assert.match(crontab, /redis-cli -h 127\.0\.0\.1 -a <redacted> --no-auth-warning BGSAVE/)
    assert.match(crontab, /smbclient \/\/nas\/backup -U backup%<redacted> -c/)
    assert.match(crontab, /echo "kiosk:<redacted>" \| chpasswd/)
    // systemd's units.json records a hash of each administrator's unit file: never the plain
    // sha256 of one with a secret (a guess of the password could be tested against it offline).
    const units = JSON.parse((await runOk(['git', '-C', cli.twinDir, 'show', 'HEAD:system/services/units.json'])).stdout) as { units: Record<string, { hash?: string }> }
    const unitFile = await readFile(join(rootfs.dir, 'etc/systemd/system/cache-warm.service'))
    const plain = `sha256:${createHash('sha256').update(unitFile).digest('hex')}`
    assert.ok(units.units['cache-warm.service']?.hash !== undefined)
    assert.notEqual(units.units['cache-warm.service']?.hash, plain)
    const startup = await twinsync(['startup'])
    assert.equal(startup.code, 0, startup.stderr)
    assert.match(startup.stdout, /ldapsearch -x -D cn=admin,dc=example,dc=org -w <redacted>/)
    // The redacted crontab is the machine's as the snapshot saw it: no change, no warning.
    const plan = await twinsync(['plan'])
    assert.equal(plan.code, 0, plan.stderr)
    assert.match(plan.stdout, /^No changes/)
    assert.doesNotMatch(plan.stdout + plan.stderr, /SECRET_REDACTED_NOT_PLANNED/)
    assert.deepEqual(leaked(outputs.join('\n')), [])
  })

  it('shows a mirrored file that gained a secret on the machine as drift, plans nothing that shows it, and the next snapshot and push hold it out', async () => {
    const { cli, rootfs, twinsync, secret, leaked } = root
    const token = secret('secret added to a mirrored file', v('drift', 32))
    await writeFile(join(rootfs.dir, 'etc/default/worker'), `WORKER_MODE=prod\nWORKER_API_TOKEN=${token}\n`)
    const status = await twinsync(['status', '--json'])
    assert.equal(status.code, 0, status.stderr)
    const drift = json<{ drift: boolean; changes: Array<{ resource: string; summary: string }> }>(status)
    assert.ok(drift.drift, status.stdout)
    assert.ok(
      drift.changes.some((c) => c.resource === '/etc/default/worker'),
      `status misses /etc/default/worker: ${JSON.stringify(drift.changes)}`,
    )
    const text = await twinsync(['status'])
    assert.match(text.stdout, /\/etc\/default\/worker/)
    // The item status lists is one `adopt` knows: with its domain, as status says.
    const alone = await twinsync(['adopt', 'files:secret-changed:/etc/default/worker'])
    assert.equal(alone.code, 2, alone.stdout + alone.stderr)
    assert.match(alone.stderr, /\[ITEM_INSEPARABLE\].*\n.*twinsync adopt files/)
    const planFile = join(cli.dir, 'plan.json')
    assert.equal((await twinsync(['plan', '--out', planFile])).code, 0)
    assert.deepEqual(leaked(await readFile(planFile, 'utf8')), [])
    assert.equal((await twinsync(['push'])).code, 0)
    const manifest = JSON.parse((await runOk(['git', '-C', cli.twinDir, 'show', 'HEAD:system/files/manifest.json'])).stdout) as { entries: Array<{ path: string; secret?: boolean }> }
    assert.equal(manifest.entries.find((e) => e.path === '/etc/default/worker')?.secret, true)
    await root.assertNoneLeaked(remote)
  })
})
