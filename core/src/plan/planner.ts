import { appendAll } from '../append-to.js'
import type { ApplicableProvider, Change, Diagnostic, DiffResult, LoadResult, Plan, TwinReader } from '@twinsync/sdk'
import { CATEGORIES, PLAN_FORMAT_VERSION, TwinSyncError, errorDiagnostic, pathPatternToRegExp, hasFollowUps, hasPlanReview, infoDiagnostic, isApplicable, isConfigChecker, isContentValidator, warningDiagnostic } from '@twinsync/sdk'
import { collectAll, type CollectOutcome, type CollectProgress } from '../collect/collector.js'
import { LastSnapshotReader } from '../collect/last-snapshot.js'
import type { ContextOptions } from '../collect/context-factory.js'
import { contextFor } from '../collect/context-factory.js'
import { inject, injectable } from '../di.js'
import { IntentService } from '../intent/intent-service.js'
import { reasonFor } from '../intent/reason-asked.js'
import { missingProviders, recordedManifest } from '../providers/provider-manifest.js'
import { ProviderContexts } from '../providers/provider-contexts.js'
import { withNamedFiles } from '../apply/named-config.js'
import { compiledNotes } from '../apply/compiled-config.js'
import { leaveOutUnkept } from '../apply/config-guard.js'
import { ProviderRegistry } from '../providers/provider-registry.js'
import { Tokens } from '../tokens.js'
import { callProvider, type Guarded } from '../providers/provider-call.js'
import { GitTreeReader, wholeCommitReader, resolveCommit } from '../twin/git-tree-reader.js'
import { workingTree } from '../intent/intent-git.js'
import { withActualSecrets, writesRedaction } from '../snapshot/secret-guard.js'
import { keptOverMove, TWIN_EDIT_KEPT, TwinRepository, type WorkingTwinCheck } from '../twin/twin-repository.js'
import { otherMachineAt, otherMachineDiagnostic } from '../twin/machine-match.js'
import { isObjectId } from '../twin/object-memo.js'
import { readApplyRecord, type ApplyInProgress } from '../apply/resume.js'
import { PendingChecks } from '../apply/pending-checks.js'
import { unfinishedApplyNotices } from '../apply/unfinished-apply.js'
import { changeFingerprint } from './change-fingerprint.js'
import { buildPlanGraph } from './plan-graph.js'
import { ranBeforeNotes } from './plan-instructions.js'
import { twinOnTarget } from './twin-places.js'
import { heldBackWarning } from './redacted-commands.js'
import { judgeCommands, type JudgedCommands } from './planned-commands.js'
import { LocalRuns } from './run-once-keys.js'
import { uncheckedRunNotes } from './unchecked-runs.js'
import { COMMANDS } from './commands-domain.js'
import { observedOnly } from './observed-drift.js'
import { TWIN_EMPTY } from './plan-summary.js'
import { outsideScope } from './outside-scope.js'
import { markTrustChanges, readTrustContext } from './trust-risk.js'
import { rootNeeds, thisRunner } from './root-needs.js'
import { RunTarget } from './run-target.js'
import { keptCompareKey, keptCompareTokens, readKeptCompare, writeKeptCompare, type KeptCompare } from './kept-compare.js'
import { claimsKept } from '../snapshot/kept-parts.js'
import { unholdableCollect } from '../snapshot/document-paths.js'

/** What a plan's reads of the working twin settled (DesiredSource's kept and undone), carried across its reads. */
interface Settled {
  kept: string[]
  undone?: string | undefined
}

