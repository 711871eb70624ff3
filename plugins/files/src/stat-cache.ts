import { createHash, randomBytes } from 'node:crypto'
import { crc32 } from 'node:zlib'
import type { FileStat, ProviderCache } from '@twinsync/sdk'
import { cacheBytes, isRacy, retireKeys } from '@twinsync/sdk'
import type { ContentKind } from './content.js'
import type { Origin } from './state.js'

/** What reading a file once taught us, valid while its (size, mtime, ctime, inode) stay the same. */
export interface ContentVerdict {
  content: ContentKind | 'unhashed'
  sha256?: string
  /** For dpkg's comparison; kept only in the local cache, never in the twin. */
  md5?: string
  secretReason?: string
  /** Secrets: the keyed hash (see secretHashKey); the content itself is never kept. */
  secretHash?: string
}

/** Where a file under /etc comes from (see originOf): valid while the file and dpkg's database stay the same. */
export interface FileOrigin {
  origin: Origin
  package?: string
  divertedFrom?: string
}

/** The cache as read: its header's id, dpkg stamp and walk rules, and its log (see StatCache.save). */
interface BaseRead {
  id: string
  packages: string
  walk: string | undefined
  /** The log's bytes (empty: none taken). */
  log: Buffer
  /** A log was read (taken or not): removed once the cache is written whole. */
  logRead: boolean
}

/** A record made this run (a file read, or an origin worked out), written out by save(). */
interface Fresh {
  stat: Pick<FileStat, 'size' | 'mtimeMs' | 'ctimeMs' | 'ino' | 'dev'>
  /** 'link': a symlink's record, its target in the TEXT field (see rememberLink); 'dir': a folder's, its names (rememberListing). */
  content: ContentVerdict['content'] | 'link' | 'dir'
  /** sha256, md5, secretReason, secretHash, origin, package, divertedFrom, text: in the file's order. */
  strings: Array<string | null>
}

const CACHE_KEY = 'stat-cache'
/** What changed since the cache was last written whole (see StatCache.save): its records and the paths gone. */
const LOG_KEY = 'stat-cache-log'
/** A cache this large (bytes) has what changed written as a log beside it, not itself again. */
export const LOG_FROM = 64 * 1024
/** The log is folded into the cache (written whole) once it would be larger than this part of it. */
const LOG_SHARE = 16
/** The JSON stat cache before this format (files of 5 and 4 MB on the scale root): removed when this one is first written. */
const LEGACY_KEYS = ['stat-index', 'text-blobs']
const MAGIC = Buffer.from('TwinSync files stat cache 1\n', 'latin1')
const LOG_MAGIC = Buffer.from('TwinSync files stat cache log 1\n', 'latin1')
const CONTENT_KINDS: ReadonlyArray<Fresh['content']> = ['mirrored', 'binary', 'too-large', 'secret', 'unhashed', 'link', 'dir']
/** The string fields after the numbers, in order (Fresh.strings). */
const SHA256 = 0
const MD5 = 1
const SECRET_REASON = 2
const SECRET_HASH = 3
const ORIGIN = 4
const PACKAGE = 5
const DIVERTED_FROM = 6
const TEXT = 7
const FIELDS = 8
/** A folder's record: its names' classes (see lookupListing), in the field a file's sha256 takes. */
const CLASSES = SHA256
/** A mirrored file's record: its text's git blob id (see lookup), in the field a secret's keyed hash takes. */
const BLOB = SECRET_HASH
const NULL = 0xffffffff

/**
 * The stat cache, like git's index: a second collect of an unchanged tree takes each file's
 * verdict (hash, text or not, secret or not) and text from here instead of reading and hashing
 * it again. Stored in the provider cache, outside the twin; secrets' content never enters it.
 * Losing it only costs time.
 *
 * A file is trusted only while its size, mtime, ctime, inode and device are all exactly as
 * stored (times to the fraction of a millisecond the kernel gives), and never when it changed
 * within RACY_MS of the collect's start (git's "racily clean"): then it is read again.
 *
 * A file's origin (package-unmodified, package-modified, local) is kept too, while dpkg's
 * database has the stamp it was worked out against: an unchanged file of an unchanged system
 * needs neither its bytes nor the package index.
 *
 * Stored as one binary file, read into one buffer outside V8's heap (see the format below):
 * opening it decodes only each record's path (for the lookup by path); a record's other fields
 * are decoded when its file is looked up unchanged, and a record carried over is copied into
 * the next cache as the bytes it was. Any doubt about the file (its magic, its CRC-32 or the store's, its
 * rules, a length that leaves its record) means no cache: every file is read.
 *
 * Speed (issue 22, the scale root's 19,500 files): before this format (session 7) the cache
 * was JSON, 9.5 MB of it (an array a file, the texts in a second file): parsed in about 110 ms
 * of CPU into 14.5 MB of objects that an unchanged collect kept alive to its end and then left
 * to V8's old generation with the 9.5 MB of text they came from. Figures of this format in
 * docs/architecture.md's Speed table. Earlier: arrays rather than one object per file with
 * named keys, compared field by field, not written back when every file was found unchanged,
 * and no package index read (3.3 MB of JSON) when dpkg's database did not move.
 *
 * Format: MAGIC; a u32 length and that many bytes of JSON header {rules, packages, count, walk,
 * id} (id: random, names this writing of the cache for its log); count records; the CRC-32 of everything before it (u32; 0 in a store that checks its files
 * itself, see parse). A record: a u32 length of the rest,
 * the path (a u32 length and UTF-8), size, mtimeMs, ctimeMs, ino and dev (float64 each), the
 * content kind (a byte, CONTENT_KINDS; 'link' for a symlink, whose target is the text field,
 * 'dir' for a folder, whose names joined by NULs are, and its names' classes the sha256 field),
 * then FIELDS strings, each a u32 length (NULL for none) and UTF-8. Little-endian throughout.
 * The log (LOG_KEY, see save): LOG_MAGIC; a u32 length and that many bytes of JSON header
 * {base, count, removed, added} (base: the id of the cache it follows; removed: the paths of the
 * cache's records that are gone; added: the log's paths the cache holds no record of, since
 * session 47, RecordIndex); count records; the CRC-32 as above.
 */
export class StatCache {
  /** Files looked up unchanged or remembered this run, by path: an offset of a record in `bytes`, or a record made now (and the carried ranges below). */
  private next = new Map<string, number | Fresh>()
  /**
   * The records carried (carry) as the cache's own, unread and unchanged, that `next` does not
   * hold: ranges of the cache's files' records in its order (RecordIndex's cursor indices,
   * `carriedFrom[i]` up to before `carriedTo[i]`), each with how many paths `next` held when it
   * began (`carriedAfter[i]`: it goes after them, before the rest, in the walk's order).
   *
   * Speed (issue 22, session 48): the scale root's one-file snapshot carries its kept parts'
   * 19,500 records; each was a `next.has` and a `next.set` into a Map grown to 24,500 paths, and
   * the log's save went through them all twice to find the one record made. Now a carry found at
   * the cursor extends a range, the log's save counts the ranges, and a whole save writes them
   * by position between `next`'s records. With the collect's own share (collect.ts notes the kept
   * parts as it carries) and the SDK's part function (kept-parts.ts): the scale root's one-file
   * snapshot 4,617 → 4,510 M instructions (medians of 3 interleaved callgrind rounds, 11
   * scavenges fewer), an unchanged one the same. Figures in docs/architecture.md (Speed, session 48).
   * A record carried that is asked for again (another route than the cursor: collect.ts's
   * second pass over the kept items, a save that finds a record gone) has the ranges put into
   * `next` first (materialize: every carried path decoded, the cost before).
   */
  private carriedFrom: number[] = []
  private carriedTo: number[] = []
  private carriedAfter: number[] = []
  private carried = 0
  /** Files read this run but too recently changed to keep, whose old record was carried over. */
  private readonly stale = new Set<string>()
  private changed = false
  /** Where a looked-up record's fields start and end (scratch, reused). */
  private readonly spans = new Int32Array(FIELDS * 2)
  /**
   * The numbers of `bytes` read through a DataView: V8's own getters, where Buffer's
   * readDoubleLE and readUInt32LE are JavaScript functions that check their argument first, run
   * cold (interpreted) in a collect. Speed (issue 22): the services root's 494 lookups of an
   * unchanged collect 5.5–9 → 3.3–5 ms of CPU (fresh process, loaded machine).
   */
  private readonly view: DataView
  /** The log read with the cache (empty when none): a record's offset at or past `bytes.length` is in it. */
  private readonly log: Buffer
  private readonly logView: DataView
  /** The buffer the last record looked up lies in (`bytes` or `log`), and where it starts in the offsets. */
  private cur: Buffer
  private curBase = 0

