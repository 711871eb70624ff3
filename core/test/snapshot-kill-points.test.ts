import { strict as assert } from 'node:assert'
import { execFileSync } from 'node:child_process'
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inflateSync } from 'node:zlib'
import fs from 'node:fs'
import { syncBuiltinESMExports } from 'node:module'
import { createHash } from 'node:crypto'
import { SnapshotDraft, settleSnapshot } from '../src/twin/atomic-snapshot.js'
import { forgetCruftAnswer, hasCruftPacks } from '../src/twin/auto-pack.js'
import { readHead, readIndex, readRefId } from '../src/twin/quick-status.js'
import { asGoneRun, killAt } from './support/kill-points.js'

/**
 * A snapshot's commit stopped at every step it takes on disk, in a real git twin: killed there
 * (nothing more happens), or failing there (an I/O error: the caller throws the draft away, as
 * SnapshotService does). After the next run's settling the twin is the old snapshot or the new
 * one, whole: HEAD is one of the two, the observed ref moved with it, and the working twin and
 * index are exactly it, nothing left over. The move holds every kind of change: a file changed, one removed, a file that becomes a
 * folder (a new file in a new folder) and a folder that becomes a file (session 17's chaos run: a kill after `morph` became
 * a folder, settled, left HEAD at the new snapshot without `morph/inner`; `plan` then proposed
 * to delete it from the machine).
 * Both ways a commit's objects reach the store: one small pack (a git with cruft packs, since
 * session 31; a kill between the pack's rename and its index's leaves a pack git never reads)
 * and loose objects (an older git).
 */
