import { inject, injectable } from '../di.js'
import { collectGarbage, type GcReport } from '../history/gc.js'
import { IntentService } from '../intent/intent-service.js'
import { refuseRewriteWhileInterrupted } from '../apply/resume.js'
import { RunTarget } from '../plan/run-target.js'
import { Tokens } from '../tokens.js'
import { TwinRepository } from '../twin/twin-repository.js'

/** `twinsync gc`: pack the twin, and fold old volatile-only snapshots when asked; under the twin lock. */
@injectable()
export class GcWorkflow {
  constructor(
    @inject(TwinRepository) private readonly twin: TwinRepository,
    @inject(Tokens.Clock) private readonly clock: () => Date,
    @inject(IntentService) private readonly intents: IntentService,
    @inject(RunTarget) private readonly target: RunTarget,
  ) {}

  async gc(days: number | undefined): Promise<GcReport & { repo: string }> {
    await this.twin.open()
    // A snapshot killed half way is finished before folding old snapshots rewrites HEAD (lockForWriting).
    const lock = await this.twin.lockForWriting('gc')
    try {
      // Edits a killed run set aside go back first: their record names commits by id, and folding
      // rewrites those commits and prunes the old ones (then every later plan failed on it).
      await this.intents.putBackHeld()
      // Folding rewrites the commits an interrupted apply's record names (resume.ts); packing alone keeps them.
      if (days !== undefined) await refuseRewriteWhileInterrupted(this.twin.dir, this.target.get(this.twin.dir), ['gc', '--squash-volatile-older-than', String(days)])
      return { repo: this.twin.dir, ...(await collectGarbage(this.twin.dir, { now: this.clock(), ...(days === undefined ? {} : { squashVolatileOlderThanDays: days }) })) }
    } finally {
      await lock.release()
    }
  }
}
