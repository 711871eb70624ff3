import type { DirEntry, EntryAttributes, ExecOptions, ExecResult, FileStat, HostPort, HostReader, ReadOptions, RmdirOutcome, UnlinkOutcome, WriteOptions } from './host.js'
import { TwinSyncError } from './errors.js'
import { checkTargetPath } from './target-path.js'
import { refuseThroughLinkedFolder, symlinkItselfError, walkLinksOn } from './linked-folder.js'

/** One change a dry run would have made, in the order it was asked for. */
export type HostAction =
  | { kind: 'write'; path: string; content: string; mode?: number; uid?: number; gid?: number; xattrs?: Readonly<Record<string, string>>; capabilities?: string }
  | { kind: 'attributes'; path: string; mode?: number; uid?: number; gid?: number; xattrs?: Readonly<Record<string, string>>; capabilities?: string }
  | { kind: 'mkdir'; path: string; mode?: number; uid?: number; gid?: number }
  | { kind: 'symlink'; path: string; target: string }
  | { kind: 'chmod'; path: string; mode: number }
  | { kind: 'chown'; path: string; uid: number; gid: number }
  | { kind: 'remove'; path: string }
  | { kind: 'rmdir'; path: string }
  | { kind: 'unlink'; path: string }
  | { kind: 'exec'; command: string; args: string[]; inTarget: boolean; env?: Record<string, string>; input?: string }

/** What a recorded program "returns": success with no output unless the test says otherwise. */
export type ExecAnswer = (command: string, args: readonly string[], options: ExecOptions) => Partial<ExecResult> | undefined

/**
 * A dry-run host: every reading call (files, `query`, `which`) goes to the real target through
 * `reader`; every changing call is recorded in `actions` and not made. Files it "wrote" or
 * "removed" read back that way, so a provider that checks its own write sees it; everything
 * else reads as the target is (a symlink it "made" reads back as one too). Use it to see what an
 * apply would do, and in plugin tests in place of stubbing `exec`.
 *
 * It refuses what the real port refuses, by the same rule: a change through a symlinked folder
 * (PATH_THROUGH_SYMLINK, linked-folder.ts), judged on the target as this run left it, is
 * thrown and not recorded, as LocalHost throws it and makes nothing; so a dry run never shows
 * a step that the real run would fail.
 */
export class RecordingHost implements HostPort {
  readonly actions: HostAction[] = []
  /** The reading programs it ran (or that `options.query` answered), as [command, args]. */
  readonly queries: Array<[string, string[]]> = []
  private readonly written = new Map<string, Buffer | null>()
  /** Symlinks it "made" (path → target), until something else is recorded at the path. */
  private readonly links = new Map<string, string>()
  /** Where a walk meets each symlink it "made" (LocalHost's madeLinks). */
  private readonly madeLinks = new Set<string>()

  constructor(
    private readonly reader: HostReader,
    private readonly options: {
      /** What a recorded (not run) program returns; success with no output by default. */
      exec?: ExecAnswer
      /** Answer reading programs instead of running them on the target (for tests without the tool). */
      query?: ExecAnswer
      /**
       * Answer `which` instead of looking in the target: where a program is installed, or
       * undefined for one that is not (for tests that need a tool present or missing).
       */
      which?: (command: string, options: Pick<ExecOptions, 'inTarget'>) => string | undefined
      /** Whether the target runs (a live `/`), instead of what the reader says: for tests of code that asks the running system. */
      live?: boolean
      /**
       * Refuse every changing call (after recording it) with this reason, instead of pretending
       * it worked: for code that must only read, such as planning.
       */
      refuse?: string
    } = {},
  ) {}

  get root(): string {
    return this.reader.root
  }

  get live(): boolean {
    return this.options.live ?? this.reader.live
  }

  /** The programs it would have run, as [command, args]. */
  commands(): Array<[string, string[]]> {
    return this.actions.flatMap((a) => (a.kind === 'exec' ? [[a.command, a.args] as [string, string[]]] : []))
  }

  resolve(path: string): Promise<string> {
    return this.reader.resolve(path)
  }

  async readFile(path: string, options?: ReadOptions): Promise<Buffer> {
    const own = this.written.get(checkTargetPath(path))
    if (own === null) throw Object.assign(new Error(`ENOENT: removed in this dry run: ${path}`), { code: 'ENOENT' })
    return own ?? this.reader.readFile(path, options)
  }

  async readTextIfExists(path: string, options?: ReadOptions): Promise<string | undefined> {
    const own = this.written.get(checkTargetPath(path))
    if (own === null) return undefined
    return own === undefined ? this.reader.readTextIfExists(path, options) : own.toString('utf8')
  }

  async lstat(path: string): Promise<FileStat | undefined> {
    const link = this.links.get(checkTargetPath(path))
    if (link !== undefined) return { type: 'symlink', mode: 0o777, uid: 0, gid: 0, size: Buffer.byteLength(link), mtimeMs: 0, ctimeMs: 0, ino: 0, dev: 0, nlink: 1 }
    return this.statOf(path, () => this.reader.lstat(path))
  }

  async stat(path: string): Promise<FileStat | undefined> {
    return this.statOf(path, () => this.reader.stat(path))
  }

  readdir(path: string): Promise<DirEntry[]> {
    return this.reader.readdir(path)
  }

  async readlink(path: string): Promise<string> {
    return this.links.get(checkTargetPath(path)) ?? this.reader.readlink(path)
  }

  async query(command: string, args: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    this.queries.push([command, [...args]])
    const answer = this.options.query
    if (answer === undefined) return this.reader.query(command, args, options)
    return { command, args: [...args], exitCode: 0, stdout: '', stderr: '', timedOut: false, ...answer(command, args, options) }
  }

