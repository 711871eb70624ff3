import { compareNames, get, own, type Step, type UnitPath } from './json-units.js'

/**
 * Many `takeFrom`s into one document and `valueAt`s of it, each in time of its place rather than
 * of the document: what promotion does once per asked place (family-units.ts, asked-units.ts).
 * Speed: `takeFrom` copies every list on its way down to the place and `valueAt` walks a list to
 * find an element, so a document whose list gets n places took time in n²: an `apply` of 30,000
 * folder creates under one folder (one manifest part of 30,000 entries) spent 18.4 s of its
 * 59.6 s of CPU in promotion and 2.7 s more undoing it after (session 38, CPU profile).
 *
 * A draft holds the document as taken so far. What it did not take into is the given value,
 * shared and never changed (neither it nor a value given to `take` may change while the draft is
 * used); an object it took into is its own copy, changed in place; a list it took into is a
 * ListNode. A list whose elements are objects named in strictly increasing order by the field a
 * step names (as every provider writes its lists) is held by name: `takeFrom` keeps such a list
 * so (a new element goes before the first one named after it, a replacement keeps its place), so
 * it is laid out in name order when read. Any other list is an array changed in place exactly as
 * `takeFrom` changes its copy, with an index of each name's first place. `at`, `take` and `value`
 * answer as `valueAt`, `takeFrom` and the value the chain of `takeFrom`s returns
 * (core/test/json-draft.test.ts compares them on random documents and places).
 */
export class JsonDraft {
  private root: unknown

  constructor(
    value: unknown,
    private readonly lookup: NameLookup = new NameLookup(),
  ) {
    this.root = value
  }

  /** valueAt(the document as taken so far, path); what the draft holds is copied out. */
  at(path: UnitPath): unknown {
    let node = this.root
    for (const step of path) {
      if (node === undefined) return undefined
      if (typeof step === 'string') node = isElement(node) ? own(node, step) : undefined
      else if (node instanceof ListNode) node = node.get(step)
      else node = Array.isArray(node) ? this.lookup.find(node, step.field, step.value) : undefined
    }
    return plain(node)
  }

  /** reachable(the document as taken so far, path) (json-units.ts). */
  reachable(path: UnitPath): UnitPath {
    let node = this.root
    for (let i = 0; i < path.length; i++) {
      const step = path[i] as Step
      if (typeof step === 'string') {
        if (!isElement(node)) return path.slice(0, i)
        node = own(node, step)
      } else if (node instanceof ListNode) node = node.get(step)
      else if (Array.isArray(node)) node = this.lookup.find(node, step.field, step.value)
      else return path.slice(0, i)
      if (node === undefined) return path.slice(0, i + 1)
    }
    return path
  }

  /** The document becomes takeFrom(the document, source, path). */
  take(source: unknown, path: UnitPath): void {
    this.root = this.takeInto(this.root, source, path, 0)
  }

  /** The document as taken so far: what the chain of takeFrom calls returns. */
  value(): unknown {
    return plain(this.root)
  }

  private takeInto(node: unknown, source: unknown, path: UnitPath, depth: number): unknown {
    if (depth === path.length) return structuredClone(source)
    const step = path[depth] as Step
    const from = source === undefined ? undefined : this.lookup.get(source, step)
    if (typeof step === 'string') {
      const obj = ownObject(node)
      const value = this.takeInto(own(obj, step), from, path, depth + 1)
      if (value === undefined) delete obj[step]
      // Defined, not assigned: a key "__proto__" (JSON.parse makes it an own key) stays a key.
      else Object.defineProperty(obj, step, { value, enumerable: true, writable: true, configurable: true })
      return obj
    }
    const list = node instanceof ListNode ? node : ListNode.of(Array.isArray(node) ? node : [], step.field)
    list.take(step, (element) => this.takeInto(element, from, path, depth + 1))
    return list
  }
}

/**
 * `valueAt` over values that do not change while it is used: a list's element found by name
 * through an index made the first time the list is asked (a short list is walked).
 */
