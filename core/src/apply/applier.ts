import type { ApplicableProvider, Change, ChangeResult, Diagnostic, HostPort, HostReader, PathClaims, Plan, PlanEdge } from '@twinsync/sdk'
import { NEED_UNUSABLE, filePathOf, isApplicable, isConfigChecker } from '@twinsync/sdk'
import { inject, injectable } from '../di.js'
import { pathMatchesNeed } from '../plan/ordering-rules.js'
import { waves } from '../plan/plan-graph.js'
import { callProvider } from '../providers/provider-call.js'
import { ProviderContexts } from '../providers/provider-contexts.js'
import { ProviderRegistry } from '../providers/provider-registry.js'
import { runCommandChange } from './command-runner.js'
import { ConfigGuard, RELOADS, liveState, notKept, rejected, withKept, type CheckRun, type Group } from './config-guard.js'
import { PendingChecks, type RunAgain } from './pending-checks.js'
import { withNamedFiles } from './named-config.js'
import type { JournalStep } from './journal.js'
import { COMMANDS } from '../plan/commands-domain.js'
import { appendTo } from '../append-to.js'

export interface ExecuteResult {
  /** One per change of the plan, in plan order. */
  steps: JournalStep[]
  /** Diagnostics of providers' apply calls that name no change of theirs. */
  diagnostics: Diagnostic[]
}

export interface ExecuteOptions {
  signal: AbortSignal
  onStart?: (change: Change) => void
  onResult?: (change: Change, result: ChangeResult) => void
  /**
   * Paths this apply put back before its plan's changes (PendingChecks.finish: an earlier apply's
   * files its checker did not pass), each with what it is then (liveState's words). See onPutBack.
   */
  putBack?: ReadonlyMap<string, string>
}

/**
 * What a step under way sees as its cancel signal: never aborted. Ctrl-C stops the apply between
 * steps; killing apt-get or a script half way would leave the machine in a state nobody planned.
 */
const STEPS_RUN_TO_THE_END = new AbortController().signal

/**
 * Carries out an approved plan in graph order. A wave holds changes whose predecessors are
 * done; each provider gets its part of a wave in one call (so apt runs one transaction and never
 * two at once), different providers run side by side. A change whose predecessor failed or was
 * skipped is skipped; after Ctrl-C, nothing new starts.
 */
@injectable()
export class Applier {
  constructor(
    @inject(ProviderRegistry) private readonly registry: ProviderRegistry,
    @inject(ProviderContexts) private readonly contexts: ProviderContexts,
    @inject(PendingChecks) private readonly pending: PendingChecks,
  ) {}

  /**
   * Runs approved reloads (or restarts) once more, outside an apply: those an interrupted apply
   * left without a verdict, with their files live or after they are put back (PendingChecks.finish).
   */
  async runAgain(changes: readonly Change[], how: Parameters<RunAgain>[1]): Promise<ChangeResult[]> {
    const { claims } = await this.registry.load()
    const providers = new Map((await this.registry.select()).map((r) => r.provider).filter(isApplicable).map((p) => [p.name, p] as const))
    const out: ChangeResult[] = []
    const byProvider = new Map<string, Change[]>()
    for (const c of changes) {
      // The record is ours (root-only, in .git), but only what it was made for runs from it.
      if (c.category !== 'services' || !RELOADS.has(c.operation)) out.push({ id: c.id, status: 'failed', message: `${c.id} is no reload or restart; not run` })
      else appendTo(byProvider, c.provider, c)
    }
    for (const [name, group] of byProvider) {
      const provider = providers.get(name)
      if (provider === undefined) {
        for (const c of group) out.push({ id: c.id, status: 'failed', message: `provider ${name} is not loaded` })
        continue
      }
      const ctx = this.contexts.for(provider, claims, { signal: STEPS_RUN_TO_THE_END, cache: 'twin' })
      // Run again with the files live: a basis measured now (none was written) is written down too, for a kill during this run.
      const recordBasis = 'verdictBases' in how ? { onVerdictBasis: (id: string, basis: unknown) => this.pending.recordBasis(id, this.contexts.host.root, basis) } : {}
      const outcome = await callProvider(provider, 'apply', () => provider.apply({ changes: group, ctx, ...how, ...recordBasis }))
      for (const c of group) {
        const result = outcome.ok ? outcome.value.results.find((r) => r.id === c.id) : { id: c.id, status: 'failed' as const, message: outcome.diagnostic.summary }
        out.push(result ?? { id: c.id, status: 'failed', message: `${name} reported no result` })
      }
    }
    return out
  }

