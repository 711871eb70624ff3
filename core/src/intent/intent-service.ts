import { appendAll, appendTo } from '../append-to.js'
import { lastApplyFor, reasonFor, type LastApply } from './reason-asked.js'
import { existsSync, readFileSync } from 'node:fs'
import { lstat, mkdir, readlink, rm } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import type { ApplicableProvider, Change, Diagnostic, Logger, PathClaims, Provider, ProviderContext, TwinReader } from '@twinsync/sdk'

import { TwinSyncError, isApplicable, isTwinSyncError, writeFileAtomic } from '@twinsync/sdk/light'
import { inject, injectable } from '../di.js'
import { outsideScope } from '../plan/outside-scope.js'
import { SECRET_NAME_CODES } from '../plan/hidden-names.js'
import { missingProviders, recordedManifest, unloadedOwner } from '../providers/provider-manifest.js'
import { callProvider } from '../providers/provider-call.js'
import { ProviderContexts } from '../providers/provider-contexts.js'
import { ProviderRegistry } from '../providers/provider-registry.js'
import { ownerOfTwinPath } from '../snapshot/twin-ownership.js'
import { Tokens } from '../tokens.js'
import { readBlobs, type GitStatusEntry } from '../twin/git.js'
import { GitTreeReader, LazyBatch } from '../twin/git-tree-reader.js'
import { resetIndex } from '../twin/atomic-snapshot.js'
import { entryPresent, fileIsBlob } from '../twin/quick-status.js'
import { removeTwinFile, twinFileEquals, writeTwinFile, writeTwinSymlink } from '../twin/twin-files.js'
import { TwinRepository, type WorkingTwinCheck } from '../twin/twin-repository.js'
import { HELD_MARKER, moving } from '../twin/move-stamp.js'
import { INTENDED_REF, OBSERVED_REF, changedBetween, commitParts, commitTree, deleteRef, entriesOf, readRef, rememberCommit, setRef, treeOf, treeWith, workingTree } from './intent-git.js'
import { describePath, type UnitPath } from './json-units.js'
import { DESCRIPTION_EDIT_NOT_APPLIED, type DescriptionEdit, describedFamily, describedPartsOf, descriptionEdits, isDescribed, keepEdits, type OwnedPlace } from './description-edits.js'
import { familyOf, mergePath, withoutElements } from './merge-path.js'
import { recordingReader, unreadPlaces } from './unread-files.js'
import { adoptApplied, type AskedUnit, promotePath } from './asked-units.js'
import { promoteFamily } from './family-units.js'
import { RunTarget } from '../plan/run-target.js'

/** One thing the twin asks for that the last snapshot did not see, in its provider's words. */
export interface PendingItem {
  id: string
  provider: string
  category: string
  operation: string
  resource: string
  summary: string
  /** Why it is still pending ("failed: …", "left out of the apply", "pulled from the mirror"…). */
  reason: string
  /** An item its provider will never apply here (outside its scope): the diagnostic's code and next step. */
  code?: string
  /**
   * The machine already has what the item asks (done outside TwinSync since the last snapshot):
   * `status` found no change for it from the twin to the machine. Pending until the next snapshot records it.
   */
  onMachine?: true
  nextStep?: string
  /** What the last apply did with it (failed with its code, maybe half done, skipped, left out) and when, while the twin asks what that apply was asked. */
  lastApply?: LastApply
}

export interface PendingIntent {
  /** The last snapshot (refs/twinsync/observed); null before the first one. */
  observed: string | null
  /** The commit that records the intent (refs/twinsync/intended); null when nothing is pending. */
  intended: string | null
  items: PendingItem[]
  /** Twin paths where the intended twin differs from the observed one. */
  paths: string[]
  diagnostics: Diagnostic[]
  /** The git tree of what the twin asks for (the working twin, or the edits set aside), when it was read. */
  tree?: string
  /** The working twin was found to be exactly `observed` (HEAD, nothing edited) by this call: `status` plans from it without checking again. */
  exact?: true
  /**
   * The person's edits are not in the working twin: a snapshot set them aside and did not put
   * them back (killed, a full disk). Said with the next step; the items are those edits.
   */
  setAside?: string
}

/** Intent set aside while a snapshot or a pull moves the working twin; `restore` puts it back on top. */
export interface HeldIntent {
  base: string
  paths: string[]
  /** The working twin was HEAD with nothing edited (checked under the twin lock): the caller need not ask git again. */
  clean?: boolean
  /** refs/twinsync/observed as read under the twin lock (undefined: not read, or absent). */
  observedRef?: string
  /**
   * Merge the intent onto `onto` (the new observed commit, or a pulled one) and record what is
   * still pending against `observed` (default: `onto`); returns the twin paths still pending.
   * `movedClean`: the caller moved the clean working twin to `onto` itself (a snapshot's commit),
   * so it is `onto` with nothing edited without asking git again (see `settle`).
   */
  restore(onto: string, observed?: string, movedClean?: boolean): Promise<string[]>
  /**
   * The paths the providers hold that a person edited in the working twin since the hold (they
   * differ from the working twin as the hold left it: one more `git add --all` into a copied
   * index, on this path only); absent when the twin was clean (its snapshot writes only what the
   * machine changed). Asked by a snapshot before it moves the working twin: its documents would
   * be written over such an edit, which no restore knows of (session 29).
   */
  editedSince?(): Promise<string[]>
}

/** What `IntentService.look` found: the base ('' before the first commit), the observed ref as read, and whether the working twin is the base with nothing edited. */
export interface TwinLook {
  base: string
  observedRef?: string
  clean: boolean
}

/** One domain's share of the difference between two twin states. */
export interface ProviderItems {
  provider: ApplicableProvider
  paths: string[]
  changes: Change[]
  /** Its documents could not be read on one side: the whole domain counts as different. */
  failed: boolean
  /** The places of its documents whose asked-for values its plan leaves out (Provider.unapplied), and the edited files its load did not read (unreadPlaces). */
  unapplied: OwnedPlace[]
}

export const DEFAULT_REASON = 'asked for in the twin, not applied yet'

/** What `promote` made intent before an apply's steps ran: the places, and the changes they belong to. */
export interface Promotion {
  units: AskedUnit[]
  /**
   * What could not be made intent (INTENT_NOT_KEPT, one per asked change): a place of the
   * working twin that could not be read to compare (an I/O error, a document over the twin's
   * limit), a family that is no JSON. Said in the apply's result (CLI and TUI): a step of those
   * changes that fails is not pending afterwards.
   */
  notKept?: Diagnostic[]
}

/** A promotion's diagnostic: what an apply asks at a place that could not be made pending (Promotion.notKept). */
export const INTENT_NOT_KEPT = 'INTENT_NOT_KEPT'

/** INTENT_NOT_KEPT for each of these asked changes, because of `why`. */
export function notKeptDiagnostics(ids: readonly string[], path: string, why: string): Diagnostic[] {
  return ids.map((id) => ({
    severity: 'warning' as const,
    code: INTENT_NOT_KEPT,
    summary: `${id}: not kept pending in the twin (${path}: ${why}); if it does not happen, the twin will not ask for it again`,
    detail: `After the apply, the next plan will not list it if it failed; make the change again in the twin (${path}) to ask for it.`,
    change: id,
    path,
  }))
}

type Scope = 'providers' | 'all'

export interface ProviderView {
  providers: Provider[]
  claims: PathClaims
  /** Installed providers disabled in the configuration: an edit of their documents is kept pending whole (PROVIDER_DISABLED_EDIT_NOT_APPLIED). */
  disabled: Provider[]
}

/**
 * The two states of the twin. *Observed* is the last snapshot (refs/twinsync/observed).
 * *Intended* is the working twin: what a person edited or a pull brought, on top of the observed
 * state; it is also committed to refs/twinsync/intended whenever a command is about to move
 * the working twin, so no edit lives only in files. Snapshots and pulls call `hold` before
 * they write and `restore` after: the intent is merged onto the new state, never dropped.
 */
@injectable()
export class IntentService {
  constructor(
    @inject(TwinRepository) private readonly twin: TwinRepository,
    @inject(ProviderRegistry) private readonly registry: ProviderRegistry,
    @inject(ProviderContexts) private readonly contexts: ProviderContexts,
    @inject(Tokens.Logger) private readonly logger: Logger,
    @inject(RunTarget) private readonly target: RunTarget,
  ) {}

