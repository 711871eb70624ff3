import { TwinSyncError } from '@twinsync/sdk/errors'

/**
 * The provider calls not answered yet (callProvider's), by "name call": how many of each. Every
 * command loads this module (base-command.ts), so it imports nothing but the SDK's errors.
 */
const waiting = new Map<string, number>()

/** A provider call begins; hand the key back to `answered` when it settles. */
export function waitingFor(provider: string, call: string): string {
  const key = `${provider}\0${call}`
  waiting.set(key, (waiting.get(key) ?? 0) + 1)
  return key
}

export function answered(key: string): void {
  const left = (waiting.get(key) ?? 1) - 1
  if (left <= 0) waiting.delete(key)
  else waiting.set(key, left)
}

let given = 0

/**
 * A call TwinSync stopped waiting for (its time limit passed, provider-call.ts). It stays among the
 * calls not answered (its code may still run: a process.exit(0) of its later is still its fault),
 * and it may keep the process alive (a timer, a socket): the command ends the process once it is
 * done (leaveIfAbandoned).
 */
export function abandoned(): void {
  given += 1
}

/**
 * After a command that gave up on a provider's call: the process ends once what is queued now has
 * run (the command's output is written: stdout and stderr are synchronous for files, pipes and
 * terminals on Linux), with the exit code the command set, whatever the abandoned code keeps alive.
 */
export function leaveIfAbandoned(): void {
  if (given > 0) setImmediate(() => process.exit())
}

/**
 * The error of a run that ended with its work unfinished, the event loop empty: a promise that
 * never settles and waits on nothing (a provider's collect() returning `new Promise(() => {})`, a
 * stream it awaits that was closed) lets Node end the process, and before session 42 a snapshot
 * so cut short exited 0, silent, no snapshot made (an apply: its journal unfinished, exit 0).
 * Names the provider calls not answered, the provider's fault as callProvider names a throw;
 * none: TwinSync's own (an uncoded error, said as an internal one).
 */
export function unfinishedRunError(how: 'idle' | { exitedAt: string | undefined } = 'idle'): Error {
  const calls = [...waiting.keys()].map((k) => {
    const [name = '', call = ''] = k.split('\0')
    return { name, call }
  })
  if (calls.length === 0) return new Error('The run ended before it finished: something it waited for never answered, and nothing was left to wait on')
  const names = [...new Set(calls.map((c) => c.name))]
  const what = calls.map((c) => `the ${c.name} provider's ${c.call}()`).join(', ')
  const ended =
    how === 'idle'
      ? `The run ended before it finished: ${what} never answered (its promise never settled, and nothing was left to wait on)`
      : `The run ended before it finished: the process was ended with exit code 0 (process.exit${how.exitedAt === undefined ? '' : `, called at ${how.exitedAt}`}) while ${what} had not answered`
  return new TwinSyncError('PROVIDER_FAILED', ended, {
    nextStep: `A fault in ${names.length === 1 ? `the ${names[0]} provider` : `the providers ${names.join(', ')}`}, not in TwinSync; what this run did not finish was not done (status, with the same --root, --repo and --config, says where things stand). Update or disable it (providers.disabled in the configuration), or report it to its authors, then run again.`,
    exitCode: 1,
  })
}

/** Whether a provider call is under way (begun, not answered). */
export function anyUnanswered(): boolean {
  return waiting.size > 0
}

let leaving = false

/**
 * TwinSync's own deliberate exit (the panel's, when the person leaves it while a read-only
 * collect still runs): not a provider's process.exit (base-command's exit listener).
 */
export function leavingOnPurpose(): void {
  leaving = true
}

export function isLeavingOnPurpose(): boolean {
  return leaving
}

/** Where process.exit was called from, read from a stack taken in an exit listener: the frame after process.exit's own. */
export function exitCaller(stack: string | undefined): string | undefined {
  const frames = (stack ?? '').split('\n').map((l) => l.trim())
  const exit = frames.findIndex((f) => f.startsWith('at process.exit ('))
  const caller = exit < 0 ? undefined : frames[exit + 1]
  return caller?.replace(/^at /, '')
}
