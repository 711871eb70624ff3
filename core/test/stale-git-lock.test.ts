import { strict as assert } from 'node:assert'
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gitAtWorkIn, isStaleGitLock } from '../src/twin/stale-git-lock.js'

const repoRoot = resolve(fileURLToPath(import.meta.url), '../../..')

/** Whether a git lock in the twin is held by no git process (stale-git-lock.ts); the CLI's use of it is test/integration/stale-git-lock.test.ts. */
describe('a git lock no git process holds', () => {
  let dir: string
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'twinsync-stale-lock-'))
    execFileSync('git', ['init', '-q', dir])
  })
  afterEach(() => rm(dir, { recursive: true, force: true }))

  it('sees a git at work in the twin by its working folder, and none once it is gone', async () => {
    assert.equal(gitAtWorkIn(dir), 'none')
    const git = spawn('git', ['cat-file', '--batch'], { cwd: dir, stdio: ['pipe', 'ignore', 'ignore'] })
    try {
      let seen = gitAtWorkIn(dir)
      for (let i = 0; i < 100 && seen !== 'some'; i++) {
        await new Promise((r) => setTimeout(r, 20))
        seen = gitAtWorkIn(dir)
      }
      assert.equal(seen, 'some')
    } finally {
      git.kill('SIGKILL')
      await new Promise((r) => git.once('exit', r))
    }
    assert.equal(gitAtWorkIn(dir), 'none')
  })

  it('never calls a lock made by this run stale (a swap of its own half way)', async () => {
    await writeFile(join(dir, '.git', 'index.lock'), '')
    assert.equal(gitAtWorkIn(dir), 'none')
    assert.equal(isStaleGitLock(dir, join(dir, '.git', 'index.lock')), false)
  })

  it("says 'unknown' to a user who is not root when /proc hides other users' processes (hidepid): a git of root's could hold the lock", function () {
    if (process.getuid?.() !== 0) this.skip() // needs root to mount a proc of its own and drop to nobody
    const script = join(dir, 'verdict.mjs')
    return (async () => {
      await writeFile(script, `const { gitAtWorkIn } = await import(${JSON.stringify(join(repoRoot, 'core/src/twin/stale-git-lock.ts'))})\nconsole.log(gitAtWorkIn('/tmp/no-such-twin'))\n`)
      await chmod(dir, 0o755)
      await chmod(script, 0o644)
      const verdict = (options: string) => {
        // A proc of its own, in a PID namespace of its own: the host's /proc is never remounted.
        const r = spawnSync('unshare', ['--mount', '--pid', '--fork', '--propagation', 'private', 'sh', '-c',
          `mount -t proc -o rw${options} proc /proc && exec setpriv --reuid 65534 --regid 65534 --clear-groups env HOME=/tmp node --import tsx "$0"`, script], { cwd: repoRoot, encoding: 'utf8' })
        assert.equal(r.status, 0, r.stderr)
        return r.stdout.trim()
      }
      assert.equal(verdict(''), 'none')
      assert.equal(verdict(',hidepid=2'), 'unknown')
    })()
  })
})