  async execute(plan: Plan, options: ExecuteOptions): Promise<ExecuteResult> {
    const { claims } = await this.registry.load()
    const selected = (await this.registry.select()).map((r) => r.provider)
    const providers = new Map(selected.filter(isApplicable).map((p) => [p.name, p] as const))
    const needed = neededWriters(plan.changes)
    const guard = new ConfigGuard(
      this.contexts.host,
      // A file a service's configuration names outside its folders is one of the service's (withNamedFiles).
      await withNamedFiles(this.contexts.host, selected.filter(isConfigChecker).flatMap((p) => p.configChecks), plan.changes),
      plan.changes,
      [...needed.values()].flat().map((c) => c.id),
    )
    const byId = new Map(plan.changes.map((c) => [c.id, c]))
    const results = new Map<string, ChangeResult>()
    // A service's files are checked together, once the last of them in the plan has run (they
    // may span waves: a folder before the file in it), so the checker judges the final set, and
    // a rejection puts every one of them back. Until then their results wait here.
    const checking = new CheckedGroups(guard, guard.groupsOf(plan.changes), this.pending, this.contexts.host, this.contexts.host.root)
    // What each change needs that this apply has changed: the writers of its needs that succeeded.
    const changedNeeds = (changes: readonly Change[]): Record<string, string[]> => {
      const out: Record<string, string[]> = {}
      for (const c of changes) {
        const paths = (needed.get(c.id) ?? []).filter((w) => results.get(w.id)?.status === 'applied').map((w) => filePathOf(w) as string)
        if (paths.length > 0) out[c.id] = [...new Set(paths)].sort()
      }
      return out
    }
    const steps = new Map<string, JournalStep>()
    const general: Diagnostic[] = []
    // The changes a provider's apply had not reported when it was given up on (GuardedRun.halfDone).
    const halfDone = new Set<string>()
    // A reload's verdict is in (a failed one is rolled back first): the files it follows leave the
    // record of the reload window (PendingChecks). Written before the apply goes on.
    const forgetting: Array<Promise<void>> = []
    const root = this.contexts.host.root
    const predecessors = new Map<string, PlanEdge[]>()
    for (const e of plan.edges) appendTo(predecessors, e.to, e)
    // What holds a change back: a predecessor that did not succeed; over an edge that only orders
    // (ordering-rules.ts), one that was itself held back (a failed one does not).
    const goesOn = (e: PlanEdge) => {
      const status = results.get(e.from)?.status ?? checking.waitingResult(e.from)?.status
      return status === 'applied' || status === 'unchanged' || (e.orderOnly === true && status === 'failed')
    }
    // Changes on a path this apply put back first, handed to their provider on what is there now (onPutBack): said in their step.
    const rebased = new Set<string>()
    const record = (change: Change, startedAt: string, reported: ChangeResult) => {
      // Said where the change was made from the put-back's state (not of an `unchanged` step: nothing was made).
      const given = rebased.has(change.id) && reported.status === 'applied' ? { ...reported, message: [reported.message, REBASED].filter(Boolean).join('; ') } : reported
      // A diagnostic about a change names it, and its provider.
      const named = given.diagnostics?.map((d) => ({ ...d, provider: d.provider ?? change.provider, change: change.id }))
      const result: ChangeResult = named === undefined ? given : { ...given, diagnostics: named }
      results.set(change.id, result)
      steps.set(change.id, {
        id: change.id,
        provider: change.provider,
        summary: change.summary,
        startedAt,
        endedAt: new Date().toISOString(),
        status: result.status,
        ...(result.message === undefined ? {} : { message: result.message }),
        ...(result.outputTail === undefined ? {} : { outputTail: result.outputTail }),
        ...(named === undefined || named.length === 0 ? {} : { diagnostics: named }),
        ...(result.status === 'failed' && halfDone.has(change.id) ? { halfDone: true as const } : {}),
      })
      if (change.category === 'services' && RELOADS.has(change.operation)) forgetting.push(this.pending.reloadDone(change.id, root))
      options.onResult?.(change, result)
    }

    // A provider's apply that did not answer in time may still be changing the machine (its code
    // runs on in this process): as after Ctrl-C, nothing new starts; what is left stays pending.
    let gaveUpOn: string | undefined
    for (const wave of waves(plan.changes, plan.edges)) {
      const runnable: Change[] = []
      for (const change of wave) {
        const now = new Date().toISOString()
        if (options.signal.aborted || gaveUpOn !== undefined) {
          const why = gaveUpOn === undefined ? 'the apply was interrupted' : `the ${gaveUpOn} provider's apply did not finish in time (providers.applyTimeoutMs), and may still be changing the machine`
          record(change, now, { id: change.id, status: 'skipped', message: `not started: ${why}` })
          continue
        }
        const blocker = (predecessors.get(change.id) ?? []).find((e) => !goesOn(e))?.from
        if (blocker !== undefined) record(change, now, { id: change.id, status: 'skipped', message: `skipped: ${blocker} did not succeed` })
        else runnable.push(change)
      }
      const byProvider = new Map<string, Change[]>()
      for (const c of runnable) appendTo(byProvider, c.provider, c)
      await Promise.all(
        [...byProvider].map(([name, changes]) =>
          this.runGroup(name, changes, providers.get(name), claims, options, record, noteFrom(name), {
            guard,
            changeOf: (id) => byId.get(id),
            statusOf: (id) => results.get(id)?.status,
            changedNeeds,
            writersOf: (id) => needed.get(id) ?? [],
            checking,
            gaveUp: (provider) => void (gaveUpOn ??= provider),
            halfDone: (id) => void halfDone.add(id),
            rebased,
          }),
        ),
      )
      // Groups whose last changes were skipped in this wave (never reached a provider).
      await checking.settle((id) => results.has(id), (change, result) => record(change, new Date().toISOString(), result))
      await Promise.all(forgetting.splice(0))
    }
    // ApplyResult.diagnostics: beside the step of the change they name, else kept as general ones.
    function noteFrom(provider: string) {
      return (d: Diagnostic) => {
        const step = d.change === undefined ? undefined : steps.get(d.change)
        const note = { ...d, provider: d.provider ?? provider }
        if (step !== undefined && step.provider === provider) step.diagnostics = [...(step.diagnostics ?? []), note]
        else general.push(note)
      }
    }
    await Promise.all(forgetting.splice(0))
    return { steps: plan.changes.map((c) => steps.get(c.id)).filter((s): s is JournalStep => s !== undefined), diagnostics: general }
  }

