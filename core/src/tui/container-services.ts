import { DEFAULT_LIMITS, isTwinSyncError } from '@twinsync/sdk'
import { ApplyService } from '../apply/apply-service.js'
import type { DependencyContainer } from '../di.js'
import { HistoryService } from '../history/history-service.js'
import { Planner } from '../plan/planner.js'
import { driftStatus } from '../services/drift-status.js'
import { initTwin } from '../services/init-twin.js'
import { listProviders } from '../services/list-providers.js'
import { decide } from '../services/reconcile-items.js'
import { takeSnapshot } from '../services/take-snapshot.js'
import { Tokens, resolveToken } from '../tokens.js'
import { TwinRepository } from '../twin/twin-repository.js'
import { remotePort } from './remote-port.js'
import type { TuiServices } from './services.js'
import { loadSettings, saveSettings } from './settings-file.js'

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
    initTwin: () => initTwin(container),
    async lastSnapshot() {
      const [last] = await container.resolve(HistoryService).history({ limit: 1 })
      return last
    },
    // driftStatus takes no signal; a cancelled check just finishes in the background.
    async drift() {
      const status = await driftStatus(container, undefined)
      return { drift: status.drift, changes: status.changes.length, pending: status.pending.count }
    },
    providers: () => listProviders(container),
    // `twinsync snapshot --init`: the same workflow, push rule included.
    snapshot: ({ signal, onProgress, label }) =>
      takeSnapshot(container, { init: true, ifChanged: false, signal, onProgress, ...(label === undefined ? {} : { label }) }),
    plan: ({ from, only, signal, onProgress }) =>
      container.resolve(Planner).plan({
        signal,
        ...(from === undefined ? {} : { from }),
        ...(only === undefined ? {} : { only }),
        ...(onProgress === undefined ? {} : { onProgress }),
      }),
    async apply({ plan, leftOut, revertTo, signal, onStart, onResult }) {
      // Refuses a plan with errors, and pushes to the mirror after, as `twinsync apply` does.
      return container.resolve(ApplyService).apply({
        plan,
        fromFile: false,
        signal,
        ...(revertTo === undefined ? {} : { revertTo }),
        leftOut,
        ...(onStart === undefined ? {} : { onStart }),
        ...(onResult === undefined ? {} : { onResult }),
      })
    },
    decide: (decision, items) => decide(container, decision, items),
    history: (limit) => container.resolve(HistoryService).history({ limit }),
    show: (commit) => container.resolve(HistoryService).show(commit, { diffs: true }),
    async loadSettings() {
      const config = resolveToken(container, Tokens.Config)
      const { DEFAULT_INCLUDE } = await import('@twinsync/plugin-files')
      return loadSettings(config.path, configPathOf(container, options.configPath), DEFAULT_INCLUDE, DEFAULT_LIMITS)
    },
    async saveSettings(values) {
      const path = configPathOf(container, options.configPath)
      await saveSettings(path, values, container)
      container = await makeContainer()
      return { path }
    },
    remote: remotePort(() => container),
  }
}

/** The file settings are written to: the one loaded, else the one --config names, else the default. */
function configPathOf(container: DependencyContainer, fallback: string): string {
  return resolveToken(container, Tokens.Config).path ?? fallback
}
