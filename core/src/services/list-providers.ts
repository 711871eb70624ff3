import type { Diagnostic } from '@twinsync/sdk'
import { isApplicable } from '@twinsync/sdk/light'
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
}

async function listProviders(registry: ProviderRegistry, contexts: ProviderContexts): Promise<ProviderList> {
  const { providers, claims, diagnostics: loadDiagnostics } = await registry.load()
  const diagnostics = [...loadDiagnostics]
  // Listing only reads: detect() gets a host that refuses any change.
  const readOnly = contexts.readOnly('Listing providers only reads', 'while listing providers')
  const listing = await Promise.all(
    providers.map(async ({ provider, source, disabled }): Promise<ProviderListing> => {
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
      }
    }),
  )
  return { providers: listing, diagnostics }
}
