import { strict as assert } from 'node:assert'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { repoRoot } from '../bed/index.js'
import { cliSandbox, type CliSandbox } from '../support/cli.js'

/** `twinsync` alone opens the panel only on a terminal; anywhere else it must never hang. */
describe('twinsync with no arguments and no terminal', function () {
  this.timeout(60_000)
  let cli: CliSandbox
  beforeEach(async () => {
    cli = await cliSandbox()
  })
  afterEach(() => cli.cleanup())

  it('prints the help, which lists the panel, and exits 0', async () => {
    const r = await cli.twinsync([])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /USAGE/)
    assert.match(r.stdout, /\btui\s+Open the full-screen control panel/)
  })

  it('`twinsync tui` without a terminal is refused with a next step', async () => {
    const r = await cli.twinsync(['tui'])
    assert.equal(r.code, 2)
    assert.match(r.stderr, /\[USAGE\] The control panel needs a terminal/)
    assert.match(r.stderr, /Next step: /)
  })

  it('no other command module loads ink or React', async () => {
    const dir = join(repoRoot, 'core', 'dist', 'commands')
    for (const file of (await readdir(dir)).filter((f) => f.endsWith('.js'))) {
      const text = await readFile(join(dir, file), 'utf8')
      assert.doesNotMatch(text, /from ['"](ink|react)['"]|import\(['"](ink|react)['"]\)/, file)
      if (file !== 'tui.js') assert.doesNotMatch(text, /tui\//, file)
    }
  })
})