  /** The last snapshot's commit: the observed ref, or HEAD for a twin that predates it. */
  async observed(): Promise<string | undefined> {
    return (await readRef(this.twin.dir, OBSERVED_REF)) ?? (await this.twin.head())
  }

  async markObserved(commit: string): Promise<void> {
    await setRef(this.twin.dir, OBSERVED_REF, commit, 'snapshot')
  }

  /**
   * What `hold` looks at before it sets anything aside: an intent a killed run left set aside put
   * back, the base (`base`, default the observed state), and whether the working twin is that
   * commit, HEAD, with nothing edited, staged or added (`dirtyPaths`). Writes nothing else, so a
   * caller may collect the machine meanwhile and hand the look to `hold` (`options.looked`, the
   * same `base`): see snapshot-service.ts.
   */
  async look(base?: string, options: { underLock?: boolean } = {}): Promise<TwinLook> {
    const dir = this.twin.dir
    await this.recover()
    const observedRef = base === undefined ? await readRef(dir, OBSERVED_REF) : undefined
    const head = await this.twin.head()
    const baseCommit = base ?? observedRef ?? head
    if (baseCommit === undefined) return { base: '', clean: false }
    const clean = baseCommit === head && (await this.twin.dirtyPaths(options)).length === 0
    return { base: baseCommit, clean, ...(observedRef === undefined ? {} : { observedRef }) }
  }

  /**
   * Set the intent aside: commit the working twin to refs/twinsync/intended, then put the
   * paths it changed back to `base` (default: the observed state). 'providers' holds only what
   * an applying provider owns (a snapshot commits plans/ and scripts/ as they are); 'all'
   * holds every edited path (a pull needs a clean tree).
   */
  async hold(scope: Scope, base?: string, reasons: Record<string, string> = {}, otherwise?: string, options: { underLock?: boolean; looked?: TwinLook; by?: HeldBy } = {}): Promise<HeldIntent> {
    const dir = this.twin.dir
    const { base: baseCommit, observedRef, clean } = options.looked ?? (await this.look(base, options))
    if (baseCommit === '') return { base: '', paths: [], restore: async () => [] }
    // The common case of a scheduled snapshot: nothing edited, nothing pulled, nothing pending.
    if (clean) {
      return {
        base: baseCommit,
        paths: [],
        clean: true,
        ...(observedRef === undefined ? {} : { observedRef }),
        // Nothing to settle only when nothing moved; a pull moves the twin (onto) and not the observed state.
        restore: async (onto, observed = onto, movedClean = false) =>
          onto === baseCommit && observed === baseCommit && (await readRef(dir, INTENDED_REF)) === undefined ? [] : this.settle(observed, await this.view(), otherwise, movedClean && onto === observed),
      }
    }
    const [tree, baseTree] = await Promise.all([workingTree(dir), treeOf(dir, baseCommit)])
    const view = await this.view()
    const paths = (await changedBetween(dir, baseTree, tree)).filter((e) => scope === 'all' || this.holds(e.path, view, e.change)).map((e) => e.path)
    // What a person saved after the hold: the working twin against the tree the hold left (not
    // against the base: a path the hold could not set aside, such as a name that is not UTF-8,
    // would be found again by every snapshot; session 29's first fix refused them all).
    const editedSince = (held: string) => async () => (await changedBetween(dir, held, await workingTree(dir))).filter((e) => scope === 'all' || this.holds(e.path, view, e.change)).map((e) => e.path)
    if (paths.length === 0) return { base: baseCommit, paths, editedSince: editedSince(tree), restore: async (onto, observed = onto) => this.settle(observed, view, otherwise) }
    // The same intent as the one recorded (and checked with the providers) last time?
    const previous = await readRef(dir, INTENDED_REF)
    const settled = previous !== undefined && (await commitParts(dir, previous)).tree === tree
    const intended = await this.commitIntent(tree, baseCommit, reasons)
    // The move stamp replaced before the marker and after the edits are aside (move-stamp.ts); until
    // `restore` runs, the marker says a move left something (a plan reading meanwhile reads again).
    const held = await moving(dir, async () => {
      // Until `restore` runs, the intent is only in the ref: say so, for a run that dies meanwhile.
      await mkdir(dirname(this.heldMarker()), { recursive: true })
      await writeFileAtomic(this.heldMarker(), JSON.stringify({ base: baseCommit, intended, paths, by: options.by ?? 'snapshot' } satisfies HeldMarker))
      try {
        await this.writePaths(baseTree, paths)
        // Staged edits would stop a fast-forward; the snapshot stages everything again anyway.
        await resetIndex(dir) // `git reset`, never leaving git's index lock behind if killed
        return await workingTree(dir)
      } catch (error) {
        // A full disk half way through setting the edits aside (session 17: `git reset` could not
        // write the index): put them back now, or say where they are; never "as it was" when not.
        await this.recover().catch(() => undefined)
        throw setAside(error, this.heldMarker(), this.line)
      }
    })
    return {
      base: baseCommit,
      paths,
      editedSince: editedSince(held),
      // One move from the first merge to the marker's removal and the settling after (move-stamp.ts).
      restore: (onto, observed = onto) => moving(dir, async () => {
        const [intendedTree, ontoTree] = await Promise.all([treeOf(dir, intended), treeOf(dir, onto)])
        const ontoEntries = await entriesOf(dir, ontoTree, paths)
        // A held file a person saved again while the run went on is not `onto`'s any more: their
        // latest save stays, and is the intent (session 30: the older edit was merged over it).
        const late = this.savedSince(ontoEntries, paths)
        for (const path of late) this.logger.warn(`${path}: saved again while the twin was set aside; your latest save is kept`)
        // A pull moves the twin (onto) and not the observed state: then the other side of a conflict is the mirror.
        const wants = await this.mergeOnto(baseTree, intendedTree, ontoTree, paths.filter((p) => !late.includes(p)), onto === observed ? 'machine' : 'mirror', ontoEntries)
        await rm(this.heldMarker(), { force: true })
        // The intent was checked with the providers before and the machine left every held path
        // as it was (a scheduled snapshot): only its base moved; no need to ask them again. The
        // merge wrote each held path as the intent has it: recorded is the new snapshot's tree
        // with them (what the working twin now is, and what the next hold finds: the same
        // intent, so that hold moves nothing: commitIntent). Before session 41 this recorded the
        // set-aside tree itself, the snapshot before's files with the edits: on the new parent it
        // read as undoing what the machine changed, and the next hold, finding another tree,
        // moved the ref again: two reflog lines and two intent commits every committing snapshot.
        if (late.length === 0 && settled && otherwise === undefined && onto === observed && (await this.samePaths(baseTree, ontoTree, paths))) {
          if (observed !== baseCommit) {
            const now = await treeWith(dir, ontoTree, paths.map((path) => {
              const entry = wants.get(path)
              return entry === undefined ? { path, mode: '', content: undefined } : { path, mode: entry.mode, content: undefined, blob: entry.blob }
            }))
            await this.commitIntent(now, observed, {})
          }
          return paths
        }
        return this.settle(observed, view, otherwise)
      }),
    }
  }

  /** Record the working twin's intent now (with reasons for some items), without moving anything. */
  async record(reasons: Record<string, string>, working?: string): Promise<string | undefined> {
    const observed = await this.observed()
    if (observed === undefined) return
    // `working`: the working twin's tree, as the caller just made it (promote).
    const tree = working ?? (await workingTree(this.twin.dir))
    const view = await this.view()
    const paths = (await changedBetween(this.twin.dir, await treeOf(this.twin.dir, observed), tree)).filter((e) => this.holds(e.path, view, e.change))
    if (paths.length > 0) return this.commitIntent(tree, observed, reasons)
    await deleteRef(this.twin.dir, INTENDED_REF)
    return undefined
  }

