import { strict as assert } from 'node:assert'
import { documentPathProblem, refusedDocumentPaths, type PathsOfTree } from '../src/snapshot/document-paths.js'
import { checkTwinPath } from '../src/twin/atomic-snapshot.js'

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
    // A held file is its holder's; a new path the provider's that hands it in (each case's documents are in their parts).
    ownerOf: (path) => (Object.hasOwn(held, path) ? held[path] : given.find((d) => d.doc.path === path)?.provider),
  })
  let given: ReturnType<typeof docs> = []
  const docs = (...list: Array<[string, string]>) => list.map(([provider, path]) => ({ provider, doc: { path, content: 'x\n' } }))
  const refused = (documents: ReturnType<typeof docs>, fresh: string[], held: Record<string, string | undefined>) => {
    given = documents
    return Object.fromEntries([...refusedDocumentPaths(documents, new Set(fresh), tree(held), 'Kept.').refused].map(([name, d]) => [name, d.summary]))
  }

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
    assert.match(refused(docs(['a', 'system/y']), ['a'], { 'system/y/kept': undefined }).a ?? '', /system\/y, a file where the twin keeps the folder system\/y\/ \(system\/y\/kept: the twin's own file\)/)
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
      assert.match(refused(docs(['a', `system/a/${name}`]), ['a'], {}).a ?? '', new RegExp(`cannot hold: system/a/${spelled.replace(/[\\[]/g, '\\$&')}, a control character,`))
    }
    assert.deepEqual(refused(docs(['files', 'filesystem/home/u/.config/a\tb\u202e']), ['files'], {}), {})
  })
})

/**
 * Session 44: a document path no tree of the twin holds (`..`, `.git`, an empty part, a NUL, a
 * name over 255 bytes) failed the whole snapshot with PATH_INVALID (exit 2, no provider's
 * documents committed), an adopt of it with PATH_INVALID, GIT_FAILED or an internal error
 * (ENAMETOOLONG); an absolute or empty path, or one in the twin's own files, was only left out; two
 * lone surrogates were committed as one name twice. Each now refuses that provider alone.
 */
