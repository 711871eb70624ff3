import { strict as assert } from 'node:assert'
import fs from 'node:fs'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { Killed, killAt } from './support/kill-points.js'

/**
 * The kill-points (support/kill-points.ts) kill at a call that changes the disk whatever its form:
 * synchronous, callback or promise. Session 52 moved the SDK's atomic write to fs's callback
 * calls, which the kill-points did not count: the writes it made were no steps, a kill never
 * stopped them, and seven test files failed only on main. A callback form is one step (Node's own
 * calls from inside it are not), killed it answers its callback with the error and changes nothing.
 */
describe('the kill-points count every form of an fs call (session 53)', () => {
  let dir: string
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'twinsync-kill-forms-'))
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  const renames: Array<[string, (from: string, to: string) => Promise<void>]> = [
    ['synchronous', async (from, to) => fs.renameSync(from, to)],
    ['callback', (from, to) => promisify(fs.rename)(from, to)],
    ['promise', (from, to) => fs.promises.rename(from, to)],
  ]
  for (const [form, rename] of renames) {
    it(`a ${form} rename is a step: counted, and killed at it the file stays where it was`, async () => {
      writeFileSync(join(dir, 'a'), 'a')
      const counted = killAt(Number.POSITIVE_INFINITY)
      try {
        await rename(join(dir, 'a'), join(dir, 'b'))
      } finally {
        counted.restore()
      }
      assert.equal(counted.steps, 1, counted.calls.join(', '))
      const killed = killAt(1)
      try {
        await assert.rejects(rename(join(dir, 'b'), join(dir, 'c')), Killed)
      } finally {
        killed.restore()
      }
      assert.ok(killed.hit)
      assert.deepEqual(fs.readdirSync(dir), ['b'])
    })
  }

  it("a callback writeFile is one step, not its own open, write and close; what its callback then does is counted", async () => {
    const point = killAt(Number.POSITIVE_INFINITY)
    try {
      await new Promise<void>((resolve, reject) =>
        fs.writeFile(join(dir, 'temp'), 'text', (error) => {
          if (error) return reject(error)
          const fd = fs.openSync(join(dir, 'temp'), 'r')
          fs.fsync(fd, (error) => {
            fs.closeSync(fd)
            if (error) return reject(error)
            fs.rename(join(dir, 'temp'), join(dir, 'file'), (error) => (error ? reject(error) : resolve()))
          })
        }),
      )
    } finally {
      point.restore()
    }
    assert.deepEqual(point.calls, [`writeFile(${join(dir, 'temp')})`, 'fsync()', `rename(${join(dir, 'temp')})`])
    assert.equal(readFileSync(join(dir, 'file'), 'utf8'), 'text')
  })

  it('killed at a callback write, the later calls of every form change nothing; an open that only reads goes on', async () => {
    writeFileSync(join(dir, 'kept'), 'old')
    const point = killAt((call) => call.startsWith('writeFile('))
    const errors: unknown[] = []
    try {
      await promisify(fs.writeFile)(join(dir, 'kept'), 'new').catch((e: unknown) => errors.push(e))
      await promisify(fs.mkdir)(join(dir, 'folder')).catch((e: unknown) => errors.push(e))
      await promisify(fs.open)(join(dir, 'made'), 'wx').catch((e: unknown) => errors.push(e))
      await fs.promises.unlink(join(dir, 'kept')).catch((e: unknown) => errors.push(e))
      assert.throws(() => fs.writeFileSync(join(dir, 'kept'), 'new'), Killed)
      fs.closeSync(await promisify(fs.open)(join(dir, 'kept'), 'r'))
    } finally {
      point.restore()
    }
    assert.equal(errors.length, 4)
    for (const error of errors) assert.ok(error instanceof Killed, String(error))
    assert.deepEqual(fs.readdirSync(dir), ['kept'])
    assert.equal(readFileSync(join(dir, 'kept'), 'utf8'), 'old')
  })

  // Session 54: the SDK's writeFileAtomic sets its temp file's owner, mode and times through the
  // descriptor in its 'blocking' and 'pool' forms; before, a kill could never stop at them.
  it('fchmod, fchown and futimes are steps in both their forms; killed at one, the file keeps its metadata', async () => {
    const file = join(dir, 'file')
    writeFileSync(file, 'text')
    fs.chmodSync(file, 0o644)
    const uid = process.getuid?.() ?? 0
    const gid = process.getgid?.() ?? 0
    const fd = fs.openSync(file, 'r')
    try {
      const counted = killAt(Number.POSITIVE_INFINITY)
      try {
        fs.fchmodSync(fd, 0o600)
        fs.fchownSync(fd, uid, gid)
        fs.futimesSync(fd, new Date(), new Date())
        await promisify(fs.fchmod)(fd, 0o640)
        await promisify(fs.fchown)(fd, uid, gid)
        await promisify(fs.futimes)(fd, new Date(), new Date(0))
      } finally {
        counted.restore()
      }
      assert.deepEqual(counted.calls, ['fchmodSync()', 'fchownSync()', 'futimesSync()', 'fchmod()', 'fchown()', 'futimes()'])
      for (const chmod of [async () => fs.fchmodSync(fd, 0o600), () => promisify(fs.fchmod)(fd, 0o600)]) {
        const killed = killAt(1)
        try {
          await assert.rejects(chmod(), Killed)
        } finally {
          killed.restore()
        }
        assert.equal(fs.statSync(file).mode & 0o777, 0o640)
      }
    } finally {
      fs.closeSync(fd)
    }
  })

  it("'fail' fails only its step: a callback write after it goes through", async () => {
    const point = killAt(1, 'fail')
    try {
      await assert.rejects(promisify(fs.writeFile)(join(dir, 'first'), '1'), Killed)
      await promisify(fs.writeFile)(join(dir, 'second'), '2')
    } finally {
      point.restore()
    }
    assert.deepEqual(fs.readdirSync(dir), ['second'])
    assert.equal(point.steps, 2)
  })
})
