import { join } from 'node:path'
import type { HostPort, Limits, Logger, PathClaims, Provider, ProviderContext, TwinsyncLine } from '@twinsync/sdk'
import { DEFAULT_LIMITS, MemoryCache } from '@twinsync/sdk/light'
import type { LoadedConfig } from '../config/config-file.js'
import { applyDefaults } from '../config/schema-defaults.js'
import { FileCache } from './file-cache.js'

export function effectiveLimits(config: LoadedConfig): Limits {
  return { ...DEFAULT_LIMITS, ...config.values.limits }
}

/**
 * The provider's config section with the defaults of its schema filled in. A provider context
 * works it out when the provider first reads `ctx.config` (contextFor), and the configuration's
 * check reads a provider's schema only when the file has its section (checkProviderSections), so
 * the core reads no provider's `configSchema` on a run where the provider reads no config: a
 * plugin whose schemas are built when first read (docs/plugin-authoring.md, "What a plugin costs")
 * loads no typebox on such a run.
 *
 * Speed (issue 22, session 44): the core read every provider's `configSchema` as the registry
 * loaded (checkProviderSections' map) and again for each context, so a plugin's schemas were built
 * on every command even where its provider is not detected, and building one loads typebox (the
 * SDK's sdk-lib.cjs). With these reads where they are used and the dnf example's schemas built
 * when first read (examples/twinsync-plugin-dnf/src/state.ts), the bench's plugin sandbox (the dnf
 * example installed, an unchanged minbase snapshot: no rpm database), callgrind, node only, 2
 * scavenges every run, 3 interleaved pairs a side: what the plugin adds 42.4 -> 7.4 M instructions
 * (with it 416.0 -> 380.6 M, without 373.6 -> 373.2 M); either half alone saves nothing (+43.0 M
 * and +43.5 M). `BENCH_ONLY=plugin BENCH_QUICK=1`: 9.7 -> 1.8 ms at the row's rate.
 */
export function providerConfig(provider: Provider, config: LoadedConfig): unknown {
  const section = structuredClone(config.values[provider.name] ?? {})
  const schema = provider.configSchema
  return schema === undefined ? section : applyDefaults(schema, section)
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
    // Worked out when first read (see providerConfig), once.
    get config() {
      const config = providerConfig(provider, options.config)
      Object.defineProperty(this, 'config', { value: config, writable: true, enumerable: true, configurable: true })
      return config
    },
    // A provider that sets its ctx.config, as it could when it was a plain property (session 44, review).
    set config(value) {
      Object.defineProperty(this, 'config', { value, writable: true, enumerable: true, configurable: true })
    },
    cache: options.cacheDir === undefined ? new MemoryCache() : new FileCache(join(options.cacheDir, provider.name)),
    ...(options.twinsync === undefined ? {} : { twinsync: options.twinsync }),
  }
}
