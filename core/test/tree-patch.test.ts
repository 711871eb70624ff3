import { strict as assert } from 'node:assert'
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { deflateSync } from 'node:zlib'
import { isTwinSyncError } from '@twinsync/sdk'
import type { DraftDocument, TreeEntry } from '../src/twin/atomic-snapshot.js'
import { readIndex } from '../src/twin/quick-status.js'
import { ObjectStore, treesPatched } from '../src/twin/tree-patch.js'
import { unitRig, type UnitRig } from './support/unit-container.js'

/** The `TREE` extension of an index file's bytes, if any. */
function treeExtensionOf(bytes: Buffer): Buffer | undefined {
  const body = bytes.subarray(0, bytes.length - 20)
  let at = 12
  for (let i = 0, n = bytes.readUInt32BE(8); i < n; i++) at += (bytes.indexOf(0, at + 62) - at + 8) & ~7
  for (; at < body.length; at += 8 + body.readUInt32BE(at + 4)) if (body.toString('latin1', at, at + 4) === 'TREE') return body.subarray(at, at + 8 + body.readUInt32BE(at + 4))
  return undefined
}

describe("tree patch: HEAD's trees read from the store and patched around a change (tree-patch.ts)", function () {
  this.timeout(300_000)
  let rig: UnitRig
  before(async () => {
    rig = await unitRig([])
    await rig.twin().init({ formatVersion: 1, machineId: null, hostname: 'unit' })
  })
  after(() => rig?.cleanup())

  /** A draft with these changes built and committed; whether its trees were HEAD's patched (the new cache tree made as bytes), after checking them against git's. */
  const commit = async (docs: DraftDocument[], removed: string[] = []): Promise<boolean> => {
    const draft = await rig.twin().draft({ edited: false })
    for (const doc of docs) draft.write(doc)
    for (const path of removed) draft.remove(path)
    const { tree } = await draft.build({ edited: false })
    const patched = Buffer.isBuffer((draft as unknown as { inNode?: { cache?: unknown } }).inNode?.cache)
    await draft.commit(tree, 'change')
    // Read before git reads the index: git sorts a cache tree it reads, and may write the index again (status).
    const ours = treeExtensionOf(await readFile(join(rig.twinDir, '.git', 'index')))
    assert.equal(rig.git('rev-parse', 'HEAD^{tree}'), tree)
    assert.equal(rig.git('write-tree'), tree, "git's write-tree from the index (its cache tree) gives the same tree")
    assert.equal(rig.git('status', '--porcelain'), '')
    const theirs = join(rig.dir, 'theirs.index')
    execFileSync('git', ['-C', rig.twinDir, 'read-tree', 'HEAD'], { env: { ...process.env, GIT_INDEX_FILE: theirs } })
    assert.ok(ours !== undefined && ours.equals(treeExtensionOf(await readFile(theirs)) as Buffer), "the cache tree is git's, byte for byte")
    return patched
  }
  const wide = Array.from({ length: 300 }, (_, i) => ({ path: `system/wide/${String(i).padStart(3, '0')}/deep/file.json`, content: `${i}\n` }))
  const names = ['a', 'a.b', 'a-b', 'a0', 'ab', 'a b', 'b', 'ä'].map((name) => ({ path: `system/names/${name}`, content: `${name}\n` }))

  /** The cases, each a commit made around its change; `round` makes each round's changes its own. */
  const cases = async (round: number): Promise<void> => {
    assert.equal(await commit([{ path: 'system/wide/123/deep/file.json', content: `deep ${round}\n` }]), true, 'a change deep in a wide folder')
    const added = `system/wide/1234/deep/new-${round}.json`
    assert.equal(await commit([{ path: added, content: 'new folder\n' }, { path: 'system/wide/0000/x', content: `another ${round}\n` }]), true, 'new folders (one sorting first)')
    assert.equal(await commit([], [added]), true, 'a removed last entry (its folders go)')
    assert.equal(await commit([{ path: 'system/wide/005/deep/file.json', content: '5\n', executable: round % 2 === 0 }]), true, 'a mode change')
    assert.equal(await commit([{ path: 'system/names/a/inner', content: `a folder where a file was ${round}\n` }]), true, 'a file turned folder, between `a.b` and `a0`')
    assert.equal(await commit([{ path: 'system/names/a', content: `a file again ${round}\n` }]), true, 'a folder turned file')
    assert.equal(await commit([{ path: 'system/names/a.b/c', content: `a.b a folder ${round}\n` }, { path: 'system/names/a-b', content: `changed ${round}\n` }]), true, '`a.b/` beside `a` and `a-b`')
    assert.equal(await commit([{ path: 'system/wide/ä/x', content: `two bytes a letter ${round}\n` }, { path: 'system/wide/2/x', content: `short ${round}\n` }]), true, 'new folders sorting apart in the cache tree (shorter first) and in the tree')
    const apart = ['system/wide/b/x', 'system/wide/az/x']
    assert.equal(await commit(apart.map((path) => ({ path, content: `${round}\n` }))), true, 'two new folders in one place of the cache tree, in its order (`b` before `az`), not the tree\'s')
    assert.equal(await commit([], apart), true, 'both removed')
  }

  it("gives git's write-tree and git's cache tree, with every object loose", async () => {
    assert.equal(await commit([...wide, ...names]), true)
    await cases(0)
  })

  it('reads trees from packs, as deltas against others in the pack (by offset and by id)', async () => {
    for (const byId of [false, true]) {
      // HEAD's wide folder one entry smaller than before: git stores it as a delta of the larger.
      await commit([{ path: 'system/wide/zzz', content: 'soon gone\n' }])
      await commit([{ path: 'system/names/b', content: `b ${byId}\n` }], ['system/wide/zzz'])
      execFileSync('git', ['-C', rig.twinDir, '-c', `repack.useDeltaBaseOffset=${!byId}`, 'repack', '-a', '-d', '-f', '-q', '--depth=50'])
      const wideTree = rig.git('rev-parse', 'HEAD:system/wide')
      const [pack] = (await readdir(join(rig.twinDir, '.git', 'objects', 'pack'))).filter((n) => n.endsWith('.idx'))
      const listed = rig.git('verify-pack', '-v', join(rig.twinDir, '.git', 'objects', 'pack', pack as string))
      assert.match(listed, new RegExp(`^${wideTree} tree +\\d+ \\d+ \\d+ \\d+ [0-9a-f]{40}$`, 'm'), "HEAD's tree of the wide folder is a delta in the pack")
      await cases(byId ? 2 : 1)
    }
  })

  it('refuses a store that lost an object the new tree takes from HEAD (a folder beside the change), and never takes a tree whose bytes are not its id', async () => {
    // Every object loose again, so one can be lost or changed alone.
    const packs = join(rig.twinDir, '.git', 'objects', 'pack')
    for (const name of (await readdir(packs)).filter((n) => n.endsWith('.pack'))) {
      const pack = await readFile(join(packs, name))
      for (const end of ['.pack', '.idx']) await rm(join(packs, name.replace(/\.pack$/, end)), { force: true })
      execFileSync('git', ['-C', rig.twinDir, 'unpack-objects', '-q'], { input: pack })
    }
    const head = rig.git('rev-parse', 'HEAD')
    const objectFile = (sha: string) => join(rig.twinDir, '.git', 'objects', sha.slice(0, 2), sha.slice(2))
    for (const [lost, change] of [
      ['system/wide/077', 'system/wide/200/deep/file.json'],
      ['system/names/ab', 'system/names/b'],
    ] as const) {
      const object = objectFile(rig.git('rev-parse', `HEAD:${lost}`))
      const bytes = await readFile(object)
      await rm(object)
      const draft = await rig.twin().draft({ edited: false })
      draft.write({ path: change, content: 'beside a lost one\n' })
      await assert.rejects(draft.build({ edited: false }), (error: unknown) => isTwinSyncError(error) && error.code === 'REPO_DAMAGED', lost)
      await draft.discard()
      assert.equal(rig.git('rev-parse', 'HEAD'), head)
      await writeFile(object, bytes)
    }
    // HEAD's tree of the wide folder stored with two of its folders' ids swapped (as many
    // entries, every id stored, not its id's bytes): git's tree is made all the same, the other way.
    const wideTree = rig.git('rev-parse', 'HEAD:system/wide')
    const real = await readFile(objectFile(wideTree))
    const forged = execFileSync('git', ['-C', rig.twinDir, 'cat-file', 'tree', wideTree])
    const first = forged.indexOf(0) + 1
    const second = forged.indexOf(0, first + 20) + 1
    const firstId = Buffer.from(forged.subarray(first, first + 20))
    forged.copy(forged, first, second, second + 20)
    firstId.copy(forged, second)
    await rm(objectFile(wideTree))
    await writeFile(objectFile(wideTree), deflateSync(Buffer.concat([Buffer.from(`tree ${forged.length}\0`), forged])))
    try {
      assert.equal(await commit([{ path: 'system/wide/150/deep/file.json', content: 'beside a forged tree\n' }]), false, "cache-tree.ts's way")
    } finally {
      await rm(objectFile(wideTree), { force: true })
      await writeFile(objectFile(wideTree), real)
    }
    assert.equal(rig.git('fsck', '--strict', '--no-progress', '--no-dangling'), '')
  })
})

