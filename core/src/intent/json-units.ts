import { isDeepStrictEqual } from 'node:util'

/** One step into a JSON value: an object key, or the element of an array that has `field` = `value`. */
export type Step = string | { field: string; value: string }
export type UnitPath = Step[]

/** Fields that name an element of a twin document's list (the files manifest's entries by path, …). */
const IDENTITY_FIELDS = ['path', 'name', 'id', 'unit', 'key']

/**
 * The smallest places where two JSON documents differ: a key of an object, or an element of a
 * list of named objects, as deep as both sides have the same shape. Twin documents are keyed
 * maps and named lists, so one package, one unit or one manifest entry is one place.
 */
export function differences(a: unknown, b: unknown, path: UnitPath = []): UnitPath[] {
  if (isDeepStrictEqual(a, b)) return []
  if (isObject(a) && isObject(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()
    return keys.flatMap((k) => differences(a[k], b[k], [...path, k]))
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    const field = identityOf(a, b)
    if (field === undefined) return [path]
    const ids = [...new Set([...a, ...b].map((e) => String((e as Record<string, unknown>)[field])))].sort()
    return ids.flatMap((value) => differences(find(a, field, value), find(b, field, value), [...path, { field, value }]))
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
    const value = takeFrom(obj[step], from, rest)
    if (value === undefined) delete obj[step]
    else obj[step] = value
    return obj
  }
  const list = Array.isArray(target) ? [...target] : []
  const index = list.findIndex((e) => isObject(e) && String(e[step.field]) === step.value)
  const value = takeFrom(index < 0 ? undefined : list[index], from, rest)
  if (value === undefined) {
    if (index >= 0) list.splice(index, 1)
  } else if (index >= 0) list[index] = value
  else {
    list.push(value)
    list.sort((x, y) => compare(String((x as Record<string, unknown>)[step.field]), String((y as Record<string, unknown>)[step.field])))
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

/** `path` cut after its first step that `value` has nothing at: the smallest place `value` can take whole. */
export function reachable(value: unknown, path: UnitPath): UnitPath {
  let at = value
  for (let i = 0; i < path.length; i++) {
    at = get(at, path[i] as Step)
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
    out[key] = []
  }
  return out
}

export function describePath(path: UnitPath): string {
  return path.map((s) => (typeof s === 'string' ? s : `[${s.field}=${s.value}]`)).join('.') || '(whole document)'
}

function get(value: unknown, step: Step): unknown {
  if (typeof step === 'string') return isObject(value) ? value[step] : undefined
  return Array.isArray(value) ? find(value, step.field, step.value) : undefined
}

function find(list: readonly unknown[], field: string, value: string): unknown {
  return list.find((e) => isObject(e) && String(e[field]) === value)
}

function identityOf(a: readonly unknown[], b: readonly unknown[]): string | undefined {
  const all = [...a, ...b]
  if (all.length === 0 || !all.every(isObject)) return undefined
  return IDENTITY_FIELDS.find((f) => {
    const unique = (list: readonly unknown[]) => new Set(list.map((e) => (e as Record<string, unknown>)[f])).size === list.length
    return all.every((e) => typeof (e as Record<string, unknown>)[f] === 'string') && unique(a) && unique(b)
  })
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
