import { createHash, randomBytes } from 'node:crypto'
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { crc32, deflateSync } from 'node:zlib'
import { removeFile } from './remove-file.js'

/** An object for a pack: its id, its bytes, its type (a blob when not said). */
export interface PackObject {
  sha: string
  bytes: Buffer
  type?: 'blob' | 'tree' | 'commit'
}

const PACK_TYPES = { commit: 1, tree: 2, blob: 3 } as const

/** Small objects of a pack go out together, up to this many bytes a write. */
const PACK_WRITE = 64 * 1024

/** Where each object of a pack starts, and the CRC-32 of its bytes there (header and deflated data): what a pack's index records. */
export interface PackedAt {
  offset: number
  crc: number
}

/**
 * The smallest deflate window (9 to 15 bits, zlib's range) that still reaches back over all of
 * an object of `size` bytes (a match may start up to the window less zlib's 262-byte lookahead
 * back): the same matches, so the same compressed length; only the stream's header names the
 * smaller window, which git's inflate reads like any other.
 *
 * Speed (issue 22, session 16): zlib sets up (and Node's zlib zeroes) a window and a chain table
 * of twice the window each for every object deflated, 64 KiB each at the default 15 bits: the
 * minbase root's first snapshot deflates 492 objects, mostly a few hundred bytes, and spent
 * 32.8 M instructions in deflateInit2_ (3.4% of the run, callgrind), 12.7 M with windows sized
 * so (memset 34.0 → 13.9 M: the hash table's 64 KiB is left); the whole run 966.6 → 924.9 M
 * instructions with reachedAt (sdk/src/local-host.ts; medians of 3 interleaved against main at
 * 7a27c2e, V8's memory reducer off); the services root's 1,518–1,521 → 1,467–1,470 M. The
 * pack's objects and their ids are the same.
 */
export function windowBitsFor(size: number): number {
  let bits = 9
  while (bits < 15 && 2 ** bits - 262 < size) bits++
  return bits
}

/**
 * A pack (format version 2) of whole objects, without deltas, made as it is written: the
 * header (the count is known), each object's header and deflated bytes, then the SHA-1 of all
 * of it, hashed as it goes. Small objects are gathered up to PACK_WRITE bytes a write; a larger
 * object's deflated bytes go as they are. So beside the objects themselves (the draft holds
 * them) only one object's deflated bytes are held at a time, not the whole pack. `placed`, when
 * given, gets each object's offset and CRC-32, in order.
 */
export function* packOf(objects: ReadonlyArray<{ bytes: Buffer; type?: PackObject['type'] }>, placed?: PackedAt[]): Generator<Buffer> {
  const hash = createHash('sha1')
  const header = Buffer.alloc(12)
  header.write('PACK', 0, 'latin1')
  header.writeUInt32BE(2, 4)
  header.writeUInt32BE(objects.length, 8)
  hash.update(header)
  let batch: Buffer[] = [header]
  let batched = header.length
  let offset = header.length
  for (const { bytes, type = 'blob' } of objects) {
    // The type (1 commit, 2 tree, 3 blob) and the size: 4 bits, then 7 bits a byte, low bits first.
    let size = bytes.length
    const bits: number[] = []
    let byte = (PACK_TYPES[type] << 4) | (size & 0x0f)
    size = Math.floor(size / 16)
    while (size > 0) {
      bits.push(byte | 0x80)
      byte = size & 0x7f
      size = Math.floor(size / 128)
    }
    bits.push(byte)
    const head = Buffer.from(bits)
    const deflated = deflateSync(bytes, { windowBits: windowBitsFor(bytes.length) })
    hash.update(head)
    hash.update(deflated)
    placed?.push({ offset, crc: crc32(deflated, crc32(head)) })
    offset += head.length + deflated.length
    batch.push(head)
    batched += head.length
    if (deflated.length >= PACK_WRITE) {
      yield Buffer.concat(batch)
      yield deflated
      batch = []
      batched = 0
      continue
    }
    batch.push(deflated)
    batched += deflated.length
    if (batched >= PACK_WRITE) {
      yield Buffer.concat(batch)
      batch = []
      batched = 0
    }
  }
  batch.push(hash.digest())
  yield Buffer.concat(batch)
}

