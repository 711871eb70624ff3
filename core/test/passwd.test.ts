import { strict as assert } from 'node:assert'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LocalHost } from '@twinsync/sdk'
import { parsePasswdNames } from '../src/facts/process-facts.js'
import { readAdminUsers } from '../src/plan/admin-users.js'
import { aptHook } from '../src/services/schedule.js'
import { TRIXIE_SERVER_GROUP, TRIXIE_SERVER_PASSWD } from '../../test/fixtures/passwd/debian.js'

/**
 * The core's readers of /etc/passwd go through the SDK's one reader (session 49; session 48 had
 * made core/src/passwd.ts, review F11): a Debian root's real file with the lines glibc reads its
 * own way — a `+` line with an empty uid (uid 0), a uid written `00`, a user behind blanks.
 */
describe('the core reads /etc/passwd as glibc does', () => {
  let dir: string
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'twinsync-passwd-'))
    await mkdir(join(dir, 'etc'))
  })
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('the process facts name a uid as getpwuid does: the first user of it, a user behind blanks, never a comment, a short line or a `+`/`-` line', () => {
    const names = parsePasswdNames(`#gone:x:7:7::/:/bin/sh\n${TRIXIE_SERVER_PASSWD}toor:x:00:0::/root:/bin/sh\nhalf:x:4242\n  ann:x:1000:1000::/home/ann:/bin/bash\n+::1001:1001::/home/x:/bin/sh\n-bob:x:1002:1002::/:/bin/sh\nodd:x:abc:1::/:/bin/sh\n`)
    assert.equal(names.get(0), 'root')
    assert.equal(names.get(7), 'lp')
    assert.equal(names.get(1000), 'ann')
    assert.equal(names.has(4242), false)
    assert.equal(names.has(1001), false)
    assert.equal(names.has(1002), false)
  })

  it("the apt hook's HOME is getpwuid(0)'s: a uid written 00 is 0; a `+` line or a comment is never root", async () => {
    const hook = () => aptHook({ root: dir, node: '/usr/bin/node', entry: '/usr/lib/twinsync/bin/run.js', repo: '/srv/twin' })
    const debian = TRIXIE_SERVER_PASSWD.replace('root:x:0:0:root:/root:', 'root:x:00:0:root:/var/root-home:')
    await writeFile(join(dir, 'etc', 'passwd'), `+::::/plus-home:\n#root:x:0:0:root:/old-root:/bin/sh\n${debian}`)
    assert.match(hook(), / HOME=\/var\/root-home /)
    await writeFile(join(dir, 'etc', 'passwd'), '+::::/plus-home:\n#root:x:0:0:root:/old-root:/bin/sh\n')
    assert.match(hook(), / HOME=\/root /, "no root line: Debian's default")
  })

  it('the administrators: a `+` line with an empty uid is uid 0, so is a uid written 00; a sudo member behind blanks has their home; under a sudoers ALL every entry, `+`/`-` lines too (the safe side)', async () => {
    const passwd = `${TRIXIE_SERVER_PASSWD}+::::::\ntoor:x:00:1003::/home/toor:/bin/bash\n  ann:x:1000:1000::/home/ann:/bin/bash\n-carl::1001:1001::/home/carl:/bin/bash\n`
    await writeFile(join(dir, 'etc', 'passwd'), passwd)
    await writeFile(join(dir, 'etc', 'group'), 'root:x:0:\nsudo:x:27:ann\nann:x:1000:\ncarl:x:1001:\ntoor:x:1003:\n')
    const admins = async () => (await readAdminUsers(new LocalHost(dir))).map((a) => [a.user, a.home, a.uid, a.why])
    assert.deepEqual(await admins(), [
      ['ann', '/home/ann', '1000', 'in group sudo'],
      ['+', '', '0', 'uid 0'],
      ['toor', '/home/toor', '0', 'uid 0'],
    ])
    await writeFile(join(dir, 'etc', 'sudoers'), 'ALL ALL=(ALL) ALL\n')
    const all = await admins()
    assert.deepEqual(all.slice(3).filter((a) => ['-carl', 'postgres'].includes(a[0] as string)), [
      ['postgres', '/var/lib/postgresql', '100', 'named by a rule of /etc/sudoers (ALL: every user)'],
      ['-carl', '/home/carl', '1001', 'named by a rule of /etc/sudoers (ALL: every user)'],
    ])
  })

  it("the administrators by group as a login gets its groups (initgroups): a `#` line's or a blank-led line's members of sudo's gid are in it; `%#gid` names a user of that primary gid", async () => {
    await writeFile(join(dir, 'etc', 'passwd'), `${TRIXIE_SERVER_PASSWD}ann:x:1000:1000::/home/ann:/bin/bash\nbob:x:1001:1001::/home/bob:/bin/bash\ncarl:x:1002:1050::/home/carl:/bin/bash\n`)
    await writeFile(join(dir, 'etc', 'group'), `${TRIXIE_SERVER_GROUP}ann:x:1000:\nbob:x:1001:\n#old:x:27:ann\n  oldsudo:x:27:bob\n`)
    await writeFile(join(dir, 'etc', 'sudoers'), '%#1050 ALL=(ALL) ALL\n')
    assert.deepEqual((await readAdminUsers(new LocalHost(dir))).map((a) => [a.user, a.home, a.why]), [
      ['bob', '/home/bob', 'in group sudo'],
      ['ann', '/home/ann', 'in group sudo'],
      ['carl', '/home/carl', 'named by a rule of /etc/sudoers'],
    ])
  })

  it("the administrators by number as glibc and sudo read it: a gid written 027 in /etc/group or /etc/passwd, `%#001003` and `#01002` in sudoers (session 49's review, P0)", async () => {
    await writeFile(join(dir, 'etc', 'passwd'), `root:x:0:0:root:/root:/bin/bash\neve:x:1001:027::/home/eve:/bin/bash\nfay:x:1002:1002::/home/fay:/bin/bash\ngus:x:1003:1003::/home/gus:/bin/bash\n`)
    await writeFile(join(dir, 'etc', 'group'), 'root:x:0:\nsudo:x:027:\nfay:x:1002:\nops:x:1003:\n')
    await writeFile(join(dir, 'etc', 'sudoers'), '%#001003 ALL=(ALL) ALL\n#01002 ALL=(ALL) ALL\n')
    assert.deepEqual((await readAdminUsers(new LocalHost(dir))).map((a) => [a.user, a.why]), [
      ['eve', 'in group sudo'],
      ['gus', 'named by a rule of /etc/sudoers'],
      ['fay', 'named by a rule of /etc/sudoers'],
    ])
  })
})
