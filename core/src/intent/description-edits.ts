import { isDeepStrictEqual } from 'node:util'
import type { DescribedPart, PathClaims, Provider, UnappliedPlace } from '@twinsync/sdk'
import { isApplicable, stableStringify } from '@twinsync/sdk'
import { visibleName } from '../plan/command-text.js'
import { ownerOfTwinPath } from '../snapshot/twin-ownership.js'
import { readBlobs } from '../twin/git.js'
import { changedBetween, entriesOf, treeOf } from './intent-git.js'
import { IDENTITY_FIELDS, describePath, reachable, takeFrom, valueAt, type Step, type UnitPath } from './json-units.js'

/** The stable code of an edit no provider applies: status, plan and the control panel say it. */
export const DESCRIPTION_EDIT_NOT_APPLIED = 'DESCRIPTION_EDIT_NOT_APPLIED'

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
}

/** A place an applying provider's `unapplied` named, with the provider (intent-service.ts checks it owns the document). */
export interface OwnedPlace extends UnappliedPlace {
  provider: Provider
}

export interface DescriptionView {
  providers: readonly Provider[]
  claims: PathClaims
}

/** The description parts of the documents of `path`'s owner: declared, or the whole document of a provider that applies nothing. */
export function describedPartsOf(path: string, view: DescriptionView): { provider: Provider; parts: DescribedPart[] } | undefined {
  const owner = ownerOfTwinPath(path, view.providers, view.claims)
  if (owner === undefined) return undefined
  if (!isApplicable(owner)) {
    // Facts: collected from the machine at every snapshot; nothing applies them.
    return { provider: owner, parts: [{ path, appliedFrom: `${path} records what the machine reports (${owner.name} facts) at each snapshot; nothing applies it. Change the machine itself` }] }
  }
  const parts = (owner.describes ?? []).filter((p) => p.path === path)
  return parts.length === 0 ? undefined : { provider: owner, parts }
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
  changedPaths?: readonly string[],
  /** The places applying providers said their plans leave out (Provider.unapplied): judged like described parts. */
  unapplied: readonly OwnedPlace[] = [],
): Promise<DescriptionEdit[]> {
  const observedTree = await treeOf(dir, observed)
  const placed = new Set(unapplied.map((p) => p.path))
  const paths = (changedPaths ?? (await changedBetween(dir, observedTree, tree)).map((e) => e.path)).filter((p) => isDescribed(p, view) || placed.has(p))
  if (paths.length === 0) return []
  const [was, wants] = await Promise.all([entriesOf(dir, observedTree, paths), entriesOf(dir, tree, paths)])
  const blobs = await readBlobs(dir, [...was.values(), ...wants.values()].map((e) => e.blob))
  const bytes = (e: { blob: string } | undefined) => (e === undefined ? undefined : blobs.get(e.blob))
  const out: DescriptionEdit[] = []
  for (const path of paths) {
    const found = describedPartsOf(path, view)
    const places = unapplied.filter((p) => p.path === path)
    const provider = found?.provider ?? (places[0] as OwnedPlace).provider
    out.push(...editsOf(path, provider, found?.parts ?? [], bytes(was.get(path)), bytes(wants.get(path)), places))
  }
  return out
}

