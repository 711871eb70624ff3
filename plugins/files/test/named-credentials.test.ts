import { strict as assert } from 'node:assert'
import { readFileSync } from 'node:fs'
import { cachedByFileStats, MemoryCache, MemoryTwin, RACY_MS, type HostPort } from '@twinsync/sdk'
import { createTestContext } from '@twinsync/sdk/conformance'
import { fakeChars } from '../../../test/fixtures/secrets/samples.js'
import { assertLinearTime } from '../../../test/support/linear-time.js'
import { FilesProvider, type Manifest } from '../src/index.js'
import { LINE_VALUES, NAMING_RULES, namedCredentialFiles } from '../src/named-credentials.js'
import { TargetRoot } from './target-root.js'

/** A context whose host throws: a pushed twin's secretPaths works from the twin's own copies, never the machine. */
function twinOnly() {
  return {
    ...createTestContext(new TargetRoot().dir, { config: { include: ['/etc'] } }),
    host: new Proxy({}, { get: () => { throw new Error('secretPaths read the machine') } }) as HostPort,
  }
}

/** A pushed twin of `files` (machine path, text) names exactly `held` of `held` and `beside`. */
async function assertTwinNames(files: ReadonlyArray<readonly [string, string]>, held: readonly string[], beside: readonly string[]): Promise<void> {
  const twin = new MemoryTwin(files.map(([path, content]) => ({ path: `filesystem${path}`, content })))
  const asked = [...held, ...beside].map((path) => `filesystem${path}`)
  const found = await new FilesProvider().secretPaths({ paths: asked, twin, ctx: twinOnly() })
  assert.deepEqual(found.map((f) => f.path).sort(), held.map((path) => `filesystem${path}`).sort())
}

/**
 * A machine of `files` (a script, `.sh`, executable), each `secrets` file and what is `beside` them
 * (nothing names it: the same names elsewhere), world-readable: no mode says they are secrets.
 */
function plantedMachine(files: ReadonlyArray<readonly [string, string]>, secrets: ReadonlyArray<readonly [string, string]>, beside: readonly string[]): TargetRoot {
  const root = new TargetRoot()
  for (const [path, text] of files) root.file(path, text, { mode: path.endsWith('.sh') ? 0o755 : 0o644 })
  for (const [path, text] of secrets) root.file(path, text, { mode: 0o644 })
  for (const path of beside) root.file(path, 'not named\n', { mode: 0o644 })
  return root
}

/** namedCredentialFiles on `root` (the homes given, if any) names each of `held` and none of `beside`; `root` removed after. */
async function assertMachineNames(root: TargetRoot, held: readonly string[], beside: readonly string[], homes?: readonly string[]): Promise<void> {
  try {
    const named = await namedCredentialFiles(createTestContext(root.dir).host, new MemoryCache(), ...(homes === undefined ? [] : [[...homes]]))
    assert.deepEqual(held.filter((p) => !named.includes(p)), [], 'not named')
    assert.deepEqual(beside.filter((p) => named.includes(p)), [], 'named')
  } finally {
    root.remove()
  }
}

/** The files provider's collect of `root` over `include`: its documents and the manifest's entry of each machine path. */
async function collected(root: TargetRoot, include: string[]): Promise<{ documents: Array<{ path: string; content: unknown }>; entry: (path: string) => Manifest['entries'][number] | undefined }> {
  const ctx = createTestContext(root.dir, { config: { include }, cache: new MemoryCache() })
  const { documents } = await new FilesProvider().collect({ ctx })
  const manifest = JSON.parse(String(documents.find((d) => d.path === 'system/files/manifest.json')?.content)) as Manifest
  return { documents, entry: (path) => manifest.entries.find((e) => e.path === path) }
}

const hostapd = ['interface=wlan1', 'ssid=office', 'wpa_psk_file=/etc/hostapd/stations', '#eap_user_file=/etc/hostapd/commented', 'eap_user_file=radius-users', ''].join('\n')
const mongod = ['storage:', '  dbPath: /var/lib/mongodb', 'security:', '  authorization: enabled', '  keyFile: "/etc/mongodb/rs0.key"  # the replica set\'s', ''].join('\n')
const pam = ['#%PAM-1.0', '# auth required pam_userdb.so db=/etc/vsftpd/old', 'auth required pam_userdb.so crypt=crypt db=/etc/vsftpd/virtual_users', 'account required pam_userdb.so db=/etc/vsftpd/virtual_users', ''].join('\n')
const pwdfile = 'auth required pam_pwdfile.so pwdfile=/etc/vsftpd/ftpd.passwd\n'

/**
 * Session 21: credential files another service's config names under any name (hostapd's
 * wpa_psk_file and eap_user_file, MongoDB's keyFile, PAM's pam_userdb and pam_pwdfile files):
 * held out by the config on the machine, and named in a pushed twin by the config in that twin.
 */
