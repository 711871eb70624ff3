import { strict as assert } from 'node:assert'
import fs from 'node:fs'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { spawnSync } from 'node:child_process'
import { isTempNameOf, writeFileAtomic, type AtomicWait } from '@twinsync/sdk/light'
import { killAt } from './support/kill-points.js'

/**
 * The SDK's writeFileAtomic (sdk/src/atomic-write.ts), the one atomic write of TwinSync's, in each
 * of its three forms (AtomicWait): 'promises' (fs/promises: the host port's, a machine's files),
 * 'pool' (fs's callback calls: the twin's state written inside a provider call) and 'blocking'
 * (synchronous calls: the twin's own state, the core waiting for it). Until session 54 the twin's
 * state files had their own copy of the algorithm (core/src/twin/state-file.ts, session 53); this
 * file holds the tests of both (state-file.test.ts and sdk/test/atomic-write.test.ts before).
 */
describe('writeFileAtomic, in each of its forms', () => {
  let dir: string
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'twinsync-atomic-'))
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  const FORMS = ['promises', 'pool', 'blocking'] as const satisfies readonly AtomicWait[]

  /** Whether the file was in place when a turn of the event loop queued before the write came. */
  async function placedAtFirstTurn(wait: AtomicWait): Promise<boolean> {
    const target = join(dir, 'site.conf')
    let placed: boolean | undefined
    const turn = new Promise<void>((resolve) =>
      setImmediate(() => {
        placed = existsSync(target)
        resolve()
      }),
    )
    await Promise.all([writeFileAtomic(target, 'listen 80;\n', { mode: 0o640, wait }), turn])
    assert.equal(readFileSync(target, 'utf8'), 'listen 80;\n')
    assert.equal(statSync(target).mode & 0o777, 0o640)
    assert.deepEqual(readdirSync(dir), ['site.conf'])
    return placed as boolean
  }

  // Session 52's review (M1): the atomic write is also how an apply writes the machine's files
  // (LocalHost.writeFileAtomic). Made synchronous for speed, a write or fsync that hangs on a
  // stalled mount would block the main thread, and the call's time limit (provider-call.ts) and
  // Ctrl-C could never fire. Guards: 381a48ab's synchronous form (reverted) failed the first.
  it("'promises' (the default, the host port's) lets a turn queued before the write run before the file is in place", async () => {
    assert.equal(await placedAtFirstTurn('promises'), false)
  })

  it("'pool' waits on libuv's pool: a turn queued before the write runs before the file is in place", async () => {
    assert.equal(await placedAtFirstTurn('pool'), false)
  })

  it("'blocking' writes with synchronous calls: the file is in place before any turn runs", async () => {
    assert.equal(await placedAtFirstTurn('blocking'), true)
  })

  /** The steps a whole write makes (kill-points), by call name. */
  async function stepsOf(write: () => Promise<void>): Promise<string[]> {
    const whole = killAt(Number.POSITIVE_INFINITY)
    try {
      await write()
    } finally {
      whole.restore()
    }
    return whole.calls.map((call) => call.replace(/\(.*$/, '').replace(/Sync$/, ''))
  }

  // The steps of each form: a FileHandle's own methods are no steps (kill-points.ts), so the
  // 'promises' form is killed at its open and its rename only; the descriptor forms at each call,
  // their fchmod, fchown and futimes too since session 54.
  const STEPS: Record<AtomicWait, string[]> = {
    promises: ['open', 'rename'],
    pool: ['open', 'writeFile', 'fchown', 'fchmod', 'futimes', 'fsync', 'rename', 'fsync'],
    blocking: ['open', 'writeFile', 'fchown', 'fchmod', 'futimes', 'fsync', 'rename', 'fsync'],
  }

  for (const wait of FORMS) {
    it(`'${wait}': killed or failing at each of its steps, the file is the old one or the new one, whole, with its own mode and time; a failure leaves no temp file`, async () => {
      const target = join(dir, 'record.json')
      const OLD_MTIME = Date.parse('2020-01-01T00:00:00Z')
      const NEW_MTIME = Date.parse('2021-06-01T00:00:00Z')
      const old = () => {
        writeFileSync(target, 'old')
        fs.chmodSync(target, 0o644)
        fs.utimesSync(target, new Date(), new Date(OLD_MTIME))
      }
      // Its owner given (the test's own: a chown any user may make), so its fchown is a step too.
      const options = { mode: 0o640, uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0, mtimeMs: NEW_MTIME, wait }
      old()
      assert.deepEqual(await stepsOf(() => writeFileAtomic(target, 'new', options)), STEPS[wait])
      const steps = STEPS[wait].length
      for (let at = 1; at <= steps; at++) {
        for (const mode of ['kill', 'fail'] as const) {
          old()
          const point = killAt(at, mode)
          try {
            await assert.rejects(writeFileAtomic(target, 'new', options))
          } finally {
            point.restore()
          }
          assert.ok(point.hit, `${mode} at step ${at}`)
          const text = readFileSync(target, 'utf8')
          const stat = statSync(target)
          // Only a kill or failure after the rename (the folder's fsync, the last step of the descriptor forms) leaves the new file.
          if (text === 'new') assert.deepEqual([stat.mode & 0o7777, stat.mtimeMs], [0o640, NEW_MTIME], `${mode} at step ${at}: the new file with the old metadata`)
          else assert.deepEqual([text, stat.mode & 0o7777, stat.mtimeMs], ['old', 0o644, OLD_MTIME], `${mode} at step ${at}`)
          if (at < steps) assert.equal(text, 'old', `${mode} at step ${at}, before the rename is done`)
          const left = readdirSync(dir).filter((n) => n !== 'record.json')
          // A kill leaves at most its temp file, named so that settling's sweep knows it; a failure removes its own.
          if (mode === 'fail') assert.deepEqual(left, [], `failed at step ${at}`)
          else for (const n of left) assert.ok(isTempNameOf(n, 'record.json'), n)
          for (const n of left) rmSync(join(dir, n))
        }
      }
    })

    it(`'${wait}': leaves no temp file and the old content when a step of its own fails (a guard)`, async () => {
      const target = join(dir, 'site.conf')
      await writeFileAtomic(target, 'old\n', { wait })
      await assert.rejects(
        writeFileAtomic(target, 'new\n', {
          wait,
          finish: async () => {
            throw new Error('attributes refused')
          },
        }),
        /attributes refused/,
      )
      assert.equal(readFileSync(target, 'utf8'), 'old\n')
      assert.deepEqual(readdirSync(dir), ['site.conf'])
    })
  }

  // Each call is looked up on fs (the module object) when made: a patch of fs (the kill-points') is
  // seen without syncBuiltinESMExports, from the SDK's compiled ES module (sdk/dist, plain node, no
  // tsx) as from its CommonJS bundle. Session 53's state-file.ts bound its calls' names at its top:
  // its compiled module, so patched, saw 0 of the 9 calls in either form (ebf06447's core/dist,
  // checked by hand); tsx's transform and the bundle's CommonJS form hid that.
  it("'pool' and 'blocking': a patch of fs's own object sees every call, from the compiled ES module too (no syncBuiltinESMExports)", () => {
    const script = `
      import fs from 'node:fs'
      import { join } from 'node:path'
      import { writeFileAtomic } from ${JSON.stringify(new URL('../../sdk/dist/atomic-write.js', import.meta.url).href)}
      const seen = []
      for (const name of ['open', 'writeFile', 'fchmod', 'fsync', 'rename', 'close', 'openSync', 'writeFileSync', 'fchmodSync', 'fsyncSync', 'renameSync', 'closeSync']) {
        const original = fs[name]
        fs[name] = function (...args) { seen.push(name); return original.apply(this, args) }
      }
      const out = {}
      for (const wait of ['pool', 'blocking']) {
        await writeFileAtomic(join(${JSON.stringify(dir)}, wait), 'text', { mode: 0o600, wait })
        out[wait] = seen.splice(0)
      }
      process.stdout.write(JSON.stringify(out))`
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } })
    assert.equal(r.status, 0, r.stderr)
    const calls = ['open', 'writeFile', 'fchmod', 'fsync', 'rename', 'close', 'open', 'fsync', 'close']
    assert.deepEqual(JSON.parse(r.stdout), { pool: calls, blocking: calls.map((c) => `${c}Sync`) })
    for (const wait of ['pool', 'blocking']) assert.equal(readFileSync(join(dir, wait), 'utf8'), 'text')
  })
})
