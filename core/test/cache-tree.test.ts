import { strict as assert } from 'node:assert'
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdir, mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { missingObject, treeObject, treesOf, writeIndexFile, type TreeEntry } from '../src/twin/atomic-snapshot.js'
import { cacheTreeExtension, cacheTreeOf, foldersAbove, parseCacheTree, spliceIndex, treesFromCache, type CacheTreeNode } from '../src/twin/cache-tree.js'
import { readIndex } from '../src/twin/quick-status.js'
import { unitRig, type UnitRig } from './support/unit-container.js'

/** Paths in git's index order (by their UTF-8 bytes). */
const gitOrder = (paths: Iterable<string>): string[] => [...paths].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))

/** A temporary folder for a describe's tests (the function gives it), removed after them. */
function tempFolder(prefix: string): () => string {
  let dir = ''
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), prefix))
  })
  after(() => rm(dir, { recursive: true, force: true }))
  return () => dir
}

/** The entries git's index of `repo` holds, by path. */
function indexedEntries(repo: string): Map<string, TreeEntry> {
  const entries = new Map<string, TreeEntry>()
  for (const line of execFileSync('git', ['-C', repo, '-c', 'core.quotepath=false', 'ls-files', '-s', '-z'], { encoding: 'utf8' }).split('\0').filter(Boolean)) {
    const [meta, path] = line.split('\t') as [string, string]
    const [mode, sha] = meta.split(' ') as [string, string]
    entries.set(path, { mode, sha })
  }
  return entries
}

/** `repo`'s index read, its mtime set `seconds` from now first (its entries racy or not by it). */
async function indexWrittenIn(repo: string, seconds: number): Promise<NonNullable<ReturnType<typeof readIndex>>> {
  const when = new Date(Date.now() + seconds * 1000)
  await utimes(join(repo, '.git', 'index'), when, when)
  const read = readIndex(repo)
  assert.ok(read !== undefined)
  return read
}

/** The `TREE` extension of an index file's bytes, if any. */
function treeExtensionOf(bytes: Buffer): Buffer | undefined {
  const body = bytes.subarray(0, bytes.length - 20)
  let at = 12
  for (let i = 0, n = bytes.readUInt32BE(8); i < n; i++) {
    const end = bytes.indexOf(0, at + 62)
    at += (end - at + 8) & ~7
  }
  while (at < body.length) {
    const length = body.readUInt32BE(at + 4)
    if (body.toString('latin1', at, at + 4) === 'TREE') return body.subarray(at, at + 8 + length)
    at += 8 + length
  }
  return undefined
}

/** Random trees and random changes to them (as snapshot-objects.test.ts makes for treesAround). */
function* randomChanges(rounds: number): Generator<{ before: Map<string, TreeEntry>; after: Map<string, TreeEntry>; changed: string[]; round: number }> {
  let seed = 11
  const random = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31
    return Math.floor(seed / 65536) % n
  }
  const sha = (text: string) => createHash('sha1').update(text).digest('hex')
  const names = ['a', 'a.b', 'a-b', 'a0', 'b', 'ä', 'z', 'Z', 'conf.d', 'x', 'ab', 'a b']
  const pathOf = () => Array.from({ length: 1 + random(4) }, () => names[random(names.length)]).join('/')
  for (let round = 0; round < rounds; round++) {
    const before = new Map<string, TreeEntry>()
    for (let i = 0; i < 50; i++) {
      const path = pathOf()
      if ([...before.keys()].some((p) => p.startsWith(`${path}/`) || path.startsWith(`${p}/`))) continue
      before.set(path, { mode: random(4) === 0 ? '100755' : '100644', sha: sha(`${round}/${i}`) })
    }
    const after = new Map(before)
    for (let c = 0; c < 1 + random(5); c++) {
      const kind = random(4)
      const existing = [...after.keys()]
      if (kind === 0 && existing.length > 0) {
        const path = existing[random(existing.length)] as string
        after.set(path, { mode: random(2) === 0 ? '100755' : '100644', sha: sha(`edit ${round} ${c}`) })
      } else if (kind === 1 && existing.length > 0) {
        const path = existing[random(existing.length)] as string
        const folder = path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : path
        for (const p of existing) if (p === folder || p.startsWith(`${folder}/`)) after.delete(p)
      } else if (kind === 2 && existing.length > 0) {
        const path = existing[random(existing.length)] as string
        after.delete(path)
        after.set(`${path}/inner`, { mode: '100644', sha: sha(`inner ${round} ${c}`) })
      } else {
        const path = pathOf()
        if ([...after.keys()].some((p) => p === path || p.startsWith(`${path}/`) || path.startsWith(`${p}/`))) continue
        after.set(path, { mode: '100644', sha: sha(`new ${round} ${c}`) })
      }
    }
    const changed = gitOrder(new Set([...before.keys(), ...after.keys()])).filter((p) => before.get(p)?.sha !== after.get(p)?.sha || before.get(p)?.mode !== after.get(p)?.mode)
    if (after.size > 0 && before.size > 0) yield { before, after, changed, round }
  }
}

