import { globToRegExp } from '@twinsync/sdk'

/** Noise that no administrator wants in a twin: caches, editor swap and backup files. */
export const DEFAULT_IGNORE: readonly string[] = [
  'node_modules',
  '.cache',
  '.git',
  '*.swp',
  '*.swo',
  '*~',
  '.#*',
  '#*#',
  '*.bak',
  '*.tmp',
  // Temp files of our own atomic writes, should a run have been killed half-way.
  '.*.twinsync-*',
  '/etc/ld.so.cache',
  '/etc/.pwd.lock',
  '/etc/apt/trusted.gpg.d/*.gpg~',
]

/**
 * Files dpkg and ucf leave beside a conffile when an upgrade and a local change met. They are
 * not mirrored, but listed in the manifest's `leftovers` so a person sees a merge is waiting.
 */
export const LEFTOVER_PATTERNS: readonly string[] = [
  '*.dpkg-old',
  '*.dpkg-dist',
  '*.dpkg-new',
  '*.dpkg-bak',
  '*.dpkg-tmp',
  '*.ucf-old',
  '*.ucf-dist',
  '*.ucf-new',
]

/**
 * A list of glob patterns. A pattern with a "/" is matched against the whole absolute path
 * (`*` within one component, `**` across components); a pattern without one against the last
 * component only, as .gitignore does, so "node_modules" drops that folder wherever it is.
 */
export class PathPatterns {
  private readonly full: RegExp[] = []
  private readonly base: RegExp[] = []

  constructor(patterns: readonly string[]) {
    for (const p of patterns) {
      if (p.includes('/')) {
        const absolute = p.startsWith('/') ? p : '/**/' + p
        this.full.push(globToRegExp(absolute.replace(/\/+$/, '')))
      } else {
        this.base.push(globToRegExp(p))
      }
    }
  }

  matches(path: string): boolean {
    const name = path.slice(path.lastIndexOf('/') + 1)
    return this.base.some((r) => r.test(name)) || this.full.some((r) => r.test(path))
  }
}
