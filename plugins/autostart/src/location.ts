import { pathPatternToRegExp } from '@twinsync/sdk'
import { RC_LOCAL, SYSTEM_AUTOSTART_DIR } from './state.js'
import type { TargetAccounts } from './target-accounts.js'

/** The machine paths the autostart provider owns. */
export const AUTOSTART_CLAIMS = [
  RC_LOCAL,
  `${SYSTEM_AUTOSTART_DIR}/*.desktop`,
  '/root/.config/autostart/*.desktop',
  '/home/*/.config/autostart/*.desktop',
] as const

const CLAIM_PATTERNS = AUTOSTART_CLAIMS.map(pathPatternToRegExp)

/** Is `path` one this provider may write? A hand-edited plan must not reach any other file. */
export function isAutostartPath(path: string): boolean {
  return !path.split('/').includes('..') && CLAIM_PATTERNS.some((re) => re.test(path))
}

export function isDesktopEntryPath(path: string): boolean {
  return path !== RC_LOCAL && isAutostartPath(path)
}

export interface EntryLocation {
  scope: 'system' | 'user'
  /** The user whose login starts entries of this place. */
  user?: string
  /** The home directory an entry lives under (user scope). */
  home?: string
}

/** Whose entry a path is: rc.local and /etc/xdg/autostart are the system's; /home/X belongs to the user with that home, else to X. */
export function locationOf(path: string, accounts: TargetAccounts): EntryLocation {
  // rc.local is the system's too: it is not under a home (taking /etc/rc.local for one made creating it fail).
  if (path === RC_LOCAL || path.startsWith(SYSTEM_AUTOSTART_DIR + '/')) return { scope: 'system' }
  const home = path.startsWith('/root/') ? '/root' : path.split('/').slice(0, 3).join('/')
  const user = accounts.userWithHome(home)?.name ?? (home === '/root' ? 'root' : home.slice('/home/'.length))
  return { scope: 'user', user, home }
}

/** Folders that may hold autostart entries on the target: /etc/xdg/autostart, root's (`withRoot`) and each /home's named. */
export function autostartDirs(homes: readonly string[], withRoot = true): string[] {
  return [SYSTEM_AUTOSTART_DIR, ...(withRoot ? ['/root/.config/autostart'] : []), ...homes.map((h) => `/home/${h}/.config/autostart`)]
}
