import { TwinSyncError } from '@twinsync/sdk'

/**
 * An rpm package name as dnf is allowed to see it: letters, digits and . _ + -, not starting with
 * a dash or dot (so it can never read as an option or a path), no globs, no spaces.
 */
const NAME = /^[A-Za-z0-9_+][A-Za-z0-9._+-]{0,199}$/

export function isValidPackageName(name: string): boolean {
  return NAME.test(name)
}

/** The name, or a NAME_INVALID error before any program runs. */
export function checkPackageName(name: unknown): string {
  if (typeof name === 'string' && isValidPackageName(name)) return name
  throw new TwinSyncError('NAME_INVALID', `Not an rpm package name: ${JSON.stringify(name)}`, {
    nextStep: 'Correct the package name in system/packages/dnf.json of the twin and plan again.',
    details: { name },
  })
}
