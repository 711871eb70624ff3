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
