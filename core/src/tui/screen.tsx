import type { ReactNode } from 'react'
import { Box, Text } from 'ink'
import { useTerminalSize } from './hooks.js'
import { KeyHints, type Hint } from './key-hints.js'
import { StatusLine } from './status-line.js'

/**
 * Every screen's frame, sized to the terminal (one row short, so ink never scrolls it):
 * title, body, the status line, and the keys that work here.
 */
export function Screen({ title, hints, children }: { title: string; hints: readonly Hint[]; children: ReactNode }) {
  const { columns, rows } = useTerminalSize()
  return (
    <Box flexDirection="column" width={columns} height={rows - 1}>
      <Text bold wrap="truncate-end">
        <Text color="cyan">TwinSync</Text> › {title}
      </Text>
      <Box flexDirection="column" flexGrow={1} overflow="hidden">
        {children}
      </Box>
      <StatusLine />
      <KeyHints hints={hints} />
    </Box>
  )
}

/** One row of a list: a marker for the cursor, then the text. */
export function Row({ selected, children, dim }: { selected: boolean; children: ReactNode; dim?: boolean }) {
  return (
    <Text wrap="truncate-end" {...(selected ? { color: 'cyan', bold: true } : {})} {...(dim === true ? { dimColor: true } : {})}>
      {selected ? '❯ ' : '  '}
      {children}
    </Text>
  )
}
