import type { Change } from '@twinsync/sdk'

/** What another provider's change does to a machine file: writes it (content, link) or deletes it. */
export type FileAction = 'write' | 'symlink' | 'delete'

const FILE_ACTIONS: ReadonlySet<string> = new Set<FileAction>(['write', 'symlink', 'delete'])

/**
 * The machine paths another provider's change writes or deletes, as systemd's follow-ups read
 * them (a drop-in's reload and restart, a deleted unit file's stop): the change's own path and,
 * for a folder's delete, each path it lists below. undefined for systemd's own changes and for
 * anything that is not a file change. The change's data is another provider's: every field is
 * checked, never trusted.
 */
export function fileChangeOf(change: Change): { action: FileAction; paths: string[] } | undefined {
  if (change.provider === 'systemd') return undefined
  const data = change.data as { action?: unknown; path?: unknown; below?: unknown } | undefined
  if (typeof data?.action !== 'string' || !FILE_ACTIONS.has(data.action) || typeof data.path !== 'string') return undefined
  const below = data.action === 'delete' && Array.isArray(data.below)
    ? data.below.map((b: { path?: unknown } | null) => b?.path).filter((p): p is string => typeof p === 'string')
    : []
  return { action: data.action as FileAction, paths: [data.path, ...below] }
}
