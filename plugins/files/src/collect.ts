import { posix } from 'node:path'
import {
  compareStrings,
  gitFsckRefusal,
  isDotGitName,
  isFsckJudgedName,
  isTwinSyncError,
  TwinSyncError,
  isWithin,
  mirrorPath,
  warningDiagnostic,
  withKnownBlob,
  type CollectResult,
  type Diagnostic,
  type FileStat,
  type ProviderContext,
  type TwinDocument,
  type TwinReader,
} from '@twinsync/sdk'
import { namesById, readAccounts, type Accounts } from './accounts.js'
import { resolveConfig } from './config.js'
import { forgetCollected, rememberCollected, textBlobs } from './collected-texts.js'
import { decodeText, md5, sha256 } from './content.js'
import { documentsToken, isSplitToken, keptOf, KEPT_PARTS, walkDigests, type WalkDigests } from './documents-token.js'
import { keptState, notesFor, rememberNotes, type DescribedNotes } from './kept-collect.js'
import { cachedAttributes } from './attribute-cache.js'
import type { ExtendedAttributes } from './extended-attributes.js'
import { LEFTOVER_PATTERNS } from './ignore.js'
import { expandIncludes, isIncluded, selectUsers } from './include.js'
import { manifestDocuments, PARTS, partOf, partPath, readManifest, splitThreshold, type KeptManifest } from './manifest.js'
import { formatMode } from './mode.js'
import { originOf, packageDatabaseStamp, packageLookup, type PackageLookup } from './package-origin.js'
import { ownHomesOnly, PathPatterns, SECRET_RULES_VERSION, appendAll, twinsyncLines } from '@twinsync/sdk'
import { namedCredentialFiles } from './named-credentials.js'
import { folderOf, NAME_SCREEN, NameScreen, type HeldName } from './secret-names.js'
import { BARE_TOKEN, DEFAULT_SECRET_PATHS, KEPT_BINARY, ROOT_ONLY_UNCHECKED, SecretRules, TOKEN_FILE, isBareToken, isTokenFile, onlyRootCanRead, openvpnCredentialFiles, postfixPasswordMaps, secretHash, secretHashKey } from './secrets.js'
import { StatCache, type ContentVerdict, type FileOrigin } from './stat-cache.js'
import { isUnitMaskLink, MANIFEST_PATH, type FileEntry, type FilesState, type ManifestEntry } from './state.js'

/** Files are read this many at a time: enough to hide latency, few enough to stay polite. */
const PARALLEL_READS = 16
/** Beyond this a too-large file is not even hashed: reading gigabytes is no snapshot's business. */
const MAX_HASHED_SIZE = 64 * 1024 * 1024

/** Bump when what a verdict means changes (new secret rules, new text test): old caches are dropped. */
const CACHE_FORMAT = 4

interface Walked {
  path: string
  /** What the walk's lstat found (describe takes it instead of asking again). */
  stat: FileStat
  /** Directories: had no entries at all. */
  empty?: boolean
  /** Its part (partOf), taken once a folder by the walk (walkDigests). */
  part: number
}

/**
 * A path the collect could not read, for any reason but "it is gone" (EACCES, EIO, ELOOP, an NFS
 * or FUSE error…): it and everything below it are unknown, not removed (keepUnread).
 */
interface Unread {
  path: string
  /** The error's code (EACCES) or, without one, its message. */
  code: string
  reason: string
  /** A folder whose own lstat worked and whose names could not be listed: its own entry is the live one, only what is below it is kept. */
  listing?: boolean
}

/** The scope of one collect: what to walk, what to leave out, how to judge content. */
export interface FilesScope {
  roots: string[]
  ignore: PathPatterns
  leftovers: PathPatterns
  secrets: SecretRules
  /** What decides which paths the walk skips or lists as leftovers (walkRules). */
  walkRules: string
  /** Key of the keyed hash recorded for secret files (see secretHashKey). */
  secretKey: Buffer
  maxFileSize: number
  diagnostics: Diagnostic[]
  /**
   * Homes of other users (root's among them) when TwinSync does not run as root (ownHomesOnly):
   * not walked, unknown and kept as the last snapshot recorded them (keepUnread), never dropped,
   * so the roots stay root's and a later run as root never finds them "removed".
   */
  othersHomes: string[]
}

export async function resolveScope(ctx: ProviderContext): Promise<{ scope: FilesScope; accounts: Accounts }> {
  const config = resolveConfig(ctx.config, ctx.limits)
  const { accounts, passwd } = await readAccounts(ctx.host)
  const { users, unknown } = await selectUsers(ctx.host, passwd, config.users)
  const own = ownHomesOnly()
  const othersHomes = own === undefined ? [] : users.filter((u) => u.uid !== own).map((u) => u.home)
  const diagnostics = unknown.map((name) =>
    warningDiagnostic('FILES_USER_UNKNOWN', `User ${name} is not in the target's /etc/passwd; their files are not mirrored`, {
      provider: 'files',
    }),
  )
  return {
    accounts,
    scope: {
      roots: expandIncludes(config.include, users),
      ignore: new PathPatterns(config.ignore),
      leftovers: new PathPatterns(LEFTOVER_PATTERNS),
      walkRules: walkRules(ctx, config.ignore),
      secrets: new SecretRules(
        [...config.secretPaths, ...(await postfixPasswordMaps(ctx.host, ctx.cache)), ...(await openvpnCredentialFiles(ctx.host, ctx.cache)), ...(await namedCredentialFiles(ctx.host, ctx.cache, users.map((u) => u.home), passwd))],
        config.detectSecretContent,
        config.secretAllow,
      ),
      secretKey: await secretHashKey(ctx.cache),
      maxFileSize: config.maxFileSize,
      diagnostics,
      othersHomes,
    },
  }
}

/**
 * Read the live target into the files state and its twin documents. Read-only. `previous`: the
 * last snapshot (snapshot, plan, status, adopt), whose record of a path that cannot be read is kept.
 */
