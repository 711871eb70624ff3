import { createHash } from 'node:crypto'
import type { TreeEntry } from './atomic-snapshot.js'
import { recordable } from './index-record.js'
import { lowerBound } from './quick-status.js'

/**
 * Speed (issue 22, session 9): a snapshot that changed a few files costs what they changed, not
 * what the twin holds. A snapshot from a clean twin made its new trees, what they change and
 * the new index in Node, but from every entry: on the bench's scale root (19,600 entries,
 * 4,900 folders) one changed file made all 4,900 trees again and hashed them (treesOf), looked
 * every blob and tree id up in the packs' indexes (objectsStored), compared every entry with
 * HEAD's (changesBetween) and wrote the index entry by entry (writeIndexFile). Now the index
 * carries git's own cache tree (the `TREE` extension, Documentation/gitformat-index.txt: each
 * folder's tree id and how many entries it covers), as `git write-tree` leaves it, and keeps
 * it for the next snapshot:
 *   - the new trees are made only for the folders a change lies in (each from its own entries,
 *     found in the index by skipping its subfolders' spans), every other folder is the tree id
 *     the cache tree has for it (`treesFromCache`);
 *   - what must be in the object store is what those trees name and the draft did not write
 *     (git's write-tree checks no more where its cache tree is valid);
 *   - the new index is the one read with the changed entries put in, removed ones left out (the
 *     rest copied as bytes, racy ones smudged as `writeIndexFile` does) and the cache tree
 *     updated (`spliceIndex`).
 * git keeps the extension right (any command that changes an entry drops the tree ids above
 * it), and reads ours as its own. Any doubt (no cache tree, a folder git marked invalid, spans
 * that do not add up, an index other than version 2) takes the whole way, which writes the
 * cache tree for the next time. Measured: see docs/architecture.md (Speed), the row of this module.
 * Session 48: tree-patch.ts makes the touched folders' trees from HEAD's as stored, patched; this
 * module's way (treesFromCache) is taken when that one cannot tell.
 */

/** A folder in git's cache tree. */
export interface CacheTreeNode {
  /** Index entries the folder covers; -1 where git marked it invalid (an entry below changed). */
  count: number
  /** Its tree's id (hex), when count >= 0. */
  sha: string | undefined
  /** Its folders by name, in git's order of them (shorter names first, then by bytes); undefined when read without them (see `raw`). */
  subs: Map<string, CacheTreeNode> | undefined
  /** A folder read without its folders: where its bytes lie in what was read (its line, its id, and every folder below), written again as they are. */
  raw?: { source: Buffer; start: number; end: number }
}

/**
 * The cache tree in an index's `TREE` extension (its data between `start` and `end`); undefined
 * when it does not parse. Only the folders `expand` names ('' the root, always) are read with
 * their folders; the others keep their bytes (`raw`): the scale twin's 4,900 folders are
 * passed over, not made into objects, when a change lies under five of them.
 */
export function parseCacheTree(bytes: Buffer, [start, end]: readonly [number, number], expand: (folder: string) => boolean = () => true): CacheTreeNode | undefined {
  let at = start
  /** The node's line at `at` (name's end, counts), `at` moved past its id; undefined when it does not parse. */
  const line = (withId: boolean): { nul: number; count: number; subCount: number; sha: string | undefined } | undefined => {
    const read = cacheTreeLine(bytes, at, end)
    if (read === undefined) return undefined
    at = read.next
    let sha: string | undefined
    if (read.count >= 0) {
      if (at + 20 > end) return undefined
      if (withId) sha = bytes.toString('hex', at, at + 20)
      at += 20
    }
    return { nul: read.nul, count: read.count, subCount: read.subCount, sha }
  }
  /** Past a node and every folder below it; false when they do not parse. */
  const skip = (depth: number): boolean => {
    if (depth > 4096) return false
    const begin = at
    const read = line(false)
    if (read === undefined || read.nul === begin) return false
    for (let i = 0; i < read.subCount; i++) if (!skip(depth + 1)) return false
    return true
  }
  const one = (depth: number, parent: string | undefined): [string, CacheTreeNode] | undefined => {
    if (depth > 4096) return undefined
    const begin = at
    const read = line(true)
    if (read === undefined) return undefined
    const name = bytes.toString('utf8', begin, read.nul)
    if (parent !== undefined && (name === '' || name.includes('/'))) return undefined
    const path = parent === undefined ? '' : parent === '' ? name : `${parent}/${name}`
    if (parent !== undefined && !expand(path)) {
      for (let i = 0; i < read.subCount; i++) if (!skip(depth + 1)) return undefined
      return [name, { count: read.count, sha: read.sha, subs: undefined, raw: { source: bytes, start: begin, end: at } }]
    }
    const subs = new Map<string, CacheTreeNode>()
    for (let i = 0; i < read.subCount; i++) {
      const sub = one(depth + 1, path)
      if (sub === undefined || subs.has(sub[0])) return undefined
      subs.set(sub[0], sub[1])
    }
    return [name, { count: read.count, sha: read.sha, subs }]
  }
  const root = one(0, undefined)
  return root !== undefined && root[0] === '' && at === end ? root[1] : undefined
}