  private constructor(
    private readonly store: ProviderCache,
    private readonly rules: string,
    /** The cache as read (or empty), and each of its records' offset by path. */
    private readonly bytes: Buffer,
    private readonly previous: RecordIndex,
    private readonly startedAt: number,
    /** The stamp of dpkg's database now, and whether the stored origins were worked out against it. */
    private readonly packages: string,
    private readonly originsValid: boolean,
    /** No cache of this format was found: one of the format before may be left to remove. */
    private readonly fresh: boolean,
    /** What decides a folder's names' classes now (see lookupListing), and whether the stored classes were made under it. */
    private readonly walkRules: string,
    private readonly classesValid: boolean,
    /** The cache's header as read (its id, dpkg stamp and walk rules), and what its log changed: see save. */
    private readonly base?: BaseRead,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    this.log = base?.log ?? Buffer.alloc(0)
    this.logView = new DataView(this.log.buffer, this.log.byteOffset, this.log.byteLength)
    this.cur = bytes
  }

  /** `rules` names everything a verdict depends on besides the file (size limit, secret rules). */
  /** `packages`: the stamp of dpkg's database now (packageDatabaseStamp). */
  /** `walkRules` names everything a folder's names' classes depend on (lookupListing). */
  static async open(store: ProviderCache, rules: string, startedAt: number, packages: string, walkRules = ''): Promise<StatCache> {
    const read = await cacheBytes(store).read(CACHE_KEY)
    const bytes = read === undefined ? undefined : Buffer.from(read.buffer, read.byteOffset, read.byteLength)
    const checked = store.checked === true
    const parsed = bytes === undefined ? undefined : parse(bytes, rules, checked)
    const empty = () => new StatCache(store, rules, Buffer.alloc(0), new RecordIndex(Buffer.alloc(0), new Map(), undefined), startedAt, packages, false, bytes === undefined, walkRules, false)
    if (parsed === undefined) return empty()
    const originsValid = parsed.packages === packages
    // What changed since the cache was written whole (see save): its records over the cache's, the
    // paths it names as gone left out. A log of another writing of the cache, or in any doubt: none.
    let base: BaseRead | undefined
    if (parsed.id !== undefined) {
      base = { id: parsed.id, packages: parsed.packages, walk: parsed.walk, log: Buffer.alloc(0), logRead: false }
      const read = await cacheBytes(store).read(LOG_KEY).catch(() => undefined)
      base.logRead = read !== undefined
      const log = read === undefined ? undefined : Buffer.from(read.buffer, read.byteOffset, read.byteLength)
      const logged = log === undefined ? undefined : parseLog(log, parsed.id, checked)
      if (logged !== undefined) {
        // The log's records over the cache's, the paths it names as gone left out (RecordIndex.overlay).
        parsed.index.overlay(logged.index, (bytes as Buffer).length, logged.removed, logged.added)
        base.log = log as Buffer
      }
    }
    const cache = new StatCache(store, rules, bytes as Buffer, parsed.index, startedAt, packages, originsValid, false, walkRules, parsed.walk === walkRules, base)
    // New origins are worth keeping: written back even when no file moved.
    if (!originsValid) cache.changed = true
    return cache
  }

  /**
   * The verdict and text remembered for this file, when its stat has not moved; a mirrored
   * file's with its text's git blob id (`blob`), worked out now (and kept) where the record has
   * none yet: a first collect leaves it to the next (see remember).
   *
   * Speed (issue 22, session 9): the core takes a document whose blob id is the one the twin
   * holds as unchanged without hashing it (knownBlob in the SDK): the services root's 211
   * mirrored files were 16 M instructions of SHA-1 an unchanged snapshot (callgrind).
   */
  lookup(path: string, stat: FileStat): { verdict: ContentVerdict; text?: string; origin?: FileOrigin; blob?: string } | undefined {
    const at = this.recordOf(path)
    if (at === undefined) return undefined
    const content = this.unmovedRecord(at, stat)
    if (content === undefined || content === 'link' || content === 'dir') return this.asked(path, at)
    const verdict: ContentVerdict = { content }
    const sha = this.field(SHA256)
    if (sha !== undefined) verdict.sha256 = sha
    const reason = this.field(SECRET_REASON)
    if (reason !== undefined) verdict.secretReason = reason
    let text: string | undefined
    let blob: string | undefined
    if (content === 'mirrored') {
      text = this.field(TEXT)
      if (text === undefined) return this.asked(path, at)
      blob = this.field(BLOB)
    } else {
      const secretHash = this.field(SECRET_HASH)
      if (secretHash !== undefined) verdict.secretHash = secretHash
    }
    const found: { verdict: ContentVerdict; text?: string; origin?: FileOrigin; blob?: string } = { verdict }
    if (text !== undefined) found.text = text
    const originName = this.originsValid ? this.field(ORIGIN) : undefined
    if (originName !== undefined) {
      const origin: FileOrigin = { origin: originName as Origin }
      const pkg = this.field(PACKAGE)
      const divertedFrom = this.field(DIVERTED_FROM)
      if (pkg !== undefined) origin.package = pkg
      if (divertedFrom !== undefined) origin.divertedFrom = divertedFrom
      found.origin = origin
    } else {
      // The file is described (its origin worked out) and remembered: asked for again.
      this.previous.note(path, at)
      // Only to work the origin out again (dpkg's comparison); not needed while it is known.
      const md5 = this.field(MD5)
      if (md5 !== undefined) verdict.md5 = md5
    }
    if (text !== undefined && blob === undefined) {
      // The text's bytes as the record holds them (its UTF-8, the file's bytes): their id, kept.
      blob = gitBlobId(this.cur.subarray(this.spans[2 * TEXT] as number, this.spans[2 * TEXT + 1] as number))
      const record = this.decode(at)
      this.previous.note(path, at)
      if (record !== undefined) {
        record.strings[BLOB] = blob
        this.next.set(path, record)
        this.changed = true
      }
    } else {
      this.next.set(path, at)
    }
    if (blob !== undefined) found.blob = blob
    return found
  }

  /**
   * No verdict for `path` (its record `at` does not say): kept for the describe that asks again
   * (RecordIndex.note), and its old record kept in `next` meanwhile, so the record remembered
   * when it is read takes its place in the walk's order (the next cache's, which RecordIndex's
   * cursor follows); a file that cannot be read keeps its old record, whose stat data no longer
   * matches it: read again next time, as with none.
   */
  private asked(path: string, at: number): undefined {
    this.previous.note(path, at)
    if (!this.next.has(path)) this.next.set(path, at)
    return undefined
  }

  /**
   * A symlink's target, remembered while the link's size, mtime, ctime, inode and device are as
   * stored (as a file's verdict is): a link's target is never changed in place (a new target
   * is a new link, with its own ctime), and one made too recently to trust is not kept.
   *
   * Speed (issue 22): the services root's /etc holds 290 symlinks (`/etc/alternatives`), each
   * read again (`readlink`, through a promise a link) by every collect: an unchanged snapshot's
   * `readlink` calls 445 → 15.
   */
  lookupLink(path: string, stat: FileStat): string | undefined {
    return this.lookupText(path, stat, 'link')
  }

  /** Keep a symlink's target read now (see lookupLink). */
  rememberLink(path: string, stat: FileStat, target: string): void {
    this.keep(path, stat, 'link', new Array<string | null>(FIELDS).fill(null), target)
  }

