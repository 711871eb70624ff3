import { isDeepStrictEqual } from 'node:util'
import { compareStrings, isTwinSyncError, PART_COUNT, partOf as sdkPartOf, stableStringify, validatorOf, type TwinDocument, type TwinReader, type TwinsyncLine } from '@twinsync/sdk'
import { Manifest, ManifestPart, MANIFEST_PATH, PARTS_DIR, type FileEntry, type FilesState, type ManifestEntry } from './state.js'
import { checkManifest, checkManifestPart } from './manifest-check.js'

/** The manifest of a state: every entry without its text (the text is its own document). */
export function toManifest(state: FilesState): Manifest {
  return {
    version: 1,
    entries: state.entries.map(({ text: _text, ...entry }) => entry),
    leftovers: state.leftovers,
  }
}

/**
 * Speed (issue 22, session 8): a machine with this many entries or more has its manifest split.
 * The scale root's manifest (25,000 entries) was one 8.6 MB document: one changed file rewrote,
 * hashed, deflated and screened all of it, and git packed it again each snapshot (and searched
 * deltas between its copies in every whole repack). Split, a changed file rewrites one part of
 * about 135 KB. Below it (every small machine: the services root has 616 entries) the manifest
 * is one document, byte for byte as before. The form follows from the entries alone, so the
 * same machine always gives the same documents.
 */
export const SPLIT_FROM = 4096
/** The threshold in force: SPLIT_FROM, unless a test set its own (setSplitFromForTests). */
let splitFrom = SPLIT_FROM
/** How many entries or more a machine's manifest is split from: SPLIT_FROM (a test's own under setSplitFromForTests). */
export function splitThreshold(): number {
  return splitFrom
}
/**
 * Tests: split from `entries` entries instead of SPLIT_FROM (undefined: SPLIT_FROM again), so a
 * test of how the two forms meet runs on a root of hundreds of entries, not thousands (session
 * 37: test/integration/files-manifest-split.test.ts). The CLI never calls it.
 */
export function setSplitFromForTests(entries: number | undefined): void {
  splitFrom = entries ?? SPLIT_FROM
}
/**
 * How many parts a split manifest has, and the part an entry belongs to: the SDK's part function
 * (kept-parts.ts: FNV-1a of the entry's folder, modulo PART_COUNT), the contract by which the
 * snapshot counts a kept part's mirrored files (CollectResult.keptParts, session 44; before, it
 * was this module's own). Fixed, so that an entry never moves between parts while the machine changes.
 */
export const PARTS = PART_COUNT
/**
 * Bound once: an SDK name read through its entry is a getter or two a call (the SDK's index,
 * then its light entry: core/scripts/bundle.mjs), and a collect asks for the part of every
 * walked path two or three times (the scale root's 25,000).
 */
export const partOf: (path: string) => number = sdkPartOf

/** system/files/manifest/NN.json: two decimal digits. */
export function partPath(part: number): string {
  return `${PARTS_DIR}${String(part).padStart(2, '0')}.json`
}

/** The part a twin path under PARTS_DIR names, or undefined when it is no part's name. */
export function partNamed(path: string): number | undefined {
  const match = /^(\d{2})\.json$/.exec(path.slice(PARTS_DIR.length))
  if (!path.startsWith(PARTS_DIR) || match === null) return undefined
  const part = Number(match[1])
  return part < PARTS ? part : undefined
}

/** What of a split manifest is kept as HEAD holds it (documents-token.ts's keptOf): manifest.json, and parts by number. */
export interface KeptManifest {
  head: boolean
  parts: readonly boolean[]
}

/**
 * The manifest's documents: system/files/manifest.json alone below SPLIT_FROM entries;
 * otherwise manifest.json of version 2 (the leftovers, no entries) and a part document for each
 * part that has entries, each entry in the part of its folder (partOf), in path order. `keep`:
 * the documents of a split manifest that are kept as HEAD holds them, not made.
 */
