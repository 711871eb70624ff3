import type { FileStat, ProviderCache } from '@twinsync/sdk'
import { isRacy } from '@twinsync/sdk'
import type { ContentKind } from './content.js'
import type { Origin } from './state.js'

/** What reading a file once taught us, valid while its (size, mtime, ctime, inode) stay the same. */
export interface ContentVerdict {
  content: ContentKind | 'unhashed'
  sha256?: string
  /** For dpkg's comparison; kept only in the local cache, never in the twin. */
  md5?: string
  secretReason?: string
  /** Secrets: the keyed hash (see secretHashKey); the content itself is never kept. */
  secretHash?: string
}

/** Where a file under /etc comes from (see originOf): valid while the file and dpkg's database stay the same. */
export interface FileOrigin {
  origin: Origin
  package?: string
  divertedFrom?: string
}

/** One file as stored: [path, size, mtimeMs, ctimeMs, ino, dev, content, sha256, md5, secretReason, secretHash, origin, package, divertedFrom]. */
type Stored = [
  path: string,
  size: number,
  mtimeMs: number,
  ctimeMs: number,
  ino: number,
  dev: number,
  content: ContentVerdict['content'],
  sha256: string | null,
  md5: string | null,
  secretReason: string | null,
  secretHash: string | null,
  origin: Origin | null,
  packageName: string | null,
  divertedFrom: string | null,
]

interface StoredIndex {
  rules: string
  /** The stamp of dpkg's database the origins were worked out against (packageDatabaseStamp). */
  packages: string
  files: Stored[]
}

const INDEX_KEY = 'stat-index'
const BLOBS_KEY = 'text-blobs'

/**
 * The stat cache, like git's index: a second collect of an unchanged tree takes each file's
 * verdict (hash, text or not, secret or not) and text from here instead of reading and hashing
 * it again. Stored in the provider cache, outside the twin; secrets' content never enters it.
 * Losing it only costs time.
 *
 * A file is trusted only while its size, mtime, ctime, inode and device are all exactly as
 * stored (times to the fraction of a millisecond the kernel gives), and never when it changed
 * within RACY_MS of the collect's start (git's "racily clean"): then it is read again.
 *
 * A file's origin (package-unmodified, package-modified, local) is kept too, while dpkg's
 * database has the stamp it was worked out against: an unchanged file of an unchanged system
 * needs neither its bytes nor the package index.
 *
 * Speed (issue 22, the scale root's 19,500 files): stored as arrays rather than one object per
 * file with named keys, compared field by field rather than through a key string built per
 * file, not written back when every file was found unchanged, and no package index read (3.3
 * MB of JSON) when dpkg's database did not move.
 */
export class StatCache {
  /** Files looked up unchanged or remembered this run, by path. */
  private readonly next = new Map<string, Stored>()
  private readonly newTexts = new Map<string, string>()
  /** Files read this run but too recently changed to keep, whose old record was carried over. */
  private readonly stale = new Set<string>()
  private changed = false

  private constructor(
    private readonly store: ProviderCache,
    private readonly rules: string,
    private readonly previous: Map<string, Stored>,
    private readonly blobs: Record<string, string>,
    private readonly startedAt: number,
    /** The stamp of dpkg's database now, and whether the stored origins were worked out against it. */
    private readonly packages: string,
    private readonly originsValid: boolean,
  ) {}

  /** `rules` names everything a verdict depends on besides the file (size limit, secret rules). */
  /** `packages`: the stamp of dpkg's database now (packageDatabaseStamp). */
  static async open(store: ProviderCache, rules: string, startedAt: number, packages: string): Promise<StatCache> {
    const index = parseJson<StoredIndex>(await store.read(INDEX_KEY))
    const usable = index !== undefined && index !== null && index.rules === rules && Array.isArray(index.files)
    const previous = new Map<string, Stored>()
    let blobs: Record<string, string> = {}
    if (usable) {
      for (const file of index.files) if (Array.isArray(file) && file.length === 14 && typeof file[0] === 'string') previous.set(file[0], file)
      blobs = parseJson<Record<string, string>>(await store.read(BLOBS_KEY)) ?? {}
      if (blobs === null || typeof blobs !== 'object') blobs = {}
    }
    const originsValid = usable && index.packages === packages
    const cache = new StatCache(store, rules, previous, blobs, startedAt, packages, originsValid)
    // New origins are worth keeping: written back even when no file moved.
    if (usable && !originsValid) cache.changed = true
    return cache
  }

