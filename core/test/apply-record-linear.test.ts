import { strict as assert } from 'node:assert'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ApplyRecorder, readApplyRecord, type ApplyInProgress } from '../src/apply/resume.js'
import { assertLinearTimeAsync } from '../../test/support/linear-time.js'

/** An apply's record of `n` folder creates, as ApplyService makes it (version 1: the recorder writes 2; 1 lets the code before session 39 run this test). */
function record(n: number): ApplyInProgress {
  const changes = Array.from({ length: n }, (_, i) => {
    const path = `/etc/gen/d${String(i).padStart(6, '0')}`
    return { id: `files:create:${path}`, provider: 'files', summary: `create directory ${path}`, paths: [path] }
  })
  return { version: 1, pid: process.pid, startedAt: new Date(0).toISOString(), root: '/', kind: 'apply', intended: 'a'.repeat(40), providers: ['files'], checkpoint: null, changes, started: [], done: {} }
}

/** The write under way (and those chained after it) of a recorder. */
const settled = (recorder: ApplyRecorder) => (recorder as unknown as { writing: Promise<void> }).writing

/**
 * Session 39: the record of an apply under way was written whole after the steps (JSON of every
 * change of the plan, 4.5 MB for 30,000 creates), as often as the disk kept up: 7–10 s of CPU in
 * an apply of 30,000 folder creates (CPU profile, `save`), quadratic in the steps. Each step now
 * appends a line to the progress log. Here each step waits for its record to be on disk before
 * the next starts (one write a step, as when a step takes longer than a write). Before: 3.5 s of
 * CPU, 800 times the scan (fails); now about 0.1 s, 18 times.
 */
describe('the record of an apply under way: a step costs a line, not the whole record', function () {
  this.timeout(120_000)
  let dir: string

  before(async () => {
    // On a RAM disk where there is one: the syncs then cost the test no wall time (CPU time is what is measured).
    dir = await mkdtemp(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'twinsync-apply-record-'))
  })
  after(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('2,000 steps of a 2,000-change apply, each written before the next: in time linear in the record (CPU)', async () => {
    const n = 2000
    const text = JSON.stringify(record(n), null, 1)
    let run = 0
    await assertLinearTimeAsync(
      async () => {
        const twin = join(dir, `twin-${run++}`)
        await mkdir(join(twin, '.git', 'twinsync'), { recursive: true })
        const recorder = new ApplyRecorder(twin, record(n))
        await recorder.save()
        await recorder.setCheckpoint('c'.repeat(40))
        for (const change of recorder.record.changes) {
          recorder.started(change.id)
          recorder.finished(change.id, 'applied')
          await settled(recorder)
        }
        await recorder.flush()
        const read = await readApplyRecord(twin, { root: "/" })
        assert.equal(Object.keys(read?.done ?? {}).length, n)
        assert.equal(read?.started.length, n)
        await rm(twin, { recursive: true, force: true })
      },
      text,
      `${n} steps recorded`,
      200,
    )
  })
})
