// A pack's objects are deflated with the smallest window that reaches over the whole object
// (windowBitsFor, core/src/twin/pack-writer.ts, issue 22, session 16): the same compressed
// length as zlib's default 32 KiB window, a header naming the small window, and git reads them.
import { strict as assert } from 'node:assert'
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { deflateSync, inflateSync } from 'node:zlib'
import { packOf, windowBitsFor, writePack } from '../src/twin/pack-writer.js'

/** Text of `size` bytes that repeats at long and short distances (fixed, no chance in it). */
function text(size: number): Buffer {
  let out = ''
  for (let line = 0; out.length < size; line++) out += `key${line % 97} = value ${(line * 7919) % 1009} ${line % 13 === 0 ? 'x'.repeat(line % 300) : ''}\n`
  return Buffer.from(out.slice(0, size))
}

const SIZES = [0, 1, 100, 249, 250, 251, 500, 762, 763, 1000, 4000, 16_000, 32_506, 32_507, 40_000, 200_000]

describe('pack objects deflated with a window their size needs (windowBitsFor)', function () {
  this.timeout(60_000)

  it('the smallest window from 9 to 15 bits whose reach (the window less 262 bytes) covers the object', () => {
    assert.deepEqual(
      [0, 250, 251, 762, 763, 1786, 1787, 32_506, 32_507, 1_000_000].map(windowBitsFor),
      [9, 9, 10, 10, 11, 11, 12, 15, 15, 15],
    )
  })

  it('each object in the pack: a stream naming that window, as long as with the default window, the same bytes inflated', () => {
    const objects = SIZES.map((size) => ({ bytes: text(size) }))
    const pack = Buffer.concat([...packOf(objects, [])])
    let at = 12
    for (const { bytes } of objects) {
      // The object's header: type and size, 7 bits a byte after the first 4.
      while ((pack[at++] as number) & 0x80);
      const bits = windowBitsFor(bytes.length)
      // zlib's first byte: the window's size less 8 in its high half, deflate (8) in its low.
      assert.equal(pack[at], ((bits - 8) << 4) | 8, `${bytes.length} bytes: a window of ${bits} bits`)
      const alone = deflateSync(bytes, { windowBits: bits })
      assert.ok(pack.subarray(at, at + alone.length).equals(alone))
      assert.equal(alone.length, deflateSync(bytes).length, `${bytes.length} bytes: as long as with the default window`)
      assert.ok(inflateSync(alone).equals(bytes))
      at += alone.length
    }
    assert.equal(at, pack.length - 20)
  })

  it('git reads every object of such a pack, and fsck --strict finds nothing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'twinsync-pack-window-'))
    try {
      execFileSync('git', ['init', '-q', dir])
      const objects = SIZES.map((size) => {
        const bytes = text(size)
        return { sha: createHash('sha1').update(`blob ${size}\0`).update(bytes).digest('hex'), bytes }
      })
      writePack(dir, objects)
      for (const { sha, bytes } of objects) assert.ok(execFileSync('git', ['-C', dir, 'cat-file', 'blob', sha], { maxBuffer: 1 << 24 }).equals(bytes))
      assert.equal(execFileSync('git', ['-C', dir, 'fsck', '--strict', '--no-progress', '--no-dangling'], { encoding: 'utf8' }), '')
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
