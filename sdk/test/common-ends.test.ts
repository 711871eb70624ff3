import { strict as assert } from 'node:assert'
import { commonEnds } from '../src/index.js'

describe('commonEnds', () => {
  const ends = (a: string, b: string) => commonEnds(Buffer.from(a), Buffer.from(b))
  it('counts the bytes both begin and end with, never overlapping', () => {
    assert.deepEqual(ends('abcXdef', 'abcYdef'), { prefix: 3, suffix: 3 })
    assert.deepEqual(ends('same', 'same'), { prefix: 4, suffix: 0 })
    assert.deepEqual(ends('', 'abc'), { prefix: 0, suffix: 0 })
    assert.deepEqual(ends('abc', 'abcabc'), { prefix: 3, suffix: 0 })
    assert.deepEqual(ends('aXa', 'aa'), { prefix: 1, suffix: 1 })
    assert.deepEqual(ends('xyz', 'abc'), { prefix: 0, suffix: 0 })
  })
  it('finds the one changed byte of large texts, across whole blocks', () => {
    const a = Buffer.alloc(100_000, 'a')
    for (const at of [0, 4095, 4096, 50_000, 99_999]) {
      const b = Buffer.from(a)
      b[at] = 0x62
      assert.deepEqual(commonEnds(a, b), { prefix: at, suffix: 100_000 - at - 1 }, `at ${at}`)
    }
    const longer = Buffer.concat([a.subarray(0, 50_000), Buffer.from('inserted'), a.subarray(50_000)])
    const { prefix, suffix } = commonEnds(a, longer)
    assert.ok(prefix + suffix <= 100_000 && prefix >= 50_000 - 8 && longer.length - prefix - suffix === 8)
  })
})
