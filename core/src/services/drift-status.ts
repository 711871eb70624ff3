import { appendAll } from '../append-to.js'
import type { CollectProgress } from '../collect/collector.js'
import type { Change, Diagnostic } from '@twinsync/sdk'
import { CATEGORIES, STATE_CATEGORIES, errorDiagnostic, isKeptUnread, isTwinSyncError } from '@twinsync/sdk/light'
import { inject, injectable } from '../di.js'
import { IntentService, type PendingItem } from '../intent/intent-service.js'
import { TWIN_EMPTY, summarizePlan, type CategorySummary } from '../plan/plan-summary.js'
import { Planner } from '../plan/planner.js'
import { unplannableItems } from '../plan/observed-drift.js'
import { RemoteService, type RemoteStatus } from '../remote/remote-service.js'
import { readApplyRecord, type ApplyInProgress } from '../apply/resume.js'
import { PendingChecks } from '../apply/pending-checks.js'
import { unfinishedApplyNotices } from '../apply/unfinished-apply.js'
import { Tokens } from '../tokens.js'
import { RunTarget } from '../plan/run-target.js'
import { TwinRepository } from '../twin/twin-repository.js'
import { UNPLANNED, driftPhrase, observedPhrase, plannedPhrase } from '../vocabulary.js'
import { COMMANDS } from '../plan/commands-domain.js'
import { commandItems } from '../plan/planned-commands.js'
import { twinBranches, type TwinBranches } from '../intent/intent-git.js'
import { GitTreeReader } from '../twin/git-tree-reader.js'

export interface DriftStatus {
  repo: string
  head: string | null
  /** The last snapshot: the machine as observed. */
  observed: string | null
  /** The machine moved since the last snapshot (`changes` says how). */
  drift: boolean
  /** Drift per domain. */
  domains: CategorySummary[]
  /**
   * Drift per item: `summary` says what the machine did since the last snapshot, in observed words
   * ("tree installed on the machine, not in the twin"); `planned` is what applying now would do.
   */
  changes: Array<{ id: string; category: string; resource: string; summary: string; planned: string }>
  /** The twin asks for something the machine does not have yet (edits, pulls, changes not applied, run-once commands of plans/ not run yet). */
  pending: {
    count: number
    /** The commit recording the intent (refs/twinsync/intended), null when nothing is pending. */
    intended: string | null
    domains: Array<{ category: string; count: number }>
    items: PendingItem[]
    /** The edits are set aside in refs/twinsync/intended, not in the working twin (a snapshot, adopt or pull did not put them back: setAsideSentence): the sentence and its next step (IntentService.pending). */
    setAside: string | null
  }
  remote: RemoteStatus
  /** An apply was interrupted: what it was doing and the ways on (the plan heads for its state). */
  interrupted: string | null
  /** Parts of the twin whose provider is not loaded (a plugin missing or failing): never "in sync". */
  missing: Diagnostic[]
  /**
   * Providers that failed to read the machine or the twin (PROVIDER_FAILED), and documents of the
   * intended twin their provider cannot read (a broken document a person committed or left
   * edited): their part was not compared, so never "in sync" either (`snapshot` says it was NOT
   * collected, `plan` refuses). Also each path of the machine a provider could not read
   * (isKeptUnread: FILES_UNREADABLE_KEPT, EACCES, EIO…): unknown, not gone; the snapshot keeps
   * the twin's record of it as it was.
   */
  unread: Diagnostic[]
  /**
   * The branch checked out (TwinSync reads it and snapshots onto it; `push` sends `main`) and
   * other branches with commits it does not have: what a person committed there is not read.
   */
  branches: TwinBranches
  /**
   * What the plan says of the twin that holds nothing back and is not pending: a run-once command
   * with a secret only the committed record says ran (COMMAND_RAN_UNCHECKED, unchecked-runs.ts).
   */
  notes: Diagnostic[]
}

