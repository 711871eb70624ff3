import type { Category, PathClaims, Provider } from '@twinsync/sdk'
import { CATEGORIES, findSecrets, isVolatileTwinPath, redactSecrets } from '@twinsync/sdk/light'
import type { GitStatusEntry } from '../twin/git.js'
import type { DomainChange, SemanticDiff } from '../history/semantic-diff.js'
import { boundedList, domainCountPhrase, snapshotSubject } from '../vocabulary.js'
import { ownerOfTwinPath } from './twin-ownership.js'
import { appendTo } from '../append-to.js'
import { visibleName } from '../plan/command-text.js'

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

/**
 * The summary with any secret in its twin paths redacted: the paths a snapshot removes from a twin
 * from before session 24 can be named with a token (a mirrored file, crontab or autostart entry),
 * and the snapshot prints them (`--json`, the control panel). The paths screened as one text, one
 * detector call; each path alone only when that text has a finding.
 */
export async function withoutSecretPaths(summary: SnapshotSummary): Promise<SnapshotSummary> {
  const paths = Object.values(summary).flatMap((s) => s?.paths ?? [])
  if (paths.length === 0 || (await findSecrets(paths.join('\n'))).length === 0) return summary
  const out: SnapshotSummary = {}
  for (const [domain, s] of Object.entries(summary) as Array<[Domain, DomainSummary]>) out[domain] = { ...s, paths: await Promise.all(s.paths.map((p) => redactSecrets(p))) }
  return out
}

/** True when every change is to a volatile fact (processes, logs, usage). */
export function onlyVolatile(entries: readonly GitStatusEntry[]): boolean {
  return entries.length > 0 && entries.every((e) => isVolatileTwinPath(e.path))
}

/**
 * A snapshot's commit subject, the machine's diary line: what changed per provider in observed
 * words ("files: motd changed · apt: hello installed"), bounded; '' when only volatile facts
 * (or nothing a person would name) changed.
 */
export function diarySubject(domains: SemanticDiff['domains'], max = SUBJECT_MAX): string {
  const groups = new Map<string, DomainChange[]>()
  for (const domain of DOMAINS) {
    for (const c of domains[domain] ?? []) {
      // Read-only facts and the twin's own files are one group each; a domain provider is named.
      const name = domain === 'facts' || domain === 'twin' ? domain : c.provider
      appendTo(groups, name, c)
    }
  }
  return snapshotSubject([...groups].map(([name, changes]) => ({ name, changes })), max)
}

/** The longest diary subject: `git log --oneline` stays on one line of a wide terminal. */
export const SUBJECT_MAX = 120

/** The commit message of a snapshot: the diary line, then the stamp (how history knows it is a snapshot). */
export function snapshotCommitMessage(subject: string, stamp: string): string {
  return subject === '' ? stamp : `${subject}\n\n${stamp}`
}

export function snapshotMessage(date: Date, label?: string): string {
  const stamp = date.toISOString().replace(/\.\d{3}Z$/, 'Z')
  return label === undefined ? `TwinSync snapshot ${stamp}` : `TwinSync snapshot ${stamp} [${label}]`
}

/**
 * A snapshot's result per domain, as the CLI and the control panel print it: the items in
 * observed words ("files     2 files: /etc/motd changed, /etc/issue mode changed"); a domain
 * only counted in twin files (volatile facts) says how many changed.
 */
export function snapshotDomainLines(summary: SnapshotSummary, changes: SemanticDiff['domains'] | undefined, width = 100): string[] {
  const lines: string[] = []
  for (const domain of DOMAINS) {
    const described = changes?.[domain]
    const s = summary[domain]
    if (described !== undefined && described.length > 0) {
      const head = `${domain.padEnd(9)} ${domainCountPhrase(domain, described)}`
      // A machine's name may hold a line break or an escape (`~/.config/$'a\nb'`): spelled out, as a plan spells it (session 43: the snapshot's domain line broke in two).
      lines.push(`${head}: ${boundedList(described.map((c) => visibleName(c.summary)), Math.max(30, width - head.length - 2))}`)
    } else if (s !== undefined) {
      const parts = [s.added && `${s.added} added`, s.changed && `${s.changed} changed`, s.removed && `${s.removed} removed`].filter(Boolean)
      const volatile = s.paths.every((p) => isVolatileTwinPath(p))
      lines.push(`${domain.padEnd(9)} twin files ${parts.join(', ')}${volatile ? ' (volatile facts)' : ''}`)
    }
  }
  return lines
}
