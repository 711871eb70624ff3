import { stripVTControlCharacters } from 'node:util'
import { strict as assert } from 'node:assert'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { type GitRemote, makeTempDir, removeTree, ROOTFS_BUILD_TIMEOUT_MS, run, runOk, startGitRemote } from '../bed/index.js'
import { gitLog, json, useCliRoot } from '../support/cli.js'
import { IntentService } from '../../core/src/intent/intent-service.js'
import { excludeChanges } from '../../core/src/plan/exclude-changes.js'
import { testContainer, tuiServices } from '../support/tui-services.js'
import { editTwinJson, writeTwinFile } from '../support/twin-edit.js'
import { KEYS, openPanel } from '../../core/test/tui/harness.js'

interface PlanJson {
  changes: Array<{ id: string; category: string; operation: string }>
}
interface StatusJson {
  drift: boolean
  changes: Array<{ id: string }>
  pending: { count: number; intended: string | null; items: Array<{ id: string; reason: string; category: string; code?: string; onMachine?: boolean }> }
}
type AptJson = { packages: Record<string, unknown> }

const NO_SUCH_PACKAGE = 'twinsync-no-such-package'

/**
 * Observed and intended, through the real binary on a Debian root: an edit, a pull, a change
 * left out or failed stays pending across snapshots until it is applied or discarded.
 */
