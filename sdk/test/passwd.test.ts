import { strict as assert } from 'node:assert'
import { passwdEntries, passwdUsers, type PasswdEntry } from '../src/passwd.js'
import { BOOKWORM_MINBASE_PASSWD, TRIXIE_SERVER_PASSWD } from '../../test/fixtures/passwd/debian.js'

const row = (e: PasswdEntry): string => `${e.name}|${e.password}|${e.uid}|${e.gid}|${e.gecos}|${e.home}|${e.shell}`

/**
 * The SDK's one /etc/passwd reader (session 49). Each expected row is what getpwent gave for the
 * same line on Debian 12's glibc 2.36 with `passwd: files` (a bind-mounted /etc/passwd in a
 * private mount namespace); test/integration/passwd-glibc.test.ts asks a Debian root's glibc
 * itself.
 */
describe('passwdEntries: an /etc/passwd text as glibc reads it', () => {
  it("reads Debian's own files whole, in order", () => {
    for (const text of [BOOKWORM_MINBASE_PASSWD, TRIXIE_SERVER_PASSWD]) {
      const lines = text.split('\n').filter((l) => l !== '')
      assert.deepEqual(passwdEntries(text).map(row), lines.map((l) => l.split(':').join('|')))
      assert.deepEqual(passwdUsers(text).map(row), lines.map((l) => l.split(':').join('|')))
    }
    assert.equal(passwdEntries(TRIXIE_SERVER_PASSWD).find((e) => e.name === 'postgres')?.uid, 100)
  })

  it('skips leading blanks and comment lines after them; a NIS compat line is an entry, its empty uid and gid 0; strtoul reads the numbers; a short line ends after its gid', () => {
    const text = [
      'root:x:0:0:root:/root:/bin/bash',
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
      'max:x:4294967295:3::/m:',
      'minus:x:-1:3::/m:',
      'wrap:x:-18446744073709551615:3::/w:',
      'hex:x:0x10:3::/h:',
      '::0:0::/e:/bin/sh',
      'four:x:4',
      '+',
      '-dan',
      '+eve:',
      '+:x',
      '+::',
      '+:::',
      '+::::',
      '+@ng::::::',
      '+x::abc:1::/:',
      'trail:x:9:9::/t:/bin/sh:extra',
      'nul:x:10:10::/nul:/bin/sh\0junk',
      '  last:x:8:8::/l:/bin/zz',
    ].join('\n')
    assert.deepEqual(passwdEntries(text).map(row), [
      'root|x|0|0|root|/root|/bin/bash',
      'ann|x|1000|1000||/home/ann|/bin/sh',
      '+||0|0|||',
      '+bob|x|0|0|||',
      '-carl||1001|1001||/home/carl|',
      'short|x|7|7|||',
      'neg|x|0|0||/n|',
      'plus|x|12|3||/p|',
      'sp|x|13|3||/s|',
      'max|x|4294967295|3||/m|',
      'wrap|x|1|3||/w|',
      '||0|0||/e|/bin/sh',
      '+||0|0|||',
      '-dan||0|0|||',
      '+eve||0|0|||',
      '+||0|0|||',
      '+@ng||0|0|||',
      'trail|x|9|9||/t|/bin/sh:extra',
      'nul|x|10|10||/nul|/bin/sh',
      // glibc's own: nss_readline moves a line without its newline back over its blanks but not its NUL.
      'last|x|8|8||/l|/bin/zzzz',
    ])
    assert.deepEqual(passwdEntries(`${text}\n`).at(-1)?.shell, '/bin/zz')
  })

  it('a uid of any length is read in linear time: more than 20 significant digits refuses the line (strtoul overflows), leading zeros do not count (session 49 review, P3)', () => {
    const zeros = '0'.repeat(1_000_000)
    const text = `big:x:1${'0'.repeat(16_000_000)}:1::/b:/bin/sh\nzed:x:${zeros}1000:${zeros}7::/z:/bin/sh\nedge:x:000018446744073709551616:1::/e:/bin/sh\n`
    const began = performance.now()
    const entries = passwdEntries(text)
    // Linear is about 0.4 s for these 18 MB here, alone; a reader quadratic in a line's length
    // would take hours. 500 ms was the bound until CI failed it on a loaded machine (session 53).
    assert.ok(performance.now() - began < 5_000, `${performance.now() - began} ms`)
    assert.deepEqual(entries.map((e) => [e.name, e.uid, e.gid]), [['zed', 1000, 7]])
  })

  it('passwdUsers: the entries getpwnam and getpwuid can return, a `+`/`-` line never', () => {
    const text = `${BOOKWORM_MINBASE_PASSWD}+::::::\n-ann:x:1000:1000::/home/ann:/bin/sh\n+@ops::::::\n bob:x:1001:1001::/home/bob:/bin/sh\n`
    assert.deepEqual(passwdEntries(text).slice(-4).map((e) => e.name), ['+', '-ann', '+@ops', 'bob'])
    assert.deepEqual(passwdUsers(text).map((e) => e.name), [...passwdEntries(BOOKWORM_MINBASE_PASSWD).map((e) => e.name), 'bob'])
  })
})
