import {
  type Change,
  type FollowUpRequest,
  type PlanFollowUp,
  type PlanReview,
  type StartupEntry,
  type StartupView,
  errorDiagnostic,
  MadeDocuments,
  stableStringify,
  validatorOf,
  type ApplicableProvider,
  type ApplyRequest,
  type ApplyResult,
  type CollectRequest,
  type CollectResult,
  type DetectRequest,
  type DetectResult,
  type DiffRequest,
  type UnappliedPlace,
  type UnappliedRequest,
  type DiffResult,
  type LoadRequest,
  type LoadResult,
  type OverLimitRequest,
  type TwinDocument,
} from '@twinsync/sdk'
import { toStep, applySystemdChanges } from './apply.js'
import { RUNTIME_OPERATIONS, type SystemdOperation } from './change.js'
import { refusedChanges, throughLinkedEnablementFolder, twinsyncLines, type Diagnostic, type ProviderContext, type ScopeRequest, type TwinsyncLine } from '@twinsync/sdk'
import { collectSystemdState } from './collect.js'
import { diffSystemdState } from './diff.js'
import { unappliedSystemdPlaces } from './unapplied.js'
import { restartsForConfigChanges } from './config-restarts.js'
import { unitFileContradictions, unitsKeepingAFile, unitsWhoseFilesGo } from './units-leaving.js'
import { absentUnits, keptAsTheTwinSays, type AbsentUnit } from './units-installed.js'
import { startupEntries } from './startup-entry.js'
import { withCommands } from './exec-start.js'
import { oneRestartEach, reloadsForUnitFileWrites } from './unit-file-writes.js'
import { UnitFileIndex } from './unit-file-index.js'
import { RUNTIME_DOCUMENT, STARTUP_DOCUMENT, SystemdState, UNITS_DOCUMENT } from './state.js'
import { ADMIN_DROP_IN_DIRS, SYSTEM_UNIT_FILE, UNIT_SEARCH_PATH } from './unit-paths.js'
import { SYSTEMD_CODES } from './codes.js'

/** systemd units: enablement, presets, runtime state and what starts at boot; changed through systemctl. */
export class SystemdProvider implements ApplicableProvider<SystemdState>, StartupView<SystemdState>, PlanFollowUp<SystemdState>, PlanReview<SystemdState> {
  readonly name = 'systemd'
  readonly version = '0.1.0'
  readonly category = 'services' as const
  readonly description = 'systemd units: enablement and vendor presets, active state, units started at boot'
  readonly twinPaths = ['system/services/', STARTUP_DOCUMENT] as const
  /** Its own codes, with what each means (codes.ts): `twinsync providers --codes` and `describe` list them. */
  readonly codes = SYSTEMD_CODES
  /**
   * Enablement links are what `systemctl enable` writes: their meaning is the unit's state in
   * units.json, which this provider applies with systemctl. Claiming them keeps the files
   * provider from mirroring (and applying) the same fact a second time.
   */
  readonly claims = [
    '/etc/systemd/system/*.wants/*',
    '/etc/systemd/system/*.requires/*',
    '/etc/systemd/system/*.upholds/*',
    // On Debian `systemctl enable|disable` of a unit with an /etc/init.d script also runs
    // systemd-sysv-install (update-rc.d): it turns the S/K links of the SysV runlevels and, with
    // insserv, rewrites its dependency files. They follow the unit's state, so they are this
    // provider's: one enable, not eight file changes.
    '/etc/rc?.d/*',
    '/etc/init.d/.depend.*',
  ] as const
  /** Built when first read (lazySchema): a snapshot never checks its state against it. */
  get stateSchema() {
    return SystemdState()
  }
  /**
   * What units.json and runtime.json say beside the state a plan changes (enabled, disabled,
   * masked; active or inactive), and the whole of what starts at boot (it follows from them).
   */
  readonly describes = [
    {
      path: STARTUP_DOCUMENT,
      appliedFrom: `${STARTUP_DOCUMENT} only describes what starts at boot, which follows from the units: set a unit's "state" (enabled, disabled, masked) in ${UNITS_DOCUMENT}, or edit its unit file in the twin (under filesystem/etc/systemd/system/, or system.control/ or system.attached/ where it is there)`,
    },
    {
      path: UNITS_DOCUMENT,
      keys: ['units', '*', 'preset'],
      appliedFrom: `A unit's vendor preset comes with its package (the *.preset files); to change what runs, set its "state" (enabled, disabled, masked) in ${UNITS_DOCUMENT} instead`,
    },
    // "sub" is said by unapplied() instead: one that follows the plan's stop or start is no edit to keep.
    ...(['staleConfig', 'canReload'] as const).map((key) => ({
      path: RUNTIME_DOCUMENT,
      keys: ['units', '*', key],
      appliedFrom: `"${key}" in ${RUNTIME_DOCUMENT} is what the running system reports; only "active" ("active" or "inactive": start or stop) is applied`,
    })),
  ] as const
  /** The documents this provider's last collect made: load checks no schema for the same texts (MadeDocuments). */
  private readonly made = new MadeDocuments()
  /** Sockets a unit listened on before a reload that lost them: the next reload must bring them back. */
  private readonly owedSockets = new Map<string, ReadonlySet<string>>()
  /** The administrator's unit files (in the unit path's /etc folders) of each twin state load read: unit → its file's twin path. */
  private readonly twinUnitFiles = new WeakMap<SystemdState, ReadonlyMap<string, string>>()
  /** Per machine state diffed: the units the twin keeps disabled or stopped that it has not got yet (units-installed.ts). */
  private readonly absent = new WeakMap<SystemdState, AbsentUnit[]>()

