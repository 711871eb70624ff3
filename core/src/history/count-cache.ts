import { mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { writeFileAtomic } from '@twinsync/sdk/light'
import type { RecordedCounts } from './count-record.js'

/** v2: entries say which domains were counted in twin files (v1 files are left to be ignored). */
const FILE = 'history-counts-v2.json'
/** Enough for every snapshot a `history` lists; the oldest entries go first. */
const MAX_ENTRIES = 20_000

type Counts = RecordedCounts

interface Stored {
  fingerprint: string
  counts: Record<string, Counts>
}

/**
 * Speed: `history` remembers the counts of snapshots it had to count itself: commits whose
 * message records none (checkpoints, applies, snapshots of older TwinSync versions, a snapshot
 * whose provider failed; see count-record.ts), counted once with both versions loaded and
 * diffed, as `show` does. A snapshot's commit and its parent never change, so neither do its
 * counts while the providers, their versions and their configuration stay the same (the
 * fingerprint); any other fingerprint starts afresh.
 * Measured on a twin of 1,000 hourly snapshots (one in four touching units or files), shared
 * 2-core machine: `history --limit 1000` 2.4 s → 0.35 s once the counts are here.
 *
 * Kept in the twin's cache (never committed); losing it, or failing to write it on a read-only
 * twin, only costs time.
 */
export class CountCache {
  private added = false

  private constructor(
    private readonly file: string,
    private readonly fingerprint: string,
    private readonly counts: Map<string, Counts>,
  ) {}

  static async open(cacheDir: string, fingerprint: string): Promise<CountCache> {
    const file = join(cacheDir, FILE)
    let stored: Stored | undefined
    try {
      stored = JSON.parse(await readFile(file, 'utf8')) as Stored
    } catch {
      stored = undefined
    }
    const counts = stored?.fingerprint === fingerprint && typeof stored.counts === 'object' ? new Map(Object.entries(stored.counts)) : new Map<string, Counts>()
    return new CountCache(file, fingerprint, counts)
  }

  get(parent: string | null, commit: string): Counts | undefined {
    const found = this.counts.get(key(parent, commit))
    return typeof found?.counts === 'object' && found.counts !== null && Array.isArray(found.twinFiles) ? found : undefined
  }

  set(parent: string | null, commit: string, counts: Counts): void {
    this.counts.set(key(parent, commit), counts)
    this.added = true
  }

  async save(): Promise<void> {
    if (!this.added) return
    const entries = [...this.counts].slice(-MAX_ENTRIES)
    const stored: Stored = { fingerprint: this.fingerprint, counts: Object.fromEntries(entries) }
    await mkdir(join(this.file, '..'), { recursive: true })
      .then(() => writeFileAtomic(this.file, JSON.stringify(stored), { mode: 0o600 }))
      .catch(() => undefined)
  }
}

function key(parent: string | null, commit: string): string {
  return `${parent ?? 'root'}..${commit}`
}
