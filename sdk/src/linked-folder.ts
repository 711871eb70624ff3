import type { Diagnostic } from './diagnostic.js'
import { errorDiagnostic } from './diagnostic-codes.js'
import { isTwinSyncError, TwinSyncError } from './errors.js'
import type { HostReader, ReadOptions } from './host.js'
import { checkTargetPath } from './target-path.js'
import { bareTwinsyncLine, type TwinsyncLine } from './command-line.js'

/**
 * The folders a Debian system itself makes symlinks of, with the targets it gives them (merged
 * /usr, /var/run and /var/lock): followed wherever they are, whoever owns them (a root another
 * user unpacked). Any other folder link is followed only when root placed it (walkLinks).
 */
const DISTRIBUTION_LINKS: ReadonlyMap<string, readonly string[]> = new Map([
  ['/bin', ['usr/bin', '/usr/bin']],
  ['/sbin', ['usr/sbin', '/usr/sbin']],
  ['/lib', ['usr/lib', '/usr/lib']],
  ['/lib32', ['usr/lib32', '/usr/lib32']],
  ['/lib64', ['usr/lib64', '/usr/lib64']],
  ['/libx32', ['usr/libx32', '/usr/libx32']],
  ['/libo32', ['usr/libo32', '/usr/libo32']],
  ['/var/run', ['/run', '../run']],
  ['/var/lock', ['/run/lock', '../run/lock']],
])

/** The kernel's own limit of links followed in one path. */
const MAX_SYMLINK_HOPS = 40

export interface LinkedFolder {
  /** The first folder on the way that is a symlink not to follow (a target path). */
  folder: string
  /** Where it points, as readlink gives it. */
  target: string
}

/** What walkLinks needs to know of one name: undefined when it does not exist. */
export type LinkLook =
  | undefined
  | {
      /** 'other': a file, device, … (nothing below it). */
      type: 'directory' | 'symlink' | 'other'
      uid: number
      /** Permission bits (the file type bits may be there too). */
      mode: number
      /** A symlink's target, as readlink gives it. */
      target?: string
    }

/** A name walkLinks asks about: its target path, and whether it is the last the walk goes to (no name follows it). */
export interface LinkAsk {
  path: string
  last: boolean
}

/** Where walkLinks found a path leads. */
export interface LinkWalk {
  /** The names below the root it leads to: the links followed, the rest as asked from where the walk ended. */
  parts: string[]
  /** The first link on the way that is not followed (a user could have placed or can swap it); the walk ended there. */
  refused?: LinkedFolder & { loop?: boolean }
  /** The walk ended at a name that does not exist, or that is no folder (nothing below it). */
  ended?: 'missing' | 'not-folder'
  /** A ".." of a link's target climbed above the root (stayed at it, as at the running system's "/"). */
  aboveRoot?: boolean
}

/**
 * The one rule of folder links, for reads and writes alike: the walk from the root to `path` (a
 * target path) that follows a symlinked folder only when only root can have placed it: the link
 * owned by root (or TwinSync's own user), in a folder reached through folders no other user can
 * write (isTrustedFolder, each from the root down; an absolute target starts again at the root,
 * inside it under --root), or one of the distribution's own (DISTRIBUTION_LINKS). Any other link
 * (a user's own, one in her home or in /tmp, one below such a folder) ends the walk (`refused`).
 * The last name is never followed unless `followLast` (a folder a program writes in, a read that
 * follows the system's own links): a link there is the entry itself. A ".." goes up from the
 * folder reached (the kernel's way, not the text's). A link TwinSync itself made in this run
 * (`made`, by where the walk meets it) is the twin's, not root's: never followed, so a plan that
 * makes a folder a link and writes below it is refused at the write.
 *
 * A generator of the target paths to lstat (each answered with a LinkLook): the same walk serves
 * the host port's synchronous checks (LocalHost: where a descriptor must be) and the readers that
 * answer asynchronously (the planner, a dry run). Only lstat and readlink: nothing is followed by
 * the kernel but the folders already walked; a caller that then opens the path checks where the
 * descriptor really is (/proc/self/fd), so a link swapped in since is refused there.
 */
