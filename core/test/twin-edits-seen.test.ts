import { strict as assert } from 'node:assert'
import { execFileSync } from 'node:child_process'
import { chmod, mkdir, readdir, readFile, rename, rm, rmdir, stat, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { SnapshotService } from '../src/snapshot/snapshot-service.js'
import sinon from 'sinon'
import { SimpleGitClient } from '../src/twin/git.js'
import { quickClean, quickCleanLimit } from '../src/twin/quick-status.js'
import { isTwinSyncError, setOwnPathForTests } from '@twinsync/sdk'
import { notesProvider } from './support/notes-provider.js'
import { unitRig, type UnitRig } from './support/unit-container.js'

/**
 * Every kind of person's edit in the working twin is seen by a snapshot, whichever way the twin's
 * check goes: from .git without git (a small twin, quick-status.ts), or `git status` above the
 * size cut-off, which a snapshot runs while it collects the machine (snapshot-service.ts, session
 * 24). Each case changes the machine's /etc/notes too, so the snapshot commits and moves the
 * working twin: an edit the check missed is overwritten (a provider's document) or left out of
 * the commit (plans/, committed as it is).
 */
describe('a person\'s edits in the twin are seen by a snapshot, below and above the size cut-off', function () {
  this.timeout(60_000)
  let rig: UnitRig
  let machineText = 0
  const limit = quickCleanLimit.entries

  /** Set: the notes provider's collect takes a while (the look at the twin fails meanwhile). */
  let slowCollect = false

  before(async () => {
    const notes = notesProvider('notes')
    const collect = notes.collect.bind(notes)
    notes.collect = async (request) => {
      if (slowCollect) await new Promise((resolve) => setTimeout(resolve, 400))
      return collect(request)
    }
    rig = await unitRig([notes])
    await writeFile(join(rig.root, 'etc/notes'), 'machine 0\n')
    await rig.twin().init({ formatVersion: 1, machineId: null, hostname: 'unit' })
    for (const name of ['same-second', 'mode-quick', 'mode-git', 'gone-quick', 'gone-git']) await writeFile(twinFile(`plans/${name}.md`), `# ${name}\n\nfirst text\n`)
    await mkdir(twinFile('plans/deep/er'), { recursive: true })
    await writeFile(twinFile('plans/deep/er/kept.md'), 'kept\n')
    await snapshot()
  })
  after(async () => {
    quickCleanLimit.entries = limit
    await rig?.cleanup()
  })

  const snapshot = () => rig.container.resolve(SnapshotService).snapshot()
  const twinFile = (path: string) => join(rig.twinDir, path)
  const notes = async () => (JSON.parse(await readFile(twinFile('system/notes.json'), 'utf8')) as { text: string }).text

  /** A snapshot after which the twin is clean and settled (its stat data refreshed), then the machine changed. */
  async function settled(): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, 150))
    assert.deepEqual(await rig.twin().dirtyPaths({ underLock: true }), [])
    await rig.twin().refreshStatData()
    assert.equal(quickClean(rig.twinDir, { anySize: true }).clean, true, 'settled clean')
    await writeFile(join(rig.root, 'etc/notes'), `machine ${++machineText}\n`)
  }

  /** Write `text` (the same size as the file's) and put its mtime back: only its ctime and content differ. */
  async function sameSizeSameTime(path: string, change: (text: string) => string): Promise<void> {
    const before = await stat(path, { bigint: true })
    const text = await readFile(path, 'utf8')
    const next = change(text)
    assert.equal(BigInt(Buffer.byteLength(next)), before.size)
    await writeFile(path, next)
    // To the nanosecond (fs.utimes takes a double of seconds).
    const ns = before.mtimeNs % 1_000_000_000n
    execFileSync('touch', ['-m', '-d', `@${before.mtimeNs / 1_000_000_000n}.${String(ns).padStart(9, '0')}`, path])
    const after = await stat(path, { bigint: true })
    assert.deepEqual([after.size, after.mtimeNs], [before.size, before.mtimeNs], 'size and mtime as before')
    assert.notEqual(after.ctimeNs, before.ctimeNs)
  }

  /** Put a path's mtime back to `mtimeNs` (its ctime moves all the same: nobody can set that back). */
  function mtimeBack(path: string, mtimeNs: bigint): void {
    const ns = mtimeNs % 1_000_000_000n
    execFileSync('touch', ['-m', '-d', `@${mtimeNs / 1_000_000_000n}.${String(ns).padStart(9, '0')}`, path])
  }

  it('above the cut-off, a look at the twin that fails while the machine is collected: its error once the collect is over, nothing committed', async () => {
    quickCleanLimit.entries = 1
    await settled()
    const head = rig.git('rev-parse', 'HEAD')
    await writeFile(twinFile('plans/while-git-gone.md'), 'edited while git is gone\n')
    slowCollect = true
    setOwnPathForTests('/nonexistent')
    // Mocha only passes an unhandled rejection on: the CLI (Node's default) would end the process.
    const unhandled: unknown[] = []
    const record = (reason: unknown) => void unhandled.push(reason)
    process.on('unhandledRejection', record)
    try {
      // Without git the twin cannot be looked at: the snapshot fails once the collect is over.
      await assert.rejects(snapshot(), (error: unknown) => isTwinSyncError(error))
    } finally {
      process.off('unhandledRejection', record)
      setOwnPathForTests(undefined)
      slowCollect = false
    }
    assert.deepEqual(unhandled, [], 'no unhandled rejection while the collect ran')
    assert.equal(rig.git('rev-parse', 'HEAD'), head, 'nothing committed')
    assert.equal(await readFile(twinFile('plans/while-git-gone.md'), 'utf8'), 'edited while git is gone\n', 'the edit is as it was')
    assert.notEqual((await snapshot()).commit, undefined, 'with git back, the next snapshot commits the edit')
    assert.equal(rig.git('show', 'HEAD:plans/while-git-gone.md'), 'edited while git is gone')
    quickCleanLimit.entries = limit
  })

  for (const mode of ['quick', 'git'] as const) {
    const above = () => {
      quickCleanLimit.entries = mode === 'git' ? 1 : limit
    }
    const where = mode === 'git' ? 'above the cut-off (git status while collecting)' : 'below the cut-off (from .git)'

    it(`${where}: a provider's document edited with the same size and mtime stays pending, not overwritten by the machine's`, async () => {
      above()
      await settled()
      const wanted = (await notes()).replace('machine', 'MACHINE')
      await sameSizeSameTime(twinFile('system/notes.json'), (text) => text.replace('machine', 'MACHINE'))
      const result = await snapshot()
      assert.notEqual(result.commit, undefined, 'the machine changed: a commit')
      assert.equal(JSON.parse(rig.git('show', 'HEAD:system/notes.json')).text, `machine ${machineText}\n`, 'the commit records the machine')
      assert.deepEqual(result.pending, ['system/notes.json'])
      assert.equal(await notes(), wanted, 'the edit is still in the working twin')
      // Put back as observed, for the next test.
      rig.git('checkout', 'HEAD', '--', 'system/notes.json')
      assert.deepEqual((await snapshot()).pending, [])
    })

    it(`${where}: a file of plans/ edited with the same size and mtime is committed`, async () => {
      above()
      await settled()
      await sameSizeSameTime(twinFile('plans/same-second.md'), (text) => text.replace(/(first|FIRST|fIrSt)/, mode === 'git' ? 'FIRST' : 'fIrSt'))
      const result = await snapshot()
      assert.notEqual(result.commit, undefined)
      assert.match(rig.git('show', 'HEAD:plans/same-second.md'), mode === 'git' ? /FIRST text/ : /fIrSt text/)
      assert.equal(rig.git('status', '--porcelain'), '')
    })

    it(`${where}: a mode change is committed`, async () => {
      above()
      await settled()
      await chmod(twinFile(`plans/mode-${mode}.md`), 0o755)
      assert.notEqual((await snapshot()).commit, undefined)
      assert.match(rig.git('ls-tree', 'HEAD', `plans/mode-${mode}.md`), /^100755 /)
    })

    it(`${where}: a deleted file is deleted in the commit`, async () => {
      above()
      await settled()
      await rm(twinFile(`plans/gone-${mode}.md`))
      assert.notEqual((await snapshot()).commit, undefined)
      assert.equal(rig.git('ls-tree', 'HEAD', `plans/gone-${mode}.md`), '')
    })

    it(`${where}: a new file is committed`, async () => {
      above()
      await settled()
      await writeFile(twinFile(`plans/new-${mode}.md`), 'new\n')
      assert.notEqual((await snapshot()).commit, undefined)
      assert.equal(rig.git('show', `HEAD:plans/new-${mode}.md`), 'new')
    })

    it(`${where}: a provider's document deleted stays pending (deleted), not put back`, async () => {
      above()
      await settled()
      await rm(twinFile('system/notes.json'))
      const result = await snapshot()
      assert.notEqual(result.commit, undefined)
      assert.deepEqual(result.pending, ['system/notes.json'])
      await assert.rejects(stat(twinFile('system/notes.json')), /ENOENT/, 'still deleted in the working twin')
      rig.git('checkout', 'HEAD', '--', 'system/notes.json')
      assert.deepEqual((await snapshot()).pending, [])
    })

    it(`${where}: a new file in a folder whose mtime is put back is committed`, async () => {
      above()
      await settled()
      const folder = twinFile('plans/deep/er')
      const before = (await stat(folder, { bigint: true })).mtimeNs
      await writeFile(join(folder, `planted-${mode}.md`), 'planted\n')
      mtimeBack(folder, before)
      assert.equal((await stat(folder, { bigint: true })).mtimeNs, before)
      assert.notEqual((await snapshot()).commit, undefined)
      assert.equal(rig.git('show', `HEAD:plans/deep/er/planted-${mode}.md`), 'planted')
    })

    it(`${where}: a new file a .gitignore the twin holds would hide is committed`, async () => {
      above()
      await writeFile(twinFile('plans/.gitignore'), `hidden-${mode}*\n`)
      assert.notEqual((await snapshot()).commit, undefined, 'the .gitignore is committed')
      await settled()
      await writeFile(twinFile(`plans/hidden-${mode}.md`), 'hidden\n')
      assert.notEqual((await snapshot()).commit, undefined)
      assert.equal(rig.git('show', `HEAD:plans/hidden-${mode}.md`), 'hidden')
      await rm(twinFile('plans/.gitignore'))
      assert.notEqual((await snapshot()).commit, undefined)
    })

    it(`${where}: files a .gitignore put in a new folder hides (itself too) are committed`, async () => {
      above()
      await settled()
      await mkdir(twinFile(`plans/planted-${mode}`))
      await writeFile(twinFile(`plans/planted-${mode}/.gitignore`), '*\n')
      await writeFile(twinFile(`plans/planted-${mode}/x.md`), 'x\n')
      assert.notEqual((await snapshot()).commit, undefined)
      assert.equal(rig.git('show', `HEAD:plans/planted-${mode}/x.md`), 'x')
    })
  }

  describe('above the cut-off, the folders\' stamps', () => {
    let git: sinon.SinonSpy
    beforeEach(() => {
      quickCleanLimit.entries = 1
      git = sinon.spy(SimpleGitClient.prototype, 'dirtyPaths')
    })
    afterEach(() => {
      git.restore()
      quickCleanLimit.entries = limit
    })
    /** What the look above the cut-off found, and whether it asked git about the indexed files alone. */
    async function look(): Promise<{ dirty: string[]; indexedOnly: boolean }> {
      git.resetHistory()
      const dirty = await rig.twin().dirtyPaths({ underLock: true })
      assert.equal(git.callCount, 1)
      return { dirty: dirty.sort(), indexedOnly: (git.firstCall.args[0] as { indexedOnly?: boolean } | undefined)?.indexedOnly === true }
    }

    it('as kept: git compares the indexed files alone (no walk for other files)', async () => {
      await settled()
      assert.deepEqual(await look(), { dirty: [], indexedOnly: true })
      await writeFile(twinFile('plans/deep/er/kept.md'), 'kept, edited\n')
      assert.deepEqual(await look(), { dirty: ['plans/deep/er/kept.md'], indexedOnly: true })
      rig.git('checkout', 'HEAD', '--', 'plans/deep/er/kept.md')
    })

    it('a folder the machine\'s commit wrote in is listed again, not every folder: the next look still asks about the indexed files alone', async () => {
      await settled()
      assert.notEqual((await snapshot()).commit, undefined, 'the machine changed: system/notes.json written')
      assert.deepEqual(await look(), { dirty: [], indexedOnly: true })
      await writeFile(twinFile('system/planted.json'), '{}\n')
      assert.deepEqual(await look(), { dirty: ['system/planted.json'], indexedOnly: false })
      await rm(twinFile('system/planted.json'))
    })

    it('an unchanged snapshot after a commit refreshes the index\'s stat data from the look\'s verdict', async () => {
      await settled()
      assert.notEqual((await snapshot()).commit, undefined, 'the machine changed: a commit')
      assert.equal(quickClean(rig.twinDir, { anySize: true }).staleStatData, true, 'the commit\'s files have no stat data yet')
      await new Promise((resolve) => setTimeout(resolve, 150))
      assert.equal((await snapshot()).commit, undefined)
      assert.equal(quickClean(rig.twinDir, { anySize: true }).staleStatData, false, 'refreshed')
    })

    it('a new folder holding a file, in a folder listed again: git walks', async () => {
      await settled()
      await mkdir(twinFile('plans/deep/er/new/newer'), { recursive: true })
      await writeFile(twinFile('plans/deep/er/new/newer/x.md'), 'x\n')
      assert.deepEqual(await look(), { dirty: ['plans/deep/er/new/newer/x.md'], indexedOnly: false })
      await rm(twinFile('plans/deep/er/new'), { recursive: true })
      // Empty folders are nothing git shows.
      await mkdir(twinFile('plans/deep/er/empty'))
      assert.deepEqual(await look(), { dirty: [], indexedOnly: true })
    })

    it('a kept folder gone, or made a file or a symlink: seen', async () => {
      await mkdir(twinFile('plans/deep/er/empty'), { recursive: true })
      await settled()
      await rmdir(twinFile('plans/deep/er/empty'))
      assert.deepEqual(await look(), { dirty: [], indexedOnly: true }, 'an empty folder gone is nothing')
      await mkdir(twinFile('plans/deep/er/empty'))
      await settled()
      await rmdir(twinFile('plans/deep/er/empty'))
      await writeFile(twinFile('plans/deep/er/empty'), 'a file now\n')
      assert.deepEqual(await look(), { dirty: ['plans/deep/er/empty'], indexedOnly: false })
      await rm(twinFile('plans/deep/er/empty'))
      await mkdir(twinFile('plans/deep/er/empty'))
      await settled()
      await rmdir(twinFile('plans/deep/er/empty'))
      await symlink('/etc', twinFile('plans/deep/er/empty'))
      assert.deepEqual(await look(), { dirty: ['plans/deep/er/empty'], indexedOnly: false })
      await rm(twinFile('plans/deep/er/empty'))
    })

    it('a kept folder moved away and another put in its place: seen', async () => {
      await settled()
      await rename(twinFile('plans/deep/er'), twinFile('plans/deep/was-er'))
      await mkdir(twinFile('plans/deep/er'))
      for (const name of await readdir(twinFile('plans/deep/was-er'))) await rename(twinFile(`plans/deep/was-er/${name}`), twinFile(`plans/deep/er/${name}`))
      assert.deepEqual(await look(), { dirty: [], indexedOnly: true }, 'the same names in the same places')
      await writeFile(twinFile('plans/deep/was-er/other.md'), 'other\n')
      assert.deepEqual(await look(), { dirty: ['plans/deep/was-er/other.md'], indexedOnly: false })
      await rm(twinFile('plans/deep/was-er'), { recursive: true })
    })
  })
})
