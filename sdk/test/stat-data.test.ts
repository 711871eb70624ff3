import { strict as assert } from 'node:assert'
import { closeSync, fstatSync, lstatSync, mkdirSync, mkdtempSync, openSync, rmSync, statSync, symlinkSync, writeFileSync, type BigIntStats, type Stats } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fstatData, lstatBigData, lstatData, resetStatData, statData, statDataVia } from '../src/stat-data.js'

// stat-data.ts answers from fs's binding on Node 20, without fs's Stats objects: its numbers must
// be fs's own, for every kind of path, missing ones and errors included.
describe('stat data (numbers without Stats objects)', () => {
  let dir: string
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'twinsync-statdata-'))
    mkdirSync(join(dir, 'folder'))
    writeFileSync(join(dir, 'file'), 'some text\n', { mode: 0o640 })
    symlinkSync('file', join(dir, 'link'))
    symlinkSync('nowhere', join(dir, 'dangling'))
    resetStatData()
  })
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true })
    resetStatData()
  })

  const plain = (s: Stats | undefined) => s && { dev: s.dev, mode: s.mode, nlink: s.nlink, uid: s.uid, gid: s.gid, ino: s.ino, size: s.size, mtimeMs: s.mtimeMs, ctimeMs: s.ctimeMs }
  const big = (s: BigIntStats | undefined) => s && { dev: s.dev, mode: s.mode, nlink: s.nlink, uid: s.uid, gid: s.gid, ino: s.ino, size: s.size, mtimeNs: s.mtimeNs, ctimeNs: s.ctimeNs }
  const paths = () => ['', 'folder', 'file', 'link', 'dangling', 'missing', 'file/below', 'folder/missing'].map((p) => join(dir, p)).concat(['/', '/etc/passwd', '/proc/self'])

  /** What a call gives: its value, or the code of what it threw. */
  const outcome = (fn: () => unknown) => {
    try {
      return fn()
    } catch (error) {
      return { threw: (error as NodeJS.ErrnoException).code }
    }
  }

  function sameAsFs(): void {
    for (const p of paths()) {
      assert.deepEqual(outcome(() => lstatData(p)), outcome(() => plain(lstatSync(p, { throwIfNoEntry: false }))), `lstat ${p}`)
      assert.deepEqual(outcome(() => statData(p)), outcome(() => plain(statSync(p, { throwIfNoEntry: false }))), `stat ${p}`)
      assert.deepEqual(outcome(() => lstatBigData(p)), outcome(() => big(lstatSync(p, { bigint: true, throwIfNoEntry: false }))), `lstat bigint ${p}`)
    }
    // A descriptor's (session 53: LocalHost's reads check their descriptor so), a closed one's error too.
    for (const p of [dir, join(dir, 'folder'), join(dir, 'file'), '/etc/passwd', '/proc/self/status', '/dev/null']) {
      const fd = openSync(p, 'r')
      try {
        assert.deepEqual(outcome(() => fstatData(fd)), outcome(() => plain(fstatSync(fd))), `fstat ${p}`)
      } finally {
        closeSync(fd)
      }
      assert.deepEqual(outcome(() => fstatData(fd)), outcome(() => plain(fstatSync(fd))), `fstat of ${p}'s closed descriptor`)
    }
  }

  it('gives fs numbers for files, folders, links, missing entries and paths through a file (through the binding on Node 20)', () => {
    sameAsFs()
    if (process.version.startsWith('v20.')) assert.equal(statDataVia(), 'binding')
  })

  it('gives the same numbers when fs is used', () => {
    resetStatData(false)
    sameAsFs()
    assert.equal(statDataVia(), 'fs')
  })

  it('throws what fs throws for a path fs refuses or cannot stat', () => {
    const refused = (fn: () => unknown) => {
      try {
        fn()
      } catch (error) {
        return (error as NodeJS.ErrnoException).code
      }
      return 'no error'
    }
    const nul = join(dir, 'file\0link')
    assert.equal(refused(() => lstatData(nul)), refused(() => lstatSync(nul, { throwIfNoEntry: false })))
    assert.equal(refused(() => lstatBigData(nul)), 'ERR_INVALID_ARG_VALUE')
    const loop = join(dir, 'loop')
    symlinkSync('loop', loop)
    assert.equal(refused(() => statData(loop)), 'ELOOP')
    assert.equal(refused(() => statData(loop)), refused(() => statSync(loop, { throwIfNoEntry: false })))
    const long = join(dir, 'x'.repeat(300))
    assert.equal(refused(() => lstatData(long)), 'ENAMETOOLONG')
  })
})
