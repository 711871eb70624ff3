import type { Category, PathClaims, Provider } from '@twinsync/sdk'
import { CATEGORIES, isVolatileTwinPath } from '@twinsync/sdk'
import type { GitStatusEntry } from '../twin/git.js'
import { ownerOfTwinPath } from './twin-ownership.js'

export type Domain = Category | 'twin'

/** Every domain a snapshot or a comparison counts, in the order they are listed: twin files no provider owns come last. */
export const DOMAINS: readonly Domain[] = [...CATEGORIES, 'twin']

export interface DomainSummary {
  added: number
  changed: number
  removed: number
  /** Changed twin paths, sorted. */
  paths: string[]
}

export type SnapshotSummary = Partial<Record<Domain, DomainSummary>>

/** Group the staged changes of a snapshot by domain (files, packages, services, startup, facts). */
export function summarizeChanges(entries: readonly GitStatusEntry[], providers: readonly Provider[], claims: PathClaims): SnapshotSummary {
  const summary: SnapshotSummary = {}
  for (const entry of entries) {
    const domain: Domain = ownerOfTwinPath(entry.path, providers, claims)?.category ?? 'twin'
    const s = (summary[domain] ??= { added: 0, changed: 0, removed: 0, paths: [] })
    if (entry.change === 'A') s.added++
    else if (entry.change === 'D') s.removed++
    else s.changed++
    s.paths.push(entry.path)
  }
  for (const s of Object.values(summary)) s.paths.sort()
  return summary
}

/** True when every change is to a volatile fact (processes, logs, usage). */
export function onlyVolatile(entries: readonly GitStatusEntry[]): boolean {
  return entries.length > 0 && entries.every((e) => isVolatileTwinPath(e.path))
}

export function snapshotMessage(date: Date, label?: string): string {
  const stamp = date.toISOString().replace(/\.\d{3}Z$/, 'Z')
  return label === undefined ? `TwinSync snapshot ${stamp}` : `TwinSync snapshot ${stamp} [${label}]`
}