  async detect({ ctx }: DetectRequest): Promise<DetectResult> {
    for (const dir of ['/lib/systemd/system', '/usr/lib/systemd/system', '/etc/systemd/system']) {
      if ((await ctx.host.stat(dir))?.type === 'directory') return { detected: true, reason: `unit directory ${dir}`, diagnostics: [] }
    }
    return { detected: false, reason: `none of ${UNIT_SEARCH_PATH.length} systemd unit directories exists`, diagnostics: [] }
  }

  async collect({ ctx }: CollectRequest): Promise<CollectResult<SystemdState>> {
    const { state, diagnostics } = await collectSystemdState(ctx)
    const documents: TwinDocument[] = [
      { path: UNITS_DOCUMENT, content: stableStringify({ units: state.units }) },
      { path: STARTUP_DOCUMENT, content: stableStringify(state.startup) },
    ]
    if (state.runtime !== undefined) documents.push({ path: RUNTIME_DOCUMENT, content: stableStringify({ units: recordedRuntime(state.runtime) }) })
    return { state, documents: this.made.remember(documents), diagnostics }
  }

  /** units.json or runtime.json over MAX_SYSTEMD_UNITS, by the count load refuses on (overUnitLimit): a pull asks it of the mirror's twin. */
  async overLimit({ twin, ctx }: OverLimitRequest): Promise<Diagnostic[]> {
    const found: Diagnostic[] = []
    for (const file of [UNITS_DOCUMENT, RUNTIME_DOCUMENT]) {
      const text = await twin.readText(file)
      if (text === undefined) continue
      let units: unknown
      try {
        units = (JSON.parse(text) as { units?: unknown } | null)?.units
      } catch {
        continue
      }
      const over = overUnitLimit(file, units, twinsyncLines(ctx))
      if (over !== undefined) found.push(over)
    }
    return found
  }

