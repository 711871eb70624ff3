import { strict as assert } from 'node:assert'
import { appendFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ROOTFS_BUILD_TIMEOUT_MS } from '../bed/index.js'
import { fakeChars } from '../fixtures/secrets/samples.js'
import { PlantedRoot } from '../support/planted-root.js'

/** Group www-data (33: the web server reads its keytab) and adm (4), so no file is root-only (held so already). */
const WWW: [number, number] = [0, 33]
const ADM: [number, number] = [0, 4]
const v = (seed: string, n = 20): string => fakeChars(`s40-${seed}`, n)
const words = (seed: string): string => `${v(`${seed}1`, 6)} ${v(`${seed}2`, 7)} ${v(`${seed}3`, 5)} ${v(`${seed}4`, 8)}`.toLowerCase()

/** Files that must be held out (`secret: true`) by the path rule. */
const HELD = [
  '/etc/apache2/http.service-key',
  '/etc/apache2/krb5.http',
  '/etc/wiki/wiki.creds',
  '/etc/nginx/krb5.http',
  '/etc/gss/nginx.creds',
  '/etc/samba/smb.service-key',
  '/etc/samba/shares.creds',
  '/etc/samba/users.db',
  '/etc/apache2/gss.http',
  '/etc/krb5kdc/ldap.service-creds',
  '/etc/krb5kdc/.k5.EXAMPLE.NET',
  '/var/lib/krb5kdc/principal',
  '/home/ops/.restic-repo',
  '/home/ops/b2/offsite.words',
  '/srv/jobs/jobs.words',
  '/srv/offsite/offsite.words',
]
/** The configs and scripts, mirrored. */
const MIRRORED = ['/etc/apache2/envvars', '/etc/apache2/sites-available/intranet.conf', '/etc/apache2/conf-available/kerb-auth.conf', '/etc/apache2/sites-available/wiki.conf', '/etc/wiki/apache-auth.conf', '/etc/nginx/sites-available/intranet', '/etc/gss/nginx-gss.conf', '/etc/samba/smb.conf', '/etc/samba/shares.conf', '/etc/krb5kdc/kdc.conf', '/opt/backup/nightly.sh', '/opt/backup/b2.sh', '/opt/jobs/run.sh', '/etc/systemd/system/offsite.service', '/opt/offsite/run.sh']

/**
 * Session 40 on the server root, through the CLI: what session 39 left, each mirrored before (the
 * unit test's session 40 block fails on the old code): keytabs of other names than `*.keytab`
 * that Apache (mod_auth_gssapi's `GssapiCredStore`, mod_auth_kerb's `Krb5Keytab`, also in a file
 * a site `Include`s), nginx (`auth_gss_keytab`, also in an `include`d file) and Samba (`dedicated
 * keytab file`, also in an `include =` file) name; a KDC's master key stash at MIT's default name
 * (`.k5.REALM`, no `key_stash_file` in kdc.conf) and its database (/var/lib/krb5kdc/principal,
 * when /var/lib/krb5kdc is in the include set); a script cron runs that `cd`s to `$HOME` or `~`
 * before a relative word (the job's HOME: its crontab's owner's home, or a HOME= line), and a
 * script a unit runs as its `User=` that `cd`s to `~` (systemd's HOME: that account's home).
 */
