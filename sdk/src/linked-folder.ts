import { isTwinSyncError, TwinSyncError } from './errors.js'
import type { HostReader } from './host.js'
import { checkTargetPath } from './target-path.js'

/**
 * The folders a Debian system itself makes symlinks of, with the targets it gives them (merged
 * /usr, /var/run and /var/lock): the only symlinked folders a change may go through. Any other
 * link is refused, wherever it came from: a pulled twin can make one (the files provider turns a
 * folder into a link), and so can a user in a home of their own (`~/.config -> /root/.config`).
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

export interface LinkedFolder {
  /** The first folder on the way that is a symlink (a target path). */
  folder: string
  /** Where it points, as readlink gives it. */
  target: string
}

/**
 * The first folder on the way to `path` (from `/` down to its parent; with `inclusive`, down to
 * `path` itself) that is a symlink on the machine, other than the distribution's own
 * (DISTRIBUTION_LINKS, followed to their real place); undefined when there is none. lstat only:
 * nothing is followed. A folder that does not exist ends the walk (what is made below it is
 * made as a real folder). The one rule of where a change may act: the host port refuses every
 * changing call it finds one for (PATH_THROUGH_SYMLINK), and the planner leaves such a change out.
 */
export async function linkedFolderOn(host: Pick<HostReader, 'lstat' | 'readlink'>, path: string, options: { inclusive?: boolean } = {}): Promise<LinkedFolder | undefined> {
  let parts = checkTargetPath(path).split('/').filter(Boolean)
  let end = options.inclusive === true ? parts.length : parts.length - 1
  for (let i = 0, hops = 0; i < end; i++) {
    const folder = '/' + parts.slice(0, i + 1).join('/')
    const stat = await host.lstat(folder)
    if (stat === undefined || stat.type !== 'symlink') {
      if (stat?.type === 'directory') continue
      return undefined
    }
    const target = await host.readlink(folder)
    if (hops < 4 && DISTRIBUTION_LINKS.get(folder)?.includes(target) === true) {
      // /lib/systemd/x is /usr/lib/systemd/x: the walk goes on from the real folder.
      const real: string[] = []
      for (const part of (target.startsWith('/') ? target : `${folder.slice(0, folder.lastIndexOf('/'))}/${target}`).split('/')) {
        if (part === '..') real.pop()
        else if (part !== '' && part !== '.') real.push(part)
      }
      parts = [...real, ...parts.slice(i + 1)]
      end = parts.length - (options.inclusive === true ? 0 : 1)
      i = -1
      hops++
      continue
    }
    return { folder, target }
  }
  return undefined
}

/**
 * The host port's rule, for every port that changes the target, real or dry run (LocalHost,
 * RecordingHost): throws PATH_THROUGH_SYMLINK when a change at `path` would go through a
 * symlinked folder (linkedFolderOn; `inclusive` for a folder a program writes in, ExecOptions.writesIn).
 * `host` answers as the target is at that moment (a dry run: with its own recorded changes).
 */
export async function refuseThroughLinkedFolder(host: Pick<HostReader, 'lstat' | 'readlink'>, path: string, options: { inclusive?: boolean } = {}): Promise<void> {
  const found = await linkedFolderOn(host, path, options)
  if (found !== undefined) throw throughSymlinkError(path, found)
}

/**
 * `path` (a host path on the running system) with the distribution's own folder links replaced
 * by where they lead (`/lib/x` → `/usr/lib/x`, `/var/run/x` → `/run/x`): where the kernel finds it
 * on a merged-/usr system. Lexical: says nothing of whether they are links here.
 */
export function distributionPath(path: string): string {
  let out = path
  for (let hops = 0; hops < 4; hops++) {
    const folder = [...DISTRIBUTION_LINKS.keys()].find((f) => out === f || out.startsWith(`${f}/`))
    if (folder === undefined) break
    const target = DISTRIBUTION_LINKS.get(folder)?.find((t) => t.startsWith('/')) ?? `/${DISTRIBUTION_LINKS.get(folder)?.[0] ?? ''}`
    out = target + out.slice(folder.length)
  }
  return out
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
  return new TwinSyncError('PATH_THROUGH_SYMLINK', `${path} is below ${found.folder}, a symbolic link (to ${found.target}): TwinSync changes nothing through a symlinked folder; nothing was written there`, {
    nextStep: `A snapshot never follows that link either. If ${found.folder} should be a real folder, make it one (a directory entry in the twin's system/files/manifest.json, or by hand) and plan again; if the link is meant (a folder on another disk), use a bind mount instead of the link.`,
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

/** For a provider that reports a path it could not read: READ_REFUSED's `what` ("is a symbolic link…"), undefined for any other error. */
export function readRefusedReason(error: unknown): string | undefined {
  if (!isTwinSyncError(error) || error.code !== 'READ_REFUSED') return undefined
  const what = error.details?.what
  return typeof what === 'string' ? what : error.message
}
