import { strict as assert } from 'node:assert'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { freshRootfs, makeTempDir, removeTree, ROOTFS_BUILD_TIMEOUT_MS, run, runOk, startGitRemote, type GitRemote, type Rootfs } from '../bed/index.js'
import { cliSandbox, gitLog, json, type CliSandbox } from '../support/cli.js'
import { editTwinJson, writeTwinFile } from '../support/twin-edit.js'

interface PlanJson {
  changes: Array<{ id: string; category: string; operation: string }>
}
interface StatusJson {
  drift: boolean
  changes: Array<{ id: string }>
  pending: { count: number; intended: string | null; items: Array<{ id: string; reason: string; category: string }> }
}
type AptJson = { packages: Record<string, unknown> }

const NO_SUCH_PACKAGE = 'twinsync-no-such-package'

/**
 * Observed and intended, through the real binary on a Debian root: an edit, a pull, a change
 * left out or failed stays pending across snapshots until it is applied or discarded.
 */
describe('pending intent survives snapshots, partial and failed applies, pulls', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  let rootfs: Rootfs
  let cli: CliSandbox
  const twinsync = (...args: string[]) => cli.twinsync([...args, '--root', rootfs.dir, '--repo', cli.twinDir])
  const live = (path: string) => readFile(join(rootfs.dir, path), 'utf8')
  const planIds = async () => {
    const r = await twinsync('plan', '--json')
    assert.equal(r.code === 0 || r.code === 1, true, r.stderr)
    return json<PlanJson>(r).changes.map((c) => c.id).sort()
  }
  const status = async () => {
    const r = await twinsync('status', '--json')
    assert.equal(r.code, 0, r.stderr)
    return json<StatusJson>(r)
  }
  const ref = async (name: string) => (await run(['git', '-C', cli.twinDir, 'rev-parse', '--verify', '--quiet', name])).stdout.trim()

  before(async () => {
    rootfs = await freshRootfs()
    cli = await cliSandbox()
    const first = await twinsync('snapshot', '--init')
    assert.equal(first.code, 0, first.stderr)
  })
  after(async () => {
    await cli?.cleanup()
    await rootfs?.cleanup()
  })

  it('keeps an edit through a snapshot and a scheduled snapshot: still planned, shown as pending, recorded in refs/twinsync/intended', async () => {
    await writeTwinFile(cli.twinDir, 'filesystem/etc/motd', 'Intended motd\n')
    await editTwinJson<AptJson>(cli.twinDir, 'system/packages/apt.json', (a) => {
      a.packages[NO_SUCH_PACKAGE] = { architecture: 'amd64', hold: false, manual: true, version: '1.0' }
    })
    const planned = await planIds()
    assert.deepEqual(planned, [`apt:install:${NO_SUCH_PACKAGE}`, 'files:replace:/etc/motd'])

    // The machine moves too: the snapshot must record that, and keep the edits on top.
    await writeFile(join(rootfs.dir, 'etc/issue.net'), 'Changed on the machine\n')
    const snap = await twinsync('snapshot', '--json')
    assert.equal(snap.code, 0, snap.stderr)
    const result = json<{ commit: string; pending: string[] }>(snap)
    assert.ok(result.commit, 'the machine change is committed')
    assert.deepEqual(result.pending.sort(), ['filesystem/etc/motd', 'system/files/manifest.json', 'system/packages/apt.json'].filter((p) => result.pending.includes(p)).sort())
    assert.ok(result.pending.includes('filesystem/etc/motd') && result.pending.includes('system/packages/apt.json'))
    const committed = (await runOk(['git', '-C', cli.twinDir, 'show', `${result.commit}:filesystem/etc/issue.net`])).stdout
    assert.equal(committed, 'Changed on the machine\n', 'the snapshot commit holds the machine')
    const committedMotd = (await runOk(['git', '-C', cli.twinDir, 'show', `${result.commit}:filesystem/etc/motd`])).stdout
    assert.notEqual(committedMotd, 'Intended motd\n', 'the snapshot commit records the machine, not the edit')
    assert.equal(await readFile(join(cli.twinDir, 'filesystem/etc/motd'), 'utf8'), 'Intended motd\n', 'the edit is still in the working twin')
    assert.equal(await ref('refs/twinsync/observed'), result.commit)
    const intended = await ref('refs/twinsync/intended')
    assert.ok(intended, 'the intent is committed to refs/twinsync/intended')
    assert.equal((await runOk(['git', '-C', cli.twinDir, 'show', `${intended}:filesystem/etc/motd`])).stdout, 'Intended motd\n')
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
    assert.match(text.stdout, new RegExp(`Pending: the twin asks for 2 things[\\s\\S]*apt:install:${NO_SUCH_PACKAGE}`))
  })

  it('apply --only files: what was left out stays pending, with the reason', async () => {
    const r = await twinsync('apply', '--only', 'files', '--yes')
    assert.equal(r.code, 0, r.stdout + r.stderr)
    assert.equal(await live('etc/motd'), 'Intended motd\n')
    assert.deepEqual(await planIds(), [`apt:install:${NO_SUCH_PACKAGE}`])
    const s = await status()
    assert.deepEqual(s.pending.items.map((i) => i.id), [`apt:install:${NO_SUCH_PACKAGE}`])
  })

  it('a step that fails (a package that cannot be installed) stays pending, and says why', async () => {
    const r = await twinsync('apply', '--yes')
    assert.equal(r.code, 1, r.stdout + r.stderr)
    assert.match(r.stdout, new RegExp(`FAILED.*${NO_SUCH_PACKAGE}`))
    assert.deepEqual(await planIds(), [`apt:install:${NO_SUCH_PACKAGE}`], 'the failed install is planned again')
    const s = await status()
    const item = s.pending.items.find((i) => i.id === `apt:install:${NO_SUCH_PACKAGE}`)
    assert.ok(item, 'still pending')
    assert.match(item.reason, /^failed in the apply of /)
    // And a later snapshot does not drop it either.
    assert.equal((await twinsync('snapshot')).code, 0)
    assert.deepEqual(await planIds(), [`apt:install:${NO_SUCH_PACKAGE}`])
    assert.ok((await gitLog(cli.twinDir)).some((m) => m.startsWith('TwinSync apply ') && m.includes('1 failed')))
  })
})

