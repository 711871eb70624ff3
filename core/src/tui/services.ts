import type { Change, ChangeResult, Diagnostic, Limits, Plan } from '@twinsync/sdk'
import type { ApplyReport } from '../apply/apply-service.js'
import type { CollectProgress } from '../collect/collector.js'
import type { Comparison, HistoryEntry } from '../history/history-service.js'
import type { ProviderListing } from '../services/list-providers.js'
import type { TakeSnapshotResult } from '../services/take-snapshot.js'
import type { Decision } from '../intent/reconcile-service.js'
import type { TwinLocation } from '../twin/twin-location.js'
import type { RemotePort } from './remote.js'

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
  signal: AbortSignal
  onStart?: (change: Change) => void
  onResult?: (change: Change, result: ChangeResult) => void
}

export interface ApplyOutcome extends ApplyReport {
  /** Twin files put back to the desired state of left-out changes, so the next plan has them again. */
  keptPending: string[]
}

/**
 * What the screens need from TwinSync: the same services the subcommands call. The real one
 * (container-services.ts) resolves them from the command's container; tests pass plain fakes.
 */
export interface TuiServices {
  location(): TwinLocation
  checkTwin(): Promise<TwinCheck>
  initTwin(): Promise<{ repo: string; created: boolean; commit: string | undefined }>
  lastSnapshot(): Promise<HistoryEntry | undefined>
  /** Collects the live machine: slow. */
  drift(signal: AbortSignal): Promise<{ drift: boolean; changes: number; pending: number }>
  providers(): Promise<{ providers: ProviderListing[]; diagnostics: Diagnostic[] }>
  /** Creates the twin first when there is none (like `snapshot --init`). */
  snapshot(options: { signal: AbortSignal; onProgress: CollectProgress; label?: string }): Promise<TakeSnapshotResult>
  plan(options: { from?: string; only?: string[]; signal: AbortSignal; onProgress?: CollectProgress }): Promise<Plan>
  apply(request: ApplyRequest): Promise<ApplyOutcome>
  /** `twinsync adopt` / `twinsync discard`: items are change ids, domains or providers. */
  decide(decision: 'adopt' | 'discard', items: string[]): Promise<Decision>
  history(limit: number): Promise<HistoryEntry[]>
  show(commit: string): Promise<Comparison>
  loadSettings(): Promise<SettingsState>
  /** Validates the new configuration before it replaces the file; throws TwinSyncError. */
  saveSettings(values: SettingsValues): Promise<{ path: string }>
  /** The GitHub/remote mirror; undefined until it is wired (see remote.ts). */
  remote?: RemotePort | undefined
}
