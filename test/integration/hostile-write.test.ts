// Session 11, the write side under a hostile mirror: what a pulled twin or a forged plan can make
// `apply` write. Every case: the coded refusal, and the target root unchanged except for exactly
// what was approved (checksummed before and after).
import assert from 'node:assert/strict'
import { execFileSync, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { chmod, lchown, lstat, mkdir, mkdtemp, readFile, readdir, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { stripVTControlCharacters } from 'node:util'
import { join } from 'node:path'
import { LocalHost, RecordingHost, silentLogger, type Plan } from '@twinsync/sdk'
import { ApplyService } from '../../core/src/apply/apply-service.js'
import { createContainer } from '../../core/src/container.js'
import type { DependencyContainer } from '../../core/src/di.js'
import { RemoteService } from '../../core/src/remote/remote-service.js'
import { PlanWorkflow } from '../../core/src/services/make-plan.js'
import { SnapshotWorkflow } from '../../core/src/services/take-snapshot.js'
import { createTestContext } from '@twinsync/sdk/conformance'
import { AutostartProvider } from '@twinsync/plugin-autostart'
import { CronProvider } from '@twinsync/plugin-cron'
import { FilesProvider } from '@twinsync/plugin-files'
import { chrootOk, freshRootfs, ROOTFS_BUILD_TIMEOUT_MS, type Rootfs } from '../bed/index.js'
import { cliSandbox } from '../support/cli.js'
import { checksum, git, noPlugins, smallTwin } from '../support/in-process-twin.js'

interface ManifestEntry { path: string; type: string; [key: string]: unknown }

describe('hostile twin, the write side: apply writes only what was approved, where it was approved', function () {
  this.timeout(120_000)
  let dir: string
  let root: string
  let twin: string
  let container: () => Promise<DependencyContainer>
  let initial: string
  let mirror: string

  before(async () => {
    ;({ dir, root, twin, container, initial } = await smallTwin('twinsync-hostile-write-', {
      prepare: async (root) => {
        await mkdir(join(root, 'root/.ssh'), { recursive: true, mode: 0o700 })
        // A folder of /etc that is a symlink out of the files scope, as the machine has it.
        await symlink('/root/.ssh', join(root, 'etc/keys'))
      },
    }))
    mirror = join(dir, 'mirror.git')
    execFileSync('git', ['init', '--quiet', '--bare', '--initial-branch=main', mirror])
    await (await container()).resolve(RemoteService).setGitRemote(mirror, undefined)
  })

  after(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
  })

  beforeEach(async () => {
    git(twin, ['reset', '--quiet', '--hard', initial])
    git(twin, ['clean', '--quiet', '-fdx'])
    git(twin, ['update-ref', '-d', 'refs/remotes/mirror/main'])
    await rm(mirror, { recursive: true, force: true })
    execFileSync('git', ['init', '--quiet', '--bare', '--initial-branch=main', mirror])
  })

  /** Push a commit on top of the twin to the mirror, made in a clone by `edit` (files written there, then committed). */
  const serve = async (edit: (clone: string) => Promise<void>) => {
    git(twin, ['push', '--quiet', mirror, 'HEAD:refs/heads/main'])
    const clone = join(dir, `clone-${Date.now()}`)
    execFileSync('git', ['clone', '--quiet', mirror, clone])
    // The attacker's own git commits the bytes as written, whatever .gitattributes it adds.
    await writeFile(join(clone, '.git/info/attributes'), '* -text -ident -filter -working-tree-encoding\n')
    await edit(clone)
    git(clone, ['add', '-A'])
    git(clone, ['commit', '--quiet', '-m', 'from the mirror'])
    git(clone, ['push', '--quiet', 'origin', 'HEAD:refs/heads/main'])
    await rm(clone, { recursive: true, force: true })
  }

  const manifestPath = () => join(twin, 'system/files/manifest.json')
  const editManifest = async (edit: (entries: ManifestEntry[]) => void) => {
    const manifest = JSON.parse(await readFile(manifestPath(), 'utf8')) as { entries: ManifestEntry[] }
    edit(manifest.entries)
    manifest.entries.sort((a, b) => (a.path < b.path ? -1 : 1))
    await writeFile(manifestPath(), `${JSON.stringify(manifest, null, 2)}\n`)
  }
  const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAttackerKeyAttackerKeyAttackerKey attacker\n'
  const owned = { owner: 'root', uid: 0, group: 'root', gid: 0 }

  async function applyPlan(): Promise<{ plan: Plan; outcome: unknown }> {
    const plan = await (await container()).resolve(PlanWorkflow).plan({})
    const outcome = await (await container())
      .resolve(ApplyService)
      // What these cases ask about is where the write goes: a key that logs in is accepted as the person would (--accept-high-risk).
      .apply({ plan, fromFile: false, acceptHighRisk: true, signal: new AbortController().signal })
      .then((r) => r, (e: unknown) => e)
    return { plan, outcome }
  }

  /** The twin asks for root's authorized_keys below `folder` (a folder of the include set on the twin's side). */
  const plantKey = async (folder: string) => {
    await rm(join(twin, 'filesystem', folder), { recursive: true, force: true })
    await mkdir(join(twin, 'filesystem', folder), { recursive: true })
    await writeFile(join(twin, 'filesystem', folder, 'authorized_keys'), KEY)
    await editManifest((entries) => {
      entries.push({ path: `${folder}/authorized_keys`, type: 'file', mode: '0600', ...owned, size: KEY.length, content: 'mirrored', sha256: createHash('sha256').update(KEY).digest('hex') })
    })
  }
  const leftOut = (plan: Plan, path: string) =>
    plan.diagnostics.filter((d) => d.code === 'FILES_OUTSIDE_SCOPE' && d.change === `files:create:${path}`).map((d) => `${d.summary} | ${d.detail ?? ''}`)

  for (const [what, folder, link] of [
    ['an absolute symlink', '/etc/keys', '/root/.ssh'],
    ['a relative symlink', '/etc/rel', '../root/.ssh'],
    ['an include root that is a symlink', '/usr/local/etc', '/root/.ssh'],
  ] as const) {
    it(`a file below a folder that is ${what} on the machine (${folder} -> ${link}) is left out, and apply writes nothing through it`, async () => {
      await mkdir(join(root, folder, '..'), { recursive: true })
      await symlink(link, join(root, folder)).catch(() => undefined)
      await (await container()).resolve(SnapshotWorkflow).take({ init: false, ifChanged: false })
      const before = await checksum(root)
      await plantKey(folder)
      const { plan, outcome } = await applyPlan()
      assert.deepEqual(plan.changes.filter((c) => c.resource.startsWith(folder)), [])
      const said = leftOut(plan, `${folder}/authorized_keys`)
      assert.equal(said.length, 1, JSON.stringify(plan.diagnostics))
      assert.match(said[0] ?? '', new RegExp(`left out, ${folder}/authorized_keys is outside the files provider's scope \\(${folder} is a symlink on the machine \\(to ${link.replace(/\./g, '\\.')}\\); the files provider never writes through one\\) \\| A snapshot never follows a symlinked folder`))
      assert.equal((outcome as { exitCode?: number }).exitCode, 0)
      assert.equal(await checksum(root), before, 'the target changed')
      if (folder !== '/etc/keys') await rm(join(root, folder))
    })
  }

  it('a plan that makes a folder a symlink and writes below it in one go: the write is left out, and apply writes nothing through the link', async () => {
    const before = await checksum(root)
    await plantKey('/etc/keys2')
    await editManifest((entries) => entries.push({ path: '/etc/keys2', type: 'symlink', target: '/root/.ssh', mode: '0777', ...owned }))
    const { plan, outcome } = await applyPlan()
    assert.deepEqual(leftOut(plan, '/etc/keys2/authorized_keys').map((s) => s.replace(/ \|.*/, '')), [
      "Create /etc/keys2/authorized_keys: left out, /etc/keys2/authorized_keys is outside the files provider's scope (/etc/keys2 is made a symlink by this plan; the files provider never writes through one)",
    ])
    assert.deepEqual(plan.changes.map((c) => c.id), ['files:create:/etc/keys2'])
    assert.equal((outcome as { exitCode?: number }).exitCode, 0)
    // Only what was approved: the link itself.
    assert.equal(await readlink(join(root, 'etc/keys2')), '/root/.ssh')
    await rm(join(root, 'etc/keys2'), { force: true })
    assert.equal(await checksum(root), before, 'the target changed beyond the approved link')
  })

  // What a pulled twin would set TwinSync's own configuration to (session 18).
  const OWN_CONFIG = "files:\n  include: [/etc, /root]\n  secrets:\n    detectContent: false\n    allow: ['/**']\n"

  // A plan handed to apply (a saved plan, or one a bug made) that holds a write the planner would
  // have left out: refused whole before anything runs. One case per way out of the scope.
  for (const [what, path, text, risk, said, next] of [
    ['with a write below a symlinked folder', '/etc/keys/authorized_keys', KEY, 'high', /\/etc\/keys is a symlink on the machine/, /make it a directory entry/],
    ["that sets TwinSync's own configuration", '/etc/twinsync/config.yaml', OWN_CONFIG, 'low', /\/etc\/twinsync\/config\.yaml is TwinSync's own configuration/, undefined],
  ] as const) {
    it(`a plan given to apply ${what} is refused whole (PLAN_OUTSIDE_SCOPE, exit 2), nothing written`, async () => {
      await mkdir(join(root, 'etc'), { recursive: true })
      await symlink('/root/.ssh', join(root, 'etc/keys')).catch(() => undefined)
      const before = await checksum(root)
      const plan = await (await container()).resolve(PlanWorkflow).plan({})
      const forged: Plan = {
        ...plan,
        changes: [
          ...plan.changes,
          {
            id: `files:create:${path}`, provider: 'files', category: 'files', operation: 'create', resource: path, summary: `Create ${path}`, risk,
            data: { action: 'write', path, text, sha256: createHash('sha256').update(text).digest('hex'), mode: path.endsWith('authorized_keys') ? 0o600 : 0o644, uid: 0, gid: 0 },
          } as Plan['changes'][number],
        ],
      }
      const error = await (await container()).resolve(ApplyService).apply({ plan: forged, fromFile: false, signal: new AbortController().signal }).then(() => undefined, (e: unknown) => e as { code?: string; exitCode?: number; message?: string; nextStep?: string })
      assert.equal(error?.code, 'PLAN_OUTSIDE_SCOPE', error?.message)
      assert.equal(error?.exitCode, 2)
      assert.match(error?.message ?? '', said)
      if (next !== undefined) assert.match(error?.nextStep ?? '', next)
      assert.equal(await checksum(root), before)
    })
  }

  it('a twin that makes the symlinked folder a real one: the plan replaces the link first (approved), and the file lands in the new folder, not where the link led', async () => {
    await mkdir(join(root, 'etc'), { recursive: true })
    await symlink('/root/.ssh', join(root, 'etc/keys')).catch(() => undefined)
    await (await container()).resolve(SnapshotWorkflow).take({ init: false, ifChanged: false })
    const rootSsh = await checksum(join(root, 'root'))
    await plantKey('/etc/keys')
    await editManifest((entries) => {
      const at = entries.findIndex((e) => e.path === '/etc/keys')
      entries.splice(at, 1, { path: '/etc/keys', type: 'directory', mode: '0755', ...owned })
    })
    const { plan, outcome } = await applyPlan()
    assert.deepEqual(plan.diagnostics.filter((d) => d.code === 'FILES_OUTSIDE_SCOPE'), [])
    assert.ok(plan.changes.some((c) => c.resource === '/etc/keys' && (c.data as { action?: string }).action === 'mkdir'), JSON.stringify(plan.changes.map((c) => c.id)))
    assert.equal((outcome as { exitCode?: number }).exitCode, 0, JSON.stringify(outcome))
    assert.ok((await lstat(join(root, 'etc/keys'))).isDirectory())
    assert.equal(await readFile(join(root, 'etc/keys/authorized_keys'), 'utf8'), KEY)
    assert.equal(await checksum(join(root, 'root')), rootSsh, '/root changed')
    // The machine as the first snapshot has it, for the cases below.
    await rm(join(root, 'etc/keys'), { recursive: true })
    await symlink('/root/.ssh', join(root, 'etc/keys'))
  })

  // ---- TwinSync's own configuration: never set from the twin (session 18) ------------------------

  // Before: a pulled twin's /etc/twinsync/config.yaml was planned as a low-risk create of a file of
  // /etc, and once applied chose what the next snapshots mirrored and the pushes sent.
  it('a pulled twin that sets TwinSync\'s own configuration (/etc/twinsync/config.yaml) is not planned: left out with TWINSYNC_OWN_FILE, its next step; apply writes nothing', async () => {
    const before = await checksum(root)
    await serve(async (clone) => {
      await mkdir(join(clone, 'filesystem/etc/twinsync'), { recursive: true })
      await writeFile(join(clone, 'filesystem/etc/twinsync/config.yaml'), OWN_CONFIG)
      await writeFile(join(clone, 'filesystem/etc/motd'), 'From the mirror\n')
    })
    assert.equal((await (await container()).resolve(RemoteService).pull()).status, 'fast-forwarded')
    const { plan, outcome } = await applyPlan()
    assert.deepEqual(plan.changes.map((c) => c.id), ['files:replace:/etc/motd'])
    const said = plan.diagnostics.filter((d) => d.code === 'TWINSYNC_OWN_FILE')
    assert.deepEqual(said.map((d) => [d.change, d.severity]), [['files:mkdir:/etc/twinsync', 'warning'], ['files:create:/etc/twinsync/config.yaml', 'warning']], JSON.stringify(plan.diagnostics))
    assert.match(said[1]?.summary ?? '', /left out, \/etc\/twinsync\/config\.yaml is TwinSync's own configuration or state, which a twin never sets/)
    assert.match(said[1]?.detail ?? '', /on the machine itself.*twinsync discard/)
    assert.equal((outcome as { exitCode?: number }).exitCode, 0, JSON.stringify(outcome))
    assert.equal(await readFile(join(root, 'etc/motd'), 'utf8'), 'From the mirror\n')
    await writeFile(join(root, 'etc/motd'), 'Welcome\n')
    assert.equal(await checksum(root), before, 'the target changed beyond the approved motd')
  })

  // ---- git attributes: the bytes the mirror holds are the bytes written -------------------------

  for (const [what, where] of [
    ['at the top of the twin', '.gitattributes'],
    ['inside filesystem/ (a machine file /etc/.gitattributes as data)', 'filesystem/etc/.gitattributes'],
  ] as const) {
    it(`a pulled .gitattributes ${what} (ident, eol=crlf, working-tree-encoding, a filter the host's git knows) changes no byte between the mirror's blob and what apply writes`, async () => {
      const prefix = where === '.gitattributes' ? 'filesystem/etc/' : ''
      // A filter driver in git's config, as a host with git LFS installed system-wide has one; the twin names it.
      git(twin, ['config', 'filter.rewrite.smudge', 'sed s/no/yes/'])
      const sums = await checksum(root)
      try {
        await serve(async (clone) => {
          await writeFile(join(clone, where), `${prefix}motd ident\n${prefix}hostname text eol=crlf\n${prefix}issue working-tree-encoding=UTF-16LE\n${prefix}issue.net filter=rewrite\n`)
          await writeFile(join(clone, 'filesystem/etc/motd'), 'Welcome $Id$\n')
          await writeFile(join(clone, 'filesystem/etc/hostname'), 'target\nsecond\n')
          await writeFile(join(clone, 'filesystem/etc/issue'), 'Debian \\n \\l\n')
          await writeFile(join(clone, 'filesystem/etc/issue.net'), 'PermitRootLogin no\n')
        })
        assert.equal((await (await container()).resolve(RemoteService).pull()).status, 'fast-forwarded')
        const pulled = git(twin, ['rev-parse', 'HEAD']).trim()
        const { plan, outcome } = await applyPlan()
        assert.equal((outcome as { exitCode?: number }).exitCode, 0, JSON.stringify(outcome))
        const written = ['motd', 'hostname', 'issue', 'issue.net']
        assert.deepEqual(plan.changes.map((c) => c.resource).filter((r) => r !== '/etc/.gitattributes').sort(), written.map((n) => `/etc/${n}`).sort())
        // Each file holds the mirror's blob, byte for byte, as the plan showed it.
        for (const name of written) {
          const blob = execFileSync('git', ['-C', twin, 'cat-file', 'blob', `${pulled}:filesystem/etc/${name}`])
          assert.deepEqual(await readFile(join(root, 'etc', name)), blob, `/etc/${name} is not the mirror's blob`)
          assert.equal((plan.changes.find((c) => c.resource === `/etc/${name}`)?.data as { text?: string }).text, blob.toString('utf8'))
        }
        // And the twin records what the machine now holds: a snapshot finds nothing to commit for them, the working twin clean.
        await (await container()).resolve(SnapshotWorkflow).take({ init: false, ifChanged: false })
        for (const name of written) assert.equal(git(twin, ['rev-parse', `HEAD:filesystem/etc/${name}`]), git(twin, ['rev-parse', `${pulled}:filesystem/etc/${name}`]))
        assert.equal(git(twin, ['status', '--porcelain']), '')
      } finally {
        git(twin, ['config', '--unset', 'filter.rewrite.smudge'])
        await writeFile(join(root, 'etc/motd'), 'Welcome\n')
        await writeFile(join(root, 'etc/hostname'), 'target\n')
        await rm(join(root, 'etc/issue'), { force: true })
        await rm(join(root, 'etc/issue.net'), { force: true })
        await rm(join(root, 'etc/.gitattributes'), { force: true })
      }
      assert.equal(await checksum(root), sums)
    })
  }

  // ---- concurrency: one run changes the twin at a time ------------------------------------------

  /** Another process holding the twin lock as `apply` does while it writes (until `release` is called). */
  async function otherRunHolding(purpose: string): Promise<{ release: () => Promise<void> }> {
    const { spawn } = await import('node:child_process')
    const lockModule = new URL('../../core/src/twin/twin-lock.ts', import.meta.url).pathname
    const script = `import { TwinLock } from ${JSON.stringify(lockModule)}
const lock = new TwinLock(${JSON.stringify(join(twin, '.git/twinsync/lock'))})
await lock.acquire(${JSON.stringify(purpose)})
process.stdout.write('held\\n')
process.stdin.on('end', async () => { await lock.release(); process.exit(0) })
process.stdin.resume()`
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['pipe', 'pipe', 'inherit'], cwd: join(import.meta.dirname, '../..') })
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => d.toString().includes('held') && resolve())
      child.on('exit', (code) => reject(new Error(`the lock holder exited with ${code}`)))
    })
    return {
      release: async () => {
        const exited = new Promise((resolve) => child.on('exit', resolve))
        child.stdin.end()
        await exited
      },
    }
  }

  it('pull while another run (an apply) holds the twin lock is refused with LOCK_HELD (exit 2): the working twin, its index and refs do not move; it pulls once the lock is free', async () => {
    await serve(async (clone) => writeFile(join(clone, 'filesystem/etc/motd'), 'From the mirror\n'))
    await writeFile(join(twin, 'filesystem/etc/hostname'), 'edited here\n')
    const state = () => [git(twin, ['rev-parse', 'HEAD']), git(twin, ['status', '--porcelain']), git(twin, ['for-each-ref']), execFileSync('sha256sum', [join(twin, '.git/index')]).toString()].join('\n')
    const before = state()
    const holder = await otherRunHolding('apply')
    try {
      const error = await (await container()).resolve(RemoteService).pull().then(() => undefined, (e: unknown) => e as { code?: string; exitCode?: number; nextStep?: string })
      assert.equal(error?.code, 'LOCK_HELD')
      assert.equal(error?.exitCode, 2)
      assert.ok(error?.nextStep)
      // The fetch may have moved the mirror's ref (refs/remotes): nothing else.
      assert.equal(state().replace(/^.*refs\/remotes\/mirror\/main\n/m, ''), before.replace(/^.*refs\/remotes\/mirror\/main\n/m, ''))
    } finally {
      await holder.release()
    }
    assert.equal((await (await container()).resolve(RemoteService).pull()).status, 'fast-forwarded')
    assert.equal(await readFile(join(twin, 'filesystem/etc/motd'), 'utf8'), 'From the mirror\n')
    assert.equal(await readFile(join(twin, 'filesystem/etc/hostname'), 'utf8'), 'edited here\n', 'the local edit is kept')
  })

  for (const [what, run] of [
    ['snapshot', async () => (await container()).resolve(SnapshotWorkflow).take({ init: false, ifChanged: false })],
    ['apply', async () => (await container()).resolve(ApplyService).apply({ plan: await (await container()).resolve(PlanWorkflow).plan({}), fromFile: false, signal: new AbortController().signal })],
  ] as const) {
    it(`${what} while another run holds the twin lock is refused with LOCK_HELD, the target unchanged`, async () => {
      await writeFile(join(twin, 'filesystem/etc/motd'), 'Edited\n')
      const sums = await checksum(root)
      const head = git(twin, ['rev-parse', 'HEAD'])
      const holder = await otherRunHolding('apply')
      try {
        const error = await run().then(() => undefined, (e: unknown) => e as { code?: string; exitCode?: number })
        assert.equal(error?.code, 'LOCK_HELD')
        assert.equal(error?.exitCode, 2)
      } finally {
        await holder.release()
      }
      assert.equal(await checksum(root), sums)
      assert.equal(git(twin, ['rev-parse', 'HEAD']), head)
    })
  }

  // ---- git ignore rules in the twin ---------------------------------------------------------------

  it("a pulled .gitignore (top or under filesystem/) hides none of a person's edits: status lists them as pending, the intent and the next snapshot keep them", async () => {
    await serve(async (clone) => {
      await writeFile(join(clone, '.gitignore'), 'filesystem/etc/new*\nplans/\n')
      await writeFile(join(clone, 'filesystem/etc/.gitignore'), 'added*\n')
    })
    assert.equal((await (await container()).resolve(RemoteService).pull()).status, 'fast-forwarded')
    await writeFile(join(twin, 'filesystem/etc/newfile'), 'a person adds this\n')
    await writeFile(join(twin, 'filesystem/etc/added.conf'), 'and this\n')
    await writeFile(join(twin, 'plans/x.yaml'), 'actions:\n  - run: [logger, hello]\n')
    const asked = ['files:create:/etc/added.conf', 'files:create:/etc/newfile']
    const { IntentService } = await import('../../core/src/intent/intent-service.js')
    const pending = async () => (await (await container()).resolve(IntentService).pending()).items.map((i) => i.id)
    const plan = await (await container()).resolve(PlanWorkflow).plan({})
    for (const id of asked) assert.ok(plan.changes.some((c) => c.id === id), id)
    for (const id of asked) assert.ok((await pending()).includes(id), `${id} is not pending: ${JSON.stringify(await pending())}`)
    await (await container()).resolve(SnapshotWorkflow).take({ init: false, ifChanged: false })
    for (const id of asked) assert.ok((await pending()).includes(id), `${id} is not pending after a snapshot`)
    assert.equal(await readFile(join(twin, 'filesystem/etc/newfile'), 'utf8'), 'a person adds this\n')
    assert.equal(await readFile(join(twin, 'plans/x.yaml'), 'utf8'), 'actions:\n  - run: [logger, hello]\n')
    // The intent recorded in git holds them (what a crash, or `discard`, goes by).
    const intended = git(twin, ['ls-tree', '-r', '--name-only', 'refs/twinsync/intended'])
    for (const path of ['filesystem/etc/newfile', 'filesystem/etc/added.conf', 'plans/x.yaml']) assert.ok(intended.includes(path), `${path} not in the recorded intent`)
  })

  // ---- forged plans --------------------------------------------------------------------------------

  for (const [what, second] of [
    ['the same step twice', (c: Plan['changes'][number]) => c],
    ['one step id with two payloads', (c: Plan['changes'][number]) => ({ ...c, data: { ...(c.data as object), text: 'Second\n', sha256: createHash('sha256').update('Second\n').digest('hex') } })],
  ] as const) {
    it(`a sealed plan naming ${what} is refused before anything runs (PLAN_INVALID, exit 2), the target unchanged`, async () => {
      await writeFile(join(twin, 'filesystem/etc/motd'), 'From the twin\n')
      await writeFile(join(twin, 'plans/x.yaml'), 'actions:\n  - run: [logger, hello]\n')
      const plan = await (await container()).resolve(PlanWorkflow).plan({})
      const motd = plan.changes.find((c) => c.resource === '/etc/motd')
      assert.ok(motd)
      // Sealed by this twin's own key: what someone with that key, or a TwinSync bug, could write.
      const { writePlanFile, readPlanFile } = await import('../../core/src/services/make-plan.js')
      const file = join(dir, 'twice.json')
      await writePlanFile(file, { ...plan, changes: [...plan.changes, second(motd) as Plan['changes'][number]] }, twin)
      const sums = await checksum(root)
      const head = git(twin, ['rev-parse', 'HEAD'])
      const read = await readPlanFile(file, { root, repo: twin })
      const error = await (await container()).resolve(ApplyService).apply({ plan: read, fromFile: true, signal: new AbortController().signal }).then(() => undefined, (e: unknown) => e as { code?: string; exitCode?: number; message?: string; nextStep?: string })
      assert.equal(error?.code, 'PLAN_INVALID', JSON.stringify(error))
      assert.equal(error?.exitCode, 2)
      assert.match(error?.message ?? '', /names a step more than once: files:replace:\/etc\/motd/)
      assert.ok(error?.nextStep)
      assert.equal(await checksum(root), sums)
      assert.equal(git(twin, ['rev-parse', 'HEAD']), head, 'no checkpoint')
    })
  }

  // ---- full disks ----------------------------------------------------------------------------------

  /** A small tmpfs at `at`, unmounted (and removed) when `fn` is done. */
  async function onSmallDisk<T>(at: string, size: string, fn: () => Promise<T>): Promise<T> {
    await mkdir(at, { recursive: true })
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', at])
    try {
      return await fn()
    } finally {
      execFileSync('umount', ['-l', at])
      await rm(at, { recursive: true, force: true })
    }
  }
  const fill = (folder: string) => execFileSync('sh', ['-c', 'dd if=/dev/zero of="$1" bs=64k 2>/dev/null; true', 'sh', join(folder, 'filler')])

  // The mirror's new file: 2 MiB that do not compress, base64 (2.7 MiB to write; its pack about 2.1
  // MiB). Room for the pack and not for the file: 4 MiB, about 1.9 left after the fetch (session 37:
  // 8 MiB in 12 before, the same case at a quarter of the bytes to make, hash, pack and check out).
  for (const [when, room] of [['before the fetch', 0], ['between the fetch and the checkout (room for the pack, not for the files)', 4]] as const) {
  it(`pull onto a disk that is full ${when} is DISK_FULL (exit 2, a next step): HEAD, the working twin and the index unmoved; with room again it pulls`, async () => {
    const disk = join(dir, 'small-twin-disk')
    await onSmallDisk(disk, '12m', async () => {
      const small = join(disk, 'twin')
      const configPath = join(dir, 'config.yaml')
      const make = () => createContainer({ root, repo: small, configPath, oclif: noPlugins, logger: silentLogger })
      await (await make()).resolve(SnapshotWorkflow).take({ init: true, ifChanged: false })
      await (await make()).resolve(RemoteService).setGitRemote(mirror, undefined)
      // The mirror serves 2 MiB that do not compress, under the size limit of one twin file.
      git(small, ['push', '--quiet', mirror, 'HEAD:refs/heads/main'])
      const clone = join(dir, 'clone-big')
      execFileSync('git', ['clone', '--quiet', mirror, clone])
      execFileSync('sh', ['-c', 'head -c 2097152 /dev/urandom | base64 > "$1"', 'sh', join(clone, 'filesystem/etc/big')])
      git(clone, ['add', '-A'])
      git(clone, ['commit', '--quiet', '-m', 'big'])
      git(clone, ['push', '--quiet', 'origin', 'HEAD:refs/heads/main'])
      await rm(clone, { recursive: true, force: true })
      const state = () => [git(small, ['rev-parse', 'HEAD']), git(small, ['status', '--porcelain', '--ignored']), execFileSync('sha256sum', [join(small, '.git/index')]).toString()].join('\n')
      const before = state()
      if (room > 0) {
        const free = Number(execFileSync('df', ['--output=avail', '-B1', disk]).toString().split('\n')[1])
        execFileSync('fallocate', ['-l', String(free - room * 1024 * 1024), join(disk, 'filler')])
      } else fill(disk)
      const error = await (await make()).resolve(RemoteService).pull().then(() => undefined, (e: unknown) => e as { code?: string; exitCode?: number; nextStep?: string; message?: string })
      assert.equal(error?.code, 'DISK_FULL', JSON.stringify(error))
      assert.equal(error?.exitCode, 2)
      assert.match(error?.nextStep ?? '', /Free some space/)
      // With room for the pack, the refusal is the one after the fetch: the files counted against what is free.
      if (room > 0) assert.match(error?.message ?? '', /^Not pulled: the mirror's twin needs [\d.]+ MiB in /)
      await rm(join(disk, 'filler'))
      assert.equal(state(), before)
      assert.equal((await (await make()).resolve(RemoteService).pull()).status, 'fast-forwarded')
      assert.equal((await lstat(join(small, 'filesystem/etc/big'))).size > 2 << 20, true)
    })
  })
  }

  it('a pull whose checkout fails half way leaves nothing of the mirror in the working twin to pass for an edit (HEAD, index and files as before)', async () => {
    await serve(async (clone) => {
      await mkdir(join(clone, 'filesystem/aaa'), { recursive: true })
      await writeFile(join(clone, 'filesystem/aaa/first'), 'written before the failure\n')
      await writeFile(join(clone, 'filesystem/etc/motd'), 'From the mirror\n')
      await writeFile(join(clone, 'filesystem/etc/zzz'), 'cannot be written\n')
    })
    const state = () => [git(twin, ['rev-parse', 'HEAD']), git(twin, ['status', '--porcelain', '--ignored']), execFileSync('sha256sum', [join(twin, '.git/index')]).toString()].join('\n')
    const before = state()
    // A folder git cannot create a file in (immutable): the checkout fails after it wrote others.
    execFileSync('chattr', ['+i', join(twin, 'filesystem/etc')])
    let error: { code?: string } | undefined
    try {
      error = await (await container()).resolve(RemoteService).pull().then(() => undefined, (e: unknown) => e as { code?: string })
    } finally {
      execFileSync('chattr', ['-i', join(twin, 'filesystem/etc')])
    }
    assert.ok(error?.code !== undefined, 'the pull failed with a coded error')
    assert.equal(state(), before)
    assert.equal(await readFile(join(twin, 'filesystem/etc/motd'), 'utf8'), 'Welcome\n')
    const { IntentService } = await import('../../core/src/intent/intent-service.js')
    assert.deepEqual((await (await container()).resolve(IntentService).pending()).items.map((i) => i.id), [])
  })

  it("apply's write onto a full target disk fails that step (exit 1): the live file keeps its old content, no temp file is left, the step stays pending; with room again it applies", async () => {
    const disk = join(root, 'etc/small')
    await onSmallDisk(disk, '1m', async () => {
      await writeFile(join(disk, 'conf'), 'old\n')
      await (await container()).resolve(SnapshotWorkflow).take({ init: false, ifChanged: false })
      const wanted = `${'x'.repeat(79)}\n`.repeat(6000) // 480 KB, under maxFileSize
      await writeFile(join(twin, 'filesystem/etc/small/conf'), wanted)
      fill(disk)
      const { outcome } = await applyPlan()
      const report = outcome as { exitCode?: number; journal?: { steps: Array<{ id: string; status: string; message?: string }> } }
      assert.equal(report.exitCode, 1, JSON.stringify(outcome).slice(0, 800))
      const step = report.journal?.steps.find((s) => s.id === 'files:replace:/etc/small/conf')
      assert.equal(step?.status, 'failed')
      assert.match(step?.message ?? '', /space|ENOSPC/i)
      assert.equal(await readFile(join(disk, 'conf'), 'utf8'), 'old\n')
      assert.deepEqual((await readdir(disk)).sort(), ['conf', 'filler'])
      const { IntentService } = await import('../../core/src/intent/intent-service.js')
      assert.ok((await (await container()).resolve(IntentService).pending()).items.some((i) => i.id === 'files:replace:/etc/small/conf'))
      await rm(join(disk, 'filler'))
      const again = await applyPlan()
      assert.equal((again.outcome as { exitCode?: number }).exitCode, 0, JSON.stringify(again.outcome).slice(0, 800))
      assert.equal(await readFile(join(disk, 'conf'), 'utf8'), wanted)
    })
  })

  // ---- names --------------------------------------------------------------------------------------

  /** Push a commit whose filesystem/etc holds `names` (raw bytes, each a file "x\n") besides what it has. */
  const serveNames = (names: Buffer[]) => {
    git(twin, ['push', '--quiet', mirror, 'HEAD:refs/heads/main'])
    const clone = join(dir, `clone-names-${Date.now()}`)
    execFileSync('git', ['clone', '--quiet', mirror, clone])
    const blob = git(clone, ['hash-object', '-w', '--stdin'], 'x\n').trim()
    const etc = git(clone, ['ls-tree', '-z', 'HEAD:filesystem/etc']).split('\0').filter(Boolean)
    const input = Buffer.concat([...etc.map((l) => Buffer.from(l + '\0')), ...names.map((n) => Buffer.concat([Buffer.from(`100644 blob ${blob}\t`), n, Buffer.from('\0')]))])
    const etcTree = execFileSync('git', ['-C', clone, 'mktree', '-z'], { input }).toString().trim()
    const swap = (treeish: string, name: string, id: string) => {
      const others = git(clone, ['ls-tree', '-z', treeish]).split('\0').filter(Boolean).filter((l) => !l.endsWith(`\t${name}`))
      return git(clone, ['mktree', '-z'], Buffer.from([...others, `040000 tree ${id}\t${name}`].join('\0') + '\0')).trim()
    }
    const tree = swap('HEAD', 'filesystem', swap('HEAD:filesystem', 'etc', etcTree))
    git(clone, ['update-ref', 'HEAD', git(clone, ['commit-tree', tree, '-p', 'HEAD', '-m', 'names']).trim()])
    git(clone, ['push', '--quiet', 'origin', 'HEAD:refs/heads/main'])
    execFileSync('rm', ['-rf', clone])
  }

  it('pull refuses a tree with names that are not valid UTF-8 (two of them would be one machine path no name in the tree has): TWIN_UNSAFE, nothing moved', async () => {
    serveNames([Buffer.from([0x62, 0xfe]), Buffer.from([0x62, 0xff])])
    const before = git(twin, ['rev-parse', 'HEAD'])
    const error = await (await container()).resolve(RemoteService).pull().then(() => undefined, (e: unknown) => e as { code?: string; exitCode?: number; message?: string })
    assert.equal(error?.code, 'TWIN_UNSAFE', JSON.stringify(error))
    assert.equal(error?.exitCode, 2)
    assert.match(error?.message ?? '', /not valid UTF-8/)
    assert.equal(git(twin, ['rev-parse', 'HEAD']), before)
    assert.equal(git(twin, ['status', '--porcelain', '--ignored']), '')
  })

  it('pull refuses a tree with a name longer than 255 bytes (before: an internal error, ENAMETOOLONG, exit 1): TWIN_UNSAFE, exit 2, nothing moved', async () => {
    serveNames([Buffer.from('a'.repeat(300))])
    const before = git(twin, ['rev-parse', 'HEAD'])
    const error = await (await container()).resolve(RemoteService).pull().then(() => undefined, (e: unknown) => e as { code?: string; exitCode?: number; message?: string })
    assert.equal(error?.code, 'TWIN_UNSAFE', JSON.stringify(error))
    assert.equal(error?.exitCode, 2)
    assert.match(error?.message ?? '', /a name longer than 255 bytes/)
    assert.equal(git(twin, ['rev-parse', 'HEAD']), before)
    assert.equal(git(twin, ['status', '--porcelain', '--ignored']), '')
  })

  it('names with a backslash, a leading dash, NFC and NFD forms of one word: each planned and written as exactly the name the tree holds', async () => {
    const names = ['back\\slash', '-rf', 'caf\u00e9', 'cafe\u0301']
    serveNames(names.map((n) => Buffer.from(n)))
    assert.equal((await (await container()).resolve(RemoteService).pull()).status, 'fast-forwarded')
    const sums = await checksum(root)
    const { plan, outcome } = await applyPlan()
    assert.deepEqual(plan.changes.map((c) => c.resource).sort(), names.map((n) => `/etc/${n}`).sort())
    assert.equal((outcome as { exitCode?: number }).exitCode, 0)
    for (const n of names) assert.equal(await readFile(join(root, 'etc', n), 'utf8'), 'x\n')
    for (const n of names) await rm(join(root, 'etc', n))
    assert.equal(await checksum(root), sums)
  })

  it('a pulled tree 300 folders deep pulls whole (the intent record named every path: one argument over the kernel limit failed the pull half done)', async () => {
    const deep = Array.from({ length: 300 }, (_, i) => `d${i}`).join('/')
    await serve(async (clone) => {
      await mkdir(join(clone, 'filesystem/etc', deep), { recursive: true })
      await writeFile(join(clone, 'filesystem/etc', deep, 'f'), 'x\n')
    })
    assert.equal((await (await container()).resolve(RemoteService).pull()).status, 'fast-forwarded')
    const plan = await (await container()).resolve(PlanWorkflow).plan({})
    assert.equal(plan.changes.filter((c) => c.resource.startsWith('/etc/d0')).length, 301)
  })
})