export interface PlanOptions {
  /** A snapshot (commit, tag, HEAD~1) to read the desired state from; default the working twin. */
  from?: string
  /** Provider names or categories (files, packages, services, startup, commands). */
  only?: readonly string[]
  signal?: AbortSignal
  onProgress?: CollectProgress
  /**
   * `from` is the working twin as it is, HEAD with nothing edited: the caller found so just
   * before (`status`, through IntentService.pending's check). Speed (issue 22): the twin's check
   * is not made a second time (6 ms of CPU on the services twin); a half-moved snapshot is still
   * looked for.
   */
  fromIsWorkingTwin?: boolean
  /**
   * A plan to apply (`plan --out`, the control panel's, the CLI apply's own): an edited working
   * twin is recorded as a git tree (`basis.twinTree`), for ApplyService.refuseIfStale and
   * refuseMovedTwin. Costs an index copy, `git add` and `git write-tree` when the twin is edited.
   */
  recordTree?: boolean
  /** A git tree of the working twin as a plan recorded it (`basis.twinTree`) to read the desired state from; ApplyService only. */
  fromTree?: string
  /** Also asks each provider with `observe` what moved that no planned change covers (observedOnly); for `status`'s drift. */
  onObserved?: (changes: Change[]) => void
  /**
   * Also compares this git tree (what the twin asks for) with the same reading of the machine —
   * no second collect — and hands each provider's changes to `found`; a provider that could not
   * be compared is not handed any. For `status`: a pending item the machine already has.
   */
  alsoAgainst?: { tree: string; found: (provider: string, changes: readonly Change[]) => void }
}

/**
 * Where a plan's desired state is read (Planner.desiredSource, treeSource): the reader, its commit
 * when it is one, an interrupted apply it heads for, the working twin's look, and the saves a
 * killed snapshot's move kept when this plan finished it (settleForReading).
 */
interface DesiredSource {
  reader: TwinReader
  twinCommit: string | null
  interrupted?: ApplyInProgress
  checked?: WorkingTwinCheck
  kept?: string[]
  /** A killed snapshot's move this plan's settling could not finish, undone instead (TWIN_MOVE_FAILED). */
  undone?: string
  /** A commit named to plan from (--from, a revert) that is not the last snapshot: whose twin it is is asked (otherMachineAt). */
  named?: string
}

/** A provider has no state in the twin read (info); every provider compared has none: TWIN_EMPTY (warning). */
const TWIN_HAS_NO_STATE = 'TWIN_HAS_NO_STATE'

/**
 * Compares the twin (desired) with the live target (actual) and merges every provider's
 * changes and the instructions of plans/*.yaml into one plan graph. Reads only.
 */
@injectable()
export class Planner {
  constructor(
    @inject(TwinRepository) private readonly twin: TwinRepository,
    @inject(ProviderRegistry) private readonly registry: ProviderRegistry,
    @inject(ProviderContexts) private readonly contexts: ProviderContexts,
    @inject(Tokens.Clock) private readonly clock: () => Date,
    @inject(IntentService) private readonly intents: IntentService,
    @inject(PendingChecks) private readonly pendingChecks: PendingChecks,
    @inject(RunTarget) private readonly target: RunTarget,
  ) {}

  /** A `twinsync ARGS` line for this run's twin, root and configuration (RunTarget). */
  private readonly line = (args: readonly string[]): string => this.target.line(args, this.twin.dir)

  /**
   * A plan read from the working twin without its lock is made again when a run that moves the
   * working twin was moved while it read (TwinRepository.readSteadily: sessions 54, 55); one read
   * from a commit or a tree is made once. What an earlier read's settling said (a save kept, a
   * move undone) is said by the plan made again too (session 55, review L1 of s54: the second
   * read found nothing left to settle, and the notice was lost).
   */
  async plan(options: PlanOptions = {}): Promise<Plan> {
    if (options.fromTree !== undefined) return this.planOnce(options, () => undefined)
    const settled: Settled = { kept: [] }
    return this.twin.readSteadily((looked) => this.planOnce(options, looked, settled), options.signal)
  }