  private async runGroup(
    name: string,
    changes: Change[],
    provider: ApplicableProvider | undefined,
    claims: PathClaims,
    options: ExecuteOptions,
    record: (change: Change, startedAt: string, result: ChangeResult) => void,
    note: (diagnostic: Diagnostic) => void,
    run: GuardedRun,
  ): Promise<void> {
    const startedAt = new Date().toISOString()
    for (const c of changes) options.onStart?.(c)
    if (name === COMMANDS) {
      for (const change of changes) {
        const started = new Date().toISOString()
        if (options.signal.aborted) record(change, started, { id: change.id, status: 'skipped', message: 'not started: the apply was interrupted' })
        else record(change, started, await runCommandChange(this.contexts.host, change, STEPS_RUN_TO_THE_END))
      }
      return
    }
    if (provider === undefined) {
      for (const c of changes) record(c, startedAt, { id: c.id, status: 'failed', message: `provider ${name} is not loaded` })
      return
    }
    const byId = new Map(changes.map((c) => [c.id, c]))
    const reported = new Set<string>()
    const { guard } = run
    // Config checked before it is live: results of a checked group wait for its checker (see
    // CheckedGroups), and the result of a reload waits until a failed one has had its files put back.
    await guard.remember(changes)
    const warnings = new Map<string, Diagnostic>()
    for (const group of run.checking.groupsOf(changes)) {
      const warning = await run.checking.start(group)
      if (warning !== undefined) for (const c of group.changes) warnings.set(c.id, warning)
    }
    // Files a reload follows that no checker decides on (none, or not installed): in the reload
    // window from the start, so on disk before they are written (see PendingChecks).
    const unjudged = new Map<string, Change[]>()
    for (const c of changes) {
      if (!guard.hasPrevious(c.id) || run.checking.decides(c.id)) continue
      const reloads = guard.reloadsFollowing([c])
      if (reloads.length === 0) continue
      const service = guard.serviceOf(c) ?? (reloads[0] as Change).resource
      appendTo(unjudged, service, c)
    }
    for (const [service, files] of unjudged) {
      await this.pending.addReloadWindow({ service, root: this.contexts.host.root, files: guard.storedPrevious(files), reloads: guard.reloadsFollowing(files) })
    }
    const waiting = new Set<string>()
    for (const c of changes) if (c.category === 'services' && RELOADS.has(c.operation) && (c.requires ?? []).some((r) => guard.hasPrevious(r))) waiting.add(c.id)
    const held = new Map<string, ChangeResult>()
    const report = (change: Change, result: ChangeResult): void => {
      if (reported.has(change.id)) return
      reported.add(change.id)
      if (result.status === 'failed') {
        for (const d of result.diagnostics ?? []) if (d.code === NEED_UNUSABLE && d.path !== undefined) unusable.push({ change, path: d.path, summary: d.summary })
      }
      const warning = warnings.get(change.id)
      // Said in the message too, so the journal keeps that this file went live unchecked.
      const full =
        warning === undefined || result.status !== 'applied'
          ? result
          : { ...result, message: [result.message, warning.summary].filter(Boolean).join('; '), diagnostics: [...(result.diagnostics ?? []), warning] }
      if (waiting.has(change.id)) held.set(change.id, full)
      else if (!run.checking.hold(change.id, full)) record(change, startedAt, full)
    }
    const ctx = this.contexts.for(provider, claims, { signal: STEPS_RUN_TO_THE_END, cache: 'twin' })
    const unusable: Array<{ change: Change; path: string; summary: string }> = []
    // A checked change whose previous state could not be kept is not written: nothing could put it
    // back if its checker rejects it. The plan leaves it out (leaveOutUnkept); this is one that grew since.
    const writing: Change[] = []
    for (const c of changes) {
      const why = run.checking.decides(c.id) ? guard.unkeptReason(c.id) : undefined
      if (why === undefined) writing.push(c)
      else report(c, { id: c.id, status: 'failed', message: `${filePathOf(c)}: not applied: its checker judges it before it is live, and what it is now could not be kept to be put back (${why})`, diagnostics: [notKept(c, why)] })
    }
    const changedNeeds = run.changedNeeds(writing)
    const based = await onPutBack(this.contexts.host, writing, options.putBack, run.rebased)
    const outcome = writing.length === 0 ? ({ ok: true, value: { results: [], diagnostics: [] } } as const) : await callProvider(provider, 'apply', () =>
      provider.apply({
        changes: based,
        ctx,
        ...(Object.keys(changedNeeds).length === 0 ? {} : { changedNeeds }),
        // Kept with the reload window's files before the reload runs (PendingChecks.finish judges a killed one against it).
        onVerdictBasis: (id, basis) => this.pending.recordBasis(id, this.contexts.host.root, basis),
        onResult: (result) => {
          const change = byId.get(result.id)
          if (change !== undefined) report(change, result)
        },
      }),
    )
    if (outcome.ok) {
      for (const result of outcome.value.results) {
        const change = byId.get(result.id)
        if (change !== undefined) report(change, result)
      }
    } else {
      if (outcome.timedOut === true) run.gaveUp(name)
      // A call given up on: each change it had not reported may be half done; it stays pending (the machine is not the twin).
      const message = outcome.timedOut === true ? `${outcome.diagnostic.summary}; this change may be half done on the machine, and stays pending` : outcome.diagnostic.summary
      for (const c of writing) {
        if (reported.has(c.id)) continue
        if (outcome.timedOut === true) run.halfDone(c.id)
        report(c, { id: c.id, status: 'failed', message, diagnostics: [outcome.diagnostic] })
      }
    }
    await run.checking.settle((id) => run.statusOf(id) !== undefined, (change, result) => record(change, startedAt, result))
    for (const [id, result] of held) {
      const change = byId.get(id) as Change
      record(change, startedAt, result.status === 'failed' ? await this.rollBack(change, result, provider, ctx, run, record) : result)
    }
    if (outcome.ok) for (const d of outcome.value.diagnostics ?? []) note(d)
    for (const c of changes) if (!reported.has(c.id)) record(c, startedAt, { id: c.id, status: 'failed', message: `${name} reported no result for this change` })
    await this.putBackUnusable(unusable, run, record)
  }

