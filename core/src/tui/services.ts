// The TUI's one wiring module: what the screens may ask of TwinSync (TuiServices, RemotePort),
// how they reach it (useServices, useRemote), and the real implementation over a command's
// container (createTuiServices, remotePort), which calls the same workflows as the subcommands.
// Screens never resolve anything from the container themselves.
import { createContext, useContext } from 'react'
import type { Change, ChangeResult, Diagnostic, Limits, Plan } from '@twinsync/sdk'
import { DEFAULT_LIMITS, TwinSyncError, isTwinSyncError } from '@twinsync/sdk/light'
import { ApplyService, type ApplyReport } from '../apply/apply-service.js'
import { renderPull, renderPush } from '../cli/render.js'
import type { CollectProgress } from '../collect/collector.js'
import type { DependencyContainer } from '../di.js'
import { HistoryService, type Comparison, type HistoryEntry } from '../history/history-service.js'
import { ReconcileService, type Decision } from '../intent/reconcile-service.js'
import { Planner } from '../plan/planner.js'
import { ProviderRegistry } from '../providers/provider-registry.js'
import { RemoteService } from '../remote/remote-service.js'
import type { RehearsalReport } from '../rehearse/rehearsal-report.js'
import { RehearsalService } from '../rehearse/rehearsal-service.js'
import { StatusWorkflow, notCompared } from '../services/drift-status.js'
import { InitWorkflow } from '../services/init-twin.js'
import { ProvidersWorkflow, type ProviderListing } from '../services/list-providers.js'
import { SnapshotWorkflow, type TakeSnapshotResult } from '../services/take-snapshot.js'
import { Tokens, resolveToken } from '../tokens.js'
import { machineIdentity } from '../twin/machine-identity.js'
import type { TwinLocation } from '../twin/twin-location.js'
import { TwinRepository } from '../twin/twin-repository.js'
import { TwinPlaceWorkflow, type TwinPlace } from '../services/twin-place.js'
import { RunTarget } from '../plan/run-target.js'
import { loadSettings, saveSettings, saveTwinPlace } from './settings-file.js'

/** Whether the twin repository exists and can be opened. */
export interface TwinCheck {
  dir: string
  source: TwinLocation['source']
  ok: boolean
  /** The error code and its next step when it cannot be opened (REPO_NOT_INITIALIZED, …). */
  problem?: { code: string; message: string; nextStep?: string | undefined }
}

/** The settings the TUI edits; everything else in the config file is kept as it is. */
export interface SettingsValues {
  /** The files provider's include list; undefined: its default list. */
  include: string[] | undefined
  /** Extra ignore patterns of the files provider. */
  ignore: string[]
  /** Only the limits set in the file; the others are defaults. */
  limits: Partial<Limits>
}

export interface SettingsState {
  path: string
  exists: boolean
  values: SettingsValues
  defaultInclude: readonly string[]
  defaultLimits: Limits
}

export interface ApplyRequest {
  /** The plan to carry out, with the left-out changes already removed. */
  plan: Plan
  /** The changes left out (chosen and dependents), so their desired state stays in the twin. */
  leftOut: Change[]
  revertTo?: string
  /** The changes that run code as root or open a login the person accepted by typing "yes" (ApplyOptions.acceptHighRisk). */
  acceptHighRisk?: readonly string[]
  signal: AbortSignal
  onStart?: (change: Change) => void
  onResult?: (change: Change, result: ChangeResult) => void
}

export interface RehearseRequest {
  /** The plan to rehearse: the one the question would apply (left-out changes removed). */
  plan: Plan
  signal: AbortSignal
  onStage?: (stage: 'boot' | 'apply' | 'teardown') => void
}

export interface ApplyOutcome extends ApplyReport {
  /** Twin files put back to the desired state of left-out changes, so the next plan has them again. */
  keptPending: string[]
}

/**
 * What the screens need from TwinSync: the same services the subcommands call. The real one
 * (createTuiServices below) resolves them from the command's container; tests pass plain fakes.
 */
