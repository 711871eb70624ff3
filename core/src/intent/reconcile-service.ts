import { watchForApplies } from '../apply/machine-lock.js'
import type { ApplicableProvider, Change, Diagnostic, Logger, ProviderContext, TwinReader } from '@twinsync/sdk'
import { observedOnly, unplannableItems } from '../plan/observed-drift.js'
import { TwinSyncError, compareStrings, isApplicable, isTwinSyncError, stableStringify } from '@twinsync/sdk/light'
import { diskError, isDiskFull } from '../twin/disk-error.js'
import { collectAll } from '../collect/collector.js'
import { inject, injectable } from '../di.js'
import { answerOf } from '../providers/provider-call.js'
import { ProviderContexts } from '../providers/provider-contexts.js'
import { ProviderRegistry } from '../providers/provider-registry.js'
import { GitTreeReader } from '../twin/git-tree-reader.js'
import { TwinRepository } from '../twin/twin-repository.js'
import { moving } from '../twin/move-stamp.js'
import { DISCARDED_REF, commitTree, git, setRef, treeOf, workingTree } from './intent-git.js'
import { IntentService, type ProviderView } from './intent-service.js'
import { describePath, differences, takeFrom, type UnitPath } from './json-units.js'
import { type DescriptionEdit, dropEdits } from './description-edits.js'
import { screenDocument } from '../snapshot/secret-guard.js'
import { listedTree, refusedDocumentPaths } from '../snapshot/document-paths.js'
import { ownerOfTwinPath } from '../snapshot/twin-ownership.js'
import { isHiddenChangeId } from '../plan/hidden-names.js'
import { matchesShown } from '../terminal-text.js'
import { driftPhrase } from '../vocabulary.js'
import { Tokens } from '../tokens.js'
import { quoteArg } from '../plan/command-text.js'
import { RunTarget } from '../plan/run-target.js'
import { COMMANDS } from '../plan/commands-domain.js'
import { appendAll } from '../append-to.js'

/**
 * A full twin disk part way through an adopt or a discard, as DISK_FULL that says so. Session
 * 35's sweep (reconcile-kill-points.test.ts, the twin on a tmpfs filled at each step): a discard
 * whose disk filled as it wrote TwinSync's ref records failed with Node's raw ENOSPC (the CLI's
 * catch-all named it, the panel called it a bug), and a DISK_FULL from a write on the way said
 * "nothing was written", though the run had written some of its files. What it had done is no
 * edit of anyone's, and the same command run again finishes it (the sweep checks both). What
 * counts as the disk is disk-error.ts's one rule (isDiskFull; git's errno-less "couldn't write
 * '…/main.lock'" on a full file system included).
 */
function unfinishedOnFullDisk(error: unknown, dir: string, purpose: 'adopt' | 'discard', again: string, status: string): unknown {
  if (!isDiskFull(error, dir)) return error
  const cause = (isTwinSyncError(error) && error.code === 'DISK_FULL' ? (error.cause ?? error) : error) as Error
  return new TwinSyncError('DISK_FULL', `The disk holding the twin (${dir}) filled up during the ${purpose}, which did not finish: ${String(cause?.message ?? cause).split('\n')[0]}`, {
    nextStep: `Free some space (\`df -h ${quoteArg(dir)}\`), then run ${again} again: it finishes what this one began. Your pending edits are kept; \`${status}\` lists them.`,
    details: { repo: dir },
    cause: error,
  })
}

export interface Decision {
  decision: 'adopt' | 'discard'
  /** The items decided, in their providers' words. */
  items: Array<{ id: string; provider: string; category: string; summary: string }>
  /** The commit that records the decision in history. */
  commit: string
  /** The observed state after the decision (adopt moves it). */
  observed: string
  /** refs/twinsync/intended after the decision; null when nothing is pending any more. */
  intended: string | null
  /**
   * What the decision left out and says (adopt: a chosen provider's documents outside its part of
   * the twin, not adopted: the PROVIDER_FAILED warning a snapshot gives, document-paths.ts).
   */
  diagnostics: Diagnostic[]
}

type Contents = Map<string, Uint8Array | undefined>

/**
 * A symlink of the working twin in Contents (by identity): never read, read as the twin reader
 * reads one (TWIN_SYMLINK, which a provider's load turns into a left-out change: the files
 * provider's `not-text`), moved only whole. Session 40: such a link is pending intent now, and
 * `discard` of any other item of its domain read every path of the domain and stopped on it.
 */
const LINK: Uint8Array = new Uint8Array(0)

/**
 * Per-item decisions, the way an inventory is reconciled against reality: `adopt` takes the
 * machine's current value of a drift item into the observed twin (a live change accepted),
 * `discard` drops a pending intent (the twin goes back to the observed value). An item is a
 * change id, or a domain or provider for all of its items. Both are commits history shows.
 *
 * Twin files often hold many items (apt.json has every package). An item is taken apart from
 * the others by moving the smallest differing places of a JSON document (one package, one
 * manifest entry) or whole files one at a time, and keeping a move only when the provider's
 * own diff says it touched the chosen items and nothing else.
 */
@injectable()
export class ReconcileService {
  constructor(
    @inject(TwinRepository) private readonly twin: TwinRepository,
    @inject(ProviderRegistry) private readonly registry: ProviderRegistry,
    @inject(ProviderContexts) private readonly contexts: ProviderContexts,
    @inject(IntentService) private readonly intents: IntentService,
    @inject(Tokens.Logger) private readonly logger: Logger,
    @inject(RunTarget) private readonly target: RunTarget,
  ) {}

