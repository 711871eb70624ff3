/**
 * A provider's documents under one folder kept by part (CollectResult.keptParts, session 44):
 * the part function is part of the contract, so the core and a provider cut a folder's paths the
 * same way. A path's part is FNV-1a (32 bits) of the UTF-8 bytes of its folder (the path up to
 * its last `/`; `/` for a path at the top), modulo PART_COUNT: by the folder, so a folder's files
 * are together; by a hash, so a part's number says nothing of the paths. The files provider's
 * split manifest is cut by it (plugins/files/src/manifest.ts: a manifest part's entries are a
 * kept part's mirrored files).
 *
 * A twin path under a kept folder is cut as the path below that folder with a leading `/`
 * (partOfTwinPath): under `filesystem/`, `filesystem/etc/a/b` is the machine path `/etc/a/b`.
 */

/** How many parts a folder is cut into: fixed, so that a path never moves between parts while the machine changes. */
export const PART_COUNT = 64

/** The part of `path` (see the top). */
export function partOf(path: string): number {
  const at = path.lastIndexOf('/')
  // Paths come in order, usually: the previous path's folder is often this one's (no string made).
  if (at > 0 ? at === lastFolder.length && path.startsWith(lastFolder) : lastFolder === '/') return lastPart
  lastFolder = at <= 0 ? '/' : path.slice(0, at)
  lastPart = fnv1a(lastFolder) % PART_COUNT
  return lastPart
}
let lastFolder = ''
let lastPart = 0

/** The part of a twin path below `folder` (a folder ending in "/" that the path starts with): its path below the folder, with a leading "/". */
export function partOfTwinPath(folder: string, twinPath: string): number {
  return partOf(twinPath.slice(folder.length - 1))
}

/**
 * FNV-1a, 32 bits, of a string's UTF-8 bytes: an ASCII string's characters are its bytes; any
 * other is encoded first. Speed: a fresh process's first 25,000 entries (the scale root) took
 * 24 ms with a Buffer and a cache entry a folder, about 3 ms this way.
 */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (code >= 0x80) return fnv1aBytes(Buffer.from(text, 'utf8'))
    hash = Math.imul(hash ^ code, 0x01000193) >>> 0
  }
  return hash
}

function fnv1aBytes(bytes: Uint8Array): number {
  let hash = 0x811c9dc5
  for (const byte of bytes) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0
  return hash
}

/**
 * What a provider keeps by part (CollectResult.keptParts): under `folder` (a twin folder ending
 * in "/", `filesystem/` for mirrored files), the parts named, each with how many of the
 * provider's own files the provider believes HEAD holds in it.
 */
export interface KeptParts {
  folder: string
  parts: ReadonlyArray<{ part: number; files: number }>
}
