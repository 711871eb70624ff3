import { homedir } from 'node:os'
import { isAbsolute, join, resolve } from 'node:path'

export interface TwinLocation {
  /** Absolute path of the twin repository. */
  dir: string
  /** Where the path came from, for `twinsync config` and error messages. */
  source: 'flag' | 'config' | 'default'
}

/** /var/lib/twinsync/twin for root, ~/.local/share/twinsync/twin for anyone else. */
export function defaultTwinDir(uid = process.getuid?.() ?? 0, env = process.env): string {
  if (uid === 0) return '/var/lib/twinsync/twin'
  return join(env.XDG_DATA_HOME ?? join(homedir(), '.local', 'share'), 'twinsync', 'twin')
}

/** --repo beats the config file, which beats the default. */
export function resolveTwinLocation(flag: string | undefined, configured: string | undefined): TwinLocation {
  if (flag !== undefined) return { dir: absolute(flag), source: 'flag' }
  if (configured !== undefined) return { dir: absolute(configured), source: 'config' }
  return { dir: defaultTwinDir(), source: 'default' }
}

function absolute(p: string): string {
  const expanded = p === '~' || p.startsWith('~/') ? join(homedir(), p.slice(1)) : p
  return isAbsolute(expanded) ? resolve(expanded) : resolve(process.cwd(), expanded)
}