  /** `twinsync adopt` and `twinsync discard`, and the TUI's keys for them. */
  decide(decision: 'adopt' | 'discard', items: readonly string[]): Promise<Decision> {
    return decision === 'adopt' ? this.adopt(items) : this.discard(items)
  }

  async discard(selectors: readonly string[]): Promise<Decision> {
    // It writes the working twin: one move (move-stamp.ts); a discard reads only the twin, no machine.
    return this.locked('discard', ['discard', ...selectors], () => moving(this.twin.dir, async () => {
      const dir = this.twin.dir
      const observed = await this.observedOrThrow()
      const view = await this.intents.view()
      const tree = await workingTree(dir)
      const { byProvider } = await this.intents.itemsBetween(observed, tree, view)
      // Edits of what only describes the machine (cron.json, a fact) are pending too: by id, provider or domain.
      const edits = await this.intents.descriptionEdits(observed, tree, view, byProvider)
      const providers = [...byProvider.values()].map((e) => e.provider)
      const applyingName = (s: string) => providers.some((p) => p.name === s || p.category === s)
      const described = edits.filter((e) => selectors.some((s) => s === e.id || s === e.provider || s === e.category))
      const rest = selectors.filter((s) => !edits.some((e) => e.id === s) && (applyingName(s) || !described.some((e) => e.provider === s || e.category === s)))
      const chosen = rest.length === 0 && described.length > 0 ? { ids: new Map<string, Set<string> | 'all'>() } : choose(rest, [...byProvider.values()].flatMap((e) => e.changes), providers, 'pending', (args) => this.line(args))
      const observedTree = await treeOf(dir, observed)
      // The intent before, recorded as the person left it (reasons kept): what the discard's commit names.
      const before = await this.intents.record({}, tree)
      const decided: Change[] = []
      appendAll(decided, described.map(describedChange))
      for (const entry of byProvider.values()) {
        const ids = chosen.ids.get(entry.provider.name)
        if (ids === undefined) continue
        const wanted = entry.changes.filter((c) => ids === 'all' || ids.has(c.id))
        appendAll(decided, wanted)
        if (ids === 'all' || wanted.length === entry.changes.length) {
          // Documents its provider could not read (an edit that broke the files manifest) hold no
          // items to name: each document put back is what was discarded (before session 37 the
          // report said "0 items" while the edit was dropped).
          if (entry.failed) appendAll(decided, entry.paths.map((path) => unreadDocument(entry.provider, path)))
          await this.intents.writePaths(observedTree, entry.paths)
          continue
        }
        const ctx = this.context(entry.provider, view)
        const before = new GitTreeReader(dir, observed)
        const after = new GitTreeReader(dir, tree, undefined, observed)
        try {
          const actual = await loadState(entry.provider, ctx, before)
          const start = await contentsOf(after, entry.paths)
          const toward = await contentsOf(before, entry.paths)
          const result = await separate(entry.provider, ctx, after, actual, start, toward, new Set(wanted.map((c) => c.id)), await bitsBack(before, after, entry.paths))
          await this.writeContents(result.contents, undefined, result.bits, before)
        } finally {
          before.close()
          after.close()
        }
      }
      // Then the described parts chosen, only their places, in the working twin as the items left it.
      await this.dropDescribed(observedTree, described)
      const intended = (await this.intents.record({})) ?? null
      if (before !== undefined && before !== intended) await setRef(dir, DISCARDED_REF, before, 'twinsync discard')
      const kept = before === undefined || before === intended ? '' : `; the intent before is ${before}, kept in \`git reflog ${DISCARDED_REF}\` until a \`twinsync gc\``
      const commit = await this.recordInHistory('discard', decided, `The twin no longer asks for these${kept}.`)
      return { decision: 'discard' as const, items: decided.map(brief('discard')), commit, observed, intended, diagnostics: [] }
    }))
  }

  async adopt(selectors: readonly string[]): Promise<Decision> {
    return this.locked('adopt', ['adopt', ...selectors], async (collected) => {
      const observed = await this.observedOrThrow()
      const view = await this.intents.view()
      const applying = (await this.registry.select()).map((r) => r.provider).filter(isApplicable)
      const named = providersNamed(selectors, applying)
      const failed: Diagnostic[] = []
      const absent: NotDetected[] = []
      const drift = await this.drift(observed, named, view, collected, failed, absent)
      // A named item, provider or domain whose provider could not read the machine is that
      // provider's failure, not an unknown item (session 45: ITEM_UNKNOWN named no cause).
      const cause = failed.filter((d) => selectors.some((s) => aboutProvider(s, named.find((p) => p.name === d.provider))))
      if (cause.length > 0) throw unreadForAdoption(cause)
      // …and one whose providers are all not present on this machine is said so, as the plan and
      // `providers` say it (session 46: ITEM_UNKNOWN, "No drift item").
      const notPresent = absent.filter((a) => selectors.some((s) => aboutProvider(s, a.provider) && named.filter((p) => aboutProvider(s, p)).every((p) => absent.some((n) => n.provider === p))))
      if (notPresent.length > 0) throw notDetectedForAdoption(notPresent, this.line(['providers']))
      // Drift a plan leaves alone (status lists it: an automatically installed package) lives in
      // the same document as the rest of its domain: it is adopted with the domain.
      for (const s of selectors) {
        const alone = drift.flatMap((d) => d.unplanned).find((c) => c.id === s)
        if (alone !== undefined && !drift.some((d) => d.changes.some((c) => c.id === s))) {
          throw new TwinSyncError('ITEM_INSEPARABLE', `${s} is recorded with the rest of ${alone.category} (no plan would change it on its own)`, {
            nextStep: `Adopt the whole domain: \`${this.line(['adopt', alone.category])}\` (or take a snapshot).`,
            details: { item: s, domain: alone.category },
          })
        }
      }
      const chosen = choose(selectors, drift.flatMap((d) => d.changes), drift.map((d) => d.provider), 'drift', (args) => this.line(args))
      return this.adoptChosen(observed, drift, chosen.ids, 'The machine changed these since the last snapshot; the twin now records them as they are.')
    })
  }

