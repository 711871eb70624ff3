import type { Change, ChangeResult, Diagnostic, HostPort, Logger, Plan } from '@twinsync/sdk'
import { stampOutcome } from '../intent/reason-asked.js'
import { TwinSyncError, isApplicable, isConfigChecker, isTwinSyncError, stableStringify, warningDiagnostic } from '@twinsync/sdk'
import { inject, injectable } from '../di.js'
import { RunTarget } from '../plan/run-target.js'
import { quoteArg, twinsyncLine, type CommandTarget } from '../plan/command-text.js'
import { COMMANDS_LEDGER, readCommandsLedger, recordedByFullKey, type CommandChangeData } from '../plan/plan-instructions.js'
import { Planner } from '../plan/planner.js'
import { IntentService, notKeptDiagnostics, type Promotion } from '../intent/intent-service.js'
import { treeOf } from '../intent/intent-git.js'
import { PlanScope } from '../plan/plan-scope.js'
import { ProviderRegistry } from '../providers/provider-registry.js'
import { RemoteService, type PushOutcome } from '../remote/remote-service.js'
import { SnapshotService } from '../snapshot/snapshot-service.js'
import { Tokens } from '../tokens.js'
import { editedPathsOf } from '../twin/atomic-snapshot.js'
import { TwinRepository } from '../twin/twin-repository.js'
import { otherMachineAt, refuseOtherMachine } from '../twin/machine-match.js'
import { Applier, madeFromPutBack } from './applier.js'
import { PendingChecks, type FinishedCheck } from './pending-checks.js'
import { planRefusal } from './plan-refusal.js'
import { refuseUnacceptedHighRisk } from './high-risk.js'
import { holdMachine } from './machine-lock.js'
import { readTrustContext } from '../plan/trust-risk.js'
import { journalPath, sealJournalText, type ApplyJournal, type JournalStep } from './journal.js'
import { ApplyRecorder, clearApplyRecord, doneBeforeInterruption, pathsOf, readApplyRecord, refuseUnlessContinuing, sweepTargetTempFiles } from './resume.js'
import { COMMANDS, isCommand } from '../plan/commands-domain.js'
import { twinKey } from '../plan/plan-seal.js'
import { signRan } from '../plan/run-record-seal.js'
import { CleanKeys, LOCAL_RUNS_KEPT_ASIDE, LocalRuns, ranHere, recorded } from '../plan/run-once-keys.js'
import { appendAll } from '../append-to.js'

export interface ApplyOptions {
  plan: Plan
  /**
   * The plan was made before this apply took the twin lock — a saved file (`twinsync apply FILE`),
   * or a plan a person reviewed in the TUI or at the CLI's prompt — so plan again first: a change
   * that comes out different is PLAN_STALE, one the fresh plan no longer has is reported unchanged
   * and not made. False only for a plan made under the same lock just before and applied without
   * a question (CliApply with --yes). Session 41: the CLI's prompt passed false, so a twin file
   * edited while the person read the plan was committed as the edit before the apply, the
   * reviewed content was written, and the change counted as done: the later edit was gone from
   * the working twin and status said "In sync".
   */
  fromFile: boolean
  /**
   * With fromFile false: the plan was made just before, under this lock, of the working twin
   * (CliApply's apply and pull, not a --from or a revert), its tree recorded (PlanWorkflow.toApply).
   * The working twin must still be exactly that twin when the apply commits its edits, or
   * PLAN_STALE before anything of the plan is written (refuseMovedTwin). Session 41: `apply --yes`
   * (a short window) and `apply --rehearse --yes` (minutes, while the container boots) took a twin
   * file edited meanwhile as the edit before the apply, wrote the planned content and counted the
   * change done: the later edit was gone and status said "In sync".
   */
  ofWorkingTwin?: boolean
  /** The apply brings the machine back to this snapshot: history names it a revert. */
  revertTo?: string
  /**
   * Changes of the plan a person left out. Like failed and skipped steps they stay pending in
   * the twin (the snapshot after the apply keeps every unapplied intent); this names the reason.
   */
  leftOut?: readonly Change[]
  /** The domains the plan was limited to (--only): what the twin asks for elsewhere stays pending, saying so. */
  only?: readonly string[]
  /**
   * The plan's changes that run code as root or open a login (high-risk.ts), accepted one by one:
   * their ids (a typed "yes" in the TUI), or true (`--accept-high-risk`, a typed "yes" in the CLI).
   * Without it a plan holding one is refused, HIGH_RISK_NOT_ACCEPTED, before anything is locked or written.
   */
  acceptHighRisk?: boolean | readonly string[]
  /** The command line that accepts them, for the refusal's next step. */
  acceptAgain?: string
  signal: AbortSignal
  onStart?: (change: Change) => void
  onResult?: (change: Change, result: ChangeResult) => void
}