export async function collectFiles(ctx: ProviderContext, previous?: TwinReader, since?: string, wholeOnly = false): Promise<CollectResult<FilesState>> {
  const startedAt = Date.now()
  const { scope, accounts } = await resolveScope(ctx)
  const diagnostics = [...scope.diagnostics]
  // NAME_SCREEN: a symlink's record vouches that its target holds no secret (secret-names.ts).
  const rules = JSON.stringify([CACHE_FORMAT, SECRET_RULES_VERSION, NAME_SCREEN, scope.maxFileSize, scope.secrets.detectContent, DEFAULT_SECRET_PATHS, [...scope.secrets.extraPaths], [...scope.secrets.allowPaths]])
  const stamp = await packageDatabaseStamp(ctx.host)
  const cache = await StatCache.open(ctx.cache, rules, startedAt, stamp, scope.walkRules)
  // The package index only when some file needs it: one read, or an origin the stat cache cannot give.
  // Unreadable, it is the whole collect's failure, never each file's: a file whose origin cannot
  // be told is not a file gone, and "left out of the twin" for every file a snapshot reads would
  // commit the machine's /etc as removed (dpkg's status file made a folder: 111 files "removed").
  let index: Promise<PackageLookup> | undefined
  let indexFailed: TwinSyncError | undefined
  const packages = () =>
    (index ??= packageLookup(ctx.host, ctx.cache, (p) => isWithin(p, '/etc') && isIncluded(p, scope.roots), stamp).catch((error: unknown) => {
      throw (indexFailed = packageDatabaseUnreadable(error))
    }))
  const walked: Walked[] = []
  const leftovers: string[] = []
  const unread: Unread[] = []
  const unholdable: string[] = []
  // Mirrored files git's fsck would refuse in a pushed tree (a machine's own .gitmodules): left out, with why.
  const gitRefused: GitRefused[] = []
  const screen = new NameScreen()
  for (const root of scope.roots) await walk(ctx, scope, cache, screen, root, walked, leftovers, unread, unholdable)
  // Speed (issue 22): getcap and getfattr (two processes walking the roots, when their cache
  // cannot answer: a first snapshot, something changed) run while the files are read and
  // judged, not before: their answer is needed only once every entry is described. A first
  // snapshot of the services root: 30-75 ms of wall waiting on them before reading, hidden.
  // The walked paths' half of the token (none while a path could not be read: no token then), in
  // the form the token will most likely take (by part for a split manifest: the form of `since`,
  // or, without one, what the walk says of the entries: splitByWalk); the other only if the token
  // takes it. First what the attributes' kept answer is checked against.
  const digested = new Map<boolean, WalkDigests>()
  const digestsOf = (byPart: boolean): WalkDigests => {
    const known = digested.get(byPart)
    if (known !== undefined) return known
    const made = walkDigests(walked, startedAt, byPart)
    digested.set(byPart, made)
    return made
  }
  const walkable = unread.length === 0
  const entries: FileEntry[] = []
  // Session 51: where the walk cannot tell (splitByWalk undefined), the attributes wait until the
  // paths are described and take the form their entries give, as the token does (before, a machine
  // between the two counts made both forms, and its next snapshot's attributes missed their kept answer).
  const byPart = since !== undefined ? isSplitToken(since) : splitByWalk(walked)
  let attributesRead: Promise<ExtendedAttributes> | undefined
  const attributesOf = (): Promise<ExtendedAttributes> => {
    if (attributesRead !== undefined) return attributesRead
    const split = byPart ?? entries.length >= splitThreshold()
    attributesRead = cachedAttributes(ctx, scope.roots, walked, startedAt, walkable ? digestsOf(split) : undefined)
    attributesRead.catch(() => undefined) // awaited below; not an unhandled rejection if a read fails first
    return attributesRead
  }
  if (byPart !== undefined) attributesOf()
  leftovers.sort(compareStrings)
  // Speed (issue 22, session 33): the token is worked out once a collect for each form, and only
  // again if the attributes were another answer. A snapshot of a split manifest with a file
  // changed asked twice (the whole-kept check after the walk, then partlyKept), each a SHA-256
  // of every walked path's name and stat data: the scale root's 20,000 paths (figure:
  // docs/architecture.md, Speed).
  const tokens = new Map<boolean, { attributes: ExtendedAttributes; token: string | undefined }>()
  const tokenOf = (attributes: ExtendedAttributes, split: boolean) => {
    const known = tokens.get(split)
    if (known?.attributes === attributes) return known.token
    if (!walkable) return undefined
    const token = documentsToken({ walk: digestsOf(split), leftovers, rules, walkRules: scope.walkRules, roots: scope.roots, othersHomes: scope.othersHomes, packages: stamp, accounts, attributes, secretKey: scope.secretKey, split })
    tokens.set(split, { attributes, token })
    return token
  }
  // Speed (issue 22, session 27): a snapshot's collect whose documents are all kept describes no file (kept-collect.ts).
  if (since !== undefined && unread.length === 0 && cache.untouched()) {
    const attributes = await attributesOf()
    const token = tokenOf(attributes, isSplitToken(since))
    const notes = token === undefined || keptOf(since, token)?.whole !== true ? undefined : await notesFor(ctx.cache, token)
    if (token !== undefined && notes !== undefined) {
      cache.close()
      forgetCollected()
      appendAll(diagnostics, attributes.diagnostics)
      appendAll(diagnostics, closingDiagnostics(notes.tokenFiles, unholdable, [...screen.held, ...notes.heldLinks], notes.gitRefused, twinsyncLines(ctx)))
      return { state: keptState(leftovers, accounts), documents: [], diagnostics, token, kept: KEPT_PARTS }
    }
  }

  const names: Names = { users: namesById(accounts.users), groups: namesById(accounts.groups) }
  const finish = (entry: FileEntry | undefined): void => {
    if (entry !== undefined && !isUnitMaskLink(entry)) entries.push(entry)
  }
  // The kept parts' paths: runs of `walked`, from and to (before) each.
  const keptRuns: number[] = []
  // How many files HEAD mirrors in each kept part, by the records carried (CollectResult.keptParts).
  const keptMirrored = new Array<number>(PARTS).fill(0)
  // The kept parts a walked path lies in, and how many kept paths are not symlinks (each an entry of a split manifest).
  const keptWalked = new Array<boolean>(PARTS).fill(false)
  let keptEntries = 0
  let recordsSay = true
  // Speed (issue 22, session 31): a snapshot's collect of a split manifest describes only the
  // parts whose piece of the token moved (partlyKept); the others are kept as HEAD holds them.
  // Not for a plan (CollectRequest.wholeOnly): it reads the whole state of a collect that does not keep everything.
  const partly = since !== undefined && !wholeOnly && isSplitToken(since) && unread.length === 0 ? await partlyKept(ctx, since, await attributesOf(), tokenOf) : undefined
  // Directories and files the stat cache knows need no read: described in one pass, without a
  // promise each; the rest (symlinks, new and changed files) are read side by side. A path of a
  // kept part (`keep`) is not described: its record is carried, in the walk's order as a lookup
  // that hit would keep it (StatCache.save), and what the record says of a file noted.
  // Speed (issue 22, session 50): a kept part's files in a row (a folder's, mostly) are carried
  // in one call (StatCache.carryRun, figure there), noted as a run of `walked`; each path's part
  // is the walk's (Walked.part).
  const describeAll = async (items: readonly Walked[], keep?: readonly boolean[]): Promise<void> => {
    const toRead: Walked[] = []
    // The parts of the paths the stat cache's log names (carryRun looks for a path among them only in those).
    const logParts = new Uint8Array(PARTS)
    if (keep !== undefined) for (const path of cache.namedByLog()) logParts[partOf(path)] = 1
    for (let i = 0; i < items.length; ) {
      const item = items[i] as Walked
      const part = keep === undefined ? -1 : item.part
      if (keep !== undefined && keep[part] === true) {
        keptWalked[part] = true
        if (item.stat.type === 'directory') {
          keptEntries++
          if (keptRuns[keptRuns.length - 1] === i) keptRuns[keptRuns.length - 1] = i + 1
          else keptRuns.push(i, i + 1)
          i++
          continue
        }
        let to = i + 1
        while (to < items.length && (items[to] as Walked).part === part) to++
        if (keptRuns[keptRuns.length - 1] === i) keptRuns[keptRuns.length - 1] = to
        else keptRuns.push(i, to)
        const run = cache.carryRun(items, i, to, logParts[part] === 1)
        keptEntries += run.entries
        keptMirrored[part] = (keptMirrored[part] as number) + run.mirrored
        if (!run.said) recordsSay = false
        i = to
        continue
      }
      i++
      const known = describeUnread(cache, names, item)
      if (known === undefined) toRead.push(item)
      else finish(known)
    }
    await inParallel(toRead, PARALLEL_READS, async (item) => {
      ctx.signal.throwIfAborted()
      try {
        finish(await describe(ctx, scope, cache, screen, names, packages, item, gitRefused))
      } catch (error) {
        if (indexFailed !== undefined && error === indexFailed) return
        unread.push(unreadOf(item.path, error))
      }
    })
  }
  await describeAll(walked, partly?.keep.parts)
  // Only while every kept file's record says what it is, the manifest is split for certain (each
  // kept path but a symlink is an entry) and nothing was unreadable; else the kept parts are
  // described too, and all goes on as before.
  // A record carried that was asked for again is one carried under another name of its file (StatCache.carryRun): described too.
  const partial =
    partly !== undefined && recordsSay && !cache.carriedAgain && unread.length === 0 && indexFailed === undefined && entries.length + keptEntries >= splitThreshold()
      ? partly
      : undefined
  if (partly !== undefined && partial === undefined && indexFailed === undefined) await describeAll(keptRuns.flatMap((from, k) => (k % 2 === 0 ? walked.slice(from, keptRuns[k + 1]) : [])))
  if (indexFailed !== undefined) {
    cache.close()
    throw indexFailed
  }
  const attributes = await attributesOf()
  for (const entry of entries) addAttributes(entry, attributes)
  appendAll(diagnostics, attributes.diagnostics)
  await cache.save()
  cache.close()
  // A path that could not be read keeps the last snapshot's record of it (with its attributes as
  // recorded): read only then, so an unchanged machine's snapshot never opens the last manifest.
  if (unread.length > 0) appendAll(diagnostics, await keepUnread(ctx, scope, previous, unread, entries, leftovers))

  entries.sort((a, b) => compareStrings(a.path, b.path))
  leftovers.sort(compareStrings)
  gitRefused.sort((a, b) => compareStrings(a.path, b.path))
  if (partial !== undefined) return partlyDescribed(ctx, partial, keptWalked, keptMirrored, { entries, leftovers, accounts }, unholdable, screen.held, gitRefused, diagnostics)
  const tokenFiles = tokenFilesOf(entries)
  appendAll(diagnostics, closingDiagnostics(tokenFiles, unholdable, screen.held, gitRefused, twinsyncLines(ctx)))
  const state: FilesState = unread.length === 0 ? { entries, leftovers, accounts } : { entries, leftovers, accounts, unread: [...new Set(unread.map((u) => u.path))].sort(compareStrings) }
  rememberCollected(state)
  // Speed (issue 22, session 25): what the documents are made from, named (documents-token.ts);
  // the same as when the observed commit was written, they are kept as it holds them, not made.
  const token = unread.length > 0 ? undefined : tokenOf(attributes, entries.length >= splitThreshold())
  if (token === undefined) return { state, documents: documentsOf(state), diagnostics }
  // What describing said, for a later collect under this token that describes nothing (kept-collect.ts).
  await rememberNotes(ctx.cache, token, { tokenFiles, heldLinks: screen.held.filter((h) => h.link === true), gitRefused })
  // Speed (issue 22, session 26): a split manifest's parts whose piece of the token did not move
  // are kept as HEAD holds them, with their mirrored files; the rest is made (figure: keptOf).
  const keep = keptOf(since, token)
  // A plan (wholeOnly) keeps all or nothing: a part kept would have it collect again (core/src/plan/kept-compare.ts).
  if (keep === undefined || (wholeOnly && !keep.whole)) return { state, documents: documentsOf(state), diagnostics, token }
  if (keep.whole) return { state, documents: [], diagnostics, token, kept: KEPT_PARTS }
  const kept = keptClaim()
  const documents = documentsOf(state, keep, kept)
  return { state, documents, diagnostics, token, ...claimOf(kept, keep) }
}

