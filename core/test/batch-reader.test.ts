import { strict as assert } from 'node:assert'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BatchReader } from '../src/twin/git.js'

describe('git cat-file --batch reader', () => {
  let dir: string
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'twinsync-batch-'))
    execFileSync('git', ['init', '-q'], { cwd: dir })
  })
  after(() => rmSync(dir, { recursive: true, force: true }))

  it('answers requests in order, a blob of many output chunks whole, a missing one as undefined', async () => {
    const put = (bytes: Buffer) => execFileSync('git', ['hash-object', '-w', '--stdin'], { cwd: dir, input: bytes }).toString().trim()
    // 3 MB: dozens of pipe chunks, joined once they are all there.
    const big = Buffer.alloc(3 * 1024 * 1024)
    for (let i = 0; i < big.length; i++) big[i] = (i * 7 + (i >> 12)) & 0xff
    const small = Buffer.from('small\n')
    const [bigId, smallId] = [put(big), put(small)]
    const reader = new BatchReader(dir)
    try {
      const [a, b, missing, c] = await Promise.all([reader.read(bigId), reader.read(smallId), reader.read('0'.repeat(40)), reader.read(bigId)])
      assert.ok(a !== undefined && Buffer.from(a).equals(big))
      assert.ok(b !== undefined && Buffer.from(b).equals(small))
      assert.equal(missing, undefined)
      assert.ok(c !== undefined && Buffer.from(c).equals(big))
    } finally {
      reader.close()
    }
  })
})
