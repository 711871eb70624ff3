import { strict as assert } from 'node:assert'
import { DEFAULT_LIMITS, isTwinSyncError } from '@twinsync/sdk'
import { DEFAULT_CONFIG_INPUT, DEFAULT_INCLUDE, resolveConfig } from '../src/config.js'

describe('files provider: configuration', () => {
  it('takes the defaults (or nothing) as they are, and checks anything else against the schema', () => {
    for (const input of [DEFAULT_CONFIG_INPUT, {}, undefined]) {
      const config = resolveConfig(input, DEFAULT_LIMITS)
      assert.deepEqual(config.include, [...DEFAULT_INCLUDE])
      assert.equal(config.users, 'default')
      assert.equal(config.detectSecretContent, true)
      assert.equal(config.maxFileSize, DEFAULT_LIMITS.maxFileSize)
    }
    assert.deepEqual(resolveConfig({ ...DEFAULT_CONFIG_INPUT, include: ['/srv'] }, DEFAULT_LIMITS).include, ['/srv'])
    const refused = (input: unknown, pointer: RegExp) =>
      assert.throws(() => resolveConfig(input, DEFAULT_LIMITS), (e: unknown) => isTwinSyncError(e) && e.code === 'CONFIG_INVALID' && pointer.test(e.message))
    refused({ ...DEFAULT_CONFIG_INPUT, include: ['etc'] }, /\/include\/0/)
    refused({ ...DEFAULT_CONFIG_INPUT, bogus: true }, /files: /)
    refused({ ...DEFAULT_CONFIG_INPUT, secrets: { paths: [], detectContent: 'yes' } }, /\/secrets\/detectContent/)
  })
})
