import assert from 'node:assert/strict'
import { JsonDraft, NameLookup } from '../src/intent/json-draft.js'
import { differences, reachable, takeFrom, valueAt, type Step, type UnitPath } from '../src/intent/json-units.js'
import { assertLinearTime } from '../../test/support/linear-time.js'

// JsonDraft (promotion's many takes into one document) answers as the chain of takeFrom and
// valueAt calls it stands for, on random documents: lists named in order (held by name), out of
// order, named twice, with other things among the elements, steps by another field, into an
// element's name, a key "__proto__".

/** A small repeatable random source (mulberry32). */
function random(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

// Lists of up to 24 names: NameLookup indexes one of 16 or more.
const NAMES = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', 'p', 'q', 'r', 's', 't', 'u', 'v', '10', '9']
const KEYS = ['entries', 'mode', 'sub', '__proto__', 'path', 'name']

function document(r: () => number, depth = 0): unknown {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)] as T
  const kind = r()
  if (depth > 3 || kind < 0.2) return pick([1, 'x', null, true, '0644'])
  if (kind < 0.55) {
    const out: Record<string, unknown> = {}
    for (const key of KEYS) if (r() < 0.4) Object.defineProperty(out, key, { value: document(r, depth + 1), enumerable: true, writable: true, configurable: true })
    return out
  }
  // A list: mostly named in order, sometimes not, with a stray value now and then.
  const names = NAMES.filter(() => r() < 0.5)
  if (r() < 0.7) names.sort()
  else if (r() < 0.5) for (let i = 0; i < 3; i++) names.push(pick(NAMES))
  const list: unknown[] = names.map((name) => {
    const e: Record<string, unknown> = { [r() < 0.9 ? 'path' : 'name']: name }
    if (r() < 0.6) e.mode = pick(['0644', '0600'])
    if (r() < 0.3) e.sub = document(r, depth + 1)
    return e
  })
  if (r() < 0.1) list.splice(Math.floor(r() * list.length), 0, pick([1, 'x', [1, 2]]))
  return list
}

/** A place in `value` (mostly one it has, by either name field), or anywhere. */
function place(r: () => number, value: unknown): UnitPath {
  const steps: Step[] = []
  let at = value
  while (r() < 0.75 && steps.length < 4) {
    const field = r() < 0.6 ? 'path' : 'name'
    if (Array.isArray(at) && at.length > 0 && r() < 0.8) {
      const e = at[Math.floor(r() * at.length)] as Record<string, unknown> | null
      const name = e !== null && typeof e === 'object' ? String(e[field] ?? e.path ?? e.name) : 'a'
      steps.push({ field, value: name })
      at = e
    } else if (at !== null && typeof at === 'object' && !Array.isArray(at) && Object.keys(at).length > 0 && r() < 0.8) {
      const keys = Object.keys(at)
      const key = keys[Math.floor(r() * keys.length)] as string
      steps.push(key)
      at = (at as Record<string, unknown>)[key]
    } else {
      steps.push(r() < 0.5 ? (KEYS[Math.floor(r() * KEYS.length)] as string) : { field, value: NAMES[Math.floor(r() * NAMES.length)] as string })
      at = undefined
    }
  }
  return steps
}

