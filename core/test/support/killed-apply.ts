import { strict as assert } from 'node:assert'
import { rm } from 'node:fs/promises'
import type { Plan } from '@twinsync/sdk'
import { ApplyService } from '../../src/apply/apply-service.js'
import { machineLockPath, MACHINE_LOCK_DIR } from '../../src/apply/machine-lock.js'
import { PlanWorkflow } from '../../src/services/make-plan.js'
import type { SmallTwin } from '../../../test/support/in-process-twin.js'
import { writeTwinFile } from '../../../test/support/twin-edit.js'
import { asGoneRun, Killed, killAt } from './kill-points.js'

/**
 * An apply of the rig's twin edited toward `hostname` "renamed" and `motd` "Hello", killed (kill -9,
 * in process: kill-points.ts) at the first call that writes its second step's file on the machine,
 * its records then left as a dead run's (asGoneRun). The first step is on the machine, the second
 * is not, and the apply's record says it is interrupted. Returns the plan and the two resources in
 * the order it ran them.
 */
export async function applyKilledAtSecondStep(rig: SmallTwin): Promise<{ plan: Plan; first: string; second: string }> {
  await writeTwinFile(rig.twin, 'filesystem/etc/hostname', 'renamed\n')
  await writeTwinFile(rig.twin, 'filesystem/etc/motd', 'Hello\n')
  const plan = await (await rig.container()).resolve(PlanWorkflow).plan({})
  assert.deepEqual(plan.changes.map((c) => c.id).sort(), ['files:replace:/etc/hostname', 'files:replace:/etc/motd'])
  const second = plan.changes[1]?.resource ?? ''
  const first = plan.changes[0]?.resource ?? ''
  const name = second.slice(second.lastIndexOf('/') + 1)
  const point = killAt((call) => call.includes(`${rig.root}/etc/`) && call.includes(name))
  let killed: unknown
  try {
    await (await rig.container()).resolve(ApplyService).apply({ plan, fromFile: false, acceptHighRisk: true, signal: new AbortController().signal })
  } catch (error) {
    killed = error
  } finally {
    await new Promise((resolve) => setImmediate(resolve))
    point.restore()
  }
  assert.equal(point.hit, true, `not killed at ${second}: ${String(killed)}`)
  assert.ok(killed instanceof Killed || (killed as { cause?: unknown }).cause instanceof Killed, String(killed))
  asGoneRun(rig.twin)
  return { plan, first, second }
}

/** The machine lock (/run/twinsync) an in-process apply of the rig took, and its rig, removed. */
export async function removeApplyRig(rig: SmallTwin): Promise<void> {
  const lock = machineLockPath(rig.root, MACHINE_LOCK_DIR)
  await rm(lock, { force: true })
  await rm(lock.replace(/\.lock$/, '.began'), { force: true })
  await rm(rig.dir, { recursive: true, force: true })
}