  /**
   * A folder's names (sorted as they were given), remembered while its size, mtime, ctime,
   * inode and device are as stored: a name added, removed or renamed in it moves its mtime and
   * ctime. Never kept for a folder changed too recently to trust its times. What is in the
   * folder (a file's content, a subfolder's names) is each path's own record.
   *
   * Speed (issue 22): an unchanged collect of the services root listed its folders again (open,
   * getdents, close each, the names made into objects and sorted): an unchanged snapshot's
   * `openat` 302 → 181, `getdents64` 414 → 172 calls.
   */
  lookupListing(path: string, stat: FileStat): { names: string[]; classes: string | undefined } | undefined {
    const text = this.lookupText(path, stat, 'dir')
    if (text === undefined) return undefined
    const names = text === '' ? [] : text.split('\0')
    const classes = this.classesValid ? this.field(CLASSES) : undefined
    return { names, classes: classes?.length === names.length ? classes : undefined }
  }

  /**
   * The names and classes the cache holds for a folder whose stat data moved (lookupListing gave
   * nothing): what the walk made of each name it had then, under the same walk rules; undefined
   * when it holds none or they were made under other rules. Only for the names' classes (which
   * follow from the name and the rules alone: a name's secret screen, secret-names.ts), never for
   * what the folder holds now.
   */
  earlierListing(path: string): { names: string[]; classes: string } | undefined {
    if (!this.classesValid) return undefined
    const at = this.previous.folderOrLink(path)
    const record = at === undefined ? undefined : this.decode(at)
    const text = record?.content === 'dir' ? record.strings[TEXT] : undefined
    const classes = record?.strings[CLASSES]
    if (text === undefined || text === null || classes === undefined || classes === null) return undefined
    const names = text === '' ? [] : text.split('\0')
    return classes.length === names.length ? { names, classes } : undefined
  }

  /**
   * Keep a folder's names read now (see lookupListing); no name holds a NUL. `classes`: what
   * the walk does with each name (a character a name), which follows from its path and the
   * walk's rules alone (the ignore and leftover patterns, the providers' claims): kept with the
   * names, and given back while the rules are the same.
   *
   * Speed (issue 22, session 9): the walk asked the claims and the two pattern lists of every
   * path again (regular expressions each): on the minbase root about 1.5 ms of an unchanged
   * snapshot's CPU profile (the services root's about 1.1 ms). Figure with the walk's in
   * docs/architecture.md.
   */
  rememberListing(path: string, stat: FileStat, names: readonly string[], classes?: string): void {
    const strings = new Array<string | null>(FIELDS).fill(null)
    if (classes !== undefined) strings[CLASSES] = classes
    this.keep(path, stat, 'dir', strings, names.join('\0'))
  }

  /** The text field of a record of this kind (a link's, a folder's) whose stat has not moved. */
  private lookupText(path: string, stat: FileStat, kind: 'link' | 'dir'): string | undefined {
    const at = this.previous.folderOrLink(path)
    if (at === undefined || this.unmovedRecord(at, stat) !== kind) return undefined
    const text = this.field(TEXT)
    if (text === undefined) return undefined
    this.next.set(path, at)
    return text
  }

  /** Keep the origin worked out for a file lookup() or remember() just gave (under dpkg's database as it is now). */
  rememberOrigin(path: string, origin: FileOrigin): void {
    const kept = this.next.get(path)
    if (kept === undefined || this.stale.has(path)) return
    const file = typeof kept === 'number' ? this.decode(kept) : kept
    if (file === undefined || file.content === 'link' || file.content === 'dir') return
    const strings = file.strings
    if (strings[ORIGIN] === origin.origin && strings[PACKAGE] === (origin.package ?? null) && strings[DIVERTED_FROM] === (origin.divertedFrom ?? null)) return
    // A copy: a record made this run is not changed in place.
    const updated: Fresh = { ...file, strings: [...strings] }
    updated.strings[ORIGIN] = origin.origin
    updated.strings[PACKAGE] = origin.package ?? null
    updated.strings[DIVERTED_FROM] = origin.divertedFrom ?? null
    this.next.set(path, updated)
    this.changed = true
  }

  /**
   * Keep what reading a file taught (its verdict; a mirrored file's text). A mirrored file's
   * text's git blob id is worked out here too, but not in a first collect (no cache yet), which
   * hands every file over to be hashed by the core anyway: the next collect works the ids out
   * (see lookup). Returns the id when it is worked out.
   */
  remember(path: string, stat: FileStat, verdict: ContentVerdict, text?: string): string | undefined {
    const strings: Array<string | null> = new Array<string | null>(FIELDS).fill(null)
    strings[SHA256] = verdict.sha256 ?? null
    strings[MD5] = verdict.md5 ?? null
    strings[SECRET_REASON] = verdict.secretReason ?? null
    const mirrored = verdict.content === 'mirrored' ? text : undefined
    const blob = mirrored !== undefined && this.previous.size() > 0 ? gitBlobId(Buffer.from(mirrored, 'utf8')) : undefined
    strings[SECRET_HASH] = (mirrored !== undefined ? blob : verdict.secretHash) ?? null
    this.keep(path, stat, verdict.content, strings, mirrored)
    return blob
  }

  private keep(path: string, stat: FileStat, content: Fresh['content'], strings: Array<string | null>, text: string | undefined): void {
    if (isRacy(stat, this.startedAt)) {
      // Not kept: read again next time. Its old record may stay (its stat data no longer
      // matches the file, so it is never used): a snapshot right after a change (the usual
      // cron or apt hook case) need not write the whole cache back for a file it cannot keep.
      const old = this.recordOf(path)
      if (old === undefined) return
      this.next.set(path, old)
      this.stale.add(path)
      return
    }
    // A carried record of `path` taken out of the carried ranges first (recordOf), as above: else a
    // whole save writes the path twice, the old record first, and the record made now is lost
    // (session 48's review, F7). Only while some record is carried, and for a file's record (the
    // ranges hold files' records only; a link's or a folder's path is one no file of this walk
    // has): collect.ts looks a file up just before it remembers it, so this second ask finds it
    // noted or every path decoded already (RecordIndex.get), and decodes nothing.
    if (this.carried > 0 && content !== 'link' && content !== 'dir') this.recordOf(path)
    this.changed = true
    strings[TEXT] = text ?? null
    this.next.set(path, { stat: { size: stat.size, mtimeMs: stat.mtimeMs, ctimeMs: stat.ctimeMs, ino: stat.ino, dev: stat.dev }, content, strings })
  }

  /**
   * Keep a walked path's record as it is, unread (its file is not described this run: a part of a
   * split manifest kept as HEAD holds it, collect.ts). Without it the save would drop the record
   * as a path gone, and the next collect would read the file again (a symlink held out by its
   * target has none: never remembered). For a file, also what its
   * record says of it while its stat data has not moved: `mirrored` (its text is a twin
   * document), `other` (a secret, binary or too large: no document of its own), or undefined
   * when the record cannot say (none, or its stat data moved: the file must be described).
   * One path of carryRun (collect.ts carries a run of paths in one call).
   */
  carry(path: string, stat: FileStat): 'mirrored' | 'other' | undefined {
    const carried = this.carryRun([{ path, stat }], 0, 1)
    return !carried.said ? undefined : carried.mirrored > 0 ? 'mirrored' : 'other'
  }

