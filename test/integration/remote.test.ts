import { strict as assert } from 'node:assert'
import { readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { freshRootfs, makeTempDir, removeTree, ROOTFS_BUILD_TIMEOUT_MS, runOk, startGitRemote, type GitRemote, type Rootfs } from '../bed/index.js'
import { cliSandbox, json, type CliSandbox } from '../support/cli.js'

interface SnapshotJson {
  commit?: string
  push?: { status: string; pushed: number; error?: { code: string; message: string } }
}

/** The mirror, against a real git server on loopback that checks the token like GitHub. */
describe('mirroring the twin to a git remote over smart HTTP with a token', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  const TOKEN = 'tok_' + 'a1b2c3d4e5f6a7b8c9d0e1f2'
  let rootfs: Rootfs
  let cli: CliSandbox
  let remote: GitRemote
  let url: string
  const outputs: string[] = []
  const twinsync = async (args: string[], options: { env?: Record<string, string>; input?: string } = {}) => {
    const r = await cli.twinsync([...args, '--root', rootfs.dir, '--repo', cli.twinDir], {
      ...options,
      env: { TWINSYNC_CREDENTIALS: join(cli.dir, 'credentials'), ...options.env },
    })
    outputs.push(r.stdout, r.stderr)
    return r
  }
  const remoteHead = async () => (await runOk(['git', '--git-dir', remote.repoPath('twin'), 'rev-parse', 'main'], { env: remote.gitEnv(null) })).stdout.trim()
  const change = (text: string) => writeFile(join(rootfs.dir, 'etc/motd'), text)

  before(async () => {
    rootfs = await freshRootfs()
    cli = await cliSandbox()
    remote = await startGitRemote({ token: TOKEN })
    url = await remote.createBareRepo('twin')
    assert.equal((await twinsync(['snapshot', '--init'])).code, 0)
  })
  after(async () => {
    await remote?.close()
    await cli?.cleanup()
    await rootfs?.cleanup()
  })

  it('links the remote with a token from standard input, kept 0600 outside the twin', async () => {
    const set = await twinsync(['remote', 'set', url, '--token-stdin', '--json'], { input: `${TOKEN}\n` })
    assert.equal(set.code, 0, set.stderr)
    assert.deepEqual(json<{ configured: boolean; pending: number }>(set).pending, 2)
    const creds = await stat(join(cli.dir, 'credentials'))
    assert.equal(creds.mode & 0o777, 0o600)
    const refused = await twinsync(['remote', 'set', `http://user:${TOKEN}@127.0.0.1/x.git`])
    assert.equal(refused.code, 2)
    assert.match(refused.stderr, /\[REMOTE_INVALID\]/)
  })

  it('pushes what is pending, then every new snapshot', async () => {
    const retry = await twinsync(['push', '--retry', '--json'])
    assert.equal(retry.code, 0, retry.stderr)
    const local = (await runOk(['git', '-C', cli.twinDir, 'rev-parse', 'HEAD'])).stdout.trim()
    assert.equal(await remoteHead(), local)
    await change('pushed with the snapshot\n')
    const snap = json<SnapshotJson>(await twinsync(['snapshot', '--json']))
    assert.equal(snap.push?.status, 'pushed')
    assert.equal(await remoteHead(), snap.commit)
  })

  it('keeps the snapshot when the token is wrong, warns, and a later push sends it', async () => {
    await change('wrong token\n')
    const r = await twinsync(['snapshot', '--json'], { env: { GITHUB_TOKEN: 'tok_wrong_wrong_wrong' } })
    assert.equal(r.code, 0, 'the snapshot itself succeeded')
    const snap = json<SnapshotJson>(r)
    assert.ok(snap.commit)
    assert.equal(snap.push?.status, 'failed')
    assert.equal(snap.push?.error?.code, 'REMOTE_AUTH')
    assert.notEqual(await remoteHead(), snap.commit)
    const text = await twinsync(['remote', 'show'])
    assert.match(text.stdout, /1 snapshot\(s\) not yet pushed/)
    const retry = await twinsync(['push', '--retry'])
    assert.equal(retry.code, 0, retry.stderr)
    assert.equal(await remoteHead(), snap.commit)
  })

  it('keeps the snapshot when the server is down, warns clearly, and the next snapshot sends both', async () => {
    await remote.stop()
    await change('server down\n')
    const down = await twinsync(['snapshot'])
    assert.equal(down.code, 0)
    assert.match(down.stdout, /warning: not pushed .*\[REMOTE_UNREACHABLE\]/)
    assert.match(down.stdout, /The snapshot is safe in the local twin/)
    await remote.start()
    await change('server up again\n')
    const up = json<SnapshotJson>(await twinsync(['snapshot', '--json']))
    assert.equal(up.push?.status, 'pushed')
    assert.equal(up.push?.pushed, 2)
    assert.equal(await remoteHead(), up.commit)
  })

  it('pulls a change made in another clone, then plans and applies it', async () => {
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
    const r = await twinsync(['pull', '--yes', '--accept-high-risk'])
    assert.equal(r.code, 0, r.stdout + r.stderr)
    assert.match(r.stdout, /Pulled 1 snapshot/)
    assert.equal(await readFile(join(rootfs.dir, 'etc/motd'), 'utf8'), 'Edited in another clone\n')
    const local = (await runOk(['git', '-C', cli.twinDir, 'rev-parse', 'HEAD'])).stdout.trim()
    assert.equal(await remoteHead(), local, 'the checkpoint and the apply were pushed too')
  })

  it('refuses to merge diverged histories and explains the choices', async () => {
    const clone = await makeTempDir('clone')
    try {
      const env = remote.gitEnv()
      await runOk(['git', 'clone', '--quiet', url, join(clone, 'twin')], { env })
      await writeFile(join(clone, 'twin/plans/note.yaml'), 'actions: []\n')
      await runOk(['git', '-C', join(clone, 'twin'), 'add', '-A'], { env })
      await runOk(['git', '-C', join(clone, 'twin'), 'commit', '--quiet', '-m', 'Remote only'], { env })
      await runOk(['git', '-C', join(clone, 'twin'), 'push', '--quiet', 'origin', 'main'], { env })
    } finally {
      await removeTree(clone)
    }
    await change('local only\n')
    const snap = json<SnapshotJson>(await twinsync(['snapshot', '--json']))
    assert.equal(snap.push?.error?.code, 'REMOTE_REJECTED')
    const head = (await runOk(['git', '-C', cli.twinDir, 'rev-parse', 'HEAD'])).stdout.trim()
    const r = await twinsync(['pull', '--no-apply'])
    assert.equal(r.code, 2)
    assert.match(r.stderr, /\[REMOTE_DIVERGED\][\s\S]*Next step: Nothing was changed\. Choose:/)
    assert.equal((await runOk(['git', '-C', cli.twinDir, 'rev-parse', 'HEAD'])).stdout.trim(), head)
  })

  it('refuses to push a secret and names the file', async () => {
    await runOk(['git', '-C', cli.twinDir, 'reset', '--quiet', '--hard', 'refs/remotes/mirror/main'])
    await writeFile(join(cli.twinDir, 'scripts/deploy-key'), '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n')
    await runOk(['git', '-C', cli.twinDir, 'add', '-A'])
    await runOk(['git', '-C', cli.twinDir, '-c', 'user.name=t', '-c', 'user.email=t@x', 'commit', '--quiet', '-m', 'oops'])
    const r = await twinsync(['push', '--retry'])
    assert.equal(r.code, 1)
    assert.match(r.stdout, /\[SECRET_IN_PUSH\] Not pushed: secrets in scripts\/deploy-key:2 \(private-key\)/)
    assert.doesNotMatch(r.stdout + r.stderr, /b3BlbnNzaC1rZXktdjEAAAAA/)
    assert.notEqual(await remoteHead(), (await runOk(['git', '-C', cli.twinDir, 'rev-parse', 'HEAD'])).stdout.trim())
  })

  it('never lets the token into the twin, its .git, a URL or any output', async () => {
    const found: string[] = []
    const walk = async (dir: string): Promise<void> => {
      for (const e of await readdir(dir, { withFileTypes: true })) {
        const p = join(dir, e.name)
        if (e.isDirectory()) await walk(p)
        else if ((await readFile(p)).includes(TOKEN)) found.push(p)
      }
    }
    await walk(cli.twinDir)
    assert.deepEqual(found, [])
    assert.ok(outputs.every((o) => !o.includes(TOKEN)), 'no command printed the token')
    assert.ok(remote.requests.length > 0 && remote.requests.every((r) => !r.url.includes(TOKEN)))
    assert.ok(!(await readFile(join(cli.twinDir, '.git/config'), 'utf8')).includes('@'), 'no credentials in the remote URL')
  })

  // Session 19: REMOTE_DIVERGED's next step was `git reset --hard mirror/main`, which dropped
  // the edits in the working twin, the local snapshots and what ran here.
  it('pull --take-mirror takes a diverged mirror\'s history: the local snapshots stay under a ref it names (never pushed), an edit stays pending on top', async () => {
    const git = (...args: string[]) => runOk(['git', '-C', cli.twinDir, ...args]).then((r) => r.stdout.trim())
    const clone = await makeTempDir('clone')
    try {
      const env = remote.gitEnv()
      await runOk(['git', 'clone', '--quiet', url, join(clone, 'twin')], { env })
      await writeFile(join(clone, 'twin/plans/elsewhere.yaml'), 'actions: []\n')
      await runOk(['git', '-C', join(clone, 'twin'), 'add', '-A'], { env })
      await runOk(['git', '-C', join(clone, 'twin'), 'commit', '--quiet', '-m', 'Remote only, again'], { env })
      await runOk(['git', '-C', join(clone, 'twin'), 'push', '--quiet', 'origin', 'main'], { env })
    } finally {
      await removeTree(clone)
    }
    await change('local, diverged\n')
    assert.equal((await twinsync(['snapshot'])).code, 0)
    const local = await git('rev-parse', 'HEAD')
    await writeFile(join(cli.twinDir, 'filesystem/etc/motd'), 'edited in the twin\n')
    const refused = await twinsync(['pull', '--no-apply'])
    assert.equal(refused.code, 2)
    assert.match(refused.stderr, /\[REMOTE_DIVERGED\][\s\S]*`twinsync pull --take-mirror [^`]*`/)
    assert.doesNotMatch(refused.stderr, /reset --hard/)
    const took = await twinsync(['pull', '--take-mirror', '--no-apply'])
    assert.equal(took.code, 0, took.stdout + took.stderr)
    const ref = await git('for-each-ref', '--format=%(refname)', 'refs/twinsync/diverged/')
    assert.match(ref, /^refs\/twinsync\/diverged\/\d{8}T\d{6}Z$/)
    assert.equal(await git('rev-parse', ref), local)
    assert.match(took.stdout, new RegExp(`Took the mirror's history[\\s\\S]*kept at ${ref}[\\s\\S]*The working twin's edits stay pending on top of it \\(\\d+ path\\(s\\): [^)]*filesystem/etc/motd`))
    assert.equal(await git('rev-parse', 'HEAD'), await git('rev-parse', 'refs/remotes/mirror/main'))
    assert.equal(await readFile(join(cli.twinDir, 'filesystem/etc/motd'), 'utf8'), 'edited in the twin\n')
    const status = await twinsync(['status'])
    assert.match(status.stdout, /\/etc\/motd/)
    // Only the branch and the labels go to the mirror: the kept history (with its unpushed secret) stays here.
    assert.equal((await twinsync(['push', '--retry'])).code, 0)
    assert.equal((await runOk(['git', '--git-dir', remote.repoPath('twin'), 'for-each-ref', 'refs/twinsync/'], { env: remote.gitEnv(null) })).stdout.trim(), '')
  })

  it('a mirror made with `git init --bare` whose HEAD is still master: on a path of this machine its HEAD is set to main (a clone checks out the twin); over the network the first push says so (MIRROR_HEAD_UNBORN) with the command to run where it lives (session 22)', async () => {
    // Before: the push went through and a `git clone` of the mirror checked out nothing.
    const legacy = await remote.createBareRepo('legacy', { defaultBranch: 'master' })
    assert.equal((await twinsync(['remote', 'set', legacy])).code, 0)
    const first = await twinsync(['push', '--retry'])
    assert.equal(first.code, 0, first.stdout + first.stderr)
    assert.match(first.stdout, /warning: \[MIRROR_HEAD_UNBORN\] The mirror http:\/\/127\.0\.0\.1:\d+\/legacy\.git has no default branch a clone checks out: its HEAD names a branch it does not have \(a `git init --bare` where git's default branch is master makes it so\), and the twin is its refs\/heads\/main; a `git clone` of it checks out nothing\n {2}Where the mirror lives, run `git symbolic-ref HEAD refs\/heads\/main` in it/, first.stdout)
    await change('after the first push to legacy\n')
    const next = await twinsync(['snapshot'])
    assert.equal(next.code, 0, next.stderr)
    assert.doesNotMatch(next.stdout + next.stderr, /MIRROR_HEAD_UNBORN/, 'said once, at the push that made the branch')
    const dir = await makeTempDir('local-mirror')
    try {
      const bare = join(dir, 'twin.git')
      await runOk(['git', 'init', '--quiet', '--bare', '--initial-branch=master', bare])
      assert.equal((await twinsync(['remote', 'set', bare])).code, 0)
      const pushed = await twinsync(['push', '--retry'])
      assert.equal(pushed.code, 0, pushed.stdout + pushed.stderr)
      assert.doesNotMatch(pushed.stdout + pushed.stderr, /MIRROR_HEAD_UNBORN/)
      assert.equal((await runOk(['git', '--git-dir', bare, 'symbolic-ref', 'HEAD'])).stdout.trim(), 'refs/heads/main')
      await runOk(['git', 'clone', '--quiet', bare, join(dir, 'clone')])
      assert.equal(await readFile(join(dir, 'clone/twin.json'), 'utf8'), await readFile(join(cli.twinDir, 'twin.json'), 'utf8'))
    } finally {
      await removeTree(dir)
    }
  })
})
