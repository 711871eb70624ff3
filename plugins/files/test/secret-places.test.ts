import { strict as assert } from 'node:assert'
import { MemoryCache, redactSecrets, REDACTED, type TwinDocument } from '@twinsync/sdk'
import { createTestContext } from '@twinsync/sdk/conformance'
import { fakeChars, sessionFourteenPlaces } from '../../../test/fixtures/secrets/samples.js'
import { assertPrefiltersFindTheSame } from '../../../test/support/prefilter-check.js'
import { FilesProvider, type Manifest } from '../src/index.js'
import { postfixPasswordMaps, SecretRules } from '../src/secrets.js'
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
