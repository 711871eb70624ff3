import type { TSchema } from 'typebox'
import type { Category, Change, ChangeResult } from './change.js'
import type { ProviderContext } from './context.js'
import type { Diagnostic } from './diagnostic.js'
import type { TwinDocument, TwinReader } from './twin-document.js'
import type { KeptParts } from './kept-parts.js'

export interface DetectRequest {
  ctx: ProviderContext
}
export interface DetectResult {
  detected: boolean
  /** Why not, or what was found ("dpkg 1.21.22"). */
  reason?: string
  diagnostics: Diagnostic[]
}

export interface CollectRequest {
  ctx: ProviderContext
  /**
   * The twin as the last snapshot recorded it (the observed commit); given to the collects of
   * snapshot, plan, status and adopt (not to one that only lists, `startup`). For a provider
   * that could not read part of the machine (a folder or file failing with EACCES, EIO, ELOOP…):
   * that part is unknown, not gone, so its documents keep the last snapshot's record of it, and
   * a diagnostic whose code ends in `_UNREADABLE_KEPT` (isKeptUnread) says so. Read it only
   * then: an unchanged machine's snapshot never opens it. A plan then compares the twin with that
   * record there and plans nothing at such a path (the files provider's diff).
   */
  previous?: TwinReader
  /**
   * The `token` this provider returned (CollectResult.token) with the documents the twin's HEAD
   * holds exactly: given by a snapshot only while HEAD is the observed commit those documents
   * were committed in (or found unchanged at), so a twin reset, reverted, pulled or committed
   * to by hand since, or another twin, gives none. See CollectResult.kept. The snapshot never
   * reads the `state` of a collect it gave `since` to: a provider whose documents are all kept
   * may leave out of that state what only making them needed (the files provider's entries then
   * throw when read: plugins/files/src/kept-collect.ts). A `plan` or `status` gives it too, with
   * `wholeOnly`, when its comparison of this provider found nothing under that token against the
   * very commit it reads now (core/src/plan/kept-compare.ts): it then reads no state of a collect
   * whose token is still `since`, and collects again without `since` one that claims `kept`
   * under another token.
   */
  since?: string
  /**
   * With `since`: only documents kept whole are of use (a plan's); a provider that keeps a part
   * of them (the files provider's split manifest) makes them all, with the whole state, instead.
   */
  wholeOnly?: boolean
}
export interface CollectResult<State = unknown> {
  /** The live state as plain data; validates against `stateSchema` when the provider has one. */
  state: State
  /** The twin files that represent `state`; written by the snapshot, byte-identical for equal state. */
  documents: TwinDocument[]
  diagnostics: Diagnostic[]
  /**
   * Optional, an optimisation (with `kept`): a name for everything these documents were made
   * from, such that an equal token means byte-identical documents (a digest of the inputs'
   * stat data, the configuration and the provider's own format version; never only a cache's
   * say-so). The snapshot records it beside the commit that then holds exactly these documents
   * (all written as given: none refused, none changed by the secret screen) and hands it back as
   * `CollectRequest.since` while that commit is HEAD and the observed one. An equal token is an
   * equal state too, as far as `load`, `diff` and `observe` see it: a plan whose comparison of
   * this provider found nothing under a token does not compare it again under the same one
   * (CollectRequest.since).
   */
  token?: string
  /**
   * Optional, only when `since` was given and the provider knows its documents there are the
   * ones it made with that token (its `token` now equals `since` for them): twin paths of its own
   * documents (a document, or a folder ending in "/") that are as the observed commit holds them.
   * `documents` then leaves them out; the snapshot keeps HEAD's files there as they are (no
   * document built, screened, hashed or compared: cost follows what changed, not what exists).
   * Kept are only paths this provider owns (its twinPaths; a mirrored file under filesystem/
   * whose machine path it claims) that HEAD holds; another provider's path is never kept on its
   * word. A claim the snapshot cannot keep (the twin moved since, was edited, a kept document
   * HEAD does not hold or another provider owns) makes it collect the provider again without
   * `since`. A provider that leaves it out is unaffected.
   */
  kept?: readonly string[]
  /**
   * Optional, with `since` as for `kept` (session 44): documents kept by part rather than by
   * name, for a provider that keeps thousands (the files provider's mirrored files). Under
   * `folder` (ending in "/"), every file of this provider in a part named (partOfTwinPath of
   * kept-parts.ts: the part function is part of the contract) is kept as HEAD holds it, and
   * `files` says how many of its own files the provider believes HEAD holds in that part. The
   * snapshot counts HEAD's files of this provider in each part named, in one pass over HEAD's
   * paths under the folder, and refuses the claim (collects the provider again without `since`)
   * when a count differs or the claim is malformed (a part named twice, a part or count that is
   * no whole number in range): a kept file HEAD lacks shows as a count short, a file HEAD holds
   * that the provider does not know of as one over. Another provider's file in a kept part is
   * never kept on this provider's word. `documents` leaves the kept parts' files out; `kept` may
   * name other documents beside (the manifest's parts). A core from before session 44 does
   * not know it and keeps only `kept`'s names: a plugin meant for such cores names its files there.
   */
  keptParts?: KeptParts
}