  /**
   * Carry the records of the walked paths `items[from]` up to before `items[to]` (a run of a kept
   * part's paths, in the walk's order), as carry does each: how many of its files the records say
   * are mirrored, how many of its paths are entries (all but symlinks), and whether every file's
   * record says what it is (`said`; false as soon as one does not: the files must be described).
   * A folder's record is not carried (the walk found it already, lookupListing). The result is
   * this cache's own object, valid until the next call.
   *
   * Speed (issue 22, session 49): a kept part's piece of the token (documents-token.ts) already
   * says each of its walked paths has the lstat data it had when HEAD's documents were made, but
   * not that this cache is the one written then (a plan or status may have written it since, a
   * log may name the path, the cache may be lost), so each record is still checked. A file of one
   * name (`nlink` 1) whose path the log does not name is carried when the record at the cursor
   * has its size, mtime, ctime, inode and device and a path as long (RecordIndex.takeRun): the
   * record's path is not decoded and compared, and its fields are gone through in place. Any
   * other file goes the way of carryOne. Session 49: the scale root's one-file snapshot's carry
   * loop 298.7 → 213.1 M instructions (callgrind between marks, the main thread).
   *
   * Speed (issue 22, session 50): the same checks, a run of paths at a time: one call for a run
   * (collect.ts: the paths of one part in a row, a folder's mostly), the records at the cursor
   * gone through in one loop with the cache's buffer, the cursor and the tally in locals
   * (RecordIndex.takeRun), where each path was three calls (carry, sameAtCursor, says) and about
   * 70 property loads of V8's bytecode; and a path is looked for among the log's only when the
   * log names a path as long (its Map's hash of every walked path's name was 10 M instructions).
   * The scale root's one-file snapshot, the collect's carry loop (callgrind between marks, the
   * main thread, the large-heap marker set; runs paired with 241fcb20's, load 20-64): 197.1 /
   * 218.0 / 212.5 / 211.4 → 130.9 / 139.4 M instructions (-35%; not the half aimed at: what is
   * left is V8's bytecode a path, about 10 property loads and 15 DataView reads of a record, and
   * partOf at each folder). With each path's part the walk's (collect.ts, Walked.part, no partOf
   * in the carry), one pair on main 1e3dbe03: 218.3 → 103.5 M (-53%). Figures in
   * docs/architecture.md (Speed, session 50).
   *
   * A record at the cursor with a file's numbers that is another path's (review K1 of session
   * 49: a bind mount of a file of the same file system, one inode under two names, nlink 1; the
   * path walked first has no record of its own, say a log lost) is carried under the wrong name.
   * The other name's turn then finds its record carried already (recordOf: `carriedAgain`), and
   * collect.ts describes the kept parts, as it did before session 49 (no record: the full way).
   */
  carryRun(items: ReadonlyArray<WalkedFile>, from: number, to: number, logNamesSome = true): CarriedRun {
    const run = this.run
    run.mirrored = 0
    run.entries = 0
    run.said = true
    const index = this.previous
    for (let i = from; i < to; ) {
      const cursor = index.cursor
      i = index.takeRun(items, i, to, run, logNamesSome)
      if (index.cursor > cursor) this.carryRange(cursor, index.cursor - cursor)
      if (i >= to) break
      const item = items[i++] as WalkedFile
      const type = item.stat.type
      if (type !== 'symlink') run.entries++
      if (type === 'directory') continue
      const record = this.carryOne(item.path, item.stat)
      if (record === 'mirrored') run.mirrored++
      else if (record === undefined) run.said = false
    }
    return run
  }

  /** The paths the log read with the cache names (its records' and the paths gone): carryRun's `logNamesSome` is false for a run of none of them. */
  namedByLog(): string[] {
    return this.previous.namedByLog()
  }

  /** What carryRun gives (reused). */
  private readonly run: CarriedRun = { mirrored: 0, entries: 0, said: true }

  /**
   * A record carried was asked for again by its own path in this collect (recordOf) before
   * the kept parts were written: in the pass that carries them only a record carried under
   * another name is (RecordIndex.takeRun, review K1; a path is walked once), so collect.ts then
   * describes the kept parts.
   */
  get carriedAgain(): boolean {
    return this.carriedAsked
  }

  private carriedAsked = false

  /** Carry one path's record the way that finds it by its path (RecordIndex.get): carry's answer. */
  private carryOne(path: string, stat: FileStat): 'mirrored' | 'other' | undefined {
    const at = this.recordOf(path)
    const index = this.previous.cursorFound
    if (index >= 0) this.carryRange(index, 1)
    else if (at !== undefined && !this.next.has(path)) this.next.set(path, at)
    if (stat.type !== 'file') return 'other'
    if (at === undefined) return undefined
    const content = this.unmovedRecord(at, stat)
    if (content === undefined || content === 'link' || content === 'dir') return undefined
    // Speed (issue 22, session 42): whether the record holds a text, not the text decoded only to
    // be looked at (a one-file snapshot of the scale root carries about 19,500 records, each
    // mirrored file's text made a string and dropped; figure in docs/architecture.md, Speed).
    return content === 'mirrored' ? (this.hasField(TEXT) ? 'mirrored' : undefined) : 'other'
  }

  /**
   * The record of `path` (RecordIndex.get); a carried one given again (not at the cursor) has the
   * carried ranges put into `next` first, where what is made of it now takes its place.
   */
  private recordOf(path: string): number | undefined {
    const at = this.previous.get(path)
    if (at !== undefined && this.carried > 0 && this.previous.cursorFound < 0 && at < this.bytes.length && this.isCarried(this.previous.fileIndexOf(at))) {
      this.carriedAsked = true
      this.materialize()
    }
    return at
  }

  /** Carry the cache's files' records `index` and the `count - 1` after it (found at RecordIndex's cursor: never given before): a range extended or begun. */
  private carryRange(index: number, count: number): void {
    const last = this.carriedTo.length - 1
    if (last >= 0 && this.carriedTo[last] === index && this.carriedAfter[last] === this.next.size) this.carriedTo[last] = index + count
    else {
      this.carriedFrom.push(index)
      this.carriedTo.push(index + count)
      this.carriedAfter.push(this.next.size)
    }
    this.carried += count
  }

  private isCarried(index: number): boolean {
    if (index < 0) return false
    for (let i = 0; i < this.carriedFrom.length; i++) if ((this.carriedFrom[i] as number) <= index && index < (this.carriedTo[i] as number)) return true
    return false
  }

  /** The carried ranges put into `next`, each record under its decoded path in its place (in the walk's order). */
  private materialize(): void {
    if (this.carried === 0) return
    const merged = new Map<string, number | Fresh>()
    let range = 0
    const ranges = (upTo: number): void => {
      for (; range < this.carriedFrom.length && (this.carriedAfter[range] as number) <= upTo; range++) {
        for (let index = this.carriedFrom[range] as number; index < (this.carriedTo[range] as number); index++) {
          const { path, at } = this.previous.fileAt(index)
          merged.set(path, at)
        }
      }
    }
    let i = 0
    for (const [path, file] of this.next) {
      ranges(i++)
      merged.set(path, file)
    }
    ranges(Number.MAX_SAFE_INTEGER)
    this.next = merged
    this.carriedFrom = []
    this.carriedTo = []
    this.carriedAfter = []
    this.carried = 0
  }

  /**
   * Nothing was remembered since the cache was opened (no listing, link or verdict made now, none
   * carried over as too recent, no origin worked out anew): every lookup so far found its record
   * unmoved (kept-collect.ts asks after the walk).
   */
  untouched(): boolean {
    return !this.changed && this.stale.size === 0
  }

  /** Write the cache back, dropping files that are gone; only when something moved. */
  async save(): Promise<void> {
    // Every lookup that hit is in `next`: as many as before and nothing remembered means no file went or came.
    if (!this.changed && this.next.size + this.carried === this.previous.size()) return
    // A cache found to hold a path twice is written whole again (it was refused at open before its files' paths were decoded late).
    // So is a cache whose order made a file asked for decode every path (RecordIndex.needsOrder): written in the walk's order.
    if (!this.previous.needsOrder() && this.previous.size() > 0 && (await this.saveLog())) return
    const id = randomBytes(8).toString('hex')
    const header = Buffer.from(JSON.stringify({ rules: this.rules, packages: this.packages, count: this.next.size + this.carried, walk: this.walkRules, id }), 'utf8')
    // Speed and memory (issue 22, session 9): the records carried over are copied a run of
    // them at a time (they follow each other as they did in the old cache: the walk's order),
    // not one copy each, and the buffer is sized to hold the old cache and some more, not to
    // double at its last records (a one-file snapshot of the scale root: 25,000 copies → a few;
    // a 17 MB buffer for an 8.5 MB cache → 8.6 MB), then freed at once (see close). With the
    // other session-9 rows of docs/architecture.md (Speed): peak memory 190 → 148 MB.
    const out = new Writer(Math.max(this.bytes.length + this.log.length + 64 * 1024, 64 * 1024))
    out.bytes(MAGIC)
    out.u32(header.length)
    out.bytes(header)
    this.records(out, () => true, true)
    out.u32(this.store.checked === true ? 0 : crc32(out.done()))
    await cacheBytes(this.store).write(CACHE_KEY, out.done())
    out.free()
    // A log read with the old cache names its id: never taken with this one; removed all the same.
    if (this.base?.logRead === true) await this.store.remove?.(LOG_KEY)
    if (this.fresh) await retireKeys(this.store, (key) => LEGACY_KEYS.includes(key))
  }

