import { createHmac } from 'node:crypto'
import type { PathClaims, Provider } from '@twinsync/sdk'
import type { SemanticDiff } from './semantic-diff.js'
import { countChanges, semanticDiff } from './semantic-diff.js'
import { countsPhraseOf } from '../vocabulary.js'
import { twinKey } from '../plan/plan-seal.js'
import { ownerOfTwinPath } from '../snapshot/twin-ownership.js'
import { EMPTY_TREE } from '../twin/git.js'
import { INIT_MESSAGE } from '../twin/twin-repository.js'

/**
 * Speed: a snapshot records what it changed, counted per domain, in its own commit message, so
 * that `history` reads every snapshot's counts from one `git log --format` pass and never diffs
 * commits or loads providers (the snapshot has just compared the two states for its diary line:
 * the comparison is made once). A trailer in the last paragraph of the message:
 *
 *     TwinSync-Counts: 4b825dc642cb files=2 facts=3 packages=340/twin-files sig=<32 hex>
 *
 * The first word is the start of the parent's tree (the empty tree for the first snapshot): the
 * counts hold only while the commit's parent has that tree, so a snapshot whose parent was
 * rewritten (`gc --squash-volatile-older-than`, `forget`) is counted afresh. `/twin-files`
 * marks a domain counted in twin files (a domain that appeared), which history words so.
 * The twin is untrusted input (a mirror anyone with the token can push to, then `pull`): `sig`
 * is an HMAC over both trees and the counts with the twin's own key (`twinKey`, the one that
 * seals plans, in `.git/twinsync/`, never pushed), so a trailer another clone wrote, copied onto
 * another tree or edited is no record: that commit is counted from its content like an older one.
 * Commits without the trailer (checkpoints, applies, older twins) are counted as before and
 * cached (count-cache.ts).
 * Measured on 1,000 snapshots (shared 2-core machine under load; figures in docs/architecture.md).
 */

export const COUNTS_TRAILER = 'TwinSync-Counts'
const TREE_CHARS = 12
const SIG_CHARS = 32

function signature(key: Buffer, parentTree: string, tree: string, fields: string): string {
  return createHmac('sha256', key).update(`${COUNTS_TRAILER}\n${parentTree}\n${tree}\n${fields}`).digest('hex').slice(0, SIG_CHARS)
}

export interface RecordedCounts {
  counts: Partial<Record<string, number>>
  /** Domains counted in twin files rather than in items a provider named. */
  twinFiles: string[]
}

/** The counts of a comparison, as history says them. */
export function recordedCounts(domains: SemanticDiff['domains']): RecordedCounts {
  const twinFiles = Object.entries(domains)
    .filter(([, list]) => list !== undefined && list.length > 0 && list.every((c) => c.twinFile === true))
    .map(([d]) => d)
    .sort()
  return { counts: countChanges(domains), twinFiles }
}

/** "1 file, 2 packages", the same words countsPhrase gives the comparison itself. */
export function countedPhrase(recorded: RecordedCounts): string {
  let phrase = phrases.get(recorded)
  if (phrase === undefined) {
    phrase = countsPhraseOf(recorded.counts, recorded.twinFiles)
    phrases.set(recorded, phrase)
  }
  return phrase
}

/** The words of counts read from trailers: one phrase per distinct fields text (see parseCountsTrailer). */
const phrases = new WeakMap<RecordedCounts, string>()

/** The trailer line for a snapshot of tree `tree` whose parent has tree `parentTree`, signed with this twin's key. */
export function countsTrailer(parentTree: string, tree: string, recorded: RecordedCounts, key: Buffer): string {
  const fields = Object.entries(recorded.counts)
    .filter((e): e is [string, number] => e[1] !== undefined && e[1] > 0)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([d, n]) => ` ${d}=${n}${recorded.twinFiles.includes(d) ? '/twin-files' : ''}`)
    .join('')
  return `${COUNTS_TRAILER}: ${parentTree.slice(0, TREE_CHARS)}${fields} sig=${signature(key, parentTree, tree, fields)}`
}

const LINE = new RegExp(`^${COUNTS_TRAILER}: ([0-9a-f]{${TREE_CHARS}})((?: [a-z][a-z0-9-]{0,31}=\\d{1,9}(?:/twin-files)?)*) sig=([0-9a-f]{${SIG_CHARS}})$`, 'm')

