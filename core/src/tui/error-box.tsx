import { useMemo } from 'react'
import { Box, Text } from 'ink'
import { terminalText } from '../terminal-text.js'
import { userErrorOf } from '../twin/disk-error.js'
import { failureAsTold } from '../twin/twin-owner.js'

/**
 * An error as a person can act on it: code, message, next step. Never a stack trace. What is
 * the person's to fix is told as the CLI tells it (userErrorOf: a raw ENOSPC is DISK_FULL, not
 * a bug; session 36; failureAsTold: root's files left in a user's twin, session 40).
 */
export function ErrorBox({ error, title = 'That did not work' }: { error: unknown; title?: string }) {
  // Root's files left in a user's twin are what to say, as the CLI's catch says (failureAsTold;
  // it looks through the twin only for a user's run, once per error shown).
  const known = useMemo(() => userErrorOf(failureAsTold(error)), [error])
  const code = known !== undefined ? known.code : 'INTERNAL'
  const message = known !== undefined ? known.message : error instanceof Error ? error.message : String(error)
  const nextStep = known !== undefined ? known.nextStep : 'This is a bug in TwinSync. Run the same command line with TWINSYNC_DEBUG=1 and report it.'
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
