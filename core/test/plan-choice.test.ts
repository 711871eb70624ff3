import { strict as assert } from 'node:assert'
import { isTwinSyncError } from '@twinsync/sdk'
import { planChoice } from '../src/cli/plan-choice.js'

/** `apply FILE` and `rehearse FILE` refuse --from/--only with one rule (cli/plan-choice.ts). */
describe('planChoice: --from and --only with a saved plan file', () => {
  const target = { root: '/srv/root', repo: '/srv/twin' }

  for (const command of ['apply', 'rehearse'] as const) {
    it(`${command}: USAGE, with the two commands to paste, this run's values in them`, () => {
      assert.throws(
        () => planChoice(command, '/tmp/plan.json', { only: 'files,apt' }, target),
        (e: unknown) =>
          isTwinSyncError(e) &&
          e.code === 'USAGE' &&
          e.message === '--from and --only choose what to plan; they do not go with a saved plan file' &&
          e.nextStep === `Make the plan with \`twinsync plan --only files,apt --out /tmp/plan.json --root /srv/root --repo /srv/twin\`, then \`twinsync ${command} /tmp/plan.json --root /srv/root --repo /srv/twin\`.`,
      )
    })
  }

  it('without a plan file: the choice, --only split at its commas', () => {
    assert.deepEqual(planChoice('apply', undefined, { from: 'abc123', only: 'files, apt,' }, target), { from: 'abc123', only: ['files', 'apt'] })
    assert.deepEqual(planChoice('rehearse', '/tmp/plan.json', {}, target), {})
  })
})
