import type { CollectProgress } from '../collect/collector.js'
import { inject, injectable } from '../di.js'
import { SnapshotService, type SnapshotResult } from '../snapshot/snapshot-service.js'
import { RemoteService, type PushOutcome } from '../remote/remote-service.js'
import { editedPathsOf } from '../twin/atomic-snapshot.js'
import { TwinRepository } from '../twin/twin-repository.js'
import { InitWorkflow } from './init-twin.js'
import { TwinPlaceWorkflow } from './twin-place.js'
import { isTwinSyncError } from '@twinsync/sdk/errors'
import type { LineFor } from '../plan/command-text.js'

export interface TakeSnapshotOptions {
  init: boolean
  ifChanged: boolean
  label?: string
  /** The commit subject instead of the diary line (the apt hook names the operation). */
  subject?: string
  /** Said after the stamp in the message body ("before apt"). */
  note?: string
  /** 'incremental': never pack the object store whole after the commit (the apt hook's time budget). */
  pack?: 'auto' | 'incremental'
  onProgress?: CollectProgress
  signal?: AbortSignal
}

export type TakeSnapshotResult = Omit<SnapshotResult, 'skipped'> & {
  /** Why there is no commit; 'busy': `--if-changed` found another TwinSync run holding the twin and left it to that one. */
  skipped: SnapshotResult['skipped'] | 'busy'
  /**
   * Who held the twin when the snapshot was skipped as busy; `applyingTo` (the machine's root)
   * when it was another run's apply to this machine (its machine lock, refuseWhileAnotherApplies),
   * `ownTwin` when that apply is this twin's (it records the machine when it ends); another
   * twin's records nothing in this one. `meanwhile`: it began while this snapshot read the
   * machine (watchForApplies), and may be over. `edited`: no other run, but a person saved these
   * twin files while the snapshot ran (TWIN_DIRTY); their edits are kept.
   */
  busy?: { purpose: string; pid: number; since: string; applyingTo?: string; ownTwin?: boolean; meanwhile?: boolean; edited?: string[] }
  repo: string
  initialized: boolean
  push?: PushOutcome
}

/**
 * A snapshot as both front ends take it (`twinsync snapshot`, the TUI's "Push snapshot"):
 * create the twin when asked, snapshot, then push to the mirror after a new commit, and also
 * when earlier snapshots are still pending there.
 */
@injectable()
export class SnapshotWorkflow {
  constructor(
    @inject(InitWorkflow) private readonly initializer: InitWorkflow,
    @inject(SnapshotService) private readonly snapshots: SnapshotService,
    @inject(RemoteService) private readonly remote: RemoteService,
    @inject(TwinRepository) private readonly twin: TwinRepository,
    @inject(TwinPlaceWorkflow) private readonly place: TwinPlaceWorkflow,
  ) {}

