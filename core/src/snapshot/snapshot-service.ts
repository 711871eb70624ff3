import { watchForApplies } from '../apply/machine-lock.js'
import type { Diagnostic, Logger, Provider, TwinDocument } from '@twinsync/sdk'
import { isApplicable, isTwinSyncError, isVolatileTwinPath, TwinSyncError } from '@twinsync/sdk/light'
import pLimit from 'p-limit'
import { inject, injectable } from '../di.js'
import { RunTarget } from '../plan/run-target.js'
import { clearForgotten } from '../history/forgotten-paths.js'
import { IntentService } from '../intent/intent-service.js'
import { collectAll, msSince, type CollectOutcome, type CollectProgress } from '../collect/collector.js'
import { LastSnapshotReader } from '../collect/last-snapshot.js'
import { SnapshotLog } from '../history/snapshot-log.js'
import { ProviderContexts } from '../providers/provider-contexts.js'
import { ProviderRegistry } from '../providers/provider-registry.js'
import { Tokens } from '../tokens.js'
import type { SnapshotDraft } from '../twin/atomic-snapshot.js'
import { TWIN_EDIT_KEPT, TwinRepository } from '../twin/twin-repository.js'
import { refuseOtherMachine } from '../twin/machine-match.js'
import { autoPack, type AutoPackOutcome } from '../twin/auto-pack.js'
import { noteWrittenIndex } from '../twin/quick-status.js'
import { diarySubject, onlyVolatile, snapshotCommitMessage, snapshotMessage, summarizeChanges, withoutSecretPaths, type SnapshotSummary } from './snapshot-summary.js'
import { changedFilesOnly, semanticDiff, type DomainChange, type SemanticDiff } from '../history/semantic-diff.js'
import { countsTrailer, recordedCounts } from '../history/count-record.js'
import { twinKey } from '../plan/plan-seal.js'
import { GitTreeReader } from '../twin/git-tree-reader.js'
import { countsPhrase } from '../vocabulary.js'
import { EMPTY_TREE, type GitStatusEntry } from '../twin/git.js'
import { changedBetween, OBSERVED_REF, treeOf } from '../intent/intent-git.js'
import { isScreened, screenDocument, secretInDocumentName } from './secret-guard.js'
import { ScreenedDocuments } from './screened-documents.js'
import { ownerOfTwinPath, twinPathOwners } from './twin-ownership.js'
import { refusedDocumentPaths } from './document-paths.js'
import { claimsKept, headPaths, inKeptPart, keptClaimsHold, keptFolders, keptNames, partsClaimOf, REMOVABLE, refusedClaim, refusedPartsClaim, sinceTokens, writeKeptRecord, type HeadPaths, type KeptRecord, type PartsClaim } from './kept-parts.js'
import { appendAll } from '../append-to.js'

export interface SnapshotOptions {
  /** Skip the commit when only volatile facts (processes, logs, usage) changed. */
  ifChanged?: boolean
  label?: string
  /** The whole commit message, instead of a snapshot's (checkpoints, applies). */
  message?: string
  /** The commit subject instead of the diary line (the apt hook names the package operation). */
  subject?: string
  /** Said after the stamp in the message body: "TwinSync snapshot <time> before apt". */
  note?: string
  /**
   * Twin files written with the snapshot that no provider owns (the apply journal). `seal` turns
   * the text as screened into the text committed (the journal's signature, journal.ts).
   */
  extraDocuments?: Array<TwinDocument & { seal?: (screened: string) => string }>
  signal?: AbortSignal
  onProgress?: CollectProgress
  /** Why items of the pending intent are pending (an apply's failed, skipped and left-out changes), by change id. */
  intentReasons?: Record<string, string>
  /** The reason for pending items that have none yet (an apply names what it did not cover). */
  otherwiseReason?: string
  /** After a new commit (or a volatile-only skip), pack the object store when it needs it (auto-pack.ts); 'incremental' never packs it whole (the apt hook's time budget). Default 'auto'. */
  pack?: 'auto' | 'incremental'
}

export { TWIN_EDIT_KEPT } from '../twin/twin-repository.js'

export interface SnapshotResult {
  /** The new commit, or undefined when nothing (worth committing) changed. */
  commit: string | undefined
  message: string | undefined
  /** Why there is no commit. */
  skipped: 'unchanged' | 'volatile-only' | undefined
  head: string | undefined
  summary: SnapshotSummary
  /** What the new snapshot changed, per domain, in observed words (the diary line's items); volatile facts are left out. */
  changes?: SemanticDiff['domains']
  providers: Array<{ name: string; status: CollectOutcome['status']; durationMs: number; documents: number }>
  /**
   * Plugins (or their providers) that failed to load (the registry's errors: a hook that threw or
   * timed out, an invalid provider, an SDK range refused…), by the name their error gives: their
   * part of the twin is kept from the last snapshot, and the command exits 1. Absent: none.
   */
  notLoaded?: string[]
  diagnostics: Diagnostic[]
  /** Twin paths that still hold pending intent (edits, pulls, changes not applied), kept across the snapshot. */
  pending: string[]
  /** The object store was packed after the commit or a volatile-only skip (auto-pack.ts): how, and what it cost. */
  packed?: AutoPackOutcome
}