export interface TuiServices {
  location(): TwinLocation
  /** This run's `twinsync ARGS` line (RunTarget.line: its --root, --repo, --config), for a screen that names a command to paste. */
  line(args: readonly string[]): string
  checkTwin(): Promise<TwinCheck>
  initTwin(): Promise<{ repo: string; created: boolean; commit: string | undefined }>
  lastSnapshot(): Promise<HistoryEntry | undefined>
  /** Collects the live machine: slow. */
  drift(signal: AbortSignal): Promise<{ drift: boolean; changes: number; pending: number; missing?: number; setAside?: boolean; failed?: number; halfDone?: number }>
  providers(): Promise<{ providers: ProviderListing[]; diagnostics: Diagnostic[] }>
  /**
   * `twinsync push`: refused (REPO_NOT_INITIALIZED) when there is no twin, as the CLI's is.
   * `init`: create it first, as `snapshot --init` does — only after the screen said so and the person said yes.
   */
  snapshot(options: { signal: AbortSignal; onProgress: CollectProgress; label?: string; init?: boolean }): Promise<TakeSnapshotResult>
  plan(options: { from?: string; only?: string[]; signal: AbortSignal; onProgress?: CollectProgress }): Promise<Plan>
  apply(request: ApplyRequest): Promise<ApplyOutcome>
  /**
   * `twinsync rehearse`: the plan on a throwaway copy of the machine (RehearsalService). Apply
   * after it only when `rehearsalRefusal` says nothing. Fakes may leave it out (no option shown).
   */
  rehearse?(request: RehearseRequest): Promise<RehearsalReport>
  /** `twinsync adopt` / `twinsync discard`: items are change ids, domains or providers. */
  decide(decision: 'adopt' | 'discard', items: string[]): Promise<Decision>
  history(limit: number): Promise<HistoryEntry[]>
  show(commit: string): Promise<Comparison>
  loadSettings(): Promise<SettingsState>
  /** Validates the new configuration before it replaces the file; throws TwinSyncError. */
  saveSettings(values: SettingsValues): Promise<{ path: string }>
  /** Whether a twin may live there and what is there (TwinPlaceWorkflow, the rule `init` and `snapshot` apply); throws TwinSyncError. */
  checkTwinPlace(dir: string): Promise<TwinPlace>
  /**
   * Use another place for the twin from now on: checked again, written as `repo:` in the
   * configuration file; every screen and the status line then use it. Nothing is moved.
   */
  moveTwin(dir: string): Promise<{ path: string; place: TwinPlace }>
  /** The GitHub/remote mirror (remotePort below); fakes may leave it out. */
  remote?: RemotePort | undefined
}


export interface RemoteStatus {
  /** One line for the status bar, e.g. "GitHub: me/host-twin, 2 to push". */
  summary: string
  linked: boolean
  /** Snapshots committed locally but not pushed yet. */
  pendingPushes?: number
}

export interface RemotePort {
  status(signal: AbortSignal): Promise<RemoteStatus>
  /** Push after a snapshot; the result line is shown next to the commit id. */
  push?(signal: AbortSignal): Promise<{ ok: boolean; message: string }>
  /**
   * Pull before planning in "Pull & apply"; `takeMirror` after REMOTE_DIVERGED takes the
   * mirror's history (RemoteService.pull, as `twinsync pull --take-mirror`).
   */
  pull?(signal: AbortSignal, options?: { takeMirror?: boolean }): Promise<{ ok: boolean; message: string }>
  /** Test the link (Init / GitHub linking and Settings). */
  test?(signal: AbortSignal): Promise<{ ok: boolean; message: string }>
  /** Link an existing private repository (OWNER/REPO); the token, when given, is kept 0600. */
  link?(repository: string, token: string | undefined): Promise<{ ok: boolean; message: string }>
  /** Create a private repository (default name twin-<hostname>) and link it. */
  create?(name: string | undefined, token: string | undefined): Promise<{ ok: boolean; message: string }>
}

/** The mirror, when one is wired in (always, outside tests). */
export function useRemote(): RemotePort | undefined {
  return useServices().remote
}

export const NOT_LINKED = 'GitHub: not linked'

export const ServicesContext = createContext<TuiServices | undefined>(undefined)

export function useServices(): TuiServices {
  const services = useContext(ServicesContext)
  if (services === undefined) throw new Error('useServices() outside <ServicesContext.Provider>')
  return services
}