describe('pending intent survives snapshots, partial and failed applies, pulls', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  const root = useCliRoot()
  const twinsync = (...args: string[]) => root().twinsync(...args)
  const live = (path: string) => root().live(path)
  const planIds = () => root().planIds()
  const status = () => root().statusJson<StatusJson>()
  const ref = async (name: string) => (await run(['git', '-C', root().twinDir, 'rev-parse', '--verify', '--quiet', name])).stdout.trim()

  it('keeps an edit through a snapshot and a scheduled snapshot: still planned, shown as pending, recorded in refs/twinsync/intended', async () => {
    await writeTwinFile(root().twinDir, 'filesystem/etc/motd', 'Intended motd\n')
    await editTwinJson<AptJson>(root().twinDir, 'system/packages/apt.json', (a) => {
      // No version: one without a pin is an item of its own (apt installs the candidate), not this test's.
      a.packages[NO_SUCH_PACKAGE] = { architecture: 'amd64', hold: false, manual: true }
    })
    const planned = await planIds()
    assert.deepEqual(planned, [`apt:install:${NO_SUCH_PACKAGE}`, 'files:replace:/etc/motd'])

    // The machine moves too: the snapshot must record that, and keep the edits on top.
    await writeFile(join(root().rootfs.dir, 'etc/issue.net'), 'Changed on the machine\n')
    const snap = await twinsync('snapshot', '--json')
    assert.equal(snap.code, 0, snap.stderr)
    const result = json<{ commit: string; pending: string[] }>(snap)
    assert.ok(result.commit, 'the machine change is committed')
    assert.deepEqual(result.pending.sort(), ['filesystem/etc/motd', 'system/files/manifest.json', 'system/packages/apt.json'].filter((p) => result.pending.includes(p)).sort())
    assert.ok(result.pending.includes('filesystem/etc/motd') && result.pending.includes('system/packages/apt.json'))
    const committed = (await runOk(['git', '-C', root().twinDir, 'show', `${result.commit}:filesystem/etc/issue.net`])).stdout
    assert.equal(committed, 'Changed on the machine\n', 'the snapshot commit holds the machine')
    const committedMotd = (await runOk(['git', '-C', root().twinDir, 'show', `${result.commit}:filesystem/etc/motd`])).stdout
    assert.notEqual(committedMotd, 'Intended motd\n', 'the snapshot commit records the machine, not the edit')
    assert.equal(await readFile(join(root().twinDir, 'filesystem/etc/motd'), 'utf8'), 'Intended motd\n', 'the edit is still in the working twin')
    assert.equal(await ref('refs/twinsync/observed'), result.commit)
    const intended = await ref('refs/twinsync/intended')
    assert.ok(intended, 'the intent is committed to refs/twinsync/intended')
    assert.equal((await runOk(['git', '-C', root().twinDir, 'show', `${intended}:filesystem/etc/motd`])).stdout, 'Intended motd\n')
    assert.deepEqual(await planIds(), planned, 'the edits are still planned')

    // A scheduled snapshot: nothing new on the machine, pending intent present. No noise, no loss.
    const scheduled = await twinsync('snapshot', '--if-changed')
    assert.equal(scheduled.code, 0, scheduled.stderr)
    assert.equal(scheduled.stderr, '')
    assert.match(scheduled.stdout, /no snapshot made/)
    assert.deepEqual(await planIds(), planned)

    const s = await status()
    assert.equal(s.drift, false, 'the machine is as the snapshot saw it')
    assert.deepEqual(s.pending.items.map((i) => i.id).sort(), planned)
    const text = await twinsync('status')
    assert.match(text.stdout, /Drift: none/)
    assert.match(text.stdout, new RegExp(`Pending: the twin asks for what the machine does not have yet \\(1 file, 1 package\\)[\\s\\S]*apt:install:${NO_SUCH_PACKAGE}  the twin asks to install ${NO_SUCH_PACKAGE}`))
  })

  it('apply --only files: what was left out stays pending, with the reason', async () => {
    const r = await twinsync('apply', '--only', 'files', '--yes', '--accept-high-risk')
    assert.equal(r.code, 0, r.stdout + r.stderr)
    assert.equal(await live('etc/motd'), 'Intended motd\n')
    assert.deepEqual(await planIds(), [`apt:install:${NO_SUCH_PACKAGE}`])
    const s = await status()
    assert.deepEqual(s.pending.items.map((i) => i.id), [`apt:install:${NO_SUCH_PACKAGE}`])
    assert.match(s.pending.items[0]?.reason ?? '', /^left out of the apply of .* \(--only files\)$/)
    const plan = await twinsync('plan')
    assert.match(plan.stdout, new RegExp(`Still pending from before:\\n  Install ${NO_SUCH_PACKAGE} \\(the candidate version\\): still pending, left out of the apply of .* \\(--only files\\)`, 'i'))
  })

  it('a step that fails (a package that cannot be installed) stays pending, and says why', async () => {
    const r = await twinsync('apply', '--yes', '--accept-high-risk')
    assert.equal(r.code, 1, r.stdout + r.stderr)
    assert.match(r.stdout, new RegExp(`FAILED.*${NO_SUCH_PACKAGE}`))
    assert.deepEqual(await planIds(), [`apt:install:${NO_SUCH_PACKAGE}`], 'the failed install is planned again')
    const s = await status()
    const item = s.pending.items.find((i) => i.id === `apt:install:${NO_SUCH_PACKAGE}`)
    assert.ok(item, 'still pending')
    assert.match(item.reason, /^failed in the apply of /)
    assert.match((await twinsync('plan')).stdout, /Still pending from before:\n  .*: still pending, failed in the apply of /)
    // And a later snapshot does not drop it either.
    assert.equal((await twinsync('snapshot')).code, 0)
    assert.deepEqual(await planIds(), [`apt:install:${NO_SUCH_PACKAGE}`])
    assert.ok((await gitLog(root().twinDir)).some((m) => m.startsWith('TwinSync apply ') && m.includes('1 failed')))
  })

  it('an ask the machine now has (done by hand) is said so, not "not applied yet"; the next snapshot ends it', async () => {
    await writeTwinFile(root().twinDir, 'filesystem/etc/issue', 'Done by hand\n')
    await writeFile(join(root().rootfs.dir, 'etc/issue'), 'Done by hand\n')
    assert.deepEqual(await planIds(), [`apt:install:${NO_SUCH_PACKAGE}`], 'nothing to do for /etc/issue')
    const s = await status()
    const byId = new Map(s.pending.items.map((i) => [i.id, i]))
    assert.equal(byId.get('files:replace:/etc/issue')?.onMachine, true, JSON.stringify(s.pending.items))
    assert.match(byId.get('files:replace:/etc/issue')?.reason ?? '', /^the machine already has it \(done outside TwinSync\)/)
    assert.equal(byId.get(`apt:install:${NO_SUCH_PACKAGE}`)?.onMachine, undefined, 'the failed install is not on the machine')
    assert.match(byId.get(`apt:install:${NO_SUCH_PACKAGE}`)?.reason ?? '', /^failed in the apply of /)
    assert.match((await twinsync('status')).stdout, /The machine already has 1 of them \(done outside TwinSync\): `twinsync snapshot [^`]*` records it/)
    assert.equal((await twinsync('snapshot')).code, 0)
    assert.deepEqual((await status()).pending.items.map((i) => i.id), [`apt:install:${NO_SUCH_PACKAGE}`], 'recorded: no longer pending')
  })

  it('a failed step the person then changes in the twin is no longer said to have failed: "changed in the twin since"', async () => {
    await editTwinJson<AptJson>(root().twinDir, 'system/packages/apt.json', (a) => {
      // A pinned version: what the install installs changes (an unpinned one is the candidate all the same, an item of its own).
      a.packages[NO_SUCH_PACKAGE] = { architecture: 'amd64', hold: false, manual: true, version: '2.0', pinVersion: true }
    })
    const item = (await status()).pending.items.find((i) => i.id === `apt:install:${NO_SUCH_PACKAGE}`)
    assert.match(item?.reason ?? '', /^changed in the twin since it failed in the apply of \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ; not applied yet$/)
    assert.match((await twinsync('plan')).stdout, /Still pending from before:\n  .*: still pending, changed in the twin since it failed in the apply of /)
  })
})

describe('pull --no-apply leaves the pulled changes pending', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  const TOKEN = 'tok_intent_0123456789abcdef'
  const root = useCliRoot({ env: { GITHUB_TOKEN: TOKEN, GIT_TERMINAL_PROMPT: '0' } })
  let remote: GitRemote
  let url: string
  const twinsync = (...args: string[]) => root().twinsync(...args)

  before(async () => {
    remote = await startGitRemote({ token: TOKEN })
    url = await remote.createBareRepo('twin')
    const set = await twinsync('remote', 'set', url)
    assert.equal(set.code, 0, set.stderr)
    assert.equal((await twinsync('push', '--retry')).code, 0)
  })
  after(async () => {
    await remote?.close()
  })

  it('keeps a pulled edit and a local edit through the pull and the next snapshot', async () => {
    const clone = await makeTempDir('clone')
    try {
      const env = remote.gitEnv()
      await runOk(['git', 'clone', '--quiet', url, join(clone, 'twin')], { env })
      await writeFile(join(clone, 'twin/filesystem/etc/motd'), 'Edited in another clone\n')
      await runOk(['git', '-C', join(clone, 'twin'), 'commit', '--quiet', '-am', 'Edit motd elsewhere'], { env })
      await runOk(['git', '-C', join(clone, 'twin'), 'push', '--quiet', 'origin', 'main'], { env })
    } finally {
      await removeTree(clone)
    }
    // A local edit waiting at the same time: the pull must not refuse or drop it.
    await writeTwinFile(root().twinDir, 'filesystem/etc/issue.net', 'Local edit\n')
    const pulled = await twinsync('pull', '--no-apply')
    assert.equal(pulled.code, 0, pulled.stdout + pulled.stderr)
    const motd = await readFile(join(root().rootfs.dir, 'etc/motd'), 'utf8')
    assert.notEqual(motd, 'Edited in another clone\n', 'nothing was applied')

    const expected = ['files:replace:/etc/issue.net', 'files:replace:/etc/motd']
    const s = json<StatusJson>(await twinsync('status', '--json'))
    assert.deepEqual(s.pending.items.map((i) => i.id).sort(), expected)
    assert.match(s.pending.items.find((i) => i.id === 'files:replace:/etc/motd')?.reason ?? '', /^pulled from the mirror/)

    const snap = await twinsync('snapshot')
    assert.equal(snap.code, 0, snap.stderr)
    const plan = json<PlanJson>(await twinsync('plan', '--json'))
    assert.deepEqual(plan.changes.map((c) => c.id).sort(), expected, 'the snapshot did not commit the machine over the pulled change')
    assert.equal(await readFile(join(root().twinDir, 'filesystem/etc/motd'), 'utf8'), 'Edited in another clone\n')

    const applied = await twinsync('apply', '--yes', '--accept-high-risk')
    assert.equal(applied.code, 0, applied.stdout + applied.stderr)
    assert.equal(await readFile(join(root().rootfs.dir, 'etc/motd'), 'utf8'), 'Edited in another clone\n')
    const after = json<StatusJson>(await twinsync('status', '--json'))
    assert.equal(after.pending.count, 0)
    assert.equal(after.pending.intended, null, 'no intent left: refs/twinsync/intended is gone')
  })

  // Session 17: a pulled change the local edit overrode was announced as the machine's.
  it('a pulled change that meets a local edit of the same lines says so as the mirror\'s, and keeps the local lines', async () => {
    const clone = await makeTempDir('clone')
    try {
      const env = remote.gitEnv()
      await runOk(['git', 'clone', '--quiet', url, join(clone, 'twin')], { env })
      await writeFile(join(clone, 'twin/filesystem/etc/issue'), 'Issue from the mirror\n')
      await runOk(['git', '-C', join(clone, 'twin'), 'commit', '--quiet', '-am', 'Edit issue elsewhere'], { env })
      await runOk(['git', '-C', join(clone, 'twin'), 'push', '--quiet', 'origin', 'main'], { env })
    } finally {
      await removeTree(clone)
    }
    await writeTwinFile(root().twinDir, 'filesystem/etc/issue', 'Issue edited here\n')
    const pulled = await twinsync('pull', '--no-apply')
    assert.equal(pulled.code, 0, pulled.stdout + pulled.stderr)
    const said = stripVTControlCharacters(pulled.stdout + pulled.stderr)
    assert.match(said, /filesystem\/etc\/issue: the mirror changed it too since your edit; your lines were kept/)
    assert.doesNotMatch(said, /the machine changed it too/)
    assert.equal(await readFile(join(root().twinDir, 'filesystem/etc/issue'), 'utf8'), 'Issue edited here\n')
    // Back to the machine's /etc/issue for the tests after: the local edit and the pulled change both dropped.
    await runOk(['git', '-C', root().twinDir, 'checkout', '--', 'filesystem/etc/issue'])
    const dropped = await twinsync('discard', 'files:replace:/etc/issue')
    assert.equal(dropped.code, 0, dropped.stdout + dropped.stderr)
    assert.equal(json<StatusJson>(await twinsync('status', '--json')).pending.count, 0)
  })

  it('a pulled edit of what the files manifest only records is a person\'s intent too: pending, kept through a snapshot, until discarded', async () => {
    const MANIFEST = 'system/files/manifest.json'
    const id = `files:describe:${MANIFEST}#entries/path=/etc/issue.net/package`
    assert.equal((await twinsync('push', '--retry')).code, 0)
    const clone = await makeTempDir('clone')
    try {
      const env = remote.gitEnv()
      await runOk(['git', 'clone', '--quiet', url, join(clone, 'twin')], { env })
      await editTwinJson<{ entries: Array<{ path: string; package?: string }> }>(join(clone, 'twin'), MANIFEST, (m) => {
        const entry = m.entries.find((e) => e.path === '/etc/issue.net')
        assert.ok(entry?.package !== undefined)
        entry.package = 'pulled-package'
      })
      await runOk(['git', '-C', join(clone, 'twin'), 'commit', '--quiet', '-am', 'Edit a recorded field elsewhere'], { env })
      await runOk(['git', '-C', join(clone, 'twin'), 'push', '--quiet', 'origin', 'main'], { env })
    } finally {
      await removeTree(clone)
    }
    const pulled = await twinsync('pull', '--no-apply')
    assert.equal(pulled.code, 0, pulled.stdout + pulled.stderr)
    const pending = async () => json<StatusJson>(await twinsync('status', '--json')).pending.items.map((i) => [i.id, i.code])
    assert.deepEqual(await pending(), [[id, 'DESCRIPTION_EDIT_NOT_APPLIED']])
    assert.equal((await twinsync('snapshot')).code, 0)
    assert.deepEqual(await pending(), [[id, 'DESCRIPTION_EDIT_NOT_APPLIED']], 'before: the snapshot wrote the machine\'s package over the pulled one')
    assert.match(await readFile(join(root().twinDir, MANIFEST), 'utf8'), /"pulled-package"/)
    const dropped = await twinsync('discard', id)
    assert.equal(dropped.code, 0, dropped.stdout + dropped.stderr)
    assert.equal((await twinsync('snapshot')).code, 0)
    assert.deepEqual(await pending(), [])
    assert.equal((await run(['git', '-C', root().twinDir, 'status', '--porcelain'])).stdout, '')
  })
})