/**
 * A cache-tree node's line at `at` (`<name>\0<count> <folders>\n`, before `end`): where its name
 * ends, its counts, and where its id (count >= 0) or the next node starts; undefined when it does
 * not parse. `-?\d{1,10} \d{1,10}\n` read byte by byte. Session 47: not a string of the line and a
 * regular expression over it (two native calls and a string a folder: the scale twin's
 * /etc/scale holds 4,859): the parse 72.9 → 58.7 M instructions of the main thread (callgrind
 * between marks; the draft's build and commit alone on a copy of the scale twin, medians of 3
 * interleaved pairs, V8's collections left out).
 */
export function cacheTreeLine(bytes: Buffer, at: number, end: number): { nul: number; count: number; subCount: number; next: number } | undefined {
  const nul = bytes.indexOf(0, at)
  if (nul < 0 || nul >= end) return undefined
  let i = nul + 1
  const negative = i < end && bytes[i] === 45
  if (negative) i++
  let count = 0
  let from = i
  for (let c = bytes[i] as number; i < end && c >= 48 && c <= 57; c = bytes[++i] as number) count = count * 10 + c - 48
  if (i - from < 1 || i - from > 10 || i >= end || bytes[i] !== 32) return undefined
  let subCount = 0
  from = ++i
  for (let c = bytes[i] as number; i < end && c >= 48 && c <= 57; c = bytes[++i] as number) subCount = subCount * 10 + c - 48
  if (i - from < 1 || i - from > 10 || i >= end || bytes[i] !== 10) return undefined
  return { nul, count: negative ? -count : count, subCount, next: i + 1 }
}

/** The `TREE` extension (signature, length, data) of a cache tree, written as git writes it. */
export function cacheTreeExtension(root: CacheTreeNode): Buffer {
  let length = 0
  const measure = (name: string, node: CacheTreeNode): void => {
    if (node.raw !== undefined) {
      length += node.raw.end - node.raw.start
      return
    }
    const subs = node.subs ?? new Map<string, CacheTreeNode>()
    length += Buffer.byteLength(name) + 1 + String(node.count).length + 1 + String(subs.size).length + 1 + (node.count >= 0 ? 20 : 0)
    // Map.forEach, not `for (const [a, b] of …)` (see treeObject in atomic-snapshot.ts).
    subs.forEach((child, sub) => measure(sub, child))
  }
  measure('', root)
  const bytes = Buffer.allocUnsafe(8 + length)
  bytes.write('TREE', 0, 'latin1')
  bytes.writeUInt32BE(length, 4)
  let at = 8
  // Folders kept as bytes that lay side by side are copied as one piece (the 4,859 folders of
  // the scale root's /etc/scale beside a changed one: one copy, not one each).
  let pending: { source: Buffer; start: number; end: number } | undefined
  const flush = (): void => {
    if (pending !== undefined) at += pending.source.copy(bytes, at, pending.start, pending.end)
    pending = undefined
  }
  const write = (name: string, node: CacheTreeNode): void => {
    const raw = node.raw
    if (raw !== undefined) {
      if (pending !== undefined && pending.source === raw.source && pending.end === raw.start) pending.end = raw.end
      else {
        flush()
        pending = { ...raw }
      }
      return
    }
    flush()
    const subs = node.subs ?? new Map<string, CacheTreeNode>()
    at += bytes.write(name, at, 'utf8')
    at += bytes.write(`\0${node.count} ${subs.size}\n`, at, 'latin1')
    if (node.count >= 0) at += bytes.write(node.sha as string, at, 'hex')
    subs.forEach((child, sub) => write(sub, child))
  }
  write('', root)
  flush()
  return bytes
}