export function manifestDocuments(state: FilesState, keep?: KeptManifest): TwinDocument[] {
  generated.clear()
  // A kept part (keep) is one of a split manifest's: the entries are then those of the other parts only (collect.ts, partlyKept).
  if (keep === undefined && state.entries.length < splitFrom) return [{ path: MANIFEST_PATH, content: remember(MANIFEST_PATH, manifestBytes(state)) }]
  const parts = new Map<number, FileEntry[]>()
  let size = 0
  for (const entry of state.entries) {
    const part = partOf(entry.path)
    if (keep?.parts[part] === true) continue
    size++
    const list = parts.get(part)
    if (list === undefined) parts.set(part, [entry])
    else list.push(entry)
  }
  const documents: TwinDocument[] = []
  if (keep?.head !== true) {
    const head = Buffer.from(stableStringify({ entries: [], leftovers: state.leftovers, version: 2 }))
    documents.push({ path: MANIFEST_PATH, content: remember(MANIFEST_PATH, head) })
  }
  // Every part into one buffer, each document a view of its piece: one allocation, as for the whole manifest.
  const out = new ByteWriter(size * 512 + (parts.size + 1) * 4096)
  const pieces: Array<{ path: string; start: number; end: number }> = []
  for (const part of [...parts.keys()].sort((a, b) => a - b)) {
    const start = out.length
    writeEntries(out, parts.get(part) as FileEntry[], undefined)
    pieces.push({ path: partPath(part), start, end: out.length })
  }
  const bytes = out.done()
  for (const { path, start, end } of pieces) documents.push({ path, content: remember(path, bytes.subarray(start, end)) })
  return documents
}

/** Entries a JSON.stringify call in manifestBytes. */
const BATCH = 128
const ENTRIES_HEAD = '{\n  "entries": ['
const ENTRIES_TAIL = '\n  ]\n}'

/**
 * system/files/manifest.json's bytes: stableStringify of toManifest, UTF-8. Each entry is
 * copied with every key in sorted order (its xattrs too), so the JSON is written as it is,
 * without stableStringify's pass that checks every key of every entry is in order (session 7,
 * issue 22: the services root's 616 entries, 2.9–3.7 → 1.0–1.3 ms in a fresh process under
 * load; `plugins/files/test/manifest-text.test.ts` checks the bytes are stableStringify's).
 *
 * Speed and memory (issue 22, session 7): made BATCH entries at a time into a buffer outside
 * V8's heap, not as one string. JSON.stringify's 8.6 MB result on the scale root (25,000
 * entries) was a tree of 16 KB pieces that hashing it then copied into one flat string: two
 * copies in the heap, the first left to the old generation as garbage. The same bytes (a test
 * compares them with stableStringify's) for the same CPU: 17-18 ms against 19-22 ms as one
 * string (best of 7, the scale root's manifest).
 */
export function manifestBytes(state: FilesState): Buffer {
  // Room for the usual entry (the scale root's: 346 bytes) and more; pages never written are
  // never resident. Grown (copied) only for unusually long entries.
  const out = new ByteWriter(state.entries.length * 512 + 4096)
  writeEntries(out, state.entries, state.leftovers)
  return out.done()
}

/**
 * `{ entries }` (a part), or `{ entries, leftovers, version: 1 }` when leftovers are given (the
 * whole manifest), as stableStringify writes it, onto what `out` holds.
 */
function writeEntries(out: ByteWriter, entries: readonly FileEntry[], leftovers: readonly string[] | undefined): void {
  out.put(entries.length === 0 ? `${ENTRIES_HEAD}]` : ENTRIES_HEAD)
  for (let i = 0; i < entries.length; i += BATCH) {
    // '{\n  "entries": [' + '\n    {…},\n    {…}' + '\n  ]\n}': the entries, indented as in the whole.
    const batch = entries.slice(i, i + BATCH)
    const text = batch.some(hasXattrs) ? JSON.stringify({ entries: batch.map(sortedEntry) }, null, 2) : JSON.stringify({ entries: batch }, MANIFEST_KEYS as string[], 2)
    if (i > 0) out.put(',')
    out.put(text.slice(ENTRIES_HEAD.length, text.length - ENTRIES_TAIL.length))
  }
  if (entries.length > 0) out.put('\n  ]')
  // '{' + '\n  "leftovers": […],\n  "version": 1\n}\n'
  if (leftovers !== undefined) out.put(`,${JSON.stringify({ leftovers, version: 1 }, null, 2).slice(1)}\n`)
  else out.put('\n}\n')
}