export interface ApplyReport {
  /** The snapshot of the machine just before the apply: revert to it to undo. */
  checkpoint: string | null
  /** The snapshot taken after the apply, with the journal. */
  commit: string | null
  journalPath: string
  journal: ApplyJournal
  /** Twin files that still ask for something after the apply (left out, failed, skipped): pending for the next plan. */
  keptPending: string[]
  /** Temporary files an interrupted apply left on the target, removed before this one. */
  tempFilesRemoved?: string[]
  /** Configuration checks an interrupted apply left undecided, finished before this one (see PendingChecks). */
  checksFinished?: FinishedCheck[]
  /** This apply continued an interrupted one. */
  continued?: boolean
  /** 0 when every change is applied or unchanged and the snapshots before and after recorded every provider, 1 otherwise. */
  exitCode: 0 | 1
  /** The mirror push after the apply (status 'not-configured' without a mirror); never thrown. */
  push: PushOutcome
}

/**
 * The whole apply: one at a time (the twin lock), refuse a stale plan, keep the desired state,
 * checkpoint the live state, carry out the plan, and commit the journal with the result.
 */
@injectable()
export class ApplyService {
  constructor(
    @inject(TwinRepository) private readonly twin: TwinRepository,
    @inject(Planner) private readonly planner: Planner,
    @inject(Applier) private readonly applier: Applier,
    @inject(SnapshotService) private readonly snapshots: SnapshotService,
    @inject(ProviderRegistry) private readonly registry: ProviderRegistry,
    @inject(Tokens.Host) private readonly host: HostPort,
    @inject(Tokens.Clock) private readonly clock: () => Date,
    @inject(RemoteService) private readonly remote: RemoteService,
    @inject(PlanScope) private readonly scope: PlanScope,
    @inject(PendingChecks) private readonly pendingChecks: PendingChecks,
    @inject(IntentService) private readonly intents: IntentService,
    @inject(Tokens.Logger) private readonly logger: Logger,
    @inject(RunTarget) private readonly target: RunTarget,
  ) {}

  /** Throws the refusal of a plan with errors (see planRefusal); nothing is locked or written. */
  refuseIfPlanHasErrors(plan: Plan): void {
    const refused = planRefusal(plan, (args) => this.target.line(args, this.twin.dir))
    if (refused !== undefined) throw refused
  }

  async apply(options: ApplyOptions): Promise<ApplyReport> {
    this.refuseIfPlanHasErrors(options.plan)
    await this.refuseOutsideScope(options.plan)
    // A plan of another machine's twin is refused here as well as in the plan (a saved one, made before).
    await refuseOtherMachine(this.target.get(this.twin.dir), await this.twin.open(), this.host)
    // So is a plan read from a snapshot of another machine's (--from, a revert; otherMachineAt).
    const basis = options.plan.basis.twinCommit
    const otherAt = basis === null || basis === (await this.intents.observed()) ? undefined : await otherMachineAt(this.target.get(this.twin.dir), basis, this.host)
    if (otherAt !== undefined) throw new TwinSyncError('TWIN_OTHER_MACHINE', `${otherAt.summary}. Nothing was changed.`, { nextStep: otherAt.detail ?? '' })
    // Code that runs as root or a login: accepted by name, whoever calls (the CLI, the TUI).
    refuseUnacceptedHighRisk(options.plan, options.acceptHighRisk, options.acceptAgain ?? this.target.line(['apply', '--yes', '--accept-high-risk'], this.twin.dir), this.target.get(this.twin.dir), options.acceptHighRisk === true ? {} : await readTrustContext(this.host, this.twin.dir, options.plan.changes))
    // One apply at a time per machine, whichever twin it comes from (machine-lock.ts), then per twin.
    const report = await holdMachine(this.host.root, this.twin.dir, (began) => this.twin.lock().hold('apply', () => this.applyLocked(options, began)))
    // The checkpoint and the result go to the mirror, if there is one; a failed push is reported.
    return { ...report, push: await this.remote.push() }
  }