/** What a snapshot collected (SnapshotService.gather). */
interface Gathered {
  outcomes: CollectOutcome[]
  collected: Array<Extract<CollectOutcome, { status: 'collected' }>>
  providers: Provider[]
  claims: Parameters<typeof ownerOfTwinPath>[2]
  diagnostics: Diagnostic[]
  /** The configuration's own diagnostics (before any provider's). */
  loadDiagnostics: Diagnostic[]
  /** The record of kept parts the tokens handed to the collects came from (kept-parts.ts), and those tokens. */
  record: KeptRecord | undefined
  since: Readonly<Record<string, string>>
}

/** Collect every provider into the twin and commit: the spec's "Push snapshot" without the push. */
@injectable()
export class SnapshotService {
  constructor(
    @inject(TwinRepository) private readonly twin: TwinRepository,
    @inject(ProviderRegistry) private readonly registry: ProviderRegistry,
    @inject(ProviderContexts) private readonly contexts: ProviderContexts,
    @inject(Tokens.Logger) private readonly logger: Logger,
    @inject(Tokens.Clock) private readonly clock: () => Date,
    @inject(IntentService) private readonly intents: IntentService,
    @inject(RunTarget) private readonly target: RunTarget,
  ) {}

  async snapshot(options: SnapshotOptions = {}): Promise<SnapshotResult> {
    // Another machine's twin (copied here, a reinstalled machine) is not this one's record to write over.
    await refuseOtherMachine(this.target.get(this.twin.dir), await this.twin.open(), this.contexts.host)
    // Not while another twin's apply runs on this machine, nor when one began during the collect:
    // it would record a moment of it (machine-lock.ts).
    const noApplyMeanwhile = await watchForApplies(this.contexts.host.root, 'snapshot', undefined, this.twin.dir)
    // A bad or taken label is refused before anything is collected or committed.
    if (options.label !== undefined) await new SnapshotLog(this.twin.dir).checkLabelFree(options.label)
    // A snapshot never takes the lock again while it runs: held without AsyncLocalStorage (twin-lock.ts).
    return this.twin.lock().holdAlone('snapshot', async () => {
      try {
        return await this.snapshotLockedToEnd(options, noApplyMeanwhile)
      } finally {
        // The index the snapshot put in place itself, noted for the next run if it is settled by now (quick-status.ts).
        noteWrittenIndex(this.twin.dir)
      }
    })
  }

  /** The snapshot under the twin lock, with what follows a commit (the stat data refreshed, the objects packed). */
  private async snapshotLockedToEnd(options: SnapshotOptions, noApplyMeanwhile: () => Promise<void>): Promise<SnapshotResult> {
    const result = await this.snapshotUnder(options, noApplyMeanwhile)
    if (result.commit === undefined && options.signal?.aborted !== true) await this.twin.refreshStatData()
    // The twin says what the machine has again: a path `forget` took out is no longer a delete to hold back.
    if (options.signal?.aborted !== true) await clearForgotten(this.twin.dir)
    // After a commit, and after a volatile-only snapshot set aside, whose objects were written
    // and nothing refers to (packed, they expire a day later at a whole pack; left loose, they
    // waited for the next commit at 4 KB each, auto-pack.ts). From a clean twin such a snapshot
    // writes none (atomic-snapshot.ts): nothing is loose, and auto-pack runs no git.
    if ((result.commit === undefined && result.skipped !== 'volatile-only') || options.signal?.aborted === true) return result
    // The commit is made and the working twin moved: a failed pack costs only disk space, and the next snapshot tries again.
    const packed = await autoPack(this.twin.dir, { full: options.pack !== 'incremental' }).catch((error: Error) => {
      this.logger.warn(`could not pack the twin's objects (git repack): ${error.message.split('\n')[0]}`)
      return undefined
    })
    return packed === undefined ? result : { ...result, packed }
  }

  /** Settle what a killed run left in the twin (atomic-snapshot.ts), saying which git locks went. Hold the twin lock. */
  settleTwin(): ReturnType<TwinRepository['settle']> {
    return this.twin.settle((m) => this.logger.warn(m))
  }

  /** A snapshot for a caller that already holds the twin lock (apply's checkpoints). */
  snapshotLocked(options: SnapshotOptions): Promise<SnapshotResult> {
    return this.snapshotUnder(options)
  }

