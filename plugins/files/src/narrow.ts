import { commonEnds, compareStrings, machinePathOf, mirrorPath, stableStringify, type NarrowResult, type TwinReader, appendAll } from '@twinsync/sdk'
import { MAX_MANIFEST_ENTRIES, parsePart, partNamed, partOf, partPath } from './manifest.js'
import { MANIFEST_PATH, PARTS_DIR, type ManifestEntry } from './state.js'

/** Manifests smaller than this are compared whole: narrowing them saves nothing worth its checks. */
export const NARROW_FROM = 256 * 1024

/** How a manifest written by the provider (stableStringify) begins, and how each entry begins and ends. */
const MANIFEST_HEAD = '{\n  "entries": [\n'
const ENTRY_OPEN = Buffer.from('\n    {\n')
const ENTRY_CLOSE = Buffer.from('\n    }')
/** Deleted directories whose entries below are looked for outside the narrowed part, at most. */
const MAX_DELETED_DIRECTORIES = 16

/**
 * Speed (issue 22): a snapshot's diary line compared the whole files manifest of both sides
 * (parsed, checked and diffed twice over: on the scale root 8.6 MB and 25,000 entries a side,
 * about 0.4 s of CPU for one changed file; the diary line took 470–570 ms of wall, now 40–50
 * ms). Two versions of the manifest as the provider writes it are the same text before and
 * after the part that changed (commonEnds), so both sides are narrowed to the entries that part
 * touches: the same entries, in the same order, are left out of both, and the rest is a manifest
 * of a few entries each. The machine files a side lists are narrowed to those entries.
 *
 * Why the changes are exactly those of the whole sides: diffFiles turns an entry that is the same
 * on both sides into no change, and no entry left out is another's concern but in one case, a
 * directory gone whose entries below it stay (a path is then not deleted; one below it is looked
 * for outside, and then nothing is narrowed); a directory turned into a file or a symlink has
 * none left below it. loadFiles reads each entry alone (a machine file by its own entry), and a
 * changed machine file whose entry is left out means nothing is narrowed (a manifest the same on
 * both sides is narrowed to the changed files' entries instead: documentsOnly). A document the
 * side does not list as a file is read as a new one, with folders made for it (documentsOfFiles),
 * and a path listed twice is read as one or refused (listedOutside). Since session 22 every
 * comparison of the intent service narrows (intent-service.ts's narrowedSides). Text not in the
 * provider's layout (an entry not on lines of its own, a manifest of another shape) is not
 * narrowed, nor is a part that is not valid JSON when cut out.
 *
 * Speed (issue 22, session 48): each side is asked about the paths it is narrowed to, one at a
 * time (`holdings`: TwinReader.has, a lookup in the snapshot draft's or the commit's map of
 * paths), and never listed: which documents changed is what `changed` says (the paths the
 * commit wrote or removed), the rest is the same on both sides. Before, both sides listed the
 * parts (to tell the split form: now from manifest.json) and filesystem/ twice each (the check
 * of documents whose entry is no file, and the narrowed views' lists for the load), and a
 * listing of a draft's side sorts all its paths (the scale root's 19,626: 26 M instructions a
 * side), each then cut to its machine path and looked up. The scale root's one-file snapshot,
 * the diary line's narrowing and the two loads of what it narrowed to (callgrind between marks,
 * the main thread, one run each): 342 → 43 M instructions. What is left grows with the changed
 * part, not the twin: withinPart reads both versions of it (about 300 entries; 36 M, since
 * session 49 about 21 M: see there). Whole runs: docs/architecture.md's Speed table.
 */
