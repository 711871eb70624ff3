import { strict as assert } from 'node:assert'
import { refusedDocumentPaths, type PathsOfTree } from '../src/snapshot/document-paths.js'

/**
 * The paths a snapshot's providers hand in, judged against the tree as it stands (HEAD with the
 * working twin's edits): session 43, a file and a folder at one path kept only one of them, in
 * silence. The CLI cases (a plugin's collect, two providers, a kept part) are in
 * test/integration/plugins.test.ts; these are the rule's corners.
 */
describe('refusedDocumentPaths: a file and a folder at one path, one path twice, a control character', () => {
  /** A tree holding `held` (path → owner), where a fresh owner's file not written goes. */
  const tree = (held: Record<string, string | undefined>): PathsOfTree => ({
    holds: (path) => Object.hasOwn(held, path),
    isFolder: (path) => Object.keys(held).some((p) => p.startsWith(`${path}/`)),
    under: (path) => Object.keys(held).filter((p) => p.startsWith(`${path}/`)),
    stays: (path, fresh) => {
      const owner = held[path]
      return owner === undefined || !fresh.has(owner)
    },
    ownerOf: (path) => held[path],
  })
  const docs = (...list: Array<[string, string]>) => list.map(([provider, path]) => ({ provider, doc: { path, content: 'x\n' } }))
  const refused = (given: ReturnType<typeof docs>, fresh: string[], held: Record<string, string | undefined>) =>
    Object.fromEntries([...refusedDocumentPaths(given, new Set(fresh), tree(held), 'Kept.').refused].map(([name, d]) => [name, d.summary]))

  it("a provider's own path that changed kind goes through: its file where its folder was, its folder where its file was", () => {
    assert.deepEqual(refused(docs(['a', 'system/a/x/y']), ['a'], { 'system/a/x': 'a' }), {})
    assert.deepEqual(refused(docs(['a', 'system/a/x']), ['a'], { 'system/a/x/y': 'a', 'system/a/x/z': 'a' }), {})
    assert.deepEqual(refused(docs(['files', 'filesystem/etc/a\nb/c']), ['files'], { 'filesystem/etc/a\nb': 'files' }), {}, 'a machine name may hold a newline')
  })

  it('two new documents, a file and a folder at one path, from two providers: both refused, each naming both', () => {
    const out = refused(docs(['a', 'system/x'], ['b', 'system/x/y']), ['a', 'b'], {})
    assert.deepEqual(Object.keys(out).sort(), ['a', 'b'])
    for (const summary of Object.values(out)) assert.match(summary, /system\/x \(the a provider's\) and system\/x\/y \(the b provider's\): a file and a folder at one path/)
  })

  it("a new file where the twin keeps a folder's file (its provider did not collect, or the twin's own): refused, naming the kept file", () => {
    const out = refused(docs(['a', 'system/x']), ['a'], { 'system/x/kept': 'b' })
    assert.match(out.a ?? '', /system\/x, a file where the twin keeps the folder system\/x\/ \(system\/x\/kept: the b provider's document\)/)
    assert.match(refused(docs(['a', 'plans']), ['a'], { 'plans/one.yaml': undefined }).a ?? '', /the twin's own file/)
  })

  it("a refusal keeps that provider's files, which may refuse another's new path in turn; one path twice is refused", () => {
    // c's system/k/z is fine while b's system/k goes; b is refused (a file over d's kept folder), so system/k stays: c is refused in turn.
    const out = refused(docs(['c', 'system/k/z'], ['b', 'system/m']), ['b', 'c'], { 'system/k': 'b', 'system/m/kept': 'd' })
    assert.deepEqual(Object.keys(out).sort(), ['b', 'c'])
    assert.match(out.c ?? '', /system\/k\/z, a folder where the twin keeps the file system\/k \(the b provider's document\)/)
    assert.match(refused(docs(['b', 'system/y'], ['b', 'system/y']), ['b'], {}).b ?? '', /the document system\/y twice/)
  })

  it('a control character outside filesystem/ (C0, DEL, C1), spelled out; a tab or a bidi override in a machine name under filesystem/ goes through', () => {
    for (const [name, spelled] of [['a\nb', 'a\\nb'], ['a\x1b[2J', 'a\\e[2J'], ['a\x7f', 'a\\x7f'], ['a\x9b', 'a\\x9b']] as const) {
      assert.match(refused(docs(['a', `system/a/${name}`]), ['a'], {}).a ?? '', new RegExp(`control character: system/a/${spelled.replace(/[\\[]/g, '\\$&')},`))
    }
    assert.deepEqual(refused(docs(['files', 'filesystem/home/u/.config/a\tb\u202e']), ['files'], {}), {})
  })
})
