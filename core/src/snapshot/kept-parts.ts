import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { CollectResult, PathClaims, Provider } from '@twinsync/sdk'
import { PART_COUNT, partOfTwinPath } from '@twinsync/sdk/light'
import { readHead, readRefId, writeRecord } from '../twin/quick-status.js'
import { OBSERVED_REF } from '../intent/intent-git.js'
import { BY_NAME, ownerOfTwinPath, type TwinPathOwners } from './twin-ownership.js'

/**
 * Speed (issue 22, session 25): a provider's documents kept as the observed commit holds them
 * (CollectResult.token, CollectResult.kept, CollectRequest.since in the SDK), so an unchanged
 * machine's snapshot costs what changed, not what exists. The scale root's files provider made
 * 19,600 documents every unchanged run (the manifest's 8.6 MB in 65 documents, a document a
 * mirrored file), which the snapshot then took in, screened (a look-up), hashed where no id was
 * known, and compared with HEAD's, each found unchanged; now it makes none and the snapshot
 * keeps HEAD's files. Scale root, unchanged snapshot, 11 interleaved pairs against main 612bbe1b
 * (load 8–10): CPU (user + sys with children) 2,280 → 1,750 ms (paired −430 ms), peak memory
 * 126 → 112 MB; 9 pairs against d09991b1 (load 13–15): 1,870 → 1,560 ms (paired −290 ms);
 * writeDocuments 92 → 22–31 ms and the files token 9–12 ms in CPU profiles (docs/architecture.md, Speed).
 *
 * What the core checks, since a provider's word is not enough:
 * - The token is recorded here (`.git/twinsync/cache/kept-parts.json`) beside the commit that
 *   holds that provider's documents exactly: written by the snapshot itself, only when every
 *   document the provider gave went in as given (none refused for ownership, none changed or
 *   held out by the secret screen) and its other paths were removed. It is handed back
 *   (`since`) only while that commit is both HEAD and the observed commit: a twin reset,
 *   reverted, pulled, committed to by hand, or another twin's record, gives none.
 * - After the collect, under the lock: the draft began from HEAD with nothing edited (a
 *   person's edits are set aside as intent first, and come back after, as for any unchanged
 *   document), HEAD is still that commit and is the observed one.
 * - Only paths the provider owns are kept (twin-ownership.ts: its twinPaths, a mirrored file
 *   whose machine path it claims); a kept document must be in HEAD. Kept content is HEAD's,
 *   screened for secrets when this snapshot's predecessor committed it; nothing new is unscreened.
 * - Documents kept by part (CollectResult.keptParts, session 44): well formed (partsClaimOf), and
 *   HEAD holds in each part named exactly as many of the provider's files as it says (headPaths,
 *   refusedPartsClaim). What is kept is HEAD's files of that provider there, nothing else: a file
 *   HEAD lacks cannot be kept (it shows as a count short), one the provider does not know of is
 *   not dropped on its word (a count over), another provider's is neither counted nor kept.
 * A claim that fails any of these makes the snapshot collect that provider again without
 * `since`, and write what it gives, as before.
 */

const RECORD = 'kept-parts.json'
/** Bump when what a record means changes: an older record is then ignored. */
const FORMAT = 1

export interface KeptRecord {
  format: number
  /** The commit that holds each provider's documents of its token exactly. */
  commit: string
  tokens: Record<string, string>
}

function recordPath(cacheDir: string): string {
  return join(cacheDir, RECORD)
}

/** The record, when it is one of this format; undefined otherwise (none, damaged, another format). */
export function readKeptRecord(cacheDir: string): KeptRecord | undefined {
  let parsed: Partial<KeptRecord>
  try {
    parsed = JSON.parse(readFileSync(recordPath(cacheDir), 'utf8')) as Partial<KeptRecord>
  } catch {
    return undefined
  }
  if (parsed?.format !== FORMAT || typeof parsed.commit !== 'string' || !/^[0-9a-f]{40,64}$/.test(parsed.commit)) return undefined
  const tokens = parsed.tokens
  if (tokens === null || typeof tokens !== 'object' || Object.values(tokens).some((t) => typeof t !== 'string')) return undefined
  return { format: FORMAT, commit: parsed.commit, tokens }
}

/**
 * The tokens to hand to the collects (CollectRequest.since), by provider: the record's, when
 * its commit is HEAD and the observed commit now (read from .git, no git process); none
 * otherwise. Checked again after the collect (keptClaimsHold): the twin may move meanwhile.
 */
