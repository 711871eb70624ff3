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
 * - a line ends at a NUL byte (C's strings); leading blanks (C's isspace) are skipped; a line
 *   that is then empty or starts with `#` is none;
 * - a NIS compat line (its name starts with `+` or `-`) is an entry: a bare one (`+`, `-ann`,
 *   `+ann:`) has uid and gid 0, and an empty uid or gid on such a line is 0 (`+::::::` is the
 *   old uid-0 account named `+`); other lines need a uid and a gid;
 * - a uid or gid is strtoul's: blanks and a sign before the digits (`-0` is 0), then `:` or the
 *   line's end; a value above 2^32−1 (`-1` too: strtoul wraps it to 2^64−1) refuses the line
 *   (Debian's libc6 does, 2.36 and 2.41: its _nss_files_parse_pwent tests the value's upper 32
 *   bits; upstream's files-parse.c as read clamps it to 2^32−1 instead);
 * - a line that ends after its gid is an entry with an empty gecos, home and shell (`ann:x:7:7`);
 * - a line that had leading blanks and no newline before its end (the last line without one, or
 *   a line with a NUL) keeps as many characters of its end twice, as glibc reads it
 *   (nss_readline moves the line without its NUL: `  a:x:1:1::/h:/bin/sh` as the last line
 *   reads as shell `/bin/shsh`).
 * Which of them a program can look up is passwdUsers' question.
 */
export function passwdEntries(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = []
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const nul = (lines[i] as string).indexOf('\0')
    const raw = nul < 0 ? (lines[i] as string) : (lines[i] as string).slice(0, nul)
    let k = 0
    while (k < raw.length && isSpace(raw.charCodeAt(k))) k++
    let line = raw.slice(k)
    if (line === '' || line.startsWith('#')) continue
    if (k > 0 && (nul >= 0 || i === lines.length - 1)) line += raw.slice(raw.length - k)
    const entry = parseLine(line)
    if (entry !== undefined) out.push(entry)
  }
  return out
}

/**
 * The entries getpwnam(3) and getpwuid(3) can return with `passwd: files`: a `+`/`-` line is
 * listed by getpwent but never found by name or id (glibc's files-pwd.c skips it in both
 * lookups), so it is no account a program can run as, own a file as or be named by. The first
 * entry of a name or id is the one a lookup finds.
 */
export function passwdUsers(text: string): PasswdEntry[] {
  return passwdEntries(text).filter((e) => !isCompatName(e.name))
}

/** A NIS compat line's name (`+`, `+name`, `-name`, `+@netgroup`): see passwdUsers. */
function isCompatName(name: string): boolean {
  return name.startsWith('+') || name.startsWith('-')
}

// C's isspace in the C locale: space, \t, \n, \v, \f, \r.
function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13)
}

function parseLine(line: string): PasswdEntry | undefined {
  const compat = isCompatName(line)
  let at = line.indexOf(':')
  const name = at < 0 ? line : line.slice(0, at)
  // A compat line that ends at or just after its name's `:` (`+`, `-ann`, `+:`): fgetpwent_r.c's special case.
  if (compat && (at < 0 || at === line.length - 1)) return { name, password: '', uid: 0, gid: 0, gecos: '', home: '', shell: '' }
  if (at < 0) return undefined
  const field = (): string => {
    const end = line.indexOf(':', at)
    const value = line.slice(at, end < 0 ? line.length : end)
    at = end < 0 ? line.length : end + 1
    return value
  }
  at++
  const password = field()
  const uid = idField(line, at, compat)
  if (uid === undefined) return undefined
  at = uid.next
  const gid = idField(line, at, compat)
  if (gid === undefined) return undefined
  at = gid.next
  const gecos = field()
  const home = field()
  return { name, password, uid: uid.value, gid: gid.value, gecos, home, shell: line.slice(at) }
}

const ULONG_MAX = (1n << 64n) - 1n

/**
 * files-parse.c's INT_FIELD (INT_FIELD_MAYBE_NULL on a compat line) at `at`: the number and where
 * the next field starts, or undefined when glibc refuses the line.
 */
function idField(line: string, at: number, compat: boolean): { value: number; next: number } | undefined {
  // INT_FIELD_MAYBE_NULL wants more input: a compat line may not end before its uid or gid.
  if (compat && at >= line.length) return undefined
  let p = at
  while (p < line.length && isSpace(line.charCodeAt(p))) p++
  const negative = line[p] === '-'
  if (line[p] === '-' || line[p] === '+') p++
  const start = p
  while (p < line.length && line.charCodeAt(p) >= 48 && line.charCodeAt(p) <= 57) p++
  let value = 0
  let end = at
  if (p > start) {
    let n = BigInt(line.slice(start, p))
    if (n > ULONG_MAX) n = ULONG_MAX
    else if (negative && n > 0n) n = (1n << 64n) - n
    if (n > 0xffffffffn) return undefined
    value = Number(n)
    end = p
  } else if (!compat) return undefined // no digits: strtoul's end is the field's start
  if (end < line.length && line[end] !== ':') return undefined
  return { value, next: end < line.length ? end + 1 : end }
}
