import { TwinSyncError } from './errors.js'

/**
 * A path on the target machine is absolute, has no "." or ".." component and no NUL byte.
 * Refusing ".." outright (instead of normalising it away) means no name taken from a twin or
 * a plan can ever climb out of the place it was meant for.
 */
export function checkTargetPath(path: string): string {
  // Speed: the usual path is already normal (a walk's own paths); checked without splitting it.
  if (typeof path === 'string' && NORMAL_PATH.test(path)) return path
  if (typeof path !== 'string' || path.length === 0 || !path.startsWith('/')) {
    throw new TwinSyncError('PATH_INVALID', `Not an absolute path: ${JSON.stringify(path)}`, {
      nextStep: 'Use an absolute path on the target machine, such as /etc/hosts.',
      details: { path },
    })
  }
  if (path.includes('\0')) {
    throw new TwinSyncError('PATH_INVALID', `A path contains a NUL byte: ${JSON.stringify(path)}`, {
      nextStep: 'Remove the NUL byte from the path where it was written (the twin, a plan file); `git -C <twin> diff` shows recent edits.',
      details: { path },
    })
  }
  for (const part of path.split('/')) {
    if (part === '..' || part === '.') {
      throw new TwinSyncError('PATH_INVALID', `A path may not contain "${part}": ${path}`, {
        nextStep: 'Write the path without "." or ".." components.',
        details: { path },
      })
    }
  }
  return normalizeTargetPath(path)
}

/** Absolute, no empty, "." or ".." component, no NUL byte, no trailing slash: what checkTargetPath returns. */
const NORMAL_PATH = /^(?:\/(?!\.\.?(?:\/|$))[^/\0]+)+$/

/** Collapse repeated and trailing slashes: "//etc//ssh/" becomes "/etc/ssh". */
export function normalizeTargetPath(path: string): string {
  const parts = path.split('/').filter((p) => p.length > 0)
  return '/' + parts.join('/')
}

/** The components of a checked target path: "/etc/ssh" gives ["etc", "ssh"]. */
export function targetPathParts(path: string): string[] {
  return path.split('/').filter((p) => p.length > 0)
}

/** Is `path` equal to `prefix` or inside it? Both are normalised target paths. */
export function isWithin(path: string, prefix: string): boolean {
  if (prefix === '/') return true
  return path === prefix || path.startsWith(prefix + '/')
}
