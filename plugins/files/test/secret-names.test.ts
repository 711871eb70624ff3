import { strict as assert } from 'node:assert'
import { createTestContext } from '@twinsync/sdk/conformance'
import { MemoryCache, secretScanCount, type Change, type CollectResult, type ProviderContext } from '@twinsync/sdk'
import { FilesProvider, type FilesState, type Manifest } from '../src/index.js'
import { debianLikeRoot, type TargetRoot } from './target-root.js'

const provider = new FilesProvider()
const GITHUB = `ghp_${'aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5'}`
const AWS = 'AKIAQX7Z3K9M2P5R8T4W'
const LINKED = 'AKIAZZ4Y7X2W9V3U6T5S'
const LEFTOVER = 'sk_live_' + 'q2W3e4R5t6Y7u8I9o0P1a2S3'
const TOKENS = [GITHUB, AWS, LINKED, LEFTOVER]

const manifestOf = (result: CollectResult<FilesState>): Manifest => JSON.parse(String(result.documents.find((d) => d.path === 'system/files/manifest.json')?.content)) as Manifest
/** Everything a collect hands the core: documents' paths and contents, diagnostics. */
const everything = (result: CollectResult<FilesState>): string => JSON.stringify([result.documents.map((d) => [d.path, String(d.content)]), result.diagnostics])
const held = (result: CollectResult<FilesState>) =>
  result.diagnostics
    .filter((d) => d.code === 'FILES_NAME_SECRET')
    .map((d) => `${d.path ?? ''}: ${d.summary}`)
    .sort()

/**
 * Session 24: a secret in a name (a file's, a folder's, a leftover's) or a symlink's target is
 * held out of the twin with everything below it, said by its folder and rule (secret-names.ts);
 * a twin's change at one is left out of the plan.
 */