  /** `collected`: asked once the machine is read, before anything is committed (may refuse). */
  private async snapshotUnder(options: SnapshotOptions, collected?: () => Promise<void>): Promise<SnapshotResult> {
    // Pending intent is set aside (and committed to refs/twinsync/intended) so the snapshot
    // records only the machine, then merged back on top of the new observed state.
    // Finish what a killed snapshot left, and refuse git's index locked by someone else, before anything moves.
    const started = process.hrtime.bigint()
    await this.settleTwin()
    // Speed (issue 22, session 24): the look at the working twin (above 2,500 files `git status`,
    // a process of its own) is taken while the machine is collected, and the intent set aside
    // after: a collect reads the machine and the providers' caches, never the working twin or its
    // index, and the look writes nothing there (it puts back what a killed run set aside before
    // it starts). The scale root's unchanged snapshot (a 19,626-file twin): `git status` took
    // 168 ms of git's wall at load 5 (trace2: the index 20 ms, every file's lstat 69 ms, the
    // untracked and ignored walk 74 ms), which the snapshot waited for (its hold 310–490 ms at
    // load 4–5); now the look is done 0–21 ms after the collect. 12 interleaved pairs against
    // main at load 9–17 (nice −15; with the row below): wall medians 6.53 → 5.08 s, paired
    // −1.12 s; CPU (user + sys with children) 2.08 → 1.73 s, paired −0.18 s; the wait for the
    // hold 1,124 → 0 ms (docs/architecture.md, Speed).
    const looking = this.intents.look(undefined, { underLock: true })
    // Its failure is thrown once the collect is over (below), never as an unhandled rejection meanwhile.
    void looking.catch(() => undefined)
    let gathered: Gathered
    try {
      gathered = await this.gather(options, async () => (await looking).base)
    } finally {
      // Never left running past the lock (the look records git's "clean" under it).
      await looking.catch(() => undefined)
    }
    this.logger.debug(`snapshot: collected at ${msSince(started)} ms`)
    await collected?.()
    const held = await this.intents.hold('providers', undefined, options.intentReasons, options.otherwiseReason, { underLock: true, looked: await looking })
    this.logger.debug(`snapshot: intent held at ${msSince(started)} ms`)
    let result: Omit<SnapshotResult, 'pending'>
    try {
      result = await this.observe(options, gathered, held.clean === true, held.base, held.editedSince)
    } catch (error) {
      if (held.paths.length > 0) await held.restore(held.base).catch((e: Error) => this.logger.warn(`could not put the pending intent back: ${e.message}; it is kept in refs/twinsync/intended`))
      throw this.intents.explainSetAside(error)
    }
    const observed = result.commit ?? result.head
    // An unchanged snapshot leaves the ref (and its reflog) as it is: no git process, no write. A
    // commit moved it with HEAD and the working twin (draft.commit's refs), or a kill's settling did.
    if (observed !== undefined && observed !== held.observedRef && result.commit === undefined) await this.intents.markObserved(observed)
    // A commit from a clean twin moved it to the commit exactly (the draft wrote every file it changed).
    // A save kept over the move (TWIN_EDIT_KEPT): the working twin is not the commit, asked again.
    const movedClean = held.clean === true && result.commit !== undefined && !result.diagnostics.some((d) => d.code === TWIN_EDIT_KEPT)
    const pending = await held.restore(observed ?? held.base, undefined, movedClean).catch((error: unknown) => {
      throw committedThen(this.intents.explainSetAside(error), result.commit)
    })
    this.logger.debug(`snapshot: intent settled at ${msSince(started)} ms`)
    return { ...result, pending }
  }

  /**
   * Collect every selected provider. `base`: the last snapshot (the observed commit), '' before
   * the first, asked only by a provider that reads it (CollectRequest.previous).
   */
  private async gather(options: SnapshotOptions, base: () => Promise<string>): Promise<Gathered> {
    const { claims, diagnostics: loadDiagnostics } = await this.registry.load()
    const providers = (await this.registry.select()).map((r) => r.provider)
    // The last snapshot, for a provider that could not read part of the machine and keeps that
    // part as it was (CollectRequest.previous): read only then (last-snapshot.ts).
    // Each provider's token of the documents HEAD holds, while HEAD is the observed commit they
    // were recorded with (kept-parts.ts): a provider may then keep them instead of making them.
    const { record, since } = sinceTokens(this.twin.dir, this.twin.cacheDir())
    const outcomes = await this.collectSome(providers, claims, options, base, since)
    const { collected, diagnostics } = outcomesOf(outcomes, loadDiagnostics)
    // A provider that could not collect because the disk is full: refuse before writing anything.
    const full = outcomes.find((o) => o.status === 'failed' && /ENOSPC|No space left on device|EDQUOT/i.test(`${o.diagnostic.summary} ${o.diagnostic.detail ?? ''}`))
    if (full !== undefined) {
      throw new TwinSyncError('DISK_FULL', `The disk is full: ${full.provider.name} could not collect (${full.status === 'failed' ? full.diagnostic.summary : ''}); no snapshot was written`, {
        nextStep: `Free some space (\`df -h ${this.twin.dir}\`), then run the command again.`,
        details: { provider: full.provider.name },
      })
    }
    return { outcomes, collected, providers, claims, diagnostics, loadDiagnostics, record, since }
  }

