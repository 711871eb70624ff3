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
  if (!MAYBE_DOT_GIT.test(name)) return false
  return name.split('\\').some((part) => /^(?:\.git|git~1)[. ]*(?::|$)/i.test(part)) || name.replace(HFS_IGNORED, '').toLowerCase() === '.git'
}

/**
 * Every name the check says yes to begins with `.git` or `git~1`, or holds a backslash or a
 * character HFS+ ignores. Speed: the files walk asks about each name of a folder it lists anew
 * (a first snapshot of the scale root: about 24,000); the split, expressions and replace cost
 * 0.85 µs a name warm (40 ms for 48,000 names, load 9), this one test 0.02 µs (1 ms).
 */
const MAYBE_DOT_GIT = /^(?:\.git|git~1)|[\\\u200c-\u200f\u202a-\u202e\u206a-\u206f\ufeff]/i

/** Characters HFS+ ignores in a name (git's is_hfs_dotgit). */
const HFS_IGNORED = /[\u200c-\u200f\u202a-\u202e\u206a-\u206f\ufeff]/g

/**
 * Which file git's fsck reads the content of, wherever it lies in a tree, `name` is:
 * `.gitmodules` or `.gitattributes` in any case, with trailing dots or spaces, HFS+'s ignored
 * characters inside or as NTFS's short names (git's is_hfs_dotgitmodules, is_ntfs_dotgitmodules
 * and the attributes ones); undefined for any other name.
 */
export function fsckJudgedKind(name: string): 'gitmodules' | 'gitattributes' | undefined {
  const plain = name.replace(HFS_IGNORED, '')
  if (GIT_MODULES.test(plain)) return 'gitmodules'
  return GIT_ATTRIBUTES.test(plain) ? 'gitattributes' : undefined
}

/** Whether git's fsck judges the content of a file of this name (fsckJudgedKind). */
export function isFsckJudgedName(name: string): boolean {
  return fsckJudgedKind(name) !== undefined
}

const GIT_MODULES = /^(?:\.gitmodules|gitmod~[1-4]|gi7eba~\d)[. ]*(?::|$)/i
const GIT_ATTRIBUTES = /^(?:\.gitattributes|gitatt~[1-4]|gi7d29~\d)[. ]*(?::|$)/i

/**
 * Why a mirror that checks what it is sent (receive.fsckObjects; GitHub) would refuse a commit
 * holding `text` as a file named `name` (fsckJudgedKind), in words, or undefined when it would
 * not (session 45). git's fsck judges every `.gitmodules` and `.gitattributes` blob of a pushed
 * tree, at the top or in any folder, and one error refuses the whole push, and every later
 * push that still holds the commit (git 2.39: `remote rejected ... (unpacker error)`): a
 * machine's own `.gitmodules` (a plugin manager's in ~/.config/nvim, a checkout under /etc)
 * mirrored as it is would stop the twin's pushes for good. Checked as git 2.39's fsck does:
 * `.gitattributes`, a line of 2,048 bytes or more (gitattributesLineLength) or more than 100 MB
 * (gitattributesLarge); `.gitmodules`, a submodule name with a `..` part (gitmodulesName), a url
 * beginning with `-`, a relative one climbing out to `:` or `/`, or an http(s) or ftp(s) one
 * with no host (gitmodulesUrl), a path beginning with `-` (gitmodulesPath), an update beginning
 * with `!` (gitmodulesUpdate). What this does not read as git's config parser surely does (a
 * quote or a backslash, a `%` in a url, which git decodes, a control character, a line that
 * is no header, comment or `key = value`) is taken as refused: such a file is held out rather
 * than risk the mirror.
 */
export function gitFsckRefusal(name: string, text: string): string | undefined {
  const kind = fsckJudgedKind(name)
  if (kind === 'gitattributes') return attributesRefusal(text)
  return kind === 'gitmodules' ? modulesRefusal(text) : undefined
}

