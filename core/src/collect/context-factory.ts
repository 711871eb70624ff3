import { join } from 'node:path'
import type { HostPort, Limits, Logger, PathClaims, Provider, ProviderContext, TwinsyncLine } from '@twinsync/sdk'
import { DEFAULT_LIMITS, MemoryCache } from '@twinsync/sdk/light'
import type { LoadedConfig } from '../config/config-file.js'
import { applyDefaults } from '../config/schema-defaults.js'
import { FileCache } from './file-cache.js'

export function effectiveLimits(config: LoadedConfig): Limits {
  return { ...DEFAULT_LIMITS, ...config.values.limits }
}

/** The provider's config section with the defaults of its schema filled in. */
export function providerConfig(provider: Provider, config: LoadedConfig): unknown {
  const section = structuredClone(config.values[provider.name] ?? {})
  return provider.configSchema === undefined ? section : applyDefaults(provider.configSchema, section)
}

export interface ContextOptions {
  host: HostPort
  claims: PathClaims
  config: LoadedConfig
  logger: Logger
  signal: AbortSignal
  /** Folder of provider caches; undefined keeps caches in memory only. */
  cacheDir: string | undefined
  /** A host port of the provider's own instead of `host` (the planner's dry run). */
  hostFor?: (provider: Provider) => HostPort
  /** This run's `twinsync ARGS` lines (RunTarget.line): ProviderContext.twinsync, for the next steps a provider writes. */
  twinsync?: TwinsyncLine
}

export function contextFor(provider: Provider, options: ContextOptions): ProviderContext {
  return {
    host: options.hostFor?.(provider) ?? options.host,
    claims: options.claims,
    limits: effectiveLimits(options.config),
    logger: options.logger,
    signal: options.signal,
    config: providerConfig(provider, options.config),
    cache: options.cacheDir === undefined ? new MemoryCache() : new FileCache(join(options.cacheDir, provider.name)),
    ...(options.twinsync === undefined ? {} : { twinsync: options.twinsync }),
  }
}