  /** Collect these providers (`since`: the tokens handed to them, kept-parts.ts). */
  private async collectSome(
    providers: readonly Provider[],
    claims: Gathered['claims'],
    options: SnapshotOptions,
    base: () => Promise<string>,
    since: Readonly<Record<string, string>>,
  ): Promise<CollectOutcome[]> {
    const previous = new LastSnapshotReader(this.twin.dir, base)
    try {
      return await collectAll(providers, { ...this.contexts.collecting(claims, { signal: options.signal, cache: 'twin', onProgress: options.onProgress }), previous, since })
    } finally {
      await previous.close()
    }
  }

  /**
   * The providers' claims of kept parts checked against the draft (kept-parts.ts): the parts each
   * provider may keep, by name. A claim that cannot be kept has its provider collected again
   * without a token, and the gathered outcomes replaced; a provider that claims again all the same
   * keeps nothing (said in the log).
   */
  private async checkKept(options: SnapshotOptions, gathered: Gathered, draft: SnapshotDraft, observed: string): Promise<{ gathered: Gathered } & KeptClaims> {
    const kept = new Map<string, readonly string[]>()
    const parts = new Map<string, PartsClaim>()
    const claiming = gathered.collected.filter((o) => claimsKept(o.result))
    if (claiming.length === 0) return { gathered, kept, parts }
    const holds = keptClaimsHold(gathered.record, draft, observed)
    const again: Provider[] = []
    const refuse = (provider: Provider, why: string) => {
      this.logger.debug(`snapshot: ${provider.name}'s kept parts not kept (${why}); collected again`)
      again.push(provider)
    }
    // Claims by part: well formed, then counted against HEAD in one pass (headPaths) with every path's owner.
    const byPart = new Map<string, PartsClaim>()
    for (const o of claiming) {
      const given = Object.hasOwn(gathered.since, o.provider.name) ? gathered.since[o.provider.name] : undefined
      const claim = partsClaimOf(o.result)
      const refused = !holds ? 'the twin moved since its token was recorded' : typeof claim === 'string' ? claim : refusedClaim(o.provider, o.result, given, (path) => draft.headHolds(path), gathered.providers, gathered.claims)
      if (refused !== undefined) refuse(o.provider, refused)
      else if (typeof claim === 'object') byPart.set(o.provider.name, claim)
      else kept.set(o.provider.name, o.result.kept ?? [])
    }
    let head: HeadPaths | undefined
    if (byPart.size > 0) {
      const owners = twinPathOwners(gathered.providers, gathered.claims)
      head = headPaths(draft.entries, owners, byPart)
      for (const o of claiming) {
        const claim = byPart.get(o.provider.name)
        if (claim === undefined) continue
        const refused = refusedPartsClaim(o.provider.name, claim, head)
        if (refused !== undefined) refuse(o.provider, refused)
        else {
          kept.set(o.provider.name, o.result.kept ?? [])
          parts.set(o.provider.name, claim)
        }
      }
    }
    if (again.length === 0) return { gathered, kept, parts, ...(head === undefined ? {} : { head }) }
    const fresh = await this.collectSome(again, gathered.claims, options, async () => observed, {})
    const outcomes = gathered.outcomes.map((o) => fresh.find((f) => f.provider === o.provider) ?? o)
    for (const o of outcomes) {
      if (o.status !== 'collected' || !claimsKept(o.result) || kept.has(o.provider.name)) continue
      this.logger.warn(`${o.provider.name} said parts of its twin documents are kept without a token to keep them against; ignored`)
      const { kept: _ignored, keptParts: _ignoredParts, ...result } = o.result
      o.result = result
    }
    return { gathered: { ...gathered, outcomes, ...outcomesOf(outcomes, gathered.loadDiagnostics) }, kept, parts, ...(head === undefined ? {} : { head }) }
  }

