import type { ApplicableProvider, Category, Change, Diagnostic, PathClaims, Provider, ProviderContext, TwinReader } from '@twinsync/sdk'
import { findSecrets, isApplicable, isTwinSyncError, NO_LONGER_TRACKED, redactSecrets } from '@twinsync/sdk/light'
import { unplannableItems } from '../plan/observed-drift.js'
import { callProvider } from '../providers/provider-call.js'
import { ownerOfTwinPath } from '../snapshot/twin-ownership.js'
import type { GitStatusEntry } from '../twin/git.js'
import { countItems, observedPhrase } from '../vocabulary.js'
import { appendAll } from '../append-to.js'

export interface DomainChange {
  provider: string
  operation: string
  resource: string
  /** What happened, in observed words (vocabulary.ts): "hello installed", "/etc/motd changed". */
  summary: string
  before?: string
  after?: string
  /** Described as a twin file, not as an item a provider named (a domain that appeared, a provider that failed). */
  twinFile?: true
  diff?: string
}

export interface SemanticDiff {
  /** Per domain, what changed, in observed words ("hello installed", "nginx.service enabled"). */
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
  /**
   * narrow: let a provider narrow both sides to what differs first (ApplicableProvider.narrow), and
   * load a domain's newer side only when its older side holds a state (a snapshot's diary line;
   * see describeWithProvider).
   */
  options: { diffs: boolean; fileLevel?: ReadonlySet<string>; narrow?: boolean },
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
      const ctx = contextOf(provider)
      const sides = options.narrow === true ? await narrowed(provider, older, newer, paths, ctx) : { older, newer }
      const described = await describeWithProvider(provider, sides.older, sides.newer, ctx, options)
      if (described !== undefined && 'failed' in described) {
        diagnostics.push(described.failed)
      } else if (described !== undefined) {
        for (const c of described.changes) add(provider.category, c)
        appendAll(diagnostics, described.diagnostics)
        continue
      }
    }
    for (const e of paths) add(provider?.category ?? 'twin', fileLevel(name, e))
  }
  return { domains: await withoutSecretNames(domains), diagnostics }
}

/**
 * What changed, with any secret in its words redacted (`files: <redacted>.service removed`): a
 * twin from before session 24 holds names with a token (a file, a crontab, an autostart entry
 * mirrored under it), and the snapshot that drops one, or `history`/`show` of it, would spell it
 * in the diary line, a new commit's subject (session 25). Today's snapshots never take such a
 * name in (the providers hold it out), so this only ever finds those.
 * Cost: the words of all the changes screened as one text, one detector call (as the snapshot's
 * guard screens a document); each change alone only when that text has a finding.
 */
async function withoutSecretNames(domains: SemanticDiff['domains']): Promise<SemanticDiff['domains']> {
  const all = Object.values(domains).flatMap((list) => list ?? [])
  if (all.length === 0) return domains
  const words = (c: DomainChange) => [c.resource, c.summary, c.before ?? '', c.after ?? '']
  if ((await findSecrets(all.flatMap(words).join('\n'))).length === 0) return domains
  const out: SemanticDiff['domains'] = {}
  for (const [domain, list] of Object.entries(domains) as Array<[keyof SemanticDiff['domains'], DomainChange[] | undefined]>) {
    if (list === undefined) continue
    out[domain] = await Promise.all(
      list.map(async (c) => {
        const [resource, summary, before, after] = await Promise.all(words(c).map((w) => redactSecrets(w)))
        if (resource === c.resource && summary === c.summary && before === (c.before ?? '') && after === (c.after ?? '')) return c
        return { ...c, resource: resource as string, summary: summary as string, ...(c.before === undefined ? {} : { before }), ...(c.after === undefined ? {} : { after }) }
      }),
    )
  }
  return out
}

/**
 * How many things changed, per domain, in one unit: the items the providers name (a file, a
 * package, a unit; a package installed and held is one), never the twin documents that hold them. history, show, diff, the TUI and
 * their --json all count with this.
 */
export function countChanges(domains: SemanticDiff['domains']): Partial<Record<Category | 'twin', number>> {
  return Object.fromEntries(Object.entries(domains).flatMap(([d, list]) => (list === undefined || list.length === 0 ? [] : [[d, countItems(list)]])))
}

/** The two sides as the provider narrows them, or as they are (it cannot, or it failed: narrowing only saves time). */
async function narrowed(
  provider: ApplicableProvider,
  older: TwinReader,
  newer: TwinReader,
  paths: readonly GitStatusEntry[],
  ctx: ProviderContext,
): Promise<{ older: TwinReader; newer: TwinReader }> {
  if (provider.narrow === undefined) return { older, newer }
  try {
    return (await provider.narrow({ older, newer, changed: paths.map((e) => e.path), ctx })) ?? { older, newer }
  } catch (error) {
    if (isTwinSyncError(error) && error.code === 'ABORTED') throw error
    return { older, newer }
  }
}