  /**
   * `looked`: called once the working twin is settled for reading and about to be read, or with
   * false when the plan reads none (readSteadily). `settled`: what this plan's earlier reads settled, added to.
   */
  private async planOnce(options: PlanOptions, looked: (reads: boolean) => void, settled: Settled = { kept: [] }): Promise<Plan> {
    const other = await otherMachineDiagnostic(this.target.get(this.twin.dir), await this.twin.open(), this.contexts.host)
    const source = options.fromTree === undefined ? await this.desiredSource(options.from, options.fromIsWorkingTwin === true, options.signal, looked) : await this.treeSource(options.fromTree)
    for (const path of source.kept ?? []) if (!settled.kept.includes(path)) settled.kept.push(path)
    settled.undone ??= source.undone
    const { reader, twinCommit, interrupted, checked, named } = source
    const { kept, undone } = settled
    // A snapshot named to plan from is another machine's as the working twin can be (session 45:
    // a pulled history's earlier commit of another machine was planned as this one's).
    const otherAt = named === undefined ? undefined : await otherMachineAt(this.target.get(this.twin.dir), named, this.contexts.host)
    const fromWorkingTwin = options.from === undefined && options.fromTree === undefined && interrupted === undefined
    // Taken before the reads: a twin moved meanwhile is one apply finds stale, never one it takes for done.
    const twinTree = options.recordTree === true && fromWorkingTwin && twinCommit === null ? await workingTree(this.twin.dir) : undefined
    try {
      const { claims, diagnostics: loadDiagnostics } = await this.registry.load()
      const providers = await this.selectProviders(options.only)
      // The interrupted apply (whose state this plan heads for) and what it left unjudged here.
      const notices = unfinishedApplyNotices(interrupted, await this.pendingChecks.read(), this.target.get(this.twin.dir))
      const diagnostics: Diagnostic[] = [...(other === undefined ? [] : [other]), ...(otherAt === undefined ? [] : [otherAt]), ...notices, ...loadDiagnostics]
      // A killed snapshot's move this plan finished first (settleForReading) kept a person's save: said, as the snapshot says it.
      appendAll(diagnostics, (kept ?? []).map((path) => warningDiagnostic(TWIN_EDIT_KEPT, keptOverMove(path))))
      if (undone !== undefined) diagnostics.push(warningDiagnostic('TWIN_MOVE_FAILED', undone))
      const all = (await this.registry.load()).providers.map((p) => p.provider)
      appendAll(diagnostics, await missingProviders(reader, all, claims, undefined, async () => recordedManifest(this.twin.dir, await this.intents.observed()), this.line))
      // Planning only reads: each provider gets a dry-run host that refuses any change (the call
      // fails, named, through the provider guard); one the provider swallowed is reported below.
      const readOnly = this.contexts.readOnly('Planning only reads', 'while planning')
      const run = {
        hostFor: readOnly.hostFor,
        signal: options.signal,
        cache: 'twin' as const,
      }
      const common = this.contexts.options(claims, run)
      // A path the machine does not let a provider read is the last snapshot's record of it on the
      // machine's side (CollectRequest.previous): only a change the twin asks for there is left
      // out (and named), never everything below it as "to create".
      const previous = new LastSnapshotReader(this.twin.dir, () => this.intents.observed())
      // Speed (issue 22, session 41): a provider whose comparison with this very commit found
      // nothing under the token it gives now is not compared again (kept-compare.ts). Not when
      // status compares a second tree with the collected states (alsoAgainst), nor for a
      // provider that reads its collected state after the diffs (followUps, reviewPlan).
      const observing = options.onObserved !== undefined
      const compareKey = twinCommit === null || !isObjectId(twinCommit) || options.alsoAgainst !== undefined ? undefined : keptCompareKey(this.contexts.host.root, common.config.values, all)
      const record = compareKey === undefined || twinCommit === null ? undefined : readKeptCompare(this.twin.cacheDir(), twinCommit, compareKey)
      const since = keptCompareTokens(record, observing)
      for (const p of providers) if (hasFollowUps(p) || hasPlanReview(p)) delete since[p.name]
      let outcomes: CollectOutcome[]
      try {
        const collecting = { ...this.contexts.collecting(claims, { ...run, onProgress: options.onProgress }), previous }
        outcomes = await collectAll(providers, { ...collecting, since, wholeOnly: true })
        // A provider that says it kept documents under another token than the one handed to it left its state out: collected again, whole.
        const again = outcomes.filter((o) => o.status === 'collected' && Object.hasOwn(since, o.provider.name) && o.result.token !== since[o.provider.name] && claimsKept(o.result)).map((o) => o.provider)
        if (again.length > 0) {
          const fresh = await collectAll(again, collecting)
          outcomes = outcomes.map((o) => fresh.find((f) => f.provider === o.provider) ?? o)
        }
      } finally {
        await previous.close()
      }
      // Cancelled (the panel closed during its check): nothing compared, nothing written to the caches.
      if (options.signal?.aborted === true) throw new TwinSyncError('ABORTED', 'The plan was cancelled; nothing was changed')
      // A provider handing in a document the twin cannot hold is refused here as a snapshot refuses it (document-paths.ts): not compared, the others planned.
      outcomes = outcomes.map((o) => {
        if (o.status !== 'collected') return o
        const refused = unholdableCollect(o.provider.name, o.result.documents, `Nothing is planned for ${o.provider.name}; the other providers are planned as usual.`)
        return refused === undefined ? o : { provider: o.provider, status: 'failed', diagnostic: refused, durationMs: o.durationMs }
      })
      const changes: Change[] = []
      const quiet: KeptCompare['providers'] = {}
      for (const outcome of outcomes) {
        const name = outcome.provider.name
        const given = Object.hasOwn(since, name) ? since[name] : undefined
        if (given !== undefined && outcome.status === 'collected' && outcome.result.token === given) {
          // Compared against this commit under this token before, finding nothing: the collect's own diagnostics, as diffOne gives them.
          appendAll(diagnostics, outcome.result.diagnostics.map((d) => ({ ...d, provider: d.provider ?? name })))
          quiet[name] = { token: given, observed: observing || record?.providers[name]?.observed === true }
          continue
        }
        appendAll(diagnostics, await this.diffOne(outcome, reader, common, changes, options.onObserved, () => {
          if (outcome.status === 'collected' && outcome.result.token !== undefined) quiet[name] = { token: outcome.result.token, observed: observing }
        }))
      }
      if (compareKey !== undefined && twinCommit !== null) {
        // The providers this run did not collect (--only) keep their word; the rest say what they found now.
        const kept = Object.fromEntries(Object.entries(record?.providers ?? {}).filter(([name]) => !outcomes.some((o) => o.provider.name === name)))
        // A commit's tree cannot move; the working twin, read without the lock, is checked again: still exactly that commit after the reads.
        const commit = twinCommit
        await writeKeptCompare(this.twin.cacheDir(), { commit, key: compareKey, providers: { ...kept, ...quiet } }, async () => reader instanceof GitTreeReader || (await this.twin.isExactly(commit)))
      }
      if (options.alsoAgainst !== undefined) await this.diffAgainst(options.alsoAgainst, outcomes, common)
      // A twin with no state for any provider it compared (made by `init`, never snapshotted; a revert
      // to that first commit) has nothing to compare with: said so, never "the machine matches".
      const compared = outcomes.filter((o) => o.status === 'collected').map((o) => o.provider.name)
      const stateless = new Set(diagnostics.filter((d) => d.code === TWIN_HAS_NO_STATE).map((d) => d.provider))
      if (compared.length > 0 && compared.every((name) => stateless.has(name))) {
        diagnostics.push(
          warningDiagnostic(TWIN_EMPTY, `The twin${twinCommit === null ? '' : ` at ${twinCommit.slice(0, 12)}`} holds nothing of this machine: nothing was compared`, {
            detail: `Next step: run \`${this.line(['snapshot'])}\` to record the machine first (or plan from a snapshot that has it).`,
          }),
        )
      }
      // Follow-ups see every provider's changes (systemd: reload a service whose config changes).
      // With the files of the plan a service's configuration names outside its folders (withNamedFiles): their reload too.
      const configChecks = await withNamedFiles(this.contexts.host, (await this.registry.select()).map((r) => r.provider).filter(isConfigChecker).flatMap((p) => p.configChecks), changes)
      // A checked change whose previous state could not be kept to be put back: left out, said so, before its reload is planned.
      const unkept = await leaveOutUnkept(this.contexts.host, configChecks, changes, this.line)
      if (unkept.left.size > 0) {
        const planned = changes.filter((c) => !unkept.left.has(c.id))
        changes.length = 0
        appendAll(changes, planned)
      }
      appendAll(diagnostics, unkept.diagnostics)
      for (const outcome of outcomes) {
        const provider = outcome.provider
        if (outcome.status !== 'collected' || !hasFollowUps(provider)) continue
        const more = await callProvider(provider, 'followUps', () => provider.followUps({ changes, actual: outcome.result.state, ctx: contextFor(provider, common), configChecks }))
        if (more.ok) appendAll(changes, more.value)
        else diagnostics.push(more.diagnostic)
      }
      // What a provider says of the others' changes (cron: a script run-parts would skip).
      for (const outcome of outcomes) {
        const provider = outcome.provider
        if (outcome.status !== 'collected' || !hasPlanReview(provider)) continue
        const said = await callProvider(provider, 'reviewPlan', () => provider.reviewPlan({ changes, actual: outcome.result.state, ctx: contextFor(provider, common), configChecks }))
        appendAll(diagnostics, said.ok ? said.value : [said.diagnostic])
      }
      appendAll(diagnostics, await this.validateContents(changes))
      // Root's code and the machine's trust (an apt hook, a key, sudo, authorized keys…): high risk, with the reason.
      markTrustChanges(changes, await readTrustContext(this.contexts.host, this.twin.dir, changes))
      // A file its service reads compiled (postfix's tables): the plan says apply builds it.
      appendAll(diagnostics, await compiledNotes(this.contexts.host, configChecks, changes))
      appendAll(diagnostics, readOnly.swallowed(diagnostics))
      if (wants(options.only, COMMANDS)) {
        // Which commands run is judgeCommands' one rule, by which `status` lists them pending (this.commands): a run-once
        // command the record of what ran lacks, every every-time one; one holding `<redacted>` would run
        // the marker: left out and said so (redacted-commands.ts), as a provider's change that would write the marker is.
        const { planned, heldBack, unchecked } = await this.commands(reader)
        appendAll(diagnostics, heldBack.map(heldBackWarning))
        appendAll(changes, planned)
        appendAll(diagnostics, await this.ranBefore(planned))
        appendAll(diagnostics, await uncheckedRunNotes(unchecked))
      }
      const graph = buildPlanGraph(changes)
      appendAll(diagnostics, graph.diagnostics)
      // A run that is not root's: each step its apply would fail on, said beside it (NEEDS_ROOT).
      appendAll(diagnostics, await rootNeeds(this.contexts.host, graph.changes, thisRunner(), this.target.get(this.twin.dir)))
      if (options.from === undefined && options.fromTree === undefined) appendAll(diagnostics, await this.stillPending(graph.changes))
      // An edit of what only describes the machine (cron.json, a fact) is not planned: said so, not "no changes".
      if (fromWorkingTwin) appendAll(diagnostics, await this.intents.descriptionDiagnostics(options.only, checked))
      return {
        formatVersion: PLAN_FORMAT_VERSION,
        createdAt: this.clock().toISOString(),
        basis: {
          twinCommit,
          ...(twinTree === undefined ? {} : { twinTree }),
          root: this.contexts.host.root,
          fingerprints: Object.fromEntries(graph.changes.map((c) => [c.id, changeFingerprint(c)])),
        },
        changes: graph.changes,
        edges: graph.edges,
        diagnostics,
      }
    } finally {
      if (reader instanceof GitTreeReader) reader.close()
    }
  }

