import { strict as assert } from 'node:assert'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { ROOTFS_BUILD_TIMEOUT_MS } from '../bed/index.js'
import { json, useCliRoot } from '../support/cli.js'
import { writeTwinFile } from '../support/twin-edit.js'

interface StatusJson {
  pending: { count: number; domains: Array<{ category: string; count: number }>; items: Array<{ id: string; reason: string; nextStep?: string; lastApply?: { outcome: string; message?: string; journal?: string } }> }
}

/**
 * Session 45: a twin whose only ask was a new run-once command of plans/ said "In sync" (`status
 * --exit-code` 0) though `plan` and `apply` ran it. The real binary on a Debian root: pending until
 * it ran (the record of what ran has it) or left plans/; through a snapshot, a refused apply and a
 * failure, which it says.
 */
describe('twinsync status lists a run-once command not run yet (--root)', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  const root = useCliRoot()
  const twinsync = (...args: string[]) => root().twinsync(...args)
  const ids = async () => (await status()).pending.items.map((i) => i.id)
  const status = async () => {
    const r = await twinsync('status', '--json', '--exit-code')
    assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`)
    return json<StatusJson>(r)
  }

  before(async () => {
    await writeTwinFile(root().twinDir, 'plans/once.yaml', 'actions:\n  - run: [touch, /root/ran-once]\n  - run: ["false"]\n  - run: ["true"]\n    once: false\n')
  })

  it('is pending in status (text, --json, --exit-code 1) as plan plans it; plan and apply head it as changes the twin asks for', async () => {
    const text = await twinsync('status', '--exit-code')
    assert.equal(text.code, 1, text.stdout + text.stderr)
    assert.doesNotMatch(text.stdout, /In sync/)
    assert.match(text.stdout, /Pending: the twin asks for what the machine does not have yet \(2 commands\)\./)
    assert.match(text.stdout, /commands:plans\/once\.yaml#1 {2}the twin asks to run touch \/root\/ran-once \(a run-once command of plans\/once\.yaml, not run here yet: system\/journal\/commands\.json has no record of it\)\n {6}Next step: `twinsync apply [^`]*` runs it once/)
    const s = await status()
    assert.deepEqual(s.pending.domains, [{ category: 'commands', count: 2 }])
    assert.deepEqual(s.pending.items.map((i) => i.id), ['commands:plans/once.yaml#1', 'commands:plans/once.yaml#2'])
    assert.deepEqual(await root().planIds(), ['commands:plans/once.yaml#1', 'commands:plans/once.yaml#2', 'commands:plans/once.yaml#3'])
    const plan = await twinsync('plan')
    assert.equal(plan.code, 0, plan.stderr)
    assert.match(plan.stdout, /^Plan: 3 changes/m)
  })

  it('stays pending through a snapshot and a refused apply; after an apply that failed it, pending with that failure; gone once it ran or left plans/', async () => {
    const snap = await twinsync('snapshot')
    assert.equal(snap.code, 0, snap.stderr)
    assert.equal((await ids()).length, 2)
    const refused = await twinsync('apply', '--yes')
    assert.equal(refused.code, 2, refused.stdout + refused.stderr)
    assert.equal((await ids()).length, 2)

    const applied = await root().apply()
    assert.equal(applied.code, 1, applied.out)
    assert.equal(applied.steps.get('commands:plans/once.yaml#1')?.status, 'applied')
    assert.equal(await root().live('root/ran-once'), '')
    const after = await status()
    assert.deepEqual(after.pending.items.map((i) => i.id), ['commands:plans/once.yaml#2'])
    const failed = after.pending.items[0]
    assert.match(failed?.reason ?? '', /^failed in the apply of 20\d\d-\d\d-\d\dT\d\d:\d\d:\d\dZ: false exited 1$/)
    assert.equal(failed?.lastApply?.outcome, 'failed')
    assert.match(failed?.lastApply?.journal ?? '', /^system\/journal\/apply-.*\.json$/)

    await rm(join(root().twinDir, 'plans/once.yaml'))
    const done = await twinsync('status', '--exit-code')
    assert.equal(done.code, 0, done.stdout + done.stderr)
    assert.match(done.stdout, /^In sync/)
  })
})
