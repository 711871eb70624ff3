import { readFileSync } from 'node:fs'
import { crc32 } from 'node:zlib'
import { join } from 'node:path'
import { lstatBigData, S_IFMT, S_IFREG } from '@twinsync/sdk/light'
import { indexIdentity } from './index-flags.js'

/**
 * Speed (issue 22, session 29): a large twin's index, parsed, kept across runs in the twin's
 * cache (`.git/twinsync/cache/index-parsed.bin`) under the index's own checksum, so a run that
 * finds the index it parsed before (every unchanged snapshot, `plan` and `status` after the
 * first) takes the entries from the record instead of decoding 19,600 paths and blob ids one
 * native call each out of the index's bytes, and digesting them again (quick-status.ts's
 * `parseIndex`). Measured on the bench's scale twin (19,626 entries, a 2.5 MB index; fresh
 * process, `readIndex` alone, CPU): see docs/architecture.md's Speed table.
 *
 * What keys the record is git's SHA-1 of the index's body (its last 20 bytes, which git writes
 * and `readIndex` checks against the body at every read of an index not noted as checked: see
 * IndexNote below): an index with any other byte, a
 * rewrite by git, by `update-index`, by a snapshot, has another checksum and is parsed again (and
 * recorded again). An index written with `index.skipHash` (zeros, no checksum) is never recorded.
 * The record carries its own CRC-32 over everything it holds, so a record a power loss cut short
 * or zeroed, or one edited by hand, is refused whole and the index parsed as before. Session 47:
 * a CRC-32, not a SHA-1 (`TSIDX1`, refused now: parsed and recorded again once): the check is against damage, and a SHA-1 with no key proves
 * no more against a hand that can write the record; the record is 1.9 MB on the scale twin, and
 * SHA-1 costs about 13 instructions a byte under callgrind, CRC-32 about 4 (node's zlib). The
 * scale twin's one-file snapshot records it (quick-status.ts's recordIndexParse, with the record
 * made in one buffer) in 42.5 → 16.4 M instructions of the main thread, and a run reads it
 * (the draft's beginning) in about 154 → 140 M (figures: docs/architecture.md, Speed, session 47). Only an
 * index of at least `indexRecordLimit.entries` entries is recorded: a small one parses in less
 * time than the record takes to open.
 *
 * Layout: `TSIDX2\n\0`, the index's checksum (20 bytes), the CRC-32 of the rest (4, little-endian), then the
 * rest: count, entriesEnd, whether there is a cache tree, its start and end, the key text's
 * length in bytes (u32 LE each), the key (40 hex) and the names' key (40 hex), the entries'
 * stat data offsets (count u32), the key text's entry offsets (count + 1 u32, UTF-16 units), the
 * key text (UTF-8): `<mode> <blob id>\t<path>\0` an entry, as `parseIndex` made it.
 */

/** Below this many entries the index is parsed every time and no record kept. A test lowers it. */
export const indexRecordLimit = { entries: 2_000 }

const MAGIC = Buffer.from('TSIDX2\n\0', 'latin1')
const HASH = 20
const CHECK = 4
const HEAD = MAGIC.length + HASH + CHECK
const FIXED = 6 * 4 + 80

/** What a record gives back: `parseIndex`'s parse of the same bytes, and the names' key. */
export interface RecordedParse {
  entries: Map<string, { mode: string; sha: string }>
  paths: readonly string[]
  statAt: Uint32Array
  entriesEnd: number
  treeExtension: readonly [number, number] | undefined
  keyText: string
  keyAt: Uint32Array
  key: string
  namesKey: string
}

export function indexRecordPath(git: string): string {
  return join(git, 'twinsync', 'cache', 'index-parsed.bin')
}

/**
 * The index's bytes recorded as parsed before: their parse, the record, and the record file's
 * identity when it did not change while read (with whether it was `settled`: see IndexNote), else
 * undefined (no record, another index, any doubt). The caller has checked the bytes' checksum, or
 * found them noted. `noted`: the record file's identity an IndexNote gives; a record of that
 * identity was checked whole by an earlier run and is not checked again (its CRC-32).
 */
