import type { CollectResult, Diagnostic, Provider, TwinReader } from '@twinsync/sdk'
import pLimit from 'p-limit'
import { TwinSyncError } from '@twinsync/sdk/light'
import { callProvider } from '../providers/provider-call.js'
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
  options: ContextOptions & { concurrency?: number; onProgress?: CollectProgress; previous?: TwinReader; since?: Readonly<Record<string, string>>; wholeOnly?: boolean },
): Promise<CollectOutcome[]> {
  const limit = pLimit(options.concurrency ?? 4)
  // Every provider's collect has ended before this returns or throws (a cancelled run's ABORTED
  // included): one still at work would write its cache into the twin after its caller gave up.
  const settled = await Promise.allSettled(providers.map((provider) => limit(() => collectOne(provider, options))))
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected')
  if (failed !== undefined) throw failed.reason
  return settled.map((s) => (s as PromiseFulfilledResult<CollectOutcome>).value)
}

/**
 * Milliseconds since `started` (a `process.hrtime.bigint()`), rounded. Speed (issue 22, session 9):
 * `performance.now()` is Node's perf_hooks, whose eight modules the global `performance` loads
 * when first read (0.7–1 ms of an unchanged snapshot's CPU, nothing else it runs needs them).
 */
export function msSince(started: bigint): number {
  return Math.round(Number(process.hrtime.bigint() - started) / 1e6)
}

/**
 * A cancelled run (the panel closed: busy.ts waits for its work) starts no provider call: a
 * provider still queued behind pLimit would run its detect and collect to the end, and the panel
 * waited for it (session 44, review).
 */
function stopIfCancelled(options: { signal?: AbortSignal }): void {
  if (options.signal?.aborted === true) throw new TwinSyncError('ABORTED', 'The collect was cancelled; nothing was changed')
}

async function collectOne(provider: Provider, options: ContextOptions & { onProgress?: CollectProgress; previous?: TwinReader; since?: Readonly<Record<string, string>>; wholeOnly?: boolean }): Promise<CollectOutcome> {
  const started = process.hrtime.bigint()
  const elapsed = () => msSince(started)
  options.onProgress?.({ provider: provider.name, phase: 'start' })
  const kept = 'Its part of the twin keeps the state of the last snapshot.'
  let outcome: CollectOutcome
  let made: ReturnType<typeof contextFor> | undefined
  stopIfCancelled(options)
  const detected = await callProvider(
    provider,
    'detect',
    () => {
      made = contextFor(provider, options)
      return provider.detect({ ctx: made })
    },
    kept,
  )
  if (!detected.ok) {
    outcome = { provider, status: 'failed', diagnostic: detected.diagnostic, durationMs: elapsed() }
  } else if (!detected.value.detected) {
    outcome = { provider, status: 'not-detected', reason: detected.value.reason, durationMs: elapsed() }
  } else {
    const ctx = made as ReturnType<typeof contextFor>
    const previous = options.previous
    // The token of its documents HEAD holds (a snapshot's, kept-parts.ts), or of a comparison that found nothing (a plan's, kept-compare.ts).
    const since = Object.hasOwn(options.since ?? {}, provider.name) ? options.since?.[provider.name] : undefined
    const request = { ctx, ...(previous === undefined ? {} : { previous }), ...(since === undefined ? {} : { since, ...(options.wholeOnly === true ? { wholeOnly: true } : {}) }) }
    stopIfCancelled(options)
    const collected = await callProvider(provider, 'collect', () => provider.collect(request), kept)
    outcome = collected.ok
      ? { provider, status: 'collected', result: collected.value, durationMs: elapsed() }
      : { provider, status: 'failed', diagnostic: collected.diagnostic, durationMs: elapsed() }
  }
  options.onProgress?.({ provider: provider.name, phase: outcome.status })
  return outcome
}