  /**
   * A change failed because a path it needed, just changed by this apply, cannot be used (apt
   * could not read a new repository): put that path's change back and report it failed, so the
   * machine is not left with a repository its package manager cannot read, and both stay pending.
   */
  private async putBackUnusable(
    unusable: ReadonlyArray<{ change: Change; path: string; summary: string }>,
    run: GuardedRun,
    record: (change: Change, startedAt: string, result: ChangeResult) => void,
  ): Promise<void> {
    const done = new Set<string>()
    for (const { change, path, summary } of unusable) {
      for (const writer of run.writersOf(change.id)) {
        if (done.has(writer.id) || filePathOf(writer) !== path || run.statusOf(writer.id) !== 'applied') continue
        done.add(writer.id)
        const restored = run.guard.hasPrevious(writer.id) ? await run.guard.restore([writer]) : { problems: [`its previous state was not kept`], kept: [] }
        const back = withKept(restored.problems.length === 0 ? `${path} is as it was before` : `putting it back failed: ${restored.problems.join('; ')}`, restored)
        record(writer, new Date().toISOString(), {
          id: writer.id,
          status: 'failed',
          message: `rolled back: ${change.id} could not use it (${summary}); ${back}`,
        })
      }
    }
  }

  /**
   * A reload (or restart) after a configuration change failed, or the service did not come back
   * as it was: put the files it follows back (their whole groups), mark them failed, and run the
   * same reload once more so the service reads the previous configuration again.
   */
  private async rollBack(
    change: Change,
    result: ChangeResult,
    provider: ApplicableProvider,
    ctx: Parameters<ApplicableProvider['apply']>[0]['ctx'],
    run: GuardedRun,
    record: (change: Change, startedAt: string, result: ChangeResult) => void,
  ): Promise<ChangeResult> {
    const followed = (change.requires ?? []).filter((id) => run.guard.hasPrevious(id) && run.statusOf(id) === 'applied')
    const files = run.guard
      .groupMates(followed)
      .filter((id) => run.statusOf(id) === 'applied')
      .map((id) => run.changeOf(id))
      .filter((c): c is Change => c !== undefined)
    if (files.length === 0) return result
    // A kill from here on: the next apply finishes putting them back (PendingChecks.finish).
    await this.pending.rollingBack(change.id, this.contexts.host.root, this.contexts.host)
    const restored = await run.guard.restore(files)
    const { problems } = restored
    // Not all back (a full disk): the record stays past this reload's verdict, and the next apply puts them back first.
    const retry = problems.length > run.guard.unkept(files)
    if (retry) await this.pending.rollbackFailed(change.id, this.contexts.host.root)
    const now = new Date().toISOString()
    for (const f of files) {
      record(f, now, {
        id: f.id,
        status: 'failed',
        message: `rolled back: ${change.resource} did not come back after its ${change.operation}; ${withKept(problems.length === 0 ? `${f.resource} is as it was before` : `putting the previous files back failed: ${problems.join('; ')}${retry ? '; the next apply puts them back before anything else' : ''}`, restored)}`,
      })
    }
    const rerun = await callProvider(provider, 'apply', () => provider.apply({ changes: [change], ctx }))
    const again: ChangeResult | undefined = rerun.ok
      ? rerun.value.results.find((r) => r.id === change.id)
      : { id: change.id, status: 'failed', message: rerun.diagnostic.summary }
    const back = withKept(problems.length === 0 ? `the previous ${files.map((f) => f.resource).join(', ')} ${files.length === 1 ? 'is' : 'are'} back` : `putting the previous files back failed: ${problems.join('; ')}${retry ? '; the next apply puts them back before anything else' : ''}`, restored)
    const after = again?.status === 'applied' ? `${change.resource} runs again` : `${change.operation} once more failed too: ${again?.message ?? 'no result'}`
    return { ...result, message: `${result.message ?? `${change.operation} failed`}; ${back}, ${change.operation} ran again: ${after}` }
  }
}

