import type { HostPort, Logger, PathClaims, Provider, ProviderContext } from '@twinsync/sdk'
import type { CollectProgress } from '../collect/collector.js'
import { contextFor, type ContextOptions } from '../collect/context-factory.js'
import type { LoadedConfig } from '../config/config-file.js'
import { inject, injectable } from '../di.js'
import { ReadOnlyRun } from './read-only-run.js'
import { Tokens } from '../tokens.js'
import { twinCacheDir } from '../twin/twin-repository.js'
import type { TwinLocation } from '../twin/twin-location.js'

/** How one piece of work calls its providers. */
export interface ContextRun {
  /** Cancels the providers' work; by default never cancelled. */
  signal?: AbortSignal | undefined
  /** 'twin': provider caches kept in the twin (`.git/twinsync/cache`); 'memory' (default): kept for this run only. */
  cache?: 'twin' | 'memory'
  /** A host port of the provider's own instead of the target's (the planner's read-only dry run). */
  hostFor?: (provider: Provider) => HostPort
}

export type CollectOptions = ContextOptions & { concurrency: number; onProgress?: CollectProgress }

/**
 * Builds every provider's context: the target's host port, the provider's config section with
 * its defaults, the limits, the logger and a cache. The services take this instead of the host,
 * config and logger each, and nobody fills in context options by hand.
 */
@injectable()
export class ProviderContexts {
  constructor(
    /** The target: the port every provider context is built over. */
    @inject(Tokens.Host) readonly host: HostPort,
    @inject(Tokens.Config) private readonly config: LoadedConfig,
    @inject(Tokens.Logger) private readonly logger: Logger,
    @inject(Tokens.TwinLocation) private readonly location: TwinLocation,
  ) {}

  /** The context options of one run over these claims. */
  options(claims: PathClaims, run: ContextRun = {}): ContextOptions {
    return {
      host: this.host,
      ...(run.hostFor === undefined ? {} : { hostFor: run.hostFor }),
      claims,
      config: this.config,
      logger: this.logger,
      signal: run.signal ?? new AbortController().signal,
      cacheDir: run.cache === 'twin' ? twinCacheDir(this.location.dir) : undefined,
    }
  }

  /** Options for `collectAll`: a run's options, with the configured concurrency. */
  collecting(claims: PathClaims, run: ContextRun & { onProgress?: CollectProgress | undefined } = {}): CollectOptions {
    return {
      ...this.options(claims, run),
      concurrency: this.config.values.providers?.concurrency ?? 4,
      ...(run.onProgress === undefined ? {} : { onProgress: run.onProgress }),
    }
  }

  /**
   * The host ports of work that only reads the target: every provider gets its own host that
   * refuses any change (pass its `hostFor` in the run). `reason` words the refusal ("Planning
   * only reads"), `during` the work ("while planning").
   */
  readOnly(reason: string, during: string): ReadOnlyRun {
    return new ReadOnlyRun(this.host, reason, during)
  }

  /** One provider's context. */
  for(provider: Provider, claims: PathClaims, run: ContextRun = {}): ProviderContext {
    return contextFor(provider, this.options(claims, run))
  }
}
