import type { Change, Diagnostic, TwinReader } from '@twinsync/sdk'
import type { PendingItem } from '../intent/intent-service.js'
import { lastApplyReason, type LastApply } from '../intent/reason-asked.js'
import type { JournalStep } from '../apply/journal.js'
import { jsonTooDeep } from './json-depth.js'
import type { LineFor } from './command-text.js'
import { COMMAND_RAN_BEFORE, COMMANDS_LEDGER, RAN_BEFORE_NEXT_STEP, ranBefore, ranBeforeWords, readInstructions, type CommandChangeData } from './plan-instructions.js'
import { heldBackItem, runsRedaction } from './redacted-commands.js'
import { COMMANDS } from './commands-domain.js'
import type { LocalRuns } from './run-once-keys.js'
import { uncheckedRunNotes } from './unchecked-runs.js'

export interface JudgedCommands {
  planned: Change[]
  heldBack: Change[]
  /** Run-once commands holding a secret that only the committed record says ran: not planned, said (unchecked-runs.ts). */
  unchecked: Change[]
}

/**
 * The commands of plans/ as a plan judges them: those it runs (`planned`: every-time ones, and
 * run-once ones the record of what ran, COMMANDS_LEDGER of `ran` with this machine's own record
 * `local` beside it (run-once-keys.ts's ranHere), does not have) and those it holds
 * back (`heldBack`: a command line or script holding `<redacted>`, redacted-commands.ts). The one
 * rule: the planner plans by it, and `status` lists what the twin asks of it (commandItems), so
 * the two never disagree on which commands an apply would run (session 45).
 */
export async function judgeCommands(twin: TwinReader, ran: Pick<TwinReader, 'readText'>, twinOnTarget: readonly string[], local?: LocalRuns): Promise<JudgedCommands> {
  const unchecked: Change[] = []
  const read = await readInstructions(twin, ran, twinOnTarget, local, unchecked)
  return { planned: read.filter((c) => !runsRedaction(c)), heldBack: read.filter(runsRedaction), unchecked }
}

/**
 * The commands of the working twin's plans/ that are pending, as `status`'s items: each run-once
 * command a plan would run (it has not run here: the record of what ran has no entry for it), and
 * each command held back. An every-time command (`once: false`) runs in every apply and is never
 * "not done yet", so it is not pending. Session 45: a new run-once command was seen only in
 * `plan`; status said "In sync" (exit 0 with --exit-code, the panel's count 0) though apply would run it.
 * `judge`: the planner's own judgement (Planner.commands). Throws as readInstructions does (a
 * plans/ file that cannot be read: PLAN_INVALID…). `notes`: the plan's COMMAND_RAN_UNCHECKED
 * notes (unchecked-runs.ts), which status shows as the plan does.
 */
export async function commandItems(reader: TwinReader, judge: (reader: TwinReader) => Promise<JudgedCommands>, line: LineFor, observed: () => Promise<Pick<TwinReader, 'readText'> | undefined>): Promise<{ items: PendingItem[]; notes: Diagnostic[] }> {
  // No instruction file (most twins): one listing, not the record of what ran read as well.
  if (!(await reader.list('plans/')).some((file) => /\.ya?ml$/.test(file))) return { items: [], notes: [] }
  const { planned, heldBack, unchecked } = await judge(reader)
  // A command that ran by the committed record's word alone, its secret unchecked here: the plan's note, not pending.
  const notes = await uncheckedRunNotes(unchecked)
  const once = planned.filter((c) => (c.data as CommandChangeData).once)
  if (once.length === 0) return { items: heldBack.map(heldBackItem), notes }
  // What the last apply did with them (failed, skipped), and which ran here by the last snapshot's
  // record (the plan's COMMAND_RAN_BEFORE): read only when one is pending.
  const steps = await lastApplySteps(reader)
  const again = new Map((await ranBefore(once, reader, observed)).map((r) => [r.change.id, r.at]))
  return { items: [...once.map((c) => (again.has(c.id) ? ranBeforeItem(c, again.get(c.id)) : runOnceItem(c, steps.get(c.id), line))), ...heldBack.map(heldBackItem)], notes }
}

/** A run-once command the last snapshot's record says ran here, and the twin's record no longer has: applying runs it again. */
function ranBeforeItem(c: Change, at: string | undefined): PendingItem {
  return { ...itemOf(c), reason: ranBeforeWords(at), code: COMMAND_RAN_BEFORE, nextStep: RAN_BEFORE_NEXT_STEP }
}