function attributesRefusal(text: string): string | undefined {
  // git reads up to a NUL; a line of 2,048 bytes needs 683 UTF-16 units at least.
  const read = text.includes('\0') ? text.slice(0, text.indexOf('\0')) : text
  if (read.length < 683) return undefined
  if (Buffer.byteLength(read) > 100 * 1024 * 1024) return 'a .gitattributes over 100 MB (gitattributesLarge)'
  const long = read.split('\n').find((line) => line.length >= 683 && Buffer.byteLength(line) >= 2048)
  return long === undefined ? undefined : `a .gitattributes line of ${Buffer.byteLength(long)} bytes, 2,048 or more (gitattributesLineLength)`
}

/** A header `[section]` or `[section "subsection"]`, then only blanks or a comment. */
const HEADER = /^\[([A-Za-z0-9-]+)(?:\s+"([^"\\]*)")?\]\s*(?:[#;].*)?$/
/** `key`, or `key = value` (a comment outside quotes ends the value). */
const ENTRY = /^([A-Za-z][A-Za-z0-9-]*)\s*(?:=\s*([^#;]*))?(?:[#;].*)?$/
/** What this reading does not follow as git's parser does: quotes, escapes, control characters. */
const UNREAD = /["\\\0-\x08\x0a-\x1f\x7f]/

function modulesRefusal(text: string): string | undefined {
  const unsure = (what: string) => `a .gitmodules git's fsck may refuse: ${what}, which TwinSync does not read as git does`
  let section: string | undefined
  let name: string | undefined
  for (const raw of text.replace(/^\ufeff/, '').split('\n')) {
    const line = raw.replace(/\r$/, '').trim()
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue
    if (line.startsWith('[')) {
      const header = HEADER.exec(line)
      if (header === null) return unsure(`the line ${JSON.stringify(line.slice(0, 80))}`)
      section = (header[1] as string).toLowerCase()
      name = header[2]
      if (section === 'submodule' && name !== undefined && (name === '' || name.split('/').includes('..'))) return `a submodule name ${JSON.stringify(name)}, empty or with a .. part (gitmodulesName)`
      continue
    }
    const entry = ENTRY.exec(line)
    if (entry === null || section === undefined || UNREAD.test(line)) return unsure(`the line ${JSON.stringify(line.slice(0, 80))}`)
    if (section !== 'submodule' || name === undefined) continue
    const key = (entry[1] as string).toLowerCase()
    const value = entry[2]?.trim()
    if (value === undefined) continue
    if (key === 'path' && value.startsWith('-')) return `a submodule path beginning with - (gitmodulesPath): ${JSON.stringify(value)}`
    if (key === 'update' && value.startsWith('!')) return `a submodule update command (gitmodulesUpdate): ${JSON.stringify(value)}`
    if (key !== 'url') continue
    if (value.startsWith('-')) return `a submodule url beginning with - (gitmodulesUrl): ${JSON.stringify(value)}`
    if (value.includes('%')) return unsure(`the url ${JSON.stringify(value)} (git decodes its %-escapes)`)
    if (value.includes('::')) return unsure(`the url ${JSON.stringify(value)} (a transport named before ::)`)
    if (/^(?:\.{1,2}\/|git:\/\/)/.test(value)) {
      const rest = value.replace(/^(?:\.{1,2}\/)+/, '')
      if (value.startsWith('../') && (rest.startsWith(':') || rest.startsWith('/'))) return `a relative submodule url climbing out to ${JSON.stringify(rest[0])} (gitmodulesUrl): ${JSON.stringify(value)}`
      continue
    }
    if (/^(?:https?|ftps?):/i.test(value) && !/^(?:https?|ftps?):\/\/(?:[^/?#@\s]*@)?[^/?#@:\s]+(?::\d*)?(?:[/?#]|$)/i.test(value)) return `a submodule url with no host git reads (gitmodulesUrl): ${JSON.stringify(value)}`
  }
  return undefined
}