describe('credential files other configs name (session 21)', () => {
  const base = () =>
    new TargetRoot()
      .file('/etc/passwd', 'root:x:0:0:root:/root:/bin/bash\n')
      .file('/etc/group', 'root:x:0:\n')
      .file('/var/lib/dpkg/status', '')
      .file('/var/lib/dpkg/diversions', '')

  it('names what hostapd, mongod, PAM and lighttpd configs name; not a commented line, not another config', async () => {
    const root = base()
      .file('/etc/hostapd/office.conf', hostapd)
      .file('/etc/hostapd/hostapd.deny', '02:00:00:00:00:01\n')
      .file('/etc/mongod.conf', mongod)
      .file('/etc/mongodb.conf', 'dbpath=/var/lib/mongodb\nkeyFile = /srv/mongo/key\n')
      .file('/etc/pam.d/vsftpd.virtual', pam)
      .file('/etc/pam.d/ftp-pwdfile', pwdfile)
      .file('/etc/pam.d/sshd', '@include common-auth\n')
      .file('/etc/lighttpd/conf-available/05-auth.conf', 'auth.backend = "plain"\nauth.backend.plain.userfile = "/etc/lighttpd/lighttpd.user"\n')
      .file('/etc/lighttpd/lighttpd.conf', 'server.port = 80\n# auth.backend.plain.userfile = "/etc/lighttpd/old.user"\n')
    try {
      assert.deepEqual((await namedCredentialFiles(createTestContext(root.dir).host)).sort(), [
        '/etc/hostapd/radius-users',
        '/etc/hostapd/stations',
        '/etc/lighttpd/lighttpd.user',
        '/etc/mongodb/rs0.key',
        '/etc/vsftpd/ftpd.passwd',
        '/etc/vsftpd/virtual_users',
        '/etc/vsftpd/virtual_users.*',
        '/srv/mongo/key',
      ])
      assert.deepEqual(await namedCredentialFiles(createTestContext(base().dir).host), [])
    } finally {
      root.remove()
    }
  })

  it('the files provider holds each named file out by its path, whoever may read it; a file beside them that nothing names is mirrored', async () => {
    const pw = fakeChars('s21-named', 16)
    const root = base()
      .file('/etc/hostapd/office.conf', hostapd, { mode: 0o600 })
      .file('/etc/hostapd/stations', `02:00:00:00:03:01 ${pw}a\n`, { mode: 0o644 })
      .file('/etc/hostapd/radius-users', `"carol" MSCHAPV2 "${pw}b" [2]\n`, { mode: 0o600 })
      .file('/etc/mongod.conf', mongod)
      .file('/etc/mongodb/rs0.key', `${fakeChars('s21-key', 64, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/')}\n${pw}c\n${pw}c\n`, { mode: 0o400, uid: 999, gid: 999 })
      .file('/etc/pam.d/vsftpd.virtual', pam)
      .file('/etc/vsftpd/virtual_users.txt', `scanner\n${pw}d\nwebsite\n${pw}e\n`, { mode: 0o644 })
      .file('/etc/vsftpd/user_list', 'root\nftp\n', { mode: 0o644 })
    try {
      const ctx = createTestContext(root.dir, { config: { include: ['/etc'] }, cache: new MemoryCache() })
      const { documents } = await new FilesProvider().collect({ ctx })
      const manifest = JSON.parse(String(documents.find((d) => d.path === 'system/files/manifest.json')?.content)) as Manifest
      for (const path of ['/etc/hostapd/stations', '/etc/hostapd/radius-users', '/etc/mongodb/rs0.key', '/etc/vsftpd/virtual_users.txt']) {
        assert.equal(manifest.entries.find((e) => e.path === path)?.secretReason, 'path rule', path)
      }
      assert.equal(manifest.entries.find((e) => e.path === '/etc/vsftpd/user_list')?.content, 'mirrored')
      assert.ok(!documents.some((d) => Buffer.from(d.content).toString('latin1').includes(pw)))
    } finally {
      root.remove()
    }
  })

  it('reads the configs again only when one of them moved, and lists a folder again only when it moved', async () => {
    const reads: string[] = []
    const listed: string[] = []
    let size = 40
    const host = {
      lstat: async (path: string) =>
        path === '/etc/pam.d/vsftpd.virtual'
          ? { type: 'file' as const, mode: 0o644, uid: 0, gid: 0, size, mtimeMs: 1e12, ctimeMs: 1e12, ino: 7, dev: 1, nlink: 1 }
          : path === '/etc/pam.d'
            ? { type: 'directory' as const, mode: 0o755, uid: 0, gid: 0, size: 4096, mtimeMs: 1e12, ctimeMs: 1e12, ino: 6, dev: 1, nlink: 2 }
            : undefined,
      stat: async () => undefined,
      readlink: async (): Promise<string> => {
        throw new Error('no link here')
      },
      readdir: async (path: string) => {
        listed.push(path)
        return path === '/etc/pam.d' ? [{ name: 'vsftpd.virtual', type: 'file' as const }] : []
      },
      readTextIfExists: async (path: string) => {
        reads.push(path)
        return pam
      },
    }
    const cache = new MemoryCache()
    const expected = ['/etc/vsftpd/virtual_users', '/etc/vsftpd/virtual_users.*']
    assert.deepEqual(await namedCredentialFiles(host, cache), expected)
    assert.deepEqual(await namedCredentialFiles(host, cache), expected)
    assert.equal(reads.length, 1)
    assert.deepEqual(listed, ['/etc/pam.d'])
    size = 41
    assert.deepEqual(await namedCredentialFiles(host, cache), expected)
    assert.equal(reads.length, 2)
    assert.deepEqual(listed, ['/etc/pam.d'])
  })

  it('a pushed twin: names the files its own configs name, by rule, and a commit that adds a config names the files it makes secret', async () => {
    const twin = new MemoryTwin([
      { path: 'filesystem/etc/hostapd/office.conf', content: hostapd },
      { path: 'filesystem/etc/mongod.conf', content: mongod },
      { path: 'filesystem/etc/pam.d/vsftpd.virtual', content: pam },
      { path: 'filesystem/etc/vsftpd/virtual_users.txt', content: 'scanner\nnot-looked-at\n' },
      { path: 'filesystem/etc/vsftpd/user_list', content: 'root\nftp\n' },
    ])
    const asked = ['filesystem/etc/hostapd/stations', 'filesystem/etc/hostapd/radius-users', 'filesystem/etc/hostapd/hostapd.deny', 'filesystem/etc/mongodb/rs0.key', 'filesystem/etc/vsftpd/virtual_users.db', 'filesystem/etc/vsftpd/user_list']
    const found = await new FilesProvider().secretPaths({ paths: asked, twin, ctx: twinOnly() })
    assert.deepEqual(found.map((f) => [f.path, f.rule]), [
      ['filesystem/etc/hostapd/radius-users', 'hostapd credential file'],
      ['filesystem/etc/hostapd/stations', 'hostapd credential file'],
      ['filesystem/etc/mongodb/rs0.key', 'MongoDB key file'],
      ['filesystem/etc/vsftpd/virtual_users.db', 'PAM user database'],
    ])
    const added = await new FilesProvider().secretPaths({ paths: ['filesystem/etc/pam.d/vsftpd.virtual'], twin, ctx: twinOnly() })
    assert.deepEqual(added.map((f) => f.path), ['filesystem/etc/vsftpd/virtual_users.txt'])
    // Without the configs in the twin (the machine's do not count), none.
    assert.deepEqual(await new FilesProvider().secretPaths({ paths: asked, twin: new MemoryTwin(), ctx: twinOnly() }), [])
  })

  it('session 22: reads a PAM service that is a link, pam_pwdfile\'s `pwdfile PATH`, vsftpd\'s own credential files and Cyrus SASL\'s sasldb_path', async () => {
    const root = base()
      .file('/etc/vsftpd.conf', 'listen=YES\npam_service_name=ftp-virtual\nsecure_email_list_enable=YES\nrsa_private_key_file=/etc/vsftpd/tls.key\nuser_config_dir=/etc/vsftpd/users\n')
      .file('/etc/vsftpd/pam/ftp-virtual', 'auth required pam_userdb.so db=/etc/vsftpd/accounts\n')
      .link('/etc/pam.d/ftp-virtual', '/etc/vsftpd/pam/ftp-virtual')
      .file('/etc/pam.d/ftp-pwdfile', 'auth required pam_pwdfile.so pwdfile /etc/vsftpd/ftpd.passwd\n')
      .file('/etc/postfix/sasl/smtpd.conf', 'pwcheck_method: auxprop\nauxprop_plugin: sasldb\nsasldb_path: /etc/postfix/sasl/users\n')
    try {
      assert.deepEqual((await namedCredentialFiles(createTestContext(root.dir).host)).sort(), [
        '/etc/postfix/sasl/users',
        '/etc/postfix/sasl/users.*',
        '/etc/vsftpd.email_passwords',
        '/etc/vsftpd/accounts',
        '/etc/vsftpd/accounts.*',
        '/etc/vsftpd/ftpd.passwd',
        '/etc/vsftpd/tls.key',
      ])
      // email_password_file named: that file, not the default.
      const named = base().file('/etc/vsftpd/vsftpd.conf', 'secure_email_list_enable=YES\nemail_password_file=/etc/vsftpd/anon.list\n')
      try {
        assert.deepEqual(await namedCredentialFiles(createTestContext(named.dir).host), ['/etc/vsftpd/anon.list'])
      } finally {
        named.remove()
      }
    } finally {
      root.remove()
    }
  })

  it('session 22: the files provider holds out binary credential stores and the machine id by their paths (metadata and a keyed hash kept)', async () => {
    const pw = fakeChars('s22-stores', 16)
    const id = fakeChars('s22-machine', 32, '0123456789abcdef')
    const root = base()
      .file('/etc/sasldb2', Buffer.from(`\0\0\0\0relay\0mail.example.org\0userPassword\0${pw}a\0`, 'latin1'), { mode: 0o640, gid: 8 })
      .file('/etc/elasticsearch/elasticsearch.keystore', Buffer.from(`?\xd7l\x17\0elasticsearch.keystore\0${pw}b`, 'latin1'), { mode: 0o660 })
      .file('/etc/ssl/app/server.p12', Buffer.from(`0\x82\x0a\0${pw}c`, 'latin1'))
      .file('/etc/machine-id', `${id}\n`, { mode: 0o444 })
    try {
      const ctx = createTestContext(root.dir, { config: { include: ['/etc'] }, cache: new MemoryCache() })
      const { documents } = await new FilesProvider().collect({ ctx })
      const manifest = JSON.parse(String(documents.find((d) => d.path === 'system/files/manifest.json')?.content)) as Manifest
      for (const path of ['/etc/sasldb2', '/etc/elasticsearch/elasticsearch.keystore', '/etc/ssl/app/server.p12', '/etc/machine-id']) {
        const entry = manifest.entries.find((e) => e.path === path)
        assert.equal(entry?.secretReason, 'path rule', path)
        assert.match(String(entry?.secretHash), /^hmac-sha256:/, path)
      }
      const all = documents.map((d) => Buffer.from(d.content).toString('latin1')).join('\n')
      assert.ok(!all.includes(pw) && !all.includes(id))
    } finally {
      root.remove()
    }
  })

  it('session 29: names what a unit\'s LoadCredential= names in /etc/systemd/system and its drop-ins (a file, a folder); not a credential store name, a packaged unit, a comment', async () => {
    const root = base()
      .file('/etc/systemd/system/myapp.service', '[Service]\nLoadCredential=db:/etc/myapp/db.conf\nLoadCredential=s3:/etc/myapp/creds/\nLoadCredential=tls\n# LoadCredential=old:/etc/myapp/old\nExecStart=/usr/local/bin/myapp\n')
      .file('/etc/systemd/system/worker.service.d/override.conf', '[Service]\nLoadCredentialEncrypted=smtp:/etc/worker/smtp.cred\n')
      .file('/etc/systemd/system/other.timer', '[Timer]\nLoadCredential=x:/etc/not/a/service\n')
      .file('/lib/systemd/system/vendor.service', '[Service]\nLoadCredential=v:/etc/vendor/key\n')
    try {
      const cache = new MemoryCache()
      const expected = ['/etc/myapp/creds', '/etc/myapp/creds/**', '/etc/myapp/db.conf', '/etc/myapp/db.conf/**', '/etc/worker/smtp.cred', '/etc/worker/smtp.cred/**']
      assert.deepEqual((await namedCredentialFiles(createTestContext(root.dir).host, cache)).sort(), expected)
      // Again from the cache (folders and configs unchanged).
      assert.deepEqual((await namedCredentialFiles(createTestContext(root.dir).host, cache)).sort(), expected)
    } finally {
      root.remove()
    }
  })

  it('session 29: the files provider holds out a file LoadCredential= names, world-readable and of no shape the detector knows, and every file of a named folder', async () => {
    const root = base()
      .file('/etc/systemd/system/myapp.service', '[Service]\nLoadCredential=db:/etc/myapp/db.conf\nLoadCredential=s3:/etc/myapp/creds/\n')
      .file('/etc/myapp/db.conf', 'battery staple horse\n', { mode: 0o644 })
      .file('/etc/myapp/creds/s3', 'plain words here\n', { mode: 0o644 })
      .file('/etc/myapp/app.conf', 'listen 8080\n', { mode: 0o644 })
    try {
      const ctx = createTestContext(root.dir, { config: { include: ['/etc'] }, cache: new MemoryCache() })
      const { documents } = await new FilesProvider().collect({ ctx })
      const manifest = JSON.parse(String(documents.find((d) => d.path === 'system/files/manifest.json')?.content)) as Manifest
      const entry = (path: string) => manifest.entries.find((e) => e.path === path)
      assert.equal(entry('/etc/myapp/db.conf')?.secret, true)
      assert.equal(entry('/etc/myapp/creds/s3')?.secret, true)
      assert.equal(entry('/etc/myapp/app.conf')?.secret, undefined)
      assert.equal(entry('/etc/systemd/system/myapp.service')?.secret, undefined)
    } finally {
      root.remove()
    }
  })

  it("session 30: names what a unit's EnvironmentFile= names (each file of the line, `-`, quotes, specifiers) and stunnel's PSKsecrets; not a vendor unit's, a comment, another stunnel setting", async () => {
    const root = base()
      .file('/etc/systemd/system/webapp.service', '[Service]\nEnvironmentFile=-/etc/default/webapp "/etc/webapp/runtime.env"\n#EnvironmentFile=/etc/webapp/old.env\nExecStart=/usr/local/bin/webapp\n')
      .file('/etc/systemd/system/worker@.service', '[Service]\nEnvironmentFile=%E/worker/%i.env\nEnvironmentFile=\n')
      .file('/etc/systemd/system/cron.service.d/env.conf', '[Service]\nEnvironmentFile=/etc/cron.env\n')
      .file('/lib/systemd/system/ssh.service', '[Service]\nEnvironmentFile=-/etc/default/ssh\n')
      .file('/etc/stunnel/redis.conf', '[redis]\naccept = 6380\nconnect = 127.0.0.1:6379\nPSKsecrets = /etc/stunnel/psk.txt\nPSKidentity = app1\n')
      .file('/etc/stunnel/pg.conf', '; psksecrets = /etc/stunnel/old.txt\n[pg]\npsksecrets = psk-pg.txt\n')
      .file('/etc/stunnel/README', 'PSKsecrets = /etc/stunnel/not-a-config\n')
    try {
      const cache = new MemoryCache()
      const expected = ['/etc/cron.env', '/etc/default/webapp', '/etc/stunnel/psk-pg.txt', '/etc/stunnel/psk.txt', '/etc/webapp/runtime.env', '/etc/worker/*.env']
      assert.deepEqual((await namedCredentialFiles(createTestContext(root.dir).host, cache)).sort(), expected)
      assert.deepEqual((await namedCredentialFiles(createTestContext(root.dir).host, cache)).sort(), expected)
    } finally {
      root.remove()
    }
  })

  it('session 30: a list cached under the rules before (the same units, unchanged) is not taken: what EnvironmentFile= names is held out', async () => {
    const root = base()
      .file('/etc/systemd/system/webapp.service', '[Service]\nEnvironmentFile=/etc/webapp/runtime.env\n')
      .file('/etc/webapp/runtime.env', `LISTEN=127.0.0.1:8080\nWORKERS=4\nAPP_DB_CONN=${fakeChars('s30-envfile', 24)}\n`, { mode: 0o644 })
    try {
      const cache = new MemoryCache()
      // What session 29's rules read from these configs (nothing), cached under its key as it wrote it, the unit no longer racy.
      await new Promise((resolve) => setTimeout(resolve, 3 * RACY_MS))
      const st = await createTestContext(root.dir).host.lstat('/etc/systemd/system/webapp.service')
      assert.ok(st !== undefined)
      assert.deepEqual(await cachedByFileStats(cache, 'named-credential-files', [{ path: '/etc/systemd/system/webapp.service', stat: st }], Date.now(), async () => []), [])
      const ctx = createTestContext(root.dir, { config: { include: ['/etc'] }, cache })
      const { documents } = await new FilesProvider().collect({ ctx })
      const manifest = JSON.parse(String(documents.find((d) => d.path === 'system/files/manifest.json')?.content)) as Manifest
      assert.equal(manifest.entries.find((e) => e.path === '/etc/webapp/runtime.env')?.secret, true)
      assert.equal(manifest.entries.find((e) => e.path === '/etc/systemd/system/webapp.service')?.secret, undefined)
    } finally {
      root.remove()
    }
  })

  it("session 31: names rsync's secrets file, OpenSMTPD's auth tables, crypttab's key files and kube-apiserver's token and basic-auth files; not a table no auth uses, a device, a key on another device, a comment", async () => {
    const root = base()
      .file('/etc/rsyncd.conf', 'uid = nobody\n[backup]\n  path = /srv/backup\n  auth users = backup\n  secrets file = /etc/rsync/users.secrets\n# secrets file = /etc/rsync/old\n')
      .file('/etc/smtpd.conf', 'table aliases file:/etc/aliases\ntable secrets file:/etc/smtpd/relay-auth\ntable users db:/etc/smtpd/users\nlisten on 0.0.0.0 tls auth <users>\naction "relay" relay host smtp+tls://bob@smtp.example.org auth <secrets>\n')
      .file('/etc/crypttab', '# <target> <source> <key file> <options>\ndata UUID=0d3c-1 /etc/luks/data.key luks\nswap /dev/sdb2 /dev/urandom swap\nroot UUID=0d3c-2 none luks\nusb UUID=0d3c-3 /key.bin:UUID=0d3c-4 luks\n')
      .file('/etc/kubernetes/manifests/kube-apiserver.yaml', 'spec:\n  containers:\n  - command:\n    - kube-apiserver\n    - --token-auth-file=/etc/kubernetes/auth/tokens.csv\n    - --basic-auth-file /etc/kubernetes/auth/users.csv\n')
      .file('/etc/rancher/k3s/config.yaml', 'kube-apiserver-arg:\n  - "token-auth-file=/etc/rancher/k3s/static-tokens.csv"\n')
      .file('/etc/systemd/system/kube-apiserver.service', '[Service]\nExecStart=/usr/local/bin/kube-apiserver --token-auth-file=/srv/kube/tokens.csv\n')
    try {
      const cache = new MemoryCache()
      const expected = [
        '/etc/kubernetes/auth/tokens.csv',
        '/etc/kubernetes/auth/users.csv',
        '/etc/luks/data.key',
        '/etc/rancher/k3s/static-tokens.csv',
        '/etc/rsync/users.secrets',
        '/etc/smtpd/relay-auth',
        '/etc/smtpd/relay-auth.db',
        '/etc/smtpd/users',
        '/etc/smtpd/users.db',
        '/srv/kube/tokens.csv',
      ]
      assert.deepEqual((await namedCredentialFiles(createTestContext(root.dir).host, cache)).sort(), expected)
      assert.deepEqual((await namedCredentialFiles(createTestContext(root.dir).host, cache)).sort(), expected)
    } finally {
      root.remove()
    }
  })

  it('session 31: the files provider holds out what they name, world-readable or root-only, of no shape the detector knows; the configs are mirrored', async () => {
    const root = base()
      .file('/etc/rsyncd.conf', '[backup]\n  path = /srv/backup\n  secrets file = /etc/rsync/users.secrets\n')
      .file('/etc/rsync/users.secrets', `backup:${fakeChars('s31-rsync', 12)}\nops:${fakeChars('s31-rsync2', 12)}\nci:${fakeChars('s31-rsync3', 12)}\n`, { mode: 0o600 })
      .file('/etc/kubernetes/manifests/kube-apiserver.yaml', '    - --token-auth-file=/etc/kubernetes/auth/tokens.csv\n')
      .file('/etc/kubernetes/auth/tokens.csv', `${fakeChars('s31-kube', 20)},admin,admin,"system:masters"\n`, { mode: 0o644 })
      .file('/etc/crypttab', 'data UUID=0d3c-1 /etc/luks/data.key luks\n')
      .file('/etc/luks/data.key', 'battery staple horse\n', { mode: 0o400 })
    try {
      const ctx = createTestContext(root.dir, { config: { include: ['/etc'] }, cache: new MemoryCache() })
      const { documents } = await new FilesProvider().collect({ ctx })
      const manifest = JSON.parse(String(documents.find((d) => d.path === 'system/files/manifest.json')?.content)) as Manifest
      const entry = (path: string) => manifest.entries.find((e) => e.path === path)
      for (const path of ['/etc/rsync/users.secrets', '/etc/kubernetes/auth/tokens.csv', '/etc/luks/data.key']) assert.equal(entry(path)?.secretReason, 'path rule', path)
      for (const path of ['/etc/rsyncd.conf', '/etc/crypttab', '/etc/kubernetes/manifests/kube-apiserver.yaml']) assert.equal(entry(path)?.content, 'mirrored', path)
    } finally {
      root.remove()
    }
  })

  it('session 31: a list cached under the rules before (version 16) for the same unchanged unit is not taken: the token file its ExecStart= names is held out', async () => {
    const unit = '/etc/systemd/system/kube-apiserver.service'
    const root = base()
      .file(unit, '[Service]\nExecStart=/usr/local/bin/kube-apiserver --token-auth-file=/etc/kube/tokens.csv\n')
      .file('/etc/kube/tokens.csv', `${fakeChars('s31-kube-unit', 20)},admin,admin,"system:masters"\n`, { mode: 0o644 })
    try {
      const cache = new MemoryCache()
      // What session 30's rules read from this unit (nothing), cached under their key, the unit no longer racy.
      await new Promise((resolve) => setTimeout(resolve, 3 * RACY_MS))
      const stat = await createTestContext(root.dir).host.lstat(unit)
      assert.ok(stat !== undefined)
      assert.deepEqual(await cachedByFileStats(cache, 'named-credential-files-v16', [{ path: unit, stat }], Date.now(), async () => []), [])
      assert.deepEqual(await cachedByFileStats(cache, 'named-credential-files-v16', [{ path: unit, stat }], Date.now(), async () => ['taken again']), [])
      const ctx = createTestContext(root.dir, { config: { include: ['/etc'] }, cache })
      const { documents } = await new FilesProvider().collect({ ctx })
      const manifest = JSON.parse(String(documents.find((d) => d.path === 'system/files/manifest.json')?.content)) as Manifest
      assert.equal(manifest.entries.find((e) => e.path === '/etc/kube/tokens.csv')?.secretReason, 'path rule')
    } finally {
      root.remove()
    }
  })

  const userBase = () =>
    new TargetRoot()
      .file('/etc/passwd', 'root:x:0:0:root:/root:/bin/bash\nbob:x:1000:1000:Bob:/home/bob:/bin/bash\ncarol:x:1001:1001:Carol:/home/carol:/bin/bash\n')
      .file('/etc/group', 'root:x:0:\nbob:x:1000:\ncarol:x:1001:\n')
      .file('/var/lib/dpkg/status', '')
      .file('/var/lib/dpkg/diversions', '')

  it("session 32: names what user units' EnvironmentFile= and LoadCredential= name (/etc/systemd/user, a home's ~/.config/systemd/user, drop-ins; specifiers); not a home not asked about", async () => {
    const root = userBase()
      .file('/etc/systemd/user/sync.service', '[Service]\nEnvironmentFile=%h/.config/sync/sync.env\nExecStart=/usr/bin/sync-agent\n')
      .file('/home/bob/.config/systemd/user/notes.service', '[Service]\nEnvironmentFile=-%E/notes/notes.env /home/bob/.notes.env\nLoadCredential=token:%h/.config/notes/token\n#EnvironmentFile=%h/old.env\nExecStart=%h/bin/notes\n')
      .file('/home/bob/.config/systemd/user/notes.service.d/override.conf', '[Service]\nEnvironmentFile=%S/notes/state.env\n')
      .file('/home/bob/.config/systemd/user/default.target', '[Unit]\nDescription=not a service\n')
      .file('/home/carol/.config/systemd/user/mail.service', '[Service]\nEnvironmentFile=%h/.config/mail/mail.env\n')
      .file('/etc/systemd/system/backup.service', '[Service]\nEnvironmentFile=%h/backup.env\nEnvironmentFile=%S/backup/state.env\n')
    try {
      const cache = new MemoryCache()
      const expected = [
        '/home/*/.config/sync/sync.env',
        '/home/bob/.config/notes/notes.env',
        '/home/bob/.config/notes/token',
        '/home/bob/.config/notes/token/**',
        '/home/bob/.local/state/notes/state.env',
        '/home/bob/.notes.env',
        '/root/.config/sync/sync.env',
        '/root/backup.env',
        '/var/lib/backup/state.env',
      ]
      const host = createTestContext(root.dir).host
      assert.deepEqual((await namedCredentialFiles(host, cache, ['/root', '/home/bob'])).sort(), expected)
      assert.deepEqual((await namedCredentialFiles(host, cache, ['/root', '/home/bob'])).sort(), expected)
      assert.ok((await namedCredentialFiles(host, undefined, ['/home/carol'])).includes('/home/carol/.config/mail/mail.env'))
    } finally {
      root.remove()
    }
  })

  it("session 32: the files provider holds out the file a user unit's EnvironmentFile= names under ~/.config, of no shape the detector knows; the unit is mirrored; a pushed twin names it too", async () => {
    const value = fakeChars('s32-user-unit', 24)
    const root = userBase()
      .file('/home/bob/.config/systemd/user/notes.service', '[Service]\nEnvironmentFile=%h/.config/notes/notes.env\nExecStart=/usr/bin/notes-sync\n', { uid: 1000, gid: 1000 })
      .file('/home/bob/.config/notes/notes.env', `NOTES_REMOTE=https://notes.example.org\nNOTES_UPSTREAM=${value}\n`, { mode: 0o600, uid: 1000, gid: 1000 })
      .file('/home/bob/.config/notes/settings.ini', '[ui]\ntheme = dark\n', { uid: 1000, gid: 1000 })
    try {
      const ctx = createTestContext(root.dir, { config: { include: ['/etc', '~/.config'] }, cache: new MemoryCache() })
      const { documents } = await new FilesProvider().collect({ ctx })
      const manifest = JSON.parse(String(documents.find((d) => d.path === 'system/files/manifest.json')?.content)) as Manifest
      const entry = (path: string) => manifest.entries.find((e) => e.path === path)
      assert.equal(entry('/home/bob/.config/notes/notes.env')?.secretReason, 'path rule')
      assert.equal(entry('/home/bob/.config/systemd/user/notes.service')?.content, 'mirrored')
      assert.equal(entry('/home/bob/.config/notes/settings.ini')?.content, 'mirrored')
      assert.ok(!documents.some((d) => String(d.content).includes(value)), 'the value in a document')

      // A twin that holds the unit (and /etc/passwd) names the file, were it committed by hand.
      const unit = { path: 'filesystem/home/bob/.config/systemd/user/notes.service', content: '[Service]\nEnvironmentFile=%h/.config/notes/notes.env\n' }
      const env = { path: 'filesystem/home/bob/.config/notes/notes.env', content: `NOTES_UPSTREAM=${value}\n` }
      const passwd = { path: 'filesystem/etc/passwd', content: 'root:x:0:0:root:/root:/bin/bash\nbob:x:1000:1000:Bob:/home/bob:/bin/bash\n' }
      const byHand = await new FilesProvider().secretPaths({ paths: [env.path], twin: new MemoryTwin([unit, env, passwd]), ctx: twinOnly() })
      assert.deepEqual(byHand.map((f) => [f.path, f.rule]), [[env.path, 'systemd credential file']])
      // A commit that adds the unit with the file, the twin's passwd not there: named by the commit's own unit.
      const together = await new FilesProvider().secretPaths({ paths: [unit.path, env.path], twin: new MemoryTwin([unit, env]), ctx: twinOnly() })
      assert.deepEqual(together.map((f) => f.path), [env.path])
    } finally {
      root.remove()
    }
  })

  it('session 32: a list cached under the rules before (version 18) for the same unchanged user unit is not taken: the file its EnvironmentFile= names is held out', async () => {
    const unit = '/home/bob/.config/systemd/user/notes.service'
    const root = userBase()
      .file(unit, '[Service]\nEnvironmentFile=%h/.config/notes/notes.env\n', { uid: 1000, gid: 1000 })
      .file('/home/bob/.config/notes/notes.env', `NOTES_UPSTREAM=${fakeChars('s32-user-unit-v18', 24)}\n`, { mode: 0o644, uid: 1000, gid: 1000 })
    try {
      const cache = new MemoryCache()
      // What session 31's rules read from these configs (the user unit was none: nothing), cached under their key, no longer racy.
      await new Promise((resolve) => setTimeout(resolve, 3 * RACY_MS))
      const stat = await createTestContext(root.dir).host.lstat(unit)
      assert.ok(stat !== undefined)
      assert.deepEqual(await cachedByFileStats(cache, 'named-credential-files-v18', [{ path: unit, stat }], Date.now(), async () => []), [])
      assert.deepEqual(await cachedByFileStats(cache, 'named-credential-files-v18', [{ path: unit, stat }], Date.now(), async () => ['taken again']), [])
      const ctx = createTestContext(root.dir, { config: { include: ['~/.config'] }, cache })
      const { documents } = await new FilesProvider().collect({ ctx })
      const manifest = JSON.parse(String(documents.find((d) => d.path === 'system/files/manifest.json')?.content)) as Manifest
      assert.equal(manifest.entries.find((e) => e.path === '/home/bob/.config/notes/notes.env')?.secretReason, 'path rule')
    } finally {
      root.remove()
    }
  })

  it("session 33: reads units that are links (stow's dotfiles: a unit, a drop-in folder, a folded ~/.config/systemd) within their home, and names where a linked env file leads; not a link out of the home, to another user's file, a loop, a vendor alias", async () => {
    const bob = { uid: 1000, gid: 1000 }
    const root = userBase()
      .file('/home/bob/dotfiles/systemd/notes.service', '[Service]\nEnvironmentFile=%h/.config/notes/notes.env\nLoadCredential=tok:%h/.config/notes/token\n', bob)
      .file('/home/bob/dotfiles/systemd/notes.service.d/override.conf', '[Service]\nEnvironmentFile=%S/notes/state.env\n', bob)
      .file('/home/bob/dotfiles/notes/notes.env', 'NOTES_UPSTREAM=x\n', bob)
      .dirAt('/home/bob/.config/systemd/user')
      .link('/home/bob/.config/systemd/user/notes.service', '../../../dotfiles/systemd/notes.service')
      .link('/home/bob/.config/systemd/user/notes.service.d', '../../../dotfiles/systemd/notes.service.d')
      .link('/home/bob/.config/notes/notes.env', '../../dotfiles/notes/notes.env')
      .link('/home/bob/.config/systemd/user/loop.service', 'loop2.service')
      .link('/home/bob/.config/systemd/user/loop2.service', 'loop.service')
      .file('/etc/evil.service', '[Service]\nEnvironmentFile=/etc/evil-named\n')
      .link('/home/bob/.config/systemd/user/evil.service', '../../../../../../../etc/evil.service')
      .file('/home/carol/carol.service', '[Service]\nEnvironmentFile=/home/carol/carol-named\n', { uid: 1001, gid: 1001 })
      .link('/home/bob/.config/systemd/user/carol.service', '/home/carol/carol.service')
      // carol's dotfiles fold ~/.config/systemd whole.
      .file('/home/carol/dotfiles/config/systemd/user/mail.service', '[Service]\nEnvironmentFile=%h/.config/mail/mail.env\n', { uid: 1001, gid: 1001 })
      .dirAt('/home/carol/.config')
      .link('/home/carol/.config/systemd', '../dotfiles/config/systemd')
      // A system unit put in place by `systemctl link`, a vendor alias, a mask.
      .file('/opt/app/app.service', '[Service]\nEnvironmentFile=/opt/app/app.env\n')
      .file('/usr/lib/systemd/system/vendor.service', '[Service]\nEnvironmentFile=-/etc/default/vendor\n')
      .dirAt('/etc/systemd/system')
      .link('/etc/systemd/system/app.service', '/opt/app/app.service')
      .link('/etc/systemd/system/alias.service', '/usr/lib/systemd/system/vendor.service')
      .link('/etc/systemd/system/masked.service', '/dev/null')
    try {
      const expected = [
        '/home/bob/.config/notes/notes.env',
        '/home/bob/.config/notes/token',
        '/home/bob/.config/notes/token/**',
        '/home/bob/.local/state/notes/state.env',
        '/home/bob/dotfiles/notes/notes.env',
        '/home/carol/.config/mail/mail.env',
        '/opt/app/app.env',
      ]
      const host = createTestContext(root.dir).host
      const cache = new MemoryCache()
      assert.deepEqual((await namedCredentialFiles(host, cache, ['/home/bob', '/home/carol'])).sort(), expected)
      assert.deepEqual((await namedCredentialFiles(host, cache, ['/home/bob', '/home/carol'])).sort(), expected)
      assert.deepEqual((await namedCredentialFiles(host, undefined, ['/home/bob', '/home/carol'])).sort(), expected)
    } finally {
      root.remove()
    }
  })

  it("session 33: the files provider holds out the dotfiles' env file a linked user unit names through a link, of no shape the detector knows; a pushed twin names it from its manifest's links, never following one out of the twin's home", async () => {
    const value = fakeChars('s33-stow-unit', 24)
    const bob = { uid: 1000, gid: 1000 }
    const root = userBase()
      .file('/home/bob/dotfiles/systemd/.config/systemd/user/notes.service', '[Service]\nEnvironmentFile=%h/.config/notes/notes.env\nExecStart=/usr/bin/notes-sync\n', bob)
      .file('/home/bob/dotfiles/notes/.config/notes/notes.env', `NOTES_UPSTREAM=${value}\n`, bob)
      .file('/home/bob/dotfiles/notes/.config/notes/settings.ini', '[ui]\ntheme = dark\n', bob)
      .dirAt('/home/bob/.config/systemd/user')
      .dirAt('/home/bob/.config/notes')
      .link('/home/bob/.config/systemd/user/notes.service', '../../../dotfiles/systemd/.config/systemd/user/notes.service')
      .link('/home/bob/.config/notes/notes.env', '../../dotfiles/notes/.config/notes/notes.env')
      .link('/home/bob/.config/notes/settings.ini', '../../dotfiles/notes/.config/notes/settings.ini')
    try {
      const ctx = createTestContext(root.dir, { config: { include: ['/etc', '~/.config', '~/dotfiles'] }, cache: new MemoryCache() })
      const { documents } = await new FilesProvider().collect({ ctx })
      const manifest = JSON.parse(String(documents.find((d) => d.path === 'system/files/manifest.json')?.content)) as Manifest
      const entry = (path: string) => manifest.entries.find((e) => e.path === path)
      assert.equal(entry('/home/bob/dotfiles/notes/.config/notes/notes.env')?.secretReason, 'path rule')
      assert.equal(entry('/home/bob/dotfiles/systemd/.config/systemd/user/notes.service')?.content, 'mirrored')
      assert.equal(entry('/home/bob/dotfiles/notes/.config/notes/settings.ini')?.content, 'mirrored')
      assert.ok(!documents.some((d) => String(d.content).includes(value)), 'the value in a document')

      // A twin whose env file was committed by hand: named through the manifest's links (the unit's, the env file's).
      const links = (entries: Array<[string, string]>) => ({ path: 'system/files/manifest.json', content: JSON.stringify({ entries: entries.map(([path, target]) => ({ path, type: 'symlink', target })) }) })
      const passwd = { path: 'filesystem/etc/passwd', content: 'root:x:0:0:root:/root:/bin/bash\nbob:x:1000:1000:Bob:/home/bob:/bin/bash\n' }
      const unit = { path: 'filesystem/home/bob/dotfiles/systemd/notes.service', content: '[Service]\nEnvironmentFile=%h/.config/notes/notes.env\n' }
      const env = { path: 'filesystem/home/bob/dotfiles/notes/notes.env', content: `NOTES_UPSTREAM=${value}\n` }
      const stow = links([
        ['/home/bob/.config/systemd/user/notes.service', '../../../dotfiles/systemd/notes.service'],
        ['/home/bob/.config/notes', '../dotfiles/notes'],
      ])
      const byHand = await new FilesProvider().secretPaths({ paths: [env.path], twin: new MemoryTwin([unit, env, passwd, stow]), ctx: twinOnly() })
      assert.deepEqual(byHand.map((f) => [f.path, f.rule]), [[env.path, 'systemd credential file']])
      // The whole unit folder a link (folded), and the unit folder a loop, or a link out of the home: the latter two read nothing.
      const folded = links([['/home/bob/.config/systemd', '../dotfiles/systemd-folded'], ['/home/bob/.config/notes', '../dotfiles/notes']])
      const foldedUnit = { path: 'filesystem/home/bob/dotfiles/systemd-folded/user/notes.service', content: unit.content }
      assert.deepEqual((await new FilesProvider().secretPaths({ paths: [env.path], twin: new MemoryTwin([foldedUnit, env, passwd, folded]), ctx: twinOnly() })).map((f) => f.path), [env.path])
      const outside = { path: 'filesystem/etc/notes.service', content: unit.content }
      const away = links([['/home/bob/.config/systemd/user/notes.service', '../../../../../../../etc/notes.service'], ['/home/bob/.config/notes', '../dotfiles/notes']])
      const loop = links([['/home/bob/.config/systemd/user', 'user2'], ['/home/bob/.config/systemd/user2', 'user'], ['/home/bob/.config/notes', '../dotfiles/notes']])
      for (const twin of [new MemoryTwin([outside, env, passwd, away, { path: 'filesystem/home/bob/x', content: 'x\n' }]), new MemoryTwin([unit, env, passwd, loop])]) {
        assert.deepEqual(await new FilesProvider().secretPaths({ paths: [env.path], twin, ctx: twinOnly() }), [])
      }
    } finally {
      root.remove()
    }
  })

  it("session 34: a named path with wildcards (a `%h` of /etc/systemd/user, a system unit's `%i`) names where each path it stands for leads through links; not a loop, a missing target; on the machine and in a pushed twin", async () => {
    const value = fakeChars('s34-wild', 24)
    const bob = { uid: 1000, gid: 1000 }
    const carol = { uid: 1001, gid: 1001 }
    const root = userBase()
      .file('/etc/systemd/user/notes.service', '[Service]\nEnvironmentFile=%h/.config/notes/notes.env\nExecStart=/usr/bin/notes-sync\n')
      .file('/etc/systemd/system/app@.service', '[Service]\nEnvironmentFile=/etc/app/%i.env\nExecStart=/usr/bin/app %i\n')
      // bob stows the env file itself; carol's whole ~/.config/notes is a folder link; a loop and a dangling link for dan.
      .file('/home/bob/dotfiles/notes/notes.env', `NOTES_UPSTREAM=${value}\n`, bob)
      .dirAt('/home/bob/.config/notes')
      .link('/home/bob/.config/notes/notes.env', '../../dotfiles/notes/notes.env')
      .file('/home/carol/dotfiles/notes/notes.env', `NOTES_UPSTREAM=${value}c\n`, carol)
      .dirAt('/home/carol/.config')
      .link('/home/carol/.config/notes', '../dotfiles/notes')
      .dirAt('/home/dan/.config/notes')
      .link('/home/dan/.config/notes/notes.env', 'notes.env')
      .dirAt('/home/erin/.config/notes')
      .link('/home/erin/.config/notes/notes.env', '../../nowhere/notes.env')
      // The template's instances' env files kept in /srv and linked in.
      .file('/srv/secrets/prod.env', `APP_DSN=${value}p\n`)
      .dirAt('/etc/app')
      .link('/etc/app/prod.env', '/srv/secrets/prod.env')
      .file('/etc/app/README', 'not named\n')
    try {
      const expected = [
        '/etc/app/*.env',
        '/home/*/.config/notes/notes.env',
        '/home/bob/dotfiles/notes/notes.env',
        '/home/carol/dotfiles/notes/notes.env',
        '/root/.config/notes/notes.env',
        '/srv/secrets/prod.env',
      ]
      const host = createTestContext(root.dir).host
      const cache = new MemoryCache()
      assert.deepEqual((await namedCredentialFiles(host, cache, ['/root'])).sort(), expected)
      assert.deepEqual((await namedCredentialFiles(host, cache, ['/root'])).sort(), expected)
      assert.deepEqual((await namedCredentialFiles(host, undefined, ['/root'])).sort(), expected)

      // The files provider holds out the linked files (no shape the detector knows would): the units are mirrored.
      const ctx = createTestContext(root.dir, { config: { include: ['/etc', '/srv', '/home'] }, cache: new MemoryCache() })
      const { documents } = await new FilesProvider().collect({ ctx })
      const manifest = JSON.parse(String(documents.find((d) => d.path === 'system/files/manifest.json')?.content)) as Manifest
      const entry = (path: string) => manifest.entries.find((e) => e.path === path)
      for (const path of ['/home/bob/dotfiles/notes/notes.env', '/home/carol/dotfiles/notes/notes.env', '/srv/secrets/prod.env']) assert.equal(entry(path)?.secretReason, 'path rule', path)
      assert.equal(entry('/etc/systemd/user/notes.service')?.content, 'mirrored')
      assert.ok(!documents.some((d) => String(d.content).includes(value)), 'a value in a document')

      // A pushed twin whose files were committed by hand: named through the manifest's links, the wildcards taken to the twin's own names.
      const links = { path: 'system/files/manifest.json', content: JSON.stringify({ entries: [['/home/bob/.config/notes/notes.env', '../../dotfiles/notes/notes.env'], ['/home/carol/.config/notes', '../dotfiles/notes'], ['/etc/app/prod.env', '/srv/secrets/prod.env']].map(([path, target]) => ({ path, type: 'symlink', target })) }) }
      const unit = { path: 'filesystem/etc/systemd/user/notes.service', content: '[Service]\nEnvironmentFile=%h/.config/notes/notes.env\n' }
      const template = { path: 'filesystem/etc/systemd/system/app@.service', content: '[Service]\nEnvironmentFile=/etc/app/%i.env\n' }
      const held = ['filesystem/home/bob/dotfiles/notes/notes.env', 'filesystem/home/carol/dotfiles/notes/notes.env', 'filesystem/srv/secrets/prod.env']
      const files = held.map((path) => ({ path, content: `X=${value}\n` }))
      const bobKeep = { path: 'filesystem/home/bob/.config/keep.txt', content: 'x\n' }
      const passwd = { path: 'filesystem/etc/passwd', content: 'root:x:0:0:root:/root:/bin/bash\n' }
      const found = await new FilesProvider().secretPaths({ paths: held, twin: new MemoryTwin([unit, template, ...files, bobKeep, passwd, links]), ctx: twinOnly() })
      assert.deepEqual(found.map((f) => f.path).sort(), held)
    } finally {
      root.remove()
    }
  })

  it('session 33: a folder listing cached before (v2: its links left out) for the same unchanged unit folder is not taken: the linked unit is read', async () => {
    const bob = { uid: 1000, gid: 1000 }
    const folder = '/home/bob/.config/systemd/user'
    const root = userBase()
      .file('/home/bob/dotfiles/systemd/notes.service', '[Service]\nEnvironmentFile=%h/.config/notes/notes.env\n', bob)
      .dirAt(folder)
      .link(`${folder}/notes.service`, '../../../dotfiles/systemd/notes.service')
    try {
      const cache = new MemoryCache()
      await new Promise((resolve) => setTimeout(resolve, 3 * RACY_MS))
      const host = createTestContext(root.dir).host
      const stat = await host.lstat(folder)
      assert.ok(stat !== undefined)
      // What session 32's look listed in that folder (no file: its one unit is a link), under its key, no longer racy.
      assert.deepEqual(await cachedByFileStats(cache, `named-credential-folder-v2:${folder}`, [{ path: folder, stat }], Date.now(), async () => []), [])
      assert.deepEqual(await cachedByFileStats(cache, `named-credential-folder-v2:${folder}`, [{ path: folder, stat }], Date.now(), async () => ['taken again']), [])
      assert.deepEqual(await namedCredentialFiles(host, cache, ['/home/bob']), ['/home/bob/.config/notes/notes.env'])
    } finally {
      root.remove()
    }
  })
})

