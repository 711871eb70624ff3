import { useState } from 'react'
import { Box, Text, useInput } from 'ink'
import { TwinSyncError } from '@twinsync/sdk/errors'
import type { CollectOutcome } from '../collect/collector.js'
import { renderPush } from '../cli/render.js'
import { snapshotOutcome, type TakeSnapshotResult } from '../services/take-snapshot.js'
import { snapshotDomainLines } from '../snapshot/snapshot-summary.js'
import { Confirm } from './confirm.js'
import { ErrorBox } from './error-box.js'
import { useTask } from './hooks.js'
import { BACK } from './key-hints.js'
import { isBack, useNavigation } from './navigation.js'
import { useServices } from './services.js'
import { Screen } from './screen.js'
import { useStatus } from './status-line.js'
import { shownDiagnostic, terminalText } from '../terminal-text.js'

type Phase = 'review' | 'running' | 'finished'
type ProviderPhase = 'start' | CollectOutcome['status']

const PHASE_TEXT: Record<ProviderPhase, string> = { start: 'collecting…', collected: 'collected', 'not-detected': 'not present', failed: 'FAILED' }

/** Push snapshot: what will be collected, confirm, progress per provider, the commit id. */
export function SnapshotScreen() {
  const services = useServices()
  const nav = useNavigation()
  const status = useStatus()
  const [phase, setPhase] = useState<Phase>('review')
  const [progress, setProgress] = useState<Record<string, ProviderPhase>>({})
  const listing = useTask((_signal) => services.providers())
  // No twin yet: the question says it will be created (the words `snapshot --init` prints after), and only a yes creates it.
  const twin = useTask((_signal) => services.checkTwin())
  const create = twin.state?.status === 'done' && !twin.state.value.ok && twin.state.value.problem?.code === 'REPO_NOT_INITIALIZED' ? twin.state.value.dir : undefined
  // A twin that is there and cannot be used (an interrupted forget, a damaged twin): said with its
  // code and next step, and no question whose yes could only be refused (session 17).
  const problem = twin.state?.status === 'done' && !twin.state.value.ok && create === undefined ? twin.state.value.problem : undefined
  const blocked = problem === undefined ? undefined : new TwinSyncError(problem.code, problem.message, problem.nextStep === undefined ? {} : { nextStep: problem.nextStep })
  const run = useTask(
    phase === 'review'
      ? undefined
      : async (signal): Promise<TakeSnapshotResult> => {
          // The service pushes to the mirror when there is something to push (SnapshotWorkflow).
          // The status line is checked again whatever the outcome: a failed push still committed.
          try {
            return await services.snapshot({ signal, onProgress: (e) => setProgress((p) => ({ ...p, [e.provider]: e.phase })), ...(create === undefined ? {} : { init: true }) })
          } finally {
            status?.refresh()
          }
        },
    phase === 'review' ? 0 : 1,
    'the snapshot',
  )
  const running = phase !== 'review' && run.state?.status === 'running'

  useInput((input, key) => {
    if (running) {
      if (key.escape) run.cancel()
      return
    }
    if (phase === 'finished' || (phase === 'running' && run.state?.status !== 'running')) {
      if (key.return || isBack(input, key)) nav.back()
      return
    }
    if (isBack(input, key) || (blocked !== undefined && key.return)) nav.back()
  })

  const providers = listing.state?.status === 'done' ? listing.state.value.providers : []
  const categoryOf = new Map(providers.map((p) => [p.name, p.category]))
  const hints =
    phase === 'review' ? (blocked !== undefined ? [['Enter/Esc', 'back to the menu']] as const : [['←→', 'choose'], ['Enter', 'answer'], BACK] as const) : running ? [['Esc', 'cancel']] as const : [['Enter/Esc', 'back to the menu']] as const

  return (
    <Screen title="Push snapshot" hints={hints}>
      {phase === 'review' ? (
        <Box flexDirection="column">
          <Text>These providers will read this machine into the twin:</Text>
          {listing.state?.status === 'running' ? <Text dimColor>Looking at what is present…</Text> : null}
          {listing.state?.status === 'failed' ? <ErrorBox error={listing.state.error} /> : null}
          {providers.map((p) => (
            <Text key={p.name} wrap="truncate-end" {...(p.detected === true && !p.disabled ? {} : { dimColor: true })}>
              {'  '}
              {p.detected === true && !p.disabled ? '✓' : '·'} {p.name.padEnd(10)} {p.category.padEnd(9)}{' '}
              {p.disabled ? 'disabled' : p.detected === true ? p.description : `not present${p.reason ? `: ${p.reason}` : ''}`}
            </Text>
          ))}
          <Box marginTop={1}>
            {blocked !== undefined ? <ErrorBox error={blocked} title="The twin cannot be used" /> : listing.state?.status === 'running' || twin.state?.status === 'running' ? null : (
              <Confirm
                question={create === undefined ? 'Take a snapshot now?' : `There is no twin at ${create} yet. Create the twin there and take its first snapshot?`}
                onAnswer={(yes) => (yes ? setPhase('running') : nav.back())}
              />
            )}
          </Box>
        </Box>
      ) : (
        <Box flexDirection="column">
          <Text>{running ? 'Collecting… (Esc cancels)' : 'Collected.'}</Text>
          {Object.entries(progress).map(([name, p]) => (
            <Text key={name} wrap="truncate-end" {...(p === 'failed' ? { color: 'red' } : p === 'start' ? { color: 'yellow' } : {})}>
              {'  '}
              {(categoryOf.get(name) ?? '').padEnd(9)} {name.padEnd(10)} {PHASE_TEXT[p]}
            </Text>
          ))}
          <Box marginTop={1} flexDirection="column">
            {run.state?.status === 'done' ? <SnapshotDone result={run.state.value} linked={status?.remote?.linked === true} /> : null}
            {run.state?.status === 'failed' ? <ErrorBox error={run.state.error} title="The snapshot failed" /> : null}
            {run.state?.status === 'cancelled' ? <Text color="yellow">Cancelled; no snapshot was made.</Text> : null}
          </Box>
        </Box>
      )}
    </Screen>
  )
}

