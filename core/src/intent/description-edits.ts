import { isDeepStrictEqual } from 'node:util'
import type { DescribedPart, PathClaims, Provider, UnappliedPlace } from '@twinsync/sdk'
import { isApplicable, stableStringify } from '@twinsync/sdk/light'
import { twinsyncLine, visibleName } from '../plan/command-text.js'
import { ownerOfTwinPath } from '../snapshot/twin-ownership.js'
import { readBlobs } from '../twin/git.js'
import { changedBetween, entriesOf, treeOf } from './intent-git.js'
import { IDENTITY_FIELDS, describePath, valueAt, type Step, type UnitPath } from './json-units.js'
import { JsonDraft, NameLookup } from './json-draft.js'
import { appendAll } from '../append-to.js'

/** The stable code of an edit no provider applies: status, plan and the control panel say it. */
export const DESCRIPTION_EDIT_NOT_APPLIED = 'DESCRIPTION_EDIT_NOT_APPLIED'

/**
 * An edit of a document of a provider disabled in the configuration (providers.disabled): nothing
 * compares, plans or collects it, so it is the person's, never the machine's record. Kept pending
 * whole, as a description edit is, until the provider is enabled again (its diff then plans it,
 * or it stays a description edit) or the edit is discarded. Before session 40 a snapshot committed
 * it as if the machine had it, and the provider, once enabled, overwrote it without a word.
 */
export const PROVIDER_DISABLED_EDIT_NOT_APPLIED = 'PROVIDER_DISABLED_EDIT_NOT_APPLIED'

/**
 * A file in an applying provider's part of the twin that its load does not read (a note left in
 * system/files/, a file beside a provider's documents): nothing compares or applies it. Kept
 * pending whole until moved out or discarded; before session 40 the next snapshot removed it
 * without a word (its domain planned nothing, so the edit was taken for one the apply had done).
 */
export const UNREAD_FILE_NOT_APPLIED = 'UNREAD_FILE_NOT_APPLIED'

/**
 * A person's edit of a document, or of a part of one, that only describes the machine: no
 * provider applies it (cron.json: the jobs are the crontab files; os.json: a fact). It is kept
 * in the working twin and pending until discarded or until the machine comes to match it.
 */
export interface DescriptionEdit {
  /** "cron:describe:system/startup/cron.json", "systemd:describe:system/services/units.json#units/ssh.service/preset". */
  id: string
  provider: string
  category: string
  /** The twin document. */
  path: string
  /** The place inside it; undefined: the whole document. */
  unit?: UnitPath
  /** "change system/startup/cron.json (jobs)". */
  summary: string
  /** Where the real thing lives: what to edit instead, or how to drop the edit. */
  nextStep: string
  /** A value its provider's plan does not apply (Provider.unapplied), not a declared description. */
  unapplied?: true
  /** Kept for another reason than a description (PROVIDER_DISABLED_EDIT_NOT_APPLIED, UNREAD_FILE_NOT_APPLIED): the code and the reason status says. */
  kept?: { code: string; reason: string }
  /**
   * The observed value, when the observed document did not hold the element and another
   * document of its family did (the files manifest whole and in parts): what `discard` puts back.
   */
  observedValue?: { value: unknown }
}

/**
 * A place an applying provider's `unapplied` named, with the provider (intent-service.ts checks it
 * owns the document); or a whole document the core keeps for its own reason (`kept`: a file the
 * provider's load did not read, intent-service.ts's itemsBetween), never a provider's word.
 */
export interface OwnedPlace extends UnappliedPlace {
  provider: Provider
  kept?: { code: string; reason: string }
}

export interface DescriptionView {
  providers: readonly Provider[]
  claims: PathClaims
  /** The installed providers disabled in the configuration: their documents' edits are kept whole (PROVIDER_DISABLED_EDIT_NOT_APPLIED). */
  disabled?: readonly Provider[]
}

/**
 * The description parts of the documents of `path`'s owner: declared, or the whole document of a
 * provider that applies nothing, or of one disabled in the configuration (`disabled`).
 */
