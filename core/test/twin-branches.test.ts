// intent-git.ts's twinBranches: the twin's branch and the others with commits it lacks. With one
// branch it answers from .git's files without git (onlyBranch); every other layout goes to git.
// The same answers either way: loose and packed refs, a nested branch name, a detached HEAD.
import { strict as assert } from 'node:assert'
import { execFileSync } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { twinBranches } from '../src/intent/intent-git.js'

const ENV = { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.org', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.org', GIT_CONFIG_NOSYSTEM: '1' }

describe("twinBranches: the twin's branches, read from .git when there is one", () => {
  let dir: string
  const git = (...args: string[]): string => execFileSync('git', ['-C', dir, ...args], { env: ENV, encoding: 'utf8' })
  const commit = async (name: string): Promise<void> => {
    await writeFile(join(dir, name), name)
    git('add', name)
    git('commit', '-q', '-m', name)
  }

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'twinsync-branches-'))
    git('init', '-q', '-b', 'main')
  })
  afterEach(() => rm(dir, { recursive: true, force: true }))

  it('one branch, unborn, loose or packed: none unread', async () => {
    assert.deepEqual(await twinBranches(dir), { current: 'main', unread: [] })
    await commit('a')
    assert.deepEqual(await twinBranches(dir), { current: 'main', unread: [] })
    git('pack-refs', '--all')
    assert.deepEqual(await twinBranches(dir), { current: 'main', unread: [] })
  })

  it('another branch with commits, loose, nested or packed: named with its count', async () => {
    await commit('a')
    git('branch', 'feature/x')
    // A branch at HEAD has nothing unread.
    assert.deepEqual(await twinBranches(dir), { current: 'main', unread: [] })
    git('checkout', '-q', 'feature/x')
    await commit('b')
    git('checkout', '-q', 'main')
    assert.deepEqual(await twinBranches(dir), { current: 'main', unread: [{ branch: 'feature/x', commits: 1 }] })
    git('pack-refs', '--all')
    assert.deepEqual(await twinBranches(dir), { current: 'main', unread: [{ branch: 'feature/x', commits: 1 }] })
  })

  it('a packed branch beside a loose main, and a detached HEAD', async () => {
    await commit('a')
    git('checkout', '-q', '-b', 'draft')
    await commit('b')
    git('pack-refs', '--all', '--prune')
    git('checkout', '-q', 'main')
    await commit('c')
    assert.deepEqual(await twinBranches(dir), { current: 'main', unread: [{ branch: 'draft', commits: 1 }] })
    git('checkout', '-q', '--detach', 'HEAD')
    const detached = await twinBranches(dir)
    assert.equal(detached.current, null)
  })
})