  /**
   * What TwinSync itself just changed on the machine outside an apply (`schedule enable` writes
   * its timer): the drift items `own` picks, adopted as `adopt` would, so that the next apply does
   * not undo it (session 22: a plain apply after `schedule enable` deleted the schedule's files
   * and stopped its timer). Nothing else drifted is touched. Undefined when nothing is drift or
   * the twin has no snapshot yet.
   */
  async adoptOwn(own: (change: Change) => boolean, note: string): Promise<Decision | undefined> {
    return this.locked('adopt', undefined, async (collected) => {
      const observed = await this.intents.observed()
      if (observed === undefined) return undefined
      const view = await this.intents.view()
      const drift = await this.drift(observed, (await this.registry.select()).map((r) => r.provider).filter(isApplicable), view, collected)
      const ids = new Map<string, Set<string>>()
      for (const d of drift) {
        const mine = d.changes.filter(own)
        if (mine.length > 0) ids.set(d.provider.name, new Set(mine.map((c) => c.id)))
      }
      if (ids.size === 0) return undefined
      return this.adoptChosen(observed, drift, ids, note)
    })
  }

  /** After the machine is read: the writes, one move of the working twin (move-stamp.ts); the collect before it moves nothing. */
  private adoptChosen(observed: string, drift: Awaited<ReturnType<ReconcileService['drift']>>, chosenIds: ReadonlyMap<string, Set<string> | 'all'>, note: string): Promise<Decision> {
    return moving(this.twin.dir, () => this.adoptWritten(observed, drift, chosenIds, note))
  }

  private async adoptWritten(observed: string, drift: Awaited<ReturnType<ReconcileService['drift']>>, chosenIds: ReadonlyMap<string, Set<string> | 'all'>, note: string): Promise<Decision> {
    const dir = this.twin.dir
    // A chosen provider whose documents the twin cannot hold as given: refused whole, before anything is written.
    const unsound = drift.filter((d) => d.refused !== undefined && chosenIds.has(d.provider.name))
    if (unsound.length > 0) throw refusedAdoption(unsound.map((d) => d.provider.name), unsound.map((d) => d.refused as Diagnostic))
    // The intent is set aside, the observed twin is written, committed, and the intent merged back.
    const held = await this.intents.hold('providers', undefined, {}, undefined, { by: 'adopt' })
    let commit: string | undefined
    const decided: Change[] = []
    const written = new Set<string>()
    try {
      for (const d of drift) {
        const ids = chosenIds.get(d.provider.name)
        if (ids === undefined) continue
        const wanted = d.changes.filter((c) => ids === 'all' || ids.has(c.id))
        appendAll(decided, wanted)
        if (ids === 'all' || wanted.length === d.changes.length) {
          await this.writeContents(d.live, written, d.bits)
          continue
        }
        const before = new GitTreeReader(dir, observed)
        try {
          const start = await contentsOf(before, [...d.live.keys()])
          const result = await separate(d.provider, d.ctx, before, d.state, start, d.live, new Set(wanted.map((c) => c.id)), d.bits, true)
          // A document taken whole as the machine has it gets the machine's bit too (one item holds both).
          const bits = new Map(result.bits)
          for (const [path, bytes] of result.contents) if (!bits.has(path) && d.bits.has(path) && same(bytes, d.live.get(path))) bits.set(path, d.bits.get(path) === true)
          await this.writeContents(result.contents, written, bits)
        } finally {
          before.close()
        }
      }
      if ((await this.twin.stageAll()).length === 0) {
        commit = await unfinishedAdopt(dir, observed)
        if (commit === undefined) throw new TwinSyncError('ITEM_UNKNOWN', 'Nothing to adopt: the twin already records these as the machine has them', { nextStep: `Run \`${this.line(['status'])}\`.` })
      } else commit = await this.twin.commit(historyMessage('adopt', decided, note))
      await this.intents.markObserved(commit)
    } catch (error) {
      // Refused half way (an item that cannot be taken apart, after another domain's were
      // written): the working twin goes back as it was, or those writes would stay behind as
      // edits the twin asks for (session 22: a failed adopt of the schedule left "delete its
      // files" pending). Then the intent set aside is put back on top, as always. Not once the
      // adopt is recorded (observed moved to its commit, and a step after that failed): the
      // writes are then the observed twin, and putting the old values back made them a pending
      // edit that would undo the adoption on the machine (session 35's lead, the adopt sweep
      // failing at the ref locks' record's removal after observed's move).
      const recorded = commit !== undefined && (await this.intents.observed().catch(() => undefined)) === commit
      if (written.size > 0 && !recorded) await this.intents.writePaths(await treeOf(dir, observed), [...written])
      throw error
    } finally {
      await held.restore(commit ?? held.base)
    }
    const intended = (await this.intents.record({})) ?? null
    // Said of the providers adopted only: one collected but not chosen (adoptOwn collects every applying provider) wrote nothing.
    const diagnostics = drift.flatMap((d) => (d.notOwned !== undefined && chosenIds.has(d.provider.name) ? [d.notOwned] : []))
    return { decision: 'adopt' as const, items: decided.map(brief('adopt')), commit: commit as string, observed: commit as string, intended, diagnostics }
  }