/**
 * Every key of a manifest entry (ManifestEntry's), and `entries`, in sorted order: as
 * JSON.stringify's replacer it writes only these keys, in this order, of every object it meets.
 *
 * Speed (issue 22, session 9): the entries are written as they are, without sortedEntry's copy
 * of each with its keys inserted in order (and `text` left out): every copy was a new object of
 * its own mix of keys, built one key at a time, which V8 went through as many hidden classes
 * (sortedEntry was about 1.2 ms of the 2.2 ms the services root's 616 entries took in an
 * unchanged snapshot's CPU profile). The replacer applies at every depth, so an xattrs record
 * (whose keys are not in it) is written through sortedEntry, with the rest of its batch;
 * `plugins/files/test/manifest-text.test.ts` compares the bytes with stableStringify's, and a
 * test checks the list against the schema's keys. Figure: see manifestBytes.
 */
export const MANIFEST_KEYS: readonly string[] = [
  'capabilities',
  'content',
  'divertedFrom',
  'empty',
  'entries',
  'gid',
  'group',
  'mode',
  'origin',
  'owner',
  'package',
  'path',
  'secret',
  'secretHash',
  'secretReason',
  'sha256',
  'size',
  'target',
  'type',
  'uid',
]

function hasXattrs(entry: FileEntry): boolean {
  return entry.xattrs !== undefined
}

/** Keep a document made here (see `generated`); the bytes as they are. */
function remember(path: string, bytes: Buffer): Buffer {
  generated.set(path, new WeakRef(bytes))
  return bytes
}

/** Text written as UTF-8 into one buffer: no piece to copy together, none left for the garbage collector. */
class ByteWriter {
  private buffer: Buffer
  private at = 0

  constructor(size: number) {
    this.buffer = Buffer.allocUnsafeSlow(size)
  }

  put(text: string): void {
    if (this.at + text.length * 3 > this.buffer.length && this.at + Buffer.byteLength(text) > this.buffer.length) {
      const grown = Buffer.allocUnsafeSlow(Math.max(this.buffer.length * 2, this.at + Buffer.byteLength(text)))
      this.buffer.copy(grown, 0, 0, this.at)
      this.buffer = grown
    }
    this.at += this.buffer.write(text, this.at, 'utf8')
  }

  get length(): number {
    return this.at
  }

  done(): Buffer {
    return this.buffer.subarray(0, this.at)
  }
}

/**
 * Speed (issue 22): the digest of the manifest this process last made from a collected state. A
 * twin manifest with the same bytes is the one this provider makes of the machine as it is now —
 * what `plan` and `status` read on an unchanged machine, right after collecting — and is not
 * checked against the schema again (a test checks that what collect makes passes it): parsing
 * the services root's manifest (616 entries; fresh process, medians of 7, load 1.6) 5.1 → 0.9 ms
 * of CPU, most of it compiling the validator. Any other text, a person's edit or a pulled twin
 * included, is checked as before. Nothing is stored: only bytes made in this process count,
 * never a record that could be forged.
 *
 * The bytes are held through a WeakRef, as the collected texts are (collected-texts.ts): kept
 * while the caller keeps what collect returned (`plan` and `status` do until they load the
 * twin), not to the end of the process (the scale root's 8.6 MB were, in session 7). Once
 * dropped, a manifest is checked against the schema as any other. Speed (issue 22, session 9):
 * until then a sha256 of every manifest made was kept, which a snapshot, which never loads
 * the twin's manifest, worked out for nothing: the services root's 173 KB, about 2.6 M
 * instructions (callgrind, 0.5% of an unchanged snapshot); the scale root's 8.6 MB about 5 ms.
 */
const generated = new Map<string, WeakRef<Buffer>>()

/** Where a twin text is written as UTF-8 to be compared with the bytes made (one buffer, grown as needed). */
let scratch = Buffer.allocUnsafeSlow(0)

/** Whether `text` is, byte for byte, the document at `path` this process made last (manifest.json or a part), while it is held. */
function isGenerated(path: string, text: string): boolean {
  const made = generated.get(path)?.deref()
  if (made === undefined || text.length > made.length || Buffer.byteLength(text) !== made.length) return false
  if (scratch.length < made.length) scratch = Buffer.allocUnsafeSlow(Math.max(made.length, scratch.length * 2, 64 * 1024))
  const written = scratch.write(text, 0, 'utf8')
  return written === made.length && scratch.subarray(0, written).equals(made)
}