/**
 * What a collect that keeps parts of a split manifest claims: the manifest's documents kept by
 * name, and the mirrored files of its kept parts by part, with how many HEAD holds in each
 * (CollectResult.keptParts: the part function is the SDK's, so a kept manifest part's entries
 * are the mirrored files of the kept part of filesystem/ with its number).
 *
 * Speed (issue 22, session 44): the scale root's one-file snapshot named about 19,300 kept
 * mirrored files (a string made for each here, then each looked up in HEAD, asked its owner and
 * put in a map by the core); now 63 numbers, counted by the core in one pass over HEAD's paths
 * (core/src/snapshot/kept-parts.ts, figure there).
 */
interface KeptClaim {
  names: string[]
  /** Mirrored files by part. */
  mirrored: number[]
}

function keptClaim(): KeptClaim {
  return { names: [], mirrored: new Array<number>(PARTS).fill(0) }
}

function claimOf(kept: KeptClaim, keep: KeptManifest): Pick<CollectResult, 'kept' | 'keptParts'> {
  const parts = keep.parts.flatMap((isKept, part) => (isKept ? [{ part, files: kept.mirrored[part] as number }] : []))
  return { kept: kept.names, keptParts: { folder: MIRROR_FOLDER, parts } }
}

/** Where the files provider's mirrored files are in the twin (mirrorPath). */
const MIRROR_FOLDER = 'filesystem/'

/**
 * Speed (issue 22, session 31): the snapshot of a split manifest (SPLIT_FROM entries or more)
 * with a few files changed described every file all the same (the stat cache's lookup of each
 * file's verdict, text, blob id and origin, an entry object each: the scale root's 19,600), then
 * made documents only for the parts whose piece of the token moved (keptOf). Now only the paths
 * of those parts are described. The kept parts' paths are not looked up: their stat cache
 * records are carried (StatCache.carry), whose content kind says which of their files HEAD
 * mirrors (the record describing made HEAD's documents from: the part's piece of the token is
 * the same, so is every stat data its records are keyed on); what describing said of them (a
 * token file held out, a symlink held out by its target) is taken from the notes on record for
 * `since` (kept-collect.ts), which describing wrote under that token. Taken only when the walk
 * found no path unreadable, every kept file's record says what it is, and the notes for `since`
 * are on record; the snapshot checks each claimed document is HEAD's and the provider's
 * (refusedClaim), and collects again without `since` when one is not. Figure: docs/architecture.md
 * (Speed, session 31).
 */
interface PartlyKept {
  token: string
  keep: { whole: false; head: boolean; parts: boolean[] }
  notes: DescribedNotes
}

async function partlyKept(
  ctx: ProviderContext,
  since: string,
  attributes: ExtendedAttributes,
  tokenOf: (attributes: ExtendedAttributes, split: boolean) => string | undefined,
): Promise<PartlyKept | undefined> {
  const token = tokenOf(attributes, true)
  const keep = token === undefined ? undefined : keptOf(since, token)
  if (token === undefined || keep === undefined || keep.whole) return undefined
  const notes = await notesFor(ctx.cache, since)
  return notes === undefined ? undefined : { token, keep, notes }
}

