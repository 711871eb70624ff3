import { TwinSyncError } from '@twinsync/sdk/errors'
import { pathWord, twinsyncLine, type CommandTarget } from '../plan/command-text.js'

/** What `--from` and `--only` ask a command that plans now (`apply`, `rehearse`) to plan. */
export interface PlanChoice {
  from?: string
  only?: string[]
}

/**
 * `apply` and `rehearse`: `--from` and `--only` choose what to plan now, so with a saved plan
 * file they are refused (USAGE) with the two commands that do it, this run's values in them, to
 * paste. Otherwise the choice, `--only` split at its commas.
 */
export function planChoice(
  command: 'apply' | 'rehearse',
  planFile: string | undefined,
  flags: { from?: string | undefined; only?: string | undefined },
  target: CommandTarget,
): PlanChoice {
  if (planFile !== undefined && (flags.from !== undefined || flags.only !== undefined)) {
    const choose = [...(flags.from === undefined ? [] : ['--from', flags.from]), ...(flags.only === undefined ? [] : ['--only', flags.only])]
    throw new TwinSyncError('USAGE', '--from and --only choose what to plan; they do not go with a saved plan file', {
      nextStep: `Make the plan with \`${twinsyncLine(['plan', ...choose, '--out', pathWord(planFile)], target)}\`, then \`${twinsyncLine([command, pathWord(planFile)], target)}\`.`,
    })
  }
  return {
    ...(flags.from === undefined ? {} : { from: flags.from }),
    ...(flags.only === undefined ? {} : { only: flags.only.split(',').map((s) => s.trim()).filter(Boolean) }),
  }
}
