import type { PathClaims } from '@twinsync/sdk'
import type { ContextOptions } from '../collect/context-factory.js'
import type { DependencyContainer } from '../di.js'
import { Tokens, resolveToken } from '../tokens.js'

/** Context options for a look at the target that keeps no cache and is never cancelled. */
export function readOnlyContextOptions(container: DependencyContainer, claims: PathClaims): ContextOptions {
  return {
    host: resolveToken(container, Tokens.Host),
    claims,
    config: resolveToken(container, Tokens.Config),
    logger: resolveToken(container, Tokens.Logger),
    signal: new AbortController().signal,
    cacheDir: undefined,
  }
}
