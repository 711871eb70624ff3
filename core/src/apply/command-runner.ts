import { randomBytes } from 'node:crypto'
import type { Change, ChangeResult, HostPort } from '@twinsync/sdk'
import type { CommandChangeData } from '../plan/plan-instructions.js'

const OUTPUT_TAIL_LINES = 20

/**
 * Runs the commands and scripts of plans/*.yaml: argument lists, never a shell, inside the
 * target. A script is copied into the target's /tmp (with the content reviewed in the plan,
 * not whatever the twin holds now), run, and removed.
 */
export async function runCommandChange(host: HostPort, change: Change, signal: AbortSignal): Promise<ChangeResult> {
  const data = change.data as CommandChangeData
  let argv = data.argv
  let scratch: string | undefined
  try {
    if (data.kind === 'script' && data.script !== undefined) {
      scratch = `/tmp/twinsync-script-${randomBytes(6).toString('hex')}`
      await host.writeFileAtomic(scratch, data.script.text, { mode: 0o700, uid: 0, gid: 0 })
      argv = [scratch, ...data.argv.slice(1)]
    }
    const [program, ...args] = argv as [string, ...string[]]
    const result = await host.exec(program, args, { inTarget: true, signal, timeoutMs: 30 * 60_000 })
    const outputTail = tail(`${result.stdout}${result.stderr}`)
    if (result.exitCode === 0) return { id: change.id, status: 'applied', message: `exit 0`, ...(outputTail ? { outputTail } : {}) }
    return { id: change.id, status: 'failed', message: `${data.argv[0]} exited ${result.exitCode}${result.timedOut ? ' (timed out)' : ''}`, ...(outputTail ? { outputTail } : {}) }
  } catch (error) {
    return { id: change.id, status: 'failed', message: (error as Error).message }
  } finally {
    if (scratch !== undefined) await host.remove(scratch).catch(() => undefined)
  }
}

export function tail(text: string): string {
  const lines = text.replace(/\n$/, '').split('\n')
  return lines.slice(-OUTPUT_TAIL_LINES).join('\n')
}
