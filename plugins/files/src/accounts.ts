import type { HostPort } from '@twinsync/sdk'

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

export function parsePasswd(text: string): Account[] {
  const accounts: Account[] = []
  for (const line of text.split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) continue
    const [name, , uid, gid, , home] = line.split(':')
    if (name === undefined || uid === undefined || gid === undefined) continue
    const u = Number(uid)
    const g = Number(gid)
    if (!Number.isInteger(u) || !Number.isInteger(g)) continue
    accounts.push({ name, uid: u, gid: g, home: home ?? '' })
  }
  return accounts
}

export function parseGroup(text: string): Record<string, number> {
  const groups: Record<string, number> = {}
  for (const line of text.split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) continue
    const [name, , gid] = line.split(':')
    const g = Number(gid)
    if (name !== undefined && Number.isInteger(g) && !(name in groups)) groups[name] = g
  }
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
