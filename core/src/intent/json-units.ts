import { isDeepStrictEqual } from 'node:util'

/** One step into a JSON value: an object key, or the element of an array that has `field` = `value`. */
export type Step = string | { field: string; value: string }
export type UnitPath = Step[]

/** Fields that name an element of a twin document's list (the files manifest's entries by path, …). */
export const IDENTITY_FIELDS = ['path', 'name', 'id', 'unit', 'key']

/**
 * The smallest places where two JSON documents differ: a key of an object, or an element of a
 * list of named objects, as deep as both sides have the same shape. Twin documents are keyed
 * maps and named lists, so one package, one unit or one manifest entry is one place. A list is
 * taken element by element only where both sides hold it sorted by the name (identityOf), so its
 * order says nothing: a list in any other order (a reordered one, rules whose order counts) is
 * one place, whole.
 */
export function differences(a: unknown, b: unknown, path: UnitPath = []): UnitPath[] {
  if (isDeepStrictEqual(a, b)) return []
  if (isObject(a) && isObject(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()
    return keys.flatMap((k) => differences(own(a, k), own(b, k), [...path, k]))
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    const field = identityOf(a, b)
    if (field === undefined) return [path]
    const ids = [...new Set([...a, ...b].map((e) => String((e as Record<string, unknown>)[field])))].sort()
    // By name through a map (both lists are named in strictly increasing order, so each name once):
    // a find per name made two lists of n elements n² (session 38).
    const [inA, inB] = [byName(a, field), byName(b, field)]
    return ids.flatMap((value) => differences(inA.get(value), inB.get(value), [...path, { field, value }]))
  }
  return [path]
}

/** A copy of `target` with the value at `path` taken from `source` (removed where `source` has none). */
export function takeFrom(target: unknown, source: unknown, path: UnitPath): unknown {
  if (path.length === 0) return structuredClone(source)
  const [step, ...rest] = path as [Step, ...Step[]]
  const from = source === undefined ? undefined : get(source, step)
  if (typeof step === 'string') {
    const obj = isObject(target) ? { ...target } : {}
    const value = takeFrom(own(obj, step), from, rest)
    if (value === undefined) delete obj[step]
    // Defined, not assigned: a key "__proto__" (JSON.parse makes it an own key) stays a key.
    else Object.defineProperty(obj, step, { value, enumerable: true, writable: true, configurable: true })
    return obj
  }
  const list = Array.isArray(target) ? [...target] : []
  const index = list.findIndex((e) => isObject(e) && String(own(e, step.field)) === step.value)
  const value = takeFrom(index < 0 ? undefined : list[index], from, rest)
  if (value === undefined) {
    if (index >= 0) list.splice(index, 1)
  } else if (index >= 0) list[index] = value
  else {
    // Before the first element named after it; the others keep their order (the machine's).
    const after = list.findIndex((e) => isObject(e) && compareNames(String(own(e, step.field)), step.value) > 0)
    list.splice(after < 0 ? list.length : after, 0, value)
  }
  return list
}

/** The value at `path` in `value`; undefined where a step finds nothing. */
export function valueAt(value: unknown, path: UnitPath): unknown {
  let at = value
  for (const step of path) {
    if (at === undefined) return undefined
    at = get(at, step)
  }
  return at
}

/**
 * `path` cut after its first step that `value` has nothing at, or before one that `value` has
 * something else than an object or a list at (the machine made a map a string): the smallest
 * place `value` can take whole.
 */
export function reachable(value: unknown, path: UnitPath): UnitPath {
  let at = value
  for (let i = 0; i < path.length; i++) {
    const step = path[i] as Step
    if (typeof step === 'string' ? !isObject(at) : !Array.isArray(at)) return path.slice(0, i)
    at = get(at, step)
    if (at === undefined) return path.slice(0, i + 1)
  }
  return path
}

/**
 * A document of named lists only (`{"entries": [{"path": …}, …]}`, say) with every list
 * emptied: what is left of it once every element is gone; undefined for any other shape.
 */
export function emptied(value: unknown): Record<string, unknown[]> | undefined {
  if (!isObject(value)) return undefined
  const out: Record<string, unknown[]> = {}
  for (const [key, list] of Object.entries(value)) {
    if (!Array.isArray(list) || (list.length > 0 && identityOf(list, []) === undefined)) return undefined
    Object.defineProperty(out, key, { value: [], enumerable: true, writable: true, configurable: true })
  }
  return out
}

/**
 * The names a list of named objects holds twice, as `entries[path=/etc/x]` (the keys down to the
 * list, "[]" for a step through a list). What a line merge makes when both sides added the same
 * element in different forms (the person's entry by hand, the machine's as collected): each
 * side's lines apart, so no conflict, and the element twice. A list's name is the first
 * identity field every element holds as a string; order does not matter here.
 */
export function namedTwice(value: unknown, path = '', out = new Set<string>()): Set<string> {
  if (Array.isArray(value)) {
    const field = value.length > 1 ? IDENTITY_FIELDS.find((f) => value.every((e) => isObject(e) && typeof own(e, f) === 'string')) : undefined
    if (field !== undefined) {
      const seen = new Set<string>()
      for (const e of value) {
        const name = own(e as Record<string, unknown>, field) as string
        if (seen.has(name)) out.add(`${path}[${field}=${name}]`)
        seen.add(name)
      }
    }
    for (const e of value) namedTwice(e, `${path}[]`, out)
  } else if (isObject(value)) {
    for (const key of Object.keys(value)) namedTwice(value[key], path === '' ? key : `${path}.${key}`, out)
  }
  return out
}

export function describePath(path: UnitPath): string {
  return path.map((s) => (typeof s === 'string' ? s : `[${s.field}=${s.value}]`)).join('.') || '(whole document)'
}

/** One step of valueAt. */
export function get(value: unknown, step: Step): unknown {
  if (typeof step === 'string') return isObject(value) ? own(value, step) : undefined
  return Array.isArray(value) ? find(value, step.field, step.value) : undefined
}

/** A key's own value only: "constructor" or "__proto__" of an object without such a key is nothing. */
export function own(value: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(value, key) ? value[key] : undefined
}

function find(list: readonly unknown[], field: string, value: string): unknown {
  return list.find((e) => isObject(e) && String(own(e, field)) === value)
}

/** Each name's first element of a list (its objects), as find finds them. */
function byName(list: readonly unknown[], field: string): Map<string, unknown> {
  const out = new Map<string, unknown>()
  for (const e of list) {
    if (!isObject(e)) continue
    const name = String(own(e, field))
    if (!out.has(name)) out.set(name, e)
  }
  return out
}

/** The field that names every element of both lists, each list strictly in that field's order. */
function identityOf(a: readonly unknown[], b: readonly unknown[]): string | undefined {
  const all = [...a, ...b]
  if (all.length === 0 || !all.every(isObject)) return undefined
  return IDENTITY_FIELDS.find((f) => {
    const names = (list: readonly unknown[]) => list.map((e) => own(e as Record<string, unknown>, f))
    const sorted = (list: readonly unknown[]) => names(list).every((n, i, ns) => typeof n === 'string' && (i === 0 || compareNames(ns[i - 1] as string, n) < 0))
    return sorted(a) && sorted(b)
  })
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
}

/** The order of names in a list (a new element goes before the first one named after it). */
export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
