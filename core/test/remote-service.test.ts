import { strict as assert } from 'node:assert'
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { existsSync, rmSync, writeFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { errorDiagnostic, isTwinSyncError, SAFE_PATH, SECRET_RULES_VERSION, setOwnPathForTests, type Provider } from '@twinsync/sdk'
import { HistoryService } from '../src/history/history-service.js'
import { IntentService } from '../src/intent/intent-service.js'
import { Planner } from '../src/plan/planner.js'
import { ProviderRegistry } from '../src/providers/provider-registry.js'
import { PlanWorkflow } from '../src/services/make-plan.js'
import { StatusWorkflow } from '../src/services/drift-status.js'
import { MAX_INCOMING_FILES } from '../src/remote/incoming-tree.js'
import { RemoteService } from '../src/remote/remote-service.js'
import { ApplyService } from '../src/apply/apply-service.js'
import { signRan } from '../src/plan/run-record-seal.js'
import { journalSignedHere } from '../src/apply/journal.js'
import { twinKey } from '../src/plan/plan-seal.js'
import { configKey } from '../src/remote/mirror-audit.js'
import { fsckRefusedObjects, mirrorError } from '../src/remote/git-transport.js'
import type { LoadedConfig } from '../src/config/config-file.js'
import { Tokens } from '../src/tokens.js'
import { SnapshotWorkflow } from '../src/services/take-snapshot.js'
import { SnapshotService } from '../src/snapshot/snapshot-service.js'
import { ForgetWorkflow } from '../src/services/run-forget.js'
import { renderPush, renderRemoteStatus } from '../src/cli/render.js'
import { remotePort } from '../src/tui/services.js'
import { notesProvider } from './support/notes-provider.js'
import { unitRig, type UnitRig } from './support/unit-container.js'
import { twinsyncLine } from '../src/plan/command-text.js'
/** Lines as a run on this machine's default twin and configuration says them (no flags). */
const LINE = (args: readonly string[]) => twinsyncLine(args, { root: '/' })


const failWith = (code: string) => (e: unknown) => isTwinSyncError(e) && e.code === code
const git = (dir: string, ...args: string[]) => execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8' }).trim()
const commitAll = (dir: string, message: string) => {
  git(dir, 'add', '-A')
  git(dir, '-c', 'user.name=t', '-c', 'user.email=t@x', 'commit', '-q', '-m', message)
}

/** RemoteService over a child container, with a bare repository on disk as the mirror. */
describe('RemoteService', function () {
  this.timeout(30_000)
  let rig: UnitRig
  let bare: string
  const env = { ...process.env }
  /**
   * The notes provider's path rules (Provider.secretPaths), as the files provider's: every file
   * under filesystem/etc/vault/, and the files `creds PATH` lines of the twin's
   * filesystem/etc/vault.conf name. Each call's paths are kept; `pathRulesFail` makes it throw.
   */
  let pathAsks: string[][] = []
  let pathRulesFail = false
  const secretPaths: NonNullable<Provider['secretPaths']> = async ({ paths, twin }) => {
    pathAsks.push([...paths])
    if (pathRulesFail) throw new Error('the rules are broken')
    const found = paths.filter((p) => p.startsWith('filesystem/etc/vault/')).map((path) => ({ path, rule: 'vault path' }))
    const conf = (await twin.readText('filesystem/etc/vault.conf')) ?? ''
    for (const line of conf.split('\n')) {
      const path = line.startsWith('creds /') ? `filesystem${line.slice('creds '.length)}` : undefined
      if (path !== undefined && (await twin.read(path)) !== undefined) found.push({ path, rule: 'named by vault.conf' })
    }
    return found
  }

  /**
   * The notes provider's cap on its document (Provider.overLimit), as apt's MAX_APT_PACKAGES: a
   * notes.json whose text is longer than 100 characters; `limitFails` makes it throw.
   */
  let limitFails = false
  const overLimit: NonNullable<Provider['overLimit']> = async ({ twin }) => {
    if (limitFails) throw new Error('the count is broken')
    const text = (JSON.parse((await twin.readText('system/notes.json')) ?? '{}') as { text?: string }).text ?? ''
    return text.length > 100 ? [errorDiagnostic('TWIN_INVALID', `system/notes.json holds ${text.length} characters, more than the 100 the notes provider takes`, { path: 'system/notes.json' })] : []
  }

  // Every test starts from the same twin: the machine's notes "first", the twin initialised and
  // snapshotted once. Made once in `before` and copied (root, twin, the clock where it stopped)
  // into each test's own rig: init and a snapshot in every beforeEach were most of this file's
  // 155 s in CI (session 23).
  let template: UnitRig
  /** The rig's own clock (a second a reading), from the reading the template's setup stopped at. */
  let ticks = 0
  const clockFrom = (start: number) => {
    let tick = start
    return () => new Date(Date.UTC(2026, 0, 1, 12, 0, tick++))
  }
  before(async () => {
    template = await unitRig([notesProvider('notes', { secretPaths, overLimit })], {
      clock: () => new Date(Date.UTC(2026, 0, 1, 12, 0, ticks++)),
    })
    await writeFile(join(template.root, 'etc/notes'), 'first\n')
    await template.twin().init({ formatVersion: 1, machineId: null, hostname: 'unit' })
    await template.container.resolve(SnapshotService).snapshot()
  })
  after(async () => {
    await template?.cleanup()
  })

  beforeEach(async () => {
    pathAsks = []
    pathRulesFail = false
    limitFails = false
    rig = await unitRig([notesProvider('notes', { secretPaths, overLimit })], { clock: clockFrom(ticks) })
    // No token of the machine's own is ever read or sent.
    process.env.TWINSYNC_CREDENTIALS = join(rig.dir, 'credentials')
    delete process.env.GITHUB_TOKEN
    delete process.env.GH_TOKEN
    await rm(rig.root, { recursive: true })
    execFileSync('cp', ['-a', template.root, rig.root])
    execFileSync('cp', ['-a', template.twinDir, rig.twinDir])
    // The providers loaded, as the snapshot this copy stands for loaded them (a test that changes
    // config.values afterwards changes what they are asked, not which are loaded).
    await rig.container.resolve(ProviderRegistry).load()
    bare = join(rig.dir, 'mirror.git')
    execFileSync('git', ['init', '-q', '--bare', '--initial-branch=main', bare])
  })
  afterEach(async () => {
    process.env = { ...env }
    await rig.cleanup()
  })

  const remote = () => rig.container.resolve(RemoteService)
  const machine = (text: string) => writeFile(join(rig.root, 'etc/notes'), text)
  const mirrored = () => git(bare, 'rev-parse', 'main')
  const head = () => rig.git('rev-parse', 'HEAD')
  /** A snapshot as `twinsync snapshot` and the TUI take it (the push-after-snapshot rule). */
  const snapshotAndPush = () => rig.container.resolve(SnapshotWorkflow).take({ init: false, ifChanged: false })

  it('without a mirror: push is "not-configured" and status says so; nothing is thrown', async () => {
    assert.deepEqual(await remote().push(), { status: 'not-configured', pushed: 0, url: null })
    assert.deepEqual(await remote().status(), { configured: false, kind: null, url: null, repository: null, pending: 0 })
  })

  it('push --retry (retry) without a mirror is refused with REMOTE_NOT_CONFIGURED and its next step; with one, it pushes', async () => {
    await assert.rejects(remote().retry(), (e: unknown) => failWith('REMOTE_NOT_CONFIGURED')(e) && /twinsync github link OWNER\/REPO/.test((e as { nextStep?: string }).nextStep ?? ''))
    await remote().setGitRemote(bare, undefined)
    assert.deepEqual(await remote().retry(), { status: 'pushed', pushed: 2, url: bare })
  })

  it('counts what the mirror lacks, pushes it, then is up to date', async () => {
    const linked = await remote().setGitRemote(bare, undefined)
    assert.deepEqual([linked.configured, linked.kind, linked.pending], [true, 'git', 2])
    assert.deepEqual(await remote().push(), { status: 'pushed', pushed: 2, url: bare })
    assert.equal(mirrored(), head())
    assert.equal((await remote().status()).pending, 0)
    assert.deepEqual(await remote().push(), { status: 'up-to-date', pushed: 0, url: bare })
  })

  it('a failed push is returned, not thrown, coded, with a next step; the snapshots stay pending and go with the next push', async () => {
    await remote().setGitRemote(bare, undefined)
    await rename(bare, `${bare}.away`)
    const failed = await remote().push()
    assert.equal(failed.status, 'failed')
    assert.equal(failed.error?.code, 'REMOTE_UNREACHABLE')
    assert.ok((failed.error?.nextStep ?? '').length > 0)
    assert.equal((await remote().status()).pending, 2)
    await rename(`${bare}.away`, bare)
    assert.equal((await remote().push()).status, 'pushed')
    assert.equal(mirrored(), head())
  })

  it('refuses to push a secret, naming the file, and pushes nothing', async () => {
    await remote().setGitRemote(bare, undefined)
    await writeFile(join(rig.twinDir, 'scripts/deploy-key'), '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n')
    commitAll(rig.twinDir, 'oops')
    const refused = await remote().push()
    assert.equal(refused.status, 'failed')
    assert.equal(refused.error?.code, 'SECRET_IN_PUSH')
    assert.match(refused.error?.message ?? '', /scripts\/deploy-key/)
    assert.doesNotMatch(JSON.stringify(refused), /b3BlbnNzaC1rZXktdjEAAAAA/)
    assert.throws(() => git(bare, 'rev-parse', '--verify', '--quiet', 'main'))
  })

  // Session 48: twin.json is the twin's own record, which `forget PATH` refuses; a secret hostname
  // an old `init` wrote there is named with the command that redacts it, the other files as before.
  it('names `forget --rule RULE` for a secret in twin.json, and the general step for the other files', async () => {
    await remote().setGitRemote(bare, undefined)
    const info = JSON.parse(await readFile(join(rig.twinDir, 'twin.json'), 'utf8')) as Record<string, unknown>
    await writeFile(join(rig.twinDir, 'twin.json'), `${JSON.stringify({ ...info, hostname: 'xoxb-1234567890-1234567890123-s48HostNameTokenAbCdEfGh' }, null, 2)}\n`)
    commitAll(rig.twinDir, 'an old init')
    const alone = await remote().push()
    assert.equal(alone.error?.code, 'SECRET_IN_PUSH')
    assert.equal(alone.error?.nextStep, `Redact the secrets in twin.json (the twin's own records, which forget does not remove) in every snapshot with \`${twinsyncLine(['forget', '--rule', 'slack'], { root: rig.root, repo: rig.twinDir })}\` (it redacts what that rule finds in every file of every snapshot, twin.json among them), then push again.`)
    await writeFile(join(rig.twinDir, 'scripts/deploy-key'), '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n')
    commitAll(rig.twinDir, 'oops')
    const both = await remote().push()
    assert.match(both.error?.nextStep ?? '', /^Redact the secrets in twin\.json .* with `twinsync forget --rule slack [^`]*` \(it redacts what that rule finds in every file of every snapshot, twin\.json among them\)\. For the others: Remove files from the twin and its history with `twinsync forget PATH [^`]*` .* Then push again\.$/)
    assert.doesNotMatch(JSON.stringify([alone, both]), /s48HostNameToken/)
  })

  describe('files secret by a provider\'s path rule, whose content no rule finds (Provider.secretPaths)', () => {
    beforeEach(() => remote().setGitRemote(bare, undefined))
    const commitFile = (path: string, text: string, message: string) => {
      const full = join(rig.twinDir, path)
      execFileSync('mkdir', ['-p', join(full, '..')])
      writeFileSync(full, text)
      commitAll(rig.twinDir, message)
    }

    it('refuses a file committed by hand where a provider holds files out by path: its path and rule, the next step, nothing pushed', async () => {
      await remote().push()
      const before = mirrored()
      commitFile('filesystem/etc/vault/db.pass', 'admin\ncorrect-horse-battery\n', 'by hand')
      const refused = await remote().push()
      assert.equal(refused.status, 'failed')
      assert.equal(refused.error?.code, 'SECRET_IN_PUSH')
      assert.match(refused.error?.message ?? '', /filesystem\/etc\/vault\/db\.pass \(notes: vault path\)/)
      assert.match(refused.error?.nextStep ?? '', /twinsync forget PATH/)
      assert.doesNotMatch(JSON.stringify(refused), /correct-horse-battery/)
      assert.equal(mirrored(), before)
    })

    it('reads the rule\'s configs from the twin being pushed: a config committed after the file makes the unchanged file secret', async () => {
      commitFile('filesystem/etc/app-creds.txt', 'admin\ncorrect-horse-battery\n', 'not secret yet')
      assert.equal((await remote().push()).status, 'pushed')
      // The machine has no vault.conf: only the twin's counts.
      commitFile('filesystem/etc/vault.conf', 'creds /etc/app-creds.txt\n', 'the config that names it')
      const before = mirrored()
      const refused = await remote().push()
      assert.equal(refused.error?.code, 'SECRET_IN_PUSH')
      assert.match(refused.error?.message ?? '', /filesystem\/etc\/app-creds\.txt \(notes: named by vault\.conf\)/)
      assert.equal(mirrored(), before)
    })

    it('a provider whose path rules fail refuses the push: nothing unchecked leaves', async () => {
      commitFile('filesystem/etc/other.txt', 'x\n', 'a file')
      pathRulesFail = true
      const refused = await remote().push()
      assert.equal(refused.status, 'failed')
      assert.equal(refused.error?.code, 'PROVIDER_FAILED')
      assert.match(refused.error?.message ?? '', /notes.*secretPaths\(\).*the rules are broken/)
      assert.throws(() => git(bare, 'rev-parse', '--verify', '--quiet', 'main'))
    })

    it('asks only about what the push sends: each new commit\'s changed files once; nothing when the mirror is up to date', async () => {
      await remote().push()
      pathAsks = []
      assert.equal((await remote().push()).status, 'up-to-date')
      assert.deepEqual(pathAsks, [])
      await machine('second\n')
      assert.equal((await snapshotAndPush()).push?.status, 'pushed')
      assert.deepEqual(pathAsks, [['system/notes.json']])
    })
  })

  it('pushes a snapshot whose subject says a secret file changed in earlier versions\' words ("a secret: the twin…"); a secret in the same message is still refused', async () => {
    await remote().setGitRemote(bare, undefined)
    const said = 'files: /etc/shadow changed (a secret: the twin holds only its keyed hash)'
    git(rig.twinDir, '-c', 'user.name=t', '-c', 'user.email=t@x', 'commit', '-q', '--allow-empty', '-m', said)
    assert.equal((await remote().push()).status, 'pushed')
    git(rig.twinDir, '-c', 'user.name=t', '-c', 'user.email=t@x', 'commit', '-q', '--allow-empty', '-m', `${said}\n\nsecret: hunter2hunter2`)
    const refused = await remote().push()
    assert.equal(refused.error?.code, 'SECRET_IN_PUSH')
    assert.match(refused.error?.message ?? '', /the commit object [0-9a-f]{12}:8 \(credential-assignment\)/)
  })

  it('refuses a remote it cannot mirror to safely (plain http), and links nothing', async () => {
    await assert.rejects(remote().setGitRemote('http://example.invalid/twin.git', undefined), failWith('REMOTE_INSECURE'))
    assert.equal((await remote().status()).configured, false)
  })

  // Session 46: a mirror that checks what it is sent (receive.fsckObjects; GitHub does) refused
  // the push for a `.gitmodules` a snapshot took before session 45, and TwinSync said
  // REMOTE_REJECTED "it has snapshots this twin does not", `pull` as the next step: every push
  // after it was refused the same way.
  it("a push the mirror's fsck refuses is REMOTE_FSCK_REFUSED naming the file and git's check; for a .gitmodules in history the next step is `forget` it then `push --retry --force`, and those steps push", async () => {
    git(bare, 'config', 'receive.fsckObjects', 'true')
    await remote().setGitRemote(bare, undefined)
    assert.equal((await remote().push()).status, 'pushed')
    await mkdir(join(rig.twinDir, 'filesystem/etc/app'), { recursive: true })
    await writeFile(join(rig.twinDir, 'filesystem/etc/app/.gitmodules'), '[submodule "x"]\n\tpath = x\n\turl = -evil\n')
    commitAll(rig.twinDir, 'a snapshot taken before session 45')
    git(rig.twinDir, 'rm', '-q', 'filesystem/etc/app/.gitmodules')
    commitAll(rig.twinDir, 'the next one, without it')
    rig.git('update-ref', 'refs/twinsync/observed', 'HEAD')
    const refused = await remote().push()
    assert.equal(refused.error?.code, 'REMOTE_FSCK_REFUSED', JSON.stringify(refused))
    assert.match(refused.error?.message ?? '', /^The mirror \S+ checks what it is sent \(as GitHub does\) and refused the push for filesystem\/etc\/app\/\.gitmodules \([0-9a-f]{12}\): gitmodulesUrl: /)
    assert.match(refused.error?.nextStep ?? '', /^Take that file out of this twin's history: `twinsync forget \/etc\/app\/\.gitmodules [^`]*`, then `twinsync push --retry --force [^`]*`/)
    assert.equal((await remote().retry()).error?.code, 'REMOTE_FSCK_REFUSED', 'every push holds it')
    await rig.container.resolve(ForgetWorkflow).forget({ paths: ['/etc/app/.gitmodules'], rules: [] })
    assert.equal((await remote().retry({ force: true })).status, 'pushed')
    assert.equal(mirrored(), head())
    git(bare, 'fsck', '--no-dangling')
  })

  // Session 47 (M3 of session 46's review): the mirror's words chose the next step. A hook that
  // printed fsck's lines naming a .gitmodules of this twin's history made REMOTE_FSCK_REFUSED,
  // its next step `forget` of that file and a forced push, which rewrite history.
  it('a mirror hook that prints fsck\'s words is the mirror\'s rules (REMOTE_REJECTED), and names no `forget`; words naming a file this machine\'s git takes never make `forget` the step', async () => {
    await remote().setGitRemote(bare, undefined)
    assert.equal((await remote().push()).status, 'pushed')
    await mkdir(join(rig.twinDir, 'filesystem/etc/app'), { recursive: true })
    await writeFile(join(rig.twinDir, 'filesystem/etc/app/.gitmodules'), '[submodule "x"]\n\tpath = x\n\turl = https://example.org/x.git\n')
    commitAll(rig.twinDir, 'a snapshot taken before session 45')
    rig.git('update-ref', 'refs/twinsync/observed', 'HEAD')
    const blob = rig.git('rev-parse', 'HEAD:filesystem/etc/app/.gitmodules')
    const words = `error: object ${blob}: gitmodulesUrl: disallowed submodule url: -evil\nfatal: fsck error in pack objects\n`
    writeFileSync(join(bare, 'hooks/pre-receive'), `#!/bin/sh\nprintf '${words.replace(/\n/g, '\\n')}' >&2\nexit 1\n`, { mode: 0o755 })
    const refused = await remote().push()
    assert.equal(refused.error?.code, 'REMOTE_REJECTED', JSON.stringify(refused))
    assert.match(refused.error?.message ?? '', /by its own rules \(pre-receive hook declined\)/)
    assert.doesNotMatch(refused.error?.nextStep ?? '', /forget/)
    // The same words with git's own unpack failure (a mirror that lies about its fsck): the object is named, and this git's fsck, which takes it, keeps `forget` out of the step.
    const output = `${words.replace(/^/gm, 'remote: ').replace(/remote: $/, '')}error: remote unpack failed: index-pack failed\n!\trefs/heads/main:refs/heads/main\t[remote rejected] (unpacker error)\n`
    const objects = await fsckRefusedObjects(rig.twinDir, output, mirrored())
    assert.deepEqual(objects, [{ id: blob, check: 'gitmodulesUrl', path: 'filesystem/etc/app/.gitmodules', ownFsck: false }])
    const said = mirrorError({ ok: false, output }, 'push', bare, LINE, { fsckObjects: objects })
    assert.deepEqual([said.code, /forget \/etc\/app/.test(said.nextStep ?? '')], ['REMOTE_FSCK_REFUSED', false])
  })

  // Session 47: only the token itself was redacted from what git relays; the header value it
  // travels in (base64 of "x-access-token:TOKEN"), printed back by a mirror or a proxy, was shown.
  it('what the mirror prints back of the token, as it is or as the header git sent it in, is redacted from the push\'s outcome', async () => {
    const token = `ghp_${randomBytes(18).toString('hex')}`
    process.env.GITHUB_TOKEN = token
    await remote().setGitRemote(bare, undefined)
    await machine('second\n')
    await rig.container.resolve(SnapshotService).snapshot()
    const header = Buffer.from(`x-access-token:${token}`).toString('base64')
    writeFileSync(join(bare, 'hooks/pre-receive'), `#!/bin/sh\necho 'request: Authorization: Basic ${header}' >&2\necho 'token: ${token}' >&2\nexit 1\n`, { mode: 0o755 })
    const refused = await remote().push()
    assert.equal(refused.error?.code, 'REMOTE_REJECTED', JSON.stringify(refused))
    const shown = JSON.stringify(refused) + renderPush(refused, LINE).join('\n')
    assert.match(shown, /Authorization: Basic \*\*\*/)
    assert.ok(!shown.includes(header) && !shown.includes(token), shown)
  })

  describe('the push-after-snapshot rule (`twinsync snapshot` and the TUI)', () => {
    beforeEach(() => remote().setGitRemote(bare, undefined))

    it('a new snapshot is pushed', async () => {
      await remote().push()
      await machine('second\n')
      const r = await snapshotAndPush()
      assert.ok(r.commit !== undefined)
      assert.deepEqual([r.push?.status, r.push?.pushed], ['pushed', 1])
      assert.equal(mirrored(), r.commit)
    })

    it('no new snapshot, but earlier ones not yet mirrored: they are pushed', async () => {
      const r = await snapshotAndPush()
      assert.equal(r.commit, undefined)
      assert.deepEqual([r.push?.status, r.push?.pushed], ['pushed', 2])
      assert.equal(mirrored(), head())
    })

    it('nothing new and the mirror up to date: no push at all', async () => {
      await remote().push()
      rig.git('remote', 'set-url', 'mirror', join(rig.dir, 'nowhere.git'))
      const r = await snapshotAndPush()
      assert.equal(r.commit, undefined)
      assert.equal(r.push, undefined, 'a push would have failed: the remote is gone')
    })
  })

  describe('pull', () => {
    let clone: string
    beforeEach(async () => {
      await remote().setGitRemote(bare, undefined)
      await remote().push()
      clone = join(rig.dir, 'clone')
      execFileSync('git', ['clone', '-q', bare, clone])
    })

    it('fast-forwards to what another clone pushed, as pending intent: the last snapshot stays the observed state', async () => {
      const observed = await rig.container.resolve(IntentService).observed()
      await writeFile(join(clone, 'system/notes.json'), `${JSON.stringify({ text: 'from elsewhere\n' })}\n`)
      commitAll(clone, 'edited elsewhere')
      git(clone, 'push', '-q', 'origin', 'main')
      const pulled = await remote().pull()
      assert.deepEqual([pulled.status, pulled.pulled], ['fast-forwarded', 1])
      assert.equal(head(), mirrored())
      assert.equal(await rig.container.resolve(IntentService).observed(), observed)
      const plan = await rig.container.resolve(Planner).plan()
      assert.deepEqual(plan.changes.map((c) => c.id), ['notes:replace:/etc/notes'])
      assert.match(plan.diagnostics.find((d) => d.code === 'PENDING_INTENT')?.summary ?? '', /pulled from the mirror/)
    })

    // Session 45: a run-once command not run yet is pending (planned-commands.ts); a pull keeps this
    // machine's record of what ran, so one asked here stays pending, and one the mirror brings is pending too.
    it('a run-once command not run yet stays pending through a pull, and one the pull brings is pending too', async () => {
      await writeFile(join(clone, 'plans/pulled.yaml'), 'actions:\n  - run: [touch, /root/pulled]\n')
      commitAll(clone, 'a command asked elsewhere')
      git(clone, 'push', '-q', 'origin', 'main')
      await mkdir(join(rig.twinDir, 'plans'), { recursive: true })
      await writeFile(join(rig.twinDir, 'plans/local.yaml'), 'actions:\n  - run: [touch, /root/local]\n')
      const pending = async () => (await rig.container.resolve(StatusWorkflow).status(undefined)).pending.items.map((i) => i.id)
      assert.deepEqual(await pending(), ['commands:plans/local.yaml#1'])
      assert.equal((await remote().pull()).status, 'fast-forwarded')
      assert.deepEqual(await pending(), ['commands:plans/local.yaml#1', 'commands:plans/pulled.yaml#1'])
      assert.deepEqual((await rig.container.resolve(Planner).plan()).changes.map((c) => c.id), ['commands:plans/local.yaml#1', 'commands:plans/pulled.yaml#1'])
    })

    // Session 38: the pull asks every enabled provider's cap on its documents (Provider.overLimit),
    // a plugin's too; before, core asked the files plugin's manifest count by name and nothing else.
    it("refuses a mirror whose twin holds a document over its provider's cap (TWIN_UNSAFE), and one it could not check: nothing moves", async () => {
      await writeFile(join(clone, 'system/notes.json'), `${JSON.stringify({ text: 'x'.repeat(101) })}\n`)
      commitAll(clone, 'a note too long')
      git(clone, 'push', '-q', 'origin', 'main')
      const before = head()
      await assert.rejects(remote().pull(), (e: unknown) => failWith('TWIN_UNSAFE')(e) && /^Not pulled: the mirror's twin at [0-9a-f]{12}: system\/notes\.json holds 101 characters, more than the 100 the notes provider takes$/.test((e as Error).message))
      assert.equal(head(), before)
      assert.equal(rig.git('status', '--porcelain'), '')
      limitFails = true
      await assert.rejects(remote().pull(), (e: unknown) => failWith('PROVIDER_FAILED')(e) && /The notes provider failed in overLimit\(\): the count is broken/.test((e as Error).message) && /Nothing was pulled/.test((e as { nextStep?: string }).nextStep ?? ''))
      assert.equal(head(), before)
      limitFails = false
      await writeFile(join(clone, 'system/notes.json'), `${JSON.stringify({ text: 'x'.repeat(100) })}\n`)
      commitAll(clone, 'a note at the cap')
      git(clone, 'push', '-q', 'origin', 'main')
      assert.equal((await remote().pull()).status, 'fast-forwarded')
    })

    // Session 24, found with kill -9 of `twinsync pull` on the services root (1 kill in 8 around
    // 1.5 s): killed after its fast-forward and before the edits set aside went back, the next pull
    // said "up to date" and left them out of the working twin; `status` listed them pending while
    // `plan` and `apply` left them out.
    for (const next of ['pull', 'plan'] as const) {
      it(`a pull killed after its fast-forward, before the edits it set aside went back: the next ${next} puts them back first`, async () => {
        await writeFile(join(clone, 'scripts/elsewhere.sh'), 'echo hi\n')
        commitAll(clone, 'a script from elsewhere')
        git(clone, 'push', '-q', 'origin', 'main')
        await writeFile(join(rig.twinDir, 'system/notes.json'), `${JSON.stringify({ text: 'mine\n' })}\n`)
        const hold = IntentService.prototype.hold
        IntentService.prototype.hold = async function (this: IntentService, ...args: Parameters<IntentService['hold']>) {
          const held = await hold.apply(this, args)
          return { ...held, restore: () => Promise.reject(new Error('killed')) }
        }
        try {
          await assert.rejects(remote().pull(), /killed/)
        } finally {
          IntentService.prototype.hold = hold
        }
        assert.equal(head(), mirrored(), 'the run died after the fast-forward')
        if (next === 'pull') assert.equal((await remote().pull()).status, 'up-to-date')
        const plan = await rig.container.resolve(Planner).plan()
        assert.deepEqual(plan.changes.map((c) => c.id), ['notes:replace:/etc/notes'])
        assert.equal(JSON.parse(await readFile(join(rig.twinDir, 'system/notes.json'), 'utf8')).text, 'mine\n')
        assert.equal(rig.git('status', '--porcelain'), 'M system/notes.json')
      })
    }

    /** The mirror a snapshot ahead (scripts/a.sh), a person's edit pending here; HEAD before the pull. */
    const scriptPulledWithEdit = async () => {
      await mkdir(join(clone, 'scripts'), { recursive: true })
      await writeFile(join(clone, 'scripts/a.sh'), 'echo a\n')
      commitAll(clone, 'a script from elsewhere')
      git(clone, 'push', '-q', 'origin', 'main')
      await writeFile(join(rig.twinDir, 'system/notes.json'), `${JSON.stringify({ text: 'mine\n' })}\n`)
      return head()
    }
    /** A folder holding a `git` whose `merge --ff-only` creates scripts/a.sh empty, then does `then` and fails; any other git is the real one. */
    const gitStoppingInMerge = async (then: string) => {
      const bin = join(rig.dir, 'bin')
      await mkdir(bin, { recursive: true })
      const real = execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim()
      await writeFile(join(bin, 'git'), `#!/bin/sh\ncase " $* " in *" merge --ff-only "*) mkdir -p scripts && : > scripts/a.sh && ${then}; exit 1;; esac\nexec ${real} "$@"\n`, { mode: 0o755 })
      return bin
    }

    // Session 24, found the same way (kill -9 of `twinsync pull`, 1 in 9 around 1.6 s): killed
    // inside git's checkout, git had created a pulled file and not written it yet; the next pull
    // took the empty /etc/pam.d/common-account of the working twin for a person's edit, pending,
    // and `plan` would have written it to the machine.
    for (const next of ['pull', 'plan'] as const) {
      it(`a pull killed inside its checkout (a pulled file created, not yet written): the next ${next} takes nothing of it for an edit`, async function () {
        this.timeout(120_000)
        const before = await scriptPulledWithEdit()
        // git's checkout, killed: the file is there and empty, the index and HEAD not moved yet.
        const bin = await gitStoppingInMerge('kill -9 $PPID; sleep 5')
        const child = spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'support/pull-until-killed.ts'), rig.root, rig.twinDir, bin], { encoding: 'utf8' })
        assert.equal(child.signal, 'SIGKILL', child.stderr)
        assert.equal(head(), before)
        assert.equal(await readFile(join(rig.twinDir, 'scripts/a.sh'), 'utf8'), '', 'the kill left the pulled file empty')
        if (next === 'pull') {
          assert.equal((await remote().pull()).status, 'fast-forwarded')
          assert.equal(await readFile(join(rig.twinDir, 'scripts/a.sh'), 'utf8'), 'echo a\n')
        }
        const plan = await rig.container.resolve(Planner).plan()
        assert.deepEqual(plan.changes.map((c) => c.id), ['notes:replace:/etc/notes'])
        assert.equal(rig.git('status', '--porcelain'), 'M system/notes.json')
      })
    }

    // Session 34 (session 33's leftover): a pull's checkout stopped half way (killed, or failed)
    // whose files the working twin refuses to put back, the same way on every try (the folder made
    // immutable, a file system remounted read-only after an I/O error). Every later command failed
    // settling it with an uncoded ENOTDIR (rm's, naming neither the file nor the cause), reported
    // as TwinSync's own failure. Now: TWIN_MOVE_FAILED, naming the file, the cause and the next
    // step; the move stays recorded, so nothing of the half-moved working twin is read as intent;
    // the edits set aside stay held; once the cause is gone the next run settles it.
    for (const stop of ['killed', 'failed'] as const) {
      it(`a pull's checkout ${stop} half way, whose files the twin refuses to put back on every try: coded, nothing read as intent, settled once the cause is gone`, async function () {
        this.timeout(120_000)
        const before = await scriptPulledWithEdit()
        const frozen = join(rig.twinDir, 'scripts')
        // git's checkout stopped after creating the file: killed there, or failing (the folder frozen by then).
        const bin = await gitStoppingInMerge(stop === 'killed' ? 'kill -9 $PPID; sleep 5' : `chattr +i ${frozen}; echo "error: unable to create file scripts/b.sh: Operation not permitted" >&2`)
        const refused = (run: string) => (e: unknown) => {
          assert.ok(failWith('TWIN_MOVE_FAILED')(e), `${run}: ${String((e as Error).stack)}`)
          const error = e as { message: string; nextStep?: string }
          assert.match(error.message, stop === 'failed' && run === 'pull' ? /^The pull's checkout failed \(.*Operation not permitted.*\), and scripts\/a\.sh could not be put back \(EPERM\)/ : /^A pull that stopped inside git's checkout left the working twin half-moved, and scripts\/a\.sh could not be put back \(EPERM\)/)
          assert.match(error.nextStep ?? '', /lsattr -d .*\/scripts`/)
          return true
        }
        try {
          if (stop === 'killed') {
            const child = spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'support/pull-until-killed.ts'), rig.root, rig.twinDir, bin], { encoding: 'utf8' })
            assert.equal(child.signal, 'SIGKILL', child.stderr)
            execFileSync('chattr', ['+i', frozen])
          } else {
            setOwnPathForTests(`${bin}:${SAFE_PATH}`)
            try {
              await assert.rejects(remote().pull(), refused('pull'))
            } finally {
              setOwnPathForTests(undefined)
            }
          }
          // Every later run: refused the same way, before it reads the working twin.
          for (const [run, go] of [['plan', () => rig.container.resolve(Planner).plan()], ['again', () => remote().pull()], ['snapshot', () => snapshotAndPush()]] as const) {
            await assert.rejects(go(), refused(run))
          }
          assert.equal(head(), before, 'nothing moved')
          assert.ok(existsSync(join(rig.twinDir, '.git/twinsync/pull-move.json')), 'the move stays recorded')
        } finally {
          execFileSync('chattr', ['-i', frozen])
        }
        const plan = await rig.container.resolve(Planner).plan()
        assert.deepEqual(plan.changes.map((c) => c.id), ['notes:replace:/etc/notes'])
        assert.equal(rig.git('status', '--porcelain'), 'M system/notes.json')
        assert.equal((await remote().pull()).status, 'fast-forwarded')
        assert.equal(await readFile(join(rig.twinDir, 'scripts/a.sh'), 'utf8'), 'echo a\n')
        assert.equal(JSON.parse(await readFile(join(rig.twinDir, 'system/notes.json'), 'utf8')).text, 'mine\n')
      })
    }

    it('a pulled commit\'s TwinSync-Counts trailer is not believed: forged, reused on another tree, malformed or huge, history counts what the commit holds', async function () {
      // Five forged commits, each pushed, pulled and counted: 27.5–28.8 s alone at load 8–11 (session 18), near the file's 30 s.
      this.timeout(90_000)
      const parentTree = () => git(clone, 'rev-parse', 'HEAD^{tree}').slice(0, 12)
      const forge = async (text: string, trailer: (tree: string) => string) => {
        const tree = parentTree()
        await writeFile(join(clone, 'system/notes.json'), `${JSON.stringify({ text })}\n`)
        commitAll(clone, `startup: notes changed\n\nTwinSync snapshot 2026-01-02T00:00:00Z\n\n${trailer(tree)}`)
      }
      // Says nothing changed; says the wrong domain; huge; malformed; a real snapshot's trailer on another tree.
      await forge('a\n', (t) => `TwinSync-Counts: ${t}`)
      await forge('b\n', (t) => `TwinSync-Counts: ${t} packages=999999999`)
      await forge('c\n', (t) => `TwinSync-Counts: ${t} startup=7 startup=0`)
      await forge('d\n', (t) => `TwinSync-Counts: ${t} startup=1; files=\u0007\nTwinSync-Counts: ${t} startup=-1`)
      git(clone, '-c', 'user.name=t', '-c', 'user.email=t@x', 'commit', '-q', '--allow-empty', '-m', `startup: notes changed\n\nTwinSync snapshot x\n\nTwinSync-Counts: ${parentTree()} startup=5`)
      // A snapshot this twin signed, its message then put on a commit with the same parent tree that changes nothing.
      git(clone, 'push', '-q', 'origin', 'main')
      await remote().pull()
      await machine('second\n')
      await snapshotAndPush()
      // The first snapshot after a pull records no counts (its diary compares with the last
      // snapshot, not with its parent, the pulled commit); the next one signs its counts.
      await machine('third\n')
      await snapshotAndPush()
      await remote().push()
      const signed = rig.git('log', '-1', '--format=%B')
      assert.match(signed, /^TwinSync-Counts: \S+ startup=1 sig=/m)
      git(clone, 'pull', '-q', '--ff-only')
      await writeFile(join(clone, 'system/notes.json'), `${JSON.stringify({ text: 'd\n' })}\n`)
      commitAll(clone, 'back')
      git(clone, '-c', 'user.name=t', '-c', 'user.email=t@x', 'commit', '-q', '--allow-empty', '-m', signed)
      git(clone, 'push', '-q', 'origin', 'main')
      await remote().pull()
      const history = rig.container.resolve(HistoryService)
      const listed = await history.history({ limit: 20 })
      assert.ok(listed.length >= 8, JSON.stringify(listed))
      assert.ok(listed.some((e) => e.counts.startup === 1 && e.message === signed.split('\n')[0]))
      for (const entry of listed) {
        const shown = await history.show(entry.commit, { diffs: false })
        assert.deepEqual(entry.counts, shown.counts, `${entry.message}: ${entry.counted}`)
      }
    })

    it('a pulled commit\'s message and idents cannot shift what history reads: nothing of them reaches git as an argument, every commit is listed once, whole', async () => {
      const written = join(rig.dir, 'written-by-git')
      // The separators an older reader split on, then a forged record whose parent is a git option.
      const hostile = `startup: notes changed\n\nTwinSync snapshot x\x1eX\x1f--output=${written}\x1fb\x1fc\x1fd\x1e\x1f\n`
      await writeFile(join(clone, 'system/notes.json'), `${JSON.stringify({ text: 'x\n' })}\n`)
      git(clone, 'add', '-A')
      execFileSync('git', ['-C', clone, 'commit', '-q', '-m', hostile], {
        env: { ...process.env, GIT_AUTHOR_NAME: 'a\x1fb\x1ec', GIT_AUTHOR_EMAIL: 'e@x', GIT_COMMITTER_NAME: 'c\x1fd', GIT_COMMITTER_EMAIL: 'e@x' },
      })
      git(clone, 'commit', '-q', '--allow-empty', '-m', `plain\x1f--output=${written}`)
      // A subject that would erase the line above it, set the terminal's title and turn text around.
      git(clone, 'commit', '-q', '--allow-empty', '-m', 'ok\x1b[1A\x1b[2K\x1b]0;t\x07 \u202eevil\x9b2J')
      git(clone, 'push', '-q', 'origin', 'main')
      await remote().pull()
      const history = rig.container.resolve(HistoryService)
      const listed = await history.history({ limit: 20 })
      await assert.rejects(readFile(written), 'git wrote a file a commit message named')
      assert.deepEqual(listed.map((e) => e.commit), rig.git('rev-list', 'HEAD').split('\n'))
      assert.equal(listed[2]?.message, 'startup: notes changed')
      assert.equal(listed[2]?.kind, 'snapshot')
      assert.deepEqual(listed[2]?.counts, { startup: 1 })
      assert.deepEqual((await history.show(listed[2]?.commit as string, { diffs: false })).counts, { startup: 1 })
      // Nothing a terminal would act on reaches history, show or the TUI: spelled out.
      assert.equal(listed[0]?.message, 'ok\\e[1A\\e[2K\\e]0;t\\x07 \\u202eevil\\x9b2J')
      assert.equal((await history.show(listed[0]?.commit as string, { diffs: false })).to.message, listed[0]?.message)
    })

    it('refuses a pull whose history (not only its last tree) holds a name TwinSync refuses, and changes nothing', async () => {
      const before = head()
      const odd = join(clone, 'system', 'a\x1b[2Kb.json')
      await writeFile(odd, '{}\n')
      commitAll(clone, 'odd name')
      git(clone, 'rm', '-q', 'system/a\x1b[2Kb.json')
      commitAll(clone, 'gone again')
      git(clone, 'push', '-q', 'origin', 'main')
      await assert.rejects(remote().pull(), (e: unknown) => failWith('TWIN_UNSAFE')(e) && /control character/.test((e as Error).message) && /push --force/.test((e as { nextStep?: string }).nextStep ?? ''))
      assert.equal(head(), before)
    })

    // Session 18: the refused commit stays in the object store (session 46: on no ref; the
    // mirror's tracking ref stays where it was, and the pull's record names the commit).
    it('a commit a refused pull fetched is no snapshot: revert, show, diff, label and plan/apply/rehearse --from refuse it (SNAPSHOT_UNKNOWN, naming why); the twin\'s own still resolve', async () => {
      await writeFile(join(clone, 'system', 'a\x1b[2Kb.json'), '{}\n')
      commitAll(clone, 'odd name')
      git(clone, 'push', '-q', 'origin', 'main')
      await assert.rejects(remote().pull(), failWith('TWIN_UNSAFE'))
      const refused = mirrored()
      assert.equal((await remote().status()).refused?.commit, refused)
      assert.equal(rig.git('cat-file', '-t', refused), 'commit', 'fetched, in the object store')
      const history = rig.container.resolve(HistoryService)
      const unknown = (e: unknown) => failWith('SNAPSHOT_UNKNOWN')(e) && (e as Error).message.includes(`${refused.slice(0, 12)} is not in this twin's history`)
      for (const ref of [refused, refused.slice(0, 12)]) {
        await assert.rejects(history.resolve(ref), unknown, ref)
        await assert.rejects(history.show(ref, { diffs: false }), unknown, ref)
        await assert.rejects(history.compare('HEAD', ref, { diffs: false }), unknown, ref)
        await assert.rejects(history.label(ref, 'taken'), unknown, ref)
        await assert.rejects(rig.container.resolve(PlanWorkflow).plan({ from: ref }), unknown, ref)
        await assert.rejects(rig.container.resolve(PlanWorkflow).toApply({ from: ref }), unknown, ref)
      }
      assert.equal(rig.git('tag', '--list'), '')
      await history.label('HEAD', 'mine')
      assert.equal((await history.resolve('mine')).commit, head())
      assert.equal((await rig.container.resolve(PlanWorkflow).plan({ from: 'mine' })).basis.twinCommit, head())
    })

    /** A commit on the mirror whose message is over 1 MiB (refused: MAX_INCOMING_COMMIT_BYTES), on top of what the mirror has; its id. */
    const hugeMessage = async () => {
      const message = join(rig.dir, 'message.txt')
      await writeFile(message, `deploy\n\n${'x'.repeat(1024 * 1024)}\n`)
      const commit = git(clone, '-c', 'user.name=t', '-c', 'user.email=t@x', 'commit-tree', git(clone, 'rev-parse', 'HEAD^{tree}'), '-p', 'HEAD', '-F', message)
      git(clone, 'push', '-q', 'origin', `${commit}:refs/heads/main`)
      return commit
    }

    // Session 46: the refused commit stayed on refs/remotes/mirror/main (session 18), and every
    // status and snapshot read it again (a 300 MB message: status 0.3 GB of git's memory, the
    // snapshot's push audit an internal error after 22 s and 1.9 GB).
    it('a refused commit never becomes the tracking ref, and nothing of the twin reaches it; status says the refusal from the pull\'s record, a push names it with --force as the way, and a forced push ends it', async () => {
      const tracked = rig.git('rev-parse', 'refs/remotes/mirror/main')
      const huge = await hugeMessage()
      await assert.rejects(remote().pull(), (e: unknown) => failWith('TWIN_UNSAFE')(e) && /is 1,048,\d{3} bytes \(its message\)/.test((e as Error).message))
      assert.equal(rig.git('rev-parse', 'refs/remotes/mirror/main'), tracked, 'the tracking ref stays where it was')
      assert.doesNotMatch(rig.git('rev-list', '--all', '--reflog'), new RegExp(huge), 'no ref or reflog reaches the refused commit')
      assert.equal(rig.git('for-each-ref', 'refs/twinsync-fetch/'), '', "the pull's fetch ref is gone")
      const status = await remote().status()
      assert.deepEqual([status.refused?.commit, status.refused?.code, status.pending], [huge, 'TWIN_UNSAFE', 0])
      assert.match(renderRemoteStatus(status, LINE), /\nThe mirror holds [0-9a-f]{12}, which the last pull \(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\) refused: \[TWIN_UNSAFE\] Not pulled: the mirror's commit [0-9a-f]{12} is 1,048,\d{3} bytes \(its message\)[^\n]*\n  Next step: Nothing here was changed\. Put this twin's history back on the mirror \(`twinsync push --retry --force [^`]*`\)/)
      assert.match((await remotePort(() => rig.container).status(new AbortController().signal)).summary, /its last pull refused \(TWIN_UNSAFE: `twinsync remote show[^`]*`\)/)
      await machine('second\n')
      const snapped = await snapshotAndPush()
      assert.equal(snapped.push?.error?.code, 'REMOTE_REJECTED')
      assert.match(snapped.push?.error?.message ?? '', new RegExp(`the last pull refused them \\(TWIN_UNSAFE, the mirror's ${huge.slice(0, 12)}: Not pulled: `))
      assert.match(snapped.push?.error?.nextStep ?? '', /^A pull brings them in only once the mirror is fixed\. Put this twin's history over them \(`twinsync push --retry --force [^`]*`/)
      assert.equal((await remote().retry({ force: true })).status, 'pushed')
      assert.equal(mirrored(), head())
      assert.equal((await remote().status()).refused, undefined)
    })

    it('a tracking ref a TwinSync before session 46 left on a refused commit goes back to what the twin and the mirror share when a pull refuses it again, its reflog line too; a fetch ref a killed pull left is removed', async () => {
      const tracked = rig.git('rev-parse', 'refs/remotes/mirror/main')
      const huge = await hugeMessage()
      rig.git('fetch', '-q', 'mirror')
      assert.equal(rig.git('rev-parse', 'refs/remotes/mirror/main'), huge, "as an older pull's fetch left it")
      // A pull killed between its fetch and its check (no process has this id).
      rig.git('update-ref', 'refs/twinsync-fetch/999999999-1', huge)
      await assert.rejects(remote().pull(), failWith('TWIN_UNSAFE'))
      assert.equal(rig.git('rev-parse', 'refs/remotes/mirror/main'), tracked)
      assert.equal(rig.git('for-each-ref', 'refs/twinsync-fetch/'), '')
      assert.doesNotMatch(rig.git('rev-list', '--all', '--reflog'), new RegExp(huge))
    })

    // Session 47 (M1 of session 46's review): only the next pull removed it; until then `git log
    // --all` and the whole pack's reachability reached the unjudged commit.
    it('a fetch ref a killed pull left goes at the next command that takes the twin lock (a snapshot, a label), not only the next pull; a live run\'s stays', async () => {
      const huge = await hugeMessage()
      rig.git('fetch', '-q', '--refmap=', 'mirror', '+refs/heads/main:refs/twinsync-fetch/999999999-1')
      rig.git('update-ref', `refs/twinsync-fetch/${process.pid}-999`, huge)
      await rig.container.resolve(SnapshotService).snapshot()
      assert.equal(rig.git('for-each-ref', '--format=%(refname)', 'refs/twinsync-fetch/'), `refs/twinsync-fetch/${process.pid}-999`, "the dead run's ref is gone, the live run's kept")
      rig.git('update-ref', 'refs/twinsync-fetch/999999999-2', huge)
      await rig.container.resolve(HistoryService).label('HEAD', 'kept')
      assert.equal(rig.git('for-each-ref', '--format=%(refname)', 'refs/twinsync-fetch/'), `refs/twinsync-fetch/${process.pid}-999`)
      rig.git('update-ref', '-d', `refs/twinsync-fetch/${process.pid}-999`)
      assert.doesNotMatch(rig.git('rev-list', '--all'), new RegExp(huge))
    })

    it('two pulls at once: each fetches on a ref of its own (no clash of git\'s ref locks), one fast-forwards, the other is LOCK_HELD or finds it done; no fetch ref is left', async () => {
      await writeFile(join(clone, 'system/notes.json'), `${JSON.stringify({ text: 'from elsewhere\n' })}\n`)
      commitAll(clone, 'edited elsewhere')
      git(clone, 'push', '-q', 'origin', 'main')
      const outcomes = await Promise.allSettled([remote().pull(), remote().pull()])
      const said = outcomes.map((o) => (o.status === 'fulfilled' ? o.value.status : isTwinSyncError(o.reason) && o.reason.code === 'LOCK_HELD' ? 'locked' : String(o.reason))).sort()
      assert.ok(['fast-forwarded,locked', 'fast-forwarded,up-to-date'].includes(said.join()), said.join())
      assert.equal(head(), mirrored())
      assert.equal(rig.git('rev-parse', 'refs/remotes/mirror/main'), mirrored())
      assert.equal(rig.git('for-each-ref', 'refs/twinsync-fetch/'), '')
    })

    describe('the record of the run-once commands that ran (system/journal/commands.json) is this machine\'s, not the mirror\'s', () => {
      const ledger = (dir: string) => join(dir, 'system/journal/commands.json')
      const ran = (keys: string[]) => `${JSON.stringify(Object.fromEntries(keys.map((k) => [k, { source: 'plans/x.yaml', summary: 'run true', appliedAt: '2026-12-01T00:00:00Z' }])))}\n`
      beforeEach(async () => {
        // This machine ran one command (apply recorded it and the record went to the mirror).
        await mkdir(join(rig.twinDir, 'system/journal'), { recursive: true })
        await writeFile(ledger(rig.twinDir), ran(['k-ran-here']))
        commitAll(rig.twinDir, 'apply')
        await remote().push()
        git(clone, 'pull', '-q', '--ff-only')
      })

      for (const [what, text] of [
        ['a command that never ran here', ran(['k-ran-here', 'k-forged'])],
        ['a record that is not a JSON object', '[]\n'],
        // Session 36: the entry that ran here, given a value 100,000 deep beside it; before, pulled,
        // and every later apply ended in "Maximum call stack size exceeded" after its steps ran.
        ['a record nested 100,000 deep in the entry of a command that ran here', `{"k-ran-here": {"source": "plans/x.yaml", "summary": "run true", "appliedAt": "2026-12-01T00:00:00Z", "x": ${'['.repeat(100_000)}${']'.repeat(100_000)}}}\n`],
      ] as const) {
        it(`a pull whose twin adds ${what} is refused (TWIN_UNSAFE), by the CLI's service and the TUI's pull alike; nothing moves`, async () => {
          await writeFile(ledger(clone), text)
          commitAll(clone, 'forged: ran')
          git(clone, 'push', '-q', 'origin', 'main')
          const before = head()
          const refused = (e: unknown) => failWith('TWIN_UNSAFE')(e) && /system\/journal\/commands\.json/.test((e as Error).message) && /push --retry --force/.test((e as { nextStep?: string }).nextStep ?? '')
          await assert.rejects(remote().pull(), refused)
          await assert.rejects(remotePort(() => rig.container).pull?.(new AbortController().signal) ?? Promise.resolve(), refused)
          assert.equal(head(), before)
          assert.equal(await readFile(ledger(rig.twinDir), 'utf8'), ran(['k-ran-here']))
        })
      }

      it('a pull whose twin drops a command that ran here is refused (TWIN_UNSAFE), naming it, by both front ends\' pull; nothing moves', async () => {
        // Session 18: before, the pull went through and the next plan had the command to run
        // again, said as a new one, nothing telling it had run here.
        await writeFile(ledger(clone), ran([]))
        commitAll(clone, 'ran again')
        git(clone, 'push', '-q', 'origin', 'main')
        const before = head()
        const refused = (e: unknown) => failWith('TWIN_UNSAFE')(e) && /takes 1 command\(s\) that ran on this machine out of system\/journal\/commands\.json.*"run true"/.test((e as Error).message) && /change its action in plans\//.test((e as { nextStep?: string }).nextStep ?? '')
        await assert.rejects(remote().pull(), refused)
        await assert.rejects(remotePort(() => rig.container).pull?.(new AbortController().signal) ?? Promise.resolve(), refused)
        assert.equal(head(), before)
        assert.equal(await readFile(ledger(rig.twinDir), 'utf8'), ran(['k-ran-here']))
      })

      it('a refused record stays refused once this twin took a snapshot: the next pull says the record, not REMOTE_DIVERGED (whose next step takes the mirror\'s history whole)', async () => {
        await writeFile(ledger(clone), ran(['k-ran-here', 'k-forged']))
        commitAll(clone, 'forged: ran')
        git(clone, 'push', '-q', 'origin', 'main')
        await assert.rejects(remote().pull(), failWith('TWIN_UNSAFE'))
        await machine('second\n')
        await rig.container.resolve(SnapshotService).snapshot()
        const before = head()
        await assert.rejects(remote().pull(), (e: unknown) => failWith('TWIN_UNSAFE')(e) && /commands\.json/.test((e as Error).message))
        assert.equal(head(), before)
      })

      it('a diverged mirror that lacks only what ran here since the two parted is REMOTE_DIVERGED, not a dropped record', async () => {
        await writeFile(join(clone, 'plans/note.yaml'), 'steps: []\n')
        commitAll(clone, 'elsewhere')
        git(clone, 'push', '-q', 'origin', 'main')
        await writeFile(ledger(rig.twinDir), ran(['k-ran-here', 'k-ran-since']))
        commitAll(rig.twinDir, 'apply')
        await assert.rejects(remote().pull(), failWith('REMOTE_DIVERGED'))
      })

      // Session 18: the rule refused a twin restored from a backup older than the mirror's
      // applies, and its next step (a forced push) dropped those applies from the mirror.
      it('a twin restored from a backup older than the mirror takes back the record of a command it ran (signed by it); a signature on another command, or another twin\'s, is refused', async () => {
        const backup = join(rig.dir, 'backup')
        execFileSync('cp', ['-a', rig.twinDir, backup])
        await mkdir(join(rig.twinDir, 'plans'), { recursive: true })
        await writeFile(join(rig.twinDir, 'plans/once.yaml'), 'actions:\n  - run: [touch, /root/mark]\n')
        commitAll(rig.twinDir, 'a run-once command')
        const applied = await rig.container.resolve(ApplyService).apply({ plan: await rig.container.resolve(Planner).plan(), fromFile: false, signal: new AbortController().signal, acceptHighRisk: true })
        assert.equal(applied.journal.counts.applied, 1)
        await remote().push()
        const signed = JSON.parse(await readFile(ledger(rig.twinDir), 'utf8')) as Record<string, { sig?: string }>
        const [commandKey] = Object.keys(signed).filter((k) => k !== 'k-ran-here')
        assert.ok(commandKey !== undefined && typeof signed[commandKey]?.sig === 'string')
        // The twin is restored from the backup, behind the mirror.
        rmSync(rig.twinDir, { recursive: true, force: true })
        execFileSync('cp', ['-a', backup, rig.twinDir])
        git(clone, 'pull', '-q', '--ff-only')
        for (const [what, entry] of [
          ['its signature on another command', { ...signed[commandKey], summary: 'forged' }],
          ["another twin's signature", { summary: 'forged', sig: signRan(randomBytes(32), 'k-forged') }],
        ] as const) {
          await writeFile(ledger(clone), `${JSON.stringify({ ...signed, 'k-forged': entry })}\n`)
          commitAll(clone, `forged: ${what}`)
          git(clone, 'push', '-q', 'origin', 'main')
          await assert.rejects(remote().pull(), failWith('TWIN_UNSAFE'), what)
          git(clone, 'reset', '-q', '--hard', 'HEAD~1')
          git(clone, 'push', '-q', '--force', 'origin', 'main')
        }
        assert.equal((await remote().pull()).status, 'fast-forwarded')
        const plan = await rig.container.resolve(Planner).plan()
        assert.deepEqual(plan.changes.filter((c) => c.provider === 'commands'), [], 'ran here: not planned again')
      })
    })

    describe('a tree that repeats one subtree (a few hundred bytes on the mirror, half a million files and more in the twin)', () => {
      /** A commit on top of the clone's HEAD whose top-level tree also holds `bomb/`: `dirs` folders, each the same 1,000 empty files. */
      const bombCommit = (dirs: number, tree = git(clone, 'rev-parse', 'HEAD^{tree}')): string => {
        const mktree = (lines: string[]) => execFileSync('git', ['-C', clone, 'mktree'], { input: `${lines.join('\n')}\n`, encoding: 'utf8' }).trim()
        const empty = execFileSync('git', ['-C', clone, 'hash-object', '-w', '--stdin'], { input: '', encoding: 'utf8' }).trim()
        const files = mktree(Array.from({ length: 1000 }, (_, i) => `100644 blob ${empty}\tf${i}`))
        const folders = mktree(Array.from({ length: dirs }, (_, i) => `040000 tree ${files}\td${i}`))
        const top = git(clone, 'ls-tree', tree).split('\n').filter((l) => l !== '')
        return git(clone, '-c', 'user.name=t', '-c', 'user.email=t@x', 'commit-tree', mktree([...top, `040000 tree ${folders}\tbomb`]), '-p', 'HEAD', '-m', 'bomb')
      }

      /** Pushes a commit on HEAD whose top-level tree also holds `name`/ (tree `id`); no delta search among the big trees (pack.window 0), on either side: seconds of the test's time, nothing of the pull's. */
      const pushWithTree = (name: string, id: string) => {
        const top = git(clone, 'ls-tree', 'HEAD').split('\n').filter((l) => l !== '')
        const tree = execFileSync('git', ['-C', clone, 'mktree'], { input: `${[...top, `040000 tree ${id}\t${name}`].join('\n')}\n`, encoding: 'utf8' }).trim()
        git(bare, 'config', 'pack.window', '0')
        git(clone, '-c', 'pack.window=0', 'push', '-q', 'origin', `${git(clone, '-c', 'user.name=t', '-c', 'user.email=t@x', 'commit-tree', tree, '-p', 'HEAD', '-m', name)}:refs/heads/main`)
      }

      /** Trees written byte by byte (`write`), entries as git writes them: "<mode> <name>\0" and the id's bytes (latin1 keeps each byte one character); `below`, a tree git's fsck calls broken (entries out of order). */
      const rawTrees = () => {
        const empty = execFileSync('git', ['-C', clone, 'hash-object', '-w', '--stdin'], { input: '', encoding: 'utf8' }).trim()
        const entry = (mode: string, name: string, id: string) => `${mode} ${name}\0${Buffer.from(id, 'hex').toString('latin1')}`
        const write = (text: string) => execFileSync('git', ['-C', clone, 'hash-object', '-t', 'tree', '--literally', '-w', '--stdin'], { input: Buffer.from(text, 'latin1'), encoding: 'utf8' }).trim()
        return { empty, entry, write, below: write(entry('100644', 'b', empty) + entry('100644', 'a', empty)) }
      }

      it('in the last tree: refused (TWIN_UNSAFE) from a count of its distinct trees, before anything lists or moves', async () => {
        git(clone, 'push', '-q', 'origin', `${bombCommit(MAX_INCOMING_FILES / 1000 + 1)}:refs/heads/main`)
        const before = head()
        await assert.rejects(remote().pull(), (e: unknown) => failWith('TWIN_UNSAFE')(e) && /the mirror's twin at \w+ holds more than 500,000 files/.test((e as Error).message))
        assert.equal(head(), before)
        assert.equal(rig.git('status', '--porcelain'), '')
      })

      it('with folders written "040000" (zero-padded, as git still reads a folder): counted as folders, refused', async () => {
        const empty = execFileSync('git', ['-C', clone, 'hash-object', '-w', '--stdin'], { input: '', encoding: 'utf8' }).trim()
        const files = execFileSync('git', ['-C', clone, 'mktree'], { input: Array.from({ length: 1000 }, (_, i) => `100644 blob ${empty}\tf${i}\n`).join(''), encoding: 'utf8' }).trim()
        const raw = Buffer.concat(Array.from({ length: MAX_INCOMING_FILES / 1000 + 1 }, (_, i) => Buffer.concat([Buffer.from(`040000 d${String(i).padStart(4, '0')}\0`), Buffer.from(files, 'hex')])))
        const folders = execFileSync('git', ['-C', clone, 'hash-object', '-t', 'tree', '--literally', '-w', '--stdin'], { input: raw, encoding: 'utf8' }).trim()
        const top = git(clone, 'ls-tree', 'HEAD').split('\n').filter((l) => l !== '')
        const tree = execFileSync('git', ['-C', clone, 'mktree'], { input: `${[...top, `040000 tree ${folders}\tbomb`].join('\n')}\n`, encoding: 'utf8' }).trim()
        const commit = git(clone, '-c', 'user.name=t', '-c', 'user.email=t@x', 'commit-tree', tree, '-p', 'HEAD', '-m', 'padded')
        git(clone, 'push', '-q', 'origin', `${commit}:refs/heads/main`)
        const before = head()
        await assert.rejects(remote().pull(), (e: unknown) => failWith('TWIN_UNSAFE')(e) && /holds more than 500,000 files/.test((e as Error).message))
        assert.equal(head(), before)
      })

      // Session 47 (M4 of session 46's review): the level-by-level walk read every tree of every
      // pulled commit before it counted any (under the twin lock); session 17's stopped at the limit.
      it('distinct folders whose files pass the limit: refused as soon as the trees read hold more than 500,000 files, before the level below them is read', async () => {
        // One level further down, under the first folder: a tree git's fsck calls broken (entries out
        // of order), which a walk that reads that level refuses as malformed.
        const { empty, entry, write, below } = rawTrees()
        const file = entry('100644', '', empty).slice('100644 '.length)
        const folders = [0, 1, 2].map((d) => {
          let text = ''
          for (let i = 0; i < 200_000; i++) text += `100644 f${d}-${String(i).padStart(6, '0')}${file}`
          return write(d === 0 ? text + entry('40000', 'zz', below) : text)
        })
        pushWithTree('bomb', write(folders.map((id, d) => entry('40000', `d${d}`, id)).join('')))
        const before = head()
        await assert.rejects(remote().pull(), (e: unknown) => failWith('TWIN_UNSAFE')(e) && /^Not pulled: the mirror's twin at \w+ holds more than 500,000 files/.test((e as Error).message))
        assert.equal(head(), before)
      })

      // Session 47's review (F10): folders holding no files counted nothing, so a fan-out of them was read whole.
      it('a fan-out of more than 500,000 folder entries: refused when the tree listing them is read, before the level below it', async () => {
        // The level below: a tree fsck calls broken, which a walk that reads it refuses as malformed.
        const { write, below } = rawTrees()
        const id = Buffer.from(below, 'hex').toString('latin1')
        let text = ''
        for (let i = 0; i <= MAX_INCOMING_FILES; i++) text += `40000 d${String(i).padStart(6, '0')}\0${id}`
        pushWithTree('fan', write(text))
        const before = head()
        await assert.rejects(remote().pull(), (e: unknown) => failWith('TWIN_UNSAFE')(e) && /^Not pulled: the mirror's twin at \w+ holds more than 500,000 folders/.test((e as Error).message))
        assert.equal(head(), before)
      })

      it('in a commit the next one takes back: the history check stops at the limit too, and refuses', async () => {
        const bomb = bombCommit(MAX_INCOMING_FILES / 1000 + 1)
        git(clone, 'update-ref', 'HEAD', bomb)
        const undone = git(clone, '-c', 'user.name=t', '-c', 'user.email=t@x', 'commit-tree', git(clone, 'rev-parse', `${bomb}^^{tree}`), '-p', bomb, '-m', 'gone')
        git(clone, 'push', '-q', 'origin', `${undone}:refs/heads/main`)
        const before = head()
        await assert.rejects(remote().pull(), (e: unknown) => failWith('TWIN_UNSAFE')(e) && e instanceof Error && e.message.includes(`a commit on the mirror at ${bomb.slice(0, 12)} holds more than 500,000 files`))
        assert.equal(head(), before)
      })
    })

    describe('the apply journals (system/journal/apply-*.json) are this machine\'s report, not the mirror\'s (session 19)', function () {
      // An apply, a push and a pull each: 30 s at load 20.
      this.timeout(120_000)
      let path: string
      beforeEach(async () => {
        await writeFile(join(rig.twinDir, 'system/notes.json'), `${JSON.stringify({ text: 'applied\n' })}\n`)
        const applied = await rig.container.resolve(ApplyService).apply({ plan: await rig.container.resolve(Planner).plan(), fromFile: false, signal: new AbortController().signal, acceptHighRisk: true })
        assert.equal(applied.journal.counts.applied, 1)
        path = applied.journalPath
        await remote().push()
        git(clone, 'pull', '-q', '--ff-only')
      })

      it('apply signs its journal as committed, with the twin\'s own key (never pushed)', async () => {
        const committed = rig.git('show', `HEAD:${path}`)
        assert.match(committed, /"sig": "[0-9a-f]{32}"/)
        assert.ok(journalSignedHere(committed, path, await twinKey(rig.twinDir, false)))
        assert.ok(!journalSignedHere(committed, path.replace('apply-', 'apply-x'), await twinKey(rig.twinDir, false)), 'bound to its path')
        assert.ok(!journalSignedHere(committed, path, randomBytes(32)), "another twin's key")
      })

      const forgeries: Array<[string, (clone: string) => Promise<void>, RegExp]> = [
        ['rewrites its counts ("2 failed")', async (c) => {
          const journal = JSON.parse(await readFile(join(c, path), 'utf8')) as { counts: Record<string, number> }
          journal.counts = { applied: 0, unchanged: 0, failed: 2, skipped: 0 }
          await writeFile(join(c, path), `${JSON.stringify(journal, null, 2)}\n`)
        }, /adds or rewrites 1 apply journal/],
        ['adds one for an apply that never ran here', async (c) => writeFile(join(c, 'system/journal/apply-2030-01-01T000000Z.json'), '{"counts":{"applied":3}}\n'), /adds or rewrites 1 apply journal.*apply-2030/],
        ['copies a signed one onto another apply\'s name', async (c) => writeFile(join(c, 'system/journal/apply-2030-01-01T000000Z.json'), await readFile(join(c, path))), /adds or rewrites 1 apply journal.*apply-2030/],
        ['takes it out', async (c) => rm(join(c, path)), /takes out 1 apply journal/],
      ]
      for (const [what, forge, said] of forgeries) {
        it(`a pull whose twin ${what} is refused (TWIN_UNSAFE), by both front ends' pull; nothing moves`, async () => {
          await forge(clone)
          commitAll(clone, 'TwinSync apply 2030-01-01T00:00:00Z: 0 applied, 0 unchanged, 2 failed, 0 skipped')
          git(clone, 'push', '-q', 'origin', 'main')
          const before = head()
          const refused = (e: unknown) => failWith('TWIN_UNSAFE')(e) && said.test((e as Error).message) && /push --retry --force/.test((e as { nextStep?: string }).nextStep ?? '')
          await assert.rejects(remote().pull(), refused)
          await assert.rejects(remotePort(() => rig.container).pull?.(new AbortController().signal) ?? Promise.resolve(), refused)
          assert.equal(head(), before)
          assert.equal(rig.git('status', '--porcelain'), '')
        })
      }

      it('a twin restored from a backup older than the mirror takes its own signed journal back', async () => {
        // Back to before the apply that wrote the journal: the mirror has it, this twin does not.
        git(rig.twinDir, 'reset', '-q', '--hard', `${rig.git('log', '-1', '--format=%H', '--diff-filter=A', '--', path)}^`)
        git(rig.twinDir, 'update-ref', 'refs/twinsync/observed', 'HEAD')
        assert.equal(rig.git('ls-tree', 'HEAD', path), '')
        const pulled = await remote().pull()
        assert.equal(pulled.status, 'fast-forwarded')
        assert.ok(rig.git('show', `HEAD:${path}`).includes('"sig"'))
      })
    })

    describe('pull --take-mirror: diverged histories resolved by taking the mirror\'s, through the pull\'s checks, hold and restore', function () {
      // 24 s for the longest alone at load 19 (two snapshots, a pull, a push).
      this.timeout(120_000)
      const ledger = (dir: string) => join(dir, 'system/journal/commands.json')
      const journal = 'system/journal/apply-20261201T000000Z.json'
      const entry = (summary: string) => ({ source: 'plans/x.yaml', summary, appliedAt: '2026-12-01T00:00:00Z' })
      /** The mirror moved on (a plan added elsewhere); this twin too: a snapshot, an apply that ran a command and wrote its journal, and an edit not yet applied. */
      const diverge = async () => {
        await writeFile(join(clone, 'plans/note.yaml'), 'steps: []\n')
        commitAll(clone, 'elsewhere')
        git(clone, 'push', '-q', 'origin', 'main')
        await machine('second\n')
        await rig.container.resolve(SnapshotService).snapshot()
        await mkdir(join(rig.twinDir, 'system/journal'), { recursive: true })
        await writeFile(ledger(rig.twinDir), `${JSON.stringify({ 'k-ran-here': entry('ran here') })}\n`)
        await writeFile(join(rig.twinDir, journal), '{"steps":[]}\n')
        commitAll(rig.twinDir, 'TwinSync apply 2026-12-01T00:00:00Z: 1 applied, 0 unchanged, 0 failed, 0 skipped')
        await writeFile(join(rig.twinDir, 'system/notes.json'), `${JSON.stringify({ text: 'edited here\n' })}\n`)
      }

      it('REMOTE_DIVERGED names `twinsync pull --take-mirror` as its next step (before: `git reset --hard`, which dropped the edits, the local snapshots and what ran here)', async () => {
        await diverge()
        await assert.rejects(remote().pull(), (e: unknown) => failWith('REMOTE_DIVERGED')(e) && /`twinsync pull --take-mirror( --root [^`]+)? --repo [^`]+`/.test((e as { nextStep?: string }).nextStep ?? '') && !/reset --hard/.test((e as { nextStep?: string }).nextStep ?? ''))
      })

      it('takes the mirror\'s history; this twin\'s snapshots stay under refs/twinsync/diverged/<time>, the edit stays pending on top, what ran here is put back on top; the observed state stays the machine\'s', async () => {
        await diverge()
        const local = head()
        const observed = await rig.container.resolve(IntentService).observed()
        const mirror = mirrored()
        const took = await remote().pull({ takeMirror: true })
        assert.equal(took.status, 'took-mirror')
        assert.deepEqual([took.from, took.ahead, took.pulled], [local, 2, 1])
        assert.match(took.keptAt ?? '', /^refs\/twinsync\/diverged\/\d{8}T\d{6}Z$/)
        assert.equal(rig.git('rev-parse', took.keptAt ?? ''), local, 'this twin\'s own history stays reachable')
        // The mirror's history, with one commit on top that puts back what ran here.
        assert.equal(head(), took.to)
        assert.equal(rig.git('rev-parse', 'HEAD^'), mirror)
        assert.deepEqual(took.kept, { commands: ['k-ran-here'], journals: [journal] })
        assert.deepEqual(Object.keys(JSON.parse(rig.git('show', `HEAD:${'system/journal/commands.json'}`)) as object), ['k-ran-here'])
        assert.equal(rig.git('show', `HEAD:${journal}`), '{"steps":[]}')
        assert.equal(rig.git('show', 'HEAD:plans/note.yaml'), 'steps: []')
        // The edit: still in the working twin, pending (recorded in refs/twinsync/intended), said.
        assert.equal(JSON.parse(await readFile(join(rig.twinDir, 'system/notes.json'), 'utf8')).text, 'edited here\n')
        assert.deepEqual(took.edits, ['system/notes.json'])
        const pending = await rig.container.resolve(IntentService).pending()
        assert.ok(pending.items.some((i) => i.id === 'notes:replace:/etc/notes'), JSON.stringify(pending.items))
        assert.equal(pending.observed, observed, 'the last snapshot stays the observed state: what arrived is intent')
        // The kept snapshots are this twin's own: history shows them.
        const shown = await rig.container.resolve(HistoryService).show(local, { diffs: false })
        assert.equal(shown.to.commit, local)
        // Up to date with the mirror but for the commit on top; a second take has nothing to take.
        assert.equal((await remote().pull({ takeMirror: true })).status, 'ahead')
        assert.equal((await remote().push()).status, 'pushed')
        assert.equal(mirrored(), head())
      })

      it('through the TUI\'s pull (remotePort) the same: the message names the ref and what was put back', async () => {
        await diverge()
        const local = head()
        const said = await remotePort(() => rig.container).pull?.(new AbortController().signal, { takeMirror: true })
        const ref = rig.git('for-each-ref', '--format=%(refname)', 'refs/twinsync/diverged/')
        assert.equal(rig.git('rev-parse', ref), local)
        assert.ok(said?.ok)
        assert.match(said?.message ?? '', new RegExp(`Took the mirror's history.*kept at ${ref}.*1 run-once command.*1 apply journal.*working twin's edits stay pending`))
      })

      it('an unsafe mirror, or one whose record claims a command ran here, is refused as by a pull: nothing moves, no ref is made', async () => {
        await diverge()
        const before = head()
        git(clone, 'reset', '-q', '--hard', 'HEAD')
        await mkdir(join(clone, 'system/journal'), { recursive: true })
        await writeFile(ledger(clone), `${JSON.stringify({ 'k-forged': entry('forged') })}\n`)
        commitAll(clone, 'forged: ran')
        git(clone, 'push', '-q', 'origin', 'main')
        await assert.rejects(remote().pull({ takeMirror: true }), (e: unknown) => failWith('TWIN_UNSAFE')(e) && /commands\.json/.test((e as Error).message))
        await writeFile(ledger(clone), '{}\n')
        await writeFile(join(clone, 'system', 'a\x1b[2Kb.json'), '{}\n')
        commitAll(clone, 'odd name')
        git(clone, 'push', '-q', 'origin', 'main')
        await assert.rejects(remote().pull({ takeMirror: true }), (e: unknown) => failWith('TWIN_UNSAFE')(e) && /control character/.test((e as Error).message))
        assert.equal(head(), before)
        assert.equal(rig.git('for-each-ref', 'refs/twinsync/diverged/'), '')
        assert.equal(JSON.parse(await readFile(join(rig.twinDir, 'system/notes.json'), 'utf8')).text, 'edited here\n')
      })
    })

    it('refuses to merge diverged histories, and changes nothing', async () => {
      await writeFile(join(clone, 'plans/note.yaml'), 'steps: []\n')
      commitAll(clone, 'elsewhere')
      git(clone, 'push', '-q', 'origin', 'main')
      await machine('second\n')
      await rig.container.resolve(SnapshotService).snapshot()
      const before = head()
      await assert.rejects(remote().pull(), failWith('REMOTE_DIVERGED'))
      assert.equal(head(), before)
      assert.equal(JSON.parse(await readFile(join(rig.twinDir, 'system/notes.json'), 'utf8')).text, 'second\n')
    })
  })
  describe('secrets the mirror already holds (pushed before today\'s rules, or brought by a pull)', () => {
    const KEY = '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n'
    const auditFile = () => join(rig.twinDir, '.git/twinsync/mirror-audit.json')
    /** A snapshot with a secret that reached the mirror without TwinSync's push scan: as if pushed by a version whose rules did not know it. */
    const pushedBeforeTheRule = () => {
      writeFileSync(join(rig.twinDir, 'scripts/deploy-key'), KEY)
      commitAll(rig.twinDir, 'old snapshot')
      git(rig.twinDir, 'push', '-q', 'mirror', 'HEAD:refs/heads/main')
    }
    beforeEach(() => remote().setGitRemote(bare, undefined))

    it('a push reports them by file, line and rule (never the value), again with every push and in `remote show`, until forget and a forced push take them out', async () => {
      pushedBeforeTheRule()
      const first = await remote().push()
      assert.equal(first.status, 'up-to-date')
      assert.deepEqual(first.mirrorSecrets?.map((f) => [f.path, f.line, f.rule]), [['scripts/deploy-key', 2, 'private-key']])
      const shown = renderPush(first, LINE).join('\n')
      assert.match(shown, /SECRET_IN_MIRROR.*scripts\/deploy-key:2 \(private-key\)/)
      assert.match(shown, /change each one.*twinsync forget.*push --retry --force/s)
      assert.doesNotMatch(JSON.stringify(first) + shown + (await readFile(auditFile(), 'utf8')), /b3BlbnNzaC1rZXktdjEAAAAA/)
      // A new snapshot is pushed (it holds no secret) and the mirror's old one is named again.
      await machine('second\n')
      const next = await snapshotAndPush()
      assert.equal(next.push?.status, 'pushed')
      assert.equal(next.push?.mirrorSecrets?.[0]?.path, 'scripts/deploy-key')
      assert.match(renderRemoteStatus(await remote().status(), LINE), /SECRET_IN_MIRROR.*scripts\/deploy-key/)
      assert.match((await remotePort(() => rig.container).status(new AbortController().signal)).summary, /1 secret\(s\) already in its history/)
      // forget rewrites the local history; the mirror still holds it until the forced push.
      rmSync(join(rig.twinDir, 'scripts/deploy-key'))
      commitAll(rig.twinDir, 'take the key out of the working tree')
      await rig.container.resolve(ForgetWorkflow).forget({ paths: ['scripts/deploy-key'], rules: [] })
      assert.equal((await remote().status()).mirrorSecrets?.length, 1)
      const forced = await remote().retry({ force: true })
      assert.equal(forced.status, 'pushed')
      assert.equal(forced.mirrorSecrets, undefined)
      assert.equal((await remote().status()).mirrorSecrets, undefined)
      assert.doesNotMatch(renderRemoteStatus(await remote().status(), LINE), /SECRET_IN_MIRROR/)
      assert.doesNotMatch((await remotePort(() => rig.container).status(new AbortController().signal)).summary, /secret/)
    })

    it('looks at the whole mirror again when the rules or the providers\' configuration changed; with today\'s, only at what it gained since', async () => {
      pushedBeforeTheRule()
      // A record that says the mirror was looked at up to its branch with today's rules and held nothing: trusted, no look again.
      const headNow = git(rig.twinDir, 'rev-parse', 'refs/remotes/mirror/main')
      const config = rig.container.resolve<LoadedConfig>(Tokens.Config)
      const trusted = () => writeFileSync(auditFile(), JSON.stringify({ format: 2, url: bare, rules: SECRET_RULES_VERSION, config: configKey(config.values), head: headNow, findings: [] }))
      trusted()
      assert.equal((await remote().push()).mirrorSecrets, undefined)
      // Under another configuration of the providers (a path added to `files.secrets.paths`, session 17): looked at whole.
      config.values.notes = { secrets: { paths: ['/etc/app/token'] } }
      assert.equal((await remote().push()).mirrorSecrets?.[0]?.path, 'scripts/deploy-key')
      trusted()
      assert.equal((await remote().push()).mirrorSecrets, undefined, 'the new configuration\'s look is kept')
      // A change of the core's own `limits` is none of the path rules'.
      config.values.limits = { logLines: 10 }
      assert.equal((await remote().push()).mirrorSecrets, undefined)
      // Kept by session 16 (format 2, no configuration): looked at whole once.
      writeFileSync(auditFile(), JSON.stringify({ format: 2, url: bare, rules: SECRET_RULES_VERSION, head: headNow, findings: [] }))
      assert.equal((await remote().push()).mirrorSecrets?.[0]?.path, 'scripts/deploy-key')
      // The same record kept by a look without the providers' path rules (before session 16: no format): looked at whole.
      writeFileSync(auditFile(), JSON.stringify({ url: bare, rules: SECRET_RULES_VERSION, head: headNow, findings: [] }))
      assert.equal((await remote().push()).mirrorSecrets?.[0]?.path, 'scripts/deploy-key')
      // The same record from older rules: looked at whole.
      writeFileSync(auditFile(), JSON.stringify({ format: 2, url: bare, rules: SECRET_RULES_VERSION - 1, head: headNow, findings: [] }))
      assert.equal((await remote().push()).mirrorSecrets?.[0]?.path, 'scripts/deploy-key')
      // A record of another mirror: looked at whole too.
      writeFileSync(auditFile(), JSON.stringify({ format: 2, url: '/elsewhere.git', rules: SECRET_RULES_VERSION, head: headNow, findings: [] }))
      assert.equal((await remote().push()).mirrorSecrets?.[0]?.path, 'scripts/deploy-key')
    })

    it('names a file the mirror holds that a provider\'s path rule holds out (a rule newer than its push): the whole file, no line; an audit kept before path rules were looked at is redone', async () => {
      await remote().push()
      execFileSync('mkdir', ['-p', join(rig.twinDir, 'filesystem/etc/vault')])
      writeFileSync(join(rig.twinDir, 'filesystem/etc/vault/db.pass'), 'admin\ncorrect-horse-battery\n')
      commitAll(rig.twinDir, 'old snapshot')
      git(rig.twinDir, 'push', '-q', 'mirror', 'HEAD:refs/heads/main')
      // What session 15's TwinSync kept after looking at that mirror: content only, nothing found.
      writeFileSync(auditFile(), JSON.stringify({ url: bare, rules: SECRET_RULES_VERSION, head: mirrored(), findings: [] }))
      const pushed = await remote().push()
      assert.equal(pushed.status, 'up-to-date')
      assert.deepEqual(pushed.mirrorSecrets?.map((f) => [f.path, f.line, f.rule]), [['filesystem/etc/vault/db.pass', 0, 'notes: vault path']])
      assert.match(renderPush(pushed, LINE).join('\n'), /SECRET_IN_MIRROR.*filesystem\/etc\/vault\/db\.pass \(notes: vault path\)/)
      assert.doesNotMatch(JSON.stringify(pushed) + (await readFile(auditFile(), 'utf8')), /correct-horse-battery/)
      // forget and a forced push take it out.
      rmSync(join(rig.twinDir, 'filesystem'), { recursive: true })
      commitAll(rig.twinDir, 'out of the working tree')
      await rig.container.resolve(ForgetWorkflow).forget({ paths: ['filesystem/etc/vault/db.pass'], rules: [] })
      assert.equal((await remote().retry({ force: true })).mirrorSecrets, undefined)
    })

    // Session 47: the look took its last head for part of the branch's history whether it was or
    // not (`merge-base --is-ancestor` through tryGit: git's exit 1 without a word read as yes), so
    // after a rewritten history reached the mirror its `--not` left out all the old head reached,
    // and a secret the rewrite moved was still named at its old path (`forget` of it then missed).
    it('after a rewritten history replaced the mirror\'s branch, the look is whole again: a secret the rewrite moved is named where the branch now holds it', async () => {
      pushedBeforeTheRule()
      assert.deepEqual((await remote().push()).mirrorSecrets?.map((f) => f.path), ['scripts/deploy-key'])
      const other = join(rig.dir, 'other')
      execFileSync('git', ['clone', '-q', bare, other])
      git(other, 'mv', 'scripts/deploy-key', 'scripts/old-key')
      git(other, '-c', 'user.name=t', '-c', 'user.email=t@x', 'commit', '-q', '--amend', '-m', 'old snapshot, rewritten')
      git(other, 'push', '-q', '--force', 'origin', 'HEAD:main')
      // The pull takes the rewritten branch as the mirror's (its checks pass) and says the histories parted.
      await assert.rejects(remote().pull(), failWith('REMOTE_DIVERGED'))
      assert.equal(rig.git('rev-parse', 'refs/remotes/mirror/main'), mirrored())
      assert.deepEqual((await remote().push()).mirrorSecrets?.map((f) => f.path), ['scripts/old-key'])
    })

    it('what a pull brought from the mirror is looked at by the next push', async () => {
      await remote().push()
      // Someone with the token pushes a snapshot with a secret to the mirror from another clone.
      const other = join(rig.dir, 'other')
      execFileSync('git', ['clone', '-q', bare, other])
      writeFileSync(join(other, 'creds.env'), 'export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n')
      commitAll(other, 'from elsewhere')
      git(other, 'push', '-q', 'origin', 'HEAD:main')
      assert.equal((await remote().pull()).status, 'fast-forwarded')
      const after = await remote().push()
      assert.equal(after.status, 'up-to-date')
      assert.deepEqual(after.mirrorSecrets?.map((f) => f.path), ['creds.env'])
    })
  })
})
