import { posix } from 'node:path'
import type { Change } from '@twinsync/sdk'
import { xattrBytes } from '@twinsync/sdk/light'
import type { HostReader } from '@twinsync/sdk'
import { readAdminUsers, type AdminUser } from './admin-users.js'
import { linkIntoTwin, twinNamedIn, twinOnTarget } from './twin-places.js'

/** What the trust rule reads of the machine beside the plan: who may become root, and where the run's twin lies. */
export interface TrustContext {
  /** The users who may become root (readAdminUsers), their startup files rated as root's. */
  admins?: readonly AdminUser[]
  /** The run's twin repository as machine paths of the target (twinOnTarget); none when it lies outside. */
  twin?: readonly string[]
  /**
   * The extended attributes each entry a change sets an ACL on has now (read from the machine,
   * readTrustContext with the plan's changes): an ACL entry that could write before opens nothing
   * new (session 47, session 46's review R5). None known: every entry is new, the safe side.
   */
  live?: ReadonlyMap<string, Readonly<Record<string, string>>>
}

/**
 * The trust rule's context for a run on `host` whose twin is `twinDir` (the planner, a saved plan's
 * re-rating, apply's check), with the attributes now of each entry of `changes` that sets an ACL
 * (one getfattr each: a rare change).
 */
export async function readTrustContext(host: HostReader & { readonly root: string }, twinDir: string, changes: readonly Change[] = []): Promise<TrustContext> {
  const live = new Map<string, Readonly<Record<string, string>>>()
  for (const c of changes) {
    const data = (c.data ?? {}) as { path?: unknown; xattrs?: unknown }
    if (typeof data.path !== 'string' || typeof data.xattrs !== 'object' || data.xattrs === null || live.has(data.path)) continue
    if (!Object.keys(data.xattrs).some((name) => name.startsWith('system.posix_acl_'))) continue
    const attributes = await host.readAttributes(data.path).catch(() => undefined)
    if (attributes !== undefined) live.set(data.path, attributes.xattrs)
  }
  return { admins: await readAdminUsers(host), twin: twinOnTarget(host.root, twinDir), live }
}

/** The twin's folders and the plan's links (path -> target), for a link's target through them. */
interface TwinSight {
  dirs: readonly string[]
  links: ReadonlyMap<string, string>
}
const NO_TWIN: TwinSight = { dirs: [], links: new Map() }

/**
 * Changes that hand out root or change whom the machine trusts, whichever provider plans them:
 * an apt source trusted without a signature, a signing key, an apt hook, a sudo rule, an SSH
 * key that logs in, a library every program loads, a PAM line, a setuid or setgid file, file
 * capabilities. Each is code running as root (or a door to it), yet was rated like any file of
 * /etc (session 19: a pulled `/etc/apt/apt.conf.d/99x` with `DPkg::Pre-Invoke` was a low-risk
 * create). The planner makes such a change high risk with this reason (`riskReason`), which both
 * front ends show beside it. The one rule, read from the change's machine path and, for a write,
 * its text and mode (`data: { action, path, text, mode, capabilities }`, the files provider's and
 * any plugin's that writes whole files the same way; the cron and autostart providers' `{ path,
 * content }`, content null to remove). Session 20 added the other ways to root or a login (RULES
 * below: systemd units and generators, cron, login shells, boot scripts, udev, modprobe, sshd…).
 */
export function trustReason(change: Change, keyrings: ReadonlySet<string> = new Set(), admins: readonly AdminUser[] = [], twin: TwinSight = NO_TWIN, live: TrustContext['live'] = new Map()): string | undefined {
  const own = ownReason(change, keyrings, twin, live)
  if (own !== undefined) return own
  const admin = adminReason(change, admins, live)
  if (admin !== undefined) return admin
  // A link in place of a folder whose content the rules name (or a folder above one): what it
  // points at becomes that content (session 24: a pulled /etc/systemd/system-generators ->
  // /home/ann/gen was a low-risk create; systemd runs ann's executables there as root at boot).
  const data = (change.data ?? {}) as { action?: unknown; path?: unknown; uid?: unknown }
  const path = typeof data.path === 'string' ? data.path : change.resource
  if (!path.startsWith('/')) return undefined
  // A folder or file made another user's where the rules name the content (a new
  // /etc/systemd/system-generators owned by uid 1000): that user adds or changes what root runs.
  if ((data.action === 'mkdir' || data.action === 'write') && typeof data.uid === 'number' && data.uid !== 0) {
    if (TRUST_FOLDERS.some((f) => f === path || f.startsWith(`${path}/`) || path.startsWith(`${f}/`))) return `given to another user (uid ${data.uid}): they can change what root reads or runs`
  }
  if (data.action !== 'symlink') return undefined
  for (const folder of TRUST_FOLDERS) {
    if (folder !== path && !folder.startsWith(`${path}/`)) continue
    for (const inner of [{ action: 'symlink', path: `${folder}/x` }, { action: 'symlink', path: `${folder}/x.pm` }, { action: 'write', path: `${folder}/x`, text: '', mode: 0o755 }]) {
      const reason = ownReason({ ...change, resource: inner.path, data: inner }, keyrings)
      if (reason !== undefined) return `a link in place of the folder ${folder}: ${reason.replace(/ \(a link: what it points at decides\)$/, '')} (what it points at decides)`
    }
  }
  return undefined
}

/**
 * Session 25: a startup file of a user who may become root (`admins`: read from the machine's
 * /etc/group, /etc/passwd and sudoers by admin-users.ts, never from the twin): what it runs, runs
 * as that user, and a user who may sudo is one password away from root (a pulled `alias sudo=…`
 * in /home/ann/.bashrc takes it). Before, only root's own were named; ann's were a medium replace.
 * Named: whatever a write or link puts at a dot-path of the home (shell startup, ~/.config's
 * autostart, user units and environment, ~/.ssh/rc, .gitconfig, .vimrc… — all the default scope
 * holds of a home) but ~/.cache, a program in ~/bin or ~/.local/bin (Debian's .profile puts them
 * on the PATH, before /usr/bin), and the user's crontab.
 */
function adminReason(change: Change, admins: readonly AdminUser[], live: TrustContext['live'] = new Map()): string | undefined {
  if (admins.length === 0) return undefined
  const data = (change.data ?? {}) as { action?: unknown; path?: unknown; content?: unknown; mode?: unknown }
  const action = typeof data.action === 'string' ? data.action : typeof data.content === 'string' ? 'write' : undefined
  const mode = modeGiven(data)
  const path = typeof data.path === 'string' ? data.path : change.resource
  if (action === 'chmod' || action === 'chown' || action === 'attributes' || action === 'mkdir') return adminPlaceOpened(change, action, path, mode, admins, live.get(path))
  if (action !== 'write' && action !== 'symlink') return undefined
  if (change.provider === 'autostart' && change.operation === 'disable') return undefined
  for (const admin of admins) {
    let what: string | undefined
    if (path === `/var/spool/cron/crontabs/${admin.user}`) what = 'their crontab: its jobs run as them'
    else if (admin.home !== '' && path.startsWith(`${admin.home}/`)) {
      const inHome = path.slice(admin.home.length + 1)
      if (/^(bin|\.local\/bin)\/[^/]+$/.test(inHome) && (action === 'symlink' || (mode !== undefined && (mode & 0o111) !== 0))) what = 'a program on their PATH (~/bin, ~/.local/bin come before the system\'s)'
      else if (/^\.(?!cache(\/|$))/.test(inHome)) what = 'a startup file of their home: their shells, desktop and tools run what it says (aliases, PATH, autostart, user units)'
    }
    if (what !== undefined) return `${admin.user} may become root (${admin.why}): ${what}, so code run as ${admin.user} can take root at their next sudo (an \`alias sudo=…\` takes the password)`
  }
  return undefined
}

