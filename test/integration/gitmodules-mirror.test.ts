import { strict as assert } from 'node:assert'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { runOk, startGitRemote, type GitRemote } from '../bed/index.js'
import { cliSandbox, type CliSandbox } from '../support/cli.js'

/**
 * Session 45: a machine's own `.gitmodules` (a plugin manager's in ~/.config/nvim, a git checkout
 * under /etc) was mirrored under filesystem/ as it is. git's fsck judges every `.gitmodules` blob
 * of a pushed tree, in any folder: a mirror that checks what it is sent (receive.fsckObjects, as
 * GitHub does) refused the push of a commit holding a hostile one (`remote rejected ... unpacker
 * error`), and every later push, which still held it. The files provider leaves such a file out,
 * named (FILES_GIT_REFUSES_CONTENT); a sound one is mirrored and pushed.
 */
describe('a machine .gitmodules git fsck refuses, and a mirror that checks what it is sent', function () {
  this.timeout(120_000)
  const TOKEN = 'tok_gitmodules_0123456789abcdef'
  let cli: CliSandbox
  let remote: GitRemote
  let root: string
  const twinsync = (...args: string[]) => cli.twinsync([...args, '--root', root, '--repo', cli.twinDir], { env: { GITHUB_TOKEN: TOKEN, GIT_TERMINAL_PROMPT: '0' } })

  before(async () => {
    cli = await cliSandbox()
    root = join(cli.dir, 'root')
    await mkdir(join(root, 'etc/checkout'), { recursive: true })
    await mkdir(join(root, 'etc/sound'), { recursive: true })
    await writeFile(join(root, 'etc/motd'), 'one\n')
    await writeFile(join(root, 'etc/checkout/.gitmodules'), '[submodule "../../evil"]\n\tpath = x\n\turl = -u./payload\n')
    await writeFile(join(root, 'etc/sound/.gitmodules'), '[submodule "p"]\n\tpath = p\n\turl = https://github.com/a/p\n')
    remote = await startGitRemote({ token: TOKEN })
  })
  after(async () => {
    await remote?.close()
    await cli?.cleanup()
  })

  it('the snapshot leaves the hostile .gitmodules out (a warning naming it and why), and every push to a receive.fsckObjects mirror goes through', async () => {
    const snap = await twinsync('snapshot', '--init')
    assert.equal(snap.code, 0, snap.stdout + snap.stderr)
    assert.match(snap.stdout, /warning: files: \/etc\/checkout\/\.gitmodules is left out of the twin: a submodule name "\.\.\/\.\.\/evil", empty or with a \.\. part \(gitmodulesName\)/)
    const listed = (await runOk(['git', '-C', cli.twinDir, 'ls-tree', '-r', '--name-only', 'HEAD', 'filesystem/etc/'])).stdout
    assert.match(listed, /^filesystem\/etc\/sound\/\.gitmodules$/m)
    assert.doesNotMatch(listed, /checkout/)
    const url = await remote.createBareRepo('twin')
    await runOk(['git', '-C', remote.repoPath('twin'), 'config', 'receive.fsckObjects', 'true'], { env: remote.gitEnv(null) })
    assert.equal((await twinsync('remote', 'set', url)).code, 0)
    for (const motd of ['two\n', 'three\n']) {
      const pushed = await twinsync('push', '--retry')
      assert.equal(pushed.code, 0, pushed.stdout + pushed.stderr)
      const mirror = (await runOk(['git', '--git-dir', remote.repoPath('twin'), 'rev-parse', 'main'], { env: remote.gitEnv(null) })).stdout.trim()
      assert.equal(mirror, (await runOk(['git', '-C', cli.twinDir, 'rev-parse', 'HEAD'])).stdout.trim())
      await writeFile(join(root, 'etc/motd'), motd)
      assert.equal((await twinsync('snapshot')).code, 0)
    }
  })
})
