import { TwinSyncError } from '@twinsync/sdk'
import { diskError } from './disk-error.js'
import { EMPTY_TREE, gitOutput } from './git-process.js'

export interface GitStatusEntry {
  path: string
  /** A added, M modified, D deleted (relative to HEAD, after staging everything). */
  change: 'A' | 'M' | 'D'
}

/** The git operations the twin needs; wraps simple-git so tests can hand in a fake. */
export interface GitClient {
  init(): Promise<void>
  addAll(): Promise<void>
  /** Staged changes against HEAD (everything when there is no HEAD yet). */
  stagedChanges(): Promise<GitStatusEntry[]>
  commit(message: string): Promise<string>
  head(): Promise<string | undefined>
  /** Put paths back to HEAD in both index and working tree; remove paths HEAD does not have. */
  restore(entries: readonly GitStatusEntry[]): Promise<void>
  /** Paths that differ from HEAD in the working tree, untracked files included. */
  dirtyPaths(): Promise<string[]>
}

export type GitClientFactory = (dir: string) => GitClient

const IDENTITY = ['user.name=TwinSync', 'user.email=twinsync@localhost']

/** simple-git, loaded on first use so commands that never touch git start fast. */
export class SimpleGitClient implements GitClient {
  private git: Promise<import('simple-git').SimpleGit> | undefined

  constructor(private readonly dir: string) {}

  private client(): Promise<import('simple-git').SimpleGit> {
    this.git ??= import('simple-git').then(({ simpleGit }) =>
      simpleGit({ baseDir: this.dir, config: [...IDENTITY, 'core.quotepath=false', 'commit.gpgsign=false'] }),
    )
    return this.git
  }

  async init(): Promise<void> {
    await this.run((g) => g.init(['--initial-branch=main', '--quiet']))
  }

  async addAll(): Promise<void> {
    await this.run((g) => g.raw(['add', '--all', '--', '.']))
  }

  async stagedChanges(): Promise<GitStatusEntry[]> {
    // Against the empty tree when there is no commit yet, so every file counts as added.
    const base = (await this.head()) ?? EMPTY_TREE
    const out = await this.run((g) => g.raw(['diff', '--cached', '--name-status', '--no-renames', '-z', base]))
    return parseNameStatus(out)
  }

  async commit(message: string): Promise<string> {
    await this.run((g) => g.raw(['commit', '--quiet', '--no-verify', '-m', message]))
    return (await this.head()) as string
  }

  async head(): Promise<string | undefined> {
    try {
      return (await this.run((g) => g.raw(['rev-parse', '--verify', '--quiet', 'HEAD^{commit}']))).trim() || undefined
    } catch {
      return undefined
    }
  }

  async restore(entries: readonly GitStatusEntry[]): Promise<void> {
    if (entries.length === 0) return
    const tracked = entries.filter((e) => e.change !== 'A').map((e) => e.path)
    const added = entries.filter((e) => e.change === 'A').map((e) => e.path)
    if (tracked.length > 0) await this.run((g) => g.raw(['checkout', 'HEAD', '--', ...tracked]))
    if (added.length > 0) await this.run((g) => g.raw(['rm', '--cached', '--quiet', '-f', '--', ...added]))
    const { rm } = await import('node:fs/promises')
    const { join } = await import('node:path')
    await Promise.all(added.map((p) => rm(join(this.dir, p), { force: true })))
  }

  async dirtyPaths(): Promise<string[]> {
    // A plain spawn: through simple-git this one call costs about 50 ms more, and it is on the
    // path of every unchanged snapshot.
    // --no-optional-locks: a status killed half way must not leave git's index lock behind.
    const out = await gitOutput(this.dir, ['--no-optional-locks', 'status', '--porcelain=v1', '-z', '--untracked-files=all']).catch((error: Error) => {
      throw new TwinSyncError('GIT_FAILED', `git status failed in ${this.dir}: ${error.message.split('\n')[0]}`)
    })
    return out.toString('utf8').split('\0').filter((e) => e.length > 3).map((e) => e.slice(3))
  }

  private async run<T>(fn: (g: import('simple-git').SimpleGit) => Promise<T>): Promise<T> {
    try {
      return await fn(await this.client())
    } catch (error) {
      const message = (error as Error).message ?? String(error)
      if (/ENOENT|spawn git/.test(message)) {
        throw new TwinSyncError('GIT_MISSING', 'git is not installed', { nextStep: 'Install git (apt-get install git) and run the command again.' })
      }
      throw diskError(
        new TwinSyncError('GIT_FAILED', `git failed in ${this.dir}: ${message.trim().split('\n')[0]}`, {
          nextStep: `Inspect the twin with \`git -C ${this.dir} status\`.`,
          cause: error,
        }),
        this.dir,
      )
    }
  }
}

export function parseNameStatus(out: string): GitStatusEntry[] {
  const parts = out.split('\0').filter((p) => p.length > 0)
  const entries: GitStatusEntry[] = []
  for (let i = 0; i + 1 < parts.length; i += 2) {
    const code = (parts[i] as string)[0]
    const path = parts[i + 1] as string
    entries.push({ path, change: code === 'A' ? 'A' : code === 'D' ? 'D' : 'M' })
  }
  return entries
}
