import { strict as assert } from 'node:assert'
import { chmod, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import fs from 'node:fs'
import { execFileSync, spawn } from 'node:child_process'
import { syncBuiltinESMExports } from 'node:module'
import { join } from 'node:path'
import { Planner } from '../src/plan/planner.js'
import { StatusWorkflow } from '../src/services/drift-status.js'
import { SnapshotService } from '../src/snapshot/snapshot-service.js'
import { refreshIndex, settleSnapshot } from '../src/twin/atomic-snapshot.js'
import { asGoneRun, killAt } from './support/kill-points.js'
import { runGit, SimpleGitClient } from '../src/twin/git.js'
import { TwinRepository } from '../src/twin/twin-repository.js'
import { workingTree } from '../src/intent/intent-git.js'
import { indexRecordLimit } from '../src/twin/index-record.js'
import { editedSinceIndexed, quickClean, quickCleanLimit, readHead, readIndex, readRefId, smudgeIndexedPaths } from '../src/twin/quick-status.js'
import { SAFE_PATH, setOwnPathForTests } from '@twinsync/sdk'
import { notesProvider } from './support/notes-provider.js'
import { pastThisSecond } from './support/past-this-second.js'
import { unitRig, type UnitRig } from './support/unit-container.js'

/**
 * Twice (at most 10 tries), at the start of a second: the twin file `path`'s ctime moved without
 * its mtime (a chmod, as a rename into place), `record` writes the index (recording that ctime),
 * then the file is edited (`edit`, the same size) in that second with its mtime kept: an edit
 * git's second-grained stat check cannot see. `check` after each try; the file put back as it was after.
 */
async function blindEdits(dir: string, path: string, record: () => Promise<void>, check: (sameSecond: boolean, tried: number) => Promise<void>, edit = (text: string) => text.toUpperCase()): Promise<void> {
  const file = join(dir, path)
  const text = await readFile(file, 'utf8')
  const { mode } = await stat(file)
  const seconds = (ns: bigint) => ns / 1_000_000_000n
  let tried = 0
  let sameSecond = 0
  try {
    while (sameSecond < 2 && tried < 10) {
      tried++
      await writeFile(file, text)
      execFileSync('touch', ['-m', '-d', '2 minutes ago', file])
      execFileSync('git', ['-C', dir, 'update-index', '-q', '--refresh'], { env: { ...process.env, GIT_OPTIONAL_LOCKS: '0' } })
      await new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000) + 20))
      await chmod(file, 0o600)
      await record()
      const before = await stat(file, { bigint: true })
      await writeFile(file, edit(text))
      execFileSync('touch', ['-m', '-d', `@${seconds(before.mtimeNs)}.${String(before.mtimeNs % 1_000_000_000n).padStart(9, '0')}`, file])
      const after = await stat(file, { bigint: true })
      assert.deepEqual([after.size, after.mtimeNs], [before.size, before.mtimeNs])
      const same = seconds(after.ctimeNs) === seconds(before.ctimeNs)
      if (same) sameSecond++
      await check(same, tried)
    }
  } finally {
    // Put back as it was (git, blind to the edit, would not write it back: `checkout` takes it for unchanged).
    await writeFile(file, text)
    await chmod(file, mode & 0o7777)
  }
  assert.equal(sameSecond, 2, `the edit fell in the recorded ctime's second twice in ${tried} tries`)
}

/**
 * A snapshot in a process of its own (support/snapshot-in-child.ts), started at the moment this
 * process is about to take git's index lock (`.git/index.lock`, by a link, as quick-status.ts's
 * replaceIndex takes it): the other process starts first, the lock is taken, then the snapshot
 * runs to its end while this process waits, lock held. `refused`: what each such snapshot said
 * when it failed.
 */
function snapshotAtIndexLock(rig: UnitRig): { refused: string[]; restore(): void } {
  const refused: string[] = []
  const original = fs.linkSync
  const wait = new Int32Array(new SharedArrayBuffer(4))
  const until = (done: (out: string) => boolean, out: string) => {
    const by = Date.now() + 60_000
    while (Date.now() < by && !done(fs.readFileSync(out, 'utf8'))) Atomics.wait(wait, 0, 0, 20)
  }
  fs.linkSync = function (this: unknown, from: fs.PathLike, to: fs.PathLike) {
    if (typeof to !== 'string' || !to.endsWith('/.git/index.lock')) return original.call(this, from, to)
    const out = join(rig.dir, `other-snapshot-${refused.length}.out`)
    const go = `${out}.go`
    const fd = fs.openSync(out, 'w')
    spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'support/snapshot-in-child.ts'), rig.root, rig.twinDir, go], { stdio: ['ignore', fd, fd] })
    fs.closeSync(fd)
    until((text) => text.includes('ready\n'), out)
    try {
      return original.call(this, from, to)
    } finally {
      fs.writeFileSync(go, '')
      until((text) => text.endsWith('}\n'), out)
      const said = fs.readFileSync(out, 'utf8')
      if (!said.includes('"commit"')) refused.push(said)
    }
  }
  syncBuiltinESMExports()
  return {
    refused,
    restore() {
      fs.linkSync = original
      syncBuiltinESMExports()
    },
  }
}