export class NameLookup {
  private readonly indexes = new WeakMap<readonly unknown[], Map<string, Map<string, unknown>>>()

  at(value: unknown, path: UnitPath): unknown {
    let at = value
    for (const step of path) {
      if (at === undefined) return undefined
      at = this.get(at, step)
    }
    return at
  }

  get(value: unknown, step: Step): unknown {
    return typeof step === 'string' || !Array.isArray(value) ? get(value, step) : this.find(value, step.field, step.value)
  }

  /** reachable(value, path) (json-units.ts): `path` cut after its first step `value` has nothing at, or before one it has no object or list at. */
  reachable(value: unknown, path: UnitPath): UnitPath {
    let at = value
    for (let i = 0; i < path.length; i++) {
      const step = path[i] as Step
      if (typeof step === 'string' ? !isElement(at) : !Array.isArray(at)) return path.slice(0, i)
      at = this.get(at, step)
      if (at === undefined) return path.slice(0, i + 1)
    }
    return path
  }

  /** The first element of `list` that is an object whose `field` reads as `name`. */
  find(list: readonly unknown[], field: string, name: string): unknown {
    if (list.length < 16) return get(list, { field, value: name })
    let byField = this.indexes.get(list)
    if (byField === undefined) this.indexes.set(list, (byField = new Map()))
    let index = byField.get(field)
    if (index === undefined) {
      index = new Map()
      for (const e of list) {
        if (!isElement(e)) continue
        const n = String(own(e, field))
        if (!index.has(n)) index.set(n, e)
      }
      byField.set(field, index)
    }
    return index.get(name)
  }
}

/** Objects a draft copied or made (changed in place; never handed out: `plain` copies them). */
const owned = new WeakSet<object>()

function ownObject(node: unknown): Record<string, unknown> {
  if (isElement(node) && owned.has(node)) return node
  const obj = isElement(node) ? { ...node } : {}
  owned.add(obj)
  return obj
}

/**
 * The place of an element taken out of a list held as an array: the places after it keep their
 * numbers, so the index of first places stays true (session 39: 20,000 entries taken out of a
 * manifest list out of name order, each splice moved the rest and the index was made again: time
 * in n²). Not an element (isElement), so every walk passes over it; `elements` leaves it out, and
 * the array is compacted once half of it is holes.
 */
const HOLE: unique symbol = Symbol('hole')

/** A list a draft took into: by name while it is named in order by `field`, an array otherwise. */
class ListNode {
  /** By name: every element an object whose `field` is its key here; laid out in name order. */
  private byName: Map<string, unknown> | undefined
  /** The array form: the elements in order, and HOLEs where some were taken out. */
  private items: unknown[] | undefined
  private holes = 0
  /** The array's first place of each name by `firstField`; undefined once it may have moved. */
  private first: Map<string, number> | undefined
  private firstField = ''
  /** Names by `firstField` that more than one element has (taking out the first moves the name's first place). */
  private twice = new Set<string>()
  /** Look-ups walked since the array last moved: the index is made at the eighth (one that moves at each step is walked, as takeFrom does). */
  private walks = 0

  private constructor(private readonly field: string) {}

  static of(list: readonly unknown[], field: string): ListNode {
    const node = new ListNode(field)
    let last: string | undefined
    for (const e of list) {
      const name = isElement(e) ? String(own(e, field)) : undefined
      if (name === undefined || (last !== undefined && compareNames(last, name) >= 0)) {
        node.items = [...list]
        return node
      }
      last = name
    }
    node.byName = new Map(list.map((e) => [String(own(e as Record<string, unknown>, field)), e]))
    return node
  }

  /** The elements in order. */
  elements(): unknown[] {
    if (this.items !== undefined) return this.holes === 0 ? this.items : this.items.filter((e) => e !== HOLE)
    const byName = this.byName as Map<string, unknown>
    return [...byName.keys()].sort(compareNames).map((n) => byName.get(n))
  }

