import { strict as assert } from 'node:assert'
import { writeFile } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { join } from 'node:path'
import { spawn } from 'node:child_process'
import { smallCliRoot, TWINSYNC_BIN } from '../support/cli.js'

/**
 * Session 53 (CI of session 52): `plan --json` right after `schedule enable --every 3s` exited 2
 * with LOCK_HELD: the timer's first snapshot held the twin (its person's edits set aside, its
 * files being moved) and plan, which takes the lock to put those back or settle the move, was
 * refused at once. The lead's loop on this root (plan in a loop beside 15 snapshots): 16 plans
 * ok, 1 LOCK_HELD. A reader now waits for such a run, bounded (TwinLock.holdForReading).
 */
/** Whether a `plan --json` output plans the test's pending edit (the twin's /etc/hostname). */
function plansTheEdit(stdout: string): boolean {
  return (JSON.parse(stdout) as { changes: Array<{ resource: string }> }).changes.some((c) => c.resource === '/etc/hostname')
}

describe('plan while snapshots run, through the real binary', function () {
  this.timeout(900_000)

  it('plan in a loop beside snapshots that commit and set a pending edit aside: every plan plans the edit, never LOCK_HELD', async () => {
    const { cli, root } = await smallCliRoot()
    try {
      const at = ['--root', root, '--repo', cli.twinDir]
      // A person's pending edit: every snapshot sets it aside while it records and commits (the
      // held marker), and puts it back after; a plan meeting that takes the lock to put it back.
      await writeFile(join(cli.twinDir, 'filesystem/etc/hostname'), 'wanted\n')
      const snapshots: number[] = []
      let done = false
      const snapshotting = (async () => {
        try {
          for (let i = 0; i < 15; i++) {
            // The machine moves each round: each snapshot commits and moves the working twin.
            await writeFile(join(root, 'etc/motd'), `round ${i}\n`)
            snapshots.push((await cli.twinsync(['snapshot', ...at])).code ?? -1)
          }
        } finally {
          done = true
        }
      })()
      const plans: string[] = []
      while (!done) {
        const p = await cli.twinsync(['plan', '--json', ...at])
        // Session 54: the edit is in every plan. One that read the working twin while a snapshot
        // that began after its look set the edit aside left it out, silently (session 53: 3 plans
        // of 15, then 3 of 25); such a plan is made again (TwinRepository.readSteadily).
        const edited = p.code === 0 && plansTheEdit(p.stdout)
        plans.push(p.code !== 0 ? (/"code": "(\w+)"/.exec(p.stdout)?.[1] ?? `exit ${p.code}: ${p.stderr.slice(0, 200)}`) : edited ? 'ok' : 'without the edit')
      }
      await snapshotting
      assert.deepEqual(snapshots, Array.from({ length: 15 }, () => 0), 'every snapshot recorded')
      assert.ok(plans.length >= 5, `${plans.length} plans`)
      // Session 52's code: 13 LOCK_HELD of 15 plans (session 53); ebf06447: 3 of 26 plans without the edit (session 54).
      assert.deepEqual(plans.filter((p) => p !== 'ok'), [], `${plans.length} plans`)
    } finally {
      await cli.cleanup()
    }
  })

  // Session 54: a snapshot killed anywhere in its run leaves its lock, its move stamp naming it
  // (move-stamp.ts, session 55), maybe the edits set aside or its move half done; the plan after it takes the lock over, settles and
  // puts back, and plans the edit (the plan's own rule, TwinRepository.readSteadily, included).
  it('a snapshot killed (kill -9) at points through its run, then plan: the pending edit is in every plan; the next snapshot records', async () => {
    const { cli, root } = await smallCliRoot()
    try {
      const at = ['--root', root, '--repo', cli.twinDir]
      await writeFile(join(cli.twinDir, 'filesystem/etc/hostname'), 'wanted\n')
      const plans: string[] = []
      for (const ms of [100, 250, 400, 600, 800, 1100, 1500, 2000]) {
        await writeFile(join(root, 'etc/motd'), `killed after ${ms} ms\n`)
        // Its own process group: git processes it started go with it.
        const child = spawn('node', [TWINSYNC_BIN, 'snapshot', ...at], { env: cli.env(), stdio: 'ignore', detached: true })
        const exited = new Promise((resolve) => child.on('exit', resolve))
        await sleep(ms)
        try {
          process.kill(-(child.pid as number), 'SIGKILL')
        } catch {
          // ended before the kill
        }
        await exited
        const p = await cli.twinsync(['plan', '--json', ...at])
        const edited = p.code === 0 && plansTheEdit(p.stdout)
        plans.push(`${ms} ms: ${p.code !== 0 ? `exit ${p.code}: ${p.stderr.slice(0, 300)}` : edited ? 'ok' : 'without the edit'}`)
      }
      assert.deepEqual(plans.filter((p) => !p.endsWith(': ok')), [], plans.join('\n'))
      const after = await cli.twinsync(['snapshot', ...at])
      assert.equal(after.code, 0, after.stderr)
      const p = await cli.twinsync(['plan', '--json', ...at])
      assert.ok(plansTheEdit(p.stdout), p.stdout)
    } finally {
      await cli.cleanup()
    }
  })

  // Session 54: a plan waiting for a run said nothing for up to 15 s, twice. It says once, on
  // stderr, what it waits for; stdout holds the JSON alone.
  it('a plan that waits for a snapshot says so once on stderr (which run, its pid), its --json stdout the plan alone', async () => {
    const { cli, root } = await smallCliRoot()
    try {
      const at = ['--root', root, '--repo', cli.twinDir]
      await writeFile(join(cli.twinDir, 'filesystem/etc/hostname'), 'wanted\n')
      // Another run as a snapshot holds the twin and moves it for 8 s (its move stamp, move-stamp.ts):
      // the plan, which reads meanwhile, finds the move under way at its end. (Session 55: a run
      // that only holds the lock moves nothing and is not waited for.)
      const lockModule = new URL('../../core/src/twin/twin-lock.ts', import.meta.url).pathname
      const stampModule = new URL('../../core/src/twin/move-stamp.ts', import.meta.url).pathname
      const script = `import { TwinLock } from ${JSON.stringify(lockModule)}
import { moving } from ${JSON.stringify(stampModule)}
const lock = new TwinLock(${JSON.stringify(join(cli.twinDir, '.git/twinsync/lock'))})
await lock.acquire('snapshot')
await moving(${JSON.stringify(cli.twinDir)}, async () => {
  process.stdout.write('held\\n')
  await new Promise((resolve) => setTimeout(resolve, 8000))
})
await lock.release()
process.exit(0)`
      const holder = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'], cwd: join(import.meta.dirname, '../..') })
      const exited = new Promise((resolve) => holder.on('exit', resolve))
      await new Promise<void>((resolve, reject) => {
        holder.stdout.on('data', (d: Buffer) => d.toString().includes('held') && resolve())
        holder.on('exit', (code) => reject(new Error(`the lock holder exited with ${code}`)))
      })
      const p = await cli.twinsync(['plan', '--json', ...at])
      await exited
      assert.equal(p.code, 0, p.stderr)
      assert.ok(plansTheEdit(p.stdout), p.stdout)
      const said = p.stderr.split('\n').filter((l) => l.startsWith('Waiting for'))
      assert.equal(said.length, 1, p.stderr)
      assert.match(said[0] ?? '', new RegExp(`^Waiting for another TwinSync snapshot \\(pid ${holder.pid}, since [^)]+\\) to finish with the twin, up to 15 s$`))
    } finally {
      await cli.cleanup()
    }
  })
})