  /**
   * What changed since the cache was last written whole, written as its log (LOG_KEY) instead of
   * the whole cache again: every record made since (this run's and the log's before), and the
   * paths of the cache's records that are gone. False (nothing written) when the cache is small
   * (under LOG_FROM), was written under another dpkg stamp or walk rules than this run's (its
   * header would be wrong), or the log would be more than a LOG_SHARE part of it: then the whole
   * cache is written, with a new id, and the log is left behind (it names the old id).
   *
   * Speed and memory (issue 22, session 10): a one-file snapshot of the scale root wrote its
   * whole 8.5 MB stat cache again (copied into a new buffer, its CRC-32 worked out, written) for
   * one record; now a log of one record (about 400 bytes). Figures in docs/architecture.md (Speed).
   *
   * Crash safety: the log is written as any cache file is (beside its name, renamed in, a CRC-32
   * trailer checked on every read: file-cache.ts), and is taken only with the cache whose id it
   * names. A log torn, lost or of another cache leaves the cache alone, whose records are keyed
   * on stat data as ever: a file changed since is read again, never taken from an older record.
   */
  private async saveLog(): Promise<boolean> {
    const base = this.base
    if (base === undefined || this.bytes.length < LOG_FROM || base.packages !== this.packages || base.walk !== this.walkRules) return false
    const removed: string[] = this.previous.removedFromBase().filter((path) => !this.next.has(path))
    // Speed (issue 22, session 43): the cache's records gone are looked for only when some are.
    // A record carried or found (a number in `next`) is a record of the cache under its own path,
    // and a record made anew replaces one when the cache holds its path: when they account for
    // every record of the cache, none is gone. A one-file snapshot of the scale root carries
    // 19,500 records of its kept parts and asked `next` for each of the cache's 24,500 paths:
    // 2.3-9.8 ms of CPU for that scan in-process (load 13), 0.1-1.9 ms for the count.
    let count = 0
    // The records carried (each the cache's own, under its path) are all accounted for, and none is logged.
    let accounted = this.carried
    // The log's paths the cache holds no record of: said in its header (RecordIndex).
    const logged: string[] = []
    for (const [path, file] of this.next) {
      if (typeof file === 'number') accounted++
      else if (this.previous.get(path) !== undefined) accounted++
      if (typeof file !== 'number' || file >= this.bytes.length) {
        count++
        logged.push(path)
      }
    }
    if (accounted !== this.previous.size()) {
      // Some record is gone: every path decoded, as before session 47 (RecordIndex), the carried ones in `next`.
      this.materialize()
      const previous = this.previous.all()
      if (previous === undefined) return false
      for (const [path, at] of previous) {
        if (!this.next.has(path) && (at < this.bytes.length || this.previous.inBase(path))) removed.push(path)
      }
    }
    const added = logged.filter((path) => {
      const file = this.next.get(path)
      return !this.previous.inBase(path, typeof file === 'number' || (file?.content !== 'dir' && file?.content !== 'link'))
    })
    const header = Buffer.from(JSON.stringify({ base: base.id, count, removed, added }), 'utf8')
    const out = new Writer(64 * 1024)
    out.bytes(LOG_MAGIC)
    out.u32(header.length)
    out.bytes(header)
    this.records(out, (file) => typeof file !== 'number' || file >= this.bytes.length)
    if (out.done().length > this.bytes.length / LOG_SHARE) {
      out.free()
      return false
    }
    out.u32(this.store.checked === true ? 0 : crc32(out.done()))
    await cacheBytes(this.store).write(LOG_KEY, out.done())
    return true
  }

  /** Write the records of `next` that `wanted` picks (and the carried ranges, when `carried`): the ones carried over as their bytes, a run of them at a time. */
  private records(out: Writer, wanted: (file: number | Fresh) => boolean, carried = false): void {
    let from: Buffer = this.bytes
    let runStart = -1
    let runEnd = -1
    const flush = (): void => {
      if (runStart >= 0) out.bytes(from.subarray(runStart, runEnd))
      runStart = -1
    }
    const baseLength = this.bytes.length
    // The carried ranges that go before `next`'s record number `upTo` (all: at the end).
    let range = carried ? 0 : this.carriedFrom.length
    const ranges = (upTo: number): void => {
      for (; range < this.carriedFrom.length && (this.carriedAfter[range] as number) <= upTo; range++) {
        for (let index = this.carriedFrom[range] as number; index < (this.carriedTo[range] as number); index++) {
          const at = this.previous.fileOffset(index)
          const end = at + 4 + this.view.getUint32(at, true)
          if (runStart >= 0 && from === this.bytes && at === runEnd) runEnd = end
          else {
            flush()
            from = this.bytes
            runStart = at
            runEnd = end
          }
        }
      }
    }
    let i = 0
    for (const [path, file] of this.next) {
      ranges(i++)
      if (!wanted(file)) continue
      if (typeof file === 'number') {
        const inLog = file >= baseLength
        const buffer = inLog ? this.log : this.bytes
        const at = inLog ? file - baseLength : file
        const end = at + 4 + buffer.readUInt32LE(at)
        if (runStart >= 0 && buffer === from && at === runEnd) runEnd = end
        else {
          flush()
          from = buffer
          runStart = at
          runEnd = end
        }
      } else {
        flush()
        out.record(path, file)
      }
    }
    ranges(Number.MAX_SAFE_INTEGER)
    flush()
  }

  /**
   * Done with the cache (after save): its buffer (the scale root's: 7.6 MB) is freed at V8's
   * next young collection instead of its next full one, which an unchanged snapshot may never
   * reach: read at the start of collect and used to its end, the buffer's object has been moved
   * to the old generation by then. Its memory is handed to a new object no one keeps
   * (structuredClone's transfer, nothing copied); only a buffer of its own (not a slice of
   * Node's pool, which other buffers share).
   */
  close(): void {
    this.previous.clear()
    this.next.clear()
    this.carriedFrom = []
    this.carriedTo = []
    this.carriedAfter = []
    this.carried = 0
    const bytes = this.bytes
    if (bytes.byteLength > 0 && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer) {
      try {
        structuredClone(bytes.buffer, { transfer: [bytes.buffer] })
      } catch {
        // A buffer that cannot be handed off (not detachable) is freed the usual way.
      }
    }
  }

  /** Fill `spans` with the record's FIELDS fields from `p` (in `view`'s buffer); false when a length leaves the record. */
  private fieldSpans(view: DataView, p: number, end: number): boolean {
    for (let i = 0; i < FIELDS; i++) {
      if (p + 4 > end) return false
      const length = view.getUint32(p, true)
      p += 4
      if (length === NULL) {
        this.spans[2 * i] = -1
        continue
      }
      if (p + length > end) return false
      this.spans[2 * i] = p
      this.spans[2 * i + 1] = p + length
      p += length
    }
    return p === end
  }

  /**
   * The content kind of the stored record at `at`, its fields made ready for field(), when its
   * size, mtime, ctime, inode and device are `stat`'s; undefined when they are not or the record
   * does not parse.
   */
  private unmovedRecord(at: number, stat: FileStat): Fresh['content'] | undefined {
    let view = this.view
    this.cur = this.bytes
    if (at >= this.bytes.length) {
      // A record of the log (see save).
      view = this.logView
      this.cur = this.log
      at -= this.bytes.length
    }
    const end = at + 4 + view.getUint32(at, true)
    const p = at + 8 + view.getUint32(at + 4, true)
    if (!sameStat(view, p, stat)) return undefined
    const content = CONTENT_KINDS[this.cur[p + 40] as number]
    return content !== undefined && this.fieldSpans(view, p + 41, end) ? content : undefined
  }

  /** Whether the record fieldSpans() last went through has field i (field(i) would not be undefined). */
  private hasField(i: number): boolean {
    return (this.spans[2 * i] as number) >= 0
  }

  /** Field i of the record fieldSpans() last went through (in `cur`). */
  private field(i: number): string | undefined {
    const start = this.spans[2 * i] as number
    return start < 0 ? undefined : this.cur.toString('utf8', start, this.spans[2 * i + 1])
  }