  // ── internals ──

  /** `collected`, handed to `fn`: asked once the machine is read (drift), before anything is written (may refuse). */
  /** A `twinsync ARGS` line for this run's twin, root and configuration (RunTarget). */
  private line(args: readonly string[]): string {
    return this.target.line(args, this.twin.dir)
  }

  /** `again`: the command that finishes what a full disk cut short (the same adopt or discard); undefined: the caller's own. */
  private async locked<T>(purpose: 'adopt' | 'discard', again: readonly string[] | undefined, fn: (collected: () => Promise<void>) => Promise<T>): Promise<T> {
    await this.twin.open()
    // An adoption records the machine as it is: not a moment of another twin's apply, nor of one
    // that began while it read the machine (machine-lock.ts, the same two looks as a snapshot's).
    // Session 29: it looked only before; an apply that began during its collect was adopted.
    const noApplyMeanwhile = purpose === 'adopt' ? await watchForApplies(this.contexts.host.root, 'adoption', undefined, this.twin.dir) : async () => {}
    // A snapshot killed half way is finished before the working twin is read or HEAD moves (lockForWriting).
    const lock = await this.twin.lockForWriting(purpose).catch((error: unknown) => {
      throw diskError(error, this.twin.dir)
    })
    try {
      // Edits an earlier run set aside and did not put back (killed, or its disk filled: an adopt
      // that committed and could not restore them) go back first, as a pull's do: the items are
      // read from the working twin, which status reads through the set-aside ref meanwhile.
      // Session 35: run again after such an adopt, adopt found nothing to adopt and left them out.
      await this.intents.putBackHeld()
      return await fn(noApplyMeanwhile)
    } catch (error) {
      throw unfinishedOnFullDisk(error, this.twin.dir, purpose, again === undefined ? 'the same command' : `the same \`${this.line(again)}\``, this.line(['status']))
    } finally {
      await lock.release()
    }
  }

  private async observedOrThrow(): Promise<string> {
    const observed = await this.intents.observed()
    if (observed === undefined) {
      throw new TwinSyncError('SNAPSHOT_UNKNOWN', 'The twin has no snapshot yet', { nextStep: `Run \`${this.line(['snapshot'])}\` first.` })
    }
    return observed
  }

  private context(provider: ApplicableProvider, view: ProviderView): ProviderContext {
    return this.contexts.for(provider, view.claims, { cache: 'twin' })
  }

  /**
   * Per provider: the live state, its twin documents where they differ from the observed twin,
   * and the changes between. `collected`: asked once the machine is read (may refuse).
   */
  private async drift(observed: string, providers: readonly ApplicableProvider[], view: ProviderView, collected: () => Promise<void>, failed: Diagnostic[] = [], notDetected: NotDetected[] = []) {
    const dir = this.twin.dir
    const reader = new GitTreeReader(dir, observed)
    // A path the machine does not let a provider read keeps the observed record of it (as a
    // snapshot does, CollectRequest.previous): adopting a domain never records it removed.
    const outcomes = await collectAll(providers, { ...this.contexts.collecting(view.claims, { cache: 'twin' }), previous: reader }).catch((error: unknown) => {
      reader.close()
      throw error
    })
    this.logger.debug('adopt: collected')
    await collected().catch((error: unknown) => {
      reader.close()
      throw error
    })
    const out: Array<{ provider: ApplicableProvider; ctx: ProviderContext; state: unknown; live: Contents; bits: Map<string, boolean>; changes: Change[]; unplanned: Change[]; refused: Diagnostic | undefined; notOwned: Diagnostic | undefined }> = []
    try {
      const files = [...(await reader.list('filesystem/')), ...(await reader.list('system/'))]
      // Documents at paths the twin cannot hold as given (a file and a folder at one path, one path
      // twice, a control character outside filesystem/, a folder over another provider's file): the
      // snapshot's rule (document-paths.ts), judged on the observed snapshot the adopt writes on.
      // Such a provider's adoption is refused before anything is written (adoptChosen).
      // A document outside its provider's part of the twin is not adopted, and said (as a snapshot
      // says it); before session 44 it was left out without a word.
      const collected = outcomes.filter((o) => o.status === 'collected')
      for (const o of outcomes) if (o.status === 'failed') failed.push({ ...o.diagnostic, provider: o.provider.name })
      for (const o of outcomes) if (o.status === 'not-detected') notDetected.push({ provider: o.provider as ApplicableProvider, reason: o.reason })
      const all = collected.flatMap((o) => o.result.documents.map((doc) => ({ doc, provider: o.provider.name })))
      const ownerOf = (path: string) => ownerOfTwinPath(path, view.providers, view.claims)?.name
      const { refused, owned, notOwned } = refusedDocumentPaths(all, new Set(collected.map((o) => o.provider.name)), listedTree(await reader.list(''), ownerOf), 'Nothing was adopted.')
      const ownDocuments = new Set(owned.map((o) => o.doc))
      for (const o of outcomes) {
        if (o.status !== 'collected') continue
        const provider = o.provider as ApplicableProvider
        const ctx = this.context(provider, view)
        const desired = await loadState(provider, ctx, reader)
        const diffed = await answerOf(provider, 'diff', () => provider.diff({ desired, actual: o.result.state, ctx }))
        const changes = diffed.changes
        const unplanned = [...(await observedOnly(provider, desired, o.result.state, ctx, changes)), ...unplannableItems(diffed.diagnostics, 'actual')]
        const live: Contents = new Map()
        // Each live document's executable bit, as a snapshot writes it (a mode-only change is one too).
        const bits = new Map<string, boolean>()
        const produced = new Set<string>()
        // A provider refused is adopted in no part (adoptChosen): its documents are not read, nor their paths looked up.
        for (const doc of refused.has(provider.name) ? [] : o.result.documents) {
          if (!ownDocuments.has(doc)) continue
          produced.add(doc.path)
          // Adopted documents enter the twin like a snapshot's: through the secret screen.
          const { content } = (await screenDocument(doc, provider.name)).doc
          const bytes = typeof content === 'string' ? Buffer.from(content) : Buffer.from(content)
          const was = await reader.read(doc.path)
          const executable = doc.executable === true
          if (was === undefined || !Buffer.from(was).equals(bytes) || (await reader.executableOf(doc.path)) !== executable) {
            live.set(doc.path, bytes)
            bits.set(doc.path, executable)
          }
        }
        for (const path of files) {
          if (!produced.has(path) && this.intents.applyingOwner(path, view)?.name === provider.name) live.set(path, undefined)
        }
        out.push({ provider, ctx, state: o.result.state, live, bits, changes, unplanned, refused: refused.get(provider.name), notOwned: notOwned.get(provider.name) })
      }
    } finally {
      reader.close()
    }
    return out
  }

