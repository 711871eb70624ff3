/**
 * A system call's refusal while a provider reads the machine (EACCES, EIO, ELOOP: an error with
 * an errno code and the call's name, as Node's fs gives it), told from a fault of the provider's
 * or the host port's own. The one rule for it: the core's provider call says "the machine did not
 * let it read", not "a fault in the provider", for such an error; cron keeps users' crontabs as
 * the last snapshot recorded them when the spool's listing fails so. Before session 20 cron had
 * its own test (any code of the errno shape, no call needed): an error coded like errno by a bug
 * was taken for the machine's refusal there and for a fault in core.
 */
export function machineRefusal(error: unknown): { code: string; path?: string } | undefined {
  const e = error as NodeJS.ErrnoException | undefined
  if (typeof e?.code !== 'string' || !/^E[A-Z0-9]+$/.test(e.code) || typeof e.syscall !== 'string') return undefined
  return typeof e.path === 'string' ? { code: e.code, path: e.path } : { code: e.code }
}
