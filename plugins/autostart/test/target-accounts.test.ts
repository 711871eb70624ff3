import { strict as assert } from 'node:assert'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LocalHost } from '@twinsync/sdk'
import { TargetAccounts } from '../src/target-accounts.js'
import { TRIXIE_SERVER_GROUP, TRIXIE_SERVER_PASSWD } from '../../../test/fixtures/passwd/debian.js'

/**
 * The target's users as getpwnam and getpwuid find them (the SDK's passwdUsers, session 49):
 * the owner a unit or script is named by and whose home it is in. Before, a `+name` line with
 * numbers was a user `+name` and ` ann:…` was " ann".
 */
describe('autostart: the target accounts', () => {
  let dir: string
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('a `+`/`-` line is no user or group, by name, id or home; a user or group behind blanks is one', async () => {
    dir = await mkdtemp(join(tmpdir(), 'twinsync-autostart-accounts-'))
    await mkdir(join(dir, 'etc'))
    await writeFile(join(dir, 'etc', 'passwd'), `${TRIXIE_SERVER_PASSWD}+ops:x:1000:1000::/home/ops:/bin/sh\n-eve:x:1001:1001::/home/eve:/bin/sh\n  ann:x:1000:1000::/home/ann:/bin/bash\n`)
    await writeFile(join(dir, 'etc', 'group'), `${TRIXIE_SERVER_GROUP}+ops:x:1000:\n  ann:x:1000:\n+:::\n`)
    const accounts = await TargetAccounts.read(new LocalHost(dir))
    assert.equal(accounts.userName(1000), 'ann')
    assert.equal(accounts.userName(1001), '1001')
    assert.equal(accounts.uidOf('ann'), 1000)
    assert.equal(accounts.uidOf('+ops'), undefined)
    assert.equal(accounts.user('-eve'), undefined)
    assert.equal(accounts.userWithHome('/home/ops'), undefined)
    assert.equal(accounts.userWithHome('/home/ann')?.name, 'ann')
    assert.equal(accounts.userName(100), 'postgres')
    // The groups as getgrnam and getgrgid find them likewise.
    assert.equal(accounts.groupName(1000), 'ann')
    assert.equal(accounts.gidOf('+ops'), undefined)
    assert.equal(accounts.gidOf('+'), undefined)
    assert.equal(accounts.groupName(0), 'root')
    assert.equal(accounts.gidOf('ssl-cert'), 102)
  })
})
