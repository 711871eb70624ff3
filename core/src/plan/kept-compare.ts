import { sha256 } from '../sha256.js'
import { mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Provider } from '@twinsync/sdk'
import { writeRecord } from '../twin/quick-status.js'
import { CORE_VERSION } from '../version.js'

/**
 * Speed (issue 22, session 41): a provider's comparison that found nothing, not made again while
 * nothing it is made from moved. A `plan` or `status` of an unchanged machine described every
 * file (the files provider's stat cache looked up for each walked path, an entry object each),
 * made and wrote out its manifest, read the twin's manifest and mirrored files back and compared
 * them, to find what it found the run before: nothing. Services root, unchanged machine, after
 * one plan and one status (callgrind, node only, 3 interleaved pairs, each build its own HOME;
 * outputs byte-identical; docs/architecture.md, Speed): `plan` 571 → 457 M instructions,
 * `status` 577–578 → 462–472 M (an unchanged snapshot about 454 M). The run that compares and
 * writes the record (the first plan or status after a snapshot that committed) costs 22.5 M more
 * than before (572 → 594 M).
 *
 * What is recorded (`.git/twinsync/cache/kept-compare.json`, one record a twin): the commit read
 * as the desired state (the plan's `basis.twinCommit`: the working twin exactly HEAD, or the
 * commit `status` and `plan --from` read), a key of everything else the comparison reads (the
 * configuration's values, the loaded providers and their versions, the machine's root, TwinSync's
 * version and this record's format), and for each provider whose comparison against that commit
 * found nothing at all (its load said nothing, its diff no change and nothing, and, when `status`
 * asked, its observe nothing) the `token` its collect returned (CollectResult.token: a digest of
 * everything its documents and state are made from, so an equal token is the same state).
 *
 * The next plan of that commit under that key hands each such provider its token
 * (CollectRequest.since, with `wholeOnly`); a provider whose token is still the same (it may
 * then keep its documents and leave its state out: the files provider describes no file) is
 * compared no more: its part of the plan is its collect's diagnostics, as the full comparison
 * gave. Anything else (another token, no token, a claim of kept documents under another token,
 * another commit, an edited working twin, another key, a record that does not parse) compares as
 * before, and a comparison that finds anything is never recorded. The twin is untrusted input,
 * but the record is keyed on its content: a commit id names its whole tree, and an edit of the
 * working twin gives no commit to read (the plan's basis is then none); the working twin, which a
 * plan reads without the lock, is checked again before a record is written (still exactly that
 * commit: a snapshot's move or a person's edit while the plan read it writes nothing). Nothing is kept where
 * something else reads the collected state: `status`'s second comparison (alsoAgainst) collects
 * every provider whole.
 */

const RECORD = 'kept-compare.json'
/** Bump when what a record means changes: an older record is then ignored. */
const FORMAT = 1

export interface KeptCompare {
  commit: string
  key: string
  /** By provider: the token its comparison found nothing under, and whether `observe` was asked too (status). */
  providers: Record<string, { token: string; observed: boolean }>
}

/** What the comparisons read besides the commit and the collected state: TwinSync's own inputs to them. */
export function keptCompareKey(root: string, configValues: unknown, providers: readonly Provider[]): string {
  const names = providers.map((p) => `${p.name}@${p.version}`).sort()
  return sha256(JSON.stringify([FORMAT, CORE_VERSION, root, names, configValues ?? null]))
}

/** The record for this commit and key, or undefined (none, another commit or key, damaged). */
export function readKeptCompare(cacheDir: string, commit: string, key: string): KeptCompare | undefined {
  let parsed: { format?: unknown; commit?: unknown; key?: unknown; providers?: unknown }
  try {
    parsed = JSON.parse(readFileSync(join(cacheDir, RECORD), 'utf8')) as typeof parsed
  } catch {
    return undefined
  }
  if (parsed?.format !== FORMAT || parsed.commit !== commit || parsed.key !== key) return undefined
  const providers = parsed.providers
  if (providers === null || typeof providers !== 'object' || Array.isArray(providers)) return undefined
  const out: KeptCompare['providers'] = {}
  for (const [name, entry] of Object.entries(providers as Record<string, unknown>)) {
    const e = entry as { token?: unknown; observed?: unknown } | null
    if (e === null || typeof e !== 'object' || typeof e.token !== 'string' || typeof e.observed !== 'boolean') return undefined
    out[name] = { token: e.token, observed: e.observed }
  }
  return { commit, key, providers: out }
}

/** The tokens to hand back (CollectRequest.since): each recorded provider's, when `observe` is not needed or was asked too. */
export function keptCompareTokens(record: KeptCompare | undefined, observing: boolean): Record<string, string> {
  const since: Record<string, string> = {}
  for (const [name, entry] of Object.entries(record?.providers ?? {})) if (!observing || entry.observed) since[name] = entry.token
  return since
}

/**
 * Record what this run found nothing for; nothing written when the record already says so. A
 * record not written costs only time. `steady`: asked before writing, whether what the
 * comparisons read was the commit all along (the working twin, read without the lock, may have
 * moved or been edited meanwhile: then nothing is written).
 */
export async function writeKeptCompare(cacheDir: string, record: KeptCompare, steady: () => Promise<boolean>): Promise<void> {
  const names = Object.keys(record.providers).sort()
  const text = JSON.stringify({ format: FORMAT, commit: record.commit, key: record.key, providers: Object.fromEntries(names.map((n) => [n, record.providers[n]])) })
  try {
    if (readFileSync(join(cacheDir, RECORD), 'utf8') === text) return
  } catch {
    // none yet
  }
  if (!(await steady())) return
  // Synchronous and not synced, as the providers' caches (file-cache.ts) and quick-status.ts's
  // records (writeRecord: renamed in whole; a file cut short by a power loss is no JSON, so no
  // record): with the SDK's writeFileAtomic (Node's fs/promises loaded, file and folder synced)
  // the plan that writes the record cost 29.3 M instructions more than before this record, now
  // 22.5 M (callgrind, services root; the rest is `steady`'s second check of the working twin).
  try {
    mkdirSync(cacheDir, { recursive: true, mode: 0o700 })
  } catch {
    return // a twin this run may not write: the next run compares as before
  }
  writeRecord(join(cacheDir, RECORD), text)
}
