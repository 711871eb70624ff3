import type { FileEntry, FilesState } from './state.js'

/**
 * Speed and memory (issue 22, session 8): the mirrored files of the state this process collected
 * last, for `load` to take a twin document's text and sha256 from when the document holds
 * exactly that text. `plan` and `status` load the twin right after collecting the machine; on an
 * unchanged machine every mirrored document is the text collect just made of its file (the
 * services root: 211 documents, 1.3 MB). Hashing each again (sha256) and keeping a second copy
 * of every text until the diff are left out. The copies were promoted to V8's old generation;
 * with session 7's fixed 1 MB young generation that crossed V8's first limit (about 19.4 MB on the
 * services root), so an incremental mark-compact started near the end and the process waited
 * for it before exiting: `plan`'s and `status`'s heap at their end 19.4 → 18.7 MB and no
 * mark-compact (`--trace-gc`). With v8-flags.js's growing young generation V8 starts marking
 * earlier (when the old generation's slack is below the young generation's capacity) and both
 * reach that again (architecture.md, Speed). With the rows beside it (MadeDocuments,
 * twin-files.ts's readSize, load.ts's lazy scope, attributes-diff.ts's fast path), against main
 * without them (medians of 15 interleaved, load 5.7–6.8): `plan` 152.4 → 147.0 ms of CPU,
 * `status` 155.3 → 151.1 ms on the services root.
 *
 * Nothing is taken on the twin's word: a document is read and its bytes compared with the
 * collected text written as UTF-8; equal bytes are that text (see collectedWithBytes), so their
 * sha256 and size are the collected file's, and no decoding is needed. Any other bytes (an edit,
 * a pull, another root) are decoded and hashed as before. (A document the index the twin's check
 * just vouched for holds as the blob of the collected text is not read at all: collectedWithBlob,
 * session 16.) Held through a WeakRef: nothing kept
 * once the collected state is dropped (the scale root's texts are not kept to the end of a
 * snapshot); the one buffer the texts are written into is kept (the largest mirrored file).
 */
let last: WeakRef<FilesState> | undefined
/** Each remembered state's mirrored files by path, kept only as long as the state (a WeakMap's value lives with its key). */
const indexes = new WeakMap<FilesState, Map<string, FileEntry>>()

/** Called by collect with the state it made. */
export function rememberCollected(state: FilesState): void {
  last = new WeakRef(state)
}

/** A collect that made no state of its files (kept-collect.ts): nothing collected is remembered. */
export function forgetCollected(): void {
  last = undefined
}

/**
 * A mirrored file's text's git blob id where the stat cache knows it (StatCache.lookup), by
 * entry: documentsOf hands it to the core with the file's document (withKnownBlob), which then
 * need not hash the text to find it unchanged; `collectedWithBlob` takes a twin document with
 * that id as the text. An entry whose text was replaced since has none.
 */
export const textBlobs = new WeakMap<FileEntry, { text: string; blob: string }>()

/**
 * Speed (issue 22, session 16): the collected mirrored file at `path` when the twin's reader
 * knows its document's blob id without reading it (`TwinReader.blobOf`: the working twin was just
 * found to be exactly its index) and that id is the one of the text collect made of the file
 * (the stat cache's, kept beside the text it was worked out from: `textBlobs`); undefined
 * otherwise, and the document is read and compared as in `collectedWithBytes`. Equal blob ids are
 * equal bytes (git's own identity of content; the snapshot takes a document so, `blobOf` in
 * atomic-snapshot.ts). Services root, unchanged machine: the 211 mirrored documents (1.3 MB) no
 * longer opened, read and compared in `plan` and `status`: `plan`'s system calls 4,598 → 3,539
 * (`openat` 326 → 115, `read` 353 → 146), one young-generation collection fewer (3 → 2); with
 * pending-checks.ts's synchronous read, against main before both (callgrind, every thread):
 * `plan` about 528 → 485 M instructions, `status` 524 → 481 M.
 */
export function collectedWithBlob(path: string, blob: string | undefined): FileEntry | undefined {
  if (blob === undefined) return undefined
  const entry = byPathOf(last?.deref())?.get(path)
  const known = entry === undefined ? undefined : textBlobs.get(entry)
  // The size as collectedWithBytes asks it: the file's bytes are the text's (no byte order mark dropped).
  if (entry === undefined || known === undefined || known.blob !== blob || entry.text !== known.text) return undefined
  return entry.size === Buffer.byteLength(known.text, 'utf8') ? entry : undefined
}

/** Each remembered state's mirrored files by path (made once a state). */
function byPathOf(state: FilesState | undefined): Map<string, FileEntry> | undefined {
  if (state === undefined) return undefined
  let byPath = indexes.get(state)
  if (byPath === undefined) {
    byPath = new Map()
    for (const entry of state.entries) {
      if (entry.type === 'file' && entry.content === 'mirrored' && entry.text !== undefined && entry.sha256 !== undefined) byPath.set(entry.path, entry)
    }
    indexes.set(state, byPath)
  }
  return byPath
}

/** Where a collected text is written as UTF-8 to be compared with a document's bytes: one buffer, grown as needed. */
let scratch = Buffer.allocUnsafeSlow(0)

/**
 * The collected mirrored file at `path` when `bytes` are exactly its text as UTF-8; undefined
 * otherwise. The bytes are compared, not decoded: equal bytes are that text (collect decoded it
 * from the machine's bytes with a fatal UTF-8 decoder, which gives back the same bytes encoded),
 * and no second string of it is made (the services root's `/etc/ssh/moduli`, 592 KB, was one in
 * V8's large-object space, which only a mark-compact frees).
 */
export function collectedWithBytes(path: string, bytes: Uint8Array): FileEntry | undefined {
  const entry = byPathOf(last?.deref())?.get(path)
  const text = entry?.text
  if (entry === undefined || text === undefined || entry.size !== bytes.byteLength || Buffer.byteLength(text, 'utf8') !== bytes.byteLength) return undefined
  if (scratch.length < bytes.byteLength) scratch = Buffer.allocUnsafeSlow(Math.max(bytes.byteLength, scratch.length * 2, 64 * 1024))
  const written = scratch.write(text, 0, 'utf8')
  return written === bytes.byteLength && scratch.subarray(0, written).equals(bytes) ? entry : undefined
}