describe('twinsync adopt and discard, per change id and per domain', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  const root = useCliRoot()
  const twinsync = (...args: string[]) => root().twinsync(...args)
  const status = () => root().statusJson<StatusJson>()
  const twinFile = (path: string) => readFile(join(root().twinDir, path), 'utf8')

  it('discards one package of several in apt.json, then a whole domain; each is a commit', async () => {
    const observedMotd = await twinFile('filesystem/etc/motd')
    await editTwinJson<AptJson>(root().twinDir, 'system/packages/apt.json', (a) => {
      a.packages['twinsync-intent-a'] = { architecture: 'amd64', hold: false, manual: true }
      a.packages['twinsync-intent-b'] = { architecture: 'amd64', hold: false, manual: true }
    })
    await writeTwinFile(root().twinDir, 'filesystem/etc/motd', 'Intended motd\n')
    assert.deepEqual((await status()).pending.items.map((i) => i.id).sort(), ['apt:install:twinsync-intent-a', 'apt:install:twinsync-intent-b', 'files:replace:/etc/motd'])

    const one = await twinsync('discard', 'apt:install:twinsync-intent-a')
    assert.equal(one.code, 0, one.stdout + one.stderr)
    assert.match(one.stdout, /Discarded the pending intent of 1 item/)
    const apt = JSON.parse(await twinFile('system/packages/apt.json')) as AptJson
    assert.equal(apt.packages['twinsync-intent-a'], undefined)
    assert.ok(apt.packages['twinsync-intent-b'], 'the other package is still asked for')
    assert.deepEqual((await status()).pending.items.map((i) => i.id).sort(), ['apt:install:twinsync-intent-b', 'files:replace:/etc/motd'])
    assert.equal((await gitLog(root().twinDir))[0], 'TwinSync discard apt:install:twinsync-intent-a')

    const domain = await twinsync('discard', 'files', '--json')
    assert.equal(domain.code, 0, domain.stderr)
    assert.deepEqual(json<{ items: Array<{ id: string }> }>(domain).items.map((i) => i.id), ['files:replace:/etc/motd'])
    assert.equal(await twinFile('filesystem/etc/motd'), observedMotd)
    assert.deepEqual((await status()).pending.items.map((i) => i.id), ['apt:install:twinsync-intent-b'])
    const history = json<Array<{ kind: string }>>(await twinsync('history', '--limit', '2', '--json'))
    assert.deepEqual(history.map((h) => h.kind), ['discard', 'discard'])

    const unknown = await twinsync('discard', 'apt:install:nothing-like-this')
    assert.equal(unknown.code, 2)
    assert.match(unknown.stderr, /\[ITEM_UNKNOWN\]/)
  })

  it('adopts one live change of several, then a whole domain, keeping the pending intent (also in the same twin file)', async () => {
    await writeFile(join(root().rootfs.dir, 'etc/issue.net'), 'Changed on the machine\n')
    await writeFile(join(root().rootfs.dir, 'etc/issue'), 'Also changed on the machine\n')
    // Intent in the manifest that the adopted entries share: /etc/motd's mode.
    await editTwinJson<{ entries: Array<{ path: string; mode: string }> }>(root().twinDir, 'system/files/manifest.json', (m) => {
      const motd = m.entries.find((e) => e.path === '/etc/motd')
      assert.ok(motd)
      motd.mode = '0600'
    })
    const before = await status()
    assert.deepEqual(before.changes.map((c) => c.id).sort(), ['files:replace:/etc/issue', 'files:replace:/etc/issue.net'])
    assert.deepEqual(before.pending.items.map((i) => i.id).sort(), ['apt:install:twinsync-intent-b', 'files:chmod:/etc/motd'])

    const one = await twinsync('adopt', 'files:replace:/etc/issue.net')
    assert.equal(one.code, 0, one.stdout + one.stderr)
    // Said as drift (what the machine did), never as the plan's "replace" it will no longer make.
    assert.match(one.stdout, /^Adopted the machine's value of 1 item \(commit [0-9a-f]{12}\):\n  files:replace:\/etc\/issue\.net  \/etc\/issue\.net changed on the machine\n/)
    assert.equal(await twinFile('filesystem/etc/issue.net'), 'Changed on the machine\n')
    assert.notEqual(await twinFile('filesystem/etc/issue'), 'Also changed on the machine\n')
    const mid = await status()
    assert.deepEqual(mid.changes.map((c) => c.id), ['files:replace:/etc/issue'])
    assert.deepEqual(mid.pending.items.map((i) => i.id).sort(), ['apt:install:twinsync-intent-b', 'files:chmod:/etc/motd'], 'the intent is untouched')
    const manifest = JSON.parse(await twinFile('system/files/manifest.json')) as { entries: Array<{ path: string; mode: string }> }
    assert.equal(manifest.entries.find((e) => e.path === '/etc/motd')?.mode, '0600')
    const log = await gitLog(root().twinDir)
    assert.equal(log[0], 'TwinSync adopt files:replace:/etc/issue.net')
    const observed = (await runOk(['git', '-C', root().twinDir, 'rev-parse', 'refs/twinsync/observed'])).stdout.trim()
    assert.equal(observed, (await runOk(['git', '-C', root().twinDir, 'rev-parse', 'HEAD'])).stdout.trim())

    // Killed between its commit and the move of `observed` (session 25's red team, a kill -9 after
    // git's commit): the rerun said "Nothing to adopt" while status listed the item as drift. It finishes it now.
    await runOk(['git', '-C', root().twinDir, 'update-ref', 'refs/twinsync/observed', 'HEAD~1'])
    assert.ok((await status()).changes.some((c) => c.id === 'files:replace:/etc/issue.net'), 'drift again, as the killed run left it')
    const rerun = await twinsync('adopt', 'files:replace:/etc/issue.net')
    assert.equal(rerun.code, 0, rerun.stdout + rerun.stderr)
    assert.equal((await runOk(['git', '-C', root().twinDir, 'rev-parse', 'refs/twinsync/observed'])).stdout.trim(), observed, 'the adopt commit is the observed snapshot, no second commit')
    assert.deepEqual((await status()).changes.map((c) => c.id), ['files:replace:/etc/issue'])

    const domain = await twinsync('adopt', 'files')
    assert.equal(domain.code, 0, domain.stdout + domain.stderr)
    const after = await status()
    assert.equal(after.drift, false)
    assert.deepEqual(after.pending.items.map((i) => i.id).sort(), ['apt:install:twinsync-intent-b', 'files:chmod:/etc/motd'])
  })
})

