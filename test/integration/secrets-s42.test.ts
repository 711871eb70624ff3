import { strict as assert } from 'node:assert'
import { appendFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ROOTFS_BUILD_TIMEOUT_MS } from '../bed/index.js'
import { fakeChars } from '../fixtures/secrets/samples.js'
import { PlantedRoot } from '../support/planted-root.js'

const WWW: [number, number] = [0, 33]
const v = (seed: string, n = 20): string => fakeChars(`s42-${seed}`, n)
const words = (seed: string): string => `${v(`${seed}1`, 6)} ${v(`${seed}2`, 7)} ${v(`${seed}3`, 5)}`.toLowerCase()

/** Files that must be held out (`secret: true`), by a path rule unless a reason is given; none with a plain sha256. */
const HELD: ReadonlyArray<string | readonly [string, string]> = [
  ['/etc/web/http.kt', 'binary, not world-readable'],
  ['/home/ops/.config/pulse/cookie', 'binary, not world-readable'],
  '/etc/apache2/intranet.users',
  '/etc/apache2/admin-users.pag',
  '/etc/pki/pg/pg.unlock',
  '/etc/pki/pg/server.der',
  ['/etc/postgresql/16/main/pg_hba.conf', 'credential-assignment'],
]
const paths = HELD.map((h) => (typeof h === 'string' ? h : h[0]))
/** The configs, mirrored. */
const MIRRORED = ['/etc/apache2/sites-available/intranet.conf', '/srv/www/intranet/.htaccess', '/srv/www/intranet/admin/.htaccess', '/var/lib/pgsql/data/postgresql.conf', '/var/lib/pgsql/data/tls.conf', '/etc/postgresql/16/main/postgresql.conf']

/**
 * Session 42 on the server root, through the CLI, each mirrored or recorded with its plain sha256
 * before: a binary kept from other users but not root-only (a keytab 0640 root:www-data of a name
 * no rule knows, a home's ~/.config/pulse/cookie); what Apache's `.htaccess` files name under a
 * folder a site lets them configure (`AuthUserFile` of words, `AuthDBMUserFile`'s world-readable
 * page); PostgreSQL on Red Hat's layout (`ssl_passphrase_command`'s file, an included file's
 * `ssl_key_file` in DER); an LDAP bind password in Debian's pg_hba.conf.
 */
describe('secrets on the server root, session 42: binaries kept from others, .htaccess files, PostgreSQL on Red Hat, pg_hba.conf', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  let root: PlantedRoot

  before(async () => {
    root = await PlantedRoot.create({ include: ['/etc', '/srv', '/home', '/var/lib/pgsql'] })
    const { secret, plant } = root
    const binary = (seed: string, what: string) => Buffer.concat([Buffer.from([5, 2, 0, 0, 0, 0x3c, 0]), Buffer.from(secret(what, v(seed, 24))), Buffer.from([0, 0, 0xff])])
    // 1. Binaries kept from other users, not root-only.
    await plant('/etc/web/http.kt', binary('kt', 'a keytab 0640 root:www-data'), 0o640, WWW)
    await appendFile(join(root.rootfs.dir, 'etc/passwd'), 'ops:x:1001:1001:Ops:/home/ops:/bin/bash\n')
    await appendFile(join(root.rootfs.dir, 'etc/group'), 'ops:x:1001:\n')
    await plant('/home/ops/.config/pulse/cookie', binary('cookie', "a home's PulseAudio cookie"), 0o600, [1001, 1001])
    // 2. Apache: a site lets /srv/www/intranet's .htaccess files say AuthConfig.
    await plant('/etc/apache2/sites-available/intranet.conf', '<VirtualHost *:443>\n  ServerName intranet.example.net\n  DocumentRoot /srv/www/intranet\n  <Directory /srv/www/intranet>\n    AllowOverride AuthConfig\n    Require all granted\n  </Directory>\n</VirtualHost>\n')
    await plant('/srv/www/intranet/.htaccess', 'AuthType Basic\nAuthName "Intranet"\nAuthUserFile /etc/apache2/intranet.users\nRequire valid-user\n')
    await plant('/etc/apache2/intranet.users', `${secret("an .htaccess file's AuthUserFile", words('htpasswd'))}\n`, 0o640, WWW)
    await plant('/srv/www/intranet/admin/.htaccess', 'AuthType Basic\nAuthName "Admin"\nAuthBasicProvider dbm\nAuthDBMUserFile /etc/apache2/admin-users\nRequire valid-user\n')
    await plant('/etc/apache2/admin-users.pag', binary('dbm', "an .htaccess file's AuthDBMUserFile page"), 0o644)
    // 3. PostgreSQL on Red Hat's layout: the data folder's config, the file it includes.
    await plant('/var/lib/pgsql/data/postgresql.conf', "listen_addresses = '*'\nssl = on\nssl_passphrase_command = 'cat /etc/pki/pg/pg.unlock'\ninclude 'tls.conf'\n", 0o600, [26, 26])
    await plant('/var/lib/pgsql/data/tls.conf', "ssl_cert_file = '/etc/pki/pg/server.crt'\nssl_key_file = '/etc/pki/pg/server.der'\n", 0o600, [26, 26])
    await plant('/etc/pki/pg/pg.unlock', `${secret("Red Hat's ssl_passphrase_command's file", words('pgrh'))}\n`, 0o640, [0, 26])
    await plant('/etc/pki/pg/server.der', binary('der', 'a DER TLS key ssl_key_file names'), 0o644)
    // 4. Debian's pg_hba.conf with an LDAP bind password.
    await plant('/etc/postgresql/16/main/postgresql.conf', "data_directory = '/var/lib/postgresql/16/main'\nhba_file = '/etc/postgresql/16/main/pg_hba.conf'\n")
    await plant('/etc/postgresql/16/main/pg_hba.conf', `local all postgres peer\nhost all all 10.0.0.0/8 ldap ldapserver=ldap.example.net ldapbasedn="dc=example,dc=net" ldapbinddn="cn=pg,dc=example,dc=net" ldapbindpasswd=${secret("pg_hba.conf's ldapbindpasswd", v('ldap', 18))} ldapsearchattribute=uid\n`, 0o640, [0, 0])
    await root.snapshotInit()
  })
  after(async () => {
    await root?.cleanup()
  })

  it('keeps every planted value out of every object, ref and the config of the twin, and out of the output; no held file has a plain sha256', async () => {
    const entryOf = await root.assertHeldOut(HELD)
    assert.deepEqual(paths.filter((path) => entryOf(path)?.sha256 !== undefined), [], 'recorded with a plain sha256')
    for (const path of MIRRORED) assert.equal(entryOf(path)?.content, 'mirrored', path)
    await root.assertNoneLeaked()
  })
})
