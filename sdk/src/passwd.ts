import { foundEntries, idField, nameField, nssEntries, stringField } from './nss-files.js'

/**
 * An entry of a passwd file (passwd(5)) as glibc's `files` database reads it. Session 49: the one
 * reader of /etc/passwd for the core and every bundled plugin (there were five, each with its own
 * idea of a comment, a short line or a `+` line).
 */
export interface PasswdEntry {
  /** As written, after the line's leading blanks: `+`, `+name`, `-name`, `+@netgroup` too. */
  name: string
  password: string
  /** glibc's number: `00`, ` 7`, `+7` and `-0` are read as numbers; an empty one on a `+`/`-` line is 0. */
  uid: number
  gid: number
  gecos: string
  /** '' when the line has no such field. */
  home: string
  /** The rest of the line after the sixth `:` (a seventh `:` stays in it); '' when there is none. */
  shell: string
}

/**
 * Every entry of an /etc/passwd text in the file's order, as getpwent(3) lists them with
 * `passwd: files` (glibc: nss/nss_readline.c, nss/fgetpwent_r.c's line parser and
 * nss/nss_files/files-parse.c, read at the glibc-2.36 tag and upstream's master of January
 * 2026; probed on Debian 12's libc6 2.36 and Debian 13's 2.41, 48,000 random lines read alike,
 * and checked in a Debian root by test/integration/passwd-glibc.test.ts):
 * - the lines are nss_readline's (nss-files.ts' nssLines): leading blanks skipped, then blank
 *   and `#` lines left out, a NUL ending a line;
 * - a NIS compat line (its name starts with `+` or `-`) is an entry: a bare one (`+`, `-ann`,
 *   `+ann:`) has uid and gid 0, and an empty uid or gid on such a line is 0 (`+::::::` is the
 *   old uid-0 account named `+`); other lines need a uid and a gid;
 * - a uid or gid is strtoul's (nss-files.ts' idField): `00`, ` 7`, `+7` and `-0` are numbers; one
 *   above 2^32−1 refuses the line (Debian's libc6);
 * - a line that ends after its gid is an entry with an empty gecos, home and shell (`ann:x:7:7`);
 * - the shell is the rest of the line after the sixth `:`.
 * Which of them a program can look up is passwdUsers' question.
 */
export const passwdEntries = (text: string): PasswdEntry[] => nssEntries(text, parseLine)

/**
 * The entries getpwnam(3) and getpwuid(3) can return with `passwd: files`: a `+`/`-` line is
 * listed by getpwent but never found by name or id (glibc's files-pwd.c skips it in both
 * lookups), so it is no account a program can run as, own a file as or be named by. The first
 * entry of a name or id is the one a lookup finds.
 */
export const passwdUsers = (text: string): PasswdEntry[] => foundEntries(passwdEntries(text))

function parseLine(line: string): PasswdEntry | undefined {
  const head = nameField(line)
  if (head === undefined) return undefined
  if (head.bare) return { name: head.name, password: '', uid: 0, gid: 0, gecos: '', home: '', shell: '' }
  const password = stringField(line, head.next)
  const uid = idField(line, password.next, head.compat)
  if (uid === undefined) return undefined
  const gid = idField(line, uid.next, head.compat)
  if (gid === undefined) return undefined
  const gecos = stringField(line, gid.next)
  const home = stringField(line, gecos.next)
  return { name: head.name, password: password.value, uid: uid.value, gid: gid.value, gecos: gecos.value, home: home.value, shell: line.slice(home.next) }
}
