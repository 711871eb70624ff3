import type { CollectProgress } from '../collect/collector.js'

/**
 * The CLI's progress while the machine is collected (snapshot, plan, status, the planning of apply
 * and revert): a line per domain on stderr as each provider finishes, when stderr is a terminal.
 * Nothing on a pipe or with --json, so what a script reads is only the summary.
 */
export function cliProgress(json: boolean, stream: NodeJS.WriteStream = process.stderr): CollectProgress | undefined {
  if (json || stream.isTTY !== true) return undefined
  return (e) => {
    if (e.phase !== 'start') stream.write(`  ${e.provider.padEnd(10)} ${e.phase}\n`)
  }
}
