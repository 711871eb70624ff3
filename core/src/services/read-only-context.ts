import type { HostPort, Logger, PathClaims } from '@twinsync/sdk'
import type { ContextOptions } from '../collect/context-factory.js'
import type { LoadedConfig } from '../config/config-file.js'
import type { DependencyContainer } from '../di.js'
import { Tokens } from '../tokens.js'

/** Context options for a look at the target that keeps no cache and is never cancelled. */
export function readOnlyContextOptions(container: DependencyContainer, claims: PathClaims): ContextOptions {
  return {
    host: container.resolve<HostPort>(Tokens.Host),
    claims,
    config: container.resolve<LoadedConfig>(Tokens.Config),
    logger: container.resolve<Logger>(Tokens.Logger),
    signal: new AbortController().signal,
    cacheDir: undefined,
  }
}