export function* walkLinks(path: string, followLast = false, made?: (at: string) => boolean): Generator<LinkAsk, LinkWalk, LinkLook> {
  const queue = checkTargetPath(path).split('/').filter(Boolean)
  const last = followLast ? undefined : queue.pop()
  const root = yield { path: '/', last: false }
  const rootTrusted = root !== undefined && isTrustedFolder(root)
  // trust[i]: every folder from the root down to parts[i] is one no other user can write.
  const parts: string[] = []
  const trust: boolean[] = []
  const trusted = () => (trust.length === 0 ? rootTrusted : (trust[trust.length - 1] as boolean))
  const rest = (from: readonly string[]) => [...parts, ...from, ...(last === undefined ? [] : [last])]
  let hops = 0
  let aboveRoot = false
  while (queue.length > 0) {
    const name = queue.shift() as string
    if (name === '' || name === '.') continue
    if (name === '..') {
      if (parts.length === 0) aboveRoot = true
      parts.pop()
      trust.pop()
      continue
    }
    const at = `/${[...parts, name].join('/')}`
    const look = yield { path: at, last: queue.length === 0 }
    if (look === undefined || look.type === 'other') return { parts: rest([name, ...queue]), ended: look === undefined ? 'missing' : 'not-folder', ...(aboveRoot ? { aboveRoot } : {}) }
    if (look.type === 'directory') {
      trust.push(trusted() && isTrustedFolder(look))
      parts.push(name)
      continue
    }
    const target = look.target ?? ''
    const rootPlaced = trusted() && isTrustedOwner(look.uid) && made?.(at) !== true
    if ((!rootPlaced && DISTRIBUTION_LINKS.get(at)?.includes(target) !== true) || hops >= MAX_SYMLINK_HOPS) {
      return { parts: rest([name, ...queue]), refused: { folder: at, target, ...(hops >= MAX_SYMLINK_HOPS ? { loop: true } : {}) }, ...(aboveRoot ? { aboveRoot } : {}) }
    }
    hops++
    if (target.startsWith('/')) {
      parts.length = 0
      trust.length = 0
    }
    queue.unshift(...target.split('/'))
  }
  return { parts: rest([]), ...(aboveRoot ? { aboveRoot } : {}) }
}

/** walkLinks answered by a synchronous lstat (`look`). */
export function walkLinksSync(path: string, look: (path: string, last: boolean) => LinkLook, followLast = false, made?: (at: string) => boolean): LinkWalk {
  const walk = walkLinks(path, followLast, made)
  let step = walk.next()
  while (step.done !== true) step = walk.next(look(step.value.path, step.value.last))
  return step.value
}

/** walkLinks answered by a reader's lstat and readlink. */
export async function walkLinksOn(host: Pick<HostReader, 'lstat' | 'readlink'>, path: string, followLast = false, made?: (at: string) => boolean): Promise<LinkWalk> {
  const walk = walkLinks(path, followLast, made)
  let step = walk.next()
  while (step.done !== true) {
    const at = step.value.path
    const stat = await host.lstat(at)
    const type = stat === undefined ? undefined : stat.type === 'directory' || stat.type === 'symlink' ? stat.type : 'other'
    step = walk.next(stat === undefined || type === undefined ? undefined : { type, uid: stat.uid, mode: stat.mode, ...(type === 'symlink' ? { target: await host.readlink(at) } : {}) })
  }
  return step.value
}

/** A folder only root (or TwinSync's own user) can change: owned by one of them, not writable by group or others. */
export function isTrustedFolder(s: { uid: number; mode: number }): boolean {
  return isTrustedOwner(s.uid) && (s.mode & 0o022) === 0
}