describe('files provider: a secret in a name', () => {
  let root: TargetRoot
  let ctx: ProviderContext
  const collect = () => provider.collect({ ctx })

  before(async () => {
    root = debianLikeRoot()
    root.file('/etc/myapp/app.conf', 'listen = 80\n')
    root.file(`/etc/myapp/${GITHUB}`, 'nothing secret\n')
    root.file(`/etc/myapp/key-${AWS}/inner.conf`, 'inner\n')
    root.file(`/etc/myapp/${LEFTOVER}.conf.dpkg-dist`, 'x\n')
    root.link('/etc/myapp/link', `/opt/${LINKED}`)
    root.link('/etc/myapp/fine-link', '/etc/myapp/app.conf')
    // Old enough for the stat cache to keep every listing (git's racy-clean rule).
    root.age(['/etc', '/etc/myapp', `/etc/myapp/key-${AWS}`, `/etc/myapp/key-${AWS}/inner.conf`, '/etc/myapp/app.conf', `/etc/myapp/${GITHUB}`])
    await new Promise((resolve) => setTimeout(resolve, 150))
    ctx = createTestContext(root.dir, { cache: new MemoryCache() })
  })
  after(() => root.remove())

  it('holds the path out (a folder with everything below it, a symlink to one), says the folder and the rule, never the name', async () => {
    const result = await collect()
    assert.deepEqual(TOKENS.filter((t) => everything(result).includes(t)), [])
    const paths = manifestOf(result).entries.map((e) => e.path).filter((p) => p.startsWith('/etc/myapp'))
    assert.deepEqual(paths, ['/etc/myapp', '/etc/myapp/app.conf', '/etc/myapp/fine-link'])
    assert.deepEqual(held(result), [
      '/etc/myapp: A name in /etc/myapp holds a secret (aws-access-key); the twin leaves it out, and everything below it',
      '/etc/myapp: A name in /etc/myapp holds a secret (github); the twin leaves it out, and everything below it',
      '/etc/myapp: A name in /etc/myapp holds a secret (provider-token); the twin leaves it out, and everything below it',
      '/etc/myapp: A symlink in /etc/myapp points to a name that holds a secret (aws-access-key); the twin leaves the link out',
    ])
    assert.deepEqual(result.state.leftovers.filter((p) => p.startsWith('/etc/myapp')), [], 'a leftover with one in its name is not listed either')
  })

  it('an unchanged collect takes the verdicts from the stat cache: asks only about what it holds out; a folder listed again asks only about its new names', async () => {
    await collect() // the cache as a second collect leaves it
    let before = secretScanCount()
    const again = await collect()
    assert.deepEqual(held(again).length, 4)
    // The three names held out (asked again for their rule) and the link (never remembered).
    assert.equal(secretScanCount() - before, 4)
    root.file('/etc/myapp/new.conf', 'new\n')
    root.age(['/etc/myapp', '/etc/myapp/new.conf'])
    await new Promise((resolve) => setTimeout(resolve, 150))
    before = secretScanCount()
    const grown = await collect()
    assert.equal(held(grown).length, 4)
    assert.ok(manifestOf(grown).entries.some((e) => e.path === '/etc/myapp/new.conf'))
    assert.equal(secretScanCount() - before, 6, 'the new name and its content, and the four as above: not the folder\'s other names')
    assert.deepEqual(TOKENS.filter((t) => everything(grown).includes(t)), [])
  })

  it('a twin\'s change at such a name, below it, or making a symlink to one is left out, named by the folder; others are not', async () => {
    const write = (path: string): Change => ({ id: `files:create:${path}`, provider: 'files', category: 'files', operation: 'create', resource: path, summary: `Create ${path}`, risk: 'low', data: { action: 'write', path, text: 'x\n', sha256: '', mode: 0o644, uid: 0, gid: 0 } })
    const link: Change = { id: 'files:create:/etc/myapp/forged', provider: 'files', category: 'files', operation: 'create', resource: '/etc/myapp/forged', summary: 'Create symlink /etc/myapp/forged', risk: 'low', data: { action: 'symlink', path: '/etc/myapp/forged', target: `/opt/${LINKED}`, uid: 0, gid: 0 } }
    const changes = [write(`/etc/myapp/${GITHUB}`), write(`/etc/myapp/key-${AWS}/deeper/x.conf`), link, write('/etc/myapp/other.conf')]
    const found = await provider.outOfScope({ changes, ctx: createTestContext(root.dir, { config: { include: ['/etc'] } }) })
    assert.deepEqual(
      found.map((d) => [d.change === undefined ? '' : changes.findIndex((c) => c.id === d.change), d.code, d.path, d.summary]),
      [
        [0, 'FILES_NAME_SECRET_NOT_PLANNED', '/etc/myapp', 'A change in /etc/myapp (create) is left out: a name there holds a secret (github), which no snapshot takes into the twin'],
        [1, 'FILES_NAME_SECRET_NOT_PLANNED', '/etc/myapp', 'A change in /etc/myapp (create) is left out: a name there holds a secret (aws-access-key), which no snapshot takes into the twin'],
        [2, 'FILES_NAME_SECRET_NOT_PLANNED', '/etc/myapp', 'A change in /etc/myapp (create) is left out: it makes a symlink whose target holds a secret (aws-access-key), which no snapshot takes into the twin'],
      ],
    )
    assert.deepEqual(TOKENS.filter((t) => JSON.stringify(found.map((d) => [d.summary, d.detail, d.path])).includes(t)), [])
  })

  it('a first collect asks the detector about a listed folder\'s names as one text, not one by one, and holds out the same names (session 54)', async () => {
    // 60 empty folders (no content to screen) and two names with a secret among them, under an include root of their own:
    // the walk asked about each of the 62 names alone before (62 detector calls), now 1 for the folder's names and 1 for
    // each name on a finding's line (secretRulesInNames), its rule the one it has alone.
    const many = debianLikeRoot()
    try {
      for (let i = 0; i < 60; i++) many.dirAt(`/srv/many/d${String(i).padStart(2, '0')}`)
      many.dirAt(`/srv/many/key-${AWS}`)
      many.file(`/srv/many/${GITHUB}`, '')
      const before = secretScanCount()
      const result = await provider.collect({ ctx: createTestContext(many.dir, { config: { include: ['/srv/many'] } }) })
      const scans = secretScanCount() - before
      assert.deepEqual(held(result), [
        '/srv/many: A name in /srv/many holds a secret (aws-access-key); the twin leaves it out, and everything below it',
        '/srv/many: A name in /srv/many holds a secret (github); the twin leaves it out, and everything below it',
      ])
      const paths = manifestOf(result).entries.map((e) => e.path)
      assert.equal(paths.length, 61)
      assert.deepEqual(TOKENS.filter((t) => everything(result).includes(t)), [])
      assert.ok(scans <= 3, `${scans} detector calls for a folder of 62 names`)
    } finally {
      many.remove()
    }
  })

  it('a plan of 30,000 folder creates asks the detector about their names as one text, not one by one, and leaves out the same changes (session 39)', async () => {
    // One by one, 11 µs of CPU each on an idle machine, 30-75 µs at a load of 8, in the plan's and
    // again in the apply's check of scope: 30,000 detector calls here before.
    const mkdir = (path: string): Change => ({ id: `files:create:${path}`, provider: 'files', category: 'files', operation: 'create', resource: path, summary: `Create directory ${path}`, risk: 'low', data: { action: 'mkdir', path, mode: 0o755, uid: 0, gid: 0 } })
    const changes = Array.from({ length: 30_000 }, (_, i) => mkdir(`/etc/gen/d${String(i).padStart(6, '0')}`))
    changes.splice(12_345, 0, mkdir(`/etc/gen/${GITHUB}`))
    changes.splice(23_456, 0, mkdir(`/etc/gen/key-${AWS}/deeper`))
    const before = secretScanCount()
    const found = await provider.outOfScope({ changes, ctx: createTestContext(root.dir, { config: { include: ['/etc'] } }) })
    const scans = secretScanCount() - before
    assert.deepEqual(
      found.map((d) => [d.change, d.code, d.path]),
      [
        [`files:create:/etc/gen/${GITHUB}`, 'FILES_NAME_SECRET_NOT_PLANNED', '/etc/gen'],
        [`files:create:/etc/gen/key-${AWS}/deeper`, 'FILES_NAME_SECRET_NOT_PLANNED', '/etc/gen'],
      ],
    )
    assert.ok(scans <= 5, `${scans} detector calls for 30,003 names`)
  })
})
