import { strict as assert } from 'node:assert'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ROOTFS_BUILD_TIMEOUT_MS, runOk } from '../bed/index.js'
import { commitTwin, json, useCliRoot } from '../support/cli.js'
import { tuiServices } from '../support/tui-services.js'
import { writeTwinFile } from '../support/twin-edit.js'

interface StatusJson {
  drift: boolean
  pending: { count: number; items: Array<{ id: string }> }
  missing: Array<{ code: string; summary: string }>
  unread: Array<{ code: string; summary: string }>
}

/**
 * Nothing a person asked for is lost or hidden: what a person commits in the twin with plain git
 * (not through TwinSync) is pending intent at once — in `status`, in the TUI's status line through
 * the same service, in `plan` — and a snapshot records the machine without writing over it.
 */
describe('a plain `git commit` in the twin is pending intent at once, and survives a snapshot', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  const root = useCliRoot()
  const status = async () => json<StatusJson>(await root().twinsync('status', '--json'))
  const twinFile = (path: string) => readFile(join(root().twinDir, path), 'utf8')
  const discard = async (...domains: string[]) => {
    const r = await root().twinsync('discard', ...domains)
    assert.equal(r.code, 0, r.stdout + r.stderr)
    const s = await status()
    assert.deepEqual({ pending: s.pending.count, missing: s.missing.length, unread: s.unread.length }, { pending: 0, missing: 0, unread: 0 })
  }

  it('a changed /etc file and a new crontab, committed: status, the TUI and plan list them; a snapshot keeps them on top of the machine', async () => {
    const { twinsync, twinDir } = root()
    await writeTwinFile(twinDir, 'filesystem/etc/motd', 'Committed motd\n')
    await writeTwinFile(twinDir, 'filesystem/var/spool/cron/crontabs/root', '5 4 * * * echo hi\n')
    await commitTwin(twinDir, 'motd and a crontab for root')
    const asked = ['cron:create:/var/spool/cron/crontabs/root', 'files:replace:/etc/motd']
    assert.deepEqual((await status()).pending.items.map((i) => i.id).sort(), asked)
    assert.equal((await (await tuiServices(root())).drift(new AbortController().signal)).pending, 2)
    assert.deepEqual(await root().planIds(), asked)
    // An edit left uncommitted on top of the commit is intent too.
    await writeTwinFile(twinDir, 'filesystem/etc/issue.net', 'Not committed\n')
    const all = [...asked, 'files:replace:/etc/issue.net'].sort()
    assert.deepEqual((await status()).pending.items.map((i) => i.id).sort(), all)

    // The machine moves as well: the snapshot records it, and the person's asks stay asked for.
    await writeFile(join(root().rootfs.dir, 'etc/hostname'), 'moved-meanwhile\n')
    const snap = await twinsync('snapshot', '--json')
    assert.equal(snap.code, 0, snap.stderr)
    const { commit } = json<{ commit: string }>(snap)
    assert.equal((await runOk(['git', '-C', twinDir, 'show', `${commit}:filesystem/etc/hostname`])).stdout, 'moved-meanwhile\n')
    assert.notEqual((await runOk(['git', '-C', twinDir, 'show', `${commit}:filesystem/etc/motd`])).stdout, 'Committed motd\n', 'the snapshot commit is the machine')
    assert.equal(await twinFile('filesystem/etc/motd'), 'Committed motd\n', 'the committed edit is still in the twin')
    assert.equal(await twinFile('filesystem/var/spool/cron/crontabs/root'), '5 4 * * * echo hi\n')
    assert.equal(await twinFile('filesystem/etc/issue.net'), 'Not committed\n')
    assert.deepEqual(await root().planIds(), all, 'still planned after the snapshot')
    assert.deepEqual((await status()).pending.items.map((i) => i.id).sort(), all)
    // And a second snapshot (nothing moved) leaves them too.
    assert.equal((await twinsync('snapshot')).code, 0)
    assert.deepEqual(await root().planIds(), all)
    await discard('files', 'startup')
  })

  it('a document its provider cannot read, committed: status is NOT in sync at once (as plan refuses), and after a snapshot', async () => {
    const { twinsync, twinDir } = root()
    await writeTwinFile(twinDir, 'system/packages/apt.json', '{ broken\n')
    await commitTwin(twinDir, 'a broken apt.json')
    const plan = await twinsync('plan')
    assert.equal(plan.code, 1, plan.stdout)
    assert.match(plan.stdout, /system\/packages\/apt\.json is not valid JSON.*\[TWIN_INVALID\]/)
    for (const when of ['at once', 'after a snapshot']) {
      const text = await twinsync('status')
      assert.equal(text.code, 1, `${when}: ${text.stdout}`)
      assert.match(text.stdout, /^NOT in sync: 1 part of the twin not compared\.\nNot compared: system\/packages\/apt\.json is not valid JSON/, when)
      assert.doesNotMatch(text.stdout, /In sync/, when)
      assert.deepEqual((await status()).unread.map((d) => d.code), ['TWIN_INVALID'], when)
      // The TUI's status line, through the same service.
      assert.equal((await (await tuiServices(root())).drift(new AbortController().signal)).missing, 1, when)
      if (when === 'at once') {
        const snap = await twinsync('snapshot')
        assert.equal(snap.code, 0, snap.stderr)
        assert.match(snap.stdout, /Pending intent kept on top of it \(1 twin file: system\/packages\/apt\.json\)/)
        assert.equal(await twinFile('system/packages/apt.json'), '{ broken\n', 'the snapshot did not write over it')
      }
    }
    await discard('packages')
  })

  it('a document of a plugin this TwinSync does not have, committed: status names the missing provider before any snapshot', async () => {
    const { twinsync, twinDir } = root()
    await writeTwinFile(twinDir, 'system/flatpak/apps.json', '{"apps": {}}\n')
    await commitTwin(twinDir, 'flatpak apps from another machine')
    const text = await twinsync('status')
    assert.equal(text.code, 1, text.stdout)
    assert.match(text.stdout, /^NOT in sync: 1 part of the twin not compared\.\nMissing provider: No installed provider reads system\/flatpak\/apps\.json of the twin/)
    assert.equal((await (await tuiServices(root())).drift(new AbortController().signal)).missing, 1)
    // Left uncommitted instead, it is the same.
    await runOk(['git', '-C', twinDir, 'reset', '--quiet', '--soft', 'HEAD~1'])
    assert.equal((await twinsync('status')).code, 1)
    // Once the snapshot records it, it is said once, not twice.
    assert.equal((await twinsync('snapshot')).code, 0)
    const s = await status()
    assert.deepEqual(s.missing.map((d) => d.summary), ['No installed provider reads system/flatpak/apps.json of the twin'])
  })

  it('a commit on another branch is not read, and status says so; a twin left on another branch says where snapshots go', async () => {
    const { twinsync, twinDir } = root()
    const git = (...args: string[]) => runOk(['git', '-C', twinDir, ...args])
    await git('checkout', '--quiet', '-b', 'draft')
    await writeTwinFile(twinDir, 'filesystem/etc/issue', 'Drafted on a branch\n')
    await commitTwin(twinDir, 'issue, drafted')
    // Left on the branch: TwinSync reads it (it is the twin checked out), and says snapshots go there.
    assert.ok((await root().planIds()).includes('files:replace:/etc/issue'))
    const on = await twinsync('status')
    assert.match(on.stdout, /\nThe twin is on branch draft, not main: snapshots are committed there, and `twinsync push [^`]*` sends main\.\n?$/)
    // Back on main: the draft's commit is not asked for, and status names it instead of saying nothing.
    await git('checkout', '--quiet', 'main')
    assert.equal((await root().planIds()).includes('files:replace:/etc/issue'), false)
    const back = await twinsync('status')
    assert.match(back.stdout, new RegExp(`\\nNot read: branch draft has 1 commit that main does not; TwinSync reads only the branch checked out\\. \`git -C ${twinDir} merge draft\` asks for it, or delete the branch\\.\\n?$`))
    assert.deepEqual(json<{ branches: unknown }>(await twinsync('status', '--json')).branches, { current: 'main', unread: [{ branch: 'draft', commits: 1 }] })
    await git('merge', '--quiet', 'draft')
    assert.ok((await root().planIds()).includes('files:replace:/etc/issue'), 'merged: asked for')
    assert.doesNotMatch((await twinsync('status')).stdout, /Not read|The twin is on/)
  })
})