describe("tree patch: HEAD's tree must agree with the index around the change (treesPatched)", () => {
  let repo = ''
  after(() => rm(repo, { recursive: true, force: true }))

  it("patches HEAD's trees to git's tree; null (the index's way) when the cache tree's counts, a touched folder's id or a changed entry's old id disagree with them", async () => {
    repo = await mkdtemp(join(tmpdir(), 'twinsync-tree-patch-'))
    const git = (...args: string[]) => execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8' }).trim()
    git('init', '-q')
    for (let i = 0; i < 12; i++) {
      await mkdir(join(repo, 'w', String(i).padStart(3, '0')), { recursive: true })
      await writeFile(join(repo, 'w', String(i).padStart(3, '0'), 'f'), `${i}\n`)
    }
    await writeFile(join(repo, 'w', 'x'), 'x\n')
    git('add', '.')
    git('-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-m', 'one')
    git('write-tree')
    const read = readIndex(repo)
    assert.ok(read?.treeExtension !== undefined)
    const entries = new Map<string, TreeEntry>([...read.entries].map(([path, e]) => [path, { mode: e.mode, sha: e.sha }]))
    const changed = 'w/003/f'
    const now = new Map(entries).set(changed, { mode: '100644', sha: git('hash-object', '-w', '--stdin', '--path', 'x') })
    const patch = (bytes: Buffer, head: ReadonlyMap<string, TreeEntry> = entries) => treesPatched(repo, { bytes, treeExtension: read.treeExtension as [number, number], entries: head }, now, [changed], new Set())
    const made = patch(read.bytes)
    assert.ok(made !== null && 'root' in made)
    const theirs = join(repo, 'theirs.index')
    execFileSync('git', ['-C', repo, 'read-tree', 'HEAD'], { env: { ...process.env, GIT_INDEX_FILE: theirs } })
    execFileSync('git', ['-C', repo, 'update-index', '--index-info'], { input: `100644 ${now.get(changed)?.sha}\t${changed}\n`, env: { ...process.env, GIT_INDEX_FILE: theirs } })
    assert.equal(made.root, execFileSync('git', ['-C', repo, 'write-tree'], { env: { ...process.env, GIT_INDEX_FILE: theirs }, encoding: 'utf8' }).trim())
    /** The index's bytes with its cache tree's line `from` (a folder's name, NUL, counts) read as `to`. */
    const withLine = (from: string, to: string): Buffer => {
      const at = read.bytes.indexOf(Buffer.from(from, 'latin1'), read.treeExtension?.[0])
      assert.ok(at > 0 && from.length === to.length, from)
      const bytes = Buffer.from(read.bytes)
      bytes.write(to, at, 'latin1')
      return bytes
    }
    assert.equal(patch(withLine('\x0013 1\n', '\x0012 1\n')), null, 'the root covers other than every entry')
    assert.equal(patch(withLine('005\x001 0\n', '005\x002 0\n')), null, "a folder beside the change covers more than HEAD's tree leaves it")
    const idOf = (folder: string) => read.bytes.indexOf(Buffer.from(`${folder}\x001 0\n`, 'latin1'), read.treeExtension?.[0]) + folder.length + 5
    const otherId = Buffer.from(read.bytes)
    read.bytes.copy(otherId, idOf('003'), idOf('004'), idOf('004') + 20)
    assert.equal(patch(otherId), null, "a touched folder's id names another stored tree")
    assert.equal(patch(read.bytes, new Map(entries).set(changed, { mode: '100755', sha: (entries.get(changed) as TreeEntry).sha })), null, "the changed file's mode in HEAD's tree is not the index's")
  })
})

