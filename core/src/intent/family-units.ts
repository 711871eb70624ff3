import { isDeepStrictEqual } from 'node:util'
import type { Change, DescribedPart } from '@twinsync/sdk'
import { stableStringify } from '@twinsync/sdk/light'
import { differences, IDENTITY_FIELDS, valueAt, type UnitPath } from './json-units.js'
import { JsonDraft, NameLookup } from './json-draft.js'
import { askedOf, unappliedOf, type AskedUnit, type Sides } from './asked-units.js'
import type { OwnedPlace } from './description-edits.js'

/**
 * Promotion (IntentService.promote) of a family of documents: a provider's `D.json` and the
 * `D/NAME.json` beside it (describedFamily), which hold one list of named elements between them,
 * an element in one document or another as the layout goes (the files manifest: one document
 * below SPLIT_FROM entries, parts above; a new folder's entries in a new part). The checkpoint,
 * the plan's twin and the working twin may each be laid out differently (a revert or a pull across
 * the threshold, a part the plan's twin gains), so the places are matched by the element's name
 * (a manifest entry's path), wherever each tree holds it, never by the document (session 23:
 * taken document by document across layouts, the working twin mixed the two forms and listed
 * entries nobody asked for, so session 22 left such a domain unpromoted and a failed step was lost).
 *
 * A differing element's places are taken into the working twin where it holds the element (its
 * own layout kept); one it does not hold (an element the apply creates) goes into the document
 * the plan's twin holds it in, made when the working twin has no such document (readManifest
 * reads an entry in either form's documents). Other keys of the documents (the manifest's
 * `version`, `leftovers`) say the layout or describe the machine: never taken.
 */
export interface FamilyPromotion {
  /** New bytes of the working twin's documents (undefined: absent), with the mode a new one gets. */
  writes: Array<{ path: string; content: Uint8Array | undefined; mode: string | undefined }>
  units: AskedUnit[]
}

interface Holder {
  path: string
  value: Record<string, unknown>
}

interface Element {
  key: string
  step: { field: string; value: string }
  holders: Holder[]
}

