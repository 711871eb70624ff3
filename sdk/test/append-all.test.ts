import assert from 'node:assert/strict'
import { appendAll } from '../src/append-all.js'

describe('appendAll: a whole list added in place', () => {
  it('appends 300,000 items (push(...list) throws "Maximum call stack size exceeded" past about 120,000)', () => {
    const target = [1, 2]
    const items = Array.from({ length: 300_000 }, (_, i) => i)
    assert.throws(() => [0].push(...items), RangeError, 'the spread this replaces still overflows on this Node')
    appendAll(target, items)
    assert.equal(target.length, 300_002)
    assert.deepEqual(target.slice(0, 4), [1, 2, 0, 1])
    assert.equal(target[300_001], 299_999)
  })

  it('appended to itself, takes its items as they were (as the spread did), and any iterable', () => {
    const list = ['a', 'b']
    appendAll(list, list)
    assert.deepEqual(list, ['a', 'b', 'a', 'b'])
    const other = ['x']
    appendAll(other, new Set(['y', 'z']))
    assert.deepEqual(other, ['x', 'y', 'z'])
  })
})
