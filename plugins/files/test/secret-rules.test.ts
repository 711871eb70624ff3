import { strict as assert } from 'node:assert'
import { MemoryCache, type TwinDocument } from '@twinsync/sdk'
import { createTestContext } from '@twinsync/sdk/conformance'
import { FilesProvider, type Manifest, type ManifestEntry } from '../src/index.js'
import { ROOT_ONLY_UNCHECKED } from '../src/secrets.js'
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
  const cache = new MemoryCache()
  const entry = (path: string): ManifestEntry => {
    const e = manifest.entries.find((x) => x.path === path)
    assert.ok(e, `${path} is listed`)
    return e
  }

  before(async () => {
    root = rootWith()
    const ctx = createTestContext(root.dir, { config: { include: ['/etc'] }, cache })
    documents = (await new FilesProvider().collect({ ctx })).documents
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

  it('changes the keyed hash with the content and keeps it with the same key', async () => {
    const before = entry('/etc/app/world-secret.env').secretHash
    root.file('/etc/app/world-secret.env', 'API_KEY=Zq81nNc0pL2y\n', { mode: 0o644 })
    const again = manifestOf((await new FilesProvider().collect({ ctx: createTestContext(root.dir, { config: { include: ['/etc'] }, cache }) })).documents)
    const after = again.entries.find((e) => e.path === '/etc/app/world-secret.env')?.secretHash
    assert.notEqual(after, before)
    assert.equal(again.entries.find((e) => e.path === '/etc/app/root-only-secret.conf')?.secretHash, entry('/etc/app/root-only-secret.conf').secretHash)
  })
})