export async function narrowFiles(older: TwinReader, newer: TwinReader, changed: readonly string[]): Promise<NarrowResult | undefined> {
  const a = await older.read(MANIFEST_PATH)
  if (a === undefined) return undefined
  // A manifest in parts, told from manifest.json alone (no listing): one too small to narrow whole.
  if (a.byteLength < NARROW_FROM) {
    const main = Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('utf8')
    return isBareSplit(main) ? narrowParts(older, newer, changed, main) : undefined
  }
  const [olderParts, newerParts] = await Promise.all([older.list(PARTS_DIR), newer.list(PARTS_DIR)])
  if (olderParts.length > 0 || newerParts.length > 0) return narrowParts(older, newer, changed, await older.readText(MANIFEST_PATH), olderParts)
  const b = await newer.read(MANIFEST_PATH)
  if (b === undefined) return undefined
  const before = Buffer.from(a.buffer, a.byteOffset, a.byteLength)
  const after = Buffer.from(b.buffer, b.byteOffset, b.byteLength)
  if (!startsWith(before, MANIFEST_HEAD) || !startsWith(after, MANIFEST_HEAD)) return undefined
  if (before.equals(after)) return documentsOnly(older, newer, before, changed)
  const { prefix, suffix } = commonEnds(before, after)
  // The entry the first changed byte lies in starts where an entry's first line does, wholly in the common beginning.
  const open = prefix >= ENTRY_OPEN.length ? before.lastIndexOf(ENTRY_OPEN, prefix - ENTRY_OPEN.length) : -1
  // The entry the last changed byte lies in ends where an entry's last line does, wholly in the common end.
  const close = after.indexOf(ENTRY_CLOSE, after.length - suffix)
  if (open < 0 || close < 0) return undefined
  const start = open + 1
  const fromEnd = after.length - (close + ENTRY_CLOSE.length)
  const olderPart = narrowed(before, start, before.length - fromEnd)
  const newerPart = narrowed(after, start, after.length - fromEnd)
  if (olderPart === undefined || newerPart === undefined) return undefined
  if (olderPart.text.length > before.length / 2) return undefined
  const paths = new Set([...olderPart.entries.keys(), ...newerPart.entries.keys()])
  for (const path of changed) {
    const machine = path.startsWith('filesystem/') ? machinePathOf(path) : undefined
    if (machine !== undefined && !paths.has(machine)) return undefined
  }
  const deleted = [...olderPart.entries].filter(([path, type]) => type === 'directory' && newerPart.entries.get(path) !== 'directory')
  if (deleted.length > MAX_DELETED_DIRECTORIES) return undefined
  for (const [path] of deleted) {
    const below = Buffer.from(`"path": ${JSON.stringify(`${path}/`).slice(0, -1)}`)
    const first = before.indexOf(below)
    if ((first >= 0 && first < start) || before.indexOf(below, before.length - fromEnd) >= 0) return undefined
  }
  // A path one side's part lists and the other's does not (an entry added or taken out by hand)
  // that the rest of the manifest lists too: the whole side reads it twice (merged, or
  // FILES_MANIFEST_DUPLICATE), the narrowed one once.
  const once = [...paths].filter((path) => olderPart.entries.has(path) !== newerPart.entries.has(path))
  if (listedOutside(before, start, before.length - fromEnd, once)) return undefined
  const [olderHolds, newerHolds] = [holdings(older), holdings(newer)]
  if (!(await documentsOfFiles(olderHolds, olderPart.entries, paths)) || !(await documentsOfFiles(newerHolds, newerPart.entries, paths))) return undefined
  return { older: narrowedReader(older, olderHolds, olderPart.text, paths), newer: narrowedReader(newer, newerHolds, newerPart.text, paths) }
}

/**
 * A manifest the same on both sides and documents under filesystem/ changed (a person edited a
 * mirrored file): both sides narrowed to those documents' entries, each found by its path (listed
 * once, on lines of its own). A document no entry lists, or a change of another file of the
 * provider's: compared whole.
 */