export interface LoadRequest {
  ctx: ProviderContext
  twin: TwinReader
}
export interface LoadResult<State = unknown> {
  /** The desired state read back from the twin; undefined when the twin has none for this domain. */
  state: State | undefined
  diagnostics: Diagnostic[]
}

export interface DiffRequest<State = unknown> {
  desired: State
  actual: State
  ctx: ProviderContext
  /**
   * False when the caller shows no text diffs (a snapshot's diary line, history's counts): a
   * provider may leave each change's `diff` out. Absent or true: wanted, as a plan shows them.
   */
  patches?: boolean
}
export interface DiffResult {
  changes: Change[]
  diagnostics: Diagnostic[]
}

/** One step into a twin document's JSON: an object's key, or the element of a list whose `field` is `value` ({ field: "path", value: "/etc/motd" }). */
export type PlaceStep = string | { readonly field: string; readonly value: string }

/** A place of a twin document where the twin asks for a value that the provider's plan does not apply (ApplicableProvider.unapplied). */
export interface UnappliedPlace {
  /** The twin document, one of the provider's own ("system/packages/apt.json"). */
  readonly path: string
  /** The place inside it: ["packages", "vim", "version"]; [] for the whole document. */
  readonly at: readonly PlaceStep[]
  /** Why this value is not applied and what to do instead, for a person: the next step. */
  readonly nextStep: string
}

export interface UnappliedRequest<State = unknown> {
  /** The domain as the twin asks for it (a person's edit, a pull). */
  desired: State
  /** The domain as the last snapshot recorded it. */
  actual: State
  /** What `diff({ desired, actual })` planned between them. */
  changes: readonly Change[]
  ctx: ProviderContext
}

