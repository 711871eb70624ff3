import { createHash, type Hash } from 'node:crypto'
import { isRacy, type FileStat } from '@twinsync/sdk'
import type { Accounts } from './accounts.js'
import type { ExtendedAttributes } from './extended-attributes.js'
import { PARTS, partOf } from './manifest.js'
import { MANIFEST_PATH, PARTS_DIR } from './state.js'

/**
 * Bump when what the files provider's documents are made of, or how, changes (the manifest's
 * form, its layouts, what an entry holds, how the token is put together): a token of another
 * format never matches, so a twin written by an older provider is written again, never kept.
 */
const DOCUMENTS_FORMAT = 3 // 3: a .gitmodules or .gitattributes git's fsck refuses is left out (session 45), never kept from an older twin

/** A path the collect walked, with its lstat data (`empty`: a folder with nothing in it). */
type WalkedPath = { path: string; stat: FileStat; empty?: boolean }

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
 * token is `files-3s-` then the piece of manifest.json (the leftovers) and one piece for each of
 * the PARTS parts (the walked paths whose entry goes in that part, partOf: their manifest part
 * and their mirrored files), each 32 hex digits of a SHA-256 of everything above that is not a
 * path, with that part's paths; `-` for a part with a racy path. keptOf() compares two such
 * tokens piece by piece. A machine below SPLIT_FROM has one piece (`files-3-`), as before.
 * Figure: see keptOf.
 */
export function documentsToken(input: {
  walked: ReadonlyArray<WalkedPath>
  leftovers: readonly string[]
  startedAt: number
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
  if (!input.split) {
    const hash = createHash('sha256').update(common).update(JSON.stringify(input.leftovers))
    if (!hashWalked(hash, input.walked, input.startedAt)) return undefined
    return `files-${DOCUMENTS_FORMAT}-${hash.digest('hex')}`
  }
  // Each walked path into its part's list (walk order kept within a part).
  const byPart: Array<Array<WalkedPath>> = Array.from({ length: PARTS }, () => [])
  for (const item of input.walked) (byPart[partOf(item.path)] as Array<WalkedPath>).push(item)
  const piece = (hash: Hash) => hash.digest('hex').slice(0, PIECE)
  const pieces = [piece(createHash('sha256').update(common).update('\0leftovers\0').update(JSON.stringify(input.leftovers)))]
  for (let part = 0; part < PARTS; part++) {
    const hash = createHash('sha256').update(common).update(`\0part ${part}\0`)
    pieces.push(hashWalked(hash, byPart[part] as Array<WalkedPath>, input.startedAt) ? piece(hash) : RACY_PIECE)
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

/** The walked paths' names and numbers into `hash`; false (and the hash left unfinished) at a racy path. */
function hashWalked(hash: Hash, walked: ReadonlyArray<WalkedPath>, startedAt: number): boolean {
  // The numbers of many paths at once (a Float64Array's bytes), the paths as one text: few calls into the hash.
  const BATCH = 512
  const numbers = new Float64Array(BATCH * 9)
  let text = ''
  let n = 0
  const flush = () => {
    hash.update(text)
    hash.update(new Uint8Array(numbers.buffer, 0, n * 9 * 8))
    text = ''
    n = 0
  }
  for (const { path, stat, empty } of walked) {
    if (isRacy(stat, startedAt)) return false
    text += `${path}\0${stat.type}${empty === true ? '\0e' : ''}\0`
    const at = n * 9
    numbers[at] = stat.mode
    numbers[at + 1] = stat.uid
    numbers[at + 2] = stat.gid
    numbers[at + 3] = stat.size
    numbers[at + 4] = stat.mtimeMs
    numbers[at + 5] = stat.ctimeMs
    numbers[at + 6] = stat.ino
    numbers[at + 7] = stat.dev
    numbers[at + 8] = stat.nlink
    if (++n === BATCH) flush()
  }
  flush()
  return true
}

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