export function describedPartsOf(path: string, view: DescriptionView): { provider: Provider; parts: DescribedPart[]; disabled?: true } | undefined {
  const owner = ownerOfTwinPath(path, view.providers, view.claims)
  if (owner === undefined) return disabledPartOf(path, view)
  if (!isApplicable(owner)) {
    // Facts: collected from the machine at every snapshot; nothing applies them.
    return { provider: owner, parts: [{ path, appliedFrom: `${path} records what the machine reports (${owner.name} facts) at each snapshot; nothing applies it. Change the machine itself` }] }
  }
  // A declared path ending in "/" is a folder of documents (the files manifest's parts).
  const parts = (owner.describes ?? []).filter((p) => p.path === path || (p.path.endsWith('/') && inFolder(path, p.path)))
  return parts.length === 0 ? undefined : { provider: owner, parts }
}

/**
 * A document of a provider disabled in the configuration (one of its twinPaths; a mirrored file
 * whose machine path falls to it, such as any under filesystem/ when the files provider is off):
 * the whole document, since nothing compares, plans or collects it while the provider is off.
 */
function disabledPartOf(path: string, view: DescriptionView): { provider: Provider; parts: DescribedPart[]; disabled: true } | undefined {
  if (view.disabled === undefined || view.disabled.length === 0) return undefined
  const owner = ownerOfTwinPath(path, view.disabled, view.claims)
  if (owner === undefined) return undefined
  return {
    provider: owner,
    disabled: true,
    parts: [{ path, appliedFrom: `The ${owner.name} provider is disabled in the configuration (providers.disabled): nothing compares, plans or records ${visibleName(path)} while it is. Enable it again (take ${owner.name} out of providers.disabled) to have the edit planned` }],
  }
}

/** What status says of a disabled provider's document edited (describedPartsOf's `disabled`). */
function disabledKept(provider: Provider): { code: string; reason: string } {
  return { code: PROVIDER_DISABLED_EDIT_NOT_APPLIED, reason: `never applied: the ${provider.name} provider is disabled in the configuration` }
}

/**
 * The family a described document belongs to: a provider that declares a folder of documents
 * `D/` (DescribedPart.path ending in "/") keeps one list of named elements in `D.json` and the
 * `D/NAME.json` beside it, an element in one of them or another as the layout goes (the files
 * manifest: one document below SPLIT_FROM entries, parts above). Undefined for any other path.
 */
export function describedFamily(path: string, view: DescriptionView): { head: string; folder: string } | undefined {
  const owner = ownerOfTwinPath(path, view.providers, view.claims)
  if (owner === undefined || !isApplicable(owner)) return undefined
  for (const part of owner.describes ?? []) {
    if (!part.path.endsWith('/')) continue
    const head = `${part.path.slice(0, -1)}.json`
    if (path === head || inFolder(path, part.path)) return { head, folder: part.path }
  }
  return undefined
}

/** A document directly in the folder (no folder below it), named NAME.json. */
function inFolder(path: string, folder: string): boolean {
  return path.startsWith(folder) && path.endsWith('.json') && !path.slice(folder.length).includes('/')
}

/**
 * Where the observed twin holds a named element of a family's documents, by its list and name
 * ("entries", path = "/etc/motd"): the element, from whichever document holds it. Built from
 * every document of the family in the observed tree; the machine writes each element once.
 */
export type ElementLookup = (key: string, step: { field: string; value: string }) => unknown

/** The lists of named elements of a document's top level, indexed by list, field and name (the first holder wins). */
export function indexElements(docs: readonly unknown[]): ElementLookup {
  const index = new Map<string, unknown>()
  for (const doc of docs) {
    if (!isObject(doc)) continue
    for (const [key, list] of Object.entries(doc)) {
      if (!Array.isArray(list)) continue
      for (const element of list) {
        if (!isObject(element)) continue
        for (const field of IDENTITY_FIELDS) {
          const name = element[field]
          if (typeof name !== 'string') continue
          const id = elementKey(key, { field, value: name })
          if (!index.has(id)) index.set(id, element)
        }
      }
    }
  }
  return (key, step) => index.get(elementKey(key, step))
}

function elementKey(key: string, step: { field: string; value: string }): string {
  return JSON.stringify([key, step.field, step.value])
}

/** Whether a twin path holds any description (so an edit of it is held across a snapshot and judged here). */
export function isDescribed(path: string, view: DescriptionView): boolean {
  return describedPartsOf(path, view) !== undefined
}

/**
 * The description edits of the twin `tree` against the observed commit: per declared part, the
 * places where the intended document asks for a value the observed one does not hold. A whole
 * described document counts as edited when it differs from the observed one as JSON (as bytes
 * when it is not JSON); a part (keys) when the intended document has a value there that the
 * observed one does not (a place the person's document leaves out asks for nothing).
 */
