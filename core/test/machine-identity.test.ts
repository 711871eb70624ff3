import { strict as assert } from 'node:assert'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { REDACTED } from '@twinsync/sdk'
import { createTestContext } from '@twinsync/sdk/conformance'
import { machineIdentity } from '../src/twin/machine-identity.js'

/**
 * Session 46: twin.json's hostname is committed by `init` unscreened, and the push scan then refused
 * every push for a file `forget` will not take out. A Slack bot token is a valid host name label.
 */
describe('machineIdentity: a hostname that holds a secret', () => {
  const hostnameOf = async (name: string) => {
    const root = mkdtempSync(join(tmpdir(), 'twinsync-identity-'))
    try {
      mkdirSync(join(root, 'etc'))
      writeFileSync(join(root, 'etc/hostname'), `${name}\n`)
      return (await machineIdentity(createTestContext(root).host)).hostname
    } finally {
      rmSync(root, { recursive: true, force: true })
    }
  }
  it('is <redacted>; any other hostname is kept', async () => {
    assert.equal(await hostnameOf(`xox${'b'}-1234567890-1234567890123-qxG6Nl0JtbxeUvDrTS8Xl5WR`), REDACTED)
    assert.equal(await hostnameOf('web-01.example.net'), 'web-01.example.net')
  })
})
