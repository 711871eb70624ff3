import { strict as assert } from 'node:assert'
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { smudgeCtimeRacy } from '../src/twin/quick-status.js'

// Session 52 (issue 22): smudgeCtimeRacy walks an index's entries by the path lengths their flags
// give (git's own reader's way, not a NUL looked for at every entry) and hashes the index only
// when it rewrites it. Both are speed changes with the same results for every index git writes:
// the tests marked guards pass on 6f8d572f too, kept so that the walk and the check keep git's
// layout and order; an entry whose flags and path disagree is walked as git reads it (refused).
describe("smudgeCtimeRacy: git's index walked by its entries' flags, hashed only when rewritten (quick-status.ts)", function () {
  this.timeout(60_000)
  let dir: string
  const g = (args: string[]) => execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, GIT_OPTIONAL_LOCKS: '0' } })
  const index = () => join(dir, '.git', 'index')
  /** Every entry's size as git reads it (`ls-files --debug`), by path. */
  const sizes = () => {
    const out = g(['ls-files', '--debug'])
    const found: Record<string, number> = {}
    let path = ''
    for (const line of out.split('\n')) {
      const size = /^\s+size: (\d+)/.exec(line)
      if (size !== null) found[path.length > 40 ? `${path[0]}×${path.length}` : path] = Number(size[1])
      else if (!line.startsWith(' ') && line !== '') path = line
    }
    return found
  }
  const ALL = 1n << 62n // an mtime before this second: every entry racy whose ctime lies after the epoch

  beforeEach(async () => {
    dir = execFileSync('mktemp', ['-d'], { encoding: 'utf8' }).trim()
    g(['init', '-q'])
    await writeFile(join(dir, 'b'), 'b\n')
    await mkdir(join(dir, 'c'))
    await writeFile(join(dir, 'c', 'd'), 'dd\n')
    // A path longer than the flags' 12 bits hold (0xFFF: git looks for its NUL), before the others in git's order.
    const blob = g(['hash-object', '-w', 'b']).trim()
    g(['update-index', '--add', '--cacheinfo', `100644,${blob},${'a'.repeat(4200)}`])
    g(['add', 'b', 'c/d'])
  })
  afterEach(async () => rm(dir, { recursive: true, force: true }))

  for (const version of ['2', '3', '4']) {
    it(`index version ${version}${version === '3' ? ' (an intent-to-add entry: extended flags)' : ''}: the entries in the window smudged past a path longer than 0xFFF, the checksum git's (guard)`, async () => {
      if (version === '3') {
        await writeFile(join(dir, 'c', 'e'), 'eee\n')
        g(['add', '-N', 'c/e'])
      }
      g(['update-index', '--index-version', version])
      assert.equal((await readFile(index())).readUInt32BE(4), Number(version))
      const before = sizes()
      assert.deepEqual(before, { ['a×4200']: 0, b: 2, 'c/d': 3, ...(version === '3' ? { 'c/e': 0 } : {}) })
      const bytes = await readFile(index())
      // Nothing in the window (a ctime after now): not a byte changed.
      const copy = Buffer.from(bytes)
      assert.equal(smudgeCtimeRacy(copy, BigInt(Date.now() + 60_000) * 1_000_000n, ALL), 0)
      assert.ok(copy.equals(bytes))
      // Every entry with a size: smudged, and git reads the index whole (fsck checks its checksum).
      assert.equal(smudgeCtimeRacy(bytes, 0n, ALL), 2)
      await writeFile(index(), bytes)
      assert.deepEqual(sizes(), { ...before, b: 0, 'c/d': 0 })
      g(['fsck', '--no-dangling'])
      // Smudged already: nothing more to do.
      assert.equal(smudgeCtimeRacy(bytes, 0n, ALL), 0)
    })
  }

  it('an index whose checksum is wrong: nothing smudged, the bytes as they were, whether an entry lies in the window or not (guard)', async () => {
    const bytes = await readFile(index())
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 1
    const copy = Buffer.from(bytes)
    assert.equal(smudgeCtimeRacy(bytes, 0n, ALL), 0)
    assert.equal(smudgeCtimeRacy(bytes, BigInt(Date.now() + 60_000) * 1_000_000n, ALL), 0)
    assert.ok(bytes.equals(copy))
  })

  it("an index whose entries cannot be walked as git reads them (a count the bytes cannot hold: guard; an entry whose flags give its path one byte more than its NUL ends, the checksum made again: git would read the next entries elsewhere, fails on 6f8d572f): nothing smudged", async () => {
    const bytes = await readFile(index())
    const counted = Buffer.from(bytes)
    counted.writeUInt32BE(1_000_000, 8)
    assert.equal(smudgeCtimeRacy(counted, 0n, ALL), 0)
    // b's entry (the second): its flags say one byte more than its path holds.
    const second = 12 + ((62 + 0x1068 + 8) & ~7)
    assert.equal(bytes.toString('latin1', second + 62, second + 63), 'b')
    const flags = Buffer.from(bytes)
    flags.writeUInt16BE(flags.readUInt16BE(second + 60) + 1, second + 60)
    createHash('sha1').update(flags.subarray(0, flags.length - 20)).digest().copy(flags, flags.length - 20)
    assert.equal(smudgeCtimeRacy(flags, 0n, ALL), 0)
  })

  it("an entry whose flags say 0xFFF for a short path (the checksum made again): git reads its path to its NUL and the next entries after it, and so does the walk: the entries in the window smudged (session 52's review, L1: fails on 852fc313, which looked for the NUL only past 0xFFF bytes and smudged nothing)", async () => {
    const bytes = await readFile(index())
    const second = 12 + ((62 + 0x1068 + 8) & ~7)
    assert.equal(bytes.toString('latin1', second + 62, second + 64), 'b\0')
    bytes.writeUInt16BE((bytes.readUInt16BE(second + 60) & 0xf000) | 0x0fff, second + 60)
    createHash('sha1').update(bytes.subarray(0, bytes.length - 20)).digest().copy(bytes, bytes.length - 20)
    await writeFile(index(), bytes)
    assert.deepEqual(sizes(), { ['a×4200']: 0, b: 2, 'c/d': 3 })
    assert.equal(smudgeCtimeRacy(bytes, 0n, ALL), 2)
    await writeFile(index(), bytes)
    assert.deepEqual(sizes(), { ['a×4200']: 0, b: 0, 'c/d': 0 })
  })
})