  /** Each collected provider's changes from `against.tree` to the machine as read (PlanOptions.alsoAgainst). */
  private async diffAgainst(against: NonNullable<PlanOptions['alsoAgainst']>, outcomes: readonly CollectOutcome[], common: ContextOptions): Promise<void> {
    const reader = new GitTreeReader(this.twin.dir, against.tree, undefined, await this.intents.observed())
    try {
      for (const outcome of outcomes) {
        if (outcome.status !== 'collected') continue
        const provider = outcome.provider as ApplicableProvider
        const compared = await loadThenDiff(provider, reader, outcome.result.state, contextFor(provider, common))
        if (compared.diff?.ok === true) against.found(provider.name, compared.diff.value.changes)
      }
    } finally {
      reader.close()
    }
  }

  private async diffOne(
    outcome: CollectOutcome,
    reader: TwinReader,
    common: ContextOptions,
    changes: Change[],
    onObserved?: (changes: Change[]) => void,
    /** Called when the comparison found nothing at all: no load or diff diagnostic, no change, nothing observed (kept-compare.ts). */
    nothingFound?: () => void,
  ): Promise<Diagnostic[]> {
    const provider = outcome.provider as ApplicableProvider
    if (outcome.status === 'failed') return [outcome.diagnostic]
    if (outcome.status === 'not-detected') {
      return [infoDiagnostic('PROVIDER_NOT_DETECTED', `${provider.name} is not present on the target; nothing planned for it`, { provider: provider.name })]
    }
    const ctx = contextFor(provider, common)
    const nothing = `Nothing is planned for ${provider.name}; the other providers are planned as usual.`
    const { loaded, diff } = await loadThenDiff(provider, reader, outcome.result.state, ctx, nothing)
    if (!loaded.ok) return [...outcome.result.diagnostics, loaded.diagnostic].map((d) => ({ ...d, provider: d.provider ?? provider.name }))
    const out = [...outcome.result.diagnostics, ...loaded.value.diagnostics]
    const desired = loaded.value.state
    if (desired === undefined || diff === undefined) {
      out.push(infoDiagnostic(TWIN_HAS_NO_STATE, `The twin has no ${provider.name} state; nothing planned for it`, { provider: provider.name }))
      return out.map((d) => ({ ...d, provider: d.provider ?? provider.name }))
    }
    if (!diff.ok) return [...out, diff.diagnostic].map((d) => ({ ...d, provider: d.provider ?? provider.name }))
    let observedSome = false
    if (onObserved !== undefined) {
      const observed = await observedOnly(provider, desired, outcome.result.state, ctx, diff.value.changes, () => (observedSome = true))
      if (observed.length > 0) observedSome = true
      onObserved(observed)
    }
    if (!observedSome && loaded.value.diagnostics.length === 0 && diff.value.changes.length === 0 && diff.value.diagnostics.length === 0) nothingFound?.()
    // A change outside what the provider manages now (a forged twin's /root/.ssh entry, an
    // include set narrowed since the snapshot) is left out and said so (outsideScope).
    const outside = await outsideScope(provider, diff.value.changes, ctx, this.line, this.contexts.ownPaths(), this.contexts.forgottenPaths())
    if (!outside.ok) return [...out, outside.diagnostic].map((d) => ({ ...d, provider: d.provider ?? provider.name }))
    appendAll(out, outside.diagnostics)
    // A document the snapshot redacted holds `<redacted>` where the machine holds the secret: such a
    // change would write the marker over the secret, so it is left out and said so. One that is
    // nothing but the redaction (the twin as the snapshot saw the machine) is no change at all:
    // with the machine's secrets put back, the provider finds nothing to do there.
    const redacting = diff.value.changes.filter((c) => !outside.ids.has(c.id) && writesRedaction(c.data))
    const beyond = redacting.length === 0 ? undefined : await this.beyondRedaction(provider, desired, outcome.result.state, ctx)
    for (const change of diff.value.changes) {
      if (outside.ids.has(change.id)) continue
      if (!writesRedaction(change.data)) changes.push(change)
      // Its own summary, not the second diff's: that one was made from the machine's secrets.
      else if (beyond === undefined || beyond.has(change.id)) {
        out.push(warningDiagnostic('SECRET_REDACTED_NOT_PLANNED', `${change.summary}: not planned, the twin holds a redacted secret there; change it on the machine itself`, { provider: provider.name }))
      }
    }
    return [...out, ...diff.value.diagnostics].map((d) => ({ ...d, provider: d.provider ?? provider.name }))
  }