export async function descriptionEdits(
  dir: string,
  observed: string,
  tree: string,
  view: DescriptionView,
  changedPaths: readonly string[] | undefined,
  /** The places applying providers said their plans leave out (Provider.unapplied): judged like described parts. */
  unapplied: readonly OwnedPlace[],
  /** This run's `twinsync ARGS` line (RunTarget), for the discard each edit names. */
  line: (args: readonly string[]) => string,
): Promise<DescriptionEdit[]> {
  const observedTree = await treeOf(dir, observed)
  const placed = new Set(unapplied.map((p) => p.path))
  const paths = (changedPaths ?? (await changedBetween(dir, observedTree, tree)).map((e) => e.path)).filter((p) => isDescribed(p, view) || placed.has(p))
  if (paths.length === 0) return []
  const [was, wants] = await Promise.all([entriesOf(dir, observedTree, paths), entriesOf(dir, tree, paths)])
  const blobs = await readBlobs(dir, [...was.values(), ...wants.values()].map((e) => e.blob))
  const bytes = (e: { blob: string } | undefined) => (e === undefined ? undefined : blobs.get(e.blob))
  // A family's documents (the files manifest whole or in parts): an element is judged by its name
  // wherever the observed twin holds it, so an element only moved between them is no edit.
  const families = new Map<string, Promise<ElementLookup>>()
  const lookupOf = (folder: string, head: string) => {
    let found = families.get(folder)
    if (found === undefined) {
      found = observedFamily(dir, observedTree, head, folder)
      families.set(folder, found)
    }
    return found
  }
  const out: DescriptionEdit[] = []
  for (const path of paths) {
    const found = describedPartsOf(path, view)
    const places = unapplied.filter((p) => p.path === path)
    const provider = found?.provider ?? (places[0] as OwnedPlace).provider
    const family = describedFamily(path, view)
    const observedBytes = bytes(was.get(path))
    const intendedBytes = bytes(wants.get(path))
    // The whole family is read only when the intended document names an element its observed copy lacks.
    const elsewhere = family !== undefined && lacksElements(observedBytes, intendedBytes) ? await lookupOf(family.folder, family.head) : family === undefined ? undefined : () => undefined
    const edits = editsOf(path, provider, found?.parts ?? [], observedBytes, intendedBytes, places, elsewhere, line)
    appendAll(out, found?.disabled === true ? edits.map((e) => ({ ...e, kept: disabledKept(provider) })) : edits)
  }
  return out
}

/** Every element of the family's documents in the observed tree (the head `D.json` and `D/NAME.json`). */
async function observedFamily(dir: string, observedTree: string, head: string, folder: string): Promise<ElementLookup> {
  // ls-tree -r of the head and the folder: every file below it, kept only when directly in it.
  const entries = [...(await entriesOf(dir, observedTree, [head, folder])).entries()].filter(([p]) => p === head || inFolder(p, folder))
  const blobs = await readBlobs(dir, entries.map(([, e]) => e.blob))
  return indexElements(entries.map(([, e]) => parse(blobs.get(e.blob))).flatMap((d) => (d.json ? [d.value] : [])))
}

/** Whether the intended document has a named element of a top-level list that the observed one does not hold. */
function lacksElements(observed: Uint8Array | undefined, intended: Uint8Array | undefined): boolean {
  const b = parse(intended)
  if (!b.json || !isObject(b.value)) return false
  const a = parse(observed)
  const has = indexElements(a.json ? [a.value] : [])
  for (const [key, list] of Object.entries(b.value)) {
    if (!Array.isArray(list)) continue
    for (const element of list) {
      if (!isObject(element)) continue
      const field = IDENTITY_FIELDS.find((f) => typeof element[f] === 'string')
      if (field !== undefined && has(key, { field, value: element[field] as string }) === undefined) return true
    }
  }
  return false
}

