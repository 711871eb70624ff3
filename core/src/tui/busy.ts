/** Work that must not be cut off when the panel closes (an apply under way). */
const running = new Set<{ done: Promise<unknown>; stop: () => void }>()

export function trackBusy(done: Promise<unknown>, stop: () => void): void {
  const entry = { done: done.catch(() => undefined), stop }
  running.add(entry)
  void entry.done.then(() => running.delete(entry))
}

/** Ask the work under way to stop after its current steps, and wait for it. */
export async function settleBusy(): Promise<number> {
  const pending = [...running]
  for (const p of pending) p.stop()
  await Promise.all(pending.map((p) => p.done))
  return pending.length
}