/** '' and every folder the paths lie in: those a change makes again. */
export function foldersAbove(paths: Iterable<string>): Set<string> {
  const folders = new Set<string>([''])
  for (const path of paths) {
    for (let at = path.lastIndexOf('/'); at > 0 && !folders.has(path.slice(0, at)); at = path.lastIndexOf('/', at - 1)) folders.add(path.slice(0, at))
  }
  return folders
}

/** git's order of a folder's subfolders in its cache tree (cache-tree.c, subtree_name_cmp): shorter names first, then by bytes. */
function subtreeOrder(a: string, b: string): number {
  const la = Buffer.byteLength(a)
  const lb = Buffer.byteLength(b)
  if (la !== lb) return la - lb
  return a.length === la && b.length === lb ? (a < b ? -1 : a > b ? 1 : 0) : Buffer.compare(Buffer.from(a), Buffer.from(b))
}

function ordered(subs: Iterable<[string, CacheTreeNode]>): Map<string, CacheTreeNode> {
  return new Map([...subs].sort((a, b) => subtreeOrder(a[0], b[0])))
}

/** The whole cache tree of these entries, whose folders' tree ids treesOf gave ('' the root). */
export function cacheTreeOf(entries: ReadonlyMap<string, TreeEntry>, folders: ReadonlyMap<string, string>): CacheTreeNode | undefined {
  const counts = new Map<string, number>()
  for (const path of entries.keys()) {
    counts.set('', (counts.get('') ?? 0) + 1)
    for (let at = path.indexOf('/'); at > 0; at = path.indexOf('/', at + 1)) {
      const folder = path.slice(0, at)
      counts.set(folder, (counts.get(folder) ?? 0) + 1)
    }
  }
  const nodes = new Map<string, CacheTreeNode>()
  for (const [folder, sha] of folders) nodes.set(folder, { count: counts.get(folder) ?? 0, sha, subs: new Map() })
  const kids = new Map<string, Array<[string, CacheTreeNode]>>()
  for (const [folder, node] of nodes) {
    if (folder === '') continue
    const at = folder.lastIndexOf('/')
    const parent = at < 0 ? '' : folder.slice(0, at)
    if (!nodes.has(parent)) return undefined
    const list = kids.get(parent)
    const item: [string, CacheTreeNode] = [folder.slice(at + 1), node]
    if (list === undefined) kids.set(parent, [item])
    else list.push(item)
  }
  for (const [folder, list] of kids) (nodes.get(folder) as CacheTreeNode).subs = ordered(list)
  return nodes.get('')
}

/** Each touched folder's changed paths right in it (`direct`, '' the root), and its touched folders (`kids`, by path). */
export function changedFolders(changed: readonly string[]): { direct: Map<string, string[]>; kids: Map<string, Set<string>> } {
  const direct = new Map<string, string[]>([['', []]])
  const kids = new Map<string, Set<string>>()
  for (const path of changed) {
    const at = path.lastIndexOf('/')
    const folder = at < 0 ? '' : path.slice(0, at)
    const list = direct.get(folder)
    if (list !== undefined) list.push(path)
    else direct.set(folder, [path])
    for (let f = folder; f !== ''; ) {
      const slash = f.lastIndexOf('/')
      const parent = slash < 0 ? '' : f.slice(0, slash)
      const set = kids.get(parent)
      if (set?.has(f) === true) break
      if (set === undefined) kids.set(parent, new Set([f]))
      else set.add(f)
      if (!direct.has(parent)) direct.set(parent, [])
      f = parent
    }
  }
  return { direct, kids }
}

/** What HEAD's index (its entries in git's order, and its cache tree) gives treesFromCache. */
export interface IndexedTree {
  paths: readonly string[]
  entries: ReadonlyMap<string, TreeEntry>
  cache: CacheTreeNode
}