/** The edits of one document between its observed and intended bytes. */
export function editsOf(
  path: string,
  provider: Provider,
  parts: readonly DescribedPart[],
  observed: Uint8Array | undefined,
  intended: Uint8Array | undefined,
  places: ReadonlyArray<UnappliedPlace & { kept?: OwnedPlace['kept'] }> = [],
  /**
   * For a document of a family (describedFamily): the observed twin's elements wherever they are.
   * Then a place inside a named element is judged by the element, not by the document: only
   * where the intended document holds the element (a copy in another document of the family is
   * judged there; one removed is the removal its provider plans), against the element as the
   * observed document holds it, else as another document of the family does (it moved there
   * when the layout changed: no edit in itself); an element the observed twin holds nowhere is
   * an added one, whatever its provider plans for it, and no description edit.
   */
  elsewhere?: ElementLookup,
  /** The `twinsync discard ID` each edit names: the run's (descriptionEdits passes RunTarget's); alone (a unit test), the line without flags. */
  line: (args: readonly string[]) => string = (args) => twinsyncLine(args, { root: '/' }),
): DescriptionEdit[] {
  const out: DescriptionEdit[] = []
  const a = parse(observed)
  const b = parse(intended)
  // Speed: a place inside a named element is found through an index of each side's elements,
  // not by a walk of the list for every place (the files manifest of one document has up to
  // SPLIT_FROM entries, each with seven described fields: a walk each made status and plan
  // quadratic, 7.5 and 13 s on the 4,150-entry root of files-manifest-split, loaded machine).
  const observedIndex = indexElements(a.json ? [a.value] : [])
  const intendedIndex = indexElements(b.json ? [b.value] : [])
  const at = (doc: { json: true; value: unknown } | { json: false }, index: ElementLookup, unit: UnitPath): unknown => {
    if (!doc.json) return undefined
    const [key, step] = unit
    if (typeof key !== 'string' || step === undefined || typeof step === 'string' || !Array.isArray(valueAt(doc.value, [key]))) return valueAt(doc.value, unit)
    const element = index(key, step)
    return element === undefined ? undefined : valueAt(element, unit.slice(2))
  }
  /** An element both sides hold alike (most of a manifest's): none of its places is an edit; compared once. */
  const alike = new Map<string, boolean>()
  const unchanged = (unit: UnitPath): boolean => {
    const [key, step] = unit
    if (typeof key !== 'string' || step === undefined || typeof step === 'string') return false
    const id = elementKey(key, step)
    let same = alike.get(id)
    if (same === undefined) {
      const mine = intendedIndex(key, step)
      const theirs = observedIndex(key, step) ?? elsewhere?.(key, step)
      same = mine !== undefined && theirs !== undefined && isDeepStrictEqual(mine, theirs)
      alike.set(id, same)
    }
    return same
  }
  /** The observed value at a place, or 'skip' (a family's element absent from the intended document, or from every observed one). */
  const observedAt = (unit: UnitPath): { value: unknown; moved?: true } | 'skip' => {
    const was = at(a, observedIndex, unit)
    const [key, step] = unit
    if (elsewhere === undefined || typeof key !== 'string' || step === undefined || typeof step === 'string') return { value: was }
    if (!b.json || intendedIndex(key, step) === undefined) return 'skip'
    if (a.json && observedIndex(key, step) !== undefined) return { value: was }
    const element = elsewhere(key, step)
    return element === undefined ? 'skip' : { value: valueAt(element, unit.slice(2)), moved: true }
  }
  const base = { provider: provider.name, category: provider.category as string, path }
  const discard = (id: string) => `or drop the edit: \`${line(['discard', id])}\`.`
  for (const part of parts) {
    if (part.keys === undefined) {
      const same = a.json && b.json ? isDeepStrictEqual(a.value, b.value) : sameBytes(observed, intended)
      if (same) continue
      const id = `${provider.name}:describe:${visibleName(path)}`
      const where = a.json && b.json ? placesOf(a.value, b.value) : ''
      const what = wholeEdit(path, observed, intended, where)
      out.push({ ...base, id, summary: what, nextStep: `${part.appliedFrom}; ${discard(id)}` })
      continue
    }
    // A part of a JSON document: only where the intended one says something.
    if (!b.json) continue
    for (const unit of expand(b.value, part.keys)) {
      if (unchanged(unit)) continue
      const want = at(b, intendedIndex, unit)
      const was = observedAt(unit)
      if (want === undefined || was === 'skip' || isDeepStrictEqual(want, was.value)) continue
      const id = `${provider.name}:describe:${path}#${unit.map(stepText).join('/')}`
      out.push({ ...base, unit, id, summary: `set ${visibleName(describePath(unit))} in ${path} to ${short(want)}`, nextStep: `${part.appliedFrom}; ${discard(id)}`, ...(was.moved === true ? { observedValue: { value: was.value } } : {}) })
    }
  }
  // The places its plan leaves out: there, a value the intended document leaves out asks for its removal.
  const seen = new Set(out.map((e) => e.id))
  for (const place of places) {
    const unit: UnitPath = place.at.map((s) => (typeof s === 'string' ? s : { field: s.field, value: s.value }))
    if (unit.length === 0) {
      const same = a.json && b.json ? isDeepStrictEqual(a.value, b.value) : sameBytes(observed, intended)
      const id = `${provider.name}:describe:${visibleName(path)}`
      if (same || seen.has(id)) continue
      seen.add(id)
      const what = wholeEdit(path, observed, intended, a.json && b.json ? placesOf(a.value, b.value) : '')
      out.push({ ...base, id, summary: what, nextStep: `${place.nextStep}; ${discard(id)}`, unapplied: true, ...(place.kept === undefined ? {} : { kept: place.kept }) })
      continue
    }
    if ((!a.json && elsewhere === undefined) || !b.json) continue
    const want = at(b, intendedIndex, unit)
    // A whole named element the provider says its plan leaves out that the observed twin holds
    // nowhere (a files manifest entry added by hand for a file whose content the twin never
    // holds): asked for all the same, and kept, never skipped as an added element's fields are.
    // One removed by hand: asked for where the observed document itself held it (never one that
    // only moved to another document of its family).
    const element = unit.length === 2 && typeof unit[1] === 'object'
    const seenAt = observedAt(unit)
    const held = element && a.json ? at(a, observedIndex, unit) : undefined
    const was = seenAt !== 'skip' || !element ? seenAt : want !== undefined ? { value: undefined } : held !== undefined ? { value: held } : seenAt
    const id = `${provider.name}:describe:${path}#${unit.map(stepText).join('/')}`
    if (was === 'skip' || isDeepStrictEqual(want, was.value) || seen.has(id)) continue
    seen.add(id)
    const name = visibleName(describePath(unit))
    const summary = want === undefined ? `remove ${name} from ${path}` : `set ${name} in ${path} to ${short(want)}`
    out.push({ ...base, unit, id, summary, nextStep: `${place.nextStep}; ${discard(id)}`, unapplied: true, ...(was.moved === true ? { observedValue: { value: was.value } } : {}) })
  }
  return out
}

