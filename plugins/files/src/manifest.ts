import { createHash } from 'node:crypto'
import { validatorOf } from '@twinsync/sdk'
import { Manifest, type FileEntry, type FilesState, type ManifestEntry } from './state.js'

/** The manifest of a state: every entry without its text (the text is its own document). */
export function toManifest(state: FilesState): Manifest {
  return {
    version: 1,
    entries: state.entries.map(({ text: _text, ...entry }) => entry),
    leftovers: state.leftovers,
  }
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
  const entries = state.entries
  // Room for the usual entry (the scale root's: 346 bytes) and more; pages never written are
  // never resident. Grown (copied) only for unusually long entries.
  const out = new ByteWriter(entries.length * 512 + 4096)
  out.put(entries.length === 0 ? `${ENTRIES_HEAD}],` : ENTRIES_HEAD)
  for (let i = 0; i < entries.length; i += BATCH) {
    // '{\n  "entries": [' + '\n    {…},\n    {…}' + '\n  ]\n}': the entries, indented as in the whole.
    const text = JSON.stringify({ entries: entries.slice(i, i + BATCH).map(sortedEntry) }, null, 2)
    if (i > 0) out.put(',')
    out.put(text.slice(ENTRIES_HEAD.length, text.length - ENTRIES_TAIL.length))
  }
  if (entries.length > 0) out.put('\n  ],')
  // '{' + '\n  "leftovers": […],\n  "version": 1\n}\n'
  out.put(`${JSON.stringify({ leftovers: state.leftovers, version: 1 }, null, 2).slice(1)}\n`)
  const bytes = out.done()
  generated = { length: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') }
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
 * never a record that could be forged. A sha256, not the text: the scale root's 8.6 MB were
 * kept for the whole process (session 7); hashing them costs about 5 ms.
 */
let generated: { length: number; sha256: string } | undefined

/** Whether `text` is, byte for byte, the manifest this process made last. */
function isGenerated(text: string): boolean {
  if (generated === undefined || Buffer.byteLength(text) !== generated.length) return false
  return createHash('sha256').update(text, 'utf8').digest('hex') === generated.sha256
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

/** Parse system/files/manifest.json; the reason it is not a manifest otherwise. */
export function parseManifest(text: string): { manifest: Manifest } | { problem: string } {
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch (error) {
    return { problem: `not JSON: ${error instanceof Error ? error.message : String(error)}` }
  }
  const validator = isGenerated(text) ? undefined : validatorOf(Manifest)
  if (validator !== undefined && !validator.Check(data)) {
    const error = [...validator.Errors(data)][0]
    return { problem: `${error?.instancePath || '/'} ${error?.message ?? 'does not match the manifest format'}` }
  }
  // A path no file system can hold (a NUL byte) is a broken manifest, refused like any other.
  const bad = (data as Manifest).entries.find((e) => e.path.includes('\0') || !e.path.startsWith('/'))
  if (bad !== undefined) return { problem: `entry ${JSON.stringify(bad.path)} is not a valid absolute path` }
  return { manifest: data as Manifest }
}

export function entryWithText(entry: ManifestEntry, text: string | undefined): FileEntry {
  return text === undefined ? { ...entry } : { ...entry, text }
}
