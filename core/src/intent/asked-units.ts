import { isDeepStrictEqual } from 'node:util'
import type { Change, DescribedPart } from '@twinsync/sdk'
import { machinePathOf, stableStringify } from '@twinsync/sdk/light'
import { appendTo } from '../append-to.js'
import { differences, type UnitPath } from './json-units.js'
import { JsonDraft, NameLookup } from './json-draft.js'
import type { OwnedPlace } from './description-edits.js'

/** One place of a twin document an apply was asked to bring the machine to: its value in the desired tree. */
export interface AskedUnit {
  path: string
  /** The place in the JSON document; null: the whole file (a mirrored file, a document that is no JSON). */
  at: UnitPath | null
  /** The asked changes it belongs to (by their resource). */
  changes: readonly string[]
  /** The desired value (JSON; for a whole file: its bytes, undefined when the desired tree has none). */
  desired: unknown
  /**
   * A document that holds the checkpoint's value at `at`, for an element of a family of documents
   * (family-units.ts): the checkpoint may hold it in another document than the working twin, or
   * not at all. Undefined: the checkpoint's document at `path`.
   */
  checkpoint?: unknown
  /** Promotion made the document at `path` for it (the working twin had none): gone again when nothing else is left in it. */
  made?: true
  /**
   * The checkpoint does not hold this element in the document at `path` (it holds it nowhere, or
   * in another document the working twin also holds it in): undone, the whole element leaves it.
   */
  drop?: true
  /** Not undone after the apply: the working twin holds the family in another layout than the checkpoint (family-units.ts). */
  kept?: true
  /**
   * A place inside it is one its provider never applies (Provider.unapplied: the version of an apt
   * package added with the install of the archive's candidate): not undone after the apply, so the
   * snapshot merges the machine's values into the element and that place stays pending while the
   * machine's value differs (session 40: undone whole, the asked version was gone without a word).
   */
  holdsUnapplied?: true
}

/** One twin path's three sides: the checkpoint (the machine before the apply), the desired tree, the working twin. */
export interface Sides {
  path: string
  was: Uint8Array | undefined
  wants: Uint8Array | undefined
  now: Uint8Array | undefined
  wantsMode?: string | undefined
  nowMode?: string | undefined
}

/** What promotion does to one path: the new bytes of the working twin (undefined: absent), and the units taken. */
export interface PathPromotion {
  changed: boolean
  content: Uint8Array | undefined
  units: AskedUnit[]
}

/**
 * The places of one twin path where the desired tree differs from the checkpoint and that belong
 * to one of the asked changes: a place whose steps name the change's resource (a key
 * "nginx.service", a list element with path "/etc/x"), or the whole file that mirrors the
 * resource (filesystem/etc/x for /etc/x). `coarse`: every differing place counts, for `orphans`
 * (changes no place named). Places a provider never applies (`never`, Provider.unapplied) and
 * those that only describe the machine (`described`, Provider.describes) are not taken: they
 * would stay pending for ever. Where the working twin already differs from the
 * checkpoint (a person's edit, or an earlier promotion) it is kept as it is.
 */
