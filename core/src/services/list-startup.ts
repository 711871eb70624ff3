import type { Diagnostic, StartupEntry } from '@twinsync/sdk'
import { compareStrings, hasStartupView } from '@twinsync/sdk'
import { collectAll } from '../collect/collector.js'
import type { DependencyContainer } from '../di.js'
import { callProvider } from '../providers/provider-call.js'
import { ProviderContexts } from '../providers/provider-contexts.js'
import { ProviderRegistry } from '../providers/provider-registry.js'
import { table } from './list-providers.js'
import { renderDiagnostics } from './render-diagnostics.js'

const TRIGGER_ORDER = { boot: 0, login: 1, schedule: 2 } as const

/** Collect the providers that have a startup view, live, and merge their rows. */
export async function listStartup(container: DependencyContainer): Promise<{ entries: StartupEntry[]; diagnostics: Diagnostic[] }> {
  const registry = container.resolve(ProviderRegistry)
  const { claims, diagnostics } = await registry.load()
  const providers = (await registry.select()).map((r) => r.provider).filter(hasStartupView)
  const outcomes = await collectAll(providers, container.resolve(ProviderContexts).collecting(claims))
  const entries: StartupEntry[] = []
  const notes = [...diagnostics]
  for (const o of outcomes) {
    if (o.status === 'failed') notes.push(o.diagnostic)
    const provider = o.provider
    if (o.status !== 'collected' || !hasStartupView(provider)) continue
    const rows = await callProvider(provider, 'startupEntries', () => provider.startupEntries(o.result.state))
    if (rows.ok) entries.push(...rows.value)
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

export function renderStartup({ entries, diagnostics }: Awaited<ReturnType<typeof listStartup>>): string {
  if (entries.length === 0) return ['Nothing starts at boot or login.', ...renderDiagnostics(diagnostics)].join('\n')
  const rows = entries.map((e) => [
    e.trigger === 'schedule' ? (e.schedule ?? 'timer') : e.trigger,
    e.source,
    e.user ?? '-',
    e.enabled ? 'yes' : e.state === undefined ? 'no' : `no (${e.state})`,
    e.name,
    e.command ?? '',
  ])
  return [table(['WHEN', 'SOURCE', 'USER', 'ENABLED', 'NAME', 'COMMAND'], rows), ...renderDiagnostics(diagnostics)].join('\n')
}