  /** A stored record in full (to change its origin). */
  private decode(at: number): Fresh | undefined {
    const inLog = at >= this.bytes.length
    const bytes = inLog ? this.log : this.bytes
    if (inLog) at -= this.bytes.length
    this.cur = bytes
    const end = at + 4 + bytes.readUInt32LE(at)
    const p = at + 8 + bytes.readUInt32LE(at + 4)
    const content = CONTENT_KINDS[bytes[p + 40] as number]
    if (content === undefined || !this.fieldSpans(inLog ? this.logView : this.view, p + 41, end)) return undefined
    const stat = { size: bytes.readDoubleLE(p), mtimeMs: bytes.readDoubleLE(p + 8), ctimeMs: bytes.readDoubleLE(p + 16), ino: bytes.readDoubleLE(p + 24), dev: bytes.readDoubleLE(p + 32) }
    const strings = Array.from({ length: FIELDS }, (_, i) => this.field(i) ?? null)
    return { stat, content, strings }
  }
}

/** Whether the record's numbers (from `p`) are this stat's size, mtime, ctime, inode and device. */
function sameStat(view: DataView, p: number, stat: FileStat): boolean {
  return (
    view.getFloat64(p, true) === stat.size &&
    view.getFloat64(p + 8, true) === stat.mtimeMs &&
    view.getFloat64(p + 16, true) === stat.ctimeMs &&
    view.getFloat64(p + 24, true) === stat.ino &&
    view.getFloat64(p + 32, true) === stat.dev
  )
}

/**
 * The records' offsets by path, the header's dpkg stamp and walk rules; undefined on any doubt
 * about the bytes. `checked`: the store gives back exactly what was written (ProviderCache's
 * `checked`), so the CRC-32 (written as 0 then) is not worked out again.
 *
 * Speed (issue 22, session 9): the core's cache files carry a CRC-32 of their own, checked on
 * every read (file-cache.ts); the stat cache's was a second one over the same bytes: on the
 * services root 1.17 MB, 4.35 M instructions an unchanged snapshot (callgrind, 0.8% of it), and
 * as much again where a changed snapshot writes it.
 */
function parse(bytes: Buffer, rules: string, checked: boolean): { index: RecordIndex; packages: string; walk: string | undefined; id: string | undefined } | undefined {
  const read = parseRecords(bytes, MAGIC, checked, true)
  if (read === undefined) return undefined
  const { rules: storedRules, packages, walk, id } = read.header
  if (storedRules !== rules || typeof packages !== 'string') return undefined
  return { index: new RecordIndex(bytes, read.index, read.files), packages, walk: typeof walk === 'string' ? walk : undefined, id: typeof id === 'string' && id !== '' ? id : undefined }
}

/** The index of a cache's bytes (read from a store that checks its files) and its log's, as StatCache.open makes it: for the tests. */
export function recordIndexOf(bytes: Buffer, rules: string, log?: Buffer): RecordIndex | undefined {
  const parsed = parse(bytes, rules, true)
  const logged = log === undefined || parsed?.id === undefined ? undefined : parseLog(log, parsed.id, true)
  if (logged !== undefined) parsed?.index.overlay(logged.index, bytes.length, logged.removed, logged.added)
  return parsed?.index
}

/** The log's records by path and the paths it names as gone (see StatCache.save), when it follows the cache `id`; undefined on any doubt. */
function parseLog(bytes: Buffer, id: string, checked: boolean): { index: Map<string, number>; removed: string[]; added: string[] | undefined } | undefined {
  const read = parseRecords(bytes, LOG_MAGIC, checked)
  if (read === undefined) return undefined
  const { base, removed, added } = read.header
  if (base !== id || !Array.isArray(removed) || !removed.every((p): p is string => typeof p === 'string' && !read.index.has(p))) return undefined
  // Its paths the cache holds no record of (session 47; a log written before says none: undefined).
  if (added !== undefined && (!Array.isArray(added) || !added.every((p): p is string => typeof p === 'string' && read.index.has(p)))) return undefined
  return { index: read.index, removed, added }
}

/** MAGIC (or the log's), a JSON header with the records' count, the records (their offsets by path) and the CRC-32; undefined on any doubt. */
function parseRecords(bytes: Buffer, magic: Buffer, checked: boolean, filesLater = false): { header: Record<string, unknown>; index: Map<string, number>; files?: Uint32Array } | undefined {
  const end = bytes.length - 4
  if (end < magic.length + 4 || !bytes.subarray(0, magic.length).equals(magic)) return undefined
  if (!checked && crc32(bytes.subarray(0, end)) !== bytes.readUInt32LE(end)) return undefined
  let p = magic.length
  const headerLength = bytes.readUInt32LE(p)
  p += 4
  if (p + headerLength > end) return undefined
  let header: unknown
  try {
    header = JSON.parse(bytes.toString('utf8', p, p + headerLength))
  } catch {
    return undefined
  }
  p += headerLength
  if (header === null || typeof header !== 'object' || Array.isArray(header)) return undefined
  const count = (header as { count?: unknown }).count
  if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0) return undefined
  const index = new Map<string, number>()
  const files = filesLater ? new Uint32Array(count) : undefined
  let fileCount = 0
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  for (let i = 0; i < count; i++) {
    if (p + 8 > end) return undefined
    const recordEnd = p + 4 + view.getUint32(p, true)
    const pathEnd = p + 8 + view.getUint32(p + 4, true)
    // The numbers and the content byte follow the path; the fields are checked when looked up.
    if (recordEnd > end || pathEnd + 41 > recordEnd) return undefined
    // A file's record (not a folder's or a link's): its path decoded when a file is first asked for (RecordIndex).
    if (files !== undefined && (bytes[pathEnd + 40] as number) < FIRST_NON_FILE) files[fileCount++] = p
    else index.set(bytes.toString('utf8', p + 8, pathEnd), p)
    p = recordEnd
  }
  // Every byte accounted for, and no path twice (the files' paths: when decoded).
  if (p !== end || index.size + fileCount !== count) return undefined
  return { header: header as Record<string, unknown>, index, ...(files === undefined ? {} : { files: files.subarray(0, fileCount) }) }
}

/** The first content kind (CONTENT_KINDS) of a record that is no file's: 'link', then 'dir'. */
const FIRST_NON_FILE = CONTENT_KINDS.indexOf('link')
/** The content kind (CONTENT_KINDS) of a mirrored file's record. */
const MIRRORED = CONTENT_KINDS.indexOf('mirrored')

/** A walked path and its lstat data (collect.ts's walk). */
interface WalkedFile {
  readonly path: string
  readonly stat: FileStat
}

/** What StatCache.carryRun found of a run of walked paths. */
export interface CarriedRun {
  /** Its files HEAD mirrors, by their records. */
  mirrored: number
  /** Its paths that are a manifest's entries: all but its symlinks. */
  entries: number
  /** Every file's record says what the file is. */
  said: boolean
}

/**
 * The stored records' offsets by path, the log's (see StatCache.save) over the cache's.
 *
 * Speed (issue 22, session 29): an unchanged snapshot's collect asks only for folders' records
 * (the walk's listings: `lookupListing`), and hands its documents back kept without describing
 * a file (kept-collect.ts); so the paths of the files' records (19,545 of the scale root's
 * 24,512) are not decoded at open. A folder's or a link's lookup gives the same answer from the
 * folders' and links' paths alone: a file's record is never one of a folder or a link
 * (`lookupText` checks the kind).
 *
 * Speed (issue 22, session 47): nor are they all decoded and set in a Map when every file is
 * asked for in the walk's order (a one-file snapshot of the scale root carries its kept parts'
 * 19,500 records, StatCache.carry), nor when a log is read (every snapshot after a one-file one).
 * The cache holds the files' records in the walk's order (save writes them in the order they
 * were found; a file read again keeps the place its old record had, see StatCache.lookup): a
 * cursor goes through them, and a file asked is the record at the cursor (its path decoded and
 * compared), past the records the log replaced or named gone, or one of the AHEAD records after
 * it (the files gone since, whose records the walk no longer asks for). Any other file (one with no
 * record, a record out of order, a path asked again but for the few noted) decodes every path
 * as before; a record out of order has the cache written whole, in the walk's order (needsOrder). The
 * log's header says which of its paths the cache holds no record of (`added`), so a log is taken
 * without decoding the cache's paths (a log written before session 47 says none: every path
 * decoded). The scale root (callgrind, 3 interleaved rounds): an unchanged snapshot 2,938–2,993
 * → 2,796–2,934 M instructions, 4–5 scavenges fewer; a one-file one 5,194 → 5,029 and 5,106 →
 * 5,026 M in the pairs with as many mark-compacts (its extra over an unchanged one the same:
 * the carry's `next.set` and stat checks are left).
 * Figures in docs/architecture.md (Speed, session 47).
 *
 * The same answers as a Map of every decoded path (the tests compare): a path twice (among the
 * files', or a file's that is a folder's or a link's) leaves no record at all once every path is
 * decoded, as a cache refused at open; only the walk's order going straight through the cache
 * never decodes them all: a record given then was its path's, checked against its file's stat
 * data as ever (as a folder's record was before session 47), and the cache is written whole
 * once a save finds the count of paths off (StatCache.saveLog).
 */
