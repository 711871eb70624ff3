import type { ApplicableProvider, Category, Change, Diagnostic, PathClaims, Provider, ProviderContext, TwinReader } from '@twinsync/sdk'
import { isApplicable, NO_LONGER_TRACKED, SECRET_CHANGED } from '@twinsync/sdk'
import { callProvider } from '../providers/provider-call.js'
import { ownerOfTwinPath } from '../snapshot/twin-ownership.js'
import type { GitStatusEntry } from '../twin/git.js'

export interface DomainChange {
  provider: string
  operation: string
  resource: string
  summary: string
  diff?: string
}

export interface SemanticDiff {
  /** Per domain, what changed, in the providers' own words ("install hello", "enable nginx.service"). */
  domains: Partial<Record<Category | 'twin', DomainChange[]>>
  diagnostics: Diagnostic[]
}

/**
 * What changed between two states of the twin, said the way the providers say it: each
 * provider's diff with the older state as "actual" and the newer as "desired" is exactly the
 * list of things that happened between them. Read-only domains (facts) and the twin's own
 * files are described by the twin files that changed.
 */
export async function semanticDiff(
  older: TwinReader,
  newer: TwinReader,
  changedPaths: readonly GitStatusEntry[],
  providers: readonly Provider[],
  claims: PathClaims,
  contextOf: (p: Provider) => ProviderContext,
  options: { diffs: boolean; fileLevel?: ReadonlySet<string> },
): Promise<SemanticDiff> {
  const touched = new Map<string, Provider | undefined>()
  for (const entry of changedPaths) {
    const owner = ownerOfTwinPath(entry.path, providers, claims)
    touched.set(owner?.name ?? 'twin', owner)
  }
  const domains: SemanticDiff['domains'] = {}
  const diagnostics: Diagnostic[] = []
  const add = (category: Category | 'twin', change: DomainChange) => (domains[category] ??= []).push(change)

  for (const [name, provider] of touched) {
    const paths = changedPaths.filter((e) => (ownerOfTwinPath(e.path, providers, claims)?.name ?? 'twin') === name)
    if (provider !== undefined && isApplicable(provider) && options.fileLevel?.has(provider.name) !== true) {
      const described = await describeWithProvider(provider, older, newer, contextOf(provider), options)
      if (described !== undefined && 'failed' in described) {
        diagnostics.push(described.failed)
      } else if (described !== undefined) {
        for (const c of described.changes) add(provider.category, c)
        diagnostics.push(...described.diagnostics)
        continue
      }
    }
    for (const e of paths) add(provider?.category ?? 'twin', fileLevel(name, e))
  }
  return { domains, diagnostics }
}

/**
 * How many things changed, per domain, in one unit: the items the providers name (a file, a
 * package, a unit), never the twin documents that hold them. history, show, diff, the TUI and
 * their --json all count with this.
 */
export function countChanges(domains: SemanticDiff['domains']): Partial<Record<Category | 'twin', number>> {
  return Object.fromEntries(Object.entries(domains).flatMap(([d, list]) => (list === undefined || list.length === 0 ? [] : [[d, list.length]])))
}

async function describeWithProvider(
  provider: ApplicableProvider,
  older: TwinReader,
  newer: TwinReader,
  ctx: ProviderContext,
  options: { diffs: boolean },
): Promise<{ changes: DomainChange[]; diagnostics: Diagnostic[] } | { failed: Diagnostic } | undefined> {
  // A provider that fails is described file by file, with its failure next to it.
  const instead = 'Its changes are listed file by file instead.'
  const [loadedBefore, loadedAfter] = await Promise.all([
    callProvider(provider, 'load', () => provider.load({ ctx, twin: older }), instead),
    callProvider(provider, 'load', () => provider.load({ ctx, twin: newer }), instead),
  ])
  if (!loadedBefore.ok) return { failed: loadedBefore.diagnostic }
  if (!loadedAfter.ok) return { failed: loadedAfter.diagnostic }
  const before = loadedBefore.value.state
  const after = loadedAfter.value.state
  // A domain that appears or disappears as a whole has no state to compare with.
  if (before === undefined || after === undefined) return undefined
  const diffed = await callProvider(provider, 'diff', () => provider.diff({ desired: after, actual: before, ctx }), instead)
  if (!diffed.ok) return { failed: diffed.diagnostic }
  const diff = diffed.value
  // A resource that left the twin because it is no longer tracked is said so, not shown as deleted.
  // So is a secret whose content changed: the twin holds only its keyed hash.
  const notes: DomainChange[] = diff.diagnostics
    .filter((d) => (d.code === NO_LONGER_TRACKED || d.code === SECRET_CHANGED) && d.path !== undefined)
    .map((d) =>
      d.code === NO_LONGER_TRACKED
        ? { provider: provider.name, operation: 'untrack', resource: d.path as string, summary: `No longer tracked: ${d.path as string}` }
        : { provider: provider.name, operation: 'secret-changed', resource: d.path as string, summary: `Secret changed: ${d.path as string}` },
    )
  return {
    changes: [...notes, ...diff.changes.map((c: Change) => ({
      provider: c.provider,
      operation: c.operation,
      resource: c.resource,
      summary: c.summary,
      ...(options.diffs && c.diff !== undefined ? { diff: c.diff } : {}),
    }))],
    diagnostics: diff.diagnostics.filter((d) => d.severity === 'error'),
  }
}

function fileLevel(provider: string, e: GitStatusEntry): DomainChange {
  const verb = e.change === 'A' ? 'added' : e.change === 'D' ? 'removed' : 'changed'
  return { provider, operation: verb, resource: e.path, summary: `${e.path} ${verb}` }
}
