import type { ApplicableProvider, Change, Diagnostic, ProviderContext } from '@twinsync/sdk'
import { callProvider } from '../providers/provider-call.js'

/**
 * The one rule of a provider's scope (ApplicableProvider.outOfScope), for the planner and for
 * apply (ApplyService) and status's pending items (IntentService): which of its changes act outside what it manages now. No changes, or a
 * provider without the capability: none, and nothing asked. A failure is the provider's,
 * named (not ok): nothing of it is planned or applied.
 */
export async function outsideScope(
  provider: ApplicableProvider,
  changes: readonly Change[],
  ctx: ProviderContext,
): Promise<{ ok: true; ids: Set<string>; diagnostics: Diagnostic[] } | { ok: false; diagnostic: Diagnostic }> {
  if (provider.outOfScope === undefined || changes.length === 0) return { ok: true, ids: new Set(), diagnostics: [] }
  const check = provider.outOfScope.bind(provider)
  const result = await callProvider(provider, 'outOfScope', () => check({ changes, ctx }), `Nothing is planned or applied for ${provider.name}.`)
  if (!result.ok) return result
  // Only changes it was asked about, each named: a diagnostic without a known change leaves nothing out silently.
  const asked = new Set(changes.map((c) => c.id))
  const diagnostics = result.value.map((d) => ({ ...d, provider: d.provider ?? provider.name }))
  return { ok: true, ids: new Set(diagnostics.flatMap((d) => (d.change !== undefined && asked.has(d.change) ? [d.change] : []))), diagnostics }
}
