import { sha256 } from '../sha256.js'
import type { Category, Diagnostic, PathClaims, Provider, TwinReader } from '@twinsync/sdk'
import { inject, injectable } from '../di.js'
import { ProviderContexts } from '../providers/provider-contexts.js'
import { ProviderRegistry } from '../providers/provider-registry.js'
import { GitTreeReader, resolveSnapshot } from '../twin/git-tree-reader.js'
import { BatchReader } from '../twin/git.js'
import { TwinRepository } from '../twin/twin-repository.js'
import type { GitStatusEntry } from '../twin/git.js'
import { CORE_VERSION } from '../version.js'
import { CountCache } from './count-cache.js'
import { VerifiedCounts } from './verified-counts.js'
import { countChanges, semanticDiff, type SemanticDiff } from './semantic-diff.js'
import { SnapshotLog, type SnapshotRecord } from './snapshot-log.js'
import { countsPhrase } from '../vocabulary.js'
import { twinKey } from '../plan/plan-seal.js'
import { countedPhrase, parseCountsTrailer, recordedCounts, type RecordedCounts } from './count-record.js'
import { appendAll } from '../append-to.js'

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
    // With a domain filter, look further back so that `limit` matching snapshots can be found.
    const logged = await this.log.listWithBodies(options.domain === undefined ? options.limit : options.limit * 20)
    // A snapshot's message records its counts (count-record.ts): no diff, no provider.
    // Only what this twin signed (a pulled commit's trailer is counted from its content).
    const key = await twinKey(this.twin.dir, false)
    const verified = key === undefined ? undefined : VerifiedCounts.open(this.twin.cacheDir(), key)
    const recorded = new Map<string, RecordedCounts>()
    for (const { record, body, tree, parentTree } of logged) {
      const counts = parentTree === undefined ? undefined : parseCountsTrailer(body, parentTree, tree, key, verified)
      if (counts !== undefined) recorded.set(record.commit, counts)
    }
    verified?.save()
    if (logged.some((l) => !recorded.has(l.record.commit))) await this.countUnrecorded(logged.map((l) => l.record), recorded, options)
    const out: HistoryEntry[] = []
    for (const { record } of logged) {
      const counts = recorded.get(record.commit)
      if (counts === undefined) continue
      if (options.domain !== undefined && !counts.counts[options.domain as Category]) continue
      out.push({ ...record, counts: counts.counts, counted: countedPhrase(counts) })
      if (out.length >= options.limit) break
    }
    return out
  }

  /**
   * Count commits whose message records no counts, the way `show` compares, newest first; the
   * counts go into the twin's count cache, so this happens once per commit. With a domain
   * filter, counting stops once `limit` snapshots of that domain are found.
   */
  private async countUnrecorded(records: readonly SnapshotRecord[], into: Map<string, RecordedCounts>, options: { limit: number; domain?: string }): Promise<void> {
    const { providers, claims } = await this.providers()
    const cache = await CountCache.open(this.twin.cacheDir(), this.fingerprint(providers, claims))
    for (const record of records) {
      const cached = into.has(record.commit) ? undefined : cache.get(record.parent, record.commit)
      if (cached !== undefined) into.set(record.commit, cached)
    }
    const uncached = records.filter((r) => !into.has(r.commit))
    if (uncached.length === 0) return
    // The twin files each one changed: one git log pass over just these commits.
    const changes = new Map((await this.log.listWithChanges(0, uncached.map((r) => r.commit))).map((c) => [c.record.commit, c.changed]))
    const readers = new SharedReaders(this.twin.dir)
    const matches = (c: RecordedCounts) => options.domain === undefined || Boolean(c.counts[options.domain as Category])
    let matching = 0
    try {
      for (const record of records) {
        if (matching >= options.limit) break
        let counts = into.get(record.commit)
        if (counts === undefined) {
          const from = record.parent === null ? null : { ...record, commit: record.parent }
          const compared = await this.compareRecords(from, record, { diffs: false }, { providers, claims }, changes.get(record.commit) ?? [], readers)
          counts = recordedCounts(compared.domains)
          into.set(record.commit, counts)
          // A provider that failed is counted file by file this time; ask it again next time.
          if (compared.diagnostics.length === 0) cache.set(record.parent, record.commit, counts)
        }
        if (matches(counts)) matching++
      }
    } finally {
      readers.close()
    }
    await cache.save()
  }

  /** What one snapshot changed, compared with the one before it. */
  async show(ref: string, options: { diffs: boolean }): Promise<Comparison> {
    await this.twin.open()
    const to = await this.log.get(await resolveSnapshot(this.twin.dir, ref))
    return this.compareRecords(to.parent === null ? null : await this.log.get(to.parent), to, options)
  }

  /** What changed from snapshot A to snapshot B. */
  async compare(a: string, b: string, options: { diffs: boolean }): Promise<Comparison> {
    await this.twin.open()
    const from = await this.log.get(await resolveSnapshot(this.twin.dir, a))
    const to = await this.log.get(await resolveSnapshot(this.twin.dir, b))
    return this.compareRecords(from, to, options)
  }

  /**
   * Under the twin lock (session 30): a label made while forget or gc's fold rewrote history could
   * land on the old chain after the labels had moved, keeping what forget took out reachable
   * (and `push` sends every tag). The snapshot is resolved once the lock is held.
   */
  async label(ref: string, name: string): Promise<SnapshotRecord> {
    await this.twin.open()
    const lock = await this.twin.lockForWriting('label')
    try {
      const commit = await resolveSnapshot(this.twin.dir, ref)
      await this.log.label(commit, name)
      return await this.log.get(commit)
    } finally {
      await lock.release()
    }
  }

  async resolve(ref: string): Promise<SnapshotRecord> {
    await this.twin.open()
    return this.log.get(await resolveSnapshot(this.twin.dir, ref))
  }

  private async compareRecords(
    from: SnapshotRecord | null,
    to: SnapshotRecord,
    options: { diffs: boolean },
    loaded?: { providers: Provider[]; claims: PathClaims },
    /** The twin files that differ from `from` to `to`, when the caller has them already. */
    changedPaths?: GitStatusEntry[],
    /** Readers shared along a list of snapshots (history); by default two of its own. */
    shared?: SharedReaders,
  ): Promise<Comparison> {
    const { providers, claims } = loaded ?? (await this.providers())
    // The readers start git only when a provider reads the twin.
    const older = from === null ? undefined : (shared?.at(from.commit) ?? new GitTreeReader(this.twin.dir, from.commit))
    const toReader = shared?.at(to.commit) ?? new GitTreeReader(this.twin.dir, to.commit)
    const newer = older === undefined ? toReader : bitsJudgedAgainst(toReader, older)
    try {
      const changed = changedPaths ?? (await this.log.changedPaths(from?.commit ?? null, to.commit))
      // Comparing snapshots only reads: each provider gets a host that refuses any change, so a
      // provider's semantic diff can never change the machine (a refusal names the provider).
      const readOnly = this.contexts.readOnly('Comparing snapshots only reads', 'while comparing snapshots')
      const diff = await semanticDiff(older ?? emptyTwin, newer, changed, providers, claims, (p) => this.contexts.for(p, claims, { hostFor: readOnly.hostFor }), options)
      appendAll(diff.diagnostics, readOnly.swallowed(diff.diagnostics))
      return { from, to, ...diff, counts: countChanges(diff.domains), counted: countsPhrase(diff.domains) }
    } finally {
      if (shared === undefined) {
        older?.close()
        toReader.close()
      }
    }
  }

  /** What counts depend on besides the two commits: the providers, their versions and configuration, the target. */
  private fingerprint(providers: readonly Provider[], claims: PathClaims): string {
    const each = providers.map((p) => {
      const ctx = this.contexts.for(p, claims)
      // Whether it says what happened itself (observe) changes what is counted: counts cached without it are stale.
      return [p.name, p.version, ctx.config ?? null, ctx.limits, typeof (p as { observe?: unknown }).observe === 'function']
    })
    return sha256(JSON.stringify([CORE_VERSION, COUNT_RULES, this.contexts.host.root, each]))
  }

  private async providers(): Promise<{ providers: Provider[]; claims: Awaited<ReturnType<ProviderRegistry['load']>>['claims']; diagnostics: Diagnostic[] }> {
    const set = await this.registry.load()
    return { providers: set.providers.map((p) => p.provider), claims: set.claims, diagnostics: set.diagnostics }
  }
}

