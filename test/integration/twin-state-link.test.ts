// TwinSync's own places inside the twin's .git (.git/twinsync and what is in it, refs/twinsync,
// its reflogs, .git/info) made symlinks to a folder elsewhere: every command refuses the twin at
// TwinRepository.open with TWIN_STATE_LINK naming the place and a next step, exit 2, and nothing
// is written or read through the link (session 34's probe: snapshot and status followed a
// symlinked .git/twinsync, its lock, records and caches written where it pointed).
import { strict as assert } from 'node:assert'
import { execFileSync } from 'node:child_process'
import { cp, lstat, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { isTwinSyncError } from '@twinsync/sdk'
import { createTuiServices } from '../../core/src/tui/services.js'
import { createContainer } from '../../core/src/container.js'
import { smallCliRoot, type CliSandbox } from '../support/cli.js'
import { checksum, noPlugins } from '../support/in-process-twin.js'
import { quiet } from '../support/tui-services.js'

describe('a symlinked place of TwinSync state in the twin\'s .git: TWIN_STATE_LINK, nothing through it', function () {
  this.timeout(300_000)
  let cli: CliSandbox
  let root: string
  const twinsync = (...args: string[]) => cli.twinsync([...args, '--root', root, '--repo', cli.twinDir])

  before(async () => {
    ;({ cli, root } = await smallCliRoot())
    // A plan, so that the seal key exists; an edit pending.
    assert.ok([0, 1].includes((await twinsync('plan')).code ?? -1))
    await writeFile(join(cli.twinDir, 'filesystem/etc/hostname'), 'edited\n')
  })
  after(() => cli.cleanup())

  for (const place of ['.git/twinsync', '.git/twinsync/cache', '.git/twinsync/plan-seal.key', '.git/refs/twinsync', '.git/info', '.git']) {
    it(`${place} a symlink: status, plan, snapshot, apply, adopt and the panel refuse it; nothing written there`, async () => {
      const abs = join(cli.twinDir, place)
      const elsewhere = join(cli.dir, 'elsewhere')
      await rm(elsewhere, { recursive: true, force: true })
      await rename(abs, elsewhere)
      await symlink(elsewhere, abs)
      // The machine moved, so a snapshot would write.
      await writeFile(join(root, 'etc/motd'), `moved for ${place}\n`)
      const sum = async () => ((await lstat(elsewhere)).isDirectory() ? checksum(elsewhere) : readFile(elsewhere, 'hex'))
      const before = await sum()
      try {
        for (const args of [['status'], ['plan'], ['snapshot'], ['apply', '--yes', '--accept-high-risk'], ['adopt', 'files']]) {
          const r = await twinsync(...args)
          const said = `${args.join(' ')} exited ${r.code}:\n${r.stdout}\n${r.stderr}`
          assert.equal(r.code, 2, said)
          assert.match(r.stderr, /\[TWIN_STATE_LINK\]/, said)
          assert.ok(r.stderr.includes(`${place} in the twin ${cli.twinDir} is a symlink (to ${elsewhere})`), said)
          assert.ok(r.stderr.includes(`Next step: Put what the link points at in its place`) && r.stderr.includes(`rm ${abs} && cp -a ${elsewhere} ${abs}`), said)
        }
        const services = await createTuiServices(() => createContainer({ root, repo: cli.twinDir, configPath: cli.configFile, logger: quiet, oclif: noPlugins }), { configPath: cli.configFile })
        await assert.rejects(services.drift(new AbortController().signal), (e: unknown) => isTwinSyncError(e) && e.code === 'TWIN_STATE_LINK', "the panel's drift")
        assert.equal(await sum(), before, 'nothing written where the link points')
      } finally {
        // The next step as given: the real place again, with what it held.
        await rm(abs)
        await cp(elsewhere, abs, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true })
        await rm(elsewhere, { recursive: true })
      }
      const status = await twinsync('status', '--json')
      assert.ok(status.code === 0, status.stdout + status.stderr)
      assert.match(status.stdout, /files:replace:\/etc\/hostname/, 'the edit is still pending')
      execFileSync('git', ['-C', cli.twinDir, 'fsck', '--no-dangling'], { stdio: 'pipe' })
    })
  }

  // Session 36: `.git` a gitfile ("gitdir: /elsewhere", as `git init --separate-git-dir` makes)
  // puts the repository, and TwinSync's lock, records and seal key in it, where it points, as a
  // symlinked .git does. Before, every command said REPO_NOT_TWIN ("not a TwinSync twin") and
  // offered to make a new twin elsewhere.
  it('.git a gitfile: status, snapshot, apply and the panel refuse it (TWIN_STATE_LINK), nothing written there; the next step restores the twin', async () => {
    const abs = join(cli.twinDir, '.git')
    const elsewhere = join(cli.dir, 'elsewhere-gitdir')
    await rm(elsewhere, { recursive: true, force: true })
    await rename(abs, elsewhere)
    await writeFile(abs, `gitdir: ${elsewhere}\n`)
    await writeFile(join(root, 'etc/motd'), 'moved for the gitfile\n')
    const before = await checksum(elsewhere)
    try {
      for (const args of [['status'], ['snapshot'], ['apply', '--yes', '--accept-high-risk']]) {
        const r = await twinsync(...args)
        const said = `${args.join(' ')} exited ${r.code}:\n${r.stdout}\n${r.stderr}`
        assert.equal(r.code, 2, said)
        assert.match(r.stderr, /\[TWIN_STATE_LINK\]/, said)
        assert.ok(r.stderr.includes(`.git in the twin ${cli.twinDir} is a gitfile (gitdir: ${elsewhere})`), said)
        assert.ok(r.stderr.includes(`Next step: Put the repository in its place`) && r.stderr.includes(`rm ${abs} && cp -a ${elsewhere} ${abs}`), said)
      }
      const services = await createTuiServices(() => createContainer({ root, repo: cli.twinDir, configPath: cli.configFile, logger: quiet, oclif: noPlugins }), { configPath: cli.configFile })
      await assert.rejects(services.drift(new AbortController().signal), (e: unknown) => isTwinSyncError(e) && e.code === 'TWIN_STATE_LINK', "the panel's drift")
      assert.equal(await checksum(elsewhere), before, 'nothing written where the gitfile points')
    } finally {
      await rm(abs)
      await cp(elsewhere, abs, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true })
      await rm(elsewhere, { recursive: true })
    }
    const status = await twinsync('status', '--json')
    assert.ok(status.code === 0, status.stdout + status.stderr)
    assert.match(status.stdout, /files:replace:\/etc\/hostname/, 'the edit is still pending')
  })
})