describe("tree patch: git's trees and cache tree on many shapes (treesPatched)", () => {
  let repo = ''
  after(() => rm(repo, { recursive: true, force: true }))

  // Session 49 (treepatch2): HEAD's entries passed once (modes told from their bytes, each id looked
  // up as it is passed), the cache tree's folders passed over without an object a line, the pack
  // that held the last id asked first. Random trees and changes (a fixed seed), loose and packed,
  // each patch against git's own write-tree and cache tree of the same changes.
  it("gives git's tree and git's cache tree, byte for byte, for random trees and changes", async () => {
    repo = await mkdtemp(join(tmpdir(), 'twinsync-tree-shapes-'))
    const git = (args: string[], input?: string, index?: string) =>
      execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8', ...(input === undefined ? {} : { input }), env: { ...process.env, ...(index === undefined ? {} : { GIT_INDEX_FILE: index }) } }).trim()
    git(['init', '-q'])
    let seed = 49
    const random = (n: number): number => {
      seed = (seed + 0x6d2b79f5) | 0
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
      return (((t ^ (t >>> 14)) >>> 0) % n) as number
    }
    // Names whose order differs between a tree (a folder sorts as if its name ended in `/`) and a cache tree (shorter first).
    const names = ['a', 'a.b', 'a-b', 'a0', 'ab', 'a b', 'b', 'az', 'ä', '2', 'x', 'xx', 'x.y']
    const ids: string[] = []
    for (let i = 0; i < 8; i++) ids.push(git(['hash-object', '-w', '--stdin'], `blob ${i}\n`))
    const modes = ['100644', '100644', '100644', '100755', '120000']
    const state = new Map<string, TreeEntry>()
    const pathOf = (): string => Array.from({ length: 1 + random(3) }, () => names[random(names.length)] as string).join('/')
    /** `path` put in as a file, whatever was at it or above or below it taken out (as a twin's paths are). */
    const put = (path: string, entry: TreeEntry, changed: Set<string>): void => {
      for (const other of [...state.keys()]) {
        if (other.startsWith(`${path}/`) || path.startsWith(`${other}/`)) {
          state.delete(other)
          changed.add(other)
        }
      }
      state.set(path, entry)
      changed.add(path)
    }
    const first = new Set<string>()
    put('keep', { mode: '100644', sha: ids[0] as string }, first)
    for (let i = 0; i < 60; i++) put(pathOf(), { mode: modes[random(modes.length)] as string, sha: ids[random(ids.length)] as string }, first)
    const indexInfo = (paths: Iterable<string>): string =>
      [...paths].map((path) => { const e = state.get(path); return e === undefined ? `0 ${'0'.repeat(40)}\t${path}\n` : `${e.mode} ${e.sha}\t${path}\n` }).join('')
    git(['update-index', '--add', '--index-info'], indexInfo(first))
    git(['write-tree'])
    let patched = 0
    for (let round = 0; round < 40; round++) {
      if (round === 20) git(['repack', '-a', '-d', '-f', '-q', '--depth=50'])
      const read = readIndex(repo)
      assert.ok(read?.treeExtension !== undefined)
      const head = new Map<string, TreeEntry>([...read.entries].map(([path, e]) => [path, { mode: e.mode, sha: e.sha }]))
      const changed = new Set<string>()
      for (let k = 1 + random(4); k > 0; k--) {
        const existing = [...state.keys()].filter((p) => p !== 'keep')
        const pick = random(5)
        if (pick === 0 && existing.length > 0) {
          const path = existing[random(existing.length)] as string
          state.delete(path)
          changed.add(path)
        } else if (pick === 1 && existing.length > 0) {
          const path = existing[random(existing.length)] as string
          const was = state.get(path) as TreeEntry
          put(path, { mode: was.mode === '100644' ? '100755' : '100644', sha: was.sha }, changed)
        } else if (pick === 2 && existing.length > 0) {
          // A file made a folder, or a folder (every file under it) made a file.
          const path = existing[random(existing.length)] as string
          const folder = path.includes('/') && random(2) === 0 ? path.slice(0, path.lastIndexOf('/')) : undefined
          put(folder ?? `${path}/${names[random(names.length)]}`, { mode: '100644', sha: ids[random(ids.length)] as string }, changed)
        } else put(pathOf(), { mode: modes[random(modes.length)] as string, sha: ids[random(ids.length)] as string }, changed)
      }
      const made = treesPatched(repo, { bytes: read.bytes, treeExtension: read.treeExtension, entries: head }, new Map(state), [...changed], new Set())
      assert.ok(made !== null && 'root' in made, `round ${round}: patched`)
      patched++
      for (const [sha, bytes] of made.trees) assert.equal(createHash('sha1').update(`tree ${bytes.length}\0`).update(bytes).digest('hex'), sha)
      // git's own: the same changes to the index, its write-tree, and its cache tree of that tree.
      git(['update-index', '--add', '--index-info'], indexInfo(changed))
      assert.equal(made.root, git(['write-tree']), `round ${round}: git's write-tree`)
      const theirs = join(repo, '.git', 'theirs.index')
      git(['read-tree', made.root], undefined, theirs)
      assert.ok(made.extension.equals(treeExtensionOf(await readFile(theirs)) as Buffer), `round ${round}: git's cache tree, byte for byte`)
    }
    assert.equal(patched, 40)
  })
})