/**
 * The new tree: HEAD's (the index `head`, with its cache tree) with `changed` paths now as
 * `entries` has them (absent: removed). Only the folders a changed path lies in are made
 * again; `trees` holds their tree objects (id → bytes), `cache` the new cache tree, `named`
 * the ids those trees take from HEAD (blobs of their unchanged files, trees of their unchanged
 * folders), which must be in the object store. Undefined when the cache tree cannot be trusted
 * to say what HEAD's trees are (then every tree is made).
 */
export function treesFromCache(
  head: IndexedTree,
  entries: ReadonlyMap<string, TreeEntry>,
  changed: readonly string[],
  makeTree: (files: ReadonlyMap<string, TreeEntry>, folders: ReadonlyArray<readonly [string, string]>, trees: Map<string, Buffer>) => string,
): { root: string; trees: Map<string, Buffer>; cache: CacheTreeNode; named: string[] } | undefined {
  const { paths, cache } = head
  if (cache.count !== paths.length || cache.sha === undefined) return undefined
  const { direct, kids } = changedFolders(changed)
  // A folder HEAD has, listed from the index: its files, and its folders with where their spans start.
  interface Listing {
    node: CacheTreeNode
    files: Map<string, TreeEntry>
    subs: Map<string, { node: CacheTreeNode; start: number }>
  }
  const listings = new Map<string, Listing | null | undefined>()
  const listingOf = (folder: string, node: CacheTreeNode, start: number): Listing | null => {
    const prefix = folder === '' ? '' : `${folder}/`
    const files = new Map<string, TreeEntry>()
    const subs = new Map<string, { node: CacheTreeNode; start: number }>()
    const end = start + node.count
    if (end > paths.length) return null
    for (let i = start; i < end; ) {
      const path = paths[i] as string
      if (!path.startsWith(prefix)) return null
      const slash = path.indexOf('/', prefix.length)
      if (slash < 0) {
        const entry = head.entries.get(path)
        if (entry === undefined) return null
        files.set(path.slice(prefix.length), entry)
        i++
        continue
      }
      const name = path.slice(prefix.length, slash)
      const sub = node.subs?.get(name)
      // A folder git marked invalid, or spans that do not add up: the cache tree is not trusted.
      if (sub === undefined || sub.count <= 0 || sub.sha === undefined || subs.has(name)) return null
      // The span's last path in the same folder: the first path's part up to its slash (a slice, not a string put together).
      const last = paths[i + sub.count - 1]
      if (last === undefined || !last.startsWith(path.slice(0, slash + 1))) return null
      subs.set(name, { node: sub, start: i })
      i += sub.count
    }
    return subs.size === node.subs?.size ? { node, files, subs } : null
  }
  /** HEAD's listing of a folder; undefined when HEAD has no such folder, null when the cache tree is not trusted. */
  const listing = (folder: string): Listing | null | undefined => {
    if (listings.has(folder)) return listings.get(folder)
    let found: Listing | null | undefined
    if (folder === '') found = listingOf('', cache, 0)
    else {
      const at = folder.lastIndexOf('/')
      const parent = listing(at < 0 ? '' : folder.slice(0, at))
      if (parent === null) return null
      const sub = parent?.subs.get(folder.slice(at + 1))
      found = sub === undefined ? undefined : listingOf(folder, sub.node, sub.start)
    }
    listings.set(folder, found)
    return found
  }
  const trees = new Map<string, Buffer>()
  const named: string[] = []
  let doubt = false
  const make = (folder: string): CacheTreeNode | undefined => {
    const before = listing(folder)
    if (before === null) {
      doubt = true
      return undefined
    }
    const files = new Map(before?.files)
    // In the cache tree's order (HEAD's node's), which a folder added to it disturbs.
    const subs = new Map<string, CacheTreeNode>(before?.node.subs)
    let added = false
    const prefix = folder === '' ? 0 : folder.length + 1
    for (const path of direct.get(folder) ?? []) {
      const entry = entries.get(path)
      if (entry === undefined) files.delete(path.slice(prefix))
      else files.set(path.slice(prefix), entry)
    }
    const touched = new Set<string>()
    for (const sub of kids.get(folder) ?? []) {
      const name = sub.slice(prefix)
      touched.add(name)
      if (!subs.has(name)) added = true
      const made = make(sub)
      if (doubt) return undefined
      if (made === undefined) subs.delete(name)
      else subs.set(name, made)
    }
    if (files.size === 0 && subs.size === 0) return undefined
    let count = files.size
    const folders: Array<[string, string]> = []
    // Map.forEach, not `for (const [a, b] of …)` (see treeObject in atomic-snapshot.ts).
    subs.forEach((node, name) => {
      count += node.count
      folders.push([name, node.sha as string])
      if (!touched.has(name)) named.push(node.sha as string)
    })
    const changedHere = new Set((direct.get(folder) ?? []).map((p) => p.slice(prefix)))
    files.forEach((entry, name) => {
      if (!changedHere.has(name)) named.push(entry.sha)
    })
    const sha = makeTree(files, folders, trees)
    return { count, sha, subs: added ? ordered(subs) : subs }
  }
  const root = make('')
  if (doubt || root === undefined) return undefined
  return { root: root.sha as string, trees, cache: root, named }
}