interface GuardedRun {
  guard: ConfigGuard
  checking: CheckedGroups
  changeOf: (id: string) => Change | undefined
  statusOf: (id: string) => ChangeResult['status'] | undefined
  /** For each change that needs paths: those this apply has changed so far (ApplyRequest.changedNeeds). */
  changedNeeds: (changes: readonly Change[]) => Record<string, string[]>
  /** The file changes of the plan that write paths this change needs. */
  writersOf: (id: string) => readonly Change[]
  /** A provider's apply did not answer in time: nothing new starts. */
  gaveUp: (provider: string) => void
  /** A change that provider had not reported then: it may be half done (its journal step says so, JournalStep.halfDone). */
  halfDone: (id: string) => void
  /** Filled with the changes handed on without their fingerprint (onPutBack). */
  rebased: Set<string>
}

/** For each change that declares `needs`: the file changes of the plan that write a path under them. */
function neededWriters(changes: readonly Change[]): Map<string, Change[]> {
  const out = new Map<string, Change[]>()
  for (const c of changes) {
    if (c.needs === undefined || c.needs.length === 0) continue
    const writers = changes.filter((w) => {
      const path = filePathOf(w)
      return w.id !== c.id && path !== undefined && (c.needs ?? []).some((n) => pathMatchesNeed(path, n))
    })
    if (writers.length > 0) out.set(c.id, writers)
  }
  return out
}

