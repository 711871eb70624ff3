import { strict as assert } from 'node:assert'
import { compareStrings, sortBy, stableStringify } from '../src/stable-json.js'

describe('stableStringify', () => {
  it('sorts keys at every depth and ends with a newline', () => {
    const a = stableStringify({ b: 1, a: { d: [{ z: 1, y: 2 }], c: null } })
    assert.equal(a, '{\n  "a": {\n    "c": null,\n    "d": [\n      {\n        "y": 2,\n        "z": 1\n      }\n    ]\n  },\n  "b": 1\n}\n')
  })

  it('gives the same bytes whatever the insertion order', () => {
    assert.equal(stableStringify({ x: 1, y: [3, 1] }), stableStringify({ y: [3, 1], x: 1 }))
  })

  it('gives the bytes of a full sorted copy, whether or not parts are already sorted (objects kept as they are)', () => {
    // The reference: every object copied with its keys sorted (the implementation before issue 22).
    const copy = (v: unknown): unknown => {
      if (Array.isArray(v)) return v.map(copy)
      if (v !== null && typeof v === 'object' && !(v instanceof Date)) {
        const out: Record<string, unknown> = {}
        for (const k of Object.keys(v).sort()) if ((v as Record<string, unknown>)[k] !== undefined) out[k] = copy((v as Record<string, unknown>)[k])
        return out
      }
      return v
    }
    class Stamp {
      constructor(readonly b: number, readonly a = 'x') {}
    }
    let seed = 7
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n)
    const keyPool = ['a', 'b', 'c', 'z', '10', '9', 'user.x', 'Z', '_']
    const make = (depth: number): unknown => {
      const kind = rand(depth > 3 ? 3 : 7)
      if (kind === 0) return rand(100)
      if (kind === 1) return ['s', null, true][rand(3)]
      if (kind === 2) return undefined
      if (kind === 3) return Array.from({ length: rand(4) }, () => make(depth + 1))
      if (kind === 4) return new Stamp(rand(5))
      if (kind === 5) return new Date(0)
      const keys = Array.from({ length: rand(5) }, () => keyPool[rand(keyPool.length)] as string)
      if (rand(2) === 0) keys.sort()
      const o: Record<string, unknown> = {}
      for (const k of keys) o[k] = make(depth + 1)
      return o
    }
    for (let i = 0; i < 500; i++) {
      const value = make(0)
      assert.equal(stableStringify(value), JSON.stringify(copy(value), null, 2) + '\n')
    }
  })

  it('keeps array order and drops undefined properties', () => {
    assert.equal(stableStringify({ l: [2, 1], u: undefined }), '{\n  "l": [\n    2,\n    1\n  ]\n}\n')
  })

  it('keeps a key "__proto__" of a parsed document as a key (it was dropped when the keys were sorted)', () => {
    assert.equal(stableStringify(JSON.parse('{"z": 1, "__proto__": {"a": 2}}')), '{\n  "__proto__": {\n    "a": 2\n  },\n  "z": 1\n}\n')
  })
})

describe('sortBy', () => {
  it('orders by code point, not by locale', () => {
    assert.deepEqual(sortBy(['b', 'B', 'a', '_'], (s) => s), ['B', '_', 'a', 'b'])
    assert.equal(compareStrings('a', 'a'), 0)
  })
})