/**
 * The two differences of the twin: drift (the machine against the last snapshot) and pending
 * intent (the twin against the last snapshot). Read-only. A command of plans/ is never drift; one
 * the twin asks for is pending, by the planner's own rule (judgeCommands): a run-once command an
 * apply would run (it has not run here), and one the planner holds back (it holds `<redacted>`),
 * each with its reason and next step (commandItems).
 */
@injectable()
export class StatusWorkflow {
  constructor(
    @inject(TwinRepository) private readonly twin: TwinRepository,
    @inject(IntentService) private readonly intents: IntentService,
    @inject(Planner) private readonly planner: Planner,
    @inject(RemoteService) private readonly remote: RemoteService,
    @inject(PendingChecks) private readonly pendingChecks: PendingChecks,
    @inject(RunTarget) private readonly target: RunTarget,
  ) {}

  /** `signal`: the panel's check, stopped when the panel closes (the providers' reads are given it, as a plan's are). */
  async status(only: string[] | undefined, onProgress?: CollectProgress, signal?: AbortSignal): Promise<DriftStatus> {
    const twin = this.twin
    const intents = this.intents
    const domains: readonly string[] = only ?? STATE_CATEGORIES
    const pending = await intents.pending()
    // Drift a plan leaves alone (a package pulled in as a dependency, an unpinned upgrade) is
    // drift too: counted and listed, so status says what the next snapshot will record.
    const unplanned: Change[] = []
    // What the twin asks for, against the machine as this same reading finds it: a pending item with
    // no change left there was done outside TwinSync (by hand, by another tool) — said so, not "not applied yet".
    const left = new Map<string, Set<string>>()
    const against = pending.items.length > 0 && pending.tree !== undefined ? { tree: pending.tree, found: (provider: string, changes: readonly Change[]) => left.set(provider, new Set(changes.map((c) => c.resource))) } : undefined
    const plan = await this.planner.plan({
      ...(pending.observed === null ? {} : { from: pending.observed }),
      // Found exactly the working twin a moment ago: the planner reads it without a second check (issue 22).
      ...(pending.exact === true ? { fromIsWorkingTwin: true } : {}),
      only: domains.filter((d) => d !== COMMANDS),
      ...(onProgress === undefined ? {} : { onProgress }),
      ...(signal === undefined ? {} : { signal }),
      onObserved: (changes) => appendAll(unplanned, changes),
      ...(against === undefined ? {} : { alsoAgainst: against }),
    })
    // A file whose content moved where the twin holds none of it (a secret on either side, a binary
    // or too large file) has no change to plan, only the files provider's note: it is drift all the
    // same, said as history says it (session 32 found a binary changed under /etc "In sync").
    appendAll(unplanned, unplannableItems(plan.diagnostics, 'actual'))
    const driftChanges = [
      ...plan.changes.map((c) => ({ id: c.id, category: c.category, resource: c.resource, summary: driftPhrase(c), planned: plannedPhrase(c) })),
      ...unplanned.map((c) => ({ id: c.id, category: c.category, resource: c.resource, summary: `${observedPhrase(c)} on the machine`, planned: UNPLANNED })),
    ]
    const record = await readApplyRecord(this.twin.dir, this.target.get(this.twin.dir))
    const items = pending.items.filter((i) => only === undefined || only.includes(i.category) || only.includes(i.provider)).map((i) => (onMachine(i, left) ? { ...i, onMachine: true as const, reason: onMachineReason(i, record, this.target.line(['apply'], this.twin.dir)) } : i))
    // A command of plans/ an apply would run once, or that the planner holds back (it holds `<redacted>`):
    // what the twin asks is pending with its reason and next step, never "In sync" over it (sessions
    // 44 and 45: seen only in `plan`).
    const commands = only === undefined || only.includes(COMMANDS) ? await this.commands() : { items: [], unread: [], notes: [] }
    appendAll(items, commands.items)
    // What the intended twin asks for that nothing could compare — a document no loaded provider
    // reads, one its provider cannot read (a broken JSON a person committed): `plan` refuses on
    // it, so status is never "in sync" over it either, before or after the next snapshot.
    const categoryOf = new Map((await intents.view()).providers.map((p) => [p.name, p.category as string]))
    const asked = pending.diagnostics.filter(
      (d) => d.severity === 'error' && (only === undefined || d.provider === undefined || only.includes(d.provider) || only.includes(categoryOf.get(d.provider) ?? '')),
    )
    const byCategory = new Map<string, number>()
    for (const i of items) byCategory.set(i.category, (byCategory.get(i.category) ?? 0) + 1)
    return {
      repo: twin.dir,
      head: (await twin.head()) ?? null,
      observed: pending.observed,
      drift: driftChanges.length > 0,
      domains: summarizePlan({ changes: [...plan.changes, ...unplanned] }),
      changes: driftChanges,
      pending: { count: items.length, intended: pending.intended, domains: CATEGORIES.filter((c) => byCategory.has(c)).map((category) => ({ category, count: byCategory.get(category) as number })), items, setAside: pending.setAside ?? null },
      remote: await this.remote.status(),
      interrupted: await this.interrupted(record),
      missing: distinct([...plan.diagnostics.filter((d) => d.code === 'PROVIDER_MISSING'), ...asked.filter((d) => d.code === 'PROVIDER_MISSING')]),
      branches: await twinBranches(twin.dir),
      // …and a twin that holds nothing of the machine (no snapshot yet): nothing was compared (TWIN_EMPTY).
      unread: distinct([...plan.diagnostics.filter((d) => (d.code === 'PROVIDER_FAILED' && d.severity === 'error') || d.code === TWIN_EMPTY || isKeptUnread(d)), ...asked.filter((d) => d.code !== 'PROVIDER_MISSING'), ...commands.unread]),
      notes: commands.notes,
    }
  }

