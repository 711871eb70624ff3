import { commonEnds, machinePathOf, type NarrowResult, type TwinReader } from '@twinsync/sdk'
import { MANIFEST_PATH, PARTS_DIR } from './state.js'

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
 * changed machine file whose entry is left out means nothing is narrowed. Text not in the
 * provider's layout (an entry not on lines of its own, a manifest of another shape) is not
 * narrowed, nor is a part that is not valid JSON when cut out.
 */
export async function narrowFiles(older: TwinReader, newer: TwinReader, changed: readonly string[]): Promise<NarrowResult | undefined> {
  const [olderParts, newerParts] = await Promise.all([older.list(PARTS_DIR), newer.list(PARTS_DIR)])
  if (olderParts.length > 0 || newerParts.length > 0) return narrowParts(older, newer, changed, olderParts)
  const [a, b] = await Promise.all([older.read(MANIFEST_PATH), newer.read(MANIFEST_PATH)])
  if (a === undefined || b === undefined || a.byteLength < NARROW_FROM) return undefined
  const before = Buffer.from(a.buffer, a.byteOffset, a.byteLength)
  const after = Buffer.from(b.buffer, b.byteOffset, b.byteLength)
  if (!startsWith(before, MANIFEST_HEAD) || !startsWith(after, MANIFEST_HEAD)) return undefined
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
  return { older: narrowedReader(older, olderPart.text, paths), newer: narrowedReader(newer, newerPart.text, paths) }
}

/**
 * A split manifest (manifest.ts): both sides narrowed to the parts that changed. An entry is in
 * the part of its folder on both sides, so an unchanged part holds the same entries on both and
 * adds no change; only a directory gone whose entries below it stay elsewhere would, and such a
 * directory is looked for in the older side's other parts (then nothing is narrowed). Compared
 * whole: a manifest.json that changed, that is not of version 2 or that lists entries of its
 * own (a pending edit); a changed machine file whose entry is not in a changed part.
 */
async function narrowParts(older: TwinReader, newer: TwinReader, changed: readonly string[], olderParts: readonly string[]): Promise<NarrowResult | undefined> {
  if (changed.includes(MANIFEST_PATH)) return undefined
  const main = await older.readText(MANIFEST_PATH)
  if (main === undefined || !isBareSplit(main)) return undefined
  const parts = new Set(changed.filter((path) => path.startsWith(PARTS_DIR)))
  const olderEntries = new Map<string, string>()
  const newerEntries = new Map<string, string>()
  for (const part of parts) {
    const [a, b] = await Promise.all([older.readText(part), newer.readText(part)])
    if (!addEntries(olderEntries, a) || !addEntries(newerEntries, b)) return undefined
  }
  const paths = new Set([...olderEntries.keys(), ...newerEntries.keys()])
  for (const path of changed) {
    const machine = path.startsWith('filesystem/') ? machinePathOf(path) : undefined
    if (machine !== undefined && !paths.has(machine)) return undefined
  }
  const deleted = [...olderEntries].filter(([path, type]) => type === 'directory' && newerEntries.get(path) !== 'directory')
  if (deleted.length > MAX_DELETED_DIRECTORIES) return undefined
  if (deleted.length > 0) {
    const below = deleted.map(([path]) => Buffer.from(`"path": ${JSON.stringify(`${path}/`).slice(0, -1)}`))
    for (const part of olderParts) {
      if (parts.has(part)) continue
      const bytes = await older.read(part)
      if (bytes === undefined) continue
      const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
      if (below.some((b) => text.includes(b))) return undefined
    }
  }
  const view = (twin: TwinReader): TwinReader => ({
    read: (path) => twin.read(path),
    readText: (path) => twin.readText(path),
    list: async (prefix) =>
      (await twin.list(prefix)).filter((path) => {
        if (path.startsWith(PARTS_DIR)) return parts.has(path)
        if (!path.startsWith('filesystem/')) return true
        const machine = machinePathOf(path)
        return machine !== undefined && paths.has(machine)
      }),
  })
  return { older: view(older), newer: view(newer) }
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
function narrowedReader(twin: TwinReader, manifest: string, paths: ReadonlySet<string>): TwinReader {
  const bytes = Buffer.from(manifest)
  return {
    read: (path) => (path === MANIFEST_PATH ? Promise.resolve(bytes) : twin.read(path)),
    readText: (path) => (path === MANIFEST_PATH ? Promise.resolve(manifest) : twin.readText(path)),
    list: async (prefix) =>
      (await twin.list(prefix)).filter((path) => {
        if (!path.startsWith('filesystem/')) return true
        const machine = machinePathOf(path)
        return machine !== undefined && paths.has(machine)
      }),
  }
}

function startsWith(bytes: Buffer, text: string): boolean {
  return bytes.length >= text.length && bytes.toString('latin1', 0, text.length) === text
}
