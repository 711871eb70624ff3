// Session 41: the real binary killed (kill -9) inside git's move of a pull, after git wrote the
// index and the files and before it moved HEAD (git moves HEAD last), for `pull` (`merge
// --ff-only`) and `pull --take-mirror` (`reset --keep`), against a real bare mirror. In-process
// kill points (core/test/pull-kill-points.test.ts) stop only between git processes, never inside
// one. git is made to stop there by a wrapper bound over /usr/bin/git in a private mount
// namespace (TwinSync looks for git in the distribution's folders whatever PATH says): for the
// move it runs git's own two-way checkout (`read-tree -m -u HEAD <target>`: the index and the
// files as the move writes them) and then kills the binary. The next command settles the move
// (pull-move.ts): HEAD, the index and the working twin must be the last snapshot again with only
// the person's edit on top. Before, the mirror's added file stayed in the index (staged as added,
// its file removed: `git status` said "AD").
import { strict as assert } from 'node:assert'
import { execFileSync } from 'node:child_process'
import { chmod, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { requireRoot, requireTools, run } from '../bed/index.js'
import { smallCliRoot, TWINSYNC_BIN, type CliSandbox } from '../support/cli.js'

const git = (dir: string, ...args: string[]) => execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8' }).trim()

describe('a pull killed inside git, between the index and HEAD (real binary, real mirror)', function () {
  this.timeout(300_000)
  let cli: CliSandbox
  let root: string
  let mirror: string
  let wrapper: string
  const twinsync = (...args: string[]) => cli.twinsync([...args, '--root', root, '--repo', cli.twinDir])
  const said = (r: { code: number | null; stdout: string; stderr: string }) => `exited ${r.code}:\n${r.stdout}\n${r.stderr}`

  before(async function () {
    requireRoot('binding a git wrapper over /usr/bin/git in a private mount namespace')
    requireTools('unshare', 'mount')
  })
  // A twin of its own for each case, its first snapshot pushed to a bare mirror of its own.
  beforeEach(async () => {
    ;({ cli, root } = await smallCliRoot())
    mirror = join(cli.dir, 'mirror.git')
    execFileSync('git', ['init', '--quiet', '--bare', '--initial-branch=main', mirror])
    const set = await twinsync('remote', 'set', mirror)
    assert.equal(set.code, 0, said(set))
    git(cli.twinDir, 'push', '--quiet', mirror, 'HEAD:refs/heads/main')
    // The move's git (`merge --ff-only …` or `reset --keep …`, its target last; run in the twin):
    // git's two-way checkout to the target, then the binary killed. Any other git is git.
    wrapper = join(cli.dir, 'git-killing-the-move')
    await writeFile(
      wrapper,
      [
        '#!/bin/sh',
        'for a in "$@"; do last=$a; done',
        'for a in "$@"; do case $a in --ff-only|--keep)',
        // git's move refreshes the index's stat data first (a snapshot's commit writes entries without).
        '  /usr/lib/git-core/git update-index -q --refresh >/dev/null',
        '  /usr/lib/git-core/git read-tree -m -u HEAD "$last" || exit 1',
        '  kill -9 $PPID; exit 1;;',
        'esac; done',
        'exec /usr/lib/git-core/git "$@"',
        '',
      ].join('\n'),
    )
    await chmod(wrapper, 0o755)
  })
  afterEach(() => cli?.cleanup())

  /** The binary with the wrapper as /usr/bin/git; the mount ends with it. */
  const killedInGit = (...args: string[]) =>
    run(['/usr/bin/unshare', '--mount', '--propagation', 'private', '--', '/bin/sh', '-c', `/usr/bin/mount --bind ${wrapper} /usr/bin/git && exec node "$@"`, 'sh', TWINSYNC_BIN, ...args, '--root', root, '--repo', cli.twinDir], {
      env: cli.env(),
      timeoutMs: 120_000,
    })

  /** A commit on the mirror (made in a clone): a file added, one changed, one removed. */
  const mirrorMoves = (tag: string) => {
    const clone = join(cli.dir, `clone-${tag}`)
    execFileSync('git', ['clone', '--quiet', mirror, clone])
    execFileSync('sh', ['-c', `mkdir -p scripts && echo 'echo ${tag}' > scripts/${tag}.sh && echo '# ${tag}' >> scripts/README.md && git add scripts && git -c user.name=m -c user.email=m@m commit --quiet -m 'from elsewhere: ${tag}' && git push --quiet origin HEAD:main`], { cwd: clone })
    return git(mirror, 'rev-parse', 'main')
  }

  /** Killed in the move, then `snapshot`: the twin is its last snapshot (with the person's edit on top, `edit`), the mirror's move gone. */
  const killedThenSettled = async (start: string, args: string[], edit: boolean) => {
    const motd = join(cli.twinDir, 'filesystem/etc/motd')
    if (edit) await writeFile(motd, 'Welcome, edited\n')
    const killed = await killedInGit(...args)
    assert.equal(killed.signal, 'SIGKILL', `killed by the wrapper: ${said(killed)}`)
    assert.equal(git(cli.twinDir, 'rev-parse', 'HEAD'), start, 'killed before git moved HEAD')
    const snapshot = await twinsync('snapshot')
    assert.equal(snapshot.code, 0, said(snapshot))
    assert.equal(git(cli.twinDir, 'rev-parse', 'HEAD'), start, 'nothing committed')
    // Before: "A  scripts/<tag>.sh" (the mirror's added file staged) and "D" in the working twin.
    assert.equal(git(cli.twinDir, 'diff-index', '--cached', '--name-status', 'HEAD'), '', 'the index is HEAD again')
    assert.equal(git(cli.twinDir, 'status', '--porcelain', '--untracked-files=all'), edit ? 'M filesystem/etc/motd' : '', 'only the edit differs from HEAD')
    if (edit) assert.equal(await readFile(motd, 'utf8'), 'Welcome, edited\n', 'the edit is kept')
  }

  /** The mirror's own commit, then this twin's own snapshot that commits (its push refused): diverged. */
  const diverge = async () => {
    const remote = mirrorMoves('b')
    await writeFile(join(root, 'etc/hostname'), 'target-2\n')
    const snap = await twinsync('snapshot')
    assert.equal(snap.code, 0, said(snap))
    assert.match(snap.stderr + snap.stdout, /not pushed/, said(snap))
    return remote
  }

  it('`pull` (merge --ff-only): the next command puts HEAD, the index and the files back; the pull run again brings the mirror', async () => {
    const start = git(cli.twinDir, 'rev-parse', 'HEAD')
    const remote = mirrorMoves('a')
    await killedThenSettled(start, ['pull', '--no-apply'], false)
    const again = await twinsync('pull', '--no-apply')
    assert.equal(again.code, 0, said(again))
    assert.equal(git(cli.twinDir, 'rev-parse', 'HEAD'), remote)
    assert.equal(git(cli.twinDir, 'status', '--porcelain', '--untracked-files=all'), '')
    assert.equal(await readFile(join(cli.twinDir, 'scripts/a.sh'), 'utf8'), 'echo a\n')
  })

  it('`pull` with a person\'s edit pending: the edit is kept on top through the kill, the settle and the pull run again', async () => {
    const start = git(cli.twinDir, 'rev-parse', 'HEAD')
    const remote = mirrorMoves('a')
    await killedThenSettled(start, ['pull', '--no-apply'], true)
    const again = await twinsync('pull', '--no-apply')
    assert.equal(again.code, 0, said(again))
    assert.equal(git(cli.twinDir, 'rev-parse', 'HEAD'), remote)
    assert.equal(git(cli.twinDir, 'status', '--porcelain', '--untracked-files=all'), 'M filesystem/etc/motd', 'the edit still on top')
    assert.equal(await readFile(join(cli.twinDir, 'scripts/a.sh'), 'utf8'), 'echo a\n')
  })

  it('`pull --take-mirror` (reset --keep): the same', async () => {
    const remote = await diverge()
    const start = git(cli.twinDir, 'rev-parse', 'HEAD')
    await killedThenSettled(start, ['pull', '--take-mirror', '--no-apply'], false)
    const again = await twinsync('pull', '--take-mirror', '--no-apply')
    assert.equal(again.code, 0, said(again))
    assert.equal(git(cli.twinDir, 'rev-parse', 'HEAD'), remote, 'the mirror taken (nothing ran here to put on top)')
    assert.equal(await readFile(join(cli.twinDir, 'scripts/b.sh'), 'utf8'), 'echo b\n')
  })

  // Not killed: `reset --keep` refreshes no stat data, and a snapshot's commit writes its index
  // entries without any. Before, this take failed "git reset failed …: error: Entry
  // 'filesystem/etc/hostname' not uptodate. Cannot merge." (GIT_FAILED, exit 2).
  it('`pull --take-mirror` right after a snapshot that committed takes the mirror', async () => {
    const remote = await diverge()
    const took = await twinsync('pull', '--take-mirror', '--no-apply')
    assert.equal(took.code, 0, said(took))
    assert.equal(git(cli.twinDir, 'rev-parse', 'HEAD'), remote, 'the mirror taken (nothing ran here to put on top)')
  })
})
