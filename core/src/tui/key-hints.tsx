import { Text } from 'ink'

export type Hint = readonly [key: string, action: string]

/** The keys a screen answers to, always on its last row. */
export function KeyHints({ hints }: { hints: readonly Hint[] }) {
  return (
    <Text wrap="truncate-end">
      {hints.map(([key, action], i) => (
        <Text key={key}>
          {i > 0 ? '  ' : ''}
          <Text bold color="cyan">{key}</Text> {action}
        </Text>
      ))}
    </Text>
  )
}

export const BACK: Hint = ['Esc/q', 'back']
export const MOVE: Hint = ['↑↓', 'move']
