import type { Diagnostic } from '@twinsync/sdk'
import { TwinSyncError, errorDiagnostic, isTwinSyncError, machineRefusal } from '@twinsync/sdk/light'
import { checkedResult } from './provider-results.js'
import { answered, waitingFor } from './unanswered-calls.js'

/** The calls TwinSync makes into a provider (the SDK's methods and optional capabilities). */
export type ProviderCallName = 'detect' | 'collect' | 'load' | 'diff' | 'observe' | 'followUps' | 'reviewPlan' | 'validateContent' | 'startupEntries' | 'outOfScope' | 'unapplied' | 'secretPaths' | 'overLimit' | 'apply'

export type Guarded<T> = { ok: true; value: T } | { ok: false; diagnostic: Diagnostic }

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
  const waiting = waitingFor(provider.name, call)
  try {
    // What detect, collect, load, diff and apply answer is looked at before anything reads it (provider-results.ts).
    return { ok: true, value: checkedResult(call, await fn()) }
  } catch (error) {
    if (isTwinSyncError(error) && error.code === 'ABORTED') throw error
    return { ok: false, diagnostic: providerFailure(provider.name, call, error, consequence) }
  } finally {
    answered(waiting)
  }
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
