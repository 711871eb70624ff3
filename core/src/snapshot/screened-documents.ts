import { readFileSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { SECRET_RULES_VERSION, writeFileAtomic } from '@twinsync/sdk'
import type { SnapshotDraft } from '../twin/atomic-snapshot.js'

const MARKER = 'screened-with-rules'

/**
 * Speed: a provider's document that the twin's HEAD already holds byte for byte is not screened
 * for secrets again. The copy in HEAD is what screening made of it when it was written, so the
 * result would be the same and no new bytes reach a commit. Measured on the Debian server root
 * (unchanged snapshot): screening every document cost 85–110 ms a run, this check under 5 ms.
 *
 * It holds only while the secret rules are the ones HEAD's copies were screened with: the
 * rules' version is kept in the twin's cache, and a snapshot under other rules screens every
 * document again. Never when the working twin has edits: a hand edit in HEAD's place was not
 * screened by TwinSync.
 */
export class ScreenedDocuments {
  private constructor(
    private readonly cacheDir: string,
    private readonly trusted: boolean,
  ) {}

  static open(cacheDir: string, options: { edited: boolean }): ScreenedDocuments {
    let rules: string | undefined
    try {
      rules = readFileSync(join(cacheDir, MARKER), 'utf8').trim()
    } catch {
      rules = undefined
    }
    return new ScreenedDocuments(cacheDir, !options.edited && rules === String(SECRET_RULES_VERSION))
  }

  /** Whether this document needs no screening: HEAD holds exactly it, screened under these rules. */
  alreadyScreened(draft: SnapshotDraft, doc: Parameters<SnapshotDraft['holds']>[0]): boolean {
    return this.trusted && draft.holds(doc)
  }

  /** Record the rules every document of the new tree was screened with. */
  async remember(): Promise<void> {
    if (this.trusted) return
    // Losing the record only costs time: the next snapshot screens everything again.
    await mkdir(this.cacheDir, { recursive: true })
      .then(() => writeFileAtomic(join(this.cacheDir, MARKER), `${SECRET_RULES_VERSION}\n`, { mode: 0o600 }))
      .catch(() => undefined)
  }
}
