// Session 35: `adopt` and `discard` killed (kill -9) or failing (an I/O error: a full disk, EIO)
// at every step that changes the disk, git's child processes counted as steps, in process
// (kill-points.ts). A person's edit is pending throughout (system/memo.json). After each stop the
// next run must find: that edit kept and pending; nothing half done read as an edit (adopt: the
// machine's notes never pending as something the twin asks for; discard: the notes either still
// the person's edit or discarded, nothing else); and the same command, run again, finishes.
import { strict as assert } from 'node:assert'
import { execFileSync } from 'node:child_process'
import { statfsSync } from 'node:fs'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { isTwinSyncError } from '@twinsync/sdk'
import { IntentService } from '../src/intent/intent-service.js'
import { ReconcileService } from '../src/intent/reconcile-service.js'
import { ProviderRegistry } from '../src/providers/provider-registry.js'
import { SnapshotService } from '../src/snapshot/snapshot-service.js'
import { asGoneRun, killAt } from './support/kill-points.js'
import { notesProvider } from './support/notes-provider.js'
import { unitRig, type UnitRig } from './support/unit-container.js'

// Taken before any killAt patches child_process: filling the disk is no step of the run.
const fillExec = execFileSync
function fillDisk(mounted: string, filler: string): void {
  const fs = statfsSync(mounted)
  if (fs.bavail > 0) fillExec('fallocate', ['-l', String(fs.bavail * fs.bsize), filler])
}

const providers = () => [notesProvider('notes'), notesProvider('memo')]
const doc = (text: string) => `${JSON.stringify({ text })}\n`
const NOTES = 'notes:replace:/etc/notes'
const MEMO = 'memo:replace:/etc/memo'

type Kind = 'adopt' | 'discard'

