import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import type { HostPort, Logger, PathClaims, Provider, ProviderContext } from '@twinsync/sdk'
import type { CollectProgress } from '../collect/collector.js'
import { contextFor, type ContextOptions } from '../collect/context-factory.js'
import { defaultConfigPath, type LoadedConfig } from '../config/config-file.js'
import { credentialsPath } from '../remote/credentials.js'
import { inject, injectable } from '../di.js'
import { ReadOnlyRun } from './read-only-run.js'
import { RunTarget } from '../plan/run-target.js'
import { Tokens } from '../tokens.js'
import { readForgotten } from '../history/forgotten-paths.js'
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
    /** This run's --root, --repo and --config: every provider's `twinsync ARGS` lines name them (ProviderContext.twinsync). */
    @inject(RunTarget) private readonly target: RunTarget,
  ) {}

  /**
   * TwinSync's own files and folders on this host as machine paths of the target (those under its
   * root): the configuration file in use (`--config FILE`, or the one looked for, which
   * XDG_CONFIG_HOME moves), the configuration folder XDG_CONFIG_HOME names, the twin's own
   * repository, and the credentials file and data folder (TWINSYNC_CREDENTIALS, XDG_DATA_HOME).
   * outsideScope leaves out every change at one of them (TWINSYNC_OWN_FILE), as at the default
   * places (isTwinSyncOwn). Session 19: before, only the default places were.
   */
  ownPaths(env: NodeJS.ProcessEnv = process.env): string[] {
    const root = resolve(this.host.root)
    const onTarget = (hostPath: string): string | undefined => {
      const p = resolve(hostPath)
      if (root === '/') return p
      return p.startsWith(`${root}/`) ? p.slice(root.length) : undefined
    }
    const configHome = env.XDG_CONFIG_HOME || join(homedir(), '.config')
    const dataHome = env.XDG_DATA_HOME || join(homedir(), '.local', 'share')
    const own = [this.config.path ?? defaultConfigPath(undefined, env), join(configHome, 'twinsync'), this.location.dir, credentialsPath(undefined, env), join(dataHome, 'twinsync')]
    return [...new Set(own.map(onTarget).filter((p): p is string => p !== undefined && p !== '/'))]
  }

  /** The machine paths `twinsync forget` took out of the twin's history since its last snapshot (forgotten-paths.ts). */
  forgottenPaths(): string[] {
    return readForgotten(this.location.dir)
  }

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
      twinsync: (args) => this.target.line(args),
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