async function documentsOnly(older: TwinReader, newer: TwinReader, text: Buffer, changed: readonly string[]): Promise<NarrowResult | undefined> {
  const pieces: string[] = []
  for (const doc of changed) {
    const machine = doc.startsWith('filesystem/') ? machinePathOf(doc) : undefined
    if (machine === undefined) return undefined
    const key = Buffer.from(`"path": ${JSON.stringify(machine)}`)
    const at = text.indexOf(key)
    if (at < 0 || text.indexOf(key, at + key.length) >= 0) return undefined
    const open = text.lastIndexOf(ENTRY_OPEN, at)
    const close = text.indexOf(ENTRY_CLOSE, at)
    if (open < 0 || close < 0) return undefined
    pieces.push(text.toString('utf8', open + 1, close + ENTRY_CLOSE.length))
  }
  const joined = Buffer.from(pieces.join(',\n'))
  const part = narrowed(joined, 0, joined.length)
  if (part === undefined || changed.some((doc) => !part.entries.has(machinePathOf(doc) as string))) return undefined
  const paths = new Set(part.entries.keys())
  const [olderHolds, newerHolds] = [holdings(older), holdings(newer)]
  if (!(await documentsOfFiles(olderHolds, part.entries, paths)) || !(await documentsOfFiles(newerHolds, part.entries, paths))) return undefined
  return { older: narrowedReader(older, olderHolds, part.text, paths), newer: narrowedReader(newer, newerHolds, part.text, paths) }
}

/**
 * A split manifest (manifest.ts): both sides narrowed to the parts that changed (and the parts of
 * changed documents), each within to the entries that differ (withinPart). An entry is in
 * the part of its folder on both sides, so an unchanged part holds the same entries on both and
 * adds no change; only a directory gone whose entries below it stay elsewhere would, and such a
 * directory is looked for in the older side's other parts (then nothing is narrowed). Compared
 * whole: a manifest.json that changed, that is not of version 2 or that lists entries of its
 * own (a pending edit); a changed machine file that its part does not list.
 */
async function narrowParts(
  older: TwinReader,
  newer: TwinReader,
  changed: readonly string[],
  /** The older side's manifest.json. */
  main: string | undefined,
  /** The older side's parts, when they were listed. */
  listedParts?: readonly string[],
): Promise<NarrowResult | undefined> {
  if (changed.includes(MANIFEST_PATH)) return undefined
  if (main === undefined || !isBareSplit(main)) return undefined
  const parts = new Set(changed.filter((path) => path.startsWith(PARTS_DIR)))
  const changedDocuments = new Set(changed.filter((path) => path.startsWith('filesystem/')))
  // A document changed whose part did not (a person edited a mirrored file): its entry's part too, narrowed within to that entry.
  for (const doc of changedDocuments) {
    const machine = machinePathOf(doc)
    if (machine !== undefined) parts.add(partPath(partOf(machine)))
  }
  const olderEntries = new Map<string, string>()
  const newerEntries = new Map<string, string>()
  // Each changed part's text as each side's narrowed view reads it: without the entries that are the same on both.
  const olderTexts = new Map<string, string>()
  const newerTexts = new Map<string, string>()
  const leftOut: string[] = []
  for (const part of parts) {
    let [a, b] = await Promise.all([older.readText(part), newer.readText(part)])
    const within = withinPart(part, a, b, changedDocuments)
    if (within !== undefined) {
      ;[a, b] = [within.older, within.newer]
      olderTexts.set(part, a)
      newerTexts.set(part, b)
      appendAll(leftOut, within.same)
    }
    if (!addEntries(olderEntries, a) || !addEntries(newerEntries, b)) return undefined
  }
  const [olderHolds, newerHolds] = [holdings(older), holdings(newer)]
  // Narrowed from manifest.json alone: a twin with no part at all on either side is compared whole, as one whose manifest is too small.
  if (listedParts === undefined && !(await anyHeld(olderHolds, parts)) && !(await anyHeld(newerHolds, parts))) {
    const [o, n] = await Promise.all([older.list(PARTS_DIR), newer.list(PARTS_DIR)])
    if (o.length === 0 && n.length === 0) return undefined
  }
  const paths = new Set([...olderEntries.keys(), ...newerEntries.keys()])
  for (const path of changed) {
    const machine = path.startsWith('filesystem/') ? machinePathOf(path) : undefined
    if (machine !== undefined && !paths.has(machine)) return undefined
  }
  if (!(await documentsOfFiles(olderHolds, olderEntries, paths)) || !(await documentsOfFiles(newerHolds, newerEntries, paths))) return undefined
  const deleted = [...olderEntries].filter(([path, type]) => type === 'directory' && newerEntries.get(path) !== 'directory')
  if (deleted.length > MAX_DELETED_DIRECTORIES) return undefined
  if (deleted.length > 0) {
    if (leftOut.some((path) => deleted.some(([dir]) => path.startsWith(`${dir}/`)))) return undefined
    const below = deleted.map(([path]) => Buffer.from(`"path": ${JSON.stringify(`${path}/`).slice(0, -1)}`))
    for (const part of listedParts ?? (await older.list(PARTS_DIR))) {
      if (parts.has(part)) continue
      const bytes = await older.read(part)
      if (bytes === undefined) continue
      const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
      if (below.some((b) => text.includes(b))) return undefined
    }
  }
  const view = (twin: TwinReader, holds: Holdings, texts: ReadonlyMap<string, string>): TwinReader => {
    const readText = (path: string) => (texts.has(path) ? Promise.resolve(texts.get(path)) : twin.readText(path))
    const read = async (path: string) => (texts.has(path) ? Buffer.from(texts.get(path) as string) : twin.read(path))
    return {
      ...sizeAndBlob(twin, read),
      read,
      readText,
      list: listOf(twin, holds, paths, parts),
    }
  }
  return { older: view(older, olderHolds, olderTexts), newer: view(newer, newerHolds, newerTexts) }
}

