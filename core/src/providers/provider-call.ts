import type { Diagnostic } from '@twinsync/sdk'
import { TwinSyncError, errorDiagnostic, isTwinSyncError, machineRefusal } from '@twinsync/sdk/light'
import { checkedResult } from './provider-results.js'
import { withUndeclaredCodes } from './run-time-codes.js'
import { abandoned, answered, waitingFor } from './unanswered-calls.js'

/** The calls TwinSync makes into a provider (the SDK's methods and optional capabilities). */
export type ProviderCallName = 'detect' | 'collect' | 'load' | 'diff' | 'observe' | 'followUps' | 'reviewPlan' | 'validateContent' | 'startupEntries' | 'outOfScope' | 'unapplied' | 'secretPaths' | 'overLimit' | 'apply'

/**
 * A failed call; `timedOut` when it did not answer within its time limit (its code may still run:
 * an apply's steps may be half done).
 */
export type Guarded<T> = { ok: true; value: T } | { ok: false; diagnostic: Diagnostic; timedOut?: true }

/**
 * How long a provider call may take before TwinSync stops waiting for it (ms): apply, and every
 * other call (detect, collect, load, diff, the checks...), which only read. Session 43: a plugin
 * whose call never answered while something of its own kept Node alive (a setInterval, an open
 * socket) held the command, and the twin's lock, for ever: cron's next runs all LOCK_HELD.
 * Measured (session 43, load 8, the slowest provider's collect): the services root's first
 * snapshot, files 954 ms (unchanged: files 105 ms); the scale root's first snapshot, files 7.9 s.
 * Ten minutes is 75 times the scale root's first collect. An apply may install packages over a
 * slow network: an hour. Both set by the configuration (providers.callTimeoutMs, applyTimeoutMs).
 */
export const DEFAULT_CALL_TIMEOUT_MS = 600_000
export const DEFAULT_APPLY_TIMEOUT_MS = 3_600_000

let limits = { call: DEFAULT_CALL_TIMEOUT_MS, apply: DEFAULT_APPLY_TIMEOUT_MS }

/** The run's limits, from its configuration (createContainer); a key not set: the default. */
export function setCallTimeouts(given: { callTimeoutMs?: number | undefined; applyTimeoutMs?: number | undefined }): void {
  limits = { call: given.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS, apply: given.applyTimeoutMs ?? DEFAULT_APPLY_TIMEOUT_MS }
}

/**
 * A call that did not answer in time, or that TwinSync stopped waiting for on the person's word
 * (`left`: Ctrl-C while the panel closes, stopWaitingForCalls); never a provider's own error (it
 * is made here).
 */
class CallTimedOut extends Error {
  constructor(readonly left = false) {
    super()
  }
}

/** The calls under way now, each with when its limit passes and how to stop waiting for it at once. */
const underWay = new Set<{ provider: string; call: ProviderCallName; deadline: number; key: 'providers.callTimeoutMs' | 'providers.applyTimeoutMs'; giveUp: () => void }>()

/** The provider calls not answered yet: which provider, which call, and how long TwinSync still waits for it at most (ms). */
export function callsUnderWay(now = Date.now()): Array<{ provider: string; call: ProviderCallName; leftMs: number; key: string }> {
  return [...underWay].map((c) => ({ provider: c.provider, call: c.call, leftMs: Math.max(0, c.deadline - now), key: c.key }))
}

/**
 * Stop waiting for every provider call under way, as if its time limit had passed now (its code
 * may go on, as after a time limit: the process ends once the run is done). The panel's leaving,
 * on a Ctrl-C (busy.ts). How many were given up.
 */
export function stopWaitingForCalls(which: (call: { call: ProviderCallName }) => boolean = () => true): number {
  const all = [...underWay].filter(which)
  for (const c of all) c.giveUp()
  return all.length
}

/**
 * The providers given up on in this process, with the call and its limit: not asked again (status
 * asks load() twice, an apply's snapshot asks collect() again: each would wait its whole limit
 * once more while the first call's code still runs).
 */
const givenUp = new Map<string, { call: ProviderCallName; ms: number }>()

/**
 * The one guard around every call into a provider. A provider is plugin code: whatever it
 * throws (a TypeError, a rejected promise, a coded error of its own) becomes a diagnostic that
 * names the provider and the call, so one provider's failure never stops another's work and is
 * never reported as a bug in TwinSync. Only cancellation (ABORTED) goes through.
 */
export async function callProvider<T>(
  provider: { readonly name: string },
  call: ProviderCallName,
  fn: () => T | Promise<T>,
  /** What the failure means here ("Its part of the twin keeps the last snapshot's state."). */
  consequence?: string,
): Promise<Guarded<T>> {
  const earlier = givenUp.get(provider.name)
  if (earlier !== undefined) return { ok: false, diagnostic: notAskedAgain(provider.name, call, earlier, consequence) }
  const waiting = waitingFor(provider.name, call)
  const ms = call === 'apply' ? limits.apply : limits.call
  let timer: NodeJS.Timeout | undefined
  const entry = { provider: provider.name, call, deadline: Date.now() + ms, key: call === 'apply' ? ('providers.applyTimeoutMs' as const) : ('providers.callTimeoutMs' as const), giveUp: () => undefined as void }
  // Unref'd: a call that waits on nothing at all still ends the run at once (base-command's beforeExit).
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CallTimedOut()), ms).unref()
    entry.giveUp = () => reject(new CallTimedOut(true))
  })
  underWay.add(entry)
  let gaveUp = false
  try {
    // What detect, collect, load, diff and apply answer is looked at before anything reads it (provider-results.ts);
    // a code its diagnostics carry that is neither TwinSync's nor its own gets a warning (run-time-codes.ts).
    return { ok: true, value: withUndeclaredCodes(provider, checkedResult(call, await Promise.race([(async () => fn())(), late]))) }
  } catch (error) {
    if (error instanceof CallTimedOut) {
      // Its code goes on (nothing in-process can stop it): the run ends the process when it is done (base-command).
      gaveUp = true
      abandoned()
      givenUp.set(provider.name, { call, ms })
      return { ok: false, diagnostic: timeoutFailure(provider.name, call, ms, consequence, error.left), timedOut: true }
    }
    if (isTwinSyncError(error) && error.code === 'ABORTED') throw error
    return { ok: false, diagnostic: providerFailure(provider.name, call, error, consequence) }
  } finally {
    underWay.delete(entry)
    clearTimeout(timer)
    if (!gaveUp) answered(waiting)
  }
}

