import type { CollectResult, Diagnostic, Provider } from '@twinsync/sdk'
import { errorDiagnostic, isTwinSyncError } from '@twinsync/sdk'
import pLimit from 'p-limit'
import type { ContextOptions } from './context-factory.js'
import { contextFor } from './context-factory.js'

export type CollectOutcome =
  | { provider: Provider; status: 'collected'; result: CollectResult; durationMs: number }
  | { provider: Provider; status: 'not-detected'; reason: string | undefined; durationMs: number }
  | { provider: Provider; status: 'failed'; diagnostic: Diagnostic; durationMs: number }

export type CollectProgress = (event: { provider: string; phase: 'start' | CollectOutcome['status'] }) => void

/**
 * Detect and collect every provider, several at once. One provider's failure is its own
 * outcome: the others are collected as usual, and the caller keeps that domain's last state.
 */
export async function collectAll(
  providers: readonly Provider[],
  options: ContextOptions & { concurrency?: number; onProgress?: CollectProgress },
): Promise<CollectOutcome[]> {
  const limit = pLimit(options.concurrency ?? 4)
  return Promise.all(providers.map((provider) => limit(() => collectOne(provider, options))))
}

async function collectOne(provider: Provider, options: ContextOptions & { onProgress?: CollectProgress }): Promise<CollectOutcome> {
  const started = performance.now()
  const elapsed = () => Math.round(performance.now() - started)
  options.onProgress?.({ provider: provider.name, phase: 'start' })
  let outcome: CollectOutcome
  try {
    const ctx = contextFor(provider, options)
    const detected = await provider.detect({ ctx })
    if (!detected.detected) {
      outcome = { provider, status: 'not-detected', reason: detected.reason, durationMs: elapsed() }
    } else {
      const result = await provider.collect({ ctx })
      outcome = { provider, status: 'collected', result, durationMs: elapsed() }
    }
  } catch (error) {
    if (isTwinSyncError(error) && error.code === 'ABORTED') throw error
    const message = error instanceof Error ? error.message : String(error)
    outcome = {
      provider,
      status: 'failed',
      diagnostic: errorDiagnostic('PROVIDER_FAILED', `${provider.name} failed to collect: ${message}`, {
        provider: provider.name,
        detail: 'Its part of the twin keeps the state of the last snapshot.',
      }),
      durationMs: elapsed(),
    }
  }
  options.onProgress?.({ provider: provider.name, phase: outcome.status })
  return outcome
}