describe('a change left out in the TUI stays pending (the TUI services over a real container)', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  const root = useCliRoot()

  it('applies what was approved; the declined change is planned again after a snapshot, with the reason', async () => {
    await writeTwinFile(root().twinDir, 'filesystem/etc/motd', 'Approved motd\n')
    await writeTwinFile(root().twinDir, 'filesystem/etc/issue.net', 'Declined issue.net\n')
    const services = await tuiServices(root())
    const signal = new AbortController().signal
    const plan = await services.plan({ signal })
    assert.deepEqual(plan.changes.map((c) => c.id).sort(), ['files:replace:/etc/issue.net', 'files:replace:/etc/motd'])
    const declined = 'files:replace:/etc/issue.net'
    const chosen = excludeChanges(plan, [declined])
    const report = await services.apply({ plan: chosen.plan, leftOut: plan.changes.filter((c) => c.id === declined), signal })
    assert.equal(report.exitCode, 0)
    assert.equal(await readFile(join(root().rootfs.dir, 'etc/motd'), 'utf8'), 'Approved motd\n')
    assert.notEqual(await readFile(join(root().rootfs.dir, 'etc/issue.net'), 'utf8'), 'Declined issue.net\n')
    assert.ok(report.keptPending.includes('filesystem/etc/issue.net'))

    await services.snapshot({ signal, onProgress: () => undefined })
    const again = await services.plan({ signal })
    assert.deepEqual(again.changes.map((c) => c.id), [declined])
    const counts = await services.drift(signal)
    assert.deepEqual({ drift: counts.drift, pending: counts.pending }, { drift: false, pending: 1 })
    const s = json<StatusJson>(await root().cli.twinsync(['status', '--json', '--root', root().rootfs.dir, '--repo', root().twinDir]))
    assert.match(s.pending.items[0]?.reason ?? '', /^left out of the apply of /)
  })
})