describe('cache tree: the new trees made only around what changed (cache-tree.ts)', () => {
  it("gives the root, the trees and the cache tree that making every tree gives, on random changes; the cache tree's bytes parse back", () => {
    for (const { before, after, changed, round } of randomChanges(400)) {
      const cache = cacheTreeOf(before, treesOf(before).folders) as CacheTreeNode
      assert.deepEqual(parseCacheTree(cacheTreeExtension(cache), [8, cacheTreeExtension(cache).length]), cache, `round ${round}: the bytes parse back`)
      // Read back with only the folders above the change expanded, the rest kept as bytes: the same bytes written.
      const touched = foldersAbove(changed)
      const extension = cacheTreeExtension(cache)
      const lazy = parseCacheTree(extension, [8, extension.length], (folder) => touched.has(folder)) as CacheTreeNode
      assert.ok(cacheTreeExtension(lazy).equals(extension), `round ${round}: the lazy cache tree writes the same bytes`)
      const made = treesFromCache({ paths: gitOrder(before.keys()), entries: before, cache: round % 2 === 0 ? lazy : cache }, after, changed, treeObject)
      assert.ok(made !== undefined, `round ${round}`)
      const whole = treesOf(after)
      assert.equal(made.root, whole.root, `round ${round}: the same root tree`)
      for (const [id, bytes] of made.trees) assert.deepEqual(whole.trees.get(id), bytes, `round ${round}: a tree treesOf makes too`)
      const expected = cacheTreeOf(after, whole.folders) as CacheTreeNode
      assert.ok(cacheTreeExtension(made.cache).equals(cacheTreeExtension(expected)), `round ${round}: the same cache tree, in the same order`)
      // What the new trees name from HEAD: blobs and trees of the new tree, none of them changed.
      const ids = new Set([...after.values()].map((e) => e.sha).concat([...whole.trees.keys()]))
      for (const id of made.named) assert.ok(ids.has(id), `round ${round}: ${id} is in the new tree`)
    }
  })

  it('is not trusted when its counts do not add up, a folder is marked invalid, or it misses a folder', () => {
    const before = new Map<string, TreeEntry>([
      ['a/b/c', { mode: '100644', sha: '1'.repeat(40) }],
      ['a/d', { mode: '100644', sha: '2'.repeat(40) }],
      ['e', { mode: '100644', sha: '3'.repeat(40) }],
    ])
    const after = new Map(before).set('a/d', { mode: '100644', sha: '4'.repeat(40) })
    const good = () => cacheTreeOf(before, treesOf(before).folders) as CacheTreeNode
    const head = (cache: CacheTreeNode) => ({ paths: gitOrder(before.keys()), entries: before, cache })
    assert.ok(treesFromCache(head(good()), after, ['a/d'], treeObject) !== undefined)
    const invalid = good()
    ;(invalid.subs?.get('a')?.subs?.get('b') as CacheTreeNode).count = -1
    assert.equal(treesFromCache(head(invalid), after, ['a/d'], treeObject), undefined, 'an invalid folder beside the change')
    const miscounted = good()
    ;(miscounted.subs?.get('a') as CacheTreeNode).count = 3
    assert.equal(treesFromCache(head(miscounted), after, ['a/d'], treeObject), undefined, 'a span past its folder')
    const missing = good()
    missing.subs?.get('a')?.subs?.delete('b')
    assert.equal(treesFromCache(head(missing), after, ['a/d'], treeObject), undefined, 'a folder the cache tree lacks')
    const extension = cacheTreeExtension(good())
    const lazy = parseCacheTree(extension, [8, extension.length], (folder) => folder === '') as CacheTreeNode
    assert.equal(lazy.subs?.get('a')?.subs, undefined, "a folder kept as bytes")
    assert.equal(treesFromCache(head(lazy), after, ['a/d'], treeObject), undefined, 'a folder of the change kept as bytes is not listed')
    const short = good()
    short.count = 2
    assert.equal(treesFromCache(head(short), after, ['a/d'], treeObject), undefined, 'a root that does not cover every entry')
  })

  it("reads a node's counts as the pattern `-?\\d{1,10} \\d{1,10}` up to the line's end would, byte by byte (session 47)", () => {
    const id = 'ab'.repeat(20)
    // A root node of these counts, then the id a valid node carries; parsed where the pattern matches the whole line, else refused.
    const plain = (counts: string): { count: number; subs: number } | undefined => {
      const match = /^(-?\d{1,10}) (\d{1,10})$/.exec(counts)
      return match === null || match[2] !== '0' ? undefined : { count: Number(match[1]), subs: 0 }
    }
    for (const counts of ['0 0', '-1 0', '12 0', '4294967295 0', '9999999999 0', '07 0', '-0 0', '1 1', '12345678901 0', '1 ', ' 1 0', '1  0', '1 0 ', '-', '- 0', '--1 0', '1x 0', '1 0x', '', '1 -0', '+1 0', '1\t0', '1 00000000000']) {
      const expected = plain(counts)
      const extension = Buffer.concat([Buffer.from(`\0${counts}\n`, 'latin1'), ...(expected !== undefined && expected.count < 0 ? [] : [Buffer.from(id, 'hex')])])
      const node = parseCacheTree(extension, [0, extension.length])
      if (expected === undefined) assert.equal(node, undefined, JSON.stringify(counts))
      else {
        assert.equal(node?.count, expected.count, JSON.stringify(counts))
        assert.equal(node?.sha, expected.count >= 0 ? id : undefined, JSON.stringify(counts))
      }
    }
    // The line cut short by the extension's end (its newline, or its digits, beyond it): refused.
    const whole = Buffer.concat([Buffer.from('\0' + '12 0\n', 'latin1'), Buffer.from(id, 'hex')])
    for (const end of [2, 3, 5, 6]) assert.equal(parseCacheTree(whole, [0, end]), undefined, `cut at ${end}`)
  })
})