/**
 * The TUI's services over a command's container: each method is what the matching subcommand
 * calls. Saving settings builds a fresh container, so the new configuration is used at once.
 */
export async function createTuiServices(
  makeContainer: () => Promise<DependencyContainer>,
  options: { configPath: string },
): Promise<TuiServices> {
  let container = await makeContainer()
  const location = () => resolveToken(container, Tokens.TwinLocation)
  return {
    location,
    line: (args) => container.resolve(RunTarget).line(args),
    async checkTwin() {
      const { dir, source } = location()
      try {
        await container.resolve(TwinRepository).open()
        return { dir, source, ok: true }
      } catch (error) {
        if (!isTwinSyncError(error)) throw error
        return { dir, source, ok: false, problem: { code: error.code, message: error.message, nextStep: error.nextStep } }
      }
    },
    initTwin: () => container.resolve(InitWorkflow).init(),
    async lastSnapshot() {
      const [last] = await container.resolve(HistoryService).history({ limit: 1 })
      return last
    },
    // Stopped through the signal when the panel closes, and waited for (status-line.tsx, busy.ts): it writes into the twin.
    async drift(signal) {
      const status = await container.resolve(StatusWorkflow).status(undefined, undefined, signal)
      // Items, as `status` counts them (a package held and installed is one), not plan steps.
      // `missing`: parts of the twin not compared (no provider reads them, or theirs failed), never "in sync" (inSync, the rule `status` follows).
      // `failed`, `halfDone`: pending items the last apply failed (of them, maybe half done: PendingItem.lastApply), as `status` says them.
      const failed = status.pending.items.filter((i) => i.lastApply?.outcome === 'failed')
      return {
        drift: status.drift,
        changes: new Set(status.changes.map((c) => `${c.category}\0${c.resource}`)).size,
        pending: status.pending.count,
        missing: notCompared(status),
        setAside: status.pending.setAside !== null,
        failed: failed.length,
        halfDone: failed.filter((i) => i.lastApply?.halfDone === true).length,
      }
    },
    providers: () => container.resolve(ProvidersWorkflow).list(),
    // `twinsync push` (with `init`: `snapshot --init`): the same workflow, push rule included; a twin is created only when asked.
    snapshot: ({ signal, onProgress, label, init = false }) =>
      container.resolve(SnapshotWorkflow).take({ init, ifChanged: false, signal, onProgress, ...(label === undefined ? {} : { label }) }),
    plan: ({ from, only, signal, onProgress }) =>
      container.resolve(Planner).plan({
        signal,
        // Applied after a person read it: an edited twin is recorded as a tree (ApplyService.refuseIfStale).
        recordTree: true,
        ...(from === undefined ? {} : { from }),
        ...(only === undefined ? {} : { only }),
        ...(onProgress === undefined ? {} : { onProgress }),
      }),
    async apply({ plan, leftOut, revertTo, acceptHighRisk, signal, onStart, onResult }) {
      // Refuses a plan with errors, and pushes to the mirror after, as `twinsync apply` does. The
      // plan was made and reviewed before the twin lock was taken (the panel holds none while a
      // person reads it), so it is checked again as a saved plan is (`twinsync apply FILE`): a
      // change that moved, or one the twin no longer asks for, is PLAN_STALE.
      return container.resolve(ApplyService).apply({
        plan,
        fromFile: true,
        signal,
        ...(acceptHighRisk === undefined ? {} : { acceptHighRisk }),
        ...(revertTo === undefined ? {} : { revertTo }),
        leftOut,
        ...(onStart === undefined ? {} : { onStart }),
        ...(onResult === undefined ? {} : { onResult }),
      })
    },
    // `twinsync rehearse`: the same service, the same container rules.
    rehearse: ({ plan, signal, onStage }) => container.resolve(RehearsalService).rehearse({ plan, signal, ...(onStage === undefined ? {} : { onStage }) }),
    decide: (decision, items) => container.resolve(ReconcileService).decide(decision, items),
    history: (limit) => container.resolve(HistoryService).history({ limit }),
    show: (commit) => container.resolve(HistoryService).show(commit, { diffs: true }),
    async loadSettings() {
      const config = resolveToken(container, Tokens.Config)
      const { DEFAULT_INCLUDE } = await import('@twinsync/plugin-files')
      return loadSettings(config.path, configPathOf(container, options.configPath), DEFAULT_INCLUDE, DEFAULT_LIMITS)
    },
    async saveSettings(values) {
      const path = configPathOf(container, options.configPath)
      await saveSettings(path, values, container.resolve(ProviderRegistry))
      container = await makeContainer()
      return { path }
    },
    checkTwinPlace: (dir) => container.resolve(TwinPlaceWorkflow).check(dir),
    async moveTwin(dir) {
      if (location().source === 'flag') {
        throw new TwinSyncError('USAGE', `This run's twin comes from --repo ${location().dir}; \`repo:\` in the configuration file would not be used`, {
          nextStep: 'Start `twinsync tui` without --repo to change where the twin lives.',
        })
      }
      const place = await container.resolve(TwinPlaceWorkflow).check(dir)
      const path = configPathOf(container, options.configPath)
      await saveTwinPlace(path, place.dir, container.resolve(ProviderRegistry))
      container = await makeContainer()
      return { path, place }
    },
    remote: remotePort(() => container),
  }
}

