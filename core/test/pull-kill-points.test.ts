// Session 34: a pull killed (kill -9) or failing (an I/O error) at every step that changes the
// disk, in process (kill-points.ts), with a person's edit pending and the mirror a snapshot ahead.
// After each, the next `plan` and the next pull must find: the edit kept, pending, planned; nothing
// of the mirror's files read as an edit; HEAD the twin's snapshot or the mirror's, never between;
// and the pull, run again, brings the mirror's snapshot with the edit still on top.
import { strict as assert } from 'node:assert'
import { execFileSync } from 'node:child_process'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Planner } from '../src/plan/planner.js'
import { ProviderRegistry } from '../src/providers/provider-registry.js'
import { RemoteService } from '../src/remote/remote-service.js'
import { SnapshotService } from '../src/snapshot/snapshot-service.js'
import { asGoneRun, killAt } from './support/kill-points.js'
import { notesProvider } from './support/notes-provider.js'
import { unitRig, type UnitRig } from './support/unit-container.js'

const git = (dir: string, ...args: string[]) => execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8' }).trim()

describe('a pull killed or failing at every step', function () {
  this.timeout(3_600_000)
  let template: UnitRig
  let start: string
  let mirrored: string
  before(async () => {
    template = await unitRig([notesProvider('notes')])
    await writeFile(join(template.root, 'etc/notes'), 'first\n')
    await template.twin().init({ formatVersion: 1, machineId: null, hostname: 'unit' })
    await template.container.resolve(SnapshotService).snapshot()
    const bare = join(template.dir, 'mirror.git')
    execFileSync('git', ['init', '-q', '--bare', '--initial-branch=main', bare])
    await template.container.resolve(ProviderRegistry).load()
    await template.container.resolve(RemoteService).setGitRemote(bare, undefined)
    await template.container.resolve(RemoteService).push()
    const clone = join(template.dir, 'clone')
    execFileSync('git', ['clone', '-q', bare, clone])
    await mkdir(join(clone, 'scripts'), { recursive: true })
    await writeFile(join(clone, 'scripts/a.sh'), 'echo a\n')
    git(clone, 'add', '-A')
    git(clone, '-c', 'user.name=t', '-c', 'user.email=t@x', 'commit', '-q', '-m', 'a script from elsewhere')
    git(clone, 'push', '-q', 'origin', 'main')
    mirrored = git(bare, 'rev-parse', 'main')
    start = template.git('rev-parse', 'HEAD')
    // A person's edit, pending.
    await writeFile(join(template.twinDir, 'system/notes.json'), `${JSON.stringify({ text: 'mine\n' })}\n`)
  })
  after(() => template?.cleanup())

  const fresh = async () => {
    const rig = await unitRig([notesProvider('notes')])
    await rm(rig.root, { recursive: true })
    await rm(rig.twinDir, { recursive: true, force: true })
    execFileSync('cp', ['-a', template.root, rig.root])
    execFileSync('cp', ['-a', template.twinDir, rig.twinDir])
    // The mirror is the template's bare repository (read only by the pulls).
    git(rig.twinDir, 'remote', 'set-url', 'mirror', join(template.dir, 'mirror.git'))
    await rig.container.resolve(ProviderRegistry).load()
    return rig
  }
  const whole = async (rig: UnitRig, label: string) => {
    const head = rig.git('rev-parse', 'HEAD')
    assert.ok(head === start || head === mirrored, `${label}: HEAD is the twin's snapshot or the mirror's`)
    const plan = await rig.container.resolve(Planner).plan()
    assert.deepEqual(plan.changes.map((c) => c.id), ['notes:replace:/etc/notes'], `${label}: the edit is planned, nothing else`)
    assert.equal(JSON.parse(await readFile(join(rig.twinDir, 'system/notes.json'), 'utf8')).text, 'mine\n', `${label}: the edit is kept`)
    const again = await rig.container.resolve(RemoteService).pull()
    assert.ok(['fast-forwarded', 'up-to-date'].includes(again.status), `${label}: ${again.status}`)
    assert.equal(rig.git('rev-parse', 'HEAD'), mirrored, `${label}: the pull run again brings the mirror's snapshot`)
    assert.equal(await readFile(join(rig.twinDir, 'scripts/a.sh'), 'utf8'), 'echo a\n', label)
    assert.equal(rig.git('status', '--porcelain'), 'M system/notes.json', `${label}: only the edit differs from HEAD`)
    const after = await rig.container.resolve(Planner).plan()
    assert.deepEqual(after.changes.map((c) => c.id), ['notes:replace:/etc/notes'], `${label}: the edit is still planned`)
  }

  /** The pull's steps, counted on a pull that runs through (git's children counted too). */
  const pullSteps = async () => {
    const counting = await fresh()
    const count = killAt(Number.POSITIVE_INFINITY, 'kill', 'steps')
    try {
      await counting.container.resolve(RemoteService).pull()
    } finally {
      count.restore()
    }
    assert.equal(counting.git('rev-parse', 'HEAD'), mirrored)
    await counting.cleanup()
    assert.ok(count.steps > 20, `a pull's steps: ${count.steps}\n${count.calls.join('\n')}`)
    return [...count.calls]
  }
  /** Stop a pull at each step of `at` (numbers from 1), then check the twin is whole (`whole`). */
  const sweep = async (mode: 'kill' | 'fail', at: readonly number[], calls: readonly string[]) => {
    const failures: string[] = []
    for (const step of at) {
      const rig = await fresh()
      const point = killAt(step, mode, 'steps')
      try {
        await rig.container.resolve(RemoteService).pull()
      } catch {
        // killed, or failed at that step
      } finally {
        point.restore()
      }
      asGoneRun(rig.twinDir)
      try {
        await whole(rig, `${mode} at ${step} (${(calls[step - 1] ?? '').slice(0, 200)})`)
      } catch (error) {
        failures.push(String((error as Error).message).split('\n')[0] as string)
      }
      await rig.cleanup()
    }
    assert.deepEqual(failures, [], failures.join('\n'))
  }
  // The whole sweep (121 steps, each mode: about 6 minutes a mode at load 8) is run by hand with
  // TWINSYNC_FULL_SWEEP=1; CI runs every tenth step killed and every rename failing (113 s in CI's
  // run of every fifth step and every rename and link, both groups at once: too much of its 30
  // minutes).
  const full = process.env.TWINSYNC_FULL_SWEEP !== undefined

  it(`killed (kill -9) at ${full ? 'every step' : 'every tenth step'}, git's children counted as steps`, async () => {
    const calls = await pullSteps()
    await sweep('kill', calls.map((_, i) => i + 1).filter((n) => full || n % 10 === 1), calls)
  })

  // Session 34: failing at the rename of resetIndex's swap (its hard link made .git/index.lock)
  // left the lock: the next command refused the twin ("git's index lock … exists"), until a later
  // process found it stale. The swap now removes its own lock when the rename fails.
  it(`failing (an I/O error) at ${full ? 'every step' : 'every rename'}, the rest of the run going on`, async () => {
    const calls = await pullSteps()
    await sweep('fail', calls.map((_, i) => i + 1).filter((n) => full || /^rename(Sync)?\(/.test(calls[n - 1] ?? '')), calls)
  })
})
