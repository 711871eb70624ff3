import { strict as assert } from 'node:assert'
import { createHash } from 'node:crypto'
import { existsSync, lstatSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { MemoryCache, MemoryTwin, type Change, type ProviderContext, type TwinDocument } from '@twinsync/sdk'
import { createTestContext } from '@twinsync/sdk/conformance'
import { FilesProvider, type Manifest, type ManifestEntry } from '../src/index.js'
import { KEPT_BINARY, ROOT_ONLY_UNCHECKED } from '../src/secrets.js'
import { TargetRoot } from './target-root.js'

// Session 42: a binary file kept from other users (no read bit for others) whose bytes are not
// its package's is held out with a keyed hash, as a root-only one was: its plain sha256 tested
// password guesses offline (a keytab `ktutil addent -password` made, kept 0640 root:www-data).
const KEYTAB = new Uint8Array([5, 2, 0, 0, 0, 0x3c, 0, 1, 0, 0x0b, ...Buffer.from('EXAMPLE.ORG'), 0, 4, ...Buffer.from('HTTP'), 0, 0x12])
const SHIPPED = new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 0, 0, 1, 2])
const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex')
const md5 = (bytes: Uint8Array): string => createHash('md5').update(bytes).digest('hex')
const provider = new FilesProvider()

function rootWith(): TargetRoot {
  return new TargetRoot()
    .file('/etc/passwd', 'root:x:0:0:root:/root:/bin/bash\npostgres:x:100:103::/var/lib/postgresql:/bin/sh\nann:x:1000:1000::/home/ann:/bin/bash\n')
    .file('/etc/group', 'root:x:0:\nadm:x:4:\nwww-data:x:33:\npostgres:x:103:\nann:x:1000:\n')
    .file('/etc/web/http.kt', KEYTAB, { mode: 0o640, gid: 33 })
    .file('/etc/web/shared.bin', KEYTAB.slice(1), { mode: 0o660, uid: 100, gid: 103 })
    .file('/etc/web/world.bin', KEYTAB.slice(2), { mode: 0o644 })
    .file('/etc/web/root.bin', KEYTAB.slice(3), { mode: 0o600 })
    .file('/etc/web/group.conf', 'listen = 8081\n', { mode: 0o640, gid: 33 })
    .file('/etc/web/shipped.bin', SHIPPED, { mode: 0o640, gid: 4 })
    .file('/etc/web/local.bin', SHIPPED.slice(1), { mode: 0o640, gid: 4 })
    .file('/var/lib/app/data.bin', KEYTAB.slice(4), { mode: 0o600, uid: 100, gid: 103 })
    .file('/home/ann/.config/pulse/cookie', KEYTAB.slice(5), { mode: 0o600, uid: 1000, gid: 1000 })
    .file('/etc/web/big.bin', new Uint8Array(300).fill(7), { mode: 0o640, gid: 33 })
    .file(
      '/var/lib/dpkg/status',
      ['Package: web', 'Status: install ok installed', 'Conffiles:', ` /etc/web/shipped.bin ${md5(SHIPPED)}`, ` /etc/web/local.bin ${md5(SHIPPED)}`, 'Description: web', ''].join('\n'),
    )
    .file('/var/lib/dpkg/diversions', '')
}

function manifestOf(documents: readonly TwinDocument[]): Manifest {
  return JSON.parse(String(documents.find((d) => d.path === 'system/files/manifest.json')?.content)) as Manifest
}

