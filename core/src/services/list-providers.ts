import type { Diagnostic } from '@twinsync/sdk'
import { compareStrings, isApplicable } from '@twinsync/sdk/light'
import { inject, injectable } from '../di.js'
import { callProvider } from '../providers/provider-call.js'
import { ProviderContexts } from '../providers/provider-contexts.js'
import { ProviderRegistry } from '../providers/provider-registry.js'

export interface ProviderListing {
  name: string
  version: string
  category: string
  description: string
  source: string
  disabled: boolean
  /** Can plans change this domain, or is it read-only? */
  applicable: boolean
  detected: boolean | null
  reason: string | null
  claims: string[]
  /** Its own codes, each with what it means and the next step (Provider.codes, as the registry judged them). */
  codes: Record<string, string>
}

/** A provider's own code, as `twinsync describe` lists it beside TwinSync's: what it means, and whose it is. */
export interface ProviderCode {
  description: string
  provider: string
  /** The npm package the provider came from. */
  plugin: string
}

export interface ProviderList {
  providers: ProviderListing[]
  diagnostics: Diagnostic[]
}

/** `twinsync providers` and the TUI's providers screen: every provider, and whether it is present on the target. */
@injectable()
export class ProvidersWorkflow {
  constructor(
    @inject(ProviderRegistry) private readonly registry: ProviderRegistry,
    @inject(ProviderContexts) private readonly contexts: ProviderContexts,
  ) {}

  list(): Promise<ProviderList> {
    return listProviders(this.registry, this.contexts)
  }

  /** Every provider's own codes by code (a code is one provider's: the registry refuses a second), without asking any provider to detect. */
  async codes(): Promise<{ codes: Record<string, ProviderCode>; diagnostics: Diagnostic[] }> {
    const { providers, diagnostics } = await this.registry.load()
    const codes: Record<string, ProviderCode> = {}
    for (const { provider, source, codes: own } of [...providers].sort((a, b) => compareStrings(a.provider.name, b.provider.name))) {
      for (const [code, description] of Object.entries(own)) codes[code] = { description, provider: provider.name, plugin: source }
    }
    return { codes, diagnostics }
  }
}

async function listProviders(registry: ProviderRegistry, contexts: ProviderContexts): Promise<ProviderList> {
  const { providers, claims, diagnostics: loadDiagnostics } = await registry.load()
  const diagnostics = [...loadDiagnostics]
  // Listing only reads: detect() gets a host that refuses any change.
  const readOnly = contexts.readOnly('Listing providers only reads', 'while listing providers')
  const listing = await Promise.all(
    providers.map(async ({ provider, source, disabled, codes }): Promise<ProviderListing> => {
      let detected: boolean | null = null
      let reason: string | null = disabled ? 'disabled in the configuration' : null
      if (!disabled) {
        const d = await callProvider(provider, 'detect', () => provider.detect({ ctx: contexts.for(provider, claims, { hostFor: readOnly.hostFor }) }))
        if (d.ok) {
          detected = d.value.detected
          reason = d.value.reason ?? null
        } else {
          detected = false
          reason = d.diagnostic.summary
          diagnostics.push(d.diagnostic)
        }
      }
      return {
        name: provider.name,
        version: provider.version,
        category: provider.category,
        description: provider.description,
        source,
        disabled,
        applicable: isApplicable(provider),
        detected,
        reason,
        claims: [...(provider.claims ?? [])],
        codes: { ...codes },
      }
    }),
  )
  return { providers: listing, diagnostics }
}
