import { createHash, type Hash } from 'node:crypto'
import { COARSE_RACY_MS, isRacy, type FileStat } from '@twinsync/sdk'
import type { Accounts } from './accounts.js'
import type { ExtendedAttributes } from './extended-attributes.js'
import { PARTS } from './manifest.js'
import { MANIFEST_PATH, PARTS_DIR } from './state.js'

/**
 * Bump when what the files provider's documents are made of, or how, changes (the manifest's
 * form, its layouts, what an entry holds, how the token is put together): a token of another
 * format never matches, so a twin written by an older provider is written again, never kept.
 */
const DOCUMENTS_FORMAT = 4 // 3: a .gitmodules or .gitattributes git's fsck refuses is left out (session 45), never kept from an older twin; 4: the walked paths hashed by part first (walkDigests, session 50)

/** A path the collect walked, with its lstat data (`empty`: a folder with nothing in it) and its part (partOf: the walk's, a folder at a time). */
type WalkedPath = { path: string; stat: FileStat; empty?: boolean; part: number }

/**
 * The files provider's part of a kept snapshot (issue 22, session 25; the core's half, and the
 * figure, in core/src/snapshot/kept-parts.ts): a token that names everything the provider's
 * documents are made from, so that an equal token means byte-identical documents, and the
 * documents of an unchanged machine need not be made at all (CollectResult.token and kept).
 *
 * Not a cache's say-so: it is a SHA-256 of the inputs as this collect found them.
 * - Every walked path (files, symlinks, folders) with its lstat data as the walk took it now:
 *   type, mode, owner and group ids, size, mtime, ctime, inode, device. A file's verdict and text,
 *   a symlink's target and a folder's names follow from these exactly as far as the stat cache
 *   trusts them (stat-cache.ts): never for a path changed too recently to trust its times, so a
 *   path that is racy leaves its piece of the token unmatchable ('-').
 * - The leftovers listed, and whether a folder was empty.
 * - What the verdicts, the walk and the origins depend on besides the paths: the cache's rules
 *   (size limit, secret rules), the walk's rules (ignore and leftover patterns, every provider's
 *   claims), the include roots and the homes not read, the stamp of dpkg's database, the
 *   target's accounts (owner and group names), the key of the secrets' keyed hashes (as its
 *   digest: a cache lost makes a new key, and every secret's hash anew), and the extended
 *   attributes found (getcap, getfattr: their answer, so a tool that went missing changes it),
 *   with the format above.
 * A collect that could not read a path (kept as the last snapshot had it) gives none at all.
 *
 * Speed (issue 22, session 26): a split manifest (manifest.ts, SPLIT_FROM entries or more) is
 * named piece by piece, so that one changed file makes only its own part's documents again. Its
 * token is `files-4s-` then the piece of manifest.json (the leftovers) and one piece for each of
 * the PARTS parts (the walked paths whose entry goes in that part, partOf: their manifest part
 * and their mirrored files), each 32 hex digits of a SHA-256 of the digest of everything above
 * that is not a path, the part's number and that part's digest of its paths (walkDigests); `-`
 * for a part with a racy path. keptOf() compares two such tokens piece by piece. A machine below
 * SPLIT_FROM has one piece (`files-4-`: everything above that is not a path, the leftovers, and
 * every part's digest). Figure: see keptOf. A twin whose token is of format 3 (before session
 * 50) matches no piece: its snapshot after the upgrade makes all its documents once (the same
 * bytes), and keeps them from then on.
 */