/** A manifest entry (the text left out) with its keys inserted in sorted order; a test checks the list is complete. */
export function sortedEntry(e: FileEntry): ManifestEntry {
  const out: Partial<ManifestEntry> = {}
  if (e.capabilities !== undefined) out.capabilities = e.capabilities
  if (e.content !== undefined) out.content = e.content
  if (e.divertedFrom !== undefined) out.divertedFrom = e.divertedFrom
  if (e.empty !== undefined) out.empty = e.empty
  out.gid = e.gid
  if (e.group !== undefined) out.group = e.group
  out.mode = e.mode
  if (e.origin !== undefined) out.origin = e.origin
  if (e.owner !== undefined) out.owner = e.owner
  if (e.package !== undefined) out.package = e.package
  out.path = e.path
  if (e.secret !== undefined) out.secret = e.secret
  if (e.secretHash !== undefined) out.secretHash = e.secretHash
  if (e.secretReason !== undefined) out.secretReason = e.secretReason
  if (e.sha256 !== undefined) out.sha256 = e.sha256
  if (e.size !== undefined) out.size = e.size
  if (e.target !== undefined) out.target = e.target
  out.type = e.type
  out.uid = e.uid
  if (e.xattrs !== undefined) out.xattrs = sortedRecord(e.xattrs)
  return out as ManifestEntry
}

/** A record with its keys in the order stableStringify writes them (as it is, when they already are). */
function sortedRecord(record: Record<string, string>): Record<string, string> {
  const keys = Object.keys(record)
  if (keys.every((key, i) => i === 0 || (keys[i - 1] as string) < key)) return record
  const out: Record<string, string> = {}
  for (const key of keys.sort()) out[key] = record[key] as string
  return out
}

/**
 * The most entries a twin's manifest may hold, manifest.json and its parts together, unless it is
 * the text this process just made of the machine (isGenerated). The twin is untrusted input: a
 * files manifest with 100,000 extra entries (12.4 MB) made `twinsync plan` take 38 s and 383 MB
 * (session 36's red team), and the 64 MiB document limit (MAX_TWIN_FILE_BYTES) lets about 500,000
 * through (about 3 minutes and 2 GB). Counted right after JSON.parse, before the schema check
 * and before anything is planned: refused then as FILES_MANIFEST_INVALID (a local edit: nothing
 * of files is planned) or TWIN_UNSAFE (a pull: nothing moves; core/src/remote/incoming-tree.ts
 * asks manifestOverLimit). Real machines hold far fewer: the test bed's server root has 674
 * paths under /etc, a minbase root 230, a workstation's /etc, /usr/local and ~/.config here
 * 1,221; the bench's scale root (5,000 packages, 20,000 files under /etc) makes a manifest of
 * about 25,000 entries. 100,000 is four times that, and a refused manifest of 100,001 entries still
 * costs a few seconds before the refusal (core's description-edit pass reads every changed
 * document it describes: about 3 s of CPU here).
 */
export const MAX_MANIFEST_ENTRIES = 100_000

/** Parse system/files/manifest.json; the reason it is not a manifest otherwise. `room`: the most entries it may hold. */
export function parseManifest(text: string, room = MAX_MANIFEST_ENTRIES): { manifest: Manifest } | { problem: string; tooMany?: number } {
  const checked = checkedJson(MANIFEST_PATH, text, Manifest, room)
  return 'problem' in checked ? checked : { manifest: checked.data as Manifest }
}

/** Parse a part document (system/files/manifest/NN.json); the reason it is not one otherwise. `room`: the most entries it may hold. */
export function parsePart(path: string, text: string, room = MAX_MANIFEST_ENTRIES): { part: ManifestPart } | { problem: string; tooMany?: number } {
  const checked = checkedJson(path, text, ManifestPart, room)
  return 'problem' in checked ? checked : { part: checked.data as ManifestPart }
}

