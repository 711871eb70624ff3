import type {
  ApplicableProvider,
  ConfigChecker,
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
  NarrowRequest,
  NarrowResult,
  OverLimitRequest,
  ScopeRequest,
  SecretPath,
  SecretPathsRequest,
  Diagnostic,
  UnappliedPlace,
  UnappliedRequest,
} from '@twinsync/sdk'
import { DEBIAN_CONFIG_CHECKS, PathPatterns, twinsyncLines } from '@twinsync/sdk'
import { FilesConfigSchema } from './config.js'
import { resolveConfig } from './config.js'
import { diffFiles } from './diff.js'
import { FilesState, MANIFEST_PATH, PARTS_DIR } from './state.js'
import { DESCRIBED_FIELDS, unappliedFilesPlaces } from './unapplied.js'
import { FILES_CODES } from './codes.js'

/**
 * The files provider: owns every path of the include set that no other provider claims, mirrors
 * text files into filesystem/, records what Git cannot hold in system/files/manifest.json, keeps
 * secrets out, and applies the twin back with atomic writes. The work lives in collect.ts,
 * load.ts, diff.ts and apply.ts, loaded on first use so that importing the plugin stays cheap.
 */
export class FilesProvider implements ApplicableProvider<FilesState>, ConfigChecker {
  readonly name = 'files'
  readonly version = '0.1.0'
  readonly category = 'files' as const
  readonly description = 'Configuration files with owner, mode and package origin; secrets recorded, never copied'
  readonly twinPaths = ['system/files/'] as const
  /** Its own codes, with what each means (codes.ts): `twinsync providers --codes` and `describe` list them. */
  readonly codes = FILES_CODES
  /**
   * What the manifest records of a path that no apply sets (unapplied.ts): an edit of one is kept
   * and said (DESCRIPTION_EDIT_NOT_APPLIED), never overwritten by the next snapshot. In
   * manifest.json and in the folder of its parts: declaring the folder makes them one family,
   * whose entries TwinSync compares by path wherever they are (a layout change moves them).
   */
  readonly describes = [
    ...[MANIFEST_PATH, PARTS_DIR].flatMap((path) => DESCRIBED_FIELDS.map(([key, appliedFrom]) => ({ path, keys: ['entries', '*', key], appliedFrom }))),
    { path: MANIFEST_PATH, keys: ['leftovers'], appliedFrom: '"leftovers" lists the *.dpkg-dist and *.ucf-old files found beside conffiles; delete or keep the files themselves on the machine' },
  ]
  /** Built when first read (lazySchema): a snapshot never checks its state against it. */
  get stateSchema() {
    return FilesState()
  }
  readonly configSchema = FilesConfigSchema
  /** How the services of a Debian server check the files this provider writes. */
  readonly configChecks = DEBIAN_CONFIG_CHECKS

  async detect({ ctx }: DetectRequest): Promise<DetectResult> {
    const etc = await ctx.host.stat('/etc')
    return etc?.type === 'directory'
      ? { detected: true, reason: 'the target has /etc', diagnostics: [] }
      : { detected: false, reason: 'the target has no /etc directory', diagnostics: [] }
  }

  async collect({ ctx, previous, since, wholeOnly }: CollectRequest): Promise<CollectResult<FilesState>> {
    const { collectFiles } = await import('./collect.js')
    return collectFiles(ctx, previous, since, wholeOnly === true)
  }

  async load({ ctx, twin }: LoadRequest): Promise<LoadResult<FilesState>> {
    const { loadFiles } = await import('./load.js')
    return loadFiles(ctx, twin)
  }

  diff({ desired, actual, ctx, patches }: DiffRequest<FilesState>): DiffResult {
    const config = resolveConfig(ctx.config, ctx.limits)
    const ignore = new PathPatterns(config.ignore)
    return diffFiles(desired, actual, (path) => (ignore.matches(path) ? 'now ignored' : undefined), { patches: patches !== false })
  }

  /** An owner or group the plan does not apply (an id beside a name that resolves, a name for the same id or none), and an entry it plans nothing for (unapplied.ts). */
  unapplied({ desired, actual, changes }: UnappliedRequest<FilesState>): UnappliedPlace[] {
    return unappliedFilesPlaces(desired, actual, changes)
  }

  /** A comparison's two sides narrowed to the manifest entries that differ (narrow.ts). */
  async narrow({ older, newer, changed }: NarrowRequest): Promise<NarrowResult | undefined> {
    const { narrowFiles } = await import('./narrow.js')
    return narrowFiles(older, newer, changed)
  }

  /** Changes outside the include set (or ignored, or another provider's): never planned or applied (scope.ts). */
  async outOfScope({ changes, ctx }: ScopeRequest): Promise<Diagnostic[]> {
    const { filesOutOfScope } = await import('./scope.js')
    return filesOutOfScope(ctx, changes)
  }

  /** The pushed twin's files these rules hold out by path: the secret path patterns, the postfix and OpenVPN files its configs name, the manifest's secrets and files of one token (secrets.ts). */
  async secretPaths({ paths, twin, ctx }: SecretPathsRequest): Promise<SecretPath[]> {
    const { secretPathsInTwin } = await import('./secrets.js')
    const config = resolveConfig(ctx.config, ctx.limits)
    return secretPathsInTwin(twin, paths, config.secretPaths, config.secretAllow)
  }

  /** A manifest (manifest.json and its parts) over MAX_MANIFEST_ENTRIES, by the count its load refuses on (manifest.ts): a pull asks it of the mirror's twin. */
  async overLimit({ twin, ctx }: OverLimitRequest): Promise<Diagnostic[]> {
    const { manifestOverLimit } = await import('./manifest.js')
    const problem = await manifestOverLimit(twin, twinsyncLines(ctx))
    if (problem?.tooMany === undefined) return []
    return [{ severity: 'error', code: problem.code, summary: problem.summary, path: problem.tooMany.document, provider: this.name, ...(problem.nextStep === undefined ? {} : { detail: problem.nextStep }) }]
  }

  async apply({ changes, ctx, onResult }: ApplyRequest): Promise<ApplyResult> {
    const { applyFiles } = await import('./apply.js')
    return applyFiles(ctx, changes, onResult)
  }
}
