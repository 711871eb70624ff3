import { strict as assert } from 'node:assert'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execa } from 'execa'
import { textDiff } from '../src/text-diff.js'

const SEPARATOR = '='.repeat(67)

/** What diff(1) writes for the same two versions, labelled as textDiff labels them, after jsdiff's separator line. */
async function realDiff(path: string, before: string, after: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'text-diff-'))
  try {
    writeFileSync(join(dir, 'a'), before)
    writeFileSync(join(dir, 'b'), after)
    const r = await execa('diff', ['-u', '--label', `a${path}`, '--label', `b${path}`, 'a', 'b'], { cwd: dir, reject: false })
    assert.equal(r.exitCode, 1, r.stderr)
    return `${SEPARATOR}\n${r.stdout}\n`
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

describe('textDiff: the one text differ', () => {
  it('writes the hunks diff -u writes: a tab-indented config, trailing spaces, a line added at the end', async () => {
    const before = 'user www-data;\nworker_processes auto;\n\nhttp {\n\tsendfile on;\n\ttcp_nopush on;\n\tkeepalive_timeout 65;\n}\n'
    const after = 'user www-data;\nworker_processes auto;\n\nhttp {\n\tsendfile off;\n\ttcp_nopush on;\n\tkeepalive_timeout\t65;\n\tserver_tokens off;   \n}\n'
    assert.equal(textDiff('/etc/nginx/nginx.conf', before, after), await realDiff('/etc/nginx/nginx.conf', before, after))
  })

  it('keeps three lines of context around each hunk of a long file, as diff -u does', async () => {
    const lines = Array.from({ length: 40 }, (_, i) => `line ${i + 1}`)
    const before = lines.join('\n') + '\n'
    const after = lines.map((l, i) => (i === 4 ? 'changed 5' : i === 30 ? 'changed 31' : l)).join('\n') + '\n'
    const diff = textDiff('/etc/long', before, after) ?? ''
    assert.equal(diff, await realDiff('/etc/long', before, after))
    assert.equal(diff.match(/^@@ /gm)?.length, 2, diff)
  })

  it('spells out control characters in the header\'s name, so the header stays one line (session 42: a name with a newline split it)', () => {
    assert.equal(textDiff('/etc/a\nb\x1b[2K.conf', 'x\n', 'y\n'), `${SEPARATOR}\n--- a/etc/a\\nb\\e[2K.conf\n+++ b/etc/a\\nb\\e[2K.conf\n@@ -1,1 +1,1 @@\n-x\n+y\n`)
  })

  it('diffs a short file (a crontab) and a new file the same way', () => {
    assert.equal(textDiff('/etc/rc.local', 'a\nb\nc\n', 'a\nB\nc\nd\n'), `${SEPARATOR}\n--- a/etc/rc.local\n+++ b/etc/rc.local\n@@ -1,3 +1,4 @@\n a\n-b\n+B\n c\n+d\n`)
    assert.equal(textDiff('/x', '', 'new\n'), `${SEPARATOR}\n--- a/x\n+++ b/x\n@@ -0,0 +1,1 @@\n+new\n`)
  })

  it('a pair too different for jsdiff in two seconds gets the whole-file diff diff -u writes, every line shown (before session 36: no diff, the plan showed sizes only)', async function () {
    this.timeout(60_000)
    // 5,000 lines each, none in common: jsdiff needs about 20 s (2-core machine, load 10) and gives up at 2.
    const line = (i: number, side: string) => `${side} ${i.toString(36)}-${((i * 2654435761) % 1000003).toString(36)}`
    const before = Array.from({ length: 5000 }, (_, i) => line(i, 'x')).join('\n') + '\n'
    const lines = Array.from({ length: 5000 }, (_, i) => line(i, 'y'))
    lines.splice(2500, 0, 'PermitRootLogin yes')
    const after = lines.join('\n')
    const diff = textDiff('/etc/ssh/sshd_config', before, after)
    assert.match(diff ?? '', /^\+PermitRootLogin yes$/m)
    assert.equal(diff, await realDiff('/etc/ssh/sshd_config', before, after))
  })
})
