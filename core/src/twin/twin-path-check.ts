import { isDotGitName } from '@twinsync/sdk/light'

/** Whose content git's fsck judges (`.gitmodules`, `.gitattributes` in any spelling): the SDK's rule (git-names.ts), which the files provider holds such a file to. */
export { isFsckJudgedName } from '@twinsync/sdk/light'
import { NAME_MAX_BYTES } from './twin-files.js'

/**
 * The longest path a twin's tree holds: PATH_MAX (4096) less room for the twin's own folder, or
 * the machine's root, in front of it (a longer one fails lstat with ENAMETOOLONG). A pull refuses
 * a longer one it would bring (incoming-tree.ts); a provider's document this long is refused by
 * its snapshot (document-paths.ts).
 */
export const TREE_PATH_MAX_BYTES = 3072

/**
 * What may make a path no twin path (twinPathProblem): an empty part (a leading, trailing or double
 * `/`, the empty path), a `.` or `..` part, a NUL, a backslash, a character HFS+ ignores, a part
 * beginning `.git` or `git~1` in any case. A path without any of these is a twin path; one with
 * one is judged part by part.
 * Speed (issue 22, session 24): the scale root's unchanged snapshot writes 19,600 documents,
 * each path split and every part through isDotGitName's split, expressions and replace: its twin's
 * 19,626 paths checked in a fresh process, 63 → 4.6 ms of CPU (medians of 9 interleaved, load
 * 13). core/test/twin-path-check.test.ts compares the verdicts with the part-by-part check's.
 */
const SUSPECT_PATH = /(?:^|\/)(?:\.{1,2}(?:\/|$)|\/|$)|[\0\\\u200c-\u200f\u202a-\u202e\u206a-\u206f\ufeff]|(?:^|\/)(?:\.git|git~1)/i

/**
 * Whether a part of `path` is 86 UTF-16 units or more, the only parts that can be over 255 bytes
 * (3 bytes a unit at most): one pass from slash to slash. Speed (session 44): session 33's
 * `/[^/]{86}/` tried 86 characters from every position, the length of the rest of its part each
 * time: 58 ms warm for the scale root's 19,600 /etc and /usr/share paths (a scale-root
 * snapshot's draft checks every document it writes), this 0.07 ms (medians of 21, load 8). The
 * whole check of those paths once in a fresh process (tsx): 19.3 → 4.4 ms of CPU (medians of 11
 * interleaved, load 9-12), about session 24's figure again.
 */
function hasLongPart(path: string): boolean {
  if (path.length < 86) return false
  for (let start = 0; ; ) {
    const end = path.indexOf('/', start)
    if ((end === -1 ? path.length : end) - start > 85) return true
    if (end === -1) return false
    start = end + 1
  }
}

/**
 * Why `path` cannot be a path of the twin's tree, in words ("a `..` part"), or undefined when it
 * can: the one rule of the draft (atomic-snapshot.ts's checkTwinPath, PATH_INVALID) and of a
 * provider's document (document-paths.ts, which refuses that provider's collect). The empty path,
 * an absolute one, an empty part (a doubled or trailing `/`), a `.` or `..` part, a NUL, a name
 * git keeps for its repository (isDotGitName: `.git` in any case or spelling), a name longer than
 * a file name may be (255 bytes, NAME_MAX: the commit would hold it, and the working twin's rename
 * would fail after HEAD moved).
 */
export function twinPathProblem(path: string): string | undefined {
  // Only a part of 86 or more UTF-16 units can be over 255 bytes (3 bytes a unit at most).
  if (hasLongPart(path)) {
    const long = path.split('/').find((p) => p.length > 85 && Buffer.byteLength(p) > NAME_MAX_BYTES)
    if (long !== undefined) return `a name of ${Buffer.byteLength(long)} bytes (a file name holds ${NAME_MAX_BYTES} at most)`
  }
  if (!SUSPECT_PATH.test(path)) return undefined
  if (path === '') return 'no path at all (empty)'
  if (path.startsWith('/')) return 'an absolute path (a twin path is relative to the twin)'
  if (path.includes('\0')) return 'a NUL byte'
  const parts = path.split('/')
  if (parts.includes('')) return 'an empty part (a doubled or trailing /)'
  if (parts.includes('..')) return 'a .. part'
  if (parts.includes('.')) return 'a . part'
  if (parts.some((p) => isDotGitName(p))) return 'a name git keeps for its own repository (.git in any case or spelling)'
  return undefined
}
