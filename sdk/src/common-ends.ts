/**
 * How many bytes two versions of a document begin and end with in common (the end counted at
 * most up to where the beginning stops, so the two never overlap). What lies between is all
 * that changed: a snapshot screens only around it (core's screened-documents.ts) and the files
 * provider compares only the manifest entries it touches (its narrow.ts). Compared a block at a
 * time (native), then byte by byte: the scale root's 8.6 MB manifest in about 1 ms (10 ms the
 * first time, before V8 optimises the loop).
 */
export function commonEnds(a: Uint8Array, b: Uint8Array): { prefix: number; suffix: number } {
  const x = Buffer.from(a.buffer, a.byteOffset, a.byteLength)
  const y = Buffer.from(b.buffer, b.byteOffset, b.byteLength)
  const n = Math.min(x.length, y.length)
  let prefix = 0
  while (prefix + BLOCK <= n && x.compare(y, prefix, prefix + BLOCK, prefix, prefix + BLOCK) === 0) prefix += BLOCK
  while (prefix < n && x[prefix] === y[prefix]) prefix++
  const max = n - prefix
  let suffix = 0
  while (suffix + BLOCK <= max && x.compare(y, y.length - suffix - BLOCK, y.length - suffix, x.length - suffix - BLOCK, x.length - suffix) === 0) suffix += BLOCK
  while (suffix < max && x[x.length - 1 - suffix] === y[y.length - 1 - suffix]) suffix++
  return { prefix, suffix }
}

const BLOCK = 4096