/**
 * A changed part narrowed to the entries that differ: an entry of the same text on both sides
 * (its keys in the same order) whose document under filesystem/ did not change loads the same
 * on both and adds no change (but below a folder gone, which narrowParts looks for). Only a part
 * that is valid on both sides (the schema, every entry in its right part, no path twice), so
 * that what the load says of a part that is not (its first bad entry, by index) is said of the
 * whole one. Undefined: the part is compared as it is.
 *
 * Speed (issue 22, session 49): the older side is parsed and checked whole (parsePart), the newer
 * only in the entries whose text is not one of the older side's. Both in the provider's layout
 * (PART_HEAD, one entry a block between BETWEEN, PART_TAIL: stableStringify's), an entry's block
 * of the same bytes on both sides is the same entry, valid as the older side's is; the blocks
 * that are not are put together as a part of their own and checked by parsePart as the whole was,
 * then each compared with the older side's entry of its path as before (JSON.stringify). Why the
 * blocks are the entries: a part that passes the schema holds no array inside an entry, and
 * BETWEEN (`},` then `{` on lines of their own: no JSON string holds a line break) can only stand
 * between two objects of an array; the newer side's blocks not found on the older are checked
 * to be one entry each (counted), so a block cut out of an entry (an array by hand) leaves one of
 * its pieces to the check, which refuses it. The result is the same, byte for byte, as parsing
 * both sides (plugins/files/test/within-part.test.ts compares it with session 48's way on
 * changed, added, removed and renamed entries, links, modes, owners, secrets, other layouts,
 * stray and invalid parts). The scale root's one-file snapshot (a part of 312 entries, 124 KB),
 * the main thread between marks (callgrind, a build of each with marks, 3 interleaved pairs):
 * 36.4–37.6 → 20.2–21.7 M instructions (in a fresh process, the two versions alone: 36 → 18 M);
 * what is left is the older side's parse and check (about 13 M), and its paths' parts.
 */
