import type { Change } from '@twinsync/sdk'

/** What a cron change carries in `Change.data`: the whole crontab to install, or null to remove it. */
export interface CrontabChangeData {
  user: string
  path: string
  /** The crontab as `crontab -l` would show it; null removes the user's crontab. */
  content: string | null
}

export type CrontabOperation = 'create' | 'replace' | 'delete'

/** The payload of a change, or undefined when it is not one of ours (a hand-edited plan). */
export function crontabChangeData(change: Change): CrontabChangeData | undefined {
  const data = change.data as Partial<CrontabChangeData> | undefined
  if (data === undefined || data === null || typeof data !== 'object') return undefined
  if (typeof data.user !== 'string' || typeof data.path !== 'string') return undefined
  if (data.content !== null && typeof data.content !== 'string') return undefined
  return { user: data.user, path: data.path, content: data.content }
}
