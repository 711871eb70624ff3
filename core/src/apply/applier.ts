import type { ApplicableProvider, Change, ChangeResult, Diagnostic, HostPort, Logger, Plan } from '@twinsync/sdk'
import { isApplicable } from '@twinsync/sdk'
import { contextFor } from '../collect/context-factory.js'
import type { LoadedConfig } from '../config/config-file.js'
import { inject, injectable } from '../di.js'
import { waves } from '../plan/plan-graph.js'
import { callProvider } from '../providers/provider-call.js'
import { ProviderRegistry } from '../providers/provider-registry.js'
import { Tokens } from '../tokens.js'
import { runCommandChange } from './command-runner.js'
import type { JournalStep } from './journal.js'

export interface ExecuteResult {
  /** One per change of the plan, in plan order. */
  steps: JournalStep[]
  /** Diagnostics of providers' apply calls that name no change of theirs. */
  diagnostics: Diagnostic[]
}

export interface ExecuteOptions {
  signal: AbortSignal
  cacheDir: string | undefined
  onStart?: (change: Change) => void
  onResult?: (change: Change, result: ChangeResult) => void
}

/**
 * What a step under way sees as its cancel signal: never aborted. Ctrl-C stops the apply between
 * steps; killing apt-get or a script half way would leave the machine in a state nobody planned.
 */
const STEPS_RUN_TO_THE_END = new AbortController().signal

/**
 * Carries out an approved plan in graph order. A wave holds changes whose predecessors are
 * done; each provider gets its part of a wave in one call (so apt runs one transaction and never
 * two at once), different providers run side by side. A change whose predecessor failed or was
 * skipped is skipped; after Ctrl-C, nothing new starts.
 */
@injectable()
export class Applier {
  constructor(
    @inject(ProviderRegistry) private readonly registry: ProviderRegistry,
    @inject(Tokens.Host) private readonly host: HostPort,
    @inject(Tokens.Config) private readonly config: LoadedConfig,
    @inject(Tokens.Logger) private readonly logger: Logger,
  ) {}

  async execute(plan: Plan, options: ExecuteOptions): Promise<ExecuteResult> {
    const { claims } = await this.registry.load()
    const providers = new Map(
      (await this.registry.select()).map((r) => r.provider).filter(isApplicable).map((p) => [p.name, p] as const),
    )
    const results = new Map<string, ChangeResult>()
    const steps = new Map<string, JournalStep>()
    const general: Diagnostic[] = []
    const predecessors = new Map<string, string[]>()
    for (const e of plan.edges) predecessors.set(e.to, [...(predecessors.get(e.to) ?? []), e.from])
    const record = (change: Change, startedAt: string, given: ChangeResult) => {
      // A diagnostic about a change names it, and its provider.
      const named = given.diagnostics?.map((d) => ({ ...d, provider: d.provider ?? change.provider, change: change.id }))
      const result: ChangeResult = named === undefined ? given : { ...given, diagnostics: named }
      results.set(change.id, result)
      steps.set(change.id, {
        id: change.id,
        provider: change.provider,
        summary: change.summary,
        startedAt,
        endedAt: new Date().toISOString(),
        status: result.status,
        ...(result.message === undefined ? {} : { message: result.message }),
        ...(result.outputTail === undefined ? {} : { outputTail: result.outputTail }),
        ...(named === undefined || named.length === 0 ? {} : { diagnostics: named }),
      })
      options.onResult?.(change, result)
    }

    for (const wave of waves(plan.changes, plan.edges)) {
      const runnable: Change[] = []
      for (const change of wave) {
        const now = new Date().toISOString()
        if (options.signal.aborted) {
          record(change, now, { id: change.id, status: 'skipped', message: 'not started: the apply was interrupted' })
          continue
        }
        const blocker = (predecessors.get(change.id) ?? []).find((p) => !['applied', 'unchanged'].includes(results.get(p)?.status ?? ''))
        if (blocker !== undefined) record(change, now, { id: change.id, status: 'skipped', message: `skipped: ${blocker} did not succeed` })
        else runnable.push(change)
      }
      const byProvider = new Map<string, Change[]>()
      for (const c of runnable) byProvider.set(c.provider, [...(byProvider.get(c.provider) ?? []), c])
      await Promise.all(
        [...byProvider].map(([name, changes]) => this.runGroup(name, changes, providers.get(name), claims, options, record, noteFrom(name))),
      )
    }
    // ApplyResult.diagnostics: beside the step of the change they name, else kept as general ones.
    function noteFrom(provider: string) {
      return (d: Diagnostic) => {
        const step = d.change === undefined ? undefined : steps.get(d.change)
        const note = { ...d, provider: d.provider ?? provider }
        if (step !== undefined && step.provider === provider) step.diagnostics = [...(step.diagnostics ?? []), note]
        else general.push(note)
      }
    }
    return { steps: plan.changes.map((c) => steps.get(c.id)).filter((s): s is JournalStep => s !== undefined), diagnostics: general }
  }

  private async runGroup(
    name: string,
    changes: Change[],
    provider: ApplicableProvider | undefined,
    claims: Parameters<typeof contextFor>[1]['claims'],
    options: ExecuteOptions,
    record: (change: Change, startedAt: string, result: ChangeResult) => void,
    note: (diagnostic: Diagnostic) => void,
  ): Promise<void> {
    const startedAt = new Date().toISOString()
    for (const c of changes) options.onStart?.(c)
    if (name === 'commands') {
      for (const change of changes) {
        const started = new Date().toISOString()
        if (options.signal.aborted) record(change, started, { id: change.id, status: 'skipped', message: 'not started: the apply was interrupted' })
        else record(change, started, await runCommandChange(this.host, change, STEPS_RUN_TO_THE_END))
      }
      return
    }
    if (provider === undefined) {
      for (const c of changes) record(c, startedAt, { id: c.id, status: 'failed', message: `provider ${name} is not loaded` })
      return
    }
    const byId = new Map(changes.map((c) => [c.id, c]))
    const reported = new Set<string>()
    const outcome = await callProvider(provider, 'apply', () =>
      provider.apply({
        changes,
        ctx: contextFor(provider, {
          host: this.host,
          claims,
          config: this.config,
          logger: this.logger,
          signal: STEPS_RUN_TO_THE_END,
          cacheDir: options.cacheDir,
        }),
        onResult: (result) => {
          const change = byId.get(result.id)
          if (change === undefined || reported.has(result.id)) return
          reported.add(result.id)
          record(change, startedAt, result)
        },
      }),
    )
    if (!outcome.ok) {
      for (const c of changes) {
        if (!reported.has(c.id)) record(c, startedAt, { id: c.id, status: 'failed', message: outcome.diagnostic.summary, diagnostics: [outcome.diagnostic] })
      }
      return
    }
    for (const result of outcome.value.results) {
      const change = byId.get(result.id)
      if (change !== undefined && !reported.has(result.id)) {
        reported.add(result.id)
        record(change, startedAt, result)
      }
    }
    for (const d of outcome.value.diagnostics ?? []) note(d)
    for (const c of changes) if (!reported.has(c.id)) record(c, startedAt, { id: c.id, status: 'failed', message: `${name} reported no result for this change` })
  }
}