/**
 * How the core counts, besides the providers: counts cached under an older rule are counted
 * again. 'bits-against-older': a commit's executable bits judged against the older side
 * (bitsJudgedAgainst; session 43), before which a pulled bit-only change was cached as nothing.
 */
const COUNT_RULES = 'bits-against-older'

/**
 * The newer side of a comparison, its executable bits judged against the older side's
 * (TwinReader.observedExecutableOf): a document's bit that differs from both its manifest mode
 * and the older commit's bit is a change to the file's mode (the files provider's `twinMode`),
 * as the plan takes it against the last snapshot. A pulled commit (or a person's) that only
 * chmod +x'ed or -x'ed a document, its manifest left as it was, is then a files mode change in
 * `history`, `show`, `diff` and the TUI; before (session 43's execoff), each side was read
 * against itself, its manifest's modes standing, and such a commit showed no change at all,
 * although the plan would make it (a mirror's push of +x under /etc, unseen in history).
 * The older side is read against itself (its manifest's modes), as before, so a commit whose
 * bits agree with its manifest (every snapshot's, collect.ts) shows exactly what it did; so does
 * the first commit (nothing to judge against). The older side is the one compared with: a
 * commit's first parent (a merge is compared with it, as its changed paths are), or `diff A B`'s A.
 * The older side's bits come from its tree listing, which the comparison has read already.
 * Session 44: where the newer side's bit differs from the older side's, it is judged as the newer
 * commit was made (GitTreeReader.asMadeExecutableOf, the rule a revert's target is read by): a bit
 * last changed by a commit that kept the content is a chmod, judged against the bit before it; a
 * bit written with new content is the commit's own, its manifest's mode standing. An adopt before
 * session 43 wrote an adopted script 100644 beside its manifest's 0755, and history said
 * "0755 -> 0644", a mode change the adopt never made. One `git log` of the path, only for a
 * document whose bit differs from the older side's and from its manifest's mode (rare). Its cost:
 * a person's commit that changed a script's content and its bit at once is read with the
 * manifest's mode (the plan, judged against the last snapshot, still takes the bit). No count
 * changes with it (a path whose content changed is counted either way; one whose content did not
 * is judged as before), so COUNT_RULES stays.
 */
