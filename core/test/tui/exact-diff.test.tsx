// What is approved is shown exactly: a tab-indented nginx config's diff, trailing spaces, control and
// undecodable bytes, and a line longer than the terminal, through the TUI's change detail.
import { strict as assert } from 'node:assert'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execa } from 'execa'
import { render } from 'ink-testing-library'
import type { Change } from '@twinsync/sdk'
import { ChangeDetail } from '../../src/tui/change-detail.js'
import { diffLines, exactText } from '../../src/tui/text-view.js'
import { sleep } from './harness.js'

const BEFORE = 'user www-data;\nworker_processes auto;\n\nhttp {\n\tsendfile on;\n\ttcp_nopush on;\n\tkeepalive_timeout 65;\n}\n'
const AFTER = 'user www-data;\nworker_processes auto;\n\nhttp {\n\tsendfile off;\n\ttcp_nopush on;\n\tkeepalive_timeout\t65;\n\tserver_tokens off;   \n}\n'

/** The unified diff the real diff(1) writes for the two versions. */
async function realDiff(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'exact-diff-'))
  try {
    writeFileSync(join(dir, 'a'), BEFORE)
    writeFileSync(join(dir, 'b'), AFTER)
    const r = await execa('diff', ['-u', '--label', 'a/etc/nginx/nginx.conf', '--label', 'b/etc/nginx/nginx.conf', 'a', 'b'], { cwd: dir, reject: false })
    assert.equal(r.exitCode, 1, r.stderr)
    return r.stdout
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

function change(diff: string): Change {
  return { id: 'files:/etc/nginx/nginx.conf', provider: 'files', category: 'files', resource: '/etc/nginx/nginx.conf', operation: 'update', summary: 'Replace /etc/nginx/nginx.conf', risk: 'medium', diff } as Change
}

async function frameOf(diff: string): Promise<string> {
  const r = render(<ChangeDetail change={change(diff)} inclusion="apply" onToggle={() => {}} onBack={() => {}} />)
  await sleep(50)
  const f = r.lastFrame() ?? ''
  r.unmount()
  return f
}

describe('TUI diffs are shown exactly', () => {
  it('shows every character of a tab-indented nginx config, tabs expanded to the file column', async () => {
    const diff = await realDiff()
    const frame = await frameOf(diff)
    assert.ok(!frame.includes('\t'), 'no raw tab reaches the terminal')
    // the marker column stays apart: the content's tab stop is 8 columns into the file's own text
    assert.ok(frame.includes('-        sendfile on;'), frame)
    assert.ok(frame.includes('+        sendfile off;'), frame)
    assert.ok(frame.includes('         tcp_nopush on;'), frame)
    assert.ok(frame.includes('+        keepalive_timeout       65;'), frame)
    // trailing spaces are visible, not lost
    assert.ok(frame.includes('+        server_tokens off;···'), frame)
    // every line of the diff is there, once each, in order
    const shown = frame.split('\n').map((l) => l.trimEnd())
    let at = 0
    for (const line of diff.split('\n')) {
      const want = (line.slice(0, 1) + exactText(line.slice(1))).trimEnd()
      const i = shown.findIndex((s, k) => k >= at && s === want)
      assert.ok(i >= 0, `missing ${JSON.stringify(want)} in\n${frame}`)
      at = i + 1
    }
  })

  it('escapes control and undecodable bytes, and wraps a long line instead of cutting it', async () => {
    const long = 'x'.repeat(150) + 'END'
    const bytes = Buffer.concat([Buffer.from('+esc \x1b[31m red\r'), Buffer.from([0xff, 0xfe]), Buffer.from(' bidi \u202e end')])
    const diff = `--- a/f\n+++ b/f\n@@ -1 +1,2 @@\n-old\n${bytes.toString('utf8')}\n+${long}\n`
    const frame = await frameOf(diff)
    assert.ok(!/[\x00-\x08\x0b-\x1f\x7f]/.test(frame.replace(/\x1b\[[0-9;]*m/g, '')), 'no raw control character reaches the terminal')
    assert.ok(frame.includes('+esc \\x1b[31m red\\r\\ufffd\\ufffd bidi \\u202e end'), frame)
    const rows = diffLines(`+${long}`, '', 80)
    assert.ok(rows.length > 1)
    assert.equal(rows.map((r, i) => (i === 0 ? r.text : r.text.replace(/^↪ /, ''))).join(''), `+${long}`)
    assert.ok(frame.includes('END'), frame)
  })

  it('marks a trailing tab and keeps a whitespace-only change visible', () => {
    assert.equal(exactText('a\t'), 'a→      ')
    assert.equal(exactText('  '), '··')
    assert.equal(exactText('\tb'), '        b')
  })
})
