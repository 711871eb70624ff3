import { commonEnds, machinePathOf, type NarrowResult, type TwinReader } from '@twinsync/sdk'
import { MANIFEST_PATH } from './state.js'

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