  /** `began`: called before the first change to the machine (machine-lock.ts: a snapshot collecting meanwhile is refused). */
  private async applyLocked(options: ApplyOptions, began: () => void): Promise<Omit<ApplyReport, 'push'>> {
    await this.checkPlanFits(options.plan)
    // An apply that was killed half way: continue it (or revert, deliberately), never undo it.
    const interrupted = await readApplyRecord(this.twin.dir, this.target.get(this.twin.dir))
    if (interrupted !== undefined) refuseUnlessContinuing(interrupted, options, this.target.get(this.twin.dir))
    // What an interrupted apply left is put right on the machine first (its temporary files, its
    // undecided checks): the apply begins there; otherwise once a saved or reviewed plan is not stale.
    if (interrupted !== undefined || (await this.pendingChecks.read()).some((c) => c.root === this.host.root)) began()
    const tempFilesRemoved = interrupted === undefined ? [] : await sweepTargetTempFiles(this.host, interrupted)
    // A run killed before a service's checker decided: check the live files now, and put the
    // previous ones back unless they pass, before anything else (the checkpoint included).
    const putBack = new Map<string, string>()
    const checksFinished = await this.pendingChecks.finish(
      this.host,
      (await this.registry.select()).map((r) => r.provider).filter(isConfigChecker).flatMap((p) => p.configChecks),
      (changes, how) => this.applier.runAgain(changes, how),
      putBack,
    )
    // Changes already in place (the same plan applied again) are reported, not run again.
    const satisfied = [
      ...(options.fromFile ? await this.refuseIfStale(options.plan, putBack) : []),
      ...(interrupted === undefined ? [] : doneBeforeInterruption(interrupted, options.plan)),
    ]
    began()
    const done = new Set(satisfied.map((c) => c.id))
    const plan: Plan = {
      ...options.plan,
      changes: options.plan.changes.filter((c) => !done.has(c.id)),
      edges: options.plan.edges.filter((e) => !done.has(e.from) && !done.has(e.to)),
    }
    const started = this.clock()
    const stamp = started.toISOString().replace(/\.\d{3}Z$/, 'Z')

    // An edited working twin is the desired state: commit it before the checkpoint writes the
    // live state over it, so history keeps both.
    await this.snapshots.settleTwin()
    const dirty = (await this.twin.dirtyPaths()).length > 0
    // Made of the working twin just before (not continuing an interrupted apply, planned from its intended commit).
    const asPlanned = options.fromFile || options.ofWorkingTwin !== true || interrupted !== undefined ? undefined : await this.refuseMovedTwin(options.plan, dirty)
    const editCommit = dirty ? await this.twin.commitEdits(`TwinSync edit before apply ${stamp}`, asPlanned) : undefined
    // The twin the plan was made from (its edits just committed), before the checkpoint moves HEAD.
    const desired = await this.desiredTree(options.plan, options.revertTo)
    const what = options.revertTo === undefined ? 'apply' : `revert to ${options.revertTo.slice(0, 12)}`
    // What the apply heads for, on disk before anything changes (see resume.ts).
    const continuing = interrupted !== undefined && options.revertTo === undefined
    const recorder = new ApplyRecorder(this.twin.dir, {
      version: 2,
      pid: process.pid,
      startedAt: continuing ? interrupted.startedAt : started.toISOString(),
      root: this.host.root,
      kind: options.revertTo === undefined ? 'apply' : 'revert',
      intended: continuing ? interrupted.intended : (options.revertTo ?? plan.basis.twinCommit ?? (await this.twin.head()) ?? ''),
      providers: continuing ? interrupted.providers : [...new Set(options.plan.changes.map((c) => c.provider))],
      checkpoint: continuing ? interrupted.checkpoint : null,
      changes: [...(continuing ? interrupted.changes : []), ...plan.changes.map((c) => ({ id: c.id, provider: c.provider, summary: c.summary, paths: pathsOf(c) }))],
      started: continuing ? interrupted.started : [],
      done: continuing ? interrupted.done : {},
    })
    await recorder.save()
    const checkpoint = await this.snapshots.snapshotLocked({ message: `TwinSync checkpoint before ${what} ${stamp}`, signal: options.signal }).catch((error: unknown) => {
      throw checkpointFailed(error, editCommit, this.target.get(this.twin.dir))
    })
    await recorder.setCheckpoint(checkpoint.commit ?? checkpoint.head ?? null)
    // A provider the checkpoint could not record (its collect failed, or its documents were
    // refused: document-paths.ts) keeps its last snapshot's part: said in the journal, and the run
    // exits 1. Before session 44 nothing said it (a plan collects but writes no document, so a
    // document the twin cannot hold, which used to fail the checkpoint whole, reached here).
    const unrecorded = unrecordedProviders(checkpoint)
    const checkpointCommit = recorder.record.checkpoint
    // What the apply is asked to do becomes intent before any step runs: a repair of drift (the
    // checkpoint just adopted the machine's state) would otherwise live only in this plan, and a
    // step that fails, is skipped, left out or interrupted would be lost with it (session 22).
    // Files an earlier apply's checker rejected, put back only now (PendingChecks.finish): asked for again, as after any rejection.
    const askedAgain = options.revertTo === undefined ? checksFinished.flatMap((f) => f.askedAgain ?? []) : []
    const promotion = await this.promote(desired, [...plan.changes, ...(options.leftOut ?? []), ...askedAgain], stamp)

    const now = this.clock().toISOString()
    const ranBefore = new Set(interrupted === undefined ? [] : doneBeforeInterruption(interrupted, options.plan).map((c) => c.id))
    const alreadyDone = satisfied.map((c) => {
      const result = ranBefore.has(c.id)
        ? { id: c.id, status: 'applied' as const, message: 'done before the interruption; not run again' }
        : isCommand(c)
          ? { id: c.id, status: 'unchanged' as const, message: `ran before (${COMMANDS_LEDGER}); not run again` }
          : { id: c.id, status: 'unchanged' as const, message: 'already in place: a fresh plan no longer has this change' }
      options.onResult?.(c, result)
      return { id: c.id, provider: c.provider, summary: c.summary, startedAt: now, endedAt: now, status: result.status, message: result.message }
    })
    const executed = await this.applier.execute(plan, {
      signal: options.signal,
      putBack,
      onStart: (change) => {
        recorder.started(change.id)
        options.onStart?.(change)
      },
      onResult: (change, result) => {
        recorder.finished(change.id, result.status)
        options.onResult?.(change, result)
      },
    })
    await recorder.flush()
    const steps = [...alreadyDone, ...executed.steps]
    const counts = { applied: 0, unchanged: 0, failed: 0, skipped: 0 }
    for (const s of steps) counts[s.status]++
    const journal: ApplyJournal = {
      startedAt: started.toISOString(),
      endedAt: this.clock().toISOString(),
      root: this.host.root,
      planBasis: plan.basis.twinCommit,
      checkpoint: checkpointCommit,
      interrupted: options.signal.aborted,
      counts,
      steps,
      diagnostics: [...checksFinished.flatMap((f) => (f.recheck === undefined ? [f.diagnostic] : [f.diagnostic, f.recheck])), ...(promotion.notKept ?? []), ...executed.diagnostics, ...unrecorded],
    }
    const commandsLeftOut = (options.leftOut ?? []).filter(isCommand)
    if (commandsLeftOut.length > 0) journal.leftOut = commandsLeftOut.map((c) => ({ id: c.id, provider: c.provider, summary: c.summary }))
    const path = journalPath(journal.startedAt)
    // What was made is the machine's now: the snapshot below takes its value, as for any drift.
    await this.intents.unpromoteApplied(promotion, new Set(steps.filter((s) => s.status === 'applied' || s.status === 'unchanged').map((s) => s.id)))
    // Signed by this twin, as committed, so that a mirror cannot forge or rewrite it (journal.ts).
    const key = (await twinKey(this.twin.dir, true)) as Buffer
    // Before the journal is written: a local record of what ran that was kept aside is said in it.
    const ledger = await this.ledgerAfter(options.plan, steps)
    appendAll(journal.diagnostics, ledger.diagnostics)
    const after = await this.snapshots.snapshotLocked({
      intentReasons: notApplied(steps, options.leftOut ?? [], stamp, plan.changes, path),
      otherwiseReason: options.only === undefined ? `not in the apply of ${stamp}` : stampOutcome({ at: stamp, outcome: 'left out', only: options.only.join(','), journal: path }, undefined),
      message: `TwinSync ${what} ${stamp}: ${counts.applied} applied, ${counts.unchanged} unchanged, ${counts.failed} failed, ${counts.skipped} skipped`,
      extraDocuments: [{ path, content: stableStringify(journal), seal: (text) => sealJournalText(key, path, text) }, ledger.document],
    }).catch(async (error: unknown) => {
      // Committed, and only putting a person's other edits back failed: the apply is recorded.
      if (committedIn(error) !== undefined) await clearApplyRecord(this.twin.dir)
      throw afterSnapshotFailed(error, what, counts, this.target.get(this.twin.dir))
    })
    const commit = after.commit ?? after.head ?? null
    // The snapshot after the apply, likewise (not said twice: the same failure as the checkpoint's is one line).
    const afterUnrecorded = unrecordedProviders(after).filter((d) => !unrecorded.some((u) => u.provider === d.provider && u.summary === d.summary))
    // Ran to its end: nothing to continue. After Ctrl-C the rest stays intended (plan shows it).
    if (!options.signal.aborted) await clearApplyRecord(this.twin.dir)
    const keptPending = after.pending
    return {
      checkpoint: checkpointCommit,
      commit,
      journalPath: path,
      journal: afterUnrecorded.length === 0 ? journal : { ...journal, diagnostics: [...journal.diagnostics, ...afterUnrecorded] },
      keptPending,
      tempFilesRemoved,
      ...(checksFinished.length === 0 ? {} : { checksFinished }),
      continued: continuing,
      exitCode: counts.failed + counts.skipped === 0 && !checksFinished.some((f) => f.restored.length + (f.skipped?.length ?? 0) > 0) && unrecorded.length + afterUnrecorded.length === 0 ? 0 : 1,
    }
  }