describe('JsonDraft: takes into one document in time of their places', () => {
  it('answers as takeFrom and valueAt do, on 1,000 random documents of 12 steps each (key order too)', function () {
    this.timeout(120_000)
    const r = random(38)
    for (let round = 0; round < 1000; round++) {
      const start = r() < 0.7 ? { entries: document(r, 1), mode: '0644' } : document(r)
      const sources = Array.from({ length: 3 }, () => (r() < 0.5 ? { entries: document(r, 1) } : document(r)))
      const lookup = new NameLookup()
      const draft = new JsonDraft(start, lookup)
      let value: unknown = start
      for (let step = 0; step < 12; step++) {
        const at = place(r, r() < 0.5 ? value : sources[0])
        if (r() < 0.4) {
          assert.deepEqual(draft.at(at), valueAt(value, at), `round ${round} step ${step}: at ${JSON.stringify(at)}`)
          assert.deepEqual(draft.reachable(at), reachable(value, at), `round ${round} step ${step}: reachable ${JSON.stringify(at)}`)
          const source = sources[Math.floor(r() * sources.length)]
          assert.deepEqual(lookup.at(source, at), valueAt(source, at))
          assert.deepEqual(lookup.reachable(source, at), reachable(source, at))
          continue
        }
        // Mostly places where a source differs from the document, as promotion takes them.
        const source = sources[Math.floor(r() * sources.length)]
        const found = differences(value, source)
        let unit = r() < 0.7 && found.length > 0 ? (found[Math.floor(r() * found.length)] as UnitPath) : at
        // Now and then by another field than the one the list is named by.
        if (r() < 0.3) unit = unit.map((s) => (typeof s === 'string' ? s : { field: r() < 0.5 ? 'path' : 'name', value: s.value }))
        draft.take(source, unit)
        value = takeFrom(value, source, unit)
        assert.equal(JSON.stringify(draft.value()), JSON.stringify(value), `round ${round} step ${step}: take ${JSON.stringify(unit)}`)
        // Looked at again where it was taken, by either name field: a list held by name answers for another field too.
        for (let i = 1; i <= unit.length; i++) {
          for (const field of ['path', 'name']) {
            const near = unit.slice(0, i).map((s) => (typeof s === 'string' ? s : { field, value: s.value }))
            assert.deepEqual(draft.at(near), valueAt(value, near), `round ${round} step ${step}: at ${JSON.stringify(near)}`)
          }
        }
      }
      assert.equal(JSON.stringify(draft.value()), JSON.stringify(value))
    }
  })

  it('30,000 entries created in one list of 30,000 named ones, each looked at first: under a second of CPU (takeFrom and valueAt: minutes)', function () {
    this.timeout(300_000)
    const name = (i: number) => `/etc/gen/d${String(i).padStart(6, '0')}`
    const existing = Array.from({ length: 30_000 }, (_, i) => ({ path: name(2 * i + 1), type: 'directory' }))
    const wanted = Array.from({ length: 60_000 }, (_, i) => ({ path: name(i), type: 'directory' }))
    const source = { entries: wanted }
    const started = process.cpuUsage()
    const draft = new JsonDraft({ entries: existing, version: 1 })
    for (let i = 0; i < 60_000; i += 2) {
      const unit: UnitPath = ['entries', { field: 'path', value: name(i) }]
      assert.equal(draft.at(unit), undefined)
      draft.take(source, unit)
    }
    const out = draft.value() as { entries: Array<{ path: string }> }
    const used = process.cpuUsage(started)
    assert.deepEqual(out.entries.map((e) => e.path), wanted.map((e) => e.path))
    assert.ok(used.user + used.system < 2_000_000, `${((used.user + used.system) / 1e6).toFixed(1)} s of CPU`)
  })

  it('answers as takeFrom and valueAt do on long lists out of name order, some names twice, over many takes (the index of first places and the holes of what was taken out)', function () {
    this.timeout(120_000)
    const r = random(39)
    const pool = Array.from({ length: 40 }, (_, i) => `n${(i * 7919) % 97}`)
    const pick = () => pool[Math.floor(r() * pool.length)] as string
    for (let round = 0; round < 150; round++) {
      const list = Array.from({ length: 30 + Math.floor(r() * 50) }, () => ({ path: pick(), mode: r() < 0.5 ? '0644' : '0600' }))
      const start = { entries: list }
      const draft = new JsonDraft(start)
      let value: unknown = start
      for (let step = 0; step < 120; step++) {
        const unit: UnitPath = ['entries', { field: 'path', value: pick() }]
        // Mostly taken out (a source without it), else a new mode or a new element.
        const kind = r()
        const source = kind < 0.6 ? { entries: [] } : { entries: [{ path: (unit[1] as { value: string }).value, mode: kind < 0.8 ? '0700' : '0755' }] }
        assert.deepEqual(draft.at(unit), valueAt(value, unit), `round ${round} step ${step}: at`)
        const into: UnitPath = r() < 0.9 ? unit : [...unit, 'mode']
        draft.take(source, into)
        value = takeFrom(value, source, into)
        if (step % 10 === 9) assert.equal(JSON.stringify(draft.value()), JSON.stringify(value), `round ${round} step ${step}`)
      }
      assert.equal(JSON.stringify(draft.value()), JSON.stringify(value))
    }
  })

  it('20,000 entries taken out of a list out of name order (reversed), each looked at first: in time linear in the list (session 39: each splice moved the rest and the index was made again)', function () {
    this.timeout(300_000)
    const name = (i: number) => `/etc/gen/d${String(i).padStart(6, '0')}`
    const n = 20_000
    const reversed = Array.from({ length: n }, (_, i) => ({ path: name(n - 1 - i), type: 'directory' }))
    // Every other one, then the rest from the other end: the first place of a name the index holds moves by neither.
    const order = [...Array.from({ length: n / 2 }, (_, i) => 2 * i), ...Array.from({ length: n / 2 }, (_, i) => n - 1 - 2 * i)]
    const source = { entries: [] }
    const run = (count: number) => {
      const draft = new JsonDraft({ entries: reversed.slice(n - count), version: 1 })
      for (const i of order) {
        if (i >= count) continue
        const unit: UnitPath = ['entries', { field: 'path', value: name(i) }]
        assert.notEqual(draft.at(unit), undefined)
        draft.take(source, unit)
      }
      return draft.value()
    }
    // What the chain of takeFrom calls gives, on 2,000 of them.
    let value: unknown = { entries: reversed.slice(n - 2000), version: 1 }
    for (const i of order) if (i < 2000) value = takeFrom(value, source, ['entries', { field: 'path', value: name(i) }])
    assert.deepEqual(run(2000), value)
    assertLinearTime(() => assert.deepEqual(run(n), { entries: [], version: 1 }), JSON.stringify(reversed), `${n} entries taken out of a reversed list`)
  })
})
