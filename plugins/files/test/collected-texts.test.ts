import { strict as assert } from 'node:assert'
import { createHash } from 'node:crypto'
import { createTestContext } from '@twinsync/sdk/conformance'
import { MemoryCache, MemoryTwin, type TwinReader } from '@twinsync/sdk'
import { FilesProvider, type FilesState } from '../src/index.js'
import { debianLikeRoot, TargetRoot } from './target-root.js'

const sha = (text: string | Uint8Array) => createHash('sha256').update(text).digest('hex')

// load takes a mirrored document's text and sha256 from the state collect just made when the
// twin holds exactly that text (collected-texts.ts): the twin's own text is compared, never trusted.
describe('files provider: load after collect (collected-texts)', () => {
  let root: TargetRoot
  const provider = new FilesProvider()
  beforeEach(() => {
    root = debianLikeRoot()
  })
  afterEach(() => root.remove())

  it('gives the same desired state as a load with nothing collected, for equal, edited, lookalike and non-text documents', async () => {
    root.file('/etc/greeting.conf', 'Grüße ✓ 𝄞\n').file('/etc/accents.conf', 'café\n')
    const ctx = createTestContext(root.dir)
    const collected = await provider.collect({ ctx })
    const twin = new MemoryTwin(collected.documents)
    // 'é' (two bytes as UTF-8) made 'ab': the same number of bytes, another text.
    twin.set('filesystem/etc/accents.conf', 'cafab\n')
    // Edited (one character), the same length with another byte, a BOM in front (decodes to other text), not UTF-8.
    twin.set('filesystem/etc/hosts', '127.0.0.1 localhost\n10.0.0.1 db\n')
    twin.set('filesystem/etc/motd', swapLast(String(collected.documents.find((d) => d.path === 'filesystem/etc/motd')?.content)))
    twin.set('filesystem/etc/app/owned', `\ufeff${String(collected.documents.find((d) => d.path === 'filesystem/etc/app/owned')?.content)}`)
    twin.set('filesystem/etc/sudoers', new Uint8Array([0xff, 0xfe, 0x41]))

    const loaded = await provider.load({ ctx, twin })
    const fresh = await loadedWithoutCollect(twin)
    assert.deepEqual(loaded, fresh, 'reusing the collected texts changes nothing in what load gives')

    const state = loaded.state as FilesState
    const byPath = new Map(state.entries.map((e) => [e.path, e]))
    const actual = new Map((collected.state as FilesState).entries.map((e) => [e.path, e]))
    for (const path of ['/etc/hosts', '/etc/motd', '/etc/app/owned', '/etc/accents.conf']) {
      const entry = byPath.get(path)
      assert.ok(entry?.text !== undefined, path)
      assert.notEqual(entry.text, actual.get(path)?.text, `${path} keeps the twin's text`)
      assert.equal(entry.sha256, sha(entry.text), `${path}: the sha256 of the twin's bytes`)
      assert.equal(entry.size, Buffer.byteLength(entry.text))
    }
    assert.equal(byPath.get('/etc/sudoers')?.text, undefined, 'not UTF-8: not applied')
    // Unchanged documents, multi-byte text too: the collected strings themselves, and their sha256.
    assert.equal(byPath.get('/etc/greeting.conf')?.text, 'Grüße ✓ 𝄞\n')
    assert.equal(byPath.get('/etc/greeting.conf')?.sha256, sha('Grüße ✓ 𝄞\n'))
    assert.equal(byPath.get('/etc/greeting.conf')?.text, actual.get('/etc/greeting.conf')?.text)
    const group = byPath.get('/etc/group')
    assert.ok(group?.text !== undefined)
    assert.equal(group.sha256, sha(group.text))
    assert.equal(group.sha256, actual.get('/etc/group')?.sha256)
  })

  it('plans nothing for an unchanged twin and the edit alone for an edited one', async () => {
    const ctx = createTestContext(root.dir)
    const collected = await provider.collect({ ctx })
    const twin = new MemoryTwin(collected.documents)
    const same = await provider.load({ ctx, twin })
    assert.ok(same.state)
    assert.deepEqual(provider.diff({ desired: same.state, actual: collected.state, ctx }).changes, [])
    twin.set('filesystem/etc/hosts', '127.0.0.1 localhost\n10.0.0.1 db\n')
    const edited = await provider.load({ ctx, twin })
    assert.ok(edited.state)
    const changes = provider.diff({ desired: edited.state, actual: collected.state, ctx }).changes
    assert.deepEqual(changes.map((c) => c.id), ['files:replace:/etc/hosts'])
    assert.equal((changes[0]?.data as { sha256: string }).sha256, sha('127.0.0.1 localhost\n10.0.0.1 db\n'))
  })

  it("takes a document whose blob id the reader knows (blobOf: the twin just found exactly its index) to be the collected text's as that text, unread; another id, or none, is read and compared as before", async () => {
    // Older than the stat cache's racy window, so the second collect knows every text's blob id.
    await new Promise((resolve) => setTimeout(resolve, 150))
    const ctx = createTestContext(root.dir, { cache: new MemoryCache() })
    await provider.collect({ ctx })
    const collected = await provider.collect({ ctx })
    const twin = new MemoryTwin(collected.documents)
    const contents = new Map(collected.documents.map((d) => [d.path, d.content]))
    const edit = (path: string, text: string) => (twin.set(path, text), contents.set(path, text))
    edit('filesystem/etc/hosts', '127.0.0.1 localhost\n10.0.0.1 db\n')
    const blob = (content: string | Uint8Array) => createHash('sha1').update(`blob ${Buffer.byteLength(content)}\0`).update(content).digest('hex')
    const reads: string[] = []
    const reader: TwinReader = {
      read: (path) => (reads.push(path), twin.read(path)),
      readText: (path) => (reads.push(path), twin.readText(path)),
      list: (prefix) => twin.list(prefix),
      // As the index gives them; /etc/motd's is another file's (a wrong id is never taken).
      blobOf: (path) => (path === 'filesystem/etc/motd' ? blob('other\n') : path === 'filesystem/etc/group' ? undefined : contents.has(path) ? blob(contents.get(path) as string) : undefined),
    }
    const loaded = await provider.load({ ctx, twin: reader })
    assert.deepEqual(loaded, await provider.load({ ctx, twin }), 'the same desired state as a load that reads every document')
    assert.deepEqual(reads.filter((p) => p.startsWith('filesystem/')).sort(), ['filesystem/etc/group', 'filesystem/etc/hosts', 'filesystem/etc/motd'], 'only the documents whose id is not the collected text\'s are read')
    const byPath = new Map((loaded.state as FilesState).entries.map((e) => [e.path, e]))
    assert.equal(byPath.get('/etc/hosts')?.text, '127.0.0.1 localhost\n10.0.0.1 db\n')
  })

  /** The same load in a process whose last collect mirrored no file of these (a root with one file of its own): nothing to reuse. */
  async function loadedWithoutCollect(twin: MemoryTwin) {
    const other = new TargetRoot().file('/etc/hostname', 'elsewhere\n')
    try {
      await provider.collect({ ctx: createTestContext(other.dir) })
      return await provider.load({ ctx: createTestContext(root.dir), twin })
    } finally {
      other.remove()
    }
  }
})

function swapLast(text: string): string {
  const last = text.at(-2) === 'a' ? 'b' : 'a'
  return `${text.slice(0, -2)}${last}${text.slice(-1)}`
}
