import type {
  ContentValidator,
  StartupEntry,
  StartupView,
  ApplicableProvider,
  ApplyRequest,
  ApplyResult,
  CollectRequest,
  CollectResult,
  DetectRequest,
  DetectResult,
  DiffRequest,
  DiffResult,
  LoadRequest,
  LoadResult,
  OverLimitRequest,
} from '@twinsync/sdk'
import { applyCron, checkCronChange } from './apply.js'
import { MadeDocuments, refusedChanges, twinsyncLines, type Diagnostic, type FollowUpRequest, type PlanReview, type ScopeRequest } from '@twinsync/sdk'
import { reviewCronPlan } from './review.js'
import { collectCron } from './collect.js'
import { diffCron } from './diff.js'
import { CronOverLimit, cronDocumentsOverLimit, loadCron } from './load.js'
import { parseCrontab } from './crontab-parser.js'
import { startupEntries } from './startup-entry.js'
import { cronDocuments, cronReadsCronDFile } from './model.js'
import { CRON_D_DIR, CRON_JSON, CRONTAB_DIR, CronState, SYSTEM_CRONTAB } from './state.js'
import { CRON_CODES } from './codes.js'

/**
 * Cron: owns the user crontabs (mirrored without cron's header, installed with `crontab -u`),
 * and describes every job of the machine, system files included, in system/startup/cron.json.
 */
export class CronProvider implements ApplicableProvider<CronState>, StartupView<CronState>, ContentValidator, PlanReview<CronState> {
  readonly name = 'cron'
  readonly version = '0.1.0'
  readonly category = 'startup' as const
  readonly description = 'User crontabs, and every cron job of the machine (@reboot included)'
  readonly twinPaths = [CRON_JSON] as const
  /** Its own codes, with what each means (codes.ts): `twinsync providers --codes` and `describe` list them. */
  readonly codes = CRON_CODES
  readonly claims = [`${CRONTAB_DIR}/*`] as const
  /** cron.json describes every job; the jobs are applied from the crontab files, never from it. */
  readonly describes = [
    {
      path: CRON_JSON,
      appliedFrom: `${CRON_JSON} only describes the cron jobs; they are applied from the crontab files: edit filesystem${SYSTEM_CRONTAB}, a file in filesystem${CRON_D_DIR}/ or a user's filesystem${CRONTAB_DIR}/USER, then plan again`,
    },
  ] as const
  /** Built when first read (lazySchema): a snapshot never checks its state against it. */
  get stateSchema() {
    return CronState()
  }
  /** The user crontabs as this provider's last collect made them: not counted against MAX_CRON_LINES (MadeDocuments). */
  private readonly made = new MadeDocuments()

  async detect({ ctx }: DetectRequest): Promise<DetectResult> {
    const crontab = await ctx.host.which('crontab', { inTarget: true })
    if (crontab !== undefined) return { detected: true, reason: `crontab at ${crontab}`, diagnostics: [] }
    for (const path of [CRONTAB_DIR, SYSTEM_CRONTAB, CRON_D_DIR]) {
      if ((await ctx.host.stat(path)) !== undefined) return { detected: true, reason: `${path} exists (crontab is not installed)`, diagnostics: [] }
    }
    return { detected: false, reason: 'cron is not installed (no crontab, no /etc/crontab)', diagnostics: [] }
  }

  async collect({ ctx, previous }: CollectRequest): Promise<CollectResult<CronState>> {
    const { state, diagnostics } = await collectCron(ctx, this.name, previous)
    return { state, documents: this.made.remember(cronDocuments(state)), diagnostics }
  }

  async load({ twin, ctx }: LoadRequest): Promise<LoadResult<CronState>> {
    try {
      return { state: await loadCron(twin, { made: (path, text) => this.made.made(path, text), line: twinsyncLines(ctx) }), diagnostics: [] }
    } catch (error) {
      if (error instanceof CronOverLimit) return { state: undefined, diagnostics: [error.diagnostic] }
      throw error
    }
  }

  /** The twin's crontabs over MAX_CRON_LINES, by the count load refuses on (load.ts): a pull asks it of the mirror's twin. */
  overLimit({ twin, ctx }: OverLimitRequest): Promise<Diagnostic[]> {
    return cronDocumentsOverLimit(twin, twinsyncLines(ctx))
  }

  diff({ desired, actual }: DiffRequest<CronState>): DiffResult {
    return diffCron(desired, actual, this.name)
  }

  /** The system crontabs the files provider writes: checked here, so a bad schedule is never written. */
  readonly validatesPaths = [SYSTEM_CRONTAB, `${CRON_D_DIR}/*`] as const

  validateContent(path: string, content: string): string[] {
    // A file cron skips by its name (`job.disabled`, the way to switch one off) is never read: nothing to refuse.
    if (path.startsWith(`${CRON_D_DIR}/`) && !cronReadsCronDFile(path.slice(CRON_D_DIR.length + 1))) return []
    const problems = parseCrontab(content, { path, format: 'system' }).problems.map((p) => `line ${p.line}: ${p.reason}`)
    // cron ignores such a file whole (its log only: "Missing newline before EOF"); checked again
    // after the write, with the file's owner and mode (the cron entry of DEBIAN_CONFIG_CHECKS).
    if (content !== '' && !content.endsWith('\n')) problems.push('no newline at the end: cron would ignore the whole file ("Missing newline before EOF")')
    return problems
  }

  /** What cron would silently leave out of the files the plan writes (a script run-parts skips, a job's unknown user): warnings. */
  reviewPlan(request: FollowUpRequest<CronState>): Promise<Diagnostic[]> {
    return reviewCronPlan(request, this.name)
  }

  /** What this state starts at boot, at login or on a schedule, for `twinsync startup`. */
  startupEntries(state: CronState): StartupEntry[] {
    return startupEntries(state)
  }

  /** A change apply would refuse (a user name with "/" or a leading "-"…): never planned, a plan holding one refused whole. */
  async outOfScope({ changes, ctx }: ScopeRequest): Promise<Diagnostic[]> {
    return refusedChanges(this.name, changes, (change) => checkCronChange(change, this.name), twinsyncLines(ctx))
  }

  apply({ changes, ctx, onResult }: ApplyRequest): Promise<ApplyResult> {
    return applyCron(changes, ctx, this.name, onResult)
  }
}
