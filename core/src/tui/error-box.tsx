import { Box, Text } from 'ink'
import { isTwinSyncError } from '@twinsync/sdk/light'
import { terminalText } from '../terminal-text.js'

/** An error as a person can act on it: code, message, next step. Never a stack trace. */
export function ErrorBox({ error, title = 'That did not work' }: { error: unknown; title?: string }) {
  const known = isTwinSyncError(error)
  const code = known ? error.code : 'INTERNAL'
  const message = error instanceof Error ? error.message : String(error)
  const nextStep = known ? error.nextStep : 'This is a bug in TwinSync. Run the same command line with TWINSYNC_DEBUG=1 and report it.'
  return (
    <Box flexDirection="column" borderStyle="round" borderColor="red" paddingX={1}>
      <Text color="red" bold>
        {title}: error [{code}]
      </Text>
      <Text>{terminalText(message.split('\n')[0] ?? '')}</Text>
      {nextStep ? <Text>Next step: {terminalText(nextStep)}</Text> : null}
    </Box>
  )
}
