import { strict as assert } from 'node:assert'
import { execFileSync } from 'node:child_process'
import { access, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { settleSnapshot } from '../src/twin/atomic-snapshot.js'

describe('a snapshot killed during its HEAD move', () => {
  let dir: string
  const git = (...args: string[]) => execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8' }).trim()
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'twinsync-settle-'))
    git('init', '-q')
    await writeFile(join(dir, 'a'), 'a\n')
    git('add', 'a')
    git('-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'one')
  })
  afterEach(() => rm(dir, { recursive: true, force: true }))

  it("removes the HEAD and branch locks its killed update-ref left, says so, and the next ref update works", async () => {
    const branch = git('symbolic-ref', 'HEAD')
    const head = git('rev-parse', 'HEAD')
    await mkdir(join(dir, '.git', 'twinsync'), { recursive: true })
    // The move record of a snapshot whose HEAD never moved, and update-ref's locks.
    await writeFile(join(dir, '.git', 'twinsync', 'snapshot-in-progress.json'), JSON.stringify({ parent: head, commit: '0'.repeat(40), updates: [], removals: [] }))
    await writeFile(join(dir, '.git', 'HEAD.lock'), '')
    await writeFile(join(dir, '.git', `${branch}.lock`), '')
    const settled = await settleSnapshot(dir)
    assert.deepEqual(settled, { finished: false, discarded: true, tempFiles: ['.git/HEAD.lock', `.git/${branch}.lock`] })
    await assert.rejects(access(join(dir, '.git', 'HEAD.lock')))
    git('update-ref', branch, head)
    assert.deepEqual(await settleSnapshot(dir), { finished: false, discarded: false, tempFiles: [] })
  })
})