/** Object ids the store holds, and ids one byte away from them: missingObject against git's own answer. */
describe('cache tree: the objects the new trees name, looked up in the packs (missingObject)', function () {
  this.timeout(60_000)
  const folder = tempFolder('twinsync-missing-')

  it("gives git's answer (the first id the store lacks) over two packs and loose objects, ids beside stored ones included (session 47)", async () => {
    const dir = folder()
    const repo = join(dir, 'repo')
    execFileSync('git', ['init', '-q', repo])
    const blobId = (text: string) => createHash('sha1').update(`blob ${Buffer.byteLength(text)}\0${text}`).digest('hex')
    // Contents whose ids begin with 00 and ff (the fan-out table's first and last rows) among others.
    const texts = Array.from({ length: 3000 }, (_, i) => `${i}\n`)
    const edges = texts.filter((t) => /^(00|ff)/.test(blobId(t))).slice(0, 8)
    const sets = [[...texts.slice(0, 40), ...edges.slice(0, 4)], [...texts.slice(40, 80), ...edges.slice(4)], texts.slice(80, 100)]
    for (const [n, set] of sets.entries()) {
      const files = await Promise.all(set.map(async (text, i) => {
        const file = join(dir, `blob-${n}-${i}`)
        await writeFile(file, text)
        return file
      }))
      const ids = execFileSync('git', ['-C', repo, 'hash-object', '-w', ...files], { encoding: 'utf8' })
      // The first two sets packed (two packs), the third left loose.
      if (n < 2) {
        execFileSync('git', ['-C', repo, 'pack-objects', '-q', join(repo, '.git', 'objects', 'pack', 'pack')], { input: ids })
        execFileSync('git', ['-C', repo, 'prune-packed'])
      }
    }
    assert.equal(execFileSync('git', ['-C', repo, 'count-objects', '-v'], { encoding: 'utf8' }).match(/^packs: (\d+)/m)?.[1], '2')
    const stored = sets.flat().map(blobId)
    // Beside a stored id: its last hex digit, a digit in its second word, its first four bytes kept and the rest changed, a digit in its first byte.
    const flip = (sha: string, at: number) => `${sha.slice(0, at)}${sha[at] === '0' ? '1' : '0'}${sha.slice(at + 1)}`
    const beside = stored.flatMap((sha) => [flip(sha, 39), flip(sha, 9), `${sha.slice(0, 8)}${'0'.repeat(32)}`, flip(sha, 1)])
    const candidates = [...stored, ...beside, '0'.repeat(40), 'f'.repeat(40)]
    const gits = new Set(execFileSync('git', ['-C', repo, 'cat-file', '--batch-check'], { input: candidates.join('\n') + '\n', encoding: 'utf8' }).split('\n').filter((l) => l.endsWith(' missing')).map((l) => l.slice(0, 40)))
    assert.ok(gits.size > beside.length / 2 && stored.every((sha) => !gits.has(sha)), 'git holds the stored ids and lacks most of the others')
    let seed = 5
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31
      return Math.floor(seed / 65536) % n
    }
    for (let round = 0; round < 300; round++) {
      const asked = Array.from({ length: 1 + random(30) }, () => (random(3) === 0 ? (candidates[random(candidates.length)] as string) : (stored[random(stored.length)] as string)))
      assert.equal(missingObject(repo, asked), asked.find((sha) => gits.has(sha)), `round ${round}`)
    }
    assert.equal(missingObject(repo, stored), undefined, 'every stored id found')
    for (const sha of beside.filter((s) => gits.has(s))) assert.equal(missingObject(repo, [...stored.slice(0, 5), sha]), sha, sha)
    assert.equal(missingObject(repo, []), undefined)
    assert.equal(missingObject(repo, [...stored.slice(0, 3), 'A'.repeat(40)]), null, 'an id not in lower-case hex: cannot tell')
    assert.equal(missingObject(repo, [stored[0] as string, 'a'.repeat(39)]), null, 'an id of 39 digits: cannot tell')
  })
})

