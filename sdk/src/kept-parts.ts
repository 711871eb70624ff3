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
  return partFrom(path, 0)
}

/** The part of a twin path below `folder` (a folder ending in "/" that the path starts with): its path below the folder, with a leading "/". */
export function partOfTwinPath(folder: string, twinPath: string): number {
  return partFrom(twinPath, folder.length - 1)
}

/**
 * The part of the path `text` holds from `start` on (`text.slice(start)`), without that slice
 * made: its folder is `text.slice(start, at)` for its last `/` at `at` past `start`, else `/`.
 * Paths come in order, usually: the previous path's folder is often this one's (compared in
 * place, no string made).
 *
 * Speed (issue 22, session 48): the core's check of the claims by part (headPaths) asks the part
 * of each of HEAD's 19,626 twin paths under `filesystem/` of the scale root (4,900 folders), the
 * files collect each walked path's. In a fresh process the loop runs as V8's bytecode, where a
 * string made or a call costs hundreds of instructions: the twin path's slice a path (about 700
 * instructions) is gone, and each folder's hash keeps only the 6 bits the part takes (FNV-1a's
 * low bits follow from the low bits alone: no Math.imul, no unsigned shift). headPaths' calls
 * alone over the scale root's twin paths (a script, callgrind between two marks in a fresh
 * process under the short run's V8 flags, medians of 6 interleaved runs): 83 → 58 M instructions,
 * about 8 M of it the script's own loop. Resuming the hash from the previous folder's shared
 * prefix (its state kept a character) was tried and cost more: 62 M for the 4,900 folders
 * against 25 M for hashing each whole, as finding the shared prefix a character at a time costs
 * what hashing it does.
 */
function partFrom(text: string, start: number): number {
  const at = text.lastIndexOf('/')
  if (at > start) {
    if (at - start === lastFolder.length && text.startsWith(lastFolder, start)) return lastPart
    lastFolder = text.slice(start, at)
  } else {
    if (lastFolder === '/') return lastPart
    lastFolder = '/'
  }
  lastPart = fnv1aPart(lastFolder)
  return lastPart
}
let lastFolder = ''
let lastPart = 0

/**
 * FNV-1a (32 bits) of a string's UTF-8 bytes, modulo PART_COUNT (64): an ASCII string's
 * characters are its bytes; any other is encoded first. Only the hash's low 6 bits are kept
 * along: a product's and an xor's low bits depend on their operands' low bits alone, so
 * `((h ^ b) * 0x01000193) mod 2^32` taken mod 64 is `((h ^ b) * 0x13) & 63` of `h` mod 64 (the
 * prime's low 6 bits 0x13, the offset basis's 0x05). Speed: a fresh process's first 25,000
 * entries (the scale root) took 24 ms with a Buffer and a cache entry a folder, about 3 ms a
 * character at a time (session 44); the 6 bits: above.
 */
function fnv1aPart(text: string): number {
  // 0x05: 0x811c9dc5 (the offset basis) & 63; 0x13: 0x01000193 (the prime) & 63; 63: PART_COUNT - 1.
  let hash = 0x05
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (code >= 0x80) return fnv1aBytesPart(Buffer.from(text, 'utf8'))
    hash = ((hash ^ code) * 0x13) & 63
  }
  return hash
}

function fnv1aBytesPart(bytes: Uint8Array): number {
  let hash = 0x05
  for (const byte of bytes) hash = ((hash ^ byte) * 0x13) & 63
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
