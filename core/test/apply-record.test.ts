import { strict as assert } from 'node:assert'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { APPLY_PROGRESS, APPLY_RECORD, ApplyRecorder, clearApplyRecord, progressLine, readApplyRecord, type ApplyInProgress } from '../src/apply/resume.js'
import { killAt } from './support/kill-points.js'

const IDS = ['files:create:/etc/a', 'commands:run:one', 'systemd:restart:a.service', 'files:create:/etc/b']
const STATUS = ['applied', 'applied', 'failed', 'skipped']

function fresh(): ApplyInProgress {
  return {
    version: 2,
    pid: 1,
    startedAt: new Date(0).toISOString(),
    root: '/',
    kind: 'apply',
    intended: 'a'.repeat(40),
    providers: ['files', 'commands', 'systemd'],
    checkpoint: null,
    changes: IDS.map((id) => ({ id, provider: id.slice(0, id.indexOf(':')), summary: id, paths: [] })),
    started: [],
    done: {},
  }
}

/** The progress an apply of IDS makes, in order: each step's start, then its end. */
const EVENTS: Array<['started', string] | ['done', string, string]> = IDS.flatMap((id, i) => [['started', id] as ['started', string], ['done', id, STATUS[i] as string] as ['done', string, string]])

/** The progress after the first `m` events. */
function progressAfter(m: number, base: Pick<ApplyInProgress, 'started' | 'done'> = { started: [], done: {} }): Pick<ApplyInProgress, 'started' | 'done'> {
  const started = [...base.started]
  const done = { ...base.done }
  for (const event of EVENTS.slice(0, m)) {
    if (event[0] === 'started') started.push(event[1])
    else done[event[1]] = event[2]
  }
  return { started, done }
}

/** How many events the record's progress is: it must be the first m of them, for some m. */
function prefixOf(record: ApplyInProgress): number {
  for (let m = 0; m <= EVENTS.length; m++) {
    const want = progressAfter(m)
    if (JSON.stringify(want.started) === JSON.stringify(record.started) && JSON.stringify(want.done) === JSON.stringify(record.done)) return m
  }
  assert.fail(`not a prefix of the apply's progress: ${JSON.stringify({ started: record.started, done: record.done })}`)
}

const settled = (recorder: ApplyRecorder) => (recorder as unknown as { writing: Promise<void> }).writing

/** An apply's record, step by step as Applier reports them, each written before the next step starts. */
async function apply(twin: string): Promise<void> {
  const recorder = new ApplyRecorder(twin, fresh())
  await recorder.save()
  await recorder.setCheckpoint('c'.repeat(40))
  for (const event of EVENTS) {
    if (event[0] === 'started') recorder.started(event[1])
    else recorder.finished(event[1], event[2])
    await settled(recorder)
  }
  await recorder.flush()
}

/** The record ApplyService writes to continue an interrupted apply: its progress carried over, saved anew. */
async function continueFrom(twin: string, interrupted: ApplyInProgress): Promise<void> {
  const recorder = new ApplyRecorder(twin, { ...fresh(), checkpoint: interrupted.checkpoint, started: interrupted.started, done: interrupted.done })
  await recorder.save()
}

/**
 * Session 39: the record of an apply under way is two files, the record written whole before the
 * checkpoint and with it, and the progress after that appended to a log, one line a step's start
 * or end (resume.ts). What the apply relies on after a kill: the record is on disk before anything
 * changes (or there is none), and its progress is what happened up to some moment, never more
 * than happened (a step done that was not: a run-once command would not run again) and never in
 * another order. Continuing an interrupted apply carries its progress into the new record.
 */