  /**
   * ApplyOptions.ofWorkingTwin: the working twin is still the one the plan was made of. A clean
   * one (basis.twinCommit) must still be HEAD with nothing edited; an edited one (basis.twinTree)
   * must make the same tree. Checked here while clean, else returned for commitEdits to check on
   * the tree it builds (no git process more): one that throws leaves nothing committed. A plan
   * that recorded neither is not checked (nothing tells).
   */
  private async refuseMovedTwin(plan: Plan, dirty: boolean): Promise<((tree: string, changed: number) => void) | undefined> {
    const { twinCommit, twinTree } = plan.basis
    const stale = () =>
      new TwinSyncError('PLAN_STALE', 'The twin changed between the plan and the apply (a twin file edited, or the twin moved, meanwhile): nothing was applied, and the twin is as it is now', {
        nextStep: `Run the apply again: it plans from the twin as it is now (\`${this.target.line(['plan'], this.twin.dir)}\` shows what that is).`,
      })
    if (twinTree === undefined) {
      if (twinCommit === null) return undefined
      if ((await this.twin.head()) !== twinCommit) throw stale()
      return (_tree, changed) => {
        if (changed > 0) throw stale()
      }
    }
    if (!dirty) {
      const head = await this.twin.head()
      if (head === undefined || (await treeOf(this.twin.dir, head)) !== twinTree) throw stale()
      return undefined
    }
    return (tree) => {
      if (tree !== twinTree) throw stale()
    }
  }