  /**
   * `clean`: the working twin is HEAD with nothing edited, as hold() just found under the lock.
   * `base`: the last snapshot (the observed commit), '' before the first.
   */
  private async observe(options: SnapshotOptions, gathered: Gathered, clean: boolean, base: string, editedSince?: () => Promise<string[]>): Promise<Omit<SnapshotResult, 'pending'>> {
    const started = process.hrtime.bigint()
    const phase = (name: string) => this.logger.debug(`snapshot: ${name} at ${msSince(started)} ms`)
    const lastSnapshot = base
    // The new tree is built in git's object store; the working twin moves only once it is committed.
    const edited = !clean && (await this.twin.dirtyPaths()).length > 0
    const draft = await this.twin.draft({ edited })
    try {
      const checked = await this.checkKept(options, gathered, draft, lastSnapshot)
      const { outcomes, collected, providers, claims, diagnostics, loadDiagnostics } = checked.gathered
      const wrote = await this.writeDocuments(draft, collected, providers, claims, diagnostics, ScreenedDocuments.open(this.twin.cacheDir(), { edited }), checked)
      // The tokens of the providers whose documents the new tree holds exactly (kept-parts.ts).
      const tokens: Record<string, string> = {}
      for (const o of collected) if (o.result.token !== undefined && !wrote.unfaithful.has(o.provider.name)) tokens[o.provider.name] = o.result.token
      for (const doc of options.extraDocuments ?? []) {
        // The apply journal quotes programs' error output: screened like any provider's document.
        const { seal, ...plain } = doc
        const screened = await screenDocument(plain, 'twinsync')
        appendAll(diagnostics, screened.diagnostics)
        const content = screened.doc.content
        draft.write(seal === undefined ? screened.doc : { ...screened.doc, content: seal(typeof content === 'string' ? content : Buffer.from(content).toString('utf8')) })
      }
      phase(`written (${draft.touched} twin files)`)
      const { tree, changes } = await draft.build({ edited })
      phase('staged')
      // The diary says what the machine did since the last snapshot (the observed commit), not
      // what this commit undoes of a person's commit or a pull on top of it (HEAD then).
      const since = await this.sinceObserved(lastSnapshot, draft.head, tree, changes)
      const summary = await withoutSecretPaths(summarizeChanges(since.changes, providers, claims))
      const notLoaded = [...new Set(loadDiagnostics.filter((d) => d.severity === 'error').map((d) => d.provider ?? 'a plugin'))]
      const base = {
        summary,
        diagnostics,
        ...(notLoaded.length === 0 ? {} : { notLoaded }),
        providers: outcomes.map((o) => {
          // A collect whose documents were refused (document-paths.ts) failed: its part kept as it was.
          const status = o.status === 'collected' && wrote.refused.has(o.provider.name) ? 'failed' : o.status
          return { name: o.provider.name, status, durationMs: o.durationMs, documents: o.status === 'collected' && status === 'collected' ? o.result.documents.length + (wrote.keptFiles.get(o.provider.name) ?? 0) : 0 }
        }),
      }
      // A person's edit saved after the hold set the intent aside (a twin with edits pending) was
      // in the draft, begun from the working twin, and the machine's documents were moved in over
      // it; the restore put back only what the hold had set aside: lost, with nothing said
      // (session 29, a scheduled snapshot and a person at once). The draft asks just before it
      // moves (and looks itself when the twin was clean): TWIN_DIRTY, nothing moved; the caller
      // puts the held intent back, and the edit stays where it is.
      if (changes.length === 0) {
        await draft.align(editedSince)
        appendAll(diagnostics, draft.keptEdits.map((path) => ({ severity: 'warning' as const, code: TWIN_EDIT_KEPT, summary: `${path}: saved while the snapshot moved the twin; your save is kept` })))
        if (draft.head !== undefined) writeKeptRecord(this.twin.cacheDir(), draft.head, tokens)
        // HEAD as the draft read it under the lock: align() and discard() never move it.
        return { ...base, commit: undefined, message: undefined, skipped: 'unchanged', head: draft.head }
      }
      if (options.ifChanged === true && onlyVolatile(changes)) {
        await draft.discard()
        return { ...base, commit: undefined, message: undefined, skipped: 'volatile-only', head: draft.head }
      }
      const described = options.message === undefined ? await this.snapshotMessage(tree, since.changes, options, draft, since.observed) : { message: options.message }
      const message = described.message
      phase('described')
      // The observed state moves with HEAD and the working twin, as one move (finishMove).
      const commit = await draft.commit(tree, message, [OBSERVED_REF], editedSince)
      phase('committed')
      // Saved by a person while the twin moved (after the last look): kept as saved, and said.
      appendAll(diagnostics, draft.keptEdits.map((path) => ({ severity: 'warning' as const, code: TWIN_EDIT_KEPT, summary: `${path}: saved while the snapshot moved the twin; your save is kept, pending against the new snapshot` })))
      writeKeptRecord(this.twin.cacheDir(), commit, tokens)
      if (options.label !== undefined) await new SnapshotLog(this.twin.dir).label(commit, options.label)
      return { ...base, ...(described.changes === undefined ? {} : { changes: described.changes }), commit, message: message.split('\n')[0] as string, skipped: undefined, head: commit }
    } catch (error) {
      await draft.discard().catch(() => undefined)
      throw error
    }
  }

