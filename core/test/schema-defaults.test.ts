import { strict as assert } from 'node:assert'
import Type from 'typebox'
import { applyDefaults } from '../src/config/schema-defaults.js'

describe('applyDefaults', () => {
  const schema = Type.Object({
    mode: Type.Optional(Type.String({ default: 'fast' })),
    nested: Type.Optional(Type.Object({ depth: Type.Optional(Type.Integer({ default: 3 })), keep: Type.Optional(Type.Boolean()) }, { default: {} })),
    list: Type.Optional(Type.Array(Type.String())),
  })

  it('fills declared defaults, at any depth, and keeps what is given', () => {
    assert.deepEqual(applyDefaults(schema, {}), { mode: 'fast', nested: { depth: 3 } })
    assert.deepEqual(applyDefaults(schema, { mode: 'slow', nested: { keep: true }, list: ['a'] }), { mode: 'slow', nested: { depth: 3, keep: true }, list: ['a'] })
  })

  it('does not share default objects between calls', () => {
    const a = applyDefaults(schema, {}) as { nested: { depth: number } }
    a.nested.depth = 9
    assert.deepEqual(applyDefaults(schema, {}), { mode: 'fast', nested: { depth: 3 } })
  })
})
