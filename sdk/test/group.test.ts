import { strict as assert } from 'node:assert'
import { foundGroups, groupEntries, initgroupsEntries, type GroupEntry } from '../src/group.js'
import { BOOKWORM_MINBASE_GROUP, TRIXIE_SERVER_GROUP } from '../../test/fixtures/passwd/debian.js'

const row = (e: GroupEntry): string => `${e.name}|${e.password}|${e.gid}|${e.members.join(',')}`

/**
 * The SDK's /etc/group readers (session 49). Each expected getgrent row is what Debian 12's
 * glibc 2.36 listed for the same text with `group: files` (a bind-mounted /etc/group in a
 * private mount namespace); each initgroups membership is what `id -G` gave there.
 */
describe('groupEntries, foundGroups, initgroupsEntries: an /etc/group text as glibc reads it', () => {
  it("reads Debian's own files whole, in order", () => {
    for (const text of [BOOKWORM_MINBASE_GROUP, TRIXIE_SERVER_GROUP]) {
      const lines = text.split('\n').filter((l) => l !== '')
      for (const read of [groupEntries, foundGroups, initgroupsEntries]) assert.deepEqual(read(text).map(row), lines.map((l) => l.split(':').join('|')))
    }
  })

  it('getgrent: blanks before a name and before each member skipped, `#` lines none, a `+`/`-` line an entry (an empty gid 0), the members the rest of the line split at `,`', () => {
    const text = 'root:x:0:\n  sudo:x:27:ann, bob,,\t carl\n\t#c:x:5:dan\n+:::\n+ops::\n-eve:x:44:ann\nshort:x:7\nnogid:x::ann\nneg:x:-0:\nbig:x:4294967296:ann\nwrap:x:-18446744073709551615:a\nhex:x:0x10:\n::9:\n+\n-dan\n+x:\ncolon:x:11:a:b,c\n+@ng:::ann\n+y::abc:\nnul:x:12:a\0,b\n  last:x:13:zz'
    assert.deepEqual(groupEntries(text).map(row), [
      'root|x|0|', 'sudo|x|27|ann,bob,carl', '+||0|', '-eve|x|44|ann', 'short|x|7|', 'neg|x|0|', 'wrap|x|1|a', '||9|',
      '+||0|', '-dan||0|', '+x||0|', 'colon|x|11|a:b,c', '+@ng||0|ann', 'nul|x|12|a', 'last|x|13|zzzz',
    ])
    assert.deepEqual(foundGroups(text).map((e) => e.name), ['root', 'sudo', 'short', 'neg', 'wrap', '', 'colon', 'nul', 'last'])
  })

  it("initgroups: every line as it is, a `#` line's and a blank-led line's members too (a login's groups)", () => {
    const text = 'root:x:0:\nsudo:x:27:\nann:x:1000:\n#old:x:27:ann\n  blank:x:44:ann\n+:::ann\n-x:x:55:ann\n'
    const gidsOf = (user: string) => initgroupsEntries(text).filter((e) => e.members.includes(user)).map((e) => e.gid)
    // `id -G ann` there: 1000 27 44 0 55.
    assert.deepEqual(gidsOf('ann'), [27, 44, 0, 55])
    assert.deepEqual(initgroupsEntries(text).map((e) => e.name), ['root', 'sudo', 'ann', '#old', '  blank', '+', '-x'])
    assert.deepEqual(groupEntries(text).map((e) => e.name), ['root', 'sudo', 'ann', 'blank', '+', '-x'])
  })
})