describe('pull --no-apply leaves the pulled changes pending', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  const TOKEN = 'tok_intent_0123456789abcdef'
  let rootfs: Rootfs
  let cli: CliSandbox
  let remote: GitRemote
  let url: string
  const twinsync = (...args: string[]) => cli.twinsync([...args, '--root', rootfs.dir, '--repo', cli.twinDir], { env: { GITHUB_TOKEN: TOKEN, GIT_TERMINAL_PROMPT: '0' } })

  before(async () => {
    rootfs = await freshRootfs()
    cli = await cliSandbox()
    remote = await startGitRemote({ token: TOKEN })
    url = await remote.createBareRepo('twin')
    assert.equal((await twinsync('snapshot', '--init')).code, 0)
    const set = await twinsync('remote', 'set', url)
    assert.equal(set.code, 0, set.stderr)
    assert.equal((await twinsync('push', '--retry')).code, 0)
  })
  after(async () => {
    await remote?.close()
    await cli?.cleanup()
    await rootfs?.cleanup()
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
    await writeTwinFile(cli.twinDir, 'filesystem/etc/issue.net', 'Local edit\n')
    const pulled = await twinsync('pull', '--no-apply')
    assert.equal(pulled.code, 0, pulled.stdout + pulled.stderr)
    const motd = await readFile(join(rootfs.dir, 'etc/motd'), 'utf8')
    assert.notEqual(motd, 'Edited in another clone\n', 'nothing was applied')

    const expected = ['files:replace:/etc/issue.net', 'files:replace:/etc/motd']
    const s = json<StatusJson>(await twinsync('status', '--json'))
    assert.deepEqual(s.pending.items.map((i) => i.id).sort(), expected)
    assert.match(s.pending.items.find((i) => i.id === 'files:replace:/etc/motd')?.reason ?? '', /^pulled from the mirror/)

    const snap = await twinsync('snapshot')
    assert.equal(snap.code, 0, snap.stderr)
    const plan = json<PlanJson>(await twinsync('plan', '--json'))
    assert.deepEqual(plan.changes.map((c) => c.id).sort(), expected, 'the snapshot did not commit the machine over the pulled change')
    assert.equal(await readFile(join(cli.twinDir, 'filesystem/etc/motd'), 'utf8'), 'Edited in another clone\n')

    const applied = await twinsync('apply', '--yes')
    assert.equal(applied.code, 0, applied.stdout + applied.stderr)
    assert.equal(await readFile(join(rootfs.dir, 'etc/motd'), 'utf8'), 'Edited in another clone\n')
    const after = json<StatusJson>(await twinsync('status', '--json'))
    assert.equal(after.pending.count, 0)
    assert.equal(after.pending.intended, null, 'no intent left: refs/twinsync/intended is gone')
  })
})