  /**
   * The changes the provider finds once the machine's secrets are put back where the twin holds
   * `<redacted>` (withActualSecrets): their ids; undefined when it cannot say (then every such
   * change is reported as before). Diff is pure: asking twice changes nothing.
   */
  private async beyondRedaction(provider: ApplicableProvider, desired: unknown, actual: unknown, ctx: ReturnType<typeof contextFor>): Promise<Set<string> | undefined> {
    const restored = await withActualSecrets(desired, actual)
    const again = await callProvider(provider, 'diff', () => provider.diff({ desired: restored, actual, ctx }))
    return again.ok ? new Set(again.value.changes.map((c) => c.id)) : undefined
  }

  /**
   * Files the plan would write are shown to the providers that understand their content (cron
   * for /etc/cron.d): a problem is an error in the plan, and apply refuses a plan with errors.
   * A change writes a whole text file when its data is { action: 'write', path, text }.
   */
  private async validateContents(changes: readonly Change[]): Promise<Diagnostic[]> {
    const validators = (await this.registry.select())
      .map((r) => r.provider)
      .filter(isContentValidator)
      .map((v) => ({ v, patterns: v.validatesPaths.map(pathPatternToRegExp) }))
    if (validators.length === 0) return []
    const out: Diagnostic[] = []
    for (const change of changes) {
      const data = change.data as { action?: unknown; path?: unknown; text?: unknown } | undefined
      if (data?.action !== 'write' || typeof data.path !== 'string' || typeof data.text !== 'string') continue
      for (const { v, patterns } of validators) {
        if (!patterns.some((p) => p.test(data.path as string))) continue
        const path = data.path
        const text = data.text
        const problems = await callProvider(v, 'validateContent', () => v.validateContent(path, text), `${path} could not be checked, so the plan cannot be applied.`)
        if (!problems.ok) out.push({ ...problems.diagnostic, path })
        for (const problem of problems.ok ? problems.value : []) {
          out.push(errorDiagnostic('CONTENT_INVALID', `${path}: ${problem}`, { provider: v.name, path }))
        }
      }
    }
    return out
  }