export interface ApplyRequest {
  changes: Change[]
  ctx: ProviderContext
  /** Called as each change finishes, so results are shown as they happen. */
  onResult?: (result: ChangeResult) => void
  /**
   * For a change of this call that declares `needs`: the machine paths under its needs that this
   * apply has just changed (a step of the plan wrote them, and it succeeded). A provider that
   * caches what those paths say refreshes it before it acts (apt reads a new sources file into
   * its package lists). When a path cannot be used, the change fails with a `NEED_UNUSABLE`
   * diagnostic naming the path, and the host puts that path's change back.
   */
  changedNeeds?: Readonly<Record<string, readonly string[]>>
  /**
   * The changes run again to bring a service back to the configuration it had before an
   * interrupted apply (its files were just put back): what it did before the interrupted step is
   * unknown, so a reload is only verified to leave the service running, not to keep what the
   * (abandoned) configuration did (its listening addresses).
   */
  restoring?: boolean
  /**
   * Called before a reload or restart runs whose verdict is judged against the state before it
   * (systemd: was the unit active, where did it listen), with what was measured, as JSON. Awaited:
   * the host writes it down with the files the reload makes live (its reload window), so that a
   * run killed before the verdict is judged on the rerun against the state before the kill, not
   * against whatever the killed reload left. Optional; a provider that never calls it is judged
   * afresh on the rerun.
   */
  onVerdictBasis?: (id: string, basis: unknown) => Promise<void>
  /**
   * The reloads (or restarts) of an interrupted apply run again with its files live (their check
   * passed again): for each change id, the basis its provider gave (`onVerdictBasis`) before the
   * killed run, when it gave one. Present (maybe empty) only on such a run: the provider judges the
   * reload against the basis instead of the state now, and may first have its service manager
   * read files the killed run wrote (systemd: a daemon-reload when the unit needs one).
   */
  verdictBases?: Readonly<Record<string, unknown>>
}
export interface ApplyResult {
  results: ChangeResult[]
  diagnostics: Diagnostic[]
}

/** A part of a twin document that describes the machine and that no apply changes (Provider.describes). */
export interface DescribedPart {
  /**
   * The twin document ("system/startup/cron.json"), or a folder of documents ending in "/"
   * ("system/files/manifest/"): then `D.json` and the `D/NAME.json` beside it are one family of
   * documents whose named elements may be in one or another (the files manifest whole or in
   * parts), and a place inside an element is compared by the element wherever it is.
   */
  readonly path: string
  /**
   * Keys into the JSON document, "*" for every key of an object (or every named element of a
   * list: by its path, name, id, unit or key): ["units", "*", "preset"]. Absent: the whole
   * document. A place the person's document leaves out asks for nothing there.
   */
  readonly keys?: readonly string[]
  /** Where the real thing lives and what to edit instead, for a person: the next step. */
  readonly appliedFrom: string
}

/**
 * A resource provider: one domain of the machine. Every provider can detect and collect;
 * domains that can be changed also implement `load`, `diff` and `apply` (see `isApplicable`).
 */
export interface Provider<State = unknown> {
  /** Unique, lower case: "files", "apt", "systemd". Also its key in the configuration file. */
  readonly name: string
  readonly version: string
  readonly category: Category
  readonly description: string
  /**
   * Twin paths this provider writes outside filesystem/ (a file, or a folder ending in "/").
   * Mirrored machine files belong to whoever claims the machine path. Each lies under system/,
   * is a path a document may have, and reaches neither TwinSync's own system/journal/ and
   * system/twinsync/ nor another provider's twinPaths or inputPaths: a provider that fails this
   * is not loaded (core/src/snapshot/document-paths.ts, claimedPathsProblem; inputPaths alike).
   */
  readonly twinPaths: readonly string[]
  /**
   * Twin paths a person writes and this provider reads, but a snapshot never writes or removes
   * (apt's version pins). They count as this provider's for "which plugin reads this file".
   */
  readonly inputPaths?: readonly string[]
  /**
   * Parts of this provider's twin documents that only describe the machine: collected, never
   * applied (cron.json describes every cron job; the jobs themselves are the crontab files).
   * A person's edit of one is never dropped: it stays in the twin, pending with
   * DESCRIPTION_EDIT_NOT_APPLIED and `appliedFrom` as its next step, until it is discarded or
   * the machine comes to match it. Every document of a provider that applies nothing (facts)
   * is a description without being declared.
   */
  readonly describes?: readonly DescribedPart[]
  /** Machine path patterns this provider owns (see PathClaims). */
  readonly claims?: readonly string[]
  /** Schema of `CollectResult.state`. */
  readonly stateSchema?: TSchema
  /** Schema of the provider's section of the configuration file. */
  readonly configSchema?: TSchema
  /**
   * Optional: the provider's own codes (those its diagnostics and results carry beyond the SDK's,
   * ERROR_CODES), each with what it means and the next step: { DNF_VERSION_DIFFERS: "A note: …" }.
   * Each starts with the provider's name in capitals (codePrefix: "DNF_") and is none of
   * TwinSync's own. `twinsync providers --json` and `twinsync describe` list them with the
   * provider and its plugin, so a person who meets one can look it up. Judged when the provider
   * loads (providerCodes): a code that breaks the rule is not listed, and a warning names the
   * provider as at fault; the provider runs as usual. At run time a diagnostic whose code is
   * neither TwinSync's nor in the judged table (none declared: not of the provider's prefix) gets
   * a warning naming the provider and the code, once per run.
   */
  readonly codes?: Readonly<Record<string, string>>

