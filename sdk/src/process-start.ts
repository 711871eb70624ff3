import { readFileSync } from 'node:fs'

/**
 * When process `pid` started, in clock ticks since boot (field 22 of /proc/PID/stat, after the
 * parenthesised command name, which may hold spaces and parentheses): with the pid, it tells a
 * process from a later one given the same id. Undefined when there is no such process (or no /proc),
 * and when it has ended and only its parent has not reaped it yet (a zombie, state Z or X): it
 * runs no more code, as one already reaped. Session 44 (attack): a `twinsync apply` killed -9 by a
 * parent that never waited on it held the twin's lock for as long as that parent lived (LOCK_HELD,
 * "wait for process N", which `ps` showed as `<defunct>`), and scheduled snapshots all said busy.
 */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    if (fields[0] === 'Z' || fields[0] === 'X') return undefined
    return fields[19]
  } catch {
    return undefined
  }
}
