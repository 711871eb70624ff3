/** A user of a passwd file (passwd(5)), its fields as written. */
export interface PasswdEntry {
  name: string
  /** As written ("1000"; the caller decides what it takes for a number). */
  uid: string
  gid: string
  home: string
  /** undefined on a line of six fields (no shell field: glibc takes /bin/sh). */
  shell: string | undefined
}

/**
 * The users of an /etc/passwd text, in the file's order: the core's one reader of it (the apt
 * hook's root home, the administrators of trust-risk, the process facts' user names). A line is a
 * user when it has a name and at least six fields (name, password, uid, gid, gecos, home), as
 * glibc's files database reads it; blank lines, comment lines (`#`) and NIS compat lines (`+`,
 * `+name`, `-name`, `+@netgroup`: they name no user of this file) are not. The last line needs no
 * newline.
 */
export function passwdEntries(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = []
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#') || line.startsWith('+') || line.startsWith('-')) continue
    const f = line.split(':')
    if (f.length < 6 || f[0] === '') continue
    out.push({ name: f[0] as string, uid: f[2] as string, gid: f[3] as string, home: f[5] as string, shell: f[6] })
  }
  return out
}
