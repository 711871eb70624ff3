import { touchedPaths, type Change } from '@twinsync/sdk'

/** What another provider's change does to a machine file: writes it (content, link) or deletes it. */
export type FileAction = 'write' | 'symlink' | 'delete'

const FILE_ACTIONS: ReadonlySet<string> = new Set<FileAction>(['write', 'symlink', 'delete'])

/**
 * The machine paths another provider's change writes or deletes, as systemd's follow-ups read
 * them (a drop-in's reload and restart, a deleted unit file's stop, a service's reload after its
 * configuration): the SDK's touchedPaths, the change's own path and, for a folder's delete, each
 * path it lists below it. undefined for systemd's own changes and for anything that is not a
 * file change. The change's data is another provider's: every field is checked, never trusted.
 */
export function fileChangeOf(change: Change): { action: FileAction; paths: string[] } | undefined {
  if (change.provider === 'systemd') return undefined
  const action = (change.data as { action?: unknown } | undefined)?.action
  if (typeof action !== 'string' || !FILE_ACTIONS.has(action)) return undefined
  const paths = touchedPaths(change)
  return paths.length === 0 ? undefined : { action: action as FileAction, paths }
}