async function describeWithProvider(
  provider: ApplicableProvider,
  older: TwinReader,
  newer: TwinReader,
  ctx: ProviderContext,
  options: { diffs: boolean; narrow?: boolean },
): Promise<{ changes: DomainChange[]; diagnostics: Diagnostic[] } | { failed: Diagnostic } | undefined> {
  // A provider that fails is described file by file, with its failure next to it.
  const instead = 'Its changes are listed file by file instead.'
  const loading = callProvider(provider, 'load', () => provider.load({ ctx, twin: older }), instead)
  // Speed (issue 22, session 50): a domain that appears (its older side holds no state: every
  // domain in a first snapshot) is described file by file whatever its newer side holds, so the
  // diary line (narrow) does not load that side: a minbase `snapshot --init` no longer loads the
  // files provider's 110 files, apt's packages and the rest a second time (callgrind, node only,
  // like-for-like pairs against 241fcb20: 1,209.5 -> 1,194.7 M, -14.8 M, 1.2%). Counted the
  // same: a newer side that fails to load is described file by file too; only its failure is
  // not said there (the diary keeps no diagnostic: it then recorded no counts, which history
  // counts file by file all the same). show, diff and history load both sides, as before.
  if (options.narrow === true) {
    const loaded = await loading
    if (loaded.ok && loaded.value.state === undefined) return undefined
  }
  const [loadedBefore, loadedAfter] = await Promise.all([loading, callProvider(provider, 'load', () => provider.load({ ctx, twin: newer }), instead)])
  if (!loadedBefore.ok) return { failed: loadedBefore.diagnostic }
  if (!loadedAfter.ok) return { failed: loadedAfter.diagnostic }
  const before = loadedBefore.value.state
  const after = loadedAfter.value.state
  // A domain that appears or disappears as a whole has no state to compare with.
  if (before === undefined || after === undefined) return undefined
  // What happened: the provider's own account when it has one (apt counts every package), else the plan's diff.
  const observe = provider.observe?.bind(provider)
  const diffed =
    observe === undefined
      ? await callProvider(provider, 'diff', () => provider.diff({ desired: after, actual: before, ctx, ...(options.diffs ? {} : { patches: false }) }), instead)
      : await callProvider(provider, 'observe', () => observe({ before, after, ctx }), instead)
  if (!diffed.ok) return { failed: diffed.diagnostic }
  const diff = diffed.value
  // A resource that left the twin because it is no longer tracked is said so, not shown as deleted.
  // So is a file whose content moved where the twin holds none of it (a secret, a binary): as status says it.
  const notes: DomainChange[] = [
    ...diff.diagnostics
      .filter((d) => d.code === NO_LONGER_TRACKED && d.path !== undefined)
      .map((d) => ({ provider: provider.name, operation: 'untrack', resource: d.path as string, summary: observedPhrase({ operation: 'untrack', resource: d.path as string }) })),
    ...unplannableItems(diff.diagnostics, 'desired').map((c) => ({ provider: provider.name, operation: c.operation, resource: c.resource, summary: observedPhrase(c) })),
  ]
  return {
    changes: [...notes, ...diff.changes.map((c: Change) => ({
      provider: c.provider,
      operation: c.operation,
      resource: c.resource,
      summary: observedPhrase(c),
      ...(c.before === undefined ? {} : { before: c.before }),
      ...(c.after === undefined ? {} : { after: c.after }),
      ...(options.diffs && c.diff !== undefined ? { diff: c.diff } : {}),
    }))],
    diagnostics: diff.diagnostics.filter((d) => d.severity === 'error'),
  }
}

function fileLevel(provider: string, e: GitStatusEntry): DomainChange {
  const operation = e.change === 'A' ? 'added' : e.change === 'D' ? 'removed' : 'changed'
  return { provider, operation, resource: e.path, summary: observedPhrase({ operation, resource: e.path, twinFile: true }), twinFile: true }
}

/**
 * A reader of one side of a comparison that reads only the machine files that changed: every
 * other file under filesyst/ reads as empty, the same on both sides, so it compares equal
 * without its blob being read (the manifest still says its mode, owner and type). For a
 * comparison without diffs, such as a snapshot's diary line; other providers' documents are
 * read whole.
 */
export function changedFilesOnly(reader: TwinReader & { list(prefix: string): Promise<string[]> }, changedPaths: readonly GitStatusEntry[]): TwinReader {
  const changed = new Set(changedPaths.map((e) => e.path))
  let present: Promise<Set<string>> | undefined
  const has = reader.has
  // Asked of the reader where it can say (a draft's, a commit's: TwinReader.has), else from one listing.
  const exists = async (path: string) => (has !== undefined ? has.call(reader, path) : (present ??= reader.list('filesystem/').then((l) => new Set(l))).then((s) => s.has(path)))
  const elided = (path: string) => path.startsWith('filesystem/') && !changed.has(path)
  return {
    read: async (path) => (elided(path) ? ((await exists(path)) ? new Uint8Array() : undefined) : reader.read(path)),
    readText: async (path) => (elided(path) ? ((await exists(path)) ? '' : undefined) : reader.readText(path)),
    list: (prefix) => reader.list(prefix),
    // Every path it lists, it holds: elided documents read as empty, never as missing.
    ...(has === undefined ? {} : { has: (path: string) => has.call(reader, path) }),
    // The executable bit is the tree entry's, never elided (TwinReader.executableOf): a mode-only change is still one.
    ...(reader.executableOf === undefined ? {} : { executableOf: (path: string) => (reader.executableOf as (p: string) => Promise<boolean | undefined>).call(reader, path) }),
    ...(reader.observedExecutableOf === undefined ? {} : { observedExecutableOf: (path: string) => (reader.observedExecutableOf as (p: string) => Promise<boolean | undefined>).call(reader, path) }),
  }
}
