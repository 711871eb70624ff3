import { TwinSyncError } from '@twinsync/sdk'

const LOCK_PATTERNS: readonly RegExp[] = [
  // apt: "E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 1234 (apt-get)"
  /Could not get lock (\/\S+?)\.?(?:\s|$)/,
  // apt: "E: Unable to acquire the dpkg frontend lock (/var/lib/dpkg/lock-frontend), is another process using it?"
  /Unable to acquire the dpkg \w* ?lock \((\/[^)]+)\)/,
  // dpkg: "dpkg: error: dpkg frontend lock was locked by another process with pid 1234"
  /dpkg: error: (dpkg (?:frontend )?lock) (?:was|is) locked by another process/,
]

/** The lock named in a command's error output when another process holds dpkg's or apt's lock. */
export function heldLockIn(output: string): string | undefined {
  for (const pattern of LOCK_PATTERNS) {
    const match = pattern.exec(output)
    if (match?.[1] !== undefined) return match[1]
  }
  return undefined
}

export function lockHeldError(lock: string, output: string): TwinSyncError {
  const holder = /held by process (\d+)(?: \(([^)]+)\))?/.exec(output) ?? /another process with pid (\d+)/.exec(output)
  const by = holder === null ? 'another process' : `process ${holder[1]}${holder[2] === undefined ? '' : ` (${holder[2]})`}`
  return new TwinSyncError('LOCK_HELD', `The package manager's lock ${lock} is held by ${by}; the apt step did not run`, {
    nextStep: 'Wait for the other apt or dpkg run (an upgrade, unattended-upgrades) to finish, then apply again.',
    details: { lock, ...(holder === null ? {} : { pid: Number(holder[1]) }) },
  })
}