describe('refusedDocumentPaths: a path the twin cannot hold refuses its provider alone', () => {
  const tree: PathsOfTree = {
    holds: () => false,
    isFolder: () => false,
    under: () => [],
    stays: () => true,
    ownerOf: (path) => (path.startsWith('system/a/') ? 'a' : path.startsWith('system/b/') ? 'b' : path.startsWith('filesystem/') ? 'files' : undefined),
  }
  const judged = (provider: string, ...paths: string[]) => refusedDocumentPaths([...paths.map((path) => ({ provider, doc: { path, content: 'x\n' } })), { provider: 'b', doc: { path: 'system/b/fine.json', content: '{}\n' } }], new Set([provider, 'b']), tree, 'Kept.')
  const deep = (bytes: number) => `system/a/${Array.from({ length: Math.ceil((bytes - 9) / 200) }, () => 'd'.repeat(199)).join('/')}`.slice(0, bytes)

  it('refuses each, naming the path (spelled out) and why; the other provider is written', () => {
    const cases: Array<[string, RegExp]> = [
      ['system/a/../../../etc/passwd', /a \.\. part/],
      ['system/a/x/../y', /a \.\. part/], // stays inside, but no tree has such a name
      ['../outside', /a \.\. part/],
      ['system/a/./x', /a \. part/],
      ['system/a/.git/config', /a name git keeps for its own repository/],
      ['.git/config', /a name git keeps for its own repository/],
      ['system/a/.GIT/x', /a name git keeps/],
      ['system/a/x/.git/hooks/pre-commit', /a name git keeps/],
      ['system/a/.git /x', /a name git keeps/],
      ['system/a/GIT~1/x', /a name git keeps/],
      ['system/a/.git\\x', /a name git keeps/],
      ['system/a/.g\u200cit/x', /a name git keeps/],
      ['system/a/x\0y', /a NUL byte/],
      ['filesystem/etc/x\0y', /a NUL byte/],
      [`system/a/${'n'.repeat(300)}`, /a name of 300 bytes \(a file name holds 255 at most\)/],
      [deep(5000), /a path of 5000 bytes \(a twin path holds 3072 at most/],
      [deep(3073), /a path of 3073 bytes/],
      ['/system/a/abs', /an absolute path/],
      ['', /no path at all/],
      ['system/a//x', /an empty part/],
      ['system/a/x/', /an empty part/],
      ['plans/evil.yaml', /a path outside system\/ and filesystem\/, where the twin keeps its own files/],
      ['twin.json', /outside system\/ and filesystem\//],
      ['.gitmodules', /outside system\/ and filesystem\//],
      ['system/a/.gitmodules', /a \.gitmodules or \.gitattributes, whose content git's fsck judges/],
      ['system/a/x/.GitAttributes', /a \.gitmodules or \.gitattributes/],
      ['system/a/.gitmodules. ', /a \.gitmodules or \.gitattributes/],
      ['system/a/GITMOD~1', /a \.gitmodules or \.gitattributes/],
      ['system/a/.git\u200dattributes', /a \.gitmodules or \.gitattributes/],
      ['system/a/x\ud800', /half of a UTF-16 surrogate pair/],
      ['system/a/x\udc00y', /half of a UTF-16 surrogate pair/],
    ]
    for (const [path, why] of cases) {
      const out = judged('a', 'system/a/ok.json', path)
      assert.deepEqual([...out.refused.keys()], ['a'], JSON.stringify(path.slice(0, 60)))
      const summary = out.refused.get('a')?.summary ?? ''
      assert.match(summary, /^The a provider failed in collect\(\): it returned a document the twin cannot hold: /)
      assert.match(summary, why, JSON.stringify(path.slice(0, 60)))
      assert.doesNotMatch(summary, /[\0\u200c\ud800-\udfff]/, 'spelled out')
      assert.deepEqual([...out.written.keys()], ['system/b/fine.json'], 'the other provider goes on')
      assert.equal(out.notOwned.size, 0, 'a refusal, not a document left out')
    }
  })

  it('takes what a tree holds: a backslash, a name of 255 bytes, 3,072 bytes, a surrogate pair, .gitignore, .gitmodules-like names, and under filesyst/ a machine .gitmodules or .gitattributes', () => {
    for (const path of ['system/a/a\\b', `system/a/${'n'.repeat(255)}`, deep(3072), 'system/a/😀', 'system/a/.gitignore', 'system/a/.gitmodules.json', 'system/a/x.gitattributes', 'system/a/.git-credentials.d', 'filesystem/etc/.gitmodules', 'filesystem/home/u/.config/.gitattributes']) {
      const out = judged(path.startsWith('filesystem/') ? 'files' : 'a', path)
      assert.equal(out.refused.size, 0, `${JSON.stringify(path.slice(0, 60))}: ${[...out.refused.values()].map((d) => d.summary).join('')}`)
      assert.ok(out.written.has(path))
    }
  })

  it("a valid path outside the provider's part: left out and said (notOwned, a warning), the provider not refused", () => {
    const out = judged('a', 'system/a/ok.json', 'system/elsewhere.json', 'filesystem/etc/motd')
    assert.equal(out.refused.size, 0)
    assert.deepEqual(out.owned.map((o) => o.doc.path), ['system/a/ok.json', 'system/b/fine.json'])
    const d = out.notOwned.get('a')
    assert.deepEqual([d?.severity, d?.code], ['warning', 'PROVIDER_FAILED'])
    assert.match(d?.summary ?? '', /The a provider handed in 2 documents outside its part of the twin: system\/elsewhere\.json \(no provider's\), filesystem\/etc\/motd \(the files provider's\)/)
  })

  it('refuses every path the draft refuses (one rule: twinPathProblem)', () => {
    for (const path of ['a/../b', '.git', 'x/.GIT', '', '/', 'a//b', 'x\0', `system/a/${'é'.repeat(128)}`, 'system/a/git~1', 'system/a/.git.']) {
      assert.throws(() => checkTwinPath(path), /PATH_INVALID|Not a twin path/, JSON.stringify(path))
      assert.notEqual(documentPathProblem(path), undefined, JSON.stringify(path))
    }
  })
})