export function sinceTokens(dir: string, cacheDir: string): { record: KeptRecord | undefined; since: Record<string, string> } {
  const record = readKeptRecord(cacheDir)
  if (record === undefined) return { record, since: {} }
  const head = readHead(dir)
  // The observed commit as the look finds it (intent-service.ts): the ref, or HEAD without one.
  const observed = readRefId(dir, OBSERVED_REF)
  if (head !== record.commit || (observed ?? head) !== record.commit) return { record: undefined, since: {} }
  return { record, since: record.tokens }
}

/** Whether claims made against `record` may be kept: the draft began from HEAD, clean, and HEAD is the record's commit and the observed one. */
export function keptClaimsHold(record: KeptRecord | undefined, draft: { head: string | undefined; beganClean: boolean }, observed: string): boolean {
  return record !== undefined && draft.beganClean && draft.head === record.commit && observed === record.commit
}

/**
 * Why a provider's claim cannot be kept, or undefined when it can: it was handed no `since`
 * (a provider that claims on its own), or a kept document is not in HEAD, or is not its own.
 * Folders are checked path by path as they are kept (keptBy): another provider's path in one
 * is never kept on this provider's word.
 */
export function refusedClaim(
  provider: Provider,
  result: CollectResult,
  given: string | undefined,
  headHolds: (path: string) => boolean,
  providers: readonly Provider[],
  claims: PathClaims,
): string | undefined {
  if (given === undefined) return 'it was given no token to keep against'
  for (const path of result.kept ?? []) {
    if (path.endsWith('/')) continue
    if (!headHolds(path)) return `HEAD has no ${path}`
    if (ownerOfTwinPath(path, providers, claims)?.name !== provider.name) return `${path} is not its own`
  }
  return undefined
}

/**
 * A provider's claim of files kept by part (CollectResult.keptParts), well formed: its folder,
 * and the count of its files it says HEAD holds in each part it keeps (-1: a part not kept).
 */
export interface PartsClaim {
  folder: string
  files: Int32Array
}

/** The twin folders whose files a snapshot removes when their provider no longer makes them: a claim by part lies in one. */
export const REMOVABLE = ['filesystem/', 'system/'] as const

/** Bound once: a name of the SDK's light entry read at each call is a getter a call (headPaths asks for every path of HEAD's). */
const twinPathPart: (folder: string, twinPath: string) => number = partOfTwinPath

/** A claim by part read as the core takes it, or why it is malformed (a plugin is untrusted: its result is checked, never believed). */
export function partsClaimOf(result: CollectResult): PartsClaim | string | undefined {
  const claim: unknown = result.keptParts
  if (claim === undefined) return undefined
  if (claim === null || typeof claim !== 'object') return 'its keptParts is not an object'
  const { folder, parts } = claim as { folder?: unknown; parts?: unknown }
  if (typeof folder !== 'string' || !folder.endsWith('/') || !REMOVABLE.some((top) => folder.startsWith(top)) || folder.split('/').some((name, i, all) => name === '..' || name === '.' || (name === '' && i < all.length - 1))) {
    return `its keptParts names the folder ${JSON.stringify(folder)}, not a folder under ${REMOVABLE.join(' or ')} ending in "/"`
  }
  if (!Array.isArray(parts)) return 'its keptParts has no list of parts'
  const files = new Int32Array(PART_COUNT).fill(-1)
  for (const item of parts as unknown[]) {
    const { part, files: count } = (item ?? {}) as { part?: unknown; files?: unknown }
    if (typeof part !== 'number' || !Number.isInteger(part) || part < 0 || part >= PART_COUNT) return `its keptParts names the part ${JSON.stringify(part)}, not one of 0 to ${PART_COUNT - 1}`
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 0 || count > 0x7fffffff) return `its keptParts says part ${part} holds ${JSON.stringify(count)} files`
    if (files[part] !== -1) return `its keptParts names part ${part} twice`
    files[part] = count
  }
  return { folder, files }
}

/**
 * HEAD's files under REMOVABLE's folders, each with its owner, asked once (the snapshot's
 * removals read them here instead of asking again), and each provider's files counted by part
 * under the folder it claims by part. Made from a draft that began from HEAD, clean, before
 * anything is written: its entries are HEAD's.
 */
export interface HeadPaths {
  paths: string[]
  owners: Array<string | undefined>
  /** 1 for a path in a part its owner's claim names (kept, when that claim is taken). */
  inClaimedPart: Uint8Array
  /** Per provider claiming by part: its files in each part of its folder. */
  counts: Map<string, Int32Array>
}