  async load({ twin, ctx }: LoadRequest): Promise<LoadResult<SystemdState>> {
    const line = twinsyncLines(ctx)
    const units = await twin.readText(UNITS_DOCUMENT)
    if (units === undefined) return { state: undefined, diagnostics: [] }
    const runtime = await twin.readText(RUNTIME_DOCUMENT)
    const startup = await twin.readText(STARTUP_DOCUMENT)
    let candidate: unknown
    let unitsDoc: unknown
    let runtimeDoc: unknown
    try {
      unitsDoc = JSON.parse(units)
      runtimeDoc = runtime === undefined ? undefined : JSON.parse(runtime)
      candidate = {
        units: (unitsDoc as { units?: unknown } | null)?.units,
        ...(runtime === undefined ? {} : { runtime: (runtimeDoc as { units?: unknown } | null)?.units }),
        startup: startup === undefined ? { wantedAtBoot: [], enabledTimers: [] } : JSON.parse(startup),
      }
    } catch (error) {
      return { state: undefined, diagnostics: [invalid(`is not valid JSON: ${(error as Error).message}`)] }
    }
    const stray = strayKey(UNITS_DOCUMENT, unitsDoc, line) ?? (runtime === undefined ? undefined : strayKey(RUNTIME_DOCUMENT, runtimeDoc, line))
    if (stray !== undefined) return { state: undefined, diagnostics: [stray] }
    // Every document the text collect just made (runtime.json's may be absent: optional in the schema).
    const made = this.made.made(UNITS_DOCUMENT, units) && startup !== undefined && this.made.made(STARTUP_DOCUMENT, startup) && (runtime === undefined || this.made.made(RUNTIME_DOCUMENT, runtime))
    // Counted before the schema check walks every unit (MAX_SYSTEMD_UNITS).
    const sizes = candidate as { units?: unknown; runtime?: unknown }
    const over = made ? undefined : overUnitLimit(UNITS_DOCUMENT, sizes.units, line) ?? overUnitLimit(RUNTIME_DOCUMENT, sizes.runtime, line)
    if (over !== undefined) return { state: undefined, diagnostics: [over] }
    const validator = made ? undefined : validatorOf(SystemdState())
    if (validator !== undefined && !validator.Check(candidate)) {
      const first = [...validator.Errors(candidate)][0]
      const pointer = first?.instancePath || '/'
      // The state is read from three documents; name the one that holds the bad value, and its key.
      const file = pointer.startsWith('/runtime') ? RUNTIME_DOCUMENT : pointer.startsWith('/startup') ? STARTUP_DOCUMENT : UNITS_DOCUMENT
      const key = pointer.split('/').slice(2).join('.') || pointer.split('/')[1] || '/'
      return {
        state: undefined,
        diagnostics: [
          errorDiagnostic('TWIN_INVALID', `${file}: "${key}": ${first?.message ?? 'invalid value'}`, {
            path: file,
            provider: 'systemd',
            detail: `Correct "${key}" in ${file} (a state is one word such as enabled, disabled, masked), or take a snapshot to write the machine's state again. Nothing is planned for services until then.`,
          }),
        ],
      }
    }
    const state = candidate as SystemdState
    // Which administrator unit files the twin's files hold: a unit only taken out of units.json
    // keeps its file and changes nothing, which unapplied() says; one whose file goes too is the
    // files provider's delete (and units-leaving.ts stops and disables it first).
    this.twinUnitFiles.set(state, await adminUnitFilesOf(twin))
    return { state, diagnostics: [] }
  }

  diff({ desired, actual }: DiffRequest<SystemdState>): DiffResult {
    // For followUps, which sees the machine's state and the plan, not the twin's (units-installed.ts).
    this.absent.set(actual, absentUnits(desired, actual))
    // Against the machine (a collect, never loaded here), a unit file the twin holds is the files
    // provider's to compare (diff.ts); between two twin states (history, show, a snapshot's
    // diary) a changed unit file stays the manager's reload it describes.
    return diffSystemdState(desired, actual, this.twinUnitFiles.has(actual) ? undefined : this.twinUnitFiles.get(desired))
  }

  /** What an edit of units.json or runtime.json asks for that the plan does not apply (a state no verb makes, a unit taken out): kept pending, said. */
  unapplied({ desired, actual, changes }: UnappliedRequest<SystemdState>): UnappliedPlace[] {
    return unappliedSystemdPlaces(desired, actual, changes, { intended: this.twinUnitFiles.get(desired), observed: this.twinUnitFiles.get(actual) })
  }

