import type { PathClaims, Provider } from '@twinsync/sdk'
import { machinePathOf } from '@twinsync/sdk/light'

/**
 * Which provider a twin path belongs to: a mirrored file belongs to whoever claims its machine
 * path; any other file to the provider whose twinPaths cover it. Undefined for the twin's own
 * files (twin.json, plans/, scripts/).
 */
export function ownerOfTwinPath(path: string, providers: readonly Provider[], claims: PathClaims): Provider | undefined {
  if (path === ownerAsked.path) ownerAsked.times++
  const machinePath = machinePathOf(path)
  if (machinePath !== undefined) {
    const owner = claims.ownerOf(machinePath)
    return providers.find((p) => p.name === owner)
  }
  return providers.find((p) => p.twinPaths.some((t) => (t.endsWith('/') ? path.startsWith(t) : path === t)))
}

/** For tests: how many times the owner of `path` was asked (a kept document once a snapshot: see keptNames in kept-parts.ts). */
export const ownerAsked: { path: string | undefined; times: number } = { path: undefined, times: 0 }