/**
 * quick-status.ts answers from .git what git would: only a certain "clean", every doubt goes to
 * git. Each test starts from a twin the quick check finds clean and changes it the way a person
 * or another git would; the change must be seen, by the check's doubt and by what git then says.
 */
describe('the twin read from .git without git (quick-status.ts)', function () {
  this.timeout(60_000)
  let rig: UnitRig

  const recordLimit = indexRecordLimit.entries
  before(async () => {
    // Every index read here kept and taken from its record as a large twin's is (index-record.ts).
    indexRecordLimit.entries = 1
    rig = await unitRig([notesProvider('notes')])
    await writeFile(join(rig.root, 'etc/notes'), 'first\n')
    await rig.twin().init({ formatVersion: 1, machineId: null, hostname: 'unit' })
    await snapshot()
  })
  after(async () => {
    indexRecordLimit.entries = recordLimit
    await rig?.cleanup()
  })

  const snapshot = () => rig.container.resolve(SnapshotService).snapshot()
  const twinFile = (path: string) => join(rig.twinDir, path)
  const dirty = () => rig.twin().dirtyPaths()

  /**
   * What a later scheduled snapshot leaves: git found the twin clean, so the index's stat data
   * was refreshed and the agreement recorded. In a later second than the last change: the quick
   * check (like git) distrusts the stat data of a file changed just before the index was written,
   * and the refresh smudges one whose ctime is in its own second (pastThisSecond).
   */
  async function settleClean(): Promise<void> {
    await pastThisSecond()
    const twin = rig.twin()
    assert.deepEqual(await twin.dirtyPaths({ underLock: true }), [])
    await twin.refreshStatData()
    assert.equal(quickClean(rig.twinDir).clean, true, 'the quick check finds the settled twin clean')
  }

  it('an unchanged snapshot runs no git at all: with git off PATH it still finds nothing changed', async () => {
    await settleClean()
    const head = rig.git('rev-parse', 'HEAD')
    setOwnPathForTests('/nonexistent')
    try {
      const result = await snapshot()
      assert.deepEqual([result.skipped, result.head], ['unchanged', head])
    } finally {
      setOwnPathForTests(undefined)
    }
  })

  it('HEAD and refs are read as git reads them: loose, packed, and absent', async () => {
    const head = rig.git('rev-parse', 'HEAD')
    assert.equal(readHead(rig.twinDir), head)
    assert.equal(readRefId(rig.twinDir, 'refs/twinsync/observed'), rig.git('rev-parse', 'refs/twinsync/observed'))
    assert.equal(readRefId(rig.twinDir, 'refs/twinsync/intended'), null)
    rig.git('pack-refs', '--all')
    assert.equal(readHead(rig.twinDir), head)
    assert.equal(readRefId(rig.twinDir, 'refs/twinsync/observed'), rig.git('rev-parse', 'refs/twinsync/observed'))
  })

  it('reads the index as `git ls-files --stage` lists it, in index versions 2, 3 and 4', async () => {
    for (const version of ['2', '3', '4']) {
      rig.git('update-index', '--index-version', version)
      const listed = rig
        .git('ls-files', '--stage', '-z')
        .split('\0')
        .filter(Boolean)
        .map((line) => {
          const [mode, sha] = line.split(' ')
          return [line.slice(line.indexOf('\t') + 1), `${mode} ${sha}`]
        })
      const index = readIndex(rig.twinDir)
      assert.ok(index !== undefined, `version ${version} is read`)
      assert.deepEqual([...index.entries].map(([path, e]) => [path, `${e.mode} ${e.sha}`]), listed)
    }
    rig.git('update-index', '--index-version', '2')
  })

  it('an entry only git understands (intent-to-add, skip-worktree) is left to git', async () => {
    await writeFile(twinFile('scripts/later.sh'), 'echo later\n')
    rig.git('add', '-N', 'scripts/later.sh')
    assert.equal(readIndex(rig.twinDir), undefined)
    assert.deepEqual(await dirty(), ['scripts/later.sh'])
    rig.git('rm', '--cached', '--quiet', 'scripts/later.sh')
    await rm(twinFile('scripts/later.sh'))
    rig.git('update-index', '--skip-worktree', 'plans/README.md')
    assert.equal(readIndex(rig.twinDir), undefined)
    rig.git('update-index', '--no-skip-worktree', 'plans/README.md')
  })

  // A person's edits in the twin: never taken for clean, and committed by the next snapshot.
  const edits: Array<[string, () => Promise<void>, (result: Awaited<ReturnType<typeof snapshot>>) => void]> = [
    [
      'a modified file',
      () => writeFile(twinFile('plans/README.md'), '# plans\n\nmy own notes, longer than before\n'),
      () => assert.match(rig.git('show', 'HEAD:plans/README.md'), /my own notes/),
    ],
    [
      'an edit of the same size in the same second',
      async () => {
        const text = await readFile(twinFile('plans/README.md'), 'utf8')
        await writeFile(twinFile('plans/README.md'), text.replace('my own', 'MY OWN'))
      },
      () => assert.match(rig.git('show', 'HEAD:plans/README.md'), /MY OWN notes/),
    ],
    [
      'a new untracked file',
      () => writeFile(twinFile('scripts/new.sh'), 'echo new\n'),
      () => assert.equal(rig.git('show', 'HEAD:scripts/new.sh'), 'echo new'),
    ],
    [
      'a new file in a new folder',
      async () => {
        await mkdir(twinFile('plans/deep'))
        await writeFile(twinFile('plans/deep/x.yaml'), 'x: 1\n')
      },
      () => assert.equal(rig.git('show', 'HEAD:plans/deep/x.yaml'), 'x: 1'),
    ],
    ['a deleted file', () => rm(twinFile('scripts/new.sh')), () => assert.equal(rig.git('ls-tree', 'HEAD', 'scripts/new.sh'), '')],
    [
      'a file in a folder that was empty (the folders kept clean by their stamps)',
      async () => {
        await mkdir(twinFile('plans/empty/inner'), { recursive: true })
        // The empty folders, settled and found clean first: their stamps are kept.
        await settleClean()
        assert.equal(quickClean(rig.twinDir).clean, true, 'empty folders are clean')
        await writeFile(twinFile('plans/empty/inner/late.yaml'), 'late: 1\n')
      },
      () => assert.equal(rig.git('show', 'HEAD:plans/empty/inner/late.yaml'), 'late: 1'),
    ],
    [
      'a mode change',
      () => chmod(twinFile('plans/deep/x.yaml'), 0o755),
      () => assert.match(rig.git('ls-tree', 'HEAD', 'plans/deep/x.yaml'), /^100755 /),
    ],
  ]
  for (const [what, edit, committed] of edits) {
    it(`${what} in the twin is seen and committed by the next snapshot`, async () => {
      await settleClean()
      const before = rig.git('rev-parse', 'HEAD')
      await edit()
      assert.equal(quickClean(rig.twinDir).clean, false)
      assert.notDeepEqual(await dirty(), [])
      const result = await snapshot()
      assert.notEqual(result.commit, undefined, 'a commit')
      assert.equal(rig.git('rev-parse', 'HEAD^'), before)
      committed(result)
      assert.equal(rig.git('status', '--porcelain'), '')
    })
  }

  it('an edit of a provider\'s twin file is kept as pending intent, never dropped', async () => {
    await settleClean()
    await writeFile(twinFile('system/notes.json'), `${JSON.stringify({ text: 'wanted\n' })}\n`)
    assert.equal(quickClean(rig.twinDir).clean, false)
    const result = await snapshot()
    assert.deepEqual(result.pending, ['system/notes.json'])
    assert.equal(JSON.parse(await readFile(twinFile('system/notes.json'), 'utf8')).text, 'wanted\n')
    // Put back as observed, for the tests after this one.
    rig.git('checkout', 'HEAD', '--', 'system/notes.json')
    assert.equal((await snapshot()).pending.length, 0)
  })

  it('HEAD moved by another git (a commit, a soft reset) or an index changed by `git add` is seen', async () => {
    await settleClean()
    // A commit by someone else: HEAD moves; the twin is still clean, as git says.
    rig.git('-c', 'user.name=x', '-c', 'user.email=x@x', 'commit', '--quiet', '--allow-empty', '-m', 'by hand')
    assert.equal(quickClean(rig.twinDir).clean, false)
    assert.equal(await rig.twin().head(), rig.git('rev-parse', 'HEAD'))
    assert.deepEqual(await dirty(), [])
    // A soft reset: HEAD goes back, the index keeps what the later commit had (staged).
    await writeFile(twinFile('scripts/staged.sh'), 'echo staged\n')
    rig.git('add', 'scripts/staged.sh')
    rig.git('-c', 'user.name=x', '-c', 'user.email=x@x', 'commit', '--quiet', '-m', 'staged by hand')
    await settleClean()
    rig.git('reset', '--quiet', '--soft', 'HEAD~1')
    assert.equal(quickClean(rig.twinDir).clean, false)
    assert.deepEqual(await dirty(), ['scripts/staged.sh'])
    rig.git('-c', 'user.name=x', '-c', 'user.email=x@x', 'commit', '--quiet', '-m', 'again')
    // `git add` of an edit: the working file and its index entry agree, HEAD does not.
    await settleClean()
    await writeFile(twinFile('scripts/staged.sh'), 'echo edited\n')
    rig.git('add', 'scripts/staged.sh')
    await settleClean().then(
      () => assert.fail('a staged edit must not be taken for clean'),
      () => undefined,
    )
    assert.equal(quickClean(rig.twinDir).clean, false)
    assert.deepEqual(await dirty(), ['scripts/staged.sh'])
    const result = await snapshot()
    assert.notEqual(result.commit, undefined)
    assert.equal(rig.git('show', 'HEAD:scripts/staged.sh'), 'echo edited')
  })

  /** Make the machine change so that the next snapshot commits (the notes provider's file). */
  async function snapshotThatCommits(text: string): Promise<string> {
    await writeFile(join(rig.root, 'etc/notes'), text)
    const result = await snapshot()
    assert.notEqual(result.commit, undefined, 'the snapshot committed')
    return result.commit as string
  }

  const withoutGit = async <T>(run: () => Promise<T>): Promise<T> => {
    setOwnPathForTests('/nonexistent')
    try {
      return await run()
    } finally {
      setOwnPathForTests(undefined)
    }
  }

  it('right after a snapshot that committed, the twin is known clean without git: the files it wrote are proved by their content', async () => {
    await settleClean()
    const commit = await snapshotThatCommits('second\n')
    const quick = quickClean(rig.twinDir)
    assert.deepEqual([quick.clean, quick.staleStatData], [true, true], 'clean, proved by content (the new entries have no stat data yet)')
    assert.deepEqual(await withoutGit(() => dirty()), [], 'no git asked')
    assert.equal(await withoutGit(() => rig.twin().isExactly(commit)), true)
    // The next unchanged snapshot refreshes the stat data: nothing left to hash.
    await pastThisSecond()
    assert.equal((await snapshot()).commit, undefined)
    assert.deepEqual(Object.values(pick(quickClean(rig.twinDir))), [true, false])
  })

  // The record of the commit and the hashing of unproved files are a cache: each must give way to an edit.
  it('an edit after a snapshot that committed (same size, before the stat data is refreshed) is seen, by its content', async () => {
    await settleClean()
    await snapshotThatCommits('third\n')
    // The file the commit just wrote, edited in the same instant to the same size: stat data would not tell.
    const doc = twinFile('system/notes.json')
    const text = await readFile(doc, 'utf8')
    await writeFile(doc, text.replace('third', 'THIRD'))
    assert.equal(quickClean(rig.twinDir).clean, false, 'not taken for clean')
    assert.equal(quickClean(rig.twinDir, { anySize: true }).clean, false)
    assert.equal(await rig.twin().isExactly(rig.git('rev-parse', 'HEAD')), false)
    assert.deepEqual(await dirty(), ['system/notes.json'])
    const result = await snapshot()
    assert.deepEqual(result.pending, ['system/notes.json'], 'kept as pending intent')
    rig.git('checkout', 'HEAD', '--', 'system/notes.json')
    assert.equal((await snapshot()).pending.length, 0)
  })

  it('a clean record for this HEAD and index does not make an edited file clean: its content decides', async () => {
    await settleClean()
    await snapshotThatCommits('fourth\n')
    assert.equal(quickClean(rig.twinDir).clean, true)
    // A file whose stat data is proved (not written by the commit), edited to another content of the same size.
    const readme = twinFile('plans/README.md')
    const text = await readFile(readme, 'utf8')
    await writeFile(readme, text.replace('plans', 'PLANS'))
    assert.equal(quickClean(rig.twinDir).clean, false)
    assert.deepEqual(await dirty(), ['plans/README.md'])
    await writeFile(readme, text)
    assert.equal(quickClean(rig.twinDir).clean, true, 'the same bytes again: clean by content')
    assert.deepEqual(await withoutGit(() => dirty()), [])
  })

  it('status and plan right after a snapshot that committed, without git: nothing at first, then a machine change as drift and a twin edit as pending', async () => {
    await settleClean()
    const commit = await snapshotThatCommits('fifth\n')
    const status = () => rig.container.resolve(StatusWorkflow).status(undefined)
    // The notes provider only: an earlier test left an instruction file in plans/ that is no plan.
    const plan = () => rig.container.resolve(Planner).plan({ only: ['notes'] })
    await withoutGit(async () => {
      const quiet = await status()
      assert.deepEqual([quiet.drift, quiet.pending.count, quiet.observed, quiet.head], [false, 0, commit, commit])
      const planned = await plan()
      assert.deepEqual([planned.changes.length, planned.basis.twinCommit], [0, commit])
      // The machine moves: drift, read against the last snapshot from the working twin.
      await writeFile(join(rig.root, 'etc/notes'), 'sixth\n')
      const drifted = await status()
      assert.deepEqual([drifted.drift, drifted.changes.map((c) => c.resource), drifted.pending.count], [true, ['/etc/notes'], 0])
      await writeFile(join(rig.root, 'etc/notes'), 'fifth\n')
    })
    // A person's edit in the twin (of a file the commit just wrote): pending, and planned.
    await writeFile(twinFile('system/notes.json'), `${JSON.stringify({ text: 'wanted\n' })}\n`)
    const pending = await status()
    assert.deepEqual([pending.pending.count, pending.pending.items.map((i) => i.resource)], [1, ['/etc/notes']])
    const planned = await plan()
    assert.deepEqual([planned.changes.map((c) => c.resource), planned.basis.twinCommit], [['/etc/notes'], null])
    rig.git('checkout', 'HEAD', '--', 'system/notes.json')
  })

  it("status meeting a scheduled snapshot, an edit in the twin git is blind to: status shows it pending and writes nothing of git's; a snapshot starting meanwhile is not refused", async () => {
    await settleClean()
    await snapshotThatCommits('blind\n')
    const index = twinFile('.git/index')
    await blindEdits(
      rig.twinDir,
      'system/notes.json',
      async () => {
        rig.git('update-index', '-q', '--refresh')
      },
      async (sameSecond, tried) => {
        if (sameSecond) assert.equal(rig.git('status', '--porcelain'), '', `git is blind (try ${tried})`)
        const before = await readFile(index)
        const other = snapshotAtIndexLock(rig)
        let status
        try {
          status = await rig.container.resolve(StatusWorkflow).status(undefined)
        } finally {
          other.restore()
        }
        assert.deepEqual(other.refused, [], `a snapshot started while status held git's index lock (try ${tried})`)
        assert.ok((await readFile(index)).equals(before), `git's index as it was (try ${tried})`)
        assert.deepEqual(status.pending.items.map((i) => i.resource), ['/etc/notes'], `the edit is pending (try ${tried})`)
      },
      (text) => text.replace('blind', 'BLIND'),
    )
  })

  it("a provider's document edited so git cannot see it, beside a file deleted in the same second: the snapshot keeps the edit pending, never writes the machine's over it", async () => {
    await settleClean()
    const gone = twinFile('plans/0-gone.md') // before system/notes.json in git's order
    await writeFile(gone, 'gone\n')
    await snapshotThatCommits('blind\n')
    await blindEdits(
      rig.twinDir,
      'system/notes.json',
      async () => {
        rig.git('update-index', '-q', '--refresh')
        await rm(gone)
      },
      async (sameSecond, tried) => {
        if (sameSecond) assert.equal(rig.git('status', '--porcelain'), 'D plans/0-gone.md', `git sees the deletion alone (try ${tried})`)
        await writeFile(join(rig.root, 'etc/notes'), 'other\n')
        const result = await snapshot()
        assert.deepEqual(result.pending, ['system/notes.json'], `the edit is pending (try ${tried})`)
        assert.match(await readFile(twinFile('system/notes.json'), 'utf8'), /BLIND/, `the edit is in the working twin (try ${tried})`)
        assert.deepEqual([rig.git('ls-tree', 'HEAD', 'plans/0-gone.md'), (JSON.parse(rig.git('show', 'HEAD:system/notes.json')) as { text: string }).text], ['', 'other\n'], `the deletion and the machine committed (try ${tried})`)
        // As before the try: the machine, the document and the deleted file.
        await writeFile(join(rig.root, 'etc/notes'), 'blind\n')
        await writeFile(twinFile('system/notes.json'), `${JSON.stringify({ text: 'blind\n' })}\n`)
        await writeFile(gone, 'gone\n')
        assert.deepEqual((await snapshot()).pending, [])
      },
      (text) => text.replace('blind', 'BLIND'),
    )
  })

  it('a twin above the size cut-off is left to git (cheaper there): git is asked, and an edit is still seen and committed', async () => {
    await settleClean()
    const limit = quickCleanLimit.entries
    quickCleanLimit.entries = 1
    try {
      const quick = quickClean(rig.twinDir)
      assert.deepEqual([quick.clean, quick.clean || quick.staleStatData], [false, false], 'git is asked; stat data present, no refresh')
      assert.equal(quickClean(rig.twinDir, { anySize: true }).clean, true, 'the full check still finds it clean')
      setOwnPathForTests('/nonexistent')
      await assert.rejects(dirty(), 'without git the clean twin is not known clean: git is the one asked')
      setOwnPathForTests(undefined)
      assert.deepEqual(await dirty(), [])
      const before = rig.git('rev-parse', 'HEAD')
      const text = await readFile(twinFile('plans/README.md'), 'utf8')
      await writeFile(twinFile('plans/README.md'), text.replace('# plans', '# PLANS'))
      assert.deepEqual(await dirty(), ['plans/README.md'])
      const result = await snapshot()
      assert.notEqual(result.commit, undefined, 'a commit')
      assert.equal(rig.git('rev-parse', 'HEAD^'), before)
      assert.match(rig.git('show', 'HEAD:plans/README.md'), /# PLANS/)
      // Entries without stat data (`read-tree`, as the first snapshot's index has them): above the
      // cut-off too the next unchanged snapshot refreshes them (else git hashes their files at every status).
      await pastThisSecond()
      assert.deepEqual(await rig.twin().dirtyPaths({ underLock: true }), [])
      rig.git('read-tree', 'HEAD')
      assert.equal((quickClean(rig.twinDir) as { staleStatData: boolean }).staleStatData, true)
      assert.equal((await snapshot()).commit, undefined)
      assert.deepEqual(Object.values(pick(quickClean(rig.twinDir, { anySize: true }))), [true, false], 'refreshed by the unchanged snapshot')
    } finally {
      setOwnPathForTests(undefined)
      quickCleanLimit.entries = limit
    }
  })

  it('a file just rewritten with the same bytes (racy, its stat data proves nothing) is compared by content: clean; other bytes of the same size: not', async () => {
    await settleClean()
    const text = await readFile(twinFile('plans/README.md'), 'utf8')
    await writeFile(twinFile('plans/README.md'), text)
    const quick = quickClean(rig.twinDir)
    assert.deepEqual([quick.clean, quick.staleStatData], [true, true], 'clean by content; the stat data to be refreshed')
    await writeFile(twinFile('plans/README.md'), text.toUpperCase())
    assert.equal(quickClean(rig.twinDir).clean, false)
    await writeFile(twinFile('plans/README.md'), text)
    assert.equal((await snapshot()).commit, undefined, 'the same bytes: nothing to commit')
    assert.equal(quickClean(rig.twinDir).clean, true)
  })
})

describe('a first snapshot and a changed one check the twin without `git status` (quick-status.ts)', function () {
  this.timeout(60_000)
  it('the init commit and each snapshot\'s move record their index as clean; the files they wrote are compared by content; trees and commits made in Node', async () => {
    const rig = await unitRig([notesProvider('notes')])
    const bin = join(rig.dir, 'bin')
    const log = join(rig.dir, 'git.log')
    const real = execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim()
    await mkdir(bin)
    await writeFile(join(bin, 'git'), `#!/bin/sh\necho "$*" >> ${log}\nexec ${real} "$@"\n`, { mode: 0o755 })
    // TwinSync looks for git in the distribution's folders first (own-env.ts): the wrapper is put before them for this test.
    setOwnPathForTests(`${bin}:${SAFE_PATH}`)
    try {
      await writeFile(join(rig.root, 'etc/notes'), 'first\n')
      await rig.twin().init({ formatVersion: 1, machineId: null, hostname: 'unit' })
      const first = await rig.container.resolve(SnapshotService).snapshot()
      assert.notEqual(first.commit, undefined)
      await writeFile(join(rig.root, 'etc/notes'), 'second\n')
      const second = await rig.container.resolve(SnapshotService).snapshot()
      assert.notEqual(second.commit, undefined)
      execFileSync('git', ['--version'], { env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } })
      const ran = (await readFile(log, 'utf8')).split('\n')
      assert.ok(ran.includes('--version'), 'the wrapper sees git run')
      // The refs moved in Node too (ref-update.ts).
      assert.deepEqual(ran.filter((l) => /update-ref/.test(l)), [], 'no update-ref')
      assert.deepEqual(ran.filter((l) => / status /.test(l)), [], 'no git status')
      // From a clean twin, the trees, the changes and the commit are made in Node (atomic-snapshot.ts).
      assert.deepEqual(ran.filter((l) => /(?:^| )(?:update-index|write-tree|diff-tree|commit-tree|rev-parse)(?: |$)/.test(l)), [], 'no plumbing git for the tree and the commit')
    } finally {
      setOwnPathForTests(undefined)
    }
    assert.equal(rig.git('status', '--porcelain'), '')
    assert.equal(quickClean(rig.twinDir).clean, true)
    execFileSync('git', ['-C', rig.twinDir, 'fsck', '--strict', '--no-progress'])
    await rig.cleanup()
  })
})