  readAttributes(path: string): Promise<EntryAttributes | undefined> {
    return this.reader.readAttributes(path)
  }

  async which(command: string, options: Pick<ExecOptions, 'inTarget'> = {}): Promise<string | undefined> {
    const answer = this.options.which
    return answer === undefined ? this.reader.which(command, options) : answer(command, options)
  }

  async writeFileAtomic(path: string, data: string | Uint8Array, options: WriteOptions = {}): Promise<void> {
    const bytes = Buffer.from(typeof data === 'string' ? Buffer.from(data) : data)
    await this.change({ kind: 'write', path, content: bytes.toString('utf8'), ...options })
    this.written.set(path, bytes)
    this.links.delete(path)
  }

  async mkdir(path: string, options: WriteOptions = {}): Promise<void> {
    await this.change({ kind: 'mkdir', path, ...options })
  }

  async symlink(target: string, path: string): Promise<void> {
    await this.change({ kind: 'symlink', path, target })
    this.links.set(path, target)
  }

  async chmod(path: string, mode: number): Promise<void> {
    // chmod(2) follows a final symlink: the real port refuses one there, so does a dry run.
    if ((await this.lstat(path))?.type === 'symlink') throw symlinkItselfError(path)
    await this.change({ kind: 'chmod', path, mode })
  }

  async setAttributes(path: string, options: WriteOptions): Promise<void> {
    await this.change({ kind: 'attributes', path, ...options })
  }

  async chown(path: string, uid: number, gid: number): Promise<void> {
    await this.change({ kind: 'chown', path, uid, gid })
  }

  async remove(path: string): Promise<void> {
    await this.change({ kind: 'remove', path })
    this.written.set(path, null)
    this.links.delete(path)
  }

  /** Recorded; answers as the target would after this run's changes: 'directory' for a folder (kept). */
  async unlink(path: string): Promise<UnlinkOutcome> {
    await this.change({ kind: 'unlink', path })
    const stat = await this.lstat(path)
    if (stat === undefined) return 'gone'
    if (stat.type === 'directory') return 'directory'
    this.written.set(path, null)
    this.links.delete(path)
    return 'removed'
  }

  /** Recorded; answers as the target would after this run's changes: 'not-empty' while anything is left in it. */
  async rmdir(path: string): Promise<RmdirOutcome> {
    await this.change({ kind: 'rmdir', path })
    const stat = await this.lstat(path)
    if (stat === undefined) return 'gone'
    if (stat.type !== 'directory') throw Object.assign(new Error(`ENOTDIR: not a directory, rmdir '${path}'`), { code: 'ENOTDIR' })
    const prefix = path === '/' ? '/' : `${path}/`
    const left = (await this.reader.readdir(path)).filter((e) => this.written.get(`${prefix}${e.name}`) !== null)
    const direct = (p: string) => p.startsWith(prefix) && !p.slice(prefix.length).includes('/')
    const added = [...this.written].some(([p, bytes]) => bytes !== null && direct(p)) || [...this.links.keys()].some(direct)
    if (left.length > 0 || added) return 'not-empty'
    this.written.set(path, null)
    return 'removed'
  }

  async exec(command: string, args: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    if (this.options.refuse === undefined) for (const folder of options.writesIn ?? []) await refuseThroughLinkedFolder(this, folder, { inclusive: true, made: (at) => this.madeLinks.has(at) })
    this.record({
      kind: 'exec',
      command,
      args: [...args],
      inTarget: options.inTarget === true,
      ...(options.env === undefined ? {} : { env: options.env }),
      ...(options.input === undefined ? {} : { input: typeof options.input === 'string' ? options.input : Buffer.from(options.input).toString('utf8') }),
    })
    return { command, args: [...args], exitCode: 0, stdout: '', stderr: '', timedOut: false, ...this.options.exec?.(command, args, options) }
  }

  /**
   * A change of a path: refused as the real port refuses it (through a symlinked folder, as this
   * run left the target), else recorded. Work that only reads refuses every change anyway.
   */
  private async change(action: Exclude<HostAction, { kind: 'exec' }>): Promise<void> {
    checkTargetPath(action.path)
    if (this.options.refuse === undefined) await refuseThroughLinkedFolder(this, action.path, { made: (at) => this.madeLinks.has(at) })
    this.record(action)
    // A link it "made" is the twin's, as the real port holds it (walkLinks): where a walk meets it.
    if (action.kind === 'symlink') this.madeLinks.add(`/${(await walkLinksOn(this, action.path)).parts.join('/')}`)
  }

  private record(action: HostAction): void {
    this.actions.push(action)
    if (this.options.refuse !== undefined) {
      const what = action.kind === 'exec' ? `run ${[action.command, ...action.args].join(' ')}` : `${action.kind} ${action.path}`
      throw new TwinSyncError('HOST_READ_ONLY', `${this.options.refuse}: tried to ${what}`, {
        nextStep: 'Read through the reading calls (files, `query` for programs that only read); change the target only in apply.',
        details: { action },
      })
    }
  }

  private async statOf(path: string, real: () => Promise<FileStat | undefined>): Promise<FileStat | undefined> {
    const own = this.written.get(checkTargetPath(path))
    if (own === null) return undefined
    const found = await real()
    if (own === undefined) return found
    const base: FileStat = found ?? { type: 'file', mode: 0o644, uid: 0, gid: 0, size: 0, mtimeMs: 0, ctimeMs: 0, ino: 0, dev: 0, nlink: 1 }
    return { ...base, type: 'file', size: own.length }
  }
}
