import { strict as assert } from 'node:assert'
import Type from 'typebox'
import { Value } from 'typebox/value'
import { DEFAULT_CONFIG_INPUT, FilesConfigSchema } from '@twinsync/plugin-files'
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

describe('the files provider\'s configuration without a files section', () => {
  it('is the input the provider takes unchecked (its DEFAULT_CONFIG_INPUT), and that input passes the schema', () => {
    assert.deepStrictEqual(applyDefaults(FilesConfigSchema, {}), DEFAULT_CONFIG_INPUT)
    assert.equal(Value.Check(FilesConfigSchema, DEFAULT_CONFIG_INPUT), true)
  })
})