function checkedJson(path: string, text: string, schema: typeof Manifest | typeof ManifestPart, room: number): { data: unknown } | { problem: string; tooMany?: number } {
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch (error) {
    return { problem: `not JSON: ${error instanceof Error ? error.message : String(error)}` }
  }
  const generatedHere = isGenerated(path, text)
  // Counted before the schema check walks every entry (MAX_MANIFEST_ENTRIES).
  const listed = (data as { entries?: unknown } | null)?.entries
  if (!generatedHere && Array.isArray(listed) && listed.length > room) {
    return { problem: `it lists ${listed.length.toLocaleString('en')} entries, more than the ${MAX_MANIFEST_ENTRIES.toLocaleString('en')} a files manifest may hold`, tooMany: listed.length }
  }
  // The schema's check built with the bundle (manifest-check.ts); typebox's validator only to say what is wrong.
  if (!generatedHere && !(schema === Manifest ? checkManifest(data) : checkManifestPart(data))) {
    const error = [...validatorOf(schema()).Errors(data)][0]
    return { problem: `${error?.instancePath || '/'} ${error?.message ?? 'does not match the manifest format'}` }
  }
  // A path no file system can hold (a NUL byte) is a broken manifest, refused like any other; so
  // is one collect never writes (a "." or ".." name, an empty one, a trailing "/"): a forged
  // entry "/etc/../root/x" would read as under /etc in a plan and act elsewhere (session 9).
  const bad = (data as ManifestPart).entries.find((e) => e.path.includes('\0') || !e.path.startsWith('/') || NOT_NORMAL.test(e.path))
  if (bad !== undefined) return { problem: `entry ${JSON.stringify(bad.path)} is not a valid absolute path (no ".", ".." or empty names)` }
  // A lone surrogate (JSON's "\ud800") is no name, nor link target, a file system holds: Node
  // writes U+FFFD in its place, so two entries shown alike made one path, and the write's own
  // check then called it a symlink race, "nothing was changed", after making it (session 23).
  // A collect never writes one (a name that is not UTF-8 is left out: FILES_NAME_NOT_UTF8).
  const odd = (data as ManifestPart).entries.find((e) => LONE_SURROGATE.test(e.path) || (typeof e.target === 'string' && LONE_SURROGATE.test(e.target)))
  if (odd !== undefined) return { problem: `entry ${JSON.stringify(odd.path)} has ${LONE_SURROGATE.test(odd.path) ? 'a path' : 'a link target'} that is not valid Unicode (a lone surrogate: no file name holds one)` }
  // An id no file can have: above 2^32 - 1 chown throws (Node's "out of range", the step failed
  // after a high-risk review), and 2^32 - 1 itself is chown's "leave it as it is": the apply
  // reported "applied" while the owner stayed, and its snapshot then dropped the ask unseen (session 37).
  const id = (data as ManifestPart).entries.find((e) => e.uid > MAX_ID || e.gid > MAX_ID)
  if (id !== undefined) return { problem: `entry ${JSON.stringify(id.path)} has ${id.uid > MAX_ID ? `uid ${id.uid}` : `gid ${id.gid}`}, which no file can have (at most ${MAX_ID}; ${MAX_ID + 1} is chown's "unchanged")` }
  return { data }
}

/** The highest uid or gid a file can have: uid_t is 32 bits, and (uid_t)-1 means "unchanged" to chown. */
const MAX_ID = 4_294_967_294

/** Half of a surrogate pair on its own (with the u flag a whole pair is one code point, never matched). */
const LONE_SURROGATE = /\p{Cs}/u

/** An empty, "." or ".." name in a path, or a "/" at its end (not the root's). */
const NOT_NORMAL = /\/\/|\/\.\.?(?:\/|$)|.\/$/

/** Why a twin's manifest cannot be read: a stable code, and what is wrong where; the next step when it is not the usual one. */
export interface ManifestProblem {
  code: 'FILES_MANIFEST_INVALID' | 'FILES_MANIFEST_PART_UNKNOWN' | 'FILES_MANIFEST_PART_MISPLACED' | 'FILES_MANIFEST_DUPLICATE'
  summary: string
  nextStep?: string
  /** More entries than MAX_MANIFEST_ENTRIES: how many were counted (at least), the document that passed the limit. */
  tooMany?: { entries: number; document: string }
}

/** A path one document listed twice, both entries asking the same of the machine: read as one. */
export interface MergedDuplicate {
  document: string
  path: string
}

/** Whether two entries of one path ask the same of the machine (entry-meaning.ts, with the target's accounts). */
export type SameMeaning = (a: ManifestEntry, b: ManifestEntry) => boolean