/**
 * Session 45: the same places opened to other users by a mode or owner change alone (chmod, chown,
 * attributes, a folder made): a startup file or program of the home, a dot-folder or ~/bin on the
 * way to one, or the home itself, given group or other write it lacked (group write of the user's
 * own group, or root's, opens nothing), or given to another user than its own and root. Whoever
 * can then write there runs code as that user, and so takes root at their next sudo. Before, a
 * pulled manifest's `/home/ann/.bashrc` 0666, `~/.profile` given to bob and `~/.config` 0777 of a
 * user in group sudo were three low-risk changes `apply --yes` made (openedToOthers judges only
 * root's own folders, and the rule above only what a write puts there). Session 46 (session 45's
 * review, M4): or by an ACL, through newWriters as aclOpened judges root's folders: a pulled
 * `user:bob:rw-` on ann's .bashrc was a medium "set system.posix_acl_access".
 */
function adminPlaceOpened(change: Change, action: string, path: string, mode: number | undefined, admins: readonly AdminUser[], live: Readonly<Record<string, string>> | undefined): string | undefined {
  const writers = newWriters(change, action, mode, live)
  if (writers.length === 0) return undefined
  for (const admin of admins) {
    if (admin.home === '' || (path !== admin.home && !path.startsWith(`${admin.home}/`))) continue
    const inHome = path.slice(admin.home.length + 1)
    if (inHome !== '' && !/^(bin|\.local\/bin)(\/[^/]+)?$/.test(inHome) && !/^\.(?!cache(\/|$))/.test(inHome) && inHome !== '.local') continue
    const what = inHome === '' ? 'their home folder' : /^(bin|\.local\/bin)(\/|$)|^\.local$/.test(inHome) ? 'a program folder of their PATH or a program in it' : 'a startup file or folder of their home'
    const other = writers.find((w) => (w.user === undefined || (w.user !== admin.user && w.user !== admin.uid)) && (w.group === undefined || !(admin.ownGroups ?? []).includes(w.group)))
    if (other !== undefined) return `${admin.user} may become root (${admin.why}): ${what} ${other.how}, who can then run code as ${admin.user} and take root at their next sudo`
  }
  return undefined
}

/**
 * Who may write the entry after a mode, owner or ACL change (chmod, chown, attributes, a folder
 * made) who could not before, but root: every user (other write it lacked), its group (group write
 * it lacked, by the group's name or id), a new owner, a named user or group of an ACL it sets
 * (the files provider's `xattrs`, the entry's final set: what the mask lets through; a default
 * ACL is what a folder's new files get). `user` and `group` name whom, for a caller to leave out
 * the entry's own user (adminPlaceOpened); `how` says it. The one notion adminPlaceOpened and
 * aclOpened share (session 46).
 */
function newWriters(change: Change, action: string, mode: number | undefined, live: Readonly<Record<string, string>> | undefined): Array<{ how: string; user?: string; group?: string; acl?: boolean }> {
  const was = /^\S+ ([0-7]{3,4}) ([^:\s]+):(\S+)/.exec(change.before ?? '')
  const now = /^\S+ ([0-7]{3,4}) ([^:\s]+):(\S+)/.exec(change.after ?? '')
  const wasMode = was?.[1] === undefined ? 0 : parseInt(was[1], 8)
  const data = (change.data ?? {}) as { owner?: unknown; group?: unknown; xattrs?: unknown }
  const owner = typeof data.owner === 'string' ? data.owner : now?.[2]
  const group = typeof data.group === 'string' ? data.group : now?.[3]
  const root = (id: string | undefined) => id === undefined || id === 'root' || id === '0'
  const out: Array<{ how: string; user?: string; group?: string; acl?: boolean }> = []
  const write = action === 'chown' || mode === undefined ? 0 : mode & 0o022 & ~wasMode
  if ((write & 0o002) !== 0) out.push({ how: 'opened for writing by every user' })
  if ((write & 0o020) !== 0 && !root(group)) out.push({ how: `opened for writing by the group ${group}`, group: group as string })
  if (action !== 'chmod' && !root(owner) && owner !== was?.[2]) out.push({ how: `given to ${/^\d+$/.test(owner as string) ? `uid ${owner}` : owner}`, user: owner as string })
  if (action === 'attributes' || action === 'mkdir' || action === 'write') {
    const could = ableBefore(change, live, 2)
    for (const e of aclEntries(data.xattrs, modeAfter(change, mode))) {
      if (e.id === 0 || (e.perm & 2) === 0 || could(e)) continue
      const how = `opened for writing by ${e.user ? 'the user uid' : 'the group gid'} ${e.id} by an ACL${e.folder ? ' (the ACL new files of the folder get)' : ''}`
      out.push({ how, ...(e.user ? { user: String(e.id) } : { group: String(e.id) }), acl: true })
    }
  }
  return out
}

/**
 * Folders whose content the rules below name, deepest first where one holds another: a link at
 * one of them, or at a folder above one, is judged by what a file inside would be.
 */
const TRUST_FOLDERS: readonly string[] = [
  '/etc/apt/apt.conf.d', '/etc/apt/sources.list.d', '/etc/apt/trusted.gpg.d', '/etc/apt/keyrings', '/etc/sudoers.d',
  '/etc/ssh/sshd_config.d', '/etc/pam.d', '/etc/security', '/etc/ld.so.conf.d', '/etc/profile.d', '/etc/bash_completion.d', '/etc/zsh',
  '/etc/cron.d', '/etc/cron.hourly', '/etc/cron.daily', '/etc/cron.weekly', '/etc/cron.monthly', '/etc/cron.yearly',
  '/etc/init.d', '/etc/update-motd.d', '/etc/udev/rules.d', '/etc/modprobe.d', '/etc/sysctl.d', '/etc/binfmt.d', '/etc/tmpfiles.d',
  '/etc/polkit-1/rules.d', '/etc/xdg/autostart', '/etc/dpkg/dpkg.cfg.d', '/etc/logrotate.d', '/etc/perl', '/etc/environment.d',
  '/etc/network/interfaces.d', '/etc/network/if-up.d', '/etc/network/if-down.d', '/etc/network/if-pre-up.d', '/etc/network/if-post-down.d',
  '/etc/dhcp/dhclient-enter-hooks.d', '/etc/dhcp/dhclient-exit-hooks.d', '/etc/NetworkManager/dispatcher.d', '/etc/default',
  '/etc/initramfs-tools/conf.d', '/etc/initramfs-tools/hooks', '/etc/initramfs-tools/scripts', '/etc/kernel/postinst.d', '/etc/kernel/prerm.d',
  '/etc/grub.d', '/etc/ssl/certs', '/etc/ca-certificates', '/etc/X11/Xsession.d', '/etc/vim', '/etc/xinetd.d', '/etc/exports.d',
  '/etc/systemd/system', '/etc/systemd/system.control', '/etc/systemd/system.attached', '/etc/systemd/user', '/etc/systemd/system-generators', '/etc/systemd/user-generators',
  '/etc/systemd/system-environment-generators', '/etc/systemd/system.conf.d', '/etc/systemd/user.conf.d',
  '/usr/local/bin', '/usr/local/sbin', '/usr/local/lib/systemd/system', '/usr/local/share/keyrings', '/usr/local/share/ca-certificates',
  '/usr/local/share/perl', '/usr/share/keyrings', '/usr/lib/systemd/system', '/usr/lib/systemd/system-generators', '/root',
  '/etc/alternatives',
]