/**
 * Session 35: password files that backup tools and the like are pointed at, under any name, by a
 * unit (its Environment=, its EnvironmentFile='s text, its command lines and the scripts they
 * run), a crontab (its lines and the scripts they run) or an administrator's script.
 */
describe('password files a unit, a crontab or a script points at (session 35)', () => {
  const base = () =>
    new TargetRoot()
      .file('/etc/passwd', 'root:x:0:0:root:/root:/bin/bash\nbob:x:1000:1000::/home/bob:/bin/bash\n')
      .file('/etc/group', 'root:x:0:\nbob:x:1000:\n')
      .file('/var/lib/dpkg/status', '')
      .file('/var/lib/dpkg/diversions', '')
  const words = 'correct horse battery staple'
  const machine = () =>
    base()
      .file(
        '/etc/systemd/system/restic-backup.service',
        '[Service]\nType=oneshot\nEnvironment=RESTIC_REPOSITORY=/srv/restic RESTIC_PASSWORD_FILE=/etc/restic/repo1\nEnvironment="BORG_PASSCOMMAND=cat /root/.config/borg/pp"\n# Environment=RESTIC_PASSWORD_FILE=/etc/restic/old\nEnvironmentFile=/etc/restic/b2.env\nExecStart=/usr/bin/restic backup --password-file /etc/restic/repo2 /srv\nExecStartPost=/opt/backup/notify.sh\n',
      )
      .file('/etc/restic/b2.env', 'B2_ACCOUNT_ID=0012ab\nRESTIC_PASSWORD_COMMAND="head -n1 /srv/keys/b2"\n', { mode: 0o600 })
      .file('/opt/backup/notify.sh', '#!/bin/sh\nrsync -a --password-file=/opt/backup/rsync.secret /srv/restic/ backup@nas::restic\n', { mode: 0o755 })
      .file('/etc/cron.d/borg', 'SHELL=/bin/sh\n0 3 * * * root BORG_PASSCOMMAND="cat /etc/borg/passphrase" borg create /srv/borg::{now} /etc\n15 3 * * * root /srv/jobs/pg-dump.sh\n')
      .file('/srv/jobs/pg-dump.sh', '#!/bin/sh\nexport PGPASSFILE=/srv/jobs/db.cred\npg_dumpall -h db > /srv/dump.sql\n', { mode: 0o755 })
      .file('/etc/crontab', 'SHELL=/bin/sh\nPATH=/usr/local/sbin:/usr/local/bin:/sbin:/bin:/usr/sbin:/usr/bin\n30 4 * * * root sshpass -f /etc/nas/login scp /srv/dump.sql nas:\n')
      .file('/var/spool/cron/crontabs/bob', '0 * * * * openssl enc -d -aes256 -pass file:/home/bob/.vault-key -in /home/bob/v.enc\n')
      .file('/usr/local/sbin/offsite', `#!/bin/sh\ngpg --batch --passphrase-file /root/.offsite "$@"\nldapsearch -x -D cn=admin -y /etc/ldap/admin.pw -b dc=example\n`, { mode: 0o755 })
      .file('/usr/local/bin/big-program', `\u007fELF${'x'.repeat(300 * 1024)} --password-file /etc/not/read\n`, { mode: 0o755 })
      .file('/etc/restic/repo1', `${words}\n`, { mode: 0o644 })
      .file('/etc/restic/repo2', `${words} two\n`, { mode: 0o644 })
      .file('/root/.config/borg/pp', `${words} borg\n`, { mode: 0o600 })
      .file('/srv/keys/b2', `${words} b2\n`, { mode: 0o644 })
      .file('/opt/backup/rsync.secret', `${words} rsync\n`, { mode: 0o644 })
      .file('/etc/borg/passphrase', `${words} cron\n`, { mode: 0o644 })
      .file('/srv/jobs/db.cred', `db:5432:*:postgres:${words.replace(/ /g, '-')}\n`, { mode: 0o644 })
      .file('/etc/nas/login', `${words} nas\n`, { mode: 0o644 })
      .file('/etc/restic/excludes', '/srv/cache\n', { mode: 0o644 })
      .file('/etc/systemd/system/vpn-corp.service', '[Service]\nExecStart=/usr/sbin/openvpn --config /etc/openvpn/corp.conf --askpass /etc/openvpn/corp.unlock --auth-user-pass /etc/openvpn/corp.login\n')
  const named = [
    '/etc/borg/passphrase',
    '/etc/ldap/admin.pw',
    '/etc/nas/login',
    '/etc/openvpn/corp.login',
    '/etc/openvpn/corp.unlock',
    '/etc/restic/b2.env',
    '/etc/restic/repo1',
    '/etc/restic/repo2',
    '/home/bob/.vault-key',
    '/opt/backup/rsync.secret',
    '/root/.config/borg/pp',
    '/root/.offsite',
    '/srv/jobs/db.cred',
    '/srv/keys/b2',
  ]

  it('names what their environments, command lines and followed scripts point at; not a comment, a large program, a file they only read', async () => {
    const root = machine()
    try {
      const cache = new MemoryCache()
      assert.deepEqual((await namedCredentialFiles(createTestContext(root.dir).host, cache)).sort(), named)
      // Again from the cache (nothing moved), and again when a followed script changes alone.
      assert.deepEqual((await namedCredentialFiles(createTestContext(root.dir).host, cache)).sort(), named)
      root.file('/srv/jobs/pg-dump.sh', '#!/bin/sh\nexport PGPASSFILE=/srv/jobs/other.cred\n', { mode: 0o755 })
      await new Promise((r) => setTimeout(r, RACY_MS))
      assert.deepEqual((await namedCredentialFiles(createTestContext(root.dir).host, cache)).sort(), [...named.filter((p) => p !== '/srv/jobs/db.cred'), '/srv/jobs/other.cred'].sort())
    } finally {
      root.remove()
    }
  })

  it('the files provider holds each one out, of no shape the detector knows, world-readable; the units, crontabs and scripts are mirrored', async () => {
    const root = machine()
    try {
      const { documents, entry } = await collected(root, ['/etc', '/opt', '/srv', '/root', '/usr/local'])
      for (const path of ['/etc/restic/repo1', '/etc/restic/repo2', '/root/.config/borg/pp', '/srv/keys/b2', '/opt/backup/rsync.secret', '/etc/borg/passphrase', '/srv/jobs/db.cred', '/etc/nas/login']) assert.equal(entry(path)?.secret, true, path)
      for (const path of ['/etc/systemd/system/restic-backup.service', '/opt/backup/notify.sh', '/srv/jobs/pg-dump.sh', '/etc/cron.d/borg', '/usr/local/sbin/offsite', '/etc/restic/excludes']) assert.equal(entry(path)?.content, 'mirrored', path)
      for (const d of documents) assert.ok(!String(d.content).includes(words), d.path)
    } finally {
      root.remove()
    }
  })

  it('a pushed twin: a unit, a crontab and the scripts they run name the same files (the twin read, never the machine)', async () => {
    const twin = new MemoryTwin([
      { path: 'filesystem/etc/systemd/system/restic-backup.service', content: '[Service]\nEnvironment=RESTIC_PASSWORD_FILE=/etc/restic/repo1\nExecStartPost=/opt/backup/notify.sh\n' },
      { path: 'filesystem/opt/backup/notify.sh', content: '#!/bin/sh\nrsync -a --password-file=/opt/backup/rsync.secret /srv/ nas::r\n' },
      { path: 'filesystem/etc/cron.d/borg', content: '0 3 * * * root /srv/jobs/pg-dump.sh\n' },
      { path: 'filesystem/srv/jobs/pg-dump.sh', content: 'export PGPASSFILE=/srv/jobs/db.cred\n' },
      { path: 'filesystem/usr/local/sbin/offsite', content: 'gpg --passphrase-file /root/.offsite -c x\n' },
    ])
    const asked = ['filesystem/etc/restic/repo1', 'filesystem/opt/backup/rsync.secret', 'filesystem/srv/jobs/db.cred', 'filesystem/root/.offsite', 'filesystem/etc/restic/excludes']
    const found = await new FilesProvider().secretPaths({ paths: asked, twin, ctx: twinOnly() })
    assert.deepEqual(found.map((f) => [f.path, f.rule]), [
      ['filesystem/etc/restic/repo1', 'systemd credential file'],
      ['filesystem/opt/backup/rsync.secret', 'password file'],
      ['filesystem/root/.offsite', 'password file'],
      ['filesystem/srv/jobs/db.cred', 'password file'],
    ])
  })
})

/**
 * Session 36: password files named through a variable (a script's own, an environment file's for
 * its unit's command line, a sourced file's), a relative path (a unit's WorkingDirectory=, a
 * script's one `cd`), a unit's specifiers (`%h` of /etc/systemd/user's units for each home, `%N`,
 * `%S`); a second hop (what a followed script sources or runs); Zabbix's `TLSPSKFile=`.
 */
