import { strict as assert } from 'node:assert'
import { readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { forgetInHistory } from '../src/history/forget.js'
import { PlanWorkflow } from '../src/services/make-plan.js'
import { StatusWorkflow, inSync, statusExitCode } from '../src/services/drift-status.js'
import { renderStatus } from '../src/cli/render.js'
import { renderPlan } from '../src/cli/render-plan.js'
import { git, smallTwin, type SmallTwin } from '../../test/support/in-process-twin.js'
import { writeTwinFile } from '../../test/support/twin-edit.js'

/**
 * Session 44 (attack): `forget --rule any` redacts plans/ and scripts/ in place, and a run-once
 * command that had run (its record keyed by the action's old text) was planned again as a new one
 * with `<redacted>` in its arguments: `sh -c 'echo password=<redacted> > /root/x.conf'`, which would
 * have written the marker over the real password. A plan never runs the marker: left out with
 * SECRET_REDACTED_NOT_PLANNED, as a provider's change that would write it is.
 */
describe('commands and scripts a forget redacted', function () {
  this.timeout(120_000)
  let rig: SmallTwin

  before(async () => {
    rig = await smallTwin('twinsync-forget-commands-')
    await writeTwinFile(rig.twin, 'plans/db.yaml', 'description: set the password=Qw3rtyUi0pZ once\nactions:\n  - run: [sh, -c, "echo password=Qw3rtyUi0pZ > /root/x.conf"]\n  - script: db.sh\n    description: password=Qw3rtyUi0pZ in the description only\n')
    await writeTwinFile(rig.twin, 'scripts/db.sh', '#!/bin/sh\necho password=Qw3rtyUi0pZ > /root/y.conf\n')
    await writeTwinFile(rig.twin, 'plans/plain.yaml', 'description: password=Qw3rtyUi0pZ in the description only\nactions:\n  - run: ["true"]\n')
    git(rig.twin, ['add', 'plans', 'scripts'])
    git(rig.twin, ['-c', 'user.name=t', '-c', 'user.email=t@x', 'commit', '--quiet', '-m', 'plans with a password'])
  })
  after(() => rm(rig.dir, { recursive: true, force: true }))

  it('are not planned (SECRET_REDACTED_NOT_PLANNED, naming the file); a command whose description alone held it still is', async () => {
    const before = await (await rig.container()).resolve(PlanWorkflow).plan({})
    assert.deepEqual(before.changes.map((c) => c.id).sort(), ['commands:plans/db.yaml#1', 'commands:plans/db.yaml#2', 'commands:plans/plain.yaml#1'])
    await forgetInHistory(rig.twin, { paths: [], rules: ['any'] })
    assert.match(await readFile(join(rig.twin, 'plans/db.yaml'), 'utf8'), /echo password=<redacted> > \/root\/x\.conf/)
    assert.match(await readFile(join(rig.twin, 'scripts/db.sh'), 'utf8'), /password=<redacted>/)

    const plan = await (await rig.container()).resolve(PlanWorkflow).plan({})
    assert.deepEqual(plan.changes.map((c) => c.id), ['commands:plans/plain.yaml#1'])
    const left = plan.diagnostics.filter((d) => d.code === 'SECRET_REDACTED_NOT_PLANNED')
    assert.equal(left.length, 2, JSON.stringify(plan.diagnostics))
    assert.ok(left.every((d) => d.path === 'plans/db.yaml' && d.summary.includes('not planned')), JSON.stringify(left))
    assert.ok(left.some((d) => d.summary.includes('its script')) && left.some((d) => d.summary.includes('its command line')), JSON.stringify(left))
  })

  // Session 44: `status` said "In sync" over them (status never read plans/), and `plan`/`apply`/`pull` headed
  // the plan "No changes: the machine matches" with the warning below: what the twin asks was seen only in `plan`'s notes.
  it('stay pending in status (text, --json, --exit-code; the TUI asks the same service) and are left out, not "matches", in the plan apply and pull print', async () => {
    await git(rig.twin, ['rm', '--quiet', 'plans/plain.yaml'])
    const line = (args: readonly string[]) => ['twinsync', ...args].join(' ')
    const status = await (await rig.container()).resolve(StatusWorkflow).status(undefined)
    const held = status.pending.items.filter((i) => i.code === 'SECRET_REDACTED_NOT_PLANNED')
    assert.deepEqual(held.map((i) => i.id).sort(), ['commands:plans/db.yaml#1', 'commands:plans/db.yaml#2'], JSON.stringify(status.pending))
    assert.equal(status.pending.count, 2)
    assert.deepEqual(status.pending.domains, [{ category: 'commands', count: 2 }])
    assert.ok(held.every((i) => i.reason.startsWith('held back: ') && i.reason.includes('redacted secret') && i.nextStep?.includes('put the real value back') && i.nextStep.includes('plans/db.yaml')), JSON.stringify(held))
    assert.equal(inSync(status), false)
    assert.equal(statusExitCode(status, true), 1)
    const text = renderStatus(status, line)
    assert.doesNotMatch(text, /In sync/)
    assert.match(text, /commands:plans\/db\.yaml#1 .*held back: its command line in the twin holds a redacted secret.*\[SECRET_REDACTED_NOT_PLANNED\]\n {6}Next step: put the real value back where plans\/db\.yaml says <redacted>/)
    assert.match(text, /commands:plans\/db\.yaml#2 .*held back: its script .*\n {6}Next step: put the real value back where scripts\/db\.sh \(run by plans\/db\.yaml\) says <redacted>/)
    // --only of another domain leaves them out, as it leaves out every other domain's items.
    assert.equal((await (await rig.container()).resolve(StatusWorkflow).status(['files'])).pending.count, 0)

    const plan = await (await rig.container()).resolve(PlanWorkflow).plan({})
    assert.deepEqual(plan.changes, [])
    const shown = renderPlan(plan, line)
    assert.match(shown, /^No changes planned: 2 changes the twin asks for are left out \(below\)/)
    assert.match(shown, /warning: commands: .*not planned, held back: .*\[SECRET_REDACTED_NOT_PLANNED\]\n {2}Next step: put the real value back/)
  })
})
