import { strict as assert } from 'node:assert'
import { appendFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ROOTFS_BUILD_TIMEOUT_MS } from '../bed/index.js'
import { fakeChars } from '../fixtures/secrets/samples.js'
import { PlantedRoot } from '../support/planted-root.js'

/** Group www-data (33: the web server reads them), so no file is root-only (held so already). */
const WWW: [number, number] = [0, 33]
const ADM: [number, number] = [0, 4]
const v = (seed: string, n = 20): string => fakeChars(`s41-${seed}`, n)
const words = (seed: string): string => `${v(`${seed}1`, 6)} ${v(`${seed}2`, 7)} ${v(`${seed}3`, 5)} ${v(`${seed}4`, 8)}`.toLowerCase()

/** Files that must be held out (`secret: true`) by the path rule, none with a plain sha256. */
const HELD = [
  '/etc/nginx/tls/shop.unlock',
  '/srv/www/shop/upstream.unlock',
  '/usr/local/sbin/tls-unlock',
  '/opt/intranet/ldap-bind.sh',
  '/etc/apache2/intranet.http',
  '/etc/apache2/intranet.session',
  '/etc/apache2/webusers.pag',
  '/home/ops/sync.words',
  '/etc/ibm/ihs/key.kdb',
  '/etc/ibm/ihs/key.sth',
  '/etc/app/keys.jceks',
  '/etc/app/keys.bcfks',
  '/etc/dovecot/imap.users',
  '/etc/pgbouncer/users.lst',
  '/etc/mosquitto/sensors.psk',
  '/home/ops/.config/restic/key',
  '/home/ops/.config/desk/repo-words',
  '/etc/postgresql/16/main/tls.unlock',
  '/etc/postgresql/16/main/pg.service-key',
]
/** The configs and scripts, mirrored (the autostart entries are the autostart provider's). */
const MIRRORED = ['/etc/nginx/sites-available/shop', '/srv/www/shop/nginx.conf', '/etc/apache2/conf-available/tls-unlock.conf', '/etc/apache2/sites-available/intranet.conf', '/srv/www/intranet/auth.conf', '/etc/systemd/user/sync.service', '/opt/sync/run.sh', '/etc/dovecot/conf.d/auth-passwdfile.conf.ext', '/etc/pgbouncer/pgbouncer.ini', '/etc/mosquitto/conf.d/tls.conf', '/opt/desk/backup.sh', '/etc/postgresql/16/main/postgresql.conf']

/**
 * Session 41 on the server root, through the CLI: what session 40 left, each mirrored or recorded
 * with its plain sha256 before: nginx's `ssl_password_file` (a passphrase a line, words), also in
 * a file a site includes from /srv; Apache's `SSLPassPhraseDialog exec:` and `AuthLDAPBindPassword
 * exec:` programs (they print the passphrase, the bind password), a keytab and mod_auth_gssapi's
 * session key named in a file a site `Include`s from /srv (the includes were read within /etc
 * only), `AuthDBMUserFile`'s database; a script a unit of /etc/systemd/user runs that `cd`s to `~`
 * (each user's manager runs it with that user's HOME); key stores of other kinds (GSKit's key
 * database and its password stash, JCEKS, BCFKS); Dovecot's passwd-file, PgBouncer's auth_file,
 * Mosquitto's psk_file of other names than the detector knows; password files under ~/.config
 * (the default include set's) that XDG autostart entries point at, a home's own and a shared one's script;
 * PostgreSQL's `ssl_passphrase_command`'s file and `krb_server_keyfile` of another name.
 */
