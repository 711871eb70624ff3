'use strict'
// Speed (issue 22, session 8): once a command has run (its output written, its code caches
// saved) and nothing is left in the event loop, the process exits at once instead of through
// Node's own end, which first waits for V8's platform tasks: an incremental mark-compact that V8
// started near the end of the run (its old generation's slack below the young generation's
// capacity, as `plan` and `status` reach on the services root) is finished before the process
// may go, for nothing. Measured on the services root (medians of 15 interleaved, load 3.1-3.4,
// CPU user + sys): `plan` 160.5 → 142.6 ms of CPU, wall 292 → 246 ms; `status` 156.4 → 141.1 ms,
// wall 239 → 195 ms (an unchanged snapshot, which ends just under V8's mark, 136.5 ms).
//
// Only when the loop is idle: anything still pending (a child process, a timer, a file or
// socket operation, stdin being read) leaves the exit to Node as before, and so does a
// `beforeExit` listener (ink's, for one, restores the terminal there). stdout and stderr are
// synchronous for files, pipes and terminals on Linux: nothing written is lost. The exit code is
// process.exitCode, as Node's own end gives it.

/** The handles stdout, stderr and stdin keep open: not work in progress. */
const STDIO = new Set(['TTYWrap', 'PipeWrap'])

/**
 * Looks from the event loop's next turn (setImmediate), never from inside the promise callback
 * that calls it: every microtask already queued (a promise chain the command left behind, say
 * one writing a file) runs to its end before the check, and whatever that left pending keeps the
 * process alive as it would without this.
 */
function exitWhenIdle() {
  setImmediate(exitIfIdle)
}

function exitIfIdle() {
  if (process.listenerCount('beforeExit') > 0) return
  const active = typeof process.getActiveResourcesInfo === 'function' ? process.getActiveResourcesInfo() : undefined
  if (active === undefined || active.length > 3 || !active.every((r) => STDIO.has(r))) return
  process.exit()
}

module.exports = { exitWhenIdle }