function pick(quick: ReturnType<typeof quickClean>): { clean: boolean; staleStatData: boolean } {
  return { clean: quick.clean, staleStatData: quick.staleStatData }
}

describe('editedSinceIndexed: which of the files a snapshot writes over a person edited (quick-status.ts)', function () {
  this.timeout(60_000)
  let dir: string
  const g = (args: string[]) => execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8' })
  beforeEach(async () => {
    dir = execFileSync('mktemp', ['-d'], { encoding: 'utf8' }).trim()
    g(['init', '-q'])
    for (const name of ['a', 'b', 'c', 'd']) await writeFile(join(dir, name), `${name}\n`)
    g(['add', '.'])
    g(['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-m', 'x'])
    // Stat data older than the index (not racy): then a stat match proves a file unchanged.
    execFileSync('touch', ['-d', '2 minutes ago', join(dir, 'a'), join(dir, 'b'), join(dir, 'c'), join(dir, 'd')])
    g(['update-index', '--refresh'])
  })
  afterEach(async () => rm(dir, { recursive: true, force: true }))

  it('names an edit, a removal and another kind; not an unchanged file, a file written back the same, nor a path the index does not hold', async () => {
    const index = readIndex(dir)
    assert.ok(index !== undefined)
    await writeFile(join(dir, 'a'), 'edited\n')
    await rm(join(dir, 'b'))
    await writeFile(join(dir, 'c'), 'c\n') // new stat data, same content: hashed, the same
    await rm(join(dir, 'd'))
    await mkdir(join(dir, 'd'))
    await writeFile(join(dir, 'new'), 'x\n')
    assert.deepEqual(editedSinceIndexed(dir, index, new Set(['a', 'b', 'c', 'd', 'new'])), ['a', 'b', 'd'])
    assert.deepEqual(editedSinceIndexed(dir, index, new Set(['c'])), [])
  })

  it('an edit of the same size with its times set back is found by content when the stat data does not prove it', async () => {
    const index = readIndex(dir)
    assert.ok(index !== undefined)
    await writeFile(join(dir, 'a'), 'z\n')
    execFileSync('touch', ['-d', '2 minutes ago', join(dir, 'a')])
    // ctime moved with the write: the stat data doubts it, the content decides.
    assert.deepEqual(editedSinceIndexed(dir, index, new Set(['a'])), ['a'])
  })

  it('finds the few paths asked by search, in the index\'s order, not by a look at every entry; an index out of order is looked through whole (session 50)', async () => {
    const names = Array.from({ length: 400 }, (_, i) => `f/${String(i).padStart(3, '0')}`)
    await mkdir(join(dir, 'f'))
    for (const name of names) await writeFile(join(dir, name), `${name}\n`)
    g(['add', '.'])
    execFileSync('touch', ['-d', '2 minutes ago', ...names.map((n) => join(dir, n))])
    g(['update-index', '--refresh'])
    const index = readIndex(dir)
    assert.ok(index !== undefined)
    await writeFile(join(dir, 'f/300'), 'edited\n')
    await writeFile(join(dir, 'f/007'), 'edited\n')
    /** A set that counts the lookups made in it. */
    class Counted extends Set<string> {
      looked = 0
      override has(value: string): boolean {
        this.looked++
        return super.has(value)
      }
    }
    const asked = new Counted(['f/300', 'f/007', 'f/100', 'not-held'])
    assert.deepEqual(editedSinceIndexed(dir, index, asked), ['f/007', 'f/300'], "the edits, in the index's order")
    assert.ok(asked.looked < 10, `${asked.looked} lookups in the set asked, not one an entry (${index.paths.length})`)
    // The same index with its entries out of git's order (a hand-made index): the paths are found all the same.
    const order = index.paths.map((_, i) => i).reverse()
    const unordered = { ...index, paths: order.map((i) => index.paths[i] as string), statAt: Uint32Array.from(order.map((i) => index.statAt[i] as number)) }
    assert.deepEqual((editedSinceIndexed(dir, unordered, new Set(['f/300', 'f/007', 'f/100'])) ?? []).sort(), ['f/007', 'f/300'], 'found in an index out of order')
  })
})