  /** Array.prototype.toString's answer for the list (a list as the name of an element: String(value) of takeFrom's lists). */
  toString(): string {
    return String(this.elements())
  }

  get(step: { field: string; value: string }): unknown {
    if (this.byName === undefined) {
      const i = this.indexOf(step.field, step.value)
      return i < 0 ? undefined : this.array()[i]
    }
    if (step.field === this.field) return this.byName.get(step.value)
    // By another field (no twin's list is asked so): walked, the list kept by name.
    return this.elements().find((e) => isElement(e) && String(own(e, step.field)) === step.value)
  }

  /** takeFrom's step into the list: `make` gets the element so named (undefined: none) and gives its value (undefined: it goes). */
  take(step: { field: string; value: string }, make: (element: unknown) => unknown): void {
    if (this.byName !== undefined && step.field === this.field) {
      const value = make(this.byName.get(step.value))
      if (value === undefined) this.byName.delete(step.value)
      else if (isElement(value) && own(value, this.field) === step.value) this.byName.set(step.value, value)
      else {
        // Named otherwise than its step (no twin's list makes one: the value is taken from an element of that name): an array from here on.
        const at = this.byName.has(step.value) ? [...this.byName.keys()].sort(compareNames).indexOf(step.value) : -1
        this.put(at, step, value)
      }
      return
    }
    const at = this.indexOf(step.field, step.value)
    this.put(at, step, make(at < 0 ? undefined : this.array()[at]))
  }

  /** takeFrom's change of its copy of the list, the element named by `step` at `at` (-1: none). */
  private put(at: number, step: { field: string; value: string }, value: unknown): void {
    const items = this.array()
    if (value === undefined) {
      if (at < 0) return
      items[at] = HOLE
      this.holes++
      if (this.holes > 32 && 2 * this.holes > items.length) {
        this.items = items.filter((e) => e !== HOLE)
        this.holes = 0
        this.first = undefined
        this.walks = 0
      } else if (this.first !== undefined && (step.field !== this.firstField || this.twice.has(step.value))) {
        // Another field's name, or a name another element has too: its first place is not known without a walk.
        this.first = undefined
        this.walks = 0
      } else this.first?.delete(step.value)
    } else if (at >= 0) {
      items[at] = value
      // The element taken into in place may have a new name (a step into its name field).
      if (!isElement(value) || String(own(value, step.field)) !== step.value || step.field !== this.firstField) {
        this.first = undefined
        this.walks = 0
      }
    } else {
      // Before the first element named after it; the others keep their order (the machine's).
      const after = items.findIndex((e) => isElement(e) && compareNames(String(own(e, step.field)), step.value) > 0)
      items.splice(after < 0 ? items.length : after, 0, value)
      this.first = undefined
      this.walks = 0
    }
  }

  /** The array form from here on. */
  private array(): unknown[] {
    if (this.items === undefined) {
      this.items = this.elements()
      this.byName = undefined
    }
    return this.items
  }

  private indexOf(field: string, name: string): number {
    const items = this.array()
    if (this.first === undefined || this.firstField !== field) {
      if (++this.walks < 8) return items.findIndex((e) => isElement(e) && String(own(e, field)) === name)
      this.walks = 0
      this.first = new Map()
      this.firstField = field
      this.twice = new Set()
      for (let i = 0; i < items.length; i++) {
        const e = items[i]
        if (!isElement(e)) continue
        const n = String(own(e, field))
        if (!this.first.has(n)) this.first.set(n, i)
        else this.twice.add(n)
      }
    }
    return this.first.get(name) ?? -1
  }
}

/** The plain value of a node: what the draft holds copied out, the rest as given. */
function plain(node: unknown): unknown {
  if (node instanceof ListNode) return node.elements().map(plain)
  if (!isElement(node) || !owned.has(node)) return node
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(node)) Object.defineProperty(out, key, { value: plain(node[key]), enumerable: true, writable: true, configurable: true })
  return out
}

/** An object takeFrom would step into by key or name an element by (a ListNode stands for an array). */
function isElement(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof ListNode)
}