const OWN_UID = typeof process.geteuid === 'function' ? process.geteuid() : 0

/** Root, or the user TwinSync runs as. */
export function isTrustedOwner(uid: number): boolean {
  return uid === 0 || uid === OWN_UID
}

export interface LinkedFolderOptions {
  /** Down to `path` itself, followed when it is a link root placed (a folder a program writes in). */
  inclusive?: boolean
  /** Whether TwinSync made the link at this (walked) target path in this run (walkLinks). */
  made?: (at: string) => boolean
}

/**
 * The first folder on the way to `path` (from `/` down to its parent; with `inclusive`, down to
 * `path` itself) that is a symlink not to follow by walkLinks's rule (one a user could have
 * placed or can swap); undefined when there is none. A folder that does not exist ends the walk
 * (what is made below it is made as a real folder). The one rule of where a change may act:
 * the host port refuses every changing call it finds one for (PATH_THROUGH_SYMLINK), and the
 * planner leaves such a change out.
 */
export async function linkedFolderOn(host: Pick<HostReader, 'lstat' | 'readlink'>, path: string, options: LinkedFolderOptions = {}): Promise<LinkedFolder | undefined> {
  const refused = (await walkLinksOn(host, path, options.inclusive === true, options.made)).refused
  return refused === undefined ? undefined : { folder: refused.folder, target: refused.target }
}

/**
 * The host port's rule, for every port that changes the target, real or dry run (LocalHost,
 * RecordingHost): throws PATH_THROUGH_SYMLINK when a change at `path` would go through a
 * symlinked folder a user could have placed (linkedFolderOn; `inclusive` for a folder a program writes in, ExecOptions.writesIn).
 * `host` answers as the target is at that moment (a dry run: with its own recorded changes).
 */
export async function refuseThroughLinkedFolder(host: Pick<HostReader, 'lstat' | 'readlink'>, path: string, options: LinkedFolderOptions = {}): Promise<void> {
  const found = await linkedFolderOn(host, path, options)
  if (found !== undefined) throw throughSymlinkError(path, found)
}

/**
 * PATH_THROUGH_SYMLINK for a change of `path` whose final name is a symlink (or became one since
 * it was looked at): chmod(2) and setcap follow it, so TwinSync never asks them there.
 */
export function symlinkItselfError(path: string, detail = 'is a symbolic link'): TwinSyncError {
  return new TwinSyncError('PATH_THROUGH_SYMLINK', `${path} ${detail}: TwinSync changes nothing through a symlink; nothing was changed`, {
    nextStep: `Something replaced ${path} since it was looked at (a symlink in its place, or a folder above it made one). Check who can write in its folder, snapshot, and plan again.`,
    details: { path },
  })
}

/** PATH_THROUGH_SYMLINK for a change at `path` that would go through `found`. */
export function throughSymlinkError(path: string, found: LinkedFolder): TwinSyncError {
  return new TwinSyncError('PATH_THROUGH_SYMLINK', `${path} is below ${found.folder}, a symbolic link (to ${found.target}): TwinSync changes nothing through a symlinked folder a user could have placed or can swap; nothing was written there`, {
    nextStep: `A snapshot never follows that link either. If ${found.folder} should be a real folder, make it one (a directory entry in the twin's system/files/manifest.json, or by hand) and plan again; if the link is meant (a folder on another disk), have root own it, in folders only root can write (TwinSync follows such a link), or use a bind mount instead.`,
    details: { path, folder: found.folder, target: found.target },
  })
}

/**
 * READ_REFUSED: what the host port's read met at `path` instead of a regular file at that very
 * path (`what`: "is a symbolic link…", "was reached at /etc/x: a folder on the way…"); nothing of
 * it was read.
 */
