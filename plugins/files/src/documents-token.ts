import { createHash } from 'node:crypto'
import { isRacy, type FileStat } from '@twinsync/sdk'
import type { Accounts } from './accounts.js'
import type { ExtendedAttributes } from './extended-attributes.js'
import { MANIFEST_PATH, PARTS_DIR } from './state.js'

/**
 * Bump when what the files provider's documents are made of, or how, changes (the manifest's
 * form, its layouts, what an entry holds): a token of another format never matches, so a twin
 * written by an older provider is written again, never kept.
 */
const DOCUMENTS_FORMAT = 1

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
 *   collect that walked such a path gives no token at all.
 * - The leftovers listed, and whether a folder was empty.
 * - What the verdicts, the walk and the origins depend on besides the paths: the cache's rules
 *   (size limit, secret rules), the walk's rules (ignore and leftover patterns, every provider's
 *   claims), the include roots and the homes not read, the stamp of dpkg's database, the
 *   target's accounts (owner and group names), the key of the secrets' keyed hashes (as its
 *   digest: a cache lost makes a new key, and every secret's hash anew), and the extended
 *   attributes found (getcap, getfattr: their answer, so a tool that went missing changes it),
 *   with the format above.
 * A collect that could not read a path (kept as the last snapshot had it) gives none either.
 */
export function documentsToken(input: {
  walked: ReadonlyArray<{ path: string; stat: FileStat; empty?: boolean }>
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
}): string | undefined {
  const hash = createHash('sha256')
  // The key itself never: its digest (the record beside the twin's commit holds the token).
  const key = createHash('sha256').update('twinsync files secret key\0').update(input.secretKey).digest('hex')
  hash.update(JSON.stringify([DOCUMENTS_FORMAT, input.rules, input.walkRules, input.roots, input.othersHomes, input.packages, input.accounts, input.leftovers, key]))
  hash.update(JSON.stringify([[...input.attributes.capabilities], [...input.attributes.xattrs]]))
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
  for (const { path, stat, empty } of input.walked) {
    if (isRacy(stat, input.startedAt)) return undefined
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
  return `files-${DOCUMENTS_FORMAT}-${hash.digest('hex')}`
}

/** The files provider's own documents kept as the observed commit holds them: its mirrored files and its manifest (whole or in parts). */
export const KEPT_PARTS: readonly string[] = ['filesystem/', MANIFEST_PATH, PARTS_DIR]