/**
 * One pass over HEAD's paths under REMOVABLE's folders (`paths`: the draft's entries, or a list;
 * paths elsewhere are passed over): each one's owner, and for a provider that claims by part, its
 * part under that folder (partOfTwinPath) counted.
 *
 * Speed (issue 22, session 44): the scale root's one-file snapshot had the files provider name
 * its 19,300 kept mirrored files, each then looked up in HEAD's map and asked its owner
 * (refusedClaim), put in a map (keptNames) and looked up again by the removals; now the provider
 * names 63 parts with their counts, checked here in the pass that asks each path's owner once,
 * for the removals too. That snapshot, callgrind of node alone (back to back, one copy of the
 * twin both sides, the large-heap marker set): 4,781 / 4,790 → 4,699 / 4,719 M instructions
 * (−1.6%), 178 → 171 scavenges (docs/architecture.md, Speed).
 *
 * Speed (issue 22, session 50): a folder at a time. HEAD's paths come in the index's order, a
 * folder's files side by side (the scale root: 19,543 mirrored files in 4,886 folders); a path
 * in the folder of the one before it (it begins with that folder, no "/" after) takes the
 * folder's answers: its owner when no file's name there can change it (folderOwner: a folder no
 * claim's pattern reaches), its part (asked once a folder), whether that part is kept; a folder
 * with a claimed file in reach is asked path by path as before. The draft's listing of the paths
 * under REMOVABLE is made in the same pass. The scale root's one-file snapshot, the main thread
 * between marks (callgrind, a build of 241fcb20 with marks against this one, interleaved, one
 * root, each side its copy of session 47's frozen twin, like for like scavenges): the listing and
 * headPaths 130.7 / 128.9 / 129.0 / 130.0 → 75.4 / 79.7 M (four rounds of the old, two of this;
 * a first cut without the run's end in a plain function and one expression a folder: 85.5 / 90.5 M);
 * the phase "draft begun, kept claims checked" 149.9 / 152.0 → 96.3 / 100.3 M, its extra over an
 * unchanged snapshot 131.7 / 132.9 → 78.3 / 80.8 M (docs/architecture.md, "Session 50, the kept claims"). What is left is bytecode a path (a `startsWith` and an `indexOf`
 * to find the folder, V8's property loads) and a folder (its part, its owner's expression).
 */
export function headPaths(paths: ReadonlyMap<string, unknown> | readonly string[], owners: Pick<TwinPathOwners, 'ownerOf' | 'folderOwner'>, claims: ReadonlyMap<string, PartsClaim>): HeadPaths {
  const size = Array.isArray(paths) ? paths.length : (paths as ReadonlyMap<string, unknown>).size
  const listed = new Array<string>(size)
  const owned = new Array<string | undefined>(size)
  const inClaimedPart = new Uint8Array(size)
  const counts = new Map<string, Int32Array>()
  for (const name of claims.keys()) counts.set(name, new Int32Array(PART_COUNT))
  // The folder of the last path, and what holds for every file directly in it (a run of them from `from`).
  let folder = '\u0000'
  let folderLength = 1
  let removable = false
  let byName = true
  let owner: string | undefined
  let counted: Int32Array | undefined
  let part = -1
  let kept = false
  let from = 0
  let n = 0
  for (const path of Array.isArray(paths) ? (paths as readonly string[]) : (paths as ReadonlyMap<string, unknown>).keys()) {
    if (!path.startsWith(folder) || path.indexOf('/', folderLength) !== -1) {
      if (!byName) endRun(owned, inClaimedPart, from, n, owner, counted, part, kept)
      from = n
      folderLength = path.lastIndexOf('/') + 1
      folder = path.slice(0, folderLength)
      removable = false
      for (let top = 0; top < REMOVABLE.length && !removable; top++) removable = folder.startsWith(REMOVABLE[top] as string)
      const provider = removable ? owners.folderOwner(folder) : BY_NAME
      byName = provider === BY_NAME
      if (!byName) {
        owner = (provider as Provider | undefined)?.name
        const claim = owner === undefined ? undefined : claims.get(owner)
        counted = claim === undefined || !folder.startsWith(claim.folder) ? undefined : counts.get(owner as string)
        part = counted === undefined ? -1 : twinPathPart((claim as PartsClaim).folder, path)
        kept = part !== -1 && (claim as PartsClaim).files[part] !== -1
      }
    }
    if (!removable) continue
    const i = n++
    listed[i] = path
    if (!byName) continue
    const named = owners.ownerOf(path)?.name
    owned[i] = named
    const claim = named === undefined ? undefined : claims.get(named)
    if (claim === undefined || !path.startsWith(claim.folder)) continue
    const inParts = counts.get(named as string) as Int32Array
    const at = twinPathPart(claim.folder, path)
    inParts[at] = (inParts[at] as number) + 1
    if (claim.files[at] !== -1) inClaimedPart[i] = 1
  }
  if (!byName) endRun(owned, inClaimedPart, from, n, owner, counted, part, kept)
  listed.length = n
  owned.length = n
  return { paths: listed, owners: owned, inClaimedPart: inClaimedPart.subarray(0, n), counts }
}

