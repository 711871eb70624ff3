import { strict as assert } from 'node:assert'
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createHash } from 'node:crypto'
import { knownBlob, setOwnPathForTests, withKnownBlob } from '@twinsync/sdk'
import { SnapshotDraft } from '../src/twin/atomic-snapshot.js'

const blobOf = (text: string) => createHash('sha1').update(`blob ${Buffer.byteLength(text)}\0`).update(text).digest('hex')

describe('snapshot draft: a file where a folder was, a folder where a file was', () => {
  let dir: string
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'twinsync-draft-'))
    const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd: dir })
    git('init', '-q')
    mkdirSync(join(dir, 'system', 'a', 'deep'), { recursive: true })
    writeFileSync(join(dir, 'system', 'a', 'b.json'), '{}\n')
    writeFileSync(join(dir, 'system', 'a', 'deep', 'c.json'), '{}\n')
    writeFileSync(join(dir, 'system', 'x'), 'a file\n')
    git('add', '.')
    git('commit', '-q', '-m', 'first')
    mkdirSync(join(dir, '.git', 'twinsync'))
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  it('drops the folder\'s files for a file of its name, and the file for a folder of its name, also for folders written in the same draft', async () => {
    const draft = await SnapshotDraft.begin(dir, { edited: false })
    try {
      assert.equal(draft.write({ path: 'system/other.json', content: '{}\n' }), true)
      // A file where HEAD has a folder (two levels of it).
      draft.write({ path: 'system/a', content: 'now a file\n' })
      assert.deepEqual(draft.list('system/'), ['system/a', 'system/other.json', 'system/x'])
      // A folder where HEAD has a file.
      draft.write({ path: 'system/x/y.json', content: '{}\n' })
      assert.deepEqual(draft.list('system/'), ['system/a', 'system/other.json', 'system/x/y.json'])
      // A folder this draft made, then a file in its place: its files go too.
      draft.write({ path: 'system/new/deeper/z.json', content: '{}\n' })
      draft.write({ path: 'system/new', content: 'a file again\n' })
      assert.deepEqual(draft.list('system/'), ['system/a', 'system/new', 'system/other.json', 'system/x/y.json'])
      // Its files go; system/a, a name it starts with, stays.
      draft.write({ path: 'system/ab/c.json', content: '{}\n' })
      draft.write({ path: 'system/ab', content: 'file\n' })
      assert.deepEqual(draft.list('system/'), ['system/a', 'system/ab', 'system/new', 'system/other.json', 'system/x/y.json'])
    } finally {
      await draft.discard()
    }
  })
  // Speed (session 50): the draft's folders made passing over a path in the folder of the path before
  // it (atomic-snapshot.ts, folders()). A guard (it passes on 241fcb20 too): every folder of HEAD's
  // tree, in git's order, with names one starts another with and folders deeper than the one before.
  it('knows every folder of the tree, whatever the order of the paths before it', async () => {
    const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd: dir })
    const files = ['system/f/a', 'system/f/a-b/x', 'system/f/a.b/y', 'system/f/c/d/e', 'system/f/c/d2', 'system/f/c/e', 'system/f/c0/z', 'system/f/ca/w', 'system/f/q', 'system/g', 'system/g2/h/i/j', 'system/g2/k']
    for (const file of files) {
      mkdirSync(join(dir, file, '..'), { recursive: true })
      writeFileSync(join(dir, file), `${file}\n`)
    }
    git('add', '.')
    git('commit', '-q', '-m', 'folders')
    const draft = await SnapshotDraft.begin(dir, { edited: false })
    try {
      const all = draft.list('')
      const folders = new Set(all.flatMap((path) => path.split('/').slice(0, -1).map((_, i, names) => names.slice(0, i + 1).join('/'))))
      assert.ok(folders.has('system/f/c/d') && folders.has('system/g2/h/i') && folders.has('system/f/a-b'), [...folders].join(' '))
      for (const folder of folders) assert.equal(draft.isFolder(folder), true, folder)
      for (const path of [...all, 'system/f/c/d/e/f', 'system/f/b', 'system/f/c/', 'system/g2/h/i/j/k', 'system/f/c0/z/']) assert.equal(draft.isFolder(path), false, path)
    } finally {
      await draft.discard()
    }
  })

  it("takes a document's known blob id only where the tree holds exactly that id: any other id, a copy or new content is hashed and written", async () => {
    const draft = await SnapshotDraft.begin(dir, { edited: false })
    try {
      const head = blobOf('a file\n')
      // The id the tree holds, for the same content: held, and not written.
      const same = withKnownBlob({ path: 'system/x', content: 'a file\n' }, head)
      assert.equal(knownBlob(same), head)
      assert.equal(draft.holds(same), true)
      assert.equal(draft.write(same), false)
      // Another id than the tree's (new content, its own id or a wrong one): hashed, written.
      const changed = withKnownBlob({ path: 'system/x', content: 'changed\n' }, blobOf('stale\n'))
      assert.equal(draft.holds(changed), false)
      assert.equal(draft.write(changed), true)
      assert.equal(draft.holds({ path: 'system/x', content: 'changed\n' }), true)
      // A copy (a redacted document is one) or content replaced in place: no id, hashed.
      const back = withKnownBlob({ path: 'system/x', content: 'a file\n' }, head)
      assert.equal(knownBlob({ ...back }), undefined)
      back.content = 'replaced\n'
      assert.equal(knownBlob(back), undefined)
      assert.equal(draft.write(back), true)
      assert.equal(draft.holds({ path: 'system/x', content: 'replaced\n' }), true)
      // Another mode than the tree's: written, whatever the id.
      const executable = withKnownBlob({ path: 'system/a/b.json', content: '{}\n', executable: true }, blobOf('{}\n'))
      assert.equal(draft.holds(executable), false)
      assert.equal(draft.write(executable), true)
    } finally {
      await draft.discard()
    }
  })

  it("reads HEAD's documents from the working twin while they are HEAD's (no git), through git once a file there was edited", async () => {
    const draft = await SnapshotDraft.begin(dir, { edited: false })
    try {
      setOwnPathForTests('/nonexistent') // no git to run: the working twin must answer
      assert.equal(Buffer.from((await draft.headBytes('system/x')) ?? []).toString(), 'a file\n')
      const head = draft.reader('head')
      assert.equal(await head?.readText('system/a/deep/c.json'), '{}\n')
      head?.close()
      setOwnPathForTests(undefined)
      // Edited after the draft began: HEAD's bytes, from git, not the edit.
      writeFileSync(join(dir, 'system', 'a', 'b.json'), '{"edited": true}\n')
      assert.equal(Buffer.from((await draft.headBytes('system/a/b.json')) ?? []).toString(), '{}\n')
    } finally {
      setOwnPathForTests(undefined)
      draft.closeHeadReader()
      await draft.discard()
    }
  })
})