/**
 * The counts a commit's message records, if they hold for a commit of tree `tree` whose parent
 * has tree `parentTree` and this twin signed them; undefined otherwise (no trailer, a malformed
 * one, a rewritten parent, another tree, a trailer this twin did not write). The twin is
 * untrusted input: only signed, well-formed fields are read.
 */
export function parseCountsTrailer(
  body: string,
  parentTree: string,
  tree: string,
  key: Buffer | undefined,
  /** Trailers this key verified before (verified-counts.ts): one found there is not checked again. */
  verified?: { has(entry: string): boolean; add(entry: string): void },
): RecordedCounts | undefined {
  const match = LINE.exec(body)
  if (key === undefined || match === null || match[1] !== parentTree.slice(0, TREE_CHARS)) return undefined
  const fields = match[2] ?? ''
  const sig = match[3] ?? ''
  // Everything the signature covers, and the signature: the same text is the same verdict.
  const entry = verified === undefined ? '' : `${parentTree} ${tree} ${sig}${fields}`
  if (verified === undefined || !verified.has(entry)) {
    if (!sameText(sig, signature(key, parentTree, tree, fields))) return undefined
    verified?.add(entry)
  }
  return countsOfFields(fields)
}

/**
 * Whether two signatures (hex text) are equal, in a time that does not depend on where they
 * differ (as timingSafeEqual, without making two Buffers a commit: `history --limit 1000`
 * checks 1,000; session 19).
 */
export function sameText(given: string, expected: string): boolean {
  if (given.length !== expected.length) return false
  let differ = 0
  for (let i = 0; i < expected.length; i++) differ |= given.charCodeAt(i) ^ expected.charCodeAt(i)
  return differ === 0
}

/**
 * Speed: the counts of a trailer's fields text, made once per distinct text and shared, frozen,
 * by every commit that records the same (a twin's snapshots mostly repeat a few: "facts=1
 * files=2"), with their words (countedPhrase) made once as well. Session 19, `history --limit
 * 1000` of the bench's twin (1,000 trailers, 9 distinct fields texts): see docs/architecture.md.
 */
function countsOfFields(fields: string): RecordedCounts {
  let recorded = byFields.get(fields)
  if (recorded === undefined) {
    const counts: Partial<Record<string, number>> = {}
    const twinFiles: string[] = []
    for (const field of fields.trim().split(' ').filter(Boolean)) {
      const [domain = '', value = ''] = field.split('=')
      const [n = '', marker] = value.split('/')
      counts[domain] = Number(n)
      if (marker !== undefined) twinFiles.push(domain)
    }
    recorded = Object.freeze({ counts: Object.freeze(counts), twinFiles: Object.freeze(twinFiles) as string[] })
    byFields.set(fields, recorded)
  }
  return recorded
}

const byFields = new Map<string, RecordedCounts>()

/**
 * The twin's first commit's message: "TwinSync init", and its counts trailer against the empty
 * tree when no provider owns any of its files (the twin's own: twin.json, plans/, scripts/),
 * counted as history would count them (semanticDiff, which asks no provider for such files).
 * Speed (session 20): without it `history --limit N` reaching the first commit loaded every
 * provider to count it (28 M of 447 M instructions on the bench's twin of 1,000 snapshots).
 * `loaded` undefined (a provider failed to load), a file a provider owns, or no key: no trailer;
 * history then counts the commit as it counts an older twin's.
 */
export async function initCommitMessage(twinDir: string, tree: string, paths: readonly string[], loaded: { providers: readonly Provider[]; claims: PathClaims } | undefined): Promise<string> {
  if (loaded === undefined || paths.some((path) => ownerOfTwinPath(path, loaded.providers, loaded.claims) !== undefined)) return INIT_MESSAGE
  const added = paths.map((path) => ({ path, change: 'A' as const }))
  const none = { read: async () => undefined, readText: async () => undefined, list: async () => [] }
  const diff = await semanticDiff(none, none, added, loaded.providers, loaded.claims, () => {
    throw new Error('no provider owns the first commit\'s files')
  }, { diffs: false })
  const key = await twinKey(twinDir, true)
  return key === undefined ? INIT_MESSAGE : `${INIT_MESSAGE}\n\n${countsTrailer(EMPTY_TREE, tree, recordedCounts(diff.domains), key)}`
}