  /**
   * The working twin's commands pending (planned-commands.ts). A plans/ file (or the record of
   * what ran, a script) the planner refuses (PLAN_INVALID, SCRIPT_INVALID, TWIN_INVALID, a symlink,
   * a command naming the twin) is a part not compared, with the plan's own code, words and next
   * step: status does not fail on it, and is never "In sync" over what `plan` refuses (session 45,
   * the lead: a twin whose only ask was a broken plans/ file said "In sync", exit 0).
   */
  private async commands(): Promise<{ items: PendingItem[]; unread: Diagnostic[]; notes: Diagnostic[] }> {
    try {
      // The last snapshot, read only when a run-once command is pending (as the planner's COMMAND_RAN_BEFORE reads it).
      let observed: GitTreeReader | undefined
      try {
        return { ...(await commandItems(this.twin.reader(), (reader) => this.planner.commands(reader), (args) => this.target.line(args, this.twin.dir), async () => {
          const commit = await this.intents.observed()
          observed = commit === undefined ? undefined : new GitTreeReader(this.twin.dir, commit)
          return observed
        })), unread: [] }
      } finally {
        observed?.close()
      }
    } catch (error) {
      if (isTwinSyncError(error) && PLANS_REFUSED.has(error.code)) {
        return { items: [], notes: [], unread: [errorDiagnostic(error.code, `${COMMANDS} of plans/: ${error.message}`, { provider: COMMANDS, ...(error.nextStep === undefined ? {} : { detail: `Next: ${error.nextStep}` }) })] }
      }
      // Anything else is what it is, not a fault of plans/: git's failure (GIT_FAILED, REPO_DAMAGED),
      // a lock another run holds (LOCK_HELD, TWIN_REF_LOCKED), a full disk, the panel's cancel
      // (ABORTED): status fails with it, its own code and next step (session 45's review, L4:
      // each was "Not compared: commands of plans/: …").
      throw error
    }
  }

  /** The interrupted apply and the configuration it left unjudged (see PendingChecks), as sentences. */
  private async interrupted(record: ApplyInProgress | undefined): Promise<string | null> {
    const said = unfinishedApplyNotices(record, await this.pendingChecks.read(), this.target.get(this.twin.dir))
    return said.length === 0 ? null : said.map((d) => d.summary).join(' ')
  }
}

