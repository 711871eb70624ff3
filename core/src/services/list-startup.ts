import type { Diagnostic, StartupEntry } from '@twinsync/sdk'
import { compareStrings, hasStartupView, redactSecrets } from '@twinsync/sdk'
import { collectAll } from '../collect/collector.js'
import { contextFor } from '../collect/context-factory.js'
import { inject, injectable } from '../di.js'
import { callProvider } from '../providers/provider-call.js'
import { ProviderContexts } from '../providers/provider-contexts.js'
import { ProviderRegistry } from '../providers/provider-registry.js'

const TRIGGER_ORDER = { boot: 0, login: 1, schedule: 2 } as const

export interface StartupList {
  entries: StartupEntry[]
  diagnostics: Diagnostic[]
}

/** `twinsync startup`: what starts at boot, at login and on a schedule, from every provider that knows. */
@injectable()
export class StartupWorkflow {
  constructor(
    @inject(ProviderRegistry) private readonly registry: ProviderRegistry,
    @inject(ProviderContexts) private readonly contexts: ProviderContexts,
  ) {}

  list(): Promise<StartupList> {
    return listStartup(this.registry, this.contexts)
  }
}

async function redactCommand(entry: StartupEntry): Promise<StartupEntry> {
  if (entry.command === undefined) return entry
  const command = await redactSecrets(entry.command)
  return command === entry.command ? entry : { ...entry, command }
}

/** What the startup providers hold out because a secret is in its name (session 25): the table lacks it, the notes say where. */
const HELD_BY_NAME: ReadonlySet<string> = new Set(['SYSTEMD_NAME_SECRET', 'CRON_NAME_SECRET', 'AUTOSTART_NAME_SECRET'])

/** Collect the providers that have a startup view, live, and merge their rows. */

async function listStartup(registry: ProviderRegistry, contexts: ProviderContexts): Promise<StartupList> {
  const { claims, diagnostics } = await registry.load()
  const providers = (await registry.select()).map((r) => r.provider).filter(hasStartupView)
  const options = contexts.collecting(claims)
  const outcomes = await collectAll(providers, options)
  const entries: StartupEntry[] = []
  const notes = [...diagnostics]
  for (const o of outcomes) {
    if (o.status === 'failed') notes.push(o.diagnostic)
    const provider = o.provider
    if (o.status !== 'collected' || !hasStartupView(provider)) continue
    // A unit, job or entry its provider held out by its name (a secret in it): not in the table, said so (folder and rule only).
    notes.push(...o.result.diagnostics.filter((d) => HELD_BY_NAME.has(d.code)))
    const state = o.result.state
    const rows = await callProvider(provider, 'startupEntries', async () => provider.startupEntries(state, contextFor(provider, options)))
    // Read live, not from the twin: a command line's secret (`PGPASSWORD=…`, `--password=…`) is
    // redacted here as the snapshot redacts it, so the table never prints what the twin may not hold.
    if (rows.ok) entries.push(...(await Promise.all(rows.value.map(redactCommand))))
    else notes.push(rows.diagnostic)
  }
  entries.sort(
    (a, b) =>
      TRIGGER_ORDER[a.trigger] - TRIGGER_ORDER[b.trigger] ||
      compareStrings(a.source, b.source) ||
      compareStrings(a.user ?? '', b.user ?? '') ||
      compareStrings(a.name, b.name),
  )
  return { entries, diagnostics: notes }
}
