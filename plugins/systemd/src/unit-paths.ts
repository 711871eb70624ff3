import { ADMIN_DROP_IN_DIRS, SYSTEM_UNIT_DROP_IN, SYSTEM_UNIT_FILE, SYSTEM_UNIT_PATH } from '@twinsync/sdk'
/** systemd's search path for system units, highest priority first: the SDK's one list (the "systemd units" check reads it too). */
export const UNIT_SEARCH_PATH = SYSTEM_UNIT_PATH

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

/**
 * A whole unit file (group 1 its unit) and a drop-in (group 1 its NAME of NAME.d) in any folder of
 * the unit path: the SDK's rules, which the "systemd units" check's paths follow too. Reload,
 * restart (unit-file-writes.ts) and stop on delete (units-leaving.ts) read them, so a unit file in
 * system.control is handled as one in /etc/systemd/system (session 27).
 */
export { SYSTEM_UNIT_FILE, SYSTEM_UNIT_DROP_IN, ADMIN_DROP_IN_DIRS }
