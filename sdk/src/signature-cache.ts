import { createHash } from 'node:crypto'
import type { ProviderCache } from './context.js'
import type { FileStat } from './host.js'

/**
 * A file changed within this many milliseconds of our read may change again without its
 * timestamps moving (the kernel's clock is coarse): git calls this "racily clean". What is read
 * from such a file is read again next time instead of trusted.
 */
export const RACY_MS = 100

/**
 * The same for a file system that keeps times in whole seconds (ext4 made with 128-byte inodes,
 * ext3, FAT's 2 s): an edit later in the same second gives the same times, so a file changed in
 * the second or two before the read is not trusted. Such a file is told by its mtime and ctime
 * both falling on a whole second (on a file system that keeps nanoseconds, a ctime does so once
 * in a billion).
 */
export const COARSE_RACY_MS = 2000

/** A change time after this is too recent (before `startedAt`, the start of the read) to trust this file's times. */
export function racyFrom(stat: Pick<FileStat, 'mtimeMs' | 'ctimeMs'>, startedAt: number): number {
  return startedAt - (stat.mtimeMs % 1000 === 0 && stat.ctimeMs % 1000 === 0 ? COARSE_RACY_MS : RACY_MS)
}

/** Was this file changed too recently (before `startedAt`, the start of the read) to trust its times? */
export function isRacy(stat: Pick<FileStat, 'mtimeMs' | 'ctimeMs'>, startedAt: number): boolean {
  const from = racyFrom(stat, startedAt)
  return stat.mtimeMs > from || stat.ctimeMs > from
}

interface Kept {
  signature: string
  value: unknown
}

/**
 * A value worked out from files (a tool's answer, a parsed index), kept in a provider's cache
 * under `key` while `signature` — everything the value depends on: the files' stat data, the
 * tools found, the options — stays the same. `compute` runs when the signature moved, the cache
 * has nothing or is damaged (that only costs time); its answer is kept unless `racy` (a file
 * changed too recently to trust its times, see `isRacy`). The value must survive JSON.
 */
export async function cachedBySignature<T>(
  cache: ProviderCache,
  key: string,
  signature: string,
  compute: () => Promise<T>,
  options: { racy?: boolean } = {},
): Promise<T> {
  const hash = createHash('sha256').update(signature).digest('hex')
  const kept = parse(await cache.read(key).catch(() => undefined))
  if (options.racy !== true && kept?.signature === hash) return kept.value as T
  const value = await compute()
  if (options.racy !== true) await cache.write(key, JSON.stringify({ signature: hash, value } satisfies Kept)).catch(() => undefined)
  return value
}

/**
 * A value worked out from one file, kept (cachedBySignature) while that file keeps its stat data:
 * size, mtime, ctime, inode, device; never trusted from a racily clean file (isRacy against
 * `startedAt`, the start of the read).
 */
export function cachedByFileStat<T>(
  cache: ProviderCache,
  key: string,
  stat: FileSignatureStat,
  startedAt: number,
  compute: () => Promise<T>,
): Promise<T> {
  return cachedBySignature(cache, key, JSON.stringify(statSignature(stat)), compute, { racy: isRacy(stat, startedAt) })
}

/**
 * A value worked out from several files (`files`, each its path and stat data), kept as
 * cachedByFileStat keeps one file's: while every one keeps its path and stat data, and the list
 * stays the same; never from a racily clean one.
 */
export function cachedByFileStats<T>(
  cache: ProviderCache,
  key: string,
  files: ReadonlyArray<{ path: string; stat: FileSignatureStat }>,
  startedAt: number,
  compute: () => Promise<T>,
): Promise<T> {
  const signature = JSON.stringify(files.map(({ path, stat }) => [path, ...statSignature(stat)]))
  return cachedBySignature(cache, key, signature, compute, { racy: files.some(({ stat }) => isRacy(stat, startedAt)) })
}

type FileSignatureStat = Pick<FileStat, 'size' | 'mtimeMs' | 'ctimeMs' | 'ino' | 'dev'>

/** What of a file's stat data says it is unchanged: size, mtime, ctime, inode, device. */
function statSignature(stat: FileSignatureStat): number[] {
  return [stat.size, stat.mtimeMs, stat.ctimeMs, stat.ino, stat.dev]
}

function parse(text: string | undefined): Kept | undefined {
  if (text === undefined) return undefined
  try {
    const kept = JSON.parse(text) as Partial<Kept> | null
    return kept !== null && typeof kept === 'object' && typeof kept.signature === 'string' && 'value' in kept ? (kept as Kept) : undefined
  } catch {
    return undefined // a damaged cache only costs time
  }
}
