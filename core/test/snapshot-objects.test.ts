import { strict as assert } from 'node:assert'
import { execFileSync } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isTwinSyncError } from '@twinsync/sdk/errors'
import { PACK_BLOBS_FROM, treesAround, treesOf, type TreeEntry } from '../src/twin/atomic-snapshot.js'
import { packOf, writePack } from '../src/twin/pack-writer.js'
import { runGitBytes } from '../src/twin/git.js'
import { quickClean } from '../src/twin/quick-status.js'
import { unitRig, type UnitRig } from './support/unit-container.js'

/** How a snapshot's new objects reach git's object store (atomic-snapshot.ts, writeObjects), before auto-pack.ts packs anything. */
describe('snapshot objects: a commit\'s objects as one pack', function () {
  this.timeout(60_000)
  let rig: UnitRig
  after(() => rig?.cleanup())

  it('writes a draft of many documents as one pack, one of a few as one small pack; git reads both, fsck finds nothing', async () => {
    rig = await unitRig([])
    await rig.twin().init({ formatVersion: 1, machineId: null, hostname: 'unit' })
    const objects = () => Object.fromEntries(rig.git('count-objects', '-v').split('\n').map((l) => l.split(': '))) as Record<string, string>
    const commit = async (count: number, text: string) => {
      const draft = await rig.twin().draft({ edited: false })
      for (let i = 0; i < count; i++) draft.write({ path: `system/many/${String(i).padStart(3, '0')}.json`, content: `${JSON.stringify({ i, text })}\n` })
      const { tree, changes } = await draft.build({ edited: false })
      assert.equal(changes.length, count)
      return draft.commit(tree, text)
    }
    // The init commit is one pack already (commitFirstFiles): its 3 files, 3 trees and the commit.
    assert.deepEqual([objects().count, objects().packs, objects()['in-pack']], ['0', '1', '7'])
    const many = PACK_BLOBS_FROM + 20
    await commit(many, 'one')
    assert.equal(objects().packs, '2')
    // From a clean twin the trees and the commit are made in Node and go into the same pack.
    assert.equal(objects()['in-pack'], String(7 + many + 4), 'every blob, the three new trees (top, system, system/many) and the commit in the pack')
    assert.equal(objects().count, '0', 'nothing loose')
    assert.equal(JSON.parse(rig.git('show', 'HEAD:system/many/007.json')).text, 'one')
    // Session 31: a few documents' commit is one small pack too (auto-pack.ts rolls such packs up every ROLL_UP_EVERY), nothing loose.
    await commit(3, 'two')
    assert.equal(objects().packs, '3', 'a small pack of its own for three documents')
    assert.equal(objects()['in-pack'], String(7 + many + 4 + 7), 'three blobs, their three trees and the commit')
    assert.equal(objects().count, '0', 'nothing loose')
    assert.equal(JSON.parse(rig.git('show', 'HEAD:system/many/002.json')).text, 'two')
    assert.equal(rig.git('fsck', '--strict', '--no-progress'), '')
    assert.equal(rig.git('status', '--porcelain'), '')
  })
})