export function promotePath(sides: Sides, asked: readonly Change[], never: readonly OwnedPlace[], described: readonly DescribedPart[], coarse?: readonly string[]): PathPromotion {
  const { path, was, wants, now } = sides
  const wasDoc = parseJson(was)
  const wantsDoc = parseJson(wants)
  const nowDoc = parseJson(now)
  const json = path.endsWith('.json') && !path.startsWith('filesystem/') && (was === undefined || wasDoc !== undefined) && (wants === undefined || wantsDoc !== undefined) && (now === undefined || nowDoc !== undefined)
  if (!json) {
    // A whole document its provider says the plan leaves out (a twin's document for a file the
    // last snapshot did not mirror, beside a chmod of it): not the asked change's, so neither
    // promoted nor undone after the apply (session 40: the chmod's undo removed the document).
    if (unappliedOf(never, true)(path, [])) return { changed: false, content: now, units: [] }
    const machine = machinePathOf(path)
    const ids = coarse ?? asked.filter((c) => c.resource === path || (machine !== undefined && c.resource === machine)).map((c) => c.id)
    if (ids.length === 0 || !same(now, was)) return { changed: false, content: now, units: ids.length === 0 ? [] : [{ path, at: null, changes: ids, desired: wants }] }
    return { changed: !same(now, wants), content: wants, units: [{ path, at: null, changes: ids, desired: wants }] }
  }
  const base = wasDoc?.value ?? {}
  const lookup = new NameLookup()
  const result = new JsonDraft(nowDoc?.value ?? {}, lookup)
  const idsOf = askedOf(asked)
  const isNever = unappliedOf(never, true)
  const holdsNever = holdsUnappliedOf(never)
  let changed = false
  const units: AskedUnit[] = []
  for (const unit of differences(base, wantsDoc?.value ?? {})) {
    const ids = coarse ?? idsOf(unit)
    if (ids.length === 0) continue
    if (isNever(path, unit)) continue
    // What only describes the machine (the files manifest's size and sha256: the text is the file's): nothing applies it.
    if (described.some((part) => part.keys === undefined || (part.keys.length <= unit.length && part.keys.every((k, i) => k === '*' || k === stepName(unit[i]))))) continue
    const desired = lookup.at(wantsDoc?.value, unit)
    units.push({ path, at: unit, changes: ids, desired, ...(holdsNever(path, unit) ? { holdsUnapplied: true as const } : {}) })
    // A person's edit (or an earlier promotion) of the same place is the intent: kept; so is a document the person removed.
    if ((now === undefined && was !== undefined) || !isDeepStrictEqual(result.at(unit), lookup.at(base, unit))) continue
    result.take(wantsDoc?.value, unit)
    changed = true
  }
  if (!changed) return { changed, content: now, units }
  return { changed, content: Buffer.from(stableStringify(result.value())), units }
}

/**
 * The ids of the asked changes a place belongs to, as `asked` lists them: those whose resource
 * one of the place's steps names (a key "nginx.service", an element with path "/etc/x"). Through
 * a map by resource: the list filtered for each place was n² for n places (session 38).
 */
export function askedOf(asked: readonly Change[]): (unit: UnitPath) => string[] {
  const byResource = new Map<string, number[]>()
  asked.forEach((c, i) => appendTo(byResource, c.resource, i))
  return (unit) => {
    let found: number[] = []
    const names = new Set(unit.map((s) => (typeof s === 'string' ? s : s.value)))
    for (const name of names) {
      const ids = byResource.get(name)
      if (ids !== undefined) found = found.length === 0 ? ids : [...found, ...ids].sort((a, b) => a - b)
    }
    return found.map((i) => (asked[i] as Change).id)
  }
}

/**
 * Whether a place is one of `places` (Provider.unapplied) or inside one; of the same document
 * when `samePath`. Through a set of the places' steps: walked per place, n places of n entries
 * took n² (session 38). A place whose step is no plain `{ field, value }` is compared as before.
 */
export function unappliedOf(places: readonly OwnedPlace[], samePath: boolean): (path: string, unit: UnitPath) => boolean {
  const keys = new Set<string>()
  const others: OwnedPlace[] = []
  const key = (path: string, at: readonly unknown[]) => JSON.stringify([samePath ? path : '', ...at.map((s) => (typeof s === 'string' ? s : [(s as { field: string }).field, (s as { value: string }).value]))])
  for (const p of places) {
    if (p.at.every((s) => typeof s === 'string' || plainStep(s))) keys.add(key(p.path, p.at))
    else others.push(p)
  }
  return (path, unit) => {
    for (let i = 0; i <= unit.length; i++) if (keys.has(key(path, unit.slice(0, i)))) return true
    return others.some((p) => (!samePath || p.path === path) && p.at.length <= unit.length && p.at.every((s, i) => isDeepStrictEqual(s, unit[i])))
  }
}

