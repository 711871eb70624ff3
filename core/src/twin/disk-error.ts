import { TwinSyncError } from '@twinsync/sdk/errors'

/** ENOSPC and EDQUOT become DISK_FULL; anything else is passed on. */
export function diskError(error: unknown, dir: string): unknown {
  const code = (error as NodeJS.ErrnoException)?.code
  const message = (error as Error)?.message ?? ''
  if (code === 'ENOSPC' || code === 'EDQUOT' || /No space left on device|Disk quota exceeded|Out of diskspace/i.test(message)) {
    return new TwinSyncError('DISK_FULL', `The disk holding the twin (${dir}) is full; nothing was written and the twin is as it was`, {
      nextStep: `Free some space (\`df -h ${dir}\`), then run the command again.`,
      details: { repo: dir },
      cause: error,
    })
  }
  return error
}