export function recordedParse(git: string, bytes: Buffer, noted?: string): (RecordedParse & { record: Buffer; identity: string | undefined; settled: boolean }) | undefined {
  if (!recordable(bytes)) return undefined
  const count = bytes.readUInt32BE(8)
  const trailer = bytes.subarray(bytes.length - HASH)
  const path = indexRecordPath(git)
  let record: Buffer
  let identity: string | undefined
  let settled = false
  try {
    const before = lstatBigData(path)
    // Only a plain file (session 51's review: a symlink's own identity was noted while the file it
    // names could be written over in place, unchecked); the index itself is taken as one only too.
    if (before === undefined || (Number(before.mode) & S_IFMT) !== S_IFREG) return undefined
    record = readFileSync(path)
    const after = lstatBigData(path)
    if (after !== undefined && indexIdentity(before) === indexIdentity(after)) {
      identity = indexIdentity(before)
      settled = settledSince(before)
    }
  } catch {
    return undefined
  }
  if (record.length < HEAD + FIXED || !record.subarray(0, MAGIC.length).equals(MAGIC)) return undefined
  if (!record.subarray(MAGIC.length, MAGIC.length + HASH).equals(trailer)) return undefined
  const rest = record.subarray(HEAD)
  if ((noted === undefined || identity !== noted) && crc32(rest) !== record.readUInt32LE(MAGIC.length + HASH)) return undefined
  const n = rest.readUInt32LE(0)
  const entriesEnd = rest.readUInt32LE(4)
  const hasTree = rest.readUInt32LE(8)
  const treeStart = rest.readUInt32LE(12)
  const treeEnd = rest.readUInt32LE(16)
  const textBytes = rest.readUInt32LE(20)
  if (n !== count || rest.length !== FIXED + 4 * n + 4 * (n + 1) + textBytes || entriesEnd > bytes.length - HASH) return undefined
  const key = rest.toString('latin1', 24, 64)
  const namesKey = rest.toString('latin1', 64, 104)
  const statAt = new Uint32Array(n)
  const keyAt = new Uint32Array(n + 1)
  // Copied out (the record's offsets need not be 4-byte aligned in the buffer Node read it into).
  rest.copy(new Uint8Array(statAt.buffer), 0, FIXED, FIXED + 4 * n)
  rest.copy(new Uint8Array(keyAt.buffer), 0, FIXED + 4 * n, FIXED + 4 * n + 4 * (n + 1))
  const keyText = rest.toString('utf8', FIXED + 4 * n + 4 * (n + 1))
  if (keyAt[0] !== 0 || keyAt[n] !== keyText.length) return undefined
  const entries = new Map<string, { mode: string; sha: string }>()
  const paths = new Array<string>(n)
  for (let i = 0; i < n; i++) {
    const from = keyAt[i] as number
    const to = keyAt[i + 1] as number
    // `<mode> <sha>\t<path>\0`: 6 + 1 + 40 + 1, a path of at least one character, the NUL.
    if (to < from + 50 || keyText.charCodeAt(from + 6) !== 32 || keyText.charCodeAt(from + 47) !== 9 || keyText.charCodeAt(to - 1) !== 0) return undefined
    const mode = keyText.startsWith('100644', from) ? '100644' : keyText.startsWith('100755', from) ? '100755' : keyText.startsWith('120000', from) ? '120000' : undefined
    if (mode === undefined) return undefined
    const path = keyText.slice(from + 48, to - 1)
    entries.set(path, { mode, sha: keyText.slice(from + 7, from + 47) })
    paths[i] = path
  }
  if (entries.size !== n) return undefined
  return { entries, paths, statAt, entriesEnd, treeExtension: hasTree === 1 ? [treeStart, treeEnd] : undefined, keyText, keyAt, key, namesKey, record, identity, settled }
}