/**
 * `observed`'s document with the intended values of the edited parts put in (the machine's
 * other changes and its form everywhere else): what the working twin keeps of a document its
 * provider plans nothing for. The intended bytes whole for an edit of the whole document.
 */
export function keepEdits(observed: Uint8Array | undefined, intended: Uint8Array | undefined, edits: readonly DescriptionEdit[]): Uint8Array | undefined {
  if (edits.some((e) => e.unit === undefined)) return intended
  const a = parse(observed)
  const b = parse(intended)
  if (!a.json || !b.json) return intended
  // One draft (json-draft.ts), not a takeFrom (a copy of the list) an edit: n² for n edits of one list (session 39).
  const value = new JsonDraft(a.value)
  // A place inside an element the machine's document lacks brings the person's element whole (never a half entry).
  for (const e of edits) value.take(b.value, value.reachable(e.unit as UnitPath))
  return Buffer.from(stableStringify(value.value()))
}

/** The intended document with these edits taken back to the observed values (discard). */
export function dropEdits(observed: Uint8Array | undefined, intended: Uint8Array | undefined, edits: readonly DescriptionEdit[]): Uint8Array | undefined {
  if (edits.some((e) => e.unit === undefined)) return observed
  const a = parse(observed)
  const b = parse(intended)
  if (!b.json) return observed
  // The observed document's elements found through the draft's index too (a walk of its list an edit was n²), as mergeUnits does.
  const lookup = new NameLookup()
  const value = new JsonDraft(b.value, lookup)
  for (const e of edits) {
    const unit = e.unit as UnitPath
    // The observed value another document of the family held (the element moved there): put back as it was.
    if (e.observedValue !== undefined) {
      value.take(holding(unit, e.observedValue.value), unit)
      continue
    }
    // A place inside an element the observed document lacks (one added by hand): the element
    // goes whole, never a half entry. Session 39: an autostart entry added to autostart.json and
    // discarded was left as `{ "path": … }` alone, which the provider's load refuses ("not
    // compared"), the twin broken by a discard.
    const observed = a.json ? a.value : undefined
    const cut = lookup.reachable(observed, unit)
    const last = cut[cut.length - 1]
    value.take(observed, cut.length < unit.length && last !== undefined && typeof last !== 'string' ? cut : unit)
  }
  return Buffer.from(stableStringify(value.value()))
}