/**
 * The checked groups of one apply, across waves and providers. A group's baseline runs before
 * the first of its changes is written; its changes' results wait here; once every change of the
 * group has a result, the checker runs on everything the group wrote, and either passes them all
 * or puts them all back (last first) and fails them all. A change read by two services is in both
 * groups (ConfigGuard.groupsOf): groups that share a change are decided together, when every
 * change of each has a result, and a rejection by either puts back what all of them wrote, so no
 * service is left with a mix of files its checker did not judge together (session 47).
 */
class CheckedGroups {
  private readonly groups: Group[] = []
  private readonly started = new Map<Group, Promise<Diagnostic | undefined>>()
  private readonly waiting = new Map<string, ChangeResult>()
  /** The checked groups of each change, by id. */
  private readonly groupOf = new Map<string, Group[]>()
  /** Groups whose checker is not installed: their changes go live unchecked by it. */
  private readonly unchecked = new Set<Group>()
  private readonly settling = new Set<Group>()

  constructor(
    private readonly guard: ConfigGuard,
    groups: readonly Group[],
    private readonly pending: PendingChecks,
    private readonly host: HostPort,
    private readonly root: string,
  ) {
    for (const g of groups) {
      if (g.check.argv === undefined) continue
      this.groups.push(g)
      for (const c of g.changes) appendTo(this.groupOf, c.id, g)
    }
  }

  /** The checked groups these changes belong to. */
  groupsOf(changes: readonly Change[]): Group[] {
    return [...new Set(changes.flatMap((c) => this.groupOf.get(c.id) ?? []))]
  }

  /**
   * Before the first change of the group is written: keep the previous state of all its paths
   * and run the checker on the live configuration (once per apply). Returns the warning of a
   * checker that is not installed; the group then goes live unchecked.
   */
  start(group: Group): Promise<Diagnostic | undefined> {
    let started = this.started.get(group)
    if (started === undefined) {
      started = (async () => {
        await this.guard.remember(group.changes)
        const warning = await this.guard.baseline(group)
        if (warning !== undefined) this.unchecked.add(group)
        // On disk before the first file is written: a run killed before the checker decided
        // leaves it for the next apply to finish (PendingChecks.finish). A path whose previous
        // state could not be kept is not written (runGroup), so not in the record.
        else await this.pending.add({ service: group.check.service, root: this.root, files: this.guard.storedPrevious(group.changes.filter((c) => this.guard.unkeptReason(c.id) === undefined)) })
        return warning
      })()
      this.started.set(group, started)
    }
    return started
  }