export class RecordIndex {
  /** A path was there twice: no record is given (as a cache refused at open). */
  private twice = false
  /** Every file's path decoded into `known`; because a file's record was out of the cache's order (see needsOrder). */
  private decoded = false
  private disordered = false
  /** The next file's record in the cache's order (an index into `files`), and its path once decoded. */
  /** The next file's record in the cache's order (an index into `files`; takeRun and get move it). */
  cursor = 0
  private cursorPath: string | undefined
  /** The index (into the files' records) of the record the last get() found at the cursor or just past it (StatCache.carry); -1 for any other answer. */
  cursorFound = -1
  /** Records found for a path that will be asked for again (see StatCache.lookup). */
  private readonly asked = new Map<string, number>()
  private readonly view: DataView
  /** The log's records (offsets past the cache's bytes), the cache's paths it names as gone, and its paths the cache holds none of (undefined: not said). */
  private readonly logged = new Map<string, number>()
  private removed: string[] = []
  private readonly removedSet = new Set<string>()
  private added: Set<string> | undefined = new Set()
  /** By length, 1 where the log names a path as long (overlay): a walked path is looked for in `logged` and `removedSet` only then. */
  private named = new Uint8Array(0)

  constructor(
    private readonly bytes: Buffer,
    /** The folders' and links' records by path (every record's, once decoded). */
    private known: Map<string, number>,
    /** The files' records: their offsets, in the cache's order. */
    private files: Uint32Array | undefined,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  }

  /** The log read with the cache: its records (at `offset` past the cache's bytes) over the cache's, the paths it names as gone, and its paths the cache holds none of. */
  overlay(logged: Map<string, number>, offset: number, removed: readonly string[], added: readonly string[] | undefined): void {
    for (const [path, at] of logged) this.logged.set(path, offset + at)
    this.removed = [...removed]
    for (const path of removed) this.removedSet.add(path)
    // The lengths of the paths the log names (takeRun): only a walked path as long is looked for among them.
    let longest = -1
    for (const path of this.logged.keys()) longest = Math.max(longest, path.length)
    for (const path of removed) longest = Math.max(longest, path.length)
    this.named = new Uint8Array(longest + 1)
    for (const path of this.logged.keys()) this.named[path.length] = 1
    for (const path of removed) this.named[path.length] = 1
    this.added = added === undefined ? undefined : new Set(added)
  }

  /** Every file's path was decoded (as every lookup did before session 47). */
  get decodedAll(): boolean {
    return this.decoded
  }

  /** Every path was decoded because a file's record was out of the cache's order: the cache is best written whole, in the walk's order. */
  needsOrder(): boolean {
    return this.disordered && !this.twice
  }

  /** A folder's or a link's record (a file's too when the log holds it or every path was decoded). */
  folderOrLink(path: string): number | undefined {
    if (this.twice) return undefined
    const logged = this.logged.size === 0 ? undefined : this.logged.get(path)
    if (logged !== undefined) return logged
    return this.removedSet.size > 0 && this.removedSet.has(path) ? undefined : this.known.get(path)
  }

  /** The record of `path`, of any kind. */
  get(path: string): number | undefined {
    this.cursorFound = -1
    if (this.twice) return undefined
    if (this.logged.size > 0) {
      const logged = this.logged.get(path)
      if (logged !== undefined) return logged
    }
    if (this.removedSet.size > 0 && this.removedSet.has(path)) return undefined
    const files = this.files
    if (this.decoded || files === undefined) return this.known.get(path)
    // The record at the cursor: the usual answer.
    while (this.cursor < files.length) {
      const at = files[this.cursor] as number
      const found = (this.cursorPath ??= this.pathAt(at))
      if (found === path) {
        this.cursorFound = this.cursor++
        this.cursorPath = undefined
        return at
      }
      // A record the log replaced or named gone is never asked for: passed.
      if (!this.logged.has(found) && !this.removedSet.has(found)) break
      this.cursor++
      this.cursorPath = undefined
    }
    const known = this.known.get(path) ?? this.asked.get(path)
    if (known !== undefined) return known
    // A few records on (the files gone since, each a record the walk no longer asks for).
    if (files !== undefined) {
      for (let ahead = this.cursor + 1; ahead < files.length && ahead <= this.cursor + AHEAD; ahead++) {
        const at = files[ahead] as number
        if (this.pathAt(at) !== path) continue
        this.cursorFound = ahead
        this.cursor = ahead + 1
        this.cursorPath = undefined
        return at
      }
    }
    this.decode()
    const found = this.twice ? undefined : this.known.get(path)
    // A record out of the walk's order (not a file with none, which a new file is).
    if (found !== undefined) this.disordered = true
    return found
  }

  /** The paths the log names (its records' and the paths gone). */
  namedByLog(): string[] {
    return [...this.logged.keys(), ...this.removed]
  }

  /**
   * From `items[from]` on, up to before `items[to]`: each file whose record is at the cursor by
   * its numbers taken, the cursor moved past it, and what its record says counted into `run`
   * (StatCache.carryRun); a folder passed (counted an entry). The index of the first item not
   * taken so (a symlink, a file not so found), `to` when all were. No path decoded. Only a file
   * of one name (`nlink` 1) whose path the log does not name, whose record at the cursor has its
   * size, mtime, ctime, inode and device (as a lookup compares them) and a path as long: that
   * record then has the file's inode unmoved since it was made, which no other path's record has
   * (another name of the inode would be a second link; moving the file to this name moves its
   * ctime; a bind mount of it is the exception, review K1: StatCache.carryRun), and it is the
   * cache's latest for its path. What the record says, as StatCache.lookup would read it:
   * `mirrored` with a text, another file's kind (`other`), or nothing when a mirrored record has
   * no text or its fields do not parse (`run.said` false).
   */
  takeRun(items: ReadonlyArray<WalkedFile>, from: number, to: number, run: CarriedRun, logNamesSome: boolean): number {
    const files = this.files
    if (files === undefined || this.decoded || this.twice) return from
    const view = this.view
    const bytes = this.bytes
    const named = logNamesSome ? this.named : EMPTY
    const count = files.length
    let cursor = this.cursor
    let entries = 0
    let mirrored = 0
    let said = true
    let i = from
    for (; i < to; i++) {
      const stat = (items[i] as WalkedFile).stat
      const type = stat.type
      if (type === 'directory') {
        entries++
        continue
      }
      if (type !== 'file' || stat.nlink !== 1 || cursor >= count) break
      const path = (items[i] as WalkedFile).path
      const length = path.length
      // The log's paths (a few) looked for only when one is as long: no hash of every name.
      if (length < named.length && named[length] === 1 && (this.logged.has(path) || this.removedSet.has(path))) break
      const at = files[cursor] as number
      if (view.getUint32(at + 4, true) !== length) break
      let p = at + 8 + length
      if (
        view.getFloat64(p, true) !== stat.size ||
        view.getFloat64(p + 8, true) !== stat.mtimeMs ||
        view.getFloat64(p + 16, true) !== stat.ctimeMs ||
        view.getFloat64(p + 24, true) !== stat.ino ||
        view.getFloat64(p + 32, true) !== stat.dev
      ) {
        break
      }
      cursor++
      entries++
      // Its fields gone through in place (bounds as fieldSpans checks them): whether the text is there.
      const end = at + 4 + view.getUint32(at, true)
      const kind = bytes[p + 40] as number
      p += 41
      let text = false
      for (let field = 0; field < FIELDS && p <= end; field++) {
        if (p + 4 > end) p = end + 1
        else {
          const size = view.getUint32(p, true)
          p += 4
          if (size === NULL) continue
          if (field === TEXT) text = true
          p += size
        }
      }
      if (p !== end || kind >= FIRST_NON_FILE) said = false
      else if (kind !== MIRRORED) continue
      else if (text) mirrored++
      else said = false
    }
    if (cursor !== this.cursor) {
      this.cursor = cursor
      this.cursorPath = undefined
    }
    run.entries += entries
    run.mirrored += mirrored
    if (!said) run.said = false
    return i
  }

