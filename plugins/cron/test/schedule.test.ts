import { strict as assert } from 'node:assert'
import { isValidSchedule, scheduleProblem } from '../src/schedule.js'

describe('cron schedule validation', () => {
  const valid = [
    '* * * * *',
    '0 5 * * *',
    '*/5 * * * *',
    '0-59/15 * * * *',
    '0 0 1 1 *',
    '59 23 31 12 7',
    '0 0 * * 0',
    '1,2,3 * * * *',
    '0 8-18/2 * * mon-fri',
    '0 0 * jan,jul sun',
    '0 0 * JAN *',
    '0 0 * * Sat',
    '00 05 01 01 00',
    '30 4 1-15/3 */2 1,3,5',
    '* * * * 7',
    '@reboot',
    '@hourly',
    '@daily',
    '@midnight',
    '@weekly',
    '@monthly',
    '@yearly',
    '@annually',
  ]
  for (const schedule of valid) {
    it(`accepts "${schedule}"`, () => {
      assert.equal(scheduleProblem(schedule), undefined)
      assert.equal(isValidSchedule(schedule), true)
    })
  }

  const invalid: Array<[string, RegExp]> = [
    ['60 * * * *', /minute.*outside 0-59/],
    ['* 24 * * *', /hour.*outside 0-23/],
    ['* * 0 * *', /day of month.*outside 1-31/],
    ['* * 32 * *', /day of month/],
    ['* * * 13 *', /month.*outside 1-12/],
    ['* * * 0 *', /month/],
    ['* * * * 8', /day of week.*outside 0-7/],
    ['* * * *', /5 fields, found 4/],
    ['* * * * * *', /5 fields, found 6/],
    ['*/0 * * * *', /step 0/],
    ['*/61 * * * *', /step 61/],
    ['5/10 * * * *', /step needs "\*" or a range/],
    ['10-5 * * * *', /runs backwards/],
    ['1-2-3 * * * *', /not a range/],
    ['a * * * *', /not a number or name/],
    ['* * * foo *', /not a number or name/],
    ['* * * * monday', /not a number or name/],
    ['* * * mon *', /not a number or name/],
    ['1,,2 * * * *', /empty list item/],
    ['*/2/3 * * * *', /more than one step/],
    ['*/x * * * *', /not a number/],
    ['-1 * * * *', /not a number or name/],
    ['@reboots', /unknown schedule keyword/],
    ['@every_minute', /unknown schedule keyword/],
    ['@REBOOT', /unknown schedule keyword/],
  ]
  for (const [schedule, reason] of invalid) {
    it(`refuses "${schedule}"`, () => {
      const problem = scheduleProblem(schedule)
      assert.ok(problem !== undefined, `expected ${schedule} to be refused`)
      assert.match(problem, reason)
      assert.equal(isValidSchedule(schedule), false)
    })
  }
})