  /** The tree the plan was made from: the edited twin it recorded, its commit (a revert's: the target), or the working twin just committed. */
  private async desiredTree(plan: Plan, revertTo: string | undefined): Promise<string | undefined> {
    if (plan.basis.twinTree !== undefined) return plan.basis.twinTree
    const commit = plan.basis.twinCommit ?? revertTo ?? (await this.twin.head())
    return commit === undefined ? undefined : treeOf(this.twin.dir, commit).catch(() => undefined)
  }

  /**
   * IntentService.promote; when it cannot be done, the apply goes on as before and its result
   * says so for every asked change (INTENT_NOT_KEPT, in the journal's diagnostics: the CLI and
   * the TUI show them; session 32: a log line only, which the TUI never showed).
   */
  private async promote(desired: string | undefined, asked: readonly Change[], stamp: string): Promise<Promotion> {
    if (desired === undefined || asked.length === 0) return { units: [] }
    try {
      return await this.intents.promote(desired, asked, `asked in the apply of ${stamp}, not done`)
    } catch (error) {
      if (error instanceof TwinSyncError && error.code === 'ABORTED') throw error
      const why = (error as Error).message.split('\n')[0] ?? String(error)
      this.logger.warn(`could not keep the apply's changes pending in the twin before it ran (${why}): a step of it that fails is not kept pending`)
      return { units: [], notKept: asked.flatMap((c) => notKeptDiagnostics([c.id], this.twin.dir, why)) }
    }
  }

  /** PLAN_OUTSIDE_SCOPE: the one rule, shared with the rehearsal (PlanScope). */
  refuseOutsideScope(plan: Plan): Promise<void> {
    return this.scope.refuseOutsideScope(plan)
  }

  /** The plan must be for this target, and every provider it names must be loaded. */
  private async checkPlanFits(plan: Plan): Promise<void> {
    if (plan.basis.root !== this.host.root) {
      throw new TwinSyncError('PLAN_INVALID', `The plan was made for root ${plan.basis.root}, not ${this.host.root}`, {
        nextStep: `Run with --root ${plan.basis.root}, or make a new plan.`,
      })
    }
    const loaded = new Set((await this.registry.select()).map((r) => r.provider).filter(isApplicable).map((p) => p.name))
    const missing = [...new Set(plan.changes.map((c) => c.provider))].filter((p) => p !== COMMANDS && !loaded.has(p))
    if (missing.length > 0) {
      throw new TwinSyncError('PROVIDER_UNKNOWN', `The plan needs providers that are not loaded: ${missing.join(', ')}`, {
        nextStep: 'Install the plugins that provide them (`twinsync plugins install …`), or make a new plan.',
        details: { missing },
      })
    }
  }