  /**
   * Make what an apply is asked to do intent before any of its steps runs (ApplyService, after the
   * checkpoint): the values of the desired tree (`desired`, the tree the plan was made from) at
   * the places of the twin that belong to the asked changes (the plan's and those a person left
   * out), where they differ from the checkpoint (the observed state now), taken into the working
   * twin and recorded with `reason`. A repair of drift lives only in the plan otherwise: the
   * checkpoint adopts the machine's state, and a step that fails would be lost with the plan
   * (session 22). The snapshot after the apply settles what was done (the machine has it now);
   * what failed, was skipped, left out or interrupted stays pending.
   * Not promoted: places a provider never applies (Provider.unapplied: an apt entry's version),
   * drift the plan does not ask for (other domains with --only), a person's edit of the same place.
   */
  async promote(desired: string, asked: readonly Change[], reason: string): Promise<Promotion> {
    const dir = this.twin.dir
    const observed = await this.observed()
    if (observed === undefined || asked.length === 0) return { units: [] }
    const view = await this.view()
    const byProvider = new Map<string, Change[]>()
    for (const c of asked) appendTo(byProvider, c.provider, c)
    const observedTree = await treeOf(dir, observed)
    const owner = (p: string) => this.applyingOwner(p, view)?.name
    const paths = (await changedBetween(dir, observedTree, desired)).map((e) => e.path).filter((p) => byProvider.has(owner(p) ?? ''))
    if (paths.length === 0) return { units: [] }
    // It writes the working twin: one move (move-stamp.ts), as the checkpoint before it is.
    return moving(dir, () => this.promotePaths(desired, asked, reason, { observed, view, byProvider, observedTree, owner, paths }))
  }

  /** promote's writes, inside its move. */
  private async promotePaths(
    desired: string,
    asked: readonly Change[],
    reason: string,
    { observed, view, byProvider, observedTree, owner, paths }: { observed: string; view: ProviderView; byProvider: Map<string, Change[]>; observedTree: string; owner: (p: string) => string | undefined; paths: string[] },
  ): Promise<Promotion> {
    const dir = this.twin.dir
    // The places the providers never apply between the two: not made intent (they would stay pending for ever).
    // One comparison per tree: the desired tree is usually the working twin's (the plan was made
    // from it, and promotion finds the person's edits there already), and the working twin's tree
    // is made again only after promotion wrote to it. Session 22 compared three times: 0.5–0.7 s
    // of an apply on the base root.
    const compared = new Map<string, ReturnType<IntentService['itemsBetween']>>()
    const between = (tree: string) => {
      let found = compared.get(tree)
      if (found === undefined) compared.set(tree, (found = this.itemsBetween(observed, tree, view, (p) => byProvider.has(p.name))))
      return found
    }
    const never = placesOf((await between(desired)).byProvider)
    let working: string | undefined = await workingTree(dir)
    const workingNow = async () => (working ??= await workingTree(dir))
    // A family's documents (the files manifest whole or in parts) are read whole, in the three
    // trees, and promoted element by element wherever each tree holds the element (family-units.ts).
    const families = new Map<string, { head: string; folder: string }>()
    for (const p of paths) {
      const family = describedFamily(p, view)
      if (family !== undefined) families.set(family.head, family)
    }
    const inFamily = (p: string) => describedFamily(p, view)
    const sides = await this.sidesOf([observedTree, desired, working], [...paths.filter((p) => inFamily(p) === undefined), ...families.keys()], [...families.values()].map((f) => f.folder))
    const units: AskedUnit[] = []
    const notKept: Diagnostic[] = []
    for (const [head, family] of families) {
      const docs = sides.filter((s) => inFamily(s.path)?.head === head)
      const name = owner(head) ?? ''
      const done = promoteFamily(docs, byProvider.get(name) ?? [], never.filter((p) => inFamily(p.path)?.head === head), (p) => describedPartsOf(p, view)?.parts ?? [])
      if ('unreadable' in done) {
        // Said in the apply's result (session 32: a debug line only, the failed step lost unsaid).
        appendAll(notKept, notKeptDiagnostics((byProvider.get(name) ?? []).map((c) => c.id), family.folder, done.unreadable))
        continue
      }
      // A family is written whole or not at all: a document of it saved meanwhile keeps them all as they are.
      const { saved, unread } = await this.savedOf(docs.filter((d) => done.writes.some((w) => w.path === d.path)))
      if (saved.length > 0) this.logger.warn(`${saved.join(', ')}: saved while the apply made what it asks pending; your save is kept`)
      if (unread.length > 0) appendAll(notKept, notKeptDiagnostics([...new Set(done.units.flatMap((u) => u.changes))], unread[0]?.path ?? head, unread[0]?.why ?? ''))
      else if (saved.length === 0) for (const w of done.writes) await this.put(w.path, w.content, w.mode)
      // Written: the working twin's tree is made again when next asked (workingNow).
      if (done.writes.length > 0) working = undefined
      appendAll(units, done.units)
    }
    const single = sides.filter((s) => inFamily(s.path) === undefined)
    const take = async (coarse?: (path: string) => readonly string[] | undefined) => {
      for (const s of single) {
        const ids = coarse?.(s.path)
        if (coarse !== undefined && ids === undefined) continue
        const done = promotePath(s, byProvider.get(owner(s.path) ?? '') ?? [], never, describedPartsOf(s.path, view)?.parts ?? [], ids)
        const put = done.changed ? await this.putUnlessSaved(s.path, s.now, done.content, s.wantsMode ?? s.nowMode) : 'kept'
        if (put === 'written') {
          s.now = done.content
          working = undefined
        } else if (typeof put === 'object') appendAll(notKept, notKeptDiagnostics([...new Set(done.units.flatMap((u) => u.changes))], s.path, put.unread))
        appendAll(units, done.units)
      }
    }
    await take()
    // A change no place named (a plugin whose documents are not keyed by its resources): every
    // place of its provider's documents that no other change claims, rather than losing it.
    const named = new Set(units.flatMap((u) => u.changes))
    const orphans = asked.filter((c) => !named.has(c.id) && byProvider.has(c.provider))
    if (orphans.length > 0) {
      const claimed = new Set(units.map((u) => u.path))
      // Every asked domain's items (orphans' among them): the same comparison as below when nothing was taken.
      const { items } = await between(await workingNow())
      const missing = orphans.filter((c) => !items.some((i) => i.id === c.id))
      if (missing.length > 0) {
        await take((path) => {
          const ids = missing.filter((c) => c.provider === owner(path)).map((c) => c.id)
          return ids.length === 0 || claimed.has(path) ? undefined : ids
        })
      }
    }
    if (units.length === 0) return { units, notKept }
    // Named as items by their providers, with the reason; the rest of the intent keeps its own.
    const tree = await workingNow()
    const { items } = await between(tree)
    const ids = new Set(asked.map((c) => c.id))
    await this.record(Object.fromEntries(items.filter((i) => ids.has(i.id)).map((i) => [i.id, reason])), tree)
    return { units, notKept }
  }

  /**
   * Before the apply's snapshot: the promoted places of the changes that were made (`applied`)
   * get the checkpoint's value back where the working twin still holds the promoted one, so that
   * the snapshot takes the machine's value there as it does for any drift. Applied items then
   * leave nothing behind, except a place inside one that its provider never applies
   * (AskedUnit.holdsUnapplied: the version of an apt package installed new, which apt takes from
   * the archive): it stays, pending while the machine's value differs (session 40).
   * What did not happen stays promoted: the snapshot keeps it pending.
   */
  async unpromoteApplied(promotion: Promotion, applied: ReadonlySet<string>): Promise<void> {
    const done = promotion.units.filter((u) => u.changes.every((id) => applied.has(id)))
    if (done.length === 0) return
    const observed = await this.observed()
    if (observed === undefined) return
    // It writes the working twin: one move (move-stamp.ts).
    await moving(this.twin.dir, () => this.unpromote(done, observed))
  }

  private async unpromote(done: Promotion['units'], observed: string): Promise<void> {
    const dir = this.twin.dir
    const observedTree = await treeOf(dir, observed)
    const sides = await this.sidesOf([observedTree, observedTree, await workingTree(dir)], [...new Set(done.map((u) => u.path))])
    let taken = false
    for (const s of sides) {
      const back = adoptApplied(s.path, s.now, s.was, done.filter((u) => u.path === s.path))
      if (back === undefined) continue
      if ((await this.putUnlessSaved(s.path, s.now, back.content, s.nowMode ?? s.wantsMode)) === 'written') taken = true
    }
    if (taken) await this.record({})
  }