/**
 * The manifest a twin holds, from manifest.json and any part documents, as one list of entries
 * in path order; undefined when the twin has no manifest.json (nor parts).
 *
 * Every part is checked against the schema, and every entry in it must be in its folder's part
 * (partOf): so no path is in two parts, and a part's name is only ever `NN.json`. Anything else
 * under system/files/manifest/ (another name, a folder, a symlink) is refused. A path listed
 * twice in one document is refused, with the next step; unless `same` says both entries ask
 * the same of the machine (a twin left by session 10's merge, which kept an entry written by
 * hand beside the machine's copy of it): then it is read as one, the fuller entry, and named in
 * `merged` (the next snapshot that settles the twin writes it once).
 *
 * Where the form's own documents (manifest.json for version 1, the parts for version 2) and the
 * others both list a path, the others' copy wins: a person's entry added to the version 2
 * manifest.json, and an edit carried across the threshold by the intent's merge, which merges a
 * JSON document entry by entry (core/src/intent/merge-path.ts): crossing up, the edited entry
 * lands alone in the new version 2 manifest.json; crossing down, a part the machine no longer
 * writes keeps only the entries the person changed, beside the new whole manifest.
 */
export async function readManifest(
  twin: TwinReader,
  /** The run's `twinsync ARGS` lines (twinsyncLines(ctx)), for a problem's next step. */
  line: TwinsyncLine,
  same?: SameMeaning,
): Promise<{ entries: ManifestEntry[]; leftovers: string[]; merged: MergedDuplicate[] } | { problem: ManifestProblem } | undefined> {
  const [text, partPaths] = await Promise.all([twin.readText(MANIFEST_PATH), twin.list(PARTS_DIR)])
  if (text === undefined && partPaths.length === 0) return undefined
  if (text === undefined) return invalid(`${PARTS_DIR} has parts but ${MANIFEST_PATH} is missing`)
  const parsed = parseManifest(text)
  if ('problem' in parsed) return parsed.tooMany === undefined ? invalid(`${MANIFEST_PATH} is not a valid manifest: ${parsed.problem}`) : tooMany(MANIFEST_PATH, parsed.tooMany, line)
  const main = parsed.manifest
  let counted = main.entries.length
  // The form's own documents' entries, and the others' (which win).
  const own = new Map<string, ManifestEntry>()
  const winning = new Map<string, ManifestEntry>()
  const [fromMain, fromParts] = main.version === 1 ? [own, winning] : [winning, own]
  const merged: MergedDuplicate[] = []
  const duplicate = addAll(fromMain, main.entries, MANIFEST_PATH, same, merged, line)
  if (duplicate !== undefined) return { problem: duplicate }
  const mainTwice = merged.length > 0
  for (const path of [...partPaths].sort(compareStrings)) {
    const part = partNamed(path)
    if (part === undefined) return unknown(path, 'is not a part of the manifest (only NN.json, 00 to 63)')
    let partText: string | undefined
    try {
      partText = await twin.readText(path)
    } catch (error) {
      if (isTwinSyncError(error) && error.code === 'TWIN_SYMLINK') return unknown(path, 'is a symlink; a part is a file')
      throw error
    }
    if (partText === undefined) return unknown(path, 'cannot be read as a file')
    const parsedPart = parsePart(path, partText, MAX_MANIFEST_ENTRIES - counted)
    if ('problem' in parsedPart) return parsedPart.tooMany === undefined ? invalid(`${path} is not a valid part of the manifest: ${parsedPart.problem}`) : tooMany(path, counted + parsedPart.tooMany, line)
    counted += parsedPart.part.entries.length
    const misplaced = parsedPart.part.entries.find((e) => partOf(e.path) !== part)
    if (misplaced !== undefined) {
      return {
        problem: {
          code: 'FILES_MANIFEST_PART_MISPLACED',
          summary: `${path} lists ${JSON.stringify(misplaced.path)}, which belongs in ${partPath(partOf(misplaced.path))}`,
        },
      }
    }
    const twice = addAll(fromParts, parsedPart.part.entries, path, same, merged, line)
    if (twice !== undefined) return { problem: twice }
  }
  for (const [path, entry] of winning) own.set(path, entry)
  const entries = winning.size === 0 && main.version === 1 && !mainTwice ? main.entries : [...own.values()].sort((a, b) => compareStrings(a.path, b.path))
  return { entries, leftovers: main.leftovers, merged }
}

