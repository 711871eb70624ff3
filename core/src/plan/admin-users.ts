import { posix } from 'node:path'
import type { HostReader } from '@twinsync/sdk'
import { groupEntries, initgroupsEntries, passwdEntries } from '@twinsync/sdk/light'

/** A user of the machine who may become root: by sudo (a group or a rule), or uid 0 by another name. */
export interface AdminUser {
  user: string
  /** The home from /etc/passwd ("" when none worth naming: "/", root's own). */
  home: string
  /** Why, in words: "in group sudo", "a rule of /etc/sudoers.d/ops". */
  why: string
  /** Their uid from /etc/passwd (an ACL names users by id). */
  uid?: string
  /**
   * Their private group, by name and id: their primary group when no other user is in it (no other
   * member in /etc/group, no other user's primary group in /etc/passwd); none when it is shared
   * (`users`, gid 100, with USERGROUPS=no). Its write opens their files to no one else (session 47,
   * session 46's review R4: the primary gid counted as theirs whoever else was in it).
   */
  ownGroups?: string[]
}

/** Groups that make a member an administrator on Debian and its kin (sudo's and su's pam_wheel). */
const ADMIN_GROUPS = ['sudo', 'admin', 'wheel']

/**
 * Session 25: the users of the machine (never the twin's files: the twin is untrusted input) who
 * may become root — a member of group sudo, admin or wheel, a user or group a sudoers rule names,
 * a second uid 0. Code that runs as such a user is a way to root: a pulled `alias sudo=…` in
 * their .bashrc takes their password at their next sudo. The trust rule (trust-risk.ts) rates the
 * startup files of their homes high with this reason, as it does root's. Read from the machine at
 * each plan and apply (a few small files); sudoers is root's to read: a run that cannot read it
 * goes by the groups alone.
 */
export async function readAdminUsers(host: HostReader): Promise<AdminUser[]> {
  const text = async (path: string): Promise<string> => (await host.readTextIfExists(path).catch(() => undefined)) ?? ''
  // The safe side: every entry getpwent lists, `+`/`-` lines too (session 49, session 48's review
  // F11). One administrator too many rates more startup files high (a question more); one too few
  // lets a pulled .bashrc of a way to root apply unasked. A `+` line with an empty uid is uid 0 to
  // glibc (`+::::::`, the old uid-0 account named `+`): getpwnam and getpwuid skip it under
  // `passwd: files`, but a tool that walks getpwent sees a second root, and under `passwd: compat`
  // the line is how NIS accounts join.
  const users = passwdEntries(await text('/etc/passwd'))
  // The same side for groups: every entry getgrent lists, and every line as initgroups reads it
  // at login (no blank or `#` line skipped: `#old:x:27:ann` puts ann in gid 27, which `%sudo`
  // matches), a group's members being those of every line of its gid.
  const groupText = await text('/etc/group')
  const groups = [...groupEntries(groupText), ...initgroupsEntries(groupText)].map((g) => ({ name: g.name, gid: String(g.gid), members: g.members }))
  const why = new Map<string, string>()
  const add = (name: string, reason: string) => {
    if (name !== 'root' && !why.has(name)) why.set(name, reason)
  }
  const membersOf = (gid: string) => [...groups.filter((g) => g.gid === gid).flatMap((g) => g.members), ...users.filter((u) => String(u.gid) === gid).map((u) => u.name)]
  for (const name of ADMIN_GROUPS) for (const g of groups.filter((x) => x.name === name)) for (const m of membersOf(g.gid)) add(m, `in group ${name}`)
  for (const u of users) if (u.uid === 0) add(u.name, 'uid 0')
  for (const { file, item } of await sudoersUsers(host)) {
    const reason = `named by a rule of ${file}`
    if (item === 'ALL') for (const u of users) add(u.name, `${reason} (ALL: every user)`)
    else if (item.startsWith('%#')) for (const m of membersOf(sudoId(item.slice(2)))) add(m, reason)
    else if (item.startsWith('%')) for (const g of groups.filter((x) => x.name === item.replace(/^%:?/, ''))) for (const m of membersOf(g.gid)) add(m, reason)
    else if (item.startsWith('#')) for (const u of users.filter((x) => String(x.uid) === sudoId(item.slice(1)))) add(u.name, reason)
    else add(item, reason)
  }
  return [...why].map(([user, reason]) => {
    const home = users.find((u) => u.name === user)?.home ?? ''
    const named = home.startsWith('/') && posix.normalize(home) !== '/' && posix.normalize(home) !== '/root' ? posix.normalize(home).replace(/\/$/, '') : ''
    const entry = users.find((u) => u.name === user)
    if (entry === undefined) return { user, home: named, why: reason }
    const shared = users.some((u) => u.name !== user && u.gid === entry.gid) || groups.some((g) => g.gid === String(entry.gid) && g.members.some((m) => m !== user))
    const ownGroups = shared ? [] : [...new Set([String(entry.gid), ...groups.filter((g) => g.gid === String(entry.gid)).map((g) => g.name)])]
    return { user, home: named, why: reason, uid: String(entry.uid), ownGroups }
  })
}

