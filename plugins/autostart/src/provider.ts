import type {
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
import { applyAutostart, checkAutostartChange } from './apply.js'
import { MadeDocuments, refusedChanges, twinsyncLines, type Diagnostic, type ScopeRequest } from '@twinsync/sdk'
import { collectAutostart } from './collect.js'
import { diffAutostart } from './diff.js'
import { AUTOSTART_CLAIMS } from './location.js'
import { autostartDocumentsOverLimit, loadAutostart } from './load.js'
import { startupEntries } from './startup-entry.js'
import { autostartDocuments } from './model.js'
import { AUTOSTART_JSON, AutostartState, RC_LOCAL_JSON } from './state.js'
import { AUTOSTART_CODES } from './codes.js'

/**
 * Autostart: /etc/rc.local and the XDG autostart entries of the system and of each user,
 * mirrored and described in system/startup/autostart.json and rc-local.json.
 */
export class AutostartProvider implements ApplicableProvider<AutostartState>, StartupView<AutostartState> {
  readonly name = 'autostart'
  readonly version = '0.1.0'
  readonly category = 'startup' as const
  readonly description = 'rc.local and XDG autostart entries (/etc/xdg/autostart, ~/.config/autostart)'
  readonly twinPaths = [AUTOSTART_JSON, RC_LOCAL_JSON] as const
  /** Its own codes, with what each means (codes.ts): `twinsync providers --codes` and `describe` list them. */
  readonly codes = AUTOSTART_CODES
  /**
   * What autostart.json and rc-local.json say beside the owner, group and mode (and rc.local's
   * `executable`) an apply sets: read from the .desktop files and rc.local themselves.
   */
  readonly describes = [
    ...(['scope', 'user', 'name', 'exec', 'enabled', 'hidden', 'gnomeAutostartEnabled', 'onlyShowIn', 'notShowIn', 'overrides'] as const).map((key) => ({
      path: AUTOSTART_JSON,
      keys: ['entries', '*', key],
      appliedFrom: `"${key}" in ${AUTOSTART_JSON} only describes an autostart entry; edit the .desktop file itself (filesystem/etc/xdg/autostart/… or a user's filesystem/home/USER/.config/autostart/…: Exec=, Name=, Hidden=…)`,
    })),
    {
      path: AUTOSTART_JSON,
      keys: ['ignored'],
      appliedFrom: `"ignored" in ${AUTOSTART_JSON} lists the files of the autostart places that are not mirrored (a symlink, a file too large); make such a file a regular one on the machine to have it mirrored`,
    },
    ...(['exists', 'interpreter', 'service', 'serviceMasked', 'wouldRun'] as const).map((key) => ({
      path: RC_LOCAL_JSON,
      keys: [key],
      appliedFrom: `"${key}" in ${RC_LOCAL_JSON} only describes rc.local; edit filesystem/etc/rc.local itself (or "executable" in ${RC_LOCAL_JSON}), or the rc-local.service unit's state in system/services/units.json`,
    })),
  ] as const
  readonly claims = AUTOSTART_CLAIMS
  /** Built when first read (lazySchema): a snapshot never checks its state against it. */
  get stateSchema() {
    return AutostartState()
  }

  // rc.local and XDG autostart are conventions, not packages: every Debian target has the places.
  async detect({ ctx }: DetectRequest): Promise<DetectResult> {
    const etc = await ctx.host.stat('/etc')
    if (etc?.type !== 'directory') return { detected: false, reason: 'the target has no /etc', diagnostics: [] }
    return { detected: true, reason: 'rc.local and XDG autostart locations', diagnostics: [] }
  }

  /** The documents this provider's last collect made: the machine's own entries are not counted against MAX_AUTOSTART_ENTRIES (MadeDocuments). */
  private readonly made = new MadeDocuments()

  async collect({ ctx, previous }: CollectRequest): Promise<CollectResult<AutostartState>> {
    const { state, diagnostics } = await collectAutostart(ctx, this.name, previous)
    return { state, documents: this.made.remember(autostartDocuments(state)), diagnostics }
  }

  load({ ctx, twin }: LoadRequest): Promise<LoadResult<AutostartState>> {
    return loadAutostart(twin, ctx.host, this.name, twinsyncLines(ctx), this.made)
  }

  /** The twin's autostart entries over MAX_AUTOSTART_ENTRIES, by the count load refuses on (load.ts): a pull asks it of the mirror's twin. */
  overLimit({ twin, ctx }: OverLimitRequest): Promise<Diagnostic[]> {
    return autostartDocumentsOverLimit(twin, twinsyncLines(ctx))
  }

  diff({ desired, actual }: DiffRequest<AutostartState>): DiffResult {
    return diffAutostart(desired, actual, this.name)
  }

  /** What this state starts at boot, at login or on a schedule, for `twinsync startup`. */
  startupEntries(state: AutostartState): StartupEntry[] {
    return startupEntries(state)
  }

  /** A change apply would refuse (a path with "..", outside the autostart folders): never planned, a plan holding one refused whole. */
  async outOfScope({ changes, ctx }: ScopeRequest): Promise<Diagnostic[]> {
    const line = twinsyncLines(ctx)
    return refusedChanges(this.name, changes, (change) => checkAutostartChange(change, this.name, line), line)
  }

  apply({ changes, ctx, onResult }: ApplyRequest): Promise<ApplyResult> {
    return applyAutostart(changes, ctx, this.name, onResult)
  }
}