  /** The bytes of these paths in three trees (checkpoint, desired, working), and of every document directly in these folders (NAME.json) in any of them. */
  private async sidesOf(trees: [string, string, string], paths: readonly string[], folders: readonly string[] = []) {
    const dir = this.twin.dir
    const [was, wants, now] = await Promise.all(trees.map((t) => entriesOf(dir, t, [...paths, ...folders])))
    const all = [was, wants, now] as Array<Map<string, { mode: string; blob: string }>>
    const inFolder = (p: string) => folders.some((f) => p.startsWith(f) && p.endsWith('.json') && !p.slice(f.length).includes('/'))
    const listed = [...new Set([...paths, ...all.flatMap((m) => [...m.keys()].filter(inFolder))])]
    const wanted = new Set(listed)
    const blobs = await readBlobs(dir, [...new Set(all.flatMap((m) => [...m.entries()].filter(([p]) => wanted.has(p)).map(([, e]) => e.blob)))])
    const bytes = (m: Map<string, { mode: string; blob: string }>, p: string) => {
      const e = m.get(p)
      return e === undefined ? undefined : blobs.get(e.blob)
    }
    return listed.map((path) => ({
      path,
      was: bytes(all[0] as Map<string, { mode: string; blob: string }>, path),
      wants: bytes(all[1] as Map<string, { mode: string; blob: string }>, path),
      now: bytes(all[2] as Map<string, { mode: string; blob: string }>, path),
      wantsMode: all[1]?.get(path)?.mode,
      nowMode: all[2]?.get(path)?.mode,
    }))
  }

  /** Name the items a pull brought (those between the observed state and the pulled commit). */
  async notePulled(pulled: string, reason: string): Promise<void> {
    const observed = await this.observed()
    if (observed === undefined || (await readRef(this.twin.dir, INTENDED_REF)) === undefined) return
    const { items } = await this.itemsBetween(observed, await treeOf(this.twin.dir, pulled))
    if (items.length > 0) await this.record(Object.fromEntries(items.map((c) => [c.id, reason])))
  }

  /** What the twin asks for that the machine, as last observed, does not have: per item, with the reason. */
  async pending(): Promise<PendingIntent> {
    await this.twin.open()
    const observed = await this.observed()
    const intendedCommit = (await readRef(this.twin.dir, INTENDED_REF)) ?? null
    if (observed === undefined) return { observed: null, intended: null, items: [], paths: [], diagnostics: [] }
    // Edits set aside by a snapshot (running now, or one that stopped before it put them back:
    // killed, a full disk): what the twin asks for is the set-aside twin, not the working one
    // (session 17: `status` said "nothing pending" while they were only in refs/twinsync/intended).
    const aside = this.heldAside()
    // The working twin is the last snapshot with nothing edited: nothing is pending (no git process when .git proves it, quick-status.ts).
    if (aside === undefined && observed === (await this.twin.head()) && (await this.twin.dirtyPaths()).length === 0) return { observed, intended: intendedCommit, items: [], paths: [], diagnostics: [], exact: true }
    const { tree, from } = aside === undefined ? { tree: await workingTree(this.twin.dir), from: observed } : await this.heldView(aside, observed)
    const view = await this.view()
    const { items, paths, diagnostics, byProvider, unowned } = await this.itemsBetween(from, tree, view)
    // A document the intended twin added that no loaded provider reads (its plugin missing): asked
    // for, and nothing compares it. Said as `plan` says it (PROVIDER_MISSING), so `status` does too.
    if (unowned.length > 0) {
      const reader = new GitTreeReader(this.twin.dir, tree)
      try {
        appendAll(diagnostics, await missingProviders(reader, (await this.registry.load()).providers.map((p) => p.provider), view.claims, new Set(unowned), () => recordedManifest(this.twin.dir, from), this.line))
      } finally {
        reader.close()
      }
    }
    const reasons = intendedCommit === null ? {} : await this.reasonsOf(intendedCommit)
    // An item outside its provider's scope is never applied (outsideScope, as plan and apply judge it): said so, not "not applied yet".
    const outside = new Map<string, { reason: string; code: string; nextStep?: string; hidden?: Diagnostic }>()
    for (const entry of byProvider.values()) {
      const found = await outsideScope(entry.provider, entry.changes, this.contexts.for(entry.provider, view.claims), this.line, this.contexts.ownPaths(), this.contexts.forgottenPaths())
      if (!found.ok) diagnostics.push(found.diagnostic)
      else
        for (const [id, d] of found.byChange) {
          outside.set(id, { reason: `never applied: ${d.summary.replace(/^.*?: left out, /, '')}`, code: d.code, ...(d.detail === undefined ? {} : { nextStep: d.detail }), ...(SECRET_NAME_CODES.has(d.code) ? { hidden: d } : {}) })
        }
    }
    // Edits of what only describes the machine (cron.json, a fact): kept, and said so (description-edits.ts).
    const described = await descriptionEdits(this.twin.dir, from, tree, view, undefined, placesOf(byProvider), this.line)
    return {
      observed,
      intended: intendedCommit,
      items: [
        ...items.map((c) => {
          const never = outside.get(c.id)
          if (never === undefined) {
            const last = lastApplyFor(reasons[c.id], c)
            return { ...itemOf(c), reason: reasonFor(reasons[c.id], c) ?? DEFAULT_REASON, ...(last === undefined ? {} : { lastApply: last }) }
          }
          const { hidden, ...said } = never
          return { ...(hidden === undefined ? itemOf(c) : hiddenItem(c, hidden)), ...said }
        }),
        ...described.map(descriptionItem),
      ],
      paths: [...new Set([...paths, ...described.map((e) => e.path)])],
      diagnostics,
      tree,
      ...(aside === undefined ? {} : { setAside: setAsideSentence(aside.by, this.line(['snapshot'])) }),
    }
  }

  /**
   * What the twin asks for while a snapshot's set-aside edits are not back (the marker): the held
   * paths merged onto the last snapshot as the next snapshot's restore merges them (mergePath),
   * in a tree of their own (nothing in the working twin moves), compared from the last snapshot.
   * Session 30 compared the set-aside twin itself, made on the snapshot before (its base): every
   * change the machine made since showed as pending, the twin asking to undo it. When no tree can
   * be written (the twin's disk still full), the edits against their own base: the same items
   * unless the machine changed the very same place too.
   */
  private async heldView(aside: HeldMarker, observed: string): Promise<{ tree: string; from: string }> {
    const dir = this.twin.dir
    const intendedTree = await treeOf(dir, aside.intended)
    if (aside.base === observed) return { tree: intendedTree, from: observed }
    try {
      const [baseTree, ontoTree] = await Promise.all([treeOf(dir, aside.base), treeOf(dir, observed)])
      const base = await entriesOf(dir, baseTree, aside.paths)
      const intended = await entriesOf(dir, intendedTree, aside.paths)
      const onto = await entriesOf(dir, ontoTree, aside.paths)
      const blobs = await readBlobs(dir, [base, intended, onto].flatMap((m) => [...m.values()].map((e) => e.blob)))
      const bytes = (m: ReadonlyMap<string, { blob: string }>, p: string) => blobs.get(m.get(p)?.blob ?? '')
      const merged = []
      for (const path of aside.paths) {
        const { content } = await mergePath(path, bytes(base, path), bytes(intended, path), bytes(onto, path))
        merged.push({ path, content, mode: intended.get(path)?.mode ?? onto.get(path)?.mode ?? '100644' })
      }
      return { tree: await treeWith(dir, ontoTree, merged), from: observed }
    } catch (error) {
      this.logger.debug(`status: the set-aside edits could not be merged onto the last snapshot (${(error as Error).message.split('\n')[0]}); compared with their own base`)
      return { tree: intendedTree, from: aside.base }
    }
  }

  /** The reasons recorded for pending items, by change id. */
  async reasons(): Promise<Record<string, string>> {
    const commit = await readRef(this.twin.dir, INTENDED_REF)
    return commit === undefined ? {} : this.reasonsOf(commit)
  }

  // ── internals ──

  /** A `twinsync ARGS` line for this run's twin, root and configuration (RunTarget). */
  private readonly line = (args: readonly string[]): string => this.target.line(args, this.twin.dir)

  private heldMarker(): string {
    return join(this.twin.dir, HELD_MARKER)
  }

  /** A run's error, said truly when the edits it set aside are not back in the working twin (setAside). */
  explainSetAside(error: unknown): unknown {
    return setAside(error, this.heldMarker(), this.line)
  }

  /** The intent a snapshot set aside and has not put back yet (the marker hold() writes); none when there is no marker. */
  private readHeld(): HeldMarker | undefined {
    try {
      return JSON.parse(readFileSync(this.heldMarker(), 'utf8')) as HeldMarker
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw error
    }
  }

  /** readHeld for what only reads (`status`): a marker that cannot be read counts as none there. */
  private heldAside(): HeldMarker | undefined {
    try {
      return this.readHeld()
    } catch {
      return undefined
    }
  }