export function withinPart(part: string, a: string | undefined, b: string | undefined, changedDocuments: ReadonlySet<string>): { older: string; newer: string; same: string[] } | undefined {
  if (a === undefined || b === undefined) return undefined
  const number = partNamed(part)
  const olderBlocks = blocksOf(a)
  const newerBlocks = blocksOf(b)
  if (number === undefined || olderBlocks === undefined || newerBlocks === undefined || newerBlocks.length > MAX_MANIFEST_ENTRIES) return parsedWithin(part, a, b, changedDocuments)
  const olderPart = parsePart(part, a)
  if ('problem' in olderPart) return undefined
  const older = olderPart.part.entries
  if (older.length !== olderBlocks.length) return parsedWithin(part, a, b, changedDocuments)
  const olderAt = new Map<string, number>()
  for (let i = 0; i < older.length; i++) {
    const path = (older[i] as ManifestEntry).path
    if (olderAt.has(path) || partOf(path) !== number) return undefined
    olderAt.set(path, i)
  }
  const olderOfBlock = new Map<string, number>()
  for (let i = 0; i < olderBlocks.length; i++) olderOfBlock.set(olderBlocks[i] as string, i)
  // Each newer entry: the older side's of the same block, or (-1) one of the blocks checked below.
  const fromOlder = newerBlocks.map((block) => olderOfBlock.get(block) ?? -1)
  const fresh = newerBlocks.filter((_, j) => fromOlder[j] === -1)
  let freshEntries: readonly ManifestEntry[] = []
  if (fresh.length > 0) {
    const checked = parsePart(part, `${PART_HEAD}${fresh.join(BETWEEN)}${PART_TAIL}`)
    if ('problem' in checked) return undefined
    freshEntries = checked.part.entries
    if (freshEntries.length !== fresh.length) return parsedWithin(part, a, b, changedDocuments)
  }
  const newer: ManifestEntry[] = []
  const newerPaths = new Set<string>()
  const sameAt = new Array<boolean>(older.length).fill(false)
  let next = 0
  for (const at of fromOlder) {
    const entry = at === -1 ? (freshEntries[next++] as ManifestEntry) : (older[at] as ManifestEntry)
    if (newerPaths.has(entry.path) || (at === -1 && partOf(entry.path) !== number)) return undefined
    newerPaths.add(entry.path)
    newer.push(entry)
    if (at !== -1) sameAt[at] = true
    else {
      const was = olderAt.get(entry.path)
      if (was !== undefined && JSON.stringify(older[was]) === JSON.stringify(entry)) sameAt[was] = true
    }
  }
  const same = new Set<string>()
  for (let i = 0; i < older.length; i++) {
    const path = (older[i] as ManifestEntry).path
    if (sameAt[i] === true && !changedDocuments.has(mirrorPath(path))) same.add(path)
  }
  if (same.size === 0) return undefined
  const kept = (entries: readonly ManifestEntry[]) => stableStringify({ entries: entries.filter((e) => !same.has(e.path)) })
  return { older: kept(older), newer: kept(newer), same: [...same] }
}

/** How a part the provider writes begins, separates its entries and ends (stableStringify's layout of `{ entries }`). */
const PART_HEAD = '{\n  "entries": [\n    {\n'
const BETWEEN = '\n    },\n    {\n'
const PART_TAIL = '\n    }\n  ]\n}\n'

/** The text of each entry of a part in the provider's layout (between its braces' lines); undefined for any other text. */
function blocksOf(text: string): string[] | undefined {
  if (text.length < PART_HEAD.length + PART_TAIL.length || !text.startsWith(PART_HEAD) || !text.endsWith(PART_TAIL)) return undefined
  return text.slice(PART_HEAD.length, text.length - PART_TAIL.length).split(BETWEEN)
}

/** withinPart with both sides parsed and checked whole (session 48's way): for text in another layout (and tests' reference). */
export function parsedWithin(part: string, a: string, b: string, changedDocuments: ReadonlySet<string>): { older: string; newer: string; same: string[] } | undefined {
  const number = partNamed(part)
  const olderPart = parsePart(part, a)
  const newerPart = parsePart(part, b)
  if (number === undefined || 'problem' in olderPart || 'problem' in newerPart) return undefined
  const texts = (entries: readonly ManifestEntry[]): Map<string, string> | undefined => {
    const byPath = new Map<string, string>()
    for (const e of entries) {
      if (byPath.has(e.path) || partOf(e.path) !== number) return undefined
      byPath.set(e.path, JSON.stringify(e))
    }
    return byPath
  }
  const olderTexts = texts(olderPart.part.entries)
  const newerTexts = texts(newerPart.part.entries)
  if (olderTexts === undefined || newerTexts === undefined) return undefined
  const same = new Set([...olderTexts].filter(([path, text]) => newerTexts.get(path) === text && !changedDocuments.has(mirrorPath(path))).map(([path]) => path))
  if (same.size === 0) return undefined
  const kept = (entries: readonly ManifestEntry[]) => stableStringify({ entries: entries.filter((e) => !same.has(e.path)) })
  return { older: kept(olderPart.part.entries), newer: kept(newerPart.part.entries), same: [...same] }
}

