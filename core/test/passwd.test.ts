import { strict as assert } from 'node:assert'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LocalHost } from '@twinsync/sdk'
import { passwdEntries } from '../src/passwd.js'
import { parsePasswdNames } from '../src/facts/process-facts.js'
import { readAdminUsers } from '../src/plan/admin-users.js'
import { aptHook } from '../src/services/schedule.js'

/**
 * The core's one /etc/passwd reader (session 48: the apt hook's root home, the administrators and
 * the process facts each had their own), with the lines its callers met: comments, blank and
 * short lines, NIS compat lines, a last line without its newline.
 */
describe('passwdEntries: the users of an /etc/passwd text', () => {
  it('takes lines of six or more fields with a name, in order; skips blank, comment, short and NIS compat lines; the last line needs no newline', () => {
    const text = [
      '# root:x:0:0:commented:/old:/bin/sh',
      '#ann:x:1000:1000::/home/old-ann:/bin/sh',
      'root:x:0:0:root:/root:/bin/bash',
      '',
      'short:x:1001',
      'five:x:1002:1002:',
      '+',
      '+::::::',
      '+bob::::::/bin/false',
      '-eve::::::',
      '+@admins::::::',
      ':x:1003:1003::/home/noname:/bin/sh',
      'six:x:1004:1004::/home/six',
      'ann:x:1000:1000:Ann:/home/ann:/bin/sh',
      'odd:x:abc:1005::/home/odd:/bin/sh',
      'last:x:1006:1006::/home/last:/bin/sh',
    ].join('\n')
    assert.deepEqual(passwdEntries(text), [
      { name: 'root', uid: '0', gid: '0', home: '/root', shell: '/bin/bash' },
      { name: 'six', uid: '1004', gid: '1004', home: '/home/six', shell: undefined },
      { name: 'ann', uid: '1000', gid: '1000', home: '/home/ann', shell: '/bin/sh' },
      { name: 'odd', uid: 'abc', gid: '1005', home: '/home/odd', shell: '/bin/sh' },
      { name: 'last', uid: '1006', gid: '1006', home: '/home/last', shell: '/bin/sh' },
    ])
    assert.deepEqual(passwdEntries(''), [])
    assert.deepEqual(passwdEntries('\n\n'), [])
  })

  it('the process facts name a uid by a user line only, never by a comment or a short line', () => {
    const names = parsePasswdNames('#old:x:0:0::/:/bin/sh\nroot:x:0:0::/root:/bin/sh\n#gone:x:7:7::/:/bin/sh\nhalf:x:8\nann:x:1000:1000::/home/ann:/bin/sh\nodd:x:abc:1::/:/bin/sh')
    assert.deepEqual([...names], [[0, 'root'], [1000, 'ann']])
  })

  it("the apt hook's HOME is root's line's, not a commented-out one's", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'twinsync-passwd-'))
    try {
      await mkdir(join(dir, 'etc'))
      await writeFile(join(dir, 'etc', 'passwd'), '#root:x:0:0:root:/old-root:/bin/sh\nroot:x:0:0:root:/var/root-home:/bin/sh')
      assert.match(aptHook({ root: dir, node: '/usr/bin/node', entry: '/usr/lib/twinsync/bin/run.js', repo: '/srv/twin' }), / HOME=\/var\/root-home /)
      await writeFile(join(dir, 'etc', 'passwd'), '+::::::\n#root:x:0:0:root:/old-root:/bin/sh\n')
      assert.match(aptHook({ root: dir, node: '/usr/bin/node', entry: '/usr/lib/twinsync/bin/run.js', repo: '/srv/twin' }), / HOME=\/root /, 'no root line: Debian\'s default')
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('a NIS compat line is no administrator, even when a sudoers rule names ALL', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'twinsync-passwd-'))
    try {
      await mkdir(join(dir, 'etc'))
      await writeFile(join(dir, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/bash\nann:x:1000:1000::/home/ann:/bin/bash\n+::::::\n+@ops::::::\n')
      await writeFile(join(dir, 'etc', 'group'), 'root:x:0:\nann:x:1000:\n')
      await writeFile(join(dir, 'etc', 'sudoers'), 'ALL ALL=(ALL) ALL\n')
      const admins = await readAdminUsers(new LocalHost(dir))
      assert.deepEqual(admins.map((a) => [a.user, a.home, a.uid]), [['ann', '/home/ann', '1000']])
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