  /**
   * Plan again from the same basis. A change the fresh plan still has must come out exactly as
   * saved; one it no longer has is returned (to report as unchanged) only when it is in place:
   * the machine now is as the reviewed twin asked. Not when the fresh plan has another change to
   * the same resource (the file deleted since: create, not replace), leaves it out or cannot read
   * its provider's part of the twin, nor when the working twin no longer asks for it (a pull, an
   * edit, a discard since): those are PLAN_STALE, like a change that came out different (before
   * session 16 each was "already in place", exit 0, and the approved change was never made).
   * A change on a path this apply has just put back (`putBack`: PendingChecks.finish), still as the
   * put-back left it (madeFromPutBack, the applier's rule): the machine moved by TwinSync's own
   * put-back, which the plan said comes first (CONFIG_UNJUDGED); the change stands when the fresh
   * plan's is the same step (the same id, what it does, its risk), what each says of the live file
   * aside (its fingerprint, `before`, summary), and the applier makes it from the file put back.
   * Session 48's putback2: the saved plan was refused after the put-back, and one more plan needed.
   */
  private async refuseIfStale(plan: Plan, putBack: ReadonlyMap<string, string>): Promise<Change[]> {
    const domains = [...new Set(plan.changes.map((c) => c.provider))]
    const fresh = await this.planner.plan({
      ...(plan.basis.twinCommit === null ? {} : { from: plan.basis.twinCommit }),
      only: domains,
    })
    // A different live fingerprint means the machine moved; a different payload means the twin
    // moved or the file was edited. Either way the reviewed change is not what would run. The
    // `diff` is left out of the comparison: it is a rendering of the two sides (the fingerprint's
    // and the payload's), and not always the same one: a pair jsdiff gives up on within its two
    // seconds is shown whole (sdk text-diff.ts), so whether a saved plan was stale hung on the
    // machine's load (session 36's redteam).
    const freshById = new Map(fresh.changes.map((c) => [c.id, c]))
    const compared = (c: Change) => stableStringify({ ...c, diff: undefined })
    const rebased = new Set<string>()
    for (const c of plan.changes) if (freshById.has(c.id) && (await madeFromPutBack(this.host, c, putBack))) rebased.add(c.id)
    const asStep = (c: Change) => stableStringify({ ...c, diff: undefined, liveFingerprint: undefined, before: undefined, summary: undefined })
    const stale = plan.changes
      .filter((c) => {
        const now = freshById.get(c.id)
        if (now === undefined) return false
        if (rebased.has(c.id)) return asStep(now) !== asStep(c)
        return fresh.basis.fingerprints[c.id] !== plan.basis.fingerprints[c.id] || compared(now) !== compared(c)
      })
      .map((c) => c.id)
    const missing = plan.changes.filter((c) => !freshById.has(c.id))
    const notDone = missing.filter((c) => stillWanted(fresh, c))
    appendAll(stale, notDone.map((c) => c.id))
    const rest = missing.filter((c) => !notDone.includes(c))
    // A run-once command is in place when it ran: the machine's record says so, or nothing does
    // (the twin no longer asks for it, or asks for another one).
    const ran = await readCommandsLedger(this.twin)
    const local = LocalRuns.read(this.twin.dir)
    appendAll(stale, rest.filter((c) => isCommand(c) && !hasRun(c, ran, local)).map((c) => c.id))
    appendAll(stale, (await this.noLongerAsked(plan, rest.filter((c) => !isCommand(c)))).map((c) => c.id))
    if (stale.length > 0) {
      throw new TwinSyncError('PLAN_STALE', `The plan no longer matches the machine and the twin (changed since it was made, or the file was edited): ${stale.slice(0, 10).join(', ')}${stale.length > 10 ? ` and ${stale.length - 10} more` : ''}`, {
        nextStep: `Make a new plan (\`${this.target.line(['plan'], this.twin.dir)}\`) and review it again.`,
        details: { stale },
      })
    }
    return missing
  }

  /**
   * Of the changes a plan of the edited working twin has that the fresh plan no longer has: those
   * the twin as reviewed (basis.twinTree) still asks of the machine now. The machine has not made
   * them; the working twin stopped asking for them. Without a recorded tree (a plan of an older
   * TwinSync) nothing tells the two apart, and every one is. A commit basis cannot move.
   */
  private async noLongerAsked(plan: Plan, judged: readonly Change[]): Promise<readonly Change[]> {
    if (plan.basis.twinCommit !== null || judged.length === 0) return []
    const tree = plan.basis.twinTree
    if (tree === undefined) return judged
    const reviewed = await this.planner.plan({ fromTree: tree, only: [...new Set(judged.map((c) => c.provider))] }).catch(() => undefined)
    // The tree is gone (git pruned it): not known, so not taken as done.
    if (reviewed === undefined) return judged
    return judged.filter((c) => reviewed.changes.some((r) => r.id === c.id) || stillWanted(reviewed, c))
  }