  /**
   * Under the twin lock, before a command reads or moves the working twin: the edits a killed
   * run set aside go back first (recover). Session 24: a pull killed after its fast-forward and
   * before `restore` left them only in the ref; the next pull found the twin up to date and
   * `plan`/`apply` left them out, while `status` (reading the ref) listed them pending.
   */
  async putBackHeld(): Promise<void> {
    if (existsSync(this.heldMarker())) await this.recover()
  }

  /**
   * putBackHeld for a reader without the lock (`plan`): one stat when nothing is held; the lock
   * only when something is. Edits a snapshot still running set aside are waited for
   * (TwinLock.holdForReading, bounded; `signal` ends the wait: ABORTED): that run puts them back.
   */
  async putBackHeldForReading(signal?: AbortSignal): Promise<void> {
    if (existsSync(this.heldMarker())) await this.twin.lock().holdForReading('recovery', () => this.recover(), signal)
  }

  /**
   * A run that set the intent aside and died before putting it back (killed, power lost):
   * merge the held intent onto whatever the working twin holds now, so nothing is dropped.
   */
  private async recover(): Promise<void> {
    const held = this.readHeld()
    if (held === undefined) return
    const dir = this.twin.dir
    this.logger.warn('an earlier run stopped with the pending intent set aside; putting it back from refs/twinsync/intended')
    await moving(dir, async () => {
      await this.mergeOnto(await treeOf(dir, held.base), await treeOf(dir, held.intended), await workingTree(dir), held.paths)
      await rm(this.heldMarker(), { force: true })
    })
  }

  async view(): Promise<ProviderView> {
    const { claims, providers } = await this.registry.load()
    return { providers: (await this.registry.select()).map((r) => r.provider), claims, disabled: providers.filter((r) => r.disabled).map((r) => r.provider) }
  }

  /**
   * The description edits of the working twin (description-edits.ts), as `plan` says them: a
   * left-out ask each (a warning with `change`), DESCRIPTION_EDIT_NOT_APPLIED with where the real
   * thing lives. None (and no git)
   * when the working twin is the last snapshot with nothing edited.
   */
  async descriptionDiagnostics(only?: readonly string[], checked?: WorkingTwinCheck): Promise<Diagnostic[]> {
    const observed = await this.observed()
    if (observed === undefined) return []
    // Speed (issue 22, session 18): `plan` hands in the look at the working twin it planned from,
    // so the twin's check (after a committing snapshot: a walk of the twin and the files the commit
    // wrote hashed) is not made twice: the services root's `plan` 476.8 → 473.1 M instructions,
    // system calls 3,846 → 3,472 (docs/architecture.md's Speed table).
    const head = checked === undefined ? await this.twin.head() : checked.head
    const dirty = checked === undefined ? await this.twin.dirtyPaths() : checked.dirty
    if (observed === head && dirty.length === 0) return []
    // Only when a described document is among the paths edited (the working twin against HEAD,
    // HEAD against the last snapshot): no tree of the working twin is made for a plan otherwise.
    const view = await this.view()
    const moved = head === undefined || head === observed ? [] : (await changedBetween(this.twin.dir, observed, head)).map((e) => e.path)
    const edited = [...dirty, ...moved]
    // Only an edit of such a provider's own documents (not a mirrored file under filesystem/): the files provider loads its whole manifest.
    // Also a file its load may not read (unreadPlaces): one in a folder of its documents (system/files/,
    // system/services/), or a mirrored file another provider than the default one claims (a crontab,
    // an enablement link): those providers' documents are small. The files provider reads every document under filesystem/.
    // Cost (session 40): a plan whose only edit is such a claimed file (a .wants link on the test
    // bed's bookworm minbase root) made no working tree here before; now this step takes 19-32 ms
    // of wall (min and median of 21 in-process runs, load 17), 9-12 ms of it the process's CPU,
    // about 2 ms the systemd comparison itself.
    const judges = (p: string) => {
      const owner = this.applyingOwner(p, view)
      if (owner === undefined) return false
      const own = [...owner.twinPaths, ...(owner.inputPaths ?? [])].some((t) => (t.endsWith('/') ? p.startsWith(t) : p === t))
      const unreadable = owner.twinPaths.some((t) => t.endsWith('/') && p.startsWith(t)) || (p.startsWith('filesystem/') && owner.name !== view.claims.defaultOwner)
      return (owner.unapplied !== undefined && own) || unreadable
    }
    if (!edited.some((p) => isDescribed(p, view) || judges(p))) return []
    const tree = await workingTree(this.twin.dir)
    const judged = new Set(edited.filter(judges).map((p) => this.applyingOwner(p, view)?.name))
    // The domains whose providers say which asked-for values their plans leave out: compared here (apt's and systemd's documents are small).
    const places = judged.size > 0 ? placesOf((await this.itemsBetween(observed, tree, view, (p) => p.unapplied !== undefined || judged.has(p.name))).byProvider) : []
    const edits = await descriptionEdits(this.twin.dir, observed, tree, view, undefined, places, this.line)
    const asked = only === undefined || only.length === 0 ? edits : edits.filter((e) => only.includes(e.provider) || only.includes(e.category))
    return asked.map((e) => ({
      severity: 'warning' as const,
      code: e.kept?.code ?? DESCRIPTION_EDIT_NOT_APPLIED,
      // A left-out ask, as an item outside its provider's scope is (`change`): its own row in the control panel, where d discards it.
      summary: `${e.summary.charAt(0).toUpperCase()}${e.summary.slice(1)}: left out, ${e.kept !== undefined ? e.kept.reason.replace(/^never applied: /, '') : e.unapplied === true ? `${e.provider} does not apply this value` : 'it only describes the machine and no provider applies it'} (it stays pending)`,
      detail: e.nextStep,
      provider: e.provider,
      path: e.path,
      change: e.id,
    }))
  }

  /** The edits of the twin `tree` that no provider applies, against the observed commit (`byProvider`: itemsBetween's of the same two). */
  async descriptionEdits(observed: string, tree: string, view: ProviderView, byProvider?: ReadonlyMap<string, ProviderItems>): Promise<DescriptionEdit[]> {
    const items = byProvider ?? (await this.itemsBetween(observed, tree, view, (p) => p.unapplied !== undefined)).byProvider
    return descriptionEdits(this.twin.dir, observed, tree, view, undefined, placesOf(items), this.line)
  }

  /** A path whose edit is held across a snapshot: an applying provider's, or one that describes the machine. */
  /**
   * Whether an edit of `path` is intent, held across a snapshot: a path an applying provider
   * owns, a described document, and an edit (`change` M) of a document whose provider is not
   * loaded (a plugin uninstalled, failing to load or disabled: unloadedOwner). Session 45 (the
   * lead, from helper docrule's finding): such an edit was committed by the next snapshot as the
   * machine's observed state (the draft begins from the working twin, and no provider wrote the
   * path), so once the plugin was back the ask read as drift and the snapshot after wrote the
   * machine's value over it, with nothing said. Held, the snapshot keeps the last snapshot's
   * document and the edit stays pending (PROVIDER_MISSING says why nothing compares it). A new
   * or removed document of such a provider is not held: removing it is the way out
   * PROVIDER_MISSING names, and one added is said by PROVIDER_MISSING while it is there.
   */
  private holds(path: string, view: ProviderView, change?: GitStatusEntry['change']): boolean {
    return this.applyingOwner(path, view) !== undefined || isDescribed(path, view) || (change === 'M' && unloadedOwner(path, view))
  }

  applyingOwner(path: string, view: ProviderView): ApplicableProvider | undefined {
    const owner = ownerOfTwinPath(path, view.providers, view.claims)
    return owner !== undefined && isApplicable(owner) ? owner : undefined
  }