/** A folder's run of paths (`from` to `to`) in headPaths: its owner, its part counted, the run marked kept when its part is. */
function endRun(owned: Array<string | undefined>, inClaimedPart: Uint8Array, from: number, to: number, owner: string | undefined, counted: Int32Array | undefined, part: number, kept: boolean): void {
  if (to === from) return
  owned.fill(owner, from, to)
  if (counted === undefined) return
  counted[part] = (counted[part] as number) + (to - from)
  if (kept) inClaimedPart.fill(1, from, to)
}

/** Why a claim by part cannot be kept (a count HEAD does not hold: HEAD lacks a file the provider believes kept, or holds one it does not know of), or undefined. */
export function refusedPartsClaim(name: string, claim: PartsClaim, head: HeadPaths): string | undefined {
  const counted = head.counts.get(name)
  if (counted === undefined) return 'its files were not counted'
  for (let part = 0; part < PART_COUNT; part++) {
    const said = claim.files[part] as number
    if (said !== -1 && counted[part] !== said) return `part ${part} of ${claim.folder} holds ${counted[part]} of its files in HEAD, it said ${said}`
  }
  return undefined
}

/** Whether a path of a provider that claims by part lies in a part it keeps. */
export function inKeptPart(claim: PartsClaim, path: string): boolean {
  return path.startsWith(claim.folder) && claim.files[twinPathPart(claim.folder, path)] !== -1
}

/** Whether a collect claims documents kept (CollectResult.kept or keptParts). */
export function claimsKept(result: { kept?: readonly string[]; keptParts?: unknown }): boolean {
  return (result.kept?.length ?? 0) > 0 || result.keptParts !== undefined
}

/**
 * Whether a path no provider keeps by name (keptNames answered it first) lies in one of the
 * provider's kept folders (a kept part ending in "/"); undefined when it keeps none. Speed
 * (issue 22, session 26): a provider may keep thousands of documents by name, so they are looked
 * up in keptNames' map, not gone through for each of the twin's paths (19,626 × 19,300
 * comparisons on the scale root); session 42: the
 * scale root's one-file snapshot keeps about 19,300 documents by name, and writeDocuments made
 * a set of them that keptNames' map already answered (figure in docs/architecture.md, Speed).
 */
export function keptFolders(kept: readonly string[]): ((path: string) => boolean) | undefined {
  const folders = kept.filter((part) => part.endsWith('/'))
  return folders.length === 0 ? undefined : (path) => folders.some((folder) => path.startsWith(folder))
}

/**
 * The documents kept by name (not folders) of each provider whose claim was taken, by path:
 * refusedClaim found each one its provider's own, so writeDocuments need not ask its owner again.
 * Speed (issue 22, session 34): the scale root's one-file snapshot keeps about 19,300 documents
 * by name, and every one was asked its owner twice (refusedClaim, then the removals' filter):
 * the second ask 5–8 ms of CPU in `ownerOfTwinPath` (CPU profiles of three snapshots, load 3–5;
 * the first 5–11 ms).
 */
export function keptNames(kept: ReadonlyMap<string, readonly string[]>): Map<string, string> {
  const owners = new Map<string, string>()
  for (const [provider, parts] of kept) for (const part of parts) if (!part.endsWith('/')) owners.set(part, provider)
  return owners
}

/**
 * Record the tokens of the providers whose documents `commit` holds exactly; nothing written when
 * the record already says so. A record lost costs only time (the next snapshot makes the documents
 * again), so it is written as the twin's other cache records are (quick-status.ts writeRecord):
 * whole beside and renamed in, not fsynced. What a power loss can leave of it (no file, an empty
 * one, zeros, a prefix of it) does not parse, or is the record it replaced, which names an older
 * commit: readKeptRecord refuses the first, sinceTokens hands out nothing for the second unless
 * that commit is HEAD and the observed one again (when its tokens hold for it as they did). Speed
 * (issue 22, session 44): written with the SDK's atomic write until then, which fsyncs the file
 * and its folder: 2 of a first snapshot's 10 fsyncs (each 0.2–5 ms of wall on this shared disk,
 * strace), and of every snapshot that commits.
 */
export function writeKeptRecord(cacheDir: string, commit: string, tokens: Record<string, string>): void {
  const current = readKeptRecord(cacheDir)
  const names = Object.keys(tokens).sort()
  if (current?.commit === commit && Object.keys(current.tokens).length === names.length && names.every((n) => current.tokens[n] === tokens[n])) return
  const record: KeptRecord = { format: FORMAT, commit, tokens: Object.fromEntries(names.map((n) => [n, tokens[n] as string])) }
  writeRecord(recordPath(cacheDir), JSON.stringify(record))
}