function SnapshotDone({ result, linked }: { result: TakeSnapshotResult; linked: boolean }) {
  const services = useServices()
  const domains = snapshotDomainLines(result.summary, result.changes)
  const warnings = result.diagnostics.filter((d) => d.severity !== 'info').map(shownDiagnostic)
  const outcome = snapshotOutcome(result, (args) => services.line(args))
  return (
    <Box flexDirection="column">
      {result.initialized ? <Text>Created the twin at {result.repo}.</Text> : null}
      {/* The headline `twinsync snapshot` prints (snapshotOutcome): a provider that failed to collect is never "nothing changed". */}
      <Text wrap="wrap" bold={result.commit !== undefined} {...(outcome.notCollected !== undefined || outcome.notLoaded !== undefined ? { color: 'yellow' } : result.commit !== undefined ? { color: 'green' } : {})}>
        {outcome.headline}
      </Text>
      {[outcome.notCollected, outcome.notLoaded].map((line) =>
        line === undefined ? null : (
          <Text key={line} color="red" wrap="wrap">
            {'  '}
            {line}
          </Text>
        ),
      )}
      {domains.map((line) => (
        <Text key={line} wrap="truncate-end">
          {'  '}
          {terminalText(line)}
        </Text>
      ))}
      {warnings.slice(0, 3).map((d, i) => (
        <Text key={i} color="yellow" wrap="truncate-end">
          {d.severity}: {d.provider ? `${d.provider}: ` : ''}
          {d.summary}
        </Text>
      ))}
      <Text wrap="truncate-end">
        Push: {result.push !== undefined ? renderPush(result.push, (args) => services.line(args)).join(' ') : linked ? 'nothing to push' : 'GitHub not linked; the snapshot is local only'}
      </Text>
    </Box>
  )
}
