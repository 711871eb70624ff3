/**
 * What glibc's `files` database does the same way for /etc/passwd and /etc/group (session 49;
 * passwd.ts and group.ts read each file's fields): nss/nss_readline.c's lines and
 * nss/nss_files/files-parse.c's numbers. Not exported from the SDK's entries.
 */

/**
 * The lines of a text as nss_readline hands them to a line parser: each ends at a NUL byte
 * (C's strings); leading blanks (C's isspace) are skipped; a line that is then empty or starts
 * with `#` is none. A line that had leading blanks and no newline before its end (the last line
 * without one, or a line with a NUL) keeps as many characters of its end twice, as glibc reads
 * it (nss_readline moves the line without its NUL: `  a:x:1:1::/h:/bin/sh` as the last line
 * reads as shell `/bin/shsh`).
 */
export function nssLines(text: string): string[] {
  const out: string[] = []
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const nul = (lines[i] as string).indexOf('\0')
    const raw = nul < 0 ? (lines[i] as string) : (lines[i] as string).slice(0, nul)
    let k = 0
    while (k < raw.length && isSpace(raw.charCodeAt(k))) k++
    let line = raw.slice(k)
    if (line === '' || line.startsWith('#')) continue
    if (k > 0 && (nul >= 0 || i === lines.length - 1)) line += raw.slice(raw.length - k)
    out.push(line)
  }
  return out
}

/** The entries `parse` makes of a text's nssLines, in order; a line it refuses (undefined) is none, as glibc skips it. */
export function nssEntries<T>(text: string, parse: (line: string) => T | undefined): T[] {
  const out: T[] = []
  for (const line of nssLines(text)) {
    const entry = parse(line)
    if (entry !== undefined) out.push(entry)
  }
  return out
}

/**
 * A NIS compat line's name (`+`, `+name`, `-name`, `+@netgroup`): an entry getpwent and getgrent
 * list, one getpwnam, getpwuid, getgrnam and getgrgid never return (files-pwd.c, files-grp.c).
 */
export function isCompatName(name: string): boolean {
  return name.startsWith('+') || name.startsWith('-')
}

/** Of `entries`, those getpwnam, getpwuid, getgrnam and getgrgid can return: no compat line (files-pwd.c and files-grp.c skip it in every lookup). */
export function foundEntries<T extends { name: string }>(entries: T[]): T[] {
  return entries.filter((e) => !isCompatName(e.name))
}

/**
 * A line's name (to its first `:`) and what follows: `next`, where its second field starts;
 * `bare`, a compat line that ends at or just after its name's `:` (`+`, `-ann`, `+ann:`), an
 * entry whose other fields are empty and 0 (fgetpwent_r.c's and fgetgrent_r.c's special case).
 * Undefined: a line with no `:` that is no compat line, which glibc refuses.
 */
export function nameField(line: string): { name: string; compat: boolean; bare: boolean; next: number } | undefined {
  const compat = isCompatName(line)
  const colon = line.indexOf(':')
  const name = colon < 0 ? line : line.slice(0, colon)
  if (compat && (colon < 0 || colon === line.length - 1)) return { name, compat, bare: true, next: line.length }
  return colon < 0 ? undefined : { name, compat, bare: false, next: colon + 1 }
}

/** C's isspace in the C locale: space, \t, \n, \v, \f, \r. */
export function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13)
}

const ULONG_MAX = (1n << 64n) - 1n

/**
 * files-parse.c's INT_FIELD (INT_FIELD_MAYBE_NULL on a compat line) at `at`: the number and where
 * the next field starts, or undefined when glibc refuses the line. A number is strtoul's: blanks
 * and a sign before the digits (`-0` is 0), then `:` or the line's end; none on a compat line is
 * 0, which may not end before it. A value above 2^32−1 (`-1` too: strtoul wraps it to 2^64−1)
 * refuses the line: Debian's libc6 does, 2.36 and 2.41 (its _nss_files_parse_pwent tests the
 * value's upper 32 bits); upstream's files-parse.c as read clamps it to 2^32−1 instead.
 */
export function idField(line: string, at: number, compat: boolean): { value: number; next: number } | undefined {
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
    // More than 20 significant digits is above 2^64−1: strtoul's ULONG_MAX, a refused line (below),
    // without a BigInt of a field of any length (4,000,000 digits took 1.5 s: session 49's review, P3).
    let first = start
    while (first < p - 1 && line.charCodeAt(first) === 48) first++
    if (p - first > 20) return undefined
    let n = BigInt(line.slice(first, p))
    if (n > ULONG_MAX) n = ULONG_MAX
    else if (negative && n > 0n) n = (1n << 64n) - n
    if (n > 0xffffffffn) return undefined
    value = Number(n)
    end = p
  } else if (!compat) return undefined // no digits: strtoul's end is the field's start
  if (end < line.length && line[end] !== ':') return undefined
  return { value, next: end < line.length ? end + 1 : end }
}

/** The text from `at` to the next `:` (or the line's end), and where the next field starts. */
export function stringField(line: string, at: number): { value: string; next: number } {
  const end = line.indexOf(':', at)
  return end < 0 ? { value: line.slice(at), next: line.length } : { value: line.slice(at, end), next: end + 1 }
}
