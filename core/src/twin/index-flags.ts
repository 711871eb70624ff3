import { readFileSync } from 'node:fs'
import { lstatBigData } from '@twinsync/sdk/light'

/**
 * Whether an index holds an entry git would not compare with its file (session 26). git trusts an
 * entry marked assume-unchanged (`git update-index --assume-unchanged`, the CE_VALID flag) or
 * skip-worktree (`--skip-worktree`, and every entry a sparse checkout or a sparse index leaves
 * out) whatever its file holds: `git status`, `git diff`, `git add --all` and `git checkout --`
 * skip it. A person's edit to such a file would be lost silently, so git.ts never lets git look
 * at the working twin through such an index (`seeEveryEdit`): 'plain' means none is there;
 * 'flagged' some is; 'unknown' the index is not one this reads (a split index, whose shared part
 * may hold flags; another version; a damaged file): git is asked to clear them, as for 'flagged'.
 * Intent-to-add entries (`git add -N`) are plain here: git shows them as added and `add` stages them.
 */
export type IndexFlags = 'plain' | 'flagged' | 'unknown'

const CE_VALID = 0x8000
const CE_EXTENDED = 0x4000
const SKIP_WORKTREE = 0x4000

/** git's index format (Documentation/gitformat-index.txt), SHA-1: only the entries' flags read. */
export function scanIndexFlags(bytes: Buffer): IndexFlags {
  const HASH = 20
  if (bytes.length < 12 + HASH || bytes.toString('latin1', 0, 4) !== 'DIRC') return 'unknown'
  const version = bytes.readUInt32BE(4)
  if (version < 2 || version > 4) return 'unknown'
  const end = bytes.length - HASH
  const count = bytes.readUInt32BE(8)
  let flagged = false
  let at = 12
  for (let i = 0; i < count; i++) {
    if (at + 62 > end) return 'unknown'
    const flags = bytes.readUInt16BE(at + 60)
    if ((flags & CE_VALID) !== 0) flagged = true
    let next = at + 62
    if ((flags & CE_EXTENDED) !== 0) {
      if (version < 3 || next + 2 > end) return 'unknown'
      if ((bytes.readUInt16BE(next) & SKIP_WORKTREE) !== 0) flagged = true
      next += 2
    }
    if (version === 4) {
      while (next < end && ((bytes[next] as number) & 0x80) !== 0) next++
      next++
      const nul = bytes.indexOf(0, next)
      if (nul < 0 || nul >= end) return 'unknown'
      at = nul + 1
    } else {
      const nul = bytes.indexOf(0, next)
      if (nul < 0 || nul >= end) return 'unknown'
      at = at + ((nul - at + 8) & ~7)
    }
  }
  while (at < end) {
    if (at + 8 > end) return 'unknown'
    const signature = bytes.toString('latin1', at, at + 4)
    // A split index keeps entries in a shared file; a sparse index folds left-out folders into entries.
    if (signature === 'link') return 'unknown'
    if (signature === 'sdir') flagged = true
    at += 8 + bytes.readUInt32BE(at + 4)
  }
  if (at !== end) return 'unknown'
  return flagged ? 'flagged' : 'plain'
}

/** Index files found plain, by path, with the identity (inode, size, times) they had then. */
const plain = new Map<string, string>()

/** What quick-status.ts parsed (its parser refuses every flag): plain while the file is unchanged. */
export function notePlainIndex(path: string, identity: string): void {
  plain.set(path, identity)
}

export function indexIdentity(info: { ino: bigint; size: bigint; mtimeNs: bigint; ctimeNs: bigint }): string {
  return `${info.ino}:${info.size}:${info.mtimeNs}:${info.ctimeNs}`
}

/**
 * The flags of the index file at `path`; 'plain' when there is none. Speed: an index already
 * found plain (by quick-status.ts's parse, or here) and not rewritten since costs one lstat; an
 * unknown one is read and its entries' flags scanned (the scale twin's 2.5 MB index of 21,000
 * entries: see docs/architecture.md, session 26).
 */
export function indexFlagsOf(path: string): IndexFlags {
  let info
  try {
    info = lstatBigData(path)
  } catch {
    return 'unknown'
  }
  if (info === undefined) return 'plain'
  const identity = indexIdentity(info)
  if (plain.get(path) === identity) return 'plain'
  let bytes: Buffer
  try {
    bytes = readFileSync(path)
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'plain' : 'unknown'
  }
  const found = scanIndexFlags(bytes)
  if (found === 'plain') plain.set(path, identity)
  return found
}