describe('a run that dies while the intent is set aside', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  const root = useCliRoot()
  const twinsync = (...args: string[]) => root().twinsync(...args)

  it('gets the intent back on the next snapshot, from refs/twinsync/intended', async () => {
    await writeTwinFile(root().twinDir, 'filesystem/etc/motd', 'Survives a crash\n')
    const container = await testContainer(root())
    // The first half of a snapshot, then the process "dies": restore never runs.
    const held = await container.resolve(IntentService).hold('providers')
    assert.deepEqual(held.paths, ['filesystem/etc/motd'])
    assert.notEqual(await readFile(join(root().twinDir, 'filesystem/etc/motd'), 'utf8'), 'Survives a crash\n', 'set aside')

    const r = await twinsync('snapshot')
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stderr, /putting it back from refs\/twinsync\/intended/)
    assert.equal(await readFile(join(root().twinDir, 'filesystem/etc/motd'), 'utf8'), 'Survives a crash\n')
    const plan = json<PlanJson>(await twinsync('plan', '--json'))
    assert.deepEqual(plan.changes.map((c) => c.id), ['files:replace:/etc/motd'])
  })
})

type ManifestEntryJson = { path: string; mode: string; owner?: string; uid: number; group?: string; gid: number; size?: number; sha256?: string; type: string; content?: string }
type ManifestJson = { entries: ManifestEntryJson[] }