  /**
   * The commands of plans/ a plan of `reader` (a twin) runs and holds back: the planner's own
   * judgement (judgeCommands; what ran read from the working twin, a command naming a file of a
   * twin that lies in the target refused), which `status` lists pending by (session 45).
   */
  commands(reader: TwinReader): Promise<JudgedCommands> {
    return judgeCommands(reader, this.twin, twinOnTarget(this.contexts.host.root, this.twin.dir), LocalRuns.read(this.twin.dir))
  }

  /** COMMAND_RAN_BEFORE for the run-once commands the last snapshot's record says ran (ranBeforeNotes); reads that snapshot only when one is planned. */
  private async ranBefore(instructions: readonly Change[]): Promise<Diagnostic[]> {
    let reader: GitTreeReader | undefined
    try {
      return await ranBeforeNotes(instructions, this.twin, async () => {
        const observed = await this.intents.observed()
        reader = observed === undefined ? undefined : new GitTreeReader(this.twin.dir, observed)
        return reader
      })
    } finally {
      reader?.close()
    }
  }

  /** Changes an earlier apply did not make (left out, failed, skipped, pulled): said again, with the reason. */
  private async stillPending(changes: readonly Change[]): Promise<Diagnostic[]> {
    const reasons = await this.intents.reasons()
    return changes.flatMap((c) => {
      const reason = reasonFor(reasons[c.id], c)
      return reason === undefined ? [] : [infoDiagnostic('PENDING_INTENT', `${c.summary}: still pending, ${reason}`, { provider: c.provider, path: c.resource, detail: `change ${c.id}` })]
    })
  }