  /** The offset of the files' record `index` (cursorFound). */
  fileOffset(index: number): number {
    return (this.files as Uint32Array)[index] as number
  }

  /** The files' record `index`: its path and offset. */
  fileAt(index: number): { path: string; at: number } {
    const at = this.fileOffset(index)
    return { path: this.pathAt(at), at }
  }

  /** The index of the files' record at offset `at` (-1: none; the offsets rise in the cache's order). */
  fileIndexOf(at: number): number {
    const files = this.files
    if (files === undefined) return -1
    let low = 0
    let high = files.length - 1
    while (low <= high) {
      const middle = (low + high) >>> 1
      const found = files[middle] as number
      if (found === at) return middle
      if (found < at) low = middle + 1
      else high = middle - 1
    }
    return -1
  }

  /** Keep what get() gave for `path` for its caller's next ask (the cursor will have gone past it). */
  note(path: string, at: number): void {
    if (!this.decoded) this.asked.set(path, at)
  }

  /** Whether the cache itself (not its log) holds a record of `path` (named gone or not); `file`: false for a folder's or a link's path, whose record a file's never is (but for a path whose kind changed: then counted off, and every path decoded at the next save). */
  inBase(path: string, file = true): boolean {
    if (this.decoded) return this.known.has(path)
    if (this.added !== undefined && this.logged.has(path)) return !this.added.has(path)
    if (!file) return this.known.has(path)
    const asked = this.asked.get(path)
    if (asked !== undefined && asked < this.bytes.length) return true
    const known = this.known.get(path)
    if (known !== undefined || this.decoded) return known !== undefined
    this.decode()
    return this.known.has(path)
  }

  /** The cache's paths the log names as gone that it holds. */
  removedFromBase(): string[] {
    // A log that says its added paths was written by this code, which names only the cache's paths gone.
    return this.added !== undefined ? [...this.removed] : this.removed.filter((path) => this.inBase(path))
  }

  /** How many paths have a record (the log's over the cache's); 0 once a path is found there twice. */
  size(): number {
    if (this.added === undefined) this.decode()
    if (this.twice) return 0
    const cache = this.known.size + (this.decoded || this.files === undefined ? 0 : this.files.length)
    if (this.added !== undefined) return cache - this.removed.length + this.added.size
    let size = cache - this.removedFromBase().length
    for (const path of this.logged.keys()) if (!this.known.has(path)) size++
    return size
  }

  /** Every record by path (the log's over the cache's), every path decoded; undefined when a path is there twice. */
  all(): Map<string, number> | undefined {
    this.decode()
    if (this.twice) return undefined
    const all = new Map(this.known)
    for (const path of this.removed) all.delete(path)
    for (const [path, at] of this.logged) all.set(path, at)
    return all
  }

  clear(): void {
    this.files = undefined
    this.known.clear()
    this.asked.clear()
    this.logged.clear()
    this.removedSet.clear()
  }

  /** Every file's path decoded into `known`; a path found twice: no record from now on. */
  private decode(): void {
    const files = this.files
    if (this.decoded || this.twice || files === undefined) return
    this.decoded = true
    this.asked.clear()
    const size = this.known.size + files.length
    for (const p of files) this.known.set(this.pathAt(p), p)
    if (this.known.size !== size) {
      this.known = new Map()
      this.twice = true
    }
  }

  private pathAt(p: number): string {
    return this.bytes.toString('utf8', p + 8, p + 8 + this.view.getUint32(p + 4, true))
  }
}

/** No length (RecordIndex.takeRun for a run of paths the log names none of). */
const EMPTY = new Uint8Array(0)

/** How many records past the cursor a file asked is looked for (RecordIndex.get): files gone since. */
const AHEAD = 8

/**
 * The next cache's bytes, in one buffer grown as needed.
 *
 * Speed (issue 22, session 55): the numbers are written through a DataView of the buffer
 * (`setUint32`, `setFloat64`: V8's builtins, the same little-endian bytes), not Buffer's
 * `writeUInt32LE` and `writeDoubleLE`, which are JavaScript (the value's range checked, a byte
 * stored at a time) and run in V8's interpreter here: a first snapshot writes every record it
 * made, a few hundred of them, about ten numbers each, and no later run writes as many. Minbase
 * `snapshot --init` (211 records; callgrind between marks around the save, the main thread, one
 * run each): 21.0 → 10.5 M instructions. Whole runs (callgrind, 3 interleaved pairs against
 * 82381a7c): minbase −11.6 M (−1.0%), services (615 records) −29.0 M, medians of the pairs; see
 * docs/architecture.md, "Session 55, the first snapshot again".
 */
class Writer {
  private buffer: Buffer
  private view: DataView
  private at = 0

  constructor(size: number) {
    this.buffer = Buffer.allocUnsafe(size)
    this.view = viewOf(this.buffer)
  }

  u32(value: number): void {
    this.room(4)
    this.view.setUint32(this.at, value, true)
    this.at += 4
  }

  bytes(value: Uint8Array): void {
    this.room(value.length)
    this.buffer.set(value, this.at)
    this.at += value.length
  }

  record(path: string, file: Fresh): void {
    const start = this.at
    this.u32(0)
    this.string(path)
    this.room(41)
    const { size, mtimeMs, ctimeMs, ino, dev } = file.stat
    const view = this.view
    view.setFloat64(this.at, size, true)
    view.setFloat64(this.at + 8, mtimeMs, true)
    view.setFloat64(this.at + 16, ctimeMs, true)
    view.setFloat64(this.at + 24, ino, true)
    view.setFloat64(this.at + 32, dev, true)
    this.at += 40
    this.buffer[this.at++] = CONTENT_KINDS.indexOf(file.content)
    for (const s of file.strings) {
      if (s === null) this.u32(NULL)
      else this.string(s)
    }
    this.view.setUint32(start, this.at - start - 4, true)
  }

  /** Everything written so far (a view, valid until the next write). */
  done(): Buffer {
    return this.buffer.subarray(0, this.at)
  }

  /** Its memory handed to an object nobody keeps (see StatCache.close): freed at V8's next young collection. */
  free(): void {
    const buffer = this.buffer
    this.buffer = Buffer.alloc(0)
    this.view = viewOf(this.buffer)
    this.at = 0
    if (buffer.byteOffset === 0 && buffer.byteLength === buffer.buffer.byteLength && buffer.buffer instanceof ArrayBuffer) {
      try {
        structuredClone(buffer.buffer, { transfer: [buffer.buffer] })
      } catch {
        // Not detachable: freed the usual way.
      }
    }
  }

  private string(value: string): void {
    this.room(4 + value.length * 3)
    const start = this.at
    this.at += 4
    this.at += this.buffer.write(value, this.at, 'utf8')
    this.view.setUint32(start, this.at - start - 4, true)
  }

  private room(length: number): void {
    if (this.at + length <= this.buffer.length) return
    const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.at + length))
    this.buffer.copy(grown, 0, 0, this.at)
    this.buffer = grown
    this.view = viewOf(grown)
  }
}

/** A DataView of exactly `buffer`'s bytes (a Buffer may be a slice of Node's pool). */
function viewOf(buffer: Buffer): DataView {
  return new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength)
}

/** git's id of a blob of these bytes: SHA-1 of `blob <length>\0` and the bytes. */
function gitBlobId(bytes: Uint8Array): string {
  return createHash('sha1').update(`blob ${bytes.byteLength}\0`).update(bytes).digest('hex')
}