  /**
   * Each document written with its executable bit (the one mode bit git keeps): `bits`' where it
   * says (adopt: the machine's, from collect), else the working twin file's, else `fallback`'s (the
   * observed document a discard puts back). Before session 43 every document was written 0644: an
   * adopt of a script's edit recorded it 100644 beside its manifest mode 0755, and a discard of one
   * edit of a script among others left it not executable, which the plan then took for a chmod -x.
   */
  private async writeContents(contents: Contents, written?: Set<string>, bits?: ReadonlyMap<string, boolean>, fallback?: TwinReader): Promise<void> {
    for (const [path, bytes] of contents) {
      // A link is never written (nor read): left as it is.
      if (bytes === LINK) continue
      written?.add(path)
      if (bytes === undefined) {
        await this.twin.remove(path)
        continue
      }
      const executable = bits?.get(path) ?? (await this.twin.executableOf(path).catch(() => undefined)) ?? (await fallback?.executableOf?.(path)) ?? false
      await this.twin.write({ path, content: bytes, ...(executable ? { executable } : {}) })
    }
  }

  /** The chosen description edits taken back to the observed values: their places only (a whole document: the observed one). */
  private async dropDescribed(observedTree: string, edits: readonly DescriptionEdit[]): Promise<void> {
    const paths = [...new Set(edits.map((e) => e.path))]
    if (paths.length === 0) return
    const observed = new GitTreeReader(this.twin.dir, observedTree)
    try {
      const contents: Contents = new Map()
      for (const path of paths) {
        const mine = edits.filter((e) => e.path === path)
        // A whole document goes back to the observed one without reading the working file (a
        // symlink a pulled twin put there is refused by a read; it is replaced, never followed).
        const whole = mine.some((e) => e.unit === undefined)
        contents.set(path, dropEdits(await observed.read(path), whole ? undefined : await this.twin.read(path), mine))
      }
      await this.writeContents(contents)
    } finally {
      observed.close()
    }
  }

  /** A commit on the twin's branch that says what was decided; its tree is the branch's own. */
  private async recordInHistory(decision: 'discard', items: readonly Change[], note: string): Promise<string> {
    const dir = this.twin.dir
    const head = (await this.twin.head()) as string
    const commit = await commitTree(dir, await treeOf(dir, head), [head], historyMessage(decision, items, note))
    await git(dir, ['update-ref', '-m', `twinsync ${decision}`, 'HEAD', commit, head])
    return commit
  }
}

/**
 * An adopt killed between its commit and the move of `observed` (kill -9 after git's commit,
 * session 25's red team: 1 of 44 kill points): HEAD is that adopt, on top of the observed
 * snapshot, and already records the machine as it is for what it adopted, so the rerun stages
 * nothing. It said "Nothing to adopt" while status still listed the items as drift. The rerun
 * finishes it: HEAD, when it is such a commit, becomes the observed snapshot.
 */
async function unfinishedAdopt(dir: string, observed: string): Promise<string | undefined> {
  const [head, parents, subject] = (await git(dir, ['log', '-1', '--format=%H%n%P%n%s', 'HEAD'])).split('\n')
  if (head === undefined || head === observed || parents?.split(' ')[0] !== observed || subject?.startsWith('TwinSync adopt ') !== true) return undefined
  return head
}

/**
 * An adoption refused because a chosen provider's documents are at paths the twin cannot hold as
 * given (document-paths.ts, as a snapshot judges them): the provider and the paths, spelled out.
 */
function refusedAdoption(providers: readonly string[], diagnostics: readonly Diagnostic[]): TwinSyncError {
  const names = providers.join(', ')
  return new TwinSyncError('PROVIDER_FAILED', diagnostics.map((d) => d.summary).join('; '), {
    nextStep: `A fault in the ${names} provider${providers.length === 1 ? '' : 's'}, not in TwinSync: nothing was adopted, the twin is as it was. Update or disable it (providers.disabled in the configuration), or report it to its authors; a snapshot records the other providers and keeps its part of the twin as it was.`,
    details: { provider: providers[0], providers },
  })
}