/**
 * Speed (issue 22): a pack and its index (version 2) written into the object store by Node, as
 * `git index-pack --stdin` writes them from the same pack (the index is byte for byte git's;
 * core/test/snapshot-objects.test.ts checks it against index-pack's), instead of running it:
 * a first snapshot ran two (the init commit's and the snapshot's), each a process to spawn
 * (5–10 ms of Node's CPU) that inflated and hashed every object again and fsynced both files;
 * 20–100 ms of wall each on the shared machine.
 *
 * As git does: both files written under temp names in objects/pack (`tmp_pack_*`, `tmp_idx_*`,
 * which auto-pack.ts removes when a kill leaves them), each fsynced (git's default
 * `core.fsync` covers packs and their indexes), read-only, then renamed to `pack-<its SHA-1>`,
 * the pack first: git reads a pack only through its index. An object given twice is packed once.
 */
export function writePack(dir: string, objects: readonly PackObject[]): void {
  const unique = new Map<string, PackObject>()
  for (const object of objects) if (!unique.has(object.sha)) unique.set(object.sha, object)
  const list = [...unique.values()]
  const folder = join(dir, '.git', 'objects', 'pack')
  mkdirSync(folder, { recursive: true })
  const suffix = randomBytes(6).toString('hex')
  const tempPack = join(folder, `tmp_pack_${suffix}`)
  const tempIndex = join(folder, `tmp_idx_${suffix}`)
  try {
    const placed: PackedAt[] = []
    let last: Buffer = Buffer.alloc(0)
    let size = 0
    writeWhole(tempPack, (fd) => {
      for (const chunk of packOf(list, placed)) {
        writeAll(fd, chunk)
        size += chunk.length
        last = chunk
      }
    })
    const checksum = last.subarray(last.length - 20)
    writeWhole(tempIndex, (fd) => writeAll(fd, packIndex(list, placed, checksum, size)))
    const name = join(folder, `pack-${checksum.toString('hex')}`)
    renameSync(tempPack, `${name}.pack`)
    renameSync(tempIndex, `${name}.idx`)
  } finally {
    // Gone once renamed: an unlink that finds nothing, not rmSync, which loads Node's rimraf (remove-file.ts).
    removeFile(tempPack)
    removeFile(tempIndex)
  }
}

/** A new read-only file, written by `fill` and fsynced. */
function writeWhole(path: string, fill: (fd: number) => void): void {
  const fd = openSync(path, 'wx', 0o444)
  try {
    fill(fd)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

function writeAll(fd: number, bytes: Buffer): void {
  for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at, bytes.length - at)
}

/**
 * A pack's index, version 2: the magic and version, the fan-out table (how many ids start
 * with each byte or a smaller one), the ids in order, each object's CRC-32, its offset (31
 * bits; above that an index into a table of 64-bit offsets), the pack's checksum, and the
 * SHA-1 of all of that.
 */
function packIndex(objects: readonly PackObject[], placed: readonly PackedAt[], packChecksum: Buffer, packSize: number): Buffer {
  const order = objects.map((o, i) => ({ id: Buffer.from(o.sha, 'hex'), at: placed[i] as PackedAt })).sort((a, b) => Buffer.compare(a.id, b.id))
  const n = order.length
  const large = packSize > 0x7fffffff ? order.filter((o) => o.at.offset > 0x7fffffff).length : 0
  const bytes = Buffer.alloc(8 + 256 * 4 + n * (20 + 4 + 4) + large * 8 + 20 + 20)
  bytes.writeUInt32BE(0xff744f63, 0)
  bytes.writeUInt32BE(2, 4)
  const fanout = new Array<number>(256).fill(0)
  for (const o of order) (fanout[o.id[0] as number] as number)++
  let total = 0
  for (let b = 0; b < 256; b++) bytes.writeUInt32BE((total += fanout[b] as number), 8 + b * 4)
  const ids = 8 + 256 * 4
  const crcs = ids + n * 20
  const offsets = crcs + n * 4
  const wide = offsets + n * 4
  let nextWide = 0
  order.forEach((o, i) => {
    o.id.copy(bytes, ids + i * 20)
    bytes.writeUInt32BE(o.at.crc >>> 0, crcs + i * 4)
    if (o.at.offset > 0x7fffffff) {
      bytes.writeUInt32BE((0x80000000 | nextWide) >>> 0, offsets + i * 4)
      bytes.writeBigUInt64BE(BigInt(o.at.offset), wide + nextWide * 8)
      nextWide++
    } else {
      bytes.writeUInt32BE(o.at.offset, offsets + i * 4)
    }
  })
  const end = wide + large * 8
  packChecksum.copy(bytes, end)
  createHash('sha1').update(bytes.subarray(0, end + 20)).digest().copy(bytes, end + 20)
  return bytes
}