/**
 * The index (version 2) `read` with `changes` made (sorted in git's order; entry undefined:
 * removed), and `cache` as its cache tree (or its `TREE` extension, made already): the unchanged entries' bytes copied, their stat data
 * kept unless racy (a file changed two seconds or less before `read` was written, as
 * writeIndexFile keeps it), the new entries without stat data. Returns its bytes, quick-status's
 * key of its entries, and `parse`: what quick-status's parseIndex would read from those bytes
 * (spliced from `read`'s, not parsed again; see `recordIndexParse`); undefined when `read` is of
 * another version than 2.
 */
export function spliceIndex(
  read: { bytes: Buffer; paths: readonly string[]; entries: ReadonlyMap<string, TreeEntry>; statAt: Uint32Array; entriesEnd: number; mtimeNs: bigint; keyText: string; keyAt: Uint32Array; key: string },
  changes: ReadonlyArray<{ path: string; entry: TreeEntry | undefined }>,
  cache: CacheTreeNode | Buffer,
): { bytes: Buffer; key: string; parse: SplicedParse; rewritten?: readonly number[] } | undefined {
  const { bytes: old, paths, statAt } = read
  if (old.readUInt32BE(4) !== 2) return undefined
  const count = paths.length
  // What the new index holds, in order: spans of old entries [from, to), and new entries.
  const parts: Array<{ from: number; to: number } | { path: string; entry: TreeEntry; name: Buffer }> = []
  let next = 0
  // Where each change's entry lies in `read` when every change rewrites an entry it holds (else undefined).
  let rewritten: number[] | undefined = []
  for (const { path, entry } of changes) {
    const at = lowerBound(paths, path, next)
    if (at > next) parts.push({ from: next, to: at })
    next = paths[at] === path ? at + 1 : at
    if (entry !== undefined) parts.push({ path, entry, name: Buffer.from(path) })
    if (next === at || entry === undefined) rewritten = undefined
    else rewritten?.push(at)
  }
  if (next < count) parts.push({ from: next, to: count })
  const offsetOf = (i: number): number => (i < count ? (statAt[i] as number) : read.entriesEnd)
  const extension = Buffer.isBuffer(cache) ? cache : cacheTreeExtension(cache)
  const inPlace = rewritten === undefined ? undefined : rewriteInPlace(read, changes, rewritten, extension)
  if (inPlace !== undefined) return inPlace
  let length = 12
  let entries = 0
  for (const part of parts) {
    if ('from' in part) {
      length += offsetOf(part.to) - offsetOf(part.from)
      entries += part.to - part.from
    } else {
      length += (62 + part.name.length + 8) & ~7
      entries++
    }
  }
  const bytes = Buffer.alloc(length + extension.length + 20)
  bytes.write('DIRC', 0, 'latin1')
  bytes.writeUInt32BE(2, 4)
  bytes.writeUInt32BE(entries, 8)
  // An entry's stat data is kept from a file changed two seconds or more before the index it was read from was written (as writeIndexFile keeps it).
  const racyFrom = Number(read.mtimeNs / 1_000_000_000n - 2n)
  const view = new DataView(old.buffer, old.byteOffset, old.byteLength)
  // The key's text (as the index read was keyed: pieces of its text, the new entries' lines), and
  // the parse of the new bytes: each entry's path, where its stat data starts, where its line of
  // the key's text starts.
  const keyPieces: string[] = []
  let keyLength = 0
  const newPaths = new Array<string>(entries)
  const newStatAt = new Uint32Array(entries)
  const newKeyAt = new Uint32Array(entries + 1)
  let n = 0
  let at = 12
  for (const part of parts) {
    if ('from' in part) {
      const start = offsetOf(part.from)
      old.copy(bytes, at, start, offsetOf(part.to))
      const keyFrom = read.keyAt[part.from] as number
      for (let i = part.from; i < part.to; i++) {
        const was = statAt[i] as number
        if (view.getUint32(was + 8) >= racyFrom) {
          const here = at + was - start
          bytes.fill(0, here, here + 24)
          bytes.fill(0, here + 28, here + 40)
        }
        newPaths[n] = paths[i] as string
        newStatAt[n] = at + was - start
        newKeyAt[n++] = keyLength + (read.keyAt[i] as number) - keyFrom
      }
      const piece = read.keyText.slice(keyFrom, read.keyAt[part.to])
      keyPieces.push(piece)
      keyLength += piece.length
      at += offsetOf(part.to) - start
    } else {
      bytes.writeUInt32BE(Number.parseInt(part.entry.mode, 8), at + 24)
      bytes.write(part.entry.sha, at + 40, 'hex')
      bytes.writeUInt16BE(Math.min(part.name.length, 0xfff), at + 60)
      part.name.copy(bytes, at + 62)
      newPaths[n] = part.path
      newStatAt[n] = at
      newKeyAt[n++] = keyLength
      const line = `${part.entry.mode} ${part.entry.sha}\t${part.path}\0`
      keyPieces.push(line)
      keyLength += line.length
      at += (62 + part.name.length + 8) & ~7
    }
  }
  newKeyAt[n] = keyLength
  const entriesEnd = at
  extension.copy(bytes, at)
  at += extension.length
  createHash('sha1').update(bytes.subarray(0, at)).digest().copy(bytes, at)
  const digest = splicedKey(read.key, changes, bytes, keyPieces)
  const keyText = keyPieces.join('')
  return {
    bytes,
    key: digest,
    parse: { paths: newPaths, statAt: newStatAt, entriesEnd, treeExtension: [entriesEnd + 8, entriesEnd + extension.length], keyText, keyAt: newKeyAt, key: digest },
  }
}

