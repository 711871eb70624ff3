import type { PathClaims, Provider } from '@twinsync/sdk'
import { machinePathOf, pathPatternToRegExp } from '@twinsync/sdk/light'

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
  return twinPathsOwner(path, providers)
}

function twinPathsOwner(path: string, providers: readonly Provider[]): Provider | undefined {
  return providers.find((p) => p.twinPaths.some((t) => (t.endsWith('/') ? path.startsWith(t) : path === t)))
}

/** The owners of many twin paths asked in one pass (twinPathOwners). */
export interface TwinPathOwners {
  /** ownerOfTwinPath's answer. */
  ownerOf(path: string): Provider | undefined
  /** The provider of every mirrored file no claim's pattern matches (the claims' default owner), undefined when it is not loaded. */
  readonly unclaimed: Provider | undefined
  /**
   * The paths under `folder` (a folder under `filesystem/`; none for another) that no claim's
   * pattern matches: `unclaimed`'s, their owner not asked (one test a path).
   */
  unclaimedUnder(folder: string): RegExp
  /**
   * The owner of every file directly in `folder` (a twin folder ending in "/", '' the twin's top)
   * when no file's name there can change it: `unclaimed` in a folder under `filesystem/` that no
   * claim's pattern can reach; BY_NAME otherwise (ask ownerOf a file).
   */
  folderOwner(folder: string): Provider | undefined | typeof BY_NAME
}

/** TwinPathOwners.folderOwner's answer when a file's owner in the folder depends on its name. */
export const BY_NAME: unique symbol = Symbol('by name')

/**
 * ownerOfTwinPath for a pass over many paths (HEAD's, in headPaths and the snapshot's removals):
 * the same answer, made once for these providers and claims (neither may change while it is
 * used). A mirrored file no claim's pattern matches (most of them) is the default owner's, found
 * by one test of the twin path against every claim's pattern put after `filesystem` (what
 * PathClaims.ownerOf tests its machine path against first: a twin path matches it exactly when
 * its machine path matches the claim's), without the machine path cut out, looked up in the
 * claims' cache and the providers gone through; a claimed one is asked as before. The removals
 * keep such a file in a folder its owner keeps without asking its owner (unclaimedUnder).
 *
 * Speed (issue 22, session 47): the scale root's snapshots asked the owner of each of HEAD's
 * 19,626 paths (the unchanged one in its removals, the one-file one in headPaths), about 9,600
 * instructions a path as V8's baseline code runs it. The main thread's instructions between marks
 * (callgrind, one run each, load 15–19): the unchanged snapshot's removals 202 → 50 M (with the
 * draft's listing of the paths, atomic-snapshot.ts listUnsorted, made without a function a path),
 * the one-file snapshot's headPaths 241 → 149 M and its removals 49 → 26 M; whole runs in
 * docs/architecture.md (Speed).
 */
export function twinPathOwners(providers: readonly Provider[], claims: PathClaims): TwinPathOwners {
  const byName = new Map<string, Provider>()
  for (const p of providers) if (!byName.has(p.name)) byName.set(p.name, p)
  const patterns = claims.list()
  const source = patterns.length === 0 ? '(?!)' : patterns.map((c) => `(?:${pathPatternToRegExp(`${MIRRORED}${c.pattern}`).source})`).join('|')
  const claimed = new RegExp(source)
  const unclaimed = byName.get(claims.defaultOwner)
  // Made when first asked (headPaths): the removals of a snapshot never ask.
  let reach: ((folder: string) => boolean) | undefined
  return {
    unclaimed,
    folderOwner: (folder) => (folder.startsWith(MIRRORED_FOLDER) && !(reach ??= claimsReach(patterns.map((c) => c.pattern)))(folder) ? unclaimed : BY_NAME),
    unclaimedUnder: (folder) => (folder.startsWith(MIRRORED_FOLDER) ? new RegExp(`^(?!${source})${escapeRegExp(folder)}`) : /(?!)/),
    ownerOf: (path) => {
      if (path === ownerAsked.path) ownerAsked.times++
      if (!path.startsWith(MIRRORED_FOLDER)) return twinPathsOwner(path, providers)
      return claimed.test(path) ? byName.get(claims.ownerOf(path.slice(MIRRORED.length))) : unclaimed
    },
  }
}

/**
 * Whether a claim's pattern may match a file directly in a twin folder under `filesystem/` (a
 * folder ending in "/"): a path matches a pattern only if it begins with the pattern's literal
 * start (up to its first `*` or `?`, after `filesystem`), and a file directly in the folder
 * begins so only if the folder begins with that start, or the start begins with the folder (the
 * rest of the start then holds no "/": the start is the folder and a beginning of the name).
 * So "false" is sure: no claim matches such a file, its owner is the default one (PathClaims.ownerOf).
 * One expression a folder: it begins with a start, or is one of the folders a start begins with.
 */
function claimsReach(patterns: readonly string[]): (folder: string) => boolean {
  const starts = patterns.map((pattern) => {
    const wild = pattern.search(/[*?]/)
    return `${MIRRORED}${wild < 0 ? pattern : pattern.slice(0, wild)}`
  })
  if (starts.length === 0) return () => false
  const begun = new Set<string>()
  for (const start of starts) for (let at = start.indexOf('/'); at >= 0; at = start.indexOf('/', at + 1)) begun.add(start.slice(0, at + 1))
  const reach = new RegExp(`^(?:${starts.map(escapeRegExp).join('|')}|(?:${[...begun].map(escapeRegExp).join('|')})$)`)
  return (folder) => reach.test(folder)
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

/** The twin folder of mirrored files, with and without its slash (machinePathOf). */
const MIRRORED = 'filesystem'
const MIRRORED_FOLDER = `${MIRRORED}/`

/** For tests: how many times the owner of `path` was asked (a kept document once a snapshot: see keptNames in kept-parts.ts). */
export const ownerAsked: { path: string | undefined; times: number } = { path: undefined, times: 0 }
