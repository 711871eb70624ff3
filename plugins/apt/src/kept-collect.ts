import type { CollectResult, Diagnostic, ProviderCache } from '@twinsync/sdk'
import { aptToken, type AptInputs } from './state-cache.js'
import { APT_DOCUMENT, type AptState } from './state.js'

/**
 * Speed (issue 22, session 28): a snapshot's apt collect whose apt.json is kept is not made. When
 * the snapshot hands back the token (`since`) and dpkg's status and apt's extended_states have
 * the stat data it was made from (aptToken: neither racy), the apt.json HEAD holds is the one
 * collecting would make; making it read the provider's cache (1.2 MB of JSON on the scale root,
 * parsed into 5,000 packages' objects) only for a document the snapshot then hashed (664 KB) and
 * found unchanged. So then nothing is read: the collect returns its token, apt.json kept, and a
 * state without packages (`keptAptState`: reading them throws; a snapshot never reads the state
 * of a collect it gave `since`, CollectRequest.since). A plan and status give it too once their
 * comparison of apt found nothing under that token against the commit they read (they then read
 * no state of it either: core/src/plan/kept-compare.ts); the rest collect without `since` and read
 * the packages as before.
 *
 * Taken only when it cannot differ from collecting: the token equal (the core hands it back
 * only while HEAD is the commit that holds exactly the documents made with it, kept-parts.ts) and
 * the collect's diagnostics (a package held out for its name, one not fully installed) on record
 * for that very token (`rememberAptNotes`, written by the collect that made the state, only when
 * they change). Anything else: collected as before.
 *
 * Figure (the scale root, 5,000 packages, an unchanged snapshot, 2026-12-04, load 6–11):
 * callgrind of the node process (warm, the 1 MB young generation both sides) 3,746 and 3,779 M
 * instructions → 3,585, 3,596 and 3,592 M (about −4.5%); CPU user + sys with children, 8
 * interleaved pairs: medians 1,265 → 1,230 ms, paired −45 ms; peak memory 106–110 → 104–106 MB.
 */

const NOTES_KEY = 'apt-kept-notes-v1'

/** The collect of a snapshot whose apt.json is kept (see the top); undefined: collect as before. */
export async function keptAptCollect(cache: ProviderCache, since: string | undefined, inputs: AptInputs): Promise<CollectResult<AptState> | undefined> {
  if (since === undefined) return undefined
  const token = aptToken(inputs)
  if (token === undefined || token !== since) return undefined
  const diagnostics = await notesFor(cache, token)
  if (diagnostics === undefined) return undefined
  return { state: keptAptState(), documents: [], diagnostics, token, kept: [APT_DOCUMENT] }
}

/** Record the diagnostics of the collect that made apt.json under `token` (written only when not already the record). */
export async function rememberAptNotes(cache: ProviderCache, token: string, diagnostics: readonly Diagnostic[]): Promise<void> {
  const text = JSON.stringify({ token, diagnostics })
  if ((await cache.read(NOTES_KEY).catch(() => undefined)) === text) return
  await cache.write(NOTES_KEY, text).catch(() => undefined)
}

async function notesFor(cache: ProviderCache, token: string): Promise<Diagnostic[] | undefined> {
  const text = await cache.read(NOTES_KEY).catch(() => undefined)
  if (text === undefined) return undefined
  try {
    const value = JSON.parse(text) as { token?: unknown; diagnostics?: unknown }
    if (value.token !== token || !Array.isArray(value.diagnostics)) return undefined
    const fine = value.diagnostics.every((d: Partial<Diagnostic> | null) => typeof d?.code === 'string' && typeof d.summary === 'string' && typeof d.severity === 'string')
    return fine ? (value.diagnostics as Diagnostic[]) : undefined
  } catch {
    return undefined
  }
}

/** The state of a collect whose apt.json was kept (see the top): its packages are not there to read. */
export function keptAptState(): AptState {
  const state = { nativeArchitecture: '' } as unknown as AptState
  return Object.defineProperty(state, 'packages', {
    enumerable: true,
    get(): never {
      throw new Error('apt: this collect kept apt.json (a snapshot handed back its token) and read no package: its state has no packages to read')
    },
  })
}
