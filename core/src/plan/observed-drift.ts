import type { ApplicableProvider, Change, Diagnostic, ProviderContext } from '@twinsync/sdk'
import { SECRET_CHANGED, unheldOperation, type UnheldOperation } from '@twinsync/sdk/light'
import { callProvider } from '../providers/provider-call.js'

/**
 * Drift a plan leaves alone: what the provider's `observe` says happened between the last
 * snapshot (`observed`) and the machine (`live`) on a resource no planned change covers — a
 * package pulled in as a dependency, a version that moved without a pin. `status` counts these
 * with the planned drift, so its counts are what the next snapshot's history line says; they
 * are adopted with their domain (ITEM_INSEPARABLE alone). Nothing for a provider without
 * `observe` (its diff is the whole story) or when `observe` fails.
 */
export async function observedOnly(provider: ApplicableProvider, observed: unknown, live: unknown, ctx: ProviderContext, planned: readonly Change[], onFailure?: () => void): Promise<Change[]> {
  const observe = provider.observe?.bind(provider)
  if (observe === undefined) return []
  const result = await callProvider(provider, 'observe', () => observe({ before: observed, after: live, ctx }))
  if (!result.ok) {
    onFailure?.()
    return []
  }
  const covered = new Set(planned.filter((c) => c.provider === provider.name).map((c) => c.resource))
  const seen = new Set<string>()
  return result.value.changes.filter((c) => !covered.has(c.resource) && !seen.has(c.id) && seen.add(c.id))
}

/** The operation of an UNHELD_DIFFERS note in observed words, from the diff's `actual` to its `desired` (history's direction). */
const UNHELD_MOVE: Record<UnheldOperation, string> = { create: 'unheld-added', replace: 'unheld-changed', delete: 'unheld-removed' }
/** The same seen from the other side: from `desired` to `actual` (status's and adopt's: the machine is `actual`). */
const UNHELD_DRIFT: Record<UnheldOperation, string> = { create: 'unheld-removed', replace: 'unheld-changed', delete: 'unheld-added' }

/**
 * Differences no change can carry: a file whose content moved where the twin holds none of it (a
 * secret that changed, appeared or went: SECRET_CHANGED; a binary or too large file added,
 * changed or removed: UNHELD_DIFFERS). The files provider's diff plans nothing for them and says
 * so in a note; they are differences all the same, said as history says them. `newer`: which side
 * of the diff is the later one — `actual` for status and adopt (the machine against the last
 * snapshot: listed as drift, adopted with their domain, ITEM_INSEPARABLE alone), `desired` for
 * history (the older snapshot is `actual`).
 */
export function unplannableItems(diagnostics: readonly Diagnostic[], newer: 'actual' | 'desired'): Change[] {
  const out: Change[] = []
  for (const d of diagnostics) {
    if (d.path === undefined) continue
    const unheld = unheldOperation(d)
    const operation = d.code === SECRET_CHANGED ? 'secret-changed' : unheld === undefined ? undefined : (newer === 'actual' ? UNHELD_DRIFT : UNHELD_MOVE)[unheld]
    if (operation === undefined) continue
    const provider = d.provider ?? 'files'
    out.push({ id: `${provider}:${operation}:${d.path}`, provider, category: 'files', operation, resource: d.path, summary: d.summary, risk: 'low' })
  }
  return out
}