/**
 * Whether every document under filesystem/ of the narrowed entries' paths is one this side lists
 * as a file. Any other (its entry taken out, or of another type, by hand) is read by load.ts as a
 * new file, with folders made for it where the manifest lists none: in the whole side they are
 * listed, in the narrowed one maybe not (a folder made, root-owned, that the whole side never
 * asks for). Such a side is compared whole.
 */
async function documentsOfFiles(holds: Holdings, entries: ReadonlyMap<string, string>, paths: ReadonlySet<string>): Promise<boolean> {
  for (const path of paths) {
    if (entries.get(path) === 'file' || !path.startsWith('/')) continue
    if (await holds(mirrorPath(path))) return false
  }
  return true
}

/**
 * Whether a side holds a file at a twin path (under filesystem/, or a part): TwinReader.has where
 * the reader can say (a snapshot's draft, a commit's tree), else from its listing of the path's
 * folder (filesystem/ or the parts'), listed once. Exactly what its `list` names.
 */
type Holdings = (path: string) => Promise<boolean>

function holdings(twin: TwinReader): Holdings {
  const has = twin.has
  if (has !== undefined) return (path) => has.call(twin, path)
  const listed = new Map<string, Promise<Set<string>>>()
  return async (path) => {
    const folder = path.startsWith(PARTS_DIR) ? PARTS_DIR : 'filesystem/'
    let all = listed.get(folder)
    if (all === undefined) listed.set(folder, (all = twin.list(folder).then((l) => new Set(l))))
    return (await all).has(path)
  }
}

/** Of these twin paths, those the side holds, sorted as `list` sorts. */
async function heldOf(holds: Holdings, paths: readonly string[]): Promise<string[]> {
  const held: string[] = []
  for (const path of paths) if (await holds(path)) held.push(path)
  return held.sort(compareStrings)
}

async function anyHeld(holds: Holdings, paths: Iterable<string>): Promise<boolean> {
  for (const path of paths) if (await holds(path)) return true
  return false
}

/**
 * A narrowed side's `list`: under filesystem/, the documents of the narrowed entries' paths that
 * the side holds, and among the parts (when `parts` narrows them) those of `parts` it holds,
 * each asked path by path, never listed (a listing of the scale root's twin sorts its 19,626
 * paths); any other prefix listed and filtered the same way.
 */
function listOf(twin: TwinReader, holds: Holdings, paths: ReadonlySet<string>, parts?: ReadonlySet<string>): (prefix: string) => Promise<string[]> {
  let documents: Promise<string[]> | undefined
  let held: Promise<string[]> | undefined
  return async (prefix) => {
    if (prefix.startsWith('filesystem/')) {
      documents ??= heldOf(holds, [...paths].filter((path) => path.startsWith('/')).map(mirrorPath))
      return (await documents).filter((doc) => doc.startsWith(prefix))
    }
    if (parts !== undefined && prefix.startsWith(PARTS_DIR)) {
      held ??= heldOf(holds, [...parts])
      return (await held).filter((part) => part.startsWith(prefix))
    }
    return (await twin.list(prefix)).filter((path) => {
      if (parts !== undefined && path.startsWith(PARTS_DIR)) return parts.has(path)
      if (!path.startsWith('filesystem/')) return true
      const machine = machinePathOf(path)
      return machine !== undefined && paths.has(machine)
    })
  }
}

/** Paths looked up one by one outside the narrowed part; more are looked for in one pass over it. */
const LOOKED_UP_ALONE = 16

/** Whether text outside [start, end) lists an entry of one of these paths (as the provider writes a path: `"path": "…"`). */
function listedOutside(text: Buffer, start: number, end: number, paths: readonly string[]): boolean {
  if (paths.length === 0) return false
  if (paths.length <= LOOKED_UP_ALONE) {
    return paths.some((path) => {
      const key = Buffer.from(`"path": ${JSON.stringify(path)}`)
      const first = text.indexOf(key)
      return (first >= 0 && first < start) || text.indexOf(key, end) >= 0
    })
  }
  const wanted = new Set(paths)
  for (const range of [text.toString('utf8', 0, start), text.toString('utf8', end)]) {
    for (const m of range.matchAll(/"path": ("(?:[^"\\\n]|\\.)*")/g)) {
      if (wanted.has(JSON.parse(m[1] as string) as string)) return true
    }
  }
  return false
}

