import { ADMIN_DROP_IN_DIRS } from '@twinsync/sdk'
/**
 * systemd's search path for system units, highest priority first, as `systemd-analyze
 * unit-paths` prints it on Debian 12 (which keeps both /lib and /usr/lib).
 */
export const UNIT_SEARCH_PATH = [
  '/etc/systemd/system.control',
  '/run/systemd/system.control',
  '/run/systemd/transient',
  '/run/systemd/generator.early',
  '/etc/systemd/system',
  '/etc/systemd/system.attached',
  '/run/systemd/system',
  '/run/systemd/system.attached',
  '/run/systemd/generator',
  '/usr/local/lib/systemd/system',
  '/lib/systemd/system',
  '/usr/lib/systemd/system',
  '/run/systemd/generator.late',
] as const

/** Where `systemctl enable` writes: an enablement found here is "enabled". */
export const PERSISTENT_CONFIG = '/etc/systemd/system'
/** Where `systemctl --runtime` writes: gone at the next boot. */
export const RUNTIME_CONFIG = '/run/systemd/system'
export const GENERATOR_DIRS: readonly string[] = ['/run/systemd/generator.early', '/run/systemd/generator', '/run/systemd/generator.late']
export const TRANSIENT_DIR = '/run/systemd/transient'

export const PRESET_DIRS = [
  '/etc/systemd/system-preset',
  '/run/systemd/system-preset',
  '/usr/local/lib/systemd/system-preset',
  '/usr/lib/systemd/system-preset',
  '/lib/systemd/system-preset',
] as const

/** Everything below /run is runtime state: gone at the next boot. */
export function isRuntimePath(path: string): boolean {
  return path === '/run' || path.startsWith('/run/')
}

export function dirnameOf(path: string): string {
  const slash = path.lastIndexOf('/')
  return slash <= 0 ? '/' : path.slice(0, slash)
}

export function basenameOf(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1)
}

/** Join and drop "." and ".." the way systemd's chase_symlinks(CHASE_NONEXISTENT|CHASE_NOFOLLOW) simplifies a link target. */
export function resolveLinkTarget(linkDir: string, target: string): string {
  const parts: string[] = []
  for (const part of (target.startsWith('/') ? target : `${linkDir}/${target}`).split('/')) {
    if (part === '' || part === '.') continue
    if (part === '..') parts.pop()
    else parts.push(part)
  }
  return '/' + parts.join('/')
}

/** path_startswith: is `path` inside `dir` (component-wise)? */
export function isInside(path: string, dir: string): boolean {
  return path.startsWith(dir + '/')
}

/** An administrator's unit file: directly in /etc/systemd/system, with a unit type's suffix (the unit's name is group 1). */
export const ADMIN_UNIT_FILE = /^\/etc\/systemd\/system\/([^/]+\.(?:service|socket|timer|path|mount|automount|swap|target|slice|scope))$/

/** The administrator's drop-in folders (the SDK's list, which the config check reads too). */
export { ADMIN_DROP_IN_DIRS }
/** A drop-in in one of ADMIN_DROP_IN_DIRS: NAME.d/*.conf, NAME (group 1) a unit, a template, a type (`service.d`) or a prefix (`a-.service.d`). */
export const ADMIN_DROP_IN = new RegExp(`^(?:${ADMIN_DROP_IN_DIRS.map((dir) => dir.replaceAll('.', '\\.')).join('|')})/([^/]+)\\.d/[^/]+\\.conf$`)
