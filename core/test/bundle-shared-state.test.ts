// core/scripts/bundle.mjs's SHARED_WITH_TUI: the TUI's bundle (tui.js) takes unanswered-calls.ts
// from twinsync.cjs, the instance every command loaded, instead of holding a copy of its own. With
// a copy (before session 46), the provider calls the panel made were in a Map base-command.ts's
// exit listener never read, and the panel's leavingOnPurpose() set a flag nothing read.
import { strict as assert } from 'node:assert'
import { readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const coreBundle = join(dirname(fileURLToPath(import.meta.url)), '..', 'bundle')

describe("the TUI's bundle shares unanswered-calls.ts with the commands' (core/scripts/bundle.mjs)", function () {
  it('defines its functions in twinsync.cjs only; tui.js requires them from there', async () => {
    const tui = await readFile(join(coreBundle, 'tui.js'), 'latin1')
    const eager = await readFile(join(coreBundle, 'twinsync.cjs'), 'latin1')
    for (const name of ['waitingFor', 'answered', 'abandoned', 'leavingOnPurpose', 'isLeavingOnPurpose', 'anyUnanswered']) {
      assert.ok(eager.includes(`function ${name}(`), `twinsync.cjs defines ${name}`)
      assert.ok(!tui.includes(`function ${name}(`), `tui.js holds no copy of ${name}`)
    }
    assert.match(tui, /__require\("\.\/twinsync\.cjs"\)\.__eager\[\d+\]\(\)/)
  })
})
