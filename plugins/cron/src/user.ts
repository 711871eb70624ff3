import type { HostPort } from '@twinsync/sdk'

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
  const passwd = (await host.readTextIfExists('/etc/passwd')) ?? ''
  const names = new Set<string>()
  for (const line of passwd.split('\n')) {
    const name = line.split(':')[0]
    if (name !== undefined && name.length > 0 && !name.startsWith('#')) names.add(name)
  }
  return names
}
