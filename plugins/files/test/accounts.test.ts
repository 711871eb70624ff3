import { strict as assert } from 'node:assert'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LocalHost } from '@twinsync/sdk'
import { namesById, readAccounts } from '../src/accounts.js'
import { resolveId } from '../src/diff.js'
import { selectUsers } from '../src/include.js'
import { TRIXIE_SERVER_GROUP, TRIXIE_SERVER_PASSWD } from '../../../test/fixtures/passwd/debian.js'

/**
 * The target's accounts as getpwnam and getpwuid find them (the SDK's passwdUsers, session 49):
 * a twin's owner name is untrusted input, and a `+`/`-` line of the target's /etc/passwd is no
 * person a file can be given to. Before, `+::::::`'s empty uid was read as 0 (`Number('')`).
 */
describe('files: the target accounts an owner name resolves to', () => {
  let dir: string
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'twinsync-accounts-'))
    await mkdir(join(dir, 'etc'))
    await mkdir(join(dir, 'home', 'carl'), { recursive: true })
    await mkdir(join(dir, 'home', 'ann'), { recursive: true })
    const odd = '+::::::\n-carl::1001:1001::/home/carl:/bin/bash\n+@ops::::::\n  ann:x:1000:1000::/home/ann:/bin/bash\nghost:x:1002\n'
    await writeFile(join(dir, 'etc', 'passwd'), `${TRIXIE_SERVER_PASSWD}${odd}`)
    await writeFile(join(dir, 'etc', 'group'), `${TRIXIE_SERVER_GROUP}+:::\n-ops:x:1001:\n  staff2:x:1002:\n`)
  })
  after(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it("a twin's owner `+` or `-carl` is no user of the target: the entry's uid is applied, never root's", async () => {
    const { accounts } = await readAccounts(new LocalHost(dir))
    assert.equal(resolveId('+', 1000, accounts.users), 1000)
    assert.equal(resolveId('-carl', 4242, accounts.users), 4242)
    assert.equal(resolveId('+@ops', 4242, accounts.users), 4242)
    assert.equal(resolveId('ghost', 4242, accounts.users), 4242)
    // A user behind leading blanks is one (glibc skips them), under their own name.
    assert.equal(resolveId('ann', 4242, accounts.users), 1000)
    assert.equal(namesById(accounts.users).get(1000), 'ann')
    assert.equal(namesById(accounts.users).get(0), 'root')
  })

  it("a twin's group `+` or `-ops` is no group of the target (getgrnam's groups): the entry's gid is applied, never root's group; a group behind blanks is one", async () => {
    const { accounts } = await readAccounts(new LocalHost(dir))
    assert.equal(resolveId('+', 1000, accounts.groups), 1000)
    assert.equal(resolveId('-ops', 4242, accounts.groups), 4242)
    assert.equal(resolveId('staff2', 4242, accounts.groups), 1002)
    assert.equal(resolveId('sudo', 4242, accounts.groups), 27)
    assert.equal(namesById(accounts.groups).get(0), 'root')
  })

  it('the users whose homes are mirrored: ann behind her blanks, never a `-carl` line', async () => {
    const host = new LocalHost(dir)
    const { users } = await selectUsers(host, (await readAccounts(host)).passwd, 'default')
    // (root's /root is not made here: a home that is no folder is not mirrored.)
    assert.deepEqual(users.map((u) => [u.name, u.home]), [['ann', '/home/ann']])
  })
})