describe('secrets on the server root, session 40: Apache, nginx and Samba keytabs, a KDC stash and database, a cron script\'s cd $HOME', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  let root: PlantedRoot

  before(async () => {
    root = await PlantedRoot.create({ include: ['/etc', '/opt', '/srv', '/home', '/var/spool/cron', '/var/lib/krb5kdc'] })
    const { secret, plant } = root
    // A keytab is binary: its version, a principal, a key.
    const keytab = (seed: string) => Buffer.concat([Buffer.from([5, 2, 0, 0, 0, 80, 0, 1, 0, 11]), Buffer.from('EXAMPLE.NET'), Buffer.from([0, 4]), Buffer.from('HTTP'), Buffer.from([0, 18, 0, 32]), Buffer.from(secret(`a keytab ${seed} names`, v(`kt-${seed}`, 32)))])
    // 1. Apache: mod_auth_gssapi in a site, mod_auth_kerb in a conf, a site's Include of a file elsewhere in /etc.
    await plant('/etc/apache2/sites-available/intranet.conf', '<VirtualHost *:443>\n  ServerName intranet.example.net\n  <Location />\n    AuthType GSSAPI\n    AuthName "Intranet"\n    GssapiCredStore keytab:/etc/apache2/http.service-key\n    Require valid-user\n  </Location>\n</VirtualHost>\n')
    await plant('/etc/apache2/http.service-key', keytab('mod_auth_gssapi'), 0o640, WWW)
    await plant('/etc/apache2/conf-available/kerb-auth.conf', '<Directory /srv/www/private>\n\tAuthType Kerberos\n\tKrbAuthRealms EXAMPLE.NET\n\tKrb5Keytab /etc/apache2/krb5.http\n\tRequire valid-user\n</Directory>\n')
    await plant('/etc/apache2/krb5.http', keytab('mod_auth_kerb'), 0o640, WWW)
    await plant('/etc/apache2/sites-available/wiki.conf', '<VirtualHost *:443>\n  ServerName wiki.example.net\n  <Location />\n    Include /etc/wiki/apache-auth.conf\n  </Location>\n</VirtualHost>\n')
    await plant('/etc/wiki/apache-auth.conf', 'AuthType GSSAPI\nAuthName "Wiki"\nGssapiCredStore "client_keytab:/etc/wiki/wiki.creds"\nRequire valid-user\n')
    await plant('/etc/wiki/wiki.creds', keytab('an Apache include'), 0o640, WWW)
    // 2. nginx's spnego module, in a site and in a file it includes.
    await plant('/etc/nginx/sites-available/intranet', 'server {\n    listen 443 ssl;\n    server_name intranet.example.net;\n    location / {\n        auth_gss on;\n        auth_gss_realm EXAMPLE.NET;\n        auth_gss_keytab /etc/nginx/krb5.http;\n        auth_gss_service_name HTTP/intranet.example.net;\n    }\n    location /api {\n        include /etc/gss/nginx-gss.conf;\n    }\n}\n')
    await plant('/etc/nginx/krb5.http', keytab('nginx'), 0o640, WWW)
    await plant('/etc/gss/nginx-gss.conf', 'auth_gss on;\nauth_gss_keytab "/etc/gss/nginx.creds";\n')
    await plant('/etc/gss/nginx.creds', keytab('an nginx include'), 0o640, WWW)
    // 3. Samba's dedicated keytab, in smb.conf and in a file it includes.
    await plant('/etc/samba/smb.conf', '[global]\n   workgroup = EXAMPLE\n   realm = EXAMPLE.NET\n   security = ads\n   kerberos method = dedicated keytab\n   dedicated keytab file = /etc/samba/smb.service-key\n   include = /etc/samba/shares.conf\n')
    await plant('/etc/samba/smb.service-key', keytab('samba'), 0o640, WWW)
    await plant('/etc/samba/shares.conf', '[data]\n   path = /srv/data\n   read only = no\n[global]\n   dedicatedkeytabfile = FILE:/etc/samba/shares.creds\n')
    await plant('/etc/samba/shares.creds', keytab('a Samba include'), 0o640, WWW)
    // Samba's password database of another name (smbpasswd's lines: an NT hash is a password's equal).
    await appendFile(join(root.rootfs.dir, 'etc/samba/smb.conf'), '   passdb backend = smbpasswd:/etc/samba/users.db\n')
    await plant('/etc/samba/users.db', `ops:1001:${'X'.repeat(32)}:${secret("an NT hash in Samba's password database of another name", fakeChars('s40-nt', 32, '0123456789ABCDEF'))}:[U          ]:LCT-65A1B2C3:\n`, 0o640, ADM)
    // Apache's environment: mod_auth_gssapi without GssapiCredStore reads KRB5_KTNAME.
    await plant('/etc/apache2/envvars', 'unset HOME\nexport APACHE_RUN_USER=www-data\nexport APACHE_RUN_GROUP=www-data\nexport KRB5_KTNAME=FILE:/etc/apache2/gss.http\n')
    await plant('/etc/apache2/gss.http', keytab('envvars'), 0o640, WWW)
    // 4. A KDC's stash at MIT's default name (kdc.conf says none) and its database.
    await plant('/etc/krb5kdc/kdc.conf', '[kdcdefaults]\n    kdc_ports = 750,88\n\n[realms]\n    EXAMPLE.NET = {\n        max_life = 10h 0m 0s\n        supported_enctypes = aes256-cts:normal\n    }\n    LDAP.EXAMPLE.NET = {\n        database_module = openldap_ldapconf\n    }\n\n[dbmodules]\n    openldap_ldapconf = {\n        db_library = kldap\n        ldap_kdc_dn = "cn=kdc-service,dc=example,dc=net"\n        ldap_service_password_file = /etc/krb5kdc/ldap.service-creds\n        ldap_servers = ldapi:///\n    }\n')
    // kdb5_ldap_util stashsrvpw's file: the bind DN and its password in hex.
    await plant('/etc/krb5kdc/ldap.service-creds', `cn=kdc-service,dc=example,dc=net#{HEX}${secret("the KDC's LDAP bind password stash", Buffer.from(words('ldapstash')).toString('hex'))}\n`, 0o640, ADM)
    await plant('/etc/krb5kdc/.k5.EXAMPLE.NET', Buffer.concat([Buffer.from([0, 18, 0, 0, 0, 32]), Buffer.from(secret("a KDC's master key stash", v('stash', 32)))]), 0o640, ADM)
    await plant('/var/lib/krb5kdc/principal', Buffer.concat([Buffer.from([0, 0, 0, 0, 1, 0, 0, 0, 0x62, 0x31, 5, 0]), Buffer.from('K/M@EXAMPLE.NET\0'), Buffer.from(secret("a KDC's principal database", v('principal', 40)))]), 0o640, ADM)
    // 5. A script cron runs that cds to the job's home: a user's crontab (the owner's home), /etc/crontab's HOME= line.
    await appendFile(join(root.rootfs.dir, 'etc/passwd'), 'ops:x:1001:1001:Ops:/home/ops:/bin/bash\n')
    await appendFile(join(root.rootfs.dir, 'etc/group'), 'ops:x:1001:\n')
    await plant('/var/spool/cron/crontabs/ops', '# m h dom mon dow command\n30 2 * * * /opt/backup/nightly.sh\n40 2 * * * /bin/sh /opt/backup/b2.sh\n', 0o600, [1001, 1001])
    await plant('/opt/backup/nightly.sh', '#!/bin/sh\nset -e\ncd $HOME\nrestic -r /srv/restic --password-file .restic-repo backup /srv/data\n', 0o755)
    await plant('/opt/backup/b2.sh', '#!/bin/sh\ncd ~/b2 || exit 1\nrestic -r b2:bucket --password-file ./offsite.words check\n', 0o755)
    await plant('/home/ops/.restic-repo', `${secret("a cron script's relative word after cd $HOME", words('cdhome'))}\n`, 0o640, [1001, 1001])
    await plant('/home/ops/b2/offsite.words', `${secret("a cron script's relative word after cd ~/b2", words('cdtilde'))}\n`, 0o644, [1001, 1001])
    await appendFile(join(root.rootfs.dir, 'etc/crontab'), 'HOME=/srv/jobs\n15 4 * * * root /opt/jobs/run.sh\n')
    await plant('/opt/jobs/run.sh', '#!/bin/sh\ncd "${HOME}" && rsync -a --password-file=jobs.words data/ nas::data\n', 0o755)
    await plant('/srv/jobs/jobs.words', `${secret("a cron script's relative word after cd \${HOME} of a HOME= line", words('homeline'))}\n`, 0o640, ADM)
    // 6. A script a unit runs as its User= (systemd sets HOME to that account's home) that cds to ~.
    await appendFile(join(root.rootfs.dir, 'etc/passwd'), 'offsite:x:990:990::/srv/offsite:/usr/sbin/nologin\n')
    await appendFile(join(root.rootfs.dir, 'etc/group'), 'offsite:x:990:\n')
    await plant('/etc/systemd/system/offsite.service', '[Unit]\nDescription=offsite copy\n\n[Service]\nType=oneshot\nUser=offsite\nExecStart=/opt/offsite/run.sh\n')
    await plant('/opt/offsite/run.sh', '#!/bin/sh\ncd ~ || exit 1\nrestic -r sftp:nas:/offsite --password-file offsite.words backup /srv/data\n', 0o755)
    await plant('/srv/offsite/offsite.words', `${secret("a unit's script's relative word after cd ~ (its User='s home)", words('unithome'))}\n`, 0o640, [990, 990])
    await root.snapshotInit()
  })
  after(async () => {
    await root?.cleanup()
  })

  it('keeps every planted value out of every object, ref and the config of the twin, and out of the output', async () => {
    const entryOf = await root.assertKeptOut(HELD, MIRRORED)
    // A binary file not held out is recorded with its plain sha256 (an offline test of a password its key was made from).
    assert.deepEqual(HELD.filter((path) => entryOf(path)?.sha256 !== undefined), [], 'recorded with a plain sha256')
  })
})
