import type { TwinReader } from '@twinsync/sdk'
import { GitTreeReader } from '../twin/git-tree-reader.js'

/**
 * The last snapshot (the observed commit) as a collect's `previous` (CollectRequest.previous):
 * a provider that could not read part of the machine keeps the last snapshot's record of that
 * part from it. It finds its commit and runs git only when first read, so a collect that read
 * everything (an unchanged machine's snapshot, plan or status) costs nothing more: no ref read,
 * no `git ls-tree`, no `cat-file` (an unchanged minbase snapshot still starts no process).
 */
export class LastSnapshotReader implements TwinReader {
  private opened: Promise<GitTreeReader | undefined> | undefined

  constructor(
    private readonly dir: string,
    /** The commit, asked once on first read; undefined before the first snapshot (then it holds nothing). */
    private readonly commit: () => Promise<string | undefined>,
  ) {}

  async read(path: string): Promise<Uint8Array | undefined> {
    return (await this.open())?.read(path)
  }

  async readText(path: string): Promise<string | undefined> {
    return (await this.open())?.readText(path)
  }

  async list(prefix: string): Promise<string[]> {
    return (await this.open())?.list(prefix) ?? []
  }

  /** Ends its `git cat-file` if a read started one. */
  async close(): Promise<void> {
    const reader = await this.opened?.catch(() => undefined)
    reader?.close()
  }

  private open(): Promise<GitTreeReader | undefined> {
    this.opened ??= this.commit().then((c) => (c === undefined || c === '' ? undefined : new GitTreeReader(this.dir, c)))
    return this.opened
  }
}
