import { callsUnderWay, spanOf, stopWaitingForCalls } from '../providers/provider-call.js'

/**
 * Work the panel started that must not be cut off when it closes: an apply under way, and every
 * background task of a screen or the status line (a drift check, a plan, a snapshot). None of it
 * is read-only: a drift check writes the twin's index (quick-status.ts) and the comparison caches
 * in `.git/twinsync` (kept-compare.ts, file-cache.ts). Leaving the panel stops each (`stop`) and
 * waits for it (settleBusy) before the process exits, so no half-written file, temp file or
 * `index.lock` is left behind, and nothing writes into the twin after the panel is gone.
 */
const running = new Set<{ done: Promise<unknown>; stop: () => void; said: boolean; seq: number; what: string }>()
let started = 0

/** A mark of the work started so far: `settleBusy(mark)` settles only what started after it (a test's panel, not another's). */
export function busyMark(): number {
  return started
}

/**
 * `background`: a check a screen made for itself (stopped and waited for on leaving, not named);
 * otherwise work the person started (an apply), which the exit message names. `what`: the work in
 * words ("the drift check"), for the line that says what leaving waits for.
 */
export function trackBusy(done: Promise<unknown>, stop: () => void, options: { background?: boolean; what: string }): void {
  const entry = { done: done.catch(() => undefined), stop, said: options.background !== true, seq: started++, what: options.what }
  running.add(entry)
  void entry.done.then(() => running.delete(entry))
}

/**
 * Ask the work under way to stop after its current steps, and wait for it (work started while
 * waiting too). How many of them were work the person started (an apply), for the exit message.
 */
export async function settleBusy(since = 0): Promise<number> {
  let said = 0
  const after = () => [...running].filter((p) => p.seq >= since)
  for (let pending = after(); pending.length > 0; pending = after()) {
    for (const p of pending) p.stop()
    await Promise.all(pending.map((p) => p.done))
    said += pending.filter((p) => p.said).length
    for (const p of pending) running.delete(p)
  }
  return said
}

/** The terminal as leaving the panel uses it: a line to say, each Ctrl-C, and the process's end. */
export interface LeavingTerminal {
  write(text: string): void
  /** Calls `fn` on each Ctrl-C until the returned function is called. */
  onInterrupt(fn: () => void): () => void
  exit(code: number): void
}

/** How long leaving waits in silence: most work stops at once, and a line for it would only flash. */
export const QUIET_MS = 400

/**
 * Leave the panel (runTui, once ink is gone): stop its work and wait for it (settleBusy). Session
 * 45: a provider call that ignores the cancel is waited for up to providers.callTimeoutMs, and the
 * terminal showed nothing meanwhile. Still waiting after QUIET_MS, it says what for: the work, and
 * the provider calls under way (whose, which call, how long at most). A Ctrl-C then stops waiting
 * for those calls, as if their time limit had passed now (the work winds down as after a time
 * limit: a plan cancelled, an apply's step recorded as maybe half done, nothing new started); a
 * second leaves at once, as a killed run leaves things, and says so (exit 130).
 */
export async function leavePanel(terminal: LeavingTerminal, since = 0, quietMs = QUIET_MS): Promise<number> {
  let settled = false
  const settling = settleBusy(since).finally(() => {
    settled = true
  })
  const pendingWork = () => [...new Set([...running].filter((p) => p.seq >= since).map((p) => p.what))]
  let presses = 0
  const off = terminal.onInterrupt(() => {
    if (settled) return
    presses += 1
    if (presses === 1) {
      // Never an apply() (session 45's review): given up, the run ended (exit 0) and let go of its
      // locks while the step's apt or dpkg, a process of its own, went on changing the machine.
      const applying = (c: { call: string }) => c.call === 'apply'
      const under = callsUnderWay()
      const calls = under.filter((c) => !applying(c))
      const steps = under.filter(applying)
      stopWaitingForCalls((c) => !applying(c))
      const step = steps.length > 0 ? `${callWords(steps)}: a change to the machine under way` : ''
      terminal.write(
        calls.length > 0
          ? `Stopped waiting for ${callWords(calls)}; its code may still run until TwinSync ends.${step === '' ? '' : ` Waiting for ${step}.`} Finishing TwinSync's own steps; Ctrl-C again to leave at once.\n`
          : step !== ''
            ? `Still finishing ${listed(pendingWork())}, which waits for ${step}. Ctrl-C again to leave at once.\n`
            : `Still finishing ${listed(pendingWork())}; Ctrl-C again to leave at once.\n`,
      )
      return
    }
    const apply = pendingWork().includes('the apply')
    terminal.write(
      `Left without waiting for ${listed(pendingWork())}: cut off as a killed run would be. The next twinsync command takes over its lock and finishes or undoes a half-made snapshot or index swap${apply ? '; an apply cut off is continued by the next apply (history shows what was done)' : ''}.\n`,
    )
    terminal.exit(130)
  })
  const timer = setTimeout(() => {
    if (settled) return
    const calls = callsUnderWay()
    terminal.write(
      calls.length > 0
        ? `Leaving: stopping ${listed(pendingWork())}, which waits for ${callWords(calls)}: it did not stop when asked. TwinSync stops waiting for it in ${spanOf(Math.max(...calls.map((c) => c.leftMs)))} at most (${[...new Set(calls.map((c) => c.key))].join(', ')}); Ctrl-C to stop waiting now.\n`
        : `Leaving: stopping ${listed(pendingWork())}…\n`,
    )
  }, quietMs)
  try {
    return await settling
  } finally {
    clearTimeout(timer)
    off()
  }
}

function callWords(calls: ReadonlyArray<{ provider: string; call: string }>): string {
  return listed([...new Set(calls.map((c) => `the ${c.provider} provider's ${c.call}()`))])
}

function listed(items: readonly string[]): string {
  if (items.length === 0) return 'the work under way'
  if (items.length === 1) return items[0] as string
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`
}