function ownReason(change: Change, keyrings: ReadonlySet<string>, twin: TwinSight = NO_TWIN, live: TrustContext['live'] = new Map()): string | undefined {
  const data = (change.data ?? {}) as { action?: unknown; path?: unknown; text?: unknown; content?: unknown; mode?: unknown; capabilities?: unknown; user?: unknown; target?: unknown }
  // The files provider's `{ action, text }`; the cron and autostart providers' whole file in `content` (null removes it).
  let action = typeof data.action === 'string' ? data.action : undefined
  let text = action === 'write' && typeof data.text === 'string' ? data.text : undefined
  if (action === undefined && typeof data.content === 'string') [action, text] = ['write', data.content]
  else if (action === undefined && data.content === null) action = 'delete'
  const path = typeof data.path === 'string' ? data.path : change.resource
  if (!path.startsWith('/')) return undefined
  const mode = modeGiven(data)
  // Mode and capabilities: whoever runs the file gets its owner's (root's) powers.
  if (typeof data.capabilities === 'string' && data.capabilities !== '' && (action === 'write' || action === 'attributes' || action === 'mkdir')) {
    return 'file capabilities: whoever runs it gets those powers of root'
  }
  // New content in such a file is new code run with those powers; a mode change the provider
  // already rated high (it grants the bit) gets the reason, one that keeps or drops it does not.
  if (mode !== undefined && (mode & 0o6000) !== 0 && (action === 'write' || ((action === 'chmod' || action === 'attributes') && change.risk === 'high'))) {
    return `${(mode & 0o4000) !== 0 ? 'setuid' : 'setgid'}: runs as its ${(mode & 0o4000) !== 0 ? 'owner' : 'group'} for whoever runs it`
  }
  // A mode or owner change that hands a file root reads or runs to other users (session 23: a
  // pulled /etc/crontab 0646 or /etc/shadow 0644 was low, /etc/sudoers given to postgres medium).
  const opened = openedToOthers(action, path, mode, data.user === undefined ? (data as { uid?: unknown }).uid : undefined, change.before, change.after)
  if (opened !== undefined) return opened
  const byAcl = aclOpened(action, path, (data as { xattrs?: unknown }).xattrs, change, mode, live.get(path))
  if (byAcl !== undefined) return byAcl
  // A mode change alone that makes an existing file executable where being executable is what
  // makes it run (run-parts folders, rc.local, init.d, hook folders): its content, unchanged,
  // now runs as root (session 21; before, a chmod +x of /etc/cron.daily/x was a low-risk change).
  const madeExecutable = (action === 'chmod' || action === 'attributes') && mode !== undefined && (mode & 0o111) !== 0 && !wasExecutable(change.before)
  if (madeExecutable && ROOT_PATH_PROGRAM.test(path)) return `made executable: ${ON_ROOT_PATH}`
  if (madeExecutable && path.startsWith('/etc/') && !change.before?.startsWith('directory ')) {
    const hook = RUN_WHEN_EXECUTABLE.find((h) => h.path.test(path))
    return hook !== undefined ? `made executable: ${hook.reason}` : 'made executable under /etc: hook folders there run it as root'
  }
  // What follows is about a file's content or its being there: a write or a link put in place.
  if (action !== 'write' && action !== 'symlink') return undefined
  // An autostart entry switched off (Hidden=true) starts nothing.
  if (change.provider === 'autostart' && change.operation === 'disable') return undefined
  const named = text === undefined ? undefined : twinNamedIn(text, twin.dirs)
  if (named !== undefined) return `names ${named}, ${TWIN_NAMED}`
  const linked = action === 'symlink' && typeof data.target === 'string' ? linkIntoTwin(path, data.target, twin.dirs, twin.links) : undefined
  if (linked !== undefined) return `a link to ${linked}, ${TWIN_NAMED}`
  if (APT_KEYRING.test(path) || keyrings.has(path)) return 'an apt signing key: packages it signs install as root'
  if (APT_SOURCE.test(path)) {
    if (text === undefined) return action === 'symlink' ? 'an apt source (a link): packages from it install as root' : undefined
    if (INSECURE_SOURCE.test(text)) return 'an apt source trusted without a valid signature (trusted/allow-insecure): its packages install as root unchecked'
    return undefined
  }
  if (APT_CONF.test(path)) {
    if (text === undefined) return action === 'symlink' ? 'apt configuration (a link): may run commands as root on every apt run' : undefined
    if (APT_HOOK.test(text)) return 'an apt hook: runs its command as root on every apt or dpkg run'
    if (APT_INSECURE.test(text)) return 'apt told to accept unsigned or insecure packages'
    return undefined
  }
  if (SUDOERS.test(path)) return text !== undefined && /\bNOPASSWD\s*:/.test(text) ? 'a sudo rule without a password: root for whoever it names' : 'sudo rules: who may run what as root'
  if (AUTHORIZED_KEYS.test(path)) return 'SSH authorized keys: each key logs in as that user'
  if (path === '/etc/ld.so.preload') return 'a library loaded into every program, root\'s too'
  if (path === '/etc/ld.so.conf' || path.startsWith('/etc/ld.so.conf.d/')) return 'where every program, root\'s too, finds its libraries'
  if (path === '/etc/pam.conf' || path.startsWith('/etc/pam.d/')) return 'PAM: how logins, su and sudo check who you are'
  if (path === ROOT_CRONTAB) return 'root\'s crontab: its jobs run as root'
  // A program in a folder of root's PATH: an executable, or a link (what it points at decides).
  if (ROOT_PATH_PROGRAM.test(path) && (action === 'symlink' || (mode !== undefined && (mode & 0o111) !== 0))) return action === 'symlink' ? `${ON_ROOT_PATH} (a link: what it points at decides)` : ON_ROOT_PATH
  for (const rule of RULES) {
    if (!rule.path.test(path)) continue
    if (rule.when === undefined) return rule.reason
    // A link to a file the same rule judges when it is written (nginx's sites-enabled/x ->
    // ../sites-available/x) is that file's matter; any other link: what it points at decides.
    if (text === undefined) return action === 'symlink' && !linksWithin(rule.path, path, data.target) ? `${rule.reason} (a link: what it points at decides)` : undefined
    if (typeof rule.when === 'function' ? rule.when(text) : rule.when.test(text)) return rule.reason
  }
  // Hook folders under /etc (if-up.d, kernel/postinst.d, grub.d, NetworkManager/dispatcher.d…) run their executables as root.
  if (action === 'write' && mode !== undefined && (mode & 0o111) !== 0 && path.startsWith('/etc/')) return 'an executable under /etc: hook folders there run it as root'
  return undefined
}

/**
 * A systemd change of the systemd provider (enable, unmask, start, restart…) of a unit whose file
 * or drop-in this plan writes (or a unit every boot opens a root shell with): what it names runs
 * as root. `written` holds the unit names the plan's file changes write in a unit folder.
 */