// Session 12: every provider, not only files, on a real Debian root. The host port refuses any
// change below a symlinked folder (PATH_THROUGH_SYMLINK, sdk/src/linked-folder.ts); the planner
// leaves such a change out and apply refuses a plan that holds one (PLAN_OUTSIDE_SCOPE, exit 2).
describe('hostile twin, the write side of every provider: nothing written through a symlinked folder (real Debian root)', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  let rootfs: Rootfs | undefined
  let root: string
  let twin: string
  let container: () => Promise<DependencyContainer>
  let initial: string
  const DESKTOP = '[Desktop Entry]\nType=Application\nName=Evil\nExec=/bin/sh -c id\n'

  before(async () => {
    rootfs = await freshRootfs()
    root = rootfs.dir
    twin = join(root, '..', 'twin')
    await chrootOk(root, 'useradd', ['-m', 'ann'])
    await chrootOk(root, 'install', ['-d', '-o', 'ann', '-g', 'ann', '/home/ann/.config'])
    await mkdir(join(root, 'etc/xdg/autostart'), { recursive: true })
    await mkdir(join(root, 'root/.ssh'), { recursive: true, mode: 0o700 })
    await mkdir(join(root, 'root/.config'), { recursive: true, mode: 0o700 })
    const configPath = join(root, '..', 'config.yaml')
    await writeFile(configPath, 'providers:\n  disabled: [processes, logs, hardware, network]\n')
    container = () => createContainer({ root, repo: twin, configPath, oclif: noPlugins, logger: silentLogger })
    await (await container()).resolve(SnapshotWorkflow).take({ init: true, ifChanged: false })
    initial = git(twin, ['rev-parse', 'HEAD']).trim()
  })

  after(async () => {
    await rootfs?.cleanup()
  })

  beforeEach(() => {
    git(twin, ['reset', '--quiet', '--hard', initial])
    git(twin, ['clean', '--quiet', '-fdx'])
  })

  /** What an attack could reach, checksummed: /etc, /root, /home, the cron spool. */
  const reachable = async () => (await Promise.all(['etc', 'root', 'home', 'var/spool'].map((d) => checksum(join(root, d))))).join('\n')

  /**
   * Make `folder` a symlink to `to` for `fn`, then put the folder back: one its user made (`owner`,
   * in her own folder), or, in root's folder, one a user owns (uid 1000; session 15: a link only
   * root can have placed is followed, reads and writes alike).
   */
  async function linked<T>(folder: string, to: string, fn: () => Promise<T>, owner?: string): Promise<T> {
    const saved = join(root, '..', 'saved-folder')
    await rm(saved, { recursive: true, force: true })
    execFileSync('mv', [join(root, folder), saved])
    if (owner === undefined) {
      await symlink(to, join(root, folder))
      await lchown(join(root, folder), 1000, 1000)
    } else await chrootOk(root, 'su', [owner, '-s', '/bin/sh', '-c', `ln -s ${to} /${folder}`])
    try {
      await (await container()).resolve(SnapshotWorkflow).take({ init: false, ifChanged: false })
      return await fn()
    } finally {
      await rm(join(root, folder))
      execFileSync('mv', [saved, join(root, folder)])
    }
  }

  const plantEntry = async (path: string, text: string) => {
    await mkdir(join(twin, 'filesystem', path, '..'), { recursive: true })
    await writeFile(join(twin, 'filesystem', path), text)
  }

  // ---- odd names in a forged plan, every provider: refused whole before anything runs ------------

  // The honest plan (the twin's motd edit) and what an attack could reach before it, made by the
  // first case and shared by the others: each refused case leaves the target as it was, so the
  // next starts where the first did (a plan of the whole Debian root and a checksum less per case).
  let honest: { plan: Plan; before: string } | undefined
  const change = (provider: string, category: string, operation: string, resource: string, data: Record<string, unknown>) =>
    ({ id: `${provider}:${operation}:${resource}`, provider, category, operation, resource, summary: `${operation} ${resource}`, risk: 'low', data }) as Plan['changes'][number]
  for (const [what, forged, code] of [
    ['an apt package named like an option', change('apt', 'packages', 'install', '--allow-unauthenticated', { package: '--allow-unauthenticated' }), 'NAME_INVALID'],
    ['an apt package name with a space and a version', change('apt', 'packages', 'install', 'foo=1.0 bar', { package: 'foo=1.0 bar' }), 'NAME_INVALID'],
    ['an apt version with an option after a space', change('apt', 'packages', 'install', 'hello', { package: 'hello', version: '1.0 --allow-unauthenticated' }), 'NAME_INVALID'],
    ['a systemd unit named like an option', change('systemd', 'services', 'enable', '--root=/x.service', { unit: '--root=/x.service' }), 'NAME_INVALID'],
    ['a systemd unit with a leading dash', change('systemd', 'services', 'mask', '-x.service', { unit: '-x.service' }), 'NAME_INVALID'],
    ['a systemd unit with "/" and ".."', change('systemd', 'services', 'enable', '../../x.service', { unit: '../../x.service' }), 'NAME_INVALID'],
    ['a systemd unit with a newline', change('systemd', 'services', 'disable', 'cron.service\n--now', { unit: 'cron.service\n--now' }), 'NAME_INVALID'],
    ['a cron user with "/"', change('cron', 'startup', 'create', '/var/spool/cron/crontabs/../../../etc/x', { user: '../../../etc/x', path: '/var/spool/cron/crontabs/../../../etc/x', content: '* * * * * true\n' }), 'NAME_INVALID'],
    ['a cron user named like an option', change('cron', 'startup', 'delete', '/var/spool/cron/crontabs/-r', { user: '-r', path: '/var/spool/cron/crontabs/-r', content: null }), 'NAME_INVALID'],
    ["a cron user's crontab at another path", change('cron', 'startup', 'create', '/etc/cron.d/root', { user: 'root', path: '/etc/cron.d/root', content: '* * * * * root true\n' }), 'CHANGE_INVALID'],
    ['an autostart file name with ".."', change('autostart', 'startup', 'create', '/etc/xdg/autostart/../../cron.d/x.desktop', { path: '/etc/xdg/autostart/../../cron.d/x.desktop', content: '* * * * * root id\n', mode: '0644', owner: 'root', group: 'root' }), 'CHANGE_INVALID'],
  ] as const) {
    it(`a forged plan with ${what} is refused whole before anything runs (PLAN_OUTSIDE_SCOPE, ${code}, exit 2): not even its other changes are made`, async () => {
      await writeFile(join(twin, 'filesystem/etc/motd'), 'From the twin\n')
      const { plan, before } = (honest ??= { plan: await (await container()).resolve(PlanWorkflow).plan({}), before: await reachable() })
      assert.ok(plan.changes.some((c) => c.id === 'files:replace:/etc/motd'))
      const error = await (await container()).resolve(ApplyService).apply({ plan: { ...plan, changes: [...plan.changes, forged] }, fromFile: false, signal: new AbortController().signal }).then((r) => r as { code?: string }, (e: unknown) => e as { code?: string; exitCode?: number; message?: string; details?: { outside?: Array<{ code: string; change?: string }> } })
      assert.equal(error?.code, 'PLAN_OUTSIDE_SCOPE', JSON.stringify(error).slice(0, 600))
      assert.equal((error as { exitCode?: number }).exitCode, 2)
      assert.deepEqual((error as { details?: { outside?: Array<{ code: string; change?: string }> } }).details?.outside?.map((d) => [d.change, d.code]), [[forged.id, code]])
      assert.equal(await reachable(), before, 'the target changed')
    })
  }

  for (const [what, folder, to, entry, id, owner] of [
    ['autostart: /etc/xdg/autostart is a symlink a user owns on the machine', 'etc/xdg/autostart', '/root/.ssh', '/etc/xdg/autostart/evil.desktop', 'autostart:create:/etc/xdg/autostart/evil.desktop', undefined],
    ["autostart: a user made her ~/.config a symlink to root's", 'home/ann/.config', '/root/.config', '/home/ann/.config/autostart/notes.desktop', 'autostart:create:/home/ann/.config/autostart/notes.desktop', 'ann'],
    ['cron: the crontab spool is a symlink a user owns (to /etc/cron.d)', 'var/spool/cron/crontabs', '/etc/cron.d', '/var/spool/cron/crontabs/root', 'cron:create:/var/spool/cron/crontabs/root', undefined],
  ] as const) {
    it(`${what}: the plan leaves the change out (PATH_THROUGH_SYMLINK), apply writes nothing where the link leads`, async () => {
      await linked(folder, to, async () => {
        const before = await reachable()
        await plantEntry(entry, entry.includes('cron') ? '* * * * * id > /tmp/pwned\n' : DESKTOP)
        const plan = await (await container()).resolve(PlanWorkflow).plan({})
        assert.deepEqual(plan.changes.map((c) => c.id).filter((c) => c === id), [], 'the change is planned')
        const said = plan.diagnostics.filter((d) => d.code === 'PATH_THROUGH_SYMLINK' && d.change === id)
        assert.equal(said.length, 1, JSON.stringify(plan.diagnostics))
        assert.match(said[0]?.summary ?? '', new RegExp(`left out, ${entry} is below /${folder}, a symbolic link \\(to ${to}\\)`))
        const outcome = await (await container()).resolve(ApplyService).apply({ plan, fromFile: false, signal: new AbortController().signal }).then((r) => r, (e: unknown) => e)
        assert.equal((outcome as { exitCode?: number }).exitCode, 0, JSON.stringify(outcome).slice(0, 600))
        const after = await reachable()
        assert.deepEqual([after.split('\n').filter((l) => !before.includes(l)), before.split('\n').filter((l) => !after.includes(l))], [[], []], JSON.stringify((outcome as { journal?: unknown }).journal))
        assert.equal(after, before, 'the target changed')
      }, owner)
    })

    it(`${what}: a forged plan holding the change is refused whole (PLAN_OUTSIDE_SCOPE, exit 2); the provider itself, called past that check, fails the step (PATH_THROUGH_SYMLINK) and writes nothing`, async () => {
      // The change as the planner makes it when the folder is a real one.
      await plantEntry(entry, entry.includes('cron') ? '* * * * * id > /tmp/pwned\n' : DESKTOP)
      const honest = await (await container()).resolve(PlanWorkflow).plan({})
      const change = honest.changes.find((c) => c.id === id)
      assert.ok(change, JSON.stringify(honest.changes.map((c) => c.id)))
      await linked(folder, to, async () => {
        const before = await reachable()
        const error = await (await container()).resolve(ApplyService).apply({ plan: { ...honest, changes: [change] }, fromFile: false, signal: new AbortController().signal }).then(() => undefined, (e: unknown) => e as { code?: string; exitCode?: number; message?: string })
        assert.equal(error?.code, 'PLAN_OUTSIDE_SCOPE', JSON.stringify(error))
        assert.equal(error?.exitCode, 2)
        assert.match(error?.message ?? '', /a symbolic link/)
        assert.equal(await reachable(), before, 'the target changed')
        // The last line: the host port itself.
        const provider = id.startsWith('cron') ? new CronProvider() : new AutostartProvider()
        const applied = await provider.apply({ changes: [change], ctx: createTestContext(root, { providers: [provider] }) }).then((r) => r, (e: unknown) => e as { code?: string })
        const result = 'results' in (applied as object) ? (applied as { results: Array<{ status: string; message?: string; diagnostics?: Array<{ code: string }> }> }).results[0] : undefined
        const code = result?.diagnostics?.[0]?.code ?? (applied as { code?: string }).code
        assert.equal(code, 'PATH_THROUGH_SYMLINK', JSON.stringify(applied))
        assert.equal(await reachable(), before, 'the provider wrote through the link')
        // A dry run of the same step (RecordingHost) refuses it the same way, by the same rule, and records no write through the link.
        const dry = new RecordingHost(new LocalHost(root))
        const rehearsed = await provider.apply({ changes: [change], ctx: createTestContext(root, { providers: [provider], host: dry }) }).then((r) => r, (e: unknown) => e as { code?: string })
        const dryResult = 'results' in (rehearsed as object) ? (rehearsed as { results: Array<{ status: string; diagnostics?: Array<{ code: string }> }> }).results[0] : undefined
        assert.equal(dryResult?.diagnostics?.[0]?.code ?? (rehearsed as { code?: string }).code, 'PATH_THROUGH_SYMLINK', JSON.stringify(rehearsed))
        assert.equal(dryResult?.status, result?.status)
        assert.deepEqual(dry.actions.filter((a) => a.kind !== 'exec' && a.path.startsWith(`/${folder}`)), [], 'the dry run shows a change the real run refuses')
      }, owner)
    })
  }

  // ---- the final name, session 13 ----------------------------------------------------------------

  it('a file with a name of 250 bytes (the temp file beside it used to be longer than 255: ENAMETOOLONG, the step failed) is written as planned', async () => {
    const name = `/etc/${'n'.repeat(250)}`
    await plantEntry(name, 'long name\n')
    const plan = await (await container()).resolve(PlanWorkflow).plan({})
    assert.deepEqual(plan.changes.map((c) => c.id), [`files:create:${name}`])
    const outcome = (await (await container()).resolve(ApplyService).apply({ plan, fromFile: false, signal: new AbortController().signal })) as { exitCode: number; journal: unknown }
    assert.equal(outcome.exitCode, 0, JSON.stringify(outcome.journal))
    assert.equal(await readFile(join(root, name), 'utf8'), 'long name\n')
    await rm(join(root, name))
  })

  // Session 14, the read side: a snapshot runs as root and reads users' files; a user's link never makes it read root's.
  describe("a user's link in place of her file, or of a folder on the way: a snapshot never reads root's file through it (READ_REFUSED)", () => {
    const MARKER = 'ROOT-ONLY-MARKER-5f1c'
    const ann = () => Number(execFileSync('chroot', [root, 'id', '-u', 'ann']).toString().trim())
    const planted = ['root/marker-key', 'root/autostart', 'home/ann/.config/autostart', 'home/ann/.config/app.conf']

    beforeEach(async () => {
      await writeFile(join(root, 'root/marker-key'), `key=${MARKER}\n`, { mode: 0o600 })
      await mkdir(join(root, 'root/autostart'), { recursive: true, mode: 0o700 })
      await writeFile(join(root, 'root/autostart/evil.desktop'), `${DESKTOP}Comment=${MARKER}\n`, { mode: 0o600 })
    })

    afterEach(async () => {
      for (const path of planted) await rm(join(root, path), { recursive: true, force: true })
    })

    it('the real CLI: ~/.config/autostart a link to root\'s folder, ~/.config/app.conf a link to a root-only file; the marker is in no commit, the link is recorded as a link, the folder reported (its names unlisted)', async () => {
      await symlink('/root/autostart', join(root, 'home/ann/.config/autostart'))
      await symlink('/root/marker-key', join(root, 'home/ann/.config/app.conf'))
      execFileSync('chown', ['-h', `${ann()}:${ann()}`, join(root, 'home/ann/.config/autostart'), join(root, 'home/ann/.config/app.conf')])
      const cli = await cliSandbox()
      try {
        await writeFile(cli.configFile, 'providers:\n  disabled: [processes, logs, hardware, network]\n')
        const result = await cli.twinsync(['snapshot', '--root', root, '--repo', twin])
        assert.equal(result.code, 0, result.stdout + result.stderr)
      } finally {
        await cli.cleanup()
      }
      assert.ok(!git(twin, ['log', '-p', '--all']).includes(MARKER), "a root-only file's content reached a commit")
      const grep = spawnSync('grep', ['-rl', '--exclude-dir=.git', MARKER, twin])
      assert.equal(grep.status, 1, `the working twin holds it: ${grep.stdout.toString()}`)
      const manifest = JSON.parse(git(twin, ['show', 'HEAD:system/files/manifest.json'])) as { entries: ManifestEntry[] }
      assert.deepEqual(manifest.entries.filter((e) => e.path === '/home/ann/.config/app.conf').map((e) => [e.type, e.target]), [['symlink', '/root/marker-key']])
      const autostart = git(twin, ['show', 'HEAD:system/startup/autostart.json'])
      assert.match(autostart, /"path": "\/home\/ann\/\.config\/autostart",\s+"reason": "not read: it is a symbolic link \(to \/root\/autostart\)/, 'the folder is reported, not silently left out')
      // Nor are the names in root's folder listed: they are not ann's.
      assert.ok(!git(twin, ['log', '-p', '--all']).includes('evil.desktop'), "a name in root's folder reached a commit")
    })

    /** The real port over the root, but a local user's swap lands just before the first read of `path` (after the provider's own look). */
    function racing(path: string, swap: () => Promise<void>): { host: LocalHost; swapped: () => boolean } {
      let swapped = false
      const host = new Proxy(new LocalHost(root), {
        get(target, prop, receiver) {
          const value = Reflect.get(target, prop, receiver) as unknown
          if (typeof value !== 'function') return value
          if (prop !== 'readFile' && prop !== 'readTextIfExists') return (value as (...a: unknown[]) => unknown).bind(target)
          return async (asked: string, options?: unknown) => {
            if (!swapped && asked === path) {
              swapped = true
              await swap()
            }
            return (value as (p: string, o?: unknown) => Promise<unknown>).call(target, asked, options)
          }
        },
      })
      return { host, swapped: () => swapped }
    }
    const replaceByLink = (target: string, at: string) => async () => {
      execFileSync('ln', ['-sfn', target, join(root, `${at}.new`)])
      execFileSync('mv', ['-fT', join(root, `${at}.new`), join(root, at)])
    }
    const folderByLink = (target: string, at: string) => async () => {
      execFileSync('mv', ['-T', join(root, at), join(root, `${at}.old`)])
      await symlink(target, join(root, at))
    }

    for (const [what, autostartSwap, filesSwap] of [
      ['the file swapped for a symlink', replaceByLink('/root/autostart/evil.desktop', 'home/ann/.config/autostart/evil.desktop'), replaceByLink('/root/marker-key', 'home/ann/.config/app.conf')],
      ['a folder on the way swapped for a symlink', folderByLink('../../../root/autostart', 'home/ann/.config/autostart'), folderByLink('../../root/autostart', 'home/ann/.config')],
    ] as const) {
      it(`${what} between the provider's look and its read (simulated at the port, the real open): autostart and files report it, the marker is read by neither`, async () => {
        await mkdir(join(root, 'home/ann/.config/autostart'), { recursive: true })
        await writeFile(join(root, 'home/ann/.config/autostart/evil.desktop'), DESKTOP)
        await writeFile(join(root, 'home/ann/.config/app.conf'), 'mine=1\n')
        await writeFile(join(root, 'root/autostart/app.conf'), `key=${MARKER}\n`, { mode: 0o600 })
        try {
          const autostart = new AutostartProvider()
          const a = racing('/home/ann/.config/autostart/evil.desktop', autostartSwap)
          const fromAutostart = await autostart.collect({ ctx: createTestContext(root, { providers: [autostart], host: a.host }) })
          assert.ok(a.swapped(), 'autostart read the entry')
          assert.ok(!JSON.stringify(fromAutostart).includes(MARKER), JSON.stringify(fromAutostart))
          assert.ok(
            fromAutostart.diagnostics.some((d) => d.code === 'AUTOSTART_NOT_MIRRORED' && d.path === '/home/ann/.config/autostart/evil.desktop' && /not read: it (is a symbolic link|was reached at \/root\/autostart)/.test(d.summary)),
            JSON.stringify(fromAutostart.diagnostics),
          )
          const files = new FilesProvider()
          const f = racing('/home/ann/.config/app.conf', filesSwap)
          const fromFiles = await files.collect({ ctx: createTestContext(root, { providers: [files], host: f.host }) })
          assert.ok(f.swapped(), 'the files provider read ~/.config/app.conf')
          assert.ok(!JSON.stringify(fromFiles).includes(MARKER), 'the files provider read the marker')
          assert.ok(fromFiles.diagnostics.some((d) => d.code === 'FILES_UNREADABLE_KEPT' && d.path === '/home/ann/.config/app.conf' && /READ_REFUSED/.test(d.summary)), JSON.stringify(fromFiles.diagnostics))
        } finally {
          for (const at of ['home/ann/.config/autostart', 'home/ann/.config']) {
            if (!(await lstat(join(root, `${at}.old`)).catch(() => undefined))) continue
            await rm(join(root, at), { force: true })
            execFileSync('mv', ['-T', join(root, `${at}.old`), join(root, at)])
          }
        }
      })
    }
  })

  // Session 15: one rule of folder links for reads and writes. Before, a root whose /home was root's
  // link to /srv/home (as servers have it) had no user's ~/.config file read (READ_REFUSED) or applied.
  it("the real CLI, /home root's link to /srv/home: a snapshot records ann's ~/.config file, an apply of an edit writes it under /srv/home; her own link ~/.config/x to root's folder stays refused, read and write", async () => {
    const MARKER = 'ROOT-ONLY-MARKER-9d2e'
    const annUid = Number(execFileSync('chroot', [root, 'id', '-u', 'ann']).toString().trim())
    await mkdir(join(root, 'srv'), { recursive: true })
    await rename(join(root, 'home'), join(root, 'srv/home'))
    await symlink('/srv/home', join(root, 'home'))
    await writeFile(join(root, 'srv/home/ann/.config/app.conf'), 'mine=1\n')
    await lchown(join(root, 'srv/home/ann/.config/app.conf'), annUid, annUid)
    await mkdir(join(root, 'root/secret'), { recursive: true, mode: 0o700 })
    await writeFile(join(root, 'root/secret/app.conf'), `key=${MARKER}\n`, { mode: 0o600 })
    await symlink('/root/secret', join(root, 'srv/home/ann/.config/x'))
    await lchown(join(root, 'srv/home/ann/.config/x'), annUid, annUid)
    const cli = await cliSandbox()
    try {
      await writeFile(cli.configFile, 'providers:\n  disabled: [processes, logs, hardware, network]\n')
      const snapshot = await cli.twinsync(['snapshot', '--root', root, '--repo', twin])
      assert.equal(snapshot.code, 0, snapshot.stdout + snapshot.stderr)
      const manifest = JSON.parse(git(twin, ['show', 'HEAD:system/files/manifest.json'])) as { entries: ManifestEntry[] }
      const entry = (path: string) => manifest.entries.filter((e) => e.path === path).map((e) => [e.type, e.target ?? e.sha256])
      assert.deepEqual(entry('/home/ann/.config/app.conf'), [['file', createHash('sha256').update('mine=1\n').digest('hex')]], JSON.stringify(manifest.entries.filter((e) => e.path.startsWith('/home/ann'))))
      assert.equal(git(twin, ['show', 'HEAD:filesystem/home/ann/.config/app.conf']), 'mine=1\n')
      assert.deepEqual(entry('/home/ann/.config/x'), [['symlink', '/root/secret']])
      assert.ok(!git(twin, ['log', '-p', '--all']).includes(MARKER), "a root-only file's content reached a commit")
      // The twin edits her file, and asks for a file below her link (to root's folder).
      await writeFile(join(twin, 'filesystem/home/ann/.config/app.conf'), 'mine=2\n')
      await mkdir(join(twin, 'filesystem/home/ann/.config/x'), { recursive: true })
      await writeFile(join(twin, 'filesystem/home/ann/.config/x/app.conf'), 'attacker=1\n')
      const apply = await cli.twinsync(['apply', '--yes', '--accept-high-risk', '--json', '--root', root, '--repo', twin])
      assert.equal(apply.code, 0, apply.stdout + apply.stderr)
      assert.equal(await readFile(join(root, 'srv/home/ann/.config/app.conf'), 'utf8'), 'mine=2\n')
      assert.equal((await lstat(join(root, 'srv/home/ann/.config/app.conf'))).uid, annUid)
      assert.equal((await lstat(join(root, 'home'))).isSymbolicLink(), true, 'the link itself was replaced')
      assert.deepEqual(await readdir(join(root, 'root/secret')), ['app.conf'])
      assert.equal(await readFile(join(root, 'root/secret/app.conf'), 'utf8'), `key=${MARKER}\n`)
      assert.match(stripVTControlCharacters(apply.stdout), /\/home\/ann\/\.config\/x\/app\.conf[^"]*(symlink|symbolic link)/, 'the write below her link is reported as left out')
    } finally {
      await cli.cleanup()
      await rm(join(root, 'home'))
      await rename(join(root, 'srv/home'), join(root, 'home'))
      await rm(join(root, 'home/ann/.config/app.conf'), { force: true })
      await rm(join(root, 'home/ann/.config/x'), { force: true })
      await rm(join(root, 'root/secret'), { recursive: true, force: true })
    }
  })

  it("a file swapped for a symlink to /etc/shadow between the files provider's look and its chmod: refused (PATH_THROUGH_SYMLINK), /etc/shadow keeps its mode", async () => {
    await writeFile(join(root, 'etc/app.conf'), 'a=1\n', { mode: 0o600 })
    await chmod(join(root, 'etc/app.conf'), 0o600)
    await (await container()).resolve(SnapshotWorkflow).take({ init: false, ifChanged: false })
    try {
      const manifestFile = join(twin, 'system/files/manifest.json')
      const manifest = JSON.parse(await readFile(manifestFile, 'utf8')) as { entries: ManifestEntry[] }
      const entry = manifest.entries.find((e) => e.path === '/etc/app.conf')
      assert.ok(entry)
      entry.mode = '0644'
      await writeFile(manifestFile, `${JSON.stringify(manifest, null, 2)}\n`)
      const plan = await (await container()).resolve(PlanWorkflow).plan({})
      const change = plan.changes.find((c) => c.id === 'files:chmod:/etc/app.conf')
      assert.ok(change, JSON.stringify(plan.changes.map((c) => c.id)))
      const shadow = (await lstat(join(root, 'etc/shadow'))).mode & 0o7777
      // A local user's swap, as the provider calls chmod (after its own look at the file).
      const local = new LocalHost(root)
      const racing = new Proxy(local, {
        get(target, prop, receiver) {
          const value = Reflect.get(target, prop, receiver) as unknown
          if (prop !== 'chmod' || typeof value !== 'function') return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value
          return async (path: string, mode: number) => {
            execFileSync('ln', ['-sfn', '/etc/shadow', join(root, 'etc/app.conf.new')])
            execFileSync('mv', ['-fT', join(root, 'etc/app.conf.new'), join(root, 'etc/app.conf')])
            return (value as (p: string, m: number) => Promise<void>).call(target, path, mode)
          }
        },
      })
      const provider = new FilesProvider()
      const applied = (await provider.apply({ changes: [change], ctx: createTestContext(root, { providers: [provider], host: racing }) }).then((r) => r, (e: unknown) => e)) as { results?: Array<{ status: string; message?: string }>; code?: string }
      assert.equal((await lstat(join(root, 'etc/shadow'))).mode & 0o7777, shadow, '/etc/shadow changed mode')
      assert.ok(applied.code === 'PATH_THROUGH_SYMLINK' || /symbolic link/.test(applied.results?.[0]?.message ?? ''), JSON.stringify(applied))
    } finally {
      await rm(join(root, 'etc/app.conf'), { force: true })
    }
  })
})

// Session 19: TWINSYNC_OWN_FILE covered only the default places of TwinSync's configuration and
// state. A run with `--config FILE` elsewhere, XDG_CONFIG_HOME, or the twin under the target's
// mirrored folders had a pulled twin planned and applied over them like any file of /etc.
describe('hostile twin: TwinSync\'s own files where this run keeps them (--config FILE, XDG_CONFIG_HOME, the twin repository) are never set from the twin', function () {
  this.timeout(300_000)
  const OWN_CONFIG = "files:\n  include: [/etc, /root]\n  secrets:\n    detectContent: false\n    allow: ['/**']\n"
  const CONFIG = 'providers:\n  disabled: [apt, systemd, cron, autostart, processes, logs, hardware, network]\n'
  let dir: string
  let root: string
  let twin: string
  let configPath: string
  let mirror: string
  const saved = process.env.XDG_CONFIG_HOME
  const container = () => createContainer({ root, repo: twin, configPath, oclif: noPlugins, logger: silentLogger })
  const serve = async (edit: (clone: string) => Promise<void>) => {
    git(twin, ['push', '--quiet', mirror, 'HEAD:refs/heads/main'])
    const clone = join(dir, `clone-${Date.now()}`)
    execFileSync('git', ['clone', '--quiet', mirror, clone])
    await edit(clone)
    git(clone, ['add', '-A'])
    git(clone, ['commit', '--quiet', '-m', 'from the mirror'])
    git(clone, ['push', '--quiet', 'origin', 'HEAD:refs/heads/main'])
    await rm(clone, { recursive: true, force: true })
  }
  const planAndApply = async () => {
    const plan = await (await container()).resolve(PlanWorkflow).plan({})
    const outcome = await (await container()).resolve(ApplyService).apply({ plan, fromFile: false, signal: new AbortController().signal }).then((r) => r, (e: unknown) => e)
    return { plan, outcome }
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'twinsync-own-places-'))
    root = join(dir, 'root')
    // The twin inside the target, at /srv/tw; the configuration at /etc/custom/twinsync.yaml; XDG_CONFIG_HOME at /etc/xdg.
    twin = join(root, 'srv/tw')
    for (const d of ['etc/custom', 'etc/xdg', 'srv']) await mkdir(join(root, d), { recursive: true })
    await writeFile(join(root, 'etc/motd'), 'Welcome\n')
    await writeFile(join(root, 'etc/hostname'), 'target\n')
    await writeFile(join(root, 'etc/os-release'), 'ID=debian\nVERSION_ID="13"\nPRETTY_NAME="Debian GNU/Linux 13"\n')
    configPath = join(root, 'etc/custom/twinsync.yaml')
    await writeFile(configPath, CONFIG)
    process.env.XDG_CONFIG_HOME = join(root, 'etc/xdg')
    await (await container()).resolve(SnapshotWorkflow).take({ init: true, ifChanged: false })
    mirror = join(dir, 'mirror.git')
    execFileSync('git', ['init', '--quiet', '--bare', '--initial-branch=main', mirror])
    await (await container()).resolve(RemoteService).setGitRemote(mirror, undefined)
  })
  after(async () => {
    if (saved === undefined) delete process.env.XDG_CONFIG_HOME
    else process.env.XDG_CONFIG_HOME = saved
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
  })

  it('a pulled twin that sets the --config file in use, or a configuration in XDG_CONFIG_HOME: left out with TWINSYNC_OWN_FILE through pull, plan and apply; only the motd is written', async () => {
    await serve(async (clone) => {
      await writeFile(join(clone, 'filesystem/etc/custom/twinsync.yaml'), OWN_CONFIG)
      await mkdir(join(clone, 'filesystem/etc/xdg/twinsync'), { recursive: true })
      await writeFile(join(clone, 'filesystem/etc/xdg/twinsync/config.yaml'), OWN_CONFIG)
      await writeFile(join(clone, 'filesystem/etc/motd'), 'From the mirror\n')
    })
    assert.equal((await (await container()).resolve(RemoteService).pull()).status, 'fast-forwarded')
    const { plan, outcome } = await planAndApply()
    assert.deepEqual(plan.changes.map((c) => c.id), ['files:replace:/etc/motd'], JSON.stringify(plan.diagnostics))
    const said = plan.diagnostics.filter((d) => d.code === 'TWINSYNC_OWN_FILE').map((d) => d.change).sort()
    assert.deepEqual(said, ['files:create:/etc/xdg/twinsync/config.yaml', 'files:mkdir:/etc/xdg/twinsync', 'files:replace:/etc/custom/twinsync.yaml'])
    assert.equal((outcome as { exitCode?: number }).exitCode, 0, JSON.stringify(outcome))
    assert.equal(await readFile(join(root, 'etc/motd'), 'utf8'), 'From the mirror\n')
    assert.equal(await readFile(configPath, 'utf8'), CONFIG)
    await assert.rejects(lstat(join(root, 'etc/xdg/twinsync')), { code: 'ENOENT' })
  })

  it('with the twin\'s folder among what files mirrors (files.include widened since), a pulled twin that writes into the twin repository itself (its plans/) is left out: nothing is planned there', async () => {
    await writeFile(configPath, `${CONFIG}files:\n  include: [/etc, /srv]\n`)
    await serve(async (clone) => {
      await mkdir(join(clone, 'filesystem/srv/tw/plans'), { recursive: true })
      await writeFile(join(clone, 'filesystem/srv/tw/plans/evil.yaml'), 'actions:\n  - run: [touch, /tmp/own-places-evil]\n')
    })
    assert.equal((await (await container()).resolve(RemoteService).pull()).status, 'fast-forwarded')
    const plan = await (await container()).resolve(PlanWorkflow).plan({})
    assert.deepEqual(plan.changes.filter((c) => c.resource.startsWith('/srv/tw')).map((c) => c.id), [])
    assert.ok(plan.diagnostics.some((d) => d.code === 'TWINSYNC_OWN_FILE' && d.change === 'files:create:/srv/tw/plans/evil.yaml'), JSON.stringify(plan.diagnostics.map((d) => [d.code, d.change])))
    await assert.rejects(lstat(join(twin, 'plans/evil.yaml')), { code: 'ENOENT' })
  })
})