function addAll(into: Map<string, ManifestEntry>, entries: readonly ManifestEntry[], document: string, same: SameMeaning | undefined, merged: MergedDuplicate[], line: TwinsyncLine): ManifestProblem | undefined {
  for (const entry of entries) {
    const first = into.get(entry.path)
    if (first === undefined) {
      into.set(entry.path, entry)
      continue
    }
    if (same?.(first, entry) === true) {
      // The fuller of the two (the collector's, with names and hash), the first on a tie.
      if (Object.keys(entry).length > Object.keys(first).length) into.set(entry.path, entry)
      merged.push({ document, path: entry.path })
      continue
    }
    return {
      code: 'FILES_MANIFEST_DUPLICATE',
      summary: `${document} lists ${JSON.stringify(entry.path)} twice, asking different things of it (${difference(first, entry)})`,
      nextStep: `Keep the entry you mean for ${entry.path} in ${document} and delete the other, then plan again; or drop every pending file edit with \`${line(['discard', 'files'])}\`.`,
    }
  }
  return undefined
}

/** Keys a person leaves out (the collector fills them in): only a value on both sides can differ. */
const LEFT_OUT: ReadonlySet<keyof ManifestEntry> = new Set(['owner', 'group', 'sha256'])
/** The keys that say what a path should be. */
const SAID: ReadonlyArray<keyof ManifestEntry> = ['type', 'mode', 'owner', 'uid', 'group', 'gid', 'target', 'content', 'secret', 'capabilities', 'xattrs', 'sha256']

/** What two entries of one path say differently, briefly: `mode "0640" and "0600"`. */
function difference(a: ManifestEntry, b: ManifestEntry): string {
  const said = (e: ManifestEntry, k: keyof ManifestEntry) => JSON.stringify(e[k] ?? null)
  const differ = SAID.filter((k) => !LEFT_OUT.has(k) || (a[k] !== undefined && b[k] !== undefined)).filter((k) => !isDeepStrictEqual(a[k], b[k]))
  return differ
    .slice(0, 3)
    .map((k) => `${k} ${said(a, k)} and ${said(b, k)}`)
    .join(', ')
}

/** The manifest lists more than MAX_MANIFEST_ENTRIES entries (`entries` counted when `document` passed the limit). */
function tooMany(document: string, entries: number, line: TwinsyncLine): { problem: ManifestProblem } {
  return {
    problem: {
      code: 'FILES_MANIFEST_INVALID',
      summary: `The files manifest lists ${entries.toLocaleString('en')} entries or more (${document} passes the limit), more than the ${MAX_MANIFEST_ENTRIES.toLocaleString('en')} TwinSync takes; it was not read`,
      nextStep: `Nothing of files is planned. Remove the added entries from the twin, or go back to the last snapshot's manifest with \`${line(['discard', 'files'])}\` (drops every pending file edit). If this machine's own files make that many, narrow files.include or add files.ignore patterns in the configuration, then snapshot.`,
      tooMany: { entries, document },
    },
  }
}

/**
 * Whether a twin's files manifest lists more entries than MAX_MANIFEST_ENTRIES, and what it says
 * then; undefined otherwise (a manifest wrong in any other way is the plan's to report). A pull
 * asks it of the mirror's twin before anything moves.
 */
export async function manifestOverLimit(twin: TwinReader, line: TwinsyncLine): Promise<ManifestProblem | undefined> {
  const read = await readManifest(twin, line)
  return read !== undefined && 'problem' in read && read.problem.tooMany !== undefined ? read.problem : undefined
}

function invalid(summary: string): { problem: ManifestProblem } {
  return { problem: { code: 'FILES_MANIFEST_INVALID', summary } }
}

function unknown(path: string, why: string): { problem: ManifestProblem } {
  return { problem: { code: 'FILES_MANIFEST_PART_UNKNOWN', summary: `${path} ${why}` } }
}

export function entryWithText(entry: ManifestEntry, text: string | undefined): FileEntry {
  return text === undefined ? { ...entry } : { ...entry, text }
}