export function documentsToken(input: {
  /** The walked paths' digests (walkDigests): by part for a split manifest, else in one. */
  walk: WalkDigests
  leftovers: readonly string[]
  rules: string
  walkRules: string
  roots: readonly string[]
  othersHomes: readonly string[]
  packages: string
  accounts: Accounts
  attributes: ExtendedAttributes
  /** The key of the secrets' keyed hashes (secretHashKey): a new key is a new hash in every secret's entry. */
  secretKey: Buffer
  /** Whether the manifest is split (manifestDocuments: its entries' count, SPLIT_FROM). */
  split: boolean
}): string | undefined {
  made++
  // The key itself never: its digest (the record beside the twin's commit holds the token).
  const key = createHash('sha256').update('twinsync files secret key\0').update(input.secretKey).digest('hex')
  const common = JSON.stringify([DOCUMENTS_FORMAT, input.split, input.rules, input.walkRules, input.roots, input.othersHomes, input.packages, input.accounts, key]) +
    JSON.stringify([[...input.attributes.capabilities], [...input.attributes.xattrs]])
  const { parts, all, byPart } = input.walk
  if (byPart !== input.split) throw new Error(`documentsToken: the walk digested ${byPart ? 'by part' : 'in one'} for a ${input.split ? 'split' : 'whole'} manifest`)
  if (!input.split) {
    if (all === undefined) return undefined
    return `files-${DOCUMENTS_FORMAT}-${createHash('sha256').update(common).update(JSON.stringify(input.leftovers)).update(all).digest('hex')}`
  }
  // `common` digested once, each part's piece a hash of that digest and the part's own.
  const commonDigest = createHash('sha256').update(common).digest()
  const piece = (hash: Hash) => hash.digest('hex').slice(0, PIECE)
  const pieces = [piece(createHash('sha256').update(common).update('\0leftovers\0').update(JSON.stringify(input.leftovers)))]
  for (let part = 0; part < PARTS; part++) {
    const digest = parts[part]
    pieces.push(digest === undefined ? RACY_PIECE : piece(createHash('sha256').update(commonDigest).update(`\0part ${part}\0`).update(digest)))
  }
  return `${SPLIT_PREFIX}${pieces.join('.')}`
}

let made = 0
/** Tokens worked out by this process so far (tests: a collect works its token out once, collect.ts). */
export function documentsTokensMade(): number {
  return made
}

/** Hex digits of a piece of a split token (128 bits). */
const PIECE = 32
/** A part with a path too recently changed to trust: never equal to any piece. */
const RACY_PIECE = '-'
const SPLIT_PREFIX = `files-${DOCUMENTS_FORMAT}s-`

/**
 * The walked paths' names and lstat data digested (SHA-256), the walk's half of the token
 * (documentsToken), and what the attributes' kept answer is checked against first
 * (attribute-cache.ts: every path's inode, device and ctime are in it). `byPart` (a split
 * manifest's token): a digest for each part (PARTS, by the path's part: WalkedPath.part,
 * partOf) of the paths in it in the walk's order, undefined for a part with a racy path, and
 * `all` a digest of the parts' digests, undefined when one is; else (a whole manifest's) one
 * digest of every path in the walk's order, `all`, undefined at a racy path (one hash: the
 * minbase root's 64 would cost 2.3 M instructions more than the one).
 *
 * Speed (issue 22, session 50): this runs at every snapshot over every walked path, in a fresh
 * process whose code is still V8's bytecode, where each operation of a path costs tens to
 * hundreds of instructions. Before, the paths were put into their parts' lists (a partOf and a
 * push each), then each part's paths hashed, each path's text made of its name and type. Now one
 * pass: the part comes with the path (the walk takes it once a folder, for the folder's names),
 * the type is a number with the others, and a path is added to its part's pending text and
 * numbers, hashed 256 paths at a time; the attributes' kept answer is taken by `all` before any
 * stamp of theirs is made (attribute-cache.ts). The phase after the walk (this digest, the
 * attributes' check, the token, the kept check), callgrind between marks on the main thread,
 * one run each, the large-heap marker set: the scale root (24,512 walked paths), unchanged
 * snapshot 503.5 → 182.3 M instructions (the paths' lists 125.7 M and their hashing 196.1 M →
 * this pass 179.0 M, 81 M of it SHA-256 in OpenSSL's AVX2 code, which valgrind runs where the
 * machine itself has SHA instructions; the attributes' stamps 180.3 → 0.3 M); one file changed
 * 461.5 → 361.8 M (the stamps are made then, 190.1 → 196.9 M). The minbase root: see
 * docs/architecture.md (Session 50, the files token).
 */
