import { strict as assert } from 'node:assert'
import fs from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import { syncBuiltinESMExports } from 'node:module'
import { join } from 'node:path'
import { TwinSyncError, isTwinSyncError } from '@twinsync/sdk'
import { HistoryService } from '../src/history/history-service.js'
import { IntentService } from '../src/intent/intent-service.js'
import { SnapshotService } from '../src/snapshot/snapshot-service.js'
import { indexLockWait } from '../src/twin/atomic-snapshot.js'
import { notesProvider } from './support/notes-provider.js'
import { unitRig, type UnitRig } from './support/unit-container.js'

const failWith = (code: string) => (e: unknown) => isTwinSyncError(e) && e.code === code

/** SnapshotService over a child container: the target is a RecordingHost over a private root, providers are fakes. */
describe('SnapshotService', function () {
  this.timeout(30_000)
  let rig: UnitRig

  async function setUp(otherOverrides: Parameters<typeof notesProvider>[1] = {}) {
    rig = await unitRig([notesProvider('notes'), notesProvider('other', otherOverrides)])
    await machine('notes', 'first\n')
    await machine('other', 'first\n')
    await rig.twin().init({ formatVersion: 1, machineId: null, hostname: 'unit' })
  }
  afterEach(() => rig?.cleanup())

  const snapshot = (options: Parameters<SnapshotService['snapshot']>[0] = {}) => rig.container.resolve(SnapshotService).snapshot(options)
  const machine = (name: string, text: string) => writeFile(join(rig.root, `etc/${name}`), text)
  const committed = (name: string, ref = 'HEAD') => (JSON.parse(rig.git('show', `${ref}:system/${name}.json`)) as { text: string }).text
  const commits = () => Number(rig.git('rev-list', '--count', 'HEAD'))

  it('records every provider\'s state in one commit, and makes none when nothing changed', async () => {
    await setUp()
    const first = await snapshot()
    assert.equal(first.commit, rig.git('rev-parse', 'HEAD'))
    assert.deepEqual([committed('notes'), committed('other')], ['first\n', 'first\n'])
    assert.deepEqual(first.providers.filter((p) => p.name !== 'twin-providers').map((p) => [p.name, p.status]).sort(), [['notes', 'collected'], ['other', 'collected']])
    const again = await snapshot()
    assert.deepEqual([again.commit, again.skipped, again.head], [undefined, 'unchanged', first.commit])
    assert.deepEqual(rig.host.actions, [], 'a snapshot only reads the target')
  })

  it('a provider whose collect() throws: named as that plugin\'s and the call, its part of the twin keeps the last state, the others are recorded', async () => {
    let broken = false
    await setUp({
      async collect({ ctx }) {
        if (broken) throw new TypeError("Cannot read properties of undefined (reading 'split')")
        const text = (await ctx.host.readTextIfExists('/etc/other')) ?? ''
        return { state: { text }, documents: [{ path: 'system/other.json', content: `${JSON.stringify({ text })}\n` }], diagnostics: [] }
      },
    })
    await snapshot()
    broken = true
    await machine('notes', 'second\n')
    await machine('other', 'second\n')
    const result = await snapshot()
    assert.ok(result.commit !== undefined)
    assert.equal(committed('notes'), 'second\n')
    assert.equal(committed('other'), 'first\n', 'not removed, not changed')
    assert.equal(result.providers.find((p) => p.name === 'other')?.status, 'failed')
    const failure = result.diagnostics.find((d) => d.severity === 'error')
    assert.deepEqual([failure?.code, failure?.provider], ['PROVIDER_FAILED', 'other'])
    assert.match(failure?.summary ?? '', /other.*collect\(\)/)
    assert.doesNotMatch(`${failure?.summary} ${failure?.detail}`, /bug in TwinSync/i)
  })

  it('a full disk while collecting: DISK_FULL, and nothing is written', async () => {
    let full = false
    await setUp({
      async collect({ ctx }) {
        if (full) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' })
        const text = (await ctx.host.readTextIfExists('/etc/other')) ?? ''
        return { state: { text }, documents: [{ path: 'system/other.json', content: `${JSON.stringify({ text })}\n` }], diagnostics: [] }
      },
    })
    await snapshot()
    const before = commits()
    full = true
    await machine('notes', 'second\n')
    await assert.rejects(snapshot(), failWith('DISK_FULL'))
    assert.equal(commits(), before)
    assert.equal(JSON.parse(await readFile(join(rig.twinDir, 'system/notes.json'), 'utf8')).text, 'first\n')
  })

  it('keeps pending intent: an edit of the twin survives the snapshot on top of it, while the commit records the machine', async () => {
    await setUp()
    await snapshot()
    await writeFile(join(rig.twinDir, 'system/notes.json'), `${JSON.stringify({ text: 'wanted\n' })}\n`)
    await machine('other', 'second\n')
    const result = await snapshot()
    assert.deepEqual(result.pending, ['system/notes.json'])
    assert.equal(committed('notes'), 'first\n', 'the snapshot records the machine, not the edit')
    assert.equal(committed('other'), 'second\n')
    assert.equal(JSON.parse(await readFile(join(rig.twinDir, 'system/notes.json'), 'utf8')).text, 'wanted\n', 'the edit is still in the working twin')
  })

  it('an edit pending over committing snapshots: one intent (one reflog line) per snapshot, none when nothing new; the intent is the working twin on the new snapshot', async () => {
    // Session 41 (issue 22): the hold recorded the intent again (a new commit, only its date
    // differed) and the restore recorded the set-aside tree (the snapshot before's files) on the
    // new snapshot: two reflog lines and two intent commits every committing snapshot, kept
    // until `twinsync gc`; one line for a snapshot that committed nothing.
    await setUp()
    await snapshot()
    await writeFile(join(rig.twinDir, 'system/notes.json'), `${JSON.stringify({ text: 'wanted\n' })}\n`)
    await machine('other', 'second\n')
    await snapshot()
    const lines = () => rig.git('reflog', 'show', '--format=%H', 'refs/twinsync/intended', '--').split('\n').filter(Boolean)
    const before = lines().length
    for (const n of [3, 4, 5, 6]) {
      await machine('other', `change ${n}\n`)
      const result = await snapshot()
      assert.ok(result.commit !== undefined, 'each snapshot commits')
      assert.deepEqual(result.pending, ['system/notes.json'])
    }
    assert.equal(lines().length - before, 4, 'one reflog line each committing snapshot, not two')
    assert.equal((await snapshot()).commit, undefined)
    assert.equal(lines().length - before, 4, 'a snapshot with nothing new moves nothing')
    assert.equal(rig.git('rev-parse', 'refs/twinsync/intended^'), rig.git('rev-parse', 'refs/twinsync/observed'), "the intent's parent is the last snapshot")
    assert.equal(rig.git('diff', '--name-only', 'refs/twinsync/intended^', 'refs/twinsync/intended'), 'system/notes.json', 'the intent differs from its snapshot by the edit only')
    assert.equal(rig.git('diff', '--name-only', 'refs/twinsync/intended'), '', 'and is what the working twin holds')
    assert.equal(committed('other'), 'change 6\n')
    assert.equal(JSON.parse(await readFile(join(rig.twinDir, 'system/notes.json'), 'utf8')).text, 'wanted\n', 'the edit is kept')
    // A new edit is a new intent, its reflog line naming the one before (what `discard` points to).
    const was = rig.git('rev-parse', 'refs/twinsync/intended')
    await writeFile(join(rig.twinDir, 'system/notes.json'), `${JSON.stringify({ text: 'wanted more\n' })}\n`)
    await snapshot()
    assert.equal(lines().length - before, 5)
    assert.equal(rig.git('rev-parse', 'refs/twinsync/intended@{1}'), was)
  })

  it('edits set aside and not put back (a full disk, a kill): status shows them pending, the error says where they are, the next snapshot puts them back', async () => {
    // Session 17: on a full disk a snapshot could fail after setting the edits aside and fail
    // again putting them back; they were then only in refs/twinsync/intended, the error said
    // "nothing was written and the twin is as it was" and `status` said nothing was pending.
    await setUp()
    await snapshot()
    await writeFile(join(rig.twinDir, 'system/notes.json'), `${JSON.stringify({ text: 'wanted\n' })}\n`)
    const intents = rig.container.resolve(IntentService)
    const held = await intents.hold('providers')
    assert.deepEqual(held.paths, ['system/notes.json'])
    assert.equal(JSON.parse(await readFile(join(rig.twinDir, 'system/notes.json'), 'utf8')).text, 'first\n', 'set aside: the working twin holds the last snapshot')
    // The run stops here (its restore never runs or fails).
    const pending = await intents.pending()
    assert.deepEqual(pending.paths, ['system/notes.json'], 'status shows the edit pending while it is set aside')
    const full = new TwinSyncError('DISK_FULL', 'The disk holding the twin (/x) is full; nothing was written and the twin is as it was')
    const said = intents.explainSetAside(full)
    assert.ok(isTwinSyncError(said) && said.code === 'DISK_FULL')
    assert.doesNotMatch(said.message, /the twin is as it was/)
    assert.match(said.message, /set aside in refs\/twinsync\/intended; the next `twinsync snapshot [^`]*`/)
    await snapshot()
    assert.equal(JSON.parse(await readFile(join(rig.twinDir, 'system/notes.json'), 'utf8')).text, 'wanted\n', 'the next snapshot put the edit back')
    assert.equal(intents.explainSetAside(full), full, 'once back, the error is left as it was')
  })

  it('one at a time: while another run holds the twin lock, LOCK_HELD and no commit', async () => {
    await setUp()
    await snapshot()
    await machine('notes', 'second\n')
    const before = commits()
    const other = await rig.holdLock()
    try {
      await assert.rejects(snapshot(), failWith('LOCK_HELD'))
    } finally {
      await other.release()
    }
    assert.equal(commits(), before)
    assert.ok((await snapshot()).commit !== undefined, 'once the lock is free it goes ahead')
  })

  // Session 30 (red team): `label` took no lock. A label made while forget (or gc's fold) rewrites
  // history could land on the old chain after the labels moved, keeping what forget took out
  // reachable, and `push` sends every tag to the mirror.
  it('label while another run (a forget, a gc) holds the twin lock: LOCK_HELD, no tag made; it labels once the lock is free', async () => {
    await setUp()
    const first = await snapshot()
    const other = await rig.holdLock()
    try {
      await assert.rejects(rig.container.resolve(HistoryService).label('HEAD', 'before-upgrade'), failWith('LOCK_HELD'))
    } finally {
      await other.release()
    }
    assert.equal(rig.git('tag', '--list'), '', 'no tag made')
    assert.deepEqual((await rig.container.resolve(HistoryService).label('HEAD', 'before-upgrade')).labels, ['before-upgrade'])
    assert.equal(rig.git('rev-parse', 'before-upgrade^{commit}'), first.commit)
  })

  it('a label that is taken is refused before anything is collected', async () => {
    let collected = 0
    await setUp({
      async collect({ ctx }) {
        collected++
        const text = (await ctx.host.readTextIfExists('/etc/other')) ?? ''
        return { state: { text }, documents: [{ path: 'system/other.json', content: `${JSON.stringify({ text })}\n` }], diagnostics: [] }
      },
    })
    await snapshot({ label: 'before-upgrade' })
    await machine('notes', 'second\n')
    const count = collected
    await assert.rejects(snapshot({ label: 'before-upgrade' }), failWith('LABEL_EXISTS'))
    assert.equal(collected, count)
  })

  /**
   * A git a person runs in the twin takes git's index lock just as the snapshot swaps its index in
   * (a `git status` refreshing the index holds it for milliseconds): made here at the swap's link,
   * removed `after` ms later (never, when undefined).
   */
  function personsGitAtSwap(after: number | undefined): { restore(): void } {
    const original = fs.linkSync
    let taken = false
    fs.linkSync = function (this: unknown, from: fs.PathLike, to: fs.PathLike) {
      if (!taken && typeof to === 'string' && to.endsWith('/.git/index.lock')) {
        taken = true
        fs.writeFileSync(to, '')
        if (after !== undefined) setTimeout(() => fs.rmSync(to, { force: true }), after)
      }
      return original.call(this, from, to)
    }
    syncBuiltinESMExports()
    return {
      restore() {
        fs.linkSync = original
        syncBuiltinESMExports()
      },
    }
  }

  it("another git holding git's index lock for a moment when the snapshot swaps its index in: the swap waits for it, and the snapshot is whole", async () => {
    await setUp()
    await snapshot()
    await machine('notes', 'second\n')
    const person = personsGitAtSwap(300)
    let result
    try {
      result = await snapshot()
    } finally {
      person.restore()
    }
    assert.equal(result.commit, rig.git('rev-parse', 'HEAD'))
    assert.equal(committed('notes'), 'second\n')
    assert.equal(rig.git('status', '--porcelain'), '', 'the index is the commit')
    assert.equal(fs.existsSync(join(rig.twinDir, '.git', 'twinsync', 'snapshot-in-progress.json')), false, 'the move is finished')
  })

  it("another git holding git's index lock past the wait: the snapshot says it is committed and the twin moved (never \"nothing was changed\"), and the next snapshot puts the index in place", async () => {
    await setUp()
    await snapshot()
    await machine('notes', 'second\n')
    const wait = indexLockWait.ms
    indexLockWait.ms = 200
    const person = personsGitAtSwap(undefined)
    let error: unknown
    try {
      error = await snapshot().then(() => undefined, (e: unknown) => e)
    } finally {
      person.restore()
      indexLockWait.ms = wait
    }
    const head = rig.git('rev-parse', 'HEAD')
    assert.ok(isTwinSyncError(error), String(error))
    assert.equal(error.code, 'GIT_FAILED')
    assert.match(error.message, new RegExp(`^Snapshot ${head.slice(0, 12)} is committed and the working twin moved to it, but git's index lock .* stayed held by another git process`))
    assert.match(error.nextStep ?? '', /pgrep -a git.*take the snapshot again/)
    assert.equal(committed('notes'), 'second\n')
    // The person's git is done: the next snapshot finishes the move first, and nothing is left over.
    fs.rmSync(join(rig.twinDir, '.git', 'index.lock'))
    const next = await snapshot()
    assert.deepEqual([next.commit, rig.git('rev-parse', 'HEAD')], [undefined, head])
    assert.equal(rig.git('status', '--porcelain'), '')
  })
})
