import type { DependencyContainer } from '../di.js'
import { effectiveLimits, providerConfig } from '../collect/context-factory.js'
import { ProviderRegistry } from '../providers/provider-registry.js'
import { Tokens, resolveToken } from '../tokens.js'

/** Every setting as it will be used: file values with defaults filled in, and where each came from. */
export async function effectiveConfig(container: DependencyContainer): Promise<Record<string, unknown>> {
  const config = resolveToken(container, Tokens.Config)
  const location = resolveToken(container, Tokens.TwinLocation)
  const { providers } = await container.resolve(ProviderRegistry).load()
  const out: Record<string, unknown> = {
    configFile: config.path ?? null,
    repo: location.dir,
    repoSource: location.source,
    limits: effectiveLimits(config),
    providers: {
      disabled: config.values.providers?.disabled ?? [],
      hookTimeoutMs: config.values.providers?.hookTimeoutMs ?? 5000,
      concurrency: config.values.providers?.concurrency ?? 4,
    },
  }
  for (const { provider } of providers) {
    if (provider.configSchema !== undefined) out[provider.name] = providerConfig(provider, config)
  }
  return out
}
