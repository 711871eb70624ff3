import type { ApplicableProvider, Change, ProviderContext } from '@twinsync/sdk'
import { callProvider } from '../providers/provider-call.js'

/**
 * Drift a plan leaves alone: what the provider's `observe` says happened between the last
 * snapshot (`observed`) and the machine (`live`) on a resource no planned change covers — a
 * package pulled in as a dependency, a version that moved without a pin. `status` counts these
 * with the planned drift, so its counts are what the next snapshot's history line says; they
 * are adopted with their domain (ITEM_INSEPARABLE alone). Nothing for a provider without
 * `observe` (its diff is the whole story) or when `observe` fails.
 */
export async function observedOnly(provider: ApplicableProvider, observed: unknown, live: unknown, ctx: ProviderContext, planned: readonly Change[]): Promise<Change[]> {
  const observe = provider.observe?.bind(provider)
  if (observe === undefined) return []
  const result = await callProvider(provider, 'observe', () => observe({ before: observed, after: live, ctx }))
  if (!result.ok) return []
  const covered = new Set(planned.filter((c) => c.provider === provider.name).map((c) => c.resource))
  const seen = new Set<string>()
  return result.value.changes.filter((c) => !covered.has(c.resource) && !seen.has(c.id) && seen.add(c.id))
}