/** The diagnostic for a call not made: the provider did not answer an earlier call of this run in time. */
function notAskedAgain(name: string, call: ProviderCallName, earlier: { call: ProviderCallName; ms: number }, consequence?: string): Diagnostic {
  const key = earlier.call === 'apply' ? 'providers.applyTimeoutMs' : 'providers.callTimeoutMs'
  const lead = consequence === undefined ? '' : `${consequence} `
  return errorDiagnostic('PROVIDER_FAILED', `The ${name} provider was not asked for ${call}(): it did not answer ${earlier.call}() within ${spanOf(earlier.ms)} (${key}) earlier in this run`, {
    provider: name,
    detail: `${lead}A fault in the ${name} provider (it waits on something that never answers), or a machine that slow: raise ${key} in the configuration, or update or disable the provider (providers.disabled), or report it to its authors.`,
  })
}

/** A time in words: 250 ms, 1.5 s, 10 min, 1 h. */
export function spanOf(ms: number): string {
  if (ms < 1000) return `${ms} ms`
  if (ms < 60_000) return `${Math.round(ms / 100) / 10} s`
  if (ms < 3_600_000) return `${Math.round(ms / 6000) / 10} min`
  return `${Math.round(ms / 360_000) / 10} h`
}

/** The diagnostic for a call that did not answer within its time limit (`left`: TwinSync stopped waiting earlier, as the person left the panel). */
export function timeoutFailure(name: string, call: ProviderCallName, ms: number, consequence?: string, left = false): Diagnostic {
  const key = call === 'apply' ? 'providers.applyTimeoutMs' : 'providers.callTimeoutMs'
  const lead = consequence === undefined ? '' : `${consequence} `
  const halfDone =
    call === 'apply'
      ? 'What it was applying may be half done on the machine; the changes it had not reported stay pending, and nothing new was started after it. Check them (status, with the same --root, --repo and --config) before you apply again. '
      : 'The call only reads: nothing was changed by it. '
  const summary = left
    ? `The ${name} provider had not answered ${call}() when the panel was left, and did not stop when asked: TwinSync stopped waiting for it (Ctrl-C)`
    : `The ${name} provider did not answer ${call}() within ${spanOf(ms)} (${key}): TwinSync stopped waiting for it`
  return errorDiagnostic('PROVIDER_FAILED', summary, {
    provider: name,
    detail: `${lead}${halfDone}Its call was left running until this run ended. A fault in the ${name} provider (it waits on something that never answers), or a machine that slow: raise ${key} in the configuration, or update or disable the provider (providers.disabled), or report it to its authors.`,
  })
}

/**
 * callProvider for a caller that stops when the provider fails (adopt and discard decide one
 * item; they cannot go on without the provider's answer): its diagnostic thrown as a coded error.
 */
export async function answerOf<T>(provider: { readonly name: string }, call: ProviderCallName, fn: () => T | Promise<T>): Promise<T> {
  const answer = await callProvider(provider, call, fn)
  if (answer.ok) return answer.value
  const { code, summary, detail } = answer.diagnostic
  throw new TwinSyncError(code, summary, detail === undefined ? {} : { nextStep: detail })
}

/** The diagnostic for a provider call that threw. A coded error keeps its code and next step. */
export function providerFailure(name: string, call: ProviderCallName, error: unknown, consequence?: string): Diagnostic {
  const lead = consequence === undefined ? '' : `${consequence} `
  if (isTwinSyncError(error)) {
    const detail = `${lead}${error.nextStep ?? ''}`.trim()
    return errorDiagnostic(error.code, `${name}: ${call}() refused: ${error.message}`, { provider: name, ...(detail === '' ? {} : { detail }) })
  }
  const kind = error instanceof Error && error.name !== 'Error' ? `${error.name}: ` : ''
  const message = error instanceof Error ? error.message : String(error)
  const refused = call === 'detect' || call === 'collect' ? machineRefusal(error) : undefined
  return errorDiagnostic('PROVIDER_FAILED', `The ${name} provider failed in ${call}(): ${kind}${message}`, {
    provider: name,
    detail:
      refused === undefined
        ? `${lead}A fault in the ${name} provider, not in TwinSync; the other providers went on. Update or disable it (providers.disabled in the configuration), or report it to its authors.`
        : `${lead}The machine did not let it read ${refused.path ?? 'a path'} (${refused.code}): no fault of the provider's; the other providers went on. Check that path's permissions and the file system (\`ls -ld\`, \`dmesg\`), then run again.`,
  })
}