/**
 * Speed (issue 22, session 51): the note of the index and the record last checked whole
 * (`.git/twinsync/cache/index-checked`), so that a run reading an index it read before (every
 * unchanged snapshot after the first, `plan`, `status`) does not hash its 2.5 MB again (SHA-1,
 * about 30 M instructions under callgrind on the scale twin) nor the record's 1.9 MB (CRC-32,
 * about 8 M). What the note holds: the index file's identity (inode, size, mtime and ctime, to the
 * nanosecond: index-flags.ts's indexIdentity), its trailing checksum, and the record file's
 * identity; written by readIndex (quick-status.ts) after it checked both whole, and only for a
 * file whose ctime lies far enough before that check (below); and (session 53) by
 * noteWrittenIndex (quick-status.ts) at the end of a snapshot that put its spliced index in place
 * itself, for the index and the record it wrote, read back and compared with the bytes it made
 * (the same look, and the same rule on ctime). Measured on the scale twin after a
 * first snapshot (19,626 entries; `readIndex` alone in a fresh process of the built code, its
 * instructions less those of the same process that only imports it; callgrind, 2 runs each):
 * 189.1 / 199.5 → 150.9 / 153.5 M. Whole snapshots: docs/architecture.md's Speed table (session 51).
 *
 * What each check protected against, and what stands for it now:
 * - Another writer (git's `add`, `update-index`, `status` refreshing the index, a person, a
 *   snapshot's swap; a record written again): every write, truncation, rename or `utimes` moves
 *   the file's ctime, which nobody can set back (only a change of the system clock), and a
 *   rename in its place is another inode: the identity differs, and the file is checked whole as
 *   before. git's own writes are renames of a new file: a new inode each time.
 * - A write the check sees half of (a file changed while read): readIndex and recordedParse take
 *   the identity before and after reading; a file whose identity moved is not noted nor trusted.
 * - A write in the same clock tick as the change the note saw (ctime is the kernel's coarse
 *   clock, a few ms; whole seconds on some filesystems): git's racy case. A file is noted only when
 *   its ctime lies `settle` before the check (100 ms with nanosecond times, two seconds with
 *   whole seconds), so any later write has a later ctime.
 * - A torn write (a kill): both files are written whole beside and renamed in (git's lock file,
 *   writeRecord); a power loss that lost data the filesystem had counted, or bytes that rot on
 *   the disk after they were checked, keep the identity: the one thing not caught any more. git
 *   itself stopped checking the index's checksum at every read for that reason in 2.13
 *   (a33fc72fe9, "read-cache: force_verify_index_checksum": read-cache.c's verify_hdr checks it
 *   only when `verify_index_checksum` is set, which builtin/fsck.c alone sets), and an index git
 *   itself rewrote after such damage would carry it on unseen.
 * - A record for another index (stale): the record is still keyed by the index's checksum, whose
 *   trailing bytes are compared at every read (20 bytes), and the note names that checksum too.
 * The index and the record are local files of the twin's `.git`, written by TwinSync and git on
 * this machine: nothing fetched from a mirror names or writes them (fetch-refs.ts writes objects
 * and refs under `refs/`), and a twin copied or restored from elsewhere has other inodes and
 * ctimes, so it is checked whole once.
 */
export interface IndexNote {
  index: string
  trailer: string
  record: string | undefined
}

/** The clock a note is judged by (a test moves it on: a file's ctime cannot be set back). */
export const noteClock = { nowNs: (): bigint => BigInt(Date.now()) * 1_000_000n }

export function indexNotePath(git: string): string {
  return join(git, 'twinsync', 'cache', 'index-checked')
}

const NOTE = 'twinsync index checked 1'
const IDENTITY = /^\d+:\d+:\d+:\d+$/

/** The note, undefined when absent or not one. */
export function readIndexNote(git: string): IndexNote | undefined {
  let text: string
  try {
    text = readFileSync(indexNotePath(git), 'latin1')
  } catch {
    return undefined
  }
  const [head, index, trailer, record, end] = text.split('\n')
  if (head !== NOTE || end !== '' || index === undefined || !IDENTITY.test(index) || trailer === undefined || !/^[0-9a-f]{40}$/.test(trailer) || record === undefined || (record !== '-' && !IDENTITY.test(record))) return undefined
  return { index, trailer, record: record === '-' ? undefined : record }
}

/** The note's text (quick-status.ts writes it with writeRecord). */
export function indexNoteText(note: IndexNote): string {
  return `${NOTE}\n${note.index}\n${note.trailer}\n${note.record ?? '-'}\n`
}

/**
 * Whether a file of this ctime may be noted now: every write after now gives it a later ctime.
 * The kernel stamps ctime from its coarse clock (a tick behind: FILE_CLOCK_LAG_MS in
 * quick-status.ts); a whole-second ctime (a filesystem without finer times) needs two seconds.
 */
export function settledSince(info: { ctimeNs: bigint }): boolean {
  const slack = info.ctimeNs % 1_000_000_000n === 0n ? COARSE_SLACK : FINE_SLACK
  return info.ctimeNs <= noteClock.nowNs() - slack
}

/**
 * How long before a moment a file's time must lie for a write after that moment to give it a later
 * one (git's racy rule): with nanosecond times, the kernel's coarse clock's lag and more; with
 * whole-second times, two seconds. One rule for the index note (settledSince) and quick-status.ts's
 * racy entries and folders.
 */
export const FINE_SLACK = 100_000_000n
export const COARSE_SLACK = 2_000_000_000n

