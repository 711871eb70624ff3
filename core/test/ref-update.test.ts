import { strict as assert } from 'node:assert'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { identityNow, updateRefInNode } from '../src/twin/ref-update.js'
import { OBSERVED_REF, setRef } from '../src/intent/intent-git.js'

/** A snapshot's refs moved by Node as `git update-ref` moves them (ref-update.ts). */
describe('refs moved without git update-ref', () => {
  let dir: string
  const git = (...args: string[]) => execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8' }).trim()
  let first: string
  let second: string
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'twinsync-ref-'))
    git('init', '--quiet', '--initial-branch=main')
    const commit = (m: string) => {
      git('-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '--quiet', '--allow-empty', '-m', m)
      return git('rev-parse', 'HEAD')
    }
    first = commit('one')
    second = commit('two')
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))
  const log = (name: string) => readFileSync(join(dir, '.git', 'logs', name), 'utf8').trimEnd().split('\n').pop() as string

  it("moves HEAD's branch from the old id, with a reflog line for both, as git does", () => {
    assert.equal(updateRefInNode(dir, 'HEAD', first, second, 'twinsync: snapshot', identityNow()), true)
    assert.equal(git('rev-parse', 'HEAD'), first)
    assert.equal(git('symbolic-ref', 'HEAD'), 'refs/heads/main', 'HEAD still names the branch')
    for (const name of ['HEAD', 'refs/heads/main']) assert.match(log(name), new RegExp(`^${second} ${first} TwinSync <twinsync@localhost> \\d+ [+-]\\d{4}\\ttwinsync: snapshot$`))
    assert.equal(git('reflog', '-1', '--format=%H %gs'), `${first} twinsync: snapshot`)
    assert.equal(existsSync(join(dir, '.git', 'HEAD.lock')) || existsSync(join(dir, '.git', 'refs/heads/main.lock')), false, 'no lock left')
    assert.equal(existsSync(join(dir, '.git', 'twinsync', 'ref-locks.json')), false, 'nor its record of them')
    assert.equal(git('fsck', '--no-progress'), '')
  })

  it("makes and moves a TwinSync ref with its reflog, also over one in packed-refs", () => {
    assert.equal(updateRefInNode(dir, 'refs/twinsync/intended', first, undefined, 'intent', identityNow()), true)
    assert.equal(git('rev-parse', 'refs/twinsync/intended'), first)
    assert.match(log('refs/twinsync/intended'), new RegExp(`^${'0'.repeat(40)} ${first} TwinSync`))
    git('pack-refs', '--all')
    assert.equal(existsSync(join(dir, '.git/refs/twinsync/intended')), false, 'packed')
    assert.equal(updateRefInNode(dir, 'refs/twinsync/intended', second, first, 'intent', identityNow()), true)
    assert.equal(git('rev-parse', 'refs/twinsync/intended'), second)
    assert.match(log('refs/twinsync/intended'), new RegExp(`^${first} ${second} `))
    assert.equal(git('reflog', 'show', '--format=%H', 'refs/twinsync/intended'), `${second}\n${first}`, "discard's record of the intent before")
  })

  it('moves the observed ref with no reflog of its own (the branch has every place it was), in Node and git\'s way, and drops an older one', async () => {
    const observedLog = join(dir, '.git', 'logs', 'refs/twinsync/observed')
    const branchLines = () => readFileSync(join(dir, '.git', 'logs', 'refs/heads/main'), 'utf8')
    const before = branchLines()
    assert.equal(updateRefInNode(dir, 'refs/twinsync/observed', first, undefined, 'snapshot', identityNow()), true)
    assert.equal(git('rev-parse', 'refs/twinsync/observed'), first)
    assert.equal(existsSync(observedLog), false, 'no reflog made')
    // git's way (Node declines under a committer named in the environment): no reflog made either.
    process.env.GIT_COMMITTER_NAME = 'someone'
    try {
      await setRef(dir, OBSERVED_REF, second, 'snapshot')
    } finally {
      delete process.env.GIT_COMMITTER_NAME
    }
    assert.equal(git('rev-parse', 'refs/twinsync/observed'), second)
    assert.equal(existsSync(observedLog), false, "no reflog made by git's way")
    // A twin an older TwinSync kept one for: it goes with the next move.
    git('update-ref', '--create-reflog', '-m', 'snapshot', 'refs/twinsync/observed', first)
    assert.equal(existsSync(observedLog), true)
    assert.equal(updateRefInNode(dir, 'refs/twinsync/observed', second, first, 'snapshot', identityNow()), true)
    assert.equal(existsSync(observedLog), false, 'the older reflog removed')
    assert.equal(branchLines(), before, "the branch's reflog left as it was")
    assert.equal(git('fsck', '--no-progress'), '')
  })

  it("leaves it to git, changing nothing, when a lock is there, the ref moved meanwhile, HEAD names no branch, or the name or message is not one it writes", () => {
    const before = () => [git('rev-parse', 'HEAD'), readFileSync(join(dir, '.git/logs/HEAD'), 'utf8')]
    const was = before()
    writeFileSync(join(dir, '.git', 'refs/heads/main.lock'), '')
    assert.equal(updateRefInNode(dir, 'HEAD', first, second, 'twinsync: snapshot', identityNow()), false, 'a lock of git')
    assert.equal(existsSync(join(dir, '.git', 'HEAD.lock')), false, 'its own lock released')
    assert.equal(existsSync(join(dir, '.git', 'refs/heads/main.lock')), true, "git's lock left alone")
    rmSync(join(dir, '.git', 'refs/heads/main.lock'))
    assert.equal(updateRefInNode(dir, 'HEAD', first, first, 'twinsync: snapshot', identityNow()), false, 'not at the old id')
    assert.equal(updateRefInNode(dir, 'refs/heads/main', first, undefined, 'x', identityNow()), false, 'not a ref it writes')
    assert.equal(updateRefInNode(dir, 'HEAD', first, second, 'two  spaces', identityNow()), false, 'a message git would rewrite')
    assert.deepEqual(before(), was)
    git('checkout', '--quiet', '--detach')
    assert.equal(updateRefInNode(dir, 'HEAD', first, second, 'twinsync: snapshot', identityNow()), false, 'detached HEAD')
    for (const lock of ['HEAD.lock', 'refs/heads/main.lock']) assert.equal(existsSync(join(dir, '.git', lock)), false)
  })
})