  /**
   * A snapshot's message: its diary line (what changed, per provider, in observed words) as the
   * subject, "TwinSync snapshot <time>" in the body, and what it changed counted per domain in a
   * trailer history reads instead of comparing again (count-record.ts). The diary is worded from
   * the same comparison `show` makes; when it cannot be (a provider fails to load), the twin
   * files say it, and no counts are recorded.
   */
  private async snapshotMessage(
    tree: string,
    changes: readonly GitStatusEntry[],
    options: SnapshotOptions,
    draft: SnapshotDraft,
    /** The last snapshot, when it is not HEAD (a person's commit or a pull on top): the diary compares with it. */
    observed?: string,
  ): Promise<{ message: string; changes?: SemanticDiff['domains'] }> {
    const stamp = `${snapshotMessage(this.clock(), options.label)}${options.note === undefined ? '' : ` ${options.note}`}`
    const plain = options.subject === undefined ? stamp : snapshotCommitMessage(options.subject, stamp)
    const lasting = changes.filter((c) => !isVolatileTwinPath(c.path))
    const volatile = changes.filter((c) => isVolatileTwinPath(c.path))
    const set = await this.registry.load()
    const providers = set.providers.map((p) => p.provider)
    // Describing only reads: each provider gets a host that refuses any change, as in planning.
    const readOnly = this.contexts.readOnly('Describing a snapshot only reads', 'while describing a snapshot')
    const contextOf = (p: Provider) => this.contexts.for(p, set.claims, { hostFor: readOnly.hostFor })
    // Volatile facts are counted file by file, as history counts them; a provider that applies
    // and owns one would be counted by its own diff: then history counts this snapshot itself.
    // The counts trailer holds for the commit against its parent (HEAD): none when the diary compared with another commit.
    const countable = observed === undefined && !volatile.some((e) => {
      const owner = ownerOfTwinPath(e.path, providers, set.claims)
      return owner !== undefined && isApplicable(owner)
    })
    const withCounts = async (message: string, domains: SemanticDiff['domains']) => {
      if (!countable) return message
      const counted = await semanticDiff(EMPTY_TWIN, EMPTY_TWIN, volatile, providers, set.claims, contextOf, { diffs: false })
      const all: SemanticDiff['domains'] = { ...domains }
      for (const [d, list] of Object.entries(counted.domains) as Array<[keyof SemanticDiff['domains'], DomainChange[]]>) all[d] = [...(all[d] ?? []), ...list]
      const key = await twinKey(this.twin.dir, true)
      return key === undefined ? message : `${message}\n\n${countsTrailer((await draft.headTree()) ?? EMPTY_TREE, tree, recordedCounts(all), key)}`
    }
    if (lasting.length === 0) return { message: await withCounts(plain, {}) }
    // Both sides read from the draft where it can (no ls-tree, no document through git and back).
    const older = observed !== undefined ? new GitTreeReader(this.twin.dir, observed) : draft.head === undefined ? undefined : (draft.reader('head') ?? new GitTreeReader(this.twin.dir, draft.head))
    const newer = draft.reader('new') ?? new GitTreeReader(this.twin.dir, tree)
    try {
      const diff = await semanticDiff(older === undefined ? EMPTY_TWIN : changedFilesOnly(older, lasting), changedFilesOnly(newer, lasting), lasting, providers, set.claims, contextOf, { diffs: false, narrow: true })
      // The first snapshot records everything: its diary line counts instead of listing. A document
      // changed or removed there says the older side holds one, unlisted (a listing of the scale
      // root's HEAD sorts its 19,626 paths: narrow.ts).
      const held = lasting.some((e) => e.change !== 'A' && (e.path.startsWith('system/') || e.path.startsWith('filesystem/')))
      const first = older === undefined || (!held && (await older.list('system/')).length === 0 && (await older.list('filesystem/')).length === 0)
      const subject = options.subject ?? (first ? `first snapshot: ${countsPhrase(diff.domains)}` : diarySubject(diff.domains))
      const message = snapshotCommitMessage(subject, stamp)
      // A provider that failed was described file by file: history asks it again later.
      return { message: diff.diagnostics.length === 0 ? await withCounts(message, diff.domains) : message, changes: diff.domains }
    } catch (error) {
      this.logger.debug(`snapshot: no diary line: ${(error as Error).message}`)
      return { message: plain }
    } finally {
      older?.close()
      newer.close()
    }
  }

  /**
   * The twin files that differ from the last snapshot: the draft's own list (against HEAD) when
   * HEAD is the last snapshot, the usual case; else `git diff-tree` of the observed commit's tree
   * and the new one, with the observed commit for the diary to read.
   */
  private async sinceObserved(observed: string, head: string | undefined, tree: string, changes: GitStatusEntry[]): Promise<{ changes: GitStatusEntry[]; observed?: string }> {
    if (observed === '' || head === undefined || observed === head) return { changes }
    const dir = this.twin.dir
    try {
      return { changes: await changedBetween(dir, await treeOf(dir, observed), tree), observed }
    } catch (error) {
      // The observed commit cannot be read (a history rewritten under it): the diary compares with HEAD, the snapshot goes on.
      this.logger.debug(`snapshot: the diary compares with HEAD: ${(error as Error).message.split('\n')[0]}`)
      return { changes }
    }
  }

