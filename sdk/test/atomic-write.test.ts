import { strict as assert } from 'node:assert'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { writeFileAtomic } from '../src/atomic-write.js'

describe('writeFileAtomic and the event loop', () => {
  // Session 52's review (M1): the atomic write is also how an apply writes the machine's files
  // (LocalHost.writeFileAtomic). Made synchronous for speed, a write or fsync that hangs on a
  // stalled mount would block the main thread, and the call's time limit (provider-call.ts) and
  // Ctrl-C could never fire. Each step waits on libuv's pool: a timer queued before the write runs
  // before the file is in place. A guard: the fs/promises form passes it; 381a48ab's synchronous
  // form (reverted) failed it, placing the file before any timer ran.
  it('lets a timer run between its steps, before the file is in place', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'twinsync-atomic-'))
    try {
      const target = join(dir, 'site.conf')
      let placedAtFirstTurn: boolean | undefined
      const turn = new Promise<void>((resolve) =>
        setImmediate(() => {
          placedAtFirstTurn = existsSync(target)
          resolve()
        }),
      )
      await Promise.all([writeFileAtomic(target, 'listen 80;\n', { mode: 0o640 }), turn])
      assert.equal(placedAtFirstTurn, false, 'the file was in place before a timer queued ahead of the write could run')
      assert.equal(readFileSync(target, 'utf8'), 'listen 80;\n')
      assert.equal(statSync(target).mode & 0o777, 0o640)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('leaves no temp file and the old content when the write fails (a guard)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'twinsync-atomic-'))
    try {
      const target = join(dir, 'site.conf')
      await writeFileAtomic(target, 'old\n')
      await assert.rejects(
        writeFileAtomic(target, 'new\n', {
          finish: async () => {
            throw new Error('attributes refused')
          },
        }),
        /attributes refused/,
      )
      assert.equal(readFileSync(target, 'utf8'), 'old\n')
      assert.deepEqual(
        readdirSync(dir),
        ['site.conf'],
      )
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
