/**
 * The host port: every read, write and command a provider performs goes through it, so the same
 * provider code runs against `/`, against a mounted root file system, in dry-run, or against a
 * fake in unit tests. Paths given to it are target paths ("/etc/hosts"); the port maps them under
 * the target root and refuses any path, or symlink on the way, that would lead outside it.
 */
export type FileType = 'file' | 'directory' | 'symlink' | 'fifo' | 'socket' | 'char-device' | 'block-device' | 'unknown'

export interface FileStat {
  type: FileType
  /** Permission bits including setuid, setgid and sticky (mode & 0o7777). */
  mode: number
  uid: number
  gid: number
  size: number
  mtimeMs: number
  ctimeMs: number
  ino: number
  dev: number
  nlink: number
}

export interface DirEntry {
  name: string
  type: FileType
}

export interface WriteOptions {
  mode?: number
  uid?: number
  gid?: number
  /**
   * The extended attributes the entry ends with, name → value as `getfattr -e base64` prints it
   * ("0s…"; "0x…" hex and text are read too), POSIX ACLs as `system.posix_acl_access` and
   * `system.posix_acl_default`. When given, every attribute outside `security.*` that is not
   * listed is removed (an ACL inherited from the directory's default ACL, a stale `user.*`);
   * `security.*` names are set when listed, other labels (SELinux, IMA) are left as they are.
   * Which names a twin may ask for is the provider's decision, not the port's.
   */
  xattrs?: Readonly<Record<string, string>>
  /**
   * File capabilities as getcap prints them ("cap_net_raw=ep"); "" removes them. A write and a
   * chown drop a file's capabilities: pass them to keep them.
   */
  capabilities?: string
  /**
   * A write over a regular file whose extended attributes nobody could read (getfattr is
   * installed in neither the host nor the target): the new content takes the old file's as they
   * are, ACLs, capabilities, `user.*` and `security.*` alike, so a rewrite loses none of them;
   * `mode` is set again after. Ignored when `xattrs` or `capabilities` is given, or when no
   * regular file is at the path.
   */
  keepAttributes?: boolean
  /**
   * The modification time the entry ends with, set last (a symlink's own, not its target's).
   * For putting an entry back exactly as it was: a service that read it at start is then not
   * taken to run an older configuration (the systemd provider's config drift compares mtimes).
   */
  mtimeMs?: number
}

export interface ExecOptions {
  /** Written to the command's standard input. */
  input?: string | Uint8Array
  /** Extra environment; the command gets a minimal, predictable environment otherwise. */
  env?: Record<string, string>
  cwd?: string
  timeoutMs?: number
  /**
   * Run the program inside the target (chroot into the root when it is not "/"), rather than on
   * the host with root-aware flags such as `dpkg --root`.
   */
  inTarget?: boolean
  /**
   * With inTarget: the program reads untrusted input (a configuration the twin brings) and runs
   * in a sandbox (see checker-sandbox.ts): no network, nothing it writes lasts. When the host
   * cannot make one, it runs as without and the result says why (`unsandboxed`).
   */
  sandbox?: boolean
  signal?: AbortSignal
  /**
   * For a program that changes files (exec only): the folders it writes in (`crontab` in
   * /var/spool/cron/crontabs). Refused before it runs (PATH_THROUGH_SYMLINK) when one of them, or
   * a folder above it, is a symlink other than the distribution's own, as every write of the
   * port itself is: a program that follows the link would write wherever it leads.
   */
  writesIn?: readonly string[]
}

export interface ExecResult {
  command: string
  args: string[]
  exitCode: number
  stdout: string
  stderr: string
  timedOut: boolean
  /** ExecOptions.sandbox was asked for and could not be made: why (the program ran without it). */
  unsandboxed?: string
}

/** How readFile and readTextIfExists read. */
export interface ReadOptions {
  /**
   * 'root-owned': symlinks on the way and at the end are followed (inside the root), each only
   * when it sits in a folder no other user can write, below folders no other user can write
   * (owned by root or by TwinSync's own user, not writable by group or others): the system's
   * own links, which only root can place. A link in a user's folder (or below one) is refused
   * (READ_REFUSED). For system files that are links by design; a provider that mirrors a path
   * as it is (a symlink as a symlink) reads without it.
   */
  follow?: 'root-owned'
}

/** What a file or directory carries besides owner and mode. */
export interface EntryAttributes {
  /**
   * Extended attributes, values as `getfattr -e base64` prints them ("0s…"), POSIX ACLs as
   * `system.posix_acl_access`/`system.posix_acl_default`. Without `security.capability` when
   * `capabilities` says it in words.
   */
  xattrs: Record<string, string>
  /** File capabilities as getcap prints them ("cap_net_raw=ep"); absent when there are none or getcap is not installed. */
  capabilities?: string
}

/**
 * The calls that only look at the target: files, and programs that only read (`dpkg-query`,
 * `systemctl list-units`, `getcap`). Collecting needs nothing else; a dry run passes these
 * through to the real target.
 */
