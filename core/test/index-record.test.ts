import { strict as assert } from 'node:assert'
import { createHash } from 'node:crypto'
import { copyFileSync, existsSync, openSync, closeSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, truncateSync, utimesSync, writeFileSync, writeSync } from 'node:fs'
import { readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { SnapshotService } from '../src/snapshot/snapshot-service.js'
import { indexNotePath, indexNoteText, indexRecordLimit, indexRecordPath, noteClock, parseRecord, patchedRecord, readIndexNote, sameButStatData } from '../src/twin/index-record.js'
import { indexIdentity } from '../src/twin/index-flags.js'
import { forgetIndexRead, quickClean, readHead, readIndex, rememberClean } from '../src/twin/quick-status.js'
import { notesProvider } from './support/notes-provider.js'
import { type UnitRig } from './support/unit-container.js'
import { listedBy, snapshotted } from './support/index-rig.js'

/**
 * Whether two records of one index are the same but for the key (and so their CRC-32): a
 * snapshot's spliced index has a key chained from the index it was spliced from (cache-tree.ts's
 * splicedKey), parsing it gives parseIndex's. Record layout: index-record.ts.
 */
function sameButKey(written: Buffer, parsed: Buffer): boolean {
  const key = [32 + 24, 32 + 64]
  return written.length === parsed.length && written.subarray(0, 28).equals(parsed.subarray(0, 28)) && written.subarray(32, key[0]).equals(parsed.subarray(32, key[0])) && written.subarray(key[1]).equals(parsed.subarray(key[1]))
}

/** The key a record holds (index-record.ts's layout). */
const recordedKey = (record: Buffer): string => record.toString('latin1', 32 + 24, 32 + 64)

/** The twin's index parsed from its bytes (its record removed), and recorded clean with that key, as `git status` finding it clean records it. */
async function parsedAfresh(rig: UnitRig): Promise<void> {
  rmSync(indexRecordPath(join(rig.twinDir, '.git')), { force: true })
  const index = readIndex(rig.twinDir)
  const head = readHead(rig.twinDir)
  assert.ok(index !== undefined && typeof head === 'string')
  await rememberClean(rig.twinDir, head, index)
}

/**
 * git rewrites the index: `system/notes.json` (its text holding "FIRST") written as "FIRSt" and
 * added, the same size (one blob id for another); `sameTimes` then sets the index's mtime back.
 * `read` must give git's listing, with the new blob id (`more` checks what else), and again after
 * the change is undone.
 */
async function rewrittenByGit(rig: UnitRig, text: string, sameTimes: () => void, read: () => readonly string[] | undefined, more: () => void = () => {}): Promise<void> {
  await writeFile(join(rig.twinDir, 'system/notes.json'), text.replace('first', 'FIRSt'))
  rig.git('add', 'system/notes.json')
  sameTimes()
  try {
    const seen = read()
    assert.deepEqual(seen, listedBy(rig))
    assert.ok(seen?.some((line) => line.startsWith('system/notes.json ') && line.endsWith(rig.git('rev-parse', ':system/notes.json'))), 'the new blob id')
    more()
  } finally {
    rig.git('reset', '--quiet')
    rig.git('checkout', '--', 'system/notes.json')
  }
  assert.deepEqual(read(), listedBy(rig))
}

/**
 * index-record.ts keeps a large index's parse across runs under the index's checksum. Whatever
 * the record says, `readIndex` must give what git lists (`ls-files --stage`): an index git
 * rewrote (even to the same size and mtime) is parsed again, and a record cut short, zeroed or
 * with one byte changed is refused.
 */
describe('the parsed index kept across runs (index-record.ts)', function () {
  this.timeout(60_000)
  let rig: UnitRig
  const limit = indexRecordLimit.entries

  before(async () => {
    indexRecordLimit.entries = 1
    rig = await snapshotted(notesProvider('notes'))
    // The snapshot recorded its spliced index under a chained key: these tests start from a parse.
    await parsedAfresh(rig)
  })
  after(async () => {
    indexRecordLimit.entries = limit
    await rig?.cleanup()
  })

  const indexFile = () => join(rig.twinDir, '.git', 'index')
  const recordFile = () => indexRecordPath(join(rig.twinDir, '.git'))
  /** The index as git lists it, and as readIndex read it. */
  const listed = () => listedBy(rig)
  /** quick-status's key of the entries (paths, modes, blob ids), from git's listing. */
  const listedKey = () =>
    createHash('sha1')
      .update(
        rig
          .git('ls-files', '--stage', '-z')
          .split('\0')
          .filter(Boolean)
          .map((line) => `${line.split(' ').slice(0, 2).join(' ')}\t${line.slice(line.indexOf('\t') + 1)}\0`)
          .join(''),
      )
      .digest('hex')
  const read = () => {
    const index = readIndex(rig.twinDir)
    assert.ok(index !== undefined, 'the index is read')
    return [...index.entries].map(([path, e]) => `${path} ${e.mode} ${e.sha}`)
  }
  /** The same bytes under another inode: this process's last parse is not the one taken, the record is. */
  const sameIndexAgain = () => {
    copyFileSync(indexFile(), `${indexFile()}.copy`)
    renameSync(`${indexFile()}.copy`, indexFile())
  }

  it('is written for the index read, and the same index read again (another inode) is what git lists', () => {
    const first = read()
    const record = readFileSync(recordFile())
    const index = readFileSync(indexFile())
    assert.ok(record.subarray(8, 28).equals(index.subarray(index.length - 20)), "the record is keyed by the index's checksum")
    sameIndexAgain()
    assert.deepEqual(read(), listed())
    assert.deepEqual(read(), first)
    assert.equal(readIndex(rig.twinDir)?.key, listedKey())
  })

  it('an index git rewrote with another blob, of the same size and mtime, is parsed again: never taken from the record of the one before', async () => {
    const text = await readFile(join(rig.twinDir, 'system/notes.json'), 'utf8')
    await writeFile(join(rig.twinDir, 'system/notes.json'), text.replace('first', 'FIRST'))
    rig.git('add', 'system/notes.json')
    read()
    const before = statSync(indexFile(), { bigint: true })
    // The same size (one blob id for another) and the mtime set back: only the bytes (and the ctime) differ.
    const sameTimes = () => {
      assert.equal(statSync(indexFile()).size, Number(before.size))
      utimesSync(indexFile(), before.atime, before.mtime)
    }
    await rewrittenByGit(rig, text, sameTimes, read, () => {
      const record = readFileSync(recordFile())
      const index = readFileSync(indexFile())
      assert.ok(record.subarray(8, 28).equals(index.subarray(index.length - 20)), 'recorded again for the new index')
    })
  })

  it('a record cut short, zeroed, or with one byte changed (a blob id, an offset, the key) is refused and the index parsed', () => {
    read()
    const good = readFileSync(recordFile())
    const n = good.readUInt32LE(32)
    const keyTextAt = 32 + 104 + 4 * n + 4 * (n + 1)
    const flip = (at: number) => {
      const bad = Buffer.from(good)
      bad[at] = bad[at] === 0x30 ? 0x31 : 0x30
      return bad
    }
    const bad: Array<[string, Buffer]> = [
      ['cut short', good.subarray(0, good.length - 7)],
      ['zeroed', Buffer.alloc(good.length)],
      ['empty', Buffer.alloc(0)],
      ["a blob id's digit", flip(keyTextAt + 7)],
      ["an entry's offset", flip(32 + 104 + 4 * n + 4)],
      ['the key', flip(32 + 24)],
    ]
    try {
      for (const [what, bytes] of bad) {
        writeFileSync(recordFile(), bytes)
        sameIndexAgain()
        const index = readIndex(rig.twinDir)
        assert.deepEqual(read(), listed(), what)
        assert.equal(index?.key, listedKey(), what)
        assert.ok(readFileSync(recordFile()).equals(good), `${what}: the record is written again`)
      }
    } finally {
      writeFileSync(recordFile(), good)
    }
    const quick = quickClean(rig.twinDir, { anySize: true })
    assert.equal(quick.clean, true, JSON.stringify({ ...quick, index: undefined }))
  })
})

/**
 * index-record.ts's IndexNote: a large index and its record checked whole once (the index's
 * SHA-1, the record's CRC-32) are not checked again while neither file changed (inode, size,
 * mtime, ctime). Every change a write can make must still be seen: a byte of an entry written
 * over in place with the size and mtime kept (only the ctime moves), the file cut short, the file
 * rewritten by git with the same size and mtime, the record written over in place; and a file
 * changed within the slack of its check is never noted (git's racy case).
 */
describe('an index and its record checked whole once, noted by their files (IndexNote)', function () {
  this.timeout(60_000)
  let rig: UnitRig
  const limit = indexRecordLimit.entries
  const clock = noteClock.nowNs
  /** Later than now: the files just written count as settled (a test cannot set a ctime back). */
  const later = () => {
    noteClock.nowNs = () => clock() + 10_000_000_000n
  }

  before(async () => {
    indexRecordLimit.entries = 1
    rig = await snapshotted(notesProvider('notes'))
    await parsedAfresh(rig)
  })
  afterEach(() => {
    noteClock.nowNs = clock
  })
  after(async () => {
    indexRecordLimit.entries = limit
    await rig?.cleanup()
  })

  const git = () => join(rig.twinDir, '.git')
  const indexFile = () => join(git(), 'index')
  const recordFile = () => indexRecordPath(git())
  const identityOf = (path: string) => {
    const info = statSync(path, { bigint: true })
    return indexIdentity({ ino: info.ino, size: info.size, mtimeNs: info.mtimeNs, ctimeNs: info.ctimeNs })
  }
  const listed = () => listedBy(rig)
  const entriesRead = () => {
    const index = readIndex(rig.twinDir)
    return index === undefined ? undefined : [...index.entries].map(([path, e]) => `${path} ${e.mode} ${e.sha}`)
  }
  /** The index as a new file (another inode), its mtime and the record's a whole second (utimes can set them back exactly), read and noted. */
  const noted = () => {
    copyFileSync(indexFile(), `${indexFile()}.copy`)
    renameSync(`${indexFile()}.copy`, indexFile())
    utimesSync(indexFile(), 1_700_000_000, 1_700_000_000)
    utimesSync(recordFile(), 1_700_000_000, 1_700_000_000)
    later()
    assert.deepEqual(entriesRead(), listed())
    const note = readIndexNote(git())
    assert.equal(note?.index, identityOf(indexFile()), 'the index is noted')
    return note
  }
  /** Write `bytes` at `at` in the file, in place (the same inode), and set its mtime back. */
  const overwrite = (path: string, at: number, bytes: Buffer, mtime?: number) => {
    const fd = openSync(path, 'r+')
    try {
      writeSync(fd, bytes, 0, bytes.length, at)
    } finally {
      closeSync(fd)
    }
    if (mtime !== undefined) utimesSync(path, mtime, mtime)
  }

  it('is written once both were checked whole, naming the index, its checksum and the record', () => {
    const note = noted()
    const index = readFileSync(indexFile())
    assert.equal(note?.trailer, index.toString('hex', index.length - 20))
    // The record was written by the run before (parsedAfresh): settled now, checked whole, noted.
    assert.equal(note?.record, identityOf(recordFile()))
  })

  it('a file just written (within the slack) is not noted: a write in the same clock tick keeps its ctime', () => {
    rmSync(indexNotePath(git()), { force: true })
    copyFileSync(indexFile(), `${indexFile()}.copy`)
    renameSync(`${indexFile()}.copy`, indexFile())
    assert.deepEqual(entriesRead(), listed())
    assert.equal(existsSync(indexNotePath(git())), false)
  })

  it('a noted index is not hashed again, nor its noted record checked again (both fail before session 51: checked at every read)', () => {
    noted()
    // The checksum written over with another (the file's ctime moves), then the note made to name the file as it is now:
    // a run that hashed the index would refuse it; the note says it was checked.
    const index = readFileSync(indexFile())
    const trailer = Buffer.from(index.subarray(index.length - 20))
    trailer[0] = (trailer[0] as number) ^ 0xff
    overwrite(indexFile(), index.length - 20, trailer, 1_700_000_000)
    const record = readFileSync(recordFile())
    // The record's CRC-32 written over: a run that checked it would refuse the record and parse the index again.
    overwrite(recordFile(), 28, Buffer.from([(record[28] as number) ^ 0xff]))
    // The record's checksum key follows the index's new trailer (the record keyed by it, index-record.ts's layout).
    overwrite(recordFile(), 8, trailer)
    const note = { index: identityOf(indexFile()), trailer: trailer.toString('hex'), record: identityOf(recordFile()) }
    writeFileSync(indexNotePath(git()), indexNoteText(note))
    const recordBefore = readFileSync(recordFile())
    try {
      assert.deepEqual(entriesRead(), listed(), 'the noted index read, not hashed')
      assert.ok(readFileSync(recordFile()).equals(recordBefore), 'the noted record taken as it is, not checked and written again')
    } finally {
      writeFileSync(indexFile(), index)
      writeFileSync(recordFile(), record)
    }
  })

  it("a byte of an entry written over in place, the size and mtime kept (only the ctime moves), is refused as before", () => {
    noted()
    const index = readFileSync(indexFile())
    // The first entry's blob id (offset 12 + 40), one byte.
    const at = 12 + 40
    try {
      overwrite(indexFile(), at, Buffer.from([(index[at] as number) ^ 0x01]), 1_700_000_000)
      const now = statSync(indexFile(), { bigint: true })
      assert.equal(now.size, BigInt(index.length))
      assert.equal(now.mtimeMs, 1_700_000_000_000n)
      assert.equal(entriesRead(), undefined, 'the checksum no longer matches: refused (git is asked)')
    } finally {
      writeFileSync(indexFile(), index)
    }
    assert.deepEqual(entriesRead(), listed())
  })

  it('the index cut short is refused as before', () => {
    noted()
    const index = readFileSync(indexFile())
    try {
      truncateSync(indexFile(), index.length - 1)
      utimesSync(indexFile(), 1_700_000_000, 1_700_000_000)
      assert.equal(entriesRead(), undefined)
    } finally {
      writeFileSync(indexFile(), index)
    }
    assert.deepEqual(entriesRead(), listed())
  })

  it('an index git rewrote with another blob, of the same size and mtime, is parsed again', async () => {
    const text = await readFile(join(rig.twinDir, 'system/notes.json'), 'utf8')
    await writeFile(join(rig.twinDir, 'system/notes.json'), text.replace('first', 'FIRST'))
    rig.git('add', 'system/notes.json')
    noted()
    const size = statSync(indexFile()).size
    const sameTimes = () => {
      assert.equal(statSync(indexFile()).size, size)
      utimesSync(indexFile(), 1_700_000_000, 1_700_000_000)
    }
    await rewrittenByGit(rig, text, sameTimes, entriesRead)
  })

  it('a noted record written over in place (a blob id, the size kept) is checked again and refused: the index parsed, the record written again', () => {
    noted()
    const good = readFileSync(recordFile())
    const n = good.readUInt32LE(32)
    const keyTextAt = 32 + 104 + 4 * n + 4 * (n + 1)
    overwrite(recordFile(), keyTextAt + 7, Buffer.from([good[keyTextAt + 7] === 0x30 ? 0x31 : 0x30]), 1_700_000_000)
    assert.equal(statSync(recordFile(), { bigint: true }).mtimeMs, 1_700_000_000_000n)
    // The index as it was (noted, not read again by this process: as a new run reads it).
    forgetIndexRead()
    assert.deepEqual(entriesRead(), listed())
    assert.ok(readFileSync(recordFile()).equals(good), 'the record is written again')
  })

  it("a record that is a symlink is never taken: the file it names written over in place is not read unchecked (session 51's review; fails on d4d0d1b7)", () => {
    noted()
    const good = readFileSync(recordFile())
    // The record moved aside and named by a symlink in its place; read and noted through the link.
    const real = `${recordFile()}.real`
    copyFileSync(recordFile(), real)
    symlinkSync(real, `${recordFile()}.link`)
    renameSync(`${recordFile()}.link`, recordFile())
    utimesSync(real, 1_700_000_000, 1_700_000_000)
    forgetIndexRead()
    later()
    assert.deepEqual(entriesRead(), listed())
    // The file the link names written over in place (a blob id, the size kept): the link's own identity does not move.
    const n = good.readUInt32LE(32)
    const keyTextAt = 32 + 104 + 4 * n + 4 * (n + 1)
    overwrite(real, keyTextAt + 7, Buffer.from([good[keyTextAt + 7] === 0x30 ? 0x31 : 0x30]), 1_700_000_000)
    forgetIndexRead()
    assert.deepEqual(entriesRead(), listed(), 'the blob ids git lists, not the written-over record\'s')
    rmSync(real, { force: true })
  })
})

/**
 * A snapshot that changed a few files splices its new index from the one it read (cache-tree.ts)
 * and records that index's parse itself (quick-status.ts, recordIndexParse), so the next run does
 * not parse it again. The record must be exactly the one readIndex makes by parsing the bytes.
 */
describe("a snapshot's spliced index recorded as parsed (recordIndexParse)", function () {
  this.timeout(60_000)
  let rig: UnitRig
  const limit = indexRecordLimit.entries
  const paths = ['system/notes.json', 'system/notes-extra.json']

  before(async () => {
    indexRecordLimit.entries = 1
    // Two documents, the second only while /etc/notes-extra exists: a file changed, added, removed.
    const notes = notesProvider('notes', {
      twinPaths: paths,
      async collect({ ctx }) {
        const text = (await ctx.host.readTextIfExists('/etc/notes')) ?? ''
        const extra = await ctx.host.readTextIfExists('/etc/notes-extra')
        const documents = [{ path: 'system/notes.json', content: `${JSON.stringify({ text })}\n` }]
        if (extra !== undefined) documents.push({ path: 'system/notes-extra.json', content: `${JSON.stringify({ extra })}\n` })
        return { state: { text }, documents, diagnostics: [] }
      },
    })
    rig = await snapshotted(notes)
  })
  after(async () => {
    indexRecordLimit.entries = limit
    await rig?.cleanup()
  })

  const indexFile = () => join(rig.twinDir, '.git', 'index')
  const recordFile = () => indexRecordPath(join(rig.twinDir, '.git'))

  for (const [what, change] of [
    ['a file changed', async () => writeFile(join(rig.root, 'etc/notes'), 'second\n')],
    ['a file added', async () => writeFile(join(rig.root, 'etc/notes-extra'), 'more\n')],
    ['a file changed beside another', async () => writeFile(join(rig.root, 'etc/notes-extra'), 'more again\n')],
    ['a file removed', async () => rm(join(rig.root, 'etc/notes-extra'))],
  ] as const) {
    it(`${what}: the record is the new index's, byte for byte what parsing it records but for its chained key`, async () => {
      // A look first (as a snapshot's own), so the index read before the change is the one spliced from.
      const before = quickClean(rig.twinDir, { anySize: true }).index?.key
      await change()
      const result = await rig.container.resolve(SnapshotService).snapshot()
      assert.ok(result.commit !== undefined, 'the snapshot committed')
      const index = readFileSync(indexFile())
      const written = readFileSync(recordFile())
      assert.ok(written.subarray(8, 28).equals(index.subarray(index.length - 20)), "the record is keyed by the new index's checksum")
      // The next run reads it from the record (its CRC-32 holds: it is not parsed and recorded again), with the key the snapshot recorded the twin clean under.
      assert.equal(quickClean(rig.twinDir, { anySize: true }).clean, true, 'clean by the record, no git asked')
      assert.ok(readFileSync(recordFile()).equals(written), 'taken from the record as written')
      // Parsed from the bytes (another inode: not this process's last parse), recorded again.
      rmSync(recordFile())
      copyFileSync(indexFile(), `${indexFile()}.copy`)
      renameSync(`${indexFile()}.copy`, indexFile())
      const parsed = readIndex(rig.twinDir)
      assert.ok(parsed !== undefined, 'the index is read')
      const again = readFileSync(recordFile())
      assert.ok(sameButKey(written, again), 'the same record but for the key')
      // Session 50: the spliced key is chained (splicedKey), not the SHA-1 of the key text parsing gives: equal keys still mean equal entries.
      assert.notEqual(recordedKey(written), parsed.key, 'a chained key, not the one parsing gives')
      assert.notEqual(recordedKey(written), before, 'another key than the index spliced from')
      assert.equal(quickClean(rig.twinDir, { anySize: true }).clean, false, 'parsed again: the key the twin was recorded clean under is not this one, git is asked')
      await parsedAfresh(rig)
      assert.deepEqual(
        [...parsed.entries.keys()],
        rig
          .git('ls-files', '-z')
          .split('\0')
          .filter(Boolean),
      )
    })
  }
})

/**
 * An unchanged snapshot after one that committed refreshes the index's stat data (refreshIndex,
 * `git update-index --refresh`): git's rewrite has another checksum than the spliced index's
 * record. Its parse is the same but for stat data, so it is recorded under the new checksum
 * (recordRefreshedIndex), and the next run does not parse the index again. The record must be
 * exactly the one readIndex makes by parsing the bytes; any byte besides stat data differing,
 * and nothing is taken from the old parse.
 */
describe('an index git refreshed after a commit, recorded as parsed (recordRefreshedIndex)', function () {
  this.timeout(60_000)
  let rig: UnitRig
  const limit = indexRecordLimit.entries

  before(async () => {
    indexRecordLimit.entries = 1
    rig = await snapshotted(notesProvider('notes'))
  })
  after(async () => {
    indexRecordLimit.entries = limit
    await rig?.cleanup()
  })

  const indexFile = () => join(rig.twinDir, '.git', 'index')
  const recordFile = () => indexRecordPath(join(rig.twinDir, '.git'))

  it("the refreshed index's record is keyed by its checksum, byte for byte what parsing it records but for the spliced index's chained key", async () => {
    await writeFile(join(rig.root, 'etc/notes'), 'second\n')
    assert.ok((await rig.container.resolve(SnapshotService).snapshot()).commit !== undefined, 'the snapshot committed')
    const spliced = readFileSync(indexFile())
    assert.equal((await rig.container.resolve(SnapshotService).snapshot()).commit, undefined, 'nothing changed')
    const refreshed = readFileSync(indexFile())
    assert.ok(!refreshed.equals(spliced), "git refreshed the index's stat data")
    const written = readFileSync(recordFile())
    assert.ok(written.subarray(8, 28).equals(refreshed.subarray(refreshed.length - 20)), "the record is keyed by the refreshed index's checksum")
    // Parsed from the bytes (another inode: not this process's last parse), recorded again.
    rmSync(recordFile())
    copyFileSync(indexFile(), `${indexFile()}.copy`)
    renameSync(`${indexFile()}.copy`, indexFile())
    const parsed = readIndex(rig.twinDir)
    assert.ok(parsed !== undefined, 'the index is read')
    assert.ok(sameButKey(written, readFileSync(recordFile())), 'the same record but for the key')
    assert.deepEqual([...parsed.entries.keys()], rig.git('ls-files', '-z').split('\0').filter(Boolean))
  })

  it('only stat data may differ: a blob id, a flag, a path, an extension or the length, and the old parse is not taken', () => {
    const index = readIndex(rig.twinDir)
    assert.ok(index !== undefined && index.statAt.length > 0, 'the index is read')
    const old = index.bytes
    const at = index.statAt[0] as number
    const changed = (offset: number) => {
      const bytes = Buffer.from(old)
      bytes[offset] = (bytes[offset] as number) ^ 1
      return bytes
    }
    // Every stat field (ctime, mtime, dev, ino, uid, gid, size) and the checksum may differ.
    const stat = Buffer.from(old)
    for (const offset of [0, 4, 8, 12, 16, 20, 28, 32, 36]) stat.writeUInt32BE(0xdeadbeef, at + offset)
    stat.fill(7, old.length - 20)
    assert.equal(sameButStatData(old, index.statAt, stat), true, 'stat data and checksum only')
    assert.equal(sameButStatData(old, index.statAt, changed(at + 27)), false, 'the mode')
    assert.equal(sameButStatData(old, index.statAt, changed(at + 45)), false, 'a blob id')
    assert.equal(sameButStatData(old, index.statAt, changed(at + 61)), false, 'the flags')
    assert.equal(sameButStatData(old, index.statAt, changed(at + 62)), false, 'the path')
    assert.equal(sameButStatData(old, index.statAt, changed(8)), false, 'the header')
    assert.equal(sameButStatData(old, index.statAt, changed(index.entriesEnd)), false, 'an extension')
    assert.equal(sameButStatData(old, index.statAt, Buffer.from(old.subarray(0, old.length - 1))), false, 'the length')
    // The bytes compared are left as they were.
    const before = Buffer.from(stat)
    sameButStatData(old, index.statAt, stat)
    assert.ok(stat.equals(before), 'the fresh bytes are given back unchanged')
  })
})

/**
 * Session 50: a snapshot that rewrote entries in place (no path added or removed) makes its new
 * index's record from the old one (patchedRecord: the lines written over, the CRC-32 folded from
 * the old one's), which must be parseRecord's record byte for byte, its CRC-32 included.
 */
describe("a spliced index's record made from the old one (patchedRecord)", function () {
  it("is parseRecord's record byte for byte, on random rewrites (the first entry, the last, many)", () => {
    let seed = 7
    const random = (below: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31
      return seed % below
    }
    const hex = () => Array.from({ length: 40 }, () => '0123456789abcdef'[random(16)]).join('')
    const indexBytes = () => Buffer.from(Array.from({ length: 64 }, () => random(256)))
    for (let round = 0; round < 40; round++) {
      const n = 1 + random(300)
      const paths = Array.from({ length: n }, (_, i) => `etc/${'x'.repeat(random(30))}${String(i).padStart(4, '0')}`)
      const lines = paths.map((path) => `${random(2) === 0 ? '100644' : '100755'} ${hex()}\t${path}\0`)
      const keyAt = new Uint32Array(n + 1)
      lines.forEach((line, i) => (keyAt[i + 1] = (keyAt[i] as number) + line.length))
      const statAt = Uint32Array.from(paths.map((_, i) => 12 + 80 * i))
      const base = { paths, statAt, entriesEnd: 12 + 80 * n, treeExtension: random(2) === 0 ? undefined : ([12 + 80 * n + 8, 12 + 80 * n + 40 + random(9)] as const), keyAt, key: hex(), namesKey: hex() }
      const old = parseRecord(indexBytes(), { ...base, keyText: lines.join('') })
      const rewritten = [...new Set([round % 3 === 0 ? 0 : random(n), round % 3 === 1 ? n - 1 : random(n), ...Array.from({ length: random(round % 5 === 0 ? n : 3) }, () => random(n))])].sort((a, b) => a - b)
      const now = [...lines]
      for (const i of rewritten) now[i] = `${random(2) === 0 ? '100644' : '100755'} ${hex()}\t${paths[i]}\0`
      const parsed = { ...base, keyText: now.join(''), key: hex(), treeExtension: random(2) === 0 ? base.treeExtension : ([12 + 80 * n + 8, 12 + 80 * n + 48] as const) }
      const bytes = indexBytes()
      const patched = patchedRecord(old, bytes, parsed, rewritten)
      assert.ok(patched !== undefined, `round ${round}: made from the old record`)
      assert.ok(patched.equals(parseRecord(bytes, parsed)), `round ${round}: parseRecord's bytes (${rewritten.length} of ${n} rewritten)`)
    }
  })

  it('is not made from a record of other offsets or of a key text that is not ASCII', () => {
    const lines = ['100644 ' + 'a'.repeat(40) + '\tetc/ä\0', '100644 ' + 'b'.repeat(40) + '\tetc/b\0']
    const keyAt = Uint32Array.from([0, lines[0]!.length, lines[0]!.length + lines[1]!.length])
    const parsed = { paths: ['etc/ä', 'etc/b'], statAt: Uint32Array.from([12, 92]), entriesEnd: 172, treeExtension: undefined, keyText: lines.join(''), keyAt, key: 'c'.repeat(40), namesKey: 'd'.repeat(40) }
    const bytes = Buffer.alloc(64, 1)
    assert.equal(patchedRecord(parseRecord(bytes, parsed), bytes, parsed, [1]), undefined, 'a key text of more bytes than characters')
    const ascii = { ...parsed, paths: ['etc/a', 'etc/b'], keyText: lines.join('').replace('ä', 'a') }
    assert.ok(patchedRecord(parseRecord(bytes, ascii), bytes, ascii, [1]) !== undefined, 'ASCII')
    assert.equal(patchedRecord(parseRecord(bytes, ascii), bytes, { ...ascii, statAt: Uint32Array.from([12, 100]) }, [1]), undefined, 'other offsets')
  })
})
