import { strict as assert } from 'node:assert'
import { execFileSync } from 'node:child_process'
import { chmodSync, linkSync, mkdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createTestContext } from '@twinsync/sdk/conformance'
import { MemoryCache, partOfTwinPath, type CollectResult, type ProviderCache } from '@twinsync/sdk'
import { FilesProvider } from '../src/index.js'
import { isSplitToken, keptOf, KEPT_PARTS } from '../src/documents-token.js'
import { partOf, partPath } from '../src/manifest.js'
import { PARTS_DIR, type FilesState } from '../src/state.js'
import { debianLikeRoot, type TargetRoot } from './target-root.js'

/**
 * The files provider's token of what its documents are made from (documents-token.ts): equal
 * only while nothing they are made from moved; handed back as `since`, the documents are kept
 * (none made). Each test changes one input the documents depend on and checks the token moves.
 */
/** A collect that described no file (kept-collect.ts): its state's entries throw when read. */
function assertUndescribed(result: CollectResult<unknown>): void {
  assert.throws(() => (result.state as { entries: unknown }).entries, /described no file/)
}

describe('files provider: the token of its documents, and keeping them', () => {
  let root: TargetRoot
  const provider = new FilesProvider()
  let cache: ProviderCache
  const ctx = (config: Record<string, unknown> = {}) => createTestContext(root.dir, { config: { include: ['/etc'], ...config }, cache })
  const collect = (since?: string, config?: Record<string, unknown>) => provider.collect({ ctx: ctx(config), ...(since === undefined ? {} : { since }) })
  /** Files changed a moment ago are not trusted (racily clean): no token until they age. */
  const age = () => new Promise((resolve) => setTimeout(resolve, 150))

  beforeEach(async () => {
    root = debianLikeRoot()
    cache = new MemoryCache()
    await age()
  })
  afterEach(() => root.remove())

  it('an unchanged machine: the same token; handed back, no document is made and the provider\'s parts are kept, the state the same', async () => {
    const first = await collect()
    assert.ok(first.token !== undefined && first.documents.length > 0)
    const same = await collect()
    assert.equal(same.token, first.token)
    assert.equal(same.kept, undefined, 'nothing kept without `since`')
    const kept = await collect(first.token)
    assert.deepEqual([kept.token, kept.documents, kept.kept], [first.token, [], KEPT_PARTS])
    // No file described (kept-collect.ts): the state has no entries to read, the rest is the same.
    assertUndescribed(kept)
    const keptState = kept.state as { leftovers: string[]; accounts: unknown }
    const firstState = first.state as { leftovers: string[]; accounts: unknown }
    assert.deepEqual([keptState.leftovers, keptState.accounts], [firstState.leftovers, firstState.accounts])
    assert.deepEqual(kept.diagnostics, first.diagnostics)
    // The stat cache is as it was: a collect without `since` describes every file as before.
    assert.deepEqual((await collect()).state, first.state)
    const other = await collect('files-1-another')
    assert.equal(other.kept, undefined)
    assert.deepEqual(other.documents.map((d) => d.path), first.documents.map((d) => d.path))
  })

  it('a file rewritten with the same size and mtime (only its ctime moved): another token, its documents made', async () => {
    const first = await collect()
    const path = join(root.dir, 'etc/hosts')
    const before = statSync(path, { bigint: true })
    writeFileSync(path, readFileSync(path, 'utf8').replace('localhost', 'LOCALHOST'))
    const ns = before.mtimeNs % 1_000_000_000n
    execFileSync('touch', ['-m', '-d', `@${before.mtimeNs / 1_000_000_000n}.${String(ns).padStart(9, '0')}`, path])
    assert.equal(statSync(path, { bigint: true }).mtimeNs, before.mtimeNs)
    await age()
    const next = await collect(first.token)
    assert.notEqual(next.token, first.token)
    assert.equal(next.kept, undefined)
    assert.match(String(next.documents.find((d) => d.path === 'filesystem/etc/hosts')?.content), /LOCALHOST/)
  })

  it('a mode changed, a file added, a file removed: another token each time', async () => {
    const tokens = [(await collect()).token]
    chmodSync(join(root.dir, 'etc/motd'), 0o600)
    await age()
    tokens.push((await collect(tokens[0])).token)
    writeFileSync(join(root.dir, 'etc/new.conf'), 'x = 1\n')
    await age()
    tokens.push((await collect(tokens[1])).token)
    execFileSync('rm', [join(root.dir, 'etc/new.conf')])
    await age()
    tokens.push((await collect(tokens[2])).token)
    assert.equal(new Set(tokens).size, 4, tokens.join('\n'))
  })

  it('the configuration: an ignored path, or a root left out, is another token (the paths that stay did not move)', async () => {
    const first = await collect()
    const ignoring = await collect(first.token, { ignore: ['/etc/app/**'] })
    assert.notEqual(ignoring.token, first.token)
    assert.equal(ignoring.kept, undefined)
    const twoRoots = await collect(undefined, { include: ['/etc', '/usr/local'] })
    const oneRoot = await collect(twoRoots.token)
    assert.notEqual(oneRoot.token, twoRoots.token)
    assert.equal(oneRoot.kept, undefined)
  })

  it('the accounts: a user renamed in an ignored /etc/passwd names the owner anew, another token', async () => {
    const config = { ignore: ['/etc/passwd', '/etc/group'] }
    const first = await collect(undefined, config)
    const passwd = join(root.dir, 'etc/passwd')
    writeFileSync(passwd, readFileSync(passwd, 'utf8').replace(/^alice:/m, 'alicia:'))
    await age()
    const next = await collect(first.token, config)
    assert.notEqual(next.token, first.token)
    assert.equal(next.kept, undefined)
  })

  it('a new key for the secrets\' keyed hashes (the provider cache lost): another token', async () => {
    const first = await collect()
    assert.ok(first.documents.some((d) => d.path === 'system/files/manifest.json' && String(d.content).includes('"secretHash"')))
    await cache.remove?.('secret-hash-key')
    const next = await collect(first.token)
    assert.notEqual(next.token, first.token)
    assert.equal(next.kept, undefined)
  })

  it('describing nothing says what describing says: a token file held out, a symlink held out by its target', async () => {
    root.file('/etc/myapp/world.token', 'Xq7vR2mK9pL4sT8wZ3nB6yH1\n', { mode: 0o644 })
    root.link('/etc/app/key-link', '/etc/ssl/private/AKIAIOSFODNN7EXAMPLE')
    await age()
    const first = await collect()
    const codes = first.diagnostics.map((d) => `${d.code} ${d.path ?? ''}`)
    assert.ok(codes.includes('FILES_TOKEN_FILE /etc/myapp/world.token'), codes.join('\n'))
    assert.ok(first.diagnostics.some((d) => d.path === '/etc/app' && /symlink/.test(d.summary)), codes.join('\n'))
    const kept = await collect(first.token)
    assertUndescribed(kept)
    assert.deepEqual(kept.diagnostics, first.diagnostics)
  })

  it('what describing said on record for another token: every file described', async () => {
    const first = await collect()
    await cache.write('described-notes-v2', JSON.stringify({ token: 'files-3-another', notes: { tokenFiles: [], heldLinks: [], gitRefused: [] } }))
    const next = await collect(first.token)
    assert.deepEqual([next.token, next.documents, next.kept], [first.token, [], KEPT_PARTS])
    assert.deepEqual(next.state, first.state, 'described')
    // Describing put its own notes on record: the next collect describes nothing.
    assertUndescribed(await collect(first.token))
  })

  it('a folder whose listing the stat cache lost: every file described (and the listing kept again)', async () => {
    const first = await collect()
    await cache.remove?.('stat-cache')
    const next = await collect(first.token)
    assert.deepEqual(next.state, first.state, 'described')
    assert.deepEqual([next.token, next.kept], [first.token, KEPT_PARTS])
    assertUndescribed(await collect(first.token))
  })

  // Session 50 (attribute-cache.ts): the attributes' kept answer taken by the walk's digest (walkDigests) before any stamp is made.
  // Session 51: these two fail on 241fcb20 by attributeStampsMade's absence; each also fails when
  // what it claims is broken: the first when the kept answer is taken whatever walk it was read for
  // (the attribute set is not read: its xattrs missing) or never by the walk's digest (a stamp
  // made); the second when walkDigests gives a digest of all although a path is racy (one stamp).
  it('an unchanged walk: the attributes\' kept answer taken by the walk\'s digest, no stamp made; an attribute set on a file (its ctime moved) is read again', async () => {
    const { attributeStampsMade } = await import('../src/attribute-cache.js')
    const first = await collect()
    const before = attributeStampsMade()
    const same = await collect(first.token)
    assertUndescribed(same)
    assert.equal(attributeStampsMade() - before, 0, 'no stamp made')
    execFileSync('setfattr', ['-n', 'user.note', '-v', 'set', join(root.dir, 'etc/hosts')])
    await age()
    const next = (await collect(first.token)) as CollectResult<FilesState>
    // The attribute read (the kept answer not taken for a walk that moved), then the stamps' count.
    assert.deepEqual(next.state.entries.find((e) => e.path === '/etc/hosts')?.xattrs, { 'user.note': `0s${Buffer.from('set').toString('base64')}` })
    assert.notEqual(next.token, first.token)
    assert.equal(attributeStampsMade() - before, 1, 'the stamps made: the walk moved')
  })

  it('a racy path: the walk\'s digest is not recorded for the attributes, the stamps are made at every collect while it is racy', async () => {
    const { attributeStampsMade } = await import('../src/attribute-cache.js')
    const ahead = new Date(Date.now() + 60_000)
    utimesSync(join(root.dir, 'etc/hosts'), ahead, ahead)
    const before = attributeStampsMade()
    await collect()
    await collect()
    assert.equal(attributeStampsMade() - before, 2)
  })

  // Session 51: a collect without `since` chose the walked paths' form by their count (folders,
  // files and symlinks) and the token by the manifest's entries (SPLIT_FROM): a machine between the
  // two (masked units: walked links that are no entry) made both forms, and its attributes' kept
  // answer was in the form the token does not take, so the next snapshot made the stamps again.
  it("a machine at the split boundary whose walk has more paths than entries (units masked): the attributes take the token's form, the next snapshot makes no stamp", async () => {
    const { attributeStampsMade } = await import('../src/attribute-cache.js')
    const { setSplitFromForTests } = await import('../src/manifest.js')
    root.link('/etc/systemd/system/one.service', '/dev/null')
    root.link('/etc/systemd/system/two.service', '/dev/null')
    await age()
    const entries = ((await collect()) as CollectResult<FilesState>).state.entries.length
    try {
      // One entry short of split (the old code failed here), then split at exactly as many (a guard).
      for (const [from, split] of [[entries + 1, false], [entries, true]] as const) {
        setSplitFromForTests(from)
        cache = new MemoryCache()
        const first = await collect()
        assert.equal(isSplitToken(first.token as string), split, `split from ${from}, ${entries} entries`)
        assert.equal(first.documents.some((d) => d.path.startsWith(PARTS_DIR)), split, 'the manifest as the token says')
        const before = attributeStampsMade()
        const next = await collect(first.token)
        assert.deepEqual([next.token, next.kept], [first.token, KEPT_PARTS])
        assert.equal(attributeStampsMade() - before, 0, `the attributes' kept answer taken by the walk's digest (split from ${from})`)
      }
    } finally {
      setSplitFromForTests(undefined)
    }
  })

  it('a file changed a moment ago (racily clean): no token at all', async () => {
    writeFileSync(join(root.dir, 'etc/hosts'), '127.0.0.2 localhost\n')
    // Its times a minute ahead: still too recent to trust when the collect starts, however loaded the machine.
    const ahead = new Date(Date.now() + 60_000)
    utimesSync(join(root.dir, 'etc/hosts'), ahead, ahead)
    const racy = await collect()
    assert.equal(racy.token, undefined)
    assert.ok(racy.documents.length > 0)
  })
})

