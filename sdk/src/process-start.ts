import { readFileSync } from 'node:fs'

/**
 * When process `pid` started, in clock ticks since boot (field 22 of /proc/PID/stat, after the
 * parenthesised command name, which may hold spaces and parentheses): with the pid, it tells a
 * process from a later one given the same id. Undefined when there is no such process (or no /proc).
 */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]
  } catch {
    return undefined
  }
}