  /** The items between the observed commit and a tree, as each owning provider's diff says them. */
  async itemsBetween(
    observed: string,
    tree: string,
    view?: ProviderView,
    /** Only the domains of these providers (default: every applying one). */
    only?: (provider: ApplicableProvider) => boolean,
  ): Promise<{ items: Change[]; paths: string[]; byProvider: Map<string, ProviderItems>; diagnostics: Diagnostic[]; unowned: string[] }> {
    const v = view ?? (await this.view())
    const dir = this.twin.dir
    const changed = await changedBetween(dir, await treeOf(dir, observed), tree)
    const gone = new Set(changed.filter((e) => e.change === 'D').map((e) => e.path))
    const byProvider = new Map<string, ProviderItems>()
    // Documents added that no applying provider owns (a plugin's that is not loaded, a facts document).
    const unowned: string[] = []
    for (const { path, change } of changed) {
      const owner = this.applyingOwner(path, v)
      if (owner === undefined) {
        if (change === 'A') unowned.push(path)
        continue
      }
      if (only !== undefined && !only(owner)) continue
      const entry = byProvider.get(owner.name) ?? { provider: owner, paths: [], changes: [], failed: false, unapplied: [] }
      entry.paths.push(path)
      byProvider.set(owner.name, entry)
    }
    const diagnostics: Diagnostic[] = []
    // One `git cat-file --batch` for both sides.
    const batch = new LazyBatch(dir)
    const before = new GitTreeReader(dir, observed, batch)
    // What the twin asks for: a document's executable bit that is not `observed`'s is a change (TwinReader.observedExecutableOf).
    const after = new GitTreeReader(dir, tree, batch, observed)
    // Comparing the intended twin with the observed one only reads: a provider's host refuses any change.
    const readOnly = this.contexts.readOnly('Comparing the intended twin only reads', 'while comparing the intended twin')
    try {
      for (const entry of byProvider.values()) {
        const ctx = this.contexts.for(entry.provider, v.claims, { hostFor: readOnly.hostFor })
        // Each domain's two sides narrowed to what differs (Provider.narrow) where its provider can.
        const sides = await narrowedSides(entry.provider, before, after, entry.paths, ctx)
        // Through the one provider guard: a twin that cannot be read (a symlinked document) is a diagnostic.
        // What the intended side's load asks for is noted: an edited file it never reads is kept (unreadPlaces).
        const seen = new Set<string>()
        const [wasCall, wantsCall] = await Promise.all([
          callProvider(entry.provider, 'load', () => entry.provider.load({ ctx, twin: sides.older })),
          callProvider(entry.provider, 'load', () => entry.provider.load({ ctx, twin: recordingReader(sides.newer, seen) })),
        ])
        if (!wasCall.ok || !wantsCall.ok) {
          entry.failed = true
          for (const call of [wasCall, wantsCall]) if (!call.ok) diagnostics.push(call.diagnostic)
          continue
        }
        const [was, wants] = [wasCall.value, wantsCall.value]
        const errors = [...was.diagnostics, ...wants.diagnostics].filter((d) => d.severity === 'error')
        if (was.state === undefined || wants.state === undefined || errors.length > 0) {
          // The intended twin cannot be read as this domain: keep it pending, say why.
          entry.failed = true
          appendAll(diagnostics, errors.map((d) => ({ ...d, provider: d.provider ?? entry.provider.name })))
          continue
        }
        const diffCall = await callProvider(entry.provider, 'diff', () => entry.provider.diff({ desired: wants.state, actual: was.state, ctx }))
        if (!diffCall.ok) {
          entry.failed = true
          diagnostics.push(diffCall.diagnostic)
          continue
        }
        const diff = diffCall.value
        appendAll(entry.changes, diff.changes)
        appendAll(entry.unapplied, await this.unappliedPlaces(entry.provider, wants.state, was.state, diff.changes, ctx, v, diagnostics))
        appendAll(entry.unapplied, unreadPlaces(entry.provider, entry.paths, (p) => !gone.has(p), seen))
      }
    } finally {
      batch.close()
    }
    return {
      items: [...byProvider.values()].flatMap((e) => e.changes),
      paths: [...byProvider.values()].flatMap((e) => e.paths),
      byProvider,
      diagnostics,
      unowned,
    }
  }

  /**
   * What the provider says its plan leaves out between the two states (Provider.unapplied),
   * through the one provider guard: only well-formed places in its own documents count.
   */
  private async unappliedPlaces(provider: ApplicableProvider, desired: unknown, actual: unknown, changes: readonly Change[], ctx: ProviderContext, view: ProviderView, diagnostics: Diagnostic[]): Promise<OwnedPlace[]> {
    const hook = provider.unapplied
    if (hook === undefined) return []
    const call = await callProvider(provider, 'unapplied', () => hook.call(provider, { desired, actual, changes, ctx }))
    if (!call.ok) {
      diagnostics.push(call.diagnostic)
      return []
    }
    if (!Array.isArray(call.value)) return []
    const step = (s: unknown) => typeof s === 'string' || (s !== null && typeof s === 'object' && typeof (s as { field?: unknown }).field === 'string' && typeof (s as { value?: unknown }).value === 'string')
    return call.value
      .filter((p) => typeof p?.path === 'string' && Array.isArray(p.at) && p.at.every(step) && typeof p.nextStep === 'string' && ownerOfTwinPath(p.path, view.providers, view.claims) === provider)
      .map((p) => ({ path: p.path, at: p.at, nextStep: p.nextStep, provider }))
  }

  private async commitIntent(tree: string, observed: string, reasons: Record<string, string>, keepOnly?: ReadonlySet<string>): Promise<string> {
    const dir = this.twin.dir
    const previous = await readRef(dir, INTENDED_REF)
    const all = { ...(previous === undefined ? {} : await this.reasonsOf(previous)), ...reasons }
    const merged = keepOnly === undefined ? all : Object.fromEntries(Object.entries(all).filter(([id]) => keepOnly.has(id)))
    const message = `TwinSync intent on ${observed.slice(0, 12)}\n\nThe twin as a person wants it; the parent is the machine as last observed.\n\nReasons: ${JSON.stringify(merged)}\n`
    // Size (issue 22, session 41): the intent recorded already, the same tree, parent and
    // message, is kept as it is: no commit, no ref move, no reflog line. A snapshot's hold of an
    // edit still pending found it so (the restore before recorded it on that snapshot), and a
    // snapshot with nothing new moved the ref to a copy of it and back (only its date differed).
    // While an edit stays pending, each committing snapshot now adds one line (136 bytes) and one
    // intent commit, not two; one that commits nothing adds none (measured with the CLI:
    // docs/architecture.md, Session 41). The reflog still holds every intent that differed.
    if (previous !== undefined) {
      const was = await commitParts(dir, previous)
      if (was.tree === tree && was.parents.length === 1 && was.parents[0] === observed && was.message.replace(/\n+$/, '') === message.replace(/\n+$/, '')) return previous
    }
    const commit = await commitTree(dir, tree, [observed], message)
    rememberCommit(dir, commit, { tree, parents: [observed], message })
    await setRef(dir, INTENDED_REF, commit, 'intent')
    return commit
  }

  private async reasonsOf(commit: string): Promise<Record<string, string>> {
    const body = (await commitParts(this.twin.dir, commit)).message
    const line = body.split('\n').find((l) => l.startsWith('Reasons: '))
    if (line === undefined) return {}
    try {
      const parsed = JSON.parse(line.slice('Reasons: '.length)) as unknown
      return parsed !== null && typeof parsed === 'object' ? (parsed as Record<string, string>) : {}
    } catch {
      return {}
    }
  }

  /** Make the working twin hold these paths exactly as `tree` has them. */
  async writePaths(tree: string, paths: readonly string[]): Promise<void> {
    const entries = await entriesOf(this.twin.dir, tree, paths)
    const blobs = await readBlobs(this.twin.dir, [...entries.values()].map((e) => e.blob))
    for (const path of paths) {
      const entry = entries.get(path)
      const bytes = entry === undefined ? undefined : blobs.get(entry.blob)
      await this.put(path, bytes, entry?.mode)
    }
  }

  /** Through the twin's no-follow file module: a symlink in the twin is replaced, never written through. */
  private async put(path: string, bytes: Uint8Array | undefined, mode: string | undefined): Promise<void> {
    if (bytes === undefined) return removeTwinFile(this.twin.dir, path)
    if (mode === '120000') return writeTwinSymlink(this.twin.dir, path, Buffer.from(bytes).toString('utf8'))
    await writeTwinFile(this.twin.dir, path, bytes, mode === '100755' ? 0o755 : 0o644)
  }

  /**
   * `put` by compare-and-swap: only while the working file is still `expected` (its bytes as the
   * caller read them from the working twin's tree; a symlink's target), else the person's save
   * is kept and said ('saved'). Session 31: an apply's promotion read the working twin, then
   * wrote the plan's values over a file a person saved meanwhile. The moment between this read
   * and the write (microseconds) is what is left. A file that cannot be read to compare is left
   * as it is and not counted as a save (session 32: "your save is kept" of a save nobody made, and
   * the caller took the place as the person's intent): `unread` says why, for the caller to say.
   */
  private async putUnlessSaved(path: string, expected: Uint8Array | undefined, bytes: Uint8Array | undefined, mode: string | undefined): Promise<'written' | 'saved' | { unread: string }> {
    const { saved, unread } = await this.savedOf([{ path, now: expected }])
    if (unread.length > 0) return { unread: unread[0]?.why ?? '' }
    if (saved.length > 0) {
      this.logger.warn(`${path}: saved while the apply made what it asks pending; your save is kept`)
      return 'saved'
    }
    await this.put(path, bytes, mode)
    return 'written'
  }

