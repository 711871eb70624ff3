import { strict as assert } from 'node:assert'
import { execFileSync } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { scanIndexFlags } from '../src/twin/index-flags.js'

/** index-flags.ts reads the flags of git's own indexes, of every version git writes (session 26). */
describe('scanIndexFlags: an index\'s assume-unchanged and skip-worktree entries, as git writes them', function () {
  this.timeout(60_000)
  let dir: string
  const git = (...args: string[]) => execFileSync('git', ['-C', dir, '-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { encoding: 'utf8' })
  const scan = async () => scanIndexFlags(await readFile(join(dir, '.git', 'index')))

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'twinsync-index-flags-'))
    git('init', '--quiet')
    for (const name of ['a', 'b', 'a-much-longer-name-than-the-others', 'c/d', 'c/e']) {
      execFileSync('mkdir', ['-p', join(dir, name, '..')])
      await writeFile(join(dir, name), `${name}\n`)
    }
    git('add', '-A')
    git('commit', '--quiet', '-m', 'one')
  })
  afterEach(() => rm(dir, { recursive: true, force: true }))

  for (const version of ['2', '3', '4']) {
    it(`index version ${version}: plain, then each flag found, then plain again`, async () => {
      git('update-index', '--index-version', version)
      assert.equal(await scan(), 'plain')
      git('update-index', '--assume-unchanged', 'c/d')
      assert.equal(await scan(), 'flagged')
      git('update-index', '--no-assume-unchanged', 'c/d')
      assert.equal(await scan(), 'plain')
      git('update-index', '--skip-worktree', 'a-much-longer-name-than-the-others')
      assert.equal(await scan(), 'flagged')
      git('update-index', '--no-skip-worktree', 'a-much-longer-name-than-the-others')
      // git keeps the extended-flags word (version 3) with nothing in it: still plain.
      assert.equal(await scan(), 'plain')
      await writeFile(join(dir, 'new'), 'new\n')
      git('add', '-N', '--', 'new')
      assert.equal(await scan(), 'plain', 'intent-to-add is no flag that hides an edit')
    })
  }

  it('a split index or a damaged one is unknown; a sparse index is flagged', async () => {
    git('update-index', '--split-index')
    assert.equal(await scan(), 'unknown')
    git('update-index', '--no-split-index')
    assert.equal(await scan(), 'plain')
    const bytes = await readFile(join(dir, '.git', 'index'))
    assert.equal(scanIndexFlags(bytes.subarray(0, bytes.length - 30)), 'unknown')
    git('sparse-checkout', 'set', '--cone', '--sparse-index', 'c')
    assert.equal(await scan(), 'flagged')
  })
})