/** The collect's result when only the moved parts were described (partlyKept): their documents, the rest kept as HEAD holds it. */
async function partlyDescribed(
  ctx: ProviderContext,
  partial: PartlyKept,
  keptWalked: readonly boolean[],
  keptMirrored: number[],
  described: { entries: FileEntry[]; leftovers: string[]; accounts: Accounts },
  unholdable: readonly string[],
  held: HeldName[],
  refused: readonly GitRefused[],
  diagnostics: Diagnostic[],
): Promise<CollectResult<FilesState>> {
  const inKept = (path: string) => partial.keep.parts[partOf(path)] === true
  const tokenFiles = tokenFilesOf(described.entries)
    .concat(partial.notes.tokenFiles.filter((f) => inKept(f.path)))
    .sort((a, b) => compareStrings(a.path, b.path))
  const keptLinks = partial.notes.heldLinks.filter((h) => inKept(h.path))
  const heldLinks = [...held.filter((h) => h.link === true), ...keptLinks]
  const gitRefused = [...refused, ...partial.notes.gitRefused.filter((f) => inKept(f.path))].sort((a, b) => compareStrings(a.path, b.path))
  appendAll(diagnostics, closingDiagnostics(tokenFiles, unholdable, [...held, ...keptLinks], gitRefused, twinsyncLines(ctx)))
  await rememberNotes(ctx.cache, partial.token, { tokenFiles, heldLinks, gitRefused })
  const kept: KeptClaim = { names: [], mirrored: keptMirrored }
  const documents = documentsOf(described as FilesState, partial.keep, kept)
  // A kept part's manifest document (a part with a path walked in it: keptWalked, noted as each was carried); its mirrored files by part (keptMirrored).
  keptWalked.forEach((walked, part) => {
    if (walked) kept.names.push(partPath(part))
  })
  forgetCollected()
  return { state: keptState(described.leftovers, described.accounts), documents, diagnostics, token: partial.token, ...claimOf(kept, partial.keep) }
}

/** The entries held out as token files (TOKEN_FILE, BARE_TOKEN), with their reason, in the entries' order. */
function tokenFilesOf(entries: readonly FileEntry[]): Array<{ path: string; reason: string }> {
  return entries.filter((e) => e.secretReason === TOKEN_FILE || e.secretReason === BARE_TOKEN).map((e) => ({ path: e.path, reason: e.secretReason as string }))
}

/**
 * The warnings said once the files are described, in this order: files left out because git's
 * fsck would refuse them in a pushed tree (gitFsckRefusal, in path order), files held out as token files
 * (in path order), names the twin cannot hold (not UTF-8, or one git refuses: `unholdable`, in
 * the walk's order), names and symlinks held out by the name screen (in path order).
 */
function closingDiagnostics(tokenFiles: ReadonlyArray<{ path: string; reason: string }>, unholdable: readonly string[], held: HeldName[], gitRefused: readonly GitRefused[], line: ReturnType<typeof twinsyncLines>): Diagnostic[] {
  const diagnostics: Diagnostic[] = []
  for (const { path, reason } of gitRefused) {
    diagnostics.push(
      warningDiagnostic('FILES_GIT_REFUSES_CONTENT', `${path} is left out of the twin: ${reason}; a mirror that checks what it is sent (GitHub does) would refuse every push holding it`, {
        path,
        provider: 'files',
        detail: `git's fsck judges every .gitmodules and .gitattributes of a pushed tree, wherever it lies. Correct or remove the file, or ignore it with files.ignore (\`${path}\`), then snapshot again; a snapshot that already holds it stops pushes to such a mirror until \`${line(['forget', path])}\` takes it out of the history.`,
      }),
    )
  }
  // A token file is held out by a guess from its shape, not a finding: say so, and how to mirror it.
  for (const { path, reason } of tokenFiles) {
    const what = reason === TOKEN_FILE ? 'a bare token (or user and token) kept from other users' : 'the whole file is one token (or a password file\'s one word)'
    diagnostics.push(warningDiagnostic('FILES_TOKEN_FILE', `${path} is held out of the twin as a secret: ${what}; if it is none, add it to files.secrets.allow to mirror it`, { path, provider: 'files' }))
  }
  for (const path of unholdable) {
    const folder = posix.dirname(path)
    const name = posix.basename(path)
    const gitRefuses = isDotGitName(name)
    if (!gitRefuses && tooLong(path)) {
      diagnostics.push(
        warningDiagnostic('FILES_PATH_TOO_LONG', `A path in ${folder.slice(0, 120)}… is ${Buffer.byteLength(path)} bytes, longer than the twin can hold (${MAX_MIRRORED_PATH_BYTES}); it is left out, and everything below it`, {
          path,
          provider: 'files',
          detail: `Move what is that deep up, or ignore the folder with files.ignore, then snapshot again.`,
        }),
      )
      continue
    }
    if (gitRefuses) {
      diagnostics.push(
        warningDiagnostic('FILES_NAME_GIT_REFUSES', `A name in ${folder} is one git refuses in a tree (${JSON.stringify(name)}: .git in another spelling); the twin cannot hold it and leaves it out, and everything below it`, {
          path,
          provider: 'files',
          detail: `Rename it, or ignore it with files.ignore (\`${path}\`), then snapshot again.`,
        }),
      )
      continue
    }
    diagnostics.push(
      warningDiagnostic('FILES_NAME_NOT_UTF8', `A name in ${folder} is not UTF-8 (${name} as decoded); the twin cannot hold it and leaves it out`, {
        path,
        provider: 'files',
        detail: `Rename it to UTF-8 (\`ls -b ${folder === '/' ? '/' : `${folder}/`}\` shows its bytes; convmv or mv), or ignore it with files.ignore, then snapshot again.`,
      }),
    )
  }
  for (const h of held.sort((a, b) => compareStrings(a.path, b.path))) diagnostics.push(heldNameWarning(h))
  return diagnostics
}

/**
 * The twin documents of a state: the manifest (one document, or split: manifest.ts), and each
 * mirrored file's text. `keep`: a split manifest's documents kept as HEAD holds them, not made;
 * the parts' documents are added to `kept`'s names, their entries' mirrored files counted by part.
 */
export function documentsOf(state: FilesState, keep?: KeptManifest, kept?: KeptClaim): TwinDocument[] {
  const documents = manifestDocuments(state, keep)
  if (keep?.head === true) kept?.names.push(MANIFEST_PATH)
  // A kept part's document is claimed once (with its first entry: a part with no entry has none).
  const claimed: boolean[] = []
  for (const entry of state.entries) {
    if (keep !== undefined) {
      const part = partOf(entry.path)
      if (keep.parts[part] === true) {
        if (claimed[part] !== true) kept?.names.push(partPath(part))
        claimed[part] = true
        if (entry.type === 'file' && entry.content === 'mirrored' && entry.text !== undefined && kept !== undefined) kept.mirrored[part] = (kept.mirrored[part] as number) + 1
        continue
      }
    }
    if (entry.type !== 'file' || entry.content !== 'mirrored' || entry.text === undefined) continue
    const executable = (parseInt(entry.mode, 8) & 0o111) !== 0
    const document: TwinDocument = { path: mirrorPath(entry.path), content: entry.text, ...(executable ? { executable } : {}) }
    const known = textBlobs.get(entry)
    documents.push(known === undefined || known.text !== entry.text ? document : withKnownBlob(document, known.blob))
  }
  return documents
}

/**
 * Every path under `root` in depth-first order, children by name, with what its lstat found.
 * Speed: one loop with a stack instead of an async call (and its promise) per path; the awaits
 * left are the host's lstat and readdir. The services root (680 paths), the whole files collect
 * with the host port's synchronous `which`: 11.6–13.1 → 10.8–11.9 ms of CPU (least of 20
 * collects in one process, 3 processes each).
 */