  /** The verdict and text remembered for this file, when its stat has not moved. */
  lookup(path: string, stat: FileStat): { verdict: ContentVerdict; text?: string; origin?: FileOrigin } | undefined {
    const file = this.previous.get(path)
    if (file === undefined) return undefined
    if (file[1] !== stat.size || file[2] !== stat.mtimeMs || file[3] !== stat.ctimeMs || file[4] !== stat.ino || file[5] !== stat.dev) return undefined
    const verdict: ContentVerdict = { content: file[6] }
    if (file[7] !== null) verdict.sha256 = file[7]
    if (file[8] !== null) verdict.md5 = file[8]
    if (file[9] !== null) verdict.secretReason = file[9]
    if (file[10] !== null) verdict.secretHash = file[10]
    let text: string | undefined
    if (verdict.content === 'mirrored') {
      text = file[7] === null ? undefined : this.blobs[file[7]]
      if (typeof text !== 'string') return undefined
    }
    this.next.set(path, file)
    const found: { verdict: ContentVerdict; text?: string; origin?: FileOrigin } = { verdict }
    if (text !== undefined) found.text = text
    if (this.originsValid && file[11] !== null) {
      const origin: FileOrigin = { origin: file[11] }
      if (file[12] !== null) origin.package = file[12]
      if (file[13] !== null) origin.divertedFrom = file[13]
      found.origin = origin
    }
    return found
  }

  /** Keep the origin worked out for a file lookup() or remember() just gave (under dpkg's database as it is now). */
  rememberOrigin(path: string, origin: FileOrigin): void {
    const file = this.next.get(path)
    if (file === undefined || this.stale.has(path)) return
    if (file[11] === origin.origin && file[12] === (origin.package ?? null) && file[13] === (origin.divertedFrom ?? null)) return
    // A copy: the stored array may be the one read, still in `previous`.
    const updated: Stored = [...file]
    updated[11] = origin.origin
    updated[12] = origin.package ?? null
    updated[13] = origin.divertedFrom ?? null
    this.next.set(path, updated)
    this.changed = true
  }

  remember(path: string, stat: FileStat, verdict: ContentVerdict, text?: string): void {
    if (isRacy(stat, this.startedAt)) {
      // Not kept: read again next time. Its old record may stay (its stat data no longer
      // matches the file, so it is never used): a snapshot right after a change (the usual
      // cron or apt hook case) need not write the whole cache back for a file it cannot keep.
      const old = this.previous.get(path)
      if (old === undefined) return
      this.next.set(path, old)
      this.stale.add(path)
      return
    }
    this.changed = true
    const file: Stored = [
      path,
      stat.size,
      stat.mtimeMs,
      stat.ctimeMs,
      stat.ino,
      stat.dev,
      verdict.content,
      verdict.sha256 ?? null,
      verdict.md5 ?? null,
      verdict.secretReason ?? null,
      verdict.secretHash ?? null,
      null,
      null,
      null,
    ]
    this.next.set(path, file)
    if (text !== undefined && verdict.sha256 !== undefined) this.newTexts.set(verdict.sha256, text)
  }

  /** Write the cache back, dropping files that are gone; only when something moved. */
  async save(): Promise<void> {
    // Every lookup that hit is in `next`: as many as before and nothing remembered means no file went or came.
    if (!this.changed && this.next.size === this.previous.size) return
    const files = [...this.next.values()]
    const blobs: Record<string, string> = {}
    for (const file of files) {
      const sha = file[7]
      if (file[6] !== 'mirrored' || sha === null) continue
      const text = this.newTexts.get(sha) ?? this.blobs[sha]
      if (text !== undefined) blobs[sha] = text
    }
    await this.store.write(INDEX_KEY, JSON.stringify({ rules: this.rules, packages: this.packages, files } satisfies StoredIndex))
    await this.store.write(BLOBS_KEY, JSON.stringify(blobs))
  }
}

function parseJson<T>(text: string | undefined): T | undefined {
  if (text === undefined) return undefined
  try {
    return JSON.parse(text) as T
  } catch {
    return undefined
  }
}
