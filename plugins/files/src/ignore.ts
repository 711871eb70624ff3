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
  /** All patterns with a "/" as one alternation, and all without one as another: two tests a path (speed, issue 22). */
  private readonly full: RegExp | undefined
  private readonly base: RegExp | undefined

  constructor(patterns: readonly string[]) {
    const full: RegExp[] = []
    const base: RegExp[] = []
    for (const p of patterns) {
      if (p.includes('/')) {
        const absolute = p.startsWith('/') ? p : '/**/' + p
        full.push(globToRegExp(absolute.replace(/\/+$/, '')))
      } else {
        base.push(globToRegExp(p))
      }
    }
    this.full = anyOf(full)
    this.base = anyOf(base)
  }

  matches(path: string): boolean {
    if (this.base !== undefined && this.base.test(path.slice(path.lastIndexOf('/') + 1))) return true
    return this.full !== undefined && this.full.test(path)
  }
}

/** One regular expression matching what any of these (anchored, flagless) ones match. */
function anyOf(regexes: readonly RegExp[]): RegExp | undefined {
  if (regexes.length === 0) return undefined
  return new RegExp(regexes.map((r) => `(?:${r.source})`).join('|'))
}