describe('cache tree: the index spliced (spliceIndex)', function () {
  this.timeout(60_000)
  const folder = tempFolder('twinsync-splice-')

  it('is byte for byte the index writeIndexFile makes of the new entries, stat data kept or smudged alike', async () => {
    const dir = folder()
    // A real index with stat data (git's own), its files just written: racy or not by the index's time.
    const repo = join(dir, 'repo')
    execFileSync('git', ['init', '-q', repo])
    for (const path of ['a/b/one', 'a/two', 'a/ä', 'c/d/e/three', 'four', 'a b/five']) {
      await mkdir(join(repo, path, '..'), { recursive: true })
      await writeFile(join(repo, path), `${path}\n`)
    }
    execFileSync('git', ['-C', repo, 'add', '-A'])
    const before = indexedEntries(repo)
    const changes: Array<{ path: string; entry: TreeEntry | undefined }> = [
      { path: 'a/b/new', entry: { mode: '100644', sha: 'a'.repeat(40) } },
      { path: 'a/two', entry: { mode: '100755', sha: 'b'.repeat(40) } },
      { path: 'c/d/e/three', entry: undefined },
      { path: 'zz/top', entry: { mode: '100644', sha: 'c'.repeat(40) } },
    ]
    const after = new Map(before)
    for (const { path, entry } of changes) entry === undefined ? after.delete(path) : after.set(path, entry)
    const cache = cacheTreeOf(after, treesOf(after).folders) as CacheTreeNode
    for (const [label, seconds] of [['racy', 1], ['trusted', 100]] as const) {
      const read = await indexWrittenIn(repo, seconds)
      const spliced = spliceIndex(read, gitOrder(changes.map((c) => c.path)).map((path) => changes.find((c) => c.path === path) as (typeof changes)[number]), cache)
      assert.ok(spliced !== undefined)
      const whole = join(dir, `whole-${label}`)
      const key = writeIndexFile(whole, after, read, 'w', cache)
      assert.ok(spliced.bytes.equals(await readFile(whole)), `${label}: the same bytes`)
      assert.equal(spliced.key, key, `${label}: the same key`)
      const kept = spliced.bytes.readUInt32BE(12 + 8) !== 0 // the first entry's mtime
      assert.equal(kept, label === 'trusted', `${label}: stat data ${label === 'trusted' ? 'kept' : 'smudged'}`)
    }
  })

  it('rewrites entries in place (no path added or removed) as the general way writes them: the same bytes, key and parse (session 47)', async () => {
    const dir = folder()
    const repo = join(dir, 'in-place')
    execFileSync('git', ['init', '-q', repo])
    const all = ['a/b/one', 'a/two', 'a/ä/drei', 'a b/five', 'c/d/e/three', 'four', 'zz/last']
    for (const path of all) {
      await mkdir(join(repo, path, '..'), { recursive: true })
      await writeFile(join(repo, path), `${path}\n`)
    }
    execFileSync('git', ['-C', repo, 'add', '-A'])
    const before = indexedEntries(repo)
    // The first entry, the last, one with a name of more bytes than characters, a mode changed; then every one.
    const rewrites: Array<Array<[string, TreeEntry]>> = [
      [['a b/five', { mode: '100644', sha: 'd'.repeat(40) }]],
      [['zz/last', { mode: '100755', sha: 'e'.repeat(40) }]],
      [['a/ä/drei', { mode: '100644', sha: 'f'.repeat(40) }], ['four', { mode: '100755', sha: '0'.repeat(40) }]],
      all.map((path, i) => [path, { mode: i % 2 === 0 ? '100755' : '100644', sha: String(i).repeat(40) }]),
    ]
    for (const [round, rewrite] of rewrites.entries()) {
      const after = new Map(before)
      for (const [path, entry] of rewrite) after.set(path, entry)
      const changes = gitOrder(rewrite.map(([path]) => path)).map((path) => ({ path, entry: after.get(path) }))
      const cache = cacheTreeOf(after, treesOf(after).folders) as CacheTreeNode
      for (const [label, seconds] of [['racy', 1], ['trusted', 100]] as const) {
        const read = await indexWrittenIn(repo, seconds)
        const spliced = spliceIndex(read, changes, cache)
        assert.ok(spliced !== undefined)
        assert.equal(spliced.parse.paths, read.paths, `round ${round}: in place (the paths read, not made again)`)
        const whole = join(dir, `in-place-${round}-${label}`)
        const key = writeIndexFile(whole, after, read, 'w', cache)
        assert.ok(spliced.bytes.equals(await readFile(whole)), `round ${round}, ${label}: the same bytes as writeIndexFile`)
        assert.equal(spliced.key, key, `round ${round}, ${label}: the same key`)
        // The parse: what quick-status reads from those bytes.
        const other = join(dir, `in-place-repo-${round}-${label}`)
        execFileSync('git', ['init', '-q', other])
        await writeFile(join(other, '.git', 'index'), spliced.bytes)
        const parsed = readIndex(other)
        assert.ok(parsed !== undefined)
        assert.deepEqual({ ...spliced.parse, statAt: [...spliced.parse.statAt], keyAt: [...spliced.parse.keyAt] }, { paths: parsed.paths, statAt: [...parsed.statAt], entriesEnd: parsed.entriesEnd, treeExtension: parsed.treeExtension, keyText: parsed.keyText, keyAt: [...parsed.keyAt], key: parsed.key }, `round ${round}, ${label}: the parse`)
      }
    }
  })
})