/**
 * A split manifest (SPLIT_FROM entries or more) is named part by part (documents-token.ts's
 * pieces, keptOf): handed its token back after one file changed, the provider makes only that
 * file's part's documents and claims the rest kept by name. What it keeps must be exactly what a
 * collect making every document would make there: each test compares the documents kept (as the
 * first collect made them, what HEAD holds) with a full collect's.
 */
describe('files provider: a split manifest\'s documents kept part by part', function () {
  // Each test builds a root of 4,200 files past SPLIT_FROM and collects it two to four times:
  // 2-15 s for the build alone at load 27 on CI's 2 cores (session 44), over the unit config's
  // 10 s a hook. The same budget as manifest-split.test.ts's root of that size.
  this.timeout(120_000)
  let root: TargetRoot
  const provider = new FilesProvider()
  let cache: ProviderCache
  const ctx = () => createTestContext(root.dir, { config: { include: ['/etc'] }, cache })
  const collect = (since?: string) => provider.collect({ ctx: ctx(), ...(since === undefined ? {} : { since }) })
  const age = () => new Promise((resolve) => setTimeout(resolve, 150))
  const text = (content: string | Uint8Array | undefined) => (content === undefined ? undefined : Buffer.from(content).toString('utf8'))
  const CHANGED = '/etc/many/d7/f3.conf'

  beforeEach(async () => {
    root = debianLikeRoot()
    // Each folder made once, each file written with the default mode: not root.file's mkdir and
    // chmod a file (build and removal 32,029 -> 19,751 system calls, strace -c).
    for (let d = 0; d < 140; d++) {
      const folder = root.path(`/etc/many/d${d}`)
      mkdirSync(folder, { recursive: true })
      for (let f = 0; f < 30; f++) writeFileSync(join(folder, `f${f}.conf`), `folder ${d} file ${f}\n`)
    }
    cache = new MemoryCache()
    await age()
  })
  afterEach(() => root.remove())

  /**
   * `next` (collected with the first's token) against a collect that makes every document: the
   * same token; its documents and kept paths together are the full collect's paths; each made
   * document is the full collect's, and each kept one is as the first collect made it and the
   * same as the full collect's. Returns the paths made.
   */
  async function checkKept(first: CollectResult<unknown>, next: CollectResult<unknown>): Promise<string[]> {
    const full = await collect()
    assert.equal(next.token, full.token)
    const fullDocs = new Map(full.documents.map((d) => [d.path, text(d.content)]))
    const firstDocs = new Map(first.documents.map((d) => [d.path, text(d.content)]))
    const made = next.documents.map((d) => d.path)
    // The mirrored files kept by part (CollectResult.keptParts): each part's count is the full collect's files there.
    const byPart = next.keptParts
    const claimed = new Set((byPart?.parts ?? []).map((p) => p.part))
    const keptByPart = byPart === undefined ? [] : [...fullDocs.keys()].filter((path) => path.startsWith(byPart.folder) && claimed.has(partOfTwinPath(byPart.folder, path)))
    for (const { part, files } of byPart?.parts ?? []) assert.equal(files, keptByPart.filter((path) => partOfTwinPath('filesystem/', path) === part).length, `part ${part}: its count`)
    const kept = [...(next.kept ?? []), ...keptByPart]
    assert.deepEqual([...made, ...kept].sort(), [...fullDocs.keys()].sort(), 'made and kept: every document, once')
    for (const d of next.documents) assert.equal(text(d.content), fullDocs.get(d.path), `${d.path} as a full collect makes it`)
    for (const path of kept) assert.equal(firstDocs.get(path), fullDocs.get(path), `${path} kept: HEAD's is what a full collect makes`)
    return made
  }

  it('nothing changed: handed back its token, no file is described and every part kept (the split form named by the token)', async () => {
    const first = await collect()
    const kept = await collect(first.token)
    assert.deepEqual([kept.token, kept.documents, kept.kept], [first.token, [], KEPT_PARTS])
    assertUndescribed(kept)
    assert.deepEqual(kept.diagnostics, first.diagnostics)
  })

  it('one file changed: its part\'s manifest document and mirrored files are made, every other document claimed kept (the manifest\'s parts by name, the mirrored files by part)', async () => {
    const first = await collect()
    assert.match(String(first.token), /^files-4s-/)
    assert.ok(first.documents.length > 4096)
    root.file(CHANGED, 'changed\n')
    await age()
    // The module instance the provider's collect loads (a dynamic import: this file's static imports may be another instance).
    const { documentsTokensMade } = await import('../src/documents-token.js')
    const before = documentsTokensMade()
    const next = await collect(first.token)
    // Speed: the token (a hash of every walked path) worked out once, not again for partlyKept.
    assert.equal(documentsTokensMade() - before, 1, 'the token worked out once')
    const made = await checkKept(first, next)
    const part = partOf(CHANGED)
    assert.ok(made.includes(partPath(part)) && made.includes(`filesystem${CHANGED}`), made.join(' '))
    assert.ok(!made.includes('system/files/manifest.json'), 'manifest.json (the leftovers) kept')
    for (const path of made) assert.ok(path === partPath(part) || partOf(path.slice('filesystem'.length)) === part, `${path} is of the changed part`)
    assert.ok(made.length < first.documents.length / 20, `${made.length} documents made of ${first.documents.length}`)
  })

  it('one file changed, handed its token back whole only (a plan): no part kept, every document made, the whole state described', async () => {
    const first = await collect()
    root.file(CHANGED, 'changed\n')
    await age()
    const next = (await provider.collect({ ctx: ctx(), since: first.token as string, wholeOnly: true })) as CollectResult<FilesState>
    const full = await collect()
    assert.deepEqual([next.kept, next.keptParts], [undefined, undefined], 'nothing claimed kept')
    assert.equal(next.token, full.token)
    assert.deepEqual(next.documents.map((d) => [d.path, text(d.content)]), full.documents.map((d) => [d.path, text(d.content)]))
    assert.equal(next.state.entries.find((e) => e.path === CHANGED)?.text, 'changed\n')
  })

  it('a file rewritten with the same size and mtime (only its ctime moved): its part made again, with the new text', async () => {
    const first = await collect()
    const path = root.path(CHANGED)
    const before = statSync(path, { bigint: true })
    writeFileSync(path, readFileSync(path, 'utf8').replace('folder', 'FOLDER'))
    const ns = before.mtimeNs % 1_000_000_000n
    execFileSync('touch', ['-m', '-d', `@${before.mtimeNs / 1_000_000_000n}.${String(ns).padStart(9, '0')}`, path])
    await age()
    const next = await collect(first.token)
    await checkKept(first, next)
    assert.match(String(text(next.documents.find((d) => d.path === `filesystem${CHANGED}`)?.content)), /FOLDER/)
  })

  // Session 49 (StatCache.carry takes a kept file's record by its numbers, its path not decoded):
  // what a kept part's piece of the token proves. These pass on the code before too (guards).
  it('a file\'s mode changed and set back (only its ctime moved, the same bytes): its part made again, the same documents', async () => {
    const first = await collect()
    const path = root.path(CHANGED)
    const mode = statSync(path).mode & 0o7777
    chmodSync(path, 0o600)
    chmodSync(path, mode)
    await age()
    const next = await collect(first.token)
    const made = await checkKept(first, next)
    assert.ok(made.includes(partPath(partOf(CHANGED))), 'the part of the file whose ctime moved is made again')
  })

  it('a file changed through another name of it (a hard link outside the walk, its size and mtime set back): its part made again, with the new text', async () => {
    // Two names of one file in a kept part too, carried as before (a file of more than one name never by its numbers alone).
    const twin = '/etc/many/d20/f4.conf'
    mkdirSync(root.path('/srv'), { recursive: true })
    linkSync(root.path(CHANGED), root.path('/srv/other-name'))
    linkSync(root.path(twin), root.path('/etc/many/d20/f4-too.conf'))
    await age()
    const first = await collect()
    const other = root.path('/srv/other-name')
    const before = statSync(other, { bigint: true })
    writeFileSync(other, readFileSync(other, 'utf8').replace('folder', 'FOLDER'))
    const ns = before.mtimeNs % 1_000_000_000n
    execFileSync('touch', ['-m', '-d', `@${before.mtimeNs / 1_000_000_000n}.${String(ns).padStart(9, '0')}`, other])
    assert.equal(statSync(root.path(CHANGED), { bigint: true }).mtimeNs, before.mtimeNs)
    await age()
    const next = await collect(first.token)
    const made = await checkKept(first, next)
    assert.ok(!made.includes(partPath(partOf(twin))), 'the part of the two names not changed is kept')
    assert.match(String(text(next.documents.find((d) => d.path === `filesystem${CHANGED}`)?.content)), /FOLDER/)
  })

  it('a file changed a moment ago (racily clean): its part is made and left unmatchable, the others kept; handed back, that part is made again', async () => {
    const first = await collect()
    root.file(CHANGED, 'racy\n')
    const ahead = new Date(Date.now() + 60_000)
    utimesSync(root.path(CHANGED), ahead, ahead)
    const racy = await collect(first.token)
    const made = await checkKept(first, racy)
    assert.ok(made.includes(partPath(partOf(CHANGED))))
    const again = await collect(racy.token)
    assert.ok(again.documents.some((d) => d.path === partPath(partOf(CHANGED))), 'a racy part is never kept')
  })

  it('a leftover, a file added and one removed in other folders: manifest.json and their parts made, the rest kept', async () => {
    const first = await collect()
    root.file('/etc/many/d1/f1.conf.dpkg-old', 'old\n')
    root.file('/etc/many/d150/new.conf', 'new\n')
    execFileSync('rm', [root.path('/etc/many/d99/f9.conf')])
    await age()
    const next = await collect(first.token)
    const made = await checkKept(first, next)
    assert.ok(made.includes('system/files/manifest.json'))
    assert.ok(!(next.keptParts?.parts ?? []).some((p) => p.part === partOf('/etc/many/d99/f9.conf')), "a removed file's part is not claimed")
  })

  // Session 31: only the moved parts are described (collect.ts, partlyKept).
  it('one file changed: only its part is described; the rest claimed kept by what the stat cache\'s records say, what describing said of it from the notes', async () => {
    root.file('/etc/myapp/world.token', 'Xq7vR2mK9pL4sT8wZ3nB6yH1\n', { mode: 0o644 })
    root.link('/etc/app/key-link', '/etc/ssl/private/AKIAIOSFODNN7EXAMPLE')
    for (const folder of ['/etc/myapp/x', '/etc/app/x']) assert.notEqual(partOf(folder), partOf(CHANGED), `${folder} is in another part than the changed file`)
    await age()
    const first = await collect()
    root.file(CHANGED, 'changed\n')
    await age()
    const next = await collect(String(first.token))
    assertUndescribed(next)
    const made = await checkKept(first, next)
    for (const path of made) assert.ok(path === partPath(partOf(CHANGED)) || partOf(path.slice('filesystem'.length)) === partOf(CHANGED), `${path} is of the changed part`)
    // Said as a full collect says it: the token file and the held link are in kept parts.
    const full = await collect()
    assert.deepEqual(next.diagnostics, full.diagnostics)
    assert.ok(next.diagnostics.some((d) => d.code === 'FILES_TOKEN_FILE' && d.path === '/etc/myapp/world.token'))
  })

  it('after a partly described collect the stat cache still knows every kept file: the next unchanged collect describes none', async () => {
    const first = await collect()
    root.file(CHANGED, 'changed\n')
    await age()
    const next = await collect(String(first.token))
    assertUndescribed(next)
    const again = await collect(String(next.token))
    assert.deepEqual([again.token, again.documents, again.kept], [next.token, [], KEPT_PARTS])
    assertUndescribed(again)
    // A collect that describes every file (plan, status) reads none: the kept parts' records were carried.
    const counted = ctx()
    let reads = 0
    const readFile = counted.host.readFile.bind(counted.host)
    counted.host.readFile = (path: string) => {
      reads++
      return readFile(path)
    }
    const described = await provider.collect({ ctx: counted })
    assert.equal(described.token, next.token)
    assert.equal(reads, 0, 'no file read again')
  })

  it('one file changed and one removed in another folder: both parts made, the removed file never claimed', async () => {
    const first = await collect()
    root.file(CHANGED, 'changed\n')
    execFileSync('rm', [root.path('/etc/many/d99/f9.conf')])
    await age()
    const next = await collect(String(first.token))
    await checkKept(first, next)
    assert.ok(!(next.keptParts?.parts ?? []).some((p) => p.part === partOf('/etc/many/d99/f9.conf')), "a removed file's part is not claimed")
  })

  it('a token of another form or format keeps nothing: keptOf compares split tokens piece by piece only', async () => {
    const first = String((await collect()).token)
    assert.equal(keptOf(undefined, first), undefined)
    assert.deepEqual(keptOf(first, first), { whole: true })
    assert.equal(keptOf(`files-1-${'0'.repeat(64)}`, first), undefined)
    assert.equal(keptOf(first.replace('files-4s-', 'files-3s-'), first), undefined)
    const pieces = first.split('.')
    assert.equal(keptOf(pieces.slice(0, -1).join('.'), first), undefined, 'a piece missing')
    const other = [pieces[0], ...pieces.slice(1).map(() => 'f'.repeat(32))].join('.')
    const some = keptOf(other, first)
    assert.ok(some !== undefined && !some.whole && some.head && some.parts.every((p) => !p))
  })
})