function unitReason(change: Change, written: ReadonlyMap<string, string>): string | undefined {
  const unit = (change.data as { unit?: unknown } | undefined)?.unit
  if (typeof unit !== 'string' || !STARTS_UNIT.has(change.operation)) return undefined
  if (ROOT_SHELL_UNITS.has(unit)) return `${unit}: a root shell on a console with no password`
  const at = unit.indexOf('@')
  const template = at < 0 ? undefined : unit.slice(0, at + 1) + unit.slice(unit.lastIndexOf('.'))
  const file = written.get(unit) ?? (template === undefined ? undefined : written.get(template))
  return file === undefined ? undefined : `a unit this plan writes (${file}): the commands it names run as root`
}

/**
 * The planner's step: every change `trustReason` names is high risk, with its reason. A keyring a
 * planned apt source names with `signed-by` counts as a signing key wherever it lies.
 */
export function markTrustChanges(changes: Change[], context: TrustContext = {}): void {
  const admins = context.admins ?? []
  const keyrings = new Set<string>()
  for (const c of changes) {
    const data = (c.data ?? {}) as { action?: unknown; path?: unknown; text?: unknown }
    if (data.action !== 'write' || typeof data.path !== 'string' || typeof data.text !== 'string' || !APT_SOURCE.test(data.path)) continue
    for (const m of data.text.matchAll(SIGNED_BY)) for (const p of m[1]?.split(',') ?? []) if (p.startsWith('/')) keyrings.add(p.trim())
  }
  // Units whose file or drop-in the plan writes or links: starting or enabling them runs that.
  const written = new Map<string, string>()
  for (const c of changes) {
    const data = (c.data ?? {}) as { action?: unknown; path?: unknown }
    if ((data.action !== 'write' && data.action !== 'symlink') || typeof data.path !== 'string') continue
    const m = SYSTEMD_UNIT_FILE.exec(data.path)
    if (m?.[1] !== undefined && !written.has(m[1])) written.set(m[1], data.path)
  }
  // The plan's links, for a link's target that passes through another (twin-places.ts).
  const links = new Map<string, string>()
  for (const c of changes) {
    const data = (c.data ?? {}) as { action?: unknown; path?: unknown; target?: unknown }
    if (data.action === 'symlink' && typeof data.path === 'string' && typeof data.target === 'string') links.set(data.path, data.target)
  }
  const twin: TwinSight = { dirs: context.twin ?? [], links }
  for (const [i, c] of changes.entries()) {
    const reason = trustReason(c, keyrings, admins, twin, context.live) ?? unitReason(c, written)
    if (reason !== undefined) changes[i] = { ...c, risk: 'high', riskReason: reason }
  }
}

const APT_KEYRING = /^\/(etc\/apt\/trusted\.gpg(\.d\/.+)?|etc\/apt\/keyrings\/.+|usr\/share\/keyrings\/.+|usr\/local\/share\/keyrings\/.+)$/
const APT_SOURCE = /^\/etc\/apt\/(sources\.list|sources\.list\.d\/.+)$/
const APT_CONF = /^\/etc\/apt\/(apt\.conf|apt\.conf\.d\/.+)$/
const SUDOERS = /^\/etc\/(sudoers|sudoers\.d\/.+)$/
const AUTHORIZED_KEYS = /(^\/etc\/ssh\/authorized_keys(\/|$))|\/authorized_keys2?$/
/** One-line `[trusted=yes allow-insecure=yes]` options, or deb822's `Trusted: yes`. */
const INSECURE_SOURCE = /\b(trusted|allow-insecure|allow-weak|allow-downgrade-to-insecure)\s*[=:]\s*(yes|true|1)\b/i
/**
 * apt options that run a command or choose the programs apt runs, in `::` or nested `{ }` form
 * alike (so matched by the option's own word): dpkg's and apt's invoke hooks, Pre-Install-Pkgs,
 * a proxy detector, `Dir::Bin::…`. A comment naming one is rated high too: the safe side.
 */
const APT_HOOK = /\b(Pre-Invoke|Post-Invoke|Post-Invoke-Success|Pre-Install-Pkgs|Proxy-Auto-Detect)\b|\bDir\s*::\s*Bin\b|\bBin\s*\{/i
const APT_INSECURE = /\b(AllowUnauthenticated|AllowInsecureRepositories|AllowDowngradeToInsecureRepositories|AllowWeakRepositories|Check-Valid-Until|Check-Date)\b/i
const SIGNED_BY = /signed-by\s*[=:]\s*([^\s\]]+)/gi

const ROOT_CRONTAB = '/var/spool/cron/crontabs/root'
/**
 * A file right in a folder of root's PATH (Debian's: /usr/local/sbin, /usr/local/bin, /usr/sbin,
 * /usr/bin, /sbin, /bin; sudo's secure_path the same): root, its scripts, cron jobs and units run
 * it by name, and /usr/local/* comes first, so a new /usr/local/bin/ls is every later `ls` of
 * root's. /usr/local/bin is in files.include by default: before session 23 a pulled executable
 * there was a low-risk create, applied by `--yes` alone.
 */