function itemOf(c: Change): Pick<PendingItem, 'id' | 'provider' | 'category' | 'operation' | 'resource' | 'summary'> {
  return { id: c.id, provider: COMMANDS, category: c.category, operation: c.operation, resource: c.resource, summary: c.summary }
}

/** A run-once command not run yet, as a pending item: why, and how to run it or drop it. */
function runOnceItem(c: Change, last: LastStep | undefined, line: LineFor): PendingItem {
  const data = c.data as CommandChangeData
  // The step of the last apply only while it ran what the twin asks now (its summary: the argument list, a script's hash).
  const outcome = last !== undefined && last.step.summary === c.summary ? lastApplyOf(last.step, last.journal) : undefined
  return {
    ...itemOf(c),
    reason: outcome === undefined ? `a run-once command of ${data.source}, not run here yet: ${COMMANDS_LEDGER} has no record of it` : lastApplyReason(outcome),
    nextStep: `\`${line(['apply'])}\` runs it once (${COMMANDS_LEDGER} then records it); to drop it, take the action out of ${data.source} (or remove the file) in the twin`,
    ...(outcome === undefined ? {} : { lastApply: outcome }),
  }
}

/** A journal step that did not run to its end, or a command left out of that apply, as status's LastApply (reason-asked.ts's words). */
function lastApplyOf(step: LastStep['step'], journal: string): LastApply | undefined {
  const at = /^system\/journal\/apply-(\d{4}-\d{2}-\d{2})T(\d{2})(\d{2})(\d{2})Z\.json$/.exec(journal)
  if (at === null) return undefined
  if (step.status === 'left out') return { at: `${at[1]}T${at[2]}:${at[3]}:${at[4]}Z`, outcome: 'left out', journal }
  if (step.status !== 'failed' && step.status !== 'skipped') return undefined
  const code = Array.isArray(step.diagnostics) ? step.diagnostics.find((d) => d?.severity === 'error' && typeof d.code === 'string')?.code : undefined
  return {
    at: `${at[1]}T${at[2]}:${at[3]}:${at[4]}Z`,
    outcome: step.status,
    ...(code === undefined ? {} : { code }),
    ...(typeof step.message === 'string' && step.message !== '' ? { message: step.message } : {}),
    ...(step.halfDone === true ? { halfDone: true as const } : {}),
    journal,
  }
}

/** A command's step of an apply's journal, or its entry among the commands that apply left out (ApplyJournal.leftOut). */
interface LastStep {
  step: JournalStep | { id: string; provider: string; summary: string; status: 'left out' }
  journal: string
}

/**
 * The commands' steps of the last apply's journal (the newest `system/journal/apply-*.json`), by
 * change id, and the commands it left out (a person's choice in the control panel). A journal
 * that cannot be read or is not an apply's shape gives none: this only adds words to an item that
 * is pending either way.
 */
async function lastApplySteps(reader: TwinReader): Promise<Map<string, LastStep>> {
  const out = new Map<string, LastStep>()
  try {
    const journal = (await reader.list('system/journal/')).filter((p) => /^system\/journal\/apply-\d{4}-\d{2}-\d{2}T\d{6}Z\.json$/.test(p)).sort().at(-1)
    if (journal === undefined) return out
    const text = await reader.readText(journal)
    if (text === undefined || jsonTooDeep(text)) return out
    const parsed = JSON.parse(text) as { steps?: unknown; leftOut?: unknown } | null
    const steps = parsed?.steps
    if (!Array.isArray(steps)) return out
    for (const step of steps as unknown[]) {
      const s = step as Partial<JournalStep> | null
      if (s !== null && typeof s === 'object' && s.provider === COMMANDS && typeof s.id === 'string' && typeof s.summary === 'string') out.set(s.id, { step: s as JournalStep, journal })
    }
    for (const entry of Array.isArray(parsed?.leftOut) ? (parsed.leftOut as unknown[]) : []) {
      const l = entry as { id?: unknown; provider?: unknown; summary?: unknown } | null
      if (l !== null && typeof l === 'object' && l.provider === COMMANDS && typeof l.id === 'string' && typeof l.summary === 'string') out.set(l.id, { step: { id: l.id, provider: COMMANDS, summary: l.summary, status: 'left out' }, journal })
    }
  } catch {
    return out
  }
  return out
}
