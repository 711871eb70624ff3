import { strict as assert } from 'node:assert'
import { execFileSync } from 'node:child_process'
import { appendFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { SAFE_PATH, isTwinSyncError, setOwnPathForTests } from '@twinsync/sdk'
import { collectGarbage } from '../src/history/gc.js'
import { SnapshotLog, kindOf } from '../src/history/snapshot-log.js'
import { HistoryService } from '../src/history/history-service.js'
import { SnapshotWorkflow } from '../src/services/take-snapshot.js'
import { resolveSnapshot } from '../src/twin/git-tree-reader.js'
import { notesProvider } from './support/notes-provider.js'
import { serviceRig } from './support/service-rig.js'

const git = (dir: string, ...args: string[]) => execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8' }).trim()

/** A twin-like repository with commits at given ages, each writing the given files. */
async function repoWith(dir: string, commits: Array<{ message: string; daysAgo: number; files: Record<string, string> }>): Promise<string[]> {
  git(dir, 'init', '-q', '-b', 'main')
  const ids: string[] = []
  for (const c of commits) {
    for (const [path, content] of Object.entries(c.files)) {
      await mkdir(dirname(join(dir, path)), { recursive: true })
      await writeFile(join(dir, path), content)
    }
    const date = new Date(Date.now() - c.daysAgo * 86_400_000).toISOString()
    execFileSync('git', ['-C', dir, 'add', '-A'])
    execFileSync('git', ['-C', dir, '-c', 'user.name=t', '-c', 'user.email=t@x', 'commit', '-q', '--allow-empty', '-m', c.message], {
      env: { ...process.env, GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date },
    })
    ids.push(git(dir, 'rev-parse', 'HEAD'))
  }
  return ids
}

describe('snapshot history', () => {
  let dir: string
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'twinsync-history-'))
  })
  afterEach(() => rm(dir, { recursive: true, force: true }))

  it('tells the kinds of snapshot apart by their message', () => {
    assert.equal(kindOf('TwinSync init'), 'init')
    assert.equal(kindOf('TwinSync snapshot 2026-01-01T00:00:00Z'), 'snapshot')
    // A snapshot's subject is its diary line; its body's stamp says what it is.
    assert.equal(kindOf('files: motd changed · apt: hello installed', 'TwinSync snapshot 2026-01-01T00:00:00Z\n'), 'snapshot')
    assert.equal(kindOf('apt: install hello', 'TwinSync snapshot 2026-01-01T00:00:00Z after apt\n'), 'snapshot')
    assert.equal(kindOf('files: motd changed'), 'other')
    assert.equal(kindOf('TwinSync checkpoint before apply 2026-01-01T00:00:00Z'), 'checkpoint')
    assert.equal(kindOf('TwinSync apply 2026-01-01T00:00:00Z: 1 applied'), 'apply')
    assert.equal(kindOf('TwinSync revert to abc 2026-01-01T00:00:00Z: 1 applied'), 'revert')
    assert.equal(kindOf('TwinSync edit before apply x'), 'edit')
    assert.equal(kindOf('TwinSync adopt apt:remove:curl'), 'adopt')
    assert.equal(kindOf('TwinSync discard apt:install:hello'), 'discard')
    assert.equal(kindOf('manual commit'), 'other')
  })

  it('labels a snapshot once, and refuses bad or taken names', async () => {
    const [first, second] = await repoWith(dir, [
      { message: 'TwinSync init', daysAgo: 2, files: { 'twin.json': '{}' } },
      { message: 'TwinSync snapshot x', daysAgo: 1, files: { 'system/os.json': '{}' } },
    ])
    const log = new SnapshotLog(dir)
    await log.label(first as string, 'before-upgrade')
    assert.deepEqual((await log.get(first as string)).labels, ['before-upgrade'])
    await assert.rejects(log.label(second as string, 'before-upgrade'), (e: unknown) => isTwinSyncError(e) && e.code === 'LABEL_EXISTS')
    for (const bad of ['-x', 'a b', 'a..b', 'x.lock', '', 'a/b']) {
      await assert.rejects(log.label(second as string, bad), (e: unknown) => isTwinSyncError(e) && e.code === 'NAME_INVALID', bad)
    }
    assert.deepEqual((await log.changedPaths(first as string, second as string)).map((e) => `${e.change} ${e.path}`), ['A system/os.json'])
  })

  // Session 44 (attack): git reads a tag before a branch and before an abbreviated id, so a label
  // named like another snapshot's id (as history prints it), like the branch or like HEAD took
  // over that name for show, diff, label, revert and plan --from.
  it('refuses a label git would read before a snapshot id, the branch or one of its own names, and resolves names the person meant', async () => {
    const [first, second] = await repoWith(dir, [
      { message: 'TwinSync init', daysAgo: 2, files: { 'twin.json': '{}' } },
      { message: 'TwinSync snapshot x', daysAgo: 1, files: { 'system/os.json': '{}' } },
    ])
    const log = new SnapshotLog(dir)
    const shown = (first as string).slice(0, 12)
    for (const bad of [shown, shown.toUpperCase(), (first as string).slice(0, 4), 'cafe', '20261206', 'HEAD', 'ORIG_HEAD', 'FETCH_HEAD', 'main', `v1-g${shown}`]) {
      await assert.rejects(log.label(second as string, bad), (e: unknown) => isTwinSyncError(e) && e.code === 'NAME_INVALID' && e.message.includes('cannot be a label'), bad)
    }
    assert.equal(git(dir, 'tag'), '', 'nothing labelled')
    assert.equal(await resolveSnapshot(dir, shown), first, 'the id history prints still names its snapshot')
    assert.equal(await resolveSnapshot(dir, 'main'), second)
    for (const fine of ['abc', 'before-upgrade', '2026-12-06', 'deadbeef-x']) await log.label(first as string, fine)
    assert.deepEqual((await log.get(first as string)).labels, ['2026-12-06', 'abc', 'before-upgrade', 'deadbeef-x'])
  })

  // Session 44: a label made before checkLabelFree (or with git by hand, as here) still took over the
  // id history prints for another snapshot: `revert 0cca514e1676` would have gone to the labelled one.
  it('refuses a name that is both a label and the start of another snapshot\'s id, naming both; a label at that very snapshot, the whole id and the label\'s ref still resolve', async () => {
    const [first, second] = await repoWith(dir, [
      { message: 'TwinSync init', daysAgo: 2, files: { 'twin.json': '{}' } },
      { message: 'TwinSync snapshot x', daysAgo: 1, files: { 'system/os.json': '{}' } },
    ])
    const shown = (first as string).slice(0, 12)
    git(dir, 'tag', shown, second as string)
    await assert.rejects(resolveSnapshot(dir, shown), (e: unknown) => isTwinSyncError(e) && e.code === 'SNAPSHOT_AMBIGUOUS' && e.message.includes(`refs/tags/${shown}`) && e.message.includes((second as string).slice(0, 12)) && e.message.includes(shown) && (e.nextStep ?? '').includes(first as string))
    assert.equal(await resolveSnapshot(dir, shown.toUpperCase()), first, 'no ref of that spelling: the id')
    assert.equal(await resolveSnapshot(dir, first as string), first, 'the whole id')
    assert.equal(await resolveSnapshot(dir, `refs/tags/${shown}`), second, "the label's ref")
    // A label named as the start of the id of the snapshot it labels is no clash.
    const own = (second as string).slice(0, 10)
    git(dir, 'tag', own, second as string)
    assert.equal(await resolveSnapshot(dir, own), second)
  })

  it('says a name of no single commit (a range, a tree, a file) is no snapshot, not that git failed', async () => {
    await repoWith(dir, [
      { message: 'TwinSync init', daysAgo: 2, files: { 'twin.json': '{}' } },
      { message: 'TwinSync snapshot x', daysAgo: 1, files: { 'system/os.json': '{}' } },
    ])
    for (const notOne of ['HEAD..HEAD~1', 'HEAD~1...HEAD', 'HEAD^!', 'HEAD^{tree}', 'HEAD:twin.json']) {
      await assert.rejects(resolveSnapshot(dir, notOne), (e: unknown) => isTwinSyncError(e) && e.code === 'SNAPSHOT_UNKNOWN', notOne)
    }
  })

  it('gc folds old volatile-only snapshots into the next one and keeps everything else', async () => {
    await repoWith(dir, [
      { message: 'TwinSync init', daysAgo: 60, files: { 'twin.json': '{}' } },
      { message: 'TwinSync snapshot a', daysAgo: 50, files: { 'system/os.json': '1', 'system/processes/top.json': '1' } },
      { message: 'TwinSync snapshot b', daysAgo: 49, files: { 'system/processes/top.json': '2' } },
      { message: 'TwinSync snapshot c', daysAgo: 48, files: { 'system/processes/top.json': '3', 'system/logs/j.txt': 'x' } },
      { message: 'TwinSync snapshot d', daysAgo: 47, files: { 'system/processes/top.json': '4' } },
      { message: 'TwinSync checkpoint before apply x', daysAgo: 46, files: { 'system/processes/top.json': '5' } },
      { message: 'TwinSync snapshot e', daysAgo: 45, files: { 'filesystem/etc/hosts': 'h', 'system/processes/top.json': '6' } },
      { message: 'TwinSync snapshot f', daysAgo: 1, files: { 'system/processes/top.json': '7' } },
      { message: 'TwinSync snapshot g', daysAgo: 0, files: { 'system/processes/top.json': '8' } },
    ])
    const log = new SnapshotLog(dir)
    await log.label((await log.list(20)).find((r) => r.message === 'TwinSync snapshot c')?.commit as string, 'keep-me')
    const headTree = git(dir, 'rev-parse', 'HEAD^{tree}')
    // The last snapshot is the observed state, with pending intent on top of it.
    git(dir, 'update-ref', 'refs/twinsync/observed', 'HEAD')
    git(dir, 'update-ref', 'refs/twinsync/intended', git(dir, 'commit-tree', 'HEAD^{tree}', '-p', 'HEAD', '-m', 'TwinSync intent'))

    const report = await collectGarbage(dir, { squashVolatileOlderThanDays: 30, now: new Date() })
    assert.equal(report.squashed, 2, 'b and d go; c is labelled, the checkpoint is kept, f and g are recent')
    assert.equal(report.commitsBefore, 9)
    assert.equal(report.commitsAfter, 7)
    const messages = (await log.list(20)).map((r) => r.message)
    assert.deepEqual(messages, ['TwinSync snapshot g', 'TwinSync snapshot f', 'TwinSync snapshot e', 'TwinSync checkpoint before apply x', 'TwinSync snapshot c', 'TwinSync snapshot a', 'TwinSync init'])
    assert.equal(git(dir, 'rev-parse', 'HEAD^{tree}'), headTree, 'the newest state is untouched')
    const labelled = (await log.list(20)).find((r) => r.labels.includes('keep-me'))
    assert.equal(labelled?.message, 'TwinSync snapshot c', 'the label moved with its snapshot')
    assert.equal(git(dir, 'rev-parse', 'refs/twinsync/observed'), git(dir, 'rev-parse', 'HEAD'), 'the observed state moved with its snapshot')
    assert.equal(git(dir, 'rev-parse', 'refs/twinsync/intended^'), git(dir, 'rev-parse', 'HEAD'), 'the intent sits on the rebuilt snapshot')
    assert.ok(report.sizeAfter > 0)
  })

  // Session 17: the branch, the labels, observed and intended moved one by one; a kill or a
  // locked ref between them left the rest on the old chain.
  it('gc moves the branch, the labels and its own refs together or not at all: a ref it cannot move leaves every one where it was', async () => {
    await repoWith(dir, [
      { message: 'TwinSync init', daysAgo: 60, files: { 'twin.json': '{}' } },
      { message: 'TwinSync snapshot a', daysAgo: 50, files: { 'system/os.json': '1', 'system/processes/top.json': '1' } },
      { message: 'TwinSync snapshot b', daysAgo: 49, files: { 'system/processes/top.json': '2' } },
      { message: 'TwinSync snapshot c', daysAgo: 48, files: { 'filesystem/etc/hosts': 'h' } },
      { message: 'TwinSync snapshot d', daysAgo: 0, files: { 'system/processes/top.json': '3' } },
    ])
    const log = new SnapshotLog(dir)
    await log.label((await log.list(20)).find((r) => r.message === 'TwinSync snapshot c')?.commit as string, 'keep-me')
    git(dir, 'update-ref', 'refs/twinsync/observed', 'HEAD')
    git(dir, 'update-ref', 'refs/twinsync/intended', git(dir, 'commit-tree', 'HEAD^{tree}', '-p', 'HEAD', '-m', 'TwinSync intent'))
    const refs = () => git(dir, 'for-each-ref', '--format=%(refname) %(objectname)')
    const before = refs()
    // A lock another git holds on one of them (git gc packing refs, a killed git).
    await writeFile(join(dir, '.git/refs/twinsync/observed.lock'), '')
    await assert.rejects(collectGarbage(dir, { squashVolatileOlderThanDays: 30, now: new Date() }), /observed/)
    assert.equal(refs(), before, 'the branch, the label and intended not moved without observed')
    await rm(join(dir, '.git/refs/twinsync/observed.lock'))
    const report = await collectGarbage(dir, { squashVolatileOlderThanDays: 30, now: new Date() })
    assert.equal(report.squashed, 1)
    assert.equal(git(dir, 'rev-parse', 'refs/twinsync/observed'), git(dir, 'rev-parse', 'HEAD'))
    assert.equal(git(dir, 'rev-parse', 'refs/twinsync/intended^'), git(dir, 'rev-parse', 'HEAD'))
    assert.equal(git(dir, 'rev-parse', 'keep-me'), git(dir, 'rev-parse', 'HEAD~1'), 'the label moved with its snapshot')
  })

  // Session 19: an annotated tag moved by `git tag -f` after the transaction; killed between, it
  // stayed on the old chain for good (a rerun rebuilds from the branch and never saw it again).
  it('gc moves an annotated tag in the same transaction: killed where `git tag -f` ran, a rerun leaves no tag on the old chain', async () => {
    await repoWith(dir, [
      { message: 'TwinSync init', daysAgo: 60, files: { 'twin.json': '{}' } },
      { message: 'TwinSync snapshot a', daysAgo: 50, files: { 'system/os.json': '1', 'system/processes/top.json': '1' } },
      { message: 'TwinSync snapshot b', daysAgo: 49, files: { 'system/processes/top.json': '2' } },
      { message: 'TwinSync snapshot c', daysAgo: 48, files: { 'filesystem/etc/hosts': 'h' } },
      { message: 'TwinSync snapshot d', daysAgo: 0, files: { 'system/processes/top.json': '3' } },
    ])
    execFileSync('git', ['-C', dir, '-c', 'user.name=t', '-c', 'user.email=t@x', '-c', 'tag.gpgSign=false', 'tag', '-a', 'release', '-m', 'release notes', 'HEAD~1'])
    const bin = await mkdtemp(join(tmpdir(), 'twinsync-gc-bin-'))
    const real = execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim()
    await writeFile(join(bin, 'git'), `#!/bin/sh\ncase " $* " in *" tag -f "*) exit 137;; esac\nexec ${real} "$@"\n`, { mode: 0o755 })
    setOwnPathForTests(`${bin}:${SAFE_PATH}`)
    try {
      await collectGarbage(dir, { squashVolatileOlderThanDays: 30, now: new Date() }).catch(() => undefined)
    } finally {
      setOwnPathForTests(undefined)
      await rm(bin, { recursive: true, force: true })
    }
    await collectGarbage(dir, { squashVolatileOlderThanDays: 30, now: new Date() })
    assert.equal(git(dir, 'rev-list', '--count', 'HEAD'), '4', 'b folded into c')
    assert.equal(git(dir, 'cat-file', '-t', 'release'), 'tag')
    assert.equal(git(dir, 'rev-parse', 'release^{commit}'), git(dir, 'rev-parse', 'HEAD~1'), 'the tag moved with its snapshot')
    assert.equal(git(dir, 'rev-list', '--count', '--all'), '4', 'no chain but the rebuilt one is reachable')
    assert.match(git(dir, 'cat-file', 'tag', 'release'), /release notes$/)
  })

  it('gc without a policy only packs', async () => {
    await repoWith(dir, [
      { message: 'TwinSync init', daysAgo: 60, files: { 'twin.json': '{}' } },
      { message: 'TwinSync snapshot b', daysAgo: 49, files: { 'system/processes/top.json': '2' } },
      { message: 'TwinSync snapshot c', daysAgo: 48, files: { 'system/processes/top.json': '3' } },
    ])
    const report = await collectGarbage(dir, { now: new Date() })
    assert.deepEqual([report.squashed, report.commitsBefore, report.commitsAfter], [0, 3, 3])
  })
})

