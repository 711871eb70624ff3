import { useState } from 'react'
import { Text, useInput } from 'ink'
import type { Change } from '@twinsync/sdk'
import { commandReview, commandReviewLines, quoteArg } from '../plan/command-text.js'
import { useBodyHeight, useTerminalSize } from './hooks.js'
import { clampTop, diffLines, TextView, type Line } from './text-view.js'
import { plannedPhrase } from '../vocabulary.js'
import { isCommand } from '../plan/commands-domain.js'
import { terminalText } from '../terminal-text.js'

export type Inclusion = 'apply' | 'left out' | 'depends'

export const INCLUSION_MARK: Record<Inclusion, string> = { apply: '[x]', 'left out': '[ ]', depends: '[-]' }

/** One change: what, how risky, before → after, and its diff (a file's unified diff), scrollable. */
export function ChangeDetail({ change, inclusion, onToggle, onBack, needsRoot }: { change: Change; inclusion: Inclusion; onToggle: () => void; onBack: () => void; needsRoot?: string | undefined }) {
  const height = useBodyHeight() - 2
  const { columns } = useTerminalSize()
  const [top, setTop] = useState(0)
  const lines = changeLines(change, columns)
  const scroll = (d: number) => setTop((t) => clampTop(t + d, lines.length, height))
  useInput((input, key) => {
    if (key.escape || input === 'q') onBack()
    else if (input === ' ') onToggle()
    else if (key.upArrow) scroll(-1)
    else if (key.downArrow) scroll(1)
    else if (key.pageUp) scroll(-height)
    else if (key.pageDown) scroll(height)
  })
  return (
    <>
      <Text wrap="truncate-end" bold>
        {INCLUSION_MARK[inclusion]} {plannedPhrase(change)}{' '}
        <Text color={inclusion === 'apply' ? 'green' : 'yellow'}>
          {inclusion === 'apply' ? '(will be applied)' : inclusion === 'left out' ? '(left out)' : '(left out: it needs a left-out change)'}
        </Text>
      </Text>
      {needsRoot === undefined ? null : <Text color="yellow" wrap="truncate-end">needs root: {terminalText(needsRoot)}</Text>}
      <TextView lines={lines} top={top} height={needsRoot === undefined ? height : height - 1} />
    </>
  )
}

/** @param columns the terminal's width: a command's lines are wrapped to it, never cut off. */
export function changeLines(change: Change, columns = 80): Line[] {
  const lines: Line[] = [
    { text: `${change.category} · ${change.provider} ${change.operation} ${change.resource}`, dim: true },
    { text: `risk: ${change.risk}${change.riskReason === undefined ? '' : ` (${change.riskReason})`}`, ...(change.risk === 'high' ? { color: 'red' } : change.risk === 'medium' ? { color: 'yellow' } : {}) },
  ]
  if (!isCommand(change) && (change.before !== undefined || change.after !== undefined)) {
    lines.push({ text: `before: ${change.before ?? '(none)'}` }, { text: `after:  ${change.after ?? '(none)'}` })
  }
  if (change.requires !== undefined && change.requires.length > 0) lines.push({ text: `needs: ${change.requires.join(', ')}` })
  if (change.diff !== undefined) lines.push({ text: '' }, ...diffLines(change.diff, '', Math.max(20, columns - 1)))
  // What runs first, one argument a line (no shell: spaces and quotes are plain characters), then the description and a script's full content.
  const review = commandReview(change)
  if (review !== undefined) {
    const width = Math.max(20, columns - 1)
    lines.push({ text: '' }, { text: 'argument list (run without a shell):', bold: true })
    lines.push(...review.argv.flatMap((arg, i) => wrapped(`  [${i}] ${quoteArg(arg)}`, width)))
    lines.push({ text: '' }, ...commandReviewLines(review).flatMap((text) => wrapped(text, width)))
  }
  return lines
}

/** A long line as several, each continuation marked, so nothing of what runs is cut off at the edge. */
function wrapped(text: string, width: number): Line[] {
  const chars = [...text]
  if (chars.length <= width) return [{ text }]
  const out: Line[] = [{ text: chars.slice(0, width).join('') }]
  for (let i = width; i < chars.length; i += width - 2) out.push({ text: `↪ ${chars.slice(i, i + width - 2).join('')}`, dim: true })
  return out
}
