import { strict as assert } from 'node:assert'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ROOTFS_BUILD_TIMEOUT_MS } from '../bed/index.js'
import { json, useCliRoot } from '../support/cli.js'
import { writeTwinFile } from '../support/twin-edit.js'

interface CommandJson {
  id: string
  summary: string
  data: { argv: string[]; description?: string; script?: { text: string } }
}

// The escape sequence would wipe the comment's line on a terminal; the review spells it out.
const SCRIPT = '#!/bin/sh\n# tidy up\r\x1b[2K\nprintf \'%s\\n\' "$@" > /root/script-args\necho done\n'

/** What is approved is what runs: the CLI shows every argument and every script line, the description second. */
describe('twinsync plan and apply show what commands run (--root)', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  const root = useCliRoot()
  const twinsync = (...args: string[]) => root().twinsync(...args)

  before(async () => {
    await writeTwinFile(root().twinDir, 'scripts/tidy.sh', SCRIPT)
    await writeTwinFile(
      root().twinDir,
      'plans/tidy.yaml',
      'actions:\n  - run: [mkdir, -p, "/var/tmp/some cache"]\n    description: Harmless cleanup\n  - script: tidy.sh\n    args: ["two words", "--x"]\n    description: Also harmless\n',
    )
  })

  it('plan (even --no-diff) shows the quoted argument list first, then the description, then the whole script', async () => {
    const r = await twinsync('plan', '--only', 'commands', '--no-diff')
    assert.equal(r.code, 0, r.stderr)
    const lines = r.stdout.split('\n')
    const run = lines.findIndex((l) => /^\s+commands\s+run mkdir -p '\/var\/tmp\/some cache'\s+\[high risk\]$/.test(l))
    assert.ok(run >= 0, r.stdout)
    assert.match(lines[run + 1] ?? '', /^\s+description: Harmless cleanup$/)
    const script = lines.findIndex((l) => /^\s+commands\s+script scripts\/tidy\.sh 'two words' --x \(4 lines, sha256 [0-9a-f]{12}\)/.test(l))
    assert.ok(script >= 0, r.stdout)
    assert.match(lines[script + 1] ?? '', /^\s+description: Also harmless$/)
    assert.match(lines[script + 2] ?? '', /content of scripts\/tidy\.sh \(4 lines\), exactly as it runs:$/)
    assert.deepEqual(lines.slice(script + 3, script + 7).map((l) => l.trim()), [
      '| #!/bin/sh',
      '| # tidy up\\r\\e[2K',
      `| printf '%s\\n' "$@" > /root/script-args`,
      '| echo done',
    ])
    assert.ok(!r.stdout.includes('\x1b'), 'no raw escape reaches the terminal')
  })

  it('--json carries the exact argv, the full script and the description after the summary', async () => {
    const plan = json<{ changes: CommandJson[] }>(await twinsync('plan', '--only', 'commands', '--json'))
    const [run, script] = plan.changes
    assert.equal(run?.summary, "run mkdir -p '/var/tmp/some cache'")
    assert.deepEqual(run?.data.argv, ['mkdir', '-p', '/var/tmp/some cache'])
    assert.equal(run?.data.description, 'Harmless cleanup')
    assert.deepEqual(script?.data.argv, ['scripts/tidy.sh', 'two words', '--x'])
    assert.equal(script?.data.script?.text, SCRIPT)
    assert.equal(script?.data.description, 'Also harmless')
  })

  it('the apply prompt shows the same, and what runs is exactly that', async () => {
    const refused = await twinsync('apply', '--only', 'commands')
    assert.equal(refused.code, 2, 'no terminal and no --yes')
    assert.match(refused.stdout, /run mkdir -p '\/var\/tmp\/some cache'/)
    assert.match(refused.stdout, /\| echo done/)
    const applied = await twinsync('apply', '--only', 'commands', '--yes', '--accept-high-risk')
    assert.equal(applied.code, 0, applied.stdout + applied.stderr)
    assert.match(applied.stdout, /applied\s+run mkdir -p '\/var\/tmp\/some cache'/)
    assert.equal(await readFile(join(root().rootfs.dir, 'root/script-args'), 'utf8'), 'two words\n--x\n')
  })
})