  /** Does a checker decide on this change (one of its groups has one, and it is installed)? */
  decides(id: string): boolean {
    return (this.groupOf.get(id) ?? []).some((g) => !this.unchecked.has(g))
  }

  /** Keeps the result of a change of a checked group until the group is checked; false for any other change. */
  hold(id: string, result: ChangeResult): boolean {
    if (!this.decides(id)) return false
    this.waiting.set(id, result)
    return true
  }

  /** What a change waiting for its group's check did (its dependents may go on meanwhile). */
  waitingResult(id: string): ChangeResult | undefined {
    return this.waiting.get(id)
  }

  /** The group with the groups that share a change with it, and theirs in turn: decided together. */
  private together(group: Group): Group[] {
    const out = [group]
    for (let i = 0; i < out.length; i++) {
      for (const c of (out[i] as Group).changes) for (const g of this.groupOf.get(c.id) ?? []) if (!this.unchecked.has(g) && !out.includes(g)) out.push(g)
    }
    return out
  }

  /** Checks every group whose changes all have a result (waiting here, or recorded), and records them. */
  async settle(recorded: (id: string) => boolean, record: (change: Change, result: ChangeResult) => void): Promise<void> {
    for (const first of this.groups) {
      if (this.settling.has(first) || this.unchecked.has(first)) continue
      const groups = this.together(first)
      const changes = [...new Set(groups.flatMap((g) => g.changes))]
      if (!changes.some((c) => this.waiting.has(c.id))) continue
      if (!changes.every((c) => this.waiting.has(c.id) || recorded(c.id))) continue
      for (const g of groups) this.settling.add(g)
      const appliedOf = (g: Group) => g.changes.filter((c) => this.waiting.get(c.id)?.status === 'applied')
      const applied = changes.filter((c) => this.waiting.get(c.id)?.status === 'applied')
      const decided = new Map<string, ChangeResult>()
      // Each group's verdict, until one rejects.
      const verdicts: Array<{ group: Group; check: CheckRun; builtNote: string }> = []
      for (const group of groups) {
        const mine = appliedOf(group)
        if (mine.length === 0) continue
        // Compiled files first (postfix's tables): on disk in the record before each is built.
        const built = await this.guard.build(group, mine, (kept) => this.pending.addFiles(group.check.service, this.root, [kept]))
        const check = built?.ok === false ? built : await this.guard.check(group, mine)
        verdicts.push({ group, check, builtNote: built === undefined ? '' : `built: \`${built.command}\`; ` })
        if (!check.ok) break
      }
      // Passed: the files are live, but not known to work until the reloads that follow them have
      // their verdicts; the record stays until then (Applier's record, PendingChecks.reloadDone).
      const reloads = new Map<Group, Change[]>()
      let notBack = false
      const failed = verdicts.find((v) => !v.check.ok)
      if (failed === undefined) {
        for (const { group } of verdicts) {
          const following = this.guard.reloadsFollowing(appliedOf(group)).filter((r) => !recorded(r.id))
          reloads.set(group, following)
          if (following.length > 0) await this.pending.awaitReloads(group.check.service, this.root, following)
        }
        for (const c of applied) decided.set(c.id, passed(this.waiting.get(c.id) as ChangeResult, verdicts.filter((v) => v.group.changes.includes(c))))
      } else {
        // Rejected, on disk before any file goes back: killed half way or not all back (a full
        // disk), the next apply puts them back first and never judges a mix (PendingChecks' goBack).
        // A mark that cannot be written (the twin's disk full too) stops no put-back: the entry
        // stays unmarked, and the next apply's checker judges the live files as after a kill.
        for (const group of groups) await this.pending.rejected(group.check.service, this.root, this.host).catch(() => undefined)
        const restored = await this.guard.restore(applied)
        // What was never kept (too large) cannot go back later either: not a reason to keep the record.
        notBack = restored.problems.length > this.guard.unkept(applied)
        for (const c of applied) decided.set(c.id, rejected(c, failed.group, failed.check, restored, notBack))
      }
      for (const group of groups) if (!notBack && (reloads.get(group) ?? []).length === 0) await this.pending.remove(group.check.service, this.root)
      for (const c of changes) {
        const result = decided.get(c.id) ?? this.waiting.get(c.id)
        this.waiting.delete(c.id)
        if (result !== undefined) record(c, result)
      }
      for (const g of groups) this.settling.delete(g)
    }
  }
}

