// Session 19: twin.json names the machine a twin was made of, and nothing compared it with the
// target: a twin copied to another machine, a mirror holding another machine's twin, or a
// reinstalled machine (a new /etc/machine-id) was snapshotted over, pulled and applied as if it
// were the target's own. Now apply, snapshot and pull refuse it (TWIN_OTHER_MACHINE, exit 2,
// nothing changed), the plan says it as an error (so both front ends refuse to apply it), and
// `twinsync init --claim` is the deliberate way for a target to take a twin over.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { silentLogger } from '@twinsync/sdk'
import { createContainer } from '../../core/src/container.js'
import { ApplyService } from '../../core/src/apply/apply-service.js'
import { RemoteService } from '../../core/src/remote/remote-service.js'
import { InitWorkflow } from '../../core/src/services/init-twin.js'
import { PlanWorkflow } from '../../core/src/services/make-plan.js'
import { SnapshotWorkflow } from '../../core/src/services/take-snapshot.js'
import { planRefusal } from '../../core/src/apply/plan-refusal.js'
import type { SnapshotRecord } from '../../core/src/history/snapshot-log.js'
import { CLAIM_RECORD } from '../../core/src/twin/machine-match.js'
import { appSpecificMachineId } from '../../core/src/twin/twin-info.js'
import { checksum, errorCode, FILES_ONLY, git as gitIn, noPlugins } from '../support/in-process-twin.js'

const git = (dir: string, ...args: string[]): string => gitIn(dir, args).trim()
const ID_A = 'a'.repeat(32)
const ID_B = 'b'.repeat(32)
// What twin.json, the claim and the messages hold: TwinSync's keyed hash of each id (session 22), never the id.
const HASH_A = appSpecificMachineId(ID_A)
const HASH_B = appSpecificMachineId(ID_B)

const codeOf = errorCode

