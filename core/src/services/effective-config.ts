import { effectiveLimits, providerConfig } from '../collect/context-factory.js'
import type { LoadedConfig } from '../config/config-file.js'
import { inject, injectable } from '../di.js'
import { DEFAULT_APPLY_TIMEOUT_MS, DEFAULT_CALL_TIMEOUT_MS } from '../providers/provider-call.js'
import { ProviderRegistry } from '../providers/provider-registry.js'
import { Tokens } from '../tokens.js'
import type { TwinLocation } from '../twin/twin-location.js'

/** `twinsync config`: every setting as it will be used. */
@injectable()
export class ConfigWorkflow {
  constructor(
    @inject(Tokens.Config) private readonly config: LoadedConfig,
    @inject(Tokens.TwinLocation) private readonly location: TwinLocation,
    @inject(ProviderRegistry) private readonly registry: ProviderRegistry,
  ) {}

  /** File values with defaults filled in, and where each came from. */
  async effective(): Promise<Record<string, unknown>> {
    const config = this.config
    const { providers } = await this.registry.load()
    const out: Record<string, unknown> = {
      configFile: config.path ?? null,
      repo: this.location.dir,
      repoSource: this.location.source,
      limits: effectiveLimits(config),
      providers: {
        disabled: config.values.providers?.disabled ?? [],
        hookTimeoutMs: config.values.providers?.hookTimeoutMs ?? 5000,
        callTimeoutMs: config.values.providers?.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS,
        applyTimeoutMs: config.values.providers?.applyTimeoutMs ?? DEFAULT_APPLY_TIMEOUT_MS,
        concurrency: config.values.providers?.concurrency ?? 4,
      },
    }
    for (const { provider } of providers) {
      if (provider.configSchema !== undefined) out[provider.name] = providerConfig(provider, config)
    }
    return out
  }
}
