import { strict as assert } from 'node:assert'
import { execFileSync } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { isTwinSyncError } from '@twinsync/sdk'
import { RemoteService } from '../src/remote/remote-service.js'
import { CliApply } from '../src/cli/apply.js'
import { SnapshotWorkflow } from '../src/services/take-snapshot.js'
import { createTuiServices, type TuiServices } from '../src/tui/services.js'
import { notesProvider, type NotesProvider } from './support/notes-provider.js'
import { serviceRig, type ServiceRig } from './support/service-rig.js'

const git = (dir: string, ...args: string[]) => execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8' }).trim()
const commits = (dir: string) => Number(git(dir, 'rev-list', '--count', 'HEAD'))
const signal = () => new AbortController().signal

/**
 * The rules of apply and snapshot live in the services; the command line (runApply,
 * SnapshotWorkflow) and the TUI (createTuiServices) must both come out the same way.
 */
describe('apply and snapshot rules, through the CLI and the TUI services', function () {
  this.timeout(60_000)
  let rig: ServiceRig
  let notes: NotesProvider
  let tui: TuiServices
  const live = () => readFile(join(rig.root, 'etc/notes'), 'utf8')
  const desire = (text: string) => writeFile(join(rig.twinDir, 'system/notes.json'), `${JSON.stringify({ text })}\n`)

  beforeEach(async () => {
    notes = notesProvider()
    rig = await serviceRig([notes])
    await import('node:fs/promises').then((fs) => fs.mkdir(join(rig.root, 'etc')))
    await writeFile(join(rig.root, 'etc/notes'), 'as it is\n')
    await (await rig.container()).resolve(SnapshotWorkflow).take({ init: true, ifChanged: false })
    tui = await createTuiServices(rig.container, { configPath: rig.configPath })
  })
  afterEach(() => rig.cleanup())

  describe('a plan with an error is not applied', () => {
    const refused = (e: unknown) => isTwinSyncError(e) && e.code === 'CONTENT_INVALID' && /Nothing was applied/.test(e.message)

    it('by `twinsync apply`', async () => {
      await desire('BAD notes\n')
      const before = commits(rig.twinDir)
      await assert.rejects((await rig.container()).resolve(CliApply).run({ planFile: undefined, yes: true, json: true }), refused)
      assert.deepEqual(notes.applied, [])
      assert.equal(await live(), 'as it is\n')
      assert.equal(commits(rig.twinDir), before, 'no checkpoint, no snapshot')
    })

    it('by the TUI', async () => {
      await desire('BAD notes\n')
      const before = commits(rig.twinDir)
      const plan = await tui.plan({ signal: signal() })
      assert.equal(plan.changes.length, 1)
      assert.ok(plan.diagnostics.some((d) => d.severity === 'error' && d.code === 'CONTENT_INVALID'))
      await assert.rejects(tui.apply({ plan, leftOut: [], signal: signal() }), refused)
      assert.deepEqual(notes.applied, [])
      assert.equal(await live(), 'as it is\n')
      assert.equal(commits(rig.twinDir), before, 'no checkpoint, no snapshot')
    })

    it('while a plan without errors is applied by both', async () => {
      await desire('from the CLI\n')
      const cli = await (await rig.container()).resolve(CliApply).run({ planFile: undefined, yes: true, json: true })
      assert.equal(cli.exitCode, 0)
      assert.equal(await live(), 'from the CLI\n')
      await desire('from the TUI\n')
      const plan = await tui.plan({ signal: signal() })
      const report = await tui.apply({ plan, leftOut: [], signal: signal() })
      assert.equal(report.exitCode, 0)
      assert.equal(await live(), 'from the TUI\n')
    })
  })

  describe('with a mirror', () => {
    let bare: string
    beforeEach(async () => {
      bare = join(rig.dir, 'mirror.git')
      execFileSync('git', ['init', '-q', '--bare', bare])
      await (await rig.container()).resolve(RemoteService).setGitRemote(bare, undefined)
    })
    const mirrored = () => git(bare, 'rev-parse', 'refs/heads/main')
    /** A snapshot committed but not pushed, and nothing new on the machine. */
    const pendingOnly = async () => {
      git(rig.twinDir, '-c', 'user.name=t', '-c', 'user.email=t@x', 'commit', '-q', '--allow-empty', '-m', 'TwinSync snapshot earlier')
      return git(rig.twinDir, 'rev-parse', 'HEAD')
    }

    it('a snapshot with nothing new still pushes what is pending: `twinsync snapshot`', async () => {
      const head = await pendingOnly()
      const result = await (await rig.container()).resolve(SnapshotWorkflow).take({ init: false, ifChanged: false })
      assert.equal(result.commit, undefined, 'nothing changed')
      assert.equal(result.push?.status, 'pushed')
      assert.equal(mirrored(), head)
    })

    it('a snapshot with nothing new still pushes what is pending: the TUI', async () => {
      const head = await pendingOnly()
      const result = await tui.snapshot({ signal: signal(), onProgress: () => undefined })
      assert.equal(result.commit, undefined, 'nothing changed')
      assert.equal(result.push?.status, 'pushed')
      assert.equal(mirrored(), head)
    })

    it('an apply pushes its checkpoint and result, and says how it went, in both', async () => {
      await desire('pushed from the CLI\n')
      const cli = await (await rig.container()).resolve(CliApply).run({ planFile: undefined, yes: true, json: true })
      assert.equal((cli.json as { push?: { status: string } }).push?.status, 'pushed')
      assert.equal(mirrored(), git(rig.twinDir, 'rev-parse', 'HEAD'))
      await desire('pushed from the TUI\n')
      const report = await tui.apply({ plan: await tui.plan({ signal: signal() }), leftOut: [], signal: signal() })
      assert.equal(report.push.status, 'pushed')
      assert.equal(mirrored(), git(rig.twinDir, 'rev-parse', 'HEAD'))
    })
  })
})