/** From a clean twin the draft makes its trees, changes, commit and index in Node (atomic-snapshot.ts): exactly what git makes. */
describe('snapshot objects: trees, changes, commit and index made in Node', function () {
  this.timeout(60_000)
  let rig: UnitRig
  after(() => rig?.cleanup())

  it("names git sorts in its own way, modes and a file that becomes a folder: git's tree, diff-tree's changes, a clean status, fsck --strict", async () => {
    rig = await unitRig([])
    await rig.twin().init({ formatVersion: 1, machineId: null, hostname: 'unit' })
    const commit = async (docs: Array<{ path: string; content: string; executable?: boolean }>, removed: string[]) => {
      const draft = await rig.twin().draft({ edited: false })
      for (const doc of docs) draft.write(doc)
      for (const path of removed) draft.remove(path)
      const { tree, changes } = await draft.build({ edited: false })
      const head = rig.git('rev-parse', 'HEAD')
      const commit = await draft.commit(tree, `subject\n\nbody ${docs.length}`)
      assert.equal(rig.git('rev-parse', 'HEAD'), commit)
      assert.equal(rig.git('rev-parse', 'HEAD^{tree}'), tree, "the tree's id is git's")
      assert.equal(rig.git('rev-parse', 'HEAD^'), head)
      const said = rig.git('-c', 'core.quotepath=false', 'diff-tree', '-r', '--name-status', '--no-renames', head, commit).split('\n').map((l) => {
        const [code, path] = l.split('\t')
        return { path, change: code === 'A' || code === 'D' ? code : 'M' }
      })
      assert.deepEqual(changes, said, "the changes are diff-tree's, in its order")
      assert.equal(rig.git('log', '-1', '--format=%an <%ae>|%cn <%ce>|%B'), `TwinSync <twinsync@localhost>|TwinSync <twinsync@localhost>|subject\n\nbody ${docs.length}`)
      assert.equal(rig.git('status', '--porcelain'), '', 'the index git reads is the tree')
      assert.equal(quickClean(rig.twinDir, { anySize: true }).clean, true, "the index recorded as HEAD's (its key as written is the one read back)")
      assert.equal(rig.git('fsck', '--strict', '--no-progress'), '')
      execFileSync('git', ['-C', rig.twinDir, 'diff-index', '--quiet', '--cached', 'HEAD'])
    }
    const names = ['a', 'a.b', 'a-b', 'a0/x', 'a=b', 'b/c/d/e', 'ä.json', 'z', 'Z', 'x/y']
    await commit(
      names.map((n, i) => ({ path: `system/odd/${n}`, content: `${n}\n`, executable: i % 3 === 0 })),
      [],
    )
    // A file that becomes a folder and a folder that becomes a file; a mode change; a removal.
    await commit(
      [
        { path: 'system/odd/a/inner', content: 'now a folder\n' },
        { path: 'system/odd/x', content: 'now a file\n' },
        { path: 'system/odd/z', content: 'z\n', executable: true },
      ],
      ['system/odd/a=b'],
    )
    assert.equal(rig.git('show', 'HEAD:system/odd/a/inner'), 'now a folder')
    assert.match(rig.git('ls-tree', 'HEAD', 'system/odd/z'), /^100755 /)
  })

  it("takes every name git takes (spaces, a leading dash, control characters, 255 bytes, decomposed accents, a backslash) and refuses, committing nothing, the names git refuses as '.git' (fsck's hasDotgit)", async () => {
    const head = () => rig.git('rev-parse', 'HEAD')
    const taken = ['with space', '-leading', 'tab\there', 'new\nline', 'L'.repeat(255), 'e\u0301.json', 'back\\slash', '.gitx', 'git~2', 'x.git', '.git-credentials.d/y', 'x:.git', '.git~1', ' .git', '.git\u00a0']
    const draft = await rig.twin().draft({ edited: false })
    for (const name of taken) draft.write({ path: `system/taken/${name}`, content: `${name}\n` })
    const { tree } = await draft.build({ edited: false })
    await draft.commit(tree, 'odd names git takes')
    assert.equal(rig.git('fsck', '--strict', '--no-progress'), '')
    assert.equal(rig.git('status', '--porcelain'), '')
    assert.equal(rig.git('-c', 'core.quotepath=false', 'ls-tree', '-r', '-z', '--name-only', 'HEAD', 'system/taken/').split('\0').filter(Boolean).length, taken.length)
    for (const name of ['.GIT/x', '.Git', 'git~1/y', 'GIT~1', '.git /z', '.git.', '.git. .', '.git\\evil', '.g\u200cit', '\ufeff.GIT', 'x\\.git', 'git~1:a', '.git::$INDEX_ALLOCATION', 'GIT~1 ']) {
      const before = head()
      const refused = await rig.twin().draft({ edited: false })
      assert.throws(() => refused.write({ path: `system/odd/${name}`, content: 'x\n' }), (error: unknown) => isTwinSyncError(error) && error.code === 'PATH_INVALID', JSON.stringify(name))
      await refused.discard()
      assert.equal(head(), before)
    }
    assert.equal(rig.git('fsck', '--strict', '--no-progress'), '')
  })

  // A new tree names its files and its folders' trees; those it takes from HEAD must be in the
  // store, as git's write-tree checks them (an object lost deeper down, in a folder no change
  // touches, is as git's write-tree with its cache tree leaves it: for fsck to find).
  it('never commits a tree that names an object the store lost (a file beside the change, a folder beside it): git is asked, and says the twin is damaged', async () => {
    const head = rig.git('rev-parse', 'HEAD')
    // Every object loose (a commit's are one small pack since session 31), so one can be lost alone.
    const packs = join(rig.twinDir, '.git', 'objects', 'pack')
    for (const name of (await readdir(packs)).filter((n) => n.endsWith('.pack'))) {
      const pack = await readFile(join(packs, name))
      for (const end of ['.pack', '.idx']) await rm(join(packs, name.replace(/\.pack$/, end)), { force: true })
      execFileSync('git', ['-C', rig.twinDir, 'unpack-objects', '-q'], { input: pack })
    }
    for (const name of ['system/odd/z', 'system/odd/b']) {
      const lost = rig.git('rev-parse', `HEAD:${name}`)
      const object = join(rig.twinDir, '.git', 'objects', lost.slice(0, 2), lost.slice(2))
      const bytes = await readFile(object)
      await rm(object)
      const draft = await rig.twin().draft({ edited: false })
      draft.write({ path: 'system/odd/new', content: 'new\n' })
      await assert.rejects(draft.build({ edited: false }), (error: unknown) => isTwinSyncError(error) && error.code === 'REPO_DAMAGED', name)
      await draft.discard()
      assert.equal(rig.git('rev-parse', 'HEAD'), head)
      await writeFile(object, bytes)
    }
  })
})

