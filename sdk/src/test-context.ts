import { Value } from 'typebox/value'
import { DEFAULT_LIMITS, MemoryCache, silentLogger, type Limits, type ProviderCache, type ProviderContext } from './context.js'
import type { HostPort } from './host.js'
import { LocalHost } from './local-host.js'
import { PathClaims } from './path-claims.js'
import type { Provider } from './provider.js'

export interface TestContextOptions {
  /** Providers whose claims are registered, as the host would register them. */
  providers?: readonly Provider[]
  /** The provider's config section; the first provider's configSchema defaults are filled in, as the host does. */
  config?: unknown
  limits?: Partial<Limits>
  signal?: AbortSignal
  /** The provider cache; a fresh in-memory one by default. Share one to collect "on the same twin" twice. */
  cache?: ProviderCache
  /** The host port instead of a LocalHost on `root`: a RecordingHost for a dry run. */
  host?: HostPort
}

/**
 * A real context over a test root file system, the way the host builds one: a LocalHost on
 * `root`, the claims of the given providers, default limits, an in-memory cache.
 */
export function createTestContext(root: string, options: TestContextOptions = {}): ProviderContext {
  const claims = new PathClaims()
  for (const provider of options.providers ?? []) {
    for (const pattern of provider.claims ?? []) claims.claim(provider.name, pattern)
  }
  return {
    host: options.host ?? new LocalHost(root),
    claims,
    limits: { ...DEFAULT_LIMITS, ...options.limits },
    logger: silentLogger,
    signal: options.signal ?? new AbortController().signal,
    config: withDefaults(options.providers?.[0], options.config),
    cache: options.cache ?? new MemoryCache(),
  }
}

function withDefaults(provider: Provider | undefined, config: unknown): unknown {
  const section = structuredClone(config ?? {})
  return provider?.configSchema === undefined ? section : Value.Default(provider.configSchema, section)
}
