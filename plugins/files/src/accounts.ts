import { foundGroups, passwdUsers, type HostPort } from '@twinsync/sdk'

/** A line of the target's /etc/passwd, as far as the files provider cares. */
export interface Account {
  name: string
  uid: number
  gid: number
  home: string
}

/**
 * User and group names of the TARGET (its own /etc/passwd and /etc/group): the host's names for
 * the same ids differ when the target is a mounted root file system.
 */
export interface Accounts {
  users: Record<string, number>
  groups: Record<string, number>
}

/**
 * The accounts of a passwd text a name or an id resolves to, as getpwnam and getpwuid find them
 * (the SDK's passwdUsers, session 49): the owner mapping, the users whose homes are mirrored, a
 * unit's or a crontab's account. A `+`/`-` line is none: its empty uid was read as 0 here, so a
 * twin's `owner: "+"` became root wherever the target's passwd had `+::::::`, and a `-ann` line
 * was a user named `-ann` (the twin is untrusted input).
 */
export function parsePasswd(text: string): Account[] {
  return passwdUsers(text).map(({ name, uid, gid, home }) => ({ name, uid, gid, home }))
}

/**
 * Group name → gid as getgrnam finds them (the SDK's foundGroups, session 49): the first of a
 * name. A `+`/`-` line is none: its empty gid was read as 0 here, so a twin's `group: "+"` became
 * root's group wherever the target's /etc/group had `+:::`.
 */
export function parseGroup(text: string): Record<string, number> {
  const groups: Record<string, number> = {}
  for (const { name, gid } of foundGroups(text)) if (!(name in groups)) groups[name] = gid
  return groups
}

export async function readAccounts(host: HostPort): Promise<{ accounts: Accounts; passwd: Account[] }> {
  const passwd = parsePasswd((await host.readTextIfExists('/etc/passwd')) ?? '')
  const users: Record<string, number> = {}
  // The first line wins, as getpwnam does.
  for (const a of passwd) if (!(a.name in users)) users[a.name] = a.uid
  const groups = parseGroup((await host.readTextIfExists('/etc/group')) ?? '')
  return { accounts: { users, groups }, passwd }
}

/** id → name, the first name for an id winning (as getpwuid does). */
export function namesById(byName: Record<string, number>): Map<number, string> {
  const out = new Map<number, string>()
  for (const [name, id] of Object.entries(byName)) if (!out.has(id)) out.set(id, name)
  return out
}
