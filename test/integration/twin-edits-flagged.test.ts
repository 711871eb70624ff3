import { strict as assert } from 'node:assert'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ROOTFS_BUILD_TIMEOUT_MS, runOk } from '../bed/index.js'
import { json, useCliRoot } from '../support/cli.js'

interface StatusJson {
  pending: { items: Array<{ id: string }> }
}

/**
 * Session 26, through the real binary on a Debian root: a file of the working twin marked
 * assume-unchanged or skip-worktree in git's index (a person's `git update-index`), then
 * edited, is seen by `plan`, `status` and `snapshot` (git.ts seeEveryEdit); before, git's
 * `status` and `add` skipped it and the edit was lost silently.
 */
describe('a person\'s edit behind git\'s assume-unchanged and skip-worktree flags, through the CLI', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  const root = useCliRoot()
  const twinsync = (...args: string[]) => root().twinsync(...args)
  const git = async (...args: string[]) => (await runOk(['git', '-C', root().twinDir, ...args])).stdout

  it('plan, status and snapshot see the edits; the snapshot keeps the document pending and commits the plan file', async () => {
    const twin = root().twinDir
    await git('update-index', '--assume-unchanged', 'filesystem/etc/motd')
    await git('update-index', '--skip-worktree', 'plans/README.md')
    await writeFile(join(twin, 'filesystem/etc/motd'), 'Intended motd, behind a flag\n')
    await writeFile(join(twin, 'plans/README.md'), '# plans\n\nEdited behind skip-worktree.\n')
    assert.equal(await git('status', '--porcelain'), '', 'git itself shows nothing: the flags hide the edits')

    const plan = await twinsync('plan', '--json')
    assert.ok(plan.code === 0 || plan.code === 1, plan.stderr)
    assert.ok(json<{ changes: Array<{ id: string }> }>(plan).changes.some((c) => c.id === 'files:replace:/etc/motd'), plan.stdout)

    const status = await root().statusJson<StatusJson>()
    assert.ok(status.pending.items.some((i) => i.id === 'files:replace:/etc/motd'), JSON.stringify(status.pending))

    await writeFile(join(root().rootfs.dir, 'etc/issue.net'), 'Changed on the machine\n')
    const snap = await twinsync('snapshot', '--json')
    assert.equal(snap.code, 0, snap.stderr)
    const result = json<{ commit: string; pending: string[] }>(snap)
    assert.ok(result.commit, 'the machine change is committed')
    assert.ok(result.pending.includes('filesystem/etc/motd'), `pending: ${result.pending.join(', ')}`)
    assert.equal(await readFile(join(twin, 'filesystem/etc/motd'), 'utf8'), 'Intended motd, behind a flag\n', 'the edit is still in the working twin')
    const intended = (await git('rev-parse', '--verify', 'refs/twinsync/intended')).trim()
    assert.equal(await git('show', `${intended}:filesystem/etc/motd`), 'Intended motd, behind a flag\n', 'the intent records it')
    assert.equal(await git('show', `${result.commit}:plans/README.md`), '# plans\n\nEdited behind skip-worktree.\n', 'the plan file is committed')
    assert.equal(await git('show', `${result.commit}:filesystem/etc/issue.net`), 'Changed on the machine\n')
  })
})