async function walk(
  ctx: ProviderContext,
  scope: FilesScope,
  cache: StatCache,
  screen: NameScreen,
  root: string,
  out: Walked[],
  leftovers: string[],
  unread: Unread[],
  unholdable: string[],
): Promise<void> {
  const stack: string[] = []
  // Each path's part (partOf) beside it on the stack: a folder's names are all in the part of that folder.
  const parts: number[] = []
  if (scope.othersHomes.some((home) => isWithin(root, home))) {
    unread.push({ path: root, code: 'NOT_ROOT', reason: `another user's home, not read by a run that is not root's` })
    return
  }
  const rootClass = classOf(ctx, scope, root)
  if (rootClass === WALK) {
    stack.push(root)
    parts.push(partOf(root))
  } else if (rootClass === LEFTOVER) leftovers.push(root)
  for (let path = stack.pop(); path !== undefined; path = stack.pop()) {
    const part = parts.pop() as number
    let stat: FileStat | undefined
    try {
      stat = await ctx.host.lstat(path)
    } catch (error) {
      // Not "gone" (the host port answers that with undefined): unknown, kept as the last snapshot has it.
      unread.push(unreadOf(path, error))
      continue
    }
    if (stat === undefined) {
      // Gone, or a name that is not UTF-8: Node's listing decodes its bytes with U+FFFD, and
      // that name is not there. Said (FILES_NAME_NOT_UTF8), never left out silently (session 17).
      if (path.includes('\uFFFD')) unholdable.push(path)
      continue
    }
    stat = compactStat(stat)
    if (stat.type !== 'directory') {
      if (stat.type === 'file' || stat.type === 'symlink') out.push({ path, stat, part })
      continue
    }
    // A folder whose stat data did not move has the names it had (the stat cache's lookupListing),
    // and each name the class it had while the walk's rules are the same.
    const listing = cache.lookupListing(path, stat)
    let names: string[]
    let classes = listing?.classes
    if (listing !== undefined) {
      names = listing.names
    } else {
      let children
      try {
        children = await ctx.host.readdir(path)
      } catch (error) {
        if (isGone(error)) continue
        // Its names are unknown: the folder itself as it is now, what is below it as the last snapshot has it.
        unread.push({ ...unreadOf(path, error), listing: true })
        out.push({ path, stat, part })
        continue
      }
      names = children.map((c) => c.name).sort(compareStrings)
    }
    const prefix = path === '/' ? '/' : `${path}/`
    if (classes === undefined || !CLASSES.test(classes)) {
      classes = await classesOf(ctx, scope, cache, screen, path, names)
      cache.rememberListing(path, stat, names, classes)
    }
    out.push(names.length === 0 ? { path, stat, empty: true, part } : { path, stat, part })
    // The part of every name in this folder: partOf of the folder's prefix is the part of its own path's hash.
    const namesPart = partOf(prefix)
    // Pushed last name first: popped in name order.
    for (let i = names.length - 1; i >= 0; i--) {
      const kind = classes.charCodeAt(i)
      if (kind === SKIP) continue
      const child = prefix + (names[i] as string)
      if (kind === UNHOLDABLE) {
        unholdable.push(child)
        continue
      }
      if (kind === HELD) {
        screen.held.push({ path: child, rule: (await screen.ruleIn(names[i] as string)) ?? 'secret' })
        continue
      }
      if (kind === LEFTOVER) leftovers.push(child)
      else {
        stack.push(child)
        parts.push(namesPart)
      }
    }
  }
}

/** What the walk does with a path (a character code, kept in the stat cache with its folder's names): walk it, list it as a leftover, or leave it out. */
export const WALK = 0x77 // 'w'
export const LEFTOVER = 0x6c // 'l'
export const SKIP = 0x73 // 's'
/** Left out with everything below it: its name holds a secret (secret-names.ts). Never from classOf: the walk's own screen. */
export const HELD = 0x68 // 'h'
/**
 * Left out with everything below it, and said: a name git refuses in a tree (isDotGitName:
 * `.GIT`, `.git.`, `git~1`…), which the snapshot's tree could not hold, or a path too long for
 * the twin (MAX_MIRRORED_PATH_BYTES). Session 32: a user's `~/.config/.GIT` (or /etc/.git with
 * defaultIgnore off) made every snapshot fail with PATH_INVALID, the checkpoint of every apply
 * among them.
 */
export const UNHOLDABLE = 0x6e // 'n'
const CLASSES = /^[wlshn]*$/
/** In the walk rules (walkRules): listings cached before UNHOLDABLE classed such names as walked (1), and before session 44 under the longer MAX_MIRRORED_PATH_BYTES (2). */
const NAME_RULES = 'unholdable-2'

/**
 * A machine path longer than this (in bytes) is UNHOLDABLE too: its twin file's path
 * (`filesystem` and the path) must be one the core takes from a provider and a pull takes from a
 * mirror, at most 3,072 bytes (TREE_PATH_MAX_BYTES in core/src/twin/twin-path-check.ts: PATH_MAX
 * less room for the twin's own folder in front of it). Session 32: a user's folders nested past
 * PATH_MAX in ~/.config (4,090 bytes) made the snapshot commit and then fail to move the file into
 * the twin (an uncoded ENAMETOOLONG), and every later snapshot, plan and apply failed the same way
 * settling that move, the folders long gone from the machine. Session 44: this was 3,584 (4,096
 * less 512) while the core refuses a document path over 3,072 bytes, so a file between the two
 * made the core refuse the files provider's whole collect (PROVIDER_FAILED, its part kept as the
 * last snapshot had it) at every snapshot instead of leaving that one file out.
 */
export const MAX_MIRRORED_PATH_BYTES = 3072 - 'filesystem'.length

/** Longer than MAX_MIRRORED_PATH_BYTES (bytes counted only where the UTF-16 length could say so). */
function tooLong(path: string): boolean {
  return path.length * 3 > MAX_MIRRORED_PATH_BYTES && Buffer.byteLength(path) > MAX_MIRRORED_PATH_BYTES
}

/**
 * Each name's class in a folder whose listing was just read (classOf), a name that would be
 * walked or listed and holds a secret made HELD. The secret screen (secret-names.ts) asks the
 * detector only about names the folder's earlier listing (the stat cache's) did not already
 * class under the same rules, and about those as one text (NameScreen.aheadNames), not a call
 * a name.
 *
 * Speed (issue 22, session 54): a first snapshot lists every folder, and the walk asked the
 * detector about each of its names alone (its prefilters and hand rules run on each name): the
 * minbase root's 67 folders 77.4 -> 57.7 M instructions (callgrind between marks); `snapshot
 * --init` minbase -19.3 M (-1.6%), services -65.5 M (-3.3%), 3 pairs like for like.
 */
async function classesOf(ctx: ProviderContext, scope: FilesScope, cache: StatCache, screen: NameScreen, path: string, names: readonly string[]): Promise<string> {
  const prefix = path === '/' ? '/' : `${path}/`
  const earlier = cache.earlierListing(path)
  let screened: Map<string, number> | undefined
  if (earlier !== undefined) {
    screened = new Map()
    for (let i = 0; i < earlier.names.length; i++) screened.set(earlier.names[i] as string, earlier.classes.charCodeAt(i))
  }
  const kinds: number[] = []
  // The names the screen is asked about (by their place in `names`).
  const asked: number[] = []
  for (let i = 0; i < names.length; i++) {
    const name = names[i] as string
    let kind = classOf(ctx, scope, prefix + name)
    // An ignored one stays skipped (the person's way out); any other is left out and said.
    if (kind !== SKIP && (isDotGitName(name) || tooLong(prefix + name))) kind = UNHOLDABLE
    else if (kind !== SKIP) {
      const was = screened?.get(name)
      // Walked or listed before, under the same rules: screened then, and clean.
      if (was !== WALK && was !== LEFTOVER) asked.push(i)
    }
    kinds.push(kind)
  }
  await screen.aheadNames(asked.map((i) => names[i] as string))
  for (const i of asked) if ((await screen.ruleIn(names[i] as string)) !== undefined) kinds[i] = HELD
  let classes = ''
  for (const kind of kinds) classes += String.fromCharCode(kind)
  return classes
}

