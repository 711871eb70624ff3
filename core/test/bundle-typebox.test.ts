// core/scripts/bundle.mjs's lazyTypeboxRegExps: typebox's expressions over Unicode properties
// (the hostname, IDN hostname and IDN e-mail formats, the code emitter's identifier check) made
// when first used in sdk/bundle/sdk-lib.cjs. The bundled typebox answers as typebox itself does.
import { strict as assert } from 'node:assert'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as Typebox from 'typebox'
import { Value } from 'typebox/value'

const SDK_CJS = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'sdk', 'bundle', 'sdk.cjs')

interface BundledSdk {
  typebox(): typeof Typebox
  typeboxValue(): { Value: typeof Value }
  index(): { validatorOf(schema: Typebox.TSchema): { Check(value: unknown): boolean } }
}

describe("typebox's Unicode expressions made when first used in the SDK's bundle (core/scripts/bundle.mjs)", () => {
  const sdk = createRequire(import.meta.url)(SDK_CJS) as BundledSdk

  it('checks the hostname, IDN hostname, IDN e-mail and e-mail formats as typebox does, interpreted and compiled', () => {
    const { Type } = sdk.typebox()
    const { Value: Bundled } = sdk.typeboxValue()
    const { validatorOf } = sdk.index()
    const values = ['example.com', '-bad.com', 'xn--bcher-kva.example', 'bücher.example', `${'a'.repeat(64)}.com`, 'ελληνικά.gr', 'user@bücher.example', 'user@example.com', 'a@-b.c', '日本語.jp', 'ab--c.com', 'x_y.com', 'שלום.co.il']
    for (const format of ['hostname', 'idn-hostname', 'idn-email', 'email']) {
      for (const value of values) {
        const expected = Value.Check(Typebox.Type.String({ format }), value)
        assert.equal(Bundled.Check(Type.String({ format }), value), expected, `${format} ${value}`)
        assert.equal(validatorOf(Type.String({ format })).Check(value), expected, `${format} ${value} (compiled)`)
      }
    }
  })

  it('compiles a validator for property names that are no identifiers', () => {
    const { Type } = sdk.typebox()
    const { validatorOf } = sdk.index()
    const schema = Type.Object({ 'a-b': Type.String(), ok: Type.Number(), ünï: Type.Boolean(), '0x': Type.Null() })
    assert.equal(validatorOf(schema).Check({ 'a-b': 'x', ok: 1, ünï: true, '0x': null }), true)
    assert.equal(validatorOf(schema).Check({ 'a-b': 1, ok: 1, ünï: true, '0x': null }), false)
    assert.equal(validatorOf(schema).Check({ 'a-b': 'x', ok: 1, ünï: 'no', '0x': null }), false)
  })
})
