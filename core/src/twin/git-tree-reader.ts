import type { TwinReader } from '@twinsync/sdk'
import { TwinSyncError, compareStrings } from '@twinsync/sdk'
import { BatchReader, revParseCommit, runGit } from './git.js'
import { twinPathParts, twinSymlinkError } from './twin-files.js'
import { quoteArg } from '../plan/command-text.js'

/**
 * The twin as it was at one commit: reads blobs through a single `git cat-file --batch`
 * process instead of one `git show` per file, since a twin has thousands of files.
 */
export class GitTreeReader implements TwinReader {
  /** Every path of the commit's tree with its git mode (100644, 100755, 120000 for a symlink). */
  private files: Promise<Map<string, string>> | undefined
  private batch: BatchReader | undefined

  constructor(
    private readonly dir: string,
    readonly commit: string,
    /** One `git cat-file --batch` shared by several readers (history's); its owner closes it. */
    private readonly shared?: BatchReader,
  ) {}

  /** A blob's content; a symlink (mode 120000) is refused like one in the working tree, never read as text. */
  async read(path: string): Promise<Uint8Array | undefined> {
    twinPathParts(path)
    const mode = (await this.allFiles()).get(path)
    if (mode === undefined || mode === '160000') return undefined
    if (mode === '120000') throw twinSymlinkError(path, this.dir)
    const batch = this.shared ?? (this.batch ??= new BatchReader(this.dir))
    return batch.read(`${this.commit}:${path}`)
  }

  async readText(path: string): Promise<string | undefined> {
    const bytes = await this.read(path)
    return bytes === undefined ? undefined : Buffer.from(bytes).toString('utf8')
  }

  async list(prefix: string): Promise<string[]> {
    return [...(await this.allFiles()).keys()].filter((p) => p.startsWith(prefix)).sort(compareStrings)
  }

  close(): void {
    this.batch?.close()
  }

  private allFiles(): Promise<Map<string, string>> {
    this.files ??= runGit(this.dir, ['ls-tree', '-r', '-z', '--full-tree', this.commit]).then((out) => {
      const files = new Map<string, string>()
      for (const line of out.split('\0')) {
        const tab = line.indexOf('\t')
        if (tab < 0) continue
        files.set(line.slice(tab + 1), line.split(' ')[0] as string)
      }
      return files
    })
    return this.files
  }
}

/** Resolve a snapshot reference (a hash, HEAD~2, a tag) to a full commit id. */
export async function resolveCommit(dir: string, ref: string): Promise<string> {
  if (ref.startsWith('-') || /[\0\n]/.test(ref)) throw unknownRef(dir, ref)
  // A missing git or a damaged repository is said as such, not as an unknown snapshot.
  const commit = await revParseCommit(dir, ref)
  if (commit === undefined) throw unknownRef(dir, ref)
  return commit
}

function unknownRef(dir: string, ref: string): TwinSyncError {
  return new TwinSyncError('SNAPSHOT_UNKNOWN', `No snapshot ${JSON.stringify(ref)} in the twin`, {
    nextStep: `Run \`twinsync history --repo ${quoteArg(dir)}\` to see the snapshots.`,
    details: { ref },
  })
}