/**
 * A path another provider claims, or one the ignore patterns leave out, is skipped; a leftover
 * of dpkg or ucf is listed; anything else is walked. It follows from the path and the walk's
 * rules alone (walkRules), so the stat cache keeps it beside a folder's names (rememberListing).
 * The files provider's scope is this rule from an include root down (scope.ts's outsideScope).
 */
export function classOf(ctx: ProviderContext, scope: FilesScope, path: string): number {
  if (ctx.claims.isClaimedByOther('files', path) || scope.ignore.matches(path)) return SKIP
  return scope.leftovers.matches(path) ? LEFTOVER : WALK
}

/** Everything a name's class depends on besides the path: the ignore and leftover patterns, every provider's claims, the names' secret screen (HELD), the names git refuses (UNHOLDABLE). */
export function walkRules(ctx: ProviderContext, ignore: readonly string[]): string {
  return JSON.stringify([ignore, LEFTOVER_PATTERNS, ctx.claims.defaultOwner, ctx.claims.list(), NAME_SCREEN, NAME_RULES])
}

/**
 * A walked path's stat data as the walk keeps it until the path is described. Memory (issue 22,
 * session 7): the host port's numbers come from Node's Float64Array of stat values and were
 * kept as a boxed double each (10 a path); whole numbers that fit are made small integers,
 * which V8 keeps inside the object (the times stay boxed). The scale root's 24,500 walked
 * paths: 5.4 → 3.2 MB (heap snapshot), garbage that stays in the old generation once collect
 * is done.
 */
function compactStat(s: FileStat): FileStat {
  return new WalkedStat(s.type, small(s.mode), small(s.uid), small(s.gid), small(s.size), s.mtimeMs, s.ctimeMs, small(s.ino), small(s.dev), small(s.nlink))
}

/** A class, not an object literal: a literal with these keys in this order would share the host port's hidden class, whose fields V8 keeps as doubles. */
class WalkedStat implements FileStat {
  constructor(
    readonly type: FileStat['type'],
    readonly mode: number,
    readonly uid: number,
    readonly gid: number,
    readonly size: number,
    readonly mtimeMs: number,
    readonly ctimeMs: number,
    readonly ino: number,
    readonly dev: number,
    readonly nlink: number,
  ) {}
}

/** The same number, as a small integer when it is a whole number V8 can keep as one. */
function small(n: number): number {
  return n >= 0 && n < 0x40000000 && n === Math.floor(n) ? n | 0 : n
}

/**
 * What a snapshot says of a path it held out because its name (or a symlink's target) holds a
 * secret: the folder and the rule, never the name (secret-names.ts).
 */
function heldNameWarning(held: HeldName): Diagnostic {
  const folder = folderOf(held.path)
  const summary =
    held.link === true
      ? `A symlink in ${folder} points to a name that holds a secret (${held.rule}); the twin leaves the link out`
      : `A name in ${folder} holds a secret (${held.rule}); the twin leaves it out, and everything below it`
  return warningDiagnostic('FILES_NAME_SECRET', summary, {
    path: folder,
    provider: 'files',
    detail: `A name is written into the files manifest, the twin's file names and the diary line, so a secret in one would reach a commit. Nothing there is planned either. Rename it (\`ls -la ${folder}\` shows it), or ignore ${folder} with files.ignore, then snapshot again.`,
  })
}

/**
 * Session 51: whether a collect's manifest is split (SPLIT_FROM entries or more, manifest.ts) as
 * far as its walk tells before its paths are described: each walked folder and file is an entry
 * (a file gone before it is read aside), but a `.gitmodules` or `.gitattributes` git's fsck may
 * refuse; a symlink is not when the name screen holds it out or it masks a unit. Undefined when
 * those decide it, known once the paths are described. A loop over the walk, to its SPLIT_FROM-th
 * such path at most, only from SPLIT_FROM walked paths on a collect without `since`.
 */
function splitByWalk(walked: readonly Walked[]): boolean | undefined {
  const from = splitThreshold()
  if (walked.length < from) return false
  let entries = 0
  for (const item of walked) if (item.stat.type !== 'symlink' && !mayBeFsckJudged(item.path) && ++entries >= from) return true
  return undefined
}

/** The entry of a directory, of a symlink or file the stat cache knows unchanged (a file with its origin); undefined when it takes a read. */
function describeUnread(cache: StatCache, names: Names, item: Walked): FileEntry | undefined {
  const stat = item.stat
  if (stat.type === 'directory') return item.empty === true ? { ...baseOf(item, names), type: 'directory', empty: true } : { ...baseOf(item, names), type: 'directory' }
  if (stat.type === 'symlink') {
    const target = cache.lookupLink(item.path, stat)
    return target === undefined ? undefined : { ...baseOf(item, names), target, type: 'symlink' }
  }
  // A file git's fsck judges the content of is judged by describe, every time.
  if (stat.type !== 'file' || mayBeFsckJudged(item.path)) return undefined
  const known = cache.lookup(item.path, stat)
  if (known === undefined) return undefined
  const etc = isWithin(item.path, '/etc')
  if (etc && known.origin === undefined) return undefined
  return fileEntry(item, names, etc ? known.origin : undefined, known.verdict, known.text, known.blob)
}

/** A mirrored file left out because git's fsck would refuse it in a pushed tree (gitFsckRefusal), with why. */
type GitRefused = { path: string; reason: string }

/**
 * Whether the last part of `path` may be a name git's fsck judges the content of (`.gitmodules`,
 * `.gitattributes` in any spelling: isFsckJudgedName, asked only then). Every such name begins
 * with `.`, `g` or `G`, or with a character HFS+ ignores (U+200C and above): one character
 * looked at for each of the scale root's 19,600 described files.
 */
function mayBeFsckJudged(path: string): boolean {
  const first = path.charCodeAt(path.lastIndexOf('/') + 1)
  return (first === 46 || first === 103 || first === 71 || first >= 0x200c) && isFsckJudgedName(path.slice(path.lastIndexOf('/') + 1))
}

/** The target's user and group names by id (its /etc/passwd and /etc/group). */
interface Names {
  users: Map<number, string>
  groups: Map<number, string>
}

type Base = Pick<FileEntry, 'gid' | 'group' | 'mode' | 'owner' | 'path' | 'uid'>

/**
 * What every entry has, in the manifest's (sorted) key order: the owner's and group's names
 * where the target's accounts have them. Speed (issue 22, session 9): the names were added to
 * each finished entry, two keys more on objects of many shapes (V8 went through a hidden class
 * of each), about 1 ms of the services root's unchanged snapshot's CPU profile; here the usual
 * entry is one object literal.
 */
function baseOf(item: Walked, names: Names): Base {
  const { gid, uid } = item.stat
  const group = names.groups.get(gid)
  const owner = names.users.get(uid)
  const mode = formatMode(item.stat.mode)
  if (group !== undefined && owner !== undefined) return { gid, group, mode, owner, path: item.path, uid }
  const base: Base = { gid, mode, path: item.path, uid }
  if (group !== undefined) base.group = group
  if (owner !== undefined) base.owner = owner
  return base
}

