import { strict as assert } from 'node:assert'
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Diagnostic } from '@twinsync/sdk'
import { isTwinSyncError } from '@twinsync/sdk'
import { ApplyService } from '../src/apply/apply-service.js'
import { renderComparison } from '../src/cli/render-history.js'
import { HistoryService } from '../src/history/history-service.js'
import { Planner } from '../src/plan/planner.js'
import { StartupWorkflow } from '../src/services/list-startup.js'
import { SnapshotWorkflow } from '../src/services/take-snapshot.js'
import { notesProvider, type NotesProvider } from './support/notes-provider.js'
import { serviceRig, type ServiceRig } from './support/service-rig.js'

/** A real TypeError, the way a plugin's bug throws one. */
function pluginBug(): never {
  const state = undefined as unknown as { entries: string[] }
  state.entries.push('x')
  throw new Error('unreachable')
}

const failure = (diagnostics: readonly Diagnostic[], call: string) =>
  diagnostics.find((d) => d.provider === 'faulty' && d.code === 'PROVIDER_FAILED' && d.summary.includes(`${call}()`))

/**
 * Every call into a provider is guarded: a throw becomes a diagnostic naming the provider and the
 * call, the other providers' work goes on, and nothing says it is a bug in TwinSync.
 */
describe('calls into providers are guarded', function () {
  this.timeout(60_000)
  let rig: ServiceRig
  let notes: NotesProvider

  async function setUp(faulty: NotesProvider) {
    notes = notesProvider('notes')
    rig = await serviceRig([notes, faulty])
    await mkdir(join(rig.root, 'etc'))
    await writeFile(join(rig.root, 'etc/notes'), 'as it is\n')
    await writeFile(join(rig.root, 'etc/faulty'), 'as it is\n')
    await (await rig.container()).resolve(SnapshotWorkflow).take({ init: true, ifChanged: false })
    // Both twins want new content, so both providers have a change to plan.
    await writeFile(join(rig.twinDir, 'system/notes.json'), `${JSON.stringify({ text: 'wanted\n' })}\n`)
    await writeFile(join(rig.twinDir, 'system/faulty.json'), `${JSON.stringify({ text: 'wanted\n' })}\n`)
  }
  afterEach(() => rig?.cleanup())

  it('load() throwing a TypeError: the plan goes on for the others, names the provider and the call, and apply refuses it', async () => {
    await setUp(notesProvider('faulty', { load: async () => pluginBug() }))
    const plan = await (await rig.container()).resolve(Planner).plan()
    assert.deepEqual(plan.changes.map((c) => c.id), ['notes:replace:/etc/notes'])
    const d = failure(plan.diagnostics, 'load')
    assert.ok(d, JSON.stringify(plan.diagnostics))
    assert.equal(d.severity, 'error')
    assert.match(d.summary, /^The faulty provider failed in load\(\): TypeError: Cannot read properties of undefined/)
    assert.match(d.detail ?? '', /not in TwinSync/)
    assert.doesNotMatch(JSON.stringify(plan.diagnostics), /bug in TwinSync/)
    await assert.rejects(
      (await rig.container()).resolve(ApplyService).apply({ plan, fromFile: false, signal: new AbortController().signal }),
      (e: unknown) => isTwinSyncError(e) && e.code === 'PROVIDER_FAILED' && /faulty provider failed in load\(\)/.test(e.message),
    )
    assert.deepEqual(notes.applied, [], 'a plan with errors is not applied')
  })

  for (const call of ['diff', 'followUps', 'validateContent'] as const) {
    it(`${call}() throwing: a diagnostic, and the other provider's change is still planned`, async () => {
      const bug = call === 'diff' ? { diff: () => pluginBug() } : call === 'followUps' ? { followUps: async () => pluginBug() } : {}
      const faulty = notesProvider('faulty', bug)
      if (call === 'validateContent') faulty.validateContent = () => pluginBug()
      await setUp(faulty)
      const plan = await (await rig.container()).resolve(Planner).plan()
      assert.ok(plan.changes.some((c) => c.id === 'notes:replace:/etc/notes'), JSON.stringify(plan.changes.map((c) => c.id)))
      assert.ok(failure(plan.diagnostics, call), JSON.stringify(plan.diagnostics))
    })
  }

  it('apply() throwing: its changes fail with the provider and the call named, the other provider applies', async () => {
    await setUp(notesProvider('faulty', { apply: async () => pluginBug() }))
    const c = await rig.container()
    const plan = await c.resolve(Planner).plan()
    const report = await c.resolve(ApplyService).apply({ plan, fromFile: false, signal: new AbortController().signal })
    const faulty = report.journal.steps.find((s) => s.provider === 'faulty')
    assert.equal(faulty?.status, 'failed')
    assert.match(faulty?.message ?? '', /The faulty provider failed in apply\(\): TypeError/)
    assert.equal(report.journal.steps.find((s) => s.provider === 'notes')?.status, 'applied')
    assert.equal(await readFile(join(rig.root, 'etc/notes'), 'utf8'), 'wanted\n')
    assert.equal(report.exitCode, 1)
  })

  it('a provider that tries to change the target while planning: nothing changes, and the plan says which one', async () => {
    const sneaky = notesProvider('faulty')
    const load = sneaky.load.bind(sneaky)
    sneaky.load = async (request) => {
      await request.ctx.host.writeFileAtomic('/etc/faulty', 'written while planning\n')
      await request.ctx.host.exec('touch', ['/etc/planned'])
      return load(request)
    }
    await setUp(sneaky)
    const plan = await (await rig.container()).resolve(Planner).plan()
    assert.equal(await readFile(join(rig.root, 'etc/faulty'), 'utf8'), 'as it is\n', 'the write was not made')
    const d = plan.diagnostics.find((x) => x.provider === 'faulty' && x.severity === 'error')
    assert.equal(d?.code, 'HOST_READ_ONLY')
    assert.match(d?.summary ?? '', /^faulty: load\(\) refused: Planning only reads: tried to write \/etc\/faulty$/)
    assert.ok(!plan.changes.some((c) => c.provider === 'faulty'), 'nothing is planned from a provider that failed')
    assert.ok(!plan.diagnostics.some((x) => x.provider === 'notes' && x.severity === 'error'), 'the well-behaved provider is not blamed')
    assert.ok(plan.changes.some((c) => c.id === 'notes:replace:/etc/notes'))
  })

  it('a provider that swallows the refusal while planning is still reported, and nothing changes', async () => {
    const sneaky = notesProvider('faulty')
    const load = sneaky.load.bind(sneaky)
    sneaky.load = async (request) => {
      await request.ctx.host.exec('touch', ['/etc/planned']).catch(() => undefined)
      return load(request)
    }
    await setUp(sneaky)
    const plan = await (await rig.container()).resolve(Planner).plan()
    const d = plan.diagnostics.find((x) => x.provider === 'faulty' && x.severity === 'error')
    assert.match(d?.summary ?? '', /^The faulty provider tried to change the target while planning \(run touch \/etc\/planned\); nothing was changed$/)
  })

  it('a provider that tries to change the target while history or show compares snapshots is refused, named, and nothing changes', async () => {
    let sneaking = false
    const sneaky = notesProvider('faulty')
    const load = sneaky.load.bind(sneaky)
    const touched = () => join(rig.root, 'etc/touched')
    let tries = 0
    sneaky.load = async (request) => {
      if (sneaking) tries++
      if (sneaking) await request.ctx.host.exec('touch', [touched()])
      return load(request)
    }
    // One that catches the refusal and goes on is still found out.
    const swallower = notesProvider('swallower')
    const swallowerLoad = swallower.load.bind(swallower)
    swallower.load = async (request) => {
      if (sneaking) await request.ctx.host.writeFileAtomic('/etc/swallower', 'written while comparing\n').catch(() => undefined)
      return swallowerLoad(request)
    }
    notes = notesProvider('notes')
    rig = await serviceRig([notes, sneaky, swallower])
    await mkdir(join(rig.root, 'etc'))
    for (const name of ['notes', 'faulty', 'swallower']) await writeFile(join(rig.root, 'etc', name), 'as it is\n')
    await (await rig.container()).resolve(SnapshotWorkflow).take({ init: true, ifChanged: false })
    for (const name of ['notes', 'faulty', 'swallower']) await writeFile(join(rig.root, 'etc', name), 'changed\n')
    await (await rig.container()).resolve(SnapshotWorkflow).take({ init: false, ifChanged: false })
    sneaking = true
    const history = (await rig.container()).resolve(HistoryService)
    const shown = await history.show('HEAD', { diffs: true })
    const refused = shown.diagnostics.find((d) => d.provider === 'faulty')
    assert.equal(refused?.code, 'HOST_READ_ONLY')
    assert.match(refused?.summary ?? '', /^faulty: load\(\) refused: Comparing snapshots only reads: tried to run touch /)
    const swallowed = shown.diagnostics.find((d) => d.provider === 'swallower')
    assert.equal(swallowed?.code, 'PROVIDER_FAILED')
    assert.match(swallowed?.summary ?? '', /^The swallower provider tried to change the target while comparing snapshots \(write \/etc\/swallower/)
    assert.ok(!shown.diagnostics.some((d) => d.provider === 'notes'), 'the well-behaved provider is not blamed')
    assert.deepEqual(shown.domains.startup?.find((c) => c.provider === 'notes')?.summary, '/etc/notes changed')
    assert.match(renderComparison(shown), /^error: faulty: faulty: load\(\) refused: Comparing snapshots only reads: tried to run touch /m, 'show says so, not only --json')
    // history compares with the providers only a commit whose message records no counts (an
    // older twin's): take the record out of the last snapshot's message.
    const git = (...args: string[]) => execFileSync('git', ['-C', rig.twinDir, '-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { encoding: 'utf8' })
    git('commit', '--amend', '--allow-empty', '-q', '-m', git('log', '-1', '--format=%B').split('\n').filter((l) => !l.startsWith('TwinSync-Counts:')).join('\n'))
    const before = tries
    await (await rig.container()).resolve(HistoryService).history({ limit: 5 })
    assert.ok(tries > before, 'history compared with the provider too')
    assert.equal(existsSync(touched()), false, 'the command did not run')
    assert.equal(await readFile(join(rig.root, 'etc/swallower'), 'utf8'), 'changed\n', 'the write was not made')
  })

  it('startupEntries() throwing: the other rows are listed with a diagnostic', async () => {
    const faulty = Object.assign(notesProvider('faulty'), { startupEntries: () => pluginBug() })
    const good = Object.assign(notesProvider('notes'), { startupEntries: () => [{ source: 'notes', trigger: 'boot' as const, name: 'notes', enabled: true }] })
    rig = await serviceRig([good, faulty])
    const listed = await (await rig.container()).resolve(StartupWorkflow).list()
    assert.deepEqual(listed.entries.map((e) => e.name), ['notes'])
    assert.ok(failure(listed.diagnostics, 'startupEntries'), JSON.stringify(listed.diagnostics))
  })

  it('load() throwing while history compares snapshots: that domain is listed file by file, with the failure', async () => {
    let broken = false
    const faulty = notesProvider('faulty')
    const load = faulty.load.bind(faulty)
    faulty.load = async (request) => (broken ? pluginBug() : load(request))
    await setUp(faulty)
    await (await rig.container()).resolve(SnapshotWorkflow).take({ init: false, ifChanged: false })
    await writeFile(join(rig.root, 'etc/faulty'), 'changed\n')
    await writeFile(join(rig.root, 'etc/notes'), 'changed\n')
    await (await rig.container()).resolve(SnapshotWorkflow).take({ init: false, ifChanged: false })
    broken = true
    const shown = await (await rig.container()).resolve(HistoryService).show('HEAD', { diffs: false })
    assert.deepEqual(shown.domains.startup?.map((c) => c.summary).sort(), ['/etc/notes changed', 'system/faulty.json changed'])
    assert.ok(failure(shown.diagnostics, 'load'), JSON.stringify(shown.diagnostics))
  })
})