/**
 * spliceIndex where every change rewrites an entry `read` holds (a file changed, none added or
 * removed: the usual snapshot): each entry keeps its place, its size (the same path) and its line
 * of the key's text (`<mode> <id>\t<path>\0`, the same length), so the entries are copied as one
 * piece, the rewritten ones written over, and the parse's paths and offsets are `read`'s own,
 * not made again entry by entry. The bytes, the key and the parse are spliceIndex's general
 * way's, byte for byte (core/test/cache-tree.test.ts checks both ways on random changes).
 *
 * Speed (issue 22, session 47): the scale twin's one-file snapshot (19,626 entries, two
 * rewritten): the splice (the cache tree written with it) 101.6 → 78.0 M instructions of the
 * main thread (callgrind between marks; the draft's build and commit alone on a copy of the
 * scale twin, medians of 3 interleaved pairs, V8's collections left out), most of what is left
 * the SHA-1s of the index (2.5 MB) and of the key's text, which git and quick-status ask for.
 */
function rewriteInPlace(
  read: { bytes: Buffer; paths: readonly string[]; statAt: Uint32Array; entriesEnd: number; mtimeNs: bigint; keyText: string; keyAt: Uint32Array; key: string },
  changes: ReadonlyArray<{ path: string; entry: TreeEntry | undefined }>,
  at: readonly number[],
  extension: Buffer,
): { bytes: Buffer; key: string; parse: SplicedParse; rewritten: readonly number[] } | undefined {
  const { bytes: old, paths, statAt, keyAt, entriesEnd } = read
  const count = paths.length
  const lines = changes.map(({ path, entry }) => `${(entry as TreeEntry).mode} ${(entry as TreeEntry).sha}\t${path}\0`)
  // A line of another length (a mode not of six digits): the general way.
  if (lines.some((line, i) => line.length !== (keyAt[(at[i] as number) + 1] as number) - (keyAt[at[i] as number] as number))) return undefined
  const bytes = Buffer.allocUnsafe(entriesEnd + extension.length + 20)
  old.copy(bytes, 0, 0, entriesEnd)
  // Stat data smudged where racy, as spliceIndex's general way (and writeIndexFile) keep it.
  const racyFrom = Number(read.mtimeNs / 1_000_000_000n - 2n)
  const view = new DataView(old.buffer, old.byteOffset, old.byteLength)
  for (let i = 0; i < count; i++) {
    const was = statAt[i] as number
    if (view.getUint32(was + 8) >= racyFrom) {
      bytes.fill(0, was, was + 24)
      bytes.fill(0, was + 28, was + 40)
    }
  }
  const keyPieces: string[] = []
  let keyFrom = 0
  changes.forEach(({ path, entry }, i) => {
    const n = at[i] as number
    const start = statAt[n] as number
    const end = n + 1 < count ? (statAt[n + 1] as number) : entriesEnd
    // The entry as spliceIndex writes a new one: no stat data, its mode, id, name's length, name.
    bytes.fill(0, start, end)
    bytes.writeUInt32BE(Number.parseInt((entry as TreeEntry).mode, 8), start + 24)
    bytes.write((entry as TreeEntry).sha, start + 40, 'hex')
    const name = Buffer.from(path)
    bytes.writeUInt16BE(Math.min(name.length, 0xfff), start + 60)
    name.copy(bytes, start + 62)
    keyPieces.push(read.keyText.slice(keyFrom, keyAt[n]), lines[i] as string)
    keyFrom = keyAt[n + 1] as number
  })
  keyPieces.push(read.keyText.slice(keyFrom))
  extension.copy(bytes, entriesEnd)
  createHash('sha1').update(bytes.subarray(0, entriesEnd + extension.length)).digest().copy(bytes, entriesEnd + extension.length)
  const digest = splicedKey(read.key, changes, bytes, keyPieces)
  return {
    bytes,
    key: digest,
    parse: { paths, statAt, entriesEnd, treeExtension: [entriesEnd + 8, entriesEnd + extension.length], keyText: keyPieces.join(''), keyAt, key: digest },
    rewritten: at,
  }
}