export function walkDigests(walked: ReadonlyArray<WalkedPath>, startedAt: number, byPart: boolean): WalkDigests {
  const partCount = byPart ? PARTS : 1
  const hashes = new Array<Hash | undefined>(partCount)
  const texts = new Array<string>(partCount).fill('')
  const numbers = new Array<Float64Array | undefined>(partCount)
  const counts = new Int32Array(partCount)
  const racy = new Uint8Array(partCount)
  // No path whose times are both before this is racy, either rule (isRacy: COARSE_RACY_MS is the longer wait).
  const quietBefore = startedAt - COARSE_RACY_MS
  const flush = (part: number): void => {
    const hash = hashes[part] ?? (hashes[part] = createHash('sha256'))
    hash.update(texts[part] as string)
    hash.update(new Uint8Array((numbers[part] as Float64Array).buffer, 0, (counts[part] as number) * FIELDS * 8))
    texts[part] = ''
    counts[part] = 0
  }
  for (let i = 0; i < walked.length; i++) {
    const item = walked[i] as WalkedPath
    const part = byPart ? item.part : 0
    if (racy[part] === 1) continue
    const stat = item.stat
    if ((stat.mtimeMs > quietBefore || stat.ctimeMs > quietBefore) && isRacy(stat, startedAt)) {
      racy[part] = 1
      continue
    }
    const into = numbers[part] ?? (numbers[part] = new Float64Array(BATCH * FIELDS))
    const count = counts[part] as number
    const at = count * FIELDS
    into[at] = (TYPE_CODES[stat.type] ?? 0) + (item.empty === true ? EMPTY : 0)
    into[at + 1] = stat.mode
    into[at + 2] = stat.uid
    into[at + 3] = stat.gid
    into[at + 4] = stat.size
    into[at + 5] = stat.mtimeMs
    into[at + 6] = stat.ctimeMs
    into[at + 7] = stat.ino
    into[at + 8] = stat.dev
    into[at + 9] = stat.nlink
    texts[part] += `${item.path}\0`
    counts[part] = count + 1
    if (count + 1 === BATCH) flush(part)
  }
  const parts = new Array<Buffer | undefined>(partCount)
  const whole = byPart ? createHash('sha256') : undefined
  let anyRacy = false
  for (let part = 0; part < partCount; part++) {
    if (racy[part] === 1) {
      anyRacy = true
      continue
    }
    if (counts[part] !== 0) flush(part)
    const digest = (hashes[part] ?? createHash('sha256')).digest()
    parts[part] = digest
    whole?.update(digest)
  }
  return { byPart, parts, all: anyRacy ? undefined : (whole?.digest() ?? parts[0]) }
}

/** What walkDigests gives: by part or in one, each part's digest (undefined: a racy path in it), and all of them together (undefined: one is). */
export interface WalkDigests {
  byPart: boolean
  parts: ReadonlyArray<Buffer | undefined>
  all: Buffer | undefined
}

/** Paths a part's pending text and numbers hold before they are hashed. */
const BATCH = 256
/** Numbers a path: its type (and EMPTY), mode, uid, gid, size, mtime, ctime, inode, device, links. */
const FIELDS = 10
const EMPTY = 16
const TYPE_CODES: Readonly<Record<string, number>> = { file: 1, directory: 2, symlink: 3, fifo: 4, socket: 5, 'char-device': 6, 'block-device': 7, unknown: 8 }

/**
 * What of the documents made with token `since` may be kept now that the inputs give `token`:
 * `whole` when the tokens are equal; else, for two split tokens, whether manifest.json's piece is
 * the same (`head`) and which parts' pieces are (`parts`, by part number); undefined when
 * nothing can be kept (no `since`, another format or form, not one piece the same).
 *
 * Speed (issue 22, session 26): the scale root with one file changed made all 19,600 documents
 * again (the 8.6 MB manifest in 65, and every mirrored file), which the snapshot took in and
 * compared; now the changed file's part (about 300 documents) and nothing else. Figures in
 * docs/architecture.md (Session 26, scale).
 */
export function keptOf(since: string | undefined, token: string): { whole: true } | { whole: false; head: boolean; parts: boolean[] } | undefined {
  if (since === undefined) return undefined
  // A split token may hold a racy piece ('-'), equal in both and matching nothing: compared piece by piece.
  if (!since.startsWith(SPLIT_PREFIX) || !token.startsWith(SPLIT_PREFIX)) return since === token ? { whole: true } : undefined
  const before = since.slice(SPLIT_PREFIX.length).split('.')
  const now = token.slice(SPLIT_PREFIX.length).split('.')
  if (before.length !== PARTS + 1 || now.length !== PARTS + 1) return undefined
  const same = (i: number) => now[i] !== RACY_PIECE && now[i]?.length === PIECE && before[i] === now[i]
  const head = same(0)
  const parts = Array.from({ length: PARTS }, (_, part) => same(part + 1))
  if (head && parts.every(Boolean)) return { whole: true }
  return head || parts.some(Boolean) ? { whole: false, head, parts } : undefined
}

/** Whether a token names a split manifest (the form its documents were made in). */
export function isSplitToken(token: string): boolean {
  return token.startsWith(SPLIT_PREFIX)
}

/** The files provider's own documents kept as the observed commit holds them: its mirrored files and its manifest (whole or in parts). */
export const KEPT_PARTS: readonly string[] = ['filesystem/', MANIFEST_PATH, PARTS_DIR]
