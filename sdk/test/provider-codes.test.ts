import { strict as assert } from 'node:assert'
import { codePrefix, providerCodes } from '../src/provider-codes.js'

const said = 'says what it means and the next step'

describe("providerCodes: a provider's own codes as the host lists them", () => {
  it('prefixes with the name in capitals, a dash as "_"', () => {
    assert.equal(codePrefix('files'), 'FILES_')
    assert.equal(codePrefix('my-app2'), 'MY_APP2_')
    assert.deepEqual(providerCodes({ name: 'my-app2', codes: { MY_APP2_GONE: said, MY_APPX: said } }), { codes: { MY_APP2_GONE: said }, problems: ['"MY_APPX" does not start with MY_APP2_ (the provider\'s name)'] })
  })

  it('keeps none of a table that is no object, and names a key that is no code', () => {
    assert.deepEqual(providerCodes({ name: 'dnf' }), { codes: {}, problems: [] })
    assert.deepEqual(providerCodes({ name: 'dnf', codes: ['DNF_X'] as never }).problems, ['its codes are not an object of CODE: "what it means and the next step"'])
    assert.deepEqual(providerCodes({ name: 'dnf', codes: { 'DNF_lower case': said, DNF_NUMBER: 5 as never } }).problems, ['"DNF_lower case" is not a code (capital letters, digits and "_")', '"DNF_NUMBER" does not say what it means (its description is not a text, or empty)'])
  })

  it("keeps autostart's RC_LOCAL_MODE_ADJUSTED, named before the rule, for the autostart provider alone", () => {
    assert.deepEqual(providerCodes({ name: 'autostart', codes: { RC_LOCAL_MODE_ADJUSTED: said } }).problems, [])
    assert.deepEqual(providerCodes({ name: 'startup', codes: { RC_LOCAL_MODE_ADJUSTED: said } }).problems, ['"RC_LOCAL_MODE_ADJUSTED" does not start with STARTUP_ (the provider\'s name)'])
  })
})
