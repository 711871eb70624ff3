import { strict as assert } from 'node:assert'
import { readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { forgetInHistory } from '../src/history/forget.js'
import { PlanWorkflow } from '../src/services/make-plan.js'
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
})
