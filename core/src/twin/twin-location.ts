import { homedir } from 'node:os'
import { isAbsolute, join, resolve } from 'node:path'
import { TwinSyncError } from '@twinsync/sdk/light'

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
  if (flag !== undefined) return { dir: absolute(refuseUnprintable(flag)), source: 'flag' }
  if (configured !== undefined) return { dir: absolute(refuseUnprintable(configured)), source: 'config' }
  return { dir: defaultTwinDir(), source: 'default' }
}

function absolute(p: string): string {
  const expanded = expandHome(p)
  return isAbsolute(expanded) ? resolve(expanded) : resolve(process.cwd(), expanded)
}

/** `~` and `~/…` as the user's home folder; anything else as it is. */
export function expandHome(p: string): string {
  return p === '~' || p.startsWith('~/') ? join(homedir(), p.slice(1)) : p
}

/**
 * No control character in the twin's path (REPO_PLACE_INVALID), for every command: a NUL no
 * system call takes, and a newline or an escape that every line naming the twin (a next step,
 * the apt hook, a timer, a terminal) would have to carry. checkTwinPlace applies it too.
 */
export function refuseUnprintable(raw: string): string {
  if (/[\0-\x1f\x7f]/.test(raw)) {
    const shown = JSON.stringify(raw)
    throw new TwinSyncError('REPO_PLACE_INVALID', `The twin cannot live at ${shown}: ${shown} contains a control character`, {
      nextStep: 'Give the twin repository as a path of printable characters, such as /var/lib/twinsync/twin.',
      details: { repo: shown },
    })
  }
  return raw
}