export interface HostReader {
  /** The target root on the host, absolute ("/" for the running system). */
  readonly root: string
  /** True when the target is the running system (root "/"), so runtime facts are its own. */
  readonly live: boolean
  /** Host path for a target path, with symlinks on the way resolved inside the root. */
  resolve(path: string): Promise<string>
  /**
   * The content of the regular file at exactly `path`, never through a symlink: when its last
   * name is (or became, since a provider looked) a symlink, a FIFO, a socket or a device, or a
   * folder on the way is (or became) a symlink other than the distribution's own (merged /usr,
   * /var/run, /var/lock), nothing is read and READ_REFUSED is thrown. A snapshot runs as root and
   * reads users' files: a user who swaps her file for a link to /etc/shadow between the look and
   * the read must not get root's file read as hers. `follow: 'root-owned'` (ReadOptions) for a
   * system file that is a link by design (/etc/os-release, /etc/resolv.conf, /proc/self/…).
   */
  readFile(path: string, options?: ReadOptions): Promise<Buffer>
  /** The file as UTF-8 text (read as readFile reads it), or undefined when it does not exist. */
  readTextIfExists(path: string, options?: ReadOptions): Promise<string | undefined>
  /** lstat: does not follow a final symlink. Undefined when the path does not exist. */
  lstat(path: string): Promise<FileStat | undefined>
  /** stat: follows symlinks, inside the root. Undefined when the path does not exist. */
  stat(path: string): Promise<FileStat | undefined>
  readdir(path: string): Promise<DirEntry[]>
  readlink(path: string): Promise<string>
  /**
   * Run a program that only reads the target, never changes it (argument list, never a shell).
   * Non-zero exit is returned, not thrown. A dry run runs these for real.
   */
  query(command: string, args: readonly string[], options?: ExecOptions): Promise<ExecResult>
  /**
   * Extended attributes and file capabilities of one file or directory (not followed if it is a
   * symlink), read with getfattr and getcap (the host's, or the target's own). Undefined when
   * getfattr is installed in neither: then nothing is known about them.
   */
  readAttributes(path: string): Promise<EntryAttributes | undefined>
  /** Is a program available (on the host's PATH, or inside the target with inTarget)? */
  which(command: string, options?: Pick<ExecOptions, 'inTarget'>): Promise<string | undefined>
}

/** What `rmdir` did: the directory is removed, it was not empty (and is kept), or nothing was there. */
export type RmdirOutcome = 'removed' | 'not-empty' | 'gone'

/** What `unlink` did: the entry is removed, a directory is there (and is kept), or nothing was there. */
export type UnlinkOutcome = 'removed' | 'directory' | 'gone'

/**
 * The calls that change the target. A dry run records them instead (RecordingHost). The real
 * port refuses every one of them below a symlinked folder (PATH_THROUGH_SYMLINK, linked-folder.ts):
 * a change never lands where a link leads.
 */
export interface HostChanger {
  writeFileAtomic(path: string, data: string | Uint8Array, options?: WriteOptions): Promise<void>
  mkdir(path: string, options?: WriteOptions): Promise<void>
  symlink(target: string, path: string, options?: Pick<WriteOptions, 'uid' | 'gid'>): Promise<void>
  chmod(path: string, mode: number): Promise<void>
  /**
   * Owner, mode, extended attributes and capabilities of an existing entry, as one step, in the
   * order that keeps them all: owner (which clears setuid, setgid and capabilities), extended
   * attributes (an ACL moves the group bits), mode (the one given, or the entry's own from
   * before), capabilities. Only what is given changes; a symlink only changes owner.
   * writeFileAtomic gives a new file the same metadata, in the same order, before its rename.
   */
  setAttributes(path: string, options: WriteOptions): Promise<void>
  /** lchown: changes the link itself for a symlink. */
  chown(path: string, uid: number, gid: number): Promise<void>
  remove(path: string): Promise<void>
  /**
   * Remove an empty directory, never anything in it (rmdir(2); a symlink is not followed, and
   * is refused like any other non-directory). 'not-empty' when it holds anything, so a caller
   * that emptied it can tell that something arrived meanwhile and keep it (the files provider's
   * FILES_DELETE_KEPT); 'gone' when nothing is there. Any other failure throws.
   */
  rmdir(path: string): Promise<RmdirOutcome>
  /**
   * Remove one entry that is not a directory (a file, a symlink itself, a fifo…), never a folder
   * and what it holds (unlink(2)): 'directory' when a folder is there (kept), so a caller that
   * checked a file can tell that something was put in its place and keep it; 'gone' when
   * nothing is there. Any other failure throws.
   */
  unlink(path: string): Promise<UnlinkOutcome>
  /**
   * Run a program that may change the target (apt-get, systemctl enable, crontab), with an
   * argument list, never through a shell. Non-zero exit is returned, not thrown. Programs that
   * only read go through `query`.
   */
  exec(command: string, args: readonly string[], options?: ExecOptions): Promise<ExecResult>
}

/** The whole port: reading and changing calls. Providers get it in their context. */
export interface HostPort extends HostReader, HostChanger {}