/** The edits of one document between its observed and intended bytes. */
export function editsOf(
  path: string,
  provider: Provider,
  parts: readonly DescribedPart[],
  observed: Uint8Array | undefined,
  intended: Uint8Array | undefined,
  places: readonly UnappliedPlace[] = [],
): DescriptionEdit[] {
  const out: DescriptionEdit[] = []
  const a = parse(observed)
  const b = parse(intended)
  const base = { provider: provider.name, category: provider.category as string, path }
  const discard = (id: string) => `or drop the edit: \`twinsync discard ${id}\`.`
  for (const part of parts) {
    if (part.keys === undefined) {
      const same = a.json && b.json ? isDeepStrictEqual(a.value, b.value) : sameBytes(observed, intended)
      if (same) continue
      const id = `${provider.name}:describe:${path}`
      const where = a.json && b.json ? placesOf(a.value, b.value) : ''
      const what = intended === undefined ? `delete ${path}` : observed === undefined ? `add ${path}` : `change ${path}${where}`
      out.push({ ...base, id, summary: what, nextStep: `${part.appliedFrom}; ${discard(id)}` })
      continue
    }
    // A part of a JSON document: only where the intended one says something.
    if (!b.json) continue
    for (const unit of expand(b.value, part.keys)) {
      const want = valueAt(b.value, unit)
      if (want === undefined || isDeepStrictEqual(want, a.json ? valueAt(a.value, unit) : undefined)) continue
      const id = `${provider.name}:describe:${path}#${unit.map(stepText).join('/')}`
      out.push({ ...base, unit, id, summary: `set ${visibleName(describePath(unit))} in ${path} to ${short(want)}`, nextStep: `${part.appliedFrom}; ${discard(id)}` })
    }
  }
  // The places its plan leaves out: there, a value the intended document leaves out asks for its removal.
  const seen = new Set(out.map((e) => e.id))
  for (const place of places) {
    const unit: UnitPath = place.at.map((s) => (typeof s === 'string' ? s : { field: s.field, value: s.value }))
    if (unit.length === 0) {
      const same = a.json && b.json ? isDeepStrictEqual(a.value, b.value) : sameBytes(observed, intended)
      const id = `${provider.name}:describe:${path}`
      if (same || seen.has(id)) continue
      seen.add(id)
      const what = intended === undefined ? `delete ${path}` : observed === undefined ? `add ${path}` : `change ${path}${a.json && b.json ? placesOf(a.value, b.value) : ''}`
      out.push({ ...base, id, summary: what, nextStep: `${place.nextStep}; ${discard(id)}`, unapplied: true })
      continue
    }
    if (!a.json || !b.json) continue
    const want = valueAt(b.value, unit)
    const was = valueAt(a.value, unit)
    const id = `${provider.name}:describe:${path}#${unit.map(stepText).join('/')}`
    if (isDeepStrictEqual(want, was) || seen.has(id)) continue
    seen.add(id)
    const name = visibleName(describePath(unit))
    const summary = want === undefined ? `remove ${name} from ${path}` : `set ${name} in ${path} to ${short(want)}`
    out.push({ ...base, unit, id, summary, nextStep: `${place.nextStep}; ${discard(id)}`, unapplied: true })
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
  let value = a.value
  // A place inside an element the machine's document lacks brings the person's element whole (never a half entry).
  for (const e of edits) value = takeFrom(value, b.value, reachable(value, e.unit as UnitPath))
  return Buffer.from(stableStringify(value))
}

/** The intended document with these edits taken back to the observed values (discard). */
export function dropEdits(observed: Uint8Array | undefined, intended: Uint8Array | undefined, edits: readonly DescriptionEdit[]): Uint8Array | undefined {
  if (edits.some((e) => e.unit === undefined)) return observed
  const a = parse(observed)
  const b = parse(intended)
  if (!b.json) return observed
  let value = b.value
  for (const e of edits) value = takeFrom(value, a.json ? a.value : undefined, e.unit as UnitPath)
  return Buffer.from(stableStringify(value))
}

/** Every concrete place of `value` the keys name: "*" is each key of an object, each named element of a list. */
function expand(value: unknown, keys: readonly string[], at: UnitPath = []): UnitPath[] {
  if (keys.length === 0) return [at]
  const [key, ...rest] = keys as [string, ...string[]]
  const here = valueAt(value, at)
  if (key !== '*') return isObject(here) && Object.hasOwn(here, key) ? expand(value, rest, [...at, key]) : []
  if (isObject(here)) return Object.keys(here).flatMap((k) => expand(value, rest, [...at, k]))
  if (!Array.isArray(here)) return []
  const steps: Step[] = []
  for (const element of here) {
    if (!isObject(element)) continue
    const field = IDENTITY_FIELDS.find((f) => typeof element[f] === 'string')
    if (field !== undefined) steps.push({ field, value: element[field] as string })
  }
  return steps.flatMap((s) => expand(value, rest, [...at, s]))
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
