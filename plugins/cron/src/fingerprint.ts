import { createHash } from 'node:crypto'

/** Hash of a crontab's live content when a plan was made; "absent" when there was none. */
export function crontabFingerprint(content: string | undefined): string {
  return content === undefined ? 'absent' : 'sha256:' + createHash('sha256').update(content).digest('hex')
}