  /**
   * Of these documents, those whose working file is no longer the bytes read (`now`): saved; and
   * those that could not be read to compare (`unread`, with the error's words): neither written
   * over nor taken for a save.
   */
  private async savedOf(docs: ReadonlyArray<{ path: string; now: Uint8Array | undefined }>): Promise<{ saved: string[]; unread: Array<{ path: string; why: string }> }> {
    const saved: string[] = []
    const unread: Array<{ path: string; why: string }> = []
    for (const d of docs) {
      let same: boolean
      try {
        same = await this.workingIs(d.path, d.now)
      } catch (error) {
        // A symlink put where a folder above was is a person's save (TWIN_SYMLINK): kept as one.
        if (isTwinSyncError(error) && error.code === 'TWIN_SYMLINK') saved.push(d.path)
        else unread.push({ path: d.path, why: (error as Error).message.split('\n')[0] ?? String(error) })
        continue
      }
      if (!same) saved.push(d.path)
    }
    return { saved, unread }
  }

  /**
   * Whether a working file is `expected` as git hashes it (a symlink: its target; undefined: none
   * there). Compared without reading it whole (twinFileEquals): a document of any size is
   * compared, so only a real read error (EIO…) leaves it unread.
   */
  private async workingIs(path: string, expected: Uint8Array | undefined): Promise<boolean> {
    const full = join(this.twin.dir, path)
    const info = await lstat(full).catch(() => undefined)
    if (info === undefined) return expected === undefined
    if (info.isSymbolicLink()) return sameBytes(Buffer.from(await readlink(full)), expected)
    return twinFileEquals(this.twin.dir, path, expected)
  }

  /** Documents its provider plans nothing for that hold description edits: the machine's, with the edited parts kept. */
  private async keepDescriptions(ontoTree: string, tree: string, paths: readonly string[], kept: ReadonlyMap<string, DescriptionEdit[]>): Promise<void> {
    if (paths.length === 0) return
    const [was, wants] = await Promise.all([entriesOf(this.twin.dir, ontoTree, paths), entriesOf(this.twin.dir, tree, paths)])
    const blobs = await readBlobs(this.twin.dir, [...was.values(), ...wants.values()].map((e) => e.blob))
    for (const path of paths) {
      const bytes = keepEdits(blobs.get(was.get(path)?.blob ?? ''), blobs.get(wants.get(path)?.blob ?? ''), kept.get(path) ?? [])
      await this.put(path, bytes, wants.get(path)?.mode ?? was.get(path)?.mode)
    }
  }

  private async samePaths(a: string, b: string, paths: readonly string[]): Promise<boolean> {
    const [x, y] = await Promise.all([entriesOf(this.twin.dir, a, paths), entriesOf(this.twin.dir, b, paths)])
    return paths.every((p) => x.get(p)?.blob === y.get(p)?.blob && x.get(p)?.mode === y.get(p)?.mode)
  }

  /**
   * Of the held `paths`, those whose working file is no longer what the twin was moved to (its
   * `onto` entries, as the hold left them when nothing moved): saved by a person meanwhile.
   * A file that cannot be read as git would is not counted (merged as before).
   */
  private savedSince(onto: ReadonlyMap<string, { mode: string; blob: string }>, paths: readonly string[]): string[] {
    return paths.filter((path) => {
      const entry = onto.get(path)
      const file = join(this.twin.dir, path)
      if (entry === undefined) return entryPresent(file)
      return fileIsBlob(file, { mode: entry.mode, sha: entry.blob }) === false
    })
  }

  /** `ontoEntries`: `ontoTree`'s entries of at least `paths`, when the caller read them already (restore). */
  private async mergeOnto(baseTree: string, intendedTree: string, ontoTree: string, paths: readonly string[], other: 'machine' | 'mirror' = 'machine', ontoEntries?: ReadonlyMap<string, { mode: string; blob: string }>): Promise<ReadonlyMap<string, { mode: string; blob: string }>> {
    const dir = this.twin.dir
    const [base, intended, onto] = await Promise.all([entriesOf(dir, baseTree, paths), entriesOf(dir, intendedTree, paths), ontoEntries ?? entriesOf(dir, ontoTree, paths)])
    const ontoBlobs = paths.flatMap((p) => onto.get(p)?.blob ?? [])
    const blobs = await readBlobs(dir, [...[...base.values(), ...intended.values()].map((e) => e.blob), ...ontoBlobs])
    const bytes = (e: { blob: string } | undefined) => (e === undefined ? undefined : blobs.get(e.blob))
    const results = new Map<string, Uint8Array | undefined>()
    const removals: Array<[string, UnitPath[]]> = []
    for (const path of paths) {
      const merged = await mergePath(path, bytes(base.get(path)), bytes(intended.get(path)), bytes(onto.get(path)))
      if (merged.conflict) {
        // Said as what it is: a pulled change the edit overrides stays in the pulled snapshot, not pending (before session 17 a pull said "the machine").
        this.logger.warn(
          other === 'machine'
            ? `${path}: the machine changed it too since the edit; the intended lines were kept`
            : `${path}: the mirror changed it too since your edit; your lines were kept where the two differ (the mirror's are in the pulled snapshot: \`git -C ${dir} show HEAD:${path}\`)`,
        )
      }
      const mode = intended.get(path)?.mode ?? onto.get(path)?.mode
      await this.put(path, merged.content, mode)
      results.set(path, merged.content)
      if (merged.removed !== undefined) removals.push([path, merged.removed])
    }
    if (removals.length > 0) await this.carryRemovals(ontoTree, results, removals)
    return intended
  }

  /**
   * Elements a person removed from a document whose machine's copy no longer holds them (the
   * files manifest went into parts, or back, since the edit: the entry is in another document
   * of its family now) are taken out of the family's documents that hold them, so that the
   * removal is still asked for (a plan shows the delete), not lost with the old layout.
   */
  private async carryRemovals(ontoTree: string, results: Map<string, Uint8Array | undefined>, removals: ReadonlyArray<[string, UnitPath[]]>): Promise<void> {
    const reader = new GitTreeReader(this.twin.dir, ontoTree)
    try {
      for (const [path, units] of removals) {
        // The documents beside it and in the folder of its name (familyOf picks the family).
        const folders = [path.slice(0, -'.json'.length), dirname(path), dirname(dirname(path))].filter((f) => f !== '.')
        const names = new Set([...results.keys(), ...(await Promise.all([...new Set(folders)].map((f) => reader.list(`${f}/`)))).flat()])
        for (const member of familyOf(path, names)) {
          const updated = withoutElements(results.has(member) ? results.get(member) : await reader.read(member), units)
          if (updated === undefined) continue
          this.logger.warn(`${member}: ${units.map(describePath).join(', ')} taken out, as the edit of ${path} asked (the machine moved them here)`)
          await this.put(member, updated, undefined)
          results.set(member, updated)
        }
      }
    } finally {
      reader.close()
    }
  }

  /**
   * After a merge: a domain whose intended files differ from the observed ones only in form
   * (its provider plans nothing between them: the apply did it) has no intent left; its files
   * take the observed state. Then the intended ref is recorded again, or removed.
   */
  private async settle(onto: string, view: ProviderView, otherwise?: string, movedClean = false): Promise<string[]> {
    const dir = this.twin.dir
    // The working twin is `onto` with nothing edited (a snapshot just moved it there): nothing is pending.
    // Speed (issue 22): after a snapshot's commit from a twin found clean under the lock, git is
    // not asked again (`git status` of the scale root's 24,000-file twin: 80 ms of git's CPU,
    // 80–300 ms of wall). An edit made while the snapshot ran stays in the working twin, and the
    // next command's `hold` finds and keeps it, as it would one made a moment after this check.
    if (onto === (await this.twin.head()) && (movedClean || (await this.twin.dirtyPaths()).length === 0)) {
      await deleteRef(dir, INTENDED_REF)
      return []
    }
    // Domains with no intent left take the observed files: a move (move-stamp.ts), after the check above only.
    return moving(dir, () => this.settleEdited(onto, view, otherwise))
  }