describe('secrets on the server root, session 41: web servers\' passphrase programs and files, includes outside /etc, a shared user unit\'s cd ~, key stores', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  let root: PlantedRoot

  before(async () => {
    root = await PlantedRoot.create({ include: ['/etc', '/opt', '/srv', '/home', '/usr/local'] })
    const { secret, plant } = root
    const binary = (seed: string, what: string) => Buffer.concat([Buffer.from([0, 1, 2, 0, 0xf5, 0]), Buffer.from(secret(what, v(seed, 24))), Buffer.from([0, 0, 0xff])])
    // 1. nginx: a site's ssl_password_file, and an include from /srv naming the upstream's.
    await plant('/etc/nginx/sites-available/shop', 'server {\n    listen 443 ssl;\n    server_name shop.example.net;\n    ssl_certificate /etc/nginx/tls/shop.crt;\n    ssl_certificate_key /etc/nginx/tls/shop.key;\n    ssl_password_file /etc/nginx/tls/shop.unlock;\n    include /srv/www/shop/nginx.conf;\n}\n')
    await plant('/etc/nginx/tls/shop.unlock', `${secret("nginx's ssl_password_file, first passphrase", words('ngx1'))}\n${secret("nginx's ssl_password_file, second passphrase", words('ngx2'))}\n`, 0o640, WWW)
    await plant('/srv/www/shop/nginx.conf', 'location /api {\n    proxy_pass https://backend.example.net;\n    proxy_ssl_server_name on;\n    proxy_ssl_certificate_key /srv/www/shop/upstream.key;\n    proxy_ssl_password_file /srv/www/shop/upstream.unlock;\n}\n')
    await plant('/srv/www/shop/upstream.unlock', `${secret("nginx's proxy_ssl_password_file in an include from /srv", words('ngx3'))}\n`, 0o640, WWW)
    // 2. Apache: the passphrase program, a site's Include from /srv (a keytab, a session key, an LDAP bind password program), a DBM of users.
    await plant('/etc/apache2/conf-available/tls-unlock.conf', '<IfModule mod_ssl.c>\n    SSLPassPhraseDialog exec:/usr/local/sbin/tls-unlock\n</IfModule>\n')
    await plant('/usr/local/sbin/tls-unlock', `#!/bin/sh\necho "${secret("Apache's SSLPassPhraseDialog program", words('dialog'))}"\n`, 0o755)
    await plant('/etc/apache2/sites-available/intranet.conf', '<VirtualHost *:443>\n  ServerName intranet.example.net\n  <Location />\n    Include /srv/www/intranet/auth.conf\n  </Location>\n  <Location /staff>\n    AuthType Basic\n    AuthName "Staff"\n    AuthBasicProvider dbm\n    AuthDBMUserFile /etc/apache2/webusers\n    Require valid-user\n  </Location>\n</VirtualHost>\n')
    await plant('/srv/www/intranet/auth.conf', 'AuthType GSSAPI\nAuthName "Intranet"\nGssapiCredStore keytab:/etc/apache2/intranet.http\nGssapiUseSessions On\nGssapiSessionKey file:/etc/apache2/intranet.session\nAuthLDAPURL ldap://ldap.example.net/dc=example,dc=net?uid\nAuthLDAPBindDN cn=web,dc=example,dc=net\nAuthLDAPBindPassword exec:/opt/intranet/ldap-bind.sh\nRequire valid-user\n')
    await plant('/etc/apache2/intranet.http', binary('keytab', 'a keytab an include from /srv names'), 0o640, WWW)
    await plant('/etc/apache2/intranet.session', binary('session', "mod_auth_gssapi's session key"), 0o640, WWW)
    await plant('/opt/intranet/ldap-bind.sh', `#!/bin/sh\nprintf '%s' '${secret("Apache's AuthLDAPBindPassword program", words('bind'))}'\n`, 0o755)
    // htdbm -s: an unsalted {SHA} of the password in an SDBM page (a plain sha256 of the page tests a guess).
    await plant('/etc/apache2/webusers.pag', binary('dbm', "an AuthDBMUserFile's page"), 0o640, WWW)
    // 3. A unit every user's manager runs, whose script cds to ~ (each user's HOME).
    await appendFile(join(root.rootfs.dir, 'etc/passwd'), 'ops:x:1001:1001:Ops:/home/ops:/bin/bash\n')
    await appendFile(join(root.rootfs.dir, 'etc/group'), 'ops:x:1001:\n')
    await plant('/etc/systemd/user/sync.service', '[Unit]\nDescription=sync documents\n\n[Service]\nType=oneshot\nExecStart=/opt/sync/run.sh\n')
    await plant('/opt/sync/run.sh', '#!/bin/sh\ncd ~ || exit 1\nrestic -r sftp:nas:/sync --password-file sync.words backup Documents\n', 0o755)
    await plant('/home/ops/sync.words', `${secret("a shared user unit's script's relative word after cd ~", words('sync'))}\n`, 0o640, [1001, 1001])
    // 4. Key stores of other kinds than .jks, .p12, .keystore.
    await plant('/etc/ibm/ihs/key.kdb', binary('kdb', "GSKit's key database"), 0o640, WWW)
    await plant('/etc/ibm/ihs/key.sth', binary('sth', "GSKit's password stash"), 0o640, WWW)
    await plant('/etc/app/keys.jceks', binary('jceks', 'a JCEKS key store'), 0o640, WWW)
    await plant('/etc/app/keys.bcfks', binary('bcfks', 'a BCFKS key store'), 0o640, WWW)
    // 5. Password files of any name: Dovecot's passwd-file (a password in the clear under scheme=PLAIN), PgBouncer's auth_file, Mosquitto's psk_file.
    await plant('/etc/dovecot/conf.d/auth-passwdfile.conf.ext', 'passdb {\n  driver = passwd-file\n  args = scheme=PLAIN username_format=%u /etc/dovecot/imap.users\n}\nuserdb {\n  driver = passwd-file\n  args = username_format=%u /etc/dovecot/imap.users\n}\n')
    await plant('/etc/dovecot/imap.users', `ops:${secret("Dovecot's passwd-file, a password in the clear", words('dovecot'))}:1001:1001::/home/ops::\n`, 0o640, ADM)
    await plant('/etc/pgbouncer/pgbouncer.ini', '[databases]\napp = host=127.0.0.1 dbname=app\n\n[pgbouncer]\nlisten_port = 6432\nauth_type = plain\nauth_file = /etc/pgbouncer/users.lst\n')
    await plant('/etc/pgbouncer/users.lst', `"app" "${secret("PgBouncer's auth_file", words('pgbouncer'))}"\n`, 0o640, ADM)
    await plant('/etc/mosquitto/conf.d/tls.conf', 'listener 8883\npsk_hint broker\npsk_file /etc/mosquitto/sensors.psk\n')
    await plant('/etc/mosquitto/sensors.psk', [1, 2, 3].map((n) => `sensor${n}:${secret(`Mosquitto's psk_file, sensor ${n}`, fakeChars(`s41-psk${n}`, 32, '0123456789abcdef'))}\n`).join(''), 0o640, ADM)
    // 6. XDG autostart entries (a home's own, one every user's session starts): a password file under ~/.config by `~/`, by `$HOME/` in the script it runs.
    await plant('/home/ops/.config/autostart/restic.desktop', '[Desktop Entry]\nType=Application\nName=Backup\nExec=sh -c "restic -r sftp:nas:/ops --password-file ~/.config/restic/key backup ~/Documents"\n', 0o644, [1001, 1001])
    await plant('/home/ops/.config/restic/key', `${secret("an autostart entry's password file (~/)", words('xdg1'))}\n`, 0o600, [1001, 1001])
    await plant('/etc/xdg/autostart/desk-backup.desktop', '[Desktop Entry]\nType=Application\nName=Desk backup\nExec=/opt/desk/backup.sh\n')
    await plant('/opt/desk/backup.sh', '#!/bin/sh\nexport RESTIC_PASSWORD_FILE="$HOME/.config/desk/repo-words"\nrestic -r sftp:nas:/desk backup ~/Documents\n', 0o755)
    await plant('/home/ops/.config/desk/repo-words', `${secret("a shared autostart entry's script's password file ($HOME/)", words('xdg2'))}\n`, 0o600, [1001, 1001])
    // 7. PostgreSQL: the TLS key's passphrase a cluster's ssl_passphrase_command cats, its keytab of another name.
    await plant('/etc/postgresql/16/main/postgresql.conf', "data_directory = '/var/lib/postgresql/16/main'\nlisten_addresses = '*'\nssl = on\nssl_cert_file = '/etc/postgresql/16/main/server.crt'\nssl_key_file = '/etc/postgresql/16/main/server.key'\nssl_passphrase_command = 'cat /etc/postgresql/16/main/tls.unlock'\nkrb_server_keyfile = 'FILE:/etc/postgresql/16/main/pg.service-key'\n")
    await plant('/etc/postgresql/16/main/tls.unlock', `${secret("PostgreSQL's ssl_passphrase_command's file", words('pgtls'))}\n`, 0o640, [0, 4])
    await plant('/etc/postgresql/16/main/pg.service-key', binary('pgkt', "PostgreSQL's krb_server_keyfile"), 0o640, [0, 4])
    await root.snapshotInit()
  })
  after(async () => {
    await root?.cleanup()
  })

  it('keeps every planted value out of every object, ref and the config of the twin, and out of the output', async () => {
    const entryOf = await root.assertHeldOut(HELD)
    // A binary file not held out is recorded with its plain sha256 (an offline test of a password it was made from).
    assert.deepEqual(HELD.filter((path) => entryOf(path)?.sha256 !== undefined), [], 'recorded with a plain sha256')
    for (const path of MIRRORED) assert.equal(entryOf(path)?.content, 'mirrored', path)
    await root.assertNoneLeaked()
  })
})