  /**
   * Units whose unit file the plan deletes, stopped and disabled first (units-leaving.ts); reloads
   * and restarts of running services whose package's configuration the plan rewrites, not of a
   * unit the plan stops (the twin wants it inactive, or its file goes): a restart after the stop
   * would start it again, on the port a service the twin wants running is about to take.
   */
  async followUps(request: FollowUpRequest<SystemdState>): Promise<Change[]> {
    const kept = await unitsKeepingAFile(request.changes, request.ctx.host)
    const leaving = unitsWhoseFilesGo(request, kept)
    const asTheTwinSays = keptAsTheTwinSays(this.absent.get(request.actual) ?? [], [...request.changes, ...leaving])
    const stopped = new Set([...request.changes, ...leaving, ...asTheTwinSays].filter((c) => c.provider === 'systemd' && c.operation === 'stop').map((c) => c.resource))
    const restarts = await restartsForConfigChanges(request)
    const unitWrites = reloadsForUnitFileWrites({ changes: [...request.changes, ...leaving], actual: request.actual }, kept)
    return [...leaving, ...asTheTwinSays, ...oneRestartEach([...restarts, ...unitWrites], request.changes).filter((c) => !stopped.has(c.resource))]
  }

  /** A plan that deletes a unit's file and enables or starts the unit: an error (units-leaving.ts). */
  async reviewPlan(request: FollowUpRequest<SystemdState>): Promise<Diagnostic[]> {
    return unitFileContradictions(request, await unitsKeepingAFile(request.changes, request.ctx.host))
  }

  /** The units started at boot and the enabled timers, for `twinsync startup`; with a context, what each runs, read from its unit files. */
  async startupEntries(state: SystemdState, ctx?: ProviderContext): Promise<StartupEntry[]> {
    const entries = startupEntries(state)
    return ctx === undefined ? entries : withCommands(entries, new UnitFileIndex(ctx.host))
  }

  /** A change apply would refuse (a unit name with "/", a leading "-", a newline…): never planned, a plan holding one refused whole. */
  async outOfScope({ changes, ctx }: ScopeRequest): Promise<Diagnostic[]> {
    const refused = refusedChanges(this.name, changes, toStep, twinsyncLines(ctx))
    // An enable, disable, mask or unmask the host port would refuse (a symlinked /etc/rc?.d or .wants folder): left out too.
    const named = new Set(refused.map((d) => d.change))
    const writing = changes.filter((c) => !named.has(c.id) && !RUNTIME_OPERATIONS.has(c.operation as SystemdOperation))
    return [...refused, ...(await throughLinkedEnablementFolder(this.name, ctx.host, writing))]
  }

  apply({ changes, ctx, onResult, restoring, verdictBases, onVerdictBasis }: ApplyRequest): Promise<ApplyResult> {
    return applySystemdChanges(changes, ctx, onResult, this.owedSockets, {
      restoring: restoring === true,
      ...(verdictBases === undefined ? {} : { verdictBases }),
      ...(onVerdictBasis === undefined ? {} : { onVerdictBasis }),
    })
  }
}

/**
 * The administrator's whole unit files the twin mirrors: unit → twin path, from every /etc folder
 * of the unit path (system.control, system, system.attached: ADMIN_DROP_IN_DIRS), the first in
 * the path's order winning as it does for the manager. Before session 28 only
 * filesystem/etc/systemd/system/ was read: a unit whose file is in system.control, taken out of
 * units.json, was told to delete filesystem/etc/systemd/system/NAME, which the twin does not have.
 */
