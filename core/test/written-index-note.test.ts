import { strict as assert } from 'node:assert'
import crypto from 'node:crypto'
import { closeSync, openSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, truncateSync, utimesSync, writeFileSync, writeSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { syncBuiltinESMExports } from 'node:module'
import { join } from 'node:path'
import { SnapshotService } from '../src/snapshot/snapshot-service.js'
import { indexNotePath, indexRecordLimit, indexRecordPath, noteClock, readIndexNote } from '../src/twin/index-record.js'
import { indexIdentity } from '../src/twin/index-flags.js'
import * as quickStatus from '../src/twin/quick-status.js'
import { forgetIndexRead, quickClean, readIndex, recordIndexParse } from '../src/twin/quick-status.js'
import { notesProvider } from './support/notes-provider.js'
import { type UnitRig } from './support/unit-container.js'
import { listedBy, snapshotted } from './support/index-rig.js'

/** Whether the code under test notes the index a snapshot wrote (a guard runs on code without it too, from an index not noted). */
const notesWrittenIndex = 'noteWrittenIndex' in quickStatus

/** Looked up when called: this file loads on code without it, where the snapshot's tests fail by what they assert. */
const noteWrittenIndex = (dir: string): boolean => (quickStatus as { noteWrittenIndex: (dir: string) => boolean }).noteWrittenIndex(dir)

const identityOf = (path: string): string => {
  const info = statSync(path, { bigint: true })
  return indexIdentity({ ino: info.ino, size: info.size, mtimeNs: info.mtimeNs, ctimeNs: info.ctimeNs })
}

/** How many bytes `fn` hashed with SHA-1 (node's crypto, seen by the code under test through syncBuiltinESMExports). */
function sha1BytesOf(fn: () => void): number {
  const real = crypto.createHash
  let bytes = 0
  crypto.createHash = ((algorithm: string, options?: crypto.HashOptions) => {
    const hash = real(algorithm, options)
    if (algorithm !== 'sha1') return hash
    const update = hash.update.bind(hash)
    hash.update = ((data: crypto.BinaryLike, encoding?: crypto.Encoding) => {
      bytes += typeof data === 'string' ? Buffer.byteLength(data, encoding) : data.byteLength
      return encoding === undefined ? update(data) : update(data as string, encoding)
    }) as typeof hash.update
    return hash
  }) as typeof crypto.createHash
  syncBuiltinESMExports()
  try {
    fn()
  } finally {
    crypto.createHash = real
    syncBuiltinESMExports()
  }
  return bytes
}

/**
 * quick-status.ts's noteWrittenIndex: the index a committing snapshot spliced and put in place
 * itself, and the record of its parse, are noted (index-record.ts's IndexNote) at the run's end
 * when both are settled, so the next run does not hash the index (SHA-1) nor check the record
 * (CRC-32) again. Everything the note's rule guards must still hold: a file within the slack of
 * the look is not noted (a write in the same clock tick keeps its identity), bytes other than
 * those written are not noted, a person's `git add` afterwards is seen, a torn index is refused,
 * and the entries the commit wrote are still doubted by their stat data at the next look.
 */
describe('the index a snapshot wrote itself, noted at its end (noteWrittenIndex)', function () {
  this.timeout(60_000)
  let rig: UnitRig
  const limit = indexRecordLimit.entries
  const clock = noteClock.nowNs
  let level = 0
  const git = () => join(rig.twinDir, '.git')
  const indexFile = () => join(git(), 'index')
  const recordFile = () => indexRecordPath(git())
  const entriesRead = () => {
    const index = readIndex(rig.twinDir)
    return index === undefined ? undefined : [...index.entries].map(([path, e]) => `${path} ${e.mode} ${e.sha}`)
  }
  /** The machine's notes changed, and a snapshot that commits it (its index spliced: cache-tree.ts). */
  const committing = async () => {
    await writeFile(join(rig.root, 'etc/notes'), `level ${++level}\n`)
    const head = rig.git('rev-parse', 'HEAD')
    await rig.container.resolve(SnapshotService).snapshot()
    assert.notEqual(rig.git('rev-parse', 'HEAD'), head, 'the snapshot committed')
    forgetIndexRead()
  }
  /** The guards' scenario begins from the index the snapshot noted (on code that notes it). */
  const startsNoted = () => {
    if (notesWrittenIndex) assert.equal(readIndexNote(git())?.index, identityOf(indexFile()), 'the snapshot noted its index')
  }
  /** Later than now: the files just written count as settled (a test cannot set a ctime back). */
  const later = () => {
    noteClock.nowNs = () => clock() + 10_000_000_000n
  }

  before(async () => {
    indexRecordLimit.entries = 1
    rig = await snapshotted(notesProvider('notes'))
  })
  afterEach(() => {
    noteClock.nowNs = clock
    forgetIndexRead()
  })
  after(async () => {
    indexRecordLimit.entries = limit
    await rig?.cleanup()
  })

  it('a committing snapshot notes the index it put in place and its record, and the next read hashes neither (fails on d2302de0: the next read hashed the index)', async () => {
    later()
    await committing()
    const note = readIndexNote(git())
    const index = readFileSync(indexFile())
    assert.deepEqual(note, { index: identityOf(indexFile()), trailer: index.toString('hex', index.length - 20), record: identityOf(recordFile()) }, 'the note names the index and the record as the snapshot left them')
    const noteBefore = identityOf(indexNotePath(git()))
    let seen: string[] | undefined
    const hashed = sha1BytesOf(() => {
      seen = entriesRead()
    })
    assert.deepEqual(seen, listedBy(rig), 'read as git lists it')
    assert.equal(hashed, 0, 'the noted index is not hashed again')
    assert.equal(identityOf(indexNotePath(git())), noteBefore, 'the note stands as written')
  })

  it('a guard: the index the snapshot wrote is hashed at the next read when the note is gone (the way the test above sees the skip)', async () => {
    later()
    await committing()
    rmSync(indexNotePath(git()), { force: true })
    const size = statSync(indexFile()).size
    assert.ok(sha1BytesOf(() => assert.deepEqual(entriesRead(), listedBy(rig))) >= size - 20, 'hashed whole')
  })

  it('a guard: an index still within the slack at the snapshot\'s end is not noted (a write in the same clock tick keeps its identity)', async () => {
    // Earlier than now: nothing just written is settled, as in a run whose end follows its commit within FINE_SLACK.
    noteClock.nowNs = () => clock() - 10_000_000_000n
    await committing()
    assert.notEqual(readIndexNote(git())?.index, identityOf(indexFile()))
    noteClock.nowNs = clock
    const size = statSync(indexFile()).size
    assert.ok(sha1BytesOf(() => assert.deepEqual(entriesRead(), listedBy(rig))) >= size - 20, 'the next read hashes it whole')
  })

  describe('a guard: only the bytes TwinSync wrote, read back whole from a plain file, are noted', () => {
    /** The index in place as TwinSync wrote it, and its record, pending a note (recordIndexParse), both settled. */
    const pending = () => {
      const read = readIndex(rig.twinDir)
      assert.ok(read !== undefined)
      recordIndexParse(rig.twinDir, read.bytes, read, read)
      rmSync(indexNotePath(git()), { force: true })
      later()
      return read.bytes
    }
    /** The index's bytes put back, as another file renamed in. */
    const putBack = (bytes: Buffer) => {
      writeFileSync(`${indexFile()}.copy`, bytes)
      renameSync(`${indexFile()}.copy`, indexFile())
      forgetIndexRead()
    }
    const overwrite = (path: string, at: number, bytes: Buffer, mtimeNs: bigint) => {
      const fd = openSync(path, 'r+')
      try {
        writeSync(fd, bytes, 0, bytes.length, at)
      } finally {
        closeSync(fd)
      }
      // The mtime set back (to the microsecond utimes keeps): only the ctime moved.
      utimesSync(path, Number(mtimeNs / 1000n) / 1e6, Number(mtimeNs / 1000n) / 1e6)
    }

    it('as written: noted (the check the guards below fail)', () => {
      pending()
      assert.equal(noteWrittenIndex(rig.twinDir), true)
      assert.equal(readIndexNote(git())?.index, identityOf(indexFile()))
    })

    it('a byte of the index written over in place after TwinSync wrote it (size kept, mtime set back): not noted', () => {
      const bytes = pending()
      const at = 12 + 40
      const mtime = statSync(indexFile(), { bigint: true }).mtimeNs
      try {
        overwrite(indexFile(), at, Buffer.from([(bytes[at] as number) ^ 0x01]), mtime)
        assert.equal(noteWrittenIndex(rig.twinDir), false)
        assert.equal(readIndexNote(git()), undefined)
      } finally {
        putBack(bytes)
      }
      assert.deepEqual(entriesRead(), listedBy(rig))
    })

    it('the record written over in place: not noted', () => {
      pending()
      const record = readFileSync(recordFile())
      const mtime = statSync(recordFile(), { bigint: true }).mtimeNs
      overwrite(recordFile(), record.length - 2, Buffer.from([(record[record.length - 2] as number) ^ 0x01]), mtime)
      assert.equal(noteWrittenIndex(rig.twinDir), false)
      assert.equal(readIndexNote(git()), undefined)
      rmSync(recordFile())
    })

    it('the index cut short (torn): not noted, and refused at the next read', () => {
      const bytes = pending()
      try {
        truncateSync(indexFile(), bytes.length - 1)
        assert.equal(noteWrittenIndex(rig.twinDir), false)
        assert.equal(readIndexNote(git()), undefined)
        assert.equal(entriesRead(), undefined, 'refused: git is asked')
      } finally {
        putBack(bytes)
      }
      forgetIndexRead()
      assert.deepEqual(entriesRead(), listedBy(rig))
    })

    it('a symlink to the bytes in place of the index: not noted', () => {
      const bytes = pending()
      const aside = join(git(), 'index.aside')
      renameSync(indexFile(), aside)
      try {
        symlinkSync(aside, indexFile())
        assert.equal(noteWrittenIndex(rig.twinDir), false)
        assert.equal(readIndexNote(git()), undefined)
      } finally {
        rmSync(indexFile())
        renameSync(aside, indexFile())
      }
      assert.ok(readFileSync(indexFile()).equals(bytes))
    })
  })

  it("a guard: a person's `git add` after the snapshot noted its index is seen (git's index, another file, hashed and read)", async () => {
    later()
    await committing()
    startsNoted()
    await writeFile(join(rig.twinDir, 'system/notes.json'), readFileSync(join(rig.twinDir, 'system/notes.json'), 'utf8').replace('level', 'LEVEL'))
    rig.git('add', 'system/notes.json')
    try {
      const size = statSync(indexFile()).size
      let seen: string[] | undefined
      assert.ok(sha1BytesOf(() => (seen = entriesRead())) >= size - 20, 'hashed whole')
      assert.deepEqual(seen, listedBy(rig))
      assert.ok(seen?.includes(`system/notes.json 100644 ${rig.git('rev-parse', ':system/notes.json')}`), 'the staged blob')
    } finally {
      rig.git('reset', '--quiet')
      rig.git('checkout', '--', 'system/notes.json')
    }
  })

  it('a guard: the file the commit wrote is still doubted at the next look (its entry has no stat data), and an edit of it in place is seen', async () => {
    later()
    // The index git wrote last (the test above: `git reset`) has no cache tree: the first commit writes one, the second splices it.
    await committing()
    await committing()
    startsNoted()
    const notes = join(rig.twinDir, 'system/notes.json')
    const text = readFileSync(notes, 'utf8')
    const before = quickClean(rig.twinDir, { anySize: true })
    assert.equal(before.clean, true, 'clean by content')
    assert.equal(before.staleStatData, true, 'its stat data proves nothing yet: the next snapshot refreshes it')
    const mtime = statSync(notes, { bigint: true }).mtimeNs
    try {
      forgetIndexRead()
      const fd = openSync(notes, 'r+')
      writeSync(fd, text.replace('level', 'LEVEL'), 0, 'utf8')
      closeSync(fd)
      utimesSync(notes, Number(mtime / 1000n) / 1e6, Number(mtime / 1000n) / 1e6)
      assert.equal(quickClean(rig.twinDir, { anySize: true }).clean, false, 'the edit is seen')
    } finally {
      await writeFile(notes, text)
    }
  })
})