describe('snapshot objects: HEAD\'s trees made again only around what changed (treesAround)', () => {
  it('gives the root and every tree treesOf gives, on random changes: edits, additions, removals, folders emptied, files turned folders', () => {
    let seed = 7
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31
      return Math.floor(seed / 65536) % n
    }
    const sha = (text: string) => createHash('sha1').update(text).digest('hex')
    const names = ['a', 'a.b', 'a-b', 'a0', 'b', 'ä', 'z', 'Z', 'conf.d', 'x']
    const pathOf = () => Array.from({ length: 1 + random(4) }, () => names[random(names.length)]).join('/')
    for (let round = 0; round < 300; round++) {
      const before = new Map<string, TreeEntry>()
      for (let i = 0; i < 40; i++) {
        const path = pathOf()
        // A path that is a file and a folder at once is no tree: skip such pairs.
        if ([...before.keys()].some((p) => p.startsWith(`${path}/`) || path.startsWith(`${p}/`))) continue
        before.set(path, { mode: random(4) === 0 ? '100755' : '100644', sha: sha(`${round}/${i}`) })
      }
      const after = new Map(before)
      const changed = new Set<string>()
      for (let c = 0; c < 1 + random(5); c++) {
        const kind = random(4)
        const existing = [...after.keys()]
        if (kind === 0 && existing.length > 0) {
          const path = existing[random(existing.length)] as string
          after.set(path, { mode: '100644', sha: sha(`edit ${round} ${c}`) })
          changed.add(path)
        } else if (kind === 1 && existing.length > 0) {
          // A whole folder's entries removed (its tree is gone).
          const path = existing[random(existing.length)] as string
          const folder = path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : path
          for (const p of existing) if (p === folder || p.startsWith(`${folder}/`)) (after.delete(p), changed.add(p))
        } else if (kind === 2 && existing.length > 0) {
          // A file turned into a folder of the same name.
          const path = existing[random(existing.length)] as string
          after.delete(path)
          after.set(`${path}/inner`, { mode: '100644', sha: sha(`inner ${round} ${c}`) })
          changed.add(path).add(`${path}/inner`)
        } else {
          const path = pathOf()
          if ([...after.keys()].some((p) => p === path || p.startsWith(`${path}/`) || path.startsWith(`${p}/`))) continue
          after.set(path, { mode: '100644', sha: sha(`new ${round} ${c}`) })
          changed.add(path)
        }
      }
      if (after.size === 0) continue
      const next = treesOf(after)
      const whole = treesOf(before)
      const around = treesAround(next, before, changed)
      assert.ok(around !== undefined)
      assert.equal(around.root, whole.root, `round ${round}: the same root tree`)
      for (const [id, bytes] of around.trees) assert.deepEqual(whole.trees.get(id), bytes, `round ${round}: a tree treesOf makes too`)
      // Every touched folder HEAD has is made again; every other folder is the new side's tree.
      for (const [folder, id] of whole.folders) {
        if (around.touched.has(folder)) assert.ok(around.trees.has(id), `round ${round}: ${folder} made again`)
        else assert.equal(next.folders.get(folder), id, `round ${round}: ${folder} untouched`)
      }
    }
  })
})

