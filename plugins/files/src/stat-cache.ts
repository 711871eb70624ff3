import type { FileStat, ProviderCache } from '@twinsync/sdk'
import { isRacy } from '@twinsync/sdk'
import type { ContentKind } from './content.js'

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

interface CachedEntry extends ContentVerdict {
  key: string
}

interface StoredIndex {
  rules: string
  entries: Record<string, CachedEntry>
}

const INDEX_KEY = 'stat-index'
const BLOBS_KEY = 'text-blobs'

/**
 * The stat cache, like git's index: a second collect of an unchanged tree takes each file's
 * verdict (hash, text or not, secret or not) and text from here instead of reading and hashing
 * it again. Stored in the provider cache, outside the twin; secrets' content never enters it.
 * Losing it only costs time.
 */
export class StatCache {
  private readonly next: Record<string, CachedEntry> = {}
  private readonly nextBlobs: Record<string, string> = {}
  private changed = false

  private constructor(
    private readonly store: ProviderCache,
    private readonly rules: string,
    private readonly previous: Record<string, CachedEntry>,
    private readonly blobs: Record<string, string>,
    private readonly startedAt: number,
  ) {}

  /** `rules` names everything a verdict depends on besides the file (size limit, secret rules). */
  static async open(store: ProviderCache, rules: string, startedAt: number): Promise<StatCache> {
    const index = parseJson<StoredIndex>(await store.read(INDEX_KEY))
    const blobs = parseJson<Record<string, string>>(await store.read(BLOBS_KEY)) ?? {}
    const previous = index !== undefined && index.rules === rules ? index.entries : {}
    return new StatCache(store, rules, previous, blobs, startedAt)
  }

  /** The verdict and text remembered for this file, when its stat has not moved. */
  lookup(path: string, stat: FileStat): { verdict: ContentVerdict; text?: string } | undefined {
    const entry = this.previous[path]
    if (entry === undefined || entry.key !== statKey(stat)) return undefined
    const { key: _key, ...verdict } = entry
    let text: string | undefined
    if (verdict.content === 'mirrored') {
      text = verdict.sha256 === undefined ? undefined : this.blobs[verdict.sha256]
      if (text === undefined) return undefined
    }
    this.keep(path, entry, text)
    return text === undefined ? { verdict } : { verdict, text }
  }

  remember(path: string, stat: FileStat, verdict: ContentVerdict, text?: string): void {
    if (isRacy(stat, this.startedAt)) {
      this.changed = true
      return
    }
    this.keep(path, { key: statKey(stat), ...verdict }, text)
    this.changed = true
  }

  /** Write the cache back, dropping files that are gone; only when something moved. */
  async save(): Promise<void> {
    const dropped = Object.keys(this.previous).some((p) => !(p in this.next))
    if (!this.changed && !dropped) return
    await this.store.write(INDEX_KEY, JSON.stringify({ rules: this.rules, entries: this.next } satisfies StoredIndex))
    await this.store.write(BLOBS_KEY, JSON.stringify(this.nextBlobs))
  }

  private keep(path: string, entry: CachedEntry, text: string | undefined): void {
    this.next[path] = entry
    if (text !== undefined && entry.sha256 !== undefined) this.nextBlobs[entry.sha256] = text
  }
}

function statKey(stat: FileStat): string {
  return `${stat.size}:${stat.mtimeMs}:${stat.ctimeMs}:${stat.ino}:${stat.dev}`
}

function parseJson<T>(text: string | undefined): T | undefined {
  if (text === undefined) return undefined
  try {
    return JSON.parse(text) as T
  } catch {
    return undefined
  }
}
