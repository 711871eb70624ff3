import { strict as assert } from 'node:assert'
import { execFileSync } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isTwinSyncError, setOwnPathForTests } from '@twinsync/sdk'
import { revParseCommit, runGit, tryGit } from '../src/twin/git.js'

/**
 * runGit runs the twin's local git commands by a plain spawn (no simple-git, whose promise
 * waits 50 ms after a git that printed nothing): the same verdicts as simple-git's `raw`.
 */
describe('runGit: local git commands by a plain spawn', function () {
  let dir: string
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'twinsync-rungit-'))
    execFileSync('git', ['init', '--quiet', '--initial-branch=main', dir])
  })
  after(() => rm(dir, { recursive: true, force: true }))

  it('gives the output of a git that succeeded, and nothing for one that printed nothing', async () => {
    await writeFile(join(dir, 'a.txt'), 'a\n')
    assert.equal(await runGit(dir, ['add', '--all', '--', '.']), '')
    // The identity comes from runGit's own settings, as it did through simple-git.
    assert.equal(await runGit(dir, ['commit', '--quiet', '--no-verify', '-m', 'one']), '')
    const head = (await runGit(dir, ['rev-parse', 'HEAD'])).trim()
    assert.match(head, /^[0-9a-f]{40}$/)
    assert.equal(await revParseCommit(dir, 'HEAD'), head)
    assert.equal((await runGit(dir, ['log', '-1', '--format=%an <%ae>'])).trim(), 'TwinSync <twinsync@localhost>')
  })

  it('a non-zero exit that says nothing gives its output (rev-parse --verify --quiet of an unknown name)', async () => {
    assert.equal(await revParseCommit(dir, 'refs/heads/no-such-branch'), undefined)
  })

  it("a failure is GIT_FAILED with git's own words; tryGit returns them", async () => {
    await assert.rejects(runGit(dir, ['update-ref', 'refs/heads/x', 'not-an-id']), (error: unknown) => {
      assert.ok(isTwinSyncError(error))
      assert.equal(error.code, 'GIT_FAILED')
      assert.match(error.message, /git update-ref failed in .*: fatal: not-an-id: not a valid SHA1/)
      return true
    })
    const tried = await tryGit(dir, ['update-ref', 'refs/heads/x', 'not-an-id'])
    assert.equal(tried.ok, false)
    assert.match(tried.output, /not a valid SHA1/)
  })

  it('the environment given is added to this process’s (a private index)', async () => {
    const index = join(dir, '.git', 'private.index')
    await runGit(dir, ['read-tree', '--empty'], { env: { GIT_INDEX_FILE: index } })
    assert.equal(await runGit(dir, ['ls-files'], { env: { GIT_INDEX_FILE: index } }), '')
    assert.equal((await runGit(dir, ['ls-files'])).trim(), 'a.txt')
  })

  it('a twin folder that does not exist is a git failure, not a missing git', async () => {
    await assert.rejects(runGit(join(dir, 'nowhere'), ['status']), (error: unknown) => {
      assert.ok(isTwinSyncError(error))
      assert.equal(error.code, 'GIT_FAILED')
      return true
    })
  })

  it('no git where TwinSync looks for it is GIT_MISSING', async () => {
    setOwnPathForTests('/nonexistent')
    try {
      await assert.rejects(runGit(dir, ['status']), (error: unknown) => isTwinSyncError(error) && error.code === 'GIT_MISSING')
    } finally {
      setOwnPathForTests(undefined)
    }
  })

  it("a failure of git's own run on the way (clearing an index's flags) is named once, by that run, and redacted", async () => {
    const twin = await mkdtemp(join(tmpdir(), 'twinsync-rungit-flags-'))
    try {
      execFileSync('git', ['init', '--quiet', twin])
      await writeFile(join(twin, 'a.txt'), 'a\n')
      execFileSync('git', ['-C', twin, 'add', 'a.txt'])
      execFileSync('git', ['-C', twin, 'update-index', '--assume-unchanged', 'a.txt'])
      // A git at work holds the index: the flags cannot be cleared before `add` runs.
      await writeFile(join(twin, '.git', 'index.lock'), '')
      await assert.rejects(runGit(twin, ['add', '--all', '--', '.']), (error: unknown) => {
        assert.ok(isTwinSyncError(error))
        assert.equal(error.code, 'GIT_FAILED')
        assert.match(error.message, /^git update-index failed in .*: fatal: Unable to create '.*index\.lock': File exists\.$/)
        assert.match(String(error.details?.command), /^git update-index --no-assume-unchanged/)
        return true
      })
      // What runGit was told to hide (the mirror's token, here the twin's folder name) is hidden in a passed-on error too.
      const secret = twin.split('/').at(-1) as string
      await assert.rejects(runGit(twin, ['add', '--all', '--', '.'], { redact: (text) => text.replaceAll(secret, '***') }), (error: unknown) => {
        assert.ok(isTwinSyncError(error))
        assert.equal(error.code, 'GIT_FAILED')
        assert.doesNotMatch(JSON.stringify({ message: error.message, nextStep: error.nextStep, details: error.details }), new RegExp(secret))
        assert.match(error.message, /\*\*\*/)
        return true
      })
    } finally {
      await rm(twin, { recursive: true, force: true })
    }
  })
})