  /**
   * The record of run-once commands, with those that just ran added: of the whole plan given,
   * whose steps done before an interruption are not run again but are reported applied here.
   * Session 41: only the changes this run made were looked at, so a command that ran in an apply
   * killed (or out of disk) before its snapshot was never recorded, and the next plan ran it again.
   *
   * Session 47 (run-once-keys.ts): an entry is committed under the command's redacted key; one
   * whose text held a secret also goes into this machine's own record (LocalRuns, written before
   * the snapshot commits the entry: a record committed without it would let an older text's
   * HMAC stand and run the command again). Entries of before session 47 under a full text's key
   * of an action plans/ still holds are put under its redacted key, once (the one migration). A
   * local record that could not be read is kept aside, not replaced unsaid (LocalRuns.write): its
   * warning goes into the journal's diagnostics. An action found without a secret is not put
   * through the detector again for that migration (CleanKeys, session 48: every apply did).
   */
  private async ledgerAfter(plan: Plan, steps: Array<{ id: string; status: string; endedAt: string }>) {
    const ledger: Record<string, unknown> = { ...(await readCommandsLedger(this.twin)) }
    const ok = new Map(steps.filter((s) => s.status === 'applied').map((s) => [s.id, s.endedAt]))
    let key: Buffer | undefined
    let local: LocalRuns | undefined
    const ranText = (data: CommandChangeData) => {
      if (data.fullKey === undefined) return
      local ??= LocalRuns.forUpdate(this.twin.dir)
      local.add(data.key, data.fullKey)
      delete ledger[data.fullKey]
    }
    const clean = CleanKeys.read(this.twin.cacheDir())
    for (const change of plan.changes) {
      const data = change.data as CommandChangeData | undefined
      if (!isCommand(change) || data?.once !== true || !ok.has(change.id)) continue
      // Signed by this twin, so that its own record comes back through a pull (run-record-seal.ts).
      key ??= (await twinKey(this.twin.dir, true)) as Buffer
      ledger[data.key] = { source: data.source, summary: change.summary, appliedAt: ok.get(change.id), sig: signRan(key, data.key) }
      ranText(data)
      // The plan keyed it without a secret (its keys are compared with a fresh plan's before the apply): not asked again below.
      if (data.fullKey === undefined) clean.add(data.key)
    }
    for (const change of await recordedByFullKey(this.twin.reader(), ledger, clean)) {
      const data = change.data as CommandChangeData
      if (data.fullKey === undefined) continue
      const was = ledger[data.fullKey] as { appliedAt?: unknown } | null
      key ??= (await twinKey(this.twin.dir, true)) as Buffer
      if (!recorded(ledger, data.key)) ledger[data.key] = { source: data.source, summary: change.summary, ...(typeof was?.appliedAt === 'string' ? { appliedAt: was.appliedAt } : {}), sig: signRan(key, data.key) }
      ranText(data)
    }
    clean.save((k) => recorded(ledger, k))
    const diagnostics: Diagnostic[] = []
    const aside = local === undefined ? undefined : (await local.write(this.twin.dir)).keptAside
    if (aside !== undefined) {
      // Said once: the next read finds the new record (session 47's review, F5: it was replaced unsaid).
      diagnostics.push(warningDiagnostic(LOCAL_RUNS_KEPT_ASIDE, `This machine's record of the run-once commands that ran here (.git/twinsync/ran-here.json) was ${aside.why} and is kept aside as ${aside.path}; a new one was written. Until a command holding a secret runs again, only ${COMMANDS_LEDGER} says it ran, and a change of its secret alone is not told (the plan says so of each)`, { provider: COMMANDS, path: aside.path }))
    }
    return { document: { path: COMMANDS_LEDGER, content: stableStringify(ledger) }, diagnostics }
  }
}

/**
 * The errors of the providers a snapshot could not record (status failed: a collect that failed,
 * documents refused), what of the machine it kept from the last snapshot instead. Not a collected
 * provider's own errors about what it read (the files provider's unreadable folder): those are
 * the snapshot's to say, as before.
 */
function unrecordedProviders(result: { providers: ReadonlyArray<{ name: string; status: string }>; diagnostics: readonly Diagnostic[] }): Diagnostic[] {
  const failed = new Set(result.providers.filter((p) => p.status === 'failed').map((p) => p.name))
  return failed.size === 0 ? [] : result.diagnostics.filter((d) => d.severity === 'error' && d.provider !== undefined && failed.has(d.provider))
}

/**
 * Why each change that did not happen is still pending, by change id: what this apply did with it
 * (reason-asked.ts's LastApply: failed with its code, maybe half done, skipped, left out), which
 * `status` and `plan` say until the twin asks something else of it.
 */
function notApplied(steps: readonly JournalStep[], leftOut: readonly Change[], stamp: string, planned: readonly Change[], journal: string): Record<string, string> {
  // Each stamped with what the change asked for (reason-asked.ts): said so only while the twin asks the same.
  const byId = new Map([...planned, ...leftOut].map((c) => [c.id, c]))
  const reasons: Record<string, string> = {}
  for (const c of leftOut) reasons[c.id] = stampOutcome({ at: stamp, outcome: 'left out', journal }, c)
  for (const s of steps) {
    if (s.status !== 'failed' && s.status !== 'skipped') continue
    const code = s.diagnostics?.find((d) => d.severity === 'error')?.code
    reasons[s.id] = stampOutcome(
      {
        at: stamp,
        outcome: s.status,
        ...(code === undefined ? {} : { code }),
        ...(s.message === undefined ? {} : { message: s.message }),
        ...(s.halfDone === true ? { halfDone: true as const } : {}),
        journal,
      },
      byId.get(s.id),
    )
  }
  return reasons
}

/**
 * The checkpoint before the steps could not be made for a full disk, after the person's edits
 * were committed (commitEdits): the disk's own words ("nothing was written and the twin is as it
 * was") were not so, HEAD had moved by that commit (session 32, helper redteam). Said as it is;
 * the machine was not changed, and the edits stay what the twin asks.
 */