  /** settle's work on an edited working twin. */
  private async settleEdited(onto: string, view: ProviderView, otherwise?: string): Promise<string[]> {
    const dir = this.twin.dir
    const tree = await workingTree(dir)
    const { byProvider } = await this.itemsBetween(onto, tree, view)
    const ontoTree = await treeOf(dir, onto)
    // What only describes the machine is never planned: "nothing planned" is no proof the edit is
    // done there. Kept, and pending, until discarded or the machine comes to match it.
    const edits = await descriptionEdits(dir, onto, tree, view, undefined, placesOf(byProvider), this.line)
    const kept = new Map<string, DescriptionEdit[]>()
    for (const e of edits) appendTo(kept, e.path, e)
    const pending: string[] = []
    const ids = new Set<string>()
    // Whether the working twin was written here: its tree is made again only then.
    let wrote = false
    for (const entry of byProvider.values()) {
      if (entry.changes.length === 0 && !entry.failed) {
        if (entry.paths.length > 0) wrote = true
        await this.writePaths(ontoTree, entry.paths.filter((p) => !kept.has(p)))
        await this.keepDescriptions(ontoTree, tree, entry.paths.filter((p) => kept.has(p)), kept)
        appendAll(pending, entry.paths.filter((p) => kept.has(p)))
      } else appendAll(pending, entry.paths)
      for (const c of entry.changes) ids.add(c.id)
    }
    // Documents no applying provider owns (facts): the edited ones stay, the rest take the machine's.
    const facts = (await changedBetween(dir, ontoTree, tree)).map((e) => e.path).filter((p) => this.applyingOwner(p, view) === undefined && isDescribed(p, view))
    await this.writePaths(ontoTree, facts.filter((p) => !kept.has(p)))
    if (facts.length > 0) wrote = true
    appendAll(pending, facts.filter((p) => kept.has(p)))
    if (pending.length === 0) await deleteRef(dir, INTENDED_REF)
    else {
      // Items still pending with no reason yet get `otherwise` (an apply's "left out with --only").
      const known = await this.reasons()
      const fill = otherwise === undefined ? {} : Object.fromEntries([...ids].filter((id) => known[id] === undefined).map((id) => [id, otherwise]))
      // A domain that could not be compared here (its provider failed, or was given up on in this
      // run: an apply that timed out) names no items: its reasons are kept, by the provider's
      // prefix of every change id (the conformance kit's rule). Session 44: they were dropped, and
      // `status` said "not applied yet" of a step that failed as maybe half done.
      const uncompared = [...byProvider.values()].filter((e) => e.failed).map((e) => `${e.provider.name}:`)
      for (const id of Object.keys(known)) if (uncompared.some((p) => id.startsWith(p))) ids.add(id)
      await this.commitIntent(wrote ? await workingTree(dir) : tree, onto, fill, ids)
    }
    return pending
  }
}

/** A description edit as a pending item: never applied, with its code and where the real thing lives. */
export function descriptionItem(e: DescriptionEdit): PendingItem {
  if (e.kept !== undefined) return { ...describedItem(e), reason: e.kept.reason, code: e.kept.code }
  if (e.unapplied === true) return { ...describedItem(e), reason: `never applied: ${e.provider} plans nothing for this value` }
  return describedItem(e)
}

function describedItem(e: DescriptionEdit): PendingItem {
  return {
    id: e.id,
    provider: e.provider,
    category: e.category,
    operation: 'describe',
    resource: e.path,
    summary: e.summary,
    reason: 'never applied: it only describes the machine, no provider applies it',
    code: DESCRIPTION_EDIT_NOT_APPLIED,
    nextStep: e.nextStep,
  }
}

/**
 * The two sides as the provider narrows them (Provider.narrow: the files manifest's entries that
 * differ), or as they are (it cannot, or it failed: narrowing only saves time).
 * Speed (issue 22): `plan` with a files manifest edit asks the files provider's `unapplied`
 * (descriptionDiagnostics), which loaded both whole twins: 3.4–3.7 s of the 4,150-entry root of
 * files-manifest-split (loaded machine); narrowed, only the entries whose text changed. Since
 * session 22 every itemsBetween narrows (status's pending items, a snapshot's or an apply's
 * settle, a pull's): one mode edited in a part of that root, 8,266 blob reads (both twins'
 * documents, each with its size) → 7, the process's CPU 1.09–1.16 s → 0.19–0.24 s, wall
 * 5.7–10.5 s → 2.1–3.1 s at a load average of 17 (the rest: six git processes).
 */
async function narrowedSides(provider: ApplicableProvider, older: TwinReader, newer: TwinReader, changed: readonly string[], ctx: ProviderContext): Promise<{ older: TwinReader; newer: TwinReader }> {
  if (provider.narrow === undefined) return { older, newer }
  try {
    return (await provider.narrow({ older, newer, changed, ctx })) ?? { older, newer }
  } catch (error) {
    if (isTwinSyncError(error) && error.code === 'ABORTED') throw error
    return { older, newer }
  }
}

/** Every place the providers of these domains said their plans leave out. */
function placesOf(byProvider: ReadonlyMap<string, ProviderItems>): OwnedPlace[] {
  return [...byProvider.values()].flatMap((e) => e.unapplied)
}

function itemOf(c: Change): Omit<PendingItem, 'reason'> {
  return { id: c.id, provider: c.provider, category: c.category, operation: c.operation, resource: c.resource, summary: c.summary }
}

/**
 * An item whose name holds a secret (outside-scope.ts's SECRET_NAME_CODES), as status shows it:
 * the diagnostic's stand-in for its id, its folder (the diagnostic's `path`), never its name.
 */
function hiddenItem(c: Change, d: Diagnostic): Omit<PendingItem, 'reason'> {
  const resource = `${d.path === undefined || d.path === '' ? '' : `${d.path.replace(/\/$/, '')}/`}<a name holding a secret>`
  const operation = c.operation.charAt(0).toUpperCase() + c.operation.slice(1)
  return { id: d.change ?? c.provider, provider: c.provider, category: c.category, operation: c.operation, resource, summary: `${operation} ${resource}` }
}

/**
 * The error of a run that set the working twin's edits aside and could not put them back: a full
 * disk's own words said "nothing was written and the twin is as it was", which was not so. The
 * edits are in refs/twinsync/intended and the marker; the next snapshot, apply or pull puts them
 * back (recover), and `status` shows them pending meanwhile.
 */
export function setAside(error: unknown, marker: string, line: (args: readonly string[]) => string): unknown {
  if (!isTwinSyncError(error) || !existsSync(marker)) return error
  const where = `your edits of the twin are set aside in refs/twinsync/intended; the next \`${line(['snapshot'])}\` (or apply, pull) puts them back into the working twin, and \`${line(['status'])}\` shows them pending meanwhile`
  return new TwinSyncError(error.code, `${error.message.replace(/; nothing was written and the twin is as it was$/, '')}; ${where}`, {
    ...(error.nextStep === undefined ? {} : { nextStep: error.nextStep }),
    ...(error.details === undefined ? {} : { details: error.details }),
    cause: error,
  })
}

/** Which run set the edits aside (`hold`'s `by`, kept in the marker): a snapshot (an apply's own checkpoint and snapshot after too), an adopt, a pull. */
export type HeldBy = 'snapshot' | 'adopt' | 'pull'

const HELD_BY: Record<HeldBy, string> = { snapshot: "a snapshot (or an apply's)", adopt: 'an adopt', pull: 'a pull' }

/**
 * What `status` says while set-aside edits are not back in the working twin (PendingIntent.setAside):
 * which run set them aside and did not put them back. Session 33's red team: after a killed
 * `adopt` it said "a snapshot could not put them back". A marker of an older version names no run.
 */
export function setAsideSentence(by: HeldBy | undefined, snapshot: string): string {
  const who = by === undefined || !Object.hasOwn(HELD_BY, by) ? 'a snapshot, adopt or pull' : HELD_BY[by]
  return `Your edits of the twin are set aside in refs/twinsync/intended, not in the working twin: ${who} set them aside and did not put them back (it was killed, or the twin's disk was full); they are pending as listed. \`${snapshot}\` puts them back (free space on the twin's disk first if it is full).`
}

/** What `.git/twinsync/intent-held` records while the intent is set aside (hold). */
interface HeldMarker {
  base: string
  intended: string
  paths: string[]
  /** The run that set them aside (missing in a marker of an older version). */
  by?: HeldBy
}

/** Two working-file contents alike (undefined: absent). */
function sameBytes(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  return a === undefined || b === undefined ? a === b : Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b)
}
