import { Box, Text } from 'ink'

export interface Line {
  text: string
  color?: string
  bold?: boolean
  dim?: boolean
}

/** Lines of a diff, coloured the way git colours them. */
export function diffLines(diff: string, indent = ''): Line[] {
  return diff
    .replace(/\n$/, '')
    .split('\n')
    .map((l): Line => {
      const text = indent + l
      if (l.startsWith('+++') || l.startsWith('---')) return { text, bold: true }
      if (l.startsWith('+')) return { text, color: 'green' }
      if (l.startsWith('-')) return { text, color: 'red' }
      if (l.startsWith('@@')) return { text, color: 'cyan' }
      return { text }
    })
}

/** A window of `height` lines starting at `top`, with a position marker when it scrolls. */
export function TextView({ lines, top, height }: { lines: readonly Line[]; top: number; height: number }) {
  const visible = lines.slice(top, top + height)
  const scrolls = lines.length > height
  return (
    <Box flexDirection="column">
      {visible.map((l, i) => (
        <Text key={top + i} wrap="truncate-end" {...(l.color ? { color: l.color } : {})} {...(l.bold ? { bold: true } : {})} {...(l.dim ? { dimColor: true } : {})}>
          {l.text === '' ? ' ' : l.text}
        </Text>
      ))}
      {scrolls ? (
        <Text dimColor>
          — lines {top + 1}-{Math.min(lines.length, top + height)} of {lines.length} —
        </Text>
      ) : null}
    </Box>
  )
}

/** Keep a scroll position inside the text. */
export function clampTop(top: number, length: number, height: number): number {
  return Math.max(0, Math.min(top, length - height))
}