async function describe(
  ctx: ProviderContext,
  scope: FilesScope,
  cache: StatCache,
  screen: NameScreen,
  names: Names,
  packages: () => Promise<PackageLookup>,
  item: Walked,
  gitRefused: GitRefused[],
): Promise<FileEntry | undefined> {
  // The walk's lstat, a moment ago: one lstat a path (a file gone since is left out when read).
  const stat = item.stat
  if (stat.type === 'directory') return describeUnread(cache, names, item)
  if (stat.type === 'symlink') {
    const target = await ctx.host.readlink(item.path).catch(goneAsUndefined)
    if (target === undefined) return undefined
    // A target that holds a secret: the link is held out (never remembered, so read and said each time).
    const rule = await screen.ruleIn(target)
    if (rule !== undefined) {
      screen.held.push({ path: item.path, rule, link: true })
      return undefined
    }
    cache.rememberLink(item.path, stat, target)
    return { ...baseOf(item, names), target, type: 'symlink' }
  }
  if (stat.type !== 'file') return undefined

  let verdict: ContentVerdict
  let text: string | undefined
  let blob: string | undefined
  const known = cache.lookup(item.path, stat)
  if (known !== undefined) {
    // Known, but its origin is not (dpkg's database moved): only the origin is worked out again.
    verdict = known.verdict
    text = known.text
    blob = known.blob
  } else if (stat.size > MAX_HASHED_SIZE) {
    const pathSecret = scope.secrets.pathVerdict(item.path)
    verdict = pathSecret !== undefined || onlyRootCanRead(stat) ? { content: 'secret', secretReason: pathSecret ?? ROOT_ONLY_UNCHECKED } : { content: 'unhashed' }
    cache.remember(item.path, stat, verdict)
  } else {
    const bytes = await ctx.host.readFile(item.path).catch(goneAsUndefined)
    if (bytes === undefined) return undefined
    const pathSecret = scope.secrets.pathVerdict(item.path)
    const packaged = (await packages()).get(item.path)
    ;({ verdict, text } = await judge(bytes, scope, {
      path: item.path,
      pathSecret,
      rootOnly: onlyRootCanRead(stat),
      othersRead: (stat.mode & 0o004) !== 0,
      packagedMd5s: packaged?.map((f) => f.md5),
    }))
    blob = cache.remember(item.path, stat, verdict, text)
  }
  if (verdict.content === 'mirrored' && text !== undefined && mayBeFsckJudged(item.path)) {
    const refused = gitFsckRefusal(item.path.slice(item.path.lastIndexOf('/') + 1), text)
    if (refused !== undefined) {
      gitRefused.push({ path: item.path, reason: refused })
      return undefined
    }
  }
  let origin: FileOrigin | undefined
  if (isWithin(item.path, '/etc')) {
    origin = known?.origin ?? originOf((await packages()).get(item.path), verdict.md5)
    cache.rememberOrigin(item.path, origin)
  }
  return fileEntry(item, names, origin, verdict, text, blob)
}

/** A regular file's entry from its verdict (and origin, under /etc), keys in the manifest's (sorted) order. */
function fileEntry(item: Walked, names: Names, origin: FileOrigin | undefined, verdict: ContentVerdict, text: string | undefined, blob: string | undefined): FileEntry {
  const entry: FileEntry = { content: verdict.content === 'unhashed' ? 'too-large' : verdict.content, ...baseOf(item, names), type: 'file' }
  if (origin !== undefined) Object.assign(entry, origin)
  if (verdict.content === 'secret') {
    entry.secret = true
    entry.secretReason = verdict.secretReason ?? 'secret'
    if (verdict.secretHash !== undefined) entry.secretHash = verdict.secretHash
  } else if (verdict.sha256 !== undefined) {
    entry.sha256 = verdict.sha256
  }
  entry.size = item.stat.size
  if (verdict.content === 'mirrored' && text !== undefined) {
    entry.text = text
    if (blob !== undefined) textBlobs.set(entry, { text, blob })
  }
  return entry
}

/**
 * What a file's bytes are: secret, too large, binary, or text to mirror. A secret is kept as a
 * keyed hash, never content. Which rule makes a file secret, in order:
 * 1. its path matches a secret path rule;
 * 2. the SDK's detector finds a secret in it (text, or binary searched as latin1), unless the
 *    bytes are exactly what its package ships (the same for every machine, so nothing private);
 * 3. only root can read it and its content cannot be shown free of findings: binary, larger than
 *    maxFileSize, or content detection switched off; or it is binary, kept from other users (no
 *    read bit for others) and its bytes are not its package's (KEPT_BINARY, session 42: a plain
 *    sha256 of a small binary made from a password tests guesses offline);
 * 4. it is kept from other users (no read bit for others), no package ships that path, and its
 *    text is one or two bare tokens (isTokenFile): a password file of any name;
 * 5. no package ships that path and its whole text is one token, or a password file's one word,
 *    whoever may read it (isBareToken). `secrets.allow` lets a path of 4 or 5 be mirrored.
 */
export async function judge(
  bytes: Uint8Array,
  scope: Pick<FilesScope, 'secrets' | 'maxFileSize' | 'secretKey'>,
  file: { path: string; pathSecret?: string | undefined; rootOnly?: boolean; othersRead?: boolean; packagedMd5s?: ReadonlyArray<string | undefined> | undefined },
): Promise<{ verdict: ContentVerdict; text?: string }> {
  const sum = md5(bytes)
  const secret = (secretReason: string): { verdict: ContentVerdict } => ({
    verdict: { content: 'secret', md5: sum, secretReason, secretHash: secretHash(scope.secretKey, bytes) },
  })
  if (file.pathSecret !== undefined) return secret(file.pathSecret)
  const packaged = file.packagedMd5s?.includes(sum) === true
  const found = packaged ? undefined : await scope.secrets.contentVerdict(bytes, file.path)
  if (found !== undefined) return secret(found)
  const rootOnly = file.rootOnly === true && !packaged
  if (bytes.byteLength > scope.maxFileSize) return rootOnly ? secret(ROOT_ONLY_UNCHECKED) : { verdict: { content: 'too-large', sha256: sha256(bytes), md5: sum } }
  const text = decodeText(bytes)
  if (text === undefined) {
    if (rootOnly) return secret(ROOT_ONLY_UNCHECKED)
    if (file.othersRead === false && !packaged) return secret(KEPT_BINARY)
    return { verdict: { content: 'binary', sha256: sha256(bytes), md5: sum } }
  }
  if (rootOnly && !scope.secrets.detectContent) return secret(ROOT_ONLY_UNCHECKED)
  if (file.packagedMd5s === undefined && !scope.secrets.allows(file.path)) {
    if (file.othersRead === false && isTokenFile(text)) return secret(TOKEN_FILE)
    if (isBareToken(text, file.path)) return secret(BARE_TOKEN)
  }
  return { verdict: { content: 'mirrored', sha256: sha256(bytes), md5: sum }, text }
}

/** A file removed between the walk and the read is left out, as if the walk had not seen it. */
function goneAsUndefined(error: unknown): undefined {
  if (isGone(error)) return undefined
  throw error
}

/** "It is not there": the only read failure that means a path went from the machine. */
function isGone(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code
  return code === 'ENOENT' || code === 'ENOTDIR'
}

function addAttributes(entry: FileEntry, attributes: ExtendedAttributes): void {
  const caps = attributes.capabilities.get(entry.path)
  if (caps !== undefined) entry.capabilities = caps
  const xattrs = attributes.xattrs.get(entry.path)
  if (xattrs !== undefined) entry.xattrs = xattrs
}