  detect(request: DetectRequest): Promise<DetectResult>
  collect(request: CollectRequest): Promise<CollectResult<State>>
  /**
   * Optional: which of these twin files are secret by their path alone, by this provider's rules:
   * the files provider holds `/etc/shadow`, its secret path patterns, postfix's password maps and
   * the credential files OpenVPN's configs name out of the twin, since their content (`user` and
   * `password` on two lines, a bare token) shows nothing a content rule can find. A push asks
   * before anything leaves (a person may commit such a file into the twin by hand; a snapshot
   * never writes one), and so does the look at what the mirror already holds. The answer is read
   * from the twin being pushed (`twin`: the configs in it, never the live machine's) and the
   * configuration (`ctx.config`); it must not use `ctx.host`. Pure and cheap: asked for each
   * pushed commit with the files it adds or changes (`paths`), never for an unchanged one.
   * A failure refuses the push (nothing unchecked leaves). Only enabled providers are asked.
   */
  secretPaths?(request: SecretPathsRequest): Promise<SecretPath[]>
  /**
   * Optional: this provider's caps on its own twin documents, asked of a twin that is not yet
   * taken in. The twin is untrusted input and a document may be 64 MiB: one that lists more
   * elements than the provider takes (the files manifest's entries, apt's packages, systemd's
   * units) made every plan and status take minutes, or end in an internal error. `load` refuses
   * such a document; `pull` asks this of the mirror's twin before anything moves and refuses the
   * whole pull (TWIN_UNSAFE, exit 2) on any answer, so a mirror cannot bring one in. Answer with
   * the same count and limit as your `load` (one function both call): one error diagnostic for
   * each document over its limit (the code your load gives, `path` the document, `summary`
   * naming the count and the limit), none when all are within. A document wrong in any other way
   * is not this call's matter (the plan reports it). Read only `twin`: no `ctx.host`. Only
   * enabled providers are asked; a failure refuses the pull (nothing unchecked comes in).
   */
  overLimit?(request: OverLimitRequest): Promise<Diagnostic[]>
}

export interface OverLimitRequest {
  /** The twin to judge (a pull: the mirror's commit, read from git). */
  twin: TwinReader
  ctx: ProviderContext
}

export interface SecretPathsRequest {
  /**
   * Twin paths ("filesystem/etc/openvpn/creds.txt") of the regular files this commit adds or
   * changes. A provider may also name other files of `twin` that this commit makes secret (a
   * config it changes names them).
   */
  paths: readonly string[]
  /** The twin as that commit holds it (the configs that name credential files). */
  twin: TwinReader
  ctx: ProviderContext
}

/** A twin file secret by its path (Provider.secretPaths). */
export interface SecretPath {
  /** One of the request's paths, or a file of its twin this commit makes secret. */
  path: string
  /** Which rule, in words that never contain a value ("secret path /etc/ssl/private/**", "OpenVPN credential file"). */
  rule: string
}