/**
 * The adopt of an item whose provider could not read the machine (its collect failed, timed out
 * or was refused by the machine): that failure, in the provider call's own words (whose fault,
 * what to do), exit 2, nothing written.
 */
function unreadForAdoption(failed: readonly Diagnostic[]): TwinSyncError {
  const providers = [...new Set(failed.map((d) => d.provider as string))]
  return new TwinSyncError('PROVIDER_FAILED', `Nothing was adopted: ${failed.map((d) => d.summary).join('; ')}`, {
    nextStep: `The twin is as it was. ${[...new Set(failed.map((d) => d.detail ?? `A fault in the ${d.provider} provider, not in TwinSync: update or disable it (providers.disabled in the configuration), or report it to its authors.`))].join(' ')}`,
    details: { provider: providers[0], providers },
  })
}

/** A provider whose detect() said it is not present on the target (the collect's 'not-detected'). */
interface NotDetected {
  provider: ApplicableProvider
  reason: string | undefined
}

/**
 * Nothing to adopt of a provider not present on the target: PROVIDER_NOT_DETECTED, the plan's
 * code for it ("is not present on the target"), with its detect()'s reason and `twinsync
 * providers` (`providers`: that line for this run), which lists each provider as present or not.
 */
function notDetectedForAdoption(absent: readonly NotDetected[], providers: string): TwinSyncError {
  const names = absent.map((a) => a.provider.name)
  const said = absent.map((a) => `the ${a.provider.name} provider${a.reason === undefined || a.reason === '' ? '' : ` (${a.reason})`}`).join(', ')
  return new TwinSyncError('PROVIDER_NOT_DETECTED', `Nothing was adopted: ${said} ${absent.length === 1 ? 'is' : 'are'} not present on the target, so there is nothing of the machine to record for ${absent.length === 1 ? 'it' : 'them'}`, {
    nextStep: `The twin is as it was. \`${providers}\` lists each provider and whether it is present on the target.`,
    details: { provider: names[0], providers: names },
  })
}

function historyMessage(decision: 'adopt' | 'discard', items: readonly Change[], note: string): string {
  const ids = items.map((c) => c.id)
  const title = `TwinSync ${decision} ${ids.slice(0, 3).join(', ')}${ids.length > 3 ? ` and ${ids.length - 3} more` : ''}`
  return `${title}\n\n${note}\n\n${items.map((c) => `- ${c.id}: ${decidedPhrase(decision, c)}`).join('\n')}\n`
}

/**
 * An item decided, in the words of its section of `status`: an adopted one is drift, said as what
 * the machine did ("tree installed on the machine, not in the twin", never the plan's "remove
 * tree" it will no longer make); a discarded one is the plan's item the twin stops asking for.
 */
function decidedPhrase(decision: 'adopt' | 'discard', c: Change): string {
  return decision === 'adopt' ? driftPhrase(c) : c.summary
}

/**
 * The edit of a twin document its provider could not read (status: "Not compared"), put back as
 * the last snapshot has it, said as history records a discard: `files:document:system/files/manifest.json`.
 */
function unreadDocument(provider: ApplicableProvider, path: string): Change {
  return {
    id: `${provider.name}:document:${path}`,
    provider: provider.name,
    category: provider.category as Change['category'],
    operation: 'document',
    resource: path,
    summary: `the edit of ${path}, which the ${provider.name} provider could not read; back as the last snapshot has it`,
    risk: 'low',
  }
}

/** A description edit said as the change history records for a discard. */
function describedChange(e: DescriptionEdit): Change {
  return { id: e.id, provider: e.provider, category: e.category as Change['category'], operation: 'describe', resource: e.path, summary: e.summary, risk: 'low' }
}

function brief(decision: 'adopt' | 'discard') {
  return (c: Change) => ({ id: c.id, provider: c.provider, category: c.category, summary: decidedPhrase(decision, c) })
}

/** Which providers a selector list can concern: named ones, a domain's, an id's prefix; all when unsure. */
/** Whether the selector `s` (an item id, a provider or a domain) is about the provider `p`. */
function aboutProvider(s: string, p: { name: string; category: string } | undefined): boolean {
  return p !== undefined && (p.name === s || p.category === s || s.startsWith(`${p.name}:`))
}

function providersNamed(selectors: readonly string[], providers: readonly ApplicableProvider[]): ApplicableProvider[] {
  const out = new Set<ApplicableProvider>()
  for (const s of selectors) {
    const matching = providers.filter((p) => aboutProvider(s, p))
    if (matching.length === 0) return [...providers]
    for (const p of matching) out.add(p)
  }
  return [...out]
}