/**
 * A person adds a file to a folder by hand: its document and its manifest entry, written as a
 * person writes one (ids without names, no size, hash or origin). The apply makes the file; the
 * snapshot after it records the entry once, as the machine has it, and nothing is left pending.
 */
describe('a manifest entry added by hand, applied', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  const root = useCliRoot()
  const twinsync = (...args: string[]) => root().twinsync(...args)
  const manifest = async () => JSON.parse(await readFile(join(root().twinDir, 'system/files/manifest.json'), 'utf8')) as ManifestJson
  const listed = async (path: string) => (await manifest()).entries.filter((e) => e.path === path)
  const NEW_IN_ORDER = '/etc/default/twinsync-site'
  const NEW_APPENDED = '/etc/default/twinsync-zz'
  const byHand = (path: string, mode: string): ManifestEntryJson => ({ path, type: 'file', mode, uid: 0, gid: 0, content: 'mirrored' })

  it('is listed once after the apply, in the machine\'s form; plan and status have nothing left', async () => {
    await writeTwinFile(root().twinDir, `filesystem${NEW_IN_ORDER}`, 'SITE=1\n')
    await writeTwinFile(root().twinDir, `filesystem${NEW_APPENDED}`, 'ZZ=1\n')
    await editTwinJson<ManifestJson>(root().twinDir, 'system/files/manifest.json', (m) => {
      // One where it belongs (in path order), one at the end of the list.
      const at = m.entries.findIndex((e) => e.path > NEW_IN_ORDER)
      m.entries.splice(at, 0, byHand(NEW_IN_ORDER, '0640'))
      m.entries.push(byHand(NEW_APPENDED, '0600'))
    })
    const planned = json<PlanJson>(await twinsync('plan', '--json')).changes.map((c) => c.id).sort()
    assert.deepEqual(planned, [`files:create:${NEW_IN_ORDER}`, `files:create:${NEW_APPENDED}`])

    const applied = await twinsync('apply', '--yes', '--accept-high-risk')
    assert.equal(applied.code, 0, applied.stdout + applied.stderr)
    assert.equal(await readFile(join(root().rootfs.dir, NEW_IN_ORDER), 'utf8'), 'SITE=1\n')

    // Before: the line merge kept the person's entry and the machine's, and every plan was refused (FILES_MANIFEST_DUPLICATE).
    for (const [path, mode] of [[NEW_IN_ORDER, '0640'], [NEW_APPENDED, '0600']] as const) {
      const entries = await listed(path)
      assert.equal(entries.length, 1, `${path} is listed ${entries.length} times`)
      assert.deepEqual({ mode: entries[0]?.mode, owner: entries[0]?.owner, group: entries[0]?.group, hashed: entries[0]?.sha256 !== undefined }, { mode, owner: 'root', group: 'root', hashed: true }, 'as the machine has it')
    }
    const plan = await twinsync('plan', '--json')
    assert.equal(plan.code, 0, plan.stdout + plan.stderr)
    assert.deepEqual(json<PlanJson>(plan).changes, [])
    const s = json<StatusJson>(await twinsync('status', '--json'))
    assert.deepEqual({ drift: s.drift, pending: s.pending.count, intended: s.pending.intended }, { drift: false, pending: 0, intended: null })
    const head = (await runOk(['git', '-C', root().twinDir, 'show', 'HEAD:system/files/manifest.json'])).stdout
    assert.equal((JSON.parse(head) as ManifestJson).entries.filter((e) => e.path === NEW_IN_ORDER).length, 1, 'the snapshot commit lists it once')
  })

  /** Put a second entry for NEW_IN_ORDER before the machine's, as session 10's merge left it. */
  const listTwice = (copy: ManifestEntryJson) =>
    editTwinJson<ManifestJson>(root().twinDir, 'system/files/manifest.json', (m) => {
      m.entries.splice(m.entries.findIndex((e) => e.path === NEW_IN_ORDER), 0, copy)
    })

  it('a twin that already lists it twice, both asking the same: planned as one (said), written once by the next snapshot that moves the manifest', async () => {
    await listTwice(byHand(NEW_IN_ORDER, '0640'))
    // As the old merge recorded it: the intended ref holds exactly this working twin.
    const index = join(root().cli.dir, 'intent-index')
    const env = { GIT_INDEX_FILE: index }
    await runOk(['git', '-C', root().twinDir, 'add', '-A'], { env })
    const tree = (await runOk(['git', '-C', root().twinDir, 'write-tree'], { env })).stdout.trim()
    const observed = (await runOk(['git', '-C', root().twinDir, 'rev-parse', 'refs/twinsync/observed'])).stdout.trim()
    const intent = (await runOk(['git', '-C', root().twinDir, 'commit-tree', tree, '-p', observed, '-m', 'TwinSync intent (as session 10 left it)'])).stdout.trim()
    await runOk(['git', '-C', root().twinDir, 'update-ref', 'refs/twinsync/intended', intent])

    // Before: every plan refused files with FILES_MANIFEST_DUPLICATE, and a snapshot kept it so.
    const plan = await twinsync('plan', '--json')
    assert.equal(plan.code, 0, plan.stdout + plan.stderr)
    const planned = json<PlanJson & { diagnostics: Array<{ code: string; severity: string; path?: string }> }>(plan)
    assert.deepEqual(planned.changes, [])
    assert.deepEqual(planned.diagnostics.filter((d) => d.code.startsWith('FILES_MANIFEST')).map((d) => [d.severity, d.code, d.path]), [['info', 'FILES_MANIFEST_DUPLICATE_MERGED', NEW_IN_ORDER]])
    assert.equal(json<StatusJson>(await twinsync('status', '--json')).pending.count, 0)

    // A file changes on the machine: the snapshot records it, and the entry once.
    await writeFile(join(root().rootfs.dir, 'etc/motd'), 'Changed on the machine\n')
    const snap = await twinsync('snapshot')
    assert.equal(snap.code, 0, snap.stdout + snap.stderr)
    assert.equal((await listed(NEW_IN_ORDER)).length, 1)
    const s = json<StatusJson>(await twinsync('status', '--json'))
    assert.deepEqual({ drift: s.drift, pending: s.pending.count, intended: s.pending.intended }, { drift: false, pending: 0, intended: null })
  })

  it('listed twice asking different things: plan says so with the next step, and `twinsync discard files` gets out of it', async () => {
    await listTwice(byHand(NEW_IN_ORDER, '0600'))
    const plan = await twinsync('plan')
    assert.equal(plan.code, 1, plan.stdout + plan.stderr)
    assert.match(plan.stdout, /error: files: system\/files\/manifest\.json lists "\/etc\/default\/twinsync-site" twice, asking different things of it \(mode "0600" and "0640"\) \[FILES_MANIFEST_DUPLICATE\]\n  Keep the entry you mean for \/etc\/default\/twinsync-site in system\/files\/manifest\.json and delete the other, then plan again; or drop every pending file edit with `twinsync discard files --root [^`]+`\./)
    const discard = await twinsync('discard', 'files')
    assert.equal(discard.code, 0, discard.stdout + discard.stderr)
    const again = await twinsync('plan', '--json')
    assert.equal(again.code, 0, again.stdout + again.stderr)
    assert.deepEqual(json<PlanJson>(again).changes, [])
    assert.equal((await listed(NEW_IN_ORDER)).length, 1)
  })
})

describe('the TUI discards one left-out ask on its own (the TUI services over a real container)', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  const root = useCliRoot()

  it('d on the left-out row drops that ask; the file edit beside it stays pending', async () => {
    await writeTwinFile(root().twinDir, 'filesystem/etc/motd', 'Intended motd\n')
    // A pulled (forged) ask outside the files provider's scope.
    await editTwinJson<ManifestJson>(root().twinDir, 'system/files/manifest.json', (m) => {
      m.entries.push({ path: '/root/evil-dir', type: 'directory', mode: '0700', uid: 0, gid: 0 })
    })
    const services = await tuiServices(root())
    const panel = openPanel(services, [{ name: 'menu' }, { name: 'plan' }])
    try {
      await panel.waitFor('Plan: 1 change', 60_000)
      await panel.press(KEYS.down) // "Apply these changes…"
      await panel.press(KEYS.down) // the left-out ask
      await panel.waitFor(/❯ .*\/root\/evil-dir/)
      await panel.press('d')
      await panel.waitFor('Discarded the intent of', 60_000)
      await panel.waitFor('Plan: 1 change', 60_000)
    } finally {
      await panel.close()
    }
    const s = json<StatusJson>(await root().cli.twinsync(['status', '--json', '--root', root().rootfs.dir, '--repo', root().twinDir]))
    assert.deepEqual(s.pending.items.map((i) => i.id), ['files:replace:/etc/motd'], 'the edit beside it is still asked for')
    assert.equal(await readFile(join(root().twinDir, 'filesystem/etc/motd'), 'utf8'), 'Intended motd\n')
    assert.ok(!(await readFile(join(root().twinDir, 'system/files/manifest.json'), 'utf8')).includes('/root/evil-dir'))
  })
})