/** A provider whose domain can be changed through a plan. */
export interface ApplicableProvider<State = unknown> extends Provider<State> {
  load(request: LoadRequest): Promise<LoadResult<State>>
  /** Pure: no I/O. The changes that turn `actual` into `desired`. */
  diff(request: DiffRequest<State>): DiffResult
  apply(request: ApplyRequest): Promise<ApplyResult>
  /**
   * Optional, pure: everything that happened between two states of the domain, as changes
   * (history, show, diff, a snapshot's diary line and the drift `status` counts). Only for a
   * provider whose `diff` leaves out what a plan never does (apt: automatically installed
   * packages, versions not pinned); without it, `diff({ desired: after, actual: before })` is
   * what happened.
   */
  observe?(request: ObserveRequest<State>): DiffResult
  /**
   * Optional, an optimisation: the two sides of a comparison (older, newer) narrowed to what
   * differs between them, for a provider that can tell from its documents' text that the rest
   * compares equal (the files provider's manifest: only the entries whose text differs). Its
   * `load` and `diff` (or `observe`) of the narrowed sides must give exactly the changes of the
   * whole ones. Undefined, or a failure: the whole sides are compared. Asked for a snapshot's
   * diary line.
   */
  narrow?(request: NarrowRequest): Promise<NarrowResult | undefined>
  /**
   * Optional: which of these changes (this provider's, from its diff or from a saved plan) would
   * act on something outside what the provider manages on this machine now (the files provider:
   * a path outside its include set, or one it ignores). One diagnostic for each such change,
   * naming it (`change`: its id), with the reason and a next step. The twin is untrusted: a
   * forged or hand-edited twin can ask for anything. The planner leaves such changes out and
   * shows the diagnostics; `apply` refuses a plan that holds one (`PLAN_OUTSIDE_SCOPE`, exit 2)
   * before anything runs. A failure here plans nothing for the provider.
   */
  outOfScope?(request: ScopeRequest): Promise<Diagnostic[]>
  /**
   * Optional, pure: the places of its own twin documents where `desired` asks for a value that
   * `diff` turned into no change (`changes`): an apt version without "pinVersion", a unit state
   * no systemctl verb makes ("static"), an entry whose removal means nothing to the machine.
   * Such an edit would otherwise settle silently: the plan is empty, so the next snapshot
   * writes the machine's value over it. TwinSync compares the two twins' documents at each
   * place (a place `desired` leaves out counts as asking for its removal) and keeps an edit
   * found there exactly as an edit of a declared description (`describes`): in the working
   * twin through snapshots, pending with DESCRIPTION_EDIT_NOT_APPLIED and `nextStep`, until
   * discarded or the machine comes to match it. A place in another provider's document is
   * ignored; a failure here is a diagnostic and keeps nothing. Declare a field that is never
   * applied in `describes` instead; this is for what depends on the value.
   */
  unapplied?(request: UnappliedRequest<State>): UnappliedPlace[]
}

export interface ScopeRequest {
  changes: readonly Change[]
  ctx: ProviderContext
}

export interface ObserveRequest<State = unknown> {
  before: State
  after: State
  ctx: ProviderContext
}

export interface NarrowRequest {
  older: TwinReader
  newer: TwinReader
  /** The provider's twin paths that differ between the two sides. */
  changed: readonly string[]
  ctx: ProviderContext
}

export interface NarrowResult {
  older: TwinReader
  newer: TwinReader
}

export { isApplicable } from './applicable.js'

/**
 * What a plugin package's `twinsync:providers` hook returns: its providers, and optionally
 * diagnostics about itself (a missing optional tool, a deprecated option).
 */
export interface ProvidersHookResult {
  providers: Provider[]
  diagnostics?: Diagnostic[]
}

/** Options oclif passes to the `twinsync:providers` hook. */
export interface ProvidersHookOptions {
  /** The host's SDK version, so a plugin can refuse an incompatible host. */
  sdkVersion: string
}
