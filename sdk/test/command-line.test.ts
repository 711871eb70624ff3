import { strict as assert } from 'node:assert'
import { bareTwinsyncLine, commandLine, twinsyncLines, type TwinsyncLine } from '../src/command-line.js'

describe('twinsyncLines: the `twinsync ARGS` lines a provider writes into a next step', () => {
  it("is the context's own (ProviderContext.twinsync: the run's --root, --repo and --config), sudo in front when asked", () => {
    const run: TwinsyncLine = (args) => commandLine(['twinsync', ...args, '--repo', "/srv/my 'twin'"])
    assert.equal(twinsyncLines({ twinsync: run })(['discard', 'files']), "twinsync discard files --repo '/srv/my '\\''twin'\\'''")
    assert.equal(twinsyncLines({ twinsync: run }, { sudo: true })(['snapshot']), "sudo twinsync snapshot --repo '/srv/my '\\''twin'\\'''")
  })

  it('without one (an older core, a test context): the arguments quoted, no flags', () => {
    assert.equal(twinsyncLines({})(['discard', 'files:delete:/etc/my site']), "twinsync discard 'files:delete:/etc/my site'")
    assert.equal(twinsyncLines(undefined, { sudo: true })(['snapshot']), 'sudo twinsync snapshot')
    assert.equal(bareTwinsyncLine(['discard', '$HOME']), "twinsync discard '$HOME'")
  })
})