/** The file settings are written to: the one loaded, else the one --config names, else the default. */
function configPathOf(container: DependencyContainer, fallback: string): string {
  return resolveToken(container, Tokens.Config).path ?? fallback
}

async function targetHostname(c: DependencyContainer): Promise<string | null> {
  return (await machineIdentity(resolveToken(c, Tokens.Host))).hostname
}

/**
 * The mirror for the panel, over the same RemoteService the `push`, `pull` and `github`
 * commands use. `container` is read on every call, so a rebuilt container (after settings are
 * saved) is picked up.
 */
export function remotePort(container: () => DependencyContainer): RemotePort {
  const service = () => container().resolve(RemoteService)
  const line = (args: readonly string[]) => container().resolve(RunTarget).line(args)
  return {
    async status() {
      const s = await service().status()
      if (!s.configured) return { summary: 'GitHub: not linked', linked: false }
      const name = s.kind === 'github' ? `GitHub: ${s.repository}` : `Mirror: ${s.url}`
      // SECRET_IN_MIRROR (see mirror-audit.ts): the panel says so too, as `remote show` does.
      const secrets = s.mirrorSecrets === undefined ? '' : `, ${s.mirrorSecrets.length} secret(s) already in its history (\`${line(['remote', 'show'])}\`)`
      const refused = s.refused === undefined ? '' : `, its last pull refused (${s.refused.code}: \`${line(['remote', 'show'])}\`)`
      return { summary: `${name}${s.pending > 0 ? `, ${s.pending} to push` : ''}${refused}${secrets}`, linked: true, pendingPushes: s.pending }
    },
    async push() {
      const outcome = await service().push()
      if (outcome.status === 'not-configured') return { ok: true, message: 'no mirror linked; the snapshot is local only' }
      return { ok: outcome.status !== 'failed', message: renderPush(outcome, line).join(' ') }
    },
    async pull(_signal, options = {}) {
      if (!(await service().status()).configured) return { ok: true, message: 'no mirror linked; planning against the local twin' }
      const pulled = await service().pull(options.takeMirror === true ? { takeMirror: true } : {})
      return { ok: true, message: renderPull(pulled, line).join(' ') }
    },
    async link(repository, token) {
      const s = await service().linkGitHub(repository, token === undefined ? {} : { token })
      return { ok: true, message: `Linked GitHub ${s.repository}; ${s.pending} snapshot(s) to push.` }
    },
    async create(name, token) {
      const s = await service().createGitHub(name, { hostname: await targetHostname(container()), ...(token === undefined ? {} : { token }) })
      return { ok: true, message: `Created the private repository ${s.repository} and linked it; ${s.pending} snapshot(s) to push.` }
    },
    async test() {
      const checks = await service().test()
      return { ok: checks.every((c) => c.ok), message: checks.map((c) => `${c.ok ? 'ok' : 'FAIL'} ${c.check}: ${c.detail}`).join('; ') }
    },
  }
}