  /** A tree a saved plan recorded (basis.twinTree): its id is checked, as the plan's other fields are. */
  private async treeSource(tree: string): Promise<DesiredSource> {
    if (!/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(tree)) throw new TwinSyncError('PLAN_INVALID', `The plan's twin tree ${JSON.stringify(tree)} is not a git object id`, { nextStep: `Make a new plan (\`${this.line(['plan', '--out', 'FILE'])}\`).` })
    // The working twin as reviewed: what it asked for, its executable bits judged as the plan judged them.
    return { reader: new GitTreeReader(this.twin.dir, tree, undefined, await this.intents.observed()), twinCommit: null }
  }

  /**
   * `signal`: ends a wait for a run in progress that holds the working twin (settleForReading,
   * putBackHeldForReading). `looked(true)`: called before the working twin is read; `looked(false)`: none is (readSteadily).
   */
  private async desiredSource(
    from: string | undefined,
    fromIsWorkingTwin: boolean,
    signal: AbortSignal | undefined,
    looked: (reads: boolean) => void,
  ): Promise<DesiredSource> {
    if (from !== undefined) {
      // Speed: `status` plans from the last snapshot, usually HEAD with the twin unchanged: its
      // files are read, with no `git rev-parse`, `ls-tree` and `cat-file` (quick-status.ts).
      // A commit read as a whole: the last snapshot as the machine was (its manifest's modes
      // stand), another as it was made (a twin's chmod it committed counts): wholeCommitReader.
      const lastSnapshot = await this.intents.observed()
      // Not noted (readSteadily): a commit's reading (status's drift, --from, a revert) is taken as
      // it is, also when the working twin found exactly that commit is read for it (as before session 54).
      if (await this.twin.isExactly(from, fromIsWorkingTwin)) {
        return { reader: this.twin.reader({ justChecked: true, ...(from === lastSnapshot ? { observed: from } : { judgedBy: wholeCommitReader(this.twin.dir, from, lastSnapshot) }) }), twinCommit: from, ...(from === lastSnapshot ? {} : { named: from }) }
      }
      const commit = await resolveCommit(this.twin.dir, from)
      return { reader: wholeCommitReader(this.twin.dir, commit, lastSnapshot), twinCommit: commit, ...(commit === lastSnapshot ? {} : { named: commit }) }
    }
    // An interrupted apply: its intended state, not the checkpoint it left in the working twin.
    const interrupted = await readApplyRecord(this.twin.dir, this.target.get(this.twin.dir))
    if (interrupted !== undefined) {
      return {
        // Its executable bits judged against the snapshot of the machine before it began; a revert's intended state is a commit read as a whole (wholeCommitReader).
        reader:
          interrupted.kind === 'revert'
            ? wholeCommitReader(this.twin.dir, interrupted.intended, await this.intents.observed())
            : new GitTreeReader(this.twin.dir, interrupted.intended, undefined, interrupted.checkpoint ?? (await this.intents.observed())),
        twinCommit: interrupted.intended,
        interrupted,
      }
    }
    // The working twin: its commit is the basis only when nothing is edited on top of it.
    // A snapshot or pull in progress that holds it (its move, the edits it set aside) is waited for, bounded (TwinLock.holdForReading).
    // A run that begins after these looks, while the providers read the working twin (its edits set aside, its move
    // half done), is seen at the plan's end: the plan is made again (TwinRepository.readSteadily, from `looked`).
    const { kept, undone } = await this.twin.settleForReading(signal)
    // Edits a killed pull or snapshot set aside are the working twin's too (IntentService.putBackHeld).
    await this.intents.putBackHeldForReading(signal)
    looked(true)
    const dirty = await this.twin.dirtyPaths()
    const head = await this.twin.head()
    // The plan's description diagnostics judge the same look at the working twin as its basis.
    // What it asks for: a document's executable bit that is not the last snapshot's is a change (TwinReader.observedExecutableOf).
    return { reader: this.twin.reader({ justChecked: true, observed: await this.intents.observed() }), twinCommit: dirty.length === 0 ? (head ?? null) : null, checked: { head, dirty }, ...(kept.length === 0 ? {} : { kept }), ...(undone === undefined ? {} : { undone: `${undone.message}. ${undone.nextStep ?? ''}`.trim() }) }
  }

