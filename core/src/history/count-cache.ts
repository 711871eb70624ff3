import { mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { writeFileAtomic } from '@twinsync/sdk'

const FILE = 'history-counts.json'
/** Enough for every snapshot a `history` lists; the oldest entries go first. */
const MAX_ENTRIES = 20_000

type Counts = Partial<Record<string, number>>

interface Stored {
  fingerprint: string
  counts: Record<string, Counts>
}

/**
 * Speed: `history` remembers the counts of snapshots whose changes needed the providers (a
 * package, a unit, a mirrored file: both versions loaded and diffed, as `show` does). A
 * snapshot's commit and its parent never change, so neither do its counts while the providers,
 * their versions and their configuration stay the same (the fingerprint); any other
 * fingerprint starts afresh. Snapshots that changed only facts or the twin's own files are
 * counted from the paths of the one `git log` pass and need no entry here.
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
    return this.counts.get(key(parent, commit))
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
