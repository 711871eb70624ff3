import {
  TwinSyncError,
  errorDiagnostic,
  schemaProblem,
  stableStringify,
  type ApplicableProvider,
  type ApplyRequest,
  type ApplyResult,
  type CollectRequest,
  type CollectResult,
  type DetectRequest,
  type DetectResult,
  type DiffRequest,
  type DiffResult,
  type LoadRequest,
  type LoadResult,
} from '@twinsync/sdk'
import { applyDnfChanges } from './apply.js'
import { collectDnfState } from './collect.js'
import { diffDnfState } from './diff.js'
import { findRpmDatabase } from './rpm-database.js'
import { DnfConfig, DnfState, TWIN_PATH } from './state.js'
import { DNF_CODES } from './codes.js'

/**
 * rpm packages managed with dnf. Collects names, versions, architectures and user-installed
 * marks into system/packages/dnf.json; applies install, erase and marks through dnf.
 */
export class DnfProvider implements ApplicableProvider<DnfState> {
  readonly name = 'dnf'
  readonly version = '1.0.0'
  readonly category = 'packages' as const
  readonly description = 'rpm packages installed with dnf: versions and user-installed marks'
  readonly twinPaths = [TWIN_PATH]
  /** Its own codes, with what each means (codes.ts): `twinsync providers --codes` and `describe` list them. */
  readonly codes = DNF_CODES
  // Getters: TwinSync reads a schema only when it checks something against it (a config file
  // with a dnf section, `twinsync config`), and the schema is built then (state.ts).
  get stateSchema() {
    return DnfState()
  }
  get configSchema() {
    return DnfConfig()
  }

  async detect({ ctx }: DetectRequest): Promise<DetectResult> {
    for (const tool of ['rpm', 'dnf', 'python3']) {
      if ((await ctx.host.which(tool)) === undefined) return { detected: false, reason: `${tool} is not installed`, diagnostics: [] }
    }
    // The target's rpm database, read from the target only (its macros, the usual places).
    const db = await findRpmDatabase(ctx.host)
    return { detected: db.path !== undefined, reason: db.reason, diagnostics: [] }
  }

  async collect({ ctx }: CollectRequest): Promise<CollectResult<DnfState>> {
    const { state, diagnostics } = await collectDnfState(ctx.host)
    return { state, documents: [{ path: TWIN_PATH, content: stableStringify(state) }], diagnostics }
  }

  async load({ twin }: LoadRequest): Promise<LoadResult<DnfState>> {
    const text = await twin.readText(TWIN_PATH)
    if (text === undefined) return { state: undefined, diagnostics: [] }
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch (error) {
      throw new TwinSyncError('TWIN_INVALID', `${TWIN_PATH} is not valid JSON: ${(error as Error).message}`, {
        nextStep: `Correct ${TWIN_PATH} in the twin (or restore it with git) and plan again.`,
      })
    }
    // The twin is untrusted input: check its shape before anything reads it.
    const problem = await schemaProblem(DnfState(), parsed)
    if (problem !== undefined) return { state: undefined, diagnostics: [errorDiagnostic('TWIN_INVALID', `${TWIN_PATH} ${problem}`, { path: TWIN_PATH, provider: 'dnf' })] }
    return { state: parsed as DnfState, diagnostics: [] }
  }

  diff({ desired, actual }: DiffRequest<DnfState>): DiffResult {
    return diffDnfState(desired, actual)
  }

  apply({ changes, ctx, onResult }: ApplyRequest): Promise<ApplyResult> {
    return applyDnfChanges(changes, ctx, onResult)
  }
}