function bitsJudgedAgainst(newer: GitTreeReader, older: GitTreeReader): TwinReader {
  return {
    read: (path) => newer.read(path),
    readText: (path) => newer.readText(path),
    list: (prefix) => newer.list(prefix),
    sizeOf: (path) => newer.sizeOf(path),
    executableOf: (path) => newer.executableOf(path),
    observedExecutableOf: async (path) => {
      const [own, before] = await Promise.all([newer.executableOf(path), older.executableOf(path)])
      return own === undefined || before === undefined || own === before ? before : newer.asMadeExecutableOf(path)
    },
  }
}

const emptyTwin = {
  read: async () => undefined,
  readText: async () => undefined,
  list: async () => [],
}

/**
 * Speed, for a list of snapshots newest first: one `git cat-file --batch` for every blob, and
 * each commit's reader kept for the next snapshot, whose parent it usually is (its file list is
 * then read once, not twice). Measured on 100 snapshots of the services root that each changed
 * files, packages or units: spawning git took about 3 s of the 7 s CPU a cold `history` spent.
 */
class SharedReaders {
  private readonly batch: BatchReader
  private kept = new Map<string, GitTreeReader>()

  constructor(private readonly dir: string) {
    this.batch = new BatchReader(dir)
  }

  /** The reader of one commit; only the readers of the last two commits asked for are kept. */
  at(commit: string): GitTreeReader {
    const reader = this.kept.get(commit) ?? new GitTreeReader(this.dir, commit, this.batch)
    this.kept.delete(commit)
    this.kept.set(commit, reader)
    if (this.kept.size > 2) this.kept.delete(this.kept.keys().next().value as string)
    return reader
  }

  close(): void {
    this.batch.close()
  }
}