/**
 * Whether `fresh` holds the index `old` (whose entries' stat data begin at `statAt`) but for the
 * entries' stat data: every byte the same (header, each entry's mode, blob id, flags and path,
 * the extensions) but ctime, mtime, device, inode, owner, group and size, the bytes `parseIndex`
 * never reads; the checksum aside. Then `old`'s parse is `fresh`'s too, byte for byte: what
 * `git update-index --refresh` writes (atomic-snapshot.ts's refreshIndex; figure: quick-status.ts's
 * recordRefreshedIndex). Compared range by range, in place (one native compare an entry: the bytes
 * from the end of one entry's stat data to the start of the next's, each entry's mode apart).
 *
 * Speed (issue 22, session 52): it set `fresh`'s stat data aside and put `old`'s in its place, 9
 * fields an entry through DataView, compared the whole, and put them back: on the scale twin's
 * refreshed index (19,626 entries), alone in a fresh process less the process without the call
 * (callgrind), about 185 M instructions; range by range about 112 M.
 */
export function sameButStatData(old: Buffer, statAt: Uint32Array, fresh: Buffer): boolean {
  if (old.length !== fresh.length || old.length < 12 + HASH) return false
  const end = old.length - HASH
  let from = 0
  for (let i = 0; i < statAt.length; i++) {
    const at = statAt[i] as number
    // Stat data: ctime, mtime, dev, ino (24 bytes), the mode (4, compared), uid, gid, size (12).
    if (at < from || at + 40 > end) return false
    if (old.compare(fresh, from, at, from, at) !== 0 || old.readUInt32BE(at + 24) !== fresh.readUInt32BE(at + 24)) return false
    from = at + 40
  }
  return old.compare(fresh, from, end, from, end) === 0
}

/** Whether the index is large enough to record, and has a checksum to key the record by. */
export function recordable(bytes: Buffer): boolean {
  return bytes.length >= 12 + HASH && bytes.readUInt32BE(8) >= indexRecordLimit.entries && !isZero(bytes.subarray(bytes.length - HASH))
}

/** The record of this parse of `bytes` (`recordable`), to write (quick-status.ts's `writeRecord`). */
export function parseRecord(bytes: Buffer, parsed: Omit<RecordedParse, 'entries'>): Buffer {
  const n = parsed.paths.length
  const textBytes = Buffer.byteLength(parsed.keyText, 'utf8')
  // One buffer, the rest written in place after the head (no copy of the text, none of the whole).
  const record = Buffer.alloc(HEAD + FIXED + 4 * n + 4 * (n + 1) + textBytes)
  const rest = record.subarray(HEAD)
  writeFixed(rest, parsed, textBytes)
  Buffer.from(parsed.statAt.buffer, parsed.statAt.byteOffset, 4 * n).copy(rest, FIXED)
  Buffer.from(parsed.keyAt.buffer, parsed.keyAt.byteOffset, 4 * (n + 1)).copy(rest, FIXED + 4 * n)
  rest.write(parsed.keyText, FIXED + 4 * n + 4 * (n + 1), 'utf8')
  MAGIC.copy(record, 0)
  bytes.copy(record, MAGIC.length, bytes.length - HASH)
  record.writeUInt32LE(crc32(rest), MAGIC.length + HASH)
  return record
}

/**
 * parseRecord's record of `bytes`, an index spliced in place (cache-tree.ts's rewriteInPlace: the
 * entries at the positions `rewritten` given another mode or blob id, none added or removed),
 * made from `old`, the record of the index it was spliced from, whose entries' offsets (`statAt`,
 * `keyAt`) `parsed` has: `old` copied, its head written again (the fixed fields, the keys, the
 * checksum), and the rewritten entries' lines of the key text written over theirs (the same
 * length). Undefined (parseRecord then) when `old` is not of `parsed`'s count and offsets or its
 * key text is not ASCII (a byte a character: the lines' offsets are keyAt's).
 *
 * The CRC-32 is not computed again over the whole record: CRC-32 is affine over GF(2), so for two
 * messages of one length crc(new) = crc(old) ⊕ crc₀(old ⊕ new), crc₀ the bare remainder (no
 * initial or final inversion), and old ⊕ new is zero outside the spans written; each span's
 * crc₀ is shifted past the zeros after it (multiplied by x^(8·n) modulo the polynomial, as
 * zlib's crc32_combine). core/test/index-record.test.ts checks the record against parseRecord's
 * byte for byte.
 *
 * Speed (issue 22, session 50): the scale twin's one-file snapshot recorded its new index's parse
 * (2.1 MB: the key text encoded again, the CRC-32 over all of it) in 16.8 M instructions of the
 * main thread (callgrind between marks); made from the old record, 6.0 M (most of it copies).
 */
