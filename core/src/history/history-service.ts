import type { Category, Diagnostic, Provider } from '@twinsync/sdk'
import { inject, injectable } from '../di.js'
import { ProviderContexts } from '../providers/provider-contexts.js'
import { ProviderRegistry } from '../providers/provider-registry.js'
import { GitTreeReader, resolveCommit } from '../twin/git-tree-reader.js'
import { TwinRepository } from '../twin/twin-repository.js'
import { countChanges, semanticDiff, type SemanticDiff } from './semantic-diff.js'
import { SnapshotLog, type SnapshotRecord } from './snapshot-log.js'
import { countsPhrase } from '../vocabulary.js'

export interface HistoryEntry extends SnapshotRecord {
  /** How many things changed, per domain: packages, units, jobs, entries, files; fact files (countChanges). */
  counts: Partial<Record<string, number>>
  /** The counts in words: "1 file, 2 packages" (vocabulary.ts). */
  counted: string
}

export interface Comparison extends SemanticDiff {
  from: SnapshotRecord | null
  to: SnapshotRecord
  /** How many things changed per domain, the same count history lists (countChanges). */
  counts: Partial<Record<string, number>>
  /** The counts in words, as history says them. */
  counted: string
}

/** The time machine's reading side: the list of snapshots and what changed between them. */
@injectable()
export class HistoryService {
  private readonly log: SnapshotLog

  constructor(
    @inject(TwinRepository) private readonly twin: TwinRepository,
    @inject(ProviderRegistry) private readonly registry: ProviderRegistry,
    @inject(ProviderContexts) private readonly contexts: ProviderContexts,
  ) {
    this.log = new SnapshotLog(twin.dir)
  }

  async history(options: { limit: number; domain?: string }): Promise<HistoryEntry[]> {
    await this.twin.open()
    const { providers, claims } = await this.providers()
    // With a domain filter, look further back so that `limit` matching snapshots can be found.
    const records = await this.log.list(options.domain === undefined ? options.limit : options.limit * 20)
    const out: HistoryEntry[] = []
    for (const record of records) {
      // The same comparison as show's, so that a list and a detail count the same things.
      const { counts, counted } = await this.compareRecords(record.parent === null ? null : { ...record, commit: record.parent }, record, { diffs: false }, { providers, claims })
      if (options.domain !== undefined && !counts[options.domain as Category]) continue
      out.push({ ...record, counts, counted })
      if (out.length >= options.limit) break
    }
    return out
  }

  /** What one snapshot changed, compared with the one before it. */
  async show(ref: string, options: { diffs: boolean }): Promise<Comparison> {
    await this.twin.open()
    const to = await this.log.get(await resolveCommit(this.twin.dir, ref))
    return this.compareRecords(to.parent === null ? null : await this.log.get(to.parent), to, options)
  }

  /** What changed from snapshot A to snapshot B. */
  async compare(a: string, b: string, options: { diffs: boolean }): Promise<Comparison> {
    await this.twin.open()
    const from = await this.log.get(await resolveCommit(this.twin.dir, a))
    const to = await this.log.get(await resolveCommit(this.twin.dir, b))
    return this.compareRecords(from, to, options)
  }

  async label(ref: string, name: string): Promise<SnapshotRecord> {
    await this.twin.open()
    const commit = await resolveCommit(this.twin.dir, ref)
    await this.log.label(commit, name)
    return this.log.get(commit)
  }

  async resolve(ref: string): Promise<SnapshotRecord> {
    await this.twin.open()
    return this.log.get(await resolveCommit(this.twin.dir, ref))
  }

  private async compareRecords(
    from: SnapshotRecord | null,
    to: SnapshotRecord,
    options: { diffs: boolean },
    loaded?: { providers: Provider[]; claims: Awaited<ReturnType<ProviderRegistry['load']>>['claims'] },
  ): Promise<Comparison> {
    const { providers, claims } = loaded ?? (await this.providers())
    const older = from === null ? undefined : new GitTreeReader(this.twin.dir, from.commit)
    const newer = new GitTreeReader(this.twin.dir, to.commit)
    try {
      const changed = await this.log.changedPaths(from?.commit ?? null, to.commit)
      const diff = await semanticDiff(older ?? emptyTwin, newer, changed, providers, claims, (p) => this.contexts.for(p, claims), options)
      return { from, to, ...diff, counts: countChanges(diff.domains), counted: countsPhrase(diff.domains) }
    } finally {
      older?.close()
      newer.close()
    }
  }

  private async providers(): Promise<{ providers: Provider[]; claims: Awaited<ReturnType<ProviderRegistry['load']>>['claims']; diagnostics: Diagnostic[] }> {
    const set = await this.registry.load()
    return { providers: set.providers.map((p) => p.provider), claims: set.claims, diagnostics: set.diagnostics }
  }
}

const emptyTwin = {
  read: async () => undefined,
  readText: async () => undefined,
  list: async () => [],
}
