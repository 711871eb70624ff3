/**
 * JSON with sorted object keys, two-space indent and a final newline, so that the same state
 * always gives byte-identical twin files and Git diffs show only real changes.
 * Array order is kept: providers sort their lists themselves, by a key that means something.
 */
export function stableStringify(value: unknown): string {
  return JSON.stringify(sortKeys(value), null, 2) + '\n'
}

/**
 * The value with every object's keys in sorted order, undefined properties dropped. Speed: an
 * array or plain object that is already so is returned as it is instead of copied (the files
 * manifest of the scale root, 25,000 entries built in sorted key order: 60–90 ms of copying and
 * its garbage → about 10 ms of checking).
 */
function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) {
    let out: unknown[] | undefined
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i]
      const sorted = sortKeys(v)
      if (sorted !== v) {
        out ??= value.slice()
        out[i] = sorted
      }
    }
    return out ?? value
  }
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    const record = value as Record<string, unknown>
    const keys = Object.keys(record)
    const proto: unknown = Object.getPrototypeOf(value)
    // Children sorted while checking are kept, so that none is sorted twice when the object is copied.
    let known: Map<string, unknown> | undefined
    if (proto === Object.prototype || proto === null) {
      let i = 0
      let changed: unknown = record
      for (; i < keys.length; i++) {
        const key = keys[i] as string
        const v = record[key]
        if (v === undefined || (i > 0 && (keys[i - 1] as string) >= key)) break
        const sorted = sortKeys(v)
        if (sorted !== v) {
          changed = sorted
          break
        }
      }
      if (i === keys.length) return value
      known = new Map()
      for (let j = 0; j < i; j++) known.set(keys[j] as string, record[keys[j] as string])
      if (changed !== record) known.set(keys[i] as string, changed)
    }
    const out: Record<string, unknown> = {}
    for (const key of keys.sort()) {
      const v = record[key]
      if (v === undefined) continue
      const sorted = known?.has(key) === true ? known.get(key) : sortKeys(v)
      // A key "__proto__" (JSON.parse makes it an own key) defined, not assigned: kept as a key.
      if (key === '__proto__') Object.defineProperty(out, key, { value: sorted, enumerable: true, writable: true, configurable: true })
      else out[key] = sorted
    }
    return out
  }
  return value
}

/** Compare two strings by code point, the same on every locale (unlike localeCompare). */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** Sort a copy of `items` by a string key, locale-independent. */
export function sortBy<T>(items: readonly T[], key: (item: T) => string): T[] {
  return [...items].sort((x, y) => compareStrings(key(x), key(y)))
}