export function patchedRecord(old: Buffer, bytes: Buffer, parsed: Omit<RecordedParse, 'entries'>, rewritten: readonly number[]): Buffer | undefined {
  const n = parsed.paths.length
  const textAt = FIXED + 4 * n + 4 * (n + 1)
  if (old.length < HEAD + textAt || !old.subarray(0, MAGIC.length).equals(MAGIC) || old.readUInt32LE(HEAD) !== n) return undefined
  const textBytes = old.readUInt32LE(HEAD + 20)
  if (old.length !== HEAD + textAt + textBytes || textBytes !== parsed.keyText.length || parsed.keyAt[n] !== textBytes) return undefined
  // The offsets are those the old record holds (the same entries, each of the same size and line length).
  const offsets = old.subarray(HEAD + FIXED, HEAD + textAt)
  if (!offsets.equals(Buffer.concat([Buffer.from(parsed.statAt.buffer, parsed.statAt.byteOffset, 4 * n), Buffer.from(parsed.keyAt.buffer, parsed.keyAt.byteOffset, 4 * (n + 1))]))) return undefined
  const record = Buffer.allocUnsafe(old.length)
  old.copy(record)
  const rest = record.subarray(HEAD)
  writeFixed(rest, parsed, textBytes)
  const spans: Array<[number, number]> = [[0, FIXED]]
  for (const i of rewritten) {
    const from = parsed.keyAt[i] as number
    const to = parsed.keyAt[i + 1] as number
    const line = parsed.keyText.slice(from, to)
    if (!/^[\x00-\x7f]*$/.test(line)) return undefined
    rest.write(line, textAt + from, 'latin1')
    spans.push([textAt + from, textAt + to])
  }
  bytes.copy(record, MAGIC.length, bytes.length - HASH)
  let crc = old.readUInt32LE(MAGIC.length + HASH)
  const was = old.subarray(HEAD)
  for (const [from, to] of spans) {
    const difference = Buffer.allocUnsafe(to - from)
    for (let k = 0; k < difference.length; k++) difference[k] = (was[from + k] as number) ^ (rest[from + k] as number)
    // crc₀ of the span's difference: zlib's crc32 started from all ones, its final inversion undone.
    const bare = (crc32(difference, 0xffffffff) ^ 0xffffffff) >>> 0
    crc = (crc ^ multModP(xToThe8n(rest.length - to), bare)) >>> 0
  }
  record.writeUInt32LE(crc, MAGIC.length + HASH)
  return record
}

/** The record's fixed fields after its head (parseRecord's layout). */
function writeFixed(rest: Buffer, parsed: Omit<RecordedParse, 'entries'>, textBytes: number): void {
  rest.writeUInt32LE(parsed.paths.length, 0)
  rest.writeUInt32LE(parsed.entriesEnd, 4)
  rest.writeUInt32LE(parsed.treeExtension === undefined ? 0 : 1, 8)
  rest.writeUInt32LE(parsed.treeExtension?.[0] ?? 0, 12)
  rest.writeUInt32LE(parsed.treeExtension?.[1] ?? 0, 16)
  rest.writeUInt32LE(textBytes, 20)
  rest.write(parsed.key, 24, 40, 'latin1')
  rest.write(parsed.namesKey, 64, 40, 'latin1')
}

/** CRC-32's polynomial, bits reversed (zlib's). */
const POLY = 0xedb88320

/** a·b modulo the polynomial, bits reversed (zlib's multmodp); `a` is never 0 here (a power of x). */
function multModP(a: number, b: number): number {
  let m = 0x80000000
  let p = 0
  for (;;) {
    if ((a & m) !== 0) {
      p ^= b
      if ((a & (m - 1)) === 0) break
    }
    m >>>= 1
    b = (b & 1) !== 0 ? (b >>> 1) ^ POLY : b >>> 1
  }
  return p >>> 0
}

/** x^(2^k) modulo the polynomial, k = 0…31 (zlib's x2n_table). */
const X2N = ((): number[] => {
  const table: number[] = [0x40000000]
  for (let k = 1; k < 32; k++) table.push(multModP(table[k - 1] as number, table[k - 1] as number))
  return table
})()

/** x^(8·bytes) modulo the polynomial (zlib's x2nmodp(bytes, 3)): a remainder shifted past that many zero bytes is multiplied by it. */
function xToThe8n(bytes: number): number {
  let p = 0x80000000
  for (let k = 3, n = bytes; n > 0; k++, n = Math.floor(n / 2)) if (n % 2 === 1) p = multModP(X2N[k & 31] as number, p)
  return p
}

function isZero(bytes: Buffer): boolean {
  for (const byte of bytes) if (byte !== 0) return false
  return true
}
