// Size and depth attacks from a pulled twin (and a saved plan), through the real binary on a small
// hand-made root (session 36). Each is a coded refusal, exit 2, in bounded time, nothing changed:
// - a plans/ file over 64 KiB (the YAML parser's time and memory grow faster than its input:
//   10 MB of nested `[` ended `plan` in a V8 out-of-memory abort after three minutes);
// - the twin's record of run-once commands nested 100,000 deep (every apply ended in "internal
//   error: Maximum call stack size exceeded" after its steps had run, nothing recorded);
// - a saved plan nested 100,000 deep (the same internal error).
import { strict as assert } from 'node:assert'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { smallCliRoot, type CliSandbox } from '../support/cli.js'
import { checksum, git } from '../support/in-process-twin.js'

const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth)

describe('size and depth attacks from a pulled twin: a coded refusal, nothing changed', function () {
  this.timeout(120_000)
  let cli: CliSandbox
  let root: string
  const twinsync = (...args: string[]) => cli.twinsync([...args, '--root', root, '--repo', cli.twinDir])
  const state = async () => `${git(cli.twinDir, ['rev-parse', 'HEAD'])}${git(cli.twinDir, ['for-each-ref', '--format=%(refname) %(objectname)'])}${await checksum(root)}`

  before(async () => {
    ;({ cli, root } = await smallCliRoot())
  })
  after(() => cli.cleanup())
  afterEach(() => {
    git(cli.twinDir, ['reset', '--quiet', '--hard', 'refs/twinsync/observed'])
    git(cli.twinDir, ['clean', '--quiet', '-fdx'])
  })

  /** A pulled commit: what a mirror brings, committed on top. */
  function pulled(message: string): void {
    git(cli.twinDir, ['add', '--all'])
    git(cli.twinDir, ['commit', '--quiet', '-m', message])
  }

  it('a plans/ file over 64 KiB is PLAN_INVALID naming its size and the limit (plan and apply, exit 2), never parsed', async () => {
    // Valid YAML, 4,000 harmless commands (about 84 KB): before, planned whole.
    await writeFile(join(cli.twinDir, 'plans/big.yaml'), `actions:\n${'  - run: [/bin/true]\n'.repeat(4000)}`)
    pulled('a mirror brings a big plans file')
    const before = await state()
    for (const args of [['plan'], ['apply', '--yes', '--accept-high-risk']]) {
      const r = await twinsync(...args)
      const said = `${args.join(' ')} exited ${r.code}:\n${r.stdout.slice(0, 2000)}\n${r.stderr}`
      assert.equal(r.code, 2, said)
      assert.match(r.stderr, /\[PLAN_INVALID\] plans\/big\.yaml is 84\d{3} bytes; a plans\/ file is at most 65536 bytes/, said)
      assert.match(r.stderr, /Next step: Split it into smaller files in plans\//, said)
    }
    assert.equal(await state(), before, 'no commit, no ref moved, the machine unchanged')
  })

  it("the record of run-once commands nested 100,000 deep is TWIN_INVALID (plan and apply, exit 2), before anything runs or is committed", async () => {
    await mkdir(join(cli.twinDir, 'system/journal'), { recursive: true })
    await writeFile(join(cli.twinDir, 'system/journal/commands.json'), `{"zz": ${nested(100_000)}}\n`)
    await writeFile(join(cli.twinDir, 'plans/mark.yaml'), 'actions:\n  - run: [/bin/true]\n')
    pulled('a mirror brings a deep record')
    const before = await state()
    for (const args of [['plan'], ['apply', '--yes', '--accept-high-risk']]) {
      const r = await twinsync(...args)
      const said = `${args.join(' ')} exited ${r.code}:\n${r.stdout}\n${r.stderr}`
      assert.equal(r.code, 2, said)
      assert.match(r.stderr, /\[TWIN_INVALID\] system\/journal\/commands\.json, the record of the run-once commands that ran, nests arrays or objects more than 256 deep/, said)
      assert.doesNotMatch(r.stderr, /internal error|Maximum call stack/, said)
    }
    assert.equal(await state(), before, 'no checkpoint, no journal, the machine unchanged')
  })

  it('a saved plan nested 100,000 deep is PLAN_INVALID (exit 2), not an internal error', async () => {
    const file = join(cli.dir, 'deep-plan.json')
    await writeFile(file, `{"formatVersion": 1, "x": ${nested(100_000)}, "seal": {"algorithm": "hmac-sha256", "digest": "${'0'.repeat(64)}"}}`)
    const before = await state()
    const r = await twinsync('apply', file, '--yes', '--accept-high-risk')
    const said = `apply FILE exited ${r.code}:\n${r.stdout}\n${r.stderr}`
    assert.equal(r.code, 2, said)
    assert.match(r.stderr, /\[PLAN_INVALID\] Cannot read the plan \S*deep-plan\.json: it nests arrays or objects more than 256 deep/, said)
    assert.equal(await state(), before)
  })
})