describe('the record of an apply under way (record and progress log)', function () {
  this.timeout(120_000)
  let dir: string
  let count = 0
  const twin = async () => {
    const path = join(dir, `twin-${count++}`)
    await mkdir(join(path, '.git', 'twinsync'), { recursive: true })
    return path
  }

  before(async () => {
    dir = await mkdtemp(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'twinsync-apply-record-'))
  })
  after(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('reads back every start and end; the log of another record, a line cut short and what follows a line that is no progress add nothing', async () => {
    const t = await twin()
    await apply(t)
    const read = await readApplyRecord(t, { root: "/" })
    assert.equal(read?.version, 2)
    assert.equal(read?.checkpoint, 'c'.repeat(40))
    assert.equal(prefixOf(read as ApplyInProgress), EVENTS.length)
    const log = await readFile(join(t, APPLY_PROGRESS), 'utf8')
    assert.equal(log.split('\n').length, EVENTS.length + 2, log)
    assert.equal(log.split('\n')[1], '["started","files:create:/etc/a"]')
    assert.equal(log.split('\n')[2], '["done","files:create:/etc/a","applied"]')

    // Cut short in the middle of its third line: two events, whatever is cut.
    for (const cut of [1, 5, log.indexOf('\n', log.indexOf('\n', log.indexOf('\n') + 1) + 1) + 4]) {
      const lines = log.split('\n')
      const kept = lines.slice(0, 3).join('\n') + '\n' + (lines[3] as string).slice(0, cut)
      await writeFile(join(t, APPLY_PROGRESS), kept)
      assert.equal(prefixOf((await readApplyRecord(t, { root: "/" })) as ApplyInProgress), 2, kept)
    }
    // A line that is no progress line: nothing after it counts.
    await writeFile(join(t, APPLY_PROGRESS), log.replace('["done","files:create:/etc/a","applied"]', '["done","files:create:/etc/a"]'))
    assert.equal(prefixOf((await readApplyRecord(t, { root: "/" })) as ApplyInProgress), 1)
    // Another record's log (a kill between the record's write and its new log's).
    await writeFile(join(t, APPLY_PROGRESS), progressLine(['log', '0123456789abcdef']) + log.slice(log.indexOf('\n') + 1))
    assert.equal(prefixOf((await readApplyRecord(t, { root: "/" })) as ApplyInProgress), 0)
    // No log at all.
    await rm(join(t, APPLY_PROGRESS))
    assert.equal(prefixOf((await readApplyRecord(t, { root: "/" })) as ApplyInProgress), 0)

    // A record an earlier version wrote (version 1: all its progress in it) is read as it was; a log beside it is not its own.
    const one = { ...fresh(), version: 1, ...progressAfter(3) }
    await writeFile(join(t, APPLY_RECORD), JSON.stringify(one))
    await writeFile(join(t, APPLY_PROGRESS), log)
    assert.deepEqual(await readApplyRecord(t, { root: "/" }), one)

    await clearApplyRecord(t)
    assert.equal(await readApplyRecord(t, { root: "/" }), undefined)
    assert.equal(existsSync(join(t, APPLY_PROGRESS)), false)
  })

  it('killed at any write (in process), the record is the progress up to some step, never beyond nor out of order; continuing it, killed at any write again, loses none of it', async () => {
    const probe = killAt(Number.POSITIVE_INFINITY)
    try {
      await apply(await twin())
    } finally {
      probe.restore()
    }
    const writes = probe.steps
    assert.ok(writes >= 2 + 2 + EVENTS.length, `the record's writes: ${probe.calls.join(', ')}`)
    const seen = new Set<number>()
    for (let k = 1; k <= writes + 1; k++) {
      const t = await twin()
      const point = killAt(k)
      try {
        await apply(t)
      } catch {
        // killed
      } finally {
        await new Promise((resolve) => setImmediate(resolve))
        point.restore()
      }
      const interrupted = await readApplyRecord(t, { root: "/" })
      // Before the record's first rename nothing is on disk; from then on, the record is.
      if (interrupted === undefined) {
        assert.ok(k <= 2, `no record after a kill at write ${k} of ${writes}: ${point.calls.join(', ')}`)
        continue
      }
      assert.equal(interrupted.intended, 'a'.repeat(40))
      const m = prefixOf(interrupted)
      seen.add(m)
      // The next run continues it: its own record, killed at any of its writes, holds the same progress.
      for (let j = 1; j <= 5; j++) {
        const again = killAt(j)
        try {
          await continueFrom(t, structuredClone(interrupted))
        } catch {
          // killed
        } finally {
          await new Promise((resolve) => setImmediate(resolve))
          again.restore()
        }
        assert.equal(prefixOf((await readApplyRecord(t, { root: "/" })) as ApplyInProgress), m, `kill at write ${k}, then at write ${j} of the continuing run`)
      }
      await continueFrom(t, structuredClone(interrupted))
      assert.equal(prefixOf((await readApplyRecord(t, { root: "/" })) as ApplyInProgress), m)
    }
    // Every moment of the apply was some kill's.
    assert.deepEqual([...seen].sort((a, b) => a - b), Array.from({ length: EVENTS.length + 1 }, (_, i) => i))
  })
})
