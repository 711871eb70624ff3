import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { TwinSyncError } from '@twinsync/sdk/light'

/** An interrupted forget's record: .git/twinsync/, never committed. */
export const FORGET_RECORD = join('.git', 'twinsync', 'forget-in-progress.json')

export interface ForgetRecord {
  removed: string[]
  redacted: string[]
  rewritten: number
  commits: number
  version: 1
  /** The branch's commit once the refs moved. */
  head: string | undefined
}

/**
 * FORGET_UNFINISHED when a forget was killed before it finished (its record is there): the working
 * twin may still hold what was forgotten, which any command that commits the twin would commit
 * back. One stat; `forget` (`forget`: this run's line for it) finishes it (finishInterruptedForget).
 */
export function refuseUnfinishedForget(dir: string, forget: string): void {
  if (!existsSync(join(dir, FORGET_RECORD))) return
  throw new TwinSyncError('FORGET_UNFINISHED', `A forget in ${dir} was interrupted before it finished; the twin's files may still hold what it forgot`, {
    nextStep: `Run \`${forget}\` again (no arguments needed) to finish it; nothing else uses the twin until then.`,
    details: { record: join(dir, FORGET_RECORD) },
  })
}

