import { isDeepStrictEqual } from 'node:util'
import type { Accounts } from './accounts.js'
import { resolveId } from './diff.js'
import { parseMode } from './mode.js'
import type { ManifestEntry } from './state.js'

/**
 * Whether two manifest entries of one path ask the same of the machine: a plan made from either
 * is the same. What a person leaves out or writes another way does not count (owner and group
 * by name or by id, as diff resolves them with the target's accounts); nor does what the
 * collector only records (size, origin, package, why a file is secret), nor a mirrored file's
 * hash (its document is its content). What it cannot see (a hash of a file not copied, a
 * secret's keyed hash) counts.
 */
export function sameMeaning(a: ManifestEntry, b: ManifestEntry, accounts: Accounts): boolean {
  const unseen = a.content !== 'mirrored' || a.secret === true
  return (
    a.path === b.path &&
    a.type === b.type &&
    parseMode(a.mode) === parseMode(b.mode) &&
    resolveId(a.owner, a.uid, accounts.users) === resolveId(b.owner, b.uid, accounts.users) &&
    resolveId(a.group, a.gid, accounts.groups) === resolveId(b.group, b.gid, accounts.groups) &&
    a.target === b.target &&
    a.content === b.content &&
    a.secret === b.secret &&
    a.capabilities === b.capabilities &&
    isDeepStrictEqual(a.xattrs, b.xattrs) &&
    (!unseen || (a.sha256 === b.sha256 && a.secretHash === b.secretHash))
  )
}
