import { strict as assert } from 'node:assert'
import { codeOwner, codePrefix, providerCodes } from '../src/provider-codes.js'

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

describe('codeOwner: the provider a code is named for', () => {
  it('is the longest prefix among the loaded names, whatever their order; a code named before the rule is its provider\'s', () => {
    assert.equal(codeOwner('FILES_EXTRA_GONE', ['files', 'files-extra']), 'files-extra')
    assert.equal(codeOwner('FILES_EXTRA_GONE', ['files-extra', 'files']), 'files-extra')
    assert.equal(codeOwner('FILES_EXTRAS', ['files', 'files-extra']), 'files', 'a prefix ends at "_"')
    assert.equal(codeOwner('DNF_X', ['files']), undefined)
    assert.equal(codeOwner('RC_LOCAL_MODE_ADJUSTED', ['rc-local']), 'autostart')
    assert.deepEqual(providerCodes({ name: 'files', codes: { FILES_EXTRA_GONE: said, FILES_OK: said } }, new Map(), ['files-extra']).problems, ['"FILES_EXTRA_GONE" is named for the files-extra provider (FILES_EXTRA_, longer than FILES_)'])
    assert.deepEqual(providerCodes({ name: 'files', codes: { FILES_EXTRA_GONE: said } }).problems, [], 'alone (the conformance kit): its prefix only')
  })
})
