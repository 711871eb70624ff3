import type { Hook } from '@oclif/core'
import { TwinSyncError } from '@twinsync/sdk/errors'
import { formatUserError } from '../base-command.js'

/** An unknown command is a usage error like any other: a code, a next step, exit 2. */
const hook: Hook<'command_not_found'> = async function (options) {
  const error = new TwinSyncError('USAGE', `"${options.id}" is not a twinsync command`, {
    nextStep: 'Run `twinsync --help` to list the commands.',
  })
  if (options.argv?.includes('--json')) process.stdout.write(JSON.stringify({ error: error.toJSON() }, null, 2) + '\n')
  else process.stderr.write(formatUserError(error))
  process.exit(2)
}
export default hook
