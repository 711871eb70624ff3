import { createHash } from 'node:crypto'
import { stableStringify, type Change } from '@twinsync/sdk'

/** What an autostart change carries in `Change.data`: the whole file as it should be, or null to remove it. */
export interface AutostartChangeData {
  path: string
  content: string | null
  /** Four octal digits ("0755"). */
  mode: string
  owner: string
  group: string
}

export type AutostartOperation = 'create' | 'replace' | 'enable' | 'disable' | 'chmod' | 'chown' | 'delete'

export interface LiveFile {
  content: string
  mode: string
  owner: string
  group: string
}

/** Hash of a file's content and metadata when a plan was made; "absent" when there was none. */
export function fileFingerprint(file: LiveFile | undefined): string {
  if (file === undefined) return 'absent'
  const { content, mode, owner, group } = file
  return 'sha256:' + createHash('sha256').update(stableStringify({ content, mode, owner, group })).digest('hex')
}

/** The payload of a change, or undefined when it is not one this provider made. */
export function autostartChangeData(change: Change): AutostartChangeData | undefined {
  const data = change.data as Partial<AutostartChangeData> | undefined
  if (data === undefined || data === null || typeof data !== 'object') return undefined
  const { path, content, mode, owner, group } = data
  if (typeof path !== 'string' || typeof mode !== 'string' || typeof owner !== 'string' || typeof group !== 'string') return undefined
  if (content !== null && typeof content !== 'string') return undefined
  if (!/^[0-7]{4}$/.test(mode)) return undefined
  return { path, content, mode, owner, group }
}
