import type { ApplicableProvider, Change, Diagnostic, ProviderContext } from '@twinsync/sdk'
import { SECRET_CHANGED } from '@twinsync/sdk/light'
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

/**
 * Drift no change can carry: a file whose content moved where the twin holds none of it (a
 * mirrored file that gained a secret, a secret that changed or lost its last one). The files
 * provider's diff plans nothing for it and says so with a SECRET_CHANGED note; `status` lists it
 * as drift and `adopt` takes it with its domain (ITEM_INSEPARABLE alone), as history says it.
 */
export function secretChangedItems(diagnostics: readonly Diagnostic[]): Change[] {
  const out: Change[] = []
  for (const d of diagnostics) {
    if (d.code !== SECRET_CHANGED || d.path === undefined) continue
    const provider = d.provider ?? 'files'
    out.push({ id: `${provider}:secret-changed:${d.path}`, provider, category: 'files', operation: 'secret-changed', resource: d.path, summary: d.summary, risk: 'low' })
  }
  return out
}
