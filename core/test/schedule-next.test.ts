import { strict as assert } from 'node:assert'
import { nextRunOf } from '../src/services/schedule.js'

describe('schedule status: the next run from `systemctl list-timers UNIT --no-legend`', () => {
  it('is the first column when it is a time, whatever separates the columns; none when "-"', () => {
    // Without a terminal systemd 257 separates the columns by one space (the whole row was said before).
    assert.equal(nextRunOf('Thu 2026-12-03 13:11:08 UTC 14min Thu 2026-12-03 12:56:08 UTC 35s ago twinsync-snapshot.timer twinsync-snapshot.service\n'), 'Thu 2026-12-03 13:11:08 UTC')
    assert.equal(nextRunOf('Thu 2026-12-03 13:11:08 UTC   14min left Thu 2026-12-03 12:56:08 UTC  35s ago  twinsync-snapshot.timer  twinsync-snapshot.service\n'), 'Thu 2026-12-03 13:11:08 UTC')
    assert.equal(nextRunOf('- - Thu 2026-12-03 12:56:08 UTC 454ms ago twinsync-snapshot.timer twinsync-snapshot.service\n'), undefined)
    assert.equal(nextRunOf(''), undefined)
  })
})
