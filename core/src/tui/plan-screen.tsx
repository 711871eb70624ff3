import { useEffect, useMemo, useRef, useState } from 'react'
import { Box, Text, useInput } from 'ink'
import type { Category, Change, ChangeResult, Diagnostic, Plan } from '@twinsync/sdk'
import { isKeptUnread, isTwinSyncError } from '@twinsync/sdk/light'
import { planRefusal } from '../apply/plan-refusal.js'
import { finishesInterruptedApply } from '../apply/resume.js'
import type { RehearsalReport } from '../rehearse/rehearsal-report.js'
import { rehearsalSummary } from '../rehearse/rehearsal-report.js'
import { rehearsalRefusal } from '../rehearse/rehearsal-service.js'
import { renderRehearsal } from '../cli/render-rehearsal.js'
import { excludeChanges } from '../plan/exclude-changes.js'
import { renderPush } from '../cli/render.js'
import { stepNoteLines } from '../cli/render-diagnostics.js'
import { isLeftOut, noChangesLine, noteLines, secretsNotPutBack, summarizePlan, unheldNotPutBack } from '../plan/plan-summary.js'
import { uncheckedRunLines } from '../plan/unchecked-runs.js'
import { isHiddenChangeId } from '../plan/hidden-names.js'
import { needsRootLine, rootNotes, rootReason } from '../plan/root-needs.js'
import { plannedPhrase } from '../vocabulary.js'
import { trackBusy } from './busy.js'
import { ChangeDetail, INCLUSION_MARK, type Inclusion } from './change-detail.js'
import { Confirm } from './confirm.js'
import { HIGH_RISK_ANSWER, highRiskChanges, highRiskLines } from '../apply/high-risk.js'
import { ErrorBox } from './error-box.js'
import { useBodyHeight, useCursor, useTask, windowStart } from './hooks.js'
import { BACK, MOVE, type Hint } from './key-hints.js'
import { isBack, useNavigation } from './navigation.js'
import { useRemote, useServices, type ApplyOutcome } from './services.js'
import { Row, Screen } from './screen.js'
import { useStatus } from './status-line.js'
import { isCommand } from '../plan/commands-domain.js'
import { shownDiagnostic, terminalLines, terminalText } from '../terminal-text.js'

type View = { kind: 'summary' } | { kind: 'category'; category: Category } | { kind: 'change'; id: string; from: Category } | { kind: 'confirm' } | { kind: 'rehearse' } | { kind: 'apply' }

/** "Rehearse first": where it stands, then its report (or why it could not run). */
type Rehearsal = { stage: 'boot' | 'apply' | 'teardown' | 'done'; report?: RehearsalReport; error?: unknown }

const REHEARSAL_STAGE: Record<Rehearsal['stage'], string> = {
  boot: 'Booting a throwaway copy of this machine…',
  apply: 'Applying the plan inside it, then restarting and checking what it touches…',
  teardown: 'Throwing the copy away…',
  done: '',
}

/** Per item or per domain: drop what the twin asks for, or take what the machine has. */
const DECIDE: readonly Hint[] = [
  ['d', 'discard'],
  ['k', 'keep machine'],
]

type Step = { state: 'waiting' | 'running' } | { state: 'done'; result: ChangeResult }

const RESULT_MARK: Record<ChangeResult['status'], string> = { applied: '✓ applied  ', unchanged: '= unchanged', failed: '✗ FAILED   ', skipped: '- skipped  ' }
const RESULT_COLOR: Record<ChangeResult['status'], string> = { applied: 'green', unchanged: 'gray', failed: 'red', skipped: 'yellow' }

export interface PlanScreenProps {
  from?: string
  only?: string[]
  /** A revert: the apply is recorded as "revert to …". */
  revertTo?: string
  title?: string
}

/**
 * Pull & apply (and a revert's plan): the plan by category, a category's changes, one change
 * with its diff; Space leaves a change out (and whatever needs it); "Apply these changes?
 * Yes / No"; then each step's result as it happens.
 */
