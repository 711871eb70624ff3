import { accessSync, chmodSync, closeSync, constants, fchmodSync, fstatSync, lstatSync, openSync, readdirSync, readFile as readFd, readFileSync, readlinkSync, realpathSync, rmdirSync } from 'node:fs'
import { basename, join } from 'node:path'
import { networkInterfaces } from 'node:os'
import { parseMountInfo, sandboxArgv, sandboxFailure, type NetworkInterface } from './checker-sandbox.js'
import { makeScratch, sweepScratch } from './sandbox-scratch.js'
import { lchown, lstat, lutimes, mkdir, rm, rmdir, symlink, unlink } from 'node:fs/promises'
import type { Stats } from 'node:fs'
import { writeFileAtomic } from './atomic-write.js'
import { TwinSyncError } from './errors.js'
import type { DirEntry, EntryAttributes, ExecOptions, ExecResult, FileStat, FileType, HostPort, ReadOptions, RmdirOutcome, UnlinkOutcome, WriteOptions } from './host.js'
import { plainQuery } from './plain-query.js'
import { SAFE_PATH } from './own-env.js'
import { checkTargetPath, targetPathParts } from './target-path.js'
import { isTrustedOwner, readRefused, refuseThroughLinkedFolder, symlinkItselfError, walkLinksSync, type LinkLook, type LinkWalk } from './linked-folder.js'
import { isCapabilityText, isManagedXattr, parseXattrDump, xattrBytes, xattrValue } from './xattr.js'
import { fstatData, lstatData, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG, statData, type StatData } from './stat-data.js'

// The programs it runs are looked for, and run with a PATH of, SAFE_PATH (own-env.ts).

/*
 * Speed: the metadata calls (lstat, stat, readdir, readlink, and the lstat of each step when a
 * path is resolved under a root) are made synchronously. Through fs/promises every call is a
 * round trip to libuv's thread pool, and a walk awaits them one after the other: walking the
 * scale root's /etc (24,933 entries, test/bench/scale-root.ts) took 860–1,000 ms of wall and
 * 770–860 ms of CPU that way, 130–180 ms synchronously. These calls answer from the kernel's
 * caches.
 *
 * Small files are read synchronously too (`readFile`, `readTextIfExists`), and `which` asks access(2) the same
 * way: fs/promises' readFile is four thread-pool round trips (open, fstat, read, close), each a
 * promise and an event-loop turn. An unchanged snapshot of the services root reads 16 files
 * through the host port (unit drop-ins, a preset file, /etc/passwd and /etc/group for three
 * providers, os-release) and looks for getcap and getfattr: about 75 thread-pool round trips
 * fewer, below what the whole run's CPU (medians of 11) or its futex calls (940–1,025 → 934–947
 * in 3 runs each) can show on that root; it counts where a provider reads many small files.
 * A file above SYNC_READ_MAX is read asynchronously, so the event loop (a cancel, another
 * provider's work) is not held up while a large file is read.
 */
const MAX_SYMLINK_HOPS = 40
/** Files up to this size (by fstat) are read synchronously. */
const SYNC_READ_MAX = 1024 * 1024

/**
 * The real host port over node:fs and execa. With a root other than "/", every path is resolved
 * the way `chroot` would see it: absolute symlinks are re-rooted, and a ".." that would climb
 * above the root is refused (PATH_OUTSIDE_ROOT) instead of silently reaching the host.
 */
export class LocalHost implements HostPort {
  readonly root: string
  readonly live: boolean
  /** Resolved directories, keyed by target path; cleared by every write (a write can add links). */
  private readonly dirCache = new Map<string, string[]>()
  /** The host path of each resolved directory in dirCache, or found a directory by an lstat (seen); cleared with it. */
  private readonly dirHostPaths = new Map<string, string>()

  constructor(root = '/') {
    if (!root.startsWith('/')) throw new TwinSyncError('PATH_INVALID', `The target root must be absolute: ${root}`)
    this.root = root === '/' ? '/' : root.replace(/\/+$/, '')
    this.live = this.root === '/'
  }

  async resolve(path: string): Promise<string> {
    return this.hostPath(this.resolveParts(checkTargetPath(path), true))
  }

  async readFile(path: string, options: ReadOptions = {}): Promise<Buffer> {
    const { fd, size } = await this.openRegular(path, options)
    try {
      // readFileSync on the descriptor reads to the end: right for /proc files whose size is 0, or a file that grew.
      return size > SYNC_READ_MAX ? await readLarge(fd) : readFileSync(fd)
    } finally {
      closeSync(fd)
    }
  }

  async readTextIfExists(path: string, options: ReadOptions = {}): Promise<string | undefined> {
    let opened: { fd: number; size: number }
    try {
      opened = await this.openRegular(path, options)
    } catch (error) {
      if (isMissing(error)) return undefined
      throw error
    }
    try {
      return (opened.size > SYNC_READ_MAX ? await readLarge(opened.fd) : readFileSync(opened.fd)).toString('utf8')
    } finally {
      closeSync(opened.fd)
    }
  }

  async lstat(path: string): Promise<FileStat | undefined> {
    const hostPath = await this.unfollowed(path)
    return this.seen(path, hostPath, statOrUndefined(lstatData, hostPath))
  }

  async stat(path: string): Promise<FileStat | undefined> {
    if (this.live) return statOrUndefined(statData, await this.resolve(path))
    // Under a root, resolving the last name lstats it; when it is no symlink, that lstat is the
    // answer, and no second stat(2) of the same path is made (speed, issue 22: systemd's
    // unit-file cache stats 259 paths of the services root's /usr/lib every snapshot).
    const unfollowed = await this.unfollowed(path)
    const own = this.seen(path, unfollowed, statOrUndefined(lstatData, unfollowed))
    if (own === undefined || own.type !== 'symlink') return own
    return statOrUndefined(statData, await this.resolve(path))
  }

  async readdir(path: string): Promise<DirEntry[]> {
    const entries = readdirSync(await this.resolve(path), { withFileTypes: true })
    return entries.map((e) => ({ name: e.name, type: direntType(e) }))
  }

  async readlink(path: string): Promise<string> {
    return readlinkSync(await this.unfollowed(path))
  }