  /**
   * Write what each provider collected and remove what it no longer has. Only providers that
   * collected this time touch their part of the twin: a failed one keeps its last state.
   * Returns how many twin files were written or removed.
   */
  private async writeDocuments(
    draft: SnapshotDraft,
    collected: ReadonlyArray<Extract<CollectOutcome, { status: 'collected' }>>,
    providers: readonly Provider[],
    claims: Parameters<typeof ownerOfTwinPath>[2],
    diagnostics: Diagnostic[],
    screenedBefore: ScreenedDocuments,
    { kept, parts, head }: KeptClaims,
  ): Promise<{ unfaithful: Set<string>; keptFiles: Map<string, number>; refused: Map<string, Diagnostic> }> {
    const fresh = new Set(collected.map((o) => o.provider.name))
    // Providers whose documents did not all go in as given: no token of theirs is recorded (kept-parts.ts).
    const unfaithful = new Set<string>()
    // A path of a fresh provider that it did not write goes, unless it lies in a part the provider
    // keeps (checkKept): then HEAD's file stays as it is, never another provider's on its word.
    // A document kept by name is its provider's (refusedClaim asked): not asked again (keptNames);
    // any other path is kept only in a folder its provider keeps (keptFolders).
    const keptByName = keptNames(kept)
    const keeps = new Map([...kept].map(([name, parts]) => [name, keptFolders(parts)]))
    const owners = twinPathOwners(providers, claims)
    const ownerOf = owners.ownerOf
    const goes = (path: string, from: ReadonlySet<string>): boolean => {
      if (keptByName.has(path)) return false
      const owner = ownerOf(path)
      if (owner === undefined || !from.has(owner.name)) return false
      const byPart = parts.get(owner.name)
      if (byPart !== undefined && inKeptPart(byPart, path)) return false
      const inParts = keeps.get(owner.name)
      return inParts === undefined || !inParts(path)
    }
    // Documents at paths the new tree cannot hold as given (a path no tree holds, `..` or `.git`
    // in it, a file and a folder at one path, one path twice, a control character outside
    // filesystem/): their provider's collect is refused, its part kept as it was. Documents
    // outside its part of the twin: not written, and said (a warning the result carries).
    // Both by document-paths.ts, as adopt judges them.
    const all = collected.flatMap((o) => o.result.documents.map((doc) => ({ doc, provider: o.provider.name })))
    const { refused, written, owned, notOwned } = refusedDocumentPaths(all, fresh, {
      holds: (path) => draft.entries.has(path),
      isFolder: (path) => draft.isFolder(path),
      under: (path) => draft.under(path),
      stays: (path, from) => !(path.startsWith('filesystem/') || path.startsWith('system/')) || !goes(path, from),
      ownerOf: (path) => ownerOf(path)?.name,
    }, 'Its part of the twin keeps the state of the last snapshot.')
    for (const [name, diagnostic] of notOwned) {
      unfaithful.add(name)
      diagnostics.push(diagnostic)
    }
    for (const [name, diagnostic] of refused) {
      fresh.delete(name)
      unfaithful.add(name)
      diagnostics.push(diagnostic)
    }
    const accepted = refused.size === 0 ? owned : owned.filter((o) => !refused.has(o.provider))
    // Every document is screened for secrets before it enters the twin (many side by side),
    // except one HEAD already holds exactly, screened when it was written.
    // A large one HEAD holds another version of, only around what changed (screened-documents.ts).
    // A document whose name holds a secret is left out whole (secretInDocumentName): not written, so HEAD's copy goes too.
    // Speed (issue 22, session 24): a promise only for a document that is screened (the scale
    // root's unchanged snapshot hands in 19,600 documents and screens a handful): Promise.all of
    // 19,626 plain values 64 → 10 ms of CPU in a fresh process (medians of 7, load 13). The
    // removals found without sorting every path of the tree (only those removed are sorted):
    // 13 → 12 ms, the same within noise.
    const limit = pLimit(16)
    const screened = new Map<number, { doc: TwinDocument | undefined; diagnostics: Diagnostic[] }>()
    const screening: Array<Promise<void>> = []
    accepted.forEach(({ doc, provider }, i) => {
      if (!isScreened(doc, provider) || screenedBefore.alreadyScreened(draft, doc)) return
      const screen = async () => {
        const named = await secretInDocumentName(doc, provider)
        return named === undefined ? screenedBefore.screen(draft, doc, provider) : { doc: undefined, diagnostics: [named] }
      }
      screening.push(limit(screen).then((s) => void screened.set(i, s)))
    })
    await Promise.all(screening).finally(() => draft.closeHeadReader())
    accepted.forEach(({ doc, provider }, i) => {
      const s = screened.get(i)
      if (s === undefined) return void draft.write(doc)
      appendAll(diagnostics, s.diagnostics)
      if (s.diagnostics.length > 0 || s.doc?.content !== doc.content) unfaithful.add(provider)
      if (s.doc !== undefined) draft.write(s.doc)
      else written.delete(doc.path)
    })
    await screenedBefore.remember()
    // What a fresh provider did not write goes, but for its kept parts (goes, above), counted here.
    // HEAD's paths with their owners when a claim by part was checked (headPaths: the draft began
    // from HEAD, and a path it holds beyond them is one written); else the draft's, each asked.
    const keptFiles = new Map<string, number>()
    const paths = head?.paths ?? draft.listUnsorted(REMOVABLE)
    // The default owner's mirrored files (no claim matches them) in a folder it keeps, or in a
    // part it keeps by part, counted without the questions below (twin-ownership.ts: same answer).
    const mirrors = owners.unclaimed?.name
    const mirrorsFresh = mirrors !== undefined && fresh.has(mirrors)
    const wholeFolder = mirrorsFresh ? kept.get(mirrors)?.find((part) => part.endsWith('/') && part.startsWith('filesystem/')) : undefined
    const keptWhole = wholeFolder === undefined ? undefined : owners.unclaimedUnder(wholeFolder)
    const mirrorsByPart = mirrorsFresh && parts.has(mirrors) && head !== undefined
    let mirrorsKept = 0
    const gone: string[] = []
    for (let i = 0; i < paths.length; i++) {
      const path = paths[i] as string
      if (mirrorsByPart ? head.owners[i] === mirrors && head.inClaimedPart[i] === 1 : keptWhole?.test(path) === true) {
        if (!written.has(path)) mirrorsKept++
        continue
      }
      if (written.has(path)) continue
      const keeper = keptByName.get(path)
      if (keeper !== undefined) {
        keptFiles.set(keeper, (keptFiles.get(keeper) ?? 0) + 1)
        continue
      }
      const owner = head === undefined ? ownerOf(path)?.name : head.owners[i]
      if (owner === undefined || !fresh.has(owner)) continue
      const inParts = keeps.get(owner)
      // A claim by part taken: headPaths marked its paths (head is there whenever parts has one).
      const byPart = parts.has(owner) && head?.inClaimedPart[i] === 1
      if (!byPart && (inParts === undefined || !inParts(path))) gone.push(path)
      else keptFiles.set(owner, (keptFiles.get(owner) ?? 0) + 1)
    }
    if (mirrorsKept > 0) keptFiles.set(mirrors as string, (keptFiles.get(mirrors as string) ?? 0) + mirrorsKept)
    for (const path of gone.sort()) draft.remove(path)
    return { unfaithful, keptFiles, refused }
  }
}