describe('password files named through variables, relative paths, specifiers, a second hop; Zabbix PSK files (session 36)', () => {
  const files: Array<[string, string]> = [
    ['/etc/passwd', 'root:x:0:0:root:/root:/bin/bash\nbob:x:1000:1000::/home/bob:/bin/bash\n'],
    ['/etc/group', 'root:x:0:\nbob:x:1000:\n'],
    ['/var/lib/dpkg/status', ''],
    ['/var/lib/dpkg/diversions', ''],
    // A script's own variables and its one cd.
    ['/usr/local/sbin/nightly', '#!/bin/sh\nset -e\nPASSFILE=/etc/nightly/pw\nexport KEYDIR="/etc/nightly"\nrestic --password-file "$PASSFILE" backup /srv\ngpg --batch --passphrase-file ${KEYDIR}/gpg.pass -c /srv/x\ncd /srv/keys\nrsync --password-file=rsync.pw /srv/ nas::srv\n'],
    // No cd: a relative word is where its caller runs it from, not known.
    ['/usr/local/bin/loose', '#!/bin/sh\nrestic --password-file loose.pw snapshots\n'],
    // A unit: a variable of its environment file, one of its own Environment=, a relative path from its WorkingDirectory=, a specifier.
    ['/etc/systemd/system/b2.service', '[Service]\nEnvironmentFile=/etc/b2/env\nEnvironment=OWN_PW=/etc/b2/own.pw\nWorkingDirectory=/etc/b2\nExecStart=/usr/bin/restic --password-file ${B2_PW} backup /srv\nExecStartPost=/usr/bin/restic --password-file $OWN_PW check\nExecStartPost=/usr/bin/rsync --password-file=rsync.secret /srv/ nas::b2\n'],
    ['/etc/b2/env', 'B2_ACCOUNT_ID=0012ab\nB2_PW=/etc/b2/repo.key\n'],
    ['/etc/systemd/system/vault-agent.service', '[Service]\nExecStart=/usr/bin/vault-agent --token-file %S/%N/token\n'],
    // A unit every user's manager runs: its environment file under each home (`%h`).
    ['/etc/systemd/user/sync.service', '[Service]\nEnvironmentFile=-%h/.config/sync/env\nExecStart=/usr/bin/sync-client\n'],
    ['/home/bob/.config/sync/env', 'SYNC_TOKEN_FILE=/home/bob/.config/sync/token\n'],
    // A second hop: the script cron runs sources an environment and runs another script.
    ['/etc/cron.d/jobs', '0 2 * * * root /opt/jobs/run.sh\n'],
    ['/opt/jobs/run.sh', '#!/bin/sh\n. /opt/jobs/env\n/opt/jobs/upload.sh\nborg create ::x /srv\nrestic --password-file "$UPLOAD_PW" backup /srv\n'],
    ['/opt/jobs/env', 'export BORG_PASSCOMMAND="cat /opt/jobs/borg.key"\nUPLOAD_PW=/opt/jobs/upload.pw\n'],
    ['/opt/jobs/upload.sh', '#!/bin/sh\nrsync --password-file=/opt/jobs/rsync.key /srv/ nas::jobs\n'],
    // Zabbix: an agent's drop-in, agent 2's config, zabbix_sender on a crontab line.
    ['/etc/zabbix/zabbix_agentd.conf.d/tls.conf', 'TLSConnect=psk\nTLSAccept=psk\nTLSPSKIdentity=web01\nTLSPSKFile=/etc/zabbix/web01.key\n# TLSPSKFile=/etc/zabbix/old.key\n'],
    ['/etc/zabbix/zabbix_agent2.conf', 'Server=zabbix.example.net\nTLSPSKFile=/etc/zabbix/agent2.secret\nPlugins.Mysql.Sessions.db1.TLSKeyFile=/etc/zabbix/mysql-client.pem\n'],
    ['/etc/crontab', '*/5 * * * * root zabbix_sender -z zbx -s web01 --tls-connect psk --tls-psk-identity web01 --tls-psk-file /etc/zabbix/sender.key -k k -o 1\n'],
  ]
  const named = [
    '/etc/b2/env',
    '/etc/b2/own.pw',
    '/etc/b2/repo.key',
    '/etc/b2/rsync.secret',
    '/etc/nightly/gpg.pass',
    '/etc/nightly/pw',
    '/etc/zabbix/agent2.secret',
    '/etc/zabbix/mysql-client.pem',
    '/etc/zabbix/sender.key',
    '/etc/zabbix/web01.key',
    '/home/*/.config/sync/env',
    '/home/bob/.config/sync/token',
    '/opt/jobs/borg.key',
    '/opt/jobs/rsync.key',
    '/opt/jobs/upload.pw',
    '/root/.config/sync/env',
    '/srv/keys/rsync.pw',
    '/var/lib/vault-agent/token',
  ]
  const secrets: Array<[string, string]> = named
    .filter((p) => !p.includes('*') && !p.endsWith('/env') && !p.startsWith('/root/'))
    .map((p) => [p, `${fakeChars(`s36-nc-${p}`, 8).toLowerCase()} ${fakeChars(`s36-nc2-${p}`, 9).toLowerCase()}\n`])
  const machine = () => {
    const root = new TargetRoot()
    for (const [path, text] of files) root.file(path, text, { mode: path.startsWith('/usr/local/') || path.endsWith('.sh') ? 0o755 : 0o644 })
    for (const [path, text] of secrets) root.file(path, text, { mode: 0o644 })
    return root.file('/usr/local/bin/loose.pw', 'not named\n', { mode: 0o644 })
  }

  it('names what variables, relative paths, specifiers and a second hop lead to, and Zabbix PSK files; not a relative word of no certain folder', async () => {
    const root = machine()
    try {
      const cache = new MemoryCache()
      const host = createTestContext(root.dir).host
      assert.deepEqual((await namedCredentialFiles(host, cache, ['/root', '/home/bob'])).sort(), named)
      // From the cache; then a second hop's file changes alone.
      assert.deepEqual((await namedCredentialFiles(createTestContext(root.dir).host, cache, ['/root', '/home/bob'])).sort(), named)
      root.file('/opt/jobs/env', 'UPLOAD_PW=/opt/jobs/other.pw\n', { mode: 0o644 })
      await new Promise((r) => setTimeout(r, RACY_MS))
      assert.deepEqual((await namedCredentialFiles(createTestContext(root.dir).host, cache, ['/root', '/home/bob'])).sort(), [...named.filter((p) => p !== '/opt/jobs/borg.key' && p !== '/opt/jobs/upload.pw'), '/opt/jobs/other.pw'].sort())
    } finally {
      root.remove()
    }
  })

  it('the files provider holds each one out, world-readable, of no shape the detector knows; the scripts, units and configs are mirrored', async () => {
    const root = machine()
    try {
      const { documents, entry } = await collected(root, ['/etc', '/opt', '/srv', '/home', '/usr/local', '/var/lib/vault-agent'])
      for (const [path] of secrets) assert.equal(entry(path)?.secret, true, path)
      for (const path of ['/usr/local/sbin/nightly', '/opt/jobs/run.sh', '/opt/jobs/upload.sh', '/etc/systemd/system/b2.service', '/etc/zabbix/zabbix_agent2.conf', '/usr/local/bin/loose.pw']) assert.equal(entry(path)?.content, 'mirrored', path)
      for (const d of documents) for (const [path, text] of secrets) assert.ok(!String(d.content).includes(text.trim()), `${d.path} holds ${path}'s`)
    } finally {
      root.remove()
    }
  })

  it("a crontab's or script's glob is not followed: 300 data files take no room from the scripts after it", async () => {
    const root = new TargetRoot()
      .file('/etc/passwd', 'root:x:0:0:root:/root:/bin/bash\n')
      .file('/etc/group', 'root:x:0:\n')
      .file('/etc/cron.d/a-clean', '0 4 * * * root rm -f /srv/tmp/*\n30 4 * * * root /srv/tmp/../jobs/z.sh\n')
      .file('/srv/jobs/z.sh', '#!/bin/sh\nrsync --password-file=/srv/jobs/z.pw /srv/ nas::z\n', { mode: 0o755 })
    for (let i = 0; i < 300; i++) root.file(`/srv/tmp/f${String(i).padStart(3, '0')}`, 'data\n')
    try {
      assert.deepEqual(await namedCredentialFiles(createTestContext(root.dir).host), ['/srv/jobs/z.pw'])
    } finally {
      root.remove()
    }
  })

  it('a pushed twin names the same files from its own copies (never the machine)', async () => {
    const twin = new MemoryTwin(files.map(([path, content]) => ({ path: `filesystem${path}`, content })))
    const asked = [...secrets.map(([path]) => `filesystem${path}`), 'filesystem/usr/local/bin/loose.pw', 'filesystem/etc/zabbix/zabbix_agent2.conf']
    const found = await new FilesProvider().secretPaths({ paths: asked, twin, ctx: twinOnly() })
    // The environment files the units name are the twin's own files, held too.
    assert.deepEqual(found.map((f) => f.path).sort(), [...secrets.map(([path]) => path), '/etc/b2/env', '/home/bob/.config/sync/env'].map((p) => `filesystem${p}`).sort())
  })
})

/**
 * Session 36's hunt: what Debian's mail fetchers and senders and NTP servers point at, under any
 * name: msmtp's `passwordeval "cat FILE"`, isync's `PassCmd "cat FILE"`, OfflineIMAP's
 * `remotepassfile`, fetchmail's `-f FILE` on a crontab line, chrony's `keyfile` and ntpd's `keys`.
 */
describe("mail clients' password files, fetchmail's run control file, NTP key files (session 36)", () => {
  const files: Array<[string, string]> = [
    ['/etc/passwd', 'root:x:0:0:root:/root:/bin/bash\nbob:x:1000:1000::/home/bob:/bin/bash\n'],
    ['/etc/group', 'root:x:0:\nbob:x:1000:\n'],
    ['/var/lib/dpkg/status', ''],
    ['/var/lib/dpkg/diversions', ''],
    ['/etc/msmtprc', 'defaults\nauth on\ntls on\naccount relay\nhost smtp.example.com\nuser alerts@example.com\npasswordeval "cat /etc/msmtp/relay"\naccount default : relay\n'],
    ['/root/.mbsyncrc', 'IMAPAccount work\nHost imap.example.com\nUser bob\nPassCmd "cat /root/.mail/work"\n'],
    ['/home/bob/.offlineimaprc', '[Repository remote]\ntype = IMAP\nremotehost = imap.example.com\nremoteuser = bob\nremotepassfile = /home/bob/.mail/imap\n'],
    ['/etc/cron.d/fetch', '*/10 * * * * bob fetchmail -s -f /etc/fetchmail/bob\n'],
    ['/etc/chrony/chrony.conf', 'server ntp.example.com iburst key 10\nkeyfile /etc/chrony/site.list\n'],
    ['/etc/ntpsec/ntp.conf', 'keys /etc/ntpsec/site-list\ntrustedkey 1\n# keys /etc/ntpsec/old\n'],
  ]
  const named = ['/etc/chrony/site.list', '/etc/fetchmail/bob', '/etc/msmtp/relay', '/etc/ntpsec/site-list', '/home/bob/.mail/imap', '/root/.mail/work']
  const weak: Array<[string, string]> = [
    ['/etc/msmtp/relay', 'sunshine2\n'],
    ['/root/.mail/work', 'sunshine5\n'],
    ['/home/bob/.mail/imap', 'sunshine4\n'],
    ['/etc/fetchmail/bob', 'poll imap.example.com user bob pass sunshine35\n'],
    ['/etc/chrony/site.list', `10 SHA256 HEX:${'A1B2C3D4'.repeat(8)}\n11 MD5 sunshine20\n`],
    ['/etc/ntpsec/site-list', `1 SHA1 ${'0f1e2d3c'.repeat(5)}\n2 MD5 sunshine21\n`],
  ]

  it('names them on the machine, and the files provider holds them out (each mirrored before: a weak password, a file of no telling name)', async () => {
    const root = new TargetRoot()
    for (const [path, text] of [...files, ...weak]) root.file(path, text, { mode: 0o644 })
    try {
      assert.deepEqual((await namedCredentialFiles(createTestContext(root.dir).host, new MemoryCache(), ['/root', '/home/bob'])).sort(), named)
      const ctx = createTestContext(root.dir, { config: { include: ['/etc', '/root', '/home/bob'] }, cache: new MemoryCache() })
      const { documents } = await new FilesProvider().collect({ ctx })
      const manifest = JSON.parse(String(documents.find((d) => d.path === 'system/files/manifest.json')?.content)) as Manifest
      for (const [path] of weak) assert.equal(manifest.entries.find((e) => e.path === path)?.secret, true, path)
      for (const d of documents) for (const [path, text] of weak) assert.ok(!String(d.content).includes(text.trim().split(' ').pop() as string), `${d.path} holds ${path}'s`)
    } finally {
      root.remove()
    }
  })

  it('a pushed twin names them from its own copies', async () => {
    const twin = new MemoryTwin(files.map(([path, content]) => ({ path: `filesystem${path}`, content })))
    const found = await new FilesProvider().secretPaths({ paths: weak.map(([path]) => `filesystem${path}`), twin, ctx: twinOnly() })
    assert.deepEqual(found.map((f) => f.path).sort(), named.map((p) => `filesystem${p}`))
  })
})

/**
 * Session 38: what session 37 left. A relative word of a crontab line with no `cd` (cron runs a
 * job from its home: its HOME= line's, else its user's from /etc/passwd), of a script a crontab
 * or a unit runs (from the job's home, the unit's WorkingDirectory=); a computed variable (a
 * crontab line's own `F=…; … "$F"`, `PASSFILE="$BASE/pw"`, the script's own folder
 * `$(cd "$(dirname "$0")" && pwd)`); a third hop (a script sources a file that sources the one
 * naming the password file); Kerberos keytabs `KRB5_KTNAME=` / `KRB5_CLIENT_KTNAME=` of any name
 * (a unit's Environment=, /etc/default's files, a crontab's variable line). Each mirrored before.
 */
