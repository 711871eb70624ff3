import { strict as assert } from 'node:assert'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isTempNameOf } from '@twinsync/sdk/light'
import { writeStateFile } from '../src/twin/state-file.js'
import { killAt } from './support/kill-points.js'

/**
 * state-file.ts: the twin's own state files (the move's record, a provider's durable value)
 * written whole and synced without Node's fs/promises (session 53). 'blocking' for the core's own
 * steps; 'pool' for a write inside a provider call, whose time limit and Ctrl-C must still fire
 * while it waits (session 52's review, M1).
 */
describe('a state file of the twin, written whole (state-file.ts)', () => {
  let dir: string
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'twinsync-state-file-'))
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  /** Whether the file was in place when a turn of the event loop queued before the write came. */
  async function placedAtFirstTurn(wait: 'blocking' | 'pool'): Promise<boolean> {
    const target = join(dir, 'record.json')
    let placed: boolean | undefined
    const turn = new Promise<void>((resolve) =>
      setImmediate(() => {
        placed = existsSync(target)
        resolve()
      }),
    )
    await Promise.all([writeStateFile(target, '{"a":1}', 0o640, wait), turn])
    assert.equal(readFileSync(target, 'utf8'), '{"a":1}')
    assert.equal(statSync(target).mode & 0o777, 0o640)
    assert.deepEqual(readdirSync(dir), ['record.json'])
    return placed as boolean
  }

  it("'pool' waits on libuv's pool: a turn queued before the write runs before the file is in place", async () => {
    assert.equal(await placedAtFirstTurn('pool'), false)
  })

  it("'blocking' writes with synchronous calls: the file is in place before any turn runs", async () => {
    assert.equal(await placedAtFirstTurn('blocking'), true)
  })

  for (const wait of ['blocking', 'pool'] as const) {
    it(`'${wait}': every write of it is a kill-point step, the same five in both forms; killed at any, the file is the old one or the new one, whole`, async () => {
      const target = join(dir, 'record.json')
      writeFileSync(target, 'old')
      const whole = killAt(Number.POSITIVE_INFINITY)
      try {
        await writeStateFile(target, 'new', 0o600, wait)
      } finally {
        whole.restore()
      }
      const name = (call: string) => call.replace(/\(.*$/, '').replace(/Sync$/, '')
      assert.deepEqual(whole.calls.map(name), ['open', 'writeFile', 'fsync', 'rename', 'fsync'], whole.calls.join(', '))
      for (let at = 1; at <= whole.steps; at++) {
        writeFileSync(target, 'old')
        for (const mode of ['kill', 'fail'] as const) {
          const point = killAt(at, mode)
          try {
            await assert.rejects(writeStateFile(target, 'new', 0o600, wait))
          } finally {
            point.restore()
          }
          const text = readFileSync(target, 'utf8')
          assert.ok(text === 'old' || text === 'new', `${mode} at step ${at}: ${text}`)
          const left = readdirSync(dir).filter((n) => n !== 'record.json')
          // A kill leaves at most its temp file, named so that settling's sweep knows it; a failure removes its own.
          if (mode === 'fail') assert.deepEqual(left, [], `failed at step ${at}`)
          else for (const n of left) assert.ok(isTempNameOf(n, 'record.json'), n)
          for (const n of left) rmSync(join(dir, n))
        }
      }
    })
  }
})
