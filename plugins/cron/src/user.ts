import { passwdUsers, type HostPort } from '@twinsync/sdk'

/**
 * A crontab's user name goes onto a command line (`crontab -u NAME`) and into a path, so it must
 * be a plain Debian user name (the shape adduser accepts) before anything else looks at it.
 */
export const USER_NAME = /^[a-z_][a-z0-9_-]*[$]?$/

export function isValidUserName(name: string): boolean {
  return name.length <= 32 && USER_NAME.test(name)
}

/** The user names of the TARGET's /etc/passwd (the host's names for the same ids may differ). */
export async function targetUserNames(host: HostPort): Promise<Set<string>> {
  return passwdUserNames((await host.readTextIfExists('/etc/passwd')) ?? '')
}

/**
 * The names of a passwd text that cron and crontab(1) can find (getpwnam: the SDK's passwdUsers,
 * session 49). The safe side is glibc's own list: a name taken from a line glibc refuses (`ann`
 * alone, `ann:x`, a uid that is no number) or from a `+`/`-` line (getpwnam skips it) let a
 * crontab be planned for a user cron skips and `crontab -u` refuses; a user behind leading
 * blanks (` ann:…`, which glibc reads) was refused as unknown.
 */
export function passwdUserNames(text: string): Set<string> {
  return new Set(passwdUsers(text).map((u) => u.name))
}