describe('password files from a job\'s home and a unit\'s folder, computed variables, a third hop, keytabs (session 38)', () => {
  const files: Array<[string, string]> = [
    ['/etc/passwd', 'root:x:0:0:root:/root:/bin/bash\nbob:x:1000:1000::/home/bob:/bin/bash\nsvc:x:998:998::/srv/svc:/usr/sbin/nologin\n'],
    ['/etc/group', 'root:x:0:\nbob:x:1000:\nsvc:x:998:\n'],
    ['/var/lib/dpkg/status', ''],
    ['/var/lib/dpkg/diversions', ''],
    // Relative words: a system crontab's job of svc (its home), a user's crontab (bob's home), a HOME= line and the script it runs relatively.
    ['/etc/cron.d/offsite', 'MAILTO=""\n0 2 * * * svc restic -r /srv/restic --password-file .restic-pw backup /srv/data\n'],
    ['/var/spool/cron/crontabs/bob', '15 4 * * * rsync -a --password-file=rsync.pw /home/bob/ nas::bob\n'],
    ['/etc/crontab', 'SHELL=/bin/sh\nHOME=/opt/app\n30 1 * * * root ./nightly.sh\n'],
    ['/opt/app/nightly.sh', '#!/bin/sh\nrestic --password-file conf/repo.pw check\n'],
    // A crontab line's own variable; a script's variable of variables; the script's own folder.
    ['/etc/cron.d/db', '0 1 * * * root F=/etc/db/dump.pw; restic --password-file "$F" backup /var/backups\n'],
    ['/usr/local/sbin/dump', '#!/bin/sh\nBASE=/etc/dump\nPASSFILE="$BASE/repo.pw"\nrestic --password-file "$PASSFILE" backup /srv\nHERE=$(cd "$(dirname "$0")" && pwd)\ngpg --batch --passphrase-file "$HERE/gpg.pass" -c /srv/x\n'],
    // A third hop.
    ['/etc/cron.d/three', '0 5 * * * root /opt/three/run.sh\n'],
    ['/opt/three/run.sh', '#!/bin/sh\n. /opt/three/lib.sh\nrestic backup /srv\n'],
    ['/opt/three/lib.sh', 'set -e\n. /opt/three/env\n'],
    ['/opt/three/env', 'export RESTIC_PASSWORD_FILE=/opt/three/repo.key\n'],
    // A unit's script: its relative word from the unit's WorkingDirectory=.
    ['/etc/systemd/system/rel.service', '[Service]\nWorkingDirectory=/srv/rel\nExecStart=/opt/rel/run.sh\n'],
    ['/opt/rel/run.sh', '#!/bin/sh\nrsync -a --password-file=rsync.secret /srv/rel/ nas::rel\n'],
    // Keytabs of any name.
    ['/etc/systemd/system/web.service', '[Service]\nEnvironment=KRB5_KTNAME=FILE:/etc/web/http.kt\nExecStart=/usr/sbin/web\n'],
    ['/etc/default/gssproxy', '# KRB5_KTNAME=/etc/gss/old\nKRB5_KTNAME=/etc/gss/nfs.service-key\n'],
    ['/etc/cron.d/kinit', 'KRB5_CLIENT_KTNAME = /etc/krb/client.kt\n*/30 * * * * root kinit -k host/web01\n'],
    // A system unit's %u is root (the manager's user, whatever User= says); %d its credentials folder.
    ['/etc/systemd/system/app.service', '[Service]\nUser=app\nEnvironmentFile=/etc/app/%u.env\nLoadCredential=db:/etc/app/db.pw\nExecStart=/usr/bin/app --password-file %d/db\n'],
    // WorkingDirectory=~: its User='s home, for its own words and its script's.
    ['/etc/systemd/system/home.service', '[Service]\nUser=svc\nWorkingDirectory=~\nExecStart=/usr/bin/restic --password-file .unit-pw check\nExecStartPost=/opt/home/post.sh\n'],
    ['/opt/home/post.sh', '#!/bin/sh\nrsync -a --password-file=rsync.pw /srv/ nas::svc\n'],
    // anacron's jobs: a script it runs.
    ['/etc/anacrontab', 'SHELL=/bin/sh\nPATH=/sbin:/bin:/usr/sbin:/usr/bin\n1\t5\tcron.daily\trun-parts --report /etc/cron.daily\n@daily 10 borg-home /bin/bash /home/bob/borg.sh >> /home/bob/borg.log 2>&1\n'],
    ['/home/bob/borg.sh', '#!/bin/bash\nexport BORG_PASSCOMMAND="cat /home/bob/.borg-words"\nborg create /srv/borg::{now} /home/bob\n'],
  ]
  const named = [
    '/etc/app/db.pw',
    '/etc/app/db.pw/**',
    '/etc/app/root.env',
    '/etc/db/dump.pw',
    '/etc/dump/repo.pw',
    '/etc/gss/nfs.service-key',
    '/etc/krb/client.kt',
    '/etc/web/http.kt',
    '/home/bob/.borg-words',
    '/home/bob/rsync.pw',
    '/opt/app/conf/repo.pw',
    '/opt/three/repo.key',
    '/run/credentials/app.service/db',
    '/srv/rel/rsync.secret',
    '/srv/svc/.restic-pw',
    '/srv/svc/.unit-pw',
    '/srv/svc/rsync.pw',
    '/usr/local/sbin/gpg.pass',
  ]
  const secrets: Array<[string, string]> = named.filter((p) => !p.endsWith('/**') && !p.startsWith('/run/')).map((p) => [p, `${fakeChars(`s38-nc-${p}`, 8).toLowerCase()} ${fakeChars(`s38-nc2-${p}`, 9).toLowerCase()}\n`])
  const machine = () => {
    const root = new TargetRoot()
    for (const [path, text] of files) root.file(path, text, { mode: path.startsWith('/usr/local/') || path.endsWith('.sh') ? 0o755 : 0o644 })
    for (const [path, text] of secrets) root.file(path, text, { mode: 0o644 })
    // Beside them, what nothing names: the same names elsewhere.
    return root.file('/root/.restic-pw', 'not named\n', { mode: 0o644 }).file('/opt/app/repo.pw', 'not named\n', { mode: 0o644 }).file('/etc/app/app.env', 'LOG_LEVEL=info\n', { mode: 0o644 })
  }

  it('names what a job\'s home, a unit\'s folder, computed variables, a third hop and KRB5_KTNAME lead to', async () => {
    const root = machine()
    try {
      const cache = new MemoryCache()
      assert.deepEqual((await namedCredentialFiles(createTestContext(root.dir).host, cache)).sort(), named)
      // From the cache; then the account's home moves (/etc/passwd alone changes).
      assert.deepEqual((await namedCredentialFiles(createTestContext(root.dir).host, cache)).sort(), named)
      root.file('/etc/passwd', 'root:x:0:0:root:/root:/bin/bash\nbob:x:1000:1000::/home/bob:/bin/bash\nsvc:x:998:998::/var/lib/svc:/usr/sbin/nologin\n')
      assert.deepEqual((await namedCredentialFiles(createTestContext(root.dir).host, cache)).sort(), named.map((p) => p.replace(/^\/srv\/svc\//, '/var/lib/svc/')).sort())
    } finally {
      root.remove()
    }
  })

  it('the files provider holds each one out, world-readable, of no shape the detector knows; the crontabs, scripts and units are mirrored', async () => {
    const root = machine()
    try {
      const { documents, entry } = await collected(root, ['/etc', '/opt', '/srv', '/home', '/root', '/usr/local', '/var/spool/cron'])
      for (const [path] of secrets) assert.equal(entry(path)?.secret, true, path)
      for (const path of ['/etc/cron.d/offsite', '/opt/app/nightly.sh', '/usr/local/sbin/dump', '/opt/three/lib.sh', '/opt/three/env', '/opt/rel/run.sh', '/etc/default/gssproxy', '/root/.restic-pw', '/opt/app/repo.pw', '/etc/app/app.env']) assert.equal(entry(path)?.content, 'mirrored', path)
      for (const d of documents) for (const [path, text] of secrets) assert.ok(!String(d.content).includes(text.trim()), `${d.path} holds ${path}'s`)
    } finally {
      root.remove()
    }
  })

  it('a pushed twin names the same files from its own copies and its own /etc/passwd (never the machine)', async () => {
    const twin = new MemoryTwin(files.map(([path, content]) => ({ path: `filesystem${path}`, content })))
    const asked = [...secrets.map(([path]) => `filesystem${path}`), 'filesystem/root/.restic-pw', 'filesystem/opt/app/repo.pw', 'filesystem/etc/app/app.env']
    const found = await new FilesProvider().secretPaths({ paths: asked, twin, ctx: twinOnly() })
    assert.deepEqual(found.map((f) => f.path).sort(), secrets.map(([path]) => `filesystem${path}`).sort())
  })
})

/**
 * Session 38: the naming rules' line settings (LINE_VALUES) in linear time. Each value was a lazy
 * `[^\r\n]*?` before `[ \t]*\r?$`, which tried the line's end over the rest of a run of blanks from
 * each of its characters (a line of `sasldb_path: a`, 16 KB of tabs and `b`: 1.5 s). Timed as
 * sdk/test/secret-rules-linear.test.ts times the hand rules (at most 40 times a linear scan of the
 * same text and a floor, test/support/linear-time.ts; a first run over that fails at once), and matching as the earlier expression
 * did (index, match and groups) on random lines of their parts.
 */
describe('naming rules in linear time on hostile configs (session 38)', () => {
  const EARLIER: Record<keyof typeof LINE_VALUES, RegExp> = {
    hostapd: /^[ \t]*(?:wpa_psk_file|eap_user_file)[ \t]*=[ \t]*(?<f>[^\s#][^\r\n]*?)[ \t]*$/gm,
    keyFile: /^[ \t]*keyFile[ \t]*[:=][ \t]*(?<f>[^\s#][^\r\n#]*?)[ \t]*(?:#.*)?$/gm,
    sasldb: /^[ \t]*sasldb_path[ \t]*:[ \t]*(?<f>[^\s#][^\r\n]*?)[ \t]*\r?$/gm,
    loadCredential: /^[ \t]*LoadCredential(?:Encrypted)?[ \t]*=[ \t]*[^:\s]+:(?<f>[/%][^\r\n]*?)[ \t]*\r?$/gm,
    environmentFile: /^[ \t]*EnvironmentFile[ \t]*=[ \t]*(?<f>[^\r\n]*?)[ \t]*\r?$/gm,
    rsyncSecrets: /^[ \t]*secrets[ \t]*file[ \t]*=[ \t]*(?<f>[^\s#;][^\r\n]*?)[ \t]*\r?$/gim,
    pskSecrets: /^[ \t]*PSKsecrets[ \t]*=[ \t]*(?<f>[^\s;#][^\r\n]*?)[ \t]*\r?$/gim,
    zabbix: /^[ \t]*(?:Plugins\.[^\s=]+\.)?TLS(?:PSK|Key)File[ \t]*=[ \t]*(?<f>[^\s#][^\r\n]*?)[ \t]*\r?$/gm,
  }
  /** Each setting: its key as a line starts it, and a config its rule reads. */
  const KEYS: Record<keyof typeof LINE_VALUES, [string, string]> = {
    hostapd: ['wpa_psk_file=', '/etc/hostapd/office.conf'],
    keyFile: ['keyFile: ', '/etc/mongod.conf'],
    sasldb: ['sasldb_path: ', '/etc/postfix/sasl/smtpd.conf'],
    loadCredential: ['LoadCredential=db:/', '/etc/systemd/system/app.service'],
    environmentFile: ['EnvironmentFile=', '/etc/systemd/system/app.service'],
    rsyncSecrets: ['secrets file = ', '/etc/rsyncd.conf'],
    pskSecrets: ['PSKsecrets = ', '/etc/stunnel/a.conf'],
    zabbix: ['TLSPSKFile=', '/etc/zabbix/zabbix_agentd.conf'],
  }
  const assertLinear = (run: () => void, text: string, what: string) => assertLinearTime(run, text, what)
  const rulesOf = (config: string) => NAMING_RULES.filter((r) => r.isConfig(config))

  for (const name of Object.keys(LINE_VALUES) as Array<keyof typeof LINE_VALUES>) {
    const [key, config] = KEYS[name]
    it(`${name}: its rule takes a linear scan's time on a line of blanks in the value, and matches as the earlier expression did`, () => {
      assert.equal(rulesOf(config).length, 1, config)
      const rule = rulesOf(config)[0] as (typeof NAMING_RULES)[number]
      const hostile = `${key}a${'\t'.repeat(32 * 1024)}b\n`
      assertLinear(() => rule.named(config, hostile), hostile, `${name}: 32 KB of tabs in a value`)
      const lines = `${key}a${'\t'.repeat(400)}b\n`.repeat(80)
      assertLinear(() => rule.named(config, lines), lines, `${name}: 80 lines of 400 tabs in a value`)
      let seed = 157 + name.length
      const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 16
      const parts = [key, key, key.toUpperCase(), ' ', '\t', '\t\t\t', 'a', '/etc/x', '#', '# c', ';', '"', '%h', '=', ':', '\r', '\n', '\r\n', '\u2028', '\u2029', '\v', '\u00a0', 'x y']
      let matches = 0
      for (let i = 0; i < 20000; i++) {
        let text = ''
        for (let k = 1 + (next() % 10); k > 0; k--) text += parts[next() % parts.length]
        const of = (re: RegExp) => [...text.matchAll(re)].map((m) => [m.index, m[0], m.groups])
        const earlier = of(EARLIER[name])
        assert.deepEqual(of(LINE_VALUES[name]), earlier, JSON.stringify(text))
        matches += earlier.length
      }
      assert.ok(matches > 1000, `${matches} matches`)
    })
  }
})

/**
 * Session 39: what session 38 left, each file mirrored before, world-readable, of no shape the
 * detector knows: a unit's folder set only in a drop-in (its ExecStart='s relative word, and the
 * converse: the drop-in's ExecStart= run from the unit's folder); a relative value through a
 * variable an environment file sets (`PW=pw.txt`, `--password-file $PW`), for the unit's own
 * command and a script it runs.
 */
describe('password files from a drop-in\'s folder and relative values of variables (session 39)', () => {
  const files: Array<[string, string]> = [
    ['/etc/passwd', 'root:x:0:0:root:/root:/bin/bash\nbob:x:1000:1000::/home/bob:/bin/bash\nsvc:x:998:998::/srv/svc:/usr/sbin/nologin\n'],
    ['/etc/group', 'root:x:0:\nbob:x:1000:\nsvc:x:998:\n'],
    ['/var/lib/dpkg/status', ''],
    ['/var/lib/dpkg/diversions', ''],
    // 1. WorkingDirectory= only in a drop-in; the converse (the unit's folder, the drop-in's ExecStart=); a drop-in of a vendor unit (no unit here).
    ['/etc/systemd/system/vault-sync.service', '[Service]\nExecStart=/usr/bin/restic --password-file repo.words check\n'],
    ['/etc/systemd/system/vault-sync.service.d/override.conf', '[Service]\nWorkingDirectory=/srv/vault\n'],
    ['/etc/systemd/system/mirror.service', '[Service]\nWorkingDirectory=/srv/mirror\n'],
    ['/etc/systemd/system/mirror.service.d/10-run.conf', '[Service]\nExecStart=\nExecStart=/usr/bin/rsync -a --password-file=nas.words /srv/mirror/ nas::m\n'],
    ['/etc/systemd/system/ssh.service.d/zz-folder.conf', '[Service]\nWorkingDirectory=/srv/sshd\n'],
    ['/etc/systemd/system/ssh.service.d/aa-post.conf', '[Service]\nExecStartPost=/opt/sshd/post.sh\n'],
    ['/opt/sshd/post.sh', '#!/bin/sh\nrsync -a --password-file=post.words /etc/ssh/ nas::ssh\n'],
    // 2. A relative value of a variable an environment file sets: the unit's own command (its drop-in's folder) and a script it runs.
    ['/etc/systemd/system/offsite.service', '[Service]\nEnvironmentFile=/etc/offsite/env\nExecStart=/usr/bin/restic --password-file ${PW} backup /srv\nExecStartPost=/opt/offsite/check.sh\n'],
    ['/etc/systemd/system/offsite.service.d/dir.conf', '[Service]\nWorkingDirectory=/srv/offsite\n'],
    ['/etc/offsite/env', 'PW=keys/repo.words\nCHECK_PW=check.words\n'],
    ['/opt/offsite/check.sh', '#!/bin/sh\nrestic --password-file "$CHECK_PW" check\n'],
  ]
  const held = ['/srv/vault/repo.words', '/srv/mirror/nas.words', '/srv/sshd/post.words', '/srv/offsite/keys/repo.words', '/srv/offsite/check.words']
  const secrets: Array<[string, string]> = held.map((p) => [p, `${fakeChars(`s39-nc-${p}`, 8).toLowerCase()} ${fakeChars(`s39-nc2-${p}`, 9).toLowerCase()}\n`])
  /** Beside them, what nothing names: the same names in other folders. */
  const beside = ['/srv/other/repo.words', '/srv/vault/keys/repo.words', '/etc/offsite/check.words']
  const machine = () => plantedMachine(files, secrets, beside)

  it('names what a drop-in\'s folder and a relative value of a variable lead to; not the same names elsewhere', async () => {
    const root = machine()
    try {
      const cache = new MemoryCache()
      for (let run = 0; run < 2; run++) {
        const named = await namedCredentialFiles(createTestContext(root.dir).host, cache)
        assert.deepEqual(held.filter((p) => !named.includes(p)), [], `run ${run}: not named`)
        assert.deepEqual(beside.filter((p) => named.includes(p)), [], `run ${run}: named`)
      }
    } finally {
      root.remove()
    }
  })

  it('the files provider holds each one out, world-readable, of no shape the detector knows; the drop-ins and scripts are mirrored (the environment file is held as one)', async () => {
    const root = machine()
    try {
      const { documents, entry } = await collected(root, ['/etc', '/opt', '/srv'])
      assert.deepEqual(held.filter((path) => entry(path)?.secret !== true), [], 'not held out')
      for (const path of [...beside, '/etc/systemd/system/vault-sync.service.d/override.conf', '/etc/systemd/system/mirror.service.d/10-run.conf', '/opt/sshd/post.sh', '/opt/offsite/check.sh']) assert.equal(entry(path)?.content, 'mirrored', path)
      for (const d of documents) for (const [path, text] of secrets) assert.ok(!String(d.content).includes(text.trim()), `${d.path} holds ${path}'s`)
    } finally {
      root.remove()
    }
  })

  it('a pushed twin names the same files from its own copies (never the machine)', async () => {
    await assertTwinNames(files, held, beside)
  })
})

/**
 * Session 39: user units' specifiers. A home's unit's `%u`, `%U`, `%g`, `%G` are its account's
 * (the machine's or the twin's /etc/passwd and /etc/group; before, any name: a
 * `WorkingDirectory=/srv/%u` was no one folder and its script's relative word was left); a unit
 * of /etc/systemd/user runs in a service account's home too (before, /root and /home/* only: a service
 * account's home under /srv was none), its script's relative words from each.
 */
describe('password files of user units\' specifiers: %u, %g, %h of every account (session 39)', () => {
  const files: Array<[string, string]> = [
    ['/etc/passwd', 'root:x:0:0:root:/root:/bin/bash\nbob:x:1000:1000::/home/bob:/bin/bash\nsvc:x:998:997::/srv/svc:/usr/sbin/nologin\n'],
    ['/etc/group', 'root:x:0:\nbob:x:1000:\nops:x:997:svc\n'],
    ['/var/lib/dpkg/status', ''],
    ['/var/lib/dpkg/diversions', ''],
    // A home's unit: its folder by %u, a script's relative word from there; %g in a LoadCredential=.
    ['/home/bob/.config/systemd/user/backup.service', '[Service]\nWorkingDirectory=/srv/backup/%u\nExecStart=/opt/backup/run.sh\nLoadCredential=db:/srv/creds/%g/db.words\n'],
    ['/opt/backup/run.sh', '#!/bin/sh\nrestic --password-file repo.words backup /home\n'],
    // A unit of /etc/systemd/user: a service account's home (/srv/svc), its own environment file and its script's relative word from %h.
    ['/etc/systemd/user/sync.service', '[Service]\nEnvironmentFile=-%h/.config/sync/env\nExecStart=/opt/sync/run.sh\n'],
    ['/opt/sync/run.sh', '#!/bin/sh\nrsync -a --password-file=.sync.words ~/data/ nas::data\n'],
  ]
  const held = ['/srv/backup/bob/repo.words', '/srv/creds/bob/db.words', '/srv/svc/.config/sync/env', '/srv/svc/.sync.words', '/home/bob/.sync.words']
  const secrets: Array<[string, string]> = held.map((p) => [p, `${fakeChars(`s39-uu-${p}`, 8).toLowerCase()} ${fakeChars(`s39-uu2-${p}`, 9).toLowerCase()}\n`])
  /** Beside them, what nothing names: another account's folder, another group's. */
  const beside = ['/srv/backup/alice/repo.words', '/srv/creds/ops/db.words', '/srv/other/.sync.words']
  const machine = () => plantedMachine(files, secrets, beside)
  const homes = ['/root', '/home/bob', '/srv/svc']

  it('names what a home\'s unit\'s %u and %g and a shared unit\'s %h of every account lead to; not another account\'s or group\'s', async () => {
    const root = machine()
    try {
      const cache = new MemoryCache()
      // A pattern's `*` (a shared unit's /home/*) stands for one name.
      const matches = (pattern: string, path: string) => new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')}$`).test(path)
      for (let run = 0; run < 2; run++) {
        const named = await namedCredentialFiles(createTestContext(root.dir).host, cache, homes)
        assert.deepEqual(held.filter((p) => !named.some((n) => matches(n, p))), [], `run ${run}: not named`)
        assert.deepEqual(beside.filter((p) => named.some((n) => matches(n, p))), [], `run ${run}: named`)
      }
      // bob is renamed (/etc/passwd alone changes): the cached lists are not taken.
      root.file('/etc/passwd', 'root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/bob:/bin/bash\nsvc:x:998:997::/srv/svc:/usr/sbin/nologin\n')
      const renamed = await namedCredentialFiles(createTestContext(root.dir).host, cache, homes)
      assert.ok(renamed.includes('/srv/backup/alice/repo.words') && !renamed.includes('/srv/backup/bob/repo.words'), renamed.join(' '))
    } finally {
      root.remove()
    }
  })

  it('the files provider holds each one out, world-readable, of no shape the detector knows; the units and scripts are mirrored', async () => {
    const root = machine()
    try {
      const { documents, entry } = await collected(root, ['/etc', '/opt', '/srv', '/home'])
      assert.deepEqual(held.filter((path) => entry(path)?.secret !== true), [], 'not held out')
      for (const path of [...beside, '/home/bob/.config/systemd/user/backup.service', '/etc/systemd/user/sync.service', '/opt/backup/run.sh', '/opt/sync/run.sh']) assert.equal(entry(path)?.content, 'mirrored', path)
      for (const d of documents) for (const [path, text] of secrets) assert.ok(!String(d.content).includes(text.trim()), `${d.path} holds ${path}'s`)
    } finally {
      root.remove()
    }
  })

  it('a pushed twin names the same files from its own copies, /etc/passwd and /etc/group (never the machine)', async () => {
    const twin = new MemoryTwin([...files.map(([path, content]) => ({ path: `filesystem${path}`, content })), ...[...held, ...beside].map((path) => ({ path: `filesystem${path}`, content: 'x\n' }))])
    const asked = [...held, ...beside].map((path) => `filesystem${path}`)
    const found = await new FilesProvider().secretPaths({ paths: asked, twin, ctx: twinOnly() })
    assert.deepEqual(found.map((f) => f.path).sort(), held.map((path) => `filesystem${path}`).sort())
  })
})

/**
 * Session 39: Kerberos keytabs of any name that krb5.conf, a KDC's kdc.conf, SSSD and gssproxy
 * name (`*.keytab` is held by its name; each of these was mirrored). Not a `MEMORY:` or `KEYRING:`
 * one, a comment, another setting's path.
 */
describe('Kerberos keytabs krb5.conf, kdc.conf, sssd.conf and gssproxy name (session 39)', () => {
  const files: Array<[string, string]> = [
    ['/etc/passwd', 'root:x:0:0:root:/root:/bin/bash\n'],
    ['/etc/group', 'root:x:0:\n'],
    ['/var/lib/dpkg/status', ''],
    ['/var/lib/dpkg/diversions', ''],
    ['/etc/krb5.conf', '[libdefaults]\n\tdefault_realm = EXAMPLE.NET\n\tdefault_keytab_name = FILE:/etc/krb/host.kt\n\tdefault_client_keytab_name = FILE:/var/lib/krb/%{euid}/client.kt\n# default_keytab_name = /etc/krb/old.kt\n\tdefault_ccache_name = KEYRING:persistent:%{uid}\n[realms]\n\tEXAMPLE.NET = {\n\t\tkdc = kdc.example.net\n\t\tdict_file = /etc/krb/not-named\n\t}\n'],
    ['/etc/krb5.conf.d/web', '[libdefaults]\n  default_keytab_name = WRFILE:/etc/web/http.kt\n'],
    ['/etc/krb5kdc/kdc.conf', '[realms]\n    EXAMPLE.NET = {\n        key_stash_file = /etc/krb5kdc/master.key\n        acl_file = /etc/krb5kdc/kadm5.acl\n    }\n'],
    ['/etc/sssd/sssd.conf', '[domain/example.net]\nid_provider = ldap\nldap_sasl_mech = GSSAPI\nldap_krb5_keytab = /etc/sssd/ldap.kt\nkrb5_keytab = "/etc/sssd/auth.kt"\n; krb5_keytab = /etc/sssd/commented.kt\n'],
    ['/etc/sssd/conf.d/ad.conf', '[domain/ad.example.net]\nkrb5_keytab = /etc/sssd/ad.kt\n'],
    ['/etc/gssproxy/24-nfs-server.conf', '[service/nfs-server]\n  mechs = krb5\n  socket = /run/gssproxy.sock\n  cred_store = keytab:/etc/gss/nfs.service-key\n  cred_store = client_keytab:/var/lib/gssproxy/clients/%U.kt\n  cred_store = ccache:FILE:/var/lib/gssproxy/clients/krb5cc_%U\n  trusted = yes\n'],
    ['/etc/gssproxy/80-httpd.conf', '[service/HTTP]\n  mechs = krb5\n  keytab = /etc/gss/http.service-key\n  cred_store = ccache:MEMORY:x\n'],
  ]
  const named = ['/etc/gss/http.service-key', '/etc/gss/nfs.service-key', '/etc/krb/host.kt', '/etc/krb5kdc/master.key', '/etc/sssd/ad.kt', '/etc/sssd/auth.kt', '/etc/sssd/ldap.kt', '/etc/web/http.kt', '/var/lib/gssproxy/clients/*.kt', '/var/lib/gssproxy/clients/krb5cc_*', '/var/lib/krb/*/client.kt']
  /** Binary keytabs (a version, a principal, a key), world-readable as a careless copy leaves them. */
  const keytab = (seed: string) => Buffer.concat([Buffer.from([5, 2, 0, 0, 0, 80, 0, 1, 0, 11]), Buffer.from('EXAMPLE.NET'), Buffer.from([0, 3]), Buffer.from('nfs'), Buffer.from([0, 18, 0, 32]), Buffer.from(fakeChars(`s39-kt-${seed}`, 32))])
  const held = ['/etc/gss/http.service-key', '/etc/gss/nfs.service-key', '/etc/krb/host.kt', '/etc/krb5kdc/master.key', '/etc/sssd/ad.kt', '/etc/sssd/auth.kt', '/etc/sssd/ldap.kt', '/etc/web/http.kt', '/var/lib/gssproxy/clients/0.kt', '/var/lib/gssproxy/clients/krb5cc_0', '/var/lib/krb/0/client.kt']
  const beside = ['/etc/krb/old.kt', '/etc/krb/not-named', '/etc/sssd/commented.kt', '/etc/krb5kdc/kadm5.acl']
  const machine = () => {
    const root = new TargetRoot()
    for (const [path, text] of files) root.file(path, text, { mode: 0o644 })
    for (const path of held) root.file(path, keytab(path), { mode: 0o644 })
    for (const path of beside) root.file(path, 'not named\n', { mode: 0o644 })
    return root
  }

  it('names them; not a comment, a MEMORY: or KEYRING: one, another setting\'s path', async () => {
    const root = machine()
    try {
      assert.deepEqual((await namedCredentialFiles(createTestContext(root.dir).host, new MemoryCache())).sort(), named)
    } finally {
      root.remove()
    }
  })

  it('the files provider holds each one out, world-readable; the configs are mirrored', async () => {
    const root = machine()
    try {
      const { documents, entry } = await collected(root, ['/etc', '/var/lib/gssproxy', '/var/lib/krb'])
      assert.deepEqual(held.filter((path) => entry(path)?.secret !== true), [], 'not held out')
      for (const path of [...beside, '/etc/krb5.conf', '/etc/krb5.conf.d/web', '/etc/krb5kdc/kdc.conf', '/etc/gssproxy/24-nfs-server.conf']) assert.equal(entry(path)?.content, 'mirrored', path)
    } finally {
      root.remove()
    }
  })

  it('reads hostile configs in linear time (a line of blanks, of names, of `%{` tokens)', () => {
    for (const [config, text] of [
      ['/etc/krb5.conf', `default_keytab_name${'\t'.repeat(64 * 1024)}x\n`],
      ['/etc/sssd/sssd.conf', `${'krb5_keytab'.repeat(20000)} = /a\n`],
      ['/etc/gssproxy/a.conf', `cred_store = keytab:/${'%{'.repeat(40000)}\n`],
      ['/etc/krb5.conf', `default_keytab_name = FILE:/a\n`.repeat(8000)],
    ] as const) {
      const rule = NAMING_RULES.find((r) => r.isConfig(config)) as (typeof NAMING_RULES)[number]
      assertLinearTime(() => rule.named(config, text), text, `${config}: ${text.slice(0, 30)}`)
    }
  })

  it('a pushed twin names them from its own configs', async () => {
    await assertTwinNames(files, held, beside)
  })
})

/**
 * Session 39: a crontab line's `cd` into the job's home (`cd $HOME/backup`, `cd ~/b2`, `cd ${HOME}/x`,
 * a bare `cd`, `cd ~bob/keys`) before a relative word, and a word of the home (`$HOME/.pw`):
 * cron runs the job with HOME set (its HOME= line, else the account's home). Before, such a `cd`
 * made the folder unknown and the word was left.
 */
describe('password files a crontab line reaches by `cd $HOME/…` or `cd ~/…` (session 39)', () => {
  const files: Array<[string, string]> = [
    ['/etc/passwd', 'root:x:0:0:root:/root:/bin/bash\nbob:x:1000:1000::/home/bob:/bin/bash\nsvc:x:998:998::/srv/svc:/usr/sbin/nologin\n'],
    ['/etc/group', 'root:x:0:\nbob:x:1000:\nsvc:x:998:\n'],
    ['/var/lib/dpkg/status', ''],
    ['/var/lib/dpkg/diversions', ''],
    ['/var/spool/cron/crontabs/bob', '15 4 * * * cd $HOME/backup && restic --password-file repo.words backup /home/bob\n20 4 * * * cd ~/b2 && restic --password-file ./b2.words backup\n25 4 * * * restic --password-file "$HOME/.home.words" check\n'],
    ['/etc/cron.d/svc', '0 3 * * * svc cd && rsync -a --password-file=.rs.words /srv/data/ nas::svc\n'],
    ['/etc/cron.d/app', 'HOME=/opt/app\n30 1 * * * root cd ${HOME}/conf && ./run.sh\n'],
    ['/opt/app/conf/run.sh', '#!/bin/sh\nrestic --password-file app.words check\n'],
    ['/etc/crontab', 'SHELL=/bin/sh\n0 2 * * * root cd ~bob/keys && gpg --batch --passphrase-file gpg.words -c /srv/x\n'],
  ]
  const held = ['/home/bob/backup/repo.words', '/home/bob/b2/b2.words', '/home/bob/.home.words', '/srv/svc/.rs.words', '/opt/app/conf/app.words', '/home/bob/keys/gpg.words']
  const secrets: Array<[string, string]> = held.map((p) => [p, `${fakeChars(`s39-cd-${p}`, 8).toLowerCase()} ${fakeChars(`s39-cd2-${p}`, 9).toLowerCase()}\n`])
  const beside = ['/home/bob/repo.words', '/root/b2/b2.words', '/root/.rs.words', '/opt/app/app.words', '/root/keys/gpg.words']
  const machine = () => plantedMachine(files, secrets, beside)

  it('names the files from the job\'s home; not the same names elsewhere', async () => {
    await assertMachineNames(machine(), held, beside)
  })

  it('the files provider holds each one out; the crontabs and the script are mirrored', async () => {
    const root = machine()
    try {
      const { documents, entry } = await collected(root, ['/etc', '/opt', '/srv', '/home', '/root', '/var/spool/cron'])
      assert.deepEqual(held.filter((path) => entry(path)?.secret !== true), [], 'not held out')
      for (const path of [...beside, '/etc/cron.d/svc', '/etc/cron.d/app', '/opt/app/conf/run.sh']) assert.equal(entry(path)?.content, 'mirrored', path)
      for (const d of documents) for (const [path, text] of secrets) assert.ok(!String(d.content).includes(text.trim()), `${d.path} holds ${path}'s`)
    } finally {
      root.remove()
    }
  })

  it('a pushed twin names the same files from its own crontabs and /etc/passwd (never the machine)', async () => {
    await assertTwinNames(files, held, beside)
  })
})

/**
 * Session 40: keytabs of any name that Apache (mod_auth_gssapi's `GssapiCredStore`, mod_auth_kerb's
 * `Krb5Keytab`, its envvars' `KRB5_KTNAME`), nginx (`auth_gss_keytab`) and Samba (`dedicated keytab
 * file`, `sync machine password to keytab`) name, Samba's password databases and private folder,
 * the KDC's database and LDAP bind password stash, in their configs and the files those include
 * within /etc (a wildcard, a second hop); a KDC's stash at MIT's default name by its path. Before,
 * each was mirrored (a text) or recorded with its plain sha256 (a binary).
 */
describe('keytabs and credential files Apache, nginx and Samba name, also in files they include; a KDC stash and database (session 40)', () => {
  const files: Array<[string, string]> = [
    ['/etc/passwd', 'root:x:0:0:root:/root:/bin/bash\n'],
    ['/etc/group', 'root:x:0:\n'],
    ['/var/lib/dpkg/status', ''],
    ['/var/lib/dpkg/diversions', ''],
    ['/etc/apache2/apache2.conf', 'ServerRoot "/etc/apache2"\nIncludeOptional sites-extra/*.conf\nInclude /srv/www/outside.conf\nInclude /etc/intranet/apache.d\n'],
    ['/etc/intranet/apache.d/gss.conf', 'GssapiCredStore keytab:/etc/intranet/http.creds\n'],
    ['/etc/apache2/sites-extra/app.conf', '<Location /app>\n  AuthType GSSAPI\n  GssapiCredStore keytab:/etc/apache2/app.service-key\n</Location>\n'],
    ['/etc/apache2/sites-available/intranet.conf', '<VirtualHost *:443>\n  <Location />\n    AuthType GSSAPI\n    GssapiCredStore keytab:/etc/apache2/http.service-key\n    GssapiCredStore ccache:MEMORY:x\n    #GssapiCredStore keytab:/etc/apache2/old.kt\n    Include /etc/wiki/apache-auth.conf\n  </Location>\n</VirtualHost>\n'],
    ['/etc/wiki/apache-auth.conf', 'GssapiCredStore "client_keytab:/etc/wiki/client.creds"\nInclude /etc/wiki/deeper.conf\n'],
    ['/etc/wiki/deeper.conf', 'GssapiCredStore ccache:FILE:/etc/wiki/deleg.ccache\n'],
    ['/srv/www/outside.conf', 'Krb5Keytab /etc/apache2/outside.kt\n'],
    ['/etc/apache2/conf-available/kerb.conf', '<Directory /srv/www>\n\tAuthType Kerberos\n\tKRB5KEYTAB /etc/apache2/krb5.http\n\tKrbServiceName HTTP\n</Directory>\n'],
    ['/etc/apache2/envvars', 'export APACHE_RUN_USER=www-data\nexport KRB5_KTNAME=FILE:/etc/apache2/env.http\n'],
    ['/etc/httpd/conf.d/gss.conf', 'GssapiCredStore keytab:/etc/httpd/http.creds\n'],
    ['/etc/nginx/sites-available/intranet', 'server {\n  # auth_gss_keytab /etc/nginx/old.kt;\n  location / { auth_gss on; auth_gss_keytab /etc/nginx/inline.kt; }\n  location /api {\n    auth_gss_keytab "/etc/nginx/api.creds";\n    include /etc/gss/*.conf;\n  }\n}\n'],
    ['/etc/gss/nginx.conf', 'auth_gss_keytab /etc/gss/nginx.creds;\n'],
    ['/etc/samba/smb.conf', '[global]\n   kerberos method = dedicated keytab\n   Dedicated Keytab File = FILE:/etc/samba/smb.service-key\n;  dedicated keytab file = /etc/samba/commented.kt\n   passdb backend = tdbsam:/etc/samba/pdb.tdb\n   private dir = /etc/samba/private\n   sync machine password to keytab = /etc/samba/sync.kt:account_name:machine_password, /etc/samba/sync2.kt:spns:spn_prefixes=HTTP\n   include = /etc/samba/shares/%m.conf\n   username map = /etc/samba/users.map\n'],
    ['/etc/samba/shares/host1.conf', '[data]\n   path = /srv/data\n[global]\n   smbpasswdfile = /etc/samba/users.db\n'],
    ['/etc/krb5kdc/kdc.conf', '[realms]\n    EXAMPLE.NET = {\n        database_name = /etc/kdc/db/principal\n        acl_file = /etc/krb5kdc/kadm5.acl\n    }\n[dbmodules]\n    ldap = {\n        ldap_service_password_file = /etc/krb5kdc/ldap.creds\n    }\n'],
  ]
  /** Binary keytabs and stores (a version, a principal, a key), world-readable as a careless copy leaves them; text ones. */
  const keytab = (seed: string) => Buffer.concat([Buffer.from([5, 2, 0, 0, 0, 80, 0, 1, 0, 11]), Buffer.from('EXAMPLE.NET'), Buffer.from([0, 4]), Buffer.from('HTTP'), Buffer.from([0, 18, 0, 32]), Buffer.from(fakeChars(`s40-kt-${seed}`, 32))])
  const named = ['/etc/apache2/outside.kt', '/etc/intranet/http.creds', '/etc/apache2/app.service-key', '/etc/apache2/http.service-key', '/etc/wiki/client.creds', '/etc/wiki/deleg.ccache', '/etc/apache2/krb5.http', '/etc/apache2/env.http', '/etc/httpd/http.creds', '/etc/nginx/inline.kt', '/etc/nginx/api.creds', '/etc/gss/nginx.creds', '/etc/samba/smb.service-key', '/etc/samba/pdb.tdb', '/etc/samba/private', '/etc/samba/private/**', '/etc/samba/sync.kt', '/etc/samba/sync2.kt', '/etc/samba/users.db', '/etc/kdc/db/principal', '/etc/kdc/db/principal.*', '/etc/krb5kdc/ldap.creds']
  const held = ['/etc/intranet/http.creds', '/etc/apache2/app.service-key', '/etc/apache2/http.service-key', '/etc/wiki/client.creds', '/etc/wiki/deleg.ccache', '/etc/apache2/krb5.http', '/etc/apache2/env.http', '/etc/httpd/http.creds', '/etc/nginx/inline.kt', '/etc/nginx/api.creds', '/etc/gss/nginx.creds', '/etc/samba/smb.service-key', '/etc/samba/pdb.tdb', '/etc/samba/private/secrets.tdb', '/etc/samba/sync.kt', '/etc/samba/sync2.kt', '/etc/samba/users.db', '/etc/kdc/db/principal', '/etc/kdc/db/principal.ok', '/etc/krb5kdc/ldap.creds', '/etc/krb5kdc/.k5.EXAMPLE.NET', '/etc/krb5kdc/stash']
  /** Text ones: smbpasswd's lines (an NT hash), kdb5_ldap_util's stash (a DN and its password in hex). */
  const texts: Record<string, string> = {
    '/etc/samba/users.db': `bob:1000:${'X'.repeat(32)}:${fakeChars('s40-nt', 32, '0123456789ABCDEF')}:[U          ]:LCT-65A1B2C3:\n`,
    '/etc/krb5kdc/ldap.creds': `cn=kdc,dc=example,dc=net#{HEX}${Buffer.from(`${fakeChars('s40-ldap', 7).toLowerCase()} ${fakeChars('s40-ldap2', 8).toLowerCase()}`).toString('hex')}\n`,
  }
  const beside = ['/etc/apache2/old.kt', '/etc/nginx/old.kt', '/etc/samba/commented.kt', '/etc/samba/users.map', '/etc/krb5kdc/kadm5.acl']
  const machine = () => {
    const root = new TargetRoot()
    for (const [path, text] of files) root.file(path, text, { mode: 0o644 })
    for (const path of held) root.file(path, texts[path] ?? keytab(path), { mode: 0o644 })
    for (const path of beside) root.file(path, 'not named\n', { mode: 0o644 })
    return root
  }

  it('names them, also in included files (a wildcard, a second hop); not a comment, a MEMORY: one, another setting\'s path', async () => {
    const root = machine()
    try {
      const found = await namedCredentialFiles(createTestContext(root.dir).host, new MemoryCache())
      assert.deepEqual(named.filter((p) => !found.includes(p)), [], 'not named')
      assert.deepEqual(beside.filter((p) => found.includes(p)), [], 'named')
    } finally {
      root.remove()
    }
  })

  it('an included file\'s change is seen with the configs unchanged (its own stat data); a link to it within /etc is read where it leads', async () => {
    const root = machine()
    try {
      const cache = new MemoryCache()
      const host = createTestContext(root.dir).host
      assert.ok(!(await namedCredentialFiles(host, cache)).includes('/etc/wiki/later.kt'))
      root.file('/etc/wiki/deeper.conf', 'GssapiCredStore keytab:/etc/wiki/later.kt\n', { mode: 0o644 })
      root.age(['/etc/wiki/deeper.conf'])
      assert.ok((await namedCredentialFiles(host, cache)).includes('/etc/wiki/later.kt'))
      root.file('/etc/gss/real/linked.conf', 'auth_gss_keytab /etc/gss/linked.kt;\n', { mode: 0o644 })
      root.link('/etc/gss/linked.conf', 'real/linked.conf')
      assert.ok((await namedCredentialFiles(host, cache)).includes('/etc/gss/linked.kt'))
    } finally {
      root.remove()
    }
  })

  it('the files provider holds each one out, world-readable (none as a plain sha256); the configs are mirrored', async () => {
    const root = machine()
    try {
      const { documents, entry } = await collected(root, ['/etc', '/srv'])
      assert.deepEqual(held.filter((path) => entry(path)?.secret !== true || entry(path)?.sha256 !== undefined), [], 'not held out')
      for (const path of [...beside, '/etc/apache2/sites-available/intranet.conf', '/etc/wiki/apache-auth.conf', '/etc/nginx/sites-available/intranet', '/etc/samba/smb.conf', '/etc/samba/shares/host1.conf', '/etc/krb5kdc/kdc.conf', '/etc/apache2/envvars']) assert.equal(entry(path)?.content, 'mirrored', path)
      for (const d of documents) for (const [path, text] of Object.entries(texts)) assert.ok(!String(d.content).includes(text.trim().slice(-32)), `${d.path} holds ${path}'s`)
    } finally {
      root.remove()
    }
  })

  it('reads hostile configs in linear time (a line of blanks, of `;`, of names without `=`, of includes)', () => {
    for (const [config, text] of [
      ['/etc/apache2/conf-available/a.conf', `GssapiCredStore${'\t'.repeat(64 * 1024)}x\n`],
      ['/etc/apache2/conf-available/a.conf', `Include /etc/a/*.conf\n`.repeat(8000)],
      ['/etc/nginx/conf.d/a.conf', `${';'.repeat(64 * 1024)}auth_gss_keytab /a;\n`],
      ['/etc/nginx/conf.d/a.conf', `${' #'.repeat(32 * 1024)}\n`],
      ['/etc/nginx/conf.d/a.conf', `include ${'/a'.repeat(32 * 1024)};\n`],
      ['/etc/samba/smb.conf', `dedicated${' '.repeat(64 * 1024)}keytab\n`],
      ['/etc/samba/smb.conf', `sync machine password to keytab = ${'/a:b,'.repeat(16 * 1024)}\n`],
      ['/etc/samba/smb.conf', `passdb backend = ${'tdbsam:'.repeat(16 * 1024)}\n`],
      ['/etc/samba/smb.conf', `include = /etc/${'%m'.repeat(32 * 1024)}\n`],
    ] as const) {
      const rule = NAMING_RULES.find((r) => r.isConfig(config)) as (typeof NAMING_RULES)[number]
      assertLinearTime(() => {
        rule.named(config, text)
        rule.includes?.(config, text)
      }, text, `${config}: ${text.slice(0, 30)}`)
    }
  })

  it('a pushed twin names them from its own configs and the files they include', async () => {
    await assertTwinNames([...files, ['/etc/krb5kdc/.k5.EXAMPLE.NET', 'x'], ['/etc/krb5kdc/stash', 'x'], ['/etc/samba/private/secrets.tdb', 'x']], held, beside)
  })

  it('looks up at most 1,000 included paths of hostile configs (5,000 distinct missing includes), wherever the one that exists is', async () => {
    const root = new TargetRoot()
    try {
      for (const [path, text] of files.slice(0, 4)) root.file(path, text, { mode: 0o644 })
      for (let c = 0; c < 5; c++) root.file(`/etc/apache2/conf-available/h${c}.conf`, Array.from({ length: 1000 }, (_, i) => `Include /etc/h${c}-${i}/x.conf\n`).join(''), { mode: 0o644 })
      const host = createTestContext(root.dir).host
      let lstats = 0
      const counted = new Proxy(host, { get: (t, k) => (k === 'lstat' ? (p: string) => ((lstats += 1), t.lstat(p)) : Reflect.get(t, k)) })
      await namedCredentialFiles(counted, new MemoryCache())
      assert.ok(lstats < 1500, `${lstats} look-ups`)
    } finally {
      root.remove()
    }
  })

  it('a pushed commit that changes only an included file names the files already in the twin its text names', async () => {
    const all: Array<[string, string]> = [...files, ['/etc/wiki/client.creds', 'x'], ['/etc/wiki/deleg.ccache', 'x'], ['/etc/wiki/other', 'x']]
    const twin = new MemoryTwin(all.map(([path, content]) => ({ path: `filesystem${path}`, content })))
    const found = await new FilesProvider().secretPaths({ paths: ['filesystem/etc/wiki/apache-auth.conf'], twin, ctx: twinOnly() })
    assert.deepEqual(found.map((f) => f.path).sort(), ['filesystem/etc/wiki/client.creds', 'filesystem/etc/wiki/deleg.ccache'])
  })
})

/**
 * Session 40: a script cron runs (and what it sources) that `cd`s to `$HOME`, `~`, `${HOME}/x` or
 * a bare `cd` before a relative word, or names `$HOME/pw`, `~/pw`: the job's HOME (its crontab's
 * HOME= line, else its user's home) is carried into the files followed. Before, such a `cd` in a
 * followed script made the folder unknown and the word was left.
 */
describe('password files a script cron runs reaches by `cd $HOME` or `cd ~` (session 40)', () => {
  const files: Array<[string, string]> = [
    ['/etc/passwd', 'root:x:0:0:root:/root:/bin/bash\nbob:x:1000:1000::/home/bob:/bin/bash\n'],
    ['/etc/group', 'root:x:0:\nbob:x:1000:\n'],
    ['/var/lib/dpkg/status', ''],
    ['/var/lib/dpkg/diversions', ''],
    ['/var/spool/cron/crontabs/bob', '30 2 * * * /opt/backup/nightly.sh\n40 2 * * * /bin/sh /opt/backup/b2.sh\n'],
    ['/opt/backup/nightly.sh', '#!/bin/sh\nset -e\ncd $HOME\nrestic --password-file .repo.words backup /srv/data\n. ./backup.env\n'],
    ['/home/bob/backup.env', 'RESTIC_PASSWORD_FILE=env.words\n'],
    ['/opt/backup/b2.sh', '#!/bin/sh\ncd ~/b2 || exit 1\nrestic --password-file ./b2.words check\nrestic --password-file "$HOME/.home.words" check\nrestic --password-file ~/.tilde.words check\n'],
    ['/etc/crontab', 'SHELL=/bin/sh\nHOME=/srv/jobs\n15 4 * * * root /opt/jobs/run.sh\n'],
    ['/opt/jobs/run.sh', '#!/bin/sh\ncd "${HOME}/keys" && rsync -a --password-file=jobs.words data/ nas::data\n'],
    ['/etc/cron.d/bare', '0 5 * * * bob /opt/jobs/bare.sh\n'],
    ['/opt/jobs/bare.sh', '#!/bin/sh\ncd\ngpg --batch --passphrase-file gpg.words -c /srv/x\n'],
  ]
  const held = ['/home/bob/.repo.words', '/home/bob/env.words', '/home/bob/b2/b2.words', '/home/bob/.home.words', '/home/bob/.tilde.words', '/srv/jobs/keys/jobs.words', '/home/bob/gpg.words']
  const secrets: Array<[string, string]> = held.map((p) => [p, `${fakeChars(`s40-cd-${p}`, 8).toLowerCase()} ${fakeChars(`s40-cd2-${p}`, 9).toLowerCase()}\n`])
  const beside = ['/.repo.words', '/root/.repo.words', '/root/b2/b2.words', '/opt/backup/b2.words', '/root/keys/jobs.words', '/opt/jobs/jobs.words', '/root/gpg.words']
  const machine = () => plantedMachine(files, secrets, beside)

  it('names the files from the job\'s HOME; not the same names elsewhere', async () => {
    await assertMachineNames(machine(), held, beside)
  })

  it('the files provider holds each one out; the crontabs and scripts are mirrored', async () => {
    const root = machine()
    try {
      const { documents, entry } = await collected(root, ['/etc', '/opt', '/srv', '/home', '/root', '/var/spool/cron'])
      assert.deepEqual(held.filter((path) => entry(path)?.secret !== true), [], 'not held out')
      for (const path of [...beside.filter((p) => p !== '/.repo.words'), '/opt/backup/nightly.sh', '/opt/backup/b2.sh', '/opt/jobs/run.sh', '/opt/jobs/bare.sh']) assert.equal(entry(path)?.content, 'mirrored', path)
      for (const d of documents) for (const [path, text] of secrets) assert.ok(!String(d.content).includes(text.trim()), `${d.path} holds ${path}'s`)
    } finally {
      root.remove()
    }
  })

  it('a pushed twin names the same files from its own crontabs, scripts and /etc/passwd (never the machine)', async () => {
    await assertTwinNames(files, held, beside)
  })
})

/**
 * Session 40: a script a unit runs with the HOME systemd gives it (a system unit's `User=`, a
 * home's own user unit) that `cd`s to `$HOME` or `~` before a relative word, or names `~/pw`.
 * Before, such a `cd` in a followed script made the folder unknown and the word was left.
 */
describe('password files a unit\'s script reaches by `cd $HOME` or `cd ~` (a system unit\'s User=, a home\'s unit; session 40)', () => {
  const files: Array<[string, string]> = [
    ['/etc/passwd', 'root:x:0:0:root:/root:/bin/bash\nbob:x:1000:1000::/home/bob:/bin/bash\nbackup:x:990:990::/srv/backup:/usr/sbin/nologin\n'],
    ['/etc/group', 'root:x:0:\nbob:x:1000:\nbackup:x:990:\n'],
    ['/var/lib/dpkg/status', ''],
    ['/var/lib/dpkg/diversions', ''],
    ['/etc/systemd/system/nightly.service', '[Service]\nType=oneshot\nExecStart=/opt/backup/nightly.sh\n'],
    ['/etc/systemd/system/nightly.service.d/user.conf', '[Service]\nUser=backup\n'],
    ['/opt/backup/nightly.sh', '#!/bin/sh\ncd "$HOME"\nrestic --password-file repo.words backup /srv/data\n'],
    ['/etc/systemd/system/rootjob.service', '[Service]\nExecStart=/opt/backup/rootjob.sh\n'],
    ['/opt/backup/rootjob.sh', '#!/bin/sh\ncd ~\nrestic --password-file root.words check\n'],
    ['/home/bob/.config/systemd/user/sync.service', '[Service]\nWorkingDirectory=/srv\nExecStart=/opt/sync/run.sh\n'],
    ['/opt/sync/run.sh', '#!/bin/sh\nrsync -a --password-file ~/.sync.words data/ nas::data\ncd ~/keys && gpg --batch --passphrase-file gpg.words -c /srv/x\n'],
  ]
  const held = ['/srv/backup/repo.words', '/home/bob/.sync.words', '/home/bob/keys/gpg.words']
  const secrets: Array<[string, string]> = held.map((p) => [p, `${fakeChars(`s40-unit-${p}`, 8).toLowerCase()} ${fakeChars(`s40-unit2-${p}`, 9).toLowerCase()}\n`])
  // A system unit without User=: systemd sets no HOME (its `cd ~` is not certain); the same names elsewhere.
  const beside = ['/root/root.words', '/repo.words', '/root/repo.words', '/srv/.sync.words', '/root/.sync.words', '/srv/keys/gpg.words']
  const machine = () => plantedMachine(files, secrets, beside)

  it('names the files from the HOME systemd gives the unit; not the same names elsewhere', async () => {
    await assertMachineNames(machine(), held, beside, ['/root', '/home/bob'])
  })

  it('a pushed twin names the same files from its own units, scripts and /etc/passwd (never the machine)', async () => {
    await assertTwinNames(files, held, beside)
  })
})

/**
 * Session 41: the web servers' other credential files (nginx's passphrase, user and ticket key
 * files; Apache's passphrase and LDAP bind password programs, mod_auth_gssapi's session key and
 * delegated credentials' folder, its user files), in files they include wherever an
 * administrator keeps them (/srv, /opt: read within /etc only before); a script a unit of
 * /etc/systemd/user runs that `cd`s to `~` or names `$HOME/pw` (each account's HOME: before, none).
 */
describe('web servers\' passphrase files and programs, includes outside /etc, a shared user unit\'s HOME (session 41)', () => {
  const files: Array<[string, string]> = [
    ['/etc/passwd', 'root:x:0:0:root:/root:/bin/bash\nbob:x:1000:1000::/home/bob:/bin/bash\nann:x:1001:1001::/home/ann:/bin/bash\nbackup:x:990:990::/srv/backup:/usr/sbin/nologin\nnobody:x:65534:65534::/nonexistent:/usr/sbin/nologin\n'],
    ['/etc/group', 'root:x:0:\nbob:x:1000:\nann:x:1001:\nbackup:x:990:\n'],
    ['/var/lib/dpkg/status', ''],
    ['/var/lib/dpkg/diversions', ''],
    ['/etc/nginx/sites-available/shop', 'server {\n  # ssl_password_file /etc/nginx/old.pass;\n  ssl_password_file /etc/nginx/tls/shop.unlock;\n  ssl_session_ticket_key tickets/current.key;\n  location / { proxy_pass http://127.0.0.1:8080; auth_basic_user_file "/etc/nginx/users"; }\n  location /v { auth_basic_user_file /etc/nginx/$host.users; }\n  include /srv/www/shop/*.conf;\n}\n'],
    ['/srv/www/shop/upstream.conf', 'location /api {\n  grpc_ssl_password_file /srv/www/shop/grpc.unlock;\n  include /opt/shop/deeper.conf;\n}\n'],
    ['/opt/shop/deeper.conf', 'uwsgi_ssl_password_file /opt/shop/uwsgi.unlock;\n'],
    ['/etc/apache2/mods-available/ssl.conf', '<IfModule mod_ssl.c>\n  SSLPassPhraseDialog exec:/usr/share/apache2/ask-for-passphrase\n  #SSLSessionTicketKeyFile /etc/apache2/old.tkt\n</IfModule>\n'],
    ['/etc/apache2/conf-available/tls.conf', 'SSLPassPhraseDialog "|/usr/local/sbin/tls-unlock"\nSSLSessionTicketKeyFile tickets.key\n'],
    ['/etc/apache2/sites-available/intranet.conf', '<VirtualHost *:443>\n  Include /srv/www/intranet/auth.conf\n  AuthGroupFile /etc/apache2/groups\n  AuthUserFile /etc/apache2/.htpasswd\n  AuthDBMUserFile /etc/apache2/webusers\n  AuthDigestFile conf/digest\n</VirtualHost>\n'],
    ['/srv/www/intranet/auth.conf', 'GssapiCredStore keytab:/etc/apache2/intranet.http\nGssapiSessionKey file:/etc/apache2/intranet.session\nGssapiSessionKey key:AAAA\nGssapiDelegCcacheDir /var/lib/apache2/clientcaches\nAuthLDAPBindPassword exec:/opt/intranet/ldap-bind.sh\n'],
    ['/etc/systemd/user/sync.service', '[Service]\nExecStart=/opt/sync/run.sh\n'],
    ['/opt/sync/run.sh', '#!/bin/sh\ncd ~ || exit 1\nrestic --password-file sync.words backup Documents\nrsync --password-file "$HOME/.rsync.words" -a data/ nas::data\n'],
  ]
  const held = ['/etc/nginx/tls/shop.unlock', '/etc/nginx/tickets/current.key', '/etc/nginx/users', '/srv/www/shop/grpc.unlock', '/opt/shop/uwsgi.unlock', '/usr/local/sbin/tls-unlock', '/etc/apache2/tickets.key', '/etc/apache2/.htpasswd', '/etc/apache2/webusers.pag', '/etc/apache2/webusers.dir', '/etc/apache2/conf/digest', '/etc/apache2/intranet.http', '/etc/apache2/intranet.session', '/var/lib/apache2/clientcaches/krb5cc_bob', '/opt/intranet/ldap-bind.sh', '/home/bob/sync.words', '/home/ann/sync.words', '/root/sync.words', '/srv/backup/sync.words', '/home/bob/.rsync.words', '/srv/backup/.rsync.words']
  const secrets: Array<[string, string]> = held.map((p) => [p, `${fakeChars(`s41-${p}`, 8).toLowerCase()} ${fakeChars(`s41b-${p}`, 9).toLowerCase()}\n`])
  // A comment, a variable's, Debian's own passphrase program, a group file, the same names elsewhere.
  const beside = ['/etc/nginx/old.pass', '/etc/apache2/old.tkt', '/usr/share/apache2/ask-for-passphrase', '/etc/apache2/groups', '/opt/sync/sync.words', '/sync.words', '/nonexistent/sync.words']
  const machine = () => plantedMachine(files, secrets, beside)

  it('names them, in files included from /srv and /opt too, and from each account\'s HOME; not a comment, a variable\'s, a package\'s program, the same names elsewhere', async () => {
    // A DBM's files and the folder's as the patterns named.
    const patterns = [...new Set(held.map((p) => (p.startsWith('/etc/apache2/webusers.') ? '/etc/apache2/webusers.*' : p.startsWith('/var/lib/apache2/clientcaches/') ? '/var/lib/apache2/clientcaches/**' : p)))]
    await assertMachineNames(machine(), patterns, beside, ['/root', '/home/bob', '/home/ann'])
  })

  it('the files provider holds each one out; the configs and the script are mirrored (a proxy_pass, an exec: program no credential)', async () => {
    const root = machine()
    try {
      const { documents, entry } = await collected(root, ['/etc', '/srv', '/opt', '/home', '/root', '/usr/local', '/var/lib/apache2'])
      assert.deepEqual(held.filter((path) => entry(path)?.secret !== true), [], 'not held out')
      for (const path of ['/etc/nginx/sites-available/shop', '/srv/www/shop/upstream.conf', '/srv/www/intranet/auth.conf', '/opt/sync/run.sh', '/etc/apache2/groups']) assert.equal(entry(path)?.content, 'mirrored', path)
      for (const d of documents) for (const [path, text] of secrets) assert.ok(!String(d.content).includes(text.trim()), `${d.path} holds ${path}'s`)
    } finally {
      root.remove()
    }
  })

  it('reads hostile configs in linear time (a line of blanks, of `;`, of directives)', () => {
    for (const [config, text] of [
      ['/etc/apache2/conf-available/a.conf', `AuthUserFile${'\t'.repeat(64 * 1024)}x\n`],
      ['/etc/apache2/conf-available/a.conf', 'SSLPassPhraseDialog exec:/a\n'.repeat(8000)],
      ['/etc/apache2/conf-available/a.conf', `GssapiSessionKey file:${'/a'.repeat(32 * 1024)}\n`],
      ['/etc/nginx/conf.d/a.conf', `${';'.repeat(64 * 1024)}ssl_password_file /a;\n`],
      ['/etc/nginx/conf.d/a.conf', `${'proxy_'.repeat(16 * 1024)}ssl_password_file /a;\n`],
      ['/etc/nginx/conf.d/a.conf', `auth_basic_user_file ${' '.repeat(64 * 1024)}/a;\n`],
    ] as const) {
      const rule = NAMING_RULES.find((r) => r.isConfig(config)) as (typeof NAMING_RULES)[number]
      assertLinearTime(() => rule.named(config, text), text, `${config}: ${text.slice(0, 30)}`)
    }
  })

  it('a pushed twin names the same files from its own configs, includes, scripts and /etc/passwd (never the machine)', async () => {
    await assertTwinNames([...files, ['/var/lib/apache2/clientcaches/krb5cc_bob', 'x']], held, beside)
  })
})

/**
 * Session 41: Dovecot's passwd-file (`driver = passwd-file` and its `args`, 2.4's
 * `passwd_file_path`), PgBouncer's `auth_file` and Mosquitto's `psk_file` and `password_file`:
 * password files of any name whose lines the detector does not tell (a password in the clear
 * under `scheme=PLAIN`, `"user" "words"`, `identity:HEX`).
 */
describe('Dovecot passwd-files, PgBouncer auth files, Mosquitto PSK and password files (session 41)', () => {
  const files: Array<[string, string]> = [
    ['/etc/passwd', 'root:x:0:0:root:/root:/bin/bash\n'],
    ['/etc/group', 'root:x:0:\n'],
    ['/var/lib/dpkg/status', ''],
    ['/var/lib/dpkg/diversions', ''],
    ['/etc/dovecot/conf.d/auth-passwdfile.conf.ext', '# passdb {\n#  driver = passwd-file\n#  args = /etc/dovecot/old.users\n# }\npassdb {\n  driver = passwd-file\n  args = scheme=PLAIN username_format=%u /etc/dovecot/imap.users\n}\nuserdb {\n  driver = passwd-file\n  args = username_format=%u /etc/dovecot/domains/%d.users\n}\npassdb {\n  driver = pam\n  args = /etc/dovecot/not-a-passwd-file\n}\n'],
    ['/etc/dovecot/dovecot.conf', 'protocols = imap\npassdb passwd-file {\n  passwd_file_path = /srv/mail/users.db\n}\n'],
    ['/etc/pgbouncer/pgbouncer.ini', '[pgbouncer]\n;auth_file = /etc/pgbouncer/old.lst\nauth_type = scram-sha-256\nauth_file = /etc/pgbouncer/users.lst\n'],
    ['/etc/mosquitto/conf.d/tls.conf', 'listener 8883\npsk_hint broker\npsk_file /etc/mosquitto/sensors.psk\n# password_file /etc/mosquitto/old\npassword_file /etc/mosquitto/users\n'],
  ]
  const held = ['/etc/dovecot/imap.users', '/etc/dovecot/domains/example.net.users', '/srv/mail/users.db', '/etc/pgbouncer/users.lst', '/etc/mosquitto/sensors.psk', '/etc/mosquitto/users']
  const secrets: Array<[string, string]> = [
    ['/etc/dovecot/imap.users', `bob:${fakeChars('s41-dv', 7).toLowerCase()} ${fakeChars('s41-dv2', 8).toLowerCase()}:1000:1000::/home/bob::\n`],
    ['/etc/dovecot/domains/example.net.users', `ann:${fakeChars('s41-dv3', 9).toLowerCase()}-${fakeChars('s41-dv4', 6).toLowerCase()}:1001:1001::/home/ann::\n`],
    ['/srv/mail/users.db', `carl:${fakeChars('s41-dv5', 8).toLowerCase()} ${fakeChars('s41-dv6', 8).toLowerCase()}\n`],
    ['/etc/pgbouncer/users.lst', `"app" "${fakeChars('s41-pgb', 7).toLowerCase()} ${fakeChars('s41-pgb2', 8).toLowerCase()} ${fakeChars('s41-pgb3', 6).toLowerCase()}"\n`],
    ['/etc/mosquitto/sensors.psk', `sensor1:${fakeChars('s41-psk', 32, '0123456789abcdef')}\n`],
    ['/etc/mosquitto/users', `bob:${fakeChars('s41-mq', 7).toLowerCase()} ${fakeChars('s41-mq2', 9).toLowerCase()}\n`],
  ]
  const beside = ['/etc/dovecot/old.users', '/etc/dovecot/not-a-passwd-file', '/etc/pgbouncer/old.lst', '/etc/mosquitto/old']
  const machine = () => plantedMachine(files, secrets, beside)

  it('names them; not a comment, another driver\'s args', async () => {
    await assertMachineNames(machine(), ['/etc/dovecot/imap.users', '/etc/dovecot/domains/*.users', '/srv/mail/users.db', '/etc/pgbouncer/users.lst', '/etc/mosquitto/sensors.psk', '/etc/mosquitto/users'], beside)
  })

  it('the files provider holds each one out, world-readable, of no shape the detector knows; the configs are mirrored', async () => {
    const root = machine()
    try {
      const { documents, entry } = await collected(root, ['/etc', '/srv'])
      assert.deepEqual(held.filter((path) => entry(path)?.secret !== true), [], 'not held out')
      for (const [path] of files.slice(4)) assert.equal(entry(path)?.content, 'mirrored', path)
      for (const path of beside) assert.equal(entry(path)?.content, 'mirrored', path)
      for (const d of documents) for (const [path, text] of secrets) assert.ok(!String(d.content).includes(text.trim()), `${d.path} holds ${path}'s`)
    } finally {
      root.remove()
    }
  })

  it('reads hostile configs in linear time (names without a brace, a block without its end, blanks)', () => {
    for (const [config, text] of [
      ['/etc/dovecot/dovecot.conf', `${'passdb '.repeat(16 * 1024)}\n`],
      ['/etc/dovecot/dovecot.conf', `${'passdb {'.repeat(8 * 1024)}driver = passwd-file\n`],
      ['/etc/dovecot/dovecot.conf', `passdb {\ndriver = passwd-file\nargs =${' /a'.repeat(32 * 1024)}\n}\n`],
      ['/etc/pgbouncer/pgbouncer.ini', `auth_file${' '.repeat(64 * 1024)}x\n`],
      ['/etc/mosquitto/mosquitto.conf', `psk_file${'\t'.repeat(64 * 1024)}\n`],
    ] as const) {
      const rule = NAMING_RULES.find((r) => r.isConfig(config)) as (typeof NAMING_RULES)[number]
      assertLinearTime(() => rule.named(config, text), text, `${config}: ${text.slice(0, 30)}`)
    }
  })

  it('a pushed twin names them from its own configs', async () => {
    await assertTwinNames(files, held, beside)
  })
})

/**
 * Session 41: XDG autostart entries (/etc/xdg/autostart for every user, a home's
 * ~/.config/autostart for its own): the password files their `Exec=` lines point at (`~/…`,
 * `$HOME/…` with each user's HOME, absolute ones) and the scripts they run, followed with that HOME.
 */
describe('password files an XDG autostart entry points at, with each user\'s HOME (session 41)', () => {
  const files: Array<[string, string]> = [
    ['/etc/passwd', 'root:x:0:0:root:/root:/bin/bash\nbob:x:1000:1000::/home/bob:/bin/bash\nann:x:1001:1001::/home/ann:/bin/bash\n'],
    ['/etc/group', 'root:x:0:\nbob:x:1000:\nann:x:1001:\n'],
    ['/var/lib/dpkg/status', ''],
    ['/var/lib/dpkg/diversions', ''],
    ['/home/bob/.config/autostart/restic.desktop', '[Desktop Entry]\nType=Application\nName=Backup\nExec=sh -c "restic -r sftp:nas:/bob --password-file ~/.config/restic/key backup ~/Documents"\n# Exec=restic --password-file /home/bob/.config/restic/old\n'],
    ['/home/bob/.config/autostart/sync.desktop', '[Desktop Entry]\nType=Application\nName=Sync\nPath=/srv/sync\nExec=rsync --password-file=sync.words -a /home/bob/Documents nas::bob\n'],
    ['/etc/xdg/autostart/desk-backup.desktop', '[Desktop Entry]\nType=Application\nName=Desk backup\nExec=/opt/desk/backup.sh %u\n'],
    ['/opt/desk/backup.sh', '#!/bin/sh\nexport RESTIC_PASSWORD_FILE="$HOME/.config/desk/repo-words"\nrestic backup ~/Documents\n'],
  ]
  const held = ['/home/bob/.config/restic/key', '/srv/sync/sync.words', '/home/bob/.config/desk/repo-words', '/home/ann/.config/desk/repo-words', '/root/.config/desk/repo-words']
  const secrets: Array<[string, string]> = held.map((p) => [p, `${fakeChars(`s41-xdg-${p}`, 8).toLowerCase()} ${fakeChars(`s41-xdg2-${p}`, 9).toLowerCase()}\n`])
  const beside = ['/home/bob/.config/restic/old', '/home/ann/.config/restic/key', '/home/bob/sync.words', '/opt/desk/.config/desk/repo-words']
  const machine = () => plantedMachine(files, secrets, beside)

  it('names them from each user\'s HOME and the entry\'s Path=; not a comment, another user\'s home for a home\'s own entry', async () => {
    await assertMachineNames(machine(), held, beside, ['/root', '/home/bob', '/home/ann'])
  })

  it('the files provider holds each one out; the entries and the script are mirrored', async () => {
    const root = machine()
    try {
      const { documents, entry } = await collected(root, ['/etc', '/opt', '/srv', '/home', '/root'])
      assert.deepEqual(held.filter((path) => entry(path)?.secret !== true), [], 'not held out')
      for (const path of [...beside, '/home/bob/.config/autostart/restic.desktop', '/etc/xdg/autostart/desk-backup.desktop', '/opt/desk/backup.sh']) assert.equal(entry(path)?.content, 'mirrored', path)
      for (const d of documents) for (const [path, text] of secrets) assert.ok(!String(d.content).includes(text.trim()), `${d.path} holds ${path}'s`)
    } finally {
      root.remove()
    }
  })

  it('reads hostile entries in linear time (a line of blanks, of Exec= lines, of password flags)', () => {
    const config = '/home/bob/.config/autostart/a.desktop'
    const rule = NAMING_RULES.find((r) => r.isConfig(config)) as (typeof NAMING_RULES)[number]
    for (const text of [`Exec${'\t'.repeat(64 * 1024)}\n`, 'Exec=/opt/a.sh\n'.repeat(8000), `Exec=${' --password-file'.repeat(8 * 1024)} ~/a\n`]) {
      assertLinearTime(() => {
        rule.named(config, text)
        rule.follows?.(config, text)
      }, text, `${config}: ${text.slice(0, 30)}`)
    }
  })

  it('a pushed twin names the same files from its own entries, script and /etc/passwd (never the machine)', async () => {
    await assertTwinNames(files, held, beside)
  })
})

/**
 * Session 41: PostgreSQL's clusters' configs (/etc/postgresql/VERSION/CLUSTER/postgresql.conf and
 * conf.d): `krb_server_keyfile` (a keytab of any name) and what `ssl_passphrase_command` reads the
 * TLS key's passphrase from (a file it cats, its program).
 */
describe('PostgreSQL\'s keytab and TLS passphrase file or program (session 41)', () => {
  const files: Array<[string, string]> = [
    ['/etc/passwd', 'root:x:0:0:root:/root:/bin/bash\n'],
    ['/etc/group', 'root:x:0:\n'],
    ['/var/lib/dpkg/status', ''],
    ['/var/lib/dpkg/diversions', ''],
    ['/etc/postgresql/16/main/postgresql.conf', "data_directory = '/var/lib/postgresql/16/main'\n#krb_server_keyfile = 'FILE:/etc/postgresql/old.kt'\nkrb_server_keyfile = 'FILE:/etc/postgresql/16/main/pg.service-key'\nssl = on\nssl_passphrase_command = 'cat /etc/postgresql/16/main/tls.unlock'\ninclude_dir = 'conf.d'\n"],
    ['/etc/postgresql/16/main/conf.d/tls.conf', "ssl_passphrase_command = '/usr/local/sbin/pg-unlock %p'\n"],
    ['/etc/postgresql/15/replica/postgresql.conf', "ssl_passphrase_command 'head -n1 < /srv/pg/replica.unlock'\nssl_passphrase_command = '/usr/lib/postgresql/ask'\n"],
  ]
  const held = ['/etc/postgresql/16/main/pg.service-key', '/etc/postgresql/16/main/tls.unlock', '/usr/local/sbin/pg-unlock', '/srv/pg/replica.unlock']
  const secrets: Array<[string, string]> = held.map((p) => [p, `${fakeChars(`s41-pg-${p}`, 8).toLowerCase()} ${fakeChars(`s41-pg2-${p}`, 9).toLowerCase()}\n`])
  const beside = ['/etc/postgresql/old.kt', '/usr/lib/postgresql/ask', '/etc/postgresql/16/main/conf.d/tls.unlock']
  const machine = () => plantedMachine(files, secrets, beside)

  it('names them in each cluster\'s postgresql.conf and conf.d; not a comment, a package\'s program', async () => {
    await assertMachineNames(machine(), held, beside)
  })

  it('the files provider holds each one out; the configs are mirrored', async () => {
    const root = machine()
    try {
      const { documents, entry } = await collected(root, ['/etc', '/srv', '/usr/local'])
      assert.deepEqual(held.filter((path) => entry(path)?.secret !== true), [], 'not held out')
      for (const [path] of files.slice(4)) assert.equal(entry(path)?.content, 'mirrored', path)
      for (const d of documents) for (const [path, text] of secrets) assert.ok(!String(d.content).includes(text.trim()), `${d.path} holds ${path}'s`)
    } finally {
      root.remove()
    }
  })

  it('reads hostile configs in linear time (a line of quotes, of blanks, of cats)', () => {
    const config = '/etc/postgresql/16/main/postgresql.conf'
    const rule = NAMING_RULES.find((r) => r.isConfig(config)) as (typeof NAMING_RULES)[number]
    for (const text of [`ssl_passphrase_command = ${"'".repeat(64 * 1024)}\n`, `ssl_passphrase_command${' '.repeat(64 * 1024)}x\n`, `ssl_passphrase_command = '${'cat -n '.repeat(8 * 1024)}'\n`, "krb_server_keyfile = 'FILE:/a'\n".repeat(8000)]) {
      assertLinearTime(() => rule.named(config, text), text, `${config}: ${text.slice(0, 30)}`)
    }
  })

  it('a pushed twin names them from its own configs', async () => {
    await assertTwinNames(files, held, beside)
  })
})

/**
 * Session 42: Apache's per-directory configs (`.htaccess`) name credential files too: read under
 * the folders Apache's configs let them configure (`<Directory>` with `AllowOverride` other than
 * `None`, a `DocumentRoot` below one), on Debian's own apache2.conf, userdir.conf and default site
 * (test/fixtures/apache2, verbatim): its /var/www is `AllowOverride None`, so that folder's are not.
 */
describe('credential files Apache\'s .htaccess files name, under the folders its configs let them configure (session 42)', () => {
  const debian = (name: string): string => readFileSync(new URL(`../../../test/fixtures/apache2/${name}`, import.meta.url), 'utf8')
  const files: Array<[string, string]> = [
    ['/etc/passwd', 'root:x:0:0:root:/root:/bin/bash\nann:x:1000:1000::/home/ann:/bin/bash\n'],
    ['/etc/group', 'root:x:0:\nann:x:1000:\n'],
    ['/var/lib/dpkg/status', ''],
    ['/var/lib/dpkg/diversions', ''],
    ['/etc/apache2/apache2.conf', debian('apache2.conf')],
    ['/etc/apache2/mods-available/userdir.conf', debian('mods-available/userdir.conf')],
    ['/etc/apache2/sites-available/000-default.conf', debian('sites-available/000-default.conf')],
    ['/etc/apache2/sites-available/intranet.conf', '<VirtualHost *:443>\n\tDocumentRoot /srv/www/intranet\n\t<Directory /srv/www/intranet/>\n\t\tAllowOverride AuthConfig Limit\n\t\tRequire all granted\n\t</Directory>\n\tInclude /srv/wiki/apache.conf\n</VirtualHost>\n'],
    // Debian's commented <Directory /srv/> block, taken in; a site below it in a file a site includes.
    ['/etc/apache2/conf-available/srv.conf', '<Directory /srv/>\n\tOptions Indexes FollowSymLinks\n\tAllowOverride All\n\tRequire all granted\n</Directory>\n'],
    ['/srv/wiki/apache.conf', 'Alias /wiki "/srv/wiki/htdocs"\nDocumentRoot "/srv/wiki/htdocs"\n'],
    ['/srv/www/intranet/.htaccess', 'AuthType Basic\nAuthName "Intranet"\nAuthUserFile /etc/apache2/intranet.passwd\nRequire valid-user\n'],
    ['/srv/www/intranet/admin/.htaccess', 'AuthType Digest\nAuthName "admin"\nAuthDigestFile /etc/apache2/admin.digest\n# AuthUserFile /etc/apache2/old.passwd\nAuthGroupFile /etc/apache2/groups\n'],
    ['/srv/www/intranet/team/docs/.htaccess', 'AuthType Basic\nAuthDBMUserFile conf/team-users\n'],
    ['/srv/wiki/htdocs/private/.htaccess', 'AuthType GSSAPI\nGssapiCredStore keytab:/etc/apache2/wiki.service-key\n'],
    ['/home/ann/public_html/.htaccess', 'AuthType Basic\nAuthUserFile /home/ann/.htpasswd-site\n'],
    // Not read: /var/www's AllowOverride None; deeper than 8 folders; through a link to a folder elsewhere.
    ['/var/www/html/.htaccess', 'AuthUserFile /etc/apache2/stock.passwd\n'],
    ['/srv/www/intranet/1/2/3/4/5/6/7/8/9/.htaccess', 'AuthUserFile /etc/apache2/deep.passwd\n'],
    ['/opt/elsewhere/.htaccess', 'AuthUserFile /etc/apache2/linked.passwd\n'],
  ]
  const held = ['/etc/apache2/intranet.passwd', '/etc/apache2/admin.digest', '/etc/apache2/conf/team-users.pag', '/etc/apache2/wiki.service-key', '/home/ann/.htpasswd-site']
  const secrets: Array<[string, string]> = held.map((p) => [p, `${fakeChars(`s42-${p}`, 8).toLowerCase()}:${fakeChars(`s42b-${p}`, 9).toLowerCase()} x\n`])
  // A comment's, a group file, /var/www's (AllowOverride None), a folder too deep, one through a link.
  const beside = ['/etc/apache2/old.passwd', '/etc/apache2/groups', '/etc/apache2/stock.passwd', '/etc/apache2/deep.passwd', '/etc/apache2/linked.passwd']
  const machine = () => {
    const root = plantedMachine(files, secrets, beside)
    root.link('/srv/www/intranet/linked', '/opt/elsewhere')
    return root
  }

  it('names what the .htaccess files of /srv/www/intranet, a DocumentRoot below <Directory /srv/> and each home\'s public_html name; not /var/www\'s (AllowOverride None), a comment\'s, a group file, one deeper than 8 folders or through a link', async () => {
    const patterns = held.map((p) => (p.endsWith('.pag') ? '/etc/apache2/conf/team-users.*' : p))
    await assertMachineNames(machine(), [...patterns, '/etc/httpd/conf/team-users', '/etc/apache2/conf/team-users'], beside)
  })

  it('the files provider holds each one out; the .htaccess files are mirrored', async () => {
    const root = machine()
    try {
      const { documents, entry } = await collected(root, ['/etc', '/srv', '/home', '/var/www', '/opt'])
      assert.deepEqual(held.filter((path) => entry(path)?.secret !== true), [], 'not held out')
      for (const path of ['/srv/www/intranet/.htaccess', '/srv/www/intranet/admin/.htaccess', '/home/ann/public_html/.htaccess', ...beside]) assert.equal(entry(path)?.content, 'mirrored', path)
      for (const d of documents) for (const [path, text] of secrets) assert.ok(!String(d.content).includes(text.trim()), `${d.path} holds ${path}'s`)
    } finally {
      root.remove()
    }
  })

  it('walks at most 256 folders in all, and reads hostile configs in linear time', async () => {
    const root = new TargetRoot().file('/etc/apache2/sites-available/wide.conf', '<Directory /srv/wide>\nAllowOverride AuthConfig\n</Directory>\n')
    for (let i = 0; i < 700; i++) root.dirAt(`/srv/wide/d${String(i).padStart(3, '0')}`)
    root.file('/srv/wide/d699/.htaccess', 'AuthUserFile /etc/apache2/far.passwd\n')
    try {
      const host = createTestContext(root.dir).host
      let listed = 0
      const counting = new Proxy(host, { get: (h, k) => (k === 'readdir' ? (p: string) => (listed++, h.readdir(p)) : Reflect.get(h, k)) }) as HostPort
      const named = await namedCredentialFiles(counting, new MemoryCache())
      assert.ok(!named.includes('/etc/apache2/far.passwd'))
      assert.ok(listed <= 256 + 40, `${listed} folders listed`)
    } finally {
      root.remove()
    }
    const config = '/etc/apache2/sites-available/a.conf'
    const rule = NAMING_RULES.find((r) => r.isConfig(config) && r.webRoots !== undefined) as (typeof NAMING_RULES)[number]
    for (const text of [`<Directory ${'a'.repeat(64 * 1024)}\n`, `<Directory "${'/a'.repeat(32 * 1024)}\n`, '<Directory /srv/x>\nAllowOverride All\n</Directory>\n'.repeat(8000), `DocumentRoot ${' '.repeat(64 * 1024)}x\n`, `AccessFileName${' .a'.repeat(16 * 1024)}\n`]) {
      assertLinearTime(() => rule.webRoots?.(config, text), text, `${config}: ${text.slice(0, 30)}`)
    }
  })

  it('a pushed twin names the same files from its own configs and .htaccess files', async () => {
    await assertTwinNames(files, held, beside)
  })
})

/**
 * Session 42: PostgreSQL on Red Hat's layout (/var/lib/pgsql/data, PGDG's /var/lib/pgsql/VERSION/data:
 * postgresql.conf and ALTER SYSTEM's postgresql.auto.conf), and in either layout `ssl_key_file`, a
 * relative path from the data folder, the files `include`, `include_if_exists`, `include_dir` name
 * and Debian's data folder's postgresql.auto.conf; pg_hba.conf's `ldapbindpasswd` and
 * `radiussecrets` found by the detector.
 */
describe('PostgreSQL on Red Hat\'s layout, its TLS key, includes and postgresql.auto.conf; pg_hba.conf\'s bind password and RADIUS secrets (session 42)', () => {
  const files: Array<[string, string]> = [
    ['/etc/passwd', 'root:x:0:0:root:/root:/bin/bash\npostgres:x:26:26::/var/lib/pgsql:/bin/bash\n'],
    ['/etc/group', 'root:x:0:\npostgres:x:26:\n'],
    ['/var/lib/dpkg/status', ''],
    ['/var/lib/dpkg/diversions', ''],
    ['/var/lib/pgsql/data/postgresql.conf', "listen_addresses = '*'\nssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n#ssl_key_file = '/etc/pki/pg/old.key'\nssl_passphrase_command = 'cat /etc/pki/tls/private/pg.unlock'\nkrb_server_keyfile = 'FILE:pg.service-key'\ninclude_dir = 'conf.d'\ninclude 'extra/tls.conf'\n"],
    ['/var/lib/pgsql/data/conf.d/unlock.conf', "ssl_passphrase_command = '/usr/local/sbin/pg-unlock %p'\n"],
    ['/var/lib/pgsql/data/extra/tls.conf', "krb_server_keyfile = '/etc/pki/pg/krb.service-key'\nssl_passphrase_command = '/usr/lib/postgresql/ask'\n"],
    ['/var/lib/pgsql/data/postgresql.auto.conf', "# Do not edit this file manually!\nssl_passphrase_command = 'head -n1 /etc/pki/pg/auto.unlock'\n"],
    ['/var/lib/pgsql/16/data/postgresql.conf', "ssl_key_file = '/etc/pki/pg16/server.der'\n"],
    ['/etc/postgresql/15/main/postgresql.conf', "data_directory = '/var/lib/postgresql/15/main'\nssl_key_file = '/etc/postgresql/15/main/server.der'\ninclude_if_exists = 'local.conf'\n"],
    ['/etc/postgresql/15/main/local.conf', "ssl_passphrase_command = 'cat /etc/postgresql/15/main/local.unlock'\n"],
    ['/var/lib/postgresql/15/main/postgresql.auto.conf', "ssl_passphrase_command = 'cat /srv/pg/auto.unlock'\n"],
  ]
  const held = ['/var/lib/pgsql/data/server.key', '/etc/pki/tls/private/pg.unlock', '/var/lib/pgsql/data/pg.service-key', '/usr/local/sbin/pg-unlock', '/etc/pki/pg/krb.service-key', '/etc/pki/pg/auto.unlock', '/etc/pki/pg16/server.der', '/etc/postgresql/15/main/server.der', '/etc/postgresql/15/main/local.unlock', '/srv/pg/auto.unlock']
  const secrets: Array<[string, string]> = held.map((p) => [p, `${fakeChars(`s42-pg-${p}`, 8).toLowerCase()} ${fakeChars(`s42-pg2-${p}`, 9).toLowerCase()}\n`])
  // A comment's, a package's program, the certificate, the same names elsewhere.
  const beside = ['/etc/pki/pg/old.key', '/usr/lib/postgresql/ask', '/var/lib/pgsql/data/server.crt', '/var/lib/pgsql/16/data/server.key', '/etc/postgresql/15/main/pg.unlock']
  const hba: Array<[string, string, string]> = [
    ['/etc/postgresql/15/main/pg_hba.conf', 'local all postgres peer\nhost all all 10.0.0.0/8 ldap ldapserver=ldap.example.net ldapbasedn="dc=example,dc=net" ldapbinddn="cn=pg,dc=example,dc=net" ldapbindpasswd=', 'ldapsearchattribute=uid\n'],
    ['/var/lib/pgsql/data/pg_hba.conf', 'local all all peer\nhost all all 0.0.0.0/0 radius radiusservers="rad1.example.net,rad2.example.net" radiussecrets=', '\n'],
  ]
  const machine = () => {
    const root = plantedMachine(files, secrets, beside)
    for (const [path, before, after] of hba) root.file(path, `${before}"${fakeChars(`s42-hba-${path}`, 14)}"${after.startsWith('\n') ? '' : ' '}${after}`, { mode: 0o640, uid: 26, gid: 26 })
    return root
  }

  it('names them in Red Hat\'s data folders, the files the configs include and Debian\'s postgresql.auto.conf; not a comment, a package\'s program, the certificate', async () => {
    await assertMachineNames(machine(), held, beside)
  })

  it('the files provider holds each one out and the pg_hba.conf files with a bind password or RADIUS secrets; the configs are mirrored', async () => {
    const root = machine()
    try {
      const { documents, entry } = await collected(root, ['/etc', '/var/lib/pgsql', '/var/lib/postgresql', '/srv', '/usr/local'])
      assert.deepEqual(held.filter((path) => entry(path)?.secret !== true), [], 'not held out')
      for (const [path] of hba) assert.deepEqual([entry(path)?.secret, entry(path)?.secretReason], [true, 'credential-assignment'], path)
      for (const [path] of files.slice(4)) assert.equal(entry(path)?.content, 'mirrored', path)
      for (const d of documents) for (const [path, text] of secrets) assert.ok(!String(d.content).includes(text.trim()), `${d.path} holds ${path}'s`)
      for (const d of documents) for (const [path] of hba) assert.ok(!String(d.content).includes(fakeChars(`s42-hba-${path}`, 14)), `${d.path} holds ${path}'s`)
    } finally {
      root.remove()
    }
  })

  it('reads hostile configs in linear time (includes, a line of quotes)', () => {
    const config = '/var/lib/pgsql/data/postgresql.conf'
    const rule = NAMING_RULES.find((r) => r.isConfig(config)) as (typeof NAMING_RULES)[number]
    for (const text of ["include_dir = 'conf.d'\n".repeat(8000), `include ${"'".repeat(64 * 1024)}\n`, `ssl_key_file${' '.repeat(64 * 1024)}x\n`, "include_if_exists = 'a'\ninclude = 'b'\n".repeat(4000)]) {
      assertLinearTime(() => [rule.named(config, text), rule.includes?.(config, text)], text, `${config}: ${text.slice(0, 30)}`)
    }
  })

  it('a pushed twin names them from its own configs', async () => {
    await assertTwinNames(files, held, beside)
  })
})

/**
 * Session 43: Apache takes `AllowOverride` from `<Directory>` sections without a regular expression
 * only (its regular expressions' sections are merged after the `.htaccess` files are read), so a
 * `<DirectoryMatch>` or `<Directory ~ …>` that says `All` lets no folder's `.htaccess` say anything,
 * and its folders are not walked; the section after it is read as before.
 */
describe('Apache\'s <DirectoryMatch> and <Directory ~ …> sections let no .htaccess say anything (session 43)', () => {
  it('walks none of their folders; a <Directory> after them is read', () => {
    const config = '/etc/apache2/sites-available/sites.conf'
    const rule = NAMING_RULES.find((r) => r.isConfig(config) && r.webRoots !== undefined) as (typeof NAMING_RULES)[number]
    const text = [
      '<DirectoryMatch "^/srv/www/[^/]+/htdocs">', '\tAllowOverride All', '</DirectoryMatch>',
      '<Directory ~ "^/srv/legacy/">', '\tAllowOverride AuthConfig', '</Directory>',
      '<Directory /srv/www/intranet>', '\tAllowOverride AuthConfig', '</Directory>', '',
    ].join('\n')
    assert.deepEqual(rule.webRoots?.(config, text)?.dirs, ['/srv/www/intranet'])
  })
})

/**
 * Session 43: what an `Alias` or `ScriptAlias` (and a `<Location>`'s one-argument `Alias`) serves
 * below a folder that lets `.htaccess` files say anything is walked like a `DocumentRoot`: with
 * `<Directory /var/www/>` `AllowOverride All` (not a walked folder itself), an app under
 * /var/www that only an `Alias` serves walked nothing before. And the walked folders' levels are
 * taken together, each from each folder in turn: a large site listed first took the whole bound
 * of 256 folders, and a small one after it was never walked.
 */
describe('Apache\'s Alias targets walked; the walk\'s bound shared by every walked folder (session 43)', () => {
  const files: Array<[string, string]> = [
    ['/etc/passwd', 'root:x:0:0:root:/root:/bin/bash\n'],
    ['/etc/group', 'root:x:0:\n'],
    ['/var/lib/dpkg/status', ''],
    ['/var/lib/dpkg/diversions', ''],
    ['/etc/apache2/apache2.conf', '<Directory /var/www/>\n\tOptions FollowSymLinks\n\tAllowOverride All\n\tRequire all granted\n</Directory>\n'],
    ['/etc/apache2/sites-available/apps.conf', '<VirtualHost *:80>\n\tDocumentRoot /var/www/html\n\tAlias /app "/var/www/app/"\n\tScriptAlias /cgi-bin/ /var/www/cgi/ # scripts\n\t<Location /shop>\n\t\tAlias /var/www/shop\n\t</Location>\n\tAlias /docs /usr/share/doc\n</VirtualHost>\n'],
    ['/var/www/app/.htaccess', 'AuthType Basic\nAuthUserFile /etc/apache2/app.passwd\nRequire valid-user\n'],
    ['/var/www/cgi/private/.htaccess', 'AuthUserFile /etc/apache2/cgi.passwd\n'],
    ['/var/www/shop/.htaccess', 'AuthUserFile /etc/apache2/shop.passwd\n'],
    // Not served (no DocumentRoot nor Alias leads there): not walked, as before.
    ['/var/www/unserved/.htaccess', 'AuthUserFile /etc/apache2/unserved.passwd\n'],
  ]
  const held = ['/etc/apache2/app.passwd', '/etc/apache2/cgi.passwd', '/etc/apache2/shop.passwd']
  const secrets: Array<[string, string]> = held.map((p) => [p, `${fakeChars(`s43-${p}`, 8).toLowerCase()}:${fakeChars(`s43b-${p}`, 9).toLowerCase()} x\n`])
  const beside = ['/etc/apache2/unserved.passwd']

  it('names what the .htaccess files of the folders Alias, ScriptAlias and a <Location>\'s Alias serve below <Directory /var/www/> name', async () => {
    await assertMachineNames(plantedMachine(files, secrets, beside), held, beside)
  })

  it('a pushed twin names the same files', async () => {
    await assertTwinNames(files, held, beside)
  })

  it('a small site after a large one is walked: each level\'s folders taken from each walked folder in turn', async () => {
    const root = new TargetRoot()
      .file('/etc/passwd', 'root:x:0:0:root:/root:/bin/bash\n')
      .file('/etc/group', 'root:x:0:\n')
      .file('/etc/apache2/sites-available/two.conf', '<Directory /srv/big>\nAllowOverride AuthConfig\n</Directory>\n<Directory /srv/small>\nAllowOverride AuthConfig\n</Directory>\n')
      .file('/srv/small/private/.htaccess', 'AuthUserFile /etc/apache2/small.passwd\n')
    for (let i = 0; i < 300; i++) root.dirAt(`/srv/big/d${String(i).padStart(3, '0')}`)
    try {
      const named = await namedCredentialFiles(createTestContext(root.dir).host, new MemoryCache())
      assert.ok(named.includes('/etc/apache2/small.passwd'), 'the small site was not walked')
    } finally {
      root.remove()
    }
  })

  it('reads hostile Alias lines in linear time', () => {
    const config = '/etc/apache2/sites-available/a.conf'
    const rule = NAMING_RULES.find((r) => r.isConfig(config) && r.webRoots !== undefined) as (typeof NAMING_RULES)[number]
    for (const text of [`Alias ${'a'.repeat(64 * 1024)}\n`, `Alias "${'/a'.repeat(32 * 1024)}\n`, `ScriptAlias /x ${'"'.repeat(64 * 1024)}\n`, `Alias${' /a'.repeat(32 * 1024)}\n`, 'Alias /x /srv/x\n'.repeat(8000)]) {
      assertLinearTime(() => rule.webRoots?.(config, text), text, `${config}: ${text.slice(0, 30)}`)
    }
  })
})