describe('a snapshot killed or failing at each step of its commit is the old snapshot or the new one', function () {
  this.timeout(180_000)
  let template: string
  let work: string
  const OLD = new Map([
    ['morph', 'a file\n'],
    ['dir/a', 'a\n'],
    ['dir/deep/b', 'b\n'],
    ['gone', 'gone\n'],
    ['same', 'same\n'],
    ['changed', 'old\n'],
  ])
  const NEW = new Map([
    ['morph/inner', 'now in a folder\n'],
    ['dir', 'now a file\n'],
    ['same', 'same\n'],
    ['changed', 'new\n'],
  ])

  before(() => {
    template = mkdtempSync(join(tmpdir(), 'twinsync-kill-points-'))
    const twin = join(template, 'twin')
    mkdirSync(twin)
    execFileSync('git', ['init', '-q', twin])
    for (const [path, text] of OLD) {
      mkdirSync(join(twin, path, '..'), { recursive: true })
      writeFileSync(join(twin, path), text)
    }
    execFileSync('git', ['-C', twin, 'add', '.'])
    execFileSync('git', ['-C', twin, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'old'])
    execFileSync('git', ['-C', twin, 'update-ref', 'refs/twinsync/observed', 'HEAD'])
    mkdirSync(join(twin, '.git', 'twinsync'))
    rmSync(join(twin, '.git', 'hooks'), { recursive: true })
    work = join(template, 'work')
  })
  after(() => rmSync(template, { recursive: true, force: true }))

  const git = (...args: string[]) => execFileSync('git', ['--no-optional-locks', '-C', work, ...args], { encoding: 'utf8' })

  const listing = (path: string) => {
    try {
      return readdirSync(path)
    } catch {
      return []
    }
  }

  const blobOf = (text: string) => createHash('sha1').update(`blob ${Buffer.byteLength(text)}\0`).update(text).digest('hex')

  /** A commit's tree and (first) parent: read in Node when loose, else by git (in a small pack). */
  function commitOf(dir: string, id: string): { tree: string | undefined; parent: string | undefined } {
    const loose = join(dir, '.git', 'objects', id.slice(0, 2), id.slice(2))
    const text = listing(join(loose, '..')).includes(id.slice(2))
      ? inflateSync(readFileSync(loose)).toString('latin1')
      : `commit\0${execFileSync('git', ['-C', dir, 'cat-file', 'commit', id], { encoding: 'latin1' })}`
    return { tree: /\ntree ([0-9a-f]{40})\n/.exec(`\n${text.slice(text.indexOf('\0') + 1)}`)?.[1], parent: /\nparent ([0-9a-f]{40})\n/.exec(text)?.[1] }
  }

  /**
   * Whether the draft writes its objects as one small pack (git with cruft packs) or loose: the
   * template's cached answer (auto-pack.ts hasCruftPacks) set, which each copy of it reads.
   */
  async function objectsAs(how: 'pack' | 'loose'): Promise<void> {
    const twin = join(template, 'twin')
    const cache = join(twin, '.git', 'twinsync', 'cache', 'git-version.json')
    // git asked again (not the answer the variant before set).
    rmSync(cache, { force: true })
    forgetCruftAnswer()
    const cruft = await hasCruftPacks(twin)
    assert.ok(cruft || how === 'loose', "this git has cruft packs (the test bed's Debian 12 has git 2.39)")
    writeFileSync(cache, JSON.stringify({ ...(JSON.parse(readFileSync(cache, 'utf8')) as object), cruft: how === 'pack' }))
    forgetCruftAnswer()
  }

  /** The working twin's files and their text (.git aside). */
  function files(dir: string, under = ''): Map<string, string> {
    const out = new Map<string, string>()
    for (const e of readdirSync(join(dir, under), { withFileTypes: true })) {
      const path = under === '' ? e.name : `${under}/${e.name}`
      if (path === '.git') continue
      if (e.isDirectory()) for (const [p, t] of files(dir, path)) out.set(p, t)
      else out.set(path, readFileSync(join(dir, path), 'utf8'))
    }
    return out
  }

  /** The new snapshot, with the draft's own calls, stopped at step `at`; the steps it took. */
  async function snapshotStoppedAt(at: number, mode: 'kill' | 'fail', expected?: string): Promise<{ steps: number; hit: boolean; calls: readonly string[] }> {
    rmSync(work, { recursive: true, force: true })
    cpSync(join(template, 'twin'), work, { recursive: true })
    const point = killAt(at, mode)
    try {
      const draft = await SnapshotDraft.begin(work, { edited: false })
      try {
        for (const [path, text] of NEW) draft.write({ path, content: text })
        for (const path of OLD.keys()) if (!NEW.has(path)) draft.remove(path)
        const { tree } = await draft.build({ edited: false })
        // As a snapshot's: the observed ref moves with the rest.
        await draft.commit(tree, 'new', ['refs/twinsync/observed'])
      } catch (error) {
        // What the snapshot's caller does when its commit throws (SnapshotService.observe); a killed run does nothing more.
        if (mode === 'fail') await draft.discard().catch(() => undefined)
        throw error
      }
    } catch (error) {
      // `expected`: the code the whole run (not stopped) fails with.
      if (!point.hit && (expected === undefined || (error as { code?: string }).code !== expected)) throw error
    } finally {
      // Anything the run left running gets its turn while it is still dead.
      await new Promise((resolve) => setImmediate(resolve))
      point.restore()
    }
    return { steps: point.steps, hit: point.hit, calls: point.calls }
  }

  after(() => forgetCruftAnswer())
  for (const objects of ['loose', 'pack'] as const)
  for (const mode of ['kill', 'fail'] as const) {
    it(`${mode === 'kill' ? 'killed' : 'failing'} at every step, its objects ${objects === 'pack' ? 'one small pack' : 'loose'}: settled, the twin is whole (old or new), nothing left over`, async () => {
      await objectsAs(objects)
      const old = execFileSync('git', ['-C', join(template, 'twin'), 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim()
      let outcomes = { old: 0, new: 0 }
      let orphaned = 0
      let newTree: string | undefined
      // Every step's problems, so that a failure names each step it happens at.
      const failures: string[] = []
      // A failure before the move is recorded is a throw with nothing visible yet (the draft's own
      // files, removed by discard); a kill there is tried at each step (of the objects' calls, the first object's). Step numbers from a whole run.
      const whole = await snapshotStoppedAt(Number.POSITIVE_INFINITY, mode)
      const recorded = whole.calls.findIndex((c) => c.includes('snapshot-in-progress.json')) + 1
      const from = mode === 'kill' ? 1 : recorded
      assert.ok(recorded > 0 && whole.steps > recorded)
      // Before the record, the draft writes each new object with the same four calls (its folder, a
      // temp file, the link, the temp's removal): a kill at the second object's calls leaves what one at
      // the first's does, one more loose object aside, so only the first object's are tried (about a
      // quarter of the kill mode's runs; each run is a draft and a settling with their git processes).
      // From the record on, every step is tried: calls that look alike there move different refs.
      const shape = (call: string) => call.replace(/\/objects\/[0-9a-f]{2}\)$/, '/objects/XX)').replace(/\.object\.twinsync-[0-9a-f]+\)$/, '.object.twinsync-X)')
      const tried = new Set<string>()
      const skip = (at: number): boolean => {
        if (at >= recorded) return false
        const call = shape(whole.calls[at - 1] as string)
        if (tried.has(call)) return true
        tried.add(call)
        return false
      }
      if (objects === 'loose') assert.ok(whole.calls.filter((c, i) => i < recorded - 1 && c.includes('.object.twinsync-')).length >= 3 * 2, 'more than one object written before the record')
      else {
        const before = whole.calls.slice(0, recorded - 1)
        assert.ok(!before.some((c) => c.includes('.object.twinsync-')), 'no loose object')
        const pack = before.findIndex((c) => /^renameSync\(.*\/objects\/pack\/tmp_pack_[0-9a-f]+\)$/.test(c))
        assert.ok(pack >= 0 && /^renameSync\(.*\/objects\/pack\/tmp_idx_[0-9a-f]+\)$/.test(before[pack + 1] ?? ''), `the pack, then its index, renamed in before the record: ${before.join(' ')}`)
      }
      for (let at = from; ; at++) {
        if (skip(at)) continue
        const run = await snapshotStoppedAt(at, mode)
        const where = `${mode === 'kill' ? 'killed' : 'failed'} at step ${at}: ${run.calls[at - 1] ?? '(none: the commit ran whole)'}`
        try {
          asGoneRun(work)
          await settleSnapshot(work)
          // Read from .git in Node (a git process a step made this test slow): HEAD, its commit, the index.
          const head = readHead(work)
          assert.ok(typeof head === 'string', 'HEAD')
          const want = head === old ? OLD : NEW
          if (head !== old) {
            const commit = commitOf(work, head)
            assert.equal(commit.parent, old, 'HEAD is the new snapshot')
            newTree ??= commit.tree
            assert.equal(commit.tree, newTree, "the new snapshot's tree")
          }
          assert.equal(readRefId(work, 'refs/twinsync/observed'), head, 'the observed ref is HEAD')
          assert.deepEqual(files(work), want, `the working twin is not the ${head === old ? 'old' : 'new'} snapshot HEAD names`)
          assert.deepEqual(new Map(readIndex(work)?.entries), new Map([...want].map(([path, text]) => [path, { mode: '100644', sha: blobOf(text) }])), 'the index')
          assert.deepEqual(listing(join(work, '.git', 'twinsync')).filter((n) => n !== 'cache' && n !== 'moves'), [], 'left in .git/twinsync')
          assert.deepEqual(listing(join(work, '.git', 'twinsync', 'cache')).filter((n) => !n.endsWith('.json')), [], 'left in the cache')
          assert.deepEqual(listing(join(work, '.git')).filter((n) => n.endsWith('.lock')), [], "git's locks")
          // Killed between the small pack's rename and its index's: a pack without its index, which git never reads (auto-pack.ts removes it once an hour old).
          if (objects === 'pack' && mode === 'kill' && /^renameSync\(.*\/tmp_idx_[0-9a-f]+\)$/.test(run.calls[at - 1] ?? '')) {
            const packs = listing(join(work, '.git', 'objects', 'pack'))
            assert.ok(packs.some((n) => n.endsWith('.pack') && !packs.includes(n.replace(/\.pack$/, '.idx'))), `a pack without its index: ${packs.join(' ')}`)
            assert.equal(git('fsck', '--full', '--strict', '--no-progress', '--no-dangling'), '', 'git fsck')
            orphaned++
          }
          outcomes = head === old ? { ...outcomes, old: outcomes.old + 1 } : { ...outcomes, new: outcomes.new + 1 }
        } catch (error) {
          failures.push(`${where}: ${(error as Error).message.split('\n').slice(0, 8).join(' ')}`)
        }
        if (!run.hit) break // the whole commit ran: every step was tried
      }
      // The new tree is the new snapshot, as git reads it; the twin as git sees it is clean.
      assert.equal(git('ls-tree', '-r', '--format=%(path) %(objectname)', newTree ?? 'HEAD'), [...NEW].map(([path, text]) => `${path} ${blobOf(text)}`).sort().join('\n') + '\n')
      assert.equal(git('status', '--porcelain', '--untracked-files=all'), '')
      assert.equal(failures.length, 0, `${failures.length} steps:\n${failures.join('\n')}`)
      assert.ok(outcomes.old > 3 && outcomes.new > 3, JSON.stringify(outcomes))
      if (objects === 'pack' && mode === 'kill') assert.equal(orphaned, 1, 'a kill between the pack and its index tried')
    })
  }

  // Session 32: a kill after HEAD moved, a person's saves in the working twin, then the next run's
  // settling finished the recorded move over them (the file the move writes got the snapshot's
  // bytes, the one it removes was removed again) with nothing said.
  it('killed at every step from the move record on, then a person saves: settling keeps the saves, and says which', async () => {
    const whole = await snapshotStoppedAt(Number.POSITIVE_INFINITY, 'kill')
    const recorded = whole.calls.findIndex((c) => c.includes('snapshot-in-progress.json')) + 1
    assert.ok(recorded > 0 && whole.steps > recorded)
    const old = execFileSync('git', ['-C', join(template, 'twin'), 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim()
    const SAVES = new Map([
      ['changed', "a person's edit\n"],
      ['gone', "a person's file\n"],
    ])
    const failures: string[] = []
    let claimed = 0
    let finished = 0
    for (let at = recorded; ; at++) {
      const run = await snapshotStoppedAt(at, 'kill')
      const where = `killed at step ${at}: ${run.calls[at - 1] ?? '(none: the commit ran whole)'}`
      try {
        asGoneRun(work)
        for (const [path, text] of SAVES) writeFileSync(join(work, path), text)
        const settled = await settleSnapshot(work)
        const head = readHead(work)
        const base = head === old ? OLD : NEW
        const want = new Map([...base, ...SAVES])
        assert.deepEqual(files(work), want, "the working twin is the snapshot with the person's saves")
        assert.deepEqual(new Map(readIndex(work)?.entries), new Map([...base].map(([path, text]) => [path, { mode: '100644', sha: blobOf(text) }])), 'the index is the snapshot HEAD names')
        assert.deepEqual(listing(join(work, '.git', 'twinsync')).filter((n) => n !== 'cache' && n !== 'moves'), [], 'left in .git/twinsync')
        // Each path settling kept is one it would have written over or removed; none other.
        for (const path of settled.kept) assert.ok(SAVES.has(path), `kept ${path}`)
        if (settled.finished) finished++
        claimed += settled.kept.length
      } catch (error) {
        failures.push(`${where}: ${(error as Error).message.split('\n').slice(0, 8).join(' ')}`)
      }
      if (!run.hit) break
    }
    assert.equal(failures.length, 0, `${failures.length} steps:\n${failures.join('\n')}`)
    // Kills both before the renames (both saves kept, said) and after some of them were tried.
    assert.ok(finished > 3 && claimed > 3, JSON.stringify({ finished, claimed }))
  })

  // The other side of the same rule: a file only touched (a `chmod -R` or `touch` of the twin
  // between the kill and the rerun) is not a save. Kept, it would be the snapshot before's file in
  // the working twin, taken for a person's edit: the plan would undo what the machine did.
  it('killed at every step from the move record on, then the twin is touched, nothing saved: settling finishes the move whole', async () => {
    const whole = await snapshotStoppedAt(Number.POSITIVE_INFINITY, 'kill')
    const recorded = whole.calls.findIndex((c) => c.includes('snapshot-in-progress.json')) + 1
    const old = execFileSync('git', ['-C', join(template, 'twin'), 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim()
    const failures: string[] = []
    let finished = 0
    for (let at = recorded; ; at++) {
      const run = await snapshotStoppedAt(at, 'kill')
      try {
        asGoneRun(work)
        for (const path of ['changed', 'gone', 'same']) {
          if (!existsSync(join(work, path))) continue
          chmodSync(join(work, path), 0o600)
          utimesSync(join(work, path), new Date(2001, 1, 1), new Date(2001, 1, 1))
        }
        const settled = await settleSnapshot(work)
        const head = readHead(work)
        assert.deepEqual(settled.kept, [], 'nothing kept')
        assert.deepEqual(files(work), head === old ? OLD : NEW, 'the working twin is the snapshot HEAD names')
        if (settled.finished) finished++
      } catch (error) {
        failures.push(`killed at step ${at}: ${(error as Error).message.split('\n').slice(0, 8).join(' ')}`)
      }
      if (!run.hit) break
    }
    assert.equal(failures.length, 0, `${failures.length} steps:\n${failures.join('\n')}`)
    assert.ok(finished > 3, String(finished))
  })

  /**
   * The move's rename of `changed` refused every time (as an immutable folder refuses it, EPERM),
   * whoever tries: the move and every settling of it. A test of the fs calls, not of chattr:
   * `twin-move-fails.test.ts` makes the folder immutable for real.
   */
  function refuseRenameOf(path: string): () => void {
    const original = fs.renameSync
    fs.renameSync = ((from: fs.PathLike, to: fs.PathLike) => {
      if (String(to).endsWith(`/${path}`) && String(from).includes('/.git/twinsync/stage/')) {
        throw Object.assign(new Error(`EPERM: operation not permitted, rename '${String(from)}' -> '${String(to)}'`), { code: 'EPERM' })
      }
      original(from, to)
    }) as typeof fs.renameSync
    syncBuiltinESMExports()
    return () => {
      fs.renameSync = original
      syncBuiltinESMExports()
    }
  }

  // Session 33: a move that fails the same way on every try once HEAD moved (session 32's red team:
  // a name the file system refuses) left the move recorded; every later settling failed on it again,
  // and every snapshot, plan and apply stopped with an uncoded error, the twin stuck for good. Now the
  // move is undone (TWIN_MOVE_FAILED): the twin is the old snapshot, whole, even when a kill stops the
  // undo at any step and the failure is still there when the next run settles.
  it("a rename refused on every try: the move is undone to the old snapshot, whole, killed at any step of the undo, a person's saves kept", async () => {
    const old = execFileSync('git', ['-C', join(template, 'twin'), 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim()
    const allow = refuseRenameOf('changed')
    try {
      // Uninterrupted: the snapshot's commit fails, coded, and the twin is the old snapshot.
      rmSync(work, { recursive: true, force: true })
      cpSync(join(template, 'twin'), work, { recursive: true })
      const whole = killAt(Number.POSITIVE_INFINITY)
      let thrown: unknown
      try {
        const draft = await SnapshotDraft.begin(work, { edited: false })
        for (const [path, text] of NEW) draft.write({ path, content: text })
        for (const path of OLD.keys()) if (!NEW.has(path)) draft.remove(path)
        const { tree } = await draft.build({ edited: false })
        await draft.commit(tree, 'new', ['refs/twinsync/observed']).catch(async (error: unknown) => {
          await draft.discard()
          throw error
        })
      } catch (error) {
        thrown = error
      } finally {
        whole.restore()
      }
      assert.equal((thrown as { code?: string }).code, 'TWIN_MOVE_FAILED', String(thrown))
      assert.match((thrown as Error).message, /^The snapshot could not write changed in the working twin \(EPERM: .*\): it was undone, and the twin is the snapshot before it \([0-9a-f]{12}\)$/)
      // Its step: the rename refused (changed's, the third out of the stage); the undo's steps follow.
      const refused = whole.calls.findIndex((c) => c === `renameSync(${join(work, '.git', 'twinsync', 'stage', '2')})`) + 1
      assert.ok(refused > 0, `changed's rename: ${whole.calls.join(' ')}`)
      assert.equal(readHead(work), old, 'HEAD is the old snapshot')
      assert.deepEqual(files(work), OLD, 'the working twin is the old snapshot')
      assert.equal(git('status', '--porcelain', '--untracked-files=all'), '')
      const failures: string[] = []
      let undone = 0
      // And with a person's saves after the kill: one the move removed (maybe put back already), one it never reached. Kept, never undone over.
      const SAVES = new Map([
        ['gone', "a person's file\n"],
        ['changed', "a person's edit\n"],
      ])
      for (const save of [false, true])
      for (let at = refused + 1; ; at++) {
        const run = await snapshotStoppedAt(at, 'kill', 'TWIN_MOVE_FAILED')
        try {
          asGoneRun(work)
          if (save) for (const [path, text] of SAVES) writeFileSync(join(work, path), text)
          // The refusal is still there: the next run's settling finishes the undo (or fails forward again and undoes).
          const marker = join(work, '.git', 'twinsync', 'snapshot-in-progress.json')
          const recorded = existsSync(marker)
          // Killed before the undo's record was written, with `changed` saved: the move no longer
          // writes `changed` (a save is kept), so nothing refuses it, and settling finishes it.
          const forward = save && recorded && (JSON.parse(readFileSync(marker, 'utf8')) as { undo?: unknown }).undo === undefined
          const settled = await settleSnapshot(work)
          const want = forward ? NEW : OLD
          const head = readHead(work)
          assert.ok(forward ? head !== old && settled.finished : head === old, `HEAD is the ${forward ? 'new' : 'old'} snapshot`)
          assert.deepEqual(files(work), save ? new Map([...want, ...SAVES]) : OLD, `the working twin is the ${forward ? 'new' : 'old'} snapshot${save ? " with the person's saves" : ''}`)
          for (const path of settled.kept) assert.ok(save && SAVES.has(path), `kept ${path}`)
          assert.deepEqual(new Map(readIndex(work)?.entries), new Map([...want].map(([path, text]) => [path, { mode: '100644', sha: blobOf(text) }])), 'the index')
          assert.equal(readRefId(work, 'refs/twinsync/observed'), head, 'the observed ref')
          assert.deepEqual(listing(join(work, '.git', 'twinsync')).filter((n) => n !== 'cache' && n !== 'moves'), [], 'left in .git/twinsync')
          assert.deepEqual(listing(join(work, '.git')).filter((n) => n.endsWith('.lock')), [], "git's locks")
          // Killed before the record went (its removal ends the undo): settling says it undid the move.
          if (recorded && !forward) {
            assert.equal(settled.undone?.code, 'TWIN_MOVE_FAILED', 'settling says the move was undone')
            undone++
          }
        } catch (error) {
          failures.push(`killed at step ${at} (${run.calls[at - 1] ?? 'none'})${save ? ', then saves' : ''}: ${(error as Error).message.split('\n').slice(0, 8).join(' ')}`)
        }
        if (!run.hit) break
      }
      assert.equal(failures.length, 0, `${failures.length} steps:\n${failures.join('\n')}`)
      assert.ok(undone > 10, String(undone))
    } finally {
      allow()
    }
  })
})