/** A family's documents in three trees, promoted for the asked changes; a reason instead when a document is no family document (not JSON, a list without names). */
export function promoteFamily(
  docs: readonly Sides[],
  asked: readonly Change[],
  never: readonly OwnedPlace[],
  describedOf: (path: string) => readonly DescribedPart[],
): FamilyPromotion | { unreadable: string } {
  const parsed = new Map<string, { was?: unknown; wants?: unknown; now?: unknown }>()
  for (const d of docs) {
    // Speed: a document the three trees hold alike (the same blob, so the same bytes read once)
    // asks for nothing and keeps its entries as they are; only a duplicate of an entry there in
    // a changed document (a person's copy) goes unseen, and is then taken as D has it. Not parsed:
    // on 25,000 entries in 64 parts with one entry changed, promoteFamily took 2.8-5.4 s (load
    // above 20 on 2 cores) parsing and comparing every part three times, 8-53 ms this way (best-worst of 7).
    if (d.was !== undefined && d.was === d.wants && d.wants === d.now) continue
    const sides: { was?: unknown; wants?: unknown; now?: unknown } = {}
    for (const side of ['was', 'wants', 'now'] as const) {
      const bytes = d[side]
      if (bytes === undefined) continue
      const value = parseJson(bytes)
      if (value === undefined || !isObject(value.value)) return { unreadable: `${d.path} is no JSON object` }
      sides[side] = value.value
    }
    parsed.set(d.path, sides)
  }
  const index = (side: 'was' | 'wants' | 'now') => elementsOf([...parsed].flatMap(([path, s]) => (s[side] === undefined ? [] : [{ path, value: s[side] as Record<string, unknown> }])))
  const was = index('was')
  const wants = index('wants')
  const now = index('now')
  if ('unreadable' in was) return was
  if ('unreadable' in wants) return wants
  if ('unreadable' in now) return now
  const [c, d, w] = [was, wants, now]
  // The working twin laid out as the checkpoint (each entry both hold, in the checkpoint's documents
  // at least): only then is an applied place undone document by document. One laid out otherwise
  // (a pulled twin of the other form) is the person's whole intent, settled by the providers'
  // items after the apply; undone here, its copy of an applied entry went back to the old value
  // and stayed pending (files-manifest-split's pulled-twin test).
  const aligned = [...w].every(([id, e]) => c.get(id) === undefined || (c.get(id) as Element).holders.every((h) => e.holders.some((x) => x.path === h.path)))
  // The working twin's documents as taken so far (json-draft.ts: a manifest part of n entries took n² here).
  const results = new Map<string, { draft: JsonDraft; made: boolean }>()
  const lookup = new NameLookup()
  const idsOf = askedOf(asked)
  const isNever = unappliedOf(never, false)
  const units: AskedUnit[] = []
  for (const id of [...new Set([...c.keys(), ...d.keys()])].sort()) {
    const inC = c.get(id)
    const inD = d.get(id)
    const { key, step } = (inC ?? inD) as Element
    const before = inC?.holders[0]?.value
    // The plan's twin may hold an element twice (an edit carried across the threshold beside the machine's copy): the one that asks for something.
    const after = (inD?.holders.find((h) => !isDeepStrictEqual(h.value, before)) ?? inD?.holders[0])?.value
    if (isDeepStrictEqual(before, after)) continue
    const source = wrap(key, after)
    const checkpoint = wrap(key, before)
    const cHolders = (inC?.holders ?? []).map((h) => h.path).sort()
    const wHolders = w.get(id)?.holders ?? []
    // Where the working twin takes it: where it holds the element, else where the plan's twin does.
    const home = inD?.holders.find((h) => h.value === after)?.path
    const targets = wHolders.length > 0 ? wHolders.map((h) => h.path) : home === undefined ? [] : [home]
    // The working twin moved the element, or removed it, or the document the element would go into: a person's edit, kept.
    const moved = !isDeepStrictEqual(cHolders, wHolders.map((h) => h.path).sort())
    for (const unit of differences(before, after, [key, step])) {
      const ids = idsOf(unit)
      if (ids.length === 0) continue
      if (isNever('', unit)) continue
      const described = describedOf(home ?? cHolders[0] ?? '')
      if (described.some((part) => part.keys === undefined || (part.keys.length <= unit.length && part.keys.every((k, i) => k === '*' || k === stepName(unit[i]))))) continue
      const desired = valueAt(source, unit)
      for (const path of targets) {
        // Undone after the apply (adoptApplied): the checkpoint's value where the checkpoint holds the
        // element here, or holds it only where the working twin does not; otherwise the element leaves.
        const drop = cHolders.length === 0 || (!cHolders.includes(path) && wHolders.some((h) => cHolders.includes(h.path)))
        units.push({ path, at: unit, changes: ids, desired, ...(!aligned ? { kept: true as const } : drop ? { drop: true as const } : { checkpoint }) })
      }
      if (moved || targets.length === 0) continue
      for (const path of targets) {
        const doc = parsed.get(path)
        if (doc?.now === undefined && doc?.was !== undefined) continue
        const current = results.get(path) ?? (doc?.now === undefined ? { draft: new JsonDraft({ [key]: [] }, lookup), made: true } : { draft: new JsonDraft(doc.now, lookup), made: false })
        // A person's edit (or an earlier promotion) of the same place is the intent: kept.
        if (!isDeepStrictEqual(current.draft.at(unit), valueAt(checkpoint, unit)) && !current.made) continue
        current.draft.take(source, unit)
        results.set(path, current)
      }
    }
  }
  for (const u of units) if (results.get(u.path)?.made === true) u.made = true
  const modes = new Map(docs.map((s) => [s.path, s.nowMode ?? s.wantsMode]))
  return {
    writes: [...results].map(([path, r]) => ({ path, content: Buffer.from(stableStringify(r.draft.value())), mode: modes.get(path) })),
    units,
  }
}

/** A document whose list `key` holds only `element` (none when undefined): where valueAt finds the element's places. */
function wrap(key: string, element: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  Object.defineProperty(out, key, { value: element === undefined ? [] : [element], enumerable: true, writable: true, configurable: true })
  return out
}

/** Every named element of the documents' top-level lists of objects, by list and name, with the documents that hold it. */
function elementsOf(docs: ReadonlyArray<{ path: string; value: Record<string, unknown> }>): Map<string, Element> | { unreadable: string } {
  const out = new Map<string, Element>()
  for (const { path, value } of docs) {
    for (const key of Object.keys(value)) {
      const list = value[key]
      // Lists of anything else (the manifest's leftovers, file names) are no elements.
      if (!Array.isArray(list) || list.length === 0 || !list.every(isObject)) continue
      const field = IDENTITY_FIELDS.find((f) => list.every((e) => typeof (e as Record<string, unknown>)[f] === 'string'))
      if (field === undefined) return { unreadable: `${path}: the elements of "${key}" have no common name` }
      for (const element of list as Array<Record<string, unknown>>) {
        const name = element[field] as string
        const id = JSON.stringify([key, field, name])
        const found = out.get(id)
        if (found === undefined) out.set(id, { key, step: { field, value: name }, holders: [{ path, value: element }] })
        else found.holders.push({ path, value: element })
      }
    }
  }
  return out
}

function stepName(step: UnitPath[number] | undefined): string | undefined {
  return step === undefined ? undefined : typeof step === 'string' ? step : step.value
}

function parseJson(bytes: Uint8Array): { value: unknown } | undefined {
  try {
    return { value: JSON.parse(Buffer.from(bytes).toString('utf8')) as unknown }
  } catch {
    return undefined
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
}
