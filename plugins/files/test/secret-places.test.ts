import { strict as assert } from 'node:assert'
import { MemoryCache, MemoryTwin, redactSecrets, REDACTED, type HostPort, type TwinDocument } from '@twinsync/sdk'
import { createTestContext } from '@twinsync/sdk/conformance'
import { fakeChars, sessionFourteenPlaces } from '../../../test/fixtures/secrets/samples.js'
import { assertPrefiltersFindTheSame } from '../../../test/support/prefilter-check.js'
import { FilesProvider, type Manifest } from '../src/index.js'
import { BARE_TOKEN, openvpnCredentialFiles, postfixPasswordMaps, SecretRules, TOKEN_FILE } from '../src/secrets.js'
import { partOf, partPath } from '../src/manifest.js'
import { TargetRoot } from './target-root.js'

/**
 * Session 14's attack, over the detector and the files provider (the host port faked): every
 * secret of `sessionFourteenPlaces` is found where it is, or its file held out by its path, and
 * none reaches a document. test/integration/secrets-server.test.ts plants the same on the
 * services root and runs the real CLI.
 */
describe('secrets where administrators keep them (session 14)', () => {
  const places = sessionFourteenPlaces()
  const rules = new SecretRules([], true)

  for (const place of places) {
    it(`${place.kind} (${place.path}): ${place.by === 'path' ? 'held out by its path' : 'found and redacted'}`, async () => {
      if (place.by === 'path') {
        assert.equal(rules.pathVerdict(place.path), 'path rule')
        return
      }
      const redacted = await redactSecrets(place.text, { path: place.path })
      assert.ok(!redacted.includes(place.value), redacted)
      assert.ok(redacted.includes(REDACTED))
    })
  }

  it('finds in each the same with every rule run on every whole text', async () => {
    assert.ok((await assertPrefiltersFindTheSame(places.map((p) => [p.path, p.text] as const))) > places.length)
  })

  it("holds out the password maps postfix's main.cf names, under any name, and their databases", async () => {
    const pw = fakeChars('s14-relay', 20)
    const mainCf = [
      '# See /usr/share/postfix/main.cf.dist',
      'relayhost = [smtp.example.org]:587',
      'smtp_sasl_auth_enable = yes',
      'smtp_sasl_password_maps = hash:/etc/postfix/relay_auth,',
      '    proxy:lmdb:/etc/postfix/auth/lmtp',
      'lmtp_sasl_password_maps = static:lmtp:not-a-file $other_maps',
      'transport_maps = hash:/etc/postfix/transport',
      '',
    ].join('\n')
    const root = new TargetRoot()
      .file('/etc/passwd', 'root:x:0:0:root:/root:/bin/bash\n')
      .file('/etc/group', 'root:x:0:\n')
      .file('/var/lib/dpkg/status', '')
      .file('/var/lib/dpkg/diversions', '')
      .file('/etc/postfix/main.cf', mainCf)
      .file('/etc/postfix/relay_auth', `smtp.example.org relay:${pw}\n`, { mode: 0o644 })
      .file('/etc/postfix/relay_auth.db', Buffer.from(`\u0000\u0006smtp.example.org\u0000relay:${pw}\u0000`, 'latin1'), { mode: 0o644 })
      .file('/etc/postfix/auth/lmtp.lmdb', Buffer.from(`\u0000lmtp.example.org\u0000lmtp:${pw}x\u0000`, 'latin1'), { mode: 0o644 })
      .file('/etc/postfix/transport', 'example.org smtp:[mx.example.org]\n', { mode: 0o644 })
    try {
      assert.deepEqual(await postfixPasswordMaps(createTestContext(root.dir).host), ['/etc/postfix/relay_auth', '/etc/postfix/relay_auth.*', '/etc/postfix/auth/lmtp', '/etc/postfix/auth/lmtp.*'])
      const ctx = createTestContext(root.dir, { config: { include: ['/etc'] }, cache: new MemoryCache() })
      const { documents } = await new FilesProvider().collect({ ctx })
      const manifest = JSON.parse(String(documents.find((d) => d.path === 'system/files/manifest.json')?.content)) as Manifest
      for (const path of ['/etc/postfix/relay_auth', '/etc/postfix/relay_auth.db', '/etc/postfix/auth/lmtp.lmdb']) {
        assert.deepEqual([manifest.entries.find((e) => e.path === path)?.secretReason], ['path rule'], path)
      }
      assert.equal(manifest.entries.find((e) => e.path === '/etc/postfix/transport')?.content, 'mirrored')
      assert.ok(!documents.some((d) => Buffer.from(d.content).toString('latin1').includes(pw)))
    } finally {
      root.remove()
    }
  })

  it("session 22: follows `$config_directory` in a password map's name (main.cf's own setting of it, else /etc/postfix)", async () => {
    const host = (mainCf: string) => createTestContext(new TargetRoot().file('/etc/postfix/main.cf', mainCf).dir).host
    assert.deepEqual(await postfixPasswordMaps(host('smtp_sasl_password_maps = hash:${config_directory}/relay_creds, lmdb:$config_directory/sasl/b $(config_directory)/c\n')), [
      '/etc/postfix/relay_creds',
      '/etc/postfix/relay_creds.*',
      '/etc/postfix/sasl/b',
      '/etc/postfix/sasl/b.*',
    ])
    assert.deepEqual(await postfixPasswordMaps(host('config_directory = /srv/postfix\nsmtp_sasl_password_maps = texthash:$config_directory/relay\n')), ['/srv/postfix/relay', '/srv/postfix/relay.*'])
  })

  it("reads main.cf again only when its stat data moved", async () => {
    const reads: string[] = []
    let size = 120
    const host = {
      lstat: async () => ({ type: 'file' as const, mode: 0o644, uid: 0, gid: 0, size, mtimeMs: 1e12, ctimeMs: 1e12, ino: 7, dev: 1, nlink: 1 }),
      readTextIfExists: async (path: string) => {
        reads.push(path)
        return 'smtp_sasl_password_maps = hash:/etc/postfix/relay_auth\n'
      },
    }
    const cache = new MemoryCache()
    const expected = ['/etc/postfix/relay_auth', '/etc/postfix/relay_auth.*']
    assert.deepEqual(await postfixPasswordMaps(host, cache), expected)
    assert.deepEqual(await postfixPasswordMaps(host, cache), expected)
    assert.equal(reads.length, 1)
    size = 121
    assert.deepEqual(await postfixPasswordMaps(host, cache), expected)
    assert.equal(reads.length, 2)
  })

  it('holds out the credential files OpenVPN configs name, world-readable and under any name; a key stays the detector\'s finding', async () => {
    const pw = fakeChars('s15-ovpn', 12)
    const tlsV2 = Array.from({ length: 8 }, (_, i) => fakeChars(`s15-tlsv2-${i}`, 64, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/')).join('\n')
    const values = { creds: `vpnuser\n${pw}a\n`, short: 'alice\nhunter2\n', pass: `${pw}b\n`, proxy: `proxy\n${pw}c\n`, mgmt: `${pw}d\n`, v2: `-----BEGIN OpenVPN tls-crypt-v2 client key-----\n${tlsV2}\n-----END OpenVPN tls-crypt-v2 client key-----\n` }
    const root = new TargetRoot()
      .file('/etc/passwd', 'root:x:0:0:root:/root:/bin/bash\n')
      .file('/etc/group', 'root:x:0:\n')
      .file('/var/lib/dpkg/status', '')
      .file('/var/lib/dpkg/diversions', '')
      .file(
        '/etc/openvpn/client/office.conf',
        [
          'client',
          'remote vpn.example.org 1194',
          '; auth-user-pass /etc/openvpn/commented.txt',
          'auth-user-pass /etc/openvpn/creds.txt',
          'askpass pass.txt # relative: the unit runs in client/',
          'http-proxy proxy.example.org 3128 "proxy auth.txt" basic',
          'management 127.0.0.1 7505 /etc/openvpn/mgmt.pw',
          'tls-crypt-v2 tc-v2.key',
          'up /etc/openvpn/update-resolv-conf',
          '<auth-user-pass>',
          'auth-user-pass /etc/openvpn/inline-not-a-directive',
          '</auth-user-pass>',
          '',
        ].join('\n'),
      )
      .file('/etc/openvpn/home.ovpn', 'client\nauth-user-pass\nhttp-proxy proxy 3128 auto\nauth-user-pass short.txt\n')
      .file('/etc/openvpn/creds.txt', values.creds)
      .file('/etc/openvpn/short.txt', values.short)
      .file('/etc/openvpn/client/pass.txt', values.pass)
      .file('/etc/openvpn/client/proxy auth.txt', values.proxy)
      .file('/etc/openvpn/mgmt.pw', values.mgmt)
      .file('/etc/openvpn/client/tc-v2.key', values.v2)
      .file('/etc/openvpn/commented.txt', 'not a secret\n')
      .file('/etc/openvpn/update-resolv-conf', '#!/bin/sh\nexit 0\n', { mode: 0o755 })
    try {
      // A relative name from the config's folder and from /etc/openvpn; nothing from a comment, an inline block or a script.
      assert.deepEqual((await openvpnCredentialFiles(createTestContext(root.dir).host)).sort(), [
        '/etc/openvpn/client/pass.txt',
        '/etc/openvpn/client/proxy auth.txt',
        '/etc/openvpn/creds.txt',
        '/etc/openvpn/mgmt.pw',
        '/etc/openvpn/pass.txt',
        '/etc/openvpn/proxy auth.txt',
        '/etc/openvpn/short.txt',
      ])
      const ctx = createTestContext(root.dir, { config: { include: ['/etc'] }, cache: new MemoryCache() })
      const { documents } = await new FilesProvider().collect({ ctx })
      const manifest = JSON.parse(String(documents.find((d) => d.path === 'system/files/manifest.json')?.content)) as Manifest
      const reason = (path: string) => manifest.entries.find((e) => e.path === path)?.secretReason
      for (const path of ['/etc/openvpn/creds.txt', '/etc/openvpn/short.txt', '/etc/openvpn/client/pass.txt', '/etc/openvpn/client/proxy auth.txt', '/etc/openvpn/mgmt.pw']) {
        assert.equal(reason(path), 'path rule', path)
      }
      // A key is the detector's, followed or not (`tls-crypt-v2 tc-v2.key`).
      assert.equal(reason('/etc/openvpn/client/tc-v2.key'), 'private-key')
      for (const path of ['/etc/openvpn/commented.txt', '/etc/openvpn/update-resolv-conf', '/etc/openvpn/client/office.conf']) assert.equal(manifest.entries.find((e) => e.path === path)?.content, 'mirrored', path)
      const all = documents.map((d: TwinDocument) => (typeof d.content === 'string' ? d.content : Buffer.from(d.content).toString('latin1'))).join('\n')
      for (const value of [`${pw}a`, 'hunter2', `${pw}b`, `${pw}c`, `${pw}d`, tlsV2.slice(0, 64)]) assert.ok(!all.includes(value), `${value}: in a document`)
    } finally {
      root.remove()
    }
  })

  it('reads the OpenVPN configs again only when one of them moved', async () => {
    const reads: string[] = []
    let size = 40
    const host = {
      lstat: async (path: string) => ({ type: path.endsWith('.conf') ? ('file' as const) : ('directory' as const), mode: 0o644, uid: 0, gid: 0, size, mtimeMs: 1e12, ctimeMs: 1e12, ino: 7, dev: 1, nlink: 1 }),
      readdir: async (path: string) => (path === '/etc/openvpn' ? [{ name: 'vpn.conf', type: 'file' as const }] : []),
      readTextIfExists: async (path: string) => {
        reads.push(path)
        return 'auth-user-pass /etc/openvpn/creds.txt\n'
      },
    }
    const cache = new MemoryCache()
    assert.deepEqual(await openvpnCredentialFiles(host, cache), ['/etc/openvpn/creds.txt'])
    assert.deepEqual(await openvpnCredentialFiles(host, cache), ['/etc/openvpn/creds.txt'])
    assert.equal(reads.length, 1)
    size = 41
    assert.deepEqual(await openvpnCredentialFiles(host, cache), ['/etc/openvpn/creds.txt'])
    assert.equal(reads.length, 2)
  })

  it('the files provider mirrors none of them: each is held out as a secret, its value in no document', async () => {
    const root = new TargetRoot()
      .file('/etc/passwd', 'root:x:0:0:root:/root:/bin/bash\n')
      .file('/etc/group', 'root:x:0:\n')
      .file('/var/lib/dpkg/status', '')
      .file('/var/lib/dpkg/diversions', '')
    const files = places.filter((p) => !p.path.startsWith('/var/log/'))
    const texts = new Map<string, string>()
    for (const p of files) texts.set(p.path, (texts.get(p.path) ?? '') + p.text)
    for (const [path, text] of texts) root.file(path, Buffer.from(text, 'latin1'), { mode: files.find((p) => p.path === path)?.mode ?? 0o644 })
    try {
      const ctx = createTestContext(root.dir, { config: { include: ['/etc', '/root'] }, cache: new MemoryCache() })
      const { documents } = await new FilesProvider().collect({ ctx })
      const manifest = JSON.parse(String(documents.find((d) => d.path === 'system/files/manifest.json')?.content)) as Manifest
      const all = documents.map((d: TwinDocument) => (typeof d.content === 'string' ? d.content : Buffer.from(d.content).toString('latin1'))).join('\n')
      for (const p of files) {
        assert.ok(!all.includes(p.value), `${p.kind}: its value is in a document`)
        const entry = manifest.entries.find((e) => e.path === p.path)
        assert.equal(entry?.secret, true, `${p.kind}: ${JSON.stringify(entry)}`)
        if (p.by === 'path') assert.equal(entry?.secretReason, 'path rule', p.kind)
      }
    } finally {
      root.remove()
    }
  })
})

/**
 * Session 16: what the files provider holds out by path, asked of the twin a push sends
 * (FilesProvider.secretPaths): a person can commit such a file into the twin by hand, and one
 * mirrored before its rule existed is still in the mirror. The configs that name credential
 * files are read from that twin, never from the machine.
 */
describe('files secret by path in a pushed twin (FilesProvider.secretPaths)', () => {
  /** A context whose host throws on any use: the answer must come from the twin and the configuration. */
  const twinOnly = (config: Record<string, unknown>) => ({
    ...createTestContext(new TargetRoot().dir, { config }),
    host: new Proxy({}, { get: () => { throw new Error('secretPaths read the machine') } }) as HostPort,
  })
  const office = ['client', 'auth-user-pass /etc/openvpn/creds.txt', 'askpass pass.txt', 'management 127.0.0.1 7505 mgmt.pw', ''].join('\n')
  const mainCf = 'relayhost = [smtp.example.org]:587\nsmtp_sasl_password_maps = hash:/etc/postfix/relay_auth\n'

  it('names the built-in and configured secret paths, and the files that the postfix and OpenVPN configs IN THAT TWIN name; nothing else, and never reads the machine', async () => {
    const twin = new MemoryTwin([
      { path: 'filesystem/etc/openvpn/client/office.conf', content: office },
      { path: 'filesystem/etc/postfix/main.cf', content: mainCf },
    ])
    const asked = [
      'filesystem/etc/hosts',
      'filesystem/etc/myapp/db.pass',
      'filesystem/etc/openvpn/client/pass.txt',
      'filesystem/etc/openvpn/creds.txt',
      'filesystem/etc/openvpn/pass.txt',
      'filesystem/etc/openvpn/unnamed.txt',
      'filesystem/etc/postfix/relay_auth',
      'filesystem/etc/postfix/relay_auth.db',
      'filesystem/etc/ssl/private/site.pem',
      'filesystem/etc/wireguard/wg0.conf',
      'filesystem/root/.pgpass',
      'system/files/manifest.json',
    ]
    const found = await new FilesProvider().secretPaths({ paths: asked, twin, ctx: twinOnly({ include: ['/etc'], secrets: { paths: ['/etc/myapp/*.pass'] } }) })
    assert.deepEqual(found.map((f) => [f.path, f.rule]), [
      ['filesystem/etc/myapp/db.pass', 'secret path'],
      ['filesystem/etc/openvpn/client/pass.txt', 'OpenVPN credential file'],
      ['filesystem/etc/openvpn/creds.txt', 'OpenVPN credential file'],
      ['filesystem/etc/openvpn/pass.txt', 'OpenVPN credential file'],
      ['filesystem/etc/postfix/relay_auth', 'postfix password map'],
      ['filesystem/etc/postfix/relay_auth.db', 'postfix password map'],
      ['filesystem/etc/ssl/private/site.pem', 'secret path'],
      ['filesystem/etc/wireguard/wg0.conf', 'secret path'],
      ['filesystem/root/.pgpass', 'secret path'],
    ])
    // Without the configs in the twin (the machine's do not count), only the fixed rules hold.
    const bare = await new FilesProvider().secretPaths({ paths: asked, twin: new MemoryTwin(), ctx: twinOnly({ include: ['/etc'] }) })
    assert.deepEqual(bare.map((f) => f.path), ['filesystem/etc/ssl/private/site.pem', 'filesystem/etc/wireguard/wg0.conf', 'filesystem/root/.pgpass'])
  })

  it('a commit that adds or changes a config names the twin files it makes secret although the commit did not change them; a config deeper than the walk takes names none', async () => {
    const twin = new MemoryTwin([
      { path: 'filesystem/etc/openvpn/client/office.conf', content: office },
      { path: 'filesystem/etc/openvpn/creds.txt', content: 'vpnuser\nnot-looked-at\n' },
      { path: 'filesystem/etc/openvpn/client/mgmt.pw', content: 'x\n' },
      { path: 'filesystem/etc/openvpn/notes.txt', content: 'x\n' },
      { path: 'filesystem/etc/openvpn/a/b/c/deep.conf', content: 'auth-user-pass /etc/openvpn/notes.txt\n' },
    ])
    const ctx = twinOnly({ include: ['/etc'] })
    const found = await new FilesProvider().secretPaths({ paths: ['filesystem/etc/openvpn/client/office.conf'], twin, ctx })
    assert.deepEqual(found.map((f) => f.path), ['filesystem/etc/openvpn/client/mgmt.pw', 'filesystem/etc/openvpn/creds.txt'])
    // A commit that changed only another file asks about that file alone.
    assert.deepEqual(await new FilesProvider().secretPaths({ paths: ['filesystem/etc/openvpn/notes.txt'], twin, ctx }), [])
  })

  it('names a file whose record in the twin\'s own files manifest says secret (a token file, root-only), its content in the tree all the same; the manifest whole or in parts', async () => {
    const entry = (path: string, extra: Record<string, unknown>) => ({ path, type: 'file', mode: '0600', owner: 'root', group: 'root', uid: 0, gid: 0, ...extra })
    const entries = [
      entry('/etc/myapp/db.token', { content: 'secret', secret: true, secretReason: TOKEN_FILE }),
      entry('/etc/myapp/app.conf', { content: 'mirrored' }),
      entry('/etc/myapp/root.bin', { content: 'secret', secret: true, secretReason: 'root-only, content not checked' }),
    ]
    const asked = ['filesystem/etc/myapp/app.conf', 'filesystem/etc/myapp/db.token', 'filesystem/etc/other/root.bin']
    const ctx = twinOnly({ include: ['/etc'] })
    const whole = new MemoryTwin([{ path: 'system/files/manifest.json', content: JSON.stringify({ entries }) }])
    const expected = [['filesystem/etc/myapp/db.token', `a secret in the files manifest (${TOKEN_FILE})`]]
    assert.deepEqual((await new FilesProvider().secretPaths({ paths: asked, twin: whole, ctx })).map((f) => [f.path, f.rule]), expected)
    // Split: the entry is read from its folder's part only.
    const split = new MemoryTwin([
      { path: 'system/files/manifest.json', content: JSON.stringify({ entries: [] }) },
      { path: partPath(partOf('/etc/myapp/db.token')), content: JSON.stringify({ entries }) },
    ])
    assert.deepEqual((await new FilesProvider().secretPaths({ paths: asked, twin: split, ctx })).map((f) => [f.path, f.rule]), expected)
  })

  it('names a file that is one token, committed by hand where the manifest lists nothing or over a mirrored text; not one a package ships, one secrets.allow lets through, nor any other text (session 17)', async () => {
    const token = 'Xq7vR2mK9pL4sT8wZ3nB6yH1\n'
    const entries = [
      { path: '/etc/myapp/app.conf', type: 'file', content: 'mirrored' },
      { path: '/etc/pkg/shipped.id', type: 'file', content: 'mirrored', origin: 'package-modified', package: 'pkg' },
    ]
    const twin = new MemoryTwin([
      { path: 'system/files/manifest.json', content: JSON.stringify({ entries }) },
      { path: 'filesystem/etc/myapp/deploy.token', content: token },
      { path: 'filesystem/usr/local/etc/restic/password.txt', content: 'Tr0ub4dor&3\n' },
      { path: 'filesystem/etc/myapp/app.conf', content: token },
      { path: 'filesystem/etc/pkg/shipped.id', content: token },
      { path: 'filesystem/etc/myapp/allowed.id', content: token },
      { path: 'filesystem/etc/myapp/instance-id', content: '0b5a1c4e-1f2e-4a5b-9c8d-3e2f1a0b9c8d\n' },
      { path: 'filesystem/etc/myapp/listen.conf', content: 'listen 8080\n' },
    ])
    const asked = ['filesystem/etc/myapp/allowed.id', 'filesystem/etc/myapp/app.conf', 'filesystem/etc/myapp/deploy.token', 'filesystem/etc/myapp/instance-id', 'filesystem/etc/myapp/listen.conf', 'filesystem/etc/pkg/shipped.id', 'filesystem/usr/local/etc/restic/password.txt']
    const found = await new FilesProvider().secretPaths({ paths: asked, twin, ctx: twinOnly({ include: ['/etc'], secrets: { allow: ['/etc/myapp/allowed.*'] } }) })
    assert.deepEqual(found.map((f) => [f.path, f.rule]), [
      ['filesystem/etc/myapp/app.conf', BARE_TOKEN],
      ['filesystem/etc/myapp/deploy.token', BARE_TOKEN],
      ['filesystem/usr/local/etc/restic/password.txt', BARE_TOKEN],
    ])
  })
})