describe('history from one git log pass', () => {
  let dir: string
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'twinsync-history-log-'))
  })
  afterEach(() => rm(dir, { recursive: true, force: true }))

  it('gives each snapshot the same changed paths as a diff against its first parent: the first, an empty one, a merge', async () => {
    await repoWith(dir, [
      { message: 'TwinSync init', daysAgo: 3, files: { 'twin.json': '{}', 'system/a.json': '1' } },
      { message: 'TwinSync snapshot 1', daysAgo: 2, files: { 'system/a.json': '2', 'system/b.json': 'new' } },
      { message: 'TwinSync snapshot 2', daysAgo: 2, files: {} },
    ])
    git(dir, 'checkout', '-q', '-b', 'side', 'HEAD~1')
    await writeFile(join(dir, 'system/c.json'), 'side')
    git(dir, 'add', '-A')
    git(dir, '-c', 'user.name=t', '-c', 'user.email=t@x', 'commit', '-q', '-m', 'TwinSync edit side')
    git(dir, 'checkout', '-q', 'main')
    await rm(join(dir, 'system/b.json'))
    git(dir, 'add', '-A')
    git(dir, '-c', 'user.name=t', '-c', 'user.email=t@x', 'commit', '-q', '-m', 'TwinSync snapshot 3')
    git(dir, '-c', 'user.name=t', '-c', 'user.email=t@x', 'merge', '-q', '--no-ff', '-m', 'Merge side', 'side')
    const log = new SnapshotLog(dir)
    const listed = await log.listWithChanges(100)
    assert.deepEqual(listed.map((l) => l.record), await log.list(100))
    assert.equal(listed.length, 6)
    for (const { record, changed } of listed) {
      assert.deepEqual(changed, await log.changedPaths(record.parent, record.commit), record.message)
    }
    assert.deepEqual(listed.find((l) => l.record.message === 'Merge side')?.changed, [{ path: 'system/c.json', change: 'A' }])
    assert.deepEqual(listed.find((l) => l.record.message === 'TwinSync snapshot 2')?.changed, [])
  })

  it('reads the counts a snapshot recorded in its message (no provider loaded); a commit without them is counted once, then from the twin\'s cache until the configuration changes', async () => {
    const notes = notesProvider('notes')
    let loads = 0
    const load = notes.load.bind(notes)
    notes.load = (args) => {
      loads++
      return load(args)
    }
    const rig = await serviceRig([notes])
    try {
      await mkdir(join(rig.root, 'etc'))
      await writeFile(join(rig.root, 'etc/notes'), 'one\n')
      await (await rig.container()).resolve(SnapshotWorkflow).take({ init: true, ifChanged: false })
      await writeFile(join(rig.root, 'etc/notes'), 'two\n')
      await (await rig.container()).resolve(SnapshotWorkflow).take({ init: false, ifChanged: false })
      const history = async () => (await rig.container()).resolve(HistoryService).history({ limit: 10 })
      loads = 0
      const first = await history()
      assert.equal(loads, 0, 'history read the recorded counts')
      const service = await rig.container()
      for (const e of first) assert.deepEqual(e.counts, (await service.resolve(HistoryService).show(e.commit, { diffs: false })).counts)
      const changedNotes = first.find((e) => e.counts.startup !== undefined)
      assert.ok(changedNotes, JSON.stringify(first))
      assert.equal(changedNotes.commit, first[0]?.commit)
      const body = git(rig.twinDir, 'log', '-1', '--format=%b')
      assert.match(body, new RegExp(`^TwinSync-Counts: ${git(rig.twinDir, 'rev-parse', 'HEAD~1^{tree}').slice(0, 12)} startup=1 sig=[0-9a-f]{32}$`, 'm'))

      // A snapshot of an older TwinSync (no counts in its message) is counted by the providers once...
      const stripped = git(rig.twinDir, 'log', '-1', '--format=%B').replace(/\n*TwinSync-Counts: .*$/m, '')
      const older = git(rig.twinDir, '-c', 'user.name=t', '-c', 'user.email=t@x', 'commit-tree', 'HEAD^{tree}', '-p', 'HEAD~1', '-m', stripped)
      git(rig.twinDir, 'update-ref', 'HEAD', older)
      loads = 0
      const recounted = await history()
      assert.ok(loads > 0)
      assert.deepEqual(recounted.map((e) => e.counts), first.map((e) => e.counts))
      assert.deepEqual(recounted.map((e) => e.counted), first.map((e) => e.counted))
      // ...then from the cache: a wrong entry shows through...
      const file = join(rig.twinDir, '.git', 'twinsync', 'cache', 'history-counts-v2.json')
      const stored = JSON.parse(await readFile(file, 'utf8')) as { fingerprint: string; counts: Record<string, unknown> }
      assert.ok(`${changedNotes.parent}..${older}` in stored.counts, Object.keys(stored.counts).join(', '))
      stored.counts[`${changedNotes.parent}..${older}`] = { counts: { startup: 99 }, twinFiles: [] }
      await writeFile(file, JSON.stringify(stored))
      loads = 0
      assert.equal((await history()).find((e) => e.commit === older)?.counts.startup, 99)
      assert.equal(loads, 0)
      // ...until the configuration the providers see changes: then they count again.
      await appendFile(rig.configPath, 'limits:\n  logLines: 10\n')
      assert.deepEqual((await history()).map((e) => e.counts), first.map((e) => e.counts))

      // Recorded counts hold only for the parent they were counted against: moved onto another parent, it is counted afresh.
      const moved = git(rig.twinDir, '-c', 'user.name=t', '-c', 'user.email=t@x', 'commit-tree', 'HEAD^{tree}', '-p', 'HEAD~1', '-m', git(rig.twinDir, 'log', '-1', '--format=%B', changedNotes.commit))
      git(rig.twinDir, 'update-ref', 'HEAD', moved)
      assert.deepEqual((await history()).map((e) => e.counts), first.map((e) => e.counts))
      const onto = git(rig.twinDir, '-c', 'user.name=t', '-c', 'user.email=t@x', 'commit-tree', 'HEAD^{tree}', '-p', git(rig.twinDir, 'rev-list', '--max-parents=0', 'HEAD'), '-m', git(rig.twinDir, 'log', '-1', '--format=%B', changedNotes.commit))
      git(rig.twinDir, 'update-ref', 'HEAD', onto)
      const reparented = (await history())[0]
      assert.equal(reparented?.commit, onto)
      assert.deepEqual(reparented?.counts, (await service.resolve(HistoryService).show(onto, { diffs: false })).counts)
    } finally {
      await rig.cleanup()
    }
  })
})
