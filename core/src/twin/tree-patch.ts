import { createHash } from 'node:crypto'
import { closeSync, fstatSync, lstatSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs'
import { join } from 'node:path'
import { inflateSync } from 'node:zlib'
import type { TreeEntry } from './atomic-snapshot.js'
import { cacheTreeLine, changedFolders } from './cache-tree.js'

/**
 * Speed (issue 22, session 48): the new trees around a changed file without work for every
 * folder beside it. cache-tree.ts's way made each touched folder's tree again from the index:
 * for the scale twin's one-file snapshot /etc/scale's 4,859 folders were each read from the
 * cache tree (a node, its id as hex), listed, put in a tree made entry by entry, and their ids
 * looked up from hex (about 185 M instructions of the main thread, session 47). Here a touched
 * folder's new tree is HEAD's tree of it, read from the object store (a pack, its deltas applied,
 * or a loose object; its SHA-1 checked against the id the cache tree gives), with only the
 * entries on a changed path replaced, removed or put in; the cache tree's folders beside a
 * changed one are passed over as bytes and written again as they were. What stays for each entry
 * of a touched folder: its place found (one native search for its name's end) and its id looked
 * up, as 20 bytes, in the packs' indexes: every id the new tree names must be in the store, as
 * `git write-tree` checks each entry of a tree it makes (a missing one: REPO_DAMAGED).
 *
 * Trust: the cache tree's id for a folder is taken as git's write-tree takes it for a folder no
 * change lies in; HEAD's tree of a touched folder must agree with the index where the change
 * lies (each changed entry's old id and mode, which folders the cache tree has) and in its
 * counts (its folders, its files), else cache-tree.ts's way is taken (null), as for anything
 * this does not read (alternates, another index version, an object not found or not whole).
 *
 * Measured: the scale twin's one-file snapshot, the draft's build and commit alone (a script on
 * a copy of the twin: begin, the two documents written, build, commit; callgrind between marks,
 * the main thread, young generation fixed at 128 MB, V8's collections left out; medians of 3
 * interleaved pairs against d0ec5ed4): the build 200.2 → 92.8 M instructions, the commit 175.0 →
 * 164.6 M (the cache tree written from bytes), both 374.7 → 257.9 M (−31%). Whole snapshots:
 * docs/architecture.md's Speed row "the draft's new trees read from HEAD's and patched".
 *
 * Session 49: what was left was three passes over /etc/scale's 4,859 entries, run as V8's
 * bytecode: the cache tree's lines beside the touched folder (33 M: each line's name end
 * searched twice and an object made a line), HEAD's tree's entries (19 M: modes read with
 * `readUIntBE` and looked up in a list, three arrays filled) and each id looked up (39 M: most
 * ids lie in one pack, not always the largest, asked first; an object made a hit). Now a line
 * beside the change is passed over by `passOver` (its name's end searched once, its counts read
 * in place), a tree's entries are passed once (modes told from their bytes, only where each
 * starts kept, each id looked up as it is passed and judged once the changed entries are known),
 * and `find` gives a number and asks first the pack that held the last id. The same harness
 * (the draft's build alone, callgrind between marks, the main thread, --interrupt-budget=540672
 * as a short run's, young generation fixed at 128 MB; 3 interleaved pairs against 253fe139):
 * the build 124.5 / 122.5 / 126.4 → 102.3 / 102.2 / 102.6 M (medians 124.5 → 102.3, −18%); by
 * marks in one run, the cache tree's pass 33.1 → 24.5 M, the tree's entries and ids together
 * 58.1 → 46.2 M. What is left is the same three passes' bytecode; of the second, about 19 M are
 * the lookups' `DataView` reads and their inline caches (callgrind's self costs).
 */

/**
 * The largest object read (a tree or a delta's base or result): a pack's or a delta's header
 * that says more is not believed (a decompression bomb in an untrusted twin); such a tree is
 * made from the index instead. The scale twin's widest tree is 199 KB (4,859 entries).
 */
const MAX_OBJECT = 64 * 1024 * 1024

/** The deepest delta chain read (git packs at most 4,095 deep; TwinSync's auto-pack 250). */
const MAX_DELTA_DEPTH = 1000

/** A pack's index (version 2) and its pack, opened when an object is first read from it. */
interface Pack {
  view: DataView
  count: number
  path: string
  fd?: number
  size?: number
}

/** The twin's object store: its packs' indexes (the largest first) and its loose objects. */
export class ObjectStore {
  private constructor(
    private readonly objects: string,
    private readonly packs: Pack[],
  ) {}

  /** The store of the twin at `dir`; null when this does not read it (alternates, an index other than version 2). */
  static open(dir: string): ObjectStore | null {
    const objects = join(dir, '.git', 'objects')
    if (lstatSync(join(objects, 'info', 'alternates'), { throwIfNoEntry: false }) !== undefined) return null
    const packs: Pack[] = []
    try {
      for (const name of readdirSync(join(objects, 'pack'))) {
        if (!name.endsWith('.idx')) continue
        const idx = readFileSync(join(objects, 'pack', name))
        if (idx.length < 8 + 1024 || idx.readUInt32BE(0) !== 0xff744f63 || idx.readUInt32BE(4) !== 2) return null
        const count = idx.readUInt32BE(8 + 255 * 4)
        // The ids, their CRCs and offsets, the pack's and the index's checksums.
        if (idx.length < 8 + 1024 + count * 28 + 40) return null
        packs.push({ view: new DataView(idx.buffer, idx.byteOffset, idx.byteLength), count, path: join(objects, 'pack', `${name.slice(0, -4)}.pack`) })
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return null
    }
    // The largest pack asked first (most ids are there).
    return new ObjectStore(objects, packs.sort((a, b) => b.count - a.count))
  }

  /** The pack (its place in `packs`) that held the last id found: asked first, as the ids of one tree mostly lie in one pack. */
  private last = 0
  /** Where in its pack's index the id `find` last found lies. */
  private foundIndex = 0

  /**
   * Which pack (its place in `packs`) holds the id at `at` in `ids` (20 bytes), its place in that
   * pack's index left in `foundIndex`; -1 when in none. A number, not an object a hit: this runs
   * for every id a new tree takes from HEAD (4,859 for the scale twin's /etc/scale).
   */
  private find(ids: DataView, at: number): number {
    // Each halving step on the id's first four bytes read as a number (no Buffer made, no native
    // compare a step), the whole id compared as five numbers where they match (sessions 9 and 47).
    const first = ids.getUint8(at)
    const key = ids.getUint32(at)
    const packs = this.packs
    const last = this.last
    for (let k = 0; k < packs.length; k++) {
      // The last pack that held one first, then the others, the largest first.
      const p = k === 0 ? last : k <= last ? k - 1 : k
      const { view, count } = packs[p] as Pack
      let low = first === 0 ? 0 : view.getUint32(8 + (first - 1) * 4)
      let high = view.getUint32(8 + first * 4)
      while (low < high) {
        const middle = (low + high) >>> 1
        if (view.getUint32(8 + 1024 + middle * 20) < key) low = middle + 1
        else high = middle
      }
      for (let m = low, o = 8 + 1024 + low * 20; m < count && view.getUint32(o) === key; m++, o += 20) {
        if (view.getUint32(o + 4) === ids.getUint32(at + 4) && view.getUint32(o + 8) === ids.getUint32(at + 8) && view.getUint32(o + 12) === ids.getUint32(at + 12) && view.getUint32(o + 16) === ids.getUint32(at + 16)) {
          this.last = p
          this.foundIndex = m
          return p
        }
      }
    }
    return -1
  }

  /** Whether the object whose id is the 20 bytes at `at` of `ids` is stored (in a pack, or loose). */
  has(ids: DataView, at: number): boolean {
    if (this.find(ids, at) >= 0) return true
    const hex = Buffer.from(ids.buffer, ids.byteOffset + at, 20).toString('hex')
    try {
      return lstatSync(join(this.objects, hex.slice(0, 2), hex.slice(2)), { throwIfNoEntry: false }) !== undefined
    } catch {
      // `objects/ab` a file (ENOTDIR), unreadable: not stored, so REPO_DAMAGED, not a raw error (session 48's review, F8).
      return false
    }
  }

  /** The tree `sha` (hex) as stored, its id checked; undefined when it is not stored whole, is not a tree, or does not read. */
  tree(sha: string): Buffer | undefined {
    const id = Buffer.from(sha, 'hex')
    if (id.length !== 20) return undefined
    let read: { type: number; bytes: Buffer } | undefined
    try {
      read = this.object(id, 0)
    } catch {
      return undefined
    }
    if (read?.type !== 2) return undefined
    const check = createHash('sha1').update(`tree ${read.bytes.length}\0`).update(read.bytes).digest()
    return check.equals(id) ? read.bytes : undefined
  }

  /** Closes the packs read. */
  close(): void {
    for (const pack of this.packs) {
      if (pack.fd !== undefined) closeSync(pack.fd)
      pack.fd = undefined
    }
  }

  /** An object's type (1 commit, 2 tree, 3 blob, 4 tag) and bytes, by its id (20 bytes); deltas applied. */
  private object(id: Buffer, depth: number): { type: number; bytes: Buffer } | undefined {
    // A delta chain deeper than TwinSync's packs make (auto-pack: 250) is read the index's way
    // instead: each link may copy up to MAX_OBJECT (session 48's review, F8).
    if (depth > MAX_DELTA_DEPTH) return undefined
    const found = this.find(new DataView(id.buffer, id.byteOffset, 20), 0)
    if (found >= 0) {
      const pack = this.packs[found] as Pack
      return this.packed(pack, offsetOf(pack, this.foundIndex), depth)
    }
    const hex = id.toString('hex')
    const loose = readFileSync(join(this.objects, hex.slice(0, 2), hex.slice(2)), { flag: 'r' })
    const bytes = inflateSync(loose, { maxOutputLength: MAX_OBJECT + 32 })
    const nul = bytes.indexOf(0)
    const head = /^(commit|tree|blob|tag) (0|[1-9]\d{0,9})$/.exec(bytes.toString('latin1', 0, nul < 0 ? 0 : Math.min(nul, 32)))
    if (nul < 0 || head === null || Number(head[2]) !== bytes.length - nul - 1) return undefined
    return { type: ['commit', 'tree', 'blob', 'tag'].indexOf(head[1] as string) + 1, bytes: bytes.subarray(nul + 1) }
  }

  /** The object at `offset` in `pack` (Documentation/gitformat-pack.txt): whole, or a delta against another (OFS or REF) applied. */
  private packed(pack: Pack, offset: number, depth: number): { type: number; bytes: Buffer } | undefined {
    if (pack.fd === undefined) {
      pack.fd = openSync(pack.path, 'r')
      pack.size = fstatSync(pack.fd).size
    }
    const end = (pack.size as number) - 20
    if (offset < 12 || offset >= end) return undefined
    const head = this.readAt(pack, offset, Math.min(64, end - offset))
    let i = 0
    let c = head[i++] as number
    const type = (c >> 4) & 7
    let size = c & 15
    for (let shift = 4; c & 0x80; shift += 7) {
      if (i >= head.length || shift > 35) return undefined
      c = head[i++] as number
      size += (c & 0x7f) * 2 ** shift
    }
    if (size > MAX_OBJECT) return undefined
    let base: { type: number; bytes: Buffer } | undefined
    if (type === 6) {
      if (i >= head.length) return undefined
      c = head[i++] as number
      let back = c & 0x7f
      while (c & 0x80) {
        if (i >= head.length || back > 2 ** 40) return undefined
        c = head[i++] as number
        back = (back + 1) * 128 + (c & 0x7f)
      }
      if (back <= 0 || back > offset - 12) return undefined
      base = this.packed(pack, offset - back, depth + 1)
    } else if (type === 7) {
      if (i + 20 > head.length) return undefined
      base = this.object(Buffer.from(head.subarray(i, i + 20)), depth + 1)
      i += 20
    } else if (type < 1 || type > 4) return undefined
    if ((type === 6 || type === 7) && base === undefined) return undefined
    // deflate's bound (zlib's deflateBound) for `size` bytes, as far as the pack goes.
    const data = this.readAt(pack, offset + i, Math.min(size + (size >> 10) + 64, end - offset - i))
    const bytes = inflateSync(data, { maxOutputLength: Math.max(size, 1) })
    if (bytes.length !== size) return undefined
    if (base === undefined) return { type, bytes }
    const applied = applyDelta(base.bytes, bytes)
    return applied === undefined ? undefined : { type: base.type, bytes: applied }
  }

  private readAt(pack: Pack, offset: number, length: number): Buffer {
    const bytes = Buffer.allocUnsafe(length)
    const read = readSync(pack.fd as number, bytes, 0, length, offset)
    return bytes.subarray(0, read)
  }
}

/** Where a pack's object (its place in the index) starts in the pack. */
function offsetOf(pack: Pack, index: number): number {
  const { view, count } = pack
  const small = view.getUint32(8 + 1024 + count * 24 + index * 4)
  if ((small & 0x80000000) === 0) return small
  const at = 8 + 1024 + count * 28 + (small & 0x7fffffff) * 8
  if (at + 8 > view.byteLength) return -1
  return view.getUint32(at) * 2 ** 32 + view.getUint32(at + 4)
}

/** A git delta (its base's size, the result's, then copies from the base and bytes put in) applied; undefined when it does not fit the base. */
export function applyDelta(base: Buffer, delta: Buffer): Buffer | undefined {
  let i = 0
  const size = (): number => {
    let value = 0
    let c = 0x80
    for (let shift = 0; c & 0x80; shift += 7) {
      if (i >= delta.length || shift > 35) return -1
      c = delta[i++] as number
      value += (c & 0x7f) * 2 ** shift
    }
    return value
  }
  if (size() !== base.length) return undefined
  const length = size()
  if (length < 0 || length > MAX_OBJECT) return undefined
  const out = Buffer.allocUnsafe(length)
  let at = 0
  while (i < delta.length) {
    const op = delta[i++] as number
    if (op & 0x80) {
      let from = 0
      let count = 0
      for (let bit = 0; bit < 4; bit++) if (op & (1 << bit)) from += (delta[i++] ?? 0) * 2 ** (8 * bit)
      for (let bit = 0; bit < 3; bit++) if (op & (0x10 << bit)) count += (delta[i++] ?? 0) * 2 ** (8 * bit)
      if (count === 0) count = 0x10000
      if (i > delta.length || from + count > base.length || at + count > length) return undefined
      at += base.copy(out, at, from, from + count)
    } else if (op !== 0) {
      if (i + op > delta.length || at + op > length) return undefined
      at += delta.copy(out, at, i, i + op)
      i += op
    } else return undefined
  }
  return at === length ? out : undefined
}

/** A folder of HEAD's cache tree read around the change: its line, and where each of its folders' bytes start. */
interface HeadNode {
  count: number
  sha: string
  /** Where each of its folders starts in the index's bytes; `end`: where the last ends. */
  starts: number[]
  end: number
  /** The touched folders among them: their place in `starts` and their nodes. */
  read: Map<string, { index: number; node: HeadNode }>
  /** The entries its folders do not cover: its own files. */
  files: number
}

/**
 * HEAD's cache tree (the index's `TREE` data between `start` and `end`), reading only the
 * touched folders' lines (a folder's touched folders by name: `wanted`); every other folder's
 * bytes passed over. Undefined when it does not parse, or a touched folder or a folder in one is
 * marked invalid.
 */
function readCacheTree(bytes: Buffer, start: number, end: number, wanted: ReadonlyMap<string, Buffer[]>): HeadNode | undefined {
  let at = start
  /** The line at `at`: its name's end, counts, `at` moved past it (and its id). */
  const line = (): { nul: number; count: number; subCount: number } | undefined => {
    const read = cacheTreeLine(bytes, at, end)
    if (read === undefined) return undefined
    at = read.next
    if (read.count < 0) return read
    if (at + 20 > end) return undefined
    at += 20
    return read
  }
  /**
   * Past the line of a folder whose name ends at `nul` (the line starts at `at`), its id and every
   * folder below it: its count (negative: marked invalid); undefined when they do not parse. Its
   * counts read here byte by byte, as cacheTreeLine reads them but with no object made and the
   * name's end not searched for again: this runs for every folder beside a touched one (4,859 in
   * the scale twin's /etc/scale).
   */
  const passOver = (nul: number, depth: number): number | undefined => {
    if (depth > 4096 || nul <= at || nul >= end) return undefined
    let i = nul + 1
    const negative = bytes[i] === 45
    if (negative) i++
    let count = 0
    let from = i
    let c = bytes[i] as number
    while (c >= 48 && c <= 57) {
      count = count * 10 + c - 48
      c = bytes[++i] as number
    }
    if (i - from < 1 || i - from > 10 || i >= end || c !== 32) return undefined
    let subCount = 0
    from = ++i
    c = bytes[i] as number
    while (c >= 48 && c <= 57) {
      subCount = subCount * 10 + c - 48
      c = bytes[++i] as number
    }
    if (i - from < 1 || i - from > 10 || i >= end || c !== 10) return undefined
    at = negative ? i + 1 : i + 21
    if (at > end) return undefined
    for (let k = 0; k < subCount; k++) if (passOver(bytes.indexOf(0, at), depth + 1) === undefined) return undefined
    return negative ? -count : count
  }
  const node = (depth: number, path: string): HeadNode | undefined => {
    if (depth > 4096) return undefined
    const read = line()
    if (read === undefined || read.count < 0) return undefined
    const sha = bytes.toString('hex', at - 20, at)
    const names = wanted.get(path) ?? []
    const starts: number[] = []
    const found = new Map<string, { index: number; node: HeadNode }>()
    let covered = 0
    for (let i = 0; i < read.subCount; i++) {
      const begin = at
      starts.push(begin)
      const nul = bytes.indexOf(0, begin)
      let hit: Buffer | undefined
      for (let w = 0; w < names.length && hit === undefined; w++) if (sameBytes(bytes, begin, nul, names[w] as Buffer)) hit = names[w]
      // A folder marked invalid or empty beside a touched one: its spans do not add up (cache-tree.ts's way, which takes the whole way).
      if (hit === undefined) {
        const count = passOver(nul, depth + 1)
        if (count === undefined || count <= 0) return undefined
        covered += count
        continue
      }
      const name = hit.toString('utf8')
      const sub = found.has(name) ? undefined : node(depth + 1, path === '' ? name : `${path}/${name}`)
      if (sub === undefined || sub.count <= 0) return undefined
      covered += sub.count
      found.set(name, { index: i, node: sub })
    }
    return { count: read.count, sha, starts, end: at, read: found, files: read.count - covered }
  }
  if (bytes[at] !== 0) return undefined
  const root = node(0, '')
  return at === end ? root : undefined
}

/** Whether bytes[from, to) are `name`'s (compared from the end: the scale twin's names differ in their last digits). */
function sameBytes(bytes: Buffer, from: number, to: number, name: Buffer): boolean {
  if (to - from !== name.length) return false
  for (let i = name.length - 1; i >= 0; i--) if (bytes[from + i] !== name[i]) return false
  return true
}

/** A touched folder's new cache-tree node: HEAD's (if it had the folder) with its touched folders replaced, removed or put in. */
interface NewNode {
  count: number
  sha: string
  head: HeadNode | undefined
  /** Its folders: HEAD's by their place (null: removed), and new ones (`at`: before HEAD's folder at that place). */
  replaced: Map<number, NewNode | null>
  added: Array<{ at: number; name: Buffer; node: NewNode }>
  subCount: number
}

/** git's order of a folder's folders in its cache tree (cache-tree.c, subtree_name_cmp): shorter names first, then by bytes. */
function subtreeOrder(a: Buffer, b: Buffer): number {
  return a.length !== b.length ? a.length - b.length : Buffer.compare(a, b)
}


/** One touched folder's change to its tree: a file (mode, id; removed: undefined) or a folder (its new node; removed: undefined). */
type Edit = { name: Buffer; folder: false; entry: TreeEntry | undefined; path: string } | { name: Buffer; folder: true; node: NewNode | undefined; path: string }

/**
 * The new tree around `changed` paths (their entries now as `entries` has them, absent:
 * removed), each touched folder's tree HEAD's patched (see the top of this module). `head`: the
 * index read (its bytes, its `TREE` data's range) and its entries; `written`: ids the draft
 * writes. Gives the new root tree, the trees made (id → bytes), the new `TREE` extension and
 * HEAD's root tree; `missing`: an id the new trees take from HEAD that the store lacks; null when
 * this cannot tell (then cache-tree.ts's way).
 */
export function treesPatched(
  dir: string,
  head: { bytes: Buffer; treeExtension: readonly [number, number]; entries: ReadonlyMap<string, TreeEntry> },
  entries: ReadonlyMap<string, TreeEntry>,
  changed: readonly string[],
  written: ReadonlySet<string>,
): { root: string; headRoot: string; trees: Map<string, Buffer>; extension: Buffer } | { missing: string } | null {
  const { direct, kids } = changedFolders(changed)
  const wanted = new Map<string, Buffer[]>()
  kids.forEach((set, folder) => {
    const prefix = folder === '' ? 0 : folder.length + 1
    wanted.set(folder, [...set].map((sub) => Buffer.from(sub.slice(prefix))))
  })
  const cache = readCacheTree(head.bytes, head.treeExtension[0], head.treeExtension[1], wanted)
  // The root covers every entry of the index.
  if (cache === undefined || cache.count !== head.entries.size) return null
  const store = ObjectStore.open(dir)
  if (store === null) return null
  const trees = new Map<string, Buffer>()
  let missing: string | undefined
  /** The folder's new node; undefined when nothing is left in it; null when this cannot tell. */
  const make = (folder: string, was: HeadNode | undefined): NewNode | undefined | null => {
    const prefix = folder === '' ? 0 : folder.length + 1
    const edits: Edit[] = []
    for (const path of direct.get(folder) ?? []) edits.push({ name: Buffer.from(path.slice(prefix)), folder: false, entry: entries.get(path), path })
    for (const sub of kids.get(folder) ?? []) {
      const name = sub.slice(prefix)
      const made = make(sub, was?.read.get(name)?.node)
      if (made === null || missing !== undefined) return null
      edits.push({ name: Buffer.from(name), folder: true, node: made, path: sub })
    }
    const tree = was === undefined ? Buffer.alloc(0) : store.tree(was.sha)
    if (tree === undefined) return null
    // HEAD's entries ("<mode> <name>\0<id>"), in one pass: where each starts (and, last, the
    // tree's end), its mode told from its bytes, and its id looked up in the store as it is passed
    // (those not found noted, judged once the changed entries are known: below).
    const starts: number[] = []
    const ids = new DataView(tree.buffer, tree.byteOffset, tree.byteLength)
    let lost: number[] | undefined
    let treeCount = 0
    for (let at = 0; at < tree.length; ) {
      let from: number
      let gitlink = false
      if (tree[at] === 52) {
        // "40000 ": a folder.
        if (tree[at + 1] !== 48 || tree[at + 2] !== 48 || tree[at + 3] !== 48 || tree[at + 4] !== 48 || tree[at + 5] !== 32) return null
        from = at + 6
        treeCount++
      } else {
        // "100644 ", "100755 ", "120000 " or "160000 " (a gitlink: its commit is not this store's).
        const b = tree[at + 1]
        const c = tree[at + 2]
        const d = tree[at + 3]
        const e = tree[at + 4]
        const f = tree[at + 5]
        if (tree[at] !== 49 || tree[at + 6] !== 32) return null
        if (b === 48 && c === 48) {
          if (!((d === 54 && e === 52 && f === 52) || (d === 55 && e === 53 && f === 53))) return null
        } else if (!((b === 50 || b === 54) && c === 48 && d === 48 && e === 48 && f === 48)) return null
        gitlink = b === 54
        from = at + 7
      }
      const nul = tree.indexOf(0, from)
      if (nul <= from || nul + 21 > tree.length) return null
      if (!gitlink && !store.has(ids, nul + 1)) (lost ??= []).push(starts.length)
      starts.push(at)
      at = nul + 21
    }
    const n = starts.length
    starts.push(tree.length)
    // The counts the cache tree gives: its folders are the tree's; its files, what its folders do not cover.
    if (was !== undefined && (treeCount !== was.starts.length || n - treeCount !== was.files)) return null
    /** HEAD's entry i against a name (and whether it is a folder), in git's tree order. */
    const compare = (i: number, name: Buffer, isFolder: boolean): number => {
      const start = starts[i] as number
      const folder = tree[start] === 52
      const from = start + (folder ? 6 : 7)
      const length = (starts[i + 1] as number) - 21 - from
      const common = Math.min(length, name.length)
      const c = tree.compare(name, 0, common, from, from + common)
      if (c !== 0) return c
      const mine = length > common ? (tree[from + common] as number) : folder ? 47 : 0
      const theirs = name.length > common ? (name[common] as number) : isFolder ? 47 : 0
      return mine - theirs
    }
    edits.sort((a, b) => {
      const common = Math.min(a.name.length, b.name.length)
      const c = a.name.compare(b.name, 0, common, 0, common)
      if (c !== 0) return c
      const ca = a.name.length > common ? (a.name[common] as number) : a.folder ? 47 : 0
      const cb = b.name.length > common ? (b.name[common] as number) : b.folder ? 47 : 0
      return ca - cb
    })
    const pieces: Buffer[] = []
    const replaced = new Map<number, NewNode | null>()
    const added: NewNode['added'] = []
    const skipped = new Set<number>()
    let cursor = 0
    let count = was?.count ?? 0
    let entriesLeft = n
    let subCount = was?.starts.length ?? 0
    for (const edit of edits) {
      let low = cursor
      let high = n
      while (low < high) {
        const middle = (low + high) >>> 1
        if (compare(middle, edit.name, edit.folder) < 0) low = middle + 1
        else high = middle
      }
      const found = low < n && compare(low, edit.name, edit.folder) === 0
      pieces.push(tree.subarray(starts[cursor], starts[low]))
      cursor = found ? low + 1 : low
      if (found) {
        skipped.add(low)
        entriesLeft--
      }
      const id = found ? tree.toString('hex', (starts[low + 1] as number) - 20, starts[low + 1]) : undefined
      let mode: string | undefined
      let sha: string | undefined
      if (edit.folder) {
        // HEAD's folder here is the cache tree's, by its id.
        const before = was?.read.get(edit.name.toString('utf8'))
        if (found !== (before !== undefined) || (before !== undefined && before.node.sha !== id)) return null
        count += (edit.node?.count ?? 0) - (before?.node.count ?? 0)
        if (before !== undefined) replaced.set(before.index, edit.node ?? null)
        else if (edit.node !== undefined) added.push({ at: lowerStart(head.bytes, was, edit.name), name: edit.name, node: edit.node })
        if (before !== undefined && edit.node === undefined) subCount--
        if (before === undefined && edit.node !== undefined) subCount++
        if (edit.node !== undefined) {
          mode = '40000'
          sha = edit.node.sha
        }
      } else {
        // HEAD's file here is the index's.
        const before = head.entries.get(edit.path)
        if (found !== (before !== undefined) || (before !== undefined && (before.sha !== id || before.mode !== tree.toString('latin1', starts[low], (starts[low] as number) + 6)))) return null
        count += (edit.entry === undefined ? 0 : 1) - (before === undefined ? 0 : 1)
        mode = edit.entry?.mode
        sha = edit.entry?.sha
      }
      if (mode !== undefined && sha !== undefined) {
        pieces.push(Buffer.from(`${mode} `, 'latin1'), edit.name, Buffer.from([0]), Buffer.from(sha, 'hex'))
        entriesLeft++
      }
    }
    pieces.push(tree.subarray(starts[cursor]))
    // Every id the new tree takes from HEAD's is in the store (git's write-tree checks each entry
    // of a tree it makes; a submodule's commit aside), or one the draft writes.
    if (lost !== undefined) {
      for (let k = 0; k < lost.length; k++) {
        const i = lost[k] as number
        if (skipped.has(i)) continue
        const id = tree.toString('hex', (starts[i + 1] as number) - 20, starts[i + 1])
        if (written.has(id)) continue
        missing = id
        return null
      }
    }
    if (entriesLeft === 0) return undefined
    const bytes = Buffer.concat(pieces)
    const sha = createHash('sha1').update(`tree ${bytes.length}\0`).update(bytes).digest('hex')
    trees.set(sha, bytes)
    return { count, sha, head: was, replaced, added, subCount }
  }
  let root: NewNode | undefined | null
  try {
    root = make('', cache)
  } finally {
    store.close()
  }
  if (missing !== undefined) return { missing }
  if (root === null || root === undefined) return null
  return { root: root.sha, headRoot: cache.sha, trees, extension: extensionOf(head.bytes, root) }
}

/** Where a new folder `name` goes among a HEAD node's folders (their places in `starts`), in the cache tree's order. */
function lowerStart(bytes: Buffer, node: HeadNode | undefined, name: Buffer): number {
  if (node === undefined) return 0
  let low = 0
  let high = node.starts.length
  while (low < high) {
    const middle = (low + high) >>> 1
    const begin = node.starts[middle] as number
    if (subtreeOrder(bytes.subarray(begin, bytes.indexOf(0, begin)), name) < 0) low = middle + 1
    else high = middle
  }
  return low
}

/** The `TREE` extension (signature, length, data) of the new cache tree: touched folders written, the rest copied from the index read. */
function extensionOf(source: Buffer, root: NewNode): Buffer {
  const pieces: Buffer[] = [Buffer.alloc(8)]
  const write = (name: Buffer, node: NewNode): void => {
    pieces.push(name, Buffer.from(`\0${node.count} ${node.subCount}\n`, 'latin1'), Buffer.from(node.sha, 'hex'))
    const head = node.head
    const added = [...node.added].sort((a, b) => a.at - b.at || subtreeOrder(a.name, b.name))
    let next = 0
    const total = head?.starts.length ?? 0
    let from = -1
    const flush = (to: number): void => {
      if (from >= 0 && head !== undefined) pieces.push(source.subarray(head.starts[from] as number, to < total ? (head.starts[to] as number) : head.end))
      from = -1
    }
    for (let i = 0; i <= total; i++) {
      while (next < added.length && (added[next] as (typeof added)[number]).at === i) {
        flush(i)
        const item = added[next++] as (typeof added)[number]
        write(item.name, item.node)
      }
      if (i === total) break
      const change = node.replaced.get(i)
      if (change === undefined) {
        if (from < 0) from = i
        continue
      }
      flush(i)
      if (change !== null) write(source.subarray(head?.starts[i] as number, source.indexOf(0, head?.starts[i] as number)), change)
    }
    flush(total)
  }
  write(Buffer.alloc(0), root)
  const bytes = Buffer.concat(pieces)
  bytes.write('TREE', 0, 'latin1')
  bytes.writeUInt32BE(bytes.length - 8, 4)
  return bytes
}