/** Whether a manifest.json is of version 2 with no entries of its own. */
function isBareSplit(text: string): boolean {
  try {
    const data = JSON.parse(text) as { version?: unknown; entries?: unknown }
    return data.version === 2 && Array.isArray(data.entries) && data.entries.length === 0
  } catch {
    return false
  }
}

/** A part's entries' paths and types into `into`; false when it is not a list of entries (load then says what is wrong). */
function addEntries(into: Map<string, string>, text: string | undefined): boolean {
  if (text === undefined) return true
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch {
    return false
  }
  const list = (data as { entries?: unknown } | null)?.entries
  if (!Array.isArray(list)) return false
  for (const e of list as Array<{ path?: unknown; type?: unknown }>) {
    if (typeof e?.path !== 'string' || typeof e.type !== 'string' || into.has(e.path)) return false
    into.set(e.path, e.type)
  }
  return true
}

/** The manifest of the entries in text[start, end) (whole entries, as the provider writes them), and their paths and types. */
function narrowed(text: Buffer, start: number, end: number): { text: string; entries: Map<string, string> } | undefined {
  if (end < start) return undefined
  const part = `${MANIFEST_HEAD}${text.toString('utf8', start, end)}\n  ],\n  "leftovers": [],\n  "version": 1\n}\n`
  let data: unknown
  try {
    data = JSON.parse(part)
  } catch {
    return undefined
  }
  const list = (data as { entries?: unknown }).entries
  if (!Array.isArray(list)) return undefined
  const entries = new Map<string, string>()
  for (const e of list as Array<{ path?: unknown; type?: unknown }>) {
    if (typeof e?.path !== 'string' || typeof e.type !== 'string' || entries.has(e.path)) return undefined
    entries.set(e.path, e.type)
  }
  return { text: part, entries }
}

/** A side with the manifest narrowed and, under filesystem/, only the files of its entries. */
function narrowedReader(twin: TwinReader, holds: Holdings, manifest: string, paths: ReadonlySet<string>): TwinReader {
  const bytes = Buffer.from(manifest)
  const read = (path: string) => (path === MANIFEST_PATH ? Promise.resolve(bytes) : twin.read(path))
  return {
    ...sizeAndBlob(twin, read),
    read,
    readText: (path) => (path === MANIFEST_PATH ? Promise.resolve(manifest) : twin.readText(path)),
    list: listOf(twin, holds, paths),
  }
}

/**
 * A side's sizeOf and blobOf for its documents under filesystem/, where it has them: an oversized
 * document is still not read (load.ts asks its size first), nor one the collect just made. Of
 * the manifest's documents (which the narrowed side may hold other text of) no blob id, and
 * their size from what is read.
 */
function sizeAndBlob(twin: TwinReader, read: (path: string) => Promise<Uint8Array | undefined>): Pick<TwinReader, 'sizeOf' | 'blobOf' | 'executableOf' | 'observedExecutableOf'> {
  const sizeOf = twin.sizeOf
  const blobOf = twin.blobOf
  const executableOf = twin.executableOf
  const observedExecutableOf = twin.observedExecutableOf
  return {
    ...(executableOf === undefined ? {} : { executableOf: (path: string) => executableOf.call(twin, path) }),
    ...(observedExecutableOf === undefined ? {} : { observedExecutableOf: (path: string) => observedExecutableOf.call(twin, path) }),
    ...(sizeOf === undefined ? {} : { sizeOf: async (path: string) => (path.startsWith('filesystem/') ? sizeOf.call(twin, path) : (await read(path))?.byteLength) }),
    ...(blobOf === undefined ? {} : { blobOf: (path: string) => (path.startsWith('filesystem/') ? blobOf.call(twin, path) : undefined) }),
  }
}

function startsWith(bytes: Buffer, text: string): boolean {
  return bytes.length >= text.length && bytes.toString('latin1', 0, text.length) === text
}