/** A change its groups' checkers passed: what each checked (or why it could not judge), in its message. */
function passed(result: ChangeResult, verdicts: ReadonlyArray<{ check: CheckRun; builtNote: string }>): ChangeResult {
  // Nothing a checker judges (a unit file removed): the step says what it did.
  const judged = verdicts.filter((v) => v.check.command !== '')
  if (judged.length === 0) return result
  // Said in the message too, so the journal keeps that this file went live unjudged.
  const message = judged.map((v) => `${v.builtNote}${v.check.unjudged === undefined ? `checked: \`${v.check.command}\` passed` : v.check.unjudged.summary}`).join('; ')
  const diagnostics = judged.flatMap((v) => [v.check.unjudged, v.check.unsandboxed]).filter((d): d is Diagnostic => d !== undefined)
  return { ...result, message, ...(diagnostics.length === 0 && result.diagnostics === undefined ? {} : { diagnostics: [...(result.diagnostics ?? []), ...diagnostics] }) }
}

/** Said in the step of a change onPutBack handed on. */
const REBASED = 'the plan saw what an earlier apply left here; this apply put back what was there before it (its check had not passed) and made the change from that'

/**
 * A file change of the plan on a path this apply put back before the plan's changes
 * (ExecuteOptions.putBack): the plan was made, and approved, with the earlier apply's file live,
 * and its provider refuses a path changed since the plan (`liveFingerprint`), so a fix made in the
 * twin while the put-back was pending failed and needed one more apply (session 47's leftover).
 * The change since the plan is this apply's own put-back, which the plan said would come first
 * (CONFIG_UNJUDGED): when the path is still exactly what the put-back left (liveState), the change
 * is handed on without its fingerprint, and `rebased` names it. Only a change that says the whole
 * of what the path becomes (a file written, a link, a delete; a folder delete keeps the
 * fingerprints of what it names below it): a mode or owner alone on the put-back file would leave
 * its content as the twin never asked. Anything else, or a path changed again since, is handed on
 * as planned, and fails as before.
 */
async function onPutBack(host: HostPort, changes: readonly Change[], putBack: ReadonlyMap<string, string> | undefined, rebased: Set<string>): Promise<Change[]> {
  if (putBack === undefined || putBack.size === 0) return [...changes]
  const out: Change[] = []
  for (const c of changes) {
    if (!(await madeFromPutBack(host, c, putBack))) {
      out.push(c)
      continue
    }
    const { liveFingerprint: _planned, ...rest } = c
    out.push(rest)
    rebased.add(c.id)
  }
  return out
}

/**
 * Is `change` one the apply makes from what its put-back left (onPutBack): a file change with a
 * fingerprint that says the whole of what its path becomes (WHOLE), on a path this apply put back
 * (ExecuteOptions.putBack), which is still exactly what the put-back left (liveState). The one
 * rule for the applier and for a saved plan's staleness (ApplyService.refuseIfStale).
 */
export async function madeFromPutBack(host: HostReader, change: Change, putBack: ReadonlyMap<string, string> | undefined): Promise<boolean> {
  const path = filePathOf(change)
  const state = path === undefined ? undefined : putBack?.get(path)
  const action = (change.data as { action?: unknown } | undefined)?.action
  return path !== undefined && state !== undefined && change.liveFingerprint !== undefined && WHOLE.has(action as string) && (await liveState(host, path)) === state
}

/** The file actions that say the whole of what their path becomes (onPutBack). */
const WHOLE: ReadonlySet<string> = new Set(['write', 'symlink', 'delete'])