/** Selectors to change ids per provider ('all' for a domain or provider name). */
function choose(selectors: readonly string[], items: readonly Change[], providers: readonly ApplicableProvider[], what: 'pending' | 'drift', line: (args: readonly string[]) => string) {
  const ids = new Map<string, Set<string> | 'all'>()
  const unknown: string[] = []
  for (const s of selectors) {
    const whole = providers.filter((p) => p.name === s || p.category === s)
    if (whole.length > 0) {
      for (const p of whole) ids.set(p.name, 'all')
      continue
    }
    // The exact id (--json), or the id as the terminal showed it, spelled out (terminal-text.ts), when that names one item only.
    const shown = items.filter((c) => matchesShown(c.id, s))
    const item = items.find((c) => c.id === s) ?? (shown.length === 1 ? shown[0] : undefined)
    if (item === undefined) {
      unknown.push(s)
      continue
    }
    const current = ids.get(item.provider)
    if (current === 'all') continue
    ids.set(item.provider, new Set([...(current ?? []), item.id]))
  }
  if (unknown.length > 0) {
    const other = what === 'pending' ? 'adopt' : 'discard'
    // A command of plans/ is pending (status lists it, planned-commands.ts) but no edit of a provider's
    // files to put back: said so, with the way that drops it (session 45: "No pending item", though status listed it).
    const command = what === 'pending' ? unknown.find((u) => u === COMMANDS || u.startsWith(`${COMMANDS}:`)) : undefined
    if (command !== undefined) {
      const file = /^commands:(plans\/.+)#\d+$/.exec(command)?.[1]
      throw new TwinSyncError('ITEM_UNKNOWN', `${JSON.stringify(command)} is ${file === undefined ? 'the commands of plans/' : `a command of ${file}`}: discard puts back edits of the providers' files, not commands`, {
        nextStep: `Take the action out of ${file ?? 'its plans/ file'} (or remove the file) in the twin; \`${line(['status'])}\` then no longer lists it.`,
        details: { unknown },
      })
    }
    // An id status shows for an item whose name holds a secret (hidden-names.ts) names no item: its provider's domain does.
    const hidden = unknown.find(isHiddenChangeId)
    const domain = hidden === undefined ? undefined : providers.find((p) => p.name === hidden.slice(0, hidden.indexOf(':')))?.category
    if (hidden !== undefined && domain !== undefined) {
      throw new TwinSyncError('ITEM_UNKNOWN', `${JSON.stringify(hidden)} stands for an item whose name holds a secret, which is never spelled out: it names no item by itself`, {
        nextStep: `Take that entry out of the twin by hand, or drop every pending edit of its domain: \`${line(['discard', domain])}\`.`,
        details: { unknown },
      })
    }
    throw new TwinSyncError('ITEM_UNKNOWN', `No ${what} item ${unknown.map((u) => JSON.stringify(u)).join(', ')}`, {
      nextStep: `Run \`${line(['status'])}\` for the ${what} items and their ids (a ${what === 'pending' ? 'drift' : 'pending'} item is for \`${line([other, 'ITEM'])}\`).`,
      details: { unknown },
    })
  }
  if (ids.size === 0) {
    throw new TwinSyncError('ITEM_UNKNOWN', `Nothing ${what} in ${selectors.join(', ')}`, { nextStep: `Run \`${line(['status'])}\` to see what is drift and what is pending.` })
  }
  return { ids }
}

async function loadState(provider: ApplicableProvider, ctx: ProviderContext, reader: TwinReader): Promise<unknown> {
  const loaded = await answerOf(provider, 'load', () => provider.load({ ctx, twin: reader }))
  const error = loaded.diagnostics.find((d) => d.severity === 'error')
  if (loaded.state === undefined || error !== undefined) {
    throw new TwinSyncError('ITEM_INSEPARABLE', `${provider.name} cannot read this twin state${error ? `: ${error.summary}` : ''}`, {
      nextStep: `Decide for the whole domain (\`${provider.category}\`), or fix the twin file.`,
    })
  }
  return loaded.state
}

async function contentsOf(reader: TwinReader, paths: readonly string[]): Promise<Contents> {
  const read = async (p: string): Promise<Uint8Array | undefined> => {
    try {
      return await reader.read(p)
    } catch (error) {
      if (isTwinSyncError(error) && error.code === 'TWIN_SYMLINK') return LINK
      throw error
    }
  }
  return new Map(await Promise.all(paths.map(async (p) => [p, await read(p)] as const)))
}

/** The executable bit of each path that `older` and `newer` both hold as a file with another bit: `older`'s. */
async function bitsBack(older: TwinReader, newer: TwinReader, paths: readonly string[]): Promise<Map<string, boolean>> {
  const bits = new Map<string, boolean>()
  for (const path of paths) {
    const was = await older.executableOf?.(path)
    const now = await newer.executableOf?.(path)
    if (was !== undefined && now !== undefined && was !== now) bits.set(path, was)
  }
  return bits
}

/** What the twin reader says of a symlink (LINK). */
function linkRefused(path: string): TwinSyncError {
  return new TwinSyncError('TWIN_SYMLINK', `${path} in the twin is a symlink; TwinSync never follows a symlink inside the twin`)
}

/** `base` with some paths replaced (or removed: undefined). */
function overlay(base: TwinReader, contents: Contents, bits: ReadonlyMap<string, boolean> = new Map()): TwinReader {
  const executableOf = base.executableOf
  const observedExecutableOf = base.observedExecutableOf
  return {
    // An overlaid path's bit is `bits`' where it moved, else the base's where the base has the file.
    ...(executableOf === undefined ? {} : { executableOf: async (path: string) => (contents.has(path) && contents.get(path) === undefined ? undefined : (bits.get(path) ?? executableOf.call(base, path))) }),
    ...(observedExecutableOf === undefined ? {} : { observedExecutableOf: (path: string) => observedExecutableOf.call(base, path) }),
    read: async (path) => {
      if (contents.get(path) === LINK) throw linkRefused(path)
      return contents.has(path) ? contents.get(path) : base.read(path)
    },
    readText: async (path) => {
      if (contents.get(path) === LINK) throw linkRefused(path)
      const bytes = contents.has(path) ? contents.get(path) : await base.read(path)
      return bytes === undefined ? undefined : Buffer.from(bytes).toString('utf8')
    },
    list: async (prefix) => {
      const listed = new Set(await base.list(prefix))
      for (const [path, bytes] of contents) {
        if (!path.startsWith(prefix)) continue
        if (bytes === undefined) listed.delete(path)
        else listed.add(path)
      }
      return [...listed].sort(compareStrings)
    },
  }
}

