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
  ScopeRequest,
  Diagnostic,
} from '@twinsync/sdk'
import { DEBIAN_CONFIG_CHECKS } from '@twinsync/sdk'
import { FilesConfigSchema } from './config.js'
import { resolveConfig } from './config.js'
import { diffFiles } from './diff.js'
import { PathPatterns } from './ignore.js'
import { FilesState, MANIFEST_PATH, PARTS_DIR } from './state.js'

/** Manifest fields that only describe a path, and where the real thing lives. */
const DESCRIBED_FIELDS: ReadonlyArray<readonly [string, string]> = [
  ['size', 'A file\'s "size" follows from its content: edit the file itself under filesystem/'],
  ['sha256', 'A file\'s "sha256" follows from its content: edit the file itself under filesystem/ (a binary or secret file\'s content is not in the twin and cannot be set from it)'],
  ['origin', '"origin" is what dpkg\'s database says of the file (a package\'s, changed or not, or local); edit the file itself under filesystem/'],
  ['package', '"package" is the package dpkg says ships the file; install or remove packages in system/packages/apt.json'],
  ['divertedFrom', '"divertedFrom" is what dpkg-divert says; divert the file on the machine with dpkg-divert'],
  ['secretReason', '"secretReason" says why the file is kept out of the twin; change the secret rules in the configuration (files.secrets)'],
  ['empty', '"empty" says whether the folder has entries; add or remove files under it instead'],
]

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
  /**
   * What the manifest records of a path that no apply changes: the content lives in filesystem/
   * (its size and hash follow from it), the package facts in dpkg's database. An edit of one is
   * kept and said (DESCRIPTION_EDIT_NOT_APPLIED), never overwritten by the next snapshot.
   */
  readonly describes = [
    ...[MANIFEST_PATH, PARTS_DIR].flatMap((path) =>
      DESCRIBED_FIELDS.map(([key, appliedFrom]) => ({ path, keys: ['entries', '*', key], appliedFrom })),
    ),
    { path: MANIFEST_PATH, keys: ['leftovers'], appliedFrom: '"leftovers" lists the *.dpkg-dist and *.ucf-old files found beside conffiles; delete or keep the files themselves on the machine' },
  ]
  readonly stateSchema = FilesState
  readonly configSchema = FilesConfigSchema
  /** How the services of a Debian server check the files this provider writes. */
  readonly configChecks = DEBIAN_CONFIG_CHECKS

  async detect({ ctx }: DetectRequest): Promise<DetectResult> {
    const etc = await ctx.host.stat('/etc')
    return etc?.type === 'directory'
      ? { detected: true, reason: 'the target has /etc', diagnostics: [] }
      : { detected: false, reason: 'the target has no /etc directory', diagnostics: [] }
  }

  async collect({ ctx, previous }: CollectRequest): Promise<CollectResult<FilesState>> {
    const { collectFiles } = await import('./collect.js')
    return collectFiles(ctx, previous)
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

  async apply({ changes, ctx, onResult }: ApplyRequest): Promise<ApplyResult> {
    const { applyFiles } = await import('./apply.js')
    return applyFiles(ctx, changes, onResult)
  }
}
