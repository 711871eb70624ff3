import { checkTargetPath, isWithin, type HostPort } from '@twinsync/sdk'
import { readAccounts, type Account } from './accounts.js'

/** Users whose home files are mirrored: root, and everyone with uid >= 1000 and an existing home. */
export async function selectUsers(
  host: HostPort,
  passwd: readonly Account[],
  wanted: 'default' | readonly string[],
): Promise<{ users: Account[]; unknown: string[] }> {
  if (wanted !== 'default') {
    const users = wanted.flatMap((name) => passwd.filter((a) => a.name === name).slice(0, 1))
    const unknown = wanted.filter((name) => !passwd.some((a) => a.name === name))
    return { users: users.filter((a) => a.home.startsWith('/')), unknown }
  }
  const users: Account[] = []
  for (const account of passwd) {
    // 65534 is "nobody", whose home /nonexistent is a promise, not a place.
    const candidate = account.uid === 0 || (account.uid >= 1000 && account.uid !== 65534)
    if (!candidate || !account.home.startsWith('/') || account.home === '/') continue
    if ((await host.stat(account.home))?.type === 'directory') users.push(account)
  }
  return { users, unknown: [] }
}

/**
 * The include list as absolute target paths: "~/x" once per selected user. Sorted, without
 * duplicates, and without roots that sit inside another root (they are walked anyway).
 */
export function expandIncludes(include: readonly string[], users: readonly Account[]): string[] {
  const paths = new Set<string>()
  for (const pattern of include) {
    if (pattern.startsWith('~/')) {
      for (const user of users) paths.add(checkTargetPath(`${user.home}/${pattern.slice(2)}`))
    } else {
      paths.add(checkTargetPath(pattern))
    }
  }
  const sorted = [...paths].sort()
  return sorted.filter((p) => !sorted.some((q) => q !== p && isWithin(p, q)))
}

/** Is a target path inside the expanded include set? */
export function isIncluded(path: string, roots: readonly string[]): boolean {
  return roots.some((root) => isWithin(path, root))
}

/**
 * What the files provider mirrors on a target, as target paths with the include entry each came
 * from: the same users and expansion as a snapshot. For the check of where the twin may live.
 */
export async function mirroredPaths(
  host: HostPort,
  include: readonly string[],
  wanted: 'default' | readonly string[],
): Promise<Array<{ include: string; path: string }>> {
  const { users } = await selectUsers(host, (await readAccounts(host)).passwd, wanted)
  const out: Array<{ include: string; path: string }> = []
  for (const pattern of include) {
    const homes = pattern.startsWith('~/') ? users.map((u) => `${u.home}/${pattern.slice(2)}`) : [pattern]
    for (const path of homes) {
      try {
        out.push({ include: pattern, path: checkTargetPath(path) })
      } catch {
        // A malformed entry is the configuration check's to refuse, with its key.
      }
    }
  }
  return out
}
