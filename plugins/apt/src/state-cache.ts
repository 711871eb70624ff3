import type { Diagnostic, FileStat, ProviderContext } from '@twinsync/sdk'
import { cachedBySignature, isRacy, SECRET_RULES_VERSION, stableStringify } from '@twinsync/sdk'
import { collectAptState, DPKG_STATUS, EXTENDED_STATES } from './collect.js'
import type { AptState } from './state.js'

/** With the secret rules' version: a package whose name holds a secret is held out (collect.ts). */
const CACHE_KEY = `apt-state-v2-r${SECRET_RULES_VERSION}`

/** What a collect of apt gives: the state, its diagnostics, and apt.json's text. */
export interface AptCollected {
  state: AptState
  diagnostics: Diagnostic[]
  document: string
}

/**
 * Speed: dpkg's status file and apt's extended_states are parsed, and apt.json written out,
 * only when one of them moved (size, mtime, ctime, inode, device); otherwise the last answer
 * comes from the provider's cache. A file changed too recently to trust its times (racily
 * clean) is read every time. Measured on the scale root (5,000 packages, a 3.1 MB status
 * file; test/bench/scale-root.ts): an unchanged collect 35–60 ms → about 5 ms of CPU, and
 * no 3 MB string and 5,000 records to collect as garbage.
 */
export async function cachedAptState(ctx: Pick<ProviderContext, 'host' | 'cache'>, startedAt: number): Promise<AptCollected> {
  const [status, extended] = [await ctx.host.stat(DPKG_STATUS), await ctx.host.stat(EXTENDED_STATES)]
  const racy = [status, extended].some((s) => s !== undefined && isRacy(s, startedAt))
  const signature = JSON.stringify([ctx.host.root, statKey(status), statKey(extended)])
  return cachedBySignature(
    ctx.cache,
    CACHE_KEY,
    signature,
    async () => {
      const { state, diagnostics } = await collectAptState(ctx.host)
      return { state, diagnostics, document: stableStringify(state) }
    },
    { racy },
  )
}

function statKey(stat: FileStat | undefined): unknown {
  return stat === undefined ? null : [stat.type, stat.size, stat.mtimeMs, stat.ctimeMs, stat.ino, stat.dev]
}
