import { strict as assert } from 'node:assert'
import { MemoryCache, type TwinDocument } from '@twinsync/sdk'
import { createTestContext } from '@twinsync/sdk/conformance'
import { FilesProvider, type Manifest, type ManifestEntry } from '../src/index.js'
import { isTokenFile, ROOT_ONLY_UNCHECKED, TOKEN_FILE } from '../src/secrets.js'
import { md5, TargetRoot } from './target-root.js'

const PACKAGED = '[cmp]\nsecret = pass:insta\n'

function rootWith(): TargetRoot {
  return new TargetRoot()
    .file('/etc/passwd', 'root:x:0:0:root:/root:/bin/bash\n')
    .file('/etc/group', 'root:x:0:\nadm:x:4:\n')
    .file('/etc/app/root-only.bin', new Uint8Array([1, 0, 2, 3]), { mode: 0o600 })
    .file('/etc/app/root-only.conf', 'listen = 8080\n', { mode: 0o600 })
    .file('/etc/app/root-group.conf', 'listen = 8081\n', { mode: 0o640, gid: 4 })
    .file('/etc/app/root-only-secret.conf', 'db_password = k8Jq2mZx\n', { mode: 0o600 })
    .file('/etc/app/world.bin', new Uint8Array([1, 0, 2, 3]), { mode: 0o644 })
    .file('/etc/app/world-secret.env', 'API_KEY=Zq81nNc0pL2x\n', { mode: 0o644 })
    .file('/etc/myapp/db.pass', 'Xq7vR2mK9pL4sT8wZ3nB6yH1\n', { mode: 0o640, gid: 4 })
    .file('/etc/openvpn/auth.txt', 'vpnuser\nXq7vR2mK9pL4sT8wZ3nB\n', { mode: 0o600 })
    .file('/etc/myapp/world.token', 'Xq7vR2mK9pL4sT8wZ3nB6yH1\n', { mode: 0o644 })
    .file('/etc/myapp/allowed.id', 'Xq7vR2mK9pL4sT8wZ3nB6yH1\n', { mode: 0o600 })
    .file('/etc/ssl/openssl.cnf', PACKAGED)
    .file('/etc/ssl/modified.cnf', PACKAGED.replace('insta', 'n3wpass'))
    .file(
      '/var/lib/dpkg/status',
      [
        'Package: openssl',
        'Status: install ok installed',
        'Conffiles:',
        ` /etc/ssl/openssl.cnf ${md5(PACKAGED)}`,
        ` /etc/ssl/modified.cnf ${md5(PACKAGED)}`,
        'Description: ssl',
        '',
      ].join('\n'),
    )
    .file('/var/lib/dpkg/diversions', '')
}

function manifestOf(documents: readonly TwinDocument[]): Manifest {
  return JSON.parse(String(documents.find((d) => d.path === 'system/files/manifest.json')?.content)) as Manifest
}

