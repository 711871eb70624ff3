/**
 * Work the panel started that must not be cut off when it closes: an apply under way, and every
 * background task of a screen or the status line (a drift check, a plan, a snapshot). None of it
 * is read-only: a drift check writes the twin's index (quick-status.ts) and the comparison caches
 * in `.git/twinsync` (kept-compare.ts, file-cache.ts). Leaving the panel stops each (`stop`) and
 * waits for it (settleBusy) before the process exits, so no half-written file, temp file or
 * `index.lock` is left behind, and nothing writes into the twin after the panel is gone.
 */
const running = new Set<{ done: Promise<unknown>; stop: () => void; said: boolean; seq: number }>()
let started = 0

/** A mark of the work started so far: `settleBusy(mark)` settles only what started after it (a test's panel, not another's). */
export function busyMark(): number {
  return started
}

/**
 * `background`: a check a screen made for itself (stopped and waited for on leaving, not named);
 * otherwise work the person started (an apply), which the exit message names.
 */
export function trackBusy(done: Promise<unknown>, stop: () => void, options: { background?: boolean } = {}): void {
  const entry = { done: done.catch(() => undefined), stop, said: options.background !== true, seq: started++ }
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