  private async selectProviders(only: readonly string[] | undefined): Promise<ApplicableProvider[]> {
    const all = (await this.registry.select()).map((r) => r.provider).filter(isApplicable)
    if (only === undefined || only.length === 0) return all
    const known = new Set<string>([...all.map((p) => p.name), ...CATEGORIES])
    const unknown = only.filter((o) => !known.has(o))
    if (unknown.length > 0) {
      throw new TwinSyncError('PROVIDER_UNKNOWN', `--only names no provider or domain: ${unknown.join(', ')}`, {
        nextStep: `Use domains (${CATEGORIES.filter((c) => c !== 'facts').join(', ')}) or provider names (${all.map((p) => p.name).join(', ')}).`,
        details: { unknown },
      })
    }
    return all.filter((p) => only.includes(p.name) || only.includes(p.category))
  }
}

function wants(only: readonly string[] | undefined, domain: string): boolean {
  return only === undefined || only.length === 0 || only.includes(domain)
}

/**
 * A provider's state as the twin read holds it (`load`), and its diff against the machine as
 * collected: the core of a plan, and of status's second comparison (PlanOptions.alsoAgainst). No
 * diff when the load failed or the twin holds no state of the provider.
 */
async function loadThenDiff(
  provider: ApplicableProvider,
  twin: TwinReader,
  actual: unknown,
  ctx: ReturnType<typeof contextFor>,
  nothing?: string,
): Promise<{ loaded: Guarded<LoadResult<unknown>>; diff?: Guarded<DiffResult> }> {
  const loaded = await callProvider(provider, 'load', () => provider.load({ ctx, twin }), nothing)
  if (!loaded.ok) return { loaded }
  const desired = loaded.value.state
  if (desired === undefined) return { loaded }
  return { loaded, diff: await callProvider(provider, 'diff', () => provider.diff({ desired, actual, ctx }), nothing) }
}
