import { strict as assert } from 'node:assert'
import { execFileSync } from 'node:child_process'
import { statSync } from 'node:fs'
import { mkdtemp, rm, writeFile, mkdir, access } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { OBSERVED_REF, INTENDED_REF, deleteRef, readRef, setRef } from '../src/intent/intent-git.js'
import { dropStaleRefLock } from '../src/twin/git.js'
import { identityNow, updateRefInNode } from '../src/twin/ref-update.js'

describe("TwinSync's own refs after a killed git update-ref", () => {
  let dir: string
  let commit: string
  /** As ref-update.ts records the locks it takes (names, inodes, the run): here a run that is gone. */
  const recordedByDeadRun = (...names: string[]) =>
    writeFile(join(dir, '.git', 'twinsync', 'ref-locks.json'), JSON.stringify({ pid: 2 ** 30, startTime: null, bootId: null, locks: names.map((name) => ({ name, ino: statSync(join(dir, '.git', name)).ino })) }))
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'twinsync-refs-'))
    const git = (...args: string[]) => execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8' }).trim()
    git('init', '-q')
    await writeFile(join(dir, 'a'), 'a\n')
    git('add', 'a')
    git('-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'one')
    commit = git('rev-parse', 'HEAD')
    // What `kill -9` of a run moving the refs leaves: the ref's lock file, holding nothing, and its record of it.
    await mkdir(join(dir, '.git', 'refs', 'twinsync'), { recursive: true })
    await mkdir(join(dir, '.git', 'twinsync'), { recursive: true })
    await writeFile(join(dir, '.git', `${OBSERVED_REF}.lock`), '')
    await writeFile(join(dir, '.git', `${INTENDED_REF}.lock`), '')
    await recordedByDeadRun(`${OBSERVED_REF}.lock`, `${INTENDED_REF}.lock`)
  })
  afterEach(() => rm(dir, { recursive: true, force: true }))

  it('sets the observed ref over a stale lock instead of failing every later run', async () => {
    await setRef(dir, OBSERVED_REF, commit, 'snapshot')
    assert.equal(await readRef(dir, OBSERVED_REF), commit)
    await assert.rejects(access(join(dir, '.git', `${OBSERVED_REF}.lock`)))
  })

  it('deletes the intended ref over a stale lock', async () => {
    await rm(join(dir, '.git', `${INTENDED_REF}.lock`))
    await setRef(dir, INTENDED_REF, commit, 'intent')
    await writeFile(join(dir, '.git', `${INTENDED_REF}.lock`), '')
    await recordedByDeadRun(`${INTENDED_REF}.lock`)
    await deleteRef(dir, INTENDED_REF)
    assert.equal(await readRef(dir, INTENDED_REF), undefined)
    await assert.rejects(access(join(dir, '.git', 'logs', INTENDED_REF)), 'its reflog goes with it, as with git update-ref -d')
  })

  it("a killed run's recorded lock stays provable when the rerun moves another ref first (its record is settled, not replaced)", async () => {
    // Session 13's CI: an apply killed holding observed.lock; the rerun's snapshot moved HEAD
    // first, its own record replaced the killed run's, and observed.lock was TWIN_REF_LOCKED for good.
    assert.equal(updateRefInNode(dir, 'refs/twinsync/other', commit, undefined, 'test', identityNow()), true)
    await setRef(dir, OBSERVED_REF, commit, 'snapshot')
    assert.equal(await readRef(dir, OBSERVED_REF), commit)
    await assert.rejects(access(join(dir, '.git', `${INTENDED_REF}.lock`)), 'every lock of the killed run is settled at once')
    await assert.rejects(access(join(dir, '.git', 'twinsync', 'ref-locks.json')))
  })

  it('never removes a lock of its own refs it cannot prove a dead run left (a git gc packing refs): TWIN_REF_LOCKED, the ref unchanged', async () => {
    await rm(join(dir, '.git', 'twinsync', 'ref-locks.json'))
    const error = await setRef(dir, OBSERVED_REF, commit, 'snapshot').then(
      () => undefined,
      (e: unknown) => e as { code?: string; nextStep?: string },
    )
    assert.equal(error?.code, 'TWIN_REF_LOCKED')
    assert.match(error?.nextStep ?? '', /rm .*refs\/twinsync\/observed\.lock/)
    await access(join(dir, '.git', `${OBSERVED_REF}.lock`))
    assert.equal(await readRef(dir, OBSERVED_REF), undefined)
  })

  it('never touches a lock of a ref that is not its own', async () => {
    await writeFile(join(dir, '.git', 'refs', 'heads', 'main.lock'), '')
    await setRef(dir, OBSERVED_REF, commit, 'snapshot')
    await access(join(dir, '.git', 'refs', 'heads', 'main.lock'))
  })

  it('one routine (twin/git.ts) removes a ref lock, for HEAD and refs/ names only, and says which', async () => {
    await writeFile(join(dir, '.git', 'HEAD.lock'), '')
    await writeFile(join(dir, '.git', 'refs', 'heads', 'main.lock'), '')
    await writeFile(join(dir, '.git', 'config.lock'), '')
    await recordedByDeadRun('HEAD.lock', 'refs/heads/main.lock')
    assert.equal(await dropStaleRefLock(dir, 'HEAD'), '.git/HEAD.lock')
    assert.equal(await dropStaleRefLock(dir, 'refs/heads/main'), '.git/refs/heads/main.lock')
    assert.equal(await dropStaleRefLock(dir, 'refs/heads/main'), undefined, 'nothing left to remove')
    for (const name of ['config', 'refs/../config', '../x', 'refs//x']) assert.equal(await dropStaleRefLock(dir, name), undefined, name)
    await access(join(dir, '.git', 'config.lock'))
    await assert.rejects(access(join(dir, '.git', 'HEAD.lock')))
  })

  it('reads its refs loose or packed (git pack-refs, as git gc does), and an absent one as absent', async () => {
    const git = (...args: string[]) => execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8' }).trim()
    assert.equal(await readRef(dir, INTENDED_REF), undefined)
    await setRef(dir, INTENDED_REF, commit, 'test')
    assert.equal(await readRef(dir, INTENDED_REF), commit)
    git('pack-refs', '--all', '--prune')
    await assert.rejects(access(join(dir, '.git', INTENDED_REF)))
    assert.equal(await readRef(dir, INTENDED_REF), commit, 'packed')
    await deleteRef(dir, INTENDED_REF)
    assert.equal(await readRef(dir, INTENDED_REF), undefined)
    assert.equal(git('for-each-ref', INTENDED_REF), '')
  })
})
