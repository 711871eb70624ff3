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