/**
 * Move `start` toward `toward` one place at a time, keeping each move that changes the chosen
 * items (removes them or brings them closer) and leaves every other item exactly as it was.
 * `actual` is the side the provider diffs against. A document's executable bit is a place too
 * (`bitsToward`: the bit each path moves to where it differs from `base`'s; session 43: before,
 * a chmod of a script in the twin could not be discarded apart from the other files items),
 * tried before its content; or, `bitsLast` (adopt: the machine's bits, whose mode the manifest's
 * entry carries), after every other place, each kept where it changes no item at all (the bit
 * beside the mode the items took). Returns the paths to write and the bits moved.
 */
async function separate(
  provider: ApplicableProvider,
  ctx: ProviderContext,
  base: TwinReader,
  actual: unknown,
  start: Contents,
  toward: Contents,
  chosen: ReadonlySet<string>,
  bitsToward: ReadonlyMap<string, boolean> = new Map(),
  bitsLast = false,
): Promise<{ contents: Contents; bits: Map<string, boolean> }> {
  const items = async (contents: Contents, bits: ReadonlyMap<string, boolean>) => {
    const desired = await loadState(provider, ctx, overlay(base, contents, bits))
    return new Map((await answerOf(provider, 'diff', () => provider.diff({ desired, actual, ctx }))).changes.map((c) => [c.id, stableStringify(c)]))
  }
  let current = new Map(start)
  let bits = new Map<string, boolean>()
  let now = await items(current, bits)
  const others = (m: Map<string, string>) => stableStringify([...m].filter(([id]) => !chosen.has(id)).sort())
  const mine = (m: Map<string, string>) => stableStringify([...m].filter(([id]) => chosen.has(id)).sort())
  const baseline = others(now)
  for (const path of [...new Set([...start.keys(), ...bitsToward.keys()])].sort(compareStrings)) {
    if (![...now.keys()].some((id) => chosen.has(id))) break
    const bit = bitsLast ? undefined : bitsToward.get(path)
    if (bit !== undefined && bit !== (await base.executableOf?.(path))) {
      const moved = new Map(bits).set(path, bit)
      const next = await items(current, moved).catch(() => undefined)
      if (next !== undefined && others(next) === baseline && mine(next) !== mine(now)) {
        bits = moved
        now = next
      }
    }
    if (!start.has(path)) continue
    for (const unit of unitsOf(path, current.get(path), toward.get(path))) {
      const candidate = new Map(current).set(path, unit.apply(current.get(path)))
      const next = await items(candidate, bits).catch(() => undefined)
      if (next === undefined || others(next) !== baseline || mine(next) === mine(now)) continue
      current = candidate
      now = next
    }
  }
  if (bitsLast) {
    for (const [path, bit] of [...bitsToward].sort(([a], [b]) => compareStrings(a, b))) {
      if (bit === (await overlay(base, current, bits).executableOf?.(path)) || current.get(path) === undefined) continue
      const moved = new Map(bits).set(path, bit)
      const next = await items(current, moved).catch(() => undefined)
      if (next !== undefined && others(next) === baseline && mine(next) === mine(now)) bits = moved
    }
  }
  const left = [...now.keys()].filter((id) => chosen.has(id))
  if (left.length > 0) {
    throw new TwinSyncError('ITEM_INSEPARABLE', `${left.join(', ')} cannot be taken apart from the other ${provider.name} items in the same twin files`, {
      nextStep: `Decide for the whole domain (\`${provider.category}\`), or edit the twin file by hand.`,
      details: { items: left },
    })
  }
  const contents = new Map([...current].filter(([path, bytes]) => !same(bytes, start.get(path))))
  // A bit moved alone: its document written again as it is, with the bit.
  for (const path of bits.keys()) if (!contents.has(path) && start.get(path) !== undefined && start.get(path) !== LINK) contents.set(path, start.get(path))
  return { contents, bits }
}

/** The places of one path that can move on their own: JSON keys and named list entries, or the whole file. */
function unitsOf(path: string, from: Uint8Array | undefined, to: Uint8Array | undefined): Array<{ label: string; apply: (current: Uint8Array | undefined) => Uint8Array | undefined }> {
  const whole = [{ label: path, apply: () => to }]
  if (!path.endsWith('.json') || from === undefined || to === undefined || from === LINK || to === LINK) return whole
  let a: unknown
  let b: unknown
  try {
    a = JSON.parse(Buffer.from(from).toString('utf8'))
    b = JSON.parse(Buffer.from(to).toString('utf8'))
  } catch {
    return whole
  }
  return differences(a, b).map((unit: UnitPath) => ({
    label: `${path} ${describePath(unit)}`,
    apply: (current: Uint8Array | undefined) => {
      const value = current === undefined ? undefined : (JSON.parse(Buffer.from(current).toString('utf8')) as unknown)
      return Buffer.from(stableStringify(takeFrom(value, b, unit)))
    },
  }))
}

function same(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (a === undefined || b === undefined || a === LINK || b === LINK) return a === b
  return Buffer.from(a).equals(Buffer.from(b))
}