export function readRefused(path: string, what: string, details: Record<string, unknown> = {}): TwinSyncError {
  return new TwinSyncError('READ_REFUSED', `${path} ${what}: TwinSync reads nothing through a link, and nothing of it was read`, {
    nextStep: `Look at ${path} and the folders above it (\`ls -ld\`): whoever can write there replaced it, or a folder on the way, since it was looked at. Snapshot again; a link there is recorded as a link.`,
    details: { path, what, ...details },
  })
}

/**
 * readTextIfExists for a provider that lists what the port would not read instead of failing its
 * collect: the text (undefined when missing), or undefined after `report` is given the reason to
 * list ("not read: it is a symbolic link…") when the read was refused (READ_REFUSED). Any other
 * error is thrown.
 */
export async function readTextOrReport(host: Pick<HostReader, 'readTextIfExists'>, path: string, report: (reason: string) => void, options?: ReadOptions): Promise<string | undefined> {
  try {
    return await host.readTextIfExists(path, options)
  } catch (error) {
    const refused = readRefusedReason(error)
    if (refused === undefined) throw error
    report(`not read: it ${refused}`)
    return undefined
  }
}

/** One decoder for every strict read (not streaming: each decode stands alone, a failed one included). */
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/** The bytes as UTF-8 text, or undefined when they are not UTF-8 (never decoded lossily; a byte order mark is kept). */
export function strictUtf8(bytes: Uint8Array): string | undefined {
  try {
    return STRICT_UTF8.decode(bytes)
  } catch {
    return undefined
  }
}

/** What readUtf8OrReport reports of a file that is not UTF-8. */
export const NOT_UTF8_REASON = 'it is not UTF-8 text (decoded, an apply would write other bytes back)'

/**
 * A load's refusal of a startup file in the twin that is not UTF-8 (a user's crontab, an autostart
 * entry, rc.local: a hand edit or a pull; a collect never writes one), never decoded lossily: an
 * apply writes the text back whole, and U+FFFD in place of its bytes is a change no plan showed
 * (session 40). TWIN_INVALID, an error: nothing of `provider` is planned, its edits stay pending.
 * `line`: the run's `twinsync ARGS` lines (twinsyncLines(ctx)); without it, the line names no run.
 */
export function startupTextNotUtf8(path: string, provider: string, line: TwinsyncLine = bareTwinsyncLine): Diagnostic {
  return errorDiagnostic('TWIN_INVALID', `${path} is not UTF-8 text; nothing of ${provider} is planned from the twin until it is`, {
    path,
    provider,
    detail: `Save ${path} as UTF-8 text, or go back to the last snapshot's with \`${line(['discard', 'startup'])}\` (drops every pending cron and autostart edit).`,
  })
}

/**
 * readTextOrReport for a file a provider mirrors as text and writes back whole from the twin (a
 * crontab, an autostart entry): a file that is not UTF-8 is reported too (NOT_UTF8_REASON) and
 * not read into the twin. Session 40: decoded lossily, its bytes became U+FFFD in the twin, and
 * an apply of any edit of the same file wrote them back so, a change no plan showed (an
 * autostart entry's Name=Caf\xe9 became Name=Caf\uFFFD on the machine).
 */
export async function readUtf8OrReport(host: Pick<HostReader, 'readFile'>, path: string, report: (reason: string) => void, options?: ReadOptions): Promise<string | undefined> {
  let bytes: Uint8Array
  try {
    bytes = await host.readFile(path, options)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined
    const refused = readRefusedReason(error)
    if (refused === undefined) throw error
    report(`not read: it ${refused}`)
    return undefined
  }
  const text = strictUtf8(bytes)
  if (text === undefined) report(NOT_UTF8_REASON)
  return text
}

/** For a provider that reports a path it could not read: READ_REFUSED's `what` ("is a symbolic link…"), undefined for any other error. */
export function readRefusedReason(error: unknown): string | undefined {
  if (!isTwinSyncError(error) || error.code !== 'READ_REFUSED') return undefined
  const what = error.details?.what
  return typeof what === 'string' ? what : error.message
}