/** Through a snapshot's draft on a real twin: git reads the index and its cache tree as its own. */
describe('cache tree: snapshots from a clean twin', function () {
  this.timeout(120_000)
  let rig: UnitRig
  after(() => rig?.cleanup())

  it("makes git's tree and git's own cache tree (as `read-tree` primes it), and only around the change; an index git invalidated in part takes the whole way", async () => {
    rig = await unitRig([])
    await rig.twin().init({ formatVersion: 1, machineId: null, hostname: 'unit' })
    const gitsCacheTree = () => {
      const theirs = join(rig.dir, 'theirs.index')
      execFileSync('git', ['-C', rig.twinDir, 'read-tree', 'HEAD'], { env: { ...process.env, GIT_INDEX_FILE: theirs } })
      return readFile(theirs).then((b) => treeExtensionOf(b))
    }
    const commit = async (docs: Array<{ path: string; content: string }>, removed: string[] = []) => {
      const draft = await rig.twin().draft({ edited: false })
      for (const doc of docs) draft.write(doc)
      for (const path of removed) draft.remove(path)
      const { tree } = await draft.build({ edited: false })
      const spliced = (draft as unknown as { inNode?: { splice?: unknown } }).inNode?.splice !== undefined
      await draft.commit(tree, 'change')
      assert.equal(rig.git('rev-parse', 'HEAD^{tree}'), tree)
      assert.equal(rig.git('write-tree'), tree, "git's write-tree from the index (its cache tree) gives the same tree")
      assert.equal(rig.git('status', '--porcelain'), '')
      const ours = treeExtensionOf(await readFile(join(rig.twinDir, '.git', 'index')))
      assert.ok(ours !== undefined && ours.equals((await gitsCacheTree()) as Buffer), "the cache tree is git's, byte for byte")
      return spliced
    }
    const many = Array.from({ length: 30 }, (_, i) => ({ path: `system/many/${i % 3}/${String(i).padStart(3, '0')}.json`, content: `${i}\n` }))
    // The init commit's index carries the cache tree: the first change is already made around it.
    assert.equal(await commit(many), true)
    assert.equal(await commit([{ path: 'system/many/1/004.json', content: 'four\n' }]), true)
    assert.equal(await commit([{ path: 'system/many/0/new/deep.json', content: 'deep\n' }], ['system/many/2/002.json']), true)
    assert.equal(await commit([{ path: 'system/many/2', content: 'a file where a folder was\n' }]), true)
    // git stages another blob and then HEAD's again: the index is HEAD's, the folders above the file marked invalid.
    const file = join(rig.twinDir, 'system/many/1/007.json')
    await writeFile(file, 'seven\n')
    rig.git('add', 'system/many/1/007.json')
    await writeFile(file, '7\n')
    rig.git('add', 'system/many/1/007.json')
    assert.equal(rig.git('status', '--porcelain'), '')
    assert.match(treeExtensionOf(await readFile(join(rig.twinDir, '.git', 'index')))?.toString('latin1') ?? '', /\0-1 /, 'git marked a folder invalid')
    assert.equal(await commit([{ path: 'system/many/1/010.json', content: 'ten\n' }]), false, 'the whole way, beside an invalid folder')
    assert.equal(await commit([{ path: 'system/many/1/011.json', content: 'eleven\n' }]), true, 'and around the change again after it')
    assert.equal(rig.git('fsck', '--strict', '--no-progress', '--no-dangling'), '')
  })
})
