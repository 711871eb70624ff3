import type { DirEntry, HostReader } from './host.js'
import type { Change } from './change.js'
import { warningDiagnostic, type Diagnostic } from './diagnostic.js'
import { linkedFolderOn, throughSymlinkError } from './linked-folder.js'

/** The SysV runlevel folders update-rc.d turns S/K links in, and the scripts they point to. */
const SYSV_FOLDERS = ['/etc/rc0.d', '/etc/rc1.d', '/etc/rc2.d', '/etc/rc3.d', '/etc/rc4.d', '/etc/rc5.d', '/etc/rc6.d', '/etc/rcS.d', '/etc/init.d'] as const

/** The unit folders enablement writes links in: each one's `*.wants`, `*.requires`, `*.upholds` folders too. */
const UNIT_FOLDERS = ['/etc/systemd/system', '/etc/systemd/user', '/run/systemd/system'] as const

const LINK_FOLDER = /\.(wants|requires|upholds)$/

/**
 * The folders a program that switches services on or off for boot writes in, as
 * ExecOptions.writesIn: `systemctl enable|disable|mask|unmask` (which on Debian also runs
 * systemd-sysv-install, that is update-rc.d in the target, for a unit with an /etc/init.d
 * script), and apt-get, whose maintainer scripts run update-rc.d and deb-systemd-helper. Those
 * write S/K links in /etc/rc?.d and unit links in the `.wants` folders wherever a symlinked
 * folder leads (tried on a Debian 13 root: `/etc/rc2.d -> /etc/sudoers.d` and `systemctl
 * --root enable nginx.service` made /etc/sudoers.d/S01nginx, after which sudo no longer parses
 * its configuration); systemctl itself refuses a symlinked `.wants` folder, update-rc.d and
 * deb-systemd-helper do not. With this list the host port refuses such a program before it runs
 * (PATH_THROUGH_SYMLINK), by the one rule of linked-folder.ts. One listing of each unit folder;
 * a folder that is missing is left to the rule (nothing on the way is a link).
 */
export async function enablementFolders(host: Pick<HostReader, 'readdir'>): Promise<string[]> {
  const out: string[] = [...SYSV_FOLDERS]
  for (const folder of UNIT_FOLDERS) {
    out.push(folder)
    let entries: DirEntry[] = []
    try {
      entries = await host.readdir(folder)
    } catch {
      // missing or unreadable: the rule judges the folder itself
    }
    for (const e of entries) if ((e.type === 'directory' || e.type === 'symlink') && LINK_FOLDER.test(e.name)) out.push(`${folder}/${e.name}`)
  }
  return out
}

/**
 * For a provider's outOfScope: a PATH_THROUGH_SYMLINK warning for each of `changes` (those that
 * run a program writing boot links) when one of the enablement folders is a symlink now, so the
 * planner leaves them out and apply refuses a plan holding one (PLAN_OUTSIDE_SCOPE) before
 * anything runs, instead of the host port failing the step half way through an apply.
 */
export async function throughLinkedEnablementFolder(provider: string, host: Pick<HostReader, 'readdir' | 'lstat' | 'readlink'>, changes: readonly Change[]): Promise<Diagnostic[]> {
  if (changes.length === 0) return []
  for (const folder of await enablementFolders(host)) {
    const found = await linkedFolderOn(host, folder, { inclusive: true }).catch(() => undefined)
    if (found === undefined) continue
    const next = throughSymlinkError(folder, found).nextStep
    const where = found.folder === folder ? `${folder}, a symbolic link` : `${folder}, below ${found.folder}, a symbolic link`
    return changes.map((c) =>
      warningDiagnostic('PATH_THROUGH_SYMLINK', `${c.summary}: left out, it writes boot links in ${where} (to ${found.target}): TwinSync changes nothing through a symlinked folder`, {
        provider,
        change: c.id,
        path: folder,
        ...(next === undefined ? {} : { detail: next }),
      }),
    )
  }
  return []
}