describe('adopt and discard killed or failing at every step', function () {
  this.timeout(3_600_000)
  const templates = new Map<Kind, UnitRig>()

  before(async () => {
    for (const kind of ['adopt', 'discard'] as const) {
      const t = await unitRig(providers())
      await writeFile(join(t.root, 'etc/notes'), 'first\n')
      await writeFile(join(t.root, 'etc/memo'), 'first\n')
      await t.twin().init({ formatVersion: 1, machineId: null, hostname: 'unit' })
      await t.container.resolve(SnapshotService).snapshot()
      // The person's edit, pending in both.
      await writeFile(join(t.twinDir, 'system/memo.json'), doc('mine\n'))
      // adopt: the machine moved (the notes); discard: a second edit, the one to discard.
      if (kind === 'adopt') await writeFile(join(t.root, 'etc/notes'), 'machine\n')
      else await writeFile(join(t.twinDir, 'system/notes.json'), doc('discard me\n'))
      templates.set(kind, t)
    }
  })
  after(async () => {
    for (const t of templates.values()) await t.cleanup()
  })

  /** A copy of the template; `small`: the twin on a 16 MiB tmpfs of its own (unmounted by its cleanup). */
  const fresh = async (kind: Kind, small = false) => {
    const template = templates.get(kind) as UnitRig
    const rig = await unitRig(providers())
    await rm(rig.root, { recursive: true })
    await rm(rig.twinDir, { recursive: true, force: true })
    execFileSync('cp', ['-a', template.root, rig.root])
    if (small) {
      await mkdir(rig.twinDir)
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m,mode=0700', 'tmpfs', rig.twinDir])
      execFileSync('cp', ['-a', `${template.twinDir}/.`, rig.twinDir])
      const cleanup = rig.cleanup
      rig.cleanup = async () => {
        execFileSync('umount', ['-l', rig.twinDir])
        await cleanup()
      }
    } else execFileSync('cp', ['-a', template.twinDir, rig.twinDir])
    await rig.container.resolve(ProviderRegistry).load()
    return rig
  }
  const run = (rig: UnitRig, kind: Kind) => (kind === 'adopt' ? rig.container.resolve(ReconcileService).adopt([NOTES]) : rig.container.resolve(ReconcileService).discard([NOTES]))
  const pendingIds = async (rig: UnitRig) => (await rig.container.resolve(IntentService).pending()).items.map((i) => i.id).sort()
  const notesAt = (rig: UnitRig, rev: string) => JSON.parse(rig.git('show', `${rev}:system/notes.json`)).text as string

  /** The twin after a stop, then after the command run again. */
  const whole = async (rig: UnitRig, kind: Kind, label: string) => {
    const pending = await pendingIds(rig)
    assert.ok(pending.includes(MEMO), `${label}: the person's edit is pending (${pending.join(', ')})`)
    if (kind === 'adopt') assert.deepEqual(pending, [MEMO], `${label}: nothing of the adopt read as an edit`)
    else assert.ok(pending.every((id) => id === MEMO || id === NOTES), `${label}: nothing but the two edits pending (${pending.join(', ')})`)
    try {
      await run(rig, kind)
    } catch (error) {
      // Already done by the stopped run: nothing left to decide.
      if (!(isTwinSyncError(error) && error.code === 'ITEM_UNKNOWN')) throw new Error(`${label}: the command run again failed: ${String(error)}`)
    }
    assert.deepEqual(await pendingIds(rig), [MEMO], `${label}: after the command ran again, only the person's edit is pending`)
    assert.equal(JSON.parse(await readFile(join(rig.twinDir, 'system/memo.json'), 'utf8')).text, 'mine\n', `${label}: the edit is in the working twin`)
    const working = JSON.parse(await readFile(join(rig.twinDir, 'system/notes.json'), 'utf8')).text as string
    if (kind === 'adopt') {
      assert.equal(notesAt(rig, 'refs/twinsync/observed'), 'machine\n', `${label}: the adopt is recorded`)
      assert.equal(working, 'machine\n', `${label}: the working twin holds the machine's notes`)
    } else {
      assert.equal(working, 'first\n', `${label}: the discarded edit is gone`)
    }
    assert.deepEqual(rig.git('status', '--porcelain').split('\n').map((l) => l.trim()), ['M system/memo.json'], `${label}: only the person's edit differs from HEAD`)
  }

  /** The command's steps, counted on a run that goes through (git's children counted too); counted once per kind. */
  const counted = new Map<Kind, Promise<string[]>>()
  const steps = (kind: Kind) => {
    if (!counted.has(kind)) counted.set(kind, countSteps(kind))
    return counted.get(kind) as Promise<string[]>
  }
  const countSteps = async (kind: Kind) => {
    const counting = await fresh(kind)
    const count = killAt(Number.POSITIVE_INFINITY, 'kill', 'steps')
    try {
      await run(counting, kind)
    } finally {
      count.restore()
    }
    await whole(counting, kind, `${kind} through`)
    await counting.cleanup()
    assert.ok(count.steps > 10, `${kind}'s steps: ${count.steps}\n${count.calls.join('\n')}`)
    if (process.env.TWINSYNC_SWEEP_LOG !== undefined) console.log(`${kind}: ${count.steps} steps\n${count.calls.map((c, i) => `${i + 1} ${c.slice(0, 160)}`).join('\n')}`)
    // git's own settings (-c name=value) left out of a call's label: its subcommand shows.
    return count.calls.map((c) => c.replace(/-c \S+ /g, ''))
  }

  /**
   * `full`: the twin's disk (a tmpfs) filled as step `step` is reached, so that it and every write
   * after it fail as on a full disk (ENOSPC, git's too); the run's error must be coded.
   */
  const sweep = async (kind: Kind, mode: 'kill' | 'fail' | 'full', at: readonly number[], calls: readonly string[]) => {
    const failures: string[] = []
    for (const step of at) {
      const rig = await fresh(kind, mode === 'full')
      const filler = join(rig.twinDir, 'filler')
      let n = 0
      const point =
        mode === 'full'
          ? killAt(() => {
              if (++n === step) fillDisk(rig.twinDir, filler)
              return false
            }, 'kill', 'steps')
          : killAt(step, mode, 'steps')
      let failed: unknown
      try {
        await run(rig, kind)
      } catch (error) {
        // killed, or failed at that step
        failed = error
      } finally {
        await new Promise((resolve) => setImmediate(resolve))
        point.restore()
      }
      if (mode === 'full') {
        await rm(filler, { force: true })
        // The disk is the cause, and the error says so (DISK_FULL, not Node's raw ENOSPC nor another code).
        if (failed !== undefined && !(isTwinSyncError(failed) && failed.code === 'DISK_FULL')) {
          failures.push(`${kind} full at ${step} (${(calls[step - 1] ?? '').slice(0, 200)}): ${isTwinSyncError(failed) ? failed.code : 'uncoded'}: ${String(failed).split('\n')[0]}`)
          if (process.env.TWINSYNC_SWEEP_LOG !== undefined) console.log(`FAILED ${failures.at(-1) ?? ''}`)
        }
      }
      asGoneRun(rig.twinDir)
      try {
        await whole(rig, kind, `${kind} ${mode} at ${step} (${(calls[step - 1] ?? '').slice(0, 200)})`)
      } catch (error) {
        failures.push(String((error as Error).message).split('\n')[0] as string)
        if (process.env.TWINSYNC_SWEEP_LOG !== undefined) console.log(`FAILED ${failures.at(-1) ?? ''}`)
      }
      await rig.cleanup()
    }
    assert.deepEqual(failures, [], failures.join('\n'))
  }

  // The whole sweep (adopt 127 steps, discard about 70; each stop 2-6 s, by load) is run by hand
  // with TWINSYNC_FULL_SWEEP=1; TWINSYNC_SWEEP_STEPS=a,b runs those steps alone. CI runs a subset
  // of about a dozen stops: every 60th step killed, every eighth rename failing, and the disk
  // filling where the two session-35 fixes are (below).
  const full = process.env.TWINSYNC_FULL_SWEEP !== undefined
  const only = process.env.TWINSYNC_SWEEP_STEPS?.split(',').map(Number)
  const pick = (calls: readonly string[], every: (n: number) => boolean) => only ?? calls.map((_, i) => i + 1).filter((n) => full || every(n))
  /** The number of the first step (from 1) whose call matches, after the step `after`; 0 for none. */
  const first = (calls: readonly string[], pattern: RegExp, after = 0) => calls.findIndex((c, i) => i >= after && pattern.test(c)) + 1

  // A real full disk (session 35's item 3: a full disk during discard). In CI: where TwinSync
  // records its ref locks (a discard's raw ENOSPC, uncoded), its commit's `git update-ref`
  // (GIT_FAILED, "couldn't write"), and the first step after an adopt's commit moved the observed
  // ref (its set-aside edits not put back by the adopt run again).
  for (const kind of ['discard', 'adopt'] as const) {
    it(`${kind} with the twin's disk filling up at ${full ? 'every step' : 'a few steps'} (a tmpfs, root only)`, async function () {
      if (process.getuid?.() !== 0) this.skip()
      const calls = await steps(kind)
      const observedMoved = first(calls, /^renameSync\(.*\/refs\/twinsync\/observed\.lock\)$/)
      const picked = new Set(
        (kind === 'discard' ? [first(calls, /ref-locks\.json/), first(calls, /^mkdirSync\(.*\/logs\/refs\/twinsync\)$/), first(calls, /^spawn\(git update-ref .*HEAD/)] : [first(calls, /^spawn\(/, observedMoved)]).filter((n) => n > 0),
      )
      assert.ok(picked.size > 0, calls.join('\n'))
      await sweep(kind, 'full', pick(calls, (n) => picked.has(n)), calls)
    })
  }

  for (const kind of ['adopt', 'discard'] as const) {
    it(`${kind} killed (kill -9) at ${full ? 'every step' : 'every 60th step'}, git's children counted as steps`, async () => {
      const calls = await steps(kind)
      await sweep(kind, 'kill', pick(calls, (n) => n % 60 === 1), calls)
    })
    it(`${kind} failing (an I/O error) at ${full ? 'every step' : 'every eighth rename'}, the rest of the run going on`, async () => {
      const calls = await steps(kind)
      const renames = calls.map((c, i) => (/^rename(Sync)?\(/.test(c) ? i + 1 : 0)).filter((n) => n > 0)
      // And the ref locks' record's removal after observed moved (an adopt recorded, then failing:
      // its working twin was put back to the old values, a pending edit undoing the adoption).
      const afterObserved = kind === 'adopt' ? first(calls, /^rmSync\(.*\/ref-locks\.json\)$/, first(calls, /^renameSync\(.*\/refs\/twinsync\/observed\.lock\)$/)) : 0
      await sweep(kind, 'fail', pick(calls, (n) => renames.indexOf(n) % 8 === 0 || n === afterObserved), calls)
    })
  }
})
