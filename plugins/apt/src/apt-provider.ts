import {
  errorDiagnostic,
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
import { applyAptChanges } from './package-apply.js'
import { collectAptState, DPKG_STATUS } from './package-collector.js'
import { diffAptState } from './package-diff.js'
import { APT_DOCUMENT, AptState } from './package-state.js'

/** Debian packages: what is installed, manual or automatic, held; installed and removed through apt-get. */
export class AptProvider implements ApplicableProvider<AptState> {
  readonly name = 'apt'
  readonly version = '0.1.0'
  readonly category = 'packages' as const
  readonly description = 'Installed Debian packages (dpkg/apt): versions, manual or automatic marks, holds'
  readonly twinPaths = [APT_DOCUMENT] as const
  readonly stateSchema = AptState

  async detect({ ctx }: DetectRequest): Promise<DetectResult> {
    const status = await ctx.host.stat(DPKG_STATUS)
    return status?.type === 'file'
      ? { detected: true, reason: `dpkg database at ${DPKG_STATUS}`, diagnostics: [] }
      : { detected: false, reason: `no ${DPKG_STATUS} on the target`, diagnostics: [] }
  }

  async collect({ ctx }: CollectRequest): Promise<CollectResult<AptState>> {
    const { state, diagnostics } = await collectAptState(ctx.host)
    return { state, documents: [{ path: APT_DOCUMENT, content: stableStringify(state) }], diagnostics }
  }

  async load({ twin }: LoadRequest): Promise<LoadResult<AptState>> {
    const text = await twin.readText(APT_DOCUMENT)
    if (text === undefined) return { state: undefined, diagnostics: [] }
    const { Value } = await import('typebox/value')
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch (error) {
      return { state: undefined, diagnostics: [invalid(`is not valid JSON: ${(error as Error).message}`)] }
    }
    if (!Value.Check(AptState, parsed)) {
      const first = [...Value.Errors(AptState, parsed)][0]
      return { state: undefined, diagnostics: [invalid(`does not match the apt schema at ${first?.instancePath || '/'}: ${first?.message ?? ''}`)] }
    }
    return { state: parsed, diagnostics: [] }
  }

  diff({ desired, actual }: DiffRequest<AptState>): DiffResult {
    return diffAptState(desired, actual)
  }

  apply({ changes, ctx, onResult }: ApplyRequest): Promise<ApplyResult> {
    return applyAptChanges(changes, ctx, onResult)
  }
}

function invalid(what: string) {
  return errorDiagnostic('TWIN_INVALID', `${APT_DOCUMENT} ${what}`, { path: APT_DOCUMENT, provider: 'apt' })
}
