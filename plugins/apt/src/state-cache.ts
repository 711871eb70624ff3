import { createHash } from 'node:crypto'
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

/** What apt.json is made from, by stat data (dpkg's status, apt's extended_states): `racy` when one changed too recently to trust. */
export interface AptInputs {
  signature: string
  racy: boolean
}

/** Bump when apt.json is made otherwise from the same inputs: an older token is then never kept against. */
const TOKEN_FORMAT = 1

/** The inputs' stat data, taken once a collect (the token and the cache both go by it). */
export async function aptInputs(ctx: Pick<ProviderContext, 'host'>, startedAt: number): Promise<AptInputs> {
  const [status, extended] = [await ctx.host.stat(DPKG_STATUS), await ctx.host.stat(EXTENDED_STATES)]
  const racy = [status, extended].some((s) => s !== undefined && isRacy(s, startedAt))
  return { signature: JSON.stringify([ctx.host.root, statKey(status), statKey(extended)]), racy }
}

/**
 * The collect's token (CollectResult.token): equal tokens, byte-identical apt.json, as the cache
 * below already takes it (the same stat data, the same secret rules, the same format); none when
 * an input is racy (its times prove nothing). See kept-collect.ts.
 */
export function aptToken(inputs: AptInputs): string | undefined {
  if (inputs.racy) return undefined
  return `apt-${TOKEN_FORMAT}-${createHash('sha256').update(`${CACHE_KEY}\0${inputs.signature}`).digest('hex').slice(0, 32)}`
}

/**
 * Speed: dpkg's status file and apt's extended_states are parsed, and apt.json written out,
 * only when one of them moved (size, mtime, ctime, inode, device); otherwise the last answer
 * comes from the provider's cache. A file changed too recently to trust its times (racily
 * clean) is read every time. Measured on the scale root (5,000 packages, a 3.1 MB status
 * file; test/bench/scale-root.ts): an unchanged collect 35–60 ms → about 5 ms of CPU, and
 * no 3 MB string and 5,000 records to collect as garbage.
 */
export async function cachedAptState(ctx: Pick<ProviderContext, 'host' | 'cache'>, startedAt: number, inputs?: AptInputs): Promise<AptCollected> {
  const { signature, racy } = inputs ?? (await aptInputs(ctx, startedAt))
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
