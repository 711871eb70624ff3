import { foundEntries, idField, isSpace, nameField, nssEntries, stringField } from './nss-files.js'

/** An entry of a group file (group(5)) as glibc's `files` database reads it. */
export interface GroupEntry {
  /** As written, after the line's leading blanks: `+`, `+name`, `-name`, `+@netgroup` too. */
  name: string
  password: string
  /** glibc's number (see passwdEntries' uid); an empty one on a `+`/`-` line is 0. */
  gid: number
  /** The members, the rest of the line split at `,`: blanks before each dropped, empty ones too (a `:` stays in one). */
  members: string[]
}

/**
 * Every entry of an /etc/group text in the file's order, as getgrent(3) lists them with
 * `group: files` (session 49; glibc's nss/fgetgrent_r.c line parser over nss-files.ts' lines
 * and numbers): as passwdEntries reads /etc/passwd, with a gid where a passwd line has its uid
 * and gid, and the member list after it (files-parse.c's TRAILING_LIST_PARSER). Which of them a
 * program can look up is foundGroups' question.
 */
export const groupEntries = (text: string): GroupEntry[] => nssEntries(text, parseGroupLine)

/**
 * The entries getgrnam(3) and getgrgid(3) can return with `group: files`: a `+`/`-` line never
 * (files-grp.c skips it in both lookups). The first entry of a name or gid is the one a lookup
 * finds.
 */
export const foundGroups = (text: string): GroupEntry[] => foundEntries(groupEntries(text))

function parseGroupLine(line: string): GroupEntry | undefined {
  const head = nameField(line)
  if (head === undefined) return undefined
  if (head.bare) return { name: head.name, password: '', gid: 0, members: [] }
  const password = stringField(line, head.next)
  const gid = idField(line, password.next, head.compat)
  if (gid === undefined) return undefined
  return { name: head.name, password: password.value, gid: gid.value, members: memberList(line.slice(gid.next)) }
}

function memberList(rest: string): string[] {
  const out: string[] = []
  for (const part of rest.split(',')) {
    let k = 0
    while (k < part.length && isSpace(part.charCodeAt(k))) k++
    if (k < part.length) out.push(part.slice(k))
  }
  return out
}

/**
 * Every line of an /etc/group text as initgroups(3) reads it to give a user their groups at
 * login (files-initgroups.c: each line as getline gives it, to `files-parse.c`'s parser with no
 * nss_readline before it): no blank before a name is skipped and no `#` line left out, so
 * `#old:x:27:ann` puts ann in gid 27 and `+:::ann` in gid 0, which sudo's `%sudo` and `%#27`
 * then match; `ls -l` and getgrnam never show them. For who may become root: the safe side.
 */
export function initgroupsEntries(text: string): GroupEntry[] {
  const out: GroupEntry[] = []
  for (const raw of text.split('\n')) {
    const nul = raw.indexOf('\0')
    const entry = parseGroupLine(nul < 0 ? raw : raw.slice(0, nul))
    if (entry !== undefined) out.push(entry)
  }
  return out
}