  async take(options: TakeSnapshotOptions): Promise<TakeSnapshotResult> {
    // A twin inside a mirrored path would be copied into itself: refused before collecting (init checks it too).
    // What is there is checked by the snapshot's own open of the twin, its first step (TwinPlaceWorkflow.checkRule).
    const initialized = options.init ? (await this.initializer.init()).created : (await this.place.checkRule(), false)
    const result = await this.snapshots.snapshot({
      ifChanged: options.ifChanged,
      ...(options.label === undefined ? {} : { label: options.label }),
      ...(options.subject === undefined ? {} : { subject: options.subject }),
      ...(options.note === undefined ? {} : { note: options.note }),
      ...(options.pack === undefined ? {} : { pack: options.pack }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
    }).catch(async (error: unknown) => {
      // A scheduled snapshot (--if-changed) that finds another snapshot or apply holding the twin
      // leaves the work to it: that run records the machine. A person's `snapshot` is told LOCK_HELD.
      // So with a person saving twin files meanwhile (TWIN_DIRTY): the next one records the machine.
      const edited = editedPathsOf(error)
      if (options.ifChanged && edited !== undefined) {
        return { commit: undefined, message: undefined, skipped: 'busy' as const, busy: { purpose: 'edit', pid: 0, since: '', edited }, head: await this.twin.head(), summary: {}, providers: [], diagnostics: [], pending: [] }
      }
      if (!options.ifChanged || !isTwinSyncError(error) || error.code !== 'LOCK_HELD') throw error
      const details = error.details as { holder?: { purpose?: string; pid?: number; since?: string }; applyingTo?: unknown; ownTwin?: unknown; meanwhile?: unknown } | undefined
      const holder = details?.holder
      const machine = typeof details?.applyingTo === 'string' ? { applyingTo: details.applyingTo, ownTwin: details.ownTwin === true, ...(details.meanwhile === true ? { meanwhile: true } : {}) } : {}
      const busy = { purpose: holder?.purpose ?? 'run', pid: holder?.pid ?? 0, since: holder?.since ?? '', ...machine }
      return { commit: undefined, message: undefined, skipped: 'busy' as const, busy, head: await this.twin.head(), summary: {}, providers: [], diagnostics: [], pending: [] }
    })
    if (result.skipped === 'busy') return { ...result, repo: this.twin.dir, initialized }
    const push = result.commit !== undefined || (await this.remote.status()).pending > 0 ? await this.remote.push() : undefined
    return { ...result, repo: this.twin.dir, initialized, ...(push === undefined || push.status === 'not-configured' ? {} : { push }) }
  }
}

/**
 * Who a scheduled snapshot left its work to, in the words `snapshot` and apt's hook print: a run
 * holding this twin (its snapshot records the machine, its apply does when it applies; any other,
 * an adopt, a discard, a pull, records nothing of it: the next snapshot does; session 29: all were
 * "records the machine"), or another run applying to the machine, maybe of another twin (its
 * machine lock: session 28, both were "is using the twin").
 */
export function busyWhy(busy: TakeSnapshotResult['busy']): string {
  if (busy?.edited !== undefined) {
    const named = busy.edited.slice(0, 3).join(', ') + (busy.edited.length > 3 ? `, and ${busy.edited.length - 3} more` : '')
    return `the twin was edited while it was read (${named}); the edit is kept, and the next snapshot of this twin records the machine`
  }
  if (busy?.applyingTo === undefined) {
    const who = `another TwinSync ${busy?.purpose ?? 'run'} (pid ${busy?.pid ?? '?'}) is using the twin`
    // `apply` holds it while `twinsync apply` asks the person too (cli/apply.ts): a "no" records nothing.
    return busy?.purpose === 'snapshot' ? `${who} and records the machine` : busy?.purpose === 'apply' ? `${who} and records the machine if it applies` : `${who}; the next snapshot of this twin records the machine`
  }
  const pid = busy.pid === 0 ? undefined : `pid ${busy.pid}`
  if (busy.ownTwin === true) return `this twin's apply (${pid ?? 'its pid unknown'}) ${busy.meanwhile === true ? 'changed the machine while it was read, and records it' : 'is changing the machine and records it'} when it ends`
  const named = [busy.purpose === 'run' ? undefined : busy.purpose, pid].filter((p) => p !== undefined)
  const who = `another TwinSync run${named.length === 0 ? '' : ` (${named.join(', ')})`}`
  return `${who} ${busy.meanwhile === true ? 'applied to this machine while it was read' : 'is applying to this machine'}: a snapshot now would record a moment of that apply, and the next snapshot of this twin records the machine`
}

/** Providers that failed to collect: the snapshot is incomplete, and the command exits 1. */
export function failedProviders(r: Pick<SnapshotResult, 'providers'>): string[] {
  return r.providers.filter((p) => p.status === 'failed').map((p) => p.name)
}

/**
 * Plugins that failed to load (SnapshotResult.notLoaded): the snapshot recorded the rest, and the
 * command exits 1 as for a provider that failed to collect (a scheduled snapshot's unit fails;
 * before session 46 it exited 0). The apt hook never fails apt's run over it (apt-hook.ts).
 */
export function notLoadedPlugins(r: Pick<SnapshotResult, 'notLoaded'>): string[] {
  return r.notLoaded ?? []
}

/**
 * A snapshot's outcome in the words both front ends use (`twinsync snapshot`, the TUI's "Push
 * snapshot"): the headline — the commit, or why there is none — and, when a provider failed to
 * collect, that its part was NOT collected; when a plugin failed to load, that it was NOT loaded,
 * with the next step (`line`: this run's `twinsync` line). A failed provider is never "nothing changed".
 */
export function snapshotOutcome(r: Pick<TakeSnapshotResult, 'commit' | 'message' | 'skipped' | 'busy' | 'head' | 'providers' | 'notLoaded'>, line: LineFor): { headline: string; notCollected: string | undefined; notLoaded: string | undefined } {
  const failed = failedProviders(r)
  const plugins = notLoadedPlugins(r)
  const headline =
    r.commit !== undefined
      ? `Snapshot ${r.commit.slice(0, 12)}  ${r.message}`
      : r.skipped === 'busy'
        ? `Skipped: ${busyWhy(r.busy)}; no snapshot made.`
        : r.skipped === 'volatile-only'
          ? `Only volatile facts (processes, logs, usage) changed; no snapshot made (last: ${r.head?.slice(0, 12)}).`
          : failed.length > 0
            ? `No snapshot made: what was collected is unchanged since ${r.head?.slice(0, 12)}, but ${failed.join(', ')} failed to collect.`
            : plugins.length > 0
              ? `No snapshot made: what was collected is unchanged since ${r.head?.slice(0, 12)}, but ${plugins.join(', ')} failed to load.`
              : `Nothing changed since the last snapshot (${r.head?.slice(0, 12)}); no snapshot made.`
  const notCollected = failed.length === 0 ? undefined : `${failed.join(', ')}: NOT collected; the twin keeps their state from the last snapshot (see the errors below).`
  const notLoaded =
    plugins.length === 0
      ? undefined
      : `${plugins.join(', ')}: NOT loaded, a plugin's fault, not TwinSync's; the twin keeps their part from the last snapshot. Each error below says what to do (update, reinstall or remove the plugin: \`twinsync plugins\`); \`${line(['providers'])}\` lists them again.`
  return { headline, notCollected, notLoaded }
}