function checkpointFailed(error: unknown, editCommit: string | undefined, target: CommandTarget & { repo: string }): unknown {
  const dir = target.repo
  if (editCommit === undefined || !(error instanceof TwinSyncError) || error.code !== 'DISK_FULL') return error
  return new TwinSyncError('DISK_FULL', `The disk holding the twin (${dir}) is full: your edits of the twin were committed (${editCommit.slice(0, 12)}, "TwinSync edit before apply"), the checkpoint before the steps could not be; nothing on the machine was changed`, {
    nextStep: `Free some space (\`df -h ${quoteArg(dir)}\`), then run \`${twinsyncLine(['apply'], target)}\` again: your edits are still what the twin asks.`,
    details: { repo: dir, committed: editCommit },
    cause: error,
  })
}

/**
 * The snapshot after the changes could not be committed (a full disk, or a person's edit of the
 * twin meanwhile): the disk's own words say
 * "nothing was written and the twin is as it was", but the machine was changed. Said as it is:
 * what was done, that the record of the interrupted apply is kept, and that `twinsync apply`
 * finishes recording it without doing a change twice (doneBeforeInterruption). Session 17.
 */
function afterSnapshotFailed(error: unknown, what: string, counts: Record<'applied' | 'unchanged' | 'failed' | 'skipped', number>, target: CommandTarget & { repo: string }): unknown {
  const dir = target.repo
  const ran = `The ${what} ran (${counts.applied} applied, ${counts.unchanged} unchanged, ${counts.failed} failed, ${counts.skipped} skipped)`
  const paths = editedPathsOf(error)
  if (paths !== undefined) {
    // A person saved twin files while the result was recorded (session 30): the snapshot stopped
    // before it moved anything, the edit kept; the machine was changed all the same.
    return new TwinSyncError('TWIN_DIRTY', `${ran}, but the twin was edited while its result was recorded (${paths.slice(0, 5).join(', ')}${paths.length > 5 ? ', …' : ''}): nothing of it was committed, the edit is kept, and the record of the interrupted ${what} is kept`, {
      nextStep: `Run \`${twinsyncLine(['apply'], target)}\` to finish recording it (what was done is not done again); your edit stays pending for the plan after that.`,
      details: { repo: dir, paths, ...counts },
      cause: error,
    })
  }
  if (!(error instanceof TwinSyncError) || error.code !== 'DISK_FULL') return error
  const committed = committedIn(error)
  if (committed !== undefined) {
    return new TwinSyncError('DISK_FULL', `${ran} and is recorded in snapshot ${committed.slice(0, 12)}, but the disk holding the twin (${dir}) is full and your other edits could not be put back: they are set aside in refs/twinsync/intended`, {
      nextStep: `Free some space (\`df -h ${quoteArg(dir)}\`), then run \`${twinsyncLine(['snapshot'], target)}\`: it puts them back into the working twin, pending as before.`,
      details: { repo: dir, committed, ...counts },
      cause: error,
    })
  }
  return new TwinSyncError('DISK_FULL', `${ran}, but the disk holding the twin (${dir}) is full and its result could not be committed; the record of the interrupted ${what} is kept`, {
    nextStep: `Free some space (\`df -h ${quoteArg(dir)}\`), then run \`${twinsyncLine(['apply'], target)}\` to finish it: what was done is not done again.`,
    details: { repo: dir, ...counts },
    cause: error,
  })
}

/** The snapshot a failure says was committed before it (SnapshotService's committedThen). */
function committedIn(error: unknown): string | undefined {
  const committed = isTwinSyncError(error) ? (error.details as { committed?: unknown } | undefined)?.committed : undefined
  return typeof committed === 'string' ? committed : undefined
}

/** A run-once command that ran, by the planner's one rule (ranHere; the keys are the reviewed action's, sealed in the plan). */
function hasRun(change: Change, ran: Readonly<Record<string, unknown>>, local: LocalRuns | undefined): boolean {
  const data = change.data as Partial<CommandChangeData> | undefined
  return data?.once === true && typeof data.key === 'string' && ranHere({ key: data.key, ...(typeof data.fullKey === 'string' ? { fullKey: data.fullKey } : {}) }, ran, local)
}

/**
 * A plan that does not have `change` still wants it made, in another form: it plans another
 * change to the same resource (the machine moved), names it in a warning or an error (left out
 * now: a symlink since, outside the scope), or could not read its provider's part of the twin.
 */
function stillWanted(plan: Plan, change: Change): boolean {
  if (plan.changes.some((c) => c.provider === change.provider && c.resource === change.resource)) return true
  return plan.diagnostics.some(
    (d) =>
      d.severity !== 'info' &&
      (d.change === change.id || (d.provider === change.provider && (d.path === change.resource || d.severity === 'error'))),
  )
}