export async function adminUnitFilesOf(twin: Pick<LoadRequest['twin'], 'list'>): Promise<Map<string, string>> {
  const files = new Map<string, string>()
  for (const dir of ADMIN_DROP_IN_DIRS) {
    for (const path of await twin.list(`filesystem${dir}/`)) {
      const unit = SYSTEM_UNIT_FILE.exec(path.slice('filesystem'.length))?.[1]
      if (unit !== undefined && path.slice('filesystem'.length) === `${dir}/${unit}` && !files.has(unit)) files.set(unit, path)
    }
  }
  return files
}

/**
 * What the twin records of the runtime: active and sub state. Whether a service runs an older
 * configuration is read from the live machine for each plan and never recorded: a snapshot taken
 * while a reload was due must not ask for that reload later (in a diff between snapshots, or as
 * intent of the twin); only the live machine does.
 */
function recordedRuntime(runtime: NonNullable<SystemdState['runtime']>): NonNullable<SystemdState['runtime']> {
  return Object.fromEntries(Object.entries(runtime).map(([unit, { active, sub }]) => [unit, { active, sub }]))
}

/**
 * The most units units.json (or runtime.json) may list, unless it is the text collect just made.
 * The twin is untrusted input, and its documents may be 64 MiB: the same attack as a files manifest
 * or an apt.json of made-up entries (MAX_MANIFEST_ENTRIES, MAX_APT_PACKAGES: a plan of minutes, or
 * an internal error past about 120,000 entries), here a units.json of 50,000 made-up units made
 * `plan` take about 40 s on the test bed's root (loaded machine, session 37). Real machines hold
 * far fewer: the bench's scale root 1,000 unit files, a Debian server a few hundred units.
 */
export const MAX_SYSTEMD_UNITS = 50_000

/**
 * TWIN_INVALID when a document's `units` (units.json, runtime.json) number more than
 * MAX_SYSTEMD_UNITS, counted on the parsed JSON before any schema check: the one rule load and
 * overLimit (a pull) both ask.
 */
function overUnitLimit(file: string, units: unknown, line: TwinsyncLine): Diagnostic | undefined {
  const count = units !== null && typeof units === 'object' ? Object.keys(units).length : 0
  if (count <= MAX_SYSTEMD_UNITS) return undefined
  return errorDiagnostic('TWIN_INVALID', `${file} lists ${count.toLocaleString('en')} units, more than the ${MAX_SYSTEMD_UNITS.toLocaleString('en')} TwinSync takes; it was not read`, {
    path: file,
    provider: 'systemd',
    detail: `Nothing is planned for services. Remove the added units from the twin, or go back to the last snapshot's with \`${line(['discard', 'services'])}\` (drops every pending services edit).`,
  })
}

/**
 * TWIN_INVALID for units.json or runtime.json holding a key beside `units` (or not an object).
 * Session 41: load read only `units` and passed over the rest, so an edit under a misspelt key
 * ("unit": {"nginx.service": {"state": "disabled"}}) planned nothing, status said "In sync", and
 * the next snapshot wrote the document again without it: asked for, lost without a word. Now the
 * edit is refused by name, and as an unread document it stays pending until fixed or discarded.
 */
function strayKey(file: string, doc: unknown, line: TwinsyncLine): Diagnostic | undefined {
  const isObject = doc !== null && typeof doc === 'object' && !Array.isArray(doc)
  const key = isObject ? Object.keys(doc).find((k) => k !== 'units') : undefined
  if (isObject && key === undefined) return undefined
  const what = key === undefined ? 'is not a JSON object' : `"${key.length > 80 ? `${key.slice(0, 80)}...` : key}": unknown key (only "units" is read)`
  return errorDiagnostic('TWIN_INVALID', `${file}: ${what}`, {
    path: file,
    provider: 'systemd',
    detail: `Put the units under "units" in ${file} (each "NAME.service": { "state": "enabled" }), or go back to the last snapshot's with \`${line(['discard', 'services'])}\`. Nothing is planned for services until then.`,
  })
}

function invalid(what: string) {
  return errorDiagnostic('TWIN_INVALID', `The systemd twin (system/services/) ${what}`, { path: UNITS_DOCUMENT, provider: 'systemd' })
}