/**
 * Whether one of `places` (Provider.unapplied) lies inside a place, below it, in the same document.
 * Through a set of the places' proper prefixes, as unappliedOf (n places of n units).
 */
export function holdsUnappliedOf(places: readonly OwnedPlace[]): (path: string, unit: UnitPath) => boolean {
  const key = (path: string, at: readonly unknown[]) => JSON.stringify([path, ...at.map((s) => (typeof s === 'string' ? s : [(s as { field: string }).field, (s as { value: string }).value]))])
  const prefixes = new Set<string>()
  const others: OwnedPlace[] = []
  for (const p of places) {
    if (p.at.every((s) => typeof s === 'string' || plainStep(s))) for (let i = 0; i < p.at.length; i++) prefixes.add(key(p.path, p.at.slice(0, i)))
    else others.push(p)
  }
  return (path, unit) => prefixes.has(key(path, unit)) || others.some((p) => p.path === path && p.at.length > unit.length && unit.every((s, i) => isDeepStrictEqual(s, p.at[i])))
}

/** A step that is deeply equal to a place's step `{ field, value }` exactly when its field and value are. */
function plainStep(s: unknown): boolean {
  if (s === null || typeof s !== 'object' || Object.getPrototypeOf(s) !== Object.prototype || Object.getOwnPropertySymbols(s).length > 0) return false
  const keys = Object.keys(s)
  const step = s as { field?: unknown; value?: unknown }
  return keys.length === 2 && typeof step.field === 'string' && typeof step.value === 'string' && Object.hasOwn(s, 'field') && Object.hasOwn(s, 'value')
}

/**
 * The working twin's document (`now`) with the places of applied changes given `onto`'s value
 * (the checkpoint's: the snapshot after the apply then takes the machine's, as for any drift),
 * where it still holds the desired value promotion put there. Undefined: nothing to change.
 */
export function adoptApplied(path: string, now: Uint8Array | undefined, onto: Uint8Array | undefined, units: readonly AskedUnit[]): { content: Uint8Array | undefined } | undefined {
  const whole = units.find((u) => u.at === null)
  if (whole !== undefined) return same(now, whole.desired as Uint8Array | undefined) && !same(now, onto) ? { content: onto } : undefined
  const nowDoc = parseJson(now)
  const ontoDoc = parseJson(onto)
  if (nowDoc === undefined || (onto !== undefined && ontoDoc === undefined)) return undefined
  const lookup = new NameLookup()
  const draft = new JsonDraft(nowDoc.value, lookup)
  let changed = false
  for (const unit of units) {
    if (unit.kept === true || unit.holdsUnapplied === true) continue
    const at = unit.at as UnitPath
    const source = unit.drop === true ? {} : (unit.checkpoint ?? ontoDoc?.value)
    const there = draft.at(at)
    if (!isDeepStrictEqual(there, unit.desired) || isDeepStrictEqual(there, lookup.at(source, at))) continue
    draft.take(source, unit.drop === true ? at.slice(0, 2) : at)
    changed = true
  }
  if (!changed) return undefined
  const result = draft.value()
  // A document promotion made for an element (a part the plan's twin had), nothing else left in it: gone again.
  if (onto === undefined && units.some((u) => u.made === true) && isEmptied(result)) return { content: undefined }
  return { content: Buffer.from(stableStringify(result)) }
}

/** An object whose every value is an empty list. */
function isEmptied(value: unknown): boolean {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && Object.values(value).every((v) => Array.isArray(v) && v.length === 0)
}

function stepName(step: UnitPath[number] | undefined): string | undefined {
  return step === undefined ? undefined : typeof step === 'string' ? step : step.value
}

function parseJson(bytes: Uint8Array | undefined): { value: unknown } | undefined {
  if (bytes === undefined) return undefined
  try {
    return { value: JSON.parse(Buffer.from(bytes).toString('utf8')) as unknown }
  } catch {
    return undefined
  }
}

function same(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (a === undefined || b === undefined) return a === b
  return Buffer.from(a).equals(Buffer.from(b))
}
