import { randomBytes } from 'node:crypto'
import { chmod, lstat, mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import type { TwinDocument, TwinReader } from '@twinsync/sdk'
import { TWIN_LAYOUT, TwinSyncError, compareStrings, stableStringify } from '@twinsync/sdk'
import { inject, injectable } from '../di.js'
import { Tokens } from '../tokens.js'
import { SnapshotDraft, diskError, makeParents, settleSnapshot, snapshotUnsettled } from './atomic-snapshot.js'
import type { GitClient, GitClientFactory } from './git.js'
import { TwinLock } from './twin-lock.js'
import type { TwinLocation } from './twin-location.js'

export const TWIN_FORMAT_VERSION = 1

export interface TwinInfo {
  formatVersion: number
  machineId: string | null
  hostname: string | null
}

const FOLDER_NOTES: Record<string, string> = {
  'plans/README.md':
    '# plans\n\nDesired changes written by people or tools, as YAML files. `twinsync plan` reads them\ntogether with the rest of the twin; see the plan format in the TwinSync documentation.\n',
  'scripts/README.md':
    '# scripts\n\nScripts a plan may run, and only after you approve the plan. A plan can only name\nscripts from this folder.\n',
}

/**
 * The twin: a Git repository with the spec's layout. Knows nothing of providers; it stores
 * documents, tells what changed, and commits.
 */
@injectable()
export class TwinRepository implements TwinReader {
  readonly dir: string
  private readonly git: GitClient

  constructor(
    @inject(Tokens.TwinLocation) location: TwinLocation,
    @inject(Tokens.GitFactory) gitFactory: GitClientFactory,
  ) {
    this.dir = location.dir
    this.git = gitFactory(this.dir)
  }

  /** Create the twin. Idempotent on an existing twin; refuses anything else in the way. */
  async init(info: TwinInfo): Promise<{ created: boolean; commit: string | undefined }> {
    const existing = await stat(this.dir).catch(() => undefined)
    if (existing !== undefined && !existing.isDirectory()) throw this.notDirectory()
    if (existing !== undefined) {
      if (await this.isTwin()) return { created: false, commit: await this.git.head() }
      if ((await readdir(this.dir)).length > 0) {
        throw new TwinSyncError('REPO_NOT_TWIN', `${this.dir} exists, is not empty and is not a TwinSync twin`, {
          nextStep: 'Choose another place with --repo, or empty that directory first.',
          details: { repo: this.dir },
        })
      }
    }
    await mkdir(this.dir, { recursive: true, mode: 0o700 })
    await chmod(this.dir, 0o700)
    await this.git.init()
    for (const folder of TWIN_LAYOUT) await mkdir(join(this.dir, folder), { recursive: true })
    for (const [path, text] of Object.entries(FOLDER_NOTES)) await writeFile(join(this.dir, path), text)
    await writeFile(join(this.dir, 'twin.json'), stableStringify(info))
    await this.git.addAll()
    const commit = await this.git.commit('TwinSync init')
    return { created: true, commit }
  }

  /** Refuse to work on anything that is not an initialised twin. */
  async open(): Promise<TwinInfo> {
    const existing = await stat(this.dir).catch(() => undefined)
    if (existing === undefined) {
      throw new TwinSyncError('REPO_NOT_INITIALIZED', `There is no twin at ${this.dir}`, {
        nextStep: 'Run `twinsync init` (with the same --repo) to create it.',
        details: { repo: this.dir },
      })
    }
    if (!existing.isDirectory()) throw this.notDirectory()
    if (!(await this.isTwin())) {
      throw new TwinSyncError('REPO_NOT_TWIN', `${this.dir} is not a TwinSync twin (no twin.json and .git)`, {
        nextStep: 'Point --repo at a twin, or run `twinsync init` on an empty directory.',
        details: { repo: this.dir },
      })
    }
    let info: TwinInfo
    try {
      info = JSON.parse(await readFile(join(this.dir, 'twin.json'), 'utf8')) as TwinInfo
      if (typeof info !== 'object' || info === null) throw new Error('not an object')
    } catch (error) {
      throw new TwinSyncError('REPO_INVALID', `${join(this.dir, 'twin.json')} is not valid: ${(error as Error).message}`, {
        nextStep: `Put back the committed one: git -C ${this.dir} checkout HEAD -- twin.json`,
        details: { repo: this.dir },
      })
    }
    if (info.formatVersion !== TWIN_FORMAT_VERSION) {
      throw new TwinSyncError('REPO_INVALID', `${this.dir} has twin format ${info.formatVersion}; this TwinSync reads ${TWIN_FORMAT_VERSION}`, {
        nextStep: 'Use the TwinSync version that created this twin, or upgrade TwinSync.',
      })
    }
    return info
  }

  lock(): TwinLock {
    return new TwinLock(join(this.dir, '.git', 'twinsync', 'lock'))
  }

  /** A new snapshot, built in git's object store (see atomic-snapshot.ts). Hold the lock. */
  draft(options: { edited: boolean }): Promise<SnapshotDraft> {
    return SnapshotDraft.begin(this.dir, options)
  }

  /**
   * Commit the working twin's edits as they are (the desired state, before an apply), the same
   * all-or-nothing way as a snapshot: git's own index is never left locked by a kill.
   */
  async commitEdits(message: string): Promise<string | undefined> {
    const draft = await this.draft({ edited: true })
    try {
      const { tree, changes } = await draft.build({ edited: true })
      if (changes.length === 0) {
        await draft.discard()
        return undefined
      }
      return await draft.commit(tree, message)
    } catch (error) {
      await draft.discard().catch(() => undefined)
      throw error
    }
  }

  /** Finish or throw away a snapshot a crash interrupted, and clear temp files. Hold the lock. */
  settle(): ReturnType<typeof settleSnapshot> {
    return settleSnapshot(this.dir)
  }

  /**
   * Before reading the working twin without the lock: a snapshot's unfinished move is settled
   * first (under the lock), so a half-moved working twin is never read as the desired state.
   */
  async settleForReading(): Promise<void> {
    if (await snapshotUnsettled(this.dir)) await this.lock().hold('recovery', () => this.settle())
  }

  /** Where providers keep caches: inside .git, so never committed, and gone with the twin. */
  cacheDir(): string {
    return join(this.dir, '.git', 'twinsync', 'cache')
  }

  async read(path: string): Promise<Uint8Array | undefined> {
    try {
      return await readFile(this.file(path))
    } catch (error) {
      // Not there, a folder, or below something that is a file now (a type change): no document.
      if (['ENOENT', 'EISDIR', 'ENOTDIR'].includes((error as NodeJS.ErrnoException).code ?? '')) return undefined
      throw error
    }
  }

  async readText(path: string): Promise<string | undefined> {
    const bytes = await this.read(path)
    return bytes === undefined ? undefined : Buffer.from(bytes).toString('utf8')
  }

  /** Every file under a folder of the working tree ("system/" or "filesystem/etc/"), sorted. */
  async list(prefix: string): Promise<string[]> {
    const out: string[] = []
    const walk = async (rel: string): Promise<void> => {
      let entries
      try {
        entries = await readdir(this.file(rel), { withFileTypes: true })
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ENOTDIR') return
        throw error
      }
      for (const e of entries) {
        const child = rel === '' ? e.name : `${rel}/${e.name}`
        if (child === '.git') continue
        if (e.isDirectory()) await walk(child)
        else out.push(child)
      }
    }
    const folder = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix
    if (prefix.endsWith('/') || prefix === '') await walk(folder)
    else if ((await lstat(this.file(prefix)).catch(() => undefined))?.isFile()) out.push(prefix)
    return out.sort(compareStrings)
  }

  /** Write a document unless the twin already holds exactly these bytes. */
  async write(doc: TwinDocument): Promise<boolean> {
    const target = this.file(doc.path)
    const bytes = typeof doc.content === 'string' ? Buffer.from(doc.content) : Buffer.from(doc.content)
    const mode = doc.executable === true ? 0o755 : 0o644
    const current = await this.read(doc.path)
    const currentMode = current === undefined ? undefined : (await stat(target)).mode & 0o777
    if (current !== undefined && Buffer.from(current).equals(bytes) && currentMode === mode) return false
    // A path that was a folder in the last snapshot and is a file now (or the other way round).
    await makeParents(this.dir, doc.path)
    if ((await lstat(target).catch(() => undefined))?.isDirectory()) await rm(target, { recursive: true })
    // Written whole beside the twin (inside .git), then renamed in: never a half-written document.
    const temp = join(this.dir, '.git', 'twinsync', `.document.twinsync-${randomBytes(6).toString('hex')}`)
    await mkdir(dirname(temp), { recursive: true })
    try {
      await writeFile(temp, bytes, { mode })
      await chmod(temp, mode)
      await rename(temp, target)
    } catch (error) {
      await rm(temp, { force: true })
      throw diskError(error, this.dir)
    }
    return true
  }

  async remove(path: string): Promise<void> {
    // Below a file, or a folder now (a type change): there is no such document to remove.
    await rm(this.file(path), { force: true }).catch((error: NodeJS.ErrnoException) => {
      if (!['ENOTDIR', 'EISDIR', 'ERR_FS_EISDIR'].includes(error.code ?? '')) throw error
    })
  }

  async stageAll() {
    await this.git.addAll()
    return this.git.stagedChanges()
  }

  commit(message: string): Promise<string> {
    return this.git.commit(message)
  }

  head(): Promise<string | undefined> {
    return this.git.head()
  }

  restore(entries: Parameters<GitClient['restore']>[0]): Promise<void> {
    return this.git.restore(entries)
  }

  dirtyPaths(): Promise<string[]> {
    return this.git.dirtyPaths()
  }

  private file(path: string): string {
    if (path.split('/').some((p) => p === '..' || p === '.git') || path.startsWith('/') || path.includes('\0')) {
      throw new TwinSyncError('PATH_INVALID', `Not a twin path: ${JSON.stringify(path)}`, {
        nextStep: 'Twin paths are relative, without "..", ".git" or NUL bytes; fix the twin file or plan that names it.',
        details: { path },
      })
    }
    return join(this.dir, path)
  }

  private async isTwin(): Promise<boolean> {
    const [json, git] = await Promise.all([
      stat(join(this.dir, 'twin.json')).catch(() => undefined),
      stat(join(this.dir, '.git')).catch(() => undefined),
    ])
    return json?.isFile() === true && git?.isDirectory() === true
  }

  private notDirectory(): TwinSyncError {
    return new TwinSyncError('REPO_NOT_DIRECTORY', `${this.dir} exists and is not a directory`, {
      nextStep: 'Point --repo (or "repo" in the config file) at a directory.',
      details: { repo: this.dir },
    })
  }
}
