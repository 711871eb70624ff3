import { strict as assert } from 'node:assert'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { foundGroups, groupEntries, initgroupsEntries, passwdEntries, passwdUsers } from '@twinsync/sdk'
import { chrootOk, freshRootfs, ROOTFS_BUILD_TIMEOUT_MS, type Rootfs } from '../bed/index.js'

/**
 * The SDK's /etc/passwd reader against the glibc of a Debian root (session 49): its own
 * /etc/passwd with the lines glibc reads its own way appended, listed by getpwent and looked up
 * by getpwnam in the root (perl-base is Essential; `passwd: files` is the root's nsswitch.conf).
 * The password field is left out: perl puts the shadow one in its place for root.
 */
const ODD_LINES = [
  '  ann:x:1000:1000::/home/ann:/bin/sh',
  '\t#c:x:5:5::/:/bin/sh',
  '+::::::',
  '+bob:x:::::',
  '-carl::1001:1001::/home/carl:',
  'short:x:7:7',
  'nouid:x::7::/:',
  'neg:x:-0:0::/n:',
  'plus:x:+12:3::/p:',
  'sp:x: 13:3::/s:',
  'big:x:4294967296:3::/b:',
  'minus:x:-1:3::/m:',
  'wrap:x:-18446744073709551615:3::/w:',
  'hex:x:0x10:3::/h:',
  'toor:x:00:0::/home/toor:/bin/bash',
  'four:x:4',
  '+',
  '-dan',
  '+eve:',
  '+:::',
  '+::::',
  '+@ng::::::',
  '+x::abc:1::/:',
  'trail:x:9:9::/t:/bin/sh:extra',
  '  last:x:8:8::/l:/bin/zz',
]

// Each entry as name|uid|gid|gecos|dir|shell (undef fields as ''), then one line per name: found by getpwnam or not.
const LIST = `no warnings; while (my @e = getpwent) { print join("|", map { $_ // "" } @e[0,2,3,6,7,8]), "\\n" }
for my $n (@ARGV) { my @e = getpwnam($n); print "$n => ", (@e ? $e[2] : "none"), "\\n" }`

describe('passwdEntries and passwdUsers read /etc/passwd as the glibc of a Debian root does', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  let rootfs: Rootfs
  before(async () => {
    rootfs = await freshRootfs('base')
  })
  after(async () => {
    await rootfs?.cleanup()
  })

  it("the root's own file and the odd lines: every entry getpwent lists, and which names getpwnam finds", async () => {
    assert.match(await readFile(join(rootfs.dir, 'etc/nsswitch.conf'), 'utf8'), /^passwd:\s+files\s*$/m)
    const own = await readFile(join(rootfs.dir, 'etc/passwd'), 'utf8')
    // The last line without its newline: glibc's own reading of it is part of the check.
    const text = `${own}${ODD_LINES.join('\n')}`
    await writeFile(join(rootfs.dir, 'etc/passwd'), text)
    const entries = passwdEntries(text)
    const names = [...new Set(entries.map((e) => e.name))].filter((n) => n !== '')
    const { stdout } = await chrootOk(rootfs.dir, 'perl', ['-e', LIST, ...names])
    const users = passwdUsers(text)
    const expected = [
      ...entries.map((e) => [e.name, e.uid, e.gid, e.gecos, e.home, e.shell].join('|')),
      ...names.map((n) => `${n} => ${users.find((u) => u.name === n)?.uid ?? 'none'}`),
    ]
    assert.deepEqual(stdout.split('\n').filter((l) => l !== ''), expected)
    // What the odd lines came to, so a change of glibc's reading shows here by name.
    assert.deepEqual(entries.slice(own.split('\n').filter((l) => l !== '').length).map((e) => `${e.name}:${e.uid}`), [
      'ann:1000', '+:0', '+bob:0', '-carl:1001', 'short:7', 'neg:0', 'plus:12', 'sp:13', 'wrap:1', 'toor:0',
      '+:0', '-dan:0', '+eve:0', '+:0', '+@ng:0', 'trail:9', 'last:8',
    ])
  })

  it("/etc/group: every entry getgrent lists, which names getgrnam finds, and a user's groups at login (initgroups, `id -G`)", async () => {
    assert.match(await readFile(join(rootfs.dir, 'etc/nsswitch.conf'), 'utf8'), /^group:\s+files\s*$/m)
    const own = await readFile(join(rootfs.dir, 'etc/group'), 'utf8')
    const odd = ['  staff2:x:1002:ann, bob,,\t carl', '\t#c:x:5:ann', '#old:x:27:ann', '+:::bob', '+ops::', '-eve:x:44:ann', 'short:x:7', 'nogid:x::ann', 'neg:x:-0:', 'big:x:4294967296:ann', 'hex:x:0x10:', '+', '-dan', '+x:', 'colon:x:11:a:b,c', '  last:x:13:zz']
    const text = `${own}${odd.join('\n')}`
    await writeFile(join(rootfs.dir, 'etc/group'), text)
    await writeFile(join(rootfs.dir, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/bash\nann:x:1000:1000::/home/ann:/bin/sh\nbob:x:1001:1001::/home/bob:/bin/sh\n')
    const entries = groupEntries(text)
    const names = [...new Set(entries.map((e) => e.name))].filter((n) => n !== '')
    const script = `no warnings; while (my @e = getgrent) { print join("|", map { $_ // "" } @e[0,2]), "|", join(",", split(/ /, $e[3] // "")), "\\n" }
for my $n (@ARGV) { my @e = getgrnam($n); print "$n => ", (@e ? $e[2] : "none"), "\\n" }`
    const { stdout } = await chrootOk(rootfs.dir, 'perl', ['-e', script, ...names])
    const found = foundGroups(text)
    assert.deepEqual(stdout.split('\n').filter((l) => l !== ''), [
      ...entries.map((e) => `${e.name}|${e.gid}|${e.members.join(',')}`),
      ...names.map((n) => `${n} => ${found.find((g) => g.name === n)?.gid ?? 'none'}`),
    ])
    for (const [user, primary] of [['ann', 1000], ['bob', 1001]] as const) {
      const ids = (await chrootOk(rootfs.dir, 'id', ['-G', user])).stdout.trim().split(' ').map(Number)
      const expected = [primary, ...initgroupsEntries(text).filter((e) => e.gid !== primary && e.members.includes(user)).map((e) => e.gid)]
      assert.deepEqual([...new Set(ids)].sort((a, b) => a - b), [...new Set(expected)].sort((a, b) => a - b), user)
    }
  })
})
