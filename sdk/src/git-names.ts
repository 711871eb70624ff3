/**
 * A name git will not put into a tree and `fsck --strict` calls `hasDotgit` (so a host that
 * checks what is pushed, as GitHub does, refuses the commit): `.git` in any case, also with dots
 * or spaces after it or its NTFS short name `git~1`, in any part between backslashes and up to
 * a `:` (git's is_ntfs_dotgit), or with characters HFS+ ignores inside (is_hfs_dotgit). The same
 * verdicts as git 2.39's `update-index` and `fsck --strict` on 29 such names (session 24).
 *
 * One rule for the core, which refuses such a twin path when a snapshot builds its tree
 * (atomic-snapshot.ts's checkTwinPath), and for a provider that makes twin paths from the
 * machine's names (the files provider leaves such a name out, named: session 32, a user's
 * `~/.config/.GIT` made every snapshot of the machine fail with PATH_INVALID).
 */
export function isDotGitName(name: string): boolean {
  return name.split('\\').some((part) => /^(?:\.git|git~1)[. ]*(?::|$)/i.test(part)) || name.replace(HFS_IGNORED, '').toLowerCase() === '.git'
}

/** Characters HFS+ ignores in a name (git's is_hfs_dotgit). */
const HFS_IGNORED = /[\u200c-\u200f\u202a-\u202e\u206a-\u206f\ufeff]/g
