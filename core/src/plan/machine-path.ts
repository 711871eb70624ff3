import type { Change } from '@twinsync/sdk'
import { isCommand } from './commands-domain.js'

/**
 * The machine path a change writes, when it writes one: its data's absolute `path` (a file
 * action's, a crontab's `{ path, content }`, an autostart entry's), else an absolute `resource`.
 * A command writes no path it names: its resource is its argument list (`run /usr/bin/x --y`)
 * or a script of the twin's scripts/ folder. The one answer for the planner's ordering
 * (`needs`, ordering-rules.ts) and for what a run that is not root's may write (root-needs.ts):
 * before session 21 each had its own, and a plugin's `{ path, content }` change whose resource
 * is a name was ordered by its path but never checked for root, while a command
 * `run /etc/…` was taken for a writer of that path.
 */
export function machinePathOfChange(change: Change): string | undefined {
  if (isCommand(change) || change.category === 'commands') return undefined
  const path = (change.data as { path?: unknown } | undefined)?.path
  if (typeof path === 'string' && path.startsWith('/')) return path
  return change.resource.startsWith('/') ? change.resource : undefined
}