describe('files provider: which files are secret', () => {
  let root: TargetRoot
  let documents: TwinDocument[]
  let manifest: Manifest
  let warnings: string[]
  const cache = new MemoryCache()
  const entry = (path: string): ManifestEntry => {
    const e = manifest.entries.find((x) => x.path === path)
    assert.ok(e, `${path} is listed`)
    return e
  }

  before(async () => {
    root = rootWith()
    const ctx = createTestContext(root.dir, { config: { include: ['/etc'], secrets: { allow: ['/etc/myapp/allowed.*'] } }, cache })
    const collected = await new FilesProvider().collect({ ctx })
    documents = collected.documents
    warnings = collected.diagnostics.filter((d) => d.code === 'FILES_TOKEN_FILE').map((d) => d.summary)
    manifest = manifestOf(documents)
  })
  after(() => root.remove())

  it('keeps a root-only file private unless its content is shown free of findings', () => {
    assert.deepEqual([entry('/etc/app/root-only.bin').secret, entry('/etc/app/root-only.bin').secretReason], [true, ROOT_ONLY_UNCHECKED])
    assert.equal(entry('/etc/app/root-only.conf').content, 'mirrored')
    assert.equal(entry('/etc/app/root-group.conf').content, 'mirrored')
    assert.deepEqual([entry('/etc/app/root-only-secret.conf').secret, entry('/etc/app/root-only-secret.conf').secretReason], [true, 'credential-assignment'])
  })

  it('records a file with a finding as metadata and a keyed hash, whoever can read it', () => {
    const e = entry('/etc/app/world-secret.env')
    assert.deepEqual([e.secret, e.content, e.sha256], [true, 'secret', undefined])
    assert.match(e.secretHash ?? '', /^hmac-sha256:[0-9a-f]{64}$/)
    assert.ok(!documents.some((d) => String(d.content).includes('Zq81nNc0pL2x') || String(d.content).includes('k8Jq2mZx')))
    assert.equal(entry('/etc/app/world.bin').content, 'binary')
  })

  it('treats a file exactly as its package ships it as public, and a modified one by its content', () => {
    assert.equal(entry('/etc/ssl/openssl.cnf').content, 'mirrored')
    assert.equal(entry('/etc/ssl/modified.cnf').secret, true)
  })

  it('holds out a file of one or two bare tokens kept from other users, says how to mirror it, and lets the configuration allow one', () => {
    assert.deepEqual([entry('/etc/myapp/db.pass').secret, entry('/etc/myapp/db.pass').secretReason], [true, TOKEN_FILE])
    assert.deepEqual([entry('/etc/openvpn/auth.txt').secret, entry('/etc/openvpn/auth.txt').secretReason], [true, TOKEN_FILE])
    assert.equal(entry('/etc/myapp/world.token').content, 'mirrored', 'a world-readable file is judged by its content alone')
    assert.equal(entry('/etc/myapp/allowed.id').content, 'mirrored', 'secrets.allow')
    assert.ok(!documents.some((d) => String(d.content).includes('Xq7vR2mK9pL4sT8wZ3nB') && d.path !== 'filesystem/etc/myapp/world.token' && d.path !== 'filesystem/etc/myapp/allowed.id'))
    assert.equal(warnings.length, 2, warnings.join('\n'))
    assert.match(warnings[0] ?? '', /^\/etc\/myapp\/db\.pass is held out of the twin as a secret: .*add it to files\.secrets\.allow/)
  })

  it('takes as a token file only one or two single words, one of them token-like', () => {
    for (const text of ['Xq7vR2mK9pL4sT8wZ3nB6yH1\n', '# the key\n0123456789abcdef0123456789abcdef\n', 'bob\nS3cr3t-pass!\n', 'K10abc::server:0123abcdef\n'])
      assert.ok(isTokenFile(text), JSON.stringify(text))
    for (const text of ['', 'listen = 8080\n', 'yes\n', '/etc/ssl/private/site.key\n', 'a\nb\nXq7vR2mK9pL4sT8wZ3nB\n', 'localhost\n', 'UTF-8 en_US.UTF-8 ok\n', 'passwordpassword\n'])
      assert.ok(!isTokenFile(text), JSON.stringify(text))
  })

  it('changes the keyed hash with the content and keeps it with the same key', async () => {
    const before = entry('/etc/app/world-secret.env').secretHash
    root.file('/etc/app/world-secret.env', 'API_KEY=Zq81nNc0pL2y\n', { mode: 0o644 })
    const again = manifestOf((await new FilesProvider().collect({ ctx: createTestContext(root.dir, { config: { include: ['/etc'] }, cache }) })).documents)
    const after = again.entries.find((e) => e.path === '/etc/app/world-secret.env')?.secretHash
    assert.notEqual(after, before)
    assert.equal(again.entries.find((e) => e.path === '/etc/app/root-only-secret.conf')?.secretHash, entry('/etc/app/root-only-secret.conf').secretHash)
  })
})