/** The pack is streamed into `git index-pack --stdin` (packOf, runGitBytes with chunks), never made whole in memory. */
describe('snapshot objects: the pack streamed into index-pack, or written with its index', function () {
  this.timeout(120_000)
  let dir: string
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'twinsync-pack-'))
    execFileSync('git', ['init', '--quiet', dir])
  })
  after(() => rm(dir, { recursive: true, force: true }))
  const gitIn = (...args: string[]) => execFileSync('git', ['-C', dir, ...args], { maxBuffer: 64 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'] })
  const sha = (bytes: Buffer) => createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex')

  it('writes many objects and large ones (several MB, random and repetitive) that git reads back byte for byte; fsck --strict is clean', async () => {
    const blobs = [
      ...Array.from({ length: 300 }, (_, i) => ({ bytes: Buffer.from(`small ${i}\n`.repeat(i % 7)) })),
      { bytes: randomBytes(6 * 1024 * 1024) }, // its deflated bytes are larger than a write, and than the pipe
      { bytes: Buffer.alloc(5 * 1024 * 1024, 'twinsync\n') },
      { bytes: randomBytes(70 * 1024) },
      { bytes: Buffer.alloc(0) },
    ]
    const chunks = [...packOf(blobs)]
    assert.ok(chunks.length > 3 && Math.max(...chunks.map((c) => c.length)) <= 6 * 1024 * 1024 + 4096, 'the pack comes in pieces, the largest about one blob')
    await runGitBytes(dir, ['index-pack', '--stdin'], { input: packOf(blobs) })
    for (const { bytes } of blobs) assert.ok(gitIn('cat-file', 'blob', sha(bytes)).equals(bytes))
    assert.equal(gitIn('count-objects', '-v').toString().match(/^in-pack: (\d+)$/m)?.[1], String(blobs.length), 'one object each (the same content twice is fine in a pack)')
    assert.equal(gitIn('fsck', '--strict', '--no-progress', '--no-dangling').toString(), '')
  })

  it("writePack: the pack and its index as index-pack makes them (its index byte for byte), read-only, nothing else left; an object given twice is packed once", async () => {
    const blobs = [
      ...Array.from({ length: 260 }, (_, i) => ({ bytes: Buffer.from(`object ${i}\n`.repeat(i % 9)) })),
      { bytes: randomBytes(3 * 1024 * 1024) },
      { bytes: Buffer.alloc(0) },
    ].map(({ bytes }) => ({ sha: sha(bytes), bytes }))
    const tree = { sha: '', bytes: Buffer.concat([Buffer.from('100644 a\0'), Buffer.from(blobs[1]?.sha as string, 'hex')]), type: 'tree' as const }
    tree.sha = createHash('sha1').update(`tree ${tree.bytes.length}\0`).update(tree.bytes).digest('hex')
    const packDir = join(dir, '.git', 'objects', 'pack')
    const before = new Set(await readdir(packDir))
    writePack(dir, [...blobs, tree, blobs[5] as (typeof blobs)[number]])
    const made = (await readdir(packDir)).filter((n) => !before.has(n)).sort()
    assert.equal(made.length, 2, made.join(' '))
    const [idx, pack] = made as [string, string]
    assert.match(pack, /^pack-[0-9a-f]{40}\.pack$/)
    assert.equal(idx, pack.replace(/\.pack$/, '.idx'))
    for (const name of made) assert.equal((await stat(join(packDir, name))).mode & 0o777, 0o444)
    // git's own index of the same pack.
    const theirs = join(dir, 'theirs.idx')
    gitIn('index-pack', '-o', theirs, join(packDir, pack))
    assert.ok((await readFile(join(packDir, idx))).equals(await readFile(theirs)), "the index is git's, byte for byte")
    await rm(theirs)
    assert.equal(gitIn('verify-pack', join(packDir, idx)).toString(), '')
    for (const { sha: id, bytes } of blobs) assert.ok(gitIn('cat-file', 'blob', id).equals(bytes))
    assert.equal(gitIn('cat-file', '-t', tree.sha).toString().trim(), 'tree')
    assert.equal((await readFile(join(packDir, idx))).readUInt32BE(8 + 255 * 4), new Set(blobs.map((b) => b.sha)).size + 1, 'every object once (the empty one is given many times)')
    assert.equal(gitIn('fsck', '--strict', '--no-progress', '--no-dangling').toString(), '')
  })

  it('a pack git refuses (cut short) is git\'s failure, GIT_FAILED with its words; a failure making the input is ours, as it is', async () => {
    const blobs = Array.from({ length: 150 }, (_, i) => ({ bytes: randomBytes(1024 + i) }))
    const cut = [...packOf(blobs)].slice(0, -1)
    await assert.rejects(runGitBytes(dir, ['index-pack', '--stdin'], { input: cut }), (e: unknown) => {
      assert.ok(isTwinSyncError(e) && e.code === 'GIT_FAILED', String(e))
      assert.match(e.message, /git index-pack failed/)
      return true
    })
    function* broken(): Generator<Buffer> {
      let n = 0
      for (const chunk of packOf(blobs)) {
        if (++n === 2) throw new Error('no more blobs')
        yield chunk
      }
    }
    await assert.rejects(runGitBytes(dir, ['index-pack', '--stdin'], { input: broken() }), /no more blobs/)
    assert.equal(gitIn('fsck', '--strict', '--no-progress', '--no-dangling').toString(), '')
  })
})