const ROOT_PATH_PROGRAM = /^\/(?:usr\/local\/|usr\/)?s?bin\/[^/]+$/
/** An fstab line (not a comment) with a bind (or rbind) option whose mount point is a folder of root's programs or settings. */
const FSTAB_BIND_OVER_SYSTEM = /^[ \t]*[^#\s]\S*[ \t]+\/(?:usr|bin|sbin|lib\w*|etc|root|boot|opt|var\/lib)(?:\/\S*)?[ \t]+\S+[ \t]+\S*\b(?:r?bind)\b/m

const ON_ROOT_PATH = "a program on root's PATH: runs as root whenever root, a script, cron or a unit calls it by name (in /usr/local it comes before the system's own)"
/** Folders systemd reads units from (system and user managers), and where generators lie. */
const UNIT_DIRS = '(?:etc|run|usr/local/lib|usr/lib|lib)/systemd'
/**
 * The folders of UNIT_DIRS the system manager loads units and drop-ins from (`systemd-analyze
 * unit-paths`): `system`, and (session 26) `system.control` (set-property's, first of all),
 * `system.attached` (portable services'), `transient` and the generators' output. Before, only
 * `system` was named: a pulled /etc/systemd/system.control/cron.service.d/50-x.conf with an
 * ExecStartPre= was a low-risk create that `pull --yes` applied, and cron ran it as root at the
 * next daemon-reload (tried on a booted Debian 12: DropInPaths listed it, `id` ran as root).
 */
const SYSTEM_UNITS = `${UNIT_DIRS}/(?:system|system\\.control|system\\.attached|transient|generator|generator\\.early|generator\\.late)`
/** A unit file, a drop-in (`x.service.d/y.conf`) or an enabling link (`multi-user.target.wants/x.service`): group 1 the unit. */
const SYSTEMD_UNIT_FILE = new RegExp(`^/${SYSTEM_UNITS}/(?:[^/]+\\.(?:wants|requires|upholds)/)?([^/]+?)(?:\\.d/[^/]+)?$`)
/** Operations of the systemd provider that make a unit run. */
const STARTS_UNIT = new Set(['enable', 'unmask', 'start', 'restart', 'reload'])
/** systemd's debug shell: a root shell on tty9, no login. */
const ROOT_SHELL_UNITS = new Set(['debug-shell.service'])
/**
 * Variables that choose the code a program loads or runs, read at login or by every service, or
 * turn off the TLS checks of root's tools (session 24: TwinSync's own git keeps GIT_SSL_* from the
 * invoking environment, so `GIT_SSL_NO_VERIFY` there sends the mirror's token to whoever answers).
 */
const CODE_VARIABLES = /^\s*(export\s+)?(LD_[A-Z_]+|PATH|BASH_ENV|ENV|PROMPT_COMMAND|PERL5LIB|PERL5OPT|PERLLIB|PYTHONPATH|PYTHONSTARTUP|PYTHONHOME|NODE_OPTIONS|RUBYOPT|RUBYLIB|GCONV_PATH|SHELLOPTS|PS4|GIT_SSH_COMMAND|GIT_EXEC_PATH|PAGER|MANPAGER|SYSTEMD_PAGER|GIT_PAGER|EDITOR|VISUAL|SUDO_EDITOR|SYSTEMD_EDITOR|LESSOPEN|LESSCLOSE|BROWSER|GIT_SSH|GIT_PROXY_COMMAND|GIT_ASKPASS|SSH_ASKPASS|GIT_SSL_NO_VERIFY|GIT_SSL_CAINFO|GIT_SSL_CAPATH|SSL_CERT_FILE|SSL_CERT_DIR|CURL_CA_BUNDLE|REQUESTS_CA_BUNDLE|NODE_EXTRA_CA_CERTS|NODE_TLS_REJECT_UNAUTHORIZED)\b\s*(DEFAULT|OVERRIDE|=)/m

/**
 * Whether the live file the change starts from was executable already, as the change's `before`
 * says it ("file 0755 root:root …", the files provider's ls-like line). Not known (no `before`,
 * another form): not, the safe side. A plan file whose `before` was edited is stale anyway (apply
 * plans again and compares every field).
 */
/** Where root reads its configuration and runs its programs: a file here given to others is root's door. */
const ROOT_OWN = /^\/(?:etc|root|usr|boot|bin|sbin|lib|lib64)\//
/** Files whose content is a secret by Debian's own modes: password hashes, host and TLS private keys. */
const SECRET_FILE = /^\/etc\/(?:g?shadow-?|ssh\/ssh_host_[^/]*_key|ssl\/private\/.+)$/

/**
 * Why a mode or owner change (chmod, chown, attributes: the files provider's) opens a file root
 * reads or runs to other users, or undefined: group or other write it did not have (a folder: they
 * add files there), another owner than root where root owned it, every user's read of a secret
 * file. `before` is the change's "type mode owner:group …" (unknown: as if it had no such right),
 * `after` the same line of what the change leaves.
 *
 * Session 30 (red team): a content change that also gives a root-owned file to another user (one
 * `write`: a pulled /etc/nginx/nginx.conf with a comment added and owner ann) was a medium
 * replace, and a group change alone (/etc/shadow root:shadow 0640 to root:users) a low chown:
 * `apply --yes` made both, so ann could rewrite what nginx's master reads as root, and every user
 * of `users` could read the password hashes. The group is read from `before` and `after` by name
 * (the files provider writes the machine's name before and the twin's after, ids where no name).
 */
function openedToOthers(action: string | undefined, path: string, mode: number | undefined, uid: unknown, before: string | undefined, after?: string): string | undefined {
  // Session 24: an entry made (mkdir, a write) with group or other write is opened the same way.
  if ((action !== 'chmod' && action !== 'attributes' && action !== 'chown' && action !== 'mkdir' && action !== 'write') || !ROOT_OWN.test(path)) return undefined
  const was = /^\S+ ([0-7]{3,4}) ([^:\s]+):(\S+)/.exec(before ?? '')
  const wasMode = was?.[1] === undefined ? 0 : parseInt(was[1], 8)
  if (mode !== undefined && action !== 'chown') {
    const write = mode & 0o022 & ~wasMode
    if (write !== 0) return `opened for writing by ${(write & 0o002) !== 0 ? 'every user' : 'its group'}: they can change what root reads or runs${before?.startsWith('directory ') ? ' (add files to the folder)' : ''}`
    if (SECRET_FILE.test(path) && (mode & 0o004) !== 0 && (wasMode & 0o004) === 0) return 'opened for reading by every user: password hashes or private keys'
  }
  // Another group on an existing entry whose mode lets its group write, or read a secret file.
  const group = /^\S+ [0-7]{3,4} [^:\s]+:(\S+)/.exec(after ?? '')?.[1]
  if (was?.[3] !== undefined && group !== undefined && group !== was[3] && group !== 'root' && group !== '0' && action !== 'mkdir') {
    const groupMode = action === 'chown' ? wasMode : (mode ?? wasMode)
    if ((groupMode & 0o020) !== 0) return `opened for writing by the group ${group}: its members can change what root reads or runs${before?.startsWith('directory ') ? ' (add files to the folder)' : ''}`
    if (SECRET_FILE.test(path) && (groupMode & 0o040) !== 0) return `opened for reading by the group ${group}: password hashes or private keys`
  }
  const rootOwned = was?.[2] === undefined || was[2] === 'root' || was[2] === '0'
  // A new entry made another user's is TRUST_FOLDERS' matter (trustReason); a write in place of a root-owned entry is a chown too.
  if (action === 'mkdir' || (action === 'write' && was === null)) return undefined
  if (action !== 'chmod' && typeof uid === 'number' && uid !== 0 && rootOwned) return `given to another user (uid ${uid}): they can change what root reads or runs`
  return undefined
}

/**
 * Session 45: a file whose text names TwinSync's own state folders (root's twin is
 * /var/lib/twinsync/twin, a user's under ~/.local/share/twinsync): a unit's `ExecStart=`, a cron
 * line, an nginx `include`, a script that sources a file there runs or reads what the twin holds
 * at that moment, which a mirror writes and every pull changes with no plan showing it (plans/
 * commands that name the twin are refused, plan-instructions.ts; a file cannot be, a backup of
 * the twin names it too). Before, such a cron file was high for being one, with no word of the
 * twin, and an nginx include of the twin a medium change. Session 46 (session 45's review, M3):
 * the run's own twin wherever it lies (`--repo /srv/twin`), and a link whose target leads there
 * (`sites-enabled/app -> /var/lib/twinsync/twin/filesystem/…`, `/usr/local/bin/x -> …/scripts/x`),
 * judged by twin-places.ts, the rule plans/ commands are refused by.
 */
const TWIN_NAMED = "TwinSync's own state (a twin repository): what a mirror pushes there is what this runs or reads, changed by every pull with no plan showing it"

/**
 * Session 45: the same opening by a POSIX ACL the change sets (the files provider's `xattrs`, the
 * entry's final set): a named user or group entry gets what the mask (the mode's group bits) lets
 * through, so `user:1000:r--` on /etc/shadow (0640, whose group may read) let that user read the
 * password hashes, and a medium "set system.posix_acl_access" was all the plan said; `apply --yes`
 * made it. A default ACL on a folder is what its new files get. Named: write for a named entry
 * under root's folders, read of a secret file.
 */
function aclOpened(action: string | undefined, path: string, xattrs: unknown, change: Change, mode: number | undefined, live: Readonly<Record<string, string>> | undefined): string | undefined {
  if ((action !== 'attributes' && action !== 'write' && action !== 'mkdir') || !ROOT_OWN.test(path)) return undefined
  const write = newWriters(change, action, mode, live).find((w) => w.acl === true)
  if (write !== undefined) return `${write.how}: they can change what root reads or runs`
  if (!SECRET_FILE.test(path)) return undefined
  const could = ableBefore(change, live, 4)
  const read = aclEntries(xattrs, modeAfter(change, mode)).find((e) => e.id !== 0 && (e.perm & 4) !== 0 && !could(e))
  return read === undefined ? undefined : `opened for reading by ${read.user ? 'the user uid' : 'the group gid'} ${read.id} by an ACL: password hashes or private keys`
}

/**
 * The mode a change gives its entry (`data.mode`: the files provider's number, the autostart
 * provider's "0644"), or undefined. Read once per change (ownReason, adminReason) and handed on,
 * so the ACL judgement (modeAfter) and every other mode rule read the one value apply's chmod sets
 * (session 47; before, aclOpened read `data.mode` again by a second copy of the same test).
 */
function modeGiven(data: { mode?: unknown }): number | undefined {
  if (typeof data.mode === 'number') return data.mode
  return typeof data.mode === 'string' && /^[0-7]{3,4}$/.test(data.mode) ? parseInt(data.mode, 8) : undefined
}

/**
 * The mode an entry has once applied: the change's own (`mode`, modeGiven's), else the one it
 * has now (`before`). Apply sets an ACL and then chmods with that mode (sdk/src/local-host.ts), and
 * a chmod makes an access ACL's mask the mode's group bits: so that mask, not the one the ACL
 * carries, is what a named entry gets (session 46's review, R1: `user:bob:rw-` with `mask::r--` on
 * a 0664 file was rated by its `r--`, and bob could write it once applied).
 */
function modeAfter(change: Change, mode: number | undefined): number | undefined {
  if (mode !== undefined) return mode
  const was = /^\S+ ([0-7]{3,4}) /.exec(change.before ?? '')
  return was?.[1] === undefined ? undefined : parseInt(was[1], 8)
}

/**
 * Whether a named entry of the ACL a change sets had the right `perm` (2 write, 4 read) already in
 * the entry's ACL now (`live`, TrustContext's: through the mask its mode now leaves, `before`):
 * rated again, an ACL that stays opens nothing new, as a mode's bits are compared with `before`
 * (session 47, session 46's review R5: any later change of such a file's attributes was high
 * each time).
 */
function ableBefore(change: Change, live: Readonly<Record<string, string>> | undefined, perm: number): (e: { user: boolean; id: number; folder: boolean }) => boolean {
  if (live === undefined) return () => false
  const was = aclEntries(live, modeAfter(change, undefined)).filter((b) => (b.perm & perm) !== 0)
  return (e) => was.some((b) => b.user === e.user && b.id === e.id && b.folder === e.folder)
}

/**
 * The named user and group entries of the POSIX ACLs in `xattrs` (access, then default: `folder`),
 * each with what the mask lets through of its rights: for the access ACL the group bits of `mode`
 * (the entry's mode once applied, modeAfter) when known, else the ACL's own mask; a folder's
 * default ACL keeps its own (a chmod leaves it).
 */
function aclEntries(xattrs: unknown, mode: number | undefined): Array<{ user: boolean; id: number; perm: number; folder: boolean }> {
  const out: Array<{ user: boolean; id: number; perm: number; folder: boolean }> = []
  if (typeof xattrs !== 'object' || xattrs === null) return out
  for (const [name, folder] of [['system.posix_acl_access', false], ['system.posix_acl_default', true]] as const) {
    const value = (xattrs as Record<string, unknown>)[name]
    if (typeof value !== 'string') continue
    const bytes = xattrBytes(value)
    if (bytes.length < 4 || (bytes.length - 4) % 8 !== 0) continue
    const entries: Array<{ tag: number; perm: number; id: number }> = []
    for (let at = 4; at < bytes.length; at += 8) entries.push({ tag: bytes.readUInt16LE(at), perm: bytes.readUInt16LE(at + 2), id: bytes.readUInt32LE(at + 4) })
    const own = (entries.find((e) => e.tag === 0x10) ?? entries.find((e) => e.tag === 0x04))?.perm ?? 0
    const mask = !folder && mode !== undefined ? (mode >> 3) & 7 : own
    for (const e of entries) if (e.tag === 0x02 || e.tag === 0x08) out.push({ user: e.tag === 0x02, id: e.id, perm: e.perm & mask, folder })
  }
  return out
}

/** Whether a link at `path` points (absolutely or relatively) at a path `rule` covers too. */
function linksWithin(rule: RegExp, path: string, target: unknown): boolean {
  if (typeof target !== 'string' || target === '') return false
  const resolved = posix.resolve(posix.dirname(path), target)
  return resolved !== path && rule.test(resolved)
}

function wasExecutable(before: string | undefined): boolean {
  const m = before === undefined ? null : /^file ([0-7]{3,4}) /.exec(before)
  return m?.[1] !== undefined && (parseInt(m[1], 8) & 0o111) !== 0
}

/**
 * Places where a file runs because it is executable, whatever its content (run-parts skips a
 * file without the bit, systemd's rc-local and SysV generators, NetworkManager's dispatcher,
 * update-grub and initramfs-tools likewise): a chmod +x there is new code run as root.
 */
const RUN_WHEN_EXECUTABLE: ReadonlyArray<{ path: RegExp; reason: string }> = [
  { path: /^\/etc\/cron\.(hourly|daily|weekly|monthly|yearly)\/[^/]+$/, reason: 'run-parts runs it as root from cron' },
  { path: /^\/etc\/update-motd\.d\/[^/]+$/, reason: 'a message-of-the-day script: runs as root at every login' },
  { path: /^\/etc\/rc\.local$/, reason: 'systemd runs /etc/rc.local as root at boot once it is executable' },
  { path: /^\/etc\/init\.d\/[^/]+$/, reason: 'a SysV init script: systemd runs it as root at boot' },
  { path: /^\/etc\/network\/if-(up|down|pre-up|post-down)\.d\/[^/]+$/, reason: 'runs as root whenever a network interface goes up or down' },
  { path: /^\/etc\/ppp\/ipv?6?-(up|down)\.d\/[^/]+$/, reason: 'runs as root whenever a PPP link goes up or down' },
  { path: /^\/etc\/NetworkManager\/dispatcher\.d\/.+$/, reason: 'NetworkManager\'s dispatcher runs it as root on network events' },
  { path: /^\/etc\/kernel\/[^/]+\.d\/[^/]+$/, reason: 'runs as root whenever a kernel is installed or removed' },
  { path: /^\/etc\/grub\.d\/[^/]+$/, reason: 'update-grub runs it as root (and what it prints is the boot menu)' },
  { path: /^\/etc\/initramfs-tools\/(hooks|scripts)\/.+$/, reason: 'runs as root when the initramfs is built, or at boot inside it' },
  { path: /^\/etc\/resolvconf\/update(-libc)?\.d\/[^/]+$/, reason: 'resolvconf runs it as root whenever the name servers change' },
  { path: new RegExp(`^/etc/systemd/(system|user)(-environment)?-generators/.`), reason: 'a systemd generator: runs as root at every boot and daemon-reload' },
]

interface Rule {
  path: RegExp
  reason: string
  /** Only a write whose text matches is high (a link is too: its target decides); no `when`: every write and link. */
  when?: RegExp | ((text: string) => boolean)
}

/**
 * Session 20: the other ways a file gets code run as root, or opens a login. Each is read by
 * something running as root (systemd, cron, init, udev, modprobe, the kernel, a login) or decides
 * who gets in. A path here with `when` is high only when its text does that (a udev rule with RUN,
 * an /etc/environment with LD_PRELOAD); an ordinary one (a udev rule naming a network card) is not.
 */
const RULES: readonly Rule[] = [
  { path: new RegExp(`^/${SYSTEM_UNITS}/.`), reason: 'a systemd unit, drop-in or enabling link: the commands it names run as root' },
  { path: new RegExp(`^/${UNIT_DIRS}/user/.`), reason: 'a systemd user unit: runs in every user\'s session, root\'s too' },
  { path: new RegExp(`^/${UNIT_DIRS}/(system|user)(-environment)?-generators/.`), reason: 'a systemd generator: runs as root at every boot and daemon-reload' },
  { path: /^\/etc\/systemd\/(system|user)\.conf(\.d\/.+)?$/, reason: 'systemd\'s environment for every service (LD_PRELOAD, PATH…)', when: /\b(DefaultEnvironment|ManagerEnvironment)\s*=/ },
  { path: /^\/etc\/(crontab|anacrontab|cron\.d\/.+|cron\.(hourly|daily|weekly|monthly|yearly)\/.+)$/, reason: 'a system cron file: its jobs run as root (or whom they name) on schedule' },
  { path: /^\/etc\/(rc\.local|inittab|init\.d\/.+|rc[0-6S]\.d\/.+)$/, reason: 'a boot script: runs as root at boot' },
  { path: /^\/etc\/update-motd\.d\/./, reason: 'a message-of-the-day script: runs as root at every login' },
  // Session 30 (red team): /usr/bin/awk, editor, pager, vi… are links to /etc/alternatives/NAME,
  // and what that link points at is the program. A pulled retarget of /etc/alternatives/awk to a
  // file in /usr/local/lib (a low create there) was a medium change `pull --yes` made: every awk
  // of root's (maintainer scripts, cron jobs, update-initramfs) then ran it.
  { path: /^\/etc\/alternatives\/[^/]+$/, reason: "an alternatives link: the program root's scripts and tools run by that name (awk, editor, pager, vi…) is what it points at" },
  { path: /^\/(etc\/(profile|bash\.bashrc|profile\.d\/.+|bash_completion\.d\/.+|zsh\/.+|csh\.(cshrc|login))|root\/\.(profile|bashrc|bash_profile|bash_login|bash_logout|zshrc|zshenv|zprofile|zlogin))$/, reason: 'a login shell\'s startup: runs in every login shell, root\'s too' },
  { path: /^\/etc\/(bash\.bash_logout|csh\.logout)$/, reason: 'a login shell\'s logout script: runs when any login shell ends, root\'s too' },
  { path: /^\/etc\/(environment|environment\.d\/.+)$/, reason: 'the environment of every login, root\'s too (LD_PRELOAD, PATH…)', when: CODE_VARIABLES },
  { path: /^\/etc\/security\/(?!limits\.(conf|d\/))./, reason: 'PAM\'s settings: who may log in, when, with which groups and environment' },
  { path: /^\/etc\/ssh\/sshd_config(\.d\/.+)?$/, reason: 'the SSH server\'s settings: who may log in, as whom, and how' },
  { path: /^\/(etc\/ssh\/sshrc|root\/\.ssh\/rc)$/, reason: 'runs at every SSH login' },
  { path: /^\/(etc\/ssh\/ssh_config(\.d\/.+)?|root\/\.ssh\/config)$/, reason: 'an ssh client setting that runs a command or loads a library, as whoever runs ssh (root too)', when: /\b(ProxyCommand|LocalCommand|KnownHostsCommand|PKCS11Provider|SecurityKeyProvider)\b|^\s*Match\b.*\bexec\b/im },
  { path: /^\/(etc\/hosts\.equiv|etc\/ssh\/shosts\.equiv|root\/\.rhosts|root\/\.shosts)$/, reason: 'logins without a password from the hosts it names' },
  { path: /^\/etc\/(passwd|shadow|group|gshadow|subuid|subgid)$/, reason: 'the accounts: who may log in, and who is root or in its groups' },
  { path: /^\/etc\/nsswitch\.conf$/, reason: 'nsswitch: the libraries that look up users (loaded into root\'s programs too) and where logins come from' },
  { path: /^\/etc\/sudo\.conf$/, reason: 'sudo\'s plugins: libraries sudo loads as root' },
  { path: /^\/(etc|run|usr\/lib|lib)\/udev\/rules\.d\/./, reason: 'a udev rule that runs a command as root when a device appears', when: /\b(RUN|PROGRAM|IMPORT\{program\})\s*\+?=/ },
  { path: /^\/(etc\/modprobe\.conf|(etc|run|usr\/lib|lib)\/modprobe\.d\/.+)$/, reason: 'a modprobe install or remove command: runs as root when the module loads', when: /^\s*(install|remove)\s/m },
  { path: /^\/(etc\/sysctl\.conf|(etc|run|usr\/lib|lib)\/sysctl\.d\/.+)$/, reason: 'a kernel setting that names a program the kernel runs as root (core_pattern pipe, modprobe, hotplug)', when: /\bkernel[./](core_pattern\s*=\s*\||(modprobe|hotplug|poweroff_cmd)\b)/ },
  { path: /^\/(etc|run|usr\/lib|lib)\/binfmt\.d\/./, reason: 'binfmt_misc: an interpreter the kernel runs for matching programs, root\'s too' },
  { path: /^\/(etc|run|usr\/local\/lib|usr\/lib|lib)\/tmpfiles\.d\/./, reason: 'systemd-tmpfiles: creates, writes, links and chmods files as root at boot' },
  { path: /^\/(etc|usr\/share|usr\/local\/share)\/polkit-1\/(rules\.d|localauthority)\/./, reason: 'polkit rules: who may act as root without a password' },
  { path: /^\/etc\/xdg\/autostart\/./, reason: 'an autostart entry: starts with every desktop login, root\'s too' },
  { path: /^\/root\/\.config\/autostart\/./, reason: 'an autostart entry: starts with root\'s desktop login' },
  { path: /^\/etc\/dpkg\/dpkg\.cfg(\.d\/.+)?$/, reason: 'a dpkg hook: runs its command as root on every dpkg run', when: /^\s*(pre|post)-invoke\b/m },
  { path: /^\/etc\/logrotate\.(conf|d\/.+)$/, reason: 'a logrotate script: runs as root when logs rotate', when: /\b(prerotate|postrotate|firstaction|lastaction|preremove)\b/ },
  // Session 24: code root's own tools load from files in the default scope (/etc, root's home,
  // /usr/local), each a low or medium create before: on the services root a pulled
  // /etc/perl/strict.pm ran as root in debconf's frontend, on the next apt run.
  { path: /^\/(etc\/perl|usr\/local\/share\/perl|usr\/local\/lib\/[^/]+\/perl)\/.+\.(pm|pmc|pl)$/, reason: "perl's first module folders (/etc/perl, /usr/local's): a module here stands in for perl's own in every perl program root runs (debconf, on every apt run)" },
  { path: /^\/(etc\/python3[^/]*\/sitecustomize\.py|usr\/(local\/)?lib\/python3[^/]*\/(sitecustomize|usercustomize)\.py|usr\/local\/lib\/python3[^/]*\/.+|usr\/lib\/python3[^/]*\/(dist|site)-packages\/[^/]+\.pth)$/, reason: "Python's startup and module folders (sitecustomize, .pth files, /usr/local's dist-packages): runs in the python3 programs root runs" },
  { path: /^\/(etc\/git(config|attributes)|root\/\.gitconfig|root\/\.config\/git\/.+)$/, reason: "git's settings for every git root runs (etckeeper's on every apt run): a core.fsmonitor, pager, hook folder, alias or filter there runs commands as root" },
  // Session 30 (red team): less reads /etc/syslesskey (its #env section sets LESSOPEN, a command
  // it runs on every file it shows: systemctl's, journalctl's and git's pager as root; tried with
  // Debian 12's less 590), and npm reads /etc/npmrc (Debian's globalconfig; /usr/local/etc/npmrc
  // under a /usr/local prefix): its script-shell runs every `npm run`, TwinSync's own setup too.
  { path: /^\/etc\/(syslesskey|sysless)$/, reason: "less's settings for every user, root's too: LESSOPEN set there is a command less runs on every file it shows (systemctl's, journalctl's and git's pager)" },
  { path: /^\/(etc|usr\/etc|usr\/local\/etc)\/npmrc$/, reason: "npm's settings for every npm root runs: script-shell, node-options or a registry there run commands as root (an `npm run`, TwinSync's own setup)" },
  // Session 30 (red team): a pulled bind mount of a user's folder over one of root's program or
  // settings folders (`/home/ann/bin /usr/local/sbin none bind`) runs that user's programs as root
  // after the next boot or `mount -a`. Only such lines: ordinary entries (/, /boot, swap) stay medium.
  { path: /^\/etc\/fstab$/, reason: "a bind mount over root's programs or settings: after the next boot (or `mount -a`) what it mounts there is what root runs or reads", when: FSTAB_BIND_OVER_SYSTEM },
  { path: /^\/etc\/(vim\/.+|tmux\.conf|screenrc)$/, reason: "an editor's or terminal's startup for every user, root's too: it can run commands (vim's `!`, tmux's run-shell)" },
  { path: /^\/etc\/X11\/(Xsession(\.d\/.+|\.options)?|xinit\/.+|Xreset(\.d\/.+)?)$/, reason: "a desktop session's startup script: runs at every graphical login, root's too" },
  { path: /^\/etc\/network\/interfaces(\.d\/.+)?$/, reason: 'ifupdown runs its up and down commands as root (and reads the files `source` names)', when: /^\s*(up|down|pre-up|post-up|pre-down|post-down|source|source-directory)\s/m },
  { path: /^\/etc\/dhcp\/dhclient-(enter|exit)-hooks\.d\/./, reason: 'dhclient-script sources it as root on every lease (no mode bit needed)' },
  { path: /^\/etc\/dhcp\/dhclient6?\.conf$/, reason: 'dhclient runs the script it names as root on every lease', when: /^\s*script\s/m },
  { path: /^\/etc\/default\/grub(\.d\/.+)?$/, reason: 'update-grub sources it as shell, as root (on every kernel update), and what it sets is the kernel command line' },
  { path: /^\/etc\/default\/ssh$/, reason: "sshd's options (SSHD_OPTS, on its command line): who may log in and how, like sshd_config" },
  { path: /^\/etc\/default\/./, reason: "sourced as shell by root's init scripts: commands in it run as root", when: (text) => !onlyAssignments(text) },
  { path: /^\/etc\/initramfs-tools\/(initramfs\.conf|update-initramfs\.conf|conf\.d\/.+)$/, reason: 'mkinitramfs sources it as shell, as root, on every kernel or initramfs update' },
  { path: /^\/etc\/crypttab$/, reason: 'cryptsetup runs its keyscript as root at boot', when: /\bkeyscript=/ },
  { path: /^\/etc\/login\.defs$/, reason: "the PATH of root after su (ENV_SUPATH, ENV_ROOTPATH): the folders root's programs are looked for in", when: /^\s*ENV_(SUPATH|ROOTPATH)\b/m },
  { path: /^\/(etc\/ssl\/certs\/.+|etc\/ca-certificates\.conf|etc\/ca-certificates\/.+|usr\/(local\/)?share\/ca-certificates\/.+)$/, reason: "a trusted certificate authority: root's TLS connections (apt over HTTPS, git to the mirror) accept what it signs" },
  // Session 26 (red team): code root's daemons and tools load by their own configuration. OpenSSL
  // reads its configuration as any program starts it (nginx's master, Python, curl as root): a
  // provider's or engine's `module`/`dynamic_path` is a library loaded there, `.include` another
  // file. rsyslogd runs as root on Debian: omprog runs a program per message, `load="/…"` a module.
  // needrestart's configuration is Perl it evaluates as root after every apt run, its hook.d scripts it runs.
  { path: /^\/(etc\/ssl|usr\/lib\/ssl)\/openssl\.cnf(\.d\/.+)?$/, reason: 'OpenSSL\'s configuration: a module it names is loaded into every program that starts OpenSSL, root\'s too', when: /^\s*(module|dynamic_path|MODULE_PATH)\s*=|^\s*\.include\b/im },
  { path: /^\/etc\/(rsyslog\.conf|rsyslog\.d\/.+)$/, reason: 'an rsyslog program or module: rsyslogd runs it as root', when: /\bomprog\b|\bload\s*=\s*"\/|\$ModLoad\s+\/|(^|[\s;])\^\s*\//m },
  { path: /^\/etc\/needrestart\/(needrestart\.conf|conf\.d\/.+|hook\.d\/.+|restart\.d\/.+)$/, reason: 'needrestart\'s configuration and hooks: Perl and scripts it runs as root after every apt run' },
  { path: /^\/etc\/(nginx|apache2|httpd)\/./, reason: 'a module or a piped log loaded into a server that runs as root (nginx\'s and apache\'s master)', when: /\b(load_module|LoadModule|LoadFile|perl_modules|perl_require)\b|\b(CustomLog|ErrorLog|TransferLog|GlobalLog)\s+"?\|/ },
  // Daemons that give the network files or a program as root (a pulled share of / with a unit
  // enable the plan does not write: the enable stays medium, the file is the door).
  { path: /^\/etc\/rsyncd\.(conf|secrets)$/, reason: 'the rsync daemon\'s shares: what the network may read or write, as whom, and the commands it runs (pre-/post-xfer exec) as root' },
  { path: /^\/etc\/(exports|exports\.d\/.+)$/, reason: 'NFS exports: folders other machines may mount (no_root_squash lets their root be root here)' },
  { path: /^\/etc\/(inetd\.conf|xinetd\.conf|xinetd\.d\/.+)$/, reason: 'inetd services: programs started, as the user each names (root too), for whoever connects' },
  { path: /^\/etc\/samba\/smb\.conf$/, reason: 'samba: a share that acts as root or runs commands', when: /^\s*(force user|force group|admin users|(root )?preexec|(root )?postexec|magic script|add user script|username map script|wide links)\s*=/im },
  // Last: whatever else in root's home (the default scope holds its .config, .vimrc, .tmux.conf,
  // .selected_editor, .bash_aliases…): root's user units and environment, its editors and shells.
  { path: /^\/root\/./, reason: "root's home: the shells, editors and tools root runs read their startup and settings here (aliases, vimrc, git, user units and environment) and run commands from them" },
]

/**
 * Whether a shell file sourced by init scripts (/etc/default/*) only sets variables: blank lines,
 * comments and `NAME=value` with no command substitution. Anything else is a command.
 */
function onlyAssignments(text: string): boolean {
  return text.split('\n').every((line) => /^\s*(#.*)?$/.test(line) || (!/`|\$\(/.test(line) && /^\s*(export\s+)?[A-Za-z_][A-Za-z0-9_]*=("[^"]*"|'[^']*'|[^\s;&|<>(){}'"]*)\s*(#.*)?$/.test(line)))
}
