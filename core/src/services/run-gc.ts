import type { DependencyContainer } from '../di.js'
import { collectGarbage, type GcReport } from '../history/gc.js'
import { TwinRepository } from '../twin/twin-repository.js'

export async function runGc(container: DependencyContainer, days: number | undefined): Promise<GcReport & { repo: string }> {
  const twin = container.resolve(TwinRepository)
  await twin.open()
  const lock = twin.lock()
  await lock.acquire('gc')
  try {
    return { repo: twin.dir, ...(await collectGarbage(twin.dir, { now: new Date(), ...(days === undefined ? {} : { squashVolatileOlderThanDays: days }) })) }
  } finally {
    await lock.release()
  }
}

export function renderGc(r: GcReport & { repo: string }): string {
  const mib = (n: number) => `${(n / 1048576).toFixed(2)} MiB`
  return [
    `${r.repo}: ${mib(r.sizeBefore)} → ${mib(r.sizeAfter)}`,
    `${r.commitsBefore} snapshots → ${r.commitsAfter}${r.squashed > 0 ? ` (${r.squashed} volatile-only folded)` : ''}`,
  ].join('\n')
}
