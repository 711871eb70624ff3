import { strict as assert } from 'node:assert'
import { spawn, type ChildProcess } from 'node:child_process'
import { access, mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ROOTFS_BUILD_TIMEOUT_MS, run } from '../bed/index.js'
import { useCliRoot } from '../support/cli.js'
import { gitAtWorkIn } from '../../core/src/twin/stale-git-lock.js'

/**
 * git's locks in the twin that a killed git left (kill -9 of the process group, an OOM kill, a
 * power cut): the next run removes them, and says so, once no git process is at work in the
 * twin; while one is, nothing is removed and nothing changes (exit 2). Session 13: the CI's
 * chaos run left `.git/index.lock`, and every later command refused the twin.
 */
describe("git's locks a killed git left in the twin", function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  const root = useCliRoot()
  const lockOf = (name: string) => join(root().twinDir, '.git', name)
  const exists = (path: string) => access(path).then(() => true, () => false)
  let git: ChildProcess | undefined
  afterEach(() => {
    git?.kill('SIGKILL')
    git = undefined
  })

  /** A git process at work in the twin: `git cat-file --batch` waiting for input, as a long `git gc` or a person's `git commit` would hold on. */
  const gitAtWork = async (how: 'cwd' | 'GIT_DIR'): Promise<void> => {
    const twin = root().twinDir
    git = how === 'cwd'
      ? spawn('git', ['cat-file', '--batch'], { cwd: twin, stdio: ['pipe', 'ignore', 'ignore'] })
      : spawn('git', ['cat-file', '--batch'], { cwd: '/', env: { ...process.env, GIT_DIR: join(twin, '.git') }, stdio: ['pipe', 'ignore', 'ignore'] })
    // Until git has set itself up (its /proc entries name the twin).
    for (let i = 0; i < 100 && gitAtWorkIn(twin) !== 'some'; i++) await new Promise((r) => setTimeout(r, 20))
  }

  for (const how of ['cwd', 'GIT_DIR'] as const) {
    it(`a git process at work in the twin (found by its ${how}): the index lock is kept, exit 2, nothing committed; once it is gone, the snapshot removes it and says so`, async () => {
      const { twinsync, twinDir } = root()
      const head = (await run(['git', '-C', twinDir, 'rev-parse', 'HEAD'])).stdout
      await writeFile(lockOf('index.lock'), 'a half-written index\n')
      await writeFile(join(root().rootfs.dir, 'etc/motd'), `changed while git was at work (${how})\n`)
      await gitAtWork(how)
      assert.equal(gitAtWorkIn(twinDir), 'some')
      const refused = await twinsync('snapshot')
      assert.equal(refused.code, 2, refused.stdout + refused.stderr)
      assert.match(refused.stderr, /\[GIT_FAILED\] git's index lock .*index\.lock exists: a git process is at work in the twin/)
      assert.equal(await exists(lockOf('index.lock')), true)
      assert.equal((await run(['git', '-C', twinDir, 'rev-parse', 'HEAD'])).stdout, head, 'nothing committed')

      git?.kill('SIGKILL')
      await new Promise((r) => git?.once('exit', r))
      git = undefined
      const settled = await twinsync('snapshot')
      assert.equal(settled.code, 0, settled.stdout + settled.stderr)
      assert.match(settled.stderr, /removed git's lock \.git\/index\.lock in the twin, left by a killed run: no git process holds it/)
      assert.equal(await exists(lockOf('index.lock')), false)
      assert.notEqual((await run(['git', '-C', twinDir, 'rev-parse', 'HEAD'])).stdout, head, 'the snapshot committed the change')
      assert.equal((await run(['git', '-C', twinDir, 'fsck', '--no-dangling'])).code, 0)
    })
  }

  it("ref locks no run recorded (a killed `git update-ref`, `git tag`, `git fetch`, `git pack-refs`): removed by the next snapshot, which says so and then moves HEAD and its own refs", async () => {
    const { twinsync, twinDir } = root()
    const branch = (await run(['git', '-C', twinDir, 'symbolic-ref', 'HEAD'])).stdout.trim()
    await mkdir(lockOf('refs/tags'), { recursive: true })
    const locks = ['HEAD.lock', `${branch}.lock`, 'refs/twinsync/observed.lock', 'refs/tags/before-upgrade.lock', 'packed-refs.lock']
    for (const name of locks) await writeFile(lockOf(name), '')
    await writeFile(join(root().rootfs.dir, 'etc/motd'), 'changed under stale ref locks\n')
    const r = await twinsync('snapshot')
    assert.equal(r.code, 0, r.stdout + r.stderr)
    for (const name of locks) assert.equal(await exists(lockOf(name)), false, name)
    for (const name of locks) assert.ok(r.stderr.includes(`.git/${name}`), `the warning names ${name}:\n${r.stderr}`)
    const label = await twinsync('snapshot', '--label', 'before-upgrade')
    assert.equal(label.code, 0, label.stdout + label.stderr)
    const head = (await run(['git', '-C', twinDir, 'rev-parse', 'HEAD'])).stdout.trim()
    assert.equal((await run(['git', '-C', twinDir, 'rev-parse', 'refs/twinsync/observed'])).stdout.trim(), head)
  })

  // Session 41: `git reflog expire` (auto-pack's whole pack runs it) locks the reflog as well as
  // the ref; one killed at its rename (strace's signal injection, by hand) left HEAD.lock and
  // logs/HEAD.lock. Only HEAD.lock was removed: logs/HEAD.lock stayed, and every later expiry of
  // HEAD's reflog failed ("Unable to create '…/logs/HEAD.lock': File exists").
  it('the reflog locks a killed `git reflog expire` left: removed by the next snapshot, which says so; the reflogs expire again', async () => {
    const { twinsync, twinDir } = root()
    const branch = (await run(['git', '-C', twinDir, 'symbolic-ref', 'HEAD'])).stdout.trim()
    const locks = ['HEAD.lock', 'logs/HEAD.lock', `${branch}.lock`, `logs/${branch}.lock`]
    for (const name of locks) await writeFile(lockOf(name), '')
    await writeFile(join(root().rootfs.dir, 'etc/motd'), 'changed under a killed reflog expiry\n')
    const r = await twinsync('snapshot')
    assert.equal(r.code, 0, r.stdout + r.stderr)
    for (const name of locks) assert.equal(await exists(lockOf(name)), false, name)
    for (const name of locks) assert.ok(r.stderr.includes(`.git/${name}`), `the warning names ${name}:\n${r.stderr}`)
    const expire = await run(['git', '-C', twinDir, 'reflog', 'expire', '--expire=30.days.ago', 'HEAD', branch])
    assert.equal(expire.code, 0, expire.stderr)
  })
})