/**
 * The key (quick-status.ts's TwinIndex.key) of the index spliced from one of key `readKey` by
 * `changes`. A small index (not `recordable`: its parse is not kept, index-record.ts) gets the
 * key parseIndex gives its entries, the SHA-1 of its key text (`keyPieces`). A recorded one gets
 * a key chained from the one it was spliced from: the SHA-1 of a tag no key text begins with,
 * `readKey`, and each change (its path, its mode and blob id or `-` when removed), so that equal
 * keys still mean equal entries (an index's entries are those of `readKey`'s with these changes
 * made), while equal entries may have two keys (the chained one, and parseIndex's). The key is
 * only ever compared with keys the next runs read from the record written with it (quick-status's
 * clean record, rememberClean): an index parsed again instead (its record lost, or another
 * index put in place, e.g. git refreshed its stat data) has parseIndex's key, which the clean
 * record does not match, and `git status` is asked once, as for any index not recorded clean.
 *
 * Speed (issue 22, session 50): the scale twin's one-file snapshot (19,626 entries) hashed its
 * 2.1 MB key text at each commit (about 26 M instructions of SHA-1 under callgrind); the chained
 * key hashes a few hundred bytes. The index's own checksum (its 2.5 MB, which git checks) is
 * still computed whole.
 */
function splicedKey(readKey: string, changes: ReadonlyArray<{ path: string; entry: TreeEntry | undefined }>, bytes: Buffer, keyPieces: readonly string[]): string {
  const key = createHash('sha1')
  if (!recordable(bytes)) {
    for (const piece of keyPieces) key.update(piece)
    return key.digest('hex')
  }
  key.update(`${SPLICED_KEY}\0${readKey}\0`)
  for (const { path, entry } of changes) key.update(`${path}\0${entry === undefined ? '-' : `${entry.mode} ${entry.sha}`}\0`)
  return key.digest('hex')
}

/** What a chained key's text begins with: a key text (`<mode> <id>\t<path>\0`…) begins with a mode's digits. */
const SPLICED_KEY = 'twinsync spliced index'

/** What spliceIndex gives of the index it writes, as quick-status's parseIndex would read it (its `entries` map aside). */
export interface SplicedParse {
  paths: readonly string[]
  statAt: Uint32Array
  entriesEnd: number
  treeExtension: readonly [number, number]
  keyText: string
  keyAt: Uint32Array
  key: string
}