describe('the twin of another machine (twin.json machineId against the target\'s /etc/machine-id)', function () {
  this.timeout(120_000)
  let dir: string
  let configPath: string
  const container = (root: string, repo: string) => createContainer({ root, repo, configPath, oclif: noPlugins, logger: silentLogger })
  async function makeRoot(name: string, machineId: string | undefined, motd: string): Promise<string> {
    const root = join(dir, name)
    await mkdir(join(root, 'etc'), { recursive: true })
    await writeFile(join(root, 'etc/motd'), motd)
    await writeFile(join(root, 'etc/hostname'), `${name}\n`)
    if (machineId !== undefined) await writeFile(join(root, 'etc/machine-id'), `${machineId}\n`)
    return root
  }

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'twinsync-machine-'))
    configPath = join(dir, 'config.yaml')
    await writeFile(configPath, FILES_ONLY)
  })
  afterEach(() => rm(dir, { recursive: true, force: true }))

  it('a twin copied to another machine: snapshot, apply and pull refuse it (TWIN_OTHER_MACHINE), the plan says it as an error; nothing on the target or in the twin changes', async () => {
    const a = await makeRoot('web1', ID_A, 'web1\n')
    const b = await makeRoot('db1', ID_B, 'db1\n')
    const twinA = join(dir, 'twin-a')
    await (await container(a, twinA)).resolve(SnapshotWorkflow).take({ init: true, ifChanged: false })
    const mirror = join(dir, 'mirror.git')
    execFileSync('git', ['init', '--quiet', '--bare', '--initial-branch=main', mirror])
    await (await container(a, twinA)).resolve(RemoteService).setGitRemote(mirror, undefined)
    await (await container(a, twinA)).resolve(RemoteService).push()
    // The twin copied to db1 whole (cp -a), as a person restoring or cloning would.
    const twinB = join(dir, 'twin-b')
    execFileSync('cp', ['-a', twinA, twinB])
    const head = git(twinB, 'rev-parse', 'HEAD')
    const rootSum = await checksum(b)

    assert.equal(await codeOf((await container(b, twinB)).resolve(SnapshotWorkflow).take({ init: false, ifChanged: false })), 'TWIN_OTHER_MACHINE')
    const plan = await (await container(b, twinB)).resolve(PlanWorkflow).plan({})
    const said = plan.diagnostics.find((d) => d.code === 'TWIN_OTHER_MACHINE')
    assert.equal(said?.severity, 'error')
    assert.match(said?.summary ?? '', new RegExp(`is the twin of another machine \\(machine ${HASH_A.slice(0, 12)}…, hostname web1\\); the root at .*db1 is machine ${HASH_B.slice(0, 12)}…`))
    for (const id of [ID_A, ID_B]) assert.ok(!JSON.stringify(plan).includes(id), `no machine id itself in the plan: ${JSON.stringify(plan).slice(Math.max(0, JSON.stringify(plan).indexOf(id) - 300), JSON.stringify(plan).indexOf(id) + 50)}`)
    assert.match(said?.detail ?? '', /twinsync init --claim --root .*db1 --repo .*twin-b/)
    assert.ok(plan.changes.some((c) => c.resource === '/etc/motd'), 'the plan still shows what it would change, for review')
    assert.equal(planRefusal(plan, (args) => args.join(' '))?.code, 'TWIN_OTHER_MACHINE', 'both front ends refuse to apply it')
    assert.equal(await codeOf((await container(b, twinB)).resolve(ApplyService).apply({ plan, fromFile: false, signal: new AbortController().signal })), 'TWIN_OTHER_MACHINE')
    // A plan with its error taken out (a forged or an old saved plan) is refused by apply itself.
    const forged = { ...plan, diagnostics: plan.diagnostics.filter((d) => d.code !== 'TWIN_OTHER_MACHINE') }
    assert.equal(await codeOf((await container(b, twinB)).resolve(ApplyService).apply({ plan: forged, fromFile: true, signal: new AbortController().signal })), 'TWIN_OTHER_MACHINE')
    // web1 goes on snapshotting into the mirror both twins are linked to.
    await writeFile(join(a, 'etc/motd'), 'web1 again\n')
    await (await container(a, twinA)).resolve(SnapshotWorkflow).take({ init: false, ifChanged: false })
    await (await container(a, twinA)).resolve(RemoteService).push()
    assert.equal(await codeOf((await container(b, twinB)).resolve(RemoteService).pull()), 'TWIN_OTHER_MACHINE')
    assert.equal(await checksum(b), rootSum, 'db1 unchanged')
    assert.equal(git(twinB, 'rev-parse', 'HEAD'), head, 'no commit')
    assert.equal(git(twinB, 'status', '--porcelain'), '')
  })

  it('a mirror holding another machine\'s twin: pull refuses it before the working twin moves, fast-forward or diverged', async () => {
    const a = await makeRoot('web1', ID_A, 'web1\n')
    const b = await makeRoot('db1', ID_B, 'db1\n')
    const twinA = join(dir, 'twin-a')
    const twinB = join(dir, 'twin-b')
    const mirror = join(dir, 'mirror.git')
    execFileSync('git', ['init', '--quiet', '--bare', '--initial-branch=main', mirror])
    await (await container(b, twinB)).resolve(SnapshotWorkflow).take({ init: true, ifChanged: false })
    await (await container(b, twinB)).resolve(RemoteService).setGitRemote(mirror, undefined)
    await (await container(b, twinB)).resolve(RemoteService).push()
    // Fast-forward: the mirror's next commit is db1's history with web1's twin.json (a copied twin pushed there), as an older TwinSync wrote it (the machine id itself).
    const clone = join(dir, 'clone')
    execFileSync('git', ['clone', '--quiet', mirror, clone])
    const info = JSON.parse(await readFile(join(clone, 'twin.json'), 'utf8')) as Record<string, unknown>
    assert.equal(info.machine, HASH_B)
    await writeFile(join(clone, 'twin.json'), `${JSON.stringify({ formatVersion: info.formatVersion, machineId: ID_A, hostname: 'web1' }, null, 2)}\n`)
    git(clone, 'commit', '-qam', 'web1')
    git(clone, 'push', '-q', 'origin', 'HEAD:main')
    const head = git(twinB, 'rev-parse', 'HEAD')
    assert.equal(await codeOf((await container(b, twinB)).resolve(RemoteService).pull()), 'TWIN_OTHER_MACHINE')
    assert.equal(git(twinB, 'rev-parse', 'HEAD'), head)
    assert.equal(git(twinB, 'status', '--porcelain'), '')
    // Diverged: web1's own twin force-pushed to db1's mirror; said as the other machine's, not only REMOTE_DIVERGED.
    await (await container(a, twinA)).resolve(SnapshotWorkflow).take({ init: true, ifChanged: false })
    git(twinA, 'push', '-q', '--force', mirror, 'HEAD:refs/heads/main')
    assert.equal(await codeOf((await container(b, twinB)).resolve(RemoteService).pull()), 'TWIN_OTHER_MACHINE')
    assert.equal(git(twinB, 'rev-parse', 'HEAD'), head)
  })

  // Session 45: pull looks at the fetched tip's twin.json only; an earlier commit of the pulled
  // history naming another machine was planned (`plan --from`, `apply --from`, a revert) as this one's.
  it("a snapshot of the twin's history whose twin.json names another machine: plan --from and a revert say it as the plan's error, apply refuses it (TWIN_OTHER_MACHINE), nothing changes", async () => {
    const b = await makeRoot('db1', ID_B, 'db1\n')
    const twin = join(dir, 'twin')
    await (await container(b, twin)).resolve(SnapshotWorkflow).take({ init: true, ifChanged: false })
    const own = await readFile(join(twin, 'twin.json'), 'utf8')
    // A history as a mirror may hold it: web1's twin.json and motd, then db1's twin.json again (the tip pull looks at).
    const info = JSON.parse(own) as Record<string, unknown>
    await writeFile(join(twin, 'twin.json'), `${JSON.stringify({ ...info, machine: HASH_A, hostname: 'web1' }, null, 2)}\n`)
    await writeFile(join(twin, 'filesystem/etc/motd'), 'web1\n')
    git(twin, 'commit', '-qam', 'web1')
    const web1 = git(twin, 'rev-parse', 'HEAD')
    await writeFile(join(twin, 'twin.json'), own)
    await writeFile(join(twin, 'filesystem/etc/motd'), 'db1\n')
    git(twin, 'commit', '-qam', 'db1 again')
    const head = git(twin, 'rev-parse', 'HEAD')
    const rootSum = await checksum(b)
    const plans = await (await container(b, twin)).resolve(PlanWorkflow)
    for (const plan of [await plans.plan({ from: web1.slice(0, 12) }), await plans.toApply({ revert: { commit: web1 } as SnapshotRecord })]) {
      const said = plan.diagnostics.filter((d) => d.code === 'TWIN_OTHER_MACHINE')
      assert.equal(said.length, 1, JSON.stringify(plan.diagnostics))
      assert.equal(said[0]?.severity, 'error')
      assert.match(said[0]?.summary ?? '', new RegExp(`^The snapshot ${web1.slice(0, 12)} the plan is read from is the twin of another machine \\(machine ${HASH_A.slice(0, 12)}…, hostname web1\\); the root at .*db1 is machine ${HASH_B.slice(0, 12)}…$`))
      assert.match(said[0]?.detail ?? '', /twinsync init --claim --root .*db1 .*otherwise plan from a snapshot of the root at .*db1's own \(`twinsync history --root .*` lists them\)/)
      assert.ok(plan.changes.some((c) => c.resource === '/etc/motd'), 'the plan still shows what it would change, for review')
      assert.equal(planRefusal(plan, (args) => args.join(' '))?.code, 'TWIN_OTHER_MACHINE', 'both front ends refuse to apply it')
      // Its error taken out (a forged plan, or one saved before): apply refuses it itself.
      const forged = { ...plan, diagnostics: plan.diagnostics.filter((d) => d.code !== 'TWIN_OTHER_MACHINE') }
      assert.equal(await codeOf((await container(b, twin)).resolve(ApplyService).apply({ plan: forged, fromFile: false, signal: new AbortController().signal })), 'TWIN_OTHER_MACHINE')
    }
    assert.equal(await checksum(b), rootSum, 'the machine as it was')
    assert.equal(git(twin, 'rev-parse', 'HEAD'), head)
    assert.equal(git(twin, 'status', '--porcelain'), '')
    // Its own snapshots, the last and an earlier one, are planned as before.
    for (const from of [head, git(twin, 'rev-parse', `${web1}~1`)]) {
      const plan = await plans.plan({ from })
      assert.deepEqual(plan.diagnostics.filter((d) => d.severity === 'error'), [], from)
    }
  })

  it('a reinstalled machine (a new machine id) takes its twin back with `init --claim`: then snapshot, plan and apply go on; the claim is local and names that one twin', async () => {
    const a = await makeRoot('web1', ID_A, 'web1\n')
    const twin = join(dir, 'twin')
    await (await container(a, twin)).resolve(SnapshotWorkflow).take({ init: true, ifChanged: false })
    // Reinstalled: a fresh /etc/machine-id and the default motd.
    await writeFile(join(a, 'etc/machine-id'), `${ID_B}\n`)
    await writeFile(join(a, 'etc/motd'), 'Debian\n')
    assert.equal(await codeOf((await container(a, twin)).resolve(SnapshotWorkflow).take({ init: false, ifChanged: false })), 'TWIN_OTHER_MACHINE')
    const claimed = await (await container(a, twin)).resolve(InitWorkflow).claim()
    assert.deepEqual(claimed.claimed, { twin: HASH_A, machine: HASH_B })
    assert.equal(git(twin, 'status', '--porcelain'), '', 'nothing committed: the claim is in .git/twinsync/')
    const plan = await (await container(a, twin)).resolve(PlanWorkflow).plan({})
    assert.deepEqual(plan.diagnostics.filter((d) => d.severity === 'error'), [])
    // /etc/machine-id is a secret to the files provider (session 22; before, the restore put the old id back): never written.
    assert.deepEqual(plan.changes.map((c) => c.id), ['files:replace:/etc/motd'])
    const report = await (await container(a, twin)).resolve(ApplyService).apply({ plan, fromFile: false, signal: new AbortController().signal })
    assert.equal(report.exitCode, 0)
    assert.equal(await readFile(join(a, 'etc/motd'), 'utf8'), 'web1\n', 'the machine restored from its twin')
    assert.equal(await (await container(a, twin)).resolve(InitWorkflow).claim().then((r) => r.claimed), undefined, 'claimed already: nothing to do')
    // A twin.json naming yet another machine is not covered by that claim.
    const info = JSON.parse(await readFile(join(twin, 'twin.json'), 'utf8')) as Record<string, unknown>
    await writeFile(join(twin, 'twin.json'), `${JSON.stringify({ ...info, machine: appSpecificMachineId('c'.repeat(32)) }, null, 2)}\n`)
    assert.equal(await codeOf((await container(a, twin)).resolve(SnapshotWorkflow).take({ init: false, ifChanged: false })), 'TWIN_OTHER_MACHINE')
  })

  // Session 45's review (L3) asked whether a claim holds one pair too few: after two reinstalls, is
  // a snapshot from before the first another machine's? No: no snapshot writes twin.json again
  // (init alone writes it; forget refuses it; the files provider holds /etc/machine-id out), so
  // every snapshot of a twin names the machine it was made of, which the one claim names. A guard
  // of that (it passes on the code before session 46 too): were a snapshot to write the target's
  // id into twin.json, the first snapshot here would be refused after the second claim.
  it('two reinstalls, each claimed: every snapshot still names the first machine, and one from before the first reinstall is planned from without an error', async () => {
    const a = await makeRoot('web1', ID_A, 'one\n')
    const twin = join(dir, 'twin')
    await (await container(a, twin)).resolve(SnapshotWorkflow).take({ init: true, ifChanged: false })
    const first = git(twin, 'rev-parse', 'HEAD')
    for (const [id, motd] of [[ID_B, 'two\n'], ['c'.repeat(32), 'three\n']] as const) {
      await writeFile(join(a, 'etc/machine-id'), `${id}\n`)
      await writeFile(join(a, 'etc/motd'), motd)
      assert.deepEqual((await (await container(a, twin)).resolve(InitWorkflow).claim()).claimed, { twin: HASH_A, machine: appSpecificMachineId(id) })
      await (await container(a, twin)).resolve(SnapshotWorkflow).take({ init: false, ifChanged: false })
    }
    const commits = git(twin, 'rev-list', 'HEAD').split('\n')
    assert.ok(commits.length >= 3, commits.join(' '))
    for (const commit of commits) assert.equal((JSON.parse(git(twin, 'show', `${commit}:twin.json`)) as { machine: string }).machine, HASH_A, commit)
    const plan = await (await container(a, twin)).resolve(PlanWorkflow).plan({ from: first })
    assert.deepEqual(plan.diagnostics.filter((d) => d.severity === 'error'), [])
    assert.deepEqual(plan.changes.map((c) => c.id), ['files:replace:/etc/motd'])
  })

  it('a twin.json and a claim an older TwinSync wrote (the machine ids themselves) still say whose twin it is', async () => {
    const a = await makeRoot('web1', ID_B, 'web1\n')
    const twin = join(dir, 'twin')
    await (await container(a, twin)).resolve(SnapshotWorkflow).take({ init: true, ifChanged: false })
    // The twin of ID_A as an older TwinSync wrote it, claimed by this machine (ID_B) as it wrote the claim.
    await writeFile(join(twin, 'twin.json'), `${JSON.stringify({ formatVersion: 1, hostname: 'web1', machineId: ID_A }, null, 2)}\n`)
    git(twin, 'commit', '-qam', 'an older twin.json')
    assert.equal(await codeOf((await container(a, twin)).resolve(SnapshotWorkflow).take({ init: false, ifChanged: false })), 'TWIN_OTHER_MACHINE')
    await writeFile(join(twin, CLAIM_RECORD), `${JSON.stringify({ twin: ID_A, machine: ID_B })}\n`)
    await (await container(a, twin)).resolve(SnapshotWorkflow).take({ init: false, ifChanged: false })
    // Its own id, as an older TwinSync wrote it: its own twin.
    await writeFile(join(twin, 'twin.json'), `${JSON.stringify({ formatVersion: 1, hostname: 'web1', machineId: ID_B }, null, 2)}\n`)
    git(twin, 'commit', '-qam', 'its own, older')
    await rm(join(twin, CLAIM_RECORD))
    await (await container(a, twin)).resolve(SnapshotWorkflow).take({ init: false, ifChanged: false })
  })

  for (const [what, id] of [['no /etc/machine-id', undefined], ['an "uninitialized" one (a first-boot image)', 'uninitialized'], ['an empty one', '']] as const) {
    it(`a --root target with ${what} cannot say which machine it is: nothing refused, and it cannot claim`, async () => {
      const a = await makeRoot('web1', ID_A, 'web1\n')
      const twin = join(dir, 'twin')
      await (await container(a, twin)).resolve(SnapshotWorkflow).take({ init: true, ifChanged: false })
      const image = await makeRoot('image', id, 'image\n')
      const plan = await (await container(image, twin)).resolve(PlanWorkflow).plan({})
      assert.deepEqual(plan.diagnostics.filter((d) => d.code === 'TWIN_OTHER_MACHINE'), [])
      assert.equal(await codeOf((await container(image, twin)).resolve(InitWorkflow).claim()), 'MACHINE_ID_UNKNOWN')
    })
  }
})