/** The package database could not be read: no file's origin can be told, so nothing is collected. */
function packageDatabaseUnreadable(error: unknown): TwinSyncError {
  const reason = error instanceof Error ? error.message : String(error)
  return new TwinSyncError('FILES_PACKAGES_UNREADABLE', `Could not read the package database (/var/lib/dpkg): ${reason}; no file's origin can be told, so the files were not collected`, {
    nextStep: 'Check /var/lib/dpkg/status and /var/lib/dpkg/info on the machine (`dpkg --audit`), then snapshot again.',
    details: { provider: 'files' },
  })
}

function unreadOf(path: string, error: unknown): Unread {
  const reason = isTwinSyncError(error) ? `${error.code}: ${error.message}` : error instanceof Error ? error.message : String(error)
  const errno = (error as NodeJS.ErrnoException | undefined)?.code
  const code = isTwinSyncError(error) ? error.code : typeof errno === 'string' ? errno : reason
  return { path, code, reason }
}

/**
 * Each path the collect could not read (Unread), and everything below it, is unknown, not gone:
 * without this, a folder failing with EACCES dropped its subtree and the snapshot committed
 * every file below it as removed (then a plan would recreate or delete them). With the last
 * snapshot (`previous`: snapshot, plan, status, adopt), its manifest entries there and their
 * mirrored texts are added to `entries` (and its leftovers there to `leftovers`) as they were,
 * and the twin's files below it stay unchanged; without it (a collect that only lists) nothing
 * is added. Either way diff.ts plans nothing under it (FilesState.unread). One FILES_UNREADABLE_KEPT warning a path, which
 * `status` counts as a part not compared (isKeptUnread). A last snapshot whose manifest cannot
 * be read fails the collect whole (the core keeps the files part as it was).
 */
async function keepUnread(ctx: ProviderContext, scope: FilesScope, previous: TwinReader | undefined, unread: readonly Unread[], entries: FileEntry[], leftovers: string[]): Promise<Diagnostic[]> {
  const manifest = previous === undefined ? undefined : await readManifest(previous, twinsyncLines(ctx))
  if (manifest !== undefined && 'problem' in manifest) {
    throw new TwinSyncError('FILES_UNREADABLE_NOT_KEPT', `Could not read ${unread[0]?.path ?? 'a path'} (${unread[0]?.code ?? ''}), and the last snapshot's files manifest, which would keep it, is not valid: ${manifest.problem.summary}; the files were not collected`, {
      nextStep: 'Make the path readable (its permissions, the file system), or fix the twin\'s system/files/manifest.json, then snapshot again.',
      details: { provider: 'files' },
    })
  }
  const live = new Set(entries.map((e) => e.path))
  const liveLeftovers = new Set(leftovers)
  const diagnostics: Diagnostic[] = []
  const notRoot = ownHomesOnly()
  const rootOnly: string[] = []
  const homes = new Set<string>()
  let keptForRoot = 0
  for (const u of unread) {
    let kept = 0
    if (u.listing === true) {
      // Whether the folder has any names is unknown too: as the last snapshot recorded it.
      const own = entries.find((e) => e.path === u.path)
      if (own !== undefined && manifest?.entries.find((e) => e.path === u.path)?.empty === true) own.empty = true
    }
    for (const entry of manifest?.entries ?? []) {
      if (!isWithin(entry.path, u.path) || (u.listing === true && entry.path === u.path) || live.has(entry.path)) continue
      if (!isIncluded(entry.path, scope.roots) || classOf(ctx, scope, entry.path) === SKIP || isUnitMaskLink(entry)) continue
      entries.push(await keptEntry(previous as TwinReader, entry))
      live.add(entry.path)
      kept++
    }
    for (const path of manifest?.leftovers ?? []) {
      if (!isWithin(path, u.path) || liveLeftovers.has(path)) continue
      leftovers.push(path)
      liveLeftovers.add(path)
      kept++
    }
    if (notRoot !== undefined && (u.code === 'EACCES' || u.code === 'EPERM' || u.code === 'NOT_ROOT')) {
      if (u.code === 'NOT_ROOT') homes.add(scope.othersHomes.find((home) => isWithin(u.path, home)) ?? u.path)
      else rootOnly.push(u.path)
      keptForRoot += kept
      continue
    }
    const what =
      previous === undefined
        ? 'not compared; the twin keeps its last snapshot of it'
        : kept > 0 || u.listing === true
          ? 'the twin keeps its last snapshot of it'
          : 'the last snapshot has nothing of it, so the twin has none until it can be read'
    diagnostics.push(
      warningDiagnostic('FILES_UNREADABLE_KEPT', `Could not read ${u.path} (${u.code}); ${what}`, {
        detail: `${u.reason}.${previous === undefined ? '' : ` ${kept} ${kept === 1 ? 'entry' : 'entries'} kept as the last snapshot recorded ${kept === 1 ? 'it' : 'them'}.`} Nothing under it is planned until it can be read. Next step: check its permissions and the file system (\`ls -ld\`, \`dmesg\`), then snapshot again; a path never meant to be read (a FUSE mount root may not enter) goes in files.ignore.`,
        path: u.path,
        provider: 'files',
      }),
    )
  }
  // A run as another user than root meets every root-only file of /etc (/etc/shadow, sudoers,
  // ssl/private, host keys: 16 on the services root): expected, so said once with the way out,
  // not once a path (session 19). Each stays unknown and kept as above, and is not compared.
  if (rootOnly.length > 0 || homes.size > 0) {
    const list = (paths: readonly string[]) => paths.slice(0, 4).join(', ') + (paths.length > 4 ? ` and ${paths.length - 4} more` : '')
    const parts = [
      ...(homes.size === 0 ? [] : [`${homes.size === 1 ? 'another user\'s home' : `${homes.size} other users' homes`} (${list([...homes].sort(compareStrings))})`]),
      ...(rootOnly.length === 0 ? [] : [`${rootOnly.length} ${rootOnly.length === 1 ? 'path' : 'paths'} only root may read (${list(rootOnly)})`]),
    ]
    diagnostics.push(
      warningDiagnostic('FILES_UNREADABLE_KEPT', `Did not read ${parts.join(' and ')}; the twin keeps its last snapshot of them`, {
        detail: `TwinSync runs as uid ${notRoot}, not as root. ${previous === undefined ? '' : `${keptForRoot} ${keptForRoot === 1 ? 'entry' : 'entries'} kept as the last snapshot recorded ${keptForRoot === 1 ? 'it' : 'them'}. `}Nothing there is planned until it can be read. Next step: run TwinSync as root (\`${twinsyncLines(ctx, { sudo: true })(['snapshot'])}\`) to record and compare them, or put them in files.ignore.`,
        path: [...homes][0] ?? (rootOnly[0] as string),
        provider: 'files',
      }),
    )
  }
  return diagnostics
}

/** A last snapshot's entry as a collected one: a mirrored file with its text from the last snapshot's document. */
async function keptEntry(previous: TwinReader, entry: ManifestEntry): Promise<FileEntry> {
  if (entry.type !== 'file' || entry.content !== 'mirrored' || entry.secret === true) return { ...entry }
  const text = await previous.readText(mirrorPath(entry.path))
  return text === undefined ? { ...entry } : { ...entry, text }
}

async function inParallel<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T
      await work(item)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
}
