import { useState } from 'react'
import { Box, Text, useInput } from 'ink'
import { ErrorBox } from './error-box.js'
import { useCursor, useTask } from './hooks.js'
import { BACK, MOVE } from './key-hints.js'
import { isBack, useNavigation } from './navigation.js'
import { NOT_LINKED, useRemote, useServices } from './services.js'
import { Row, Screen } from './screen.js'
import { useStatus } from './status-line.js'
import { terminalText } from '../terminal-text.js'

type Action = 'test' | 'create' | 'snapshot' | 'github'

/** Init / GitHub linking: where the twin is, test or create it, a first snapshot, the mirror. */
export function InitScreen() {
  const services = useServices()
  const nav = useNavigation()
  const status = useStatus()
  const remote = useRemote()
  const [generation, setGeneration] = useState(0)
  const [message, setMessage] = useState<{ text?: string; error?: unknown } | undefined>(undefined)
  const check = useTask(() => services.checkTwin(), generation)
  const twin = check.state?.status === 'done' ? check.state.value : undefined
  const actions: Array<{ id: Action; label: string }> = [
    { id: 'test', label: 'Test the twin repository again' },
    ...(twin !== undefined && !twin.ok && twin.problem?.code === 'REPO_NOT_INITIALIZED' ? [{ id: 'create' as const, label: `Create the twin at ${twin.dir}` }] : []),
    { id: 'snapshot', label: 'Take a first snapshot (Push snapshot)' },
    { id: 'github', label: remote === undefined ? 'Link a GitHub repository (not available in this build)' : 'GitHub linking: token, link or create a private repository, test' },
  ]
  const [index, setIndex, latestIndex] = useCursor(actions.length)
  useInput((input, key) => {
    if (isBack(input, key)) nav.back()
    else if (key.upArrow) setIndex((i) => i - 1)
    else if (key.downArrow) setIndex((i) => i + 1)
    else if (key.return) {
      const action = actions[latestIndex()]?.id
      if (action === 'test') {
        setMessage(undefined)
        setGeneration((g) => g + 1)
      } else if (action === 'create') {
        services
          .initTwin()
          .then(
            (r) => setMessage({ text: r.created ? `Created the twin at ${r.repo}.` : `The twin at ${r.repo} already exists.` }),
            (error: unknown) => setMessage({ error }),
          )
          .finally(() => {
            setGeneration((g) => g + 1)
            status?.refresh()
          })
      } else if (action === 'snapshot') nav.push({ name: 'snapshot' })
      else if (action === 'github') {
        if (remote === undefined) setMessage({ text: `${NOT_LINKED}. Snapshots stay in the local twin; linking a private GitHub repository comes with the remote mirror.` })
        else nav.push({ name: 'github' })
      }
    }
  })
  return (
    <Screen title="Init / GitHub linking" hints={[MOVE, ['Enter', 'choose'], BACK]}>
      <Box flexDirection="column">
        <Text wrap="truncate-end">
          Twin repository: <Text bold>{services.location().dir}</Text> <Text dimColor>(from {services.location().source === 'default' ? 'the default' : services.location().source === 'flag' ? '--repo' : 'the configuration file'})</Text>
        </Text>
        {check.state?.status === 'running' ? <Text>Checking…</Text> : null}
        {twin?.ok === true ? <Text color="green">✓ The twin is there and can be opened.</Text> : null}
        {twin !== undefined && !twin.ok ? (
          <Box flexDirection="column">
            <Text color="yellow" wrap="wrap">
              ✗ [{twin.problem?.code}] {terminalText(twin.problem?.message ?? '')}
            </Text>
            {twin.problem?.nextStep ? <Text wrap="wrap">Next step: {terminalText(twin.problem.nextStep)}</Text> : null}
          </Box>
        ) : null}
        {check.state?.status === 'failed' ? <ErrorBox error={check.state.error} /> : null}
        <Text dimColor wrap="truncate-end">
          Another place: Settings changes it (written as `repo:` in the configuration file), or --repo DIR.
        </Text>
        <Text wrap="truncate-end">{remote === undefined ? NOT_LINKED : (status?.remote?.summary ?? 'GitHub: …')}</Text>
        <Box flexDirection="column" marginTop={1}>
          {actions.map((a, i) => (
            <Row key={a.id} selected={i === index} dim={a.id === 'github' && remote === undefined}>
              {a.label}
            </Row>
          ))}
        </Box>
        {message?.text !== undefined ? <Text wrap="wrap">{message.text}</Text> : null}
        {message?.error !== undefined ? <ErrorBox error={message.error} /> : null}
      </Box>
    </Screen>
  )
}