export function PlanScreen({ from, only, revertTo, title = 'Pull & apply changes' }: PlanScreenProps) {
  const services = useServices()
  const nav = useNavigation()
  const status = useStatus()
  const remote = useRemote()
  const height = useBodyHeight()
  const [progress, setProgress] = useState<Record<string, string>>({})
  const [pullNote, setPullNote] = useState<string | undefined>(undefined)
  // Adopt (keep the machine's value) and discard (drop the twin's intent), then plan again.
  const [decision, setDecision] = useState<{ note?: string; warnings?: Diagnostic[]; error?: unknown; generation: number }>({ generation: 0 })
  const decide = (kind: 'adopt' | 'discard', items: string[]) => {
    if (revertTo !== undefined || items.length === 0) return
    const done = services
      .decide(kind, items)
      .then(
        (d) => {
          setDecision((s) => ({ generation: s.generation + 1, note: `${kind === 'adopt' ? 'Adopted the machine\'s value of' : 'Discarded the intent of'} ${d.items.map((i) => terminalText(i.summary)).join('; ')} (commit ${d.commit.slice(0, 12)})`, warnings: d.diagnostics }))
          setView({ kind: 'summary' })
          setLeftOut(new Set())
        },
        (error: unknown) => setDecision((s) => ({ ...s, error, note: undefined, warnings: undefined })),
      )
      .finally(() => status?.refresh())
    trackBusy(done, () => undefined, { what: `the ${kind}` })
  }
  // REMOTE_DIVERGED: `t` takes the mirror's history through the same service as `twinsync pull --take-mirror`.
  const [takeMirror, setTakeMirror] = useState(false)
  const planned = useTask(async (signal): Promise<Plan> => {
    // Pull from the mirror first (a no-op without one); a diverged history stops here with its
    // explanation. A revert plans from history, so it does not pull; nor does planning again after a decision.
    const first = decision.generation === 0
    if (first && revertTo === undefined && remote?.pull !== undefined) {
      const pulled = await remote.pull(signal, takeMirror ? { takeMirror: true } : undefined)
      setPullNote(terminalText(pulled.ok ? `Mirror: ${pulled.message}` : `NOT pulled: ${pulled.message}`))
    } else if (first && revertTo === undefined) {
      setPullNote('GitHub not linked: planning against the local twin.')
    }
    return services.plan({
      signal,
      ...(from === undefined ? {} : { from }),
      ...(only === undefined ? {} : { only }),
      onProgress: (e) => setProgress((p) => ({ ...p, [e.provider]: e.phase === 'start' ? 'reading…' : e.phase })),
    })
  }, `${decision.generation}:${takeMirror}`, 'the plan')
  const plan = planned.state?.status === 'done' ? planned.state.value : undefined
  const diverged = !takeMirror && remote?.pull !== undefined && planned.state?.status === 'failed' && isTwinSyncError(planned.state.error) && planned.state.error.code === 'REMOTE_DIVERGED'
  // The status line never contradicts the plan: after a pull (the twin moved), or when it says
  // "in sync" while the plan has changes, it is checked again.
  const pulled = pullNote !== undefined && pullNote.startsWith('Mirror:')
  const contradicts = plan !== undefined && plan.changes.length > 0 && status?.drift === 'in sync' && (status.pending ?? 0) === 0
  const planFailed = planned.state?.status === 'failed'
  useEffect(() => {
    if ((plan !== undefined || planFailed) && (pulled || contradicts)) status?.refresh()
    // Once per plan made (or failed after a pull).
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [plan, planFailed])
  const [view, setView] = useState<View>({ kind: 'summary' })
  const [leftOut, setLeftOut] = useState<ReadonlySet<string>>(new Set())
  const chosen = useMemo(() => (plan === undefined ? undefined : excludeChanges(plan, leftOut)), [plan, leftOut])
  const also = useMemo(() => new Set(chosen?.alsoExcluded ?? []), [chosen])
  const inclusion = (id: string): Inclusion => (leftOut.has(id) ? 'left out' : also.has(id) ? 'depends' : 'apply')
  const toggle = (id: string) =>
    setLeftOut((s) => {
      const next = new Set(s)
      if (next.has(id)) next.delete(id)
      else next.add(id)
      return next
    })

  const categories = useMemo(() => (plan === undefined ? [] : summarizePlan(plan)), [plan])
  // What the twin asks for that the plan leaves out (outside its provider's scope): rows of their
  // own after the categories and the question's row (the only rows when nothing else is planned).
  const asks = useMemo(() => (plan === undefined ? [] : plan.diagnostics.filter(isLeftOut)), [plan])
  const firstAsk = plan !== undefined && plan.changes.length > 0 ? categories.length + 1 : 0
  const [catIndex, setCatIndex, latestCatIndex] = useCursor(firstAsk + asks.length)
  const askAt = (i: number) => (i >= firstAsk ? asks[i - firstAsk] : undefined)
  /** d on a left-out ask: that item alone, through the service `twinsync discard ID` uses (never its whole domain). */
  const discardAsk = (i: number): boolean => {
    const ask = askAt(i)
    // A change whose name holds a secret stands under an id that names no item (its note says `discard files`).
    if (ask?.change === undefined || isHiddenChangeId(ask.change)) return false
    decide('discard', [ask.change])
    return true
  }
  const inCategory = view.kind === 'category' || view.kind === 'change' ? (plan?.changes ?? []).filter((c) => c.category === (view.kind === 'category' ? view.category : view.from)) : []
  const [changeIndex, setChangeIndex, latestChangeIndex] = useCursor(inCategory.length)

  // Apply: live results per step.
  const [steps, setSteps] = useState<ReadonlyMap<string, Step>>(new Map())
  const [outcome, setOutcome] = useState<{ report?: ApplyOutcome; error?: unknown } | undefined>(undefined)
  const applying = useRef<AbortController | undefined>(undefined)
  const [stopping, setStopping] = useState(false)
  const startApply = () => {
    if (plan === undefined || chosen === undefined) return
    const controller = new AbortController()
    applying.current = controller
    setSteps(new Map(chosen.plan.changes.map((c) => [c.id, { state: 'waiting' }])))
    setView({ kind: 'apply' })
    const left = plan.changes.filter((c) => leftOut.has(c.id) || also.has(c.id))
    const done = services
      .apply({
        plan: chosen.plan,
        leftOut: left,
        // Asked for by name before (the typed "yes"): only the ones of the plan applied.
        acceptHighRisk: highRiskChanges(chosen.plan.changes).map((h) => h.change.id),
        ...(revertTo === undefined ? {} : { revertTo }),
        signal: controller.signal,
        onStart: (c: Change) => setSteps((m) => new Map(m).set(c.id, { state: 'running' })),
        onResult: (c: Change, result: ChangeResult) => setSteps((m) => new Map(m).set(c.id, { state: 'done', result })),
      })
      .then(
        (report) => setOutcome({ report }),
        (error: unknown) => setOutcome({ error }),
      )
      .finally(() => status?.refresh())
    trackBusy(done, () => controller.abort(), { what: 'the apply' })
  }

  // Rehearse first: the same service as `twinsync rehearse`, on the plan the question would apply.
  const [rehearsal, setRehearsal] = useState<Rehearsal | undefined>(undefined)
  const rehearsing = useRef<AbortController | undefined>(undefined)
  const canRehearse = services.rehearse !== undefined
  const startRehearse = () => {
    if (services.rehearse === undefined || chosen === undefined || chosen.plan.changes.length === 0) return
    const controller = new AbortController()
    rehearsing.current = controller
    setRehearsal({ stage: 'boot' })
    setView({ kind: 'rehearse' })
    const done = services
      .rehearse({ plan: chosen.plan, signal: controller.signal, onStage: (stage) => setRehearsal((r) => (r?.stage === 'done' ? r : { stage })) })
      .then(
        (report) => setRehearsal({ stage: 'done', report }),
        (error: unknown) => setRehearsal({ stage: 'done', error }),
      )
    trackBusy(done, () => controller.abort(), { what: 'the rehearsal' })
  }

  useInput((input, key) => {
    if (planned.state?.status === 'running') {
      if (key.escape || input === 'q') {
        planned.cancel()
        nav.back()
      }
      return
    }
    if (plan === undefined || (plan.changes.length === 0 && view.kind !== 'apply')) {
      if (input === 't' && diverged) setTakeMirror(true)
      else if (key.return && plan !== undefined && finishesInterruptedApply(plan)) startApply()
      else if (key.upArrow) setCatIndex((i) => i - 1)
      else if (key.downArrow) setCatIndex((i) => i + 1)
      else if (input === 'd') discardAsk(latestCatIndex())
      else if (key.return || isBack(input, key)) nav.back()
      return
    }
    switch (view.kind) {
      case 'summary':
        if (isBack(input, key)) nav.back()
        else if (key.upArrow) setCatIndex((i) => i - 1)
        else if (key.downArrow) setCatIndex((i) => i + 1)
        else if (input === 'a') setView({ kind: 'confirm' })
        else if (input === 'd' || input === 'k') {
          const i = latestCatIndex()
          // A left-out ask is intent only: there is no machine value to keep (k), only the ask to drop (d).
          if (askAt(i) !== undefined) {
            if (input === 'd') discardAsk(i)
          } else if (categories[i] !== undefined) decide(input === 'd' ? 'discard' : 'adopt', [categories[i]?.category as string])
        } else if (key.return) {
          const i = latestCatIndex()
          const category = categories[i]?.category
          if (askAt(i) !== undefined) return
          if (category === undefined) setView({ kind: 'confirm' })
          else {
            setChangeIndex(0)
            setView({ kind: 'category', category })
          }
        }
        return
      case 'category': {
        const current = inCategory[latestChangeIndex()]
        if (isBack(input, key)) setView({ kind: 'summary' })
        else if (key.upArrow) setChangeIndex((i) => i - 1)
        else if (key.downArrow) setChangeIndex((i) => i + 1)
        else if (key.pageUp) setChangeIndex((i) => i - (height - 3))
        else if (key.pageDown) setChangeIndex((i) => i + (height - 3))
        else if (input === ' ' && current !== undefined) toggle(current.id)
        else if ((input === 'd' || input === 'k') && current !== undefined) decide(input === 'd' ? 'discard' : 'adopt', [current.id])
        else if (input === 'a') setView({ kind: 'confirm' })
        else if (key.return && current !== undefined) setView({ kind: 'change', id: current.id, from: view.category })
        return
      }
      case 'confirm':
        if (key.escape || input === 'q') setView({ kind: 'summary' })
        else if (input === 'r' && canRehearse && planRefusal(plan, services.line) === undefined) startRehearse()
        return
      case 'rehearse':
        if (rehearsal?.stage !== 'done') {
          if (key.escape) rehearsing.current?.abort()
        } else if (key.escape || input === 'q') {
          setRehearsal(undefined)
          setView({ kind: 'summary' })
        }
        return
      case 'apply':
        if (outcome === undefined) {
          if (key.escape) {
            applying.current?.abort()
            setStopping(true)
          }
        } else if (key.return || isBack(input, key)) nav.home()
        return
      case 'change':
        return // ChangeDetail has its own keys
    }
  })

  const hints: readonly Hint[] =
    planned.state?.status === 'running'
      ? [['Esc', 'cancel']]
      : diverged
        ? [['t', "take the mirror's history"], ['Enter/Esc', 'back']]
      : plan !== undefined && plan.changes.length === 0 && view.kind !== 'apply' && finishesInterruptedApply(plan)
        ? [['Enter', interruptedApply(plan) ? 'finish the interrupted apply' : 'settle it'], ['Esc', 'back']]
        : plan !== undefined && plan.changes.length === 0 && view.kind !== 'apply' && asks.length > 0
        ? [MOVE, ['d', 'discard'], ['Enter/Esc', 'back']]
        : plan === undefined || (plan.changes.length === 0 && view.kind !== 'apply')
        ? [['Enter/Esc', 'back']]
        : view.kind === 'summary'
          ? [MOVE, ['Enter', 'open'], ['a', 'apply…'], ...DECIDE, BACK]
          : view.kind === 'category'
            ? [MOVE, ['Enter', 'details'], ['Space', 'leave out / keep'], ['a', 'apply…'], ...DECIDE, BACK]
            : view.kind === 'change'
              ? [['↑↓ PgUp PgDn', 'scroll'], ['Space', 'leave out / keep'], BACK]
              : view.kind === 'confirm'
                ? [...(chosen !== undefined && highRiskChanges(chosen.plan.changes).length > 0 ? [[`type ${HIGH_RISK_ANSWER}, Enter`, 'apply'] as Hint] : [['←→', 'choose'] as Hint, ['Enter', 'answer'] as Hint, ['y/n', ''] as Hint]), ...(canRehearse ? [['r', 'rehearse first'] as Hint] : []), ['Esc', 'back']]
                : view.kind === 'rehearse'
                  ? rehearsal?.stage !== 'done'
                    ? [['Esc', 'cancel the rehearsal']]
                    : rehearsal.report?.passed === true
                      ? [['←→', 'choose'], ['Enter', 'answer'], ['y/n', ''], ['Esc', 'back']]
                      : [['Esc', 'back']]
                : outcome === undefined
                  ? [['Esc', 'stop after the steps under way']]
                  : [['Enter/Esc', 'back to the menu']]

  const counts = chosen === undefined ? undefined : { apply: chosen.plan.changes.length, left: leftOut.size + also.size }
  const refusal = useMemo(() => (plan === undefined ? undefined : planRefusal(plan, services.line)), [plan, services])
  return (
    <Screen title={title} hints={hints}>
      {planned.state?.status === 'running' ? (
        <Box flexDirection="column">
          {pullNote ? <Text dimColor>{pullNote}</Text> : null}
          <Text>Comparing the twin with this machine… (Esc cancels)</Text>
          {Object.entries(progress).map(([name, p]) => (
            <Text key={name}>
              {'  '}
              {name.padEnd(10)} {p}
            </Text>
          ))}
        </Box>
      ) : null}
      {planned.state?.status === 'failed' ? <ErrorBox error={planned.state.error} title="Cannot make the plan" /> : null}
      {diverged ? (
        <Text wrap="wrap">
          t takes the mirror&apos;s history (as `twinsync pull --take-mirror`): this twin&apos;s own snapshots stay under a ref it names, your edits stay pending on top, and what ran here stays recorded. Nothing is applied before you approve the plan.
        </Text>
      ) : null}
      {plan !== undefined && plan.changes.length === 0 && view.kind !== 'apply' ? (
        <Box flexDirection="column">
          {pullNote ? <Text dimColor>{pullNote}</Text> : null}
          <Text color={plan.diagnostics.some((d) => d.severity === 'error') ? 'red' : plan.diagnostics.some((d) => isLeftOut(d) || isKeptUnread(d)) ? 'yellow' : 'green'} wrap="wrap">{noChangesLine(plan, basisText(plan))}</Text>
          {finishesInterruptedApply(plan) ? (
            <Text>{interruptedApply(plan) ? 'Every step of the interrupted apply is in place. Enter finishes it: the snapshot after the apply, and its record removed.' : 'An earlier apply left configuration to settle (said below). Enter settles it, then takes the snapshot after the apply.'}</Text>
          ) : null}
          <DecisionNote decision={decision} />
          <LeftOutAsks asks={asks} selected={catIndex} room={Math.max(1, Math.floor((height - 6) / 2))} />
          <Diagnostics plan={plan} />
        </Box>
      ) : null}
      {plan !== undefined && (plan.changes.length > 0 || view.kind === 'apply') && chosen !== undefined && counts !== undefined ? (
        view.kind === 'summary' ? (
          <Box flexDirection="column">
            {pullNote ? <Text dimColor wrap="truncate-end">{pullNote}</Text> : null}
            <Text wrap="truncate-end">
              Plan: {plan.changes.length} change{plan.changes.length === 1 ? '' : 's'} to make {plan.basis.root} match {basisText(plan)}
            </Text>
            {categories.map((s, i) => {
              const left = plan.changes.filter((c) => c.category === s.category && inclusion(c.id) !== 'apply').length
              const ops = Object.entries(s.operations).map(([op, n]) => `${n} ${op}`).join(', ')
              return (
                <Row key={s.category} selected={i === catIndex}>
                  {s.category.padEnd(9)} {String(s.count).padStart(4)} ({ops}){s.highRisk > 0 ? <Text color="red"> {s.highRisk} high risk</Text> : null}
                  {left > 0 ? <Text color="yellow"> {left} left out</Text> : null}
                </Row>
              )
            })}
            <Row selected={catIndex === categories.length}>Apply these changes… ({counts.apply} to apply{counts.left > 0 ? `, ${counts.left} left out` : ''})</Row>
            <NeedsRoot plan={plan} />
            <LeftOutNote plan={plan} leftOut={leftOut} also={chosen.alsoExcluded} />
            <DecisionNote decision={decision} />
            <StillPending plan={plan} />
            <LeftOutAsks asks={asks} selected={catIndex - firstAsk} room={Math.max(1, Math.floor((height - categories.length - 8) / 2))} />
            <Diagnostics plan={plan} />
          </Box>
        ) : view.kind === 'category' ? (
          <Box flexDirection="column">
            <Text bold wrap="truncate-end">
              {view.category}: {inCategory.length} change{inCategory.length === 1 ? '' : 's'}  <Text dimColor>[x] apply [ ] left out [-] goes with a left-out one</Text>
            </Text>
            <ChangeList changes={inCategory} index={changeIndex} height={height - 3} inclusion={inclusion} needsRoot={rootNotes(plan)} />
            <LeftOutNote plan={plan} leftOut={leftOut} also={chosen.alsoExcluded} />
            <DecisionNote decision={decision} />
          </Box>
        ) : view.kind === 'change' ? (
          (() => {
            const change = plan.changes.find((c) => c.id === view.id)
            return change === undefined ? null : (
              <ChangeDetail change={change} inclusion={inclusion(change.id)} needsRoot={rootReason(change, rootNotes(plan).get(change.id))} onToggle={() => toggle(change.id)} onBack={() => setView({ kind: 'category', category: view.from })} />
            )
          })()
        ) : view.kind === 'confirm' ? (
          <Box flexDirection="column">
            <Text>
              {counts.apply} change{counts.apply === 1 ? '' : 's'} will be applied{counts.left > 0 ? `; ${counts.left} left out` : ''}. A checkpoint snapshot is taken first.
            </Text>
            <LeftOutNote plan={plan} leftOut={leftOut} also={chosen.alsoExcluded} />
            <NeedsRoot plan={chosen.plan} />
            <CommandsToRun changes={chosen.plan.changes} />
            <Box marginTop={1}>
              {refusal !== undefined ? (
                // The same refusal ApplyService.apply would throw, said before the question.
                <ErrorBox error={refusal} title="This plan cannot be applied" />
              ) : counts.apply === 0 ? (
                <Text color="yellow">Every change is left out: nothing to apply. Esc goes back.</Text>
              ) : (
                <Box flexDirection="column">
                  {canRehearse ? <Text dimColor>r: rehearse first — apply to a throwaway copy of this machine and check it; nothing here changes.</Text> : null}
                  <HighRiskNote changes={chosen.plan.changes} />
                  <Confirm question="Apply these changes?" {...(highRiskChanges(chosen.plan.changes).length > 0 ? { typed: HIGH_RISK_ANSWER } : {})} onAnswer={(yes) => (yes ? startApply() : setView({ kind: 'summary' }))} />
                </Box>
              )}
            </Box>
          </Box>
        ) : view.kind === 'rehearse' ? (
          <RehearsalView rehearsal={rehearsal} height={height} typed={highRiskChanges(chosen.plan.changes).length > 0} onAnswer={(yes) => (yes ? startApply() : setView({ kind: 'summary' }))} />
        ) : (
          <ApplyProgress changes={chosen.plan.changes} steps={steps} height={height} outcome={outcome} stopping={stopping} />
        )
      ) : null}
    </Screen>
  )
}

/**
 * The rehearsal's progress, then its report: the verdict first, the changes with their evidence,
 * the limits. After a pass the same question as before; after a failure the refusal (the one
 * rule `apply --rehearse` follows too) and no question.
 */
function RehearsalView({ rehearsal, height, typed, onAnswer }: { rehearsal: Rehearsal | undefined; height: number; typed: boolean; onAnswer: (yes: boolean) => void }) {
  const services = useServices()
  if (rehearsal === undefined) return null
  if (rehearsal.stage !== 'done') return <Text>{REHEARSAL_STAGE[rehearsal.stage]} (Esc cancels)</Text>
  if (rehearsal.report === undefined) return <ErrorBox error={rehearsal.error} title="The rehearsal could not run" />
  const report = rehearsal.report
  const refusal = rehearsalRefusal(report, (args) => services.line(args))
  // The report without its last two lines (verdict and timing), which lead here.
  const lines = terminalLines(renderRehearsal(report)).split('\n')
  const body = lines.slice(0, -2)
  // Room for the verdict, the timing line, the "more lines" note and the question or the refusal box.
  const room = Math.max(3, height - (refusal === undefined ? 7 : 12))
  return (
    <Box flexDirection="column">
      <Text bold color={report.passed ? 'green' : 'red'} wrap="truncate-end">
        {rehearsalSummary(report)}
      </Text>
      <Text dimColor wrap="truncate-end">
        {lines[lines.length - 1]}
      </Text>
      {body.slice(0, room).map((line, i) => (
        <Text key={i} wrap="truncate-end" {...(/^ {2}FAILED/.test(line) ? { color: 'red' } : /^ {2}passed/.test(line) ? { color: 'green' } : {})}>
          {line || ' '}
        </Text>
      ))}
      {body.length > room ? <Text dimColor>… {body.length - room} more lines (`{services.line(['rehearse'])}` prints them all)</Text> : null}
      <Box marginTop={1}>
        {refusal !== undefined ? <ErrorBox error={refusal} title="Not applied" /> : <Confirm question="The rehearsal passed. Apply these changes to this machine?" {...(typed ? { typed: HIGH_RISK_ANSWER } : {})} onAnswer={onAnswer} />}
      </Box>
    </Box>
  )
}

/** The plan continues an interrupted apply (else it only settles configuration an earlier apply left: finishesInterruptedApply). */
function interruptedApply(plan: Plan): boolean {
  return plan.diagnostics.some((d) => d.code === 'APPLY_INTERRUPTED')
}

function basisText(plan: Plan): string {
  return plan.basis.twinCommit === null ? 'the working twin' : `twin ${plan.basis.twinCommit.slice(0, 12)}`
}

function ChangeList({ changes, index, height, inclusion, needsRoot }: { changes: Change[]; index: number; height: number; inclusion: (id: string) => Inclusion; needsRoot: ReadonlyMap<string, unknown> }) {
  const start = windowStart(index, changes.length, height)
  return (
    <Box flexDirection="column">
      {changes.slice(start, start + height).map((c, i) => {
        const inc = inclusion(c.id)
        return (
          <Row key={c.id} selected={start + i === index} dim={inc !== 'apply'}>
            {INCLUSION_MARK[inc]} {plannedPhrase(c)}
            {c.risk === 'low' ? '' : <Text color={c.risk === 'high' ? 'red' : 'yellow'}> [{c.risk} risk{c.riskReason === undefined ? '' : `: ${terminalText(c.riskReason)}`}]</Text>}
            {needsRoot.has(c.id) ? <Text color="yellow"> [needs root]</Text> : null}
          </Row>
        )
      })}
    </Box>
  )
}

/** Before the question: the changes that run code as root or open a login, each with its reason (the CLI's words, high-risk.ts). */
function HighRiskNote({ changes }: { changes: readonly Change[] }) {
  const lines = highRiskLines(changes)
  if (lines.length === 0) return null
  return (
    <Box flexDirection="column" marginBottom={1}>
      {lines.map((line, i) => (
        <Text key={i} color="red" wrap="truncate-end" {...(i === 0 ? { bold: true } : {})}>
          {terminalText(line)}
        </Text>
      ))}
    </Box>
  )
}

/** Before the question: every command and script that will run, as its exact argument list (wrapped, never cut). */
function CommandsToRun({ changes }: { changes: readonly Change[] }) {
  const commands = changes.filter(isCommand)
  if (commands.length === 0) return null
  return (
    <Box flexDirection="column" marginTop={1}>
      <Text bold>These run as root (a script's full content is in its details):</Text>
      {commands.map((c) => (
        <Text key={c.id} wrap="wrap" color="red">
          {'  '}
          {terminalText(c.summary)}
        </Text>
      ))}
    </Box>
  )
}

/** Which changes stay out, and which only because they need one that does (`requires`) or are only there for such ones (`madeFor`). */
function LeftOutNote({ plan, leftOut, also }: { plan: Plan; leftOut: ReadonlySet<string>; also: readonly string[] }) {
  if (leftOut.size === 0) return null
  const summary = (id: string) => {
    const c = plan.changes.find((x) => x.id === id)
    return c === undefined ? id : plannedPhrase(c)
  }
  return (
    <Box flexDirection="column" marginTop={1}>
      <Text color="yellow" wrap="truncate-end">
        Left out: {[...leftOut].map(summary).join('; ')}
      </Text>
      {also.length > 0 ? (
        <Text color="yellow" wrap="truncate-end">
          Also left out, because they need it or are only there for it: {also.map(summary).join('; ')}
        </Text>
      ) : null}
    </Box>
  )
}

/** What a decision did; what it left out and says (adopt: a document outside its provider's part, not adopted), as the CLI says it. */
function DecisionNote({ decision }: { decision: { note?: string | undefined; warnings?: Diagnostic[] | undefined; error?: unknown } }) {
  if (decision.error !== undefined) return <ErrorBox error={decision.error} title="Not decided" />
  if (decision.note === undefined) return null
  return (
    <Box flexDirection="column">
      <Text color="green" wrap="truncate-end">
        {decision.note}
      </Text>
      <DiagnosticLines diagnostics={decision.warnings ?? []} wrap="wrap" />
    </Box>
  )
}

/** Warnings and errors, one line each (`severity: provider: summary`, spelled out), as the CLI's renderDiagnostics says them; info left out. */
function DiagnosticLines({ diagnostics, wrap }: { diagnostics: readonly Diagnostic[]; wrap: 'wrap' | 'truncate-end' }) {
  return (
    <>
      {diagnostics
        .filter((d) => d.severity !== 'info')
        .map(shownDiagnostic)
        .map((d, i) => (
          <Text key={`diagnostic${i}`} wrap={wrap} color={d.severity === 'error' ? 'red' : 'yellow'}>
            {d.severity}: {d.provider ? `${d.provider}: ` : ''}
            {d.summary}
          </Text>
        ))}
    </>
  )
}

/** Changes an earlier apply did not make, with the reason they are still asked for. */
/** The plan's changes a run that is not root's cannot apply, and the next step (the CLI's head note). */
function NeedsRoot({ plan }: { plan: Plan }) {
  const line = needsRootLine(plan)
  return line === undefined ? null : (
    <Text color="yellow" wrap="wrap">
      {terminalText(line)}
    </Text>
  )
}

function StillPending({ plan }: { plan: Plan }) {
  const notes = plan.diagnostics.filter((d) => d.code === 'PENDING_INTENT')
  if (notes.length === 0) return null
  return (
    <Box flexDirection="column" marginTop={1}>
      <Text color="yellow">Still pending from before:</Text>
      {notes.slice(0, 3).map((d, i) => (
        <Text key={i} color="yellow" wrap="truncate-end">
          {'  '}
          {terminalText(d.summary)}
        </Text>
      ))}
      {notes.length > 3 ? <Text dimColor>  … and {notes.length - 3} more</Text> : null}
    </Box>
  )
}

/**
 * What the twin asks for that the plan leaves out (outside its provider's scope), one row each
 * with its code and next step: the cursor reaches them, and d discards the one under it through
 * the service `twinsync discard ID` uses, never its whole domain. `selected` below 0: none.
 */
function LeftOutAsks({ asks, selected, room }: { asks: readonly Diagnostic[]; selected: number; room: number }) {
  if (asks.length === 0) return null
  const start = windowStart(Math.max(0, selected), asks.length, room)
  return (
    <Box flexDirection="column" marginTop={1}>
      <Text color="yellow" wrap="truncate-end">
        Left out, still asked for by the twin (d discards the one under the cursor):
      </Text>
      {asks.slice(start, start + room).map((d, i) => {
        const [head, next] = noteLines(d)
        return (
          <Box key={d.change ?? i} flexDirection="column">
            <Row selected={start + i === selected}>{head}</Row>
            {next === undefined ? null : <Text wrap="truncate-end">  {next}</Text>}
          </Box>
        )
      })}
      {asks.length > room ? <Text dimColor>{asks.length} in all: ↑↓ shows the others</Text> : null}
    </Box>
  )
}

/** The plan's notes, but the left-out asks (rows of their own, LeftOutAsks). */
function Diagnostics({ plan }: { plan: Plan }) {
  const services = useServices()
  const notes = plan.diagnostics.filter((d) => d.severity !== 'info' && !isLeftOut(d))
  const secrets = secretsNotPutBack(plan)
  const unheld = unheldNotPutBack(plan, services.line)
  // A run-once command whose secret this machine cannot check (info, said as the CLI says it).
  const unchecked = uncheckedRunLines(plan.diagnostics)
  if (notes.length === 0 && secrets === undefined && unheld === undefined && unchecked.length === 0) return null
  return (
    <Box flexDirection="column" marginTop={1}>
      {secrets === undefined ? null : <Text wrap="wrap">{terminalText(secrets)}</Text>}
      {unheld === undefined ? null : <Text wrap="wrap">{terminalText(unheld)}</Text>}
      {unchecked.map((line, i) => (
        <Text key={`unchecked${i}`} wrap="wrap">
          {line}
        </Text>
      ))}
      {notes.slice(0, 3).map((d, i) => (
        <Box key={i} flexDirection="column">
          {/* A change left out of the plan, or a domain an error stops, says what to do about it, as the CLI does. */}
          {noteLines(d).map((line, j) => (
            <Text key={j} wrap="truncate-end" {...(j === 0 ? { color: d.severity === 'error' ? 'red' : 'yellow' } : {})}>
              {line}
            </Text>
          ))}
        </Box>
      ))}
      {notes.length > 3 ? <Text dimColor>… and {notes.length - 3} more</Text> : null}
    </Box>
  )
}

function ApplyProgress({
  changes,
  steps,
  height,
  outcome,
  stopping,
}: {
  changes: Change[]
  steps: ReadonlyMap<string, Step>
  height: number
  outcome: { report?: ApplyOutcome; error?: unknown } | undefined
  stopping: boolean
}) {
  const services = useServices()
  const footer = outcome === undefined ? 1 : 7
  const rows = Math.max(1, height - footer - 1)
  // Keep the step under way in view: the window follows the last step that started.
  const lastActive = Math.max(0, ...changes.map((c, i) => (steps.get(c.id)?.state === 'waiting' ? -1 : i)))
  const start = windowStart(lastActive, changes.length, rows)
  const report = outcome?.report
  return (
    <Box flexDirection="column">
      <Text bold>{outcome === undefined ? (stopping ? 'Stopping after the steps under way…' : 'Applying…') : 'Done.'}</Text>
      {changes.slice(start, start + rows).map((c) => {
        const step = steps.get(c.id)
        if (step?.state === 'done') {
          // Beside the change: what its provider said (the journal's, once the apply is done).
          const notes = (report?.journal.steps.find((s) => s.id === c.id)?.diagnostics ?? step.result.diagnostics ?? []).filter((d) => d.severity !== 'info')
          return (
            <Box key={c.id} flexDirection="column">
              <Text wrap="truncate-end" color={RESULT_COLOR[step.result.status]}>
                {RESULT_MARK[step.result.status]} {plannedPhrase(c)}
                {step.result.message && step.result.status !== 'applied' ? `: ${terminalText(step.result.message)}` : ''}
              </Text>
              {notes.flatMap((d, i) =>
                stepNoteLines(d).map((line, j) => (
                  <Text key={`${i}.${j}`} wrap="wrap" color={d.severity === 'error' ? 'red' : 'yellow'}>
                    {'              '}
                    {line}
                  </Text>
                )),
              )}
              {/* A failed step's own output (a checker's complaint): its last lines; all of it is in the journal. */}
              {step.result.status === 'failed' && step.result.outputTail
                ? step.result.outputTail.split('\n').slice(-3).map((line, i) => (
                    <Text key={`out${i}`} wrap="truncate-end" dimColor>
                      {'              | '}
                      {terminalText(line)}
                    </Text>
                  ))
                : null}
            </Box>
          )
        }
        return (
          <Text key={c.id} wrap="truncate-end" {...(step?.state === 'running' ? { color: 'cyan' } : { dimColor: true })}>
            {step?.state === 'running' ? '… running  ' : '· waiting  '} {terminalText(c.summary)}
          </Text>
        )
      })}
      {outcome?.error !== undefined ? <ErrorBox error={outcome.error} title="The apply stopped" /> : null}
      {report !== undefined ? (
        <Box flexDirection="column" marginTop={1}>
          <Text bold color={report.exitCode === 0 ? 'green' : 'yellow'}>
            {report.journal.counts.applied} applied, {report.journal.counts.unchanged} unchanged, {report.journal.counts.failed} failed, {report.journal.counts.skipped} skipped
            {report.journal.interrupted ? ' (interrupted)' : ''}.
          </Text>
          {report.checkpoint ? <Text wrap="truncate-end">Checkpoint before: {report.checkpoint.slice(0, 12)} (revert to it to undo)</Text> : null}
          {report.commit ? <Text wrap="truncate-end">Snapshot after: {report.commit.slice(0, 12)}, journal {report.journalPath}</Text> : null}
          <DiagnosticLines diagnostics={report.journal.diagnostics ?? []} wrap="truncate-end" />
          {renderPush(report.push, (args) => services.line(args)).map((line, i) => (
            <Text key={`push${i}`} wrap="truncate-end" {...(report.push.status === 'failed' ? { color: 'yellow' } : {})}>
              {line}
            </Text>
          ))}
          {report.keptPending.length > 0 ? (
            <Text wrap="truncate-end" color="yellow">
              Left out, still pending in the twin for the next plan: {report.keptPending.join(', ')}
            </Text>
          ) : null}
        </Box>
      ) : null}
    </Box>
  )
}