  async readAttributes(path: string): Promise<EntryAttributes | undefined> {
    const hostPath = await this.unfollowed(path)
    const dump = await this.attrTool('getfattr', (p) => ['-h', '-d', '-m', '-', '-e', 'base64', '--absolute-names', '--', p], hostPath, { query: true, optional: true })
    if (dump === undefined) return undefined
    const xattrs = parseXattrDump(dump.stdout).values().next().value ?? {}
    if (!Object.hasOwn(xattrs, 'security.capability')) return { xattrs }
    // The capability in words, as the twin records it; the raw bytes stay when getcap is missing.
    const caps = await this.attrTool('getcap', (p) => [p], hostPath, { query: true, optional: true })
    // "PATH cap_net_raw=ep" (libcap >= 2.30) or "PATH = cap_net_raw+ep" (older).
    const line = caps?.stdout.trim() ?? ''
    const asked = caps?.args[0] ?? ''
    const text = line.startsWith(`${asked} `) ? line.slice(asked.length + 1).replace(/^= /, '') : undefined
    if (text === undefined) return { xattrs }
    delete xattrs['security.capability']
    return { xattrs, capabilities: text }
  }

  async writeFileAtomic(path: string, data: string | Uint8Array, options: WriteOptions = {}): Promise<void> {
    await this.refuseThroughSymlink(path)
    const target = await this.unfollowed(path)
    this.clearResolved()
    const { xattrs, capabilities, keepAttributes, ...owner } = options
    const extended = xattrs !== undefined || (capabilities !== undefined && capabilities !== '')
    const keep = keepAttributes === true && !extended && capabilities === undefined
    await writeFileAtomic(target, data, {
      ...owner,
      // The temp file right after it is made, and the file right after the rename: where they were meant to be (checkOpened).
      verify: (fd, at, placed) => this.checkOpened(placed ? path : besides(path, at), fd, placed),
      ...(extended ? { finish: (temp: string) => this.finishAttributes(besides(path, temp), temp, { ...options, mode: options.mode ?? 0o644 }) } : {}),
      ...(keep ? { finish: (_temp: string, fd: number) => keepAttributesOf(path, target, fd, options.mode ?? 0o644) } : {}),
    })
  }

  async setAttributes(path: string, options: WriteOptions): Promise<void> {
    await this.refuseThroughSymlink(path)
    const target = await this.unfollowed(path)
    this.forgetLooks()
    const before = await lstat(target)
    if (options.uid !== undefined || options.gid !== undefined) await lchown(target, options.uid ?? -1, options.gid ?? -1)
    if (!before.isSymbolicLink()) {
      const ownerChanged = options.uid !== undefined || options.gid !== undefined
      // chown cleared setuid and setgid: the mode goes back as it was unless a new one is given.
      const mode = options.mode ?? (ownerChanged || options.xattrs !== undefined ? before.mode & 0o7777 : undefined)
      if (options.xattrs === undefined && options.capabilities === undefined) {
        if (mode !== undefined) this.changeMode(path, target, mode)
      } else {
        await this.finishAttributes(path, target, { ...options, ...(mode === undefined ? {} : { mode }) })
      }
    }
    // Last: every step above may move the entry's ctime, none its mtime.
    if (options.mtimeMs !== undefined) await lutimes(target, new Date(), new Date(options.mtimeMs))
  }

  async mkdir(path: string, options: WriteOptions = {}): Promise<void> {
    await this.refuseThroughSymlink(path)
    const target = await this.unfollowed(path)
    this.clearResolved()
    await mkdir(target, { mode: options.mode ?? 0o755 })
    if (options.uid !== undefined || options.gid !== undefined) await lchown(target, options.uid ?? -1, options.gid ?? -1)
    // mkdir's mode is filtered by the umask; set it exactly.
    if (options.mode !== undefined) this.changeMode(path, target, options.mode)
  }

  async symlink(linkTarget: string, path: string, options: Pick<WriteOptions, 'uid' | 'gid'> = {}): Promise<void> {
    await this.refuseThroughSymlink(path)
    const target = await this.unfollowed(path)
    this.clearResolved()
    await symlink(linkTarget, target)
    // Where a walk meets it (its folder's root-placed links followed): never followed this run (walkLinks).
    this.madeLinks.add(`/${walkLinksSync(path, (at, last) => this.look(at, last)).parts.join('/')}`)
    if (options.uid !== undefined || options.gid !== undefined) await lchown(target, options.uid ?? -1, options.gid ?? -1)
  }

  async chmod(path: string, mode: number): Promise<void> {
    await this.refuseThroughSymlink(path)
    this.changeMode(path, await this.unfollowed(path), mode)
  }

  async chown(path: string, uid: number, gid: number): Promise<void> {
    await this.refuseThroughSymlink(path)
    this.forgetLooks()
    await lchown(await this.unfollowed(path), uid, gid)
  }

  async remove(path: string): Promise<void> {
    await this.refuseThroughSymlink(path)
    const target = await this.unfollowed(path)
    this.clearResolved()
    await rm(target, { recursive: true, force: true })
  }

  async unlink(path: string): Promise<UnlinkOutcome> {
    await this.refuseThroughSymlink(path)
    const target = await this.unfollowed(path)
    this.clearResolved()
    try {
      await unlink(target)
      return 'removed'
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      // Linux gives EISDIR for a directory; POSIX allows EPERM.
      if (code === 'EISDIR' || (code === 'EPERM' && (await lstat(target).catch(() => undefined))?.isDirectory() === true)) return 'directory'
      if (code === 'ENOENT') return 'gone'
      throw error
    }
  }

  async rmdir(path: string): Promise<RmdirOutcome> {
    await this.refuseThroughSymlink(path)
    const target = await this.unfollowed(path)
    this.clearResolved()
    try {
      await rmdir(target)
      return 'removed'
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      // POSIX allows EEXIST for a directory that is not empty.
      if (code === 'ENOTEMPTY' || code === 'EEXIST') return 'not-empty'
      if (code === 'ENOENT') return 'gone'
      throw error
    }
  }