describe('files provider: a binary file kept from other users (session 42)', () => {
  let root: TargetRoot
  let ctx: ProviderContext
  beforeEach(() => {
    root = rootWith()
    ctx = createTestContext(root.dir, { config: { include: ['/etc/web', '/var/lib/app', '~/.config'], users: ['ann'], maxFileSize: 256 }, cache: new MemoryCache() })
  })
  afterEach(() => root.remove())

  it('holds it out with a keyed hash, never its plain sha256, whoever owns it; leaves a world-readable, a packaged, a too-large binary and a text as they were', async () => {
    const { documents } = await provider.collect({ ctx })
    const manifest = manifestOf(documents)
    const entry = (path: string): ManifestEntry => {
      const e = manifest.entries.find((x) => x.path === path)
      assert.ok(e, `${path} is listed`)
      return e
    }
    const held = ['/etc/web/http.kt', '/etc/web/shared.bin', '/etc/web/local.bin', '/var/lib/app/data.bin', '/home/ann/.config/pulse/cookie']
    for (const path of held) {
      const e = entry(path)
      assert.deepEqual([e.content, e.secret, e.secretReason, e.sha256], ['secret', true, KEPT_BINARY, undefined], path)
      assert.match(e.secretHash ?? '', /^hmac-sha256:[0-9a-f]{64}$/, path)
    }
    assert.deepEqual([entry('/etc/web/root.bin').secret, entry('/etc/web/root.bin').secretReason], [true, ROOT_ONLY_UNCHECKED], 'root-only as before')
    assert.deepEqual([entry('/etc/web/world.bin').content, entry('/etc/web/world.bin').sha256], ['binary', sha256(KEYTAB.slice(2))], 'every user may read it')
    assert.deepEqual([entry('/etc/web/shipped.bin').content, entry('/etc/web/shipped.bin').sha256], ['binary', sha256(SHIPPED)], 'its package ships these bytes')
    assert.equal(entry('/etc/web/big.bin').content, 'too-large', 'over maxFileSize: not a guessable hash, kept')
    assert.equal(entry('/etc/web/group.conf').content, 'mirrored', 'text is judged by its content')
    const all = documents.map((d) => String(d.content)).join('\n')
    for (const bytes of [KEYTAB, KEYTAB.slice(1), SHIPPED.slice(1), KEYTAB.slice(4), KEYTAB.slice(5)]) assert.ok(!all.includes(sha256(bytes)), 'no plain sha256 of a held file')
  })

  it('plans and applies it as any held file: its mode and owner from the twin, never its content; a change, a removal on either side said, nothing deleted or written', async () => {
    const { documents } = await provider.collect({ ctx })
    const twin = new MemoryTwin(documents)
    const manifest = manifestOf(documents)
    const plan = async (from: MemoryTwin): Promise<{ changes: Change[]; codes: string[] }> => {
      const desired = await provider.load({ ctx, twin: from })
      assert.ok(desired.state)
      const actual = await provider.collect({ ctx })
      const d = provider.diff({ desired: desired.state, actual: actual.state, ctx })
      return { changes: d.changes, codes: d.diagnostics.map((x) => `${x.code} ${x.path ?? ''}`) }
    }

    // The twin asks for another mode: a chmod, applied; the bytes stay.
    const edited = new MemoryTwin(documents)
    const kt = manifest.entries.find((e) => e.path === '/etc/web/http.kt')
    assert.ok(kt)
    kt.mode = '0600'
    edited.set('system/files/manifest.json', JSON.stringify(manifest))
    const chmod = await plan(edited)
    assert.deepEqual(chmod.changes.map((c) => c.id), ['files:chmod:/etc/web/http.kt'])
    const applied = await provider.apply({ changes: chmod.changes, ctx })
    assert.deepEqual(applied.results.map((r) => r.status), ['applied'])
    assert.equal(lstatSync(root.path('/etc/web/http.kt')).mode & 0o777, 0o600)
    assert.deepEqual(new Uint8Array(readFileSync(root.path('/etc/web/http.kt'))), KEYTAB)

    // Changed on the machine: said, nothing planned (the twin has no content to put back).
    writeFileSync(root.path('/etc/web/shared.bin'), KEYTAB.slice(6))
    rmSync(root.path('/var/lib/app/data.bin'))
    const drift = await plan(twin)
    assert.deepEqual(
      drift.changes.map((c) => c.id),
      ['files:chmod:/etc/web/http.kt'],
      'only the mode the twin records',
    )
    assert.ok(drift.codes.includes('SECRET_CHANGED /etc/web/shared.bin'), drift.codes.join('\n'))
    assert.ok(drift.codes.includes('UNHELD_CREATE /var/lib/app/data.bin'), drift.codes.join('\n'))

    // Gone from the twin: not deleted; a delete a plan file asks for anyway fails.
    manifest.entries = manifest.entries.filter((e) => e.path !== '/home/ann/.config/pulse/cookie')
    kt.mode = '0640'
    const dropped = new MemoryTwin(documents)
    dropped.set('system/files/manifest.json', JSON.stringify(manifest))
    const kept = await plan(dropped)
    assert.ok(!kept.changes.some((c) => c.resource === '/home/ann/.config/pulse/cookie'))
    assert.ok(kept.codes.includes('UNHELD_DELETE /home/ann/.config/pulse/cookie'), kept.codes.join('\n'))
    const del: Change = {
      id: 'files:delete:/home/ann/.config/pulse/cookie',
      provider: 'files',
      category: 'files',
      operation: 'delete',
      resource: '/home/ann/.config/pulse/cookie',
      summary: 'Delete it',
      risk: 'low',
      data: { action: 'delete', path: '/home/ann/.config/pulse/cookie' },
    }
    const refused = await provider.apply({ changes: [del], ctx })
    assert.equal(refused.results[0]?.status, 'failed')
    assert.match(refused.results[0]?.message ?? '', /holds a secret the twin never saw/)
    assert.ok(existsSync(root.path('/home/ann/.config/pulse/cookie')))
  })
})
