import { strict as assert } from 'node:assert'
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { copyIndex } from '../src/twin/git.js'

// A private index must never look newer than the index it copies: git (and quick-status.ts)
// hash a file "as new as the index" instead of trusting its stat data; a copy dated now would
// turn such racily clean entries into trusted ones.
describe('copyIndex: a private copy of git index, back-dated', function () {
  let dir: string
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'twinsync-copy-index-'))
  })
  after(() => rm(dir, { recursive: true, force: true }))

  it('copies the bytes and dates the copy 2 s before the index it copies', async () => {
    const index = join(dir, 'index')
    await writeFile(index, 'DIRC-bytes')
    const copy = join(dir, 'copy')
    assert.equal(await copyIndex(index, copy), true)
    const [a, b] = await Promise.all([stat(index), stat(copy)])
    assert.equal(b.size, a.size)
    assert.ok(a.mtimeMs - b.mtimeMs >= 1999, `copy dated ${b.mtimeMs}, index ${a.mtimeMs}`)
  })

  it('says false, and writes nothing, when there is no index yet', async () => {
    const copy = join(dir, 'none-copy')
    assert.equal(await copyIndex(join(dir, 'missing'), copy), false)
    await assert.rejects(stat(copy), { code: 'ENOENT' })
  })
})
