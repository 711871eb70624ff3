import { useState } from 'react'
import { Box, Text, useInput } from 'ink'
import { ErrorBox } from './error-box.js'
import { useCursor } from './hooks.js'
import { BACK, MOVE } from './key-hints.js'
import { isBack, useNavigation } from './navigation.js'
import { useRemote } from './services.js'
import { Row, Screen } from './screen.js'
import { useStatus } from './status-line.js'
import { TextInput } from './text-input.js'
import { terminalText } from '../terminal-text.js'

type Item = 'token' | 'repository' | 'link' | 'create' | 'test'

/**
 * GitHub linking: a token (masked; leave it empty to use GITHUB_TOKEN, GH_TOKEN or the saved
 * one), a repository, and link, create or test — the same service as `twinsync github …`.
 */
export function GitHubScreen() {
  const nav = useNavigation()
  const remote = useRemote()
  const status = useStatus()
  const [token, setToken] = useState('')
  const [repository, setRepository] = useState('')
  const [editing, setEditing] = useState<'token' | 'repository' | undefined>(undefined)
  const [busy, setBusy] = useState(false)
  const [message, setMessage] = useState<{ text?: string; error?: unknown } | undefined>(undefined)
  const items: Array<{ id: Item; label: string }> = [
    { id: 'token', label: `Token: ${token === '' ? '(from GITHUB_TOKEN, GH_TOKEN or the saved one)' : '•'.repeat(Math.min(token.length, 12))}` },
    { id: 'repository', label: `Repository: ${repository === '' ? '(OWNER/REPO to link, or a NAME to create; empty: twin-<hostname>)' : repository}` },
    { id: 'link', label: 'Link this existing private repository' },
    { id: 'create', label: 'Create a new private repository and link it' },
    { id: 'test', label: 'Test the link (token, repository, privacy, push)' },
  ]
  const [index, setIndex, latestIndex] = useCursor(items.length)
  const run = (work: () => Promise<{ ok: boolean; message: string }> | undefined) => {
    const started = work()
    if (started === undefined) return setMessage({ text: 'Not available without the mirror service.' })
    setBusy(true)
    setMessage(undefined)
    started.then(
      (r) => setMessage({ text: `${r.ok ? '✓' : '✗'} ${terminalText(r.message)}` }),
      (error: unknown) => setMessage({ error }),
    ).finally(() => {
      setBusy(false)
      // A refused link may still have saved the token or the remote: the line says what is there.
      status?.refresh()
    })
  }
  useInput(
    (input, key) => {
      if (busy) return
      if (isBack(input, key)) return nav.back()
      if (key.upArrow) return setIndex((i) => i - 1)
      if (key.downArrow) return setIndex((i) => i + 1)
      if (!key.return) return
      const item = items[latestIndex()]?.id
      const given = token === '' ? undefined : token
      if (item === 'token' || item === 'repository') setEditing(item)
      else if (item === 'link') {
        if (repository === '' || !repository.includes('/')) setMessage({ text: 'Write the repository as OWNER/REPO first.' })
        else run(() => remote?.link?.(repository, given))
      } else if (item === 'create') run(() => remote?.create?.(repository === '' ? undefined : repository, given))
      else if (item === 'test') run(() => remote?.test?.(new AbortController().signal))
    },
    { isActive: editing === undefined },
  )
  return (
    <Screen title="GitHub linking" hints={editing === undefined ? [MOVE, ['Enter', 'edit or choose'], BACK] : [['Enter', 'keep'], ['Esc', 'cancel']]}>
      <Box flexDirection="column">
        <Text wrap="truncate-end">{status?.remote?.summary ?? 'GitHub: …'}</Text>
        <Text dimColor wrap="wrap">
          The repository is always private. The token is kept 0600 outside the twin and never shown.
        </Text>
        <Box flexDirection="column" marginTop={1}>
          {items.map((item, i) =>
            editing === item.id ? (
              <TextInput
                key={item.id}
                label={item.id === 'token' ? 'Token' : 'Repository'}
                initial={item.id === 'token' ? token : repository}
                mask={item.id === 'token'}
                onDone={(value) => {
                  if (value !== undefined) (item.id === 'token' ? setToken : setRepository)(value.trim())
                  setEditing(undefined)
                }}
              />
            ) : (
              <Row key={item.id} selected={i === index}>
                {item.label}
              </Row>
            ),
          )}
        </Box>
        {busy ? <Text>Working…</Text> : null}
        {message?.text !== undefined ? <Text wrap="wrap">{message.text}</Text> : null}
        {message?.error !== undefined ? <ErrorBox error={message.error} /> : null}
      </Box>
    </Screen>
  )
}
