import { TwinSyncError, isTwinSyncError } from '@twinsync/sdk/light'
import { twinsyncLine } from '../plan/command-text.js'
import { RunTarget } from '../plan/run-target.js'
import { inject, injectable } from '../di.js'
import { finishInterruptedForget, forgetInHistory, type ForgetReport, type ForgetRequest } from '../history/forget.js'
import { recordForgotten } from '../history/forgotten-paths.js'
import { IntentService } from '../intent/intent-service.js'
import { refuseRewriteWhileInterrupted } from '../apply/resume.js'
import { readRemoteSettings } from '../remote/remote-settings.js'
import { TwinRepository } from '../twin/twin-repository.js'

export interface ForgetResult extends ForgetReport {
  repo: string
  /** A mirror is linked: it still has the old history until a forced push. */
  mirror: string | null
  nextSteps: string[]
}

/** `twinsync forget`: the CLI and the TUI call this. */
@injectable()
export class ForgetWorkflow {
  constructor(
    @inject(TwinRepository) private readonly twin: TwinRepository,
    @inject(IntentService) private readonly intents: IntentService,
    @inject(RunTarget) private readonly target: RunTarget,
  ) {}

  async forget(request: ForgetRequest): Promise<ForgetResult> {
    const nothingNamed = request.paths.length === 0 && request.rules.length === 0
    const invalid = () =>
      new TwinSyncError('FORGET_INVALID', 'Name what to forget: one or more paths, or --rule RULE', {
        nextStep: 'For example: `twinsync forget /etc/postfix/sasl_passwd` or `twinsync forget --rule credential-assignment`.',
      })
    const twin = this.twin
    await twin.open({ finishingForget: true })
    // A snapshot killed half way is finished before history is rewritten (lockForWriting).
    const lock = await twin.lockForWriting('forget')
    try {
      // Edits a killed run set aside go back first: pending through the rewrite as any other (its
      // record names commits by id, which the rewrite replaces and prunes).
      await this.intents.putBackHeld()
      // A forget killed half way is finished first (its record; forget.ts), with or without a request.
      const finished = await finishInterruptedForget(twin.dir, (args) => this.target.line(args, twin.dir))
      if (nothingNamed && finished === undefined) throw invalid()
      // An interrupted apply's record names commits the rewrite would replace and prune (resume.ts).
      if (!nothingNamed) await refuseRewriteWhileInterrupted(twin.dir, this.target.get(twin.dir), ['forget', ...request.paths, ...request.rules.flatMap((r) => ['--rule', r])])
      // Pending edits stay pending through the rewrite, unless one is of what is forgotten (TWIN_DIRTY, forgetInHistory).
      const pending = {
        paths: await twin.dirtyPaths(),
        // A snapshot keeps edits pending on top (they stay uncommitted): only applying or discarding them clears them.
        nextStep:
          `They are pending changes: \`${twinsyncLine(['status'], this.target.get(twin.dir))}\` lists them; ` +
          `apply them (\`${twinsyncLine(['apply'], this.target.get(twin.dir))}\`) or drop the ones you no longer want (\`${twinsyncLine(['discard', 'ITEM'], this.target.get(twin.dir))}\`), then run forget again.`,
      }
      const report = nothingNamed ? (finished as ForgetReport) : await forgetInHistory(twin.dir, request, { pending, line: (args) => this.target.line(args, twin.dir) }).catch((error: unknown) => {
        // The same request again after a kill: what it asked for is already forgotten.
        if (finished !== undefined && isTwinSyncError(error) && error.code === 'FORGET_NOTHING') return finished
        throw error
      })
      // Its mirrored files are out of the twin, not off the machine: no plan deletes them until a snapshot records the machine again.
      await recordForgotten(twin.dir, report.removed)
      const remote = await readRemoteSettings(twin.dir)
      const nextSteps: string[] = []
      if (remote !== undefined) {
        nextSteps.push(`Replace the mirror's history, which still holds it: \`${this.target.line(['push', '--retry', '--force'], twin.dir)}\`; then \`${this.target.line(['gc'], twin.dir)}\` drops the old objects here too.`)
      }
      nextSteps.push('Treat the secret as exposed if it was ever pushed or cloned: change it (rotate the key or password).')
      nextSteps.push(
        'If the machine still has it, keep the next snapshot from recording it again: add the path to the files provider\'s `ignore` or `secrets.paths` in the configuration.',
      )
      return { repo: twin.dir, mirror: remote?.url ?? null, nextSteps, ...report }
    } finally {
      await lock.release()
    }
  }
}