/**
 * The codes of a plans/ file (or of the record of what ran, or a script it names) the planner
 * refuses as the twin's content: PLAN_INVALID, SCRIPT_INVALID, TWIN_INVALID, a symlink or other
 * non-regular file, one too large, a path the twin cannot hold. Only these make the commands of
 * plans/ a part not compared (StatusWorkflow.commands).
 */
const PLANS_REFUSED: ReadonlySet<string> = new Set(['PLAN_INVALID', 'SCRIPT_INVALID', 'TWIN_INVALID', 'TWIN_SYMLINK', 'TWIN_NOT_REGULAR', 'TWIN_FILE_TOO_LARGE', 'PATH_INVALID'])

/** Why an item the machine already has is still pending. */
export const ON_MACHINE = 'the machine already has it (done outside TwinSync): the next snapshot records it'
/** …when an interrupted apply had finished its step (its record says so); `apply`: this run's `twinsync apply` line. */
export const doneByInterrupted = (apply: string) => `the machine already has it (done by the interrupted apply): \`${apply}\` finishes that apply and records it`
/** …when an interrupted apply had it in its plan, without the step's end recorded (killed between the write and the record, which is written behind the steps). */
export const madeByInterrupted = (apply: string) => `the machine already has it, as the interrupted apply planned (its record does not say that step finished): \`${apply}\` finishes that apply and records it`

/**
 * Who put it there, as far as the interrupted apply's record tells (session 33's red team: after a
 * kill -9, the steps that apply had done were said "done outside TwinSync"). A step it started or
 * planned and did not end otherwise is its own (the record's progress is written behind the steps,
 * so a step can be on the machine before the record says it started); what it never planned, or
 * found already there ('unchanged'), was done outside TwinSync.
 */
function onMachineReason(item: PendingItem, record: ApplyInProgress | undefined, apply: string): string {
  if (record === undefined) return ON_MACHINE
  const step = record.changes.find((c) => c.provider === item.provider && (c.id === item.id || c.id.endsWith(`:${item.resource}`)))
  if (step === undefined) return ON_MACHINE
  const ended = record.done[step.id]
  return ended === 'applied' ? doneByInterrupted(apply) : ended === undefined ? madeByInterrupted(apply) : ON_MACHINE
}

/** The machine has what the item asks: its provider was compared and has no change left for its resource (never for an item it will not apply). */
function onMachine(item: PendingItem, left: ReadonlyMap<string, ReadonlySet<string>>): boolean {
  const changes = left.get(item.provider)
  return item.code === undefined && changes !== undefined && !changes.has(item.resource)
}

/** The same diagnostic said once (the observed and the intended twin can both lack a provider). */
function distinct(list: readonly Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>()
  return list.filter((d) => {
    const key = `${d.code}\0${d.provider ?? ''}\0${d.summary}`
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
}

/**
 * The one verdict of a status, for both front ends: in sync only when the machine is as the last
 * snapshot saw it, the twin asks for nothing more, and every part of the twin was compared (a
 * part no provider reads — a plugin missing — or whose provider failed is never "in sync").
 */
export function inSync(s: Pick<DriftStatus, 'drift' | 'pending' | 'missing' | 'unread'>): boolean {
  return !s.drift && s.pending.count === 0 && notCompared(s) === 0
}

/** How many parts of the twin the status could not compare: no provider reads them, or their provider failed. */
export function notCompared(s: Pick<DriftStatus, 'missing' | 'unread'>): number {
  return s.missing.length + s.unread.length
}

/** `twinsync status`'s exit code: 1 when a part was not compared; with --exit-code, whenever it is not in sync. */
export function statusExitCode(s: Pick<DriftStatus, 'drift' | 'pending' | 'missing' | 'unread'>, exitCodeFlag: boolean): 0 | 1 {
  return notCompared(s) > 0 || (exitCodeFlag && !inSync(s)) ? 1 : 0
}

/** "1 part of the twin not compared": what is said instead of "in sync". */
export function notComparedPhrase(count: number): string {
  return `${count} part${count === 1 ? '' : 's'} of the twin not compared`
}