  /**
   * A reading program runs like any other here (the split matters to a dry run), but one with
   * no input, time limit or cancel signal by a plain spawn instead of execa (plain-query.ts).
   */
  async query(command: string, args: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    if (options.input !== undefined || options.timeoutMs !== undefined || options.signal !== undefined) return this.exec(command, args, options)
    const { file, argv, inChroot } = this.argvOf(command, args, options)
    const result = await plainQuery(file, argv, { env: { PATH: SAFE_PATH, LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8', ...options.env }, ...this.cwdOf(options) })
    this.checkFound(command, inChroot, result.notFound, result.exitCode, result.stderr)
    return { command, args: [...args], exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr, timedOut: false }
  }

  async exec(command: string, args: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    for (const folder of options.writesIn ?? []) await this.refuseThroughSymlink(folder, true)
    if (options.sandbox === true && options.inTarget === true) return this.execSandboxed(command, args, options)
    const { file, argv, inChroot } = this.argvOf(command, args, options)
    const { execa } = await import('execa')
    const result = await execa(file, argv, { ...spawnOptions(options), ...this.cwdOf(options) })
    const stderr = String(result.stderr ?? '')
    this.checkFound(command, inChroot, (result as { code?: string }).code === 'ENOENT', result.exitCode, stderr)
    if (options.signal?.aborted) throw new TwinSyncError('ABORTED', `Cancelled while running ${command}`)
    return {
      command,
      args: [...args],
      exitCode: result.exitCode ?? (result.timedOut ? 124 : 1),
      stdout: String(result.stdout ?? ''),
      stderr,
      timedOut: result.timedOut === true,
    }
  }

  /** Whether the sandbox can be made here: undefined when it can, else why not (asked once). */
  private sandboxProbe: Promise<string | undefined> | undefined

  /**
   * ExecOptions.sandbox: in the sandbox of checker-sandbox.ts. Whether one can be made is probed
   * once (it runs `true` in it); when it cannot, the program runs as without, saying why. A
   * program's own failure never counts as the sandbox's: it could fake one to be run unsandboxed.
   * With the probe, the scratch folders of killed runs go (sandbox-scratch.ts).
   */
  private async execSandboxed(command: string, args: readonly string[], options: ExecOptions): Promise<ExecResult> {
    if (this.sandboxProbe === undefined) sweepScratch()
    this.sandboxProbe ??= this.runSandboxed('true', [], { timeoutMs: 30_000 }).then(
      (r) => ('missing' in r ? r.missing : r.exitCode === 127 || r.exitCode === 0 ? undefined : (sandboxFailure(r.exitCode, r.stderr) ?? undefined)),
      (error: Error) => error.message,
    )
    const broken = await this.sandboxProbe
    if (broken !== undefined) return { ...(await this.exec(command, args, { ...options, sandbox: false })), unsandboxed: `the sandbox cannot be made here: ${broken}` }
    const result = await this.runSandboxed(command, args, options)
    if ('missing' in result) throw new TwinSyncError('COMMAND_NOT_FOUND', result.missing, { nextStep: 'Install util-linux (unshare, setpriv), then run the command again.' })
    this.checkFound(command, true, false, result.exitCode, result.stderr)
    if (options.signal?.aborted) throw new TwinSyncError('ABORTED', `Cancelled while running ${command}`)
    return result
  }

  private async runSandboxed(command: string, args: readonly string[], options: ExecOptions): Promise<ExecResult | { missing: string }> {
    const scratch = makeScratch()
    try {
      const argv = sandboxArgv(this.root, scratch, parseMountInfo(readFileSync('/proc/self/mountinfo', 'utf8')), command, args, machineInterfaces())
      const { execa } = await import('execa')
      // No cwd: a folder of the machine means nothing in the sandbox's chroot.
      const result = await execa(argv[0] as string, argv.slice(1), spawnOptions(options))
      if ((result as { code?: string }).code === 'ENOENT') return { missing: 'unshare is not installed on this machine' }
      return { command, args: [...args], exitCode: result.exitCode ?? (result.timedOut ? 124 : 1), stdout: String(result.stdout ?? ''), stderr: String(result.stderr ?? ''), timedOut: result.timedOut === true }
    } finally {
      // Only ever the empty mount point: the tmpfs was mounted in the sandbox's own namespace.
      try {
        rmdirSync(scratch)
      } catch {
        // left for a later run's sweep (sweepScratch)
      }
    }
  }

  /**
   * The folder a program starts in: the one asked; for one in the live target, `/` (chroot starts
   * one under a root in its own `/`); else TwinSync's own. Session 45:
   * a program in the live target started in the folder TwinSync was run from, so a `plans/`
   * command's relative path (`run: [sh, scripts/x.sh]`, `rm -rf cache`) named a file of wherever
   * the person typed `twinsync apply` (the twin itself when run from there, whose scripts/ a mirror
   * writes and no plan shows), and another one than `rehearse` ran in its chroot's `/`.
   */
  private cwdOf(options: ExecOptions): { cwd?: string } {
    if (options.cwd !== undefined) return { cwd: options.cwd }
    return options.inTarget === true && this.live ? { cwd: '/' } : {}
  }

  /** The program and its arguments as spawned: through chroot for one in the target under a root. */
  private argvOf(command: string, args: readonly string[], options: ExecOptions): { file: string; argv: string[]; inChroot: boolean } {
    const inChroot = options.inTarget === true && !this.live
    return { file: inChroot ? 'chroot' : command, argv: inChroot ? [this.root, command, ...args] : [...args], inChroot }
  }

  /** COMMAND_NOT_FOUND when the program (or, through chroot, the program in the target) is not there. */
  private checkFound(command: string, inChroot: boolean, notFound: boolean, exitCode: number | undefined, stderr: string): void {
    const missing = notFound || (inChroot && exitCode === 127 && /No such file or directory/.test(stderr))
    if (missing) {
      throw new TwinSyncError('COMMAND_NOT_FOUND', `${command} is not installed${inChroot ? ` in ${this.root}` : ''}`, {
        nextStep: `Install the package that provides ${command}, then run the command again.`,
        details: { command },
      })
    }
  }

  async which(command: string, options: Pick<ExecOptions, 'inTarget'> = {}): Promise<string | undefined> {
    if (command.includes('/')) return undefined
    for (const dir of SAFE_PATH.split(':')) {
      const candidate = `${dir}/${command}`
      if (options.inTarget === true) {
        const st = await this.stat(candidate)
        if (st?.type === 'file' && (st.mode & 0o111) !== 0) return candidate
      } else if (isExecutable(candidate)) {
        return candidate
      }
    }
    return undefined
  }

  /**
   * Extended attributes, then the mode again (an ACL moves the group bits), then capabilities, on
   * an entry whose owner is already right. `hostPath` is under the root; the tools run on the
   * host when it has them, inside the target otherwise.
   */
  private async finishAttributes(path: string, hostPath: string, options: WriteOptions): Promise<void> {
    const needsCurrent = options.xattrs !== undefined || options.capabilities === ''
    const current = needsCurrent
      ? (parseXattrDump((await this.attrTool('getfattr', (p) => ['-h', '-d', '-m', '-', '-e', 'base64', '--absolute-names', '--', p], hostPath)).stdout).values().next()
          .value ?? {})
      : {}
    if (options.xattrs !== undefined) {
      const wanted = options.xattrs
      for (const name of Object.keys(current)) {
        if (isManagedXattr(name) && !Object.hasOwn(wanted, name)) await this.attrTool('setfattr', (p) => ['-h', '-x', name, '--', p], hostPath)
      }
      for (const [name, value] of Object.entries(wanted)) {
        if (name === 'security.capability' && options.capabilities !== undefined) continue
        const bytes = xattrBytes(value)
        if (Object.hasOwn(current, name) && xattrBytes(current[name] as string).equals(bytes)) continue
        await this.attrTool('setfattr', (p) => ['-h', '-n', name, '-v', xattrValue(bytes), '--', p], hostPath)
      }
    }
    if (options.mode !== undefined) this.changeMode(path, hostPath, options.mode)
    if (options.capabilities === '') {
      if (Object.hasOwn(current, 'security.capability')) await this.attrTool('setfattr', (p) => ['-h', '-x', 'security.capability', '--', p], hostPath)
    } else if (options.capabilities !== undefined) {
      if (!isCapabilityText(options.capabilities)) {
        throw new TwinSyncError('XATTR_REFUSED', `Not a file capability text: ${JSON.stringify(options.capabilities)}`, {
          nextStep: 'Write capabilities as getcap prints them, for example cap_net_raw=ep.',
        })
      }
      // setcap reads the text from its standard input ("-"): nothing in it can pass for an option.
      await this.attrTool('setcap', (p) => ['-', p], hostPath, { input: `${options.capabilities}\n` })
    }
  }

  /** Run an attribute tool on a host path under the root: the host's copy, or the target's own. */
  private async attrTool(tool: string, args: (path: string) => string[], hostPath: string, how: { input?: string; query?: boolean; optional: true }): Promise<ExecResult | undefined>
  private async attrTool(tool: string, args: (path: string) => string[], hostPath: string, how?: { input?: string; query?: boolean }): Promise<ExecResult>
  private async attrTool(
    tool: string,
    args: (path: string) => string[],
    hostPath: string,
    how: { input?: string; query?: boolean; optional?: boolean } = {},
  ): Promise<ExecResult | undefined> {
    const input = how.input
    const onHost = (await this.which(tool)) !== undefined
    const inTarget = !onHost && !this.live && (await this.which(tool, { inTarget: true })) !== undefined
    if (!onHost && !inTarget) {
      if (how.optional === true) return undefined
      const pkg = tool === 'setcap' ? 'libcap2-bin' : 'attr'
      throw new TwinSyncError('COMMAND_NOT_FOUND', `${tool} is not installed (package ${pkg}): extended attributes and capabilities cannot be set`, {
        nextStep: `apt-get install ${pkg}`,
        details: { command: tool },
      })
    }
    const path = inTarget ? hostPath.slice(this.root.length) : hostPath
    const run = how.query === true ? this.query.bind(this) : this.exec.bind(this)
    const result = await run(tool, args(path), { inTarget, ...(input === undefined ? {} : { input }) })
    if (result.exitCode !== 0) {
      throw new TwinSyncError('COMMAND_FAILED', `${tool} failed on ${inTarget ? path : hostPath}: ${(result.stderr || result.stdout).trim()}`, {
        details: { command: tool, args: result.args, exitCode: result.exitCode },
      })
    }
    return result
  }

  /**
   * PATH_THROUGH_SYMLINK when a folder on the way to `path` (or `path` itself, `inclusive`) is a
   * symlink other than the distribution's own (linked-folder.ts): every changing call asks, so no
   * provider, built-in or not, writes, removes or chmods through one. Speed: one lstat a folder
   * of the path, from the kernel's caches; nothing next to the write itself.
   */
  private async refuseThroughSymlink(path: string, inclusive = false): Promise<void> {
    await refuseThroughLinkedFolder(this, path, { inclusive, made: (at) => this.madeLinks.has(at) })
  }

  /** The symlinks this port made (target paths, as walkLinks meets them): the twin's, never followed (walkLinks). */
  private readonly madeLinks = new Set<string>()

  /**
   * chmod of the entry at `hostPath` itself, never of what a symlink put in its place leads to
   * (chmod(2) follows one: a user who swaps her file for a link to /etc/shadow between TwinSync's
   * look and its chmod would get /etc/shadow's mode changed). Opened with O_NOFOLLOW (a symlink
   * there: ELOOP, PATH_THROUGH_SYMLINK), the descriptor's own path (/proc/self/fd) checked to be
   * the one asked (a folder on the way swapped for a link since the check: refused), then fchmod
   * on that descriptor, so what was checked is what changes. A device or socket (opening one
   * can act on it, or is refused) is lstat-ed and chmod-ed by its path. Speed: lstat, open,
   * readlink, fchmod and close took 60–64 µs a chmod where chmod by path took 15–16 µs (20,000
   * each, two runs, the 2-core test machine at load average 13): a plan's chmods are few.
   */
  private changeMode(path: string, hostPath: string, mode: number): void {
    // A mode can make a folder one that others can write: the walk's looks (realHostPath) are taken again.
    this.forgetLooks()
    const type = lstatSync(hostPath)
    if (type.isSymbolicLink()) throw symlinkItselfError(path)
    if (!type.isFile() && !type.isDirectory() && !type.isFIFO()) {
      chmodSync(hostPath, mode)
      return
    }
    let fd: number
    try {
      fd = openSync(hostPath, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK)
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (code === 'ELOOP') throw symlinkItselfError(path, 'became a symbolic link since it was looked at')
      // Not readable by this user (TwinSync as a user, a file of mode 0200): by its path, as it was just lstat-ed.
      if (code !== 'EACCES' && code !== 'EPERM') throw error
      chmodSync(hostPath, mode)
      return
    }
    try {
      this.checkOpened(path, fd)
      fchmodSync(fd, mode)
    } finally {
      closeSync(fd)
    }
  }

  /**
   * The one rule of reading (readFile, readTextIfExists): a descriptor of the regular file at
   * `path`, reached through folder links only root can have placed (linked-folder.ts's walkLinks,
   * the rule of writes too; ReadOptions.follow: its last name followed as well when it is such a
   * link), or READ_REFUSED. Opened with O_NOFOLLOW (a symlink as the last name: ELOOP, refused)
   * and O_NONBLOCK (a FIFO put there cannot hang the snapshot: refused by the descriptor's fstat,
   * as anything but a regular file is); the descriptor's own path (/proc/self/fd) is the expected
   * one (realHostPath), so a folder link a user placed on the way, there before or swapped in since the
   * provider looked, is refused too. The type and size are the descriptor's (fstat), never a
   * second look at the path: what is checked is what is read. ENOENT and other errors of the
   * open are thrown as they are.
   *
   * Speed: open(O_NOFOLLOW), fstat, readlink of /proc/self/fd/N, read, close: the figures are at
   * checkRead.
   */
  private async openRegular(path: string, options: ReadOptions): Promise<{ fd: number; size: number }> {
    const checked = checkTargetPath(path)
    let followed: string[] | undefined
    let fd: number | undefined
    if (options.follow === 'root-owned') {
      // Its folder walked as followRootOwned walks it; the last name opened as it is, and walked only when it is a link.
      followed = this.followFolder(checked)
      fd = followed === undefined ? undefined : openNoFollow(checked, this.hostPath(followed), true)
      if (fd === undefined) {
        followed = this.followRootOwned(checked)
        fd = openNoFollow(checked, this.hostPath(followed), false)
      }
    } else {
      fd = openNoFollow(checked, await this.unfollowed(checked), false)
    }
    try {
      const own = fstatData(fd)
      const type = typeOfMode(own.mode)
      // A folder: EISDIR, as read(2) says (what readFile always said).
      if (type === 'directory') throw Object.assign(new Error(`EISDIR: illegal operation on a directory, read '${checked}'`), { code: 'EISDIR', errno: -21, syscall: 'read', path: checked })
      if (type !== 'file') throw readRefused(checked, `is not a regular file (${type})`, { type })
      const expected = followed
      this.checkRead(checked, fd, (real) => (expected === undefined ? this.reachedAt(checked, real) : real === this.realOf(expected)))
      return { fd, size: own.size }
    } catch (error) {
      closeSync(fd)
      throw error
    }
  }

  /**
   * READ_REFUSED when the descriptor `fd` is not at the path that was to be read (`expected`, a
   * real host path: realHostPath, or where followRootOwned found the links lead), so any folder
   * link on the way other than those only root can place, there before or swapped in since, is
   * refused. Without /proc (a chroot without it) only O_NOFOLLOW's guarantee on the last name remains.
   *
   * Speed (session 14, the 2-core test machine at load average 9–10, 20,000 reads of a 200-byte
   * file, three runs): a read through the port took 13–48 µs before (open, fstat, read, close),
   * 31–46 µs with O_NOFOLLOW and this readlink; a following read of /etc/os-release (a link,
   * each name lstat-ed) 70–82 µs against 23–27 µs. A first snapshot of the minbase root reads 480
   * files through the port (about 10 ms more of a 1–1.5 s snapshot), an unchanged one 16: no
   * cheaper check (a path check only below folders other users own) is worth its second rule.
   * Session 15: the expected path is walked (walkLinks) from names lstat-ed once a run (looks);
   * session 16: its folder's walk kept for the run (reachedAt).
   */
  private checkRead(path: string, fd: number, expected: (real: string) => boolean): void {
    const real = descriptorPath(fd)
    if (real === undefined || expected(real)) return
    const rootPrefix = this.realRoot()
    throw readRefused(path, `was reached at ${real.startsWith(`${rootPrefix}/`) ? real.slice(rootPrefix.length) : real}: a folder on the way is (or became) a symbolic link`, { at: real })
  }

  /**
   * PATH_THROUGH_SYMLINK when the descriptor `fd`, opened for the change of `path` (a target
   * path: the entry itself, or a write's temp file beside it), is not where realHostPath says
   * it is: a folder on the way became a symlink a user could have placed between the check
   * (refuseThroughSymlink) and the open (or, with `placed`, the rename of a written file).
   * Without /proc (a chroot without it) only O_NOFOLLOW's guarantee on the last name remains.
   * Speed: one readlink of /proc/self/fd/N, 18–28 µs (20,000 calls, two runs, on the 2-core
   * test machine at load average 13); a write asks it twice, next to its fsync of milliseconds.
   */
  private checkOpened(path: string, fd: number, placed = false): void {
    const real = descriptorPath(fd)
    if (real === undefined || this.reachedAt(path, real)) return
    if (placed) {
      throw new TwinSyncError('PATH_THROUGH_SYMLINK', `${path} was written at ${real}: a folder on the way became a symbolic link while it was written`, {
        nextStep: `Someone who can write in a folder above ${path} swapped it for a link during the apply: look at ${real} and that folder, snapshot, and plan again.`,
        details: { path, at: real },
      })
    }
    throw symlinkItselfError(path, `was reached at ${real}: a folder on the way became a symbolic link since it was checked`)
  }

  /**
   * The real host path (as /proc/self/fd shows an opened descriptor) of `path`, a checked target
   * path, reached the one way TwinSync reads and writes: its folder links followed when only root
   * can have placed them (walkLinks; an absolute target inside the root under --root), its last
   * name as it is. Undefined when a folder link on the way is any other (nothing opened is where
   * it should be). For reads (checkRead) and writes (checkOpened) alike.
   */
  private realHostPath(path: string): string | undefined {
    const walk = walkLinksSync(path, (at, last) => this.look(at, last), false, (at) => this.madeLinks.has(at))
    if (walk.refused !== undefined || (walk.aboveRoot === true && !this.live)) return undefined
    return this.realOf(walk.parts)
  }

  /**
   * Whether `real` (where /proc/self/fd says a descriptor opened for `path`, a checked target
   * path, is) is realHostPath(path): first against what the walk of `path`'s folder gave this run
   * (realFolders), then, when that differs, against a walk made now (its folder looked at afresh,
   * as realHostPath does). walkLinks's walk of a path not following its last name is the walk of
   * its folder following its own, with the name added: the same names looked at, the same links
   * followed or refused. Accepting the kept answer is as sound as the looks it was walked from
   * (kept the same way): the descriptor is exactly where root's links led this run.
   *
   * Speed (issue 22, session 16): a read no longer walks its path (walkLinks, a generator and
   * a string a folder on the way) and lstat-s its folder again each time. The minbase root's
   * first snapshot (480 reads): statx calls 3,243 → 2,978, 971.7 → 935.3 M instructions
   * (callgrind, medians of 3 interleaved, V8's memory reducer off: under valgrind its timer
   * adds a full collection to some runs); a read of a 200-byte file under a root, best of
   * 8×5,000, load 7–10: /etc/app/deep/conf 63–89 → 45–46 µs, through root's /home link 78–99
   * → 27–52 µs.
   */
  private reachedAt(path: string, real: string): boolean {
    const slash = path.lastIndexOf('/')
    if (slash < 0 || slash === path.length - 1) return real === this.realHostPath(path)
    const folder = slash === 0 ? '/' : path.slice(0, slash)
    const name = path.slice(slash + 1)
    const kept = this.realFolders.get(folder)
    if (kept !== undefined && kept !== null && real === kept + name) return true
    const walk = walkLinksSync(folder, (at, last) => this.look(at, last), true, (at) => this.madeLinks.has(at))
    const now = walk.refused !== undefined || (walk.aboveRoot === true && !this.live) ? null : `${this.realOf(walk.parts)}${walk.parts.length === 0 ? '' : '/'}`
    this.realFolders.set(folder, now)
    return now !== null && real === now + name
  }

  /**
   * reachedAt's answer for a folder (a checked target path) this run: the real host path its
   * names lead to by walkLinks (following its own name), with a slash at its end; null when a
   * link on the way is refused. Cleared with the looks it was walked from (forgetLooks).
   */
  private readonly realFolders = new Map<string, string | null>()

  /** The looks (and what reachedAt worked out from them) taken again: after every change of this port. */
  private forgetLooks(): void {
    this.looks.clear()
    this.realFolders.clear()
    this.folderWalks.clear()
  }

  /** The real host path of names below the root. */
  private realOf(parts: readonly string[]): string {
    return `${this.realRoot()}/${parts.join('/')}`
  }

  /** The real host path of the root ("" for "/"), for comparing with what /proc says a descriptor is. */
  private realRoot(): string {
    this.realRootPath ??= realpathSync(this.root)
    return this.realRootPath === '/' ? '' : this.realRootPath
  }

  private realRootPath: string | undefined

  /**
   * The names below the root where `path` (a checked target path) leads when its symlinks, the
   * last name's too, are followed by walkLinks's rule (inside the root): each only when only
   * root can have placed it. READ_REFUSED for any other link on the way or at the end;
   * PATH_OUTSIDE_ROOT for a ".." above the root (under a root); PATH_INVALID for a loop. Each
   * name is lstat-ed here (the kernel's resolution of the running system would follow any
   * link), once a run (looks), which is sound because checkRead compares the descriptor's own
   * path with the result: a folder swapped since is refused there.
   */
  private followRootOwned(path: string): string[] {
    return this.followed(path, walkLinksSync(path, (at, last) => this.look(at, last), true, (at) => this.madeLinks.has(at)))
  }

  /** The names of a walk of `path` that followRootOwned accepts; its errors for one it refuses. */
  private followed(path: string, walk: LinkWalk): string[] {
    if (walk.aboveRoot === true && !this.live) throw this.outside(path)
    if (walk.refused?.loop === true) throw new TwinSyncError('PATH_INVALID', `Too many levels of symbolic links at ${walk.refused.folder}`)
    if (walk.refused !== undefined) throw readRefused(path, `is reached through ${walk.refused.folder}, a symbolic link in a folder other users can write`, { link: walk.refused.folder })
    return walk.parts
  }

  /**
   * followRootOwned's names of `path` (a checked target path) when its last name is no link:
   * its folder walked by walkLinks's rule as that walk goes through it (each folder name looked
   * at from `looks`), and the name added; its errors when the folder's walk is refused. undefined
   * for "/". walkLinks's walk of a path following its last name goes through the path's folder
   * exactly so, and adds a last name that is no link as it is: a file, a folder or nothing. The
   * caller opens that with O_NOFOLLOW and walks the whole path (followRootOwned) when the open
   * finds a link (ELOOP). A folder's walk made only of looks `looks` keeps (folders, links root
   * placed) is kept for the run beside them (folderWalks): walked again from them, it is the same.
   *
   * Speed (issue 22, session 53): a read that follows root's links (systemd's unit files, 181 of
   * them in a first snapshot of the minbase root) no longer walks every name of its path, nor
   * lstats its last name before the open: `UnitFileIndex.list` in a minbase `snapshot --init`
   * 90.2 → 82.8 M instructions with fstatData (callgrind between marks; 78.2 → 65.4 M less its
   * scavenges), walkLinks's generator 9.1 M of it; the run's statx calls 2,823 → 2,619.
   */
  private followFolder(path: string): string[] | undefined {
    if (path === '/') return undefined
    const slash = path.lastIndexOf('/')
    const folder = slash === 0 ? '/' : path.slice(0, slash)
    let walk = this.folderWalks.get(folder)
    if (walk === undefined) {
      let keep = true
      walk = walkLinksSync(
        folder,
        (at) => {
          const look = this.look(at, false)
          if (look === undefined || look.type === 'other' || (look.type === 'symlink' && !isTrustedOwner(look.uid))) keep = false
          return look
        },
        true,
        (at) => this.madeLinks.has(at),
      )
      if (keep) this.folderWalks.set(folder, walk)
    }
    return [...this.followed(path, walk), path.slice(slash + 1)]
  }

  /** followFolder's walks of folders, for the run: cleared with the looks they were walked from (forgetLooks). */
  private readonly folderWalks = new Map<string, LinkWalk>()

  /**
   * What walkLinks was told of each folder, and each link owned by root or TwinSync's own user (a
   * target path), this run. Cleared by every change of this port; another's since (a user's swap)
   * makes the descriptor's path differ, refused. Speed (session 15, reads of a 200-byte file under
   * a root, best of 8×5,000, two runs, 2-core test machine at load 8–10): /etc/app/deep/conf
   * 46–66 µs a read with them kept (45–47 µs before session 15, no walk), 88–94 µs walked afresh;
   * through root's /home link 78–82 µs kept, 157–175 µs afresh.
   */
  private readonly looks = new Map<string, Exclude<LinkLook, undefined>>()

  /**
   * lstat (and readlink) of a target path whose folders are real ones (walkLinks asks no other).
   * The `last` name of a walk is looked at afresh, as the open will find it.
   */
  private look(path: string, last: boolean): LinkLook {
    const cached = last ? undefined : this.looks.get(path)
    if (cached !== undefined) return cached
    const hostPath = path === '/' ? this.root : this.hostPath(path.split('/').filter(Boolean))
    let own: StatData | undefined
    try {
      // The root itself as the person named it (--root may be a link); every name below it as it is.
      own = path === '/' ? statData(hostPath) : lstatData(hostPath)
    } catch (error) {
      if (!isMissing(error)) throw error
    }
    if (own === undefined) return undefined
    const kind = own.mode & S_IFMT
    const type = kind === S_IFDIR ? 'directory' : kind === S_IFLNK ? 'symlink' : 'other'
    const look = { type, uid: own.uid, mode: own.mode, ...(type === 'symlink' ? { target: readlinkSync(hostPath) } : {}) } as const
    // A user's link is looked at again (she may make it a folder); a file is no folder on the way.
    if (type === 'directory' || (type === 'symlink' && isTrustedOwner(own.uid))) this.looks.set(path, look)
    return look
  }

  /** Host path of `path` with its parent resolved but the last component not followed. */
  private async unfollowed(path: string): Promise<string> {
    const checked = checkTargetPath(path)
    // The running system: the checked path is the host path. Under a root: the parent resolved (cached), the last name as it is.
    if (this.live) return checked
    if (checked === '/') return this.root
    const slash = checked.lastIndexOf('/')
    const dir = slash === 0 ? '/' : checked.slice(0, slash)
    let host = this.dirHostPaths.get(dir)
    if (host === undefined) {
      host = this.hostPath(this.resolveDir(dir))
      this.dirHostPaths.set(dir, host)
    }
    return `${host === '/' ? '' : host}/${checked.slice(slash + 1)}`
  }

  /**
   * What an lstat of `path` (at `hostPath`, its parent resolved, its last name not followed)
   * found; a directory is kept as resolved: its host path is that one, as resolving it would
   * find with one more lstat (a name that is no symlink is taken as it is).
   *
   * Speed (issue 22, session 9): a walk lstats each folder, then resolving the folder as the
   * parent of its first child lstat it again: the services root's files walk made 73
   * such calls more an unchanged snapshot (statx 1,636 → 1,563; resolveDir was 1.2 ms of its CPU profile).
   */
  private seen(path: string, hostPath: string, stat: FileStat | undefined): FileStat | undefined {
    if (stat?.type === 'directory' && !this.live) {
      const checked = checkTargetPath(path)
      if (checked !== '/' && !this.dirHostPaths.has(checked)) this.dirHostPaths.set(checked, hostPath)
    }
    return stat
  }

  private clearResolved(): void {
    this.dirCache.clear()
    this.dirHostPaths.clear()
    this.forgetLooks()
  }

  private hostPath(parts: readonly string[]): string {
    const rel = parts.join('/')
    if (this.live) return '/' + rel
    return rel.length === 0 ? this.root : `${this.root}/${rel}`
  }

  private resolveParts(path: string, followLast: boolean): string[] {
    // On the running system the kernel's own resolution is the right one and cannot escape.
    if (this.live) return targetPathParts(path)
    if (path === '/') return []
    const slash = path.lastIndexOf('/')
    const dir = this.resolveDir(slash === 0 ? '/' : path.slice(0, slash))
    return this.step(dir, path.slice(slash + 1), followLast, 0)
  }

  /** A directory (a checked target path) resolved from its parent's cached resolution: one lstat a new directory. */
  private resolveDir(dir: string): string[] {
    const cached = this.dirCache.get(dir)
    if (cached !== undefined) return cached
    let resolved: string[] = []
    if (dir !== '/') {
      const slash = dir.lastIndexOf('/')
      resolved = this.step(this.resolveDir(slash === 0 ? '/' : dir.slice(0, slash)), dir.slice(slash + 1), true, 0)
    }
    this.dirCache.set(dir, resolved)
    return resolved
  }

  private walk(base: string[], parts: readonly string[], hops: number): string[] {
    let current = base
    for (const part of parts) {
      if (part === '' || part === '.') continue
      if (part === '..') {
        if (current.length === 0) throw this.outside(parts.join('/'))
        current = current.slice(0, -1)
        continue
      }
      current = this.step(current, part, true, hops)
    }
    return current
  }

  private step(dir: string[], name: string, follow: boolean, hops: number): string[] {
    const candidate = [...dir, name]
    if (!follow) return candidate
    let target: string
    try {
      const own = lstatData(this.hostPath(candidate))
      if (own === undefined || (own.mode & S_IFMT) !== S_IFLNK) return candidate
      target = readlinkSync(this.hostPath(candidate))
    } catch (error) {
      if (isMissing(error)) return candidate
      throw error
    }
    if (hops >= MAX_SYMLINK_HOPS) {
      throw new TwinSyncError('PATH_INVALID', `Too many levels of symbolic links at /${candidate.join('/')}`)
    }
    return this.walk(target.startsWith('/') ? [] : dir, target.split('/'), hops + 1)
  }

  private outside(link: string): TwinSyncError {
    return new TwinSyncError('PATH_OUTSIDE_ROOT', `A symbolic link leads outside the target root ${this.root}: ${link}`, {
      nextStep: 'Fix or remove the symbolic link; TwinSync never follows a link out of the target root.',
      details: { root: this.root, link },
    })
  }
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code
  return code === 'ENOENT' || code === 'ENOTDIR'
}

/** access(X_OK), synchronously like the other metadata calls (the files provider asks for getcap and getfattr every run). */
function isExecutable(hostPath: string): boolean {
  try {
    accessSync(hostPath, constants.X_OK)
    return true
  } catch {
    return false
  }
}

/**
 * openRegular's open: O_NOFOLLOW (a symlink as the last name: ELOOP) and O_NONBLOCK. With
 * `linkAsUndefined` a link there is undefined (the caller walks it), otherwise READ_REFUSED.
 */
function openNoFollow(path: string, hostPath: string, linkAsUndefined: true): number | undefined
function openNoFollow(path: string, hostPath: string, linkAsUndefined: false): number
function openNoFollow(path: string, hostPath: string, linkAsUndefined: boolean): number | undefined {
  try {
    return openSync(hostPath, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ELOOP') {
      if (linkAsUndefined) return undefined
      throw readRefused(path, 'is a symbolic link (or became one since it was looked at)')
    }
    // A UNIX socket cannot be opened (ENXIO); a FIFO without a writer opens with O_NONBLOCK and is refused below.
    if (code === 'ENXIO') throw readRefused(path, 'is not a regular file (a socket)')
    throw error
  }
}

/** Where the descriptor `fd` is, as /proc/self/fd says; undefined without /proc (a chroot without it). */
function descriptorPath(fd: number): string | undefined {
  try {
    return readlinkSync(`/proc/self/fd/${fd}`)
  } catch {
    return undefined
  }
}

/** The target path of `hostPath`'s name in the folder of `path` (a write's temp file beside it). */
function besides(path: string, hostPath: string): string {
  const slash = path.lastIndexOf('/')
  return `${path.slice(0, slash)}/${basename(hostPath)}`
}

/** An opened file's whole content, read through libuv's thread pool (the event loop goes on meanwhile): one above SYNC_READ_MAX. */
function readLarge(fd: number): Promise<Buffer> {
  return new Promise((resolve, reject) => readFd(fd, (error, data) => (error === null ? resolve(data) : reject(error))))
}

function statOrUndefined(fn: (p: string) => StatData | undefined, hostPath: string): FileStat | undefined {
  let stats: StatData | undefined
  try {
    stats = fn(hostPath)
  } catch (error) {
    if (isMissing(error)) return undefined
    throw error
  }
  return stats === undefined ? undefined : fromStatData(stats)
}

/** A FileStat of stat-data.ts's numbers (speed: no Stats object, see there). */
function fromStatData(s: StatData): FileStat {
  return { type: typeOfMode(s.mode), mode: s.mode & 0o7777, uid: s.uid, gid: s.gid, size: s.size, mtimeMs: s.mtimeMs, ctimeMs: s.ctimeMs, ino: s.ino, dev: s.dev, nlink: s.nlink }
}

/** The file type of a mode's S_IFMT bits, as statType tells it from a Stats. */
function typeOfMode(mode: number): FileType {
  switch (mode & S_IFMT) {
    case S_IFREG:
      return 'file'
    case S_IFDIR:
      return 'directory'
    case S_IFLNK:
      return 'symlink'
    case 0o010000:
      return 'fifo'
    case 0o140000:
      return 'socket'
    case 0o020000:
      return 'char-device'
    case 0o060000:
      return 'block-device'
    default:
      return 'unknown'
  }
}

export function toFileStat(s: Stats): FileStat {
  return {
    type: statType(s),
    mode: s.mode & 0o7777,
    uid: s.uid,
    gid: s.gid,
    size: s.size,
    mtimeMs: s.mtimeMs,
    ctimeMs: s.ctimeMs,
    ino: s.ino,
    dev: s.dev,
    nlink: s.nlink,
  }
}

function statType(s: Stats | import('node:fs').Dirent): FileType {
  if (s.isFile()) return 'file'
  if (s.isDirectory()) return 'directory'
  if (s.isSymbolicLink()) return 'symlink'
  if (s.isFIFO()) return 'fifo'
  if (s.isSocket()) return 'socket'
  if (s.isCharacterDevice()) return 'char-device'
  if (s.isBlockDevice()) return 'block-device'
  return 'unknown'
}

function direntType(e: import('node:fs').Dirent): FileType {
  return statType(e)
}

/**
 * The extended attributes of the regular file at `hostPath` (ACLs, capabilities, `user.*`,
 * `security.*`), put on the temp file open at `tempFd`, then `mode` again (WriteOptions.keepAttributes):
 * for a rewrite when getfattr is installed nowhere, so nobody knows what the file carries.
 * coreutils' cp (Essential: on every Debian) copies them, `--attributes-only`, from the file as
 * opened here (its standard input) to the temp file as opened by the write (its fd 3), both
 * through /proc/self/fd: no name is looked up again, so a file swapped for a symlink since
 * cannot lend the new file another file's capabilities. Nothing at the path, or not a regular
 * file: nothing to keep.
 */
async function keepAttributesOf(path: string, hostPath: string, tempFd: number, mode: number): Promise<void> {
  let liveFd: number
  try {
    liveFd = openSync(hostPath, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY)
  } catch {
    return
  }
  try {
    if (!fstatSync(liveFd).isFile()) return
    const { spawn } = await import('node:child_process')
    const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((done, fail) => {
      const child = spawn('cp', ['--attributes-only', '--preserve=mode,xattr', '--', '/proc/self/fd/0', '/proc/self/fd/3'], {
        stdio: [liveFd, 'ignore', 'pipe', tempFd],
        env: { PATH: SAFE_PATH, LC_ALL: 'C.UTF-8' },
      })
      let err = ''
      child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (err += chunk))
      child.on('error', fail)
      child.on('close', (exit) => done({ code: exit, stderr: err }))
    })
    if (code !== 0) {
      throw new TwinSyncError('COMMAND_FAILED', `cp could not carry the extended attributes of ${path} to its new content: ${stderr.trim() || `exit ${code}`}; the file is unchanged`, {
        nextStep: 'Install the attr package (getfattr), so the twin records the attributes and the write sets them itself.',
        details: { command: 'cp', exitCode: code },
      })
    }
    // cp gave the temp file the old mode (with the ACL): the wanted one again, the ACL's mask with it.
    fchmodSync(tempFd, mode)
  } finally {
    closeSync(liveFd)
  }
}

/**
 * execa's options for a program the host port runs, sandboxed or not: no shell, a clean
 * environment, stdin closed unless given, the output as text, and its own process group (a
 * Ctrl-C in the terminal reaches TwinSync, which decides what to stop through the signal, not
 * every program it started).
 */
function spawnOptions(options: ExecOptions) {
  return {
    reject: false,
    shell: false,
    extendEnv: false,
    env: { PATH: SAFE_PATH, LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8', ...options.env },
    ...(options.input === undefined ? { stdin: 'ignore' as const } : { input: options.input }),
    ...(options.timeoutMs === undefined ? {} : { timeout: options.timeoutMs }),
    ...(options.signal === undefined ? {} : { cancelSignal: options.signal }),
    stripFinalNewline: false,
    encoding: 'utf8',
    detached: true,
  } as const
}

/**
 * The machine's network interfaces, for the checker sandbox to show by name: every one in
 * /sys/class/net (one without an address too: keepalived's VRRP may run on it), with the
 * addresses Node sees on it.
 */
function machineInterfaces(): NetworkInterface[] {
  let names: string[]
  try {
    names = readdirSync('/sys/class/net')
  } catch {
    names = []
  }
  const known = networkInterfaces()
  return names.map((name) => ({ name, addresses: (known[name] ?? []).flatMap((a) => (a.cidr === null ? [] : [a.cidr])) }))
}