/**
 * A sudoers `#uid` / `%#gid` number as the ids it is compared with are written (String of the
 * number): sudo reads it as a decimal number, so `#01000` is uid 1000 (session 49's review, P0:
 * the ids of /etc/passwd and /etc/group are glibc's numbers, the item's text was compared raw).
 * Not a plain decimal: kept as written, which matches no id.
 */
function sudoId(text: string): string {
  return /^[0-9]{1,20}$/.test(text) ? String(BigInt(text)) : text
}

/**
 * The user items of the sudoers rules (`ann`, `%ops`, `%#1001`, `#1000`, `ALL`), with User_Alias
 * names expanded and negated items left out, from /etc/sudoers and what it includes
 * (`@includedir /etc/sudoers.d`: files without a dot or a trailing ~, as sudo reads them).
 */
async function sudoersUsers(host: HostReader): Promise<Array<{ file: string; item: string }>> {
  const out: Array<{ file: string; item: string }> = []
  const aliases = new Map<string, string[]>()
  const seen = new Set<string>()
  const readOne = async (file: string, depth: number): Promise<void> => {
    if (seen.has(file) || depth > 8) return
    seen.add(file)
    const text = await host.readTextIfExists(file).catch(() => undefined)
    if (text === undefined) return
    for (const raw of text.replace(/\\\n/g, ' ').split('\n')) {
      const line = raw.trim()
      const include = /^[#@](include|includedir)\s+(\S+)/.exec(line)
      if (include !== null) {
        const target = posix.resolve(posix.dirname(file), include[2]!)
        if (include[1] === 'include') await readOne(target, depth + 1)
        else {
          const names = await host.readdir(target).catch(() => [])
          for (const e of names.map((n) => n.name).filter((n) => !n.includes('.') && !n.endsWith('~')).sort()) await readOne(`${target}/${e}`, depth + 1)
        }
        continue
      }
      // A comment runs from a # that is not a uid (`#1000`, `%#27`) to the end of the line.
      const rule = line.replace(/(^|[^%])#(?!\d).*$/, '$1').trim()
      if (rule === '' || /^Defaults\b/.test(rule) || /^(Runas|Host|Cmnd|Cmd)_Alias\b/.test(rule)) continue
      const alias = /^User_Alias\s+(.*)$/.exec(rule)
      if (alias !== null) {
        for (const def of alias[1]!.split(':')) {
          const m = /^\s*([A-Z][A-Z0-9_]*)\s*=\s*(.*)$/.exec(def)
          if (m !== null) aliases.set(m[1]!, m[2]!.split(',').map((s) => s.trim()).filter((s) => s !== ''))
        }
        continue
      }
      // `User_List Host_List = …`: the user list is the first word once ", " is closed up.
      if (!rule.includes('=')) continue
      const first = rule.replace(/\s*,\s*/g, ',').split(/\s+/)[0] ?? ''
      const expand = (item: string, depth2: number): string[] => (aliases.has(item) && depth2 < 8 ? (aliases.get(item) ?? []).flatMap((i) => expand(i, depth2 + 1)) : [item])
      for (const item of first.split(',').flatMap((i) => expand(i, 0))) {
        if (item === '' || item.startsWith('!') || item.startsWith('+')) continue
        out.push({ file, item: item.replace(/^"(.*)"$/, '$1') })
      }
    }
  }
  await readOne('/etc/sudoers', 0)
  return out
}
