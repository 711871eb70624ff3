import { strict as assert } from 'node:assert'
import { execFileSync } from 'node:child_process'
import { chmod, mkdir, readdir, readFile, rename, rm, rmdir, stat, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { SnapshotService } from '../src/snapshot/snapshot-service.js'
import sinon from 'sinon'
import { SimpleGitClient } from '../src/twin/git.js'
import { putBack } from '../src/twin/pull-move.js'
import { quickClean, quickCleanLimit } from '../src/twin/quick-status.js'
import { isTwinSyncError, setOwnPathForTests } from '@twinsync/sdk'
import { notesProvider } from './support/notes-provider.js'
import { pastThisSecond } from './support/past-this-second.js'
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

  /**
   * A snapshot after which the twin is clean and settled (its stat data refreshed), then the
   * machine changed. `quick: false`: a .git/config the quick check leaves to git (a sparse checkout, core.worktree).
   */
  async function settled(options: { quick?: boolean } = {}): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, 150))
    assert.deepEqual(await rig.twin().dirtyPaths({ underLock: true }), [])
    await rig.twin().refreshStatData()
    assert.equal(quickClean(rig.twinDir, { anySize: true }).clean, options.quick ?? true, 'settled clean')
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

  for (const mode of ['quick', 'git'] as const) {
    const above = () => {
      quickCleanLimit.entries = mode === 'git' ? 1 : limit
    }
    const where = mode === 'git' ? 'above the cut-off' : 'below the cut-off'
    /** A local setting of the twin's .git/config for one test (session 26: git must see every edit whatever it says). */
    async function withConfig(settings: Record<string, string>, fn: () => Promise<void>): Promise<void> {
      for (const [key, value] of Object.entries(settings)) rig.git('config', key, value)
      try {
        await fn()
      } finally {
        for (const key of Object.keys(settings)) rig.git('config', '--unset', key)
      }
    }

    describe(`${where}: what git would not compare is compared all the same (session 26)`, () => {
      beforeEach(above)
      afterEach(() => {
        quickCleanLimit.entries = limit
      })

      for (const flag of ['--assume-unchanged', '--skip-worktree'] as const) {
        it(`a file of plans/ marked ${flag}, then edited, is seen by the look (which writes no index) and committed`, async () => {
          await settled()
          const path = `plans/flag${flag}-${mode}.md`
          await writeFile(twinFile(path), 'first\n')
          assert.notEqual((await snapshot()).commit, undefined)
          await settled()
          rig.git('update-index', flag, path)
          await writeFile(twinFile(path), `edited behind ${flag}\n`)
          const indexBefore = await readFile(twinFile('.git/index'))
          assert.deepEqual(await rig.twin().dirtyPaths(), [path])
          assert.ok(indexBefore.equals(await readFile(twinFile('.git/index'))), 'the look leaves git\'s index as it was')
          assert.notEqual((await snapshot()).commit, undefined)
          assert.equal(rig.git('show', `HEAD:${path}`), `edited behind ${flag}`)
          assert.equal(rig.git('ls-files', '-v', path).slice(0, 1), 'H', 'the committed index carries no flag')
          assert.equal(rig.git('status', '--porcelain'), '')
        })
      }

      it('a provider\'s document marked assume-unchanged and edited stays pending, not overwritten by the machine\'s', async () => {
        await settled()
        rig.git('update-index', '--assume-unchanged', 'system/notes.json')
        const wanted = (await notes()).replace('machine', 'WANTED')
        await writeFile(twinFile('system/notes.json'), JSON.stringify({ text: wanted }))
        const result = await snapshot()
        assert.notEqual(result.commit, undefined, 'the machine changed: a commit')
        assert.deepEqual(result.pending, ['system/notes.json'])
        assert.equal(await notes(), wanted, 'the edit is still in the working twin')
        rig.git('update-index', '--no-assume-unchanged', 'system/notes.json')
        rig.git('checkout', 'HEAD', '--', 'system/notes.json')
        assert.deepEqual((await snapshot()).pending, [])
      })

      it('with core.ignoreStat set, a file committed once and edited again is committed again', async () => {
        await withConfig({ 'core.ignoreStat': 'true' }, async () => {
          await settled()
          const path = `plans/ignore-stat-${mode}.md`
          await writeFile(twinFile(path), 'one\n')
          assert.notEqual((await snapshot()).commit, undefined)
          await settled()
          await writeFile(twinFile(path), 'two, longer\n')
          assert.notEqual((await snapshot()).commit, undefined)
          assert.equal(rig.git('show', `HEAD:${path}`), 'two, longer')
        })
      })

      it('with core.trustctime=false and core.checkStat=minimal, an edit with the same size and mtime is committed', async () => {
        await withConfig({ 'core.trustctime': 'false', 'core.checkStat': 'minimal' }, async () => {
          await settled()
          await sameSizeSameTime(twinFile('plans/same-second.md'), (text) => text.replace(/text|TEXT/, (t) => (t === 'text' ? 'TEXT' : 'text')))
          const wanted = await readFile(twinFile('plans/same-second.md'), 'utf8')
          assert.notEqual((await snapshot()).commit, undefined)
          assert.equal(rig.git('show', 'HEAD:plans/same-second.md') + '\n', wanted)
        })
      })

      it('with core.fileMode=false, a mode change is committed', async () => {
        await withConfig({ 'core.fileMode': 'false' }, async () => {
          await settled()
          const path = `plans/mode-${mode}.md`
          const executable = /^100755 /.test(rig.git('ls-tree', 'HEAD', path))
          await chmod(twinFile(path), executable ? 0o644 : 0o755)
          assert.notEqual((await snapshot()).commit, undefined)
          assert.match(rig.git('ls-tree', 'HEAD', path), executable ? /^100644 / : /^100755 /)
        })
      })

      it('with a sparse checkout set (core.sparseCheckout, info/sparse-checkout), an edit and a new file outside its patterns are committed', async () => {
        await writeFile(twinFile('.git/info/sparse-checkout'), '/system/\n/twin.json\n')
        try {
          await withConfig({ 'core.sparseCheckout': 'true' }, async () => {
            await settled({ quick: false })
            await writeFile(twinFile('plans/deep/er/kept.md'), `kept, sparse ${mode}\n`)
            await writeFile(twinFile(`plans/sparse-new-${mode}.md`), 'new outside the patterns\n')
            assert.notEqual((await snapshot()).commit, undefined)
            assert.equal(rig.git('show', 'HEAD:plans/deep/er/kept.md'), `kept, sparse ${mode}`)
            assert.equal(rig.git('show', `HEAD:plans/sparse-new-${mode}.md`), 'new outside the patterns')
          })
        } finally {
          await rm(twinFile('.git/info/sparse-checkout'), { force: true })
        }
      })

      it('a sparse checkout that leaves files out is refused (TWIN_SPARSE): nothing committed, no file read as deleted; made whole, the files are still there', async () => {
        await settled()
        const head = rig.git('rev-parse', 'HEAD')
        // What `git sparse-checkout set` does to each file it leaves out: the flag, and the file gone.
        const path = 'plans/same-second.md'
        rig.git('update-index', '--skip-worktree', path)
        await rm(twinFile(path))
        try {
          await assert.rejects(snapshot(), (error: unknown) => isTwinSyncError(error) && error.code === 'TWIN_SPARSE' && /sparse-checkout disable/.test(error.nextStep ?? ''))
          assert.equal(rig.git('rev-parse', 'HEAD'), head, 'nothing committed')
          assert.equal(rig.git('ls-files', '-v', path).slice(0, 1), 'S', 'git\'s index left as it was')
        } finally {
          rig.git('update-index', '--no-skip-worktree', path)
          rig.git('checkout', '--', path)
        }
        await snapshot()
        assert.equal(rig.git('ls-tree', '--name-only', 'HEAD', 'plans/same-second.md'), 'plans/same-second.md', 'never committed as deleted')
      })

      it('with core.worktree pointing elsewhere, the twin\'s own edit is committed and nothing else changes', async () => {
        const elsewhere = join(rig.twinDir, '..', `elsewhere-${mode}`)
        await mkdir(elsewhere, { recursive: true })
        await withConfig({ 'core.worktree': elsewhere }, async () => {
          await settled({ quick: false })
          await writeFile(twinFile('plans/deep/er/kept.md'), `kept, worktree ${mode}\n`)
          const result = await snapshot()
          assert.notEqual(result.commit, undefined)
          assert.equal(rig.git('--work-tree', rig.twinDir, 'show', 'HEAD:plans/deep/er/kept.md'), `kept, worktree ${mode}`)
          const changed = rig.git('--work-tree', rig.twinDir, 'diff-tree', '-r', '--name-only', 'HEAD~1', 'HEAD').split('\n').sort()
          assert.deepEqual(changed, ['plans/deep/er/kept.md', 'system/notes.json'])
        })
      })

      it('a .gitattributes in the twin (text, eol, ident, a filter the host\'s git knows) and core.autocrlf change no byte committed', async () => {
        await withConfig({ 'core.autocrlf': 'true', 'filter.rewrite.clean': 'sed s/kept/REWRITTEN/' }, async () => {
          await writeFile(twinFile('plans/.gitattributes'), '* text eol=lf\n*.md ident filter=rewrite\n')
          assert.notEqual((await snapshot()).commit, undefined)
          await settled()
          const bytes = `kept $Id$ ${mode}\r\nsecond line\r\n`
          await writeFile(twinFile(`plans/crlf-${mode}.md`), bytes)
          assert.notEqual((await snapshot()).commit, undefined)
          assert.equal(execFileSync('git', ['-C', rig.twinDir, 'cat-file', 'blob', `HEAD:plans/crlf-${mode}.md`], { encoding: 'utf8' }), bytes)
          await rm(twinFile('plans/.gitattributes'))
          assert.notEqual((await snapshot()).commit, undefined)
        })
      })

      it('a file added with intent (git add -N) is committed with its content', async () => {
        await settled()
        const path = `plans/intent-${mode}.md`
        await writeFile(twinFile(path), 'intended\n')
        rig.git('add', '-N', path)
        assert.notEqual((await snapshot()).commit, undefined)
        assert.equal(rig.git('show', `HEAD:${path}`), 'intended')
      })

      it('a file moved with git mv: the look names both paths (no rename pairs)', async () => {
        await settled()
        const path = `plans/moved-${mode}.md`
        await writeFile(twinFile(path), 'moved\n')
        assert.notEqual((await snapshot()).commit, undefined)
        await withConfig({ 'status.renames': 'true', 'diff.renames': 'true' }, async () => {
          rig.git('mv', path, `plans/moved-to-${mode}.md`)
          assert.deepEqual((await rig.twin().dirtyPaths()).sort(), [path, `plans/moved-to-${mode}.md`])
          assert.notEqual((await snapshot()).commit, undefined)
          assert.equal(rig.git('show', `HEAD:plans/moved-to-${mode}.md`), 'moved')
        })
      })
    })
  }

  describe('what git would not compare, where TwinSync writes the working twin or git\'s own index (session 26)', () => {
    it("a pull's put-back (update-index, checkout-index) puts back a file marked assume-unchanged or skip-worktree", async () => {
      await settled()
      rig.git('update-index', '--assume-unchanged', 'plans/deep/er/kept.md')
      rig.git('update-index', '--skip-worktree', 'plans/same-second.md')
      const before = rig.git('show', 'HEAD:plans/same-second.md')
      const kept = rig.git('show', 'HEAD:plans/deep/er/kept.md')
      await writeFile(twinFile('plans/deep/er/kept.md'), 'to be put back\n')
      await writeFile(twinFile('plans/same-second.md'), 'to be put back too\n')
      await putBack(rig.twinDir, rig.git('rev-parse', 'HEAD'), ['plans/deep/er/kept.md', 'plans/same-second.md'], 'A test')
      assert.equal(await readFile(twinFile('plans/deep/er/kept.md'), 'utf8'), `${kept}\n`)
      assert.equal(await readFile(twinFile('plans/same-second.md'), 'utf8'), `${before}\n`)
      assert.equal(rig.git('status', '--porcelain'), '')
    })

    it('stageAll (adopt) stages a file marked assume-unchanged that it wrote', async () => {
      await settled()
      rig.git('update-index', '--assume-unchanged', 'plans/deep/er/kept.md')
      await rig.twin().write({ path: 'plans/deep/er/kept.md', content: 'adopted\n' })
      assert.deepEqual(await rig.twin().stageAll(), [{ path: 'plans/deep/er/kept.md', change: 'M' }])
      await rig.twin().commit('adopt, in a test')
      assert.equal(rig.git('show', 'HEAD:plans/deep/er/kept.md'), 'adopted')
      assert.equal(rig.git('status', '--porcelain'), '')
    })
  })

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
      await pastThisSecond()
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