/** What the snapshot keeps of the providers' claims (checkKept): by name or folder, by part, and HEAD's paths counted for those by part. */
interface KeptClaims {
  kept: ReadonlyMap<string, readonly string[]>
  parts: ReadonlyMap<string, PartsClaim>
  head?: HeadPaths
}

/** The collected outcomes, and every diagnostic: the configuration's, then each provider's. */
function outcomesOf(outcomes: readonly CollectOutcome[], loadDiagnostics: readonly Diagnostic[]): { collected: Gathered['collected']; diagnostics: Diagnostic[] } {
  const diagnostics = [...loadDiagnostics]
  const collected = outcomes.filter((o): o is Extract<CollectOutcome, { status: 'collected' }> => o.status === 'collected')
  for (const o of outcomes) {
    if (o.status === 'failed') diagnostics.push(o.diagnostic)
    if (o.status === 'collected') appendAll(diagnostics, o.result.diagnostics.map((d) => ({ ...d, provider: d.provider ?? o.provider.name })))
  }
  return { collected, diagnostics }
}

/** The twin before the first snapshot. */
const EMPTY_TWIN = {
  read: async () => undefined,
  readText: async () => undefined,
  list: async () => [],
}

/**
 * Putting the pending edits back failed after the snapshot was committed (a full disk): said as
 * it is, with the commit in the details (session 30, helper redteam: a full disk there said
 * "nothing was written", and an apply's "its result could not be committed", of a commit made).
 */
function committedThen(error: unknown, commit: string | undefined): unknown {
  if (commit === undefined || !isTwinSyncError(error)) return error
  return new TwinSyncError(error.code, `Snapshot ${commit.slice(0, 12)} was committed, but putting your edits back failed: ${error.message}`, {
    ...(error.nextStep === undefined ? {} : { nextStep: error.nextStep }),
    details: { ...((error.details as Record<string, unknown> | undefined) ?? {}), committed: commit },
    cause: error,
  })
}
