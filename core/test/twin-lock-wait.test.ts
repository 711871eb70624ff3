import { strict as assert } from 'node:assert'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isTwinSyncError } from '@twinsync/sdk'
import sinon from 'sinon'
import { TwinLock, readerWait } from '../src/twin/twin-lock.js'

/**
 * Session 55 (review L2 of s54): a reader's wait for the twin lock (holdForReading) is bounded on
 * the monotonic clock. On 82381a7c it was the wall clock: stepped back while a reader waited
 * (NTP's first sync at boot), the reader waited the size of the step; stepped forward, it gave up
 * at once. The clock is stepped here by stubbing Date.now while the reader waits.
 */
describe('TwinLock: a reader waits on the monotonic clock', function () {
  this.timeout(30_000)
  let dir: string
  let limit: number
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'twinsync-lock-wait-'))
    limit = readerWait.ms
    readerWait.ms = 300
  })
  afterEach(async () => {
    sinon.restore()
    readerWait.ms = limit
    await rm(dir, { recursive: true, force: true })
  })

  for (const [what, step] of [
    ['back an hour (82381a7c: waited until the holder let go, 3 s here)', -3_600_000],
    ['forward an hour (82381a7c: gave up at once)', 3_600_000],
  ] as const) {
    it(`the wall clock stepped ${what}: LOCK_HELD after readerWait, as without the step`, async () => {
      const path = join(dir, 'lock')
      const holder = new TwinLock(path)
      await holder.acquire('snapshot')
      const real = Date.now.bind(Date)
      const stepped = setTimeout(() => sinon.stub(Date, 'now').callsFake(() => real() + step), 50)
      const released = setTimeout(() => void holder.release(), 3_000)
      const began = performance.now()
      try {
        await assert.rejects(
          new TwinLock(path).holdForReading('plan', async () => undefined),
          (e: unknown) => isTwinSyncError(e) && e.code === 'LOCK_HELD' && ((e.details as { waitedMs?: number }).waitedMs ?? 0) >= 250 && ((e.details as { waitedMs?: number }).waitedMs ?? 0) < 2_000,
        )
        const took = performance.now() - began
        assert.ok(took >= 250 && took < 2_000, `${Math.round(took)} ms`)
      } finally {
        clearTimeout(stepped)
        clearTimeout(released)
        sinon.restore()
        await holder.release()
      }
    })
  }
})