describe("an index entry git's second-grained stat check cannot vouch for, written by a git TwinSync does not smudge after (quickClean's `differs`, smudgeWrittenIndex)", function () {
  this.timeout(60_000)
  let dir: string
  const g = (args: string[]) => execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8', env: { ...process.env, GIT_OPTIONAL_LOCKS: '0' } })
  const twinAt = () => new TwinRepository({ dir, source: 'flag' }, (d) => new SimpleGitClient(d))
  beforeEach(async () => {
    dir = execFileSync('mktemp', ['-d'], { encoding: 'utf8' }).trim()
    g(['init', '-q'])
    await mkdir(join(dir, '.git', 'twinsync'), { recursive: true })
    await writeFile(join(dir, 'a'), 'machine 1\n')
    g(['add', 'a'])
    g(['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-m', 'x'])
  })
  afterEach(async () => rm(dir, { recursive: true, force: true }))

  it("refreshIndex (smudgeCtimeRacy): a file whose ctime moved without its mtime (a move's rename, a chmod) just before a refresh, then edited in that second with its size and mtime kept: git status sees the edit", async () => {
    await blindEdits(dir, 'a',
      async () => {
        const index = readIndex(dir)
        assert.ok(index !== undefined)
        assert.equal(await refreshIndex(dir, index), true, 'refreshed')
      },
      async (_sameSecond, tried) => {
        assert.equal(g(['status', '--porcelain']), ' M a\n', `git sees the edit (try ${tried})`)
        assert.equal(quickClean(dir, { anySize: true }).clean, false)
      },
    )
  })

  it("dirtyPaths: git (a person's `git update-index --refresh`) took the edited file for unchanged; the look names it, and every git after it sees it; git's own index is written only under the twin lock", async () => {
    const index = join(dir, '.git', 'index')
    await blindEdits(dir, 'a',
      async () => {
        g(['update-index', '-q', '--refresh'])
      },
      async (sameSecond, tried) => {
        // What the case is about: git itself blind to the edit.
        if (sameSecond) assert.equal(g(['status', '--porcelain']), '', `git is blind (try ${tried})`)
        // `plan` and `status` (no twin lock): git's index is left as it is (its lock never taken).
        const before = await readFile(index)
        assert.deepEqual(await twinAt().dirtyPaths(), ['a'], `the look names the edit (try ${tried})`)
        assert.ok((await readFile(index)).equals(before), `git's index as it was (try ${tried})`)
        // An intent's (and a snapshot's draft's) `git add --all` on a copy of the index takes the edit.
        const tree = await workingTree(dir)
        assert.equal(g(['rev-parse', `${tree}:a`]).trim(), g(['hash-object', 'a']).trim(), `the working tree has the edit (try ${tried})`)
        // A snapshot's look (under the twin lock): smudged in git's index, and git sees it.
        assert.deepEqual(await twinAt().dirtyPaths({ underLock: true }), ['a'])
        assert.equal(g(['status', '--porcelain']), ' M a\n', `git sees it now (try ${tried})`)
      },
    )
  })

  it("a file deleted beside an edit git is blind to, in the same second: the look goes on past the missing file and names both, and every git after it sees both", async () => {
    const gone = join(dir, '0-gone') // before `a` in git's order
    await writeFile(gone, 'gone\n')
    g(['add', '0-gone'])
    g(['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-m', 'y'])
    await blindEdits(dir, 'a',
      async () => {
        await writeFile(gone, 'gone\n')
        g(['update-index', '-q', '--refresh'])
        await rm(gone)
      },
      async (sameSecond, tried) => {
        if (sameSecond) assert.equal(g(['status', '--porcelain']), ' D 0-gone\n', `git sees the deletion alone (try ${tried})`)
        assert.deepEqual(await twinAt().dirtyPaths(), ['0-gone', 'a'], `status's look names both (try ${tried})`)
        const tree = await workingTree(dir)
        assert.deepEqual([g(['ls-tree', '--name-only', tree]), g(['rev-parse', `${tree}:a`]).trim()], ['a\n', g(['hash-object', 'a']).trim()], `the working tree has both (try ${tried})`)
        assert.deepEqual(await twinAt().dirtyPaths({ underLock: true }), ['0-gone', 'a'], `a snapshot's look names both (try ${tried})`)
        assert.equal(g(['status', '--porcelain']), ' D 0-gone\n M a\n', `git sees both after it (try ${tried})`)
      },
    )
  })

  it("killed between the smudged index's link as git's lock and its rename: settling removes the lock, the index is whole", async () => {
    const index = readIndex(dir)
    assert.ok(index !== undefined)
    const point = killAt((call) => call.startsWith('renameSync(') && call.endsWith('/.git/index.lock)'))
    try {
      assert.equal(smudgeIndexedPaths(dir, index, ['a']), false)
    } finally {
      point.restore()
    }
    assert.ok(point.hit, 'killed at the rename')
    assert.ok((await stat(join(dir, '.git', 'index.lock')).catch(() => undefined)) !== undefined, "git's index lock left")
    asGoneRun(dir)
    const settled = await settleSnapshot(dir)
    assert.ok(settled.tempFiles.includes(join('.git', 'index.lock')), settled.tempFiles.join(', '))
    assert.equal(await stat(join(dir, '.git', 'index.lock')).catch(() => undefined), undefined)
    assert.deepEqual(await readdir(join(dir, '.git', 'twinsync')), [])
    assert.equal(g(['status', '--porcelain']), '')
    assert.equal(smudgeIndexedPaths(dir, readIndex(dir) as NonNullable<ReturnType<typeof readIndex>>, ['a']), true, 'smudged once nothing is left')
    assert.equal(g(['status', '--porcelain']), '')
  })

  it("a refresh of git's own index before `reset --keep` (a pull --take-mirror) is not smudged: reset takes the entry it refreshed for up to date", async () => {
    const file = join(dir, 'a')
    await writeFile(file, 'machine 2\n')
    g(['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-am', 'y'])
    execFileSync('touch', ['-m', '-d', '2 minutes ago', file])
    g(['update-index', '-q', '--refresh'])
    await new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000) + 20))
    await chmod(file, 0o600) // ctime moves in this second: the refresh records it
    await runGit(dir, ['update-index', '-q', '--refresh'])
    await runGit(dir, ['reset', '--keep', '--quiet', 'HEAD~1'])
    assert.equal(await readFile(file, 'utf8'), 'machine 1\n')
  })

  // Session 44: `git commit` refreshes git's own index and writes it (init's fallback commit, adopt's
  // commit after its `add --all`); it was the one index-writing git TwinSync ran without the smudge.
  it("`git commit` (init's fallback, adopt's: SimpleGitClient.commit) smudges what its refresh recorded in the second of a file's ctime change: git status sees the edit after it", async () => {
    let n = 0
    await blindEdits(dir, 'a',
      async () => {
        await writeFile(join(dir, 'b'), `asked ${++n}\n`)
        g(['add', 'b'])
        await new SimpleGitClient(dir).commit(`b ${n}`)
      },
      async (_sameSecond, tried) => {
        assert.equal(g(['status', '--porcelain']), ' M a\n', `git sees the edit (try ${tried})`)
      },
    )
  })

  it("adopt's `git add --all` (stageAll) smudges what it recorded in the second of a file's ctime change: git status sees the edit after it", async () => {
    await blindEdits(dir, 'a',
      async () => {
        await twinAt().stageAll()
      },
      async (_sameSecond, tried) => {
        assert.equal(g(['status', '--porcelain']), ' M a\n', `git sees the edit (try ${tried})`)
      },
    )
  })
})
