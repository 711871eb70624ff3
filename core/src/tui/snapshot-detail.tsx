import { useState } from 'react'
import { Box, Text, useInput } from 'ink'
import type { Comparison } from '../history/history-service.js'
import type { SnapshotRecord } from '../history/snapshot-log.js'
import { ErrorBox } from './error-box.js'
import { useBodyHeight, useTask, useTerminalSize } from './hooks.js'
import { BACK } from './key-hints.js'
import { isBack, useNavigation } from './navigation.js'
import { Screen } from './screen.js'
import { useServices } from './services.js'
import { clampTop, diffLines, TextView, type Line } from './text-view.js'
import { marker } from './history-screen.js'
import { domainCountPhrase } from '../vocabulary.js'
import { DOMAINS } from '../snapshot/snapshot-summary.js'
import { revertPlan } from '../services/make-plan.js'
import { terminalText } from '../terminal-text.js'
import { appendAll } from '../append-to.js'


/** One snapshot: what it changed, in observed words, and "Plan revert to this snapshot". */
export function SnapshotDetail({ commit }: { commit: string }) {
  const services = useServices()
  const nav = useNavigation()
  const height = useBodyHeight() - 3
  const { columns } = useTerminalSize()
  const [top, setTop] = useState(0)
  const shown = useTask(() => services.show(commit), commit)
  const lines = shown.state?.status === 'done' ? comparisonLines(shown.state.value, columns) : []
  const to = shown.state?.status === 'done' ? shown.state.value.to : undefined
  const scroll = (d: number) => setTop((t) => clampTop(t + d, lines.length, height))
  useInput((input, key) => {
    if (isBack(input, key)) nav.back()
    else if (key.upArrow) scroll(-1)
    else if (key.downArrow) scroll(1)
    else if (key.pageUp) scroll(-height)
    else if (key.pageDown || input === ' ') scroll(height)
    else if ((key.return || input === 'r') && to !== undefined) {
      nav.push({ name: 'plan', ...revertPlan(to.commit), revertTo: to.commit, title: `Revert to ${to.commit.slice(0, 12)}` })
    }
  })
  return (
    <Screen title={`Snapshot ${commit.slice(0, 12)}`} hints={[['↑↓ PgUp PgDn', 'scroll'], ['Enter/r', 'plan revert'], BACK]}>
      {to !== undefined ? <Title record={to} /> : null}
      <Box>
        <Text inverse bold>
          {' '}
          ▶ Plan revert to this snapshot (Enter){' '}
        </Text>
      </Box>
      {shown.state?.status === 'running' ? <Text>Reading the snapshot…</Text> : null}
      {shown.state?.status === 'failed' ? <ErrorBox error={shown.state.error} title="Cannot read the snapshot" /> : null}
      <TextView lines={lines} top={top} height={height} />
    </Screen>
  )
}

function Title({ record }: { record: SnapshotRecord }) {
  return (
    <Text bold wrap="truncate-end">
      {marker(record)} {record.commit.slice(0, 12)} {record.date.replace('T', ' ')} {terminalText(record.message)}
      {record.labels.length > 0 ? <Text color="magenta"> ({terminalText(record.labels.join(', '))})</Text> : null}
    </Text>
  )
}

/** The semantic summary per domain, then each change's diff under it, wrapped to the terminal's `columns`. */
export function comparisonLines(c: Comparison, columns = 80): Line[] {
  const lines: Line[] = [{ text: c.from === null ? 'The first snapshot.' : `Changes since ${c.from.commit.slice(0, 12)} ${terminalText(c.from.message)}`, dim: true }]
  let any = false
  for (const domain of DOMAINS) {
    const changes = c.domains[domain]
    if (changes === undefined || changes.length === 0) continue
    any = true
    lines.push({ text: `${domain}: ${domainCountPhrase(domain, changes)}`, bold: true })
    for (const ch of changes) {
      lines.push({ text: `  ${ch.summary}` })
      if (ch.diff !== undefined) appendAll(lines, diffLines(ch.diff, '      ', Math.max(20, columns - 1)))
    }
  }
  if (!any) lines.push({ text: 'No changes.' })
  return lines
}
