import { strict as assert } from 'node:assert'
import { readdirSync, readFileSync } from 'node:fs'

/**
 * Timing a rule against a linear scan of the same text (the secret rules in the SDK, the files
 * plugin's naming rules): a ratio, not an absolute time, in this process's CPU time, not wall
 * time: a run the machine's load kept waiting is not slower work (session 38's CI, beside a chaos
 * run: one took 15.6 ms of wall time against a budget of 8.6 ms).
 */
function cpuMs(): number {
  const used = process.cpuUsage()
  return (used.user + used.system) / 1000
}

/** The least of three runs, in ms of CPU. */
function least(run: () => void): number {
  let best = Number.POSITIVE_INFINITY
  for (let i = 0; i < 3; i++) {
    const started = cpuMs()
    run()
    best = Math.min(best, cpuMs() - started)
  }
  return best
}

/**
 * A linear pass over the text of about a rule's cost per character: one step a character. (Until
 * session 46 a step a run of word characters or of others: a text of one character, 64 KB of `'`,
 * was one match, 0.03 ms, while a linear rule still walks it, 1.7 ms alone and over 26 ms within
 * the whole suite on a busy machine, so CI failed it.)
 */
function linearScan(text: string): void {
  const scan = /[\s\S]/g
  while (scan.exec(text) !== null);
}

/**
 * What any run may take besides `factor` scans (linearScan): PostgreSQL's include rule
 * 3.4 ms alone on 64 KB (0.8 / 1.7 / 3.4 / 6.7 / 13.9 ms for 16-256 KB), 6.7-14.2 ms within the
 * whole suite at load 14-20 (session 46's CI: 5 ms failed it). A superlinear rule on these
 * 32-64 KB texts takes seconds.
 */
const FLOOR_MS = 25

/** Runs of the work at most: a superlinear rule is slow every time, a linear one kept waiting by the machine's load once in a while. */
const RUNS = 4

/**
 * The budget of work on `text`: `factor` times a linear scan's CPU time (and FLOOR_MS); `within`
 * says whether the least of the runs so far (`took`, ms of CPU) is within it, `check` asserts it.
 * The one rule of assertLinearTime and assertLinearTimeAsync.
 */
function linearBudget(text: string, what: string, factor: number): { within(took: number): boolean; check(took: number): void } {
  const base = least(() => linearScan(text))
  const budget = factor * base + FLOOR_MS
  return {
    within: (took) => took <= budget,
    check: (took) => assert.ok(took <= budget, `${what}: ${took.toFixed(1)} ms of CPU, a linear scan ${base.toFixed(2)} ms (${(took / base).toFixed(0)}x)`),
  }
}

/**
 * `run` on `text` takes at most `factor` times a linear scan's CPU time (and FLOOR_MS): a superlinear
 * rule on these texts takes thousands of times a scan (seconds), a linear one a few
 * (milliseconds). The least of up to four runs counts, the first within the budget ending it.
 */
export function assertLinearTime(run: () => void, text: string, what: string, factor = 40): void {
  const budget = linearBudget(text, what, factor)
  let took = Number.POSITIVE_INFINITY
  for (let i = 0; i < RUNS && !budget.within(took); i++) {
    const started = cpuMs()
    run()
    took = Math.min(took, cpuMs() - started)
  }
  budget.check(took)
}

/**
 * assertLinearTime for work that waits on I/O (the apply's record, written step by step): `run`
 * on an input whose text is `text`, counted in this process's CPU time, so time spent waiting on
 * the disk is not counted, only the work done for it.
 */
export async function assertLinearTimeAsync(run: () => Promise<void>, text: string, what: string, factor = 40): Promise<void> {
  const budget = linearBudget(text, what, factor)
  let took = Number.POSITIVE_INFINITY
  for (let i = 0; i < RUNS && !budget.within(took); i++) {
    const started = cpuMs()
    await run()
    took = Math.min(took, cpuMs() - started)
  }
  budget.check(took)
}

/**
 * CPU time (ms, user and system) the live child processes of this process have used whose
 * command line matches `command` (a `git cat-file --batch` a reader keeps open): work TwinSync
 * asks of git is not in this process's own CPU time. Read from /proc (`task/<tid>/children`, then
 * each child's `stat`); a child that has exited is not counted, so ask before closing it.
 */
export function childCpuMs(command: RegExp): number {
  const tick = 1000 / 100 // USER_HZ: 100 on Linux
  let ms = 0
  for (const task of readdirSync('/proc/self/task')) {
    const children = readFileSync(`/proc/self/task/${task}/children`, 'utf8').split(' ').filter((p) => p !== '')
    for (const pid of children) {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ')
      if (!command.test(cmdline)) continue
      // Fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')
      ms += (Number(fields[11]) + Number(fields[12])) * tick
    }
  }
  return ms
}

/**
 * CPU time (ms) of this process's child processes that have exited and been waited for
 * (`cutime` and `cstime` of /proc/self/stat): the work of the short git commands a function runs.
 * Take it before and after; the difference is theirs (and any other child's that exited
 * meanwhile). `user`: git's own work (matching, hashing), without the kernel's for its files.
 */
export function exitedChildCpuMs(): { user: number; system: number } {
  const fields = readFileSync('/proc/self/stat', 'utf8').replace(/^.*\) /s, '').split(' ')
  // After the closing parenthesis: cutime and cstime are the 14th and 15th fields (USER_HZ 100).
  return { user: Number(fields[13]) * 10, system: Number(fields[14]) * 10 }
}
