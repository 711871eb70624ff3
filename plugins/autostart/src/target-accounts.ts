import { foundGroups, passwdUsers, type HostPort } from '@twinsync/sdk'

export interface TargetUser {
  name: string
  uid: number
  gid: number
  home: string
}

/**
 * Users and groups of the TARGET (its /etc/passwd and /etc/group): the host's names for the
 * same ids may differ, so names are never taken from the host.
 */
export class TargetAccounts {
  private constructor(
    readonly users: readonly TargetUser[],
    private readonly groups: ReadonlyMap<string, number>,
  ) {}

  static async read(host: HostPort): Promise<TargetAccounts> {
    // The users getpwnam and getpwuid find and the groups getgrnam and getgrgid find (the SDK's
    // passwdUsers and foundGroups, session 49): a `+`/`-` line is no owner or group a file is
    // named by or written for, one behind leading blanks is one.
    const users: TargetUser[] = passwdUsers((await host.readTextIfExists('/etc/passwd')) ?? '')
      .filter((u) => u.name !== '')
      .map(({ name, uid, gid, home }) => ({ name, uid, gid, home }))
    const groups = new Map<string, number>()
    for (const { name, gid } of foundGroups((await host.readTextIfExists('/etc/group')) ?? '')) if (name !== '' && !groups.has(name)) groups.set(name, gid)
    return new TargetAccounts(users, groups)
  }

  userName(uid: number): string {
    return this.users.find((u) => u.uid === uid)?.name ?? String(uid)
  }

  groupName(gid: number): string {
    for (const [name, id] of this.groups) if (id === gid) return name
    return String(gid)
  }

  user(name: string): TargetUser | undefined {
    return this.users.find((u) => u.name === name)
  }

  /** A user name (or a number) as a uid; undefined when the target has no such user. */
  uidOf(owner: string): number | undefined {
    return isId(owner) ? Number(owner) : this.user(owner)?.uid
  }

  gidOf(group: string): number | undefined {
    return isId(group) ? Number(group) : this.groups.get(group)
  }

  /** The user whose home directory is `home` (/home/ann is usually ann, but need not be). */
  userWithHome(home: string): TargetUser | undefined {
    return this.users.find((u) => u.home === home)
  }
}

function isId(value: string | undefined): value is string {
  return value !== undefined && /^\d+$/.test(value)
}
