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

  it('keeps array order and drops undefined properties', () => {
    assert.equal(stableStringify({ l: [2, 1], u: undefined }), '{\n  "l": [\n    2,\n    1\n  ]\n}\n')
  })
})

describe('sortBy', () => {
  it('orders by code point, not by locale', () => {
    assert.deepEqual(sortBy(['b', 'B', 'a', '_'], (s) => s), ['B', '_', 'a', 'b'])
    assert.equal(compareStrings('a', 'a'), 0)
  })
})