describe('tree patch: the object store reader (ObjectStore)', () => {
  // Session 49: find asks first the pack that held the last id found; every pack must still be asked.
  it('finds every stored id over several packs and loose objects, whichever pack held the one before, and no id it lacks', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'twinsync-store-packs-'))
    try {
      const git = (args: string[], input?: string) => execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8', ...(input === undefined ? {} : { input }) }).trim()
      git(['init', '-q'])
      const stored: string[] = []
      for (let pack = 0; pack < 4; pack++) {
        const round: string[] = []
        for (let i = 0; i < 3 + pack * 5; i++) round.push(git(['hash-object', '-w', '--stdin'], `pack ${pack} blob ${i}\n`))
        stored.push(...round)
        // Each round's objects in a pack of their own (the packs of different sizes); the last round's left loose.
        if (pack < 3) {
          git(['pack-objects', '-q', join(dir, '.git', 'objects', 'pack', 'pack')], `${round.join('\n')}\n`)
          git(['prune-packed'])
        }
      }
      assert.equal((await readdir(join(dir, '.git', 'objects', 'pack'))).filter((n) => n.endsWith('.idx')).length, 3)
      const store = ObjectStore.open(dir)
      assert.ok(store !== null)
      const has = (sha: string) => {
        const id = Buffer.from(sha, 'hex')
        return store.has(new DataView(id.buffer, id.byteOffset, 20), 0)
      }
      // Asked in an order that moves between the packs at every step, then backwards.
      const order = stored.map((_, i) => stored[(i * 7) % stored.length] as string)
      for (const sha of [...order, ...[...order].reverse()]) assert.equal(has(sha), true, sha)
      for (const sha of stored) assert.equal(has(`${sha.slice(0, 39)}${sha[39] === '0' ? '1' : '0'}`), false, `${sha}, its last digit changed`)
      store.close()
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  // Session 48's review (F8): lstat of objects/ab/… threw ENOTDIR out of the snapshot as a raw error.
  it('says an object is not stored when its loose folder is a file, rather than throwing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'twinsync-store-'))
    try {
      await mkdir(join(dir, '.git', 'objects', 'pack'), { recursive: true })
      await writeFile(join(dir, '.git', 'objects', 'ab'), 'not a folder')
      const store = ObjectStore.open(dir)
      assert.ok(store !== null)
      const id = Buffer.alloc(20, 0xab)
      assert.equal(store.has(new DataView(id.buffer, id.byteOffset, 20), 0), false)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