/** The smallest value that holds `value` at `unit` (and nothing else), for takeFrom. */
function holding(unit: UnitPath, value: unknown): unknown {
  let out = value
  for (let i = unit.length - 1; i >= 0; i--) {
    const step = unit[i] as Step
    if (typeof step === 'string') {
      const obj: Record<string, unknown> = {}
      Object.defineProperty(obj, step, { value: out, enumerable: true, writable: true, configurable: true })
      out = obj
    } else out = [{ ...(isObject(out) ? out : {}), [step.field]: step.value }]
  }
  return out
}

/** Every concrete place of `value` the keys name: "*" is each key of an object, each named element of a list. */
function expand(value: unknown, keys: readonly string[], at: UnitPath = []): UnitPath[] {
  return expandFrom(valueAt(value, at), keys, at)
}

/** expand, from the value at `at` (never walked again from the top: a list's elements are many). */
function expandFrom(here: unknown, keys: readonly string[], at: UnitPath): UnitPath[] {
  if (keys.length === 0) return [at]
  const [key, ...rest] = keys as [string, ...string[]]
  if (key !== '*') return isObject(here) && Object.hasOwn(here, key) ? expandFrom(here[key], rest, [...at, key]) : []
  if (isObject(here)) return Object.keys(here).flatMap((k) => expandFrom(here[k], rest, [...at, k]))
  if (!Array.isArray(here)) return []
  const out: UnitPath[] = []
  const seen = new Set<string>()
  for (const element of here) {
    if (!isObject(element)) continue
    const field = IDENTITY_FIELDS.find((f) => typeof element[f] === 'string')
    if (field === undefined) continue
    const name = element[field] as string
    // An element named twice is one place (valueAt finds the first), as before.
    if (seen.has(`${field}\0${name}`)) continue
    seen.add(`${field}\0${name}`)
    appendAll(out, expandFrom(element, rest, [...at, { field, value: name }]))
  }
  return out
}

/** A whole document's edit in words; its path comes from the twin (untrusted): controls and look-alikes spelled out. */
function wholeEdit(path: string, observed: Uint8Array | undefined, intended: Uint8Array | undefined, where: string): string {
  const name = visibleName(path)
  return intended === undefined ? `delete ${name}` : observed === undefined ? `add ${name}` : `change ${name}${where}`
}

/** " (jobs, users.root)": the first places two JSON documents differ at. */
function placesOf(a: unknown, b: unknown): string {
  const keys = new Set<string>()
  const walk = (x: unknown, y: unknown, path: string, depth: number) => {
    if (isDeepStrictEqual(x, y) || keys.size > 3) return
    if (depth < 2 && isObject(x) && isObject(y)) {
      for (const k of [...new Set([...Object.keys(x), ...Object.keys(y)])].sort()) walk(x[k], y[k], path === '' ? k : `${path}.${k}`, depth + 1)
      return
    }
    keys.add(path === '' ? '(whole document)' : visibleName(path))
  }
  walk(a, b, '', 0)
  const list = [...keys]
  return list.length === 0 ? '' : ` (${list.slice(0, 3).join(', ')}${list.length > 3 ? ', …' : ''})`
}

/** A step of a place as ids and messages show it: keys come from the twin (untrusted), controls and look-alikes spelled out. */
function stepText(s: Step): string {
  return visibleName(typeof s === 'string' ? s : `${s.field}=${s.value}`)
}

function short(value: unknown): string {
  const text = visibleName(JSON.stringify(value) ?? 'null')
  return text.length > 60 ? `${text.slice(0, 57)}…` : text
}

function parse(bytes: Uint8Array | undefined): { json: true; value: unknown } | { json: false } {
  if (bytes === undefined) return { json: false }
  try {
    return { json: true, value: JSON.parse(Buffer.from(bytes).toString('utf8')) as unknown }
  } catch {
    return { json: false }
  }
}

function sameBytes(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (a === undefined || b === undefined) return a === b
  return Buffer.from(a).equals(Buffer.from(b))
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
}
