import { Box, Text, useInput } from 'ink'
import type { HistoryEntry } from '../history/history-service.js'
import { ErrorBox } from './error-box.js'
import { useBodyHeight, useCursor, useTask, windowStart } from './hooks.js'
import { BACK, MOVE } from './key-hints.js'
import { isBack, useNavigation } from './navigation.js'
import { Row, Screen } from './screen.js'
import { useServices } from './services.js'
import { terminalText } from '../terminal-text.js'

const LIMIT = 200

export function marker(e: Pick<HistoryEntry, 'kind'>): string {
  return e.kind === 'checkpoint' ? '◆' : e.kind === 'apply' || e.kind === 'revert' ? '▶' : '•'
}

/** History & Time Machine: every snapshot, newest first; Enter opens one. */
export function HistoryScreen() {
  const services = useServices()
  const nav = useNavigation()
  const height = useBodyHeight() - 2
  const list = useTask(() => services.history(LIMIT), 0, "History's list")
  const entries = list.state?.status === 'done' ? list.state.value : []
  const [index, setIndex, latestIndex] = useCursor(entries.length)
  useInput((input, key) => {
    if (isBack(input, key)) nav.back()
    else if (key.upArrow) setIndex((i) => i - 1)
    else if (key.downArrow) setIndex((i) => i + 1)
    else if (key.pageUp) setIndex((i) => i - height)
    else if (key.pageDown) setIndex((i) => i + height)
    else if (key.return) {
      const entry = entries[latestIndex()]
      if (entry !== undefined) nav.push({ name: 'snapshot-detail', commit: entry.commit })
    }
  })
  const start = windowStart(index, entries.length, height)
  return (
    <Screen title="History & Time Machine" hints={[MOVE, ['Enter', 'open'], BACK]}>
      <Text dimColor wrap="truncate-end">
        ◆ checkpoint ▶ apply/revert • snapshot{list.state?.status === 'done' ? ` — ${entries.length} shown` : ''}
      </Text>
      {list.state?.status === 'running' ? <Text>Reading the history…</Text> : null}
      {list.state?.status === 'failed' ? <ErrorBox error={list.state.error} title="Cannot read the history" /> : null}
      {list.state?.status === 'done' && entries.length === 0 ? <Text>No snapshots yet: use Push snapshot.</Text> : null}
      <Box flexDirection="column">
        {entries.slice(start, start + height).map((e, i) => (
          <Row key={e.commit} selected={start + i === index}>
            {marker(e)} {e.commit.slice(0, 8)} {e.date.slice(0, 16).replace('T', ' ')} {terminalText(e.message.replace(/^TwinSync /, ''))}
            {e.labels.length > 0 ? <Text color="magenta"> ({terminalText(e.labels.join(', '))})</Text> : null}
            <Text dimColor> {e.counted === 'no changes' ? '' : e.counted}</Text>
          </Row>
        ))}
      </Box>
    </Screen>
  )
}
